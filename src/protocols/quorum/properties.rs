//! The quorum store's own properties: replicas converge after the heal,
//! and, under version vectors, no replica drops a concurrent write.
//! (`NoStaleReads` and `NoLostWrites` are generic checks over the client
//! history; they need nothing from the family.)

use super::ring::Ring;
use super::versions::{Clock, Held};
use super::{QMsg, Quorum};
use crate::check::converge::{Converges, Placement};
use crate::core::{NodeId, Value};
use crate::property::{Findings, Moment, Observer, PropertyDef, When};
use std::collections::BTreeMap;

/// Every replica of every key holds the same value, within a bound after
/// the heal.
pub const CONVERGES: &str = "Converges";

/// Under version vectors, every write a home replica took is still held
/// at the end, or superseded by a write whose clock descends from it.
pub const KEEPS_SIBLINGS: &str = "KeepsSiblings";

/// What the quorum store offers scenarios' `checks`.
pub const PROPERTIES: &[PropertyDef] = &[
    PropertyDef {
        name: CONVERGES,
        when: When::Eventually,
        about: "within the bound after the heal, every replica of every key holds the same value",
    },
    PropertyDef {
        name: KEEPS_SIBLINGS,
        when: When::AtEnd,
        about: "under version vectors, every write a replica took is still held at the end, or superseded by a write that saw it",
    },
];

/// The observer of `Converges` for `nodes` nodes with `n` replicas per key.
pub fn converges(nodes: u32, n: u32) -> Converges<Quorum> {
    let ring = Ring::new(nodes);
    let placement: Placement = Box::new(move |key: &Value| {
        let key = key.as_str().expect("the store's keys are strings");
        ring.home(key, n)
    });
    Converges::new(CONVERGES, nodes, Quorum::values, placement)
}

/// The observer of `KeepsSiblings`. The history cannot tell a store that
/// keeps concurrent writes from one that keeps one of them (both are
/// regular registers); the writes' clocks can. It notes the clock of every
/// sibling a home replica is handed (writes, repairs, pushes, handoffs:
/// each taken durably before the handler returns), and at the end asks
/// that each be at or below a clock some replica of its key holds.
/// Writes a coordinator stores on itself are not seen (they cross no
/// link); keys with a replica down at the end are not judged.
pub struct KeepsSiblings {
    ring: Ring,
    n: u32,
    /// Per key: each clock noted, with its value and where and when first.
    taken: BTreeMap<String, BTreeMap<Clock, (String, NodeId, u64)>>,
}

impl KeepsSiblings {
    /// For `nodes` nodes with `n` replicas per key.
    pub fn new(nodes: u32, n: u32) -> Self {
        KeepsSiblings {
            ring: Ring::new(nodes),
            n,
            taken: BTreeMap::new(),
        }
    }

    fn note(&mut self, key: &str, held: &Held, to: NodeId, now_ns: u64) {
        let Held::Siblings(siblings) = held else {
            return;
        };
        if !self.ring.home(key, self.n).contains(&to) {
            return;
        }
        let per_key = self.taken.entry(key.to_string()).or_default();
        for s in siblings {
            per_key
                .entry(s.clock.clone())
                .or_insert_with(|| (s.value.clone(), to, now_ns));
        }
    }

    /// The first noted sibling of `key` that no replica's clock covers.
    fn lost<'a>(&'a self, key: &str, held: &[&Held]) -> Option<(&'a Clock, &'a (String, NodeId, u64))> {
        let clocks: Vec<&Clock> = held
            .iter()
            .flat_map(|h| match h {
                Held::Siblings(s) => s.iter().map(|s| &s.clock).collect::<Vec<_>>(),
                Held::Lww(_) => Vec::new(),
            })
            .collect();
        let covered = |c: &Clock| clocks.iter().any(|h| c.leq(h));
        self.taken.get(key)?.iter().find(|(c, _)| !covered(c))
    }
}

impl Observer<Quorum> for KeepsSiblings {
    fn delivered(&mut self, at: &Moment, _from: NodeId, to: NodeId, msg: &QMsg, _found: &mut Findings) {
        match msg {
            QMsg::Write { key, stored, .. } | QMsg::Repair { key, stored } | QMsg::Handoff { key, stored } => {
                self.note(key, stored, to, at.now_ns)
            }
            QMsg::Push { entries } => {
                for (key, stored) in entries {
                    self.note(key, stored, to, at.now_ns);
                }
            }
            _ => {}
        }
    }

    fn finish(self: Box<Self>, _at: &Moment, states: &[Option<&Quorum>], found: &mut Findings) {
        let (mut judged, mut writes, mut skipped) = (0, 0, 0);
        for (key, clocks) in &self.taken {
            let home = self.ring.home(key, self.n);
            let Some(up) = home.iter().map(|h| states[h.0 as usize]).collect::<Option<Vec<_>>>() else {
                skipped += 1;
                continue;
            };
            let held: Vec<&Held> = up.iter().filter_map(|q| q.stored(key)).collect();
            if let Some((clock, (value, node, at_ns))) = self.lost(key, &held) {
                let detail = format!(
                    "{key}: {value} {clock:?}, taken by {node} at {:.6}s, is neither held nor superseded by any replica at the end",
                    *at_ns as f64 / 1e9
                );
                return found.violated(KEEPS_SIBLINGS, vec![*node], detail);
            }
            (judged, writes) = (judged + 1, writes + clocks.len());
        }
        if judged > 0 {
            let evidence = format!(
                "{writes} siblings handed to replicas of {judged} keys are all held or superseded at the end ({skipped} keys not judged: a replica down)"
            );
            found.evaluated(KEEPS_SIBLINGS, evidence);
        }
    }
}
