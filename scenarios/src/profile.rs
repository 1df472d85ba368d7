use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::{Invocation, Trigger};

/// One function of a scenario: what the platform deploys and what each invocation sends.
///
/// On the embedded runtime, `guest` names one of its built-in guests (`noop`, `echo`, `cpu`);
/// external platforms reached over HTTP only use `name` and `input`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionProfile {
    /// Function name, as it appears in URLs: letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// The built-in guest of the reference runtime that implements this function.
    pub guest: String,
    /// Memory size in MiB: the guest's memory limit and the size billed per GB-second.
    #[serde(default = "FunctionProfile::default_memory_mb")]
    pub memory_mb: u32,
    /// Most instances the platform may run at once for this function.
    #[serde(default = "FunctionProfile::default_max_instances")]
    pub max_instances: u32,
    /// Share of the scenario's arrivals that go to this function, relative to the others.
    /// 0 deploys the function without invoking it directly (a step of a chain, say).
    #[serde(default = "FunctionProfile::default_weight")]
    pub weight: f64,
    /// Request body sent with every invocation.
    #[serde(default)]
    pub input: String,
    /// What triggers the function; results can be broken down by trigger. Default `http`.
    #[serde(default)]
    pub trigger: Trigger,
    /// For functions taken from a trace: the share of each invocation's duration spent
    /// computing. Their bodies are built per invocation from its duration.
    #[serde(skip)]
    pub cpu_share: Option<f64>,
    /// For functions taken from a trace: the trace's own name of the function (its hashes or
    /// id, `/`-separated). `name` is derived from it, made URL-safe and unique.
    #[serde(skip)]
    pub trace_id: Option<String>,
}

impl FunctionProfile {
    /// The default memory size, the smallest common Lambda configuration.
    pub const DEFAULT_MEMORY_MB: u32 = 128;
    /// The default instance limit per function.
    pub const DEFAULT_MAX_INSTANCES: u32 = 16;

    fn default_memory_mb() -> u32 {
        Self::DEFAULT_MEMORY_MB
    }

    fn default_max_instances() -> u32 {
        Self::DEFAULT_MAX_INSTANCES
    }

    fn default_weight() -> f64 {
        1.0
    }

    /// The request body of `invocation`: its work (`"<cpu µs> <io ms>"`) for a function taken
    /// from a trace, the fixed input otherwise.
    pub fn request_body(&self, invocation: &Invocation) -> Bytes {
        match (self.cpu_share, invocation.duration_us) {
            (Some(share), Some(duration_us)) => crate::work::work_body(duration_us, share),
            _ => Bytes::from(self.input.clone()),
        }
    }

    /// The request body, when it is the same for every invocation.
    pub fn fixed_body(&self) -> Option<Bytes> {
        self.cpu_share
            .is_none()
            .then(|| Bytes::from(self.input.clone()))
    }

    /// Checks the values serde cannot: returns the offending field and why.
    pub(crate) fn check(&self) -> Result<(), (&'static str, String)> {
        let name_ok = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !name_ok {
            return Err((
                "name",
                format!(
                    "`{}` is not a valid function name: expected letters, digits, `-`, `_` or `.`",
                    self.name
                ),
            ));
        }
        if self.guest.is_empty() {
            return Err(("guest", "must name a guest".into()));
        }
        if self.memory_mb == 0 {
            return Err(("memory_mb", "must be at least 1".into()));
        }
        if self.max_instances == 0 {
            return Err(("max_instances", "must be at least 1".into()));
        }
        if !(self.weight.is_finite() && self.weight >= 0.0) {
            return Err((
                "weight",
                format!("expected a number ≥ 0, found {}", self.weight),
            ));
        }
        Ok(())
    }
}
