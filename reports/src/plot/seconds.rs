//! The second-by-second rows of a run, merged into at most [`MAX_POINTS`] buckets of
//! consecutive seconds, so a long run draws as a readable and small plot. A bucket keeps the
//! worst p99 and max of its seconds: a one-second spike survives any merging.

use crate::report::IntervalRow;

/// Points per series at most; longer runs merge consecutive seconds.
pub const MAX_POINTS: usize = 2_000;

/// Consecutive seconds of a run, merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Bucket {
    /// First second of the bucket.
    pub start: u64,
    pub ok: u64,
    pub errors: u64,
    pub dropped: u64,
    pub cold_starts: u64,
    /// The median of the seconds' p50 (the lower one for an even count).
    pub p50_us: Option<u64>,
    /// The largest of the seconds' p99 and max.
    pub p99_us: Option<u64>,
    pub max_us: Option<u64>,
}

/// Where a bucket of `width` seconds is drawn on the time axis: its middle.
pub(super) fn centre(bucket: &Bucket, width: u64) -> f64 {
    bucket.start as f64 + width as f64 / 2.0
}

/// `rows` merged into buckets of `width` seconds, every bucket from second 0 to the last row
/// present (seconds without a row count as empty), and the width.
pub(super) fn buckets(rows: &[IntervalRow], max_points: usize) -> (Vec<Bucket>, u64) {
    let Some(last) = rows.iter().map(|row| row.second).max() else {
        return (Vec::new(), 1);
    };
    let seconds = last + 1;
    let width = seconds.div_ceil(max_points.max(1) as u64).max(1);
    let count = seconds.div_ceil(width) as usize;
    let mut buckets: Vec<Bucket> = (0..count)
        .map(|i| Bucket {
            start: i as u64 * width,
            ..Bucket::default()
        })
        .collect();
    let mut p50s: Vec<Vec<u64>> = vec![Vec::new(); count];
    for row in rows {
        let index = (row.second / width) as usize;
        let bucket = &mut buckets[index];
        bucket.ok += row.ok;
        bucket.errors += row.errors;
        bucket.dropped += row.dropped;
        bucket.cold_starts += row.cold_starts;
        bucket.p99_us = bucket.p99_us.max(row.p99_us);
        bucket.max_us = bucket.max_us.max(row.max_us);
        p50s[index].extend(row.p50_us);
    }
    for (bucket, mut p50) in buckets.iter_mut().zip(p50s) {
        p50.sort_unstable();
        bucket.p50_us = p50.get(p50.len().saturating_sub(1) / 2).copied();
    }
    (buckets, width)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(second: u64, p99_us: u64) -> IntervalRow {
        IntervalRow {
            second,
            ok: 10,
            errors: 1,
            dropped: 0,
            cold_starts: u64::from(second == 4_321),
            p50_us: Some(p99_us / 2),
            p99_us: Some(p99_us),
            max_us: Some(p99_us + 1),
        }
    }

    #[test]
    fn a_short_run_keeps_every_second() {
        let rows: Vec<_> = (0..10).map(|s| row(s, 1_000 + s)).collect();
        let (buckets, width) = buckets(&rows, MAX_POINTS);
        assert_eq!(width, 1);
        assert_eq!(buckets.len(), 10);
        assert_eq!(buckets[3].p99_us, Some(1_003));
    }

    #[test]
    fn merging_keeps_a_one_second_spike_and_the_totals() {
        // A 3-hour run: 10,800 seconds, one spike of 9 s at second 4,321.
        let rows: Vec<_> = (0..10_800)
            .map(|s| row(s, if s == 4_321 { 9_000_000 } else { 2_000 }))
            .collect();
        let (buckets, width) = buckets(&rows, MAX_POINTS);
        assert!(buckets.len() <= MAX_POINTS, "{}", buckets.len());
        assert_eq!(width, 6);
        let spike = &buckets[4_321 / 6];
        assert_eq!(spike.p99_us, Some(9_000_000));
        assert_eq!(spike.max_us, Some(9_000_001));
        assert_eq!(spike.cold_starts, 1);
        assert_eq!(
            spike.p50_us,
            Some(1_000),
            "the median is not pulled by the spike"
        );
        let ok: u64 = buckets.iter().map(|b| b.ok).sum();
        assert_eq!(ok, 108_000);
    }

    #[test]
    fn missing_seconds_are_empty_buckets() {
        let rows = [row(0, 1_000), row(5, 1_000)];
        let (buckets, _) = buckets(&rows, MAX_POINTS);
        assert_eq!(buckets.len(), 6);
        assert_eq!(buckets[2].ok, 0);
        assert_eq!(buckets[2].p99_us, None);
    }
}
