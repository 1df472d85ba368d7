//! Where invocations go: a URL template with a `{function}` placeholder.

use std::net::SocketAddr;

use hyper::Uri;

/// Why a target URL template cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("target `{template}`: {message}")]
    Template { template: String, message: String },
}

/// The platform under test, as a URL template such as
/// `http://127.0.0.1:8080/function/{function}`.
///
/// ```
/// let target = loadgen::Target::new("http://127.0.0.1:8080/function/{function}").unwrap();
/// assert_eq!(target.url_for("resize").unwrap().path(), "/function/resize");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    template: String,
}

impl Target {
    /// The placeholder replaced by each function's name.
    pub const PLACEHOLDER: &'static str = "{function}";

    /// Checks a template: plain `http://`, a host, a port that fits in 16 bits. A template
    /// without `{function}` sends every function to the same URL; [`Target::check_functions`]
    /// refuses that when there are several functions.
    pub fn new(template: impl Into<String>) -> Result<Self, TargetError> {
        let target = Self {
            template: template.into(),
        };
        let fail = |message: String| TargetError::Template {
            template: target.template.clone(),
            message,
        };
        // Parsed by a full URL parser (the WHATWG rules): `http::Uri` accepts a port such as
        // 99999 and then reports none, which would send to port 80.
        let probe = target.template.replace(Self::PLACEHOLDER, "probe");
        let url = url::Url::parse(&probe)
            .map_err(|err| fail(format!("`{probe}` is not a valid URL: {err}")))?;
        match url.scheme() {
            "http" => {}
            "https" => {
                return Err(fail(
                    "https is not supported; use plain http:// (HTTP/1.1 or h2c)".into(),
                ));
            }
            other => {
                return Err(fail(format!(
                    "unknown scheme `{other}`: the template must start with http://"
                )));
            }
        }
        if !target.template.starts_with("http://") {
            return Err(fail("the template must start with http://".into()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(fail("the URL has no host".into()));
        }
        target.url_for("probe")?;
        Ok(target)
    }

    /// Refuses a template without `{function}` when it must tell several functions apart.
    pub fn check_functions(&self, functions: usize) -> Result<(), TargetError> {
        if functions > 1 && !self.template.contains(Self::PLACEHOLDER) {
            return Err(TargetError::Template {
                template: self.template.clone(),
                message: format!(
                    "the scenario has {functions} functions but the template has no `{{function}}` where the function name goes"
                ),
            });
        }
        Ok(())
    }

    /// The reference runtime's invoke endpoint at `addr`.
    pub fn runtime_at(addr: SocketAddr) -> Self {
        Self {
            template: format!("http://{addr}/invoke/{}", Self::PLACEHOLDER),
        }
    }

    /// The template as given.
    pub fn template(&self) -> &str {
        &self.template
    }

    /// The URL that invokes `function`.
    pub fn url_for(&self, function: &str) -> Result<Uri, TargetError> {
        let url = self.template.replace(Self::PLACEHOLDER, function);
        let fail = |message: String| TargetError::Template {
            template: self.template.clone(),
            message,
        };
        let parsed = url::Url::parse(&url)
            .map_err(|err| fail(format!("`{url}` is not a valid URL: {err}")))?;
        if parsed.port() == Some(0) {
            return Err(fail(format!("`{url}`: the port must be 1 to 65535")));
        }
        let uri: Uri = url
            .parse()
            .map_err(|err| fail(format!("`{url}` is not a valid URL: {err}")))?;
        if uri.host().is_none_or(str::is_empty) {
            return Err(fail("the URL has no host".into()));
        }
        Ok(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_without_scheme_host_or_valid_port_are_refused() {
        for (template, reason) in [
            ("https://example.com/{function}", "https is not supported"),
            ("ftp://example.com/{function}", "unknown scheme `ftp`"),
            ("127.0.0.1/{function}", "not a valid URL"),
            ("http:///{function}", "not a valid URL"),
            ("http://bad host/{function}", "not a valid URL"),
            ("http://127.0.0.1:99999/{function}", "invalid port"),
            ("http://127.0.0.1:0/{function}", "port must be 1 to 65535"),
        ] {
            let err = Target::new(template).unwrap_err().to_string();
            assert!(err.contains(reason), "{template}: {err}");
        }
    }

    #[test]
    fn the_port_written_is_the_port_used() {
        let target = Target::new("http://127.0.0.1:65535/{function}").unwrap();
        assert_eq!(target.url_for("f").unwrap().port_u16(), Some(65535));
    }

    #[test]
    fn a_template_without_placeholder_serves_one_function_only() {
        let target = Target::new("http://127.0.0.1:8080/invoke/").unwrap();
        target.check_functions(1).unwrap();
        let err = target.check_functions(3).unwrap_err().to_string();
        assert!(
            err.contains("3 functions") && err.contains("{function}"),
            "{err}"
        );
        Target::new("http://127.0.0.1:8080/{function}")
            .unwrap()
            .check_functions(3)
            .unwrap();
    }

    #[test]
    fn runtime_target_points_at_the_invoke_route() {
        let target = Target::runtime_at("127.0.0.1:4000".parse().unwrap());
        assert_eq!(
            target.url_for("echo").unwrap().to_string(),
            "http://127.0.0.1:4000/invoke/echo"
        );
    }
}
