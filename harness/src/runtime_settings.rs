//! A scenario's settings for the embedded runtime, read with the runtime's own configuration
//! parser.

use anyhow::Context;
use bench_runtime::{RuntimeConfig, RuntimeFile};
use scenarios::{RuntimeSettings, Scenario};

/// The runtime configuration for `settings` of `scenario`. Unless the settings give a
/// `time_scale`, the keep-alive clock runs as fast as the scenario compresses time, so that a
/// 10-minute keep-alive stays 10 trace-minutes.
pub fn runtime_config(
    settings: &RuntimeSettings,
    scenario: &Scenario,
    place: &str,
) -> anyhow::Result<RuntimeConfig> {
    let (mut config, time_scale_given) = match settings {
        RuntimeSettings::Defaults => (RuntimeConfig::default(), false),
        RuntimeSettings::Inline(table) => RuntimeFile::settings_from_table(
            table.clone(),
            &format!("{} [{place}]", scenario.source.display()),
        )?,
        RuntimeSettings::File(path) => {
            let file = RuntimeFile::load(path).with_context(|| {
                format!(
                    "{}: the runtime settings of {place}",
                    scenario.source.display()
                )
            })?;
            (file.config, file.time_scale_given)
        }
    };
    if !time_scale_given {
        config.time_scale = scenario.time_compression;
    }
    Ok(config)
}
