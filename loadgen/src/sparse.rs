//! A histogram kept as the buckets that hold counts, for the many small histograms of a run's
//! breakdown by function × start kind.
//!
//! A dense HdrHistogram of 2 significant digits spends 128 counters (1 KiB) per power of two of
//! range, used or not: about 10 KiB for latencies up to 40 ms, and a run of 1,000 functions
//! keeps six such histograms per function and start kind. A function's invocations fall into
//! a few hundred buckets at most, so this keeps only those, sorted, as (lowest equivalent
//! value, count). The buckets are the dense histogram's own (its `lowest_equivalent`), so
//! [`SparseHistogram::to_histogram`] gives exactly the histogram that recording every value
//! densely would have given.

use std::sync::LazyLock;

use hdrhistogram::Histogram;

use crate::recorder::{GROUP_SIGNIFICANT_DIGITS, histogram, record_n};

/// The bucket layout of the dense histograms: only its arithmetic is used.
static LAYOUT: LazyLock<Histogram<u64>> = LazyLock::new(|| histogram(GROUP_SIGNIFICANT_DIGITS));

/// A histogram of [`GROUP_SIGNIFICANT_DIGITS`], values in µs, stored sparsely.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SparseHistogram {
    /// (lowest value of the bucket, count), sorted by value; no count is zero.
    buckets: Vec<(u64, u64)>,
}

impl SparseHistogram {
    /// Records one value.
    pub fn record(&mut self, value: u64) {
        self.record_n(LAYOUT.lowest_equivalent(value), 1);
    }

    fn record_n(&mut self, bucket: u64, count: u64) {
        if count == 0 {
            return;
        }
        match self.buckets.binary_search_by_key(&bucket, |(b, _)| *b) {
            Ok(at) => self.buckets[at].1 = self.buckets[at].1.saturating_add(count),
            Err(at) => self.buckets.insert(at, (bucket, count)),
        }
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &SparseHistogram) {
        if other.buckets.is_empty() {
            return;
        }
        if self.buckets.is_empty() {
            self.buckets = other.buckets.clone();
            return;
        }
        let (ours, theirs) = (&self.buckets, &other.buckets);
        let mut merged = Vec::with_capacity(ours.len() + theirs.len());
        let (mut a, mut b) = (0, 0);
        while a < ours.len() && b < theirs.len() {
            let (x, y) = (ours[a], theirs[b]);
            if x.0 == y.0 {
                merged.push((x.0, x.1.saturating_add(y.1)));
                a += 1;
                b += 1;
            } else if x.0 < y.0 {
                merged.push(x);
                a += 1;
            } else {
                merged.push(y);
                b += 1;
            }
        }
        merged.extend_from_slice(&ours[a..]);
        merged.extend_from_slice(&theirs[b..]);
        self.buckets = merged;
    }

    /// Values recorded.
    pub fn len(&self) -> u64 {
        self.buckets
            .iter()
            .fold(0u64, |sum, (_, count)| sum.saturating_add(*count))
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// Buckets holding counts.
    pub fn buckets(&self) -> usize {
        self.buckets.len()
    }

    /// The dense histogram of the same values, for percentiles.
    pub fn to_histogram(&self) -> Histogram<u64> {
        let mut dense = histogram(GROUP_SIGNIFICANT_DIGITS);
        for (value, count) in &self.buckets {
            record_n(&mut dense, *value, *count);
        }
        dense
    }

    /// The buckets of a dense histogram of the same layout.
    pub fn from_histogram(dense: &Histogram<u64>) -> Self {
        let mut sparse = Self::default();
        for bucket in dense.iter_recorded() {
            sparse.record_n(
                LAYOUT.lowest_equivalent(bucket.value_iterated_to()),
                bucket.count_at_value(),
            );
        }
        sparse
    }
}

/// As a V2-encoded histogram, like every other histogram of a saved run.
pub(crate) mod saved {
    use serde::{Deserializer, Serializer};

    use super::SparseHistogram;

    pub(crate) fn serialize<S: Serializer>(h: &SparseHistogram, s: S) -> Result<S::Ok, S::Error> {
        crate::saved::histogram::serialize(&h.to_histogram(), s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<SparseHistogram, D::Error> {
        Ok(SparseHistogram::from_histogram(
            &crate::saved::histogram::deserialize(d)?,
        ))
    }
}

/// A fixed array of them, likewise.
pub(crate) mod saved_array {
    use hdrhistogram::Histogram;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::SparseHistogram;

    pub(crate) fn serialize<S: Serializer, const N: usize>(
        hs: &[SparseHistogram; N],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Saved(#[serde(with = "crate::saved::histogram")] Histogram<u64>);
        hs.iter()
            .map(|h| Saved(h.to_histogram()))
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, const N: usize>(
        d: D,
    ) -> Result<[SparseHistogram; N], D::Error> {
        #[derive(Deserialize)]
        struct Saved(#[serde(with = "crate::saved::histogram")] Histogram<u64>);
        let saved = Vec::<Saved>::deserialize(d)?;
        let found = saved.len();
        let sparse: Vec<SparseHistogram> = saved
            .iter()
            .map(|s| SparseHistogram::from_histogram(&s.0))
            .collect();
        sparse
            .try_into()
            .map_err(|_| serde::de::Error::custom(format!("{found} histograms where {N} belong")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_and_dense_recording_give_the_same_histogram() {
        let mut sparse = SparseHistogram::default();
        let mut dense = histogram(GROUP_SIGNIFICANT_DIGITS);
        let mut other = SparseHistogram::default();
        for i in 0..20_000u64 {
            // Spread over seven orders of magnitude, with repeats.
            let value = (i * 7_919) % 10_000_000 / (1 + i % 97);
            if i % 3 == 0 {
                other.record(value);
            } else {
                sparse.record(value);
            }
            crate::recorder::record(&mut dense, value);
        }
        sparse.merge(&other);
        let rebuilt = sparse.to_histogram();
        assert_eq!(rebuilt.len(), dense.len());
        for q in [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0] {
            assert_eq!(
                rebuilt.value_at_quantile(q),
                dense.value_at_quantile(q),
                "q {q}"
            );
        }
        assert!(rebuilt.iter_recorded().eq(dense.iter_recorded()));
        assert_eq!(SparseHistogram::from_histogram(&dense), sparse);

        // A function's latencies, around 2 ms: far fewer buckets than the dense counters. (For
        // values spread evenly over decades the two take about the same memory.)
        let mut function = SparseHistogram::default();
        let mut counters = histogram(GROUP_SIGNIFICANT_DIGITS);
        for i in 0..10_000u64 {
            let value = 1_800 + (i * 7_919) % 700;
            function.record(value);
            crate::recorder::record(&mut counters, value);
        }
        assert!(
            function.buckets() * 4 < counters.distinct_values(),
            "{} buckets, {} counters",
            function.buckets(),
            counters.distinct_values()
        );
    }

    #[test]
    fn counts_saturate_and_empty_histograms_merge() {
        let mut full = SparseHistogram::default();
        full.record_n(LAYOUT.lowest_equivalent(5), u64::MAX - 1);
        let mut more = SparseHistogram::default();
        more.record(5);
        more.record(5);
        full.merge(&more);
        assert_eq!(full.len(), u64::MAX);
        let mut empty = SparseHistogram::default();
        empty.merge(&SparseHistogram::default());
        assert!(empty.is_empty());
        empty.merge(&more);
        assert_eq!(empty, more);
    }
}
