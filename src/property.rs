//! Properties: named checks a family offers, typed by when they must hold,
//! and the observers that judge them while a run goes on.
//!
//! - **always**: after every step; the first violation is recorded with
//!   its time, nodes and detail, and traced as a `violation` event;
//! - **eventually**, after the heal, within a bound the scenario gives
//!   (`ElectsLeader(within: "2s")`);
//! - **at the end**, over every node's final state;
//! - **sometimes**: at least one run of a sweep must see it happen (a
//!   leader was deposed); a run that does not still passes, and `sweep`
//!   lists those no seed saw.
//!
//! An [`Observer`] sees each node's state after each handler, message
//! deliveries, starts, crashes, faults, phases and final states. It only
//! looks; what it finds goes into [`Findings`]. A property an observer
//! never spoke about is `unknown`, never `pass`.

use crate::core::{Node, NodeId};
use std::collections::BTreeMap;

/// When a property must hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// After every step.
    Always,
    /// Within a bound after the heal (the scenario's `within`).
    Eventually,
    /// Over the final states.
    AtEnd,
    /// In at least one run of a sweep.
    Sometimes,
}

impl When {
    /// As the docs and `simulate validate` write it.
    pub fn as_str(self) -> &'static str {
        match self {
            When::Always => "always",
            When::Eventually => "eventually",
            When::AtEnd => "at the end",
            When::Sometimes => "sometimes",
        }
    }
}

/// A property a family offers: what scenarios name in `checks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyDef {
    /// As written in scenarios: `ElectionSafety`.
    pub name: &'static str,
    /// When it must hold. An eventually property is written with its bound:
    /// `ElectsLeader(within: "2s")`.
    pub when: When,
    /// One line for people.
    pub about: &'static str,
}

impl PropertyDef {
    /// As a scenario writes it: `ElectionSafety`, `ElectsLeader(within: d)`.
    pub fn written(&self) -> String {
        match self.when {
            When::Eventually => format!("{}(within: d)", self.name),
            _ => self.name.to_string(),
        }
    }
}

/// The simulated moment an observer is told about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Moment {
    /// Global simulated time.
    pub now_ns: u64,
    /// When the heal-and-recover phase began, once it has.
    pub recover_at_ns: Option<u64>,
}

impl Moment {
    /// True once the recovery phase has begun.
    pub fn after_heal(&self) -> bool {
        self.recover_at_ns.is_some_and(|t| self.now_ns >= t)
    }
}

/// A fault as it happens, for observers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultEvent {
    /// The name it is counted under: its trace event's kind (`crash`,
    /// `partition`), or for a dropped message the drop's reason (`loss`, a
    /// family rule's name).
    pub kind: &'static str,
    /// The nodes it hit (for a partition, those on either end of a cut link).
    pub nodes: Vec<NodeId>,
}

/// Watches a run on behalf of one or more properties. Every method has a
/// default that does nothing, so an observer writes only what it needs.
pub trait Observer<N: Node>: Send {
    /// Node `id` just handled an event; `node` is its state now.
    fn after_step(&mut self, _at: &Moment, _id: NodeId, _node: &N, _found: &mut Findings) {}

    /// `msg` from `from` is about to be handled by `to`.
    fn delivered(&mut self, _at: &Moment, _from: NodeId, _to: NodeId, _msg: &N::Msg, _found: &mut Findings) {}

    /// Node `id` booted (at the start, or after a restart).
    fn started(&mut self, _at: &Moment, _id: NodeId, _found: &mut Findings) {}

    /// Node `id` crashed: its volatile state is gone.
    fn crashed(&mut self, _at: &Moment, _id: NodeId, _found: &mut Findings) {}

    /// A fault happened.
    fn fault(&mut self, _at: &Moment, _fault: &FaultEvent, _found: &mut Findings) {}

    /// The heal-and-recover phase begins.
    fn recovery_begins(&mut self, _at: &Moment, _found: &mut Findings) {}

    /// The run is over; `states` holds each node's final state (`None`:
    /// down). Say here what held (see [`Findings::evaluated`]).
    fn finish(self: Box<Self>, at: &Moment, states: &[Option<&N>], found: &mut Findings);
}

/// What observers found, by property: the first violation, the first time
/// a property was reached, and the evidence behind a pass.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    now_ns: u64,
    violations: BTreeMap<&'static str, Violation>,
    /// Violations recorded since [`Findings::take_new`] was last called.
    fresh: Vec<&'static str>,
    reached: BTreeMap<&'static str, (u64, String)>,
    /// The first time each property was reached at or after the heal.
    reached_after_heal: BTreeMap<&'static str, (u64, String)>,
    /// When the heal-and-recover phase began, once it has.
    recover_at_ns: Option<u64>,
    evidence: BTreeMap<&'static str, String>,
}

/// A property broken, as first seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// When.
    pub at_ns: u64,
    /// The nodes involved.
    pub nodes: Vec<NodeId>,
    /// What happened, naming terms, indices, values.
    pub detail: String,
}

impl Findings {
    /// Sets the time that findings from now on are stamped with. The end of
    /// a run is stamped at its nominal end, a hair before the last events
    /// of stopping it; the stamp then stays where it is.
    pub fn at(&mut self, now_ns: u64) {
        self.now_ns = self.now_ns.max(now_ns);
    }

    /// `property` is broken now. Only the first violation of each property
    /// is kept.
    pub fn violated(&mut self, property: &'static str, nodes: Vec<NodeId>, detail: impl Into<String>) {
        if self.violations.contains_key(property) {
            return;
        }
        let v = Violation {
            at_ns: self.now_ns,
            nodes,
            detail: detail.into(),
        };
        self.violations.insert(property, v);
        self.fresh.push(property);
    }

    /// The heal-and-recover phase begins now: an eventually property must
    /// be reached from here on.
    pub fn recovery_begins(&mut self, now_ns: u64) {
        self.at(now_ns);
        self.recover_at_ns = Some(now_ns);
    }

    /// `property` (eventually or sometimes) happened now. The first time
    /// counts, and the first time after the heal.
    pub fn reached(&mut self, property: &'static str, detail: impl Into<String>) {
        let now = self.now_ns;
        let detail = detail.into();
        if self.recover_at_ns.is_some_and(|heal| now >= heal) {
            let after = self.reached_after_heal.entry(property);
            after.or_insert_with(|| (now, detail.clone()));
        }
        self.reached.entry(property).or_insert_with(|| (now, detail));
    }

    /// `property` was judged, and this is what held (or, for one that was
    /// never reached, what was seen instead). A property with neither this
    /// nor a violation was never evaluated: its verdict is unknown.
    pub fn evaluated(&mut self, property: &'static str, evidence: impl Into<String>) {
        self.evidence.insert(property, evidence.into());
    }

    /// Whether a violation was found since [`Findings::take_new`] was last
    /// called.
    pub fn has_new(&self) -> bool {
        !self.fresh.is_empty()
    }

    /// Violations found since the last call, for the trace.
    pub fn take_new(&mut self) -> Vec<(&'static str, &Violation)> {
        let fresh = std::mem::take(&mut self.fresh);
        fresh.into_iter().map(|p| (p, &self.violations[p])).collect()
    }

    /// The first violation of `property`.
    pub fn violation(&self, property: &str) -> Option<&Violation> {
        self.violations.get(property)
    }

    /// When `property` was first reached, and what was seen.
    pub fn reached_at(&self, property: &str) -> Option<&(u64, String)> {
        self.reached.get(property)
    }

    /// When `property` was first reached at or after the heal.
    pub fn reached_after_heal(&self, property: &str) -> Option<&(u64, String)> {
        self.reached_after_heal.get(property)
    }

    /// What held for `property`, if it was evaluated.
    pub fn evidence(&self, property: &str) -> Option<&str> {
        self.evidence.get(property).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reach_before_the_heal_is_not_one_after_it() {
        let mut f = Findings::default();
        f.at(5);
        f.reached("Up", "early");
        f.recovery_begins(10);
        assert_eq!(f.reached_after_heal("Up"), None);
        f.at(12);
        f.reached("Up", "late");
        assert_eq!(f.reached_at("Up"), Some(&(5, "early".to_string())));
        assert_eq!(f.reached_after_heal("Up"), Some(&(12, "late".to_string())));
    }

    #[test]
    fn only_the_first_violation_and_reach_count() {
        let mut f = Findings::default();
        f.at(5);
        f.violated("Safety", vec![NodeId(1)], "first");
        f.reached("Leader", "n1 leads");
        f.at(9);
        f.violated("Safety", vec![NodeId(2)], "second");
        f.reached("Leader", "n2 leads");
        let new: Vec<_> = f.take_new().into_iter().map(|(p, v)| (p, v.at_ns)).collect();
        assert_eq!(new, [("Safety", 5)]);
        assert!(f.take_new().is_empty());
        assert_eq!(f.violation("Safety").unwrap().detail, "first");
        assert_eq!(f.reached_at("Leader"), Some(&(5, "n1 leads".to_string())));
        assert_eq!(f.evidence("Safety"), None);
    }
}
