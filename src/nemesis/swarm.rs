//! Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012; TigerBeetle's
//! VOPR and FoundationDB's BUGGIFY do the like): each seed runs its own
//! variant of the scenario, with whole fault kinds switched off and rates
//! drawn from extremes. A bug that needs many crashes and no partitions, or
//! heavy loss and nothing else, meets that configuration in some seeds,
//! where a sweep of one tuned mix may dilute it away.
//!
//! The variant is drawn from the seed's own `swarm` stream, so it depends
//! only on (scenario, seed): `simulate run FILE --seed N --swarm` and the
//! report's repro (which holds the variant's text) play it again.
//!
//! Kinds, each kept or switched off with even odds: partitions (every
//! partition and heal), crashes (with their restarts), pauses (with their
//! resumes), clock jumps, message loss, duplication, clock drift and
//! offsets. Each kept rate gets a level: low (a quarter), middle (as
//! written) or high (four times, within the bounds validation allows);
//! random fault generators get a frequency the same way (four times rarer,
//! as written, four times more often). Drift never goes above what the
//! scenario wrote: a protocol may be configured for it (a lease's drift
//! bound), and more would be a false alarm.
//!
//! One seed in [`AS_WRITTEN_EVERY`] (those divisible by it, seed 0 among
//! them) runs the scenario as written: the tuned mix is one point of the
//! swarm, and without it a bug that mix finds at once would wait for a
//! variant close enough to it (all seven kinds kept at middle levels is
//! one draw in about 300,000). So a swarm sweep finds such a bug as soon
//! as a plain one, and the rest of its seeds explore.

use crate::env::rng::{stream, SimRng};
use crate::scenario::validate::DRIFT_PPM_MAX;
use crate::scenario::{Dur, Fault, FaultKind, FaultSpec, Probability, Scenario, SignedDur};
use rand::Rng;

/// A fault kind swarm testing switches as a whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Partition,
    Crash,
    Pause,
    ClockJump,
    Loss,
    Duplication,
    Drift,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Partition,
        Kind::Crash,
        Kind::Pause,
        Kind::ClockJump,
        Kind::Loss,
        Kind::Duplication,
        Kind::Drift,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Partition => "partitions",
            Kind::Crash => "crashes",
            Kind::Pause => "pauses",
            Kind::ClockJump => "clock jumps",
            Kind::Loss => "loss",
            Kind::Duplication => "duplication",
            Kind::Drift => "drift",
        }
    }

    fn of_fault(f: &Fault) -> Kind {
        match f {
            Fault::Partition(_)
            | Fault::PartitionOneWay { .. }
            | Fault::Heal
            | Fault::CutLinks(_)
            | Fault::CutLinksOneWay(_)
            | Fault::HealLinks(_) => Kind::Partition,
            Fault::Crash(_) | Fault::Restart(_) => Kind::Crash,
            Fault::Pause(_) | Fault::Resume(_) => Kind::Pause,
            Fault::ClockJump(..) => Kind::ClockJump,
        }
    }

    fn of_random(k: FaultKind) -> Kind {
        match k {
            FaultKind::Partition | FaultKind::PartitionOneWay => Kind::Partition,
            FaultKind::Crash => Kind::Crash,
            FaultKind::Pause => Kind::Pause,
            FaultKind::ClockJump => Kind::ClockJump,
        }
    }

    /// Whether `s` has faults of this kind at all.
    fn in_scenario(self, s: &Scenario) -> bool {
        let in_faults = s.faults.iter().any(|f| match f {
            FaultSpec::At(_, fault) => Kind::of_fault(fault) == self,
            FaultSpec::Random(r) => r.kinds.iter().any(|k| Kind::of_random(*k) == self),
        });
        let links = &s.network.links;
        in_faults
            || match self {
                Kind::Loss => s.network.loss.0 > 0.0 || links.iter().any(|l| l.loss.is_some_and(|p| p.0 > 0.0)),
                Kind::Duplication => {
                    s.network.duplicate.0 > 0.0 || links.iter().any(|l| l.duplicate.is_some_and(|p| p.0 > 0.0))
                }
                Kind::Drift => s.clocks.drift_ppm != (0, 0) || s.clocks.offset != (SignedDur(0), SignedDur(0)),
                _ => false,
            }
    }
}

/// How strongly a kept kind is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Low,
    Middle,
    High,
}

impl Level {
    fn draw(rng: &mut SimRng) -> Level {
        [Level::Low, Level::Middle, Level::High][rng.gen_range(0..3)]
    }

    /// The factor on a rate.
    fn factor(self) -> f64 {
        match self {
            Level::Low => 0.25,
            Level::Middle => 1.0,
            Level::High => 4.0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Level::Low => "low",
            Level::Middle => "middle",
            Level::High => "high",
        }
    }
}

/// Seeds divisible by this run the scenario as written (see the module
/// comment).
pub const AS_WRITTEN_EVERY: u64 = 4;

/// Seed `seed`'s variant of `s`, and one line saying what it changed.
pub fn variant(s: &Scenario, seed: u64) -> (Scenario, String) {
    if seed.is_multiple_of(AS_WRITTEN_EVERY) {
        let what = format!("swarm variant of seed {seed}: the scenario as written (one seed in {AS_WRITTEN_EVERY})");
        return (described(s, s.clone(), &what), what);
    }
    let mut rng = stream(seed, "swarm");
    let mut v = s.clone();
    let (mut off, mut levels) = (Vec::new(), Vec::new());
    for kind in Kind::ALL {
        // Both draws are made for every kind, present or not, so that the
        // choice for one kind does not depend on which others exist.
        let keep = rng.gen_bool(0.5);
        let level = Level::draw(&mut rng);
        if !kind.in_scenario(s) {
            continue;
        }
        // Drift above what the scenario wrote could exceed a bound the
        // protocol was configured for (a lease's): never more than written.
        let level = if kind == Kind::Drift && level == Level::High {
            Level::Middle
        } else {
            level
        };
        if keep {
            if apply_level(&mut v, kind, level) {
                levels.push(format!("{} {}", kind.name(), level.name()));
            }
        } else {
            switch_off(&mut v, kind);
            off.push(kind.name());
        }
    }
    let frequency = Level::draw(&mut rng);
    if v.faults.iter().any(|f| matches!(f, FaultSpec::Random(_))) {
        random_frequency(&mut v, frequency);
        levels.push(format!("random faults {}", frequency.name()));
    }
    let what = format!(
        "swarm variant of seed {seed}: off [{}]; {}",
        off.join(", "),
        if levels.is_empty() {
            "nothing else".to_string()
        } else {
            levels.join(", ")
        }
    );
    (described(s, v, &what), what)
}

/// `v` with `s`'s description followed by `what`.
fn described(s: &Scenario, mut v: Scenario, what: &str) -> Scenario {
    v.description = match s.description.is_empty() {
        true => what.to_string(),
        false => format!("{} ({what})", s.description),
    };
    v
}

fn switch_off(v: &mut Scenario, kind: Kind) {
    v.faults.retain_mut(|f| match f {
        FaultSpec::At(_, fault) => Kind::of_fault(fault) != kind,
        FaultSpec::Random(r) => {
            r.kinds.retain(|k| Kind::of_random(*k) != kind);
            !r.kinds.is_empty()
        }
    });
    let n = &mut v.network;
    match kind {
        Kind::Loss => {
            n.loss = Probability(0.0);
            n.links.iter_mut().for_each(|l| l.loss = None);
        }
        Kind::Duplication => {
            n.duplicate = Probability(0.0);
            n.links.iter_mut().for_each(|l| l.duplicate = None);
        }
        Kind::Drift => {
            v.clocks.drift_ppm = (0, 0);
            v.clocks.offset = (SignedDur(0), SignedDur(0));
        }
        _ => {}
    }
}

/// Applies `level` to `kind`'s rate; false for kinds without one.
fn apply_level(v: &mut Scenario, kind: Kind, level: Level) -> bool {
    let scale = |p: Probability| Probability((p.0 * level.factor()).min(0.5));
    let n = &mut v.network;
    match kind {
        Kind::Loss => {
            n.loss = scale(n.loss);
            n.links.iter_mut().for_each(|l| l.loss = l.loss.map(scale));
        }
        Kind::Duplication => {
            n.duplicate = scale(n.duplicate);
            n.links.iter_mut().for_each(|l| l.duplicate = l.duplicate.map(scale));
        }
        Kind::Drift => {
            let ppm = |x: i64| ((x as f64 * level.factor()) as i64).clamp(-DRIFT_PPM_MAX, DRIFT_PPM_MAX);
            v.clocks.drift_ppm = (ppm(v.clocks.drift_ppm.0), ppm(v.clocks.drift_ppm.1));
        }
        // Scripted faults have no rate; generators get one frequency.
        _ => return false,
    }
    true
}

/// Random generators fire four times rarer, as written, or four times
/// more often.
fn random_frequency(v: &mut Scenario, level: Level) {
    let gap = |d: Dur| Dur(((d.0 as f64 / level.factor()) as u64).max(1_000_000));
    for f in &mut v.faults {
        if let FaultSpec::Random(r) = f {
            r.every = (gap(r.every.0), gap(r.every.1));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        let src = r#"Scenario(name: "s", protocol: Single, nodes: 3, duration: "10s",
            network: (loss: 0.02, duplicate: 0.01),
            clocks: (drift_ppm: (-100, 100)),
            faults: [At("1s", Crash(Node(1))), At("2s", Restart(Node(1))), At("3s", Partition(Majority)), At("4s", Heal),
                     Random(every: ("100ms", "200ms"), kinds: [Pause, ClockJump])])"#;
        crate::scenario::parse("s.ron", src).unwrap().spec
    }

    #[test]
    fn a_variant_depends_only_on_the_seed_and_switches_whole_kinds() {
        let s = scenario();
        let (a, what) = variant(&s, 7);
        let (b, again) = variant(&s, 7);
        assert_eq!(
            (crate::scenario::write::to_ron(&a), &what),
            (crate::scenario::write::to_ron(&b), &again)
        );
        let variants: Vec<(Scenario, String)> = (0..40).map(|seed| variant(&s, seed)).collect();
        let descriptions: std::collections::BTreeSet<&String> = variants.iter().map(|v| &v.1).collect();
        assert!(descriptions.len() > 20, "seeds draw different variants");
        for (seed, (v, what)) in variants.iter().enumerate().step_by(AS_WRITTEN_EVERY as usize) {
            assert_eq!(
                crate::scenario::write::to_ron(&Scenario {
                    description: s.description.clone(),
                    ..v.clone()
                }),
                crate::scenario::write::to_ron(&s),
                "seed {seed} runs the scenario as written: {what}"
            );
        }
        for (v, what) in variants.iter().filter(|(_, w)| !w.contains("as written")) {
            let crashes = v
                .faults
                .iter()
                .filter(|f| matches!(f, FaultSpec::At(_, Fault::Crash(_) | Fault::Restart(_))))
                .count();
            assert!(crashes == 0 || crashes == 2, "a crash goes with its restart: {what}");
            assert_eq!(
                crashes == 0,
                what.contains("crashes,") || what.contains("crashes]"),
                "{what}"
            );
            assert_eq!(
                v.network.loss.0 == 0.0,
                what.contains("loss,") || what.contains("loss]"),
                "{what}"
            );
            assert!(v.network.loss.0 <= 0.5 && v.description.contains(what.as_str()));
        }
        let extremes: std::collections::BTreeSet<u64> =
            variants.iter().map(|(v, _)| (v.network.loss.0 * 1e4) as u64).collect();
        assert!(
            extremes.contains(&50) && extremes.contains(&200) && extremes.contains(&800),
            "{extremes:?}"
        );
    }

    #[test]
    fn a_variant_is_a_valid_scenario() {
        let s = scenario();
        for seed in 0..20 {
            let (v, what) = variant(&s, seed);
            let text = crate::scenario::write::to_ron(&v);
            crate::scenario::parse("v.ron", &text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
        }
    }
}
