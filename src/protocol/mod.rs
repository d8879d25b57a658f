//! The node API: protocols are plain state machines behind [`Node`].
//!
//! The simulator owns all I/O, time and randomness. A node reacts to four
//! kinds of event and acts only through its [`Ctx`]: sending messages,
//! setting timers, reading its clock and random stream, using its disk and
//! replying to clients. Effects are buffered and carried out after the
//! handler returns, so a handler is a pure step from (state, event) to
//! (state, effects) and a node is unit-testable without any runtime.
//!
//! A crash drops the node's struct and its disk's unsynced writes; a
//! restart builds a fresh struct with the protocol's constructor and calls
//! `on_start`, where the node recovers from whatever its disk holds.

pub mod kv;
pub mod primary_backup;
pub mod raft;

pub mod single;

pub use kv::{Op, Output, Reply};

use crate::sim::clock::Clock;
use crate::sim::disk::Disk;
use crate::sim::rng::SimRng;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Debug};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// Identifies a client request; unique within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u64);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub id: RequestId,
    /// The client that sent it. A client has one request outstanding at a
    /// time and its request ids increase, so (client, id) is a session
    /// sequence number a protocol can deduplicate retries with.
    pub client: u32,
    pub op: Op,
}

/// What a node says it is; the nemesis uses it to find `Leader` targets
/// and checkers may use it for invariants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    #[default]
    None,
    Leader,
    Follower,
    Candidate,
}

impl Role {
    /// As the trace writes it (`role node=n1 role=leader`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::None => "none",
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Candidate => "candidate",
        }
    }
}

pub trait Node: Send + 'static {
    type Msg: Clone + Debug + Serialize + Send + 'static;
    type Timer: Clone + Debug + Send + 'static;

    /// At boot and after every restart.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Msg);
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer);
    /// A client operation; answer it (now or later) with [`Ctx::reply`].
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request);

    fn role(&self) -> Role {
        Role::None
    }
}

/// What a handler asked for, carried out by the host after it returns.
pub struct Effects<M, T> {
    pub(crate) sends: Vec<(NodeId, M)>,
    pub(crate) timers: Vec<(TimerId, u64, T)>,
    pub(crate) cancels: Vec<TimerId>,
    pub(crate) replies: Vec<(RequestId, Reply)>,
}

impl<M, T> Default for Effects<M, T> {
    fn default() -> Self {
        Effects {
            sends: Vec::new(),
            timers: Vec::new(),
            cancels: Vec::new(),
            replies: Vec::new(),
        }
    }
}

impl<M, T> Effects<M, T> {
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.timers.is_empty() && self.cancels.is_empty() && self.replies.is_empty()
    }
}

/// A node's window on the world during one handler call.
pub struct Ctx<'a, N: Node + ?Sized> {
    id: NodeId,
    nodes: u32,
    now_ns: u64,
    clock: &'a Clock,
    rng: &'a mut SimRng,
    disk: &'a mut Disk,
    next_timer: &'a mut u64,
    out: &'a mut Effects<N::Msg, N::Timer>,
}

impl<'a, N: Node + ?Sized> Ctx<'a, N> {
    /// Parts owned by the host. Public so that a protocol's unit tests can
    /// drive a node by hand.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: NodeId,
        nodes: u32,
        now_ns: u64,
        clock: &'a Clock,
        rng: &'a mut SimRng,
        disk: &'a mut Disk,
        next_timer: &'a mut u64,
        out: &'a mut Effects<N::Msg, N::Timer>,
    ) -> Self {
        Ctx {
            id,
            nodes,
            now_ns,
            clock,
            rng,
            disk,
            next_timer,
            out,
        }
    }

    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Cluster size; nodes are `NodeId(0)..NodeId(nodes)`.
    pub fn nodes(&self) -> u32 {
        self.nodes
    }

    /// Every node but this one.
    pub fn peers(&self) -> impl Iterator<Item = NodeId> {
        let me = self.id;
        (0..self.nodes).map(NodeId).filter(move |n| *n != me)
    }

    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        debug_assert!(to.0 < self.nodes, "send to {to}, but there are {} nodes", self.nodes);
        self.out.sends.push((to, msg));
    }

    /// Sends `msg` to every peer.
    pub fn broadcast(&mut self, msg: N::Msg) {
        for to in self.peers() {
            self.out.sends.push((to, msg.clone()));
        }
    }

    /// Fires `timer` after `after` has passed on this node's monotonic
    /// clock (which drifts, but never jumps).
    pub fn set_timer(&mut self, after: Duration, timer: N::Timer) -> TimerId {
        let id = TimerId(*self.next_timer);
        *self.next_timer += 1;
        let local_ns = u64::try_from(after.as_nanos()).unwrap_or(u64::MAX / 2);
        self.out.timers.push((id, local_ns, timer));
        id
    }

    /// Cancelling a timer that already fired (or never existed) is a no-op.
    pub fn cancel_timer(&mut self, id: TimerId) {
        self.out.cancels.push(id);
    }

    /// This node's wall clock, in nanoseconds: drift, offset and clock
    /// jumps included. May go backwards after a jump; may be negative.
    pub fn now(&self) -> i64 {
        self.clock.wall_ns(self.now_ns)
    }

    /// This node's monotonic clock, in nanoseconds: drifts, never jumps.
    pub fn monotonic_ns(&self) -> u64 {
        self.clock.monotonic_ns(self.now_ns)
    }

    pub fn rng(&mut self) -> &mut SimRng {
        self.rng
    }

    pub fn disk(&mut self) -> &mut Disk {
        self.disk
    }

    /// Answers client request `id`. An answer to a request this node did
    /// not receive in its current life (e.g. before a crash) goes nowhere.
    pub fn reply(&mut self, id: RequestId, reply: Reply) {
        self.out.replies.push((id, reply));
    }
}
