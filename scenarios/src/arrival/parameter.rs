//! Checks on the numbers arrival processes are built from.
//!
//! Every constructor refuses a bad parameter with a message that names it and shows the value
//! found, so a scenario author can tell which setting to fix without reading the code. Keeping
//! the checks here words them the same way for every process.

/// A rate in arrivals per second: finite and at least zero. Zero is allowed, as a pause.
pub(super) fn rate(name: &str, value: f64) -> Result<f64, String> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!(
            "`{name}` must be a finite rate of at least 0 arrivals/s, found {value}"
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
            "`peak` must be a finite rate of at least 0 arrivals/s, found -2"
        );
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
