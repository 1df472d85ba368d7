//! Real serverless traces: reading them, streaming.
//!
//! Four layouts are read, one file each (`azure2019.rs`, `azure2021.rs`, `huawei2023.rs`,
//! `generic.rs`), behind [`TraceReader`]; the two per-invocation layouts share the reader in
//! `per_invocation.rs`:
//!
//! | format | files | unit |
//! |---|---|---|
//! | Azure Functions 2019 | invocations per function per minute (official `HashOwner,HashApp,HashFunction,Trigger,1..1440` or `HashFunction,HashOwner,HashApp,minute_1..minute_1440`), optional durations and memory percentiles; several day files form one timeline | counts per minute |
//! | Azure Functions 2021 | `app,func,end_timestamp,duration` (seconds; start = end − duration) | one row per invocation |
//! | Huawei public 2023 | `day,time` then one column per function, requests per minute; several day files form one timeline | counts per minute |
//! | generic | `timestamp_ms,function[,duration_ms,memory_mb,trigger]` | one row per invocation |
//!
//! Opening a trace reads it once, streaming, to check every line and to build its
//! [`TraceIndex`]: the functions, their totals and distributions, and invocations per minute.
//! Errors name the file, the line and the column. [`TraceReader::events`] then reads it again,
//! in time order, without holding more than a minute of it (or, for per-invocation traces, the
//! rows that arrive out of order) in memory. Columns are found by their header names.

mod azure2019;
mod azure2021;
mod distribution;
mod function_index;
mod generic;
mod huawei2023;
mod per_invocation;
pub(crate) mod rows;
mod summary;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

pub use distribution::Percentiles;
pub use summary::{Spread, TraceSummary, TriggerShare, sparkline, summarize};

use crate::Trigger;

/// Longest timeline a trace may span: four years of minutes. Per-minute figures are kept for
/// every minute of the timeline, so a stray timestamp far from the others would otherwise
/// make them huge; a row beyond this is refused with its file and line.
pub const MAX_TIMELINE_MINUTES: u32 = 4 * 366 * 1440;

/// Most invocations one function may have in one minute of a counted trace (Azure 2019,
/// Huawei 2023): 10 million, 166,667 per second. A replay expands every one of them, so a
/// larger count is refused with its file, line and column rather than run for hours.
pub const MAX_COUNT_PER_MINUTE: u64 = 10_000_000;

/// The layout of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TraceFormat {
    Azure2019,
    Azure2021,
    Huawei2023,
    Generic,
}

impl std::fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Azure2019 => "Azure Functions 2019",
            Self::Azure2021 => "Azure Functions 2021",
            Self::Huawei2023 => "Huawei public 2023",
            Self::Generic => "generic",
        })
    }
}

/// One function of a trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFunction {
    /// A name usable in URLs, unique in the trace.
    pub name: String,
    /// The trace's own identity of the function (hashes or ids, `/`-separated).
    pub id: String,
    /// The application it belongs to, if the trace says.
    pub app: Option<String>,
    pub trigger: Trigger,
    /// Invocations in the whole trace.
    pub invocations: u64,
    /// Execution time, ms.
    pub duration_ms: Option<Percentiles>,
    /// Mean execution time, ms.
    pub mean_duration_ms: Option<f64>,
    /// Memory allocated, MB.
    pub memory_mb: Option<Percentiles>,
}

/// What a trace holds, read in one pass.
#[derive(Debug, Clone)]
pub struct TraceIndex {
    pub format: TraceFormat,
    /// The files read, in timeline order.
    pub files: Vec<PathBuf>,
    pub functions: Vec<TraceFunction>,
    /// Invocations starting in each minute of the timeline.
    pub per_minute: Vec<u64>,
}

impl TraceIndex {
    /// Length of the timeline in minutes.
    pub fn minutes(&self) -> u32 {
        self.per_minute.len() as u32
    }

    /// Invocations in the whole trace.
    pub fn invocations(&self) -> u64 {
        self.per_minute.iter().sum()
    }

    /// The trace's own identities of `functions` (indices into [`TraceIndex::functions`]).
    pub fn ids(&self, functions: &[usize]) -> HashSet<&str> {
        functions
            .iter()
            .filter_map(|&f| self.functions.get(f))
            .map(|f| f.id.as_str())
            .collect()
    }

    /// What the sampler weighs each function by: its invocations and mean duration.
    pub fn sample_weights(&self) -> Vec<crate::sample::FunctionWeight> {
        self.functions
            .iter()
            .map(|f| crate::sample::FunctionWeight {
                invocations: f.invocations,
                duration_ms: f
                    .mean_duration_ms
                    .or_else(|| f.duration_ms.as_ref().map(Percentiles::median)),
            })
            .collect()
    }
}

/// Something that happened in the trace, in time order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceEvent {
    /// `count` invocations of `function` during `minute` of the timeline.
    Count {
        minute: u32,
        function: u32,
        count: u32,
    },
    /// One invocation of `function` starting `at_us` after the start of the timeline.
    Invocation {
        at_us: u64,
        function: u32,
        duration_us: Option<u64>,
    },
}

impl TraceEvent {
    /// The minute of the timeline it falls in.
    pub fn minute(&self) -> u32 {
        match *self {
            Self::Count { minute, .. } => minute,
            Self::Invocation { at_us, .. } => (at_us / 60_000_000) as u32,
        }
    }
}

/// A stream of trace events in time order.
pub type Events = Box<dyn Iterator<Item = Result<TraceEvent, TraceError>> + Send>;

/// A trace, opened and checked.
pub trait TraceReader: Send + Sync {
    /// What the trace holds.
    fn index(&self) -> &TraceIndex;

    /// The trace's events from `start_minute` of the timeline on, in time order.
    fn events(&self, start_minute: u32) -> Result<Events, TraceError>;

    /// Writes the part of the trace that concerns `functions` (indices into
    /// [`TraceIndex::functions`]) into `dir`, in the same layout and under the same file names.
    /// Returns the files written.
    fn write_subset(&self, functions: &[usize], dir: &Path) -> Result<Vec<PathBuf>, TraceError>;
}

/// Why a trace cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line of the file is wrong.
    #[error("{path}:{line}:{column}: {message}")]
    Malformed {
        path: PathBuf,
        line: u64,
        column: usize,
        message: String,
    },
    /// The file as a whole does not fit the layout.
    #[error("{path}: {message}")]
    Layout { path: PathBuf, message: String },
    /// An output file could not be written, or would have replaced an input.
    #[error(transparent)]
    Output(#[from] crate::output_file::OutputError),
}

/// The files of a trace, by role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceFiles {
    /// The invocations: one file, or several days in timeline order.
    pub invocations: Vec<PathBuf>,
    /// Azure 2019 execution-time percentiles.
    pub durations: Vec<PathBuf>,
    /// Azure 2019 memory percentiles.
    pub memory: Vec<PathBuf>,
}

/// What a trace file holds, told by its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Invocations(TraceFormat),
    Durations,
    Memory,
}

fn role(path: &Path) -> Result<Role, TraceError> {
    let header = rows::Rows::open(path)?.header()?;
    let has = |name: &str| header.position(name).is_some();
    let role = if has("percentile_Average_0") || has("percentile_Average_50") {
        Role::Durations
    } else if has("AverageAllocatedMb") {
        Role::Memory
    } else if has("HashFunction") {
        Role::Invocations(TraceFormat::Azure2019)
    } else if has("end_timestamp") && has("duration") && has("func") {
        Role::Invocations(TraceFormat::Azure2021)
    } else if header.names.first().is_some_and(|n| n == "day") && has("time") {
        Role::Invocations(TraceFormat::Huawei2023)
    } else if has("timestamp_ms") && has("function") {
        Role::Invocations(TraceFormat::Generic)
    } else {
        return Err(TraceError::Layout {
            path: path.to_owned(),
            message: format!(
                "unknown trace layout; the header starts with `{}`. Expected Azure 2019 (HashFunction, minute columns), Azure 2021 (app,func,end_timestamp,duration), Huawei 2023 (day,time,<functions>) or generic (timestamp_ms,function[,duration_ms,memory_mb,trigger])",
                header
                    .names
                    .iter()
                    .take(4)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        });
    };
    Ok(role)
}

impl TraceFiles {
    /// Sorts `paths` into their roles by reading their headers.
    pub fn classify(paths: &[PathBuf]) -> Result<Self, TraceError> {
        let mut files = Self::default();
        for path in paths {
            match role(path)? {
                Role::Invocations(_) => files.invocations.push(path.clone()),
                Role::Durations => files.durations.push(path.clone()),
                Role::Memory => files.memory.push(path.clone()),
            }
        }
        Ok(files)
    }
}

/// Opens and checks a trace: the format is told by the first invocations file's header.
pub fn open(files: &TraceFiles) -> Result<Box<dyn TraceReader>, TraceError> {
    let first = files
        .invocations
        .first()
        .ok_or_else(|| TraceError::Layout {
            path: PathBuf::from("(trace)"),
            message: "no invocations file given".into(),
        })?;
    let format = match role(first)? {
        Role::Invocations(format) => format,
        other => {
            return Err(TraceError::Layout {
                path: first.clone(),
                message: format!(
                    "this is a {} file, not invocations",
                    if other == Role::Durations {
                        "durations"
                    } else {
                        "memory"
                    }
                ),
            });
        }
    };
    if format != TraceFormat::Azure2019
        && let Some(extra) = files.durations.first().or(files.memory.first())
    {
        return Err(TraceError::Layout {
            path: extra.clone(),
            message: format!(
                "durations and memory files belong to Azure 2019 traces; this trace is {format}"
            ),
        });
    }
    Ok(match format {
        TraceFormat::Azure2019 => Box::new(azure2019::Azure2019::open(files)?),
        TraceFormat::Huawei2023 => Box::new(huawei2023::Huawei2023::open(&files.invocations)?),
        TraceFormat::Azure2021 => Box::new(
            per_invocation::PerInvocation::<azure2021::Azure2021>::open(&files.invocations)?,
        ),
        TraceFormat::Generic => Box::new(per_invocation::PerInvocation::<generic::Generic>::open(
            &files.invocations,
        )?),
    })
}

/// Gives every function a short name usable in URLs and unique in the trace, from the parts
/// of its identity (most specific first): the first 12 characters of the most specific part,
/// then with the next part as prefix where that collides, then the smallest numeric suffix
/// that no other function's name takes. The same identities in the same order always get the
/// same names.
pub(crate) fn assign_names(identities: &[Vec<&str>]) -> Vec<String> {
    let clean = |part: &str, len: usize| -> String {
        part.chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .take(len)
            .collect()
    };
    let candidate = |parts: &Vec<&str>, depth: usize| -> String {
        let mut name = clean(parts.first().copied().unwrap_or(""), 12);
        for part in parts.iter().skip(1).take(depth) {
            let prefix = clean(part, 8);
            if !prefix.is_empty() {
                name = format!("{prefix}-{name}");
            }
        }
        if name.is_empty() { "f".into() } else { name }
    };
    let mut names: Vec<String> = identities.iter().map(|parts| candidate(parts, 0)).collect();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for name in &names {
        *counts.entry(name.clone()).or_default() += 1;
    }
    for (name, parts) in names.iter_mut().zip(identities) {
        if counts[name.as_str()] > 1 {
            *name = candidate(parts, 1);
        }
    }
    // Each name stays with the first function that has it; the others get a suffix that is
    // neither another function's name nor one given already.
    let reserved: HashSet<String> = names.iter().cloned().collect();
    let mut given: HashSet<String> = HashSet::with_capacity(names.len());
    for name in names.iter_mut() {
        if given.insert(name.clone()) {
            continue;
        }
        let mut suffix = 2u64;
        loop {
            let attempt = format!("{name}-{suffix}");
            if !reserved.contains(&attempt) && given.insert(attempt.clone()) {
                *name = attempt;
                break;
            }
            suffix += 1;
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_url_safe_and_unique() {
        let identities = vec![
            vec!["aaaaaaaaaaaaaaaa", "app1"],
            vec!["bbbbbbbbbbbbbbbb", "app1"],
            vec!["aaaaaaaaaaaaaaaa", "app2"],
            vec!["x/y z", "app3"],
            vec!["same", "app9"],
            vec!["same", "app9"],
        ];
        let names = assign_names(&identities);
        assert_eq!(names[0], "app1-aaaaaaaaaaaa");
        assert_eq!(names[1], "bbbbbbbbbbbb");
        assert_eq!(names[2], "app2-aaaaaaaaaaaa");
        assert_eq!(names[3], "xyz");
        assert_eq!(
            (names[4].as_str(), names[5].as_str()),
            ("app9-same", "app9-same-2")
        );
    }

    #[test]
    fn a_suffix_never_takes_another_functions_name() {
        let identities = vec![
            vec!["a b", ""],
            vec!["ab", ""],
            vec!["-ab-2", ""],
            vec!["ab-2", ""],
        ];
        let names = assign_names(&identities);
        assert_eq!(names, ["ab", "ab-3", "-ab-2", "ab-2"]);
        assert_eq!(assign_names(&identities), names, "stable");
    }
}
