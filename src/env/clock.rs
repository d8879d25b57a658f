//! Per-node clocks on top of the global simulated time.
//!
//! A node has two clocks, as real machines do. The monotonic clock runs at
//! the node's drifting rate and never jumps; timers use it, so a node with
//! +100 ppm drift fires its timers 100 ppm early in global time. The wall
//! clock (`Ctx::now`) is the monotonic clock plus a fixed offset plus any
//! clock-jump faults: what NTP steps or an operator's `date -s` would do.
//! Integer arithmetic only, so every machine computes the same times.

use std::cell::Cell;

const PPM: i128 = 1_000_000;

/// Below this (about 73 simulated minutes), a time times a rate or a
/// million stays under 2^63: the arithmetic fits in a u64.
const EXACT_IN_U64_NS: u64 = 1 << 42;

/// One node's clocks: a monotonic clock that runs at a drifting rate, and a
/// wall clock on top of it that can be offset and jumped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Clock {
    /// How much faster than global time this clock runs, in parts per
    /// million; negative runs slow. Must stay within (-1e6, 1e6).
    pub drift_ppm: i64,
    /// Fixed difference between the wall clock and the monotonic clock,
    /// drawn once per node when the cluster starts.
    pub offset_ns: i64,
    /// Sum of all clock jumps so far.
    pub jumped_ns: i64,
    /// Some jump happened.
    jumped: bool,
    /// The wall clock was read after a jump: the jump could have mattered
    /// to the node. A `Cell` because reading a clock takes `&self`; one
    /// store per read is all it costs.
    read_after_jump: Cell<bool>,
}

impl Clock {
    /// A clock with the given drift and wall-clock offset that has not
    /// jumped yet.
    pub fn new(drift_ppm: i64, offset_ns: i64) -> Self {
        debug_assert!(drift_ppm.abs() < 1_000_000, "a clock must move forward");
        Clock {
            drift_ppm,
            offset_ns,
            jumped_ns: 0,
            jumped: false,
            read_after_jump: Cell::new(false),
        }
    }

    /// Local monotonic time at global time `global_ns`.
    pub fn monotonic_ns(&self, global_ns: u64) -> u64 {
        if global_ns < EXACT_IN_U64_NS {
            // The same integers in 64 bits: an i128 division is a call.
            return global_ns * self.rate() / PPM as u64;
        }
        saturate(i128::from(global_ns) * (PPM + i128::from(self.drift_ppm)) / PPM)
    }

    /// Local nanoseconds per million global ones, in (0, 2,000,000).
    fn rate(&self) -> u64 {
        debug_assert!(self.drift_ppm.abs() < 1_000_000, "a clock must move forward");
        (PPM as i64 + self.drift_ppm) as u64
    }

    /// Local wall-clock time at global time `global_ns`; may be negative.
    pub fn wall_ns(&self, global_ns: u64) -> i64 {
        if self.jumped {
            self.read_after_jump.set(true);
        }
        let mono = i64::try_from(self.monotonic_ns(global_ns)).unwrap_or(i64::MAX);
        mono.saturating_add(self.offset_ns).saturating_add(self.jumped_ns)
    }

    /// How much global time passes while this clock measures `local_ns`.
    /// Rounded up: a timer never fires before its local duration is over.
    pub fn global_span_ns(&self, local_ns: u64) -> u64 {
        if local_ns < EXACT_IN_U64_NS {
            let rate = self.rate();
            return (local_ns * PPM as u64).div_ceil(rate);
        }
        let rate = PPM + i128::from(self.drift_ppm);
        saturate((i128::from(local_ns) * PPM + rate - 1) / rate)
    }

    /// Steps the wall clock by `by_ns` (backwards if negative), as a clock
    /// fault does; the monotonic clock and timers are not affected.
    pub fn jump(&mut self, by_ns: i64) {
        self.jumped_ns = self.jumped_ns.saturating_add(by_ns);
        self.jumped = true;
    }

    /// Whether the wall clock was read after a jump (the coverage of clock
    /// jumps: a jump no one read had no effect). The monotonic clock and
    /// timers never see a jump, so only wall-clock reads count.
    pub fn read_after_jump(&self) -> bool {
        self.read_after_jump.get()
    }
}

/// A node's clock over a whole run, for showing local times beside global
/// ones: its drift and offset, and every jump with when it happened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClockRecord {
    /// The node's clock drift, as in [`Clock::drift_ppm`].
    pub drift_ppm: i64,
    /// The node's wall-clock offset, as in [`Clock::offset_ns`].
    pub offset_ns: i64,
    /// (trace sequence number of the jump's event, by how much), in order.
    pub jumps: Vec<(u64, i64)>,
}

impl ClockRecord {
    /// The node's wall clock at trace event `seq`, which happened at
    /// global time `global_ns`: jumps count from their own event on.
    pub fn wall_ns(&self, seq: u64, global_ns: u64) -> i64 {
        let mut clock = Clock::new(self.drift_ppm, self.offset_ns);
        for &(_, by) in self.jumps.iter().take_while(|(at, _)| *at <= seq) {
            clock.jump(by);
        }
        clock.wall_ns(global_ns)
    }
}

fn saturate(x: i128) -> u64 {
    u64::try_from(x.max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drift_scales_local_time() {
        let fast = Clock::new(100_000, 0);
        assert_eq!(fast.monotonic_ns(1_000_000_000), 1_100_000_000);
        assert_eq!(fast.global_span_ns(1_000_000_000), 909_090_910);
        let slow = Clock::new(-100_000, 0);
        assert_eq!(slow.global_span_ns(900_000_000), 1_000_000_000);
        assert_eq!(Clock::new(0, 0).global_span_ns(5), 5);
    }

    #[test]
    fn the_64_bit_path_gives_what_128_bits_give() {
        let wide_mono = |c: &Clock, g: u64| saturate(i128::from(g) * (PPM + i128::from(c.drift_ppm)) / PPM);
        let wide_span = |c: &Clock, l: u64| {
            let rate = PPM + i128::from(c.drift_ppm);
            saturate((i128::from(l) * PPM + rate - 1) / rate)
        };
        let mut rng = crate::env::rng::stream(7, "clock-test");
        let drifts = [-999_999, -500_000, -1, 0, 1, 123, 999_999];
        let edges = [
            0,
            1,
            999_999,
            EXACT_IN_U64_NS - 1,
            EXACT_IN_U64_NS,
            u64::MAX / 3,
            u64::MAX,
        ];
        for drift in drifts {
            let c = Clock::new(drift, 0);
            let randoms = (0..200).map(|_| rand::Rng::gen_range(&mut rng, 0..EXACT_IN_U64_NS));
            for t in edges.into_iter().chain(randoms) {
                assert_eq!(c.monotonic_ns(t), wide_mono(&c, t), "drift {drift} at {t}");
                assert_eq!(c.global_span_ns(t), wide_span(&c, t), "drift {drift} span {t}");
            }
        }
    }

    #[test]
    fn a_record_replays_jumps_in_time_order() {
        let r = ClockRecord {
            drift_ppm: 100_000,
            offset_ns: 5,
            jumps: vec![(10, 50), (20, -500)],
        };
        assert_eq!(r.wall_ns(9, 1_000), 1_100 + 5);
        assert_eq!(r.wall_ns(10, 1_000), 1_100 + 5 + 50);
        assert_eq!(r.wall_ns(25, 2_000), 2_200 + 5 + 50 - 500);
    }

    #[test]
    fn jumps_and_offsets_move_only_the_wall_clock() {
        let mut c = Clock::new(0, -50);
        c.jump(1_000);
        assert_eq!(c.wall_ns(100), 1_050);
        assert_eq!(c.monotonic_ns(100), 100);
        c.jump(-2_000);
        assert_eq!(c.wall_ns(100), -950);
    }

    #[test]
    fn only_a_wall_clock_read_after_a_jump_sees_it() {
        let mut c = Clock::new(0, 0);
        c.wall_ns(5);
        c.jump(1_000);
        c.monotonic_ns(10);
        c.global_span_ns(10);
        assert!(!c.read_after_jump(), "a read before the jump, and no wall read after");
        c.wall_ns(20);
        assert!(c.read_after_jump());
    }
}
