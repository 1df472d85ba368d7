//! Which machine a run ran on, as the OS tells it.

use std::fs;

use crate::report::Machine;

impl Machine {
    /// This machine, with this build of faasbench.
    pub fn detect() -> Self {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let os_release = fs::read_to_string("/etc/os-release").unwrap_or_default();
        Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            cpu: field(&cpuinfo, "model name", ':').map(str::to_owned),
            memory_mb: field(&meminfo, "MemTotal", ':')
                .and_then(|v| v.trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb / 1024),
            os: field(&os_release, "PRETTY_NAME", '=')
                .map(|v| v.trim_matches('"').to_owned())
                .unwrap_or_else(|| std::env::consts::OS.to_owned()),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .ok()
                .map(|v| v.trim().to_owned()),
            faasbench_version: env!("CARGO_PKG_VERSION").to_owned(),
            build_profile: if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            }
            .to_owned(),
        }
    }
}

/// The value of the first line `key<sep>value` of `text`, trimmed.
fn field<'a>(text: &'a str, key: &str, separator: char) -> Option<&'a str> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(separator)?;
        (k.trim() == key).then(|| v.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_from_os_files() {
        let cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC 7B13\n";
        assert_eq!(field(cpuinfo, "model name", ':'), Some("AMD EPYC 7B13"));
        assert_eq!(
            field("PRETTY_NAME=\"Debian\"\n", "PRETTY_NAME", '='),
            Some("\"Debian\"")
        );
        assert_eq!(field("", "MemTotal", ':'), None);
        let here = Machine::detect();
        assert!(here.cores >= 1);
        assert!(!here.os.is_empty());
    }
}
