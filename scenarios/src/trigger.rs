use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What triggers a function, as the Azure Functions trace classifies it. Kept on every
/// invocation so that results can be broken down by trigger.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    #[default]
    Http,
    Timer,
    Queue,
    Event,
    Storage,
    Orchestration,
    Others,
    /// The trace does not say.
    Unknown,
}

impl Trigger {
    /// Every trigger, in report order.
    pub const ALL: [Trigger; 8] = [
        Self::Http,
        Self::Timer,
        Self::Queue,
        Self::Event,
        Self::Storage,
        Self::Orchestration,
        Self::Others,
        Self::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Timer => "timer",
            Self::Queue => "queue",
            Self::Event => "event",
            Self::Storage => "storage",
            Self::Orchestration => "orchestration",
            Self::Others => "others",
            Self::Unknown => "unknown",
        }
    }

    /// Position in [`Trigger::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Trigger {
    type Err = String;

    /// Accepts the trace's spellings, in any case.
    fn from_str(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|trigger| trigger.as_str() == lower)
            .ok_or_else(|| {
                format!(
                    "unknown trigger `{text}`; expected one of: {}",
                    Self::ALL.map(Trigger::as_str).join(", ")
                )
            })
    }
}
