//! The functions of a trace as a reader meets them: each identity interned once, its
//! invocations counted without overflow, and short unique names given at the end. Shared by
//! every reader so that these rules are written once.

use std::collections::HashMap;

use super::{TraceError, TraceFunction, assign_names};
use crate::Trigger;

/// Functions found so far, by the trace's own key (e.g. `app/function`).
#[derive(Default)]
pub(crate) struct FunctionIndex {
    functions: Vec<TraceFunction>,
    /// The parts a name is made from, most specific first.
    name_parts: Vec<[String; 2]>,
    by_key: HashMap<String, u32>,
}

impl FunctionIndex {
    /// The function with `key`, if one was added.
    pub(crate) fn get(&self, key: &str) -> Option<u32> {
        self.by_key.get(key).copied()
    }

    /// The function with `key`; added with its name parts (most specific first, e.g. the
    /// function's hash and its app's), app and trigger when it is new. `refuse` builds the
    /// error for a trace with more functions than an index holds.
    pub(crate) fn intern(
        &mut self,
        key: &str,
        new: impl FnOnce() -> Result<([String; 2], Option<String>, Trigger), TraceError>,
        refuse: impl FnOnce(String) -> TraceError,
    ) -> Result<u32, TraceError> {
        if let Some(function) = self.get(key) {
            return Ok(function);
        }
        let function = u32::try_from(self.functions.len())
            .map_err(|_| refuse(format!("more than {} functions", u32::MAX)))?;
        let (name_parts, app, trigger) = new()?;
        self.functions.push(TraceFunction {
            name: String::new(),
            id: key.to_owned(),
            app,
            trigger,
            invocations: 0,
            duration_ms: None,
            mean_duration_ms: None,
            memory_mb: None,
        });
        self.name_parts.push(name_parts);
        self.by_key.insert(key.to_owned(), function);
        Ok(function)
    }

    /// Adds `count` invocations to `function`; `refuse` builds the error should its total
    /// overflow.
    pub(crate) fn count(
        &mut self,
        function: u32,
        count: u64,
        refuse: impl FnOnce(String) -> TraceError,
    ) -> Result<(), TraceError> {
        let entry = &mut self.functions[function as usize];
        entry.invocations = entry.invocations.checked_add(count).ok_or_else(|| {
            refuse(format!(
                "the function's invocations exceed {} in total",
                u64::MAX
            ))
        })?;
        Ok(())
    }

    pub(crate) fn len(&self) -> usize {
        self.functions.len()
    }

    /// The functions with their names, and the index by key.
    pub(crate) fn finish(mut self) -> (Vec<TraceFunction>, HashMap<String, u32>) {
        let names = assign_names(
            &self
                .name_parts
                .iter()
                .map(|[specific, app]| vec![specific.as_str(), app.as_str()])
                .collect::<Vec<_>>(),
        );
        for (function, name) in self.functions.iter_mut().zip(names) {
            function.name = name;
        }
        (self.functions, self.by_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refuse(message: String) -> TraceError {
        TraceError::Layout {
            path: "t.csv".into(),
            message,
        }
    }

    #[test]
    fn a_key_is_interned_once_and_counts_never_wrap() {
        let mut index = FunctionIndex::default();
        let new = || {
            Ok((
                ["f".to_owned(), "a".to_owned()],
                Some("a".to_owned()),
                Trigger::Http,
            ))
        };
        let first = index.intern("a/f", new, refuse).unwrap();
        let again = index
            .intern("a/f", || panic!("already known"), refuse)
            .unwrap();
        assert_eq!((first, again, index.len()), (0, 0, 1));
        index.count(first, u64::MAX - 1, refuse).unwrap();
        let err = index.count(first, 2, refuse).unwrap_err().to_string();
        assert!(err.contains("exceed"), "{err}");
        let (functions, by_key) = index.finish();
        assert_eq!(functions[0].name, "f");
        assert_eq!(functions[0].invocations, u64::MAX - 1);
        assert_eq!(by_key["a/f"], 0);
    }
}
