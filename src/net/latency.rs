//! Latency draws. Transcendental functions come from `libm` (a pure-Rust
//! port of musl's), not the platform's C library, so a draw is the same
//! bit for bit on every machine.

use crate::scenario::Latency;
use rand::Rng;

/// One draw from `latency`, in nanoseconds.
pub fn sample_ns(latency: &Latency, rng: &mut impl Rng) -> u64 {
    match latency {
        Latency::Constant(d) => d.0,
        Latency::Uniform(lo, hi) => rng.gen_range(lo.0..=hi.0),
        Latency::Normal { mean, std_dev } => {
            let z = standard_normal(rng);
            to_ns(mean.0 as f64 + z * std_dev.0 as f64)
        }
        Latency::Exponential(mean) => {
            // 1 - u is in (0, 1], so the log is finite.
            let u: f64 = rng.gen();
            to_ns(-libm::log(1.0 - u) * mean.0 as f64)
        }
    }
}

/// Box-Muller, one of the pair.
fn standard_normal(rng: &mut impl Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>();
    let u2: f64 = rng.gen();
    libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(2.0 * std::f64::consts::PI * u2)
}

/// Rounds to whole nanoseconds, cut off at zero (and at about 292 years).
fn to_ns(x: f64) -> u64 {
    if x.is_nan() || x <= 0.0 {
        0
    } else {
        libm::round(x).min(u64::MAX as f64 / 2.0) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::rng::stream;
    use crate::scenario::Dur;

    fn stats(l: &Latency) -> (f64, u64, u64) {
        let mut rng = stream(3, "network");
        let draws: Vec<u64> = (0..50_000).map(|_| sample_ns(l, &mut rng)).collect();
        let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
        (mean, *draws.iter().min().unwrap(), *draws.iter().max().unwrap())
    }

    #[test]
    fn uniform_stays_in_bounds_and_covers_them() {
        let (mean, lo, hi) = stats(&Latency::Uniform(Dur(1_000), Dur(3_000)));
        assert_eq!((lo, hi), (1_000, 3_000));
        assert!((mean - 2_000.0).abs() < 20.0, "mean {mean}");
    }

    #[test]
    fn exponential_and_normal_have_their_means() {
        let (mean, lo, _) = stats(&Latency::Exponential(Dur(10_000)));
        assert!((mean - 10_000.0).abs() < 200.0, "mean {mean}");
        assert!(lo < 100, "exponential reaches near zero, min {lo}");
        let (mean, _, hi) = stats(&Latency::Normal {
            mean: Dur(50_000),
            std_dev: Dur(5_000),
        });
        assert!((mean - 50_000.0).abs() < 100.0, "mean {mean}");
        assert!(hi > 65_000, "normal has spread, max {hi}");
    }

    #[test]
    fn normal_is_cut_off_at_zero() {
        let (_, lo, _) = stats(&Latency::Normal {
            mean: Dur(1_000),
            std_dev: Dur(5_000),
        });
        assert_eq!(lo, 0);
    }
}
