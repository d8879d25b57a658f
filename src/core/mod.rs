//! The node API: protocols are plain state machines behind [`Node`].
//!
//! The simulator owns all I/O, time and randomness. A node reacts to four
//! kinds of event and acts only through its [`Ctx`]: sending messages,
//! setting timers, reading its clocks and random stream, using its disk and
//! replying to clients. Effects are buffered and carried out after the
//! handler returns, so a handler is a pure step from (state, event) to
//! (state, effects) and a node is unit-testable without any runtime.
//!
//! A crash drops the node's struct and its disk's unsynced writes; a
//! restart builds a fresh struct with the family's constructor and calls
//! `on_start`, where the node recovers from whatever its disk holds.
//!
//! What clients ask of a node is a [`Service`]: the operations and outputs
//! it serves, and how the history records them as neutral values. A node
//! that serves no clients says `type Service = NoService` and does not
//! write a request handler.

pub mod harness;
mod service;
pub mod value;

pub use harness::Harness;
pub use service::{Call, NoOp, NoService, Reply, Request, Service};
pub use value::Value;

use crate::env::clock::Clock;
use crate::env::disk::Disk;
use crate::env::rng::SimRng;
use serde::{Deserialize, Serialize};
use std::fmt::{self, Debug};
use std::time::Duration;

/// A node of the cluster: `NodeId(0)..NodeId(nodes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NodeId(pub u32);

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// Names a timer a node set, so that it can cancel it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// Identifies a client request; unique within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RequestId(pub u64);

/// What a node says about itself: whether it leads, and a label for people.
/// `Leader` fault targets, `role` trace events and the leader rows of the
/// space-time diagram all read `leads`; the label is only shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Role {
    /// True while the node believes it is the leader (or primary).
    pub leads: bool,
    /// `leader`, `follower`, `candidate`, `primary`...: no spaces.
    pub label: &'static str,
}

impl Role {
    /// A node that says nothing about leading.
    pub const NONE: Role = Role {
        leads: false,
        label: "none",
    };
    /// A leader, labelled `leader`.
    pub const LEADER: Role = Role {
        leads: true,
        label: "leader",
    };

    /// A node that does not lead, with its label.
    pub const fn follows(label: &'static str) -> Role {
        Role { leads: false, label }
    }
}

/// The operations `N` serves to clients.
pub type OpOf<N> = <<N as Node>::Service as Service>::Op;
/// The outputs `N` answers clients with.
pub type OutputOf<N> = <<N as Node>::Service as Service>::Output;

/// A protocol's state machine on one node.
pub trait Node: Send + 'static {
    /// What nodes send each other.
    type Msg: Clone + Debug + Send + 'static;
    /// What a timer carries back to the node when it fires.
    type Timer: Clone + Debug + Send + 'static;
    /// What clients ask of this node ([`NoService`]: nothing).
    type Service: Service;

    /// At boot and after every restart.
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>);

    /// A message from another node.
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Self::Msg);

    /// A timer set with [`Ctx::set_timer`] fired (and was not cancelled).
    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: Self::Timer);

    /// A client operation; answer it (now or later) with [`Ctx::reply`].
    /// Nodes of a [`NoService`] family never get one.
    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request<OpOf<Self>>) {
        ctx.reply(request.id, Reply::Fail("this protocol serves no clients".into()));
    }

    /// Whether this node leads, as it believes now.
    fn role(&self) -> Role {
        Role::NONE
    }

    /// Puts `msg` into the trace hash. The default puts its Debug text,
    /// which is what the trace shows; messages that implement `Hash` can go
    /// in as they are, several times faster: `msg.hash(into)`. (The
    /// trace's text shows the Debug form either way, and only a run that
    /// keeps the text formats it: Debug must not panic.) Not for messages
    /// holding slices of integers: std hashes those as raw memory, which
    /// differs between machines.
    fn hash_msg(msg: &Self::Msg, into: &mut PayloadHasher<'_>) {
        into.debug(msg);
    }

    /// Puts `timer` into the trace hash, as [`Node::hash_msg`] does a message.
    fn hash_timer(timer: &Self::Timer, into: &mut PayloadHasher<'_>) {
        into.debug(timer);
    }
}

/// A formatter written to piece by piece, numbers through `itoa`: for a
/// hand-written `Debug` of messages and timers that every event formats
/// (the trace hash reads their text unless [`Node::hash_msg`] says
/// otherwise), where `derive(Debug)`'s builders cost more than the rest of
/// recording the event. Write the text `derive` would give, so traces read
/// the same.
pub struct Pieces<'a, 'b>(pub &'a mut fmt::Formatter<'b>);

impl Pieces<'_, '_> {
    /// Text as it is.
    pub fn text(&mut self, text: &str) -> Result<&mut Self, fmt::Error> {
        self.0.write_str(text)?;
        Ok(self)
    }

    /// A number in decimal, as `{}` writes it.
    pub fn num(&mut self, n: u64) -> Result<&mut Self, fmt::Error> {
        self.text(itoa::Buffer::new().format(n))
    }
}

/// Where a message or timer goes into the trace hash (see
/// [`Node::hash_msg`]): a [`Hasher`](std::hash::Hasher) that keeps what it
/// is given, integers as little-endian bytes (`usize` and `isize` as 8), so
/// that a value hashes alike on every machine.
pub struct PayloadHasher<'a>(&'a mut Vec<u8>);

impl<'a> PayloadHasher<'a> {
    /// A hasher that appends to `bytes`.
    pub fn new(bytes: &'a mut Vec<u8>) -> Self {
        PayloadHasher(bytes)
    }

    /// Puts `value`'s Debug text in.
    pub fn debug(&mut self, value: &dyn Debug) {
        fmt::Write::write_fmt(self, format_args!("{value:?}")).expect("writing to memory");
    }
}

impl fmt::Write for PayloadHasher<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

impl std::hash::Hasher for PayloadHasher<'_> {
    fn write(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
    }

    fn write_u8(&mut self, n: u8) {
        self.0.push(n);
    }

    fn write_u16(&mut self, n: u16) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    fn write_u32(&mut self, n: u32) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    fn write_u64(&mut self, n: u64) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    fn write_u128(&mut self, n: u128) {
        self.0.extend_from_slice(&n.to_le_bytes());
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as i64 as u64);
    }

    /// Not a hash: what was written so far, folded with FNV-1a, for a
    /// caller that asks (the trace reads the bytes themselves).
    fn finish(&self) -> u64 {
        crate::fnv::hash(self.0)
    }
}

/// What a handler asked for, carried out by the host after it returns. An
/// adversary (a Byzantine fault) may rewrite it in between, which is why
/// its parts are public.
pub struct Effects<N: Node + ?Sized> {
    /// Messages to send, in order.
    pub sends: Vec<(NodeId, N::Msg)>,
    /// Timers to set: id, local duration in nanoseconds, payload.
    pub timers: Vec<(TimerId, u64, N::Timer)>,
    /// Timers to cancel.
    pub cancels: Vec<TimerId>,
    /// Answers to client requests.
    pub replies: Vec<(RequestId, Reply<OutputOf<N>>)>,
}

impl<N: Node + ?Sized> Default for Effects<N> {
    fn default() -> Self {
        Effects {
            sends: Vec::new(),
            timers: Vec::new(),
            cancels: Vec::new(),
            replies: Vec::new(),
        }
    }
}

impl<N: Node + ?Sized> Effects<N> {
    /// True when the handler asked for nothing.
    pub fn is_empty(&self) -> bool {
        self.sends.is_empty() && self.timers.is_empty() && self.cancels.is_empty() && self.replies.is_empty()
    }
}

impl<N: Node + ?Sized> Debug for Effects<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Effects")
            .field("sends", &self.sends)
            .field("timers", &self.timers)
            .field("cancels", &self.cancels)
            .field("replies", &self.replies)
            .finish()
    }
}

/// Every node but one, in order. Owns what it needs, so a handler can send
/// while it iterates: `for peer in ctx.peers() { ctx.send(peer, ..) }`.
#[derive(Clone, Debug)]
pub struct Peers {
    me: u32,
    next: u32,
    nodes: u32,
}

impl Iterator for Peers {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.next == self.me {
            self.next += 1;
        }
        if self.next >= self.nodes {
            return None;
        }
        self.next += 1;
        Some(NodeId(self.next - 1))
    }
}

/// The parts of the world one handler call may use, owned by the host.
pub struct Parts<'a> {
    /// The node's clocks.
    pub clock: &'a Clock,
    /// The node's random stream.
    pub rng: &'a mut SimRng,
    /// The node's disk.
    pub disk: &'a mut Disk,
    /// The next timer id to hand out.
    pub next_timer: &'a mut u64,
}

/// A node's window on the world during one handler call.
pub struct Ctx<'a, N: Node + ?Sized> {
    id: NodeId,
    nodes: u32,
    now_ns: u64,
    parts: Parts<'a>,
    out: &'a mut Effects<N>,
}

impl<'a, N: Node + ?Sized> Ctx<'a, N> {
    /// A context for node `id` of `nodes` at global time `now_ns`; what the
    /// handler asks for goes into `out`. Hosts (and `testing::Harness`)
    /// build these; protocols only use them.
    pub fn new(id: NodeId, nodes: u32, now_ns: u64, parts: Parts<'a>, out: &'a mut Effects<N>) -> Self {
        debug_assert!(id.0 < nodes, "node {id} of {nodes}");
        Ctx {
            id,
            nodes,
            now_ns,
            parts,
            out,
        }
    }

    /// This node.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// Cluster size; nodes are `NodeId(0)..NodeId(nodes)`.
    pub fn nodes(&self) -> u32 {
        self.nodes
    }

    /// Every node but this one, in order.
    pub fn peers(&self) -> Peers {
        Peers {
            me: self.id.0,
            next: 0,
            nodes: self.nodes,
        }
    }

    /// Sends `msg` to node `to`.
    ///
    /// # Panics
    /// If `to` is not a node of the cluster, or is this node: a bug in the
    /// protocol, found in its own code (the run fails `NoPanic`).
    pub fn send(&mut self, to: NodeId, msg: N::Msg) {
        assert!(to.0 < self.nodes, "send to {to}, but there are {} nodes", self.nodes);
        assert_ne!(to, self.id, "a node does not send to itself");
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
        let id = TimerId(*self.parts.next_timer);
        *self.parts.next_timer += 1;
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
        self.parts.clock.wall_ns(self.now_ns)
    }

    /// This node's monotonic clock, in nanoseconds: drifts, never jumps.
    pub fn monotonic_ns(&self) -> u64 {
        self.parts.clock.monotonic_ns(self.now_ns)
    }

    /// This node's random stream (seeded from the run's seed).
    pub fn rng(&mut self) -> &mut SimRng {
        self.parts.rng
    }

    /// This node's disk.
    pub fn disk(&mut self) -> &mut Disk {
        self.parts.disk
    }

    /// The contents of file `name`, copied, so the handler can go on
    /// sending while it holds them.
    pub fn read_file(&self, name: &str) -> Option<Vec<u8>> {
        self.parts.disk.read_owned(name)
    }

    /// Answers client request `id`. An answer to a request this node did
    /// not receive in its current life (e.g. before a crash) goes nowhere.
    pub fn reply(&mut self, id: RequestId, reply: Reply<OutputOf<N>>) {
        self.out.replies.push((id, reply));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_hashes_to_the_same_bytes_on_every_machine() {
        use std::hash::Hash;
        let mut bytes = Vec::new();
        (7u8, 0x0102_0304u32, 5usize, -1isize, "ab").hash(&mut PayloadHasher::new(&mut bytes));
        let mut expected = vec![7, 4, 3, 2, 1, 5, 0, 0, 0, 0, 0, 0, 0];
        expected.extend([0xff; 8]);
        expected.extend([b'a', b'b', 0xff]);
        assert_eq!(bytes, expected);
        bytes.clear();
        PayloadHasher::new(&mut bytes).debug(&Some(3));
        assert_eq!(bytes, b"Some(3)");
    }

    #[test]
    fn peers_skip_the_node_itself_and_borrow_nothing() {
        let p = |me, nodes| Peers { me, next: 0, nodes }.map(|n| n.0).collect::<Vec<_>>();
        assert_eq!(p(0, 3), [1, 2]);
        assert_eq!(p(1, 3), [0, 2]);
        assert_eq!(p(2, 3), [0, 1]);
        assert_eq!(p(0, 1), Vec::<u32>::new());
    }
}
