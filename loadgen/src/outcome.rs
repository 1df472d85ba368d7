//! How one invocation ended, as seen by the load generator.

use std::fmt;

use scenarios::Invocation;
use serde::{Deserialize, Serialize};

/// How the platform says the serving instance was started (`x-faas-start`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum StartKind {
    Cold,
    Snapshot,
    Warm,
    /// The platform did not say.
    #[default]
    Unknown,
}

impl StartKind {
    /// Every kind, in report order.
    pub const ALL: [StartKind; 4] = [Self::Cold, Self::Snapshot, Self::Warm, Self::Unknown];

    /// Parses an `x-faas-start` value.
    pub fn from_header(value: &[u8]) -> Self {
        match value {
            b"cold" => Self::Cold,
            b"snapshot" => Self::Snapshot,
            b"warm" => Self::Warm,
            _ => Self::Unknown,
        }
    }

    /// The protocol's name for this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cold => "cold",
            Self::Snapshot => "snapshot",
            Self::Warm => "warm",
            Self::Unknown => "unknown",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Why an invocation did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The platform answered with a non-2xx status.
    Status(u16),
    /// Nothing listens at the target (connection refused).
    Refused,
    /// Connecting took longer than the connect timeout.
    ConnectTimeout,
    /// Connecting failed otherwise (unreachable, bad address).
    Connect,
    /// The connection broke after it was made: reset, closed before the whole answer came,
    /// or a protocol error.
    Reset,
    /// No complete answer within the request timeout.
    Timeout,
    /// Never sent: the in-flight bound was reached when it was due. Counted in its own
    /// bucket, not as a platform error.
    Dropped,
}

impl ErrorKind {
    /// Parses the name [`fmt::Display`] gives a kind (`http_503`, `timeout`, …).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "refused" => Self::Refused,
            "connect_timeout" => Self::ConnectTimeout,
            "connect" => Self::Connect,
            "reset" => Self::Reset,
            "timeout" => Self::Timeout,
            "dropped" => Self::Dropped,
            other => Self::Status(other.strip_prefix("http_")?.parse().ok()?),
        })
    }

    /// True for failures of the connection rather than answers from the platform.
    pub fn is_connection(self) -> bool {
        matches!(
            self,
            Self::Refused | Self::ConnectTimeout | Self::Connect | Self::Reset
        )
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(code) => write!(f, "http_{code}"),
            Self::Refused => f.write_str("refused"),
            Self::ConnectTimeout => f.write_str("connect_timeout"),
            Self::Connect => f.write_str("connect"),
            Self::Reset => f.write_str("reset"),
            Self::Timeout => f.write_str("timeout"),
            Self::Dropped => f.write_str("dropped"),
        }
    }
}

/// What the platform reported about its own work in the `x-faas-*` headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlatformMetering {
    /// Starting the serving instance (`x-faas-init-us`); 0 when it was warm.
    pub init_us: Option<u64>,
    /// Waiting in the function's queue for an instance (`x-faas-queue-us`).
    pub queue_us: Option<u64>,
    /// Running in the guest (`x-faas-exec-us`).
    pub exec_us: Option<u64>,
    pub billed_ms: Option<u64>,
    pub memory_mb: Option<u64>,
    pub instance: Option<u64>,
    /// Whether the invocation waited for an instance start, its own or one it queued behind
    /// (`x-faas-delayed-by-start: 1`). The header is sent only when it did, so its absence
    /// from an answer that reported its start kind reads `Some(false)`; `None` when the
    /// platform does not speak of it.
    pub delayed_by_start: Option<bool>,
}

/// What the platform answered, besides success or failure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnswerFacts {
    /// From `x-faas-start`, or `Unknown`.
    pub start: StartKind,
    pub metering: PlatformMetering,
    /// A hash of the value of the header that names the serving instance, when one is
    /// configured for inferring cold starts and the answer carries it.
    pub instance_tag: Option<u64>,
}

/// One finished invocation with its timings, all in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub invocation: Invocation,
    /// From the scheduled send time to the end of the response: what a user waiting on the
    /// schedule experiences (coordinated-omission correct). In a closed loop, where nothing
    /// is scheduled, it equals the service time.
    pub latency_us: u64,
    /// From the actual send to the end of the response.
    pub service_us: u64,
    /// How late the request was sent: actual minus scheduled send time. `None` when it was
    /// not sent on a schedule (closed loop) or not sent at all (dropped).
    pub send_lag_us: Option<u64>,
    pub result: Result<(), ErrorKind>,
    pub start: StartKind,
    /// True when `start` was inferred by the load generator, not reported by the platform.
    pub inferred: bool,
    pub metering: PlatformMetering,
}

impl Outcome {
    /// Whether the invocation was delayed by an instance start: the platform said so, or it
    /// was a cold or snapshot start itself (reported or inferred), so that platforms which
    /// never send `x-faas-delayed-by-start` still have their own starts counted. `None` when
    /// neither tells.
    pub fn delayed_by_start(&self) -> Option<bool> {
        match (self.start, self.metering.delayed_by_start) {
            (StartKind::Cold | StartKind::Snapshot, _) | (_, Some(true)) => Some(true),
            (_, reported) => reported,
        }
    }
}
