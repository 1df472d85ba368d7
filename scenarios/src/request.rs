//! `[request]`: how each invocation is sent — HTTP method, headers, protocol, connections and
//! timeouts. The body comes from the function (its `input`, or the work of a trace invocation).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The HTTP protocol spoken to the platform.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HttpProtocol {
    /// HTTP/1.1 with keep-alive: one request at a time per connection.
    #[default]
    Http1,
    /// HTTP/2 over cleartext TCP (prior knowledge): many requests share each connection.
    H2c,
}

impl HttpProtocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http1 => "http1",
            Self::H2c => "h2c",
        }
    }
}

fn post() -> String {
    "POST".into()
}

fn thirty_seconds() -> Duration {
    Duration::from_secs(30)
}

fn five_seconds() -> Duration {
    Duration::from_secs(5)
}

/// How requests are made. Every key has a default, so `[request]` is optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    /// HTTP method. Default `POST`.
    #[serde(default = "post")]
    pub method: String,
    /// Extra request headers, sent with every invocation.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub protocol: HttpProtocol,
    /// HTTP/1.1: at most this many connections (default: as many as requests in flight).
    /// h2c: this many connections, requests spread over them (default 1).
    #[serde(default)]
    pub connections: Option<usize>,
    /// Time allowed for a complete answer, from the actual send; later is a timeout.
    #[serde(default = "thirty_seconds", with = "humantime_serde")]
    pub timeout: Duration,
    /// Time allowed to open a connection.
    #[serde(default = "five_seconds", with = "humantime_serde")]
    pub connect_timeout: Duration,
}

impl Default for RequestSpec {
    fn default() -> Self {
        Self {
            method: post(),
            headers: BTreeMap::new(),
            protocol: HttpProtocol::default(),
            connections: None,
            timeout: thirty_seconds(),
            connect_timeout: five_seconds(),
        }
    }
}

/// A token as HTTP defines it (RFC 9110 §5.6.2): method and header names.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl RequestSpec {
    /// Checks the values; on error, the key (under `request.`) and why.
    pub(crate) fn check(&self) -> Result<(), (String, String)> {
        if !is_token(&self.method) {
            return Err((
                "method".into(),
                format!("`{}` is not an HTTP method", self.method),
            ));
        }
        for (name, value) in &self.headers {
            let key = format!("headers.{name}");
            if !is_token(name) {
                return Err((key, "is not a valid header name".into()));
            }
            let lower = name.to_ascii_lowercase();
            if matches!(
                lower.as_str(),
                "content-length" | "transfer-encoding" | "connection" | "host" | "upgrade"
            ) {
                return Err((
                    key,
                    "is set by the load generator for each request; remove it".into(),
                ));
            }
            if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
                return Err((key, "the value holds a control character".into()));
            }
        }
        if self.connections == Some(0) {
            return Err(("connections".into(), "must be at least 1".into()));
        }
        for (key, wait) in [
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
        ] {
            check_wait(wait).map_err(|message| (key.to_owned(), message))?;
        }
        Ok(())
    }
}

/// Longest timeout, think time or lateness bound a scenario may set: a day. Run clocks add
/// these to instants, which must not overflow.
pub const MAX_WAIT: Duration = Duration::from_secs(24 * 3600);

/// Refuses a zero wait or one beyond [`MAX_WAIT`].
pub fn check_wait(wait: Duration) -> Result<(), String> {
    if wait.is_zero() {
        return Err("must be longer than zero".into());
    }
    if wait > MAX_WAIT {
        return Err(format!(
            "must be at most a day (24h), found {}",
            humantime::format_duration(wait)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_beyond_a_day_are_refused() {
        for text in [
            "timeout = \"18000000000000000000s\"",
            "connect_timeout = \"25h\"",
            "timeout = \"0s\"",
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains("timeout"), "{text}: {err}");
        }
        assert!(parse("timeout = \"24h\"").is_ok());
    }

    fn parse(text: &str) -> Result<RequestSpec, String> {
        let spec: RequestSpec = toml::from_str(text).map_err(|err| err.to_string())?;
        spec.check()
            .map_err(|(key, message)| format!("{key}: {message}"))?;
        Ok(spec)
    }

    #[test]
    fn defaults_are_a_post_over_http1_with_a_30s_timeout() {
        let spec = parse("").unwrap();
        assert_eq!(spec, RequestSpec::default());
        assert_eq!(spec.method, "POST");
        assert_eq!(spec.protocol, HttpProtocol::Http1);
        assert_eq!(spec.timeout, Duration::from_secs(30));
    }

    #[test]
    fn every_key_is_read() {
        let spec = parse(
            r#"
            method = "PUT"
            protocol = "h2c"
            connections = 4
            timeout = "2s"
            connect_timeout = "250ms"
            headers = { authorization = "Bearer abc", "x-tenant" = "a b" }
            "#,
        )
        .unwrap();
        assert_eq!(spec.method, "PUT");
        assert_eq!(spec.protocol, HttpProtocol::H2c);
        assert_eq!(spec.connections, Some(4));
        assert_eq!(spec.timeout, Duration::from_secs(2));
        assert_eq!(spec.connect_timeout, Duration::from_millis(250));
        assert_eq!(spec.headers["x-tenant"], "a b");
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, expected) in [
            (r#"method = "GE T""#, "method"),
            (r#"headers = { "bad name" = "x" }"#, "headers.bad name"),
            (
                r#"headers = { "x-a" = "line\nbreak" }"#,
                "control character",
            ),
            (
                r#"headers = { "Content-Length" = "3" }"#,
                "set by the load generator",
            ),
            ("connections = 0", "connections: must be at least 1"),
            (r#"timeout = "0s""#, "timeout"),
            (r#"protocol = "h3""#, "unknown variant `h3`"),
            ("retries = 3", "unknown field `retries`"),
        ] {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text}: {err}");
        }
    }
}
