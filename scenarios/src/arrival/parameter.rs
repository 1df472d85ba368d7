//! Checks on the numbers arrival processes are built from.
//!
//! Every constructor refuses a bad parameter with a message that names it and shows the value
//! found, so a scenario author can tell which setting to fix without reading the code. Keeping
//! the checks here words them the same way for every process.

/// The highest rate of any process, arrivals per second. Schedules count microseconds, and a
/// load generator sends far fewer; a rate above this is a typo, and would only make the
/// schedule endless to produce.
pub const MAX_RATE: f64 = 10_000_000.0;

/// The shortest gap between arrivals a process may ask for, seconds: the schedule's resolution.
pub const MIN_GAP: f64 = 1e-6;

/// A rate in arrivals per second: at least zero and at most [`MAX_RATE`]. Zero is allowed, as a
/// pause.
pub(super) fn rate(name: &str, value: f64) -> Result<f64, String> {
    if (0.0..=MAX_RATE).contains(&value) {
        Ok(value)
    } else {
        Err(format!(
            "`{name}` must be a rate from 0 to 10000000 arrivals/s, found {value}"
        ))
    }
}

/// A rate in arrivals per second above zero and at most [`MAX_RATE`].
pub(super) fn positive_rate(name: &str, value: f64) -> Result<f64, String> {
    if value > 0.0 && value <= MAX_RATE {
        Ok(value)
    } else {
        Err(format!(
            "`{name}` must be a rate above 0 and at most 10000000 arrivals/s, found {value}"
        ))
    }
}

/// A gap between arrivals, seconds: finite and at least [`MIN_GAP`].
pub(super) fn gap(name: &str, value: f64) -> Result<f64, String> {
    if value.is_finite() && value >= MIN_GAP {
        Ok(value)
    } else {
        Err(format!(
            "`{name}` must be a finite gap of at least 1 µs, found {value} s"
        ))
    }
}

/// A span of time in seconds: finite and longer than zero.
pub(super) fn span(name: &str, value: f64) -> Result<f64, String> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "`{name}` must be a finite number of seconds above 0, found {value}"
        ))
    }
}

/// A moment in seconds from the start of the run: finite and not before the start.
pub(super) fn moment(name: &str, value: f64) -> Result<f64, String> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "`{name}` must be a finite number of seconds of at least 0, found {value}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_parameter_and_the_value_found() {
        assert_eq!(
            rate("peak", -2.0).unwrap_err(),
            "`peak` must be a rate from 0 to 10000000 arrivals/s, found -2"
        );
        assert!(rate("peak", 1e9).unwrap_err().contains("10000000"));
        assert!(rate("peak", f64::NAN).unwrap_err().contains("found NaN"));
        assert_eq!(rate("peak", MAX_RATE), Ok(MAX_RATE));
        assert!(positive_rate("rate", 0.0).unwrap_err().contains("above 0"));
        assert!(gap("gap", 1e-9).unwrap_err().contains("1 µs"));
        assert_eq!(gap("gap", MIN_GAP), Ok(MIN_GAP));
        assert!(span("over", 0.0).unwrap_err().contains("`over`"));
        assert!(
            span("over", f64::INFINITY)
                .unwrap_err()
                .contains("found inf")
        );
        assert!(moment("at", f64::NAN).unwrap_err().contains("found NaN"));
        assert_eq!(rate("base", 0.0), Ok(0.0));
        assert_eq!(moment("at", 0.0), Ok(0.0));
    }
}
