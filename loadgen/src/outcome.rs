//! How one invocation ended, as seen by the load generator.

use std::fmt;

use scenarios::Invocation;
use serde::{Deserialize, Serialize};

/// How the platform says the serving instance was started (`x-faas-start`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StartKind {
    Cold,
    Snapshot,
    Warm,
    /// The platform did not say.
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

/// Why an invocation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The platform answered with a non-2xx status.
    Status(u16),
    /// No connection could be made (refused, unreachable).
    Connect,
    /// The connection failed after it was made (reset, closed mid-response, protocol error).
    Connection,
    /// No complete answer within the request timeout.
    Timeout,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status(code) => write!(f, "http_{code}"),
            Self::Connect => f.write_str("connect"),
            Self::Connection => f.write_str("connection"),
            Self::Timeout => f.write_str("timeout"),
        }
    }
}

/// What the platform reported about its own work in the `x-faas-*` headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlatformMetering {
    pub init_us: Option<u64>,
    pub queue_us: Option<u64>,
    pub exec_us: Option<u64>,
    pub billed_ms: Option<u64>,
    pub memory_mb: Option<u64>,
    pub instance: Option<u64>,
}

/// One finished invocation with its timings, all in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub invocation: Invocation,
    /// From the scheduled send time to the end of the response: what a user waiting on the
    /// schedule experiences (coordinated-omission correct).
    pub latency_us: u64,
    /// From the actual send to the end of the response.
    pub service_us: u64,
    /// How late the request was sent: actual minus scheduled send time.
    pub send_lag_us: u64,
    pub result: Result<(), ErrorKind>,
    pub start: StartKind,
    pub metering: PlatformMetering,
}
