//! The price catalog: the versioned list built into the binary, plus a user's file that adds
//! entries or replaces entries of the same id.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use loadgen::Billing;
use serde::Deserialize;

use super::cost::{Cost, CostOptions};
use super::entry::PriceEntry;

/// The built-in catalog, `reports/pricing/catalog.toml`.
const BUILTIN: &str = include_str!("../../pricing/catalog.toml");
const BUILTIN_NAME: &str = "built-in price catalog";

/// Why a price list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("cannot read the price list {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is no valid TOML, or a value is of the wrong kind or out of range.
    #[error("{origin}{}: {message}", at(*line, *column, field))]
    Parse {
        origin: String,
        line: Option<usize>,
        column: Option<usize>,
        /// Path of the offending key, e.g. `entry[2].duration.step_ms`.
        field: String,
        message: String,
    },
    /// An entry breaks a rule that ties its fields together.
    #[error("{origin}{}: entry `{entry}`, at `{field}`: {message}", at(*line, None, ""))]
    Invalid {
        origin: String,
        line: Option<usize>,
        entry: String,
        field: String,
        message: String,
    },
    #[error("no price entry `{id}`; the catalog has {known}")]
    UnknownEntry { id: String, known: String },
}

fn at(line: Option<usize>, column: Option<usize>, field: &str) -> String {
    let mut place = String::new();
    if let Some(line) = line {
        place.push_str(&format!(", line {line}"));
        if let Some(column) = column {
            place.push_str(&format!(", column {column}"));
        }
    }
    if !field.is_empty() && field != "." {
        place.push_str(&format!(", at `{field}`"));
    }
    place
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    /// Required in the built-in catalog, optional in a user's file.
    #[serde(default)]
    version: Option<String>,
    #[serde(default, rename = "entry")]
    entries: Vec<PriceEntry>,
}

/// Price entries in a fixed order, with the version of the list they come from.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    version: String,
    entries: Vec<PriceEntry>,
}

impl Catalog {
    /// The catalog built into this binary.
    pub fn builtin() -> Catalog {
        static PARSED: OnceLock<Catalog> = OnceLock::new();
        PARSED
            .get_or_init(|| {
                // Checked by the tests: the built-in text parses and every entry is valid.
                Catalog::from_toml_str(BUILTIN, BUILTIN_NAME)
                    .unwrap_or_else(|err| panic!("the built-in price catalog is broken: {err}"))
            })
            .clone()
    }

    /// The built-in catalog with the entries of `overrides` (a user's file, e.g.
    /// `--pricing my-prices.toml`) added, or replacing the built-in entry of the same id.
    pub fn load(overrides: Option<&Path>) -> Result<Catalog, PricingError> {
        let catalog = Catalog::builtin();
        let Some(path) = overrides else {
            return Ok(catalog);
        };
        let text = std::fs::read_to_string(path).map_err(|source| PricingError::Read {
            path: path.to_owned(),
            source,
        })?;
        catalog.with_overrides(&text, &path.display().to_string())
    }

    /// A whole catalog from TOML text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Catalog, PricingError> {
        let file = parse(text, origin)?;
        let version = file.version.ok_or_else(|| PricingError::Parse {
            origin: origin.to_owned(),
            line: None,
            column: None,
            field: "version".to_owned(),
            message: "a catalog needs a `version`".to_owned(),
        })?;
        Ok(Catalog {
            version,
            entries: file.entries,
        })
    }

    /// This catalog with the entries of the TOML `text` added or replacing those of the same
    /// id; `origin` names the text in errors and in the version.
    pub fn with_overrides(mut self, text: &str, origin: &str) -> Result<Catalog, PricingError> {
        let file = parse(text, origin)?;
        for entry in file.entries {
            match self.entries.iter_mut().find(|known| known.id == entry.id) {
                Some(known) => *known = entry,
                None => self.entries.push(entry),
            }
        }
        self.version = format!(
            "{}+{}",
            self.version,
            file.version.as_deref().unwrap_or(origin)
        );
        Ok(self)
    }

    /// The version of the list, e.g. `2026-12`; `2026-12+my-prices.toml` with overrides.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn entries(&self) -> &[PriceEntry] {
        &self.entries
    }

    pub fn entry(&self, id: &str) -> Option<&PriceEntry> {
        self.entries.iter().find(|entry| entry.id == id)
    }

    /// The entry `id`, or an error listing the known ones.
    pub fn require(&self, id: &str) -> Result<&PriceEntry, PricingError> {
        self.entry(id).ok_or_else(|| PricingError::UnknownEntry {
            id: id.to_owned(),
            known: self
                .entries
                .iter()
                .map(|entry| format!("`{}`", entry.id))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The cost of `billing` under every entry, in catalog order, with each entry's cost of
    /// the invocations of each start kind (`by_start_kind`). Empty when nothing was billed.
    pub fn costs(
        &self,
        billing: &Billing,
        by_start_kind: &BTreeMap<String, Billing>,
        options: CostOptions,
    ) -> Vec<Cost> {
        self.entries
            .iter()
            .filter_map(|entry| {
                let mut cost = entry.cost_with(billing, options)?;
                cost.by_start_kind = by_start_kind
                    .iter()
                    .filter_map(|(kind, billing)| {
                        let cost = entry.cost_with(billing, options)?;
                        Some((kind.clone(), cost.usd_per_million))
                    })
                    .collect();
                Some(cost)
            })
            .collect()
    }
}

/// Parses and checks a catalog file.
fn parse(text: &str, origin: &str) -> Result<CatalogFile, PricingError> {
    let parse_error = |err: toml::de::Error, field: String| {
        let (line, column) = err.span().map_or((None, None), |span| {
            let (line, column) = line_and_column(text, span.start);
            (Some(line), Some(column))
        });
        PricingError::Parse {
            origin: origin.to_owned(),
            line,
            column,
            field,
            message: err.message().to_owned(),
        }
    };
    let deserializer =
        toml::Deserializer::parse(text).map_err(|err| parse_error(err, String::new()))?;
    let file: CatalogFile = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let field = err.path().to_string();
        parse_error(err.into_inner(), field)
    })?;
    let mut ids = HashSet::new();
    for (index, entry) in file.entries.iter().enumerate() {
        let invalid = |field: String, message: String| PricingError::Invalid {
            origin: origin.to_owned(),
            line: line_of_field(text, index, &field),
            entry: entry.id.clone(),
            field: format!("entry[{index}].{field}"),
            message,
        };
        entry
            .check()
            .map_err(|(field, message)| invalid(field, message))?;
        if !ids.insert(entry.id.as_str()) {
            return Err(invalid(
                "id".to_owned(),
                "a second entry with this id in the same file".to_owned(),
            ));
        }
    }
    Ok(file)
}

/// 1-based line and column of byte `offset`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |at| before.len() - at - 1)
        + 1;
    (line, column)
}

/// The line of `field` (its first key) within the `index`-th `[[entry]]` table, or of the
/// table's header; `None` when the entries are not written as `[[entry]]` tables.
fn line_of_field(text: &str, index: usize, field: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let is_header = |line: &str| line.trim_start().starts_with("[[entry]]");
    let header = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| is_header(line))
        .nth(index)?
        .0;
    let key = field.split(['.', '[']).next().unwrap_or(field).to_owned();
    let found = lines[header + 1..]
        .iter()
        .take_while(|line| !is_header(line))
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key.as_str())
                .is_some_and(|rest| rest.trim_start().starts_with(['=', '.']))
                || line.starts_with(&format!("[entry.{key}]"))
        });
    Some(found.map_or(header, |offset| header + 1 + offset) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pricing::entry::Basis;

    #[test]
    fn the_builtin_catalog_parses_and_every_entry_is_valid() {
        let catalog = Catalog::from_toml_str(BUILTIN, BUILTIN_NAME).unwrap();
        assert_eq!(catalog.version(), "2026-12");
        for id in [
            "aws-lambda-x86",
            "aws-lambda-arm64",
            "gcp-cloud-run-functions",
            "azure-functions-consumption",
            "azure-functions-flex-consumption",
            "alibaba-fc3",
            "cloudflare-workers-standard",
        ] {
            let entry = catalog.entry(id).unwrap_or_else(|| panic!("no {id}"));
            entry.check().unwrap();
            assert!(entry.source.starts_with("https://"), "{id}");
        }
        assert_eq!(catalog.entries()[0].id, crate::DEFAULT_ENTRY);
        let bases: HashSet<_> = catalog
            .entries()
            .iter()
            .map(|entry| format!("{:?}", entry.basis))
            .collect();
        assert_eq!(bases.len(), 5, "{bases:?}");
    }

    const OVERRIDE: &str = r#"
version = "acme-2027-01"

[[entry]]
id = "aws-lambda-x86"
provider = "AWS"
plan = "Lambda, negotiated"
architecture = "x86_64"
as_of = "2027-01-05"
source = "https://example.com/acme-contract"
basis = "configured-memory"
duration = { step_ms = 1, min_ms = 1 }
memory = { min_mb = 128, max_mb = 10240 }
request_usd_per_million = 0.10
tiers = [{ usd = 0.00001 }]

[[entry]]
id = "onprem-knative"
provider = "ACME"
plan = "Knative on our cluster"
architecture = "x86_64"
as_of = "2027-01-05"
source = "https://example.com/chargeback"
basis = "cpu-time"
duration = { step_ms = 10 }
tiers = [{ usd = 0.000000001 }]
"#;

    #[test]
    fn an_override_file_replaces_and_adds_entries() {
        let builtin = Catalog::builtin();
        let catalog = builtin
            .clone()
            .with_overrides(OVERRIDE, "my-prices.toml")
            .unwrap();
        assert_eq!(catalog.version(), "2026-12+acme-2027-01");
        assert_eq!(catalog.entries().len(), builtin.entries().len() + 1);
        // Replaced in place, so the order of the list stays.
        assert_eq!(catalog.entries()[0].plan, "Lambda, negotiated");
        assert_eq!(catalog.entries().last().unwrap().id, "onprem-knative");
        assert_eq!(
            catalog.entry("onprem-knative").unwrap().basis,
            Basis::CpuTime
        );
        assert_eq!(
            catalog.entry("aws-lambda-arm64"),
            builtin.entry("aws-lambda-arm64")
        );
    }

    #[test]
    fn an_override_file_is_read_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("my-prices.toml");
        std::fs::write(&path, OVERRIDE).unwrap();
        let catalog = Catalog::load(Some(&path)).unwrap();
        assert!(catalog.entry("onprem-knative").is_some());
        let missing = Catalog::load(Some(&dir.path().join("nope.toml"))).unwrap_err();
        assert!(missing.to_string().contains("nope.toml"), "{missing}");
        assert_eq!(Catalog::load(None).unwrap(), Catalog::builtin());
    }

    fn error_of(text: &str) -> String {
        Catalog::builtin()
            .with_overrides(text, "my-prices.toml")
            .unwrap_err()
            .to_string()
    }

    fn with(find: &str, replace: &str) -> String {
        assert!(OVERRIDE.contains(find), "{find}");
        OVERRIDE.replacen(find, replace, 1)
    }

    #[test]
    fn bad_values_are_refused_naming_file_line_and_field() {
        let cases = [
            // A zero step, a negative, an infinite and a NaN price.
            (
                with("step_ms = 1,", "step_ms = 0,"),
                "line 12",
                "entry[0].duration.step_ms",
                "zero step",
            ),
            (
                with("0.10", "-0.10"),
                "line 14",
                "entry[0].request_usd_per_million",
                "found -0.1",
            ),
            (
                with("0.00001 }", "inf }"),
                "line 15",
                "entry[0].tiers[0].usd",
                "found inf",
            ),
            (
                with("0.00001 }", "nan }"),
                "line 15",
                "entry[0].tiers[0].usd",
                "found NaN",
            ),
            // A misspelt key and a basis that does not exist.
            (
                with("request_usd_per_million", "request_usd_per_milion"),
                "line 14",
                "entry[0].request_usd_per_milion",
                "unknown field",
            ),
            (
                with("\"cpu-time\"", "\"wall-time\""),
                "line 24",
                "entry[1].basis",
                "unknown variant",
            ),
        ];
        for (text, line, field, message) in cases {
            let err = error_of(&text);
            assert!(err.starts_with("my-prices.toml"), "{err}");
            assert!(err.contains(line), "{line}: {err}");
            assert!(err.contains(field), "{field}: {err}");
            assert!(err.contains(message), "{message}: {err}");
        }
    }

    #[test]
    fn inconsistent_entries_are_refused_naming_file_line_entry_and_field() {
        let cases = [
            (
                with("tiers = [{ usd = 0.00001 }]", "tiers = []"),
                "line 15",
                "entry[0].tiers",
                "needs it",
            ),
            (
                with(
                    "tiers = [{ usd = 0.00001 }]",
                    "tiers = [{ up_to = 5.0, usd = 0.00002 }, { up_to = 9.0, usd = 0.00001 }]",
                ),
                "line 15",
                "entry[0].tiers[1].up_to",
                "last tier",
            ),
            (
                with(
                    "tiers = [{ usd = 0.00001 }]",
                    "tiers = [{ up_to = 5.0, usd = 0.00002 }, { up_to = 4.0, usd = 0.00001 }, { usd = 0.0 }]",
                ),
                "line 15",
                "entry[0].tiers[1].up_to",
                "previous bound",
            ),
            (
                with("as_of = \"2027-01-05\"", "as_of = \"January\""),
                "line 9",
                "entry[0].as_of",
                "YYYY-MM-DD",
            ),
            (
                with("https://example.com/chargeback", "our wiki"),
                "line 23",
                "entry[1].source",
                "URL",
            ),
            (
                with("max_mb = 10240", "max_mb = 64"),
                "line 13",
                "entry[0].memory.max_mb",
                "below the minimum",
            ),
            (
                with("\"onprem-knative\"", "\"aws-lambda-x86\""),
                "line 18",
                "entry[1].id",
                "second entry",
            ),
        ];
        for (text, line, field, message) in cases {
            let err = error_of(&text);
            assert!(err.starts_with("my-prices.toml"), "{err}");
            assert!(err.contains(line), "{line}: {err}");
            assert!(err.contains(field), "{field}: {err}");
            assert!(err.contains(message), "{message}: {err}");
        }
    }

    #[test]
    fn a_toml_syntax_error_names_file_and_line() {
        let err = error_of("[[entry]\nid = 1\n");
        assert!(err.starts_with("my-prices.toml, line 1"), "{err}");
    }

    #[test]
    fn an_unknown_entry_lists_the_known_ones() {
        let err = Catalog::builtin().require("aws-lambda-x68").unwrap_err();
        let err = err.to_string();
        assert!(err.contains("aws-lambda-x68"), "{err}");
        assert!(err.contains("`aws-lambda-arm64`"), "{err}");
    }
}
