//! The world: every node, client, link and clock of one run, and the rules
//! for moving events between them.
//!
//! Each node and client has its own time-ordered event queue. Sending a
//! message decides its fate on the network at once and puts it in the
//! receiver's queue at its arrival time; the receiver's host is woken then.
//! Whether it is actually delivered is decided on arrival: not if the
//! receiver was down when it arrived, not if its link was cut while it was
//! in flight.

use super::clock::Clock;
use super::disk::Disk;
use super::host::{Host, SimTime, Wake, Who};
use super::observe::Observer;
use super::queue::EventQueue;
use super::rng::{stream, SimRng};
use super::Stats;
use crate::history::{Event, EventKind, History};
use crate::nemesis::Status;
use crate::net::{DropReason, Fate, Network};
use crate::protocol::{Ctx, Effects, Node, NodeId, Reply, Request, RequestId, Role};
use crate::scenario::Scenario;
use crate::trace::Trace;
use crate::workload::{Budget, Client, ClientAction, ClientTimer};
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;

pub type Shared<N> = Arc<Mutex<World<N>>>;
pub type Factory<N> = Box<dyn Fn(NodeId) -> N + Send + Sync>;
pub type BoxedObserver<N> = Box<dyn Observer<N>>;

/// Who sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    Node(u32),
    Client(u32),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Node(i) => write!(f, "n{i}"),
            Addr::Client(i) => write!(f, "c{i}"),
        }
    }
}

enum Wire<M> {
    Peer(M),
    Request(Request),
}

enum NodeEvent<M, T> {
    Deliver {
        from: Addr,
        msg: u64,
        sent_ns: u64,
        wire: Wire<M>,
    },
    Timer {
        id: u64,
        timer: T,
    },
}

enum ClientEvent {
    Reply {
        from: u32,
        msg: u64,
        request: RequestId,
        reply: Reply,
    },
    Timer(ClientTimer),
}

pub(super) struct NodeSlot<N: Node> {
    pub madsim: Option<madsim::task::NodeId>,
    pub state: Option<N>,
    pub status: Status,
    /// Start of the current life; messages that arrived before it are lost.
    pub up_since_ns: u64,
    /// Counts node faults (crash, restart, pause, resume) done to it.
    pub epoch: u64,
    queue: EventQueue<NodeEvent<N::Msg, N::Timer>>,
    pub clock: Clock,
    pub disk: Disk,
    rng: SimRng,
    live_timers: BTreeSet<u64>,
    next_timer: u64,
    /// Requests received in this life, awaiting a reply: id -> client.
    requests: BTreeMap<RequestId, u32>,
    pub wake: Wake,
    /// The role last recorded in the trace (a crash forgets it).
    role: Role,
}

pub(super) struct ClientSlot {
    pub madsim: Option<madsim::task::NodeId>,
    client: Client,
    queue: EventQueue<ClientEvent>,
    wake: Wake,
}

pub struct World<N: Node> {
    pub(super) time: SimTime,
    pub(super) nodes: Vec<NodeSlot<N>>,
    pub(super) clients: Vec<ClientSlot>,
    factory: Factory<N>,
    pub(super) net: Network,
    pub(super) trace: Trace,
    pub(super) history: History,
    pub(super) stats: Stats,
    pub(super) recover_at_ns: Option<u64>,
    budget: Budget,
    next_msg: u64,
    effects: Effects<N::Msg, N::Timer>,
    client_out: Vec<ClientAction>,
    /// Itself, for spawning hosts while a fault is applied.
    pub(super) me: Weak<Mutex<World<N>>>,
    /// The madsim node that runs `Down` hosts (never crashed itself).
    pub(super) down_node: Option<madsim::task::NodeId>,
    pub(super) observer: Option<BoxedObserver<N>>,
    /// Every clock jump: (trace sequence number, node, by how much).
    pub(super) clock_jumps: Vec<(u64, u32, i64)>,
}

impl<N: Node> World<N> {
    /// Must be called inside the madsim runtime (it reads madsim's clock).
    pub fn new(scenario: &Scenario, seed: u64, factory: Factory<N>, echo_trace: bool) -> Self {
        let mut clock_rng = stream(seed, "clocks");
        let nodes = (0..scenario.nodes)
            .map(|i| {
                let (lo, hi) = scenario.clocks.drift_ppm;
                let drift = clock_rng.gen_range(lo..=hi);
                let (lo, hi) = scenario.clocks.offset;
                let offset = clock_rng.gen_range(lo.0..=hi.0);
                NodeSlot {
                    madsim: None,
                    state: None,
                    status: Status::Up,
                    up_since_ns: 0,
                    epoch: 0,
                    queue: EventQueue::default(),
                    clock: Clock::new(drift, offset),
                    disk: Disk::default(),
                    rng: stream(seed, &format!("node/{i}")),
                    live_timers: BTreeSet::new(),
                    next_timer: 0,
                    requests: BTreeMap::new(),
                    wake: Wake::default(),
                    role: Role::None,
                }
            })
            .collect();
        let clients = scenario.workload.iter().flat_map(|w| {
            (0..w.clients).map(|c| ClientSlot {
                madsim: None,
                client: Client::new(
                    c,
                    w,
                    scenario.nodes,
                    scenario.duration.0,
                    stream(seed, &format!("client/{c}")),
                ),
                queue: EventQueue::default(),
                wake: Wake::default(),
            })
        });
        World {
            time: SimTime::current(),
            nodes,
            clients: clients.collect(),
            factory,
            net: Network::new(&scenario.network, scenario.nodes as usize, stream(seed, "network")),
            trace: Trace::new(echo_trace),
            history: History::default(),
            stats: Stats::default(),
            recover_at_ns: None,
            budget: Budget {
                ops_left: scenario.workload.as_ref().map_or(0, |w| w.ops),
                next_request: 0,
            },
            next_msg: 0,
            effects: Effects::default(),
            client_out: Vec::new(),
            me: Weak::new(),
            down_node: None,
            observer: None,
            clock_jumps: Vec::new(),
        }
    }

    /// Starts the `Down` host of crashed node `i`.
    pub(super) fn spawn_down_host(&self, i: u32) {
        let world = self.me.upgrade().expect("the world outlives its run");
        let id = self.down_node.expect("the down node exists before any fault");
        let node = madsim::runtime::Handle::current()
            .get_node(id)
            .expect("the down node is never removed");
        node.spawn(Host::new(world, Who::Down(i)));
    }

    pub fn now_ns(&self) -> u64 {
        self.time.now_ns()
    }

    /// One poll of a host: boot if new, then handle everything now due.
    /// Returns false when the host's work is over.
    pub(super) fn poll_host(&mut self, who: Who, waker: &Waker, first: bool) -> bool {
        let now = self.now_ns();
        match who {
            Who::Node(i) => self.poll_node(i, waker, first, now),
            Who::Client(c) => self.poll_client(c, waker, first, now),
            Who::Down(i) => return self.poll_down(i, waker, now),
        }
        true
    }

    /// Drops every message that arrives while node `i` is down; stops once
    /// the node is back (its new host takes over the queue).
    fn poll_down(&mut self, i: u32, waker: &Waker, now: u64) -> bool {
        if self.nodes[i as usize].status != Status::Crashed {
            return false;
        }
        self.nodes[i as usize].wake.polled(waker, now);
        while let Some((_, event)) = self.nodes[i as usize].queue.pop_due(now) {
            match event {
                NodeEvent::Deliver { from, msg, .. } => self.dropped(now, from, Addr::Node(i), msg, DropReason::Down),
                NodeEvent::Timer { .. } => unreachable!("a crash removes the node's timers"),
            }
        }
        let slot = &mut self.nodes[i as usize];
        if let Some(due) = slot.queue.next_due_ns() {
            slot.wake.want(due, &self.time);
        }
        true
    }

    fn poll_node(&mut self, i: u32, waker: &Waker, first: bool, now: u64) {
        let slot = &mut self.nodes[i as usize];
        // madsim drops a killed node's task instead of running it.
        debug_assert_ne!(slot.status, Status::Crashed, "a crashed node's host ran");
        slot.wake.polled(waker, now);
        if first {
            slot.state = Some((self.factory)(NodeId(i)));
            self.trace.record(now, "start", format_args!("node=n{i}"));
            self.dispatch(i, now, |node, ctx| node.on_start(ctx));
        }
        while let Some((due, event)) = self.nodes[i as usize].queue.pop_due(now) {
            self.node_event(i, due, event, now);
        }
        let slot = &mut self.nodes[i as usize];
        if let Some(due) = slot.queue.next_due_ns() {
            slot.wake.want(due, &self.time);
        }
    }

    fn node_event(&mut self, i: u32, due: u64, event: NodeEvent<N::Msg, N::Timer>, now: u64) {
        match event {
            NodeEvent::Deliver {
                from,
                msg,
                sent_ns,
                wire,
            } => {
                let lost = if due < self.nodes[i as usize].up_since_ns {
                    Some(DropReason::Down)
                } else {
                    match from {
                        Addr::Node(f) if !self.net.survives(f, i, sent_ns, due) => Some(DropReason::Partition),
                        _ => None,
                    }
                };
                if let Some(reason) = lost {
                    return self.dropped(now, from, Addr::Node(i), msg, reason);
                }
                self.stats.messages.delivered += 1;
                self.trace
                    .record(now, "deliver", format_args!("from={from} to=n{i} msg={msg}"));
                match (wire, from) {
                    (Wire::Peer(m), Addr::Node(f)) => {
                        self.dispatch(i, now, |node, ctx| node.on_message(ctx, NodeId(f), m))
                    }
                    (Wire::Request(request), Addr::Client(c)) => {
                        self.nodes[i as usize].requests.insert(request.id, c);
                        self.dispatch(i, now, |node, ctx| node.on_request(ctx, request));
                    }
                    _ => unreachable!("peers send peer messages, clients send requests"),
                }
            }
            NodeEvent::Timer { id, timer } => {
                if self.nodes[i as usize].live_timers.remove(&id) {
                    self.trace
                        .record(now, "timer", format_args!("node=n{i} timer={id} payload={timer:?}"));
                    self.dispatch(i, now, |node, ctx| node.on_timer(ctx, timer));
                }
            }
        }
    }

    /// Runs one handler of node `i`, then carries out what it asked for.
    fn dispatch(&mut self, i: u32, now: u64, handler: impl FnOnce(&mut N, &mut Ctx<'_, N>)) {
        let nodes = self.nodes.len() as u32;
        let slot = &mut self.nodes[i as usize];
        let node = slot.state.as_mut().expect("a running host has a node");
        let mut ctx = Ctx::new(
            NodeId(i),
            nodes,
            now,
            &slot.clock,
            &mut slot.rng,
            &mut slot.disk,
            &mut slot.next_timer,
            &mut self.effects,
        );
        handler(node, &mut ctx);
        let role = node.role();
        if role != slot.role {
            slot.role = role;
            let role = role.as_str();
            self.trace.record(now, "role", format_args!("node=n{i} role={role}"));
        }
        if let Some(observer) = &mut self.observer {
            let found = observer.after_step(now, NodeId(i), node, self.recover_at_ns);
            for v in found {
                let invariant = v.invariant;
                let message = &v.message;
                self.trace.record(
                    now,
                    "violation",
                    format_args!("invariant={invariant} payload={message}"),
                );
            }
        }
        self.apply_effects(i, now);
    }

    fn apply_effects(&mut self, i: u32, now: u64) {
        let mut fx = std::mem::take(&mut self.effects);
        for (to, msg) in fx.sends.drain(..) {
            self.send_peer(i, to, msg, now);
        }
        for (id, local_ns, timer) in fx.timers.drain(..) {
            let slot = &mut self.nodes[i as usize];
            let due = now.saturating_add(slot.clock.global_span_ns(local_ns));
            slot.live_timers.insert(id.0);
            self.schedule_node(i, due, NodeEvent::Timer { id: id.0, timer });
        }
        for id in fx.cancels.drain(..) {
            self.nodes[i as usize].live_timers.remove(&id.0);
        }
        for (request, reply) in fx.replies.drain(..) {
            if let Some(c) = self.nodes[i as usize].requests.remove(&request) {
                self.send_reply(i, c, request, reply, now);
            }
        }
        debug_assert!(fx.is_empty());
        self.effects = fx;
    }

    fn schedule_node(&mut self, i: u32, due: u64, event: NodeEvent<N::Msg, N::Timer>) {
        let slot = &mut self.nodes[i as usize];
        slot.queue.push(due, event);
        slot.wake.want(due, &self.time);
    }

    fn schedule_client(&mut self, c: u32, due: u64, event: ClientEvent) {
        let slot = &mut self.clients[c as usize];
        slot.queue.push(due, event);
        slot.wake.want(due, &self.time);
    }

    fn new_msg(&mut self) -> u64 {
        self.next_msg += 1;
        self.next_msg - 1
    }

    fn send_peer(&mut self, from: u32, to: NodeId, msg: N::Msg, now: u64) {
        let id = self.new_msg();
        self.stats.messages.sent += 1;
        self.trace.record(
            now,
            "send",
            format_args!("from=n{from} to={to} msg={id} payload={msg:?}"),
        );
        match self.net.send(from, to.0, now) {
            Fate::Dropped(reason) => self.dropped(now, Addr::Node(from), Addr::Node(to.0), id, reason),
            Fate::Arrives { at_ns, copy_at_ns } => {
                if let Some(copy_at) = copy_at_ns {
                    let copy = self.new_msg();
                    self.stats.messages.duplicated += 1;
                    self.stats.faults.duplicate += 1;
                    self.trace
                        .record(now, "dup", format_args!("from=n{from} to={to} msg={id} copy={copy}"));
                    let wire = Wire::Peer(msg.clone());
                    self.schedule_node(to.0, copy_at, deliver(Addr::Node(from), copy, now, wire));
                }
                self.schedule_node(to.0, at_ns, deliver(Addr::Node(from), id, now, Wire::Peer(msg)));
            }
        }
    }

    fn send_request(&mut self, c: u32, to: NodeId, request: Request, now: u64) {
        let id = self.new_msg();
        self.stats.messages.sent += 1;
        self.trace.record(
            now,
            "send",
            format_args!("from=c{c} to={to} msg={id} payload={}", request.op),
        );
        let at = now.saturating_add(self.net.client_delay_ns());
        self.schedule_node(to.0, at, deliver(Addr::Client(c), id, now, Wire::Request(request)));
    }

    fn send_reply(&mut self, i: u32, c: u32, request: RequestId, reply: Reply, now: u64) {
        let id = self.new_msg();
        self.stats.messages.sent += 1;
        self.trace
            .record(now, "send", format_args!("from=n{i} to=c{c} msg={id} payload={reply}"));
        let at = now.saturating_add(self.net.client_delay_ns());
        self.schedule_client(
            c,
            at,
            ClientEvent::Reply {
                from: i,
                msg: id,
                request,
                reply,
            },
        );
    }

    fn dropped(&mut self, now: u64, from: Addr, to: Addr, msg: u64, reason: DropReason) {
        self.stats.messages.dropped += 1;
        if reason == DropReason::Loss {
            self.stats.faults.drop += 1;
        }
        let reason = reason.as_str();
        self.trace.record(
            now,
            "drop",
            format_args!("from={from} to={to} msg={msg} reason={reason}"),
        );
    }

    fn poll_client(&mut self, c: u32, waker: &Waker, first: bool, now: u64) {
        self.clients[c as usize].wake.polled(waker, now);
        if first {
            self.clients[c as usize].client.start(&mut self.client_out);
            self.client_actions(c, now);
        }
        while let Some((_, event)) = self.clients[c as usize].queue.pop_due(now) {
            let slot = &mut self.clients[c as usize];
            match event {
                ClientEvent::Reply {
                    from,
                    msg,
                    request,
                    reply,
                } => {
                    self.stats.messages.delivered += 1;
                    self.trace
                        .record(now, "deliver", format_args!("from=n{from} to=c{c} msg={msg}"));
                    slot.client.on_reply(now, request, reply, &mut self.client_out);
                }
                ClientEvent::Timer(timer) => {
                    self.trace
                        .record(now, "timer", format_args!("client=c{c} payload={timer:?}"));
                    slot.client.on_timer(now, timer, &mut self.budget, &mut self.client_out);
                }
            }
            self.client_actions(c, now);
        }
        let slot = &mut self.clients[c as usize];
        if let Some(due) = slot.queue.next_due_ns() {
            slot.wake.want(due, &self.time);
        }
    }

    fn client_actions(&mut self, c: u32, now: u64) {
        let mut actions = std::mem::take(&mut self.client_out);
        for action in actions.drain(..) {
            match action {
                ClientAction::Send { to, request } => self.send_request(c, to, request, now),
                ClientAction::SetTimer { after_ns, timer } => {
                    self.schedule_client(c, now.saturating_add(after_ns), ClientEvent::Timer(timer));
                }
                ClientAction::Record(event) => self.record(c, event),
            }
        }
        self.client_out = actions;
    }

    fn record(&mut self, c: u32, e: Event) {
        let (t, p, op) = (e.time_ns, e.process, e.op);
        match e.kind {
            EventKind::Invoke => {
                let input = e.input.as_ref().expect("an invoke has an input");
                self.trace.record(
                    t,
                    "invoke",
                    format_args!("client=c{c} process={p} op={op} payload={input}"),
                );
            }
            kind => {
                let status = format!("{kind:?}").to_lowercase();
                let outcome = match (&e.output, &e.error) {
                    (Some(out), _) => format!("{out:?}"),
                    (None, Some(why)) => why.clone(),
                    (None, None) => String::new(),
                };
                self.trace.record(
                    t,
                    "complete",
                    format_args!("client=c{c} process={p} op={op} status={status} payload={outcome}"),
                );
            }
        }
        self.history.push(e);
    }

    /// Messages still queued when the run ends (sent, never handled).
    pub(super) fn count_in_flight(&mut self) -> u64 {
        let nodes: usize = self
            .nodes
            .iter_mut()
            .map(|s| {
                s.queue
                    .drain()
                    .filter(|(_, e)| matches!(e, NodeEvent::Deliver { .. }))
                    .count()
            })
            .sum();
        let clients: usize = self
            .clients
            .iter_mut()
            .map(|s| {
                s.queue
                    .drain()
                    .filter(|(_, e)| matches!(e, ClientEvent::Reply { .. }))
                    .count()
            })
            .sum();
        (nodes + clients) as u64
    }

    /// Forgets a crashed node's volatile state. Messages already queued
    /// but not handled are lost now; those still in flight are dropped as
    /// they arrive (by the `Down` host), unless the node is back by then.
    pub(super) fn wipe(&mut self, i: u32) {
        let now = self.now_ns();
        if let Some(observer) = &mut self.observer {
            observer.crashed(NodeId(i));
        }
        let slot = &mut self.nodes[i as usize];
        slot.state = None;
        slot.role = Role::None;
        slot.disk.crash();

        slot.live_timers.clear();
        slot.requests.clear();
        slot.wake.reset();
        let mut lost = Vec::new();
        slot.queue.retain(|due, e| match e {
            NodeEvent::Deliver { from, msg, .. } if due <= now => {
                lost.push((*from, *msg));
                false
            }
            NodeEvent::Deliver { .. } => true,
            NodeEvent::Timer { .. } => false,
        });
        for (from, msg) in lost {
            self.dropped(now, from, Addr::Node(i), msg, DropReason::Down);
        }
    }
}

fn deliver<M, T>(from: Addr, msg: u64, sent_ns: u64, wire: Wire<M>) -> NodeEvent<M, T> {
    NodeEvent::Deliver {
        from,
        msg,
        sent_ns,
        wire,
    }
}
