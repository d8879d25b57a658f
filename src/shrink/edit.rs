//! The edits the shrinker tries on a scenario: each returns a smaller or
//! simpler scenario, or None when it has nothing to change.

use crate::scenario::{Dur, Fault, FaultSpec, Latency, LinkSpec, Probability, Scenario, Shape, SignedDur, Target};

/// The scenario on `k` nodes: faults that name a node from `k` on lose
/// it, and vanish if nothing is left of them.
pub fn with_nodes(s: &Scenario, k: u32) -> Option<Scenario> {
    let keep: Vec<u32> = (0..k).collect();
    with_nodes_kept(s, &keep)
}

/// The scenario on the nodes `keep` only (increasing, a proper non-empty
/// subset of its nodes), renumbered in order: `keep[j]` becomes node `j`
/// in every fault and per-link setting. What names a dropped node loses
/// it, and vanishes if nothing is left of it; so the nodes a failure
/// involves can stay whatever their numbers, where dropping the highest
/// numbers would take the faults' nodes with them.
pub fn with_nodes_kept(s: &Scenario, keep: &[u32]) -> Option<Scenario> {
    let k = u32::try_from(keep.len()).ok()?;
    if k == 0 || k >= s.nodes {
        return None;
    }
    assert!(
        keep.windows(2).all(|w| w[0] < w[1]) && keep[keep.len() - 1] < s.nodes,
        "kept nodes increase and exist: {keep:?}"
    );
    let map = |n: u32| keep.binary_search(&n).ok().map(|j| j as u32);
    let faults = s
        .faults
        .iter()
        .filter_map(|f| match f {
            FaultSpec::At(at, fault) => fault_mapped(fault, &map).map(|f| FaultSpec::At(*at, f)),
            random => Some(random.clone()),
        })
        .collect();
    let mut network = s.network.clone();
    network.links = network
        .links
        .iter()
        .filter_map(|l| {
            let from: Vec<u32> = l.from.iter().filter_map(|n| map(*n)).collect();
            let to: Vec<u32> = l.to.iter().filter_map(|n| map(*n)).collect();
            (!from.is_empty() && !to.is_empty()).then(|| LinkSpec { from, to, ..l.clone() })
        })
        .collect();
    Some(Scenario {
        nodes: k,
        faults,
        network,
        ..s.clone()
    })
}

/// The node sets of size `k` to try, at most `most` of them: those that
/// keep more of the nodes the faults name first (so a fault stays whole),
/// then in increasing order, so `0..k` leads among equals.
pub fn node_sets(s: &Scenario, k: u32, most: usize) -> Vec<Vec<u32>> {
    let named = named_nodes(s);
    let mut sets = subsets(s.nodes, k);
    // A stable sort keeps the increasing order among sets that keep as many.
    sets.sort_by_key(|set| std::cmp::Reverse(set.iter().filter(|n| named.contains(n)).count()));
    sets.truncate(most);
    sets
}

/// The nodes the scripted faults name, each once, in increasing order.
fn named_nodes(s: &Scenario) -> Vec<u32> {
    let named = std::cell::RefCell::new(Vec::new());
    for f in &s.faults {
        if let FaultSpec::At(_, fault) = f {
            fault_mapped(fault, &|n| {
                named.borrow_mut().push(n);
                Some(n)
            });
        }
    }
    let mut named = named.into_inner();
    named.sort_unstable();
    named.dedup();
    named
}

/// Every `k`-subset of `0..n`, each increasing, in lexicographic order.
fn subsets(n: u32, k: u32) -> Vec<Vec<u32>> {
    let mut out = Vec::new();
    let mut set: Vec<u32> = (0..k).collect();
    if k == 0 || k > n {
        return out;
    }
    loop {
        out.push(set.clone());
        // The rightmost element that can still move right, moved, and the
        // ones after it packed behind it.
        let Some(i) = (0..k as usize).rev().find(|&i| set[i] < n - k + i as u32) else {
            return out;
        };
        set[i] += 1;
        for j in i + 1..k as usize {
            set[j] = set[j - 1] + 1;
        }
    }
}

/// `fault` with each node it names passed through `map`: those mapped to
/// None go; None if that leaves nothing of the fault.
fn fault_mapped(fault: &Fault, map: &dyn Fn(u32) -> Option<u32>) -> Option<Fault> {
    let links = |l: &[(u32, u32)]| {
        let kept: Vec<(u32, u32)> = l.iter().filter_map(|(a, b)| Some((map(*a)?, map(*b)?))).collect();
        (!kept.is_empty()).then_some(kept)
    };
    let target = |t: &Target| target_mapped(t, map);
    Some(match fault {
        Fault::Partition(Shape::Isolate(t)) => Fault::Partition(Shape::Isolate(target(t)?)),
        Fault::Partition(Shape::Groups(groups)) => {
            let kept: Vec<Vec<u32>> = groups
                .iter()
                .map(|g| g.iter().filter_map(|n| map(*n)).collect::<Vec<u32>>())
                .filter(|g| !g.is_empty())
                .collect();
            if kept.len() < 2 {
                return None;
            }
            Fault::Partition(Shape::Groups(kept))
        }
        Fault::PartitionOneWay { from, to } => Fault::PartitionOneWay {
            from: target(from)?,
            to: target(to)?,
        },
        Fault::CutLinks(l) => Fault::CutLinks(links(l)?),
        Fault::CutLinksOneWay(l) => Fault::CutLinksOneWay(links(l)?),
        Fault::HealLinks(l) => Fault::HealLinks(links(l)?),
        Fault::Crash(t) => Fault::Crash(target(t)?),
        Fault::Restart(t) => Fault::Restart(target(t)?),
        Fault::Pause(t) => Fault::Pause(target(t)?),
        Fault::Resume(t) => Fault::Resume(target(t)?),
        Fault::ClockJump(t, by) => Fault::ClockJump(target(t)?, *by),
        other => other.clone(),
    })
}

fn target_mapped(t: &Target, map: &dyn Fn(u32) -> Option<u32>) -> Option<Target> {
    match t {
        Target::Node(n) => map(*n).map(Target::Node),
        Target::Nodes(ns) => {
            let kept: Vec<u32> = ns.iter().filter_map(|n| map(*n)).collect();
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

/// Every directed link between node `n` and the other nodes of `nodes`:
/// what isolating it cuts.
fn links_of(nodes: u32, n: u32) -> Vec<(u32, u32)> {
    (0..nodes).filter(|&m| m != n).flat_map(|m| [(n, m), (m, n)]).collect()
}

/// The links scripted fault `i` takes out of service, if it is a cut of
/// known links: those `CutLinks` names, those of the one node a
/// `Partition(Isolate(Node(n)))` isolates, or those of the one node a
/// `Pause(Node(n))` stops (a paused node hears and answers nobody, as an
/// isolated one; what was sent to it waits, where a cut drops it). With
/// the fault's time.
fn cut_at(s: &Scenario, i: usize) -> Option<(Dur, Vec<(u32, u32)>)> {
    let FaultSpec::At(at, fault) = &s.faults[i] else {
        return None;
    };
    let links = match fault {
        Fault::CutLinks(l) => l.clone(),
        Fault::Partition(Shape::Isolate(Target::Node(n))) | Fault::Pause(Target::Node(n)) => links_of(s.nodes, *n),
        _ => return None,
    };
    Some((*at, links))
}

/// The fault after `k` that resumes node `n`, if the first one that names
/// it at all is exactly `Resume(Node(n))`; None if none resumes it (it
/// stays paused until recovery), Err if another target resumes it.
fn resume_of(s: &Scenario, k: usize, n: u32) -> Result<Option<usize>, ()> {
    for (r, f) in s.faults.iter().enumerate().skip(k + 1) {
        let FaultSpec::At(_, Fault::Resume(t)) = f else {
            continue;
        };
        return match t {
            Target::Node(m) if *m == n => Ok(Some(r)),
            Target::Node(_) => continue,
            Target::Nodes(ns) if !ns.contains(&n) => continue,
            _ => Err(()),
        };
    }
    Ok(None)
}

/// Fault `i` and the next cut after it (see [`cut_at`]) as one cut of
/// both's links: one fault fewer. First at the later one's time, then at
/// the earlier one's. A pause among them becomes its node's isolation, so
/// the `Resume(Node(n))` that ends it becomes a heal of the same links;
/// the links of the other stay cut as before. Empty if fault `i` is no
/// cut, no cut follows, or a pause is ended by a resume of another target.
pub fn merged_cuts(s: &Scenario, i: usize) -> Vec<Scenario> {
    let Some((ti, li)) = cut_at(s, i) else {
        return Vec::new();
    };
    let Some(j) = (i + 1..s.faults.len()).find(|&j| cut_at(s, j).is_some()) else {
        return Vec::new();
    };
    let (tj, lj) = cut_at(s, j).expect("found as a cut");
    let mut union = li;
    for l in lj {
        if !union.contains(&l) {
            union.push(l);
        }
    }
    let mut base = s.clone();
    for k in [i, j] {
        let FaultSpec::At(_, Fault::Pause(Target::Node(n))) = &s.faults[k] else {
            continue;
        };
        match resume_of(s, k, *n) {
            Ok(Some(r)) => {
                let FaultSpec::At(at, _) = &s.faults[r] else {
                    unreachable!("a resume found is scripted");
                };
                base.faults[r] = FaultSpec::At(*at, Fault::HealLinks(links_of(s.nodes, *n)));
            }
            Ok(None) => {}
            Err(()) => return Vec::new(),
        }
    }
    let mut later = base.clone();
    later.faults[j] = FaultSpec::At(tj, Fault::CutLinks(union.clone()));
    later.faults.remove(i);
    let mut earlier = base;
    earlier.faults[i] = FaultSpec::At(ti, Fault::CutLinks(union));
    earlier.faults.remove(j);
    vec![later, earlier]
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
    fn kept_nodes_are_renumbered_in_faults_and_links() {
        let src = "Scenario(name: \"s\", protocol: Single, nodes: 5, duration: \"10s\", \
            network: (links: [(from: [4], to: [0, 2], loss: 0.5), (from: [1], to: [3], loss: 0.1)]), \
            faults: [At(\"1s\", CutLinks([(2, 4), (4, 2), (0, 4), (1, 3)])), At(\"2s\", Crash(Node(4))), \
            At(\"3s\", Partition(Groups([[0, 2], [4, 1]]))), At(\"4s\", Pause(Nodes([1, 3]))), \
            At(\"5s\", Partition(Isolate(Leader)))])";
        let s = crate::scenario::parse("s.ron", src).unwrap().spec;
        let c = with_nodes_kept(&s, &[2, 3, 4]).unwrap();
        assert_eq!(c.nodes, 3);
        let faults: Vec<&Fault> = c
            .faults
            .iter()
            .map(|f| match f {
                FaultSpec::At(_, f) => f,
                FaultSpec::Random(_) => unreachable!(),
            })
            .collect();
        // 2 -> 0, 3 -> 1, 4 -> 2; links and groups that lose an end go.
        assert_eq!(
            faults,
            [
                &Fault::CutLinks(vec![(0, 2), (2, 0)]),
                &Fault::Crash(Target::Node(2)),
                &Fault::Partition(Shape::Groups(vec![vec![0], vec![2]])),
                &Fault::Pause(Target::Nodes(vec![1])),
                &Fault::Partition(Shape::Isolate(Target::Leader)),
            ]
        );
        // Groups left with one side go.
        let one_side = with_nodes_kept(&s, &[0, 2, 3]).unwrap();
        assert!(!one_side
            .faults
            .iter()
            .any(|f| matches!(f, FaultSpec::At(_, Fault::Partition(Shape::Groups(_))))));
        assert_eq!(c.network.links.len(), 1);
        assert_eq!(
            (c.network.links[0].from.as_slice(), c.network.links[0].to.as_slice()),
            (&[2][..], &[0][..])
        );
        // The result is a valid scenario on 3 nodes.
        let text = crate::scenario::write::to_ron(&c);
        crate::scenario::parse("c.ron", &text).expect("a valid scenario");
        assert!(with_nodes_kept(&s, &[0, 1, 2, 3, 4]).is_none() && with_nodes_kept(&s, &[]).is_none());
    }

    #[test]
    fn node_sets_keep_the_faults_nodes_first() {
        assert_eq!(subsets(4, 2), [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]);
        assert_eq!(subsets(3, 3), [[0, 1, 2]]);
        assert!(subsets(2, 3).is_empty());
        let s = scenario("[At(\"1s\", CutLinks([(3, 4), (4, 3)])), At(\"2s\", Crash(Node(1)))]");
        let sets = node_sets(&s, 3, 10);
        assert_eq!(sets.len(), 10);
        assert_eq!(sets[0], [1, 3, 4], "the only set with every named node");
        assert_eq!(sets[1], [0, 1, 3], "then sets with two of them, in order");
        assert_eq!(node_sets(&s, 3, 4).len(), 4);
        assert_eq!(
            node_sets(&scenario("[]"), 2, 10)[0],
            [0, 1],
            "without faults, the lowest first"
        );
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

    /// Each fault of `c` with its time in milliseconds.
    fn timed(c: &Scenario) -> Vec<(u64, Fault)> {
        c.faults
            .iter()
            .map(|f| match f {
                FaultSpec::At(t, f) => (t.0 / 1_000_000, f.clone()),
                FaultSpec::Random(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn two_cuts_merge_into_one_at_the_later_time_then_the_earlier() {
        let s = scenario(
            "[At(\"1s\", CutLinks([(0, 1), (1, 0)])), At(\"2s\", Crash(Node(3))), \
             At(\"3s\", CutLinks([(1, 0), (0, 2)])), At(\"4s\", CutLinks([(3, 4)]))]",
        );
        let c = merged_cuts(&s, 0);
        assert_eq!(c.len(), 2);
        let union = Fault::CutLinks(vec![(0, 1), (1, 0), (0, 2)]);
        let rest = |head: Vec<(u64, Fault)>| {
            let mut v = head;
            v.push((4000, Fault::CutLinks(vec![(3, 4)])));
            v
        };
        // Only the next cut merges; what lies between stays where it was.
        assert_eq!(
            timed(&c[0]),
            rest(vec![(2000, Fault::Crash(Target::Node(3))), (3000, union.clone())])
        );
        assert_eq!(
            timed(&c[1]),
            rest(vec![(1000, union), (2000, Fault::Crash(Target::Node(3)))])
        );
        assert!(merged_cuts(&s, 1).is_empty(), "a crash is no cut");
        assert!(merged_cuts(&s, 3).is_empty(), "no cut after the last");
        for m in merged_cuts(&s, 2) {
            assert_eq!(m.faults.len(), s.faults.len() - 1, "one fault fewer");
        }
    }

    #[test]
    fn a_paused_node_merges_as_its_isolation_and_its_resume_as_the_heal() {
        let s = scenario(
            "[At(\"1s\", Pause(Node(2))), At(\"2s\", CutLinks([(0, 1), (1, 0)])), At(\"3s\", Resume(Node(2)))]",
        );
        let isolated = vec![(2, 0), (0, 2), (2, 1), (1, 2), (2, 3), (3, 2), (2, 4), (4, 2)];
        let mut union = isolated.clone();
        union.extend([(0, 1), (1, 0)]);
        let heal = (3000, Fault::HealLinks(isolated));
        let c = merged_cuts(&s, 0);
        assert_eq!(timed(&c[0]), [(2000, Fault::CutLinks(union.clone())), heal.clone()]);
        assert_eq!(timed(&c[1]), [(1000, Fault::CutLinks(union)), heal]);
        // An isolation of one node counts as its links cut.
        let s = scenario("[At(\"1s\", Partition(Isolate(Node(4)))), At(\"2s\", Pause(Node(0)))]");
        let c = merged_cuts(&s, 0);
        assert_eq!(c[0].faults.len(), 1);
        let FaultSpec::At(_, Fault::CutLinks(l)) = &c[0].faults[0] else {
            panic!("a cut: {:?}", c[0].faults);
        };
        assert_eq!(l.len(), 8 + 6, "node 4's links and node 0's, (0, 4) and (4, 0) once");
        // A pause ended by a resume of another target has no heal to match.
        let s = scenario("[At(\"1s\", Pause(Node(2))), At(\"2s\", CutLinks([(0, 1)])), At(\"3s\", Resume(All))]");
        assert!(merged_cuts(&s, 0).is_empty());
        // A pause never resumed stays an isolation until recovery.
        let s = scenario("[At(\"1s\", Pause(Node(2))), At(\"2s\", CutLinks([(0, 1)])), At(\"3s\", Resume(Node(1)))]");
        let c = merged_cuts(&s, 0);
        assert!(matches!(
            &c[0].faults[1],
            FaultSpec::At(_, Fault::Resume(Target::Node(1)))
        ));
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
