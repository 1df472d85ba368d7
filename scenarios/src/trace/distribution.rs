//! Distributions given by percentile points, as the Azure traces publish durations and memory:
//! a value is drawn between consecutive points, uniformly (a piecewise-uniform distribution).

use rand::RngExt;

use crate::arrival::ScheduleRng;

/// A distribution known by its quantiles: `(q, value)` points with `q` rising from 0 to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Percentiles {
    points: Vec<(f64, f64)>,
}

impl Percentiles {
    /// From `(percentile, value)` pairs, percentiles in 0..=100. Missing ends are taken from the
    /// nearest point (a distribution known from its 1st percentile is flat below it). Values
    /// must not fall as the percentile rises.
    pub fn from_percentiles(pairs: &[(f64, f64)]) -> Result<Self, String> {
        if pairs.is_empty() {
            return Err("no percentile points".into());
        }
        let mut points: Vec<(f64, f64)> = pairs.iter().map(|&(p, v)| (p / 100.0, v)).collect();
        for window in points.windows(2) {
            let ((q0, v0), (q1, v1)) = (window[0], window[1]);
            if q1 <= q0 {
                return Err(format!(
                    "percentiles must rise: {} then {}",
                    q0 * 100.0,
                    q1 * 100.0
                ));
            }
            if v1 < v0 {
                return Err(format!(
                    "values must not fall as the percentile rises: {v0} at p{} then {v1} at p{}",
                    q0 * 100.0,
                    q1 * 100.0
                ));
            }
        }
        if let Some(&(q, v)) = points.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
            return Err(format!(
                "p{} is {v}; expected a finite value ≥ 0",
                q * 100.0
            ));
        }
        let (first_q, first_v) = points[0];
        if first_q > 0.0 {
            points.insert(0, (0.0, first_v));
        }
        let (last_q, last_v) = points[points.len() - 1];
        if last_q < 1.0 {
            points.push((1.0, last_v));
        }
        Ok(Self { points })
    }

    /// A single value, always.
    pub fn constant(value: f64) -> Self {
        Self {
            points: vec![(0.0, value), (1.0, value)],
        }
    }

    /// The value at quantile `q` (0..=1), interpolated linearly between points.
    pub fn quantile(&self, q: f64) -> f64 {
        let q = q.clamp(0.0, 1.0);
        let upper = self
            .points
            .partition_point(|&(point, _)| point < q)
            .clamp(1, self.points.len() - 1);
        let (q0, v0) = self.points[upper - 1];
        let (q1, v1) = self.points[upper];
        if q1 <= q0 {
            return v1;
        }
        v0 + (v1 - v0) * (q - q0) / (q1 - q0)
    }

    /// A value drawn from the distribution.
    pub fn draw(&self, rng: &mut ScheduleRng) -> f64 {
        self.quantile(rng.random::<f64>())
    }

    /// The median.
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.points[self.points.len() - 1].1
    }

    /// Every value scaled by `factor`.
    pub fn scaled(&self, factor: f64) -> Self {
        Self {
            points: self.points.iter().map(|&(q, v)| (q, v * factor)).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn draws_fall_between_percentile_points_in_their_proportions() {
        // Azure's duration layout: p0, p1, p25, p50, p75, p99, p100.
        let d = Percentiles::from_percentiles(&[
            (0.0, 10.0),
            (1.0, 20.0),
            (25.0, 30.0),
            (50.0, 40.0),
            (75.0, 80.0),
            (99.0, 200.0),
            (100.0, 1000.0),
        ])
        .unwrap();
        assert_eq!(d.median(), 40.0);
        assert_eq!(d.quantile(0.625), 60.0);
        let mut rng = ScheduleRng::seed_from_u64(5);
        let draws: Vec<f64> = (0..100_000).map(|_| d.draw(&mut rng)).collect();
        let share =
            |lo: f64, hi: f64| draws.iter().filter(|&&v| v >= lo && v < hi).count() as f64 / 1e5;
        assert!((share(40.0, 80.0) - 0.25).abs() < 0.01);
        assert!((share(200.0, 1000.1) - 0.01).abs() < 0.002);
        assert!(draws.iter().all(|&v| (10.0..=1000.0).contains(&v)));
    }

    #[test]
    fn missing_ends_are_flat_and_bad_points_are_refused() {
        let memory =
            Percentiles::from_percentiles(&[(1.0, 100.0), (50.0, 150.0), (99.0, 180.0)]).unwrap();
        assert_eq!(memory.quantile(0.0), 100.0);
        assert_eq!(memory.quantile(1.0), 180.0);
        assert!(
            Percentiles::from_percentiles(&[(50.0, 10.0), (25.0, 5.0)])
                .unwrap_err()
                .contains("rise")
        );
        assert!(
            Percentiles::from_percentiles(&[(25.0, 10.0), (50.0, 5.0)])
                .unwrap_err()
                .contains("fall")
        );
        assert!(
            Percentiles::from_percentiles(&[(50.0, -1.0)])
                .unwrap_err()
                .contains("≥ 0")
        );
    }
}
