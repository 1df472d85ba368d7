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

    /// Checks a template: plain `http://`, a host, and the `{function}` placeholder.
    pub fn new(template: impl Into<String>) -> Result<Self, TargetError> {
        let target = Self {
            template: template.into(),
        };
        let fail = |message: &str| TargetError::Template {
            template: target.template.clone(),
            message: message.into(),
        };
        if !target.template.contains(Self::PLACEHOLDER) {
            return Err(fail(
                "the template must contain `{function}` where the function name goes",
            ));
        }
        if target.template.starts_with("https://") {
            return Err(fail(
                "https is not supported; use plain http:// (HTTP/1.1 or h2c)",
            ));
        }
        if !target.template.starts_with("http://") {
            return Err(fail("the template must start with http://"));
        }
        target.url_for("probe")?;
        Ok(target)
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
        let uri: Uri = url.parse().map_err(|err| TargetError::Template {
            template: self.template.clone(),
            message: format!("`{url}` is not a valid URL: {err}"),
        })?;
        if uri.host().is_none() {
            return Err(TargetError::Template {
                template: self.template.clone(),
                message: "the URL has no host".into(),
            });
        }
        Ok(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_without_placeholder_scheme_or_host_are_refused() {
        for (template, reason) in [
            ("http://127.0.0.1:8080/invoke/", "{function}"),
            ("https://example.com/{function}", "https is not supported"),
            ("127.0.0.1/{function}", "http://"),
            ("http:///{function}", "http:///"),
            ("http://bad host/{function}", "not a valid URL"),
        ] {
            let err = Target::new(template).unwrap_err().to_string();
            assert!(err.contains(reason), "{template}: {err}");
        }
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
