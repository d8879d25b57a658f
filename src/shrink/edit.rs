//! The edits the shrinker tries on a scenario: each returns a smaller or
//! simpler scenario, or None when it has nothing to change.

use crate::scenario::{Dur, Fault, FaultSpec, Latency, Probability, Scenario, Shape, SignedDur, Target};

/// The scenario on `k` nodes: faults that name a node from `k` on lose
/// it, and vanish if nothing is left of them.
pub fn with_nodes(s: &Scenario, k: u32) -> Option<Scenario> {
    if k == 0 || k >= s.nodes {
        return None;
    }
    let faults = s
        .faults
        .iter()
        .filter_map(|f| match f {
            FaultSpec::At(at, fault) => fault_within(fault, k).map(|f| FaultSpec::At(*at, f)),
            random => Some(random.clone()),
        })
        .collect();
    Some(Scenario {
        nodes: k,
        faults,
        ..s.clone()
    })
}

/// `fault` with only nodes below `k`; None if that leaves nothing.
fn fault_within(fault: &Fault, k: u32) -> Option<Fault> {
    let links = |l: &[(u32, u32)]| {
        let kept: Vec<(u32, u32)> = l.iter().copied().filter(|(a, b)| *a < k && *b < k).collect();
        (!kept.is_empty()).then_some(kept)
    };
    Some(match fault {
        Fault::Partition(Shape::Isolate(t)) => Fault::Partition(Shape::Isolate(target_within(t, k)?)),
        Fault::Partition(Shape::Groups(groups)) => {
            let kept: Vec<Vec<u32>> = groups
                .iter()
                .map(|g| g.iter().copied().filter(|n| *n < k).collect::<Vec<u32>>())
                .filter(|g| !g.is_empty())
                .collect();
            if kept.len() < 2 {
                return None;
            }
            Fault::Partition(Shape::Groups(kept))
        }
        Fault::PartitionOneWay { from, to } => Fault::PartitionOneWay {
            from: target_within(from, k)?,
            to: target_within(to, k)?,
        },
        Fault::CutLinks(l) => Fault::CutLinks(links(l)?),
        Fault::CutLinksOneWay(l) => Fault::CutLinksOneWay(links(l)?),
        Fault::HealLinks(l) => Fault::HealLinks(links(l)?),
        Fault::Crash(t) => Fault::Crash(target_within(t, k)?),
        Fault::Restart(t) => Fault::Restart(target_within(t, k)?),
        Fault::Pause(t) => Fault::Pause(target_within(t, k)?),
        Fault::Resume(t) => Fault::Resume(target_within(t, k)?),
        Fault::ClockJump(t, by) => Fault::ClockJump(target_within(t, k)?, *by),
        other => other.clone(),
    })
}

fn target_within(t: &Target, k: u32) -> Option<Target> {
    match t {
        Target::Node(n) => (*n < k).then_some(Target::Node(*n)),
        Target::Nodes(ns) => {
            let kept: Vec<u32> = ns.iter().copied().filter(|n| *n < k).collect();
            (!kept.is_empty()).then_some(Target::Nodes(kept))
        }
        symbolic => Some(symbolic.clone()),
    }
}

/// The cuts of fault `i` narrowed to the links of one node, for each node
/// it cuts (fewest links first): one node isolated instead of a shape.
pub fn isolations(s: &Scenario, i: usize) -> Vec<Scenario> {
    let FaultSpec::At(at, Fault::CutLinks(links)) = &s.faults[i] else {
        return Vec::new();
    };
    let mut nodes: Vec<u32> = links.iter().flat_map(|(a, b)| [*a, *b]).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let mut out: Vec<Vec<(u32, u32)>> = nodes
        .iter()
        .map(|x| links.iter().copied().filter(|(a, b)| a == x || b == x).collect())
        .filter(|l: &Vec<(u32, u32)>| l.len() < links.len())
        .collect();
    out.sort_by_key(Vec::len);
    out.into_iter()
        .map(|l| {
            let mut c = s.clone();
            c.faults[i] = FaultSpec::At(*at, Fault::CutLinks(l));
            c
        })
        .collect()
}

/// Fault `i` moved halfway toward the fault before it (or the start):
/// partitions shorten when their heals move, and times get rounder.
pub fn earlier(s: &Scenario, i: usize) -> Option<Scenario> {
    let FaultSpec::At(at, fault) = &s.faults[i] else {
        return None;
    };
    let before = s.faults[..i].iter().rev().find_map(|f| match f {
        FaultSpec::At(t, _) => Some(t.0),
        FaultSpec::Random(_) => None,
    });
    let floor = before.unwrap_or(0);
    // Whole milliseconds, so that shrunk scenarios read easily.
    let mid = (floor + (at.0 - floor) / 2) / 1_000_000 * 1_000_000;
    if mid <= floor || at.0 - mid < 1_000_000 {
        return None;
    }
    let mut c = s.clone();
    c.faults[i] = FaultSpec::At(Dur(mid.max(floor)), fault.clone());
    Some(c)
}

/// Fault `i` at the time of the fault before it (or 1ms into the run):
/// the largest step [`earlier`] could take.
pub fn earliest(s: &Scenario, i: usize) -> Option<Scenario> {
    let FaultSpec::At(at, fault) = &s.faults[i] else {
        return None;
    };
    let before = s.faults[..i].iter().rev().find_map(|f| match f {
        FaultSpec::At(t, _) => Some(t.0),
        FaultSpec::Random(_) => None,
    });
    let floor = before.unwrap_or(1_000_000);
    if floor >= at.0 {
        return None;
    }
    let mut c = s.clone();
    c.faults[i] = FaultSpec::At(Dur(floor), fault.clone());
    Some(c)
}

/// Fault `i` and every fault after it moved earlier together, so that
/// the gap before fault `i` shrinks to `gap_ns` (rounded to whole
/// milliseconds): a quiet stretch goes while the faults' order and
/// spacing after it stay, and the fault phase can shorten behind them.
pub fn gap_closed(s: &Scenario, i: usize, gap_ns: u64) -> Option<Scenario> {
    let FaultSpec::At(at, _) = &s.faults[i] else {
        return None;
    };
    let floor = at.0 - gap_before(s, i)?;
    let target = (floor + gap_ns) / 1_000_000 * 1_000_000;
    // At least a millisecond, so that the search ends.
    if at.0 < target + 1_000_000 {
        return None;
    }
    let by = at.0 - target;
    let mut c = s.clone();
    for f in &mut c.faults[i..] {
        if let FaultSpec::At(t, _) = f {
            t.0 = t.0.saturating_sub(by).max(floor);
        }
    }
    debug_assert!(c.faults.len() == s.faults.len(), "a shift keeps every fault");
    Some(c)
}

/// The time between scripted fault `i` and the one before it (or 1ms
/// into the run); None if there is no such fault or it is not scripted.
pub fn gap_before(s: &Scenario, i: usize) -> Option<u64> {
    let Some(FaultSpec::At(at, _)) = s.faults.get(i) else {
        return None;
    };
    let before = s.faults[..i].iter().rev().find_map(|f| match f {
        FaultSpec::At(t, _) => Some(t.0),
        FaultSpec::Random(_) => None,
    });
    Some(at.0.saturating_sub(before.unwrap_or(1_000_000)))
}

/// A clock jump of half the size.
pub fn smaller_jump(s: &Scenario, i: usize) -> Option<Scenario> {
    let FaultSpec::At(at, Fault::ClockJump(t, by)) = &s.faults[i] else {
        return None;
    };
    let half = by.0 / 2 / 1_000_000 * 1_000_000;
    if half == 0 {
        return None;
    }
    let mut c = s.clone();
    c.faults[i] = FaultSpec::At(*at, Fault::ClockJump(t.clone(), SignedDur(half)));
    Some(c)
}

/// The network and clocks made plainer, one thing at a time: no loss, no
/// duplication, no tail, no per-link settings, constant latency, no drift,
/// no offset. Each is returned only if it changes something.
pub fn plainer(s: &Scenario) -> Vec<(&'static str, Scenario)> {
    let mut out = Vec::new();
    let mut push = |what: &'static str, c: Scenario| out.push((what, c));
    let n = &s.network;
    if n.loss.0 > 0.0 {
        let mut c = s.clone();
        c.network.loss = Probability(0.0);
        push("message loss set to 0", c);
    }
    if n.duplicate.0 > 0.0 {
        let mut c = s.clone();
        c.network.duplicate = Probability(0.0);
        push("duplication set to 0", c);
    }
    if n.tail.is_some() {
        let mut c = s.clone();
        c.network.tail = None;
        push("latency tail removed", c);
    }
    if !n.links.is_empty() {
        let mut c = s.clone();
        c.network.links.clear();
        push("per-link settings removed", c);
    }
    if !matches!(n.latency, Latency::Constant(_)) {
        let mut c = s.clone();
        c.network.latency = Latency::Constant(Dur::from_millis(1));
        push("latency made a constant 1ms", c);
    }
    if s.clocks.drift_ppm != (0, 0) {
        let mut c = s.clone();
        c.clocks.drift_ppm = (0, 0);
        push("clock drift set to 0", c);
    }
    if s.clocks.offset != (SignedDur(0), SignedDur(0)) {
        let mut c = s.clone();
        c.clocks.offset = (SignedDur(0), SignedDur(0));
        push("clock offsets set to 0", c);
    }
    out
}

/// The workload cut to `ops` operations; with `spread`, paced so that
/// they reach a second past the last fault (a cap alone can end the
/// workload before the fault that mattered).
pub fn with_ops(s: &Scenario, ops: u32, spread: bool) -> Scenario {
    let mut c = s.clone();
    let span_ns = last_fault_ns(s) + 1_000_000_000;
    let w = c.workload.as_mut().expect("only a workload has operations");
    w.ops = Some(ops);
    if spread {
        let think_ns = span_ns.saturating_mul(u64::from(w.clients)) / u64::from(ops.max(1));
        w.think = Some(Dur(think_ns / 1_000_000 * 1_000_000).max(Dur::from_millis(1)));
        w.rate = None;
    }
    c
}

/// The time of the last scripted fault, if any.
pub fn last_fault_ns(s: &Scenario) -> u64 {
    let times = s.faults.iter().map(|f| match f {
        FaultSpec::At(t, _) => t.0,
        FaultSpec::Random(r) => r.stop.map_or(s.duration.0, |d| d.0),
    });
    times.max().unwrap_or(0)
}

/// The operation counts to try below `current`, smallest first: the
/// [`ladder`] from 4 without its last rung, and a half, three quarters
/// and seven eighths of `current`; not one fewer at a time, which would
/// crawl down a long workload at the price of a whole ladder per step.
pub fn op_ladder(current: u64) -> Vec<u64> {
    let mut out: Vec<u64> = ladder(current, 4).into_iter().filter(|n| *n + 1 < current).collect();
    out.extend(
        [current / 2, current * 3 / 4, current * 7 / 8]
            .into_iter()
            .filter(|n| *n >= 1 && *n < current),
    );
    out.sort_unstable();
    out.dedup();
    out
}

/// The ladder of smaller counts to try below `current`, smallest first:
/// 1, 2, 3, 5, 8, ... then `current - 1`.
pub fn ladder(current: u64, first: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let (mut a, mut b) = (first, first + 1);
    while a < current {
        out.push(a);
        (a, b) = (b, a + b);
    }
    if current > first && out.last() != Some(&(current - 1)) {
        out.push(current - 1);
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(faults: &str) -> Scenario {
        let src = format!("Scenario(name: \"s\", protocol: Single, nodes: 5, duration: \"10s\", faults: {faults})");
        crate::scenario::parse("s.ron", &src).unwrap().spec
    }

    #[test]
    fn fewer_nodes_drop_what_names_the_others() {
        let s = scenario(
            "[At(\"1s\", CutLinks([(0, 4), (4, 0), (1, 2)])), At(\"2s\", Crash(Node(4))), At(\"3s\", Partition(Groups([[0, 1], [3, 4]])))]",
        );
        let c = with_nodes(&s, 3).unwrap();
        assert_eq!(c.nodes, 3);
        assert_eq!(c.faults.len(), 1, "{:?}", c.faults);
        assert!(matches!(&c.faults[0], FaultSpec::At(_, Fault::CutLinks(l)) if *l == [(1, 2)]));
        assert!(with_nodes(&s, 5).is_none() && with_nodes(&s, 0).is_none());
    }

    #[test]
    fn a_shape_narrows_to_one_node_and_faults_move_earlier() {
        let s = scenario("[At(\"1s\", CutLinks([(0, 1), (1, 0), (0, 2), (2, 0), (1, 3)])), At(\"3s\", Heal)]");
        let first = &isolations(&s, 0)[0];
        assert!(matches!(&first.faults[0], FaultSpec::At(_, Fault::CutLinks(l)) if l.len() == 1));
        let e = earlier(&s, 1).unwrap();
        assert!(matches!(&e.faults[1], FaultSpec::At(t, Fault::Heal) if t.0 == 2_000_000_000));
        assert!(matches!(&earlier(&s, 0).unwrap().faults[0], FaultSpec::At(t, _) if t.0 == 500_000_000));
    }

    #[test]
    fn closing_a_gap_moves_the_faults_after_it_along() {
        let s = scenario("[At(\"1s\", Crash(Node(1))), At(\"5s\", Restart(Node(1))), At(\"5.5s\", Heal)]");
        let at = |c: &Scenario| -> Vec<u64> {
            c.faults
                .iter()
                .map(|f| match f {
                    FaultSpec::At(t, _) => t.0 / 1_000_000,
                    FaultSpec::Random(_) => unreachable!(),
                })
                .collect()
        };
        assert_eq!(gap_before(&s, 1), Some(4_000_000_000));
        assert_eq!(at(&gap_closed(&s, 1, 0).unwrap()), [1000, 1000, 1500]);
        assert_eq!(at(&gap_closed(&s, 1, 2_000_000_000).unwrap()), [1000, 3000, 3500]);
        assert_eq!(at(&gap_closed(&s, 0, 0).unwrap()), [1, 4001, 4501]);
        assert!(gap_closed(&s, 1, 4_000_000_000).is_none(), "nothing to close");
        assert!(gap_before(&s, 3).is_none() && gap_before(&scenario("[]"), 0).is_none());
    }

    #[test]
    fn the_ladder_climbs_from_small_counts() {
        assert_eq!(ladder(10, 1), [1, 2, 3, 5, 8, 9]);
        assert_eq!(ladder(2, 1), [1]);
        assert!(ladder(1, 1).is_empty());
        assert_eq!(op_ladder(100), [4, 5, 9, 14, 23, 37, 50, 60, 75, 87, 97]);
        assert_eq!(op_ladder(5), [2, 3, 4]);
    }
}
