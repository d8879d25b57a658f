//! Fault coverage: whether each kind of fault a run played had an effect.
//!
//! A fault that happens is not yet a fault that matters: a partition cut
//! while no one talks, a crash of a node that had nothing to lose, a clock
//! jump no one reads. A sweep whose faults never bite tests less than it
//! seems to, and says nothing about it. So the world notes, per run, for
//! each kind of fault whether it bit, by the definitions of [`Effect`]:
//! a few bools set as it goes (no allocation per event), read once at the
//! end into [`crate::world::RunOutcome::coverage`]. The sweep then lists
//! each kind a scenario can produce that bit in none of its seeds.
//!
//! Observation only: nothing here changes what the run does, or its trace.

use crate::net::DropReason;
use crate::scenario::{Fault, FaultKind, FaultSpec, Scenario};
use std::collections::BTreeSet;

/// A kind of fault, by the effect that shows it bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// A message was dropped because a two-way partition cut its link.
    Partition,
    /// A message was dropped because a one-way partition cut its link.
    OneWayPartition,
    /// A node crashed that had handled a message, request or timer since
    /// it last started, or had data on its disk.
    Crash,
    /// A node resumed (or crashed while paused) with an event already due:
    /// the pause delayed a message or timer.
    Pause,
    /// A node read its wall clock (`Ctx::now`) after a jump. Timers and
    /// the monotonic clock never see jumps.
    ClockJump,
    /// A message was lost to the link's loss probability.
    Loss,
    /// A copy the network made was delivered.
    Duplicate,
}

impl Effect {
    /// Every kind, in the order the summaries list them.
    pub const ALL: [Effect; 7] = [
        Effect::Partition,
        Effect::OneWayPartition,
        Effect::Crash,
        Effect::Pause,
        Effect::ClockJump,
        Effect::Loss,
        Effect::Duplicate,
    ];

    /// Its name in summaries: the fault's key in `faults` of the JSON
    /// summary (`loss` for link loss).
    pub fn key(self) -> &'static str {
        match self {
            Effect::Partition => "partition",
            Effect::OneWayPartition => "one_way_partition",
            Effect::Crash => "crash",
            Effect::Pause => "pause",
            Effect::ClockJump => "clock_jump",
            Effect::Loss => "loss",
            Effect::Duplicate => "duplicate",
        }
    }

    /// What would have shown that it bit, for the sweep's `inert` lines
    /// (`no {bites_when}`).
    pub fn bites_when(self) -> &'static str {
        match self {
            Effect::Partition => "message dropped on a link it cut",
            Effect::OneWayPartition => "message dropped on a link it cut",
            Effect::Crash => "crash of a node that had handled an event or had disk data",
            Effect::Pause => "message or timer due while a node was paused",
            Effect::ClockJump => "wall-clock read (ctx.now) after a jump",
            Effect::Loss => "message lost",
            Effect::Duplicate => "copy delivered",
        }
    }

    /// The kind named `key`.
    pub fn from_key(key: &str) -> Option<Effect> {
        Effect::ALL.into_iter().find(|e| e.key() == key)
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The kinds of fault `scenario` can produce: those its fault plan plays
/// (heals, restarts and resumes only undo), and loss and duplication
/// where some link has them.
pub fn possible(scenario: &Scenario) -> BTreeSet<Effect> {
    let mut kinds = BTreeSet::new();
    for spec in &scenario.faults {
        match spec {
            FaultSpec::At(_, fault) => kinds.extend(played(fault)),
            FaultSpec::Random(random) => kinds.extend(random.kinds.iter().map(|&k| drawn(k))),
        }
    }
    let net = &scenario.network;
    if net.loss.0 > 0.0 || net.links.iter().any(|l| l.loss.is_some_and(|p| p.0 > 0.0)) {
        kinds.insert(Effect::Loss);
    }
    if net.duplicate.0 > 0.0 || net.links.iter().any(|l| l.duplicate.is_some_and(|p| p.0 > 0.0)) {
        kinds.insert(Effect::Duplicate);
    }
    kinds
}

fn played(fault: &Fault) -> Option<Effect> {
    match fault {
        Fault::Partition(_) | Fault::CutLinks(_) => Some(Effect::Partition),
        Fault::PartitionOneWay { .. } | Fault::CutLinksOneWay(_) => Some(Effect::OneWayPartition),
        Fault::Crash(_) => Some(Effect::Crash),
        Fault::Pause(_) => Some(Effect::Pause),
        Fault::ClockJump(..) => Some(Effect::ClockJump),
        Fault::Heal | Fault::HealLinks(_) | Fault::Restart(_) | Fault::Resume(_) => None,
    }
}

fn drawn(kind: FaultKind) -> Effect {
    match kind {
        FaultKind::Partition => Effect::Partition,
        FaultKind::PartitionOneWay => Effect::OneWayPartition,
        FaultKind::Crash => Effect::Crash,
        FaultKind::Pause => Effect::Pause,
        FaultKind::ClockJump => Effect::ClockJump,
    }
}

/// What one run has seen bite so far.
#[derive(Debug, Default)]
pub(super) struct Coverage {
    /// One bit per [`Effect`].
    seen: u8,
    nodes: usize,
    /// Per directed link `from * nodes + to`: its latest cut was one-way.
    /// A drop is put down to the kind of partition that cut its link last.
    one_way: Vec<bool>,
    /// Copies made and not yet delivered, until the first is: then
    /// duplication has bitten and nothing more is tracked.
    copies: BTreeSet<u64>,
}

impl Coverage {
    pub fn new(nodes: u32) -> Self {
        let nodes = nodes as usize;
        Coverage {
            nodes,
            one_way: vec![false; nodes * nodes],
            ..Coverage::default()
        }
    }

    /// `effect` bit now.
    pub fn saw(&mut self, effect: Effect) {
        self.seen |= effect.bit();
    }

    pub fn has(&self, effect: Effect) -> bool {
        self.seen & effect.bit() != 0
    }

    /// Links newly cut, one way or both.
    pub fn cut(&mut self, links: &[(u32, u32)], one_way: bool) {
        for &(from, to) in links {
            self.one_way[from as usize * self.nodes + to as usize] = one_way;
        }
    }

    /// A message from node `from` to node `to` was dropped for `why`.
    pub fn dropped(&mut self, from: u32, to: u32, why: DropReason) {
        match why {
            DropReason::Loss => self.saw(Effect::Loss),
            DropReason::Partition if self.one_way[from as usize * self.nodes + to as usize] => {
                self.saw(Effect::OneWayPartition);
            }
            DropReason::Partition => self.saw(Effect::Partition),
            DropReason::Down | DropReason::Rule(_) => {}
        }
    }

    /// The network made copy `msg` of a message.
    pub fn copied(&mut self, msg: u64) {
        if !self.has(Effect::Duplicate) {
            self.copies.insert(msg);
        }
    }

    /// Message `msg` was delivered to a node.
    pub fn delivered(&mut self, msg: u64) {
        if !self.copies.is_empty() && self.copies.remove(&msg) {
            self.saw(Effect::Duplicate);
            self.copies.clear();
        }
    }

    /// The names of the kinds seen, plus `more`.
    pub fn names(&self, more: impl IntoIterator<Item = Effect>) -> BTreeSet<&'static str> {
        let seen = Effect::ALL.into_iter().filter(|&e| self.has(e));
        seen.chain(more).map(Effect::key).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::parse;

    #[test]
    fn drops_are_put_down_to_the_kind_of_cut() {
        let mut c = Coverage::new(3);
        c.dropped(0, 1, DropReason::Down);
        c.dropped(0, 1, DropReason::Rule("byzantine"));
        assert_eq!(
            c.names([]),
            BTreeSet::new(),
            "a crash's and a rule's drops are not these"
        );
        c.cut(&[(0, 1)], true);
        c.dropped(0, 1, DropReason::Partition);
        assert_eq!(c.names([]), BTreeSet::from(["one_way_partition"]));
        c.cut(&[(0, 1)], false);
        c.dropped(0, 1, DropReason::Partition);
        c.dropped(2, 0, DropReason::Loss);
        assert_eq!(c.names([]), BTreeSet::from(["one_way_partition", "partition", "loss"]));
    }

    #[test]
    fn duplication_bites_when_a_copy_is_delivered() {
        let mut c = Coverage::new(2);
        c.copied(7);
        c.delivered(6);
        assert!(!c.has(Effect::Duplicate), "the original is not the copy");
        c.delivered(7);
        assert!(c.has(Effect::Duplicate));
        c.copied(9);
        assert!(c.copies.is_empty(), "nothing is tracked once it bit");
    }

    #[test]
    fn a_scenario_can_produce_what_its_plan_plays_and_its_links_do() {
        let src = r#"Scenario(name: "x", protocol: Single, nodes: 3, duration: "5s",
            network: (links: [(from: [0], to: [1], duplicate: 0.1)]),
            faults: [At("1s", Crash(Node(0))), At("2s", Restart(Crashed)), At("3s", Heal),
                     Random(every: ("1s", "2s"), kinds: [ClockJump, PartitionOneWay])])"#;
        let scenario = parse("x.ron", src).expect("a valid scenario").spec;
        let kinds: Vec<&str> = possible(&scenario).into_iter().map(Effect::key).collect();
        assert_eq!(kinds, ["one_way_partition", "crash", "clock_jump", "duplicate"]);
        for e in Effect::ALL {
            assert_eq!(Effect::from_key(e.key()), Some(e));
        }
    }
}
