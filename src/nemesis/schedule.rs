//! The schedule a run played, written as a scenario's `faults` list: one
//! `At` per fault, with every random choice resolved (which node, which
//! links, how far a clock jumped). A scenario that takes this list instead
//! of its generators plays the same faults.

use crate::scenario::write::fault_ron;
use crate::scenario::{Dur, Fault};

/// `[At("1.2s", Crash(Node(3))), ...]`, one fault per line.
pub fn to_ron(schedule: &[(u64, Fault)]) -> String {
    let mut out = String::from("[\n");
    for (at_ns, fault) in schedule {
        out.push_str(&format!("  At(\"{}\", {}),\n", Dur(*at_ns), fault_ron(fault)));
    }
    out.push_str("]\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Shape, SignedDur, Target};

    #[test]
    fn a_schedule_reads_back_as_a_scenarios_faults() {
        let schedule = vec![
            (1_500_000_000, Fault::Crash(Target::Node(3))),
            (2_000_000_001, Fault::CutLinks(vec![(0, 1), (1, 0)])),
            (2_100_000_000, Fault::CutLinksOneWay(vec![(2, 3)])),
            (
                2_500_000_000,
                Fault::ClockJump(Target::Node(0), SignedDur(-2_000_000_000)),
            ),
            (2_600_000_000, Fault::HealLinks(vec![(0, 1)])),
            (
                2_700_000_000,
                Fault::PartitionOneWay {
                    from: Target::Nodes(vec![1]),
                    to: Target::All,
                },
            ),
            (
                2_800_000_000,
                Fault::Partition(Shape::Groups(vec![vec![0], vec![1, 2]])),
            ),
            (3_000_000_000, Fault::Restart(Target::Node(3))),
        ];
        let text = to_ron(&schedule);
        let src = format!("Scenario(name: \"s\", protocol: Single, nodes: 4, duration: \"5s\", faults: {text})");
        let parsed = crate::scenario::parse("s.ron", &src).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let back: Vec<(u64, Fault)> = parsed
            .spec
            .faults
            .iter()
            .map(|f| match f {
                crate::scenario::FaultSpec::At(at, fault) => (at.0, fault.clone()),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(back, schedule);
    }
}
