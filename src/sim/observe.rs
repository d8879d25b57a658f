//! Observers: checkers that watch node states while a run goes on.
//!
//! The world shows an observer each node's state after every handler and
//! tells it about crashes. An observer only reads; what it finds comes
//! back in [`Observed`] and, as it is found, in the trace.

use crate::protocol::{Node, NodeId};
use serde::Serialize;

/// One broken invariant, as first seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The invariant's name, as in the scenario's `checks`.
    pub invariant: &'static str,
    pub time_ns: u64,
    /// Names the nodes, term and index involved.
    pub message: String,
}

/// What an observer found over a whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Observed {
    /// The first violation of each invariant, in the order found.
    pub violations: Vec<Violation>,
    /// When, at or after the heal, a leader was first backed by a majority
    /// sharing its term.
    pub leader_after_heal_ns: Option<u64>,
    /// Per invariant, what held: the evidence behind a pass.
    pub held: Vec<(&'static str, String)>,
}

pub trait Observer<N: Node>: Send {
    /// Node `id` just handled an event; `node` is its state now. Returns
    /// violations found by this step (each invariant reports once).
    fn after_step(&mut self, now_ns: u64, id: NodeId, node: &N, recover_at_ns: Option<u64>) -> Vec<Violation>;
    /// Node `id` crashed: its volatile state is gone.
    fn crashed(&mut self, id: NodeId);
    fn finish(self: Box<Self>) -> Observed;
}
