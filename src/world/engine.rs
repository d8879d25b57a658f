//! The world: every node, client, link and clock of one run, and the rules
//! for moving events between them.
//!
//! Each node and client has its own time-ordered event queue. Sending a
//! message decides its fate on the network at once and puts it in the
//! receiver's queue at its arrival time; the receiver's host is woken then.
//! Whether it is actually delivered is decided on arrival: not if the
//! receiver was down when it arrived, not if its link was cut while it was
//! in flight.
//!
//! The world is split along what it does: [`Nodes`] run protocol code and
//! carry out its effects, [`Clients`] run the sessions, the [`Recorder`]
//! keeps the trace, history and counts, [`Watch`] holds the observers.

use super::budget::Meter;
use super::host::{SimTime, Wake, Who};
use super::nodes::{NodeEvent, Nodes, Wire};
use super::recorder::Recorder;
use super::{Adversary, Hooks};
use crate::core::{Node, NodeId, OutputOf, Reply, Request, RequestId, Service};
use crate::env::rng::{stream, SimRng};
use crate::history::Event;
use crate::net::{DropReason, Fate, Network};
use crate::property::{FaultEvent, Findings, Moment, Observer};
use crate::scenario::Scenario;
use crate::trace::Trace;
use crate::workload::{Budget, ClientAction, ClientTimer, Session, Workload};
use std::fmt;
use std::hash::Hash;
use std::sync::{Arc, Mutex, Weak};
use std::task::Waker;

pub type Shared<N> = Arc<Mutex<World<N>>>;
/// Builds a node: at boot and at every restart.
pub type Factory<N> = Box<dyn Fn(NodeId) -> N + Send + Sync>;

/// Who sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    /// A node.
    Node(u32),
    /// A client.
    Client(u32),
}

impl Addr {
    /// Writes the address into a trace line, as `Display` does.
    pub(super) fn write_to(self, line: &mut crate::trace::Fields<'_>) {
        match self {
            Addr::Node(i) => line.node(i),
            Addr::Client(i) => line.client(i),
        };
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Node(i) => write!(f, "n{i}"),
            Addr::Client(i) => write!(f, "c{i}"),
        }
    }
}

pub(super) enum ClientEvent<Out> {
    Reply {
        from: u32,
        msg: u64,
        request: RequestId,
        reply: Reply<Out>,
    },
    Timer(ClientTimer),
}

pub(super) struct ClientSlot<N: Node> {
    pub madsim: Option<madsim::task::NodeId>,
    session: Session<N::Service>,
    queue: super::queue::EventQueue<ClientEvent<OutputOf<N>>>,
    wake: Wake,
}

/// The clients of a run and what they share.
pub(super) struct Clients<N: Node> {
    pub slots: Vec<ClientSlot<N>>,
    budget: Budget,
    out: Vec<ClientAction<crate::core::OpOf<N>>>,
}

/// The observers and what they found.
pub(super) struct Watch<N: Node> {
    pub observers: Vec<Box<dyn Observer<N>>>,
    pub findings: Findings,
}

pub struct World<N: Node> {
    pub(super) time: SimTime,
    pub(super) nodes: Nodes<N>,
    pub(super) clients: Clients<N>,
    pub(super) net: Network,
    pub(super) rec: Recorder,
    /// The run's budget; once spent, the run is over.
    pub(super) meter: Meter,
    pub(super) watch: Watch<N>,
    adversary: Option<(Box<dyn Adversary<N>>, SimRng)>,
    pub(super) recover_at_ns: Option<u64>,
    next_msg: u64,
    /// Itself, for spawning hosts while a fault is applied.
    pub(super) me: Weak<Mutex<World<N>>>,
    /// The madsim node that runs `Down` hosts (never crashed itself).
    pub(super) down_node: Option<madsim::task::NodeId>,
}

impl<N: Node> World<N>
where
    N::Service: Workload,
{
    /// Must be called inside the madsim runtime (it reads madsim's clock).
    pub fn new(scenario: &Scenario, seed: u64, factory: Factory<N>, hooks: Hooks<N>, trace: Trace) -> Self {
        let mut net = Network::new(&scenario.network, scenario.nodes, seed);
        for rule in hooks.rules {
            net.push_rule(rule);
        }
        World {
            time: SimTime::current(),
            nodes: Nodes::new(scenario, seed, factory, hooks.disk.as_deref()),
            clients: clients(scenario, seed),
            net,
            rec: Recorder::new(trace, scenario.nodes),
            meter: Meter::new(&scenario.budget),
            watch: Watch {
                observers: hooks.observers,
                findings: Findings::default(),
            },
            adversary: hooks.adversary.map(|a| (a, stream(seed, "adversary"))),
            recover_at_ns: None,
            next_msg: 0,
            me: Weak::new(),
            down_node: None,
        }
    }
}

fn clients<N: Node>(scenario: &Scenario, seed: u64) -> Clients<N>
where
    N::Service: Workload,
{
    let slots = scenario.workload.iter().flat_map(|w| {
        (0..w.clients).map(|c| ClientSlot {
            madsim: None,
            session: Session::new(
                c,
                w,
                scenario.nodes,
                scenario.duration.0,
                stream(seed, &format!("client/{c}")),
            ),
            queue: Default::default(),
            wake: Wake::default(),
        })
    });
    Clients {
        slots: slots.collect(),
        budget: Budget {
            ops_left: scenario.workload.as_ref().and_then(|w| w.ops),
            next_request: 0,
        },
        out: Vec::new(),
    }
}

impl<N: Node> World<N> {
    pub fn now_ns(&self) -> u64 {
        self.time.now_ns()
    }

    /// Starts the `Down` host of crashed node `i`.
    pub(super) fn spawn_down_host(&self, i: u32) {
        let world = self.me.upgrade().expect("the world outlives its run");
        let id = self.down_node.expect("the down node exists before any fault");
        let node = madsim::runtime::Handle::current()
            .get_node(id)
            .expect("the down node is never removed");
        node.spawn(super::host::Host::new(world, Who::Down(i)));
    }

    /// One poll of a host: boot if new, then handle everything now due.
    /// Returns false when the host's work is over.
    pub(super) fn poll_host(&mut self, who: Who, waker: &Waker, first: bool) -> bool {
        if self.meter.spent.is_some() {
            // The run is over: its hosts idle until the driver stops them.
            return true;
        }
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
        let Some(lost) = self.nodes.drain_down(i, waker, now, &self.time) else {
            return false;
        };
        for (from, msg) in lost {
            self.rec.dropped(now, from, Addr::Node(i), msg, DropReason::Down);
        }
        true
    }

    fn poll_node(&mut self, i: u32, waker: &Waker, first: bool, now: u64) {
        self.nodes.polled(i, waker, now);
        if first {
            self.nodes.boot(i);
            self.rec.trace.record(now, "start", format_args!("node=n{i}"));
            self.notify(now, |o, at, found| o.started(at, NodeId(i), found));
            self.dispatch(i, now, |node, ctx| node.on_start(ctx));
        }
        while let Some((due, event)) = self.nodes.pop_due(i, now) {
            self.node_event(i, due, event, now);
            // Events due now may go on being due now (a zero delay): only
            // the budget ends such a loop.
            if self.meter.over(&mut self.rec, now) {
                return;
            }
        }
        self.nodes.rearm(i, &self.time);
    }

    fn node_event(&mut self, i: u32, due: u64, event: NodeEvent<N>, now: u64) {
        match event {
            NodeEvent::Deliver {
                from,
                msg,
                sent_ns,
                wire,
            } => {
                let lost = if due < self.nodes.up_since_ns(i) {
                    Some(DropReason::Down)
                } else {
                    match from {
                        Addr::Node(f) => self.net.on_arrive(f, i, sent_ns, due),
                        Addr::Client(_) => None,
                    }
                };
                if let Some(reason) = lost {
                    self.rec.dropped(now, from, Addr::Node(i), msg, reason);
                    if let Addr::Node(f) = from {
                        self.rec.coverage.dropped(f, i, reason);
                    }
                    if let (Some(kind), Addr::Node(f)) = (reason.fault(), from) {
                        self.tell_fault(now, kind, vec![NodeId(f), NodeId(i)]);
                    }
                    return;
                }
                self.rec.coverage.delivered(msg);
                self.nodes.slots[i as usize].handled = true;
                self.rec.messages.delivered += 1;
                self.rec.trace.record_with(now, "deliver", |line| {
                    from.write_to(line.text("from="));
                    line.text(" to=").node(i).text(" msg=").number(msg);
                });
                self.deliver(i, now, from, wire);
            }
            NodeEvent::Timer { id, timer } => {
                if self.nodes.timer_is_live(i, id) {
                    self.nodes.slots[i as usize].handled = true;
                    self.rec.trace.record_with(now, "timer", |line| {
                        line.text("node=").node(i).text(" timer=").number(id).text(" payload=");
                        line.payload(|h| N::hash_timer(&timer, h), format_args!("{timer:?}"));
                    });
                    self.dispatch(i, now, |node, ctx| node.on_timer(ctx, timer));
                }
            }
        }
    }

    fn deliver(&mut self, i: u32, now: u64, from: Addr, wire: Wire<N>) {
        match (wire, from) {
            (Wire::Peer(m), Addr::Node(f)) => {
                self.notify(now, |o, at, found| o.delivered(at, NodeId(f), NodeId(i), &m, found));
                self.dispatch(i, now, |node, ctx| node.on_message(ctx, NodeId(f), m));
            }
            (Wire::Request(request), Addr::Client(c)) => {
                self.nodes.took_request(i, request.id, c);
                self.dispatch(i, now, |node, ctx| node.on_request(ctx, request));
            }
            _ => unreachable!("peers send peer messages, clients send requests"),
        }
    }

    /// Runs one handler of node `i`, lets the observers look at the node,
    /// then carries out what it asked for.
    fn dispatch(&mut self, i: u32, now: u64, handler: impl FnOnce(&mut N, &mut crate::core::Ctx<'_, N>)) {
        if let Some(role) = self.nodes.run_handler(i, now, handler) {
            let (label, leads) = (role.label, role.leads);
            self.rec
                .trace
                .record(now, "role", format_args!("node=n{i} role={label} leads={leads}"));
        }
        self.observe_step(i, now);
        let disk_faults = self.nodes.take_disk_faults(i);
        self.node_faults(i, now, disk_faults);
        if let Some((adversary, rng)) = &mut self.adversary {
            let at = Moment {
                now_ns: now,
                recover_at_ns: self.recover_at_ns,
            };
            let mut faults = Vec::new();
            adversary.rewrite(&at, NodeId(i), self.nodes.effects_mut(), rng, &mut faults);
            self.node_faults(i, now, faults);
        }
        self.apply_effects(i, now);
    }

    /// Faults a hook caused at node `i`: traced, counted, told.
    fn node_faults(&mut self, i: u32, now: u64, faults: Vec<(&'static str, String)>) {
        for (kind, detail) in faults {
            self.rec.fault(now, kind, format_args!("node=n{i} payload={detail}"));
            self.tell_fault(now, kind, vec![NodeId(i)]);
        }
    }

    fn observe_step(&mut self, i: u32, now: u64) {
        if self.watch.observers.is_empty() {
            return;
        }
        let at = Moment {
            now_ns: now,
            recover_at_ns: self.recover_at_ns,
        };
        let node = self.nodes.state(i).expect("a node that just ran is up");
        self.watch.findings.at(now);
        for o in &mut self.watch.observers {
            o.after_step(&at, NodeId(i), node, &mut self.watch.findings);
        }
        self.trace_violations(now);
    }

    /// Tells every observer something at `now` (findings are stamped with
    /// it), then traces the violations they found.
    pub(super) fn notify(&mut self, now: u64, mut tell: impl FnMut(&mut dyn Observer<N>, &Moment, &mut Findings)) {
        if self.watch.observers.is_empty() {
            return;
        }
        let at = Moment {
            now_ns: now,
            recover_at_ns: self.recover_at_ns,
        };
        self.watch.findings.at(now);
        for o in &mut self.watch.observers {
            tell(o.as_mut(), &at, &mut self.watch.findings);
        }
        self.trace_violations(now);
    }

    /// A fault happened now to `nodes`: the observers hear of it.
    pub(super) fn tell_fault(&mut self, now: u64, kind: &'static str, nodes: Vec<NodeId>) {
        let event = FaultEvent { kind, nodes };
        self.notify(now, |o, at, found| o.fault(at, &event, found));
    }

    pub(super) fn trace_violations(&mut self, now: u64) {
        if !self.watch.findings.has_new() {
            return;
        }
        for (property, v) in self.watch.findings.take_new() {
            self.rec.violation(now, property, v);
        }
    }

    fn apply_effects(&mut self, i: u32, now: u64) {
        let mut fx = self.nodes.take_effects();
        for (to, msg) in fx.sends.drain(..) {
            self.send_peer(i, to, msg, now);
        }
        for (id, local_ns, timer) in fx.timers.drain(..) {
            let due = self.nodes.timer_due(i, now, id, local_ns);
            self.schedule_node(i, due, NodeEvent::Timer { id: id.0, timer });
        }
        for id in fx.cancels.drain(..) {
            self.nodes.cancel_timer(i, id);
        }
        for (request, reply) in fx.replies.drain(..) {
            if let Some(c) = self.nodes.answered(i, request) {
                self.send_reply(i, c, request, reply, now);
            }
        }
        self.nodes.return_effects(fx);
    }

    fn schedule_node(&mut self, i: u32, due: u64, event: NodeEvent<N>) {
        self.nodes.schedule(i, due, event, &self.time);
    }

    fn schedule_client(&mut self, c: u32, due: u64, event: ClientEvent<OutputOf<N>>) {
        let slot = &mut self.clients.slots[c as usize];
        slot.queue.push(due, event);
        slot.wake.want(due, &self.time);
    }

    fn new_msg(&mut self) -> u64 {
        self.next_msg += 1;
        self.next_msg - 1
    }

    fn send_peer(&mut self, from: u32, to: NodeId, msg: N::Msg, now: u64) {
        // Ctx::send checks this; an adversary's rewrite might not have.
        assert!(to.0 < self.nodes.len(), "n{from} sends to {to}, which is not a node");
        let id = self.new_msg();
        self.rec.messages.sent += 1;
        self.rec.trace.record_with(now, "send", |line| {
            line.text("from=").node(from).text(" to=").node(to.0);
            line.text(" msg=").number(id).text(" payload=");
            line.payload(|h| N::hash_msg(&msg, h), format_args!("{msg:?}"));
        });
        match self.net.send(from, to.0, now) {
            Fate::Dropped(reason) => {
                self.rec.dropped(now, Addr::Node(from), Addr::Node(to.0), id, reason);
                self.rec.coverage.dropped(from, to.0, reason);
                if let Some(kind) = reason.fault() {
                    self.tell_fault(now, kind, vec![NodeId(from), to]);
                }
            }
            Fate::Arrives { at_ns, copies_ns } => {
                for copy_at in copies_ns {
                    let copy = self.new_msg();
                    self.rec.messages.duplicated += 1;
                    self.rec.coverage.copied(copy);
                    self.rec
                        .fault(now, "dup", format_args!("from=n{from} to={to} msg={id} copy={copy}"));
                    self.tell_fault(now, "dup", vec![NodeId(from), to]);
                    let wire = Wire::Peer(msg.clone());
                    self.schedule_node(to.0, copy_at, deliver(Addr::Node(from), copy, now, wire));
                }
                self.schedule_node(to.0, at_ns, deliver(Addr::Node(from), id, now, Wire::Peer(msg)));
            }
        }
    }

    fn send_request(&mut self, c: u32, to: NodeId, request: Request<crate::core::OpOf<N>>, now: u64) {
        let id = self.new_msg();
        self.rec.messages.sent += 1;
        let call = <N::Service as Service>::call(&request.op);
        self.rec.trace.record_with(now, "send", |line| {
            line.text("from=").client(c).text(" to=").node(to.0);
            line.text(" msg=").number(id).text(" payload=");
            line.payload(|h| call.hash(h), format_args!("{call}"));
        });
        let at = now.saturating_add(self.net.client_delay_ns(c));
        self.schedule_node(to.0, at, deliver(Addr::Client(c), id, now, Wire::Request(request)));
    }

    fn send_reply(&mut self, i: u32, c: u32, request: RequestId, reply: Reply<OutputOf<N>>, now: u64) {
        let id = self.new_msg();
        self.rec.messages.sent += 1;
        self.rec.trace.record_with(now, "send", |line| {
            line.text("from=").node(i).text(" to=").client(c);
            line.text(" msg=").number(id).args(format_args!(" payload={reply}"));
        });
        let at = now.saturating_add(self.net.client_delay_ns(c));
        let event = ClientEvent::Reply {
            from: i,
            msg: id,
            request,
            reply,
        };
        self.schedule_client(c, at, event);
    }

    fn poll_client(&mut self, c: u32, waker: &Waker, first: bool, now: u64) {
        self.clients.slots[c as usize].wake.polled(waker, now);
        if first {
            self.clients.slots[c as usize].session.start(&mut self.clients.out);
            self.client_actions(c, now);
        }
        while let Some((_, event)) = self.clients.slots[c as usize].queue.pop_due(now) {
            let Clients { slots, budget, out } = &mut self.clients;
            let slot = &mut slots[c as usize];
            match event {
                ClientEvent::Reply {
                    from,
                    msg,
                    request,
                    reply,
                } => {
                    self.rec.messages.delivered += 1;
                    self.rec.trace.record_with(now, "deliver", |line| {
                        line.text("from=").node(from).text(" to=").client(c);
                        line.text(" msg=").number(msg);
                    });
                    slot.session.on_reply(now, request, reply, out);
                }
                ClientEvent::Timer(timer) => {
                    self.rec.trace.record_with(now, "timer", |line| {
                        line.text("client=").client(c).text(" payload=");
                        timer.write_text(&mut |piece| {
                            line.text(piece);
                        });
                    });
                    slot.session.on_timer(now, timer, budget, out);
                }
            }
            self.client_actions(c, now);
            if self.meter.over(&mut self.rec, now) {
                return;
            }
        }
        let slot = &mut self.clients.slots[c as usize];
        if let Some(due) = slot.queue.next_due_ns() {
            slot.wake.want(due, &self.time);
        }
    }

    fn client_actions(&mut self, c: u32, now: u64) {
        let mut actions = std::mem::take(&mut self.clients.out);
        for action in actions.drain(..) {
            match action {
                ClientAction::Send { to, request } => self.send_request(c, to, request, now),
                ClientAction::SetTimer { after_ns, timer } => {
                    self.schedule_client(c, now.saturating_add(after_ns), ClientEvent::Timer(timer));
                }
                ClientAction::Record(event) => self.record(c, event),
            }
        }
        self.clients.out = actions;
    }

    /// Every client stops its workload (what is pending still ends).
    pub(super) fn end_workload(&mut self) {
        let now = self.now_ns();
        self.rec.trace.record(now, "phase", format_args!("name=workload-end"));
        for slot in &mut self.clients.slots {
            slot.session.end_workload();
        }
    }

    /// The workload's final reads begin: every client reads each key once.
    pub(super) fn begin_final_reads(&mut self) {
        let now = self.now_ns();
        self.rec.trace.record(now, "phase", format_args!("name=final-reads"));
        for c in 0..self.clients.slots.len() {
            let out = &mut self.clients.out;
            self.clients.slots[c].session.begin_final_reads(out);
            self.client_actions(c as u32, now);
        }
    }

    fn record(&mut self, c: u32, e: Event) {
        self.rec.client_event(c, e);
    }

    /// Messages still queued when the run ends (sent, never handled).
    pub(super) fn count_in_flight(&mut self) -> u64 {
        let nodes = self.nodes.drain_in_flight();
        let clients: usize = self
            .clients
            .slots
            .iter_mut()
            .map(|s| {
                s.queue
                    .drain()
                    .filter(|(_, e)| matches!(e, ClientEvent::Reply { .. }))
                    .count()
            })
            .sum();
        nodes + clients as u64
    }

    /// Forgets a crashed node's volatile state. Messages already queued
    /// but not handled are lost now; those still in flight are dropped as
    /// they arrive (by the `Down` host), unless the node is back by then.
    pub(super) fn wipe(&mut self, i: u32) {
        let now = self.now_ns();
        self.notify(now, |o, at, found| o.crashed(at, NodeId(i), found));
        let lost = self.nodes.wipe(i, now);
        let disk_faults = self.nodes.take_disk_faults(i);
        self.node_faults(i, now, disk_faults);
        for (from, msg) in lost {
            self.rec.dropped(now, from, Addr::Node(i), msg, DropReason::Down);
        }
    }

    pub(super) fn client_madsim_ids(&self) -> impl Iterator<Item = madsim::task::NodeId> + '_ {
        self.clients.slots.iter().filter_map(|s| s.madsim)
    }
}

fn deliver<N: Node>(from: Addr, msg: u64, sent_ns: u64, wire: Wire<N>) -> NodeEvent<N> {
    NodeEvent::Deliver {
        from,
        msg,
        sent_ns,
        wire,
    }
}
