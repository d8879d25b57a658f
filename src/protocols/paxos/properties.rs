//! Multi-Paxos's properties, judged while the run goes on from what each
//! node's acceptor accepts in each step, plus the liveness fact that a
//! leader emerges after the heal.
//!
//! - Slot Agreement (always; Lamport's `Consensus.tla` per slot): at most
//!   one value is ever chosen in a slot. The observer does not trust any
//!   node's idea of what is chosen: it counts, per slot and ballot, which
//!   acceptors accepted which value, and a value is chosen the moment a
//!   majority has accepted it in one ballot. Acceptances count for good:
//!   an acceptor that later forgets one (a crash before fsync) does not
//!   undo the choice.
//! - Elects Leader (eventually): after the heal, an up node leads a ballot
//!   that a majority of the nodes have promised.
//! - Leader Replaced (sometimes): a ballot was led by another node than
//!   the ballot before it: a fault deposed a leader.

use super::{Ballot, Command, Paxos, Role, View};
use crate::core::NodeId;
use crate::property::{Findings, Moment, Observer, PropertyDef, When};
use rustc_hash::FxHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// At most one value is chosen per slot.
pub const SLOT_AGREEMENT: &str = "SlotAgreement";
/// After the heal, a leader whose ballot a majority promised.
pub const ELECTS_LEADER: &str = "ElectsLeader";
/// A leader was succeeded by another node.
pub const LEADER_REPLACED: &str = "LeaderReplaced";

/// What Multi-Paxos offers scenarios' `checks`.
pub const PROPERTIES: &[PropertyDef] = &[
    PropertyDef {
        name: SLOT_AGREEMENT,
        when: When::Always,
        about: "at most one value is chosen (accepted by a majority in one ballot) per slot",
    },
    PropertyDef {
        name: ELECTS_LEADER,
        when: When::Eventually,
        about: "after the heal, a node leads a ballot that a majority of nodes promised",
    },
    PropertyDef {
        name: LEADER_REPLACED,
        when: When::Sometimes,
        about: "a ballot is led by another node than the ballot before: a leader was deposed",
    },
];

/// A violation as [`Invariants::check`] finds it: property, nodes, detail.
pub type Found = (&'static str, Vec<NodeId>, String);

#[derive(Clone, Copy, Debug, Default)]
struct Watch {
    up: bool,
    role: Role,
    ballot: Ballot,
    promised: Ballot,
}

/// The value first chosen in a slot.
#[derive(Clone, Debug)]
struct Chosen {
    hash: u64,
    ballot: Ballot,
    /// The acceptor whose acceptance made the majority.
    node: NodeId,
    command: Command,
}

/// Multi-Paxos's observer: judges every property at once.
pub struct Invariants {
    watch: Vec<Watch>,
    /// Per (slot, ballot): each value's hash and the acceptors (a bit set)
    /// that accepted it.
    tallies: BTreeMap<(u64, Ballot), Vec<(u64, u64)>>,
    chosen: BTreeMap<u64, Chosen>,
    acceptances: u64,
    /// The latest ballot seen led, and how many times the leader changed.
    last_led: Option<Ballot>,
    replaced: u64,
    leaders: u64,
    leader_after_heal_ns: Option<u64>,
    violations: Vec<&'static str>,
    requested: Vec<&'static str>,
}

fn command_hash(command: &Command) -> u64 {
    let mut h = FxHasher::default();
    command.hash(&mut h);
    h.finish()
}

impl Invariants {
    /// An observer of `nodes` nodes that reports every property.
    pub fn new(nodes: u32) -> Self {
        assert!(nodes <= 64, "acceptor sets are 64-bit");
        let watch = Watch {
            up: true,
            ..Watch::default()
        };
        Invariants {
            watch: vec![watch; nodes as usize],
            tallies: BTreeMap::new(),
            chosen: BTreeMap::new(),
            acceptances: 0,
            last_led: None,
            replaced: 0,
            leaders: 0,
            leader_after_heal_ns: None,
            violations: Vec::new(),
            requested: PROPERTIES.iter().map(|p| p.name).collect(),
        }
    }

    /// An observer that reports only the `requested` properties.
    pub fn for_properties(nodes: u32, requested: &[&'static str]) -> Self {
        Invariants {
            requested: requested.to_vec(),
            ..Invariants::new(nodes)
        }
    }

    fn majority(&self) -> u32 {
        self.watch.len() as u32 / 2 + 1
    }

    /// Checks node `id` in state `v`; the core of [`Observer::after_step`],
    /// separate so that tests can feed it states no correct node reaches.
    /// Returns the violations found by this step, each property's first.
    pub fn check(&mut self, now_ns: u64, id: NodeId, v: View<'_>, recover_at_ns: Option<u64>) -> Vec<Found> {
        let mut found = Vec::new();
        self.watch[id.0 as usize] = Watch {
            up: true,
            role: v.role,
            ballot: v.ballot,
            promised: v.promised,
        };
        for &(slot, ballot) in v.accepted_now {
            let (b, command) = v.acceptor.get(slot).expect("the journal names accepted slots");
            debug_assert_eq!(*b, ballot, "slot {slot}: the journal's ballot is the acceptor's");
            self.count(id, slot, ballot, command, &mut found);
        }
        if v.role == Role::Leader && self.last_led.is_none_or(|b| b < v.ballot) {
            self.leaders += 1;
            if self.last_led.is_some_and(|b| b.node != v.ballot.node) {
                self.replaced += 1;
            }
            self.last_led = Some(v.ballot);
        }
        if recover_at_ns.is_some_and(|heal| now_ns >= heal)
            && self.leader_after_heal_ns.is_none()
            && self.led_by_majority()
        {
            self.leader_after_heal_ns = Some(now_ns);
        }
        found.retain(|(property, _, _)| {
            let first = !self.violations.contains(property);
            if first {
                self.violations.push(property);
            }
            first
        });
        found
    }

    /// Counts `id`'s acceptance of `command` in `slot` at `ballot`; the
    /// acceptance that makes a majority chooses the value.
    fn count(&mut self, id: NodeId, slot: u64, ballot: Ballot, command: &Command, found: &mut Vec<Found>) {
        self.acceptances += 1;
        let hash = command_hash(command);
        let majority = self.majority();
        let tally = self.tallies.entry((slot, ballot)).or_default();
        let i = match tally.iter().position(|(h, _)| *h == hash) {
            Some(i) => i,
            None => {
                tally.push((hash, 0));
                tally.len() - 1
            }
        };
        let before = tally[i].1;
        tally[i].1 |= 1 << id.0;
        if before.count_ones() >= majority || tally[i].1.count_ones() < majority {
            return;
        }
        match self.chosen.get(&slot) {
            Some(first) if first.hash != hash => found.push((
                SLOT_AGREEMENT,
                vec![first.node, id],
                format!(
                    "slot {slot}: {:?} was chosen in {} ({} made the majority), and now {:?} is chosen in {ballot} ({id} made the majority)",
                    first.command, first.ballot, first.node, command
                ),
            )),
            Some(_) => {}
            None => {
                let chosen = Chosen {
                    hash,
                    ballot,
                    node: id,
                    command: command.clone(),
                };
                self.chosen.insert(slot, chosen);
            }
        }
    }

    /// Some up node leads a ballot that a majority of up nodes promised.
    fn led_by_majority(&self) -> bool {
        let majority = self.watch.len() / 2 + 1;
        self.watch.iter().any(|l| {
            l.up && l.role == Role::Leader
                && self.watch.iter().filter(|w| w.up && w.promised == l.ballot).count() >= majority
        })
    }

    /// What held, per property: the evidence behind a pass.
    fn held(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                SLOT_AGREEMENT,
                format!(
                    "{} slots chosen, one value each, from {} acceptances",
                    self.chosen.len(),
                    self.acceptances
                ),
            ),
            (
                ELECTS_LEADER,
                "no leader was promised by a majority after the heal".to_string(),
            ),
            (
                LEADER_REPLACED,
                format!("{} ballots led, every leader succeeded by itself", self.leaders),
            ),
        ]
    }
}

impl Observer<Paxos> for Invariants {
    fn after_step(&mut self, at: &Moment, id: NodeId, node: &Paxos, found: &mut Findings) {
        let (replaced, led) = (self.replaced, self.leader_after_heal_ns);
        for (property, nodes, detail) in self.check(at.now_ns, id, node.view(), at.recover_at_ns) {
            if self.requested.contains(&property) {
                found.violated(property, nodes, detail);
            }
        }
        if self.replaced > replaced && self.requested.contains(&LEADER_REPLACED) {
            found.reached(LEADER_REPLACED, format!("{id} took over with {}", node.view().ballot));
        }
        if led.is_none() && self.leader_after_heal_ns.is_some() && self.requested.contains(&ELECTS_LEADER) {
            found.reached(ELECTS_LEADER, "a majority promised a leader's ballot");
        }
    }

    fn crashed(&mut self, _at: &Moment, id: NodeId, _found: &mut Findings) {
        self.watch[id.0 as usize] = Watch::default();
    }

    fn finish(self: Box<Self>, _at: &Moment, _states: &[Option<&Paxos>], found: &mut Findings) {
        for (property, evidence) in self.held() {
            if self.requested.contains(&property) {
                found.evaluated(property, evidence);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Acceptor;
    use super::*;
    use crate::core::RequestId;
    use crate::env::disk::Disk;
    use crate::workload::kv::Op;

    fn b(round: u64, node: u32) -> Ballot {
        Ballot { round, node }
    }

    fn put(request: u64) -> Command {
        Command::Client {
            client: 0,
            request: RequestId(request),
            op: Op::Put {
                key: "k".into(),
                value: format!("v{request}").into(),
            },
        }
    }

    /// Node `id`'s acceptor accepts `command` in `slot` at `ballot`; the
    /// observer is told. Returns the names of what it found.
    fn accept(
        inv: &mut Invariants,
        acceptors: &mut [Acceptor],
        id: u32,
        slot: u64,
        ballot: Ballot,
        command: Command,
    ) -> Vec<&'static str> {
        let a = &mut acceptors[id as usize];
        a.accept(&mut Disk::default(), slot, ballot, &command);
        let journal = [(slot, ballot)];
        let v = View {
            role: Role::Follower,
            ballot: Ballot::default(),
            promised: a.promised(),
            accepted_now: &journal,
            acceptor: a,
            prefix: 0,
        };
        inv.check(1, NodeId(id), v, None).into_iter().map(|f| f.0).collect()
    }

    #[test]
    fn one_value_chosen_again_in_a_higher_ballot_is_agreement() {
        let mut inv = Invariants::new(3);
        let mut acc = vec![Acceptor::default(); 3];
        assert!(accept(&mut inv, &mut acc, 0, 1, b(1, 0), put(1)).is_empty());
        assert!(accept(&mut inv, &mut acc, 1, 1, b(1, 0), put(1)).is_empty());
        assert_eq!(inv.chosen.len(), 1, "two of three chose it");
        assert!(accept(&mut inv, &mut acc, 2, 1, b(2, 2), put(1)).is_empty());
        assert!(accept(&mut inv, &mut acc, 1, 1, b(2, 2), put(1)).is_empty());
        assert!(
            accept(&mut inv, &mut acc, 0, 2, b(2, 2), put(2)).is_empty(),
            "another slot"
        );
        assert_eq!(inv.held()[0].1, "1 slots chosen, one value each, from 5 acceptances");
    }

    #[test]
    fn a_second_value_chosen_in_a_slot_breaks_agreement() {
        let mut inv = Invariants::new(3);
        let mut acc = vec![Acceptor::default(); 3];
        accept(&mut inv, &mut acc, 0, 4, b(1, 0), put(1));
        accept(&mut inv, &mut acc, 1, 4, b(1, 0), put(1));
        // A minority acceptance of another value in a higher ballot is fine.
        assert!(accept(&mut inv, &mut acc, 2, 4, b(2, 2), put(2)).is_empty());
        let found = accept(&mut inv, &mut acc, 1, 4, b(2, 2), put(2));
        assert_eq!(found, [SLOT_AGREEMENT]);
        assert!(
            accept(&mut inv, &mut acc, 0, 4, b(2, 2), put(2)).is_empty(),
            "reported once"
        );
    }

    #[test]
    fn two_values_in_one_ballot_each_with_a_majority_break_agreement() {
        let mut inv = Invariants::new(3);
        let mut acc = vec![Acceptor::default(); 3];
        accept(&mut inv, &mut acc, 0, 1, b(1, 0), put(1));
        accept(&mut inv, &mut acc, 1, 1, b(1, 0), put(1));
        accept(&mut inv, &mut acc, 1, 1, b(1, 0), put(2));
        let found = accept(&mut inv, &mut acc, 2, 1, b(1, 0), put(2));
        assert_eq!(found, [SLOT_AGREEMENT], "a reused ballot chose twice");
    }

    #[test]
    fn an_acceptance_counted_once_however_often_it_is_repeated() {
        let mut inv = Invariants::new(3);
        let mut acc = vec![Acceptor::default(); 3];
        accept(&mut inv, &mut acc, 0, 1, b(1, 0), put(1));
        accept(&mut inv, &mut acc, 0, 1, b(1, 0), put(1));
        assert!(inv.chosen.is_empty(), "one acceptor is no majority of 3");
    }
}
