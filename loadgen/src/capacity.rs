//! What this machine's load generator issued at most, as measured by its own instrument
//! benchmark (`cargo bench -p loadgen --bench instrument -- throughput`), so a run can warn
//! before it asks for more than the machine can send.
//!
//! The figure is kept in a small text file: `$FAASBENCH_CAPACITY` if set, else
//! `$XDG_CACHE_HOME/faasbench/capacity` or `~/.cache/faasbench/capacity`. One line
//! `issued_per_second = <number>`, then free comments.

use std::path::PathBuf;

/// The file holding the measured capacity, if a home for it can be named.
pub fn capacity_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FAASBENCH_CAPACITY") {
        return Some(PathBuf::from(path));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(cache.join("faasbench").join("capacity"))
}

/// Records `issued_per_second`, measured as described by `how`.
pub fn save(issued_per_second: f64, how: &str) -> std::io::Result<PathBuf> {
    let path = capacity_file().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::NotFound, "no HOME or XDG_CACHE_HOME")
    })?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(
        &path,
        format!("issued_per_second = {issued_per_second:.0}\n# {how}\n"),
    )?;
    Ok(path)
}

/// The recorded capacity, invocations per second, if there is a readable one.
pub fn load() -> Option<f64> {
    let text = std::fs::read_to_string(capacity_file()?).ok()?;
    parse(&text)
}

fn parse(text: &str) -> Option<f64> {
    let line = text.lines().next()?;
    let (key, value) = line.split_once('=')?;
    let value: f64 = value.trim().parse().ok()?;
    (key.trim() == "issued_per_second" && value.is_finite() && value > 0.0).then_some(value)
}

/// A warning when `requested_per_second` is beyond `capacity`, the most this machine issued.
pub fn warning(requested_per_second: f64, capacity: Option<f64>) -> Option<String> {
    let capacity = capacity?;
    (requested_per_second > capacity).then(|| {
        format!(
            "the schedule asks for up to {requested_per_second:.0} invocations/s; this machine issued at most {capacity:.0}/s in its instrument benchmark ({}). Expect dropped and late invocations",
            capacity_file().map_or_else(String::new, |p| p.display().to_string())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_line_holds_the_figure_and_nonsense_is_ignored() {
        assert_eq!(parse("issued_per_second = 41000\n# how\n"), Some(41_000.0));
        for text in [
            "",
            "issued_per_second = -1",
            "rate = 5",
            "issued_per_second = NaN",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn a_rate_beyond_the_capacity_is_warned_about() {
        assert!(
            warning(50_000.0, Some(40_000.0))
                .unwrap()
                .contains("at most 40000/s")
        );
        assert_eq!(warning(30_000.0, Some(40_000.0)), None);
        assert_eq!(warning(30_000.0, None), None);
    }
}
