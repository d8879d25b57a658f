//! The world: every node, client, link and clock of one run, and the rules
//! for moving events between them.
//!
//! Every event of a run waits in one time-ordered queue, whichever node or
//! client it is for, and the world handles them one at a time, earliest
//! first, at their due time (see [`World::step_before`]). Sending a message
//! decides its fate on the network at once and queues it at its arrival
//! time. Whether it is actually delivered is decided on arrival: not if the
//! receiver was down when it arrived, not if its link was cut while it was
//! in flight. A paused node's events wait until it resumes.
//!
//! The world is split along what it does: [`Nodes`] run protocol code and
//! carry out its effects, [`Clients`] run the sessions, the [`Recorder`]
//! keeps the trace, history and counts, [`Watch`] holds the observers.

use super::budget::Meter;
use super::nodes::{NodeEvent, Nodes, Wire};
use super::queue::EventQueue;
use super::recorder::Recorder;
use super::{Adversary, Hooks};
use crate::core::{Node, NodeId, OutputOf, Reply, Request, RequestId, Service};
use crate::env::rng::{stream, SimRng};
use crate::history::Event;
use crate::nemesis::Status;
use crate::net::{DropReason, Fate, Network};
use crate::property::{FaultEvent, Findings, Moment, Observer};
use crate::scenario::Scenario;
use crate::trace::Trace;
use crate::workload::{Budget, ClientAction, ClientTimer, Session, Workload};
use std::fmt;
use std::hash::Hash;

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
    session: Session<N::Service>,
}

/// An event waiting in the world's queue, and whom it is for.
pub(super) enum Pending<N: Node> {
    Node(u32, NodeEvent<N>),
    Client(u32, ClientEvent<OutputOf<N>>),
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
    /// Simulated time, in nanoseconds since the run began: the due time of
    /// the event being handled, or of the fault being applied.
    now_ns: u64,
    /// Every event still to come, earliest first.
    queue: EventQueue<Pending<N>>,
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
}

impl<N: Node> World<N>
where
    N::Service: Workload,
{
    pub fn new(scenario: &Scenario, seed: u64, factory: Factory<N>, hooks: Hooks<N>, trace: Trace) -> Self {
        let mut net = Network::new(&scenario.network, scenario.nodes, seed);
        for rule in hooks.rules {
            net.push_rule(rule);
        }
        World {
            now_ns: 0,
            queue: EventQueue::default(),
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
        }
    }
}

fn clients<N: Node>(scenario: &Scenario, seed: u64) -> Clients<N>
where
    N::Service: Workload,
{
    let slots = scenario.workload.iter().flat_map(|w| {
        (0..w.clients).map(|c| ClientSlot {
            session: Session::new(
                c,
                w,
                scenario.nodes,
                scenario.duration.0,
                stream(seed, &format!("client/{c}")),
            ),
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
        self.now_ns
    }

    /// Moves time on to `ns` (never back).
    pub(super) fn advance_to(&mut self, ns: u64) {
        debug_assert!(ns >= self.now_ns, "time moves forward");
        self.now_ns = self.now_ns.max(ns);
    }

    /// The run begins: every node boots, in order, then every client starts.
    pub(super) fn boot_everyone(&mut self) {
        for i in 0..self.nodes.len() {
            self.boot_node(i);
        }
        for c in 0..self.clients.slots.len() as u32 {
            self.clients.slots[c as usize].session.start(&mut self.clients.out);
            self.client_actions(c, self.now_ns);
        }
    }

    /// Boots the nodes restarted by the fault step just over (a paused one
    /// boots when it resumes).
    pub(super) fn boot_restarted(&mut self) {
        for i in 0..self.nodes.len() {
            let slot = &self.nodes.slots[i as usize];
            if slot.unbooted && slot.status == Status::Up {
                self.boot_node(i);
            }
        }
    }

    /// A new life of node `i` begins now.
    fn boot_node(&mut self, i: u32) {
        let now = self.now_ns;
        self.nodes.boot(i);
        self.rec.trace.record(now, "start", format_args!("node=n{i}"));
        self.notify(now, |o, at, found| o.started(at, NodeId(i), found));
        self.dispatch(i, now, |node, ctx| node.on_start(ctx));
    }

    /// Handles the earliest event if it is due before `bound_ns`, at its
    /// due time; false if there is none. Two events due at once happen in
    /// the order they were scheduled. Afterwards the budget may be spent.
    pub(super) fn step_before(&mut self, bound_ns: u64) -> bool {
        let Some((due, event)) = self.queue.pop_before(bound_ns) else {
            return false;
        };
        // Events a pause held are overdue when they come back.
        self.now_ns = self.now_ns.max(due);
        let now = self.now_ns;
        match event {
            Pending::Node(i, event) => match self.nodes.slots[i as usize].status {
                Status::Up => self.node_event(i, due, event, now),
                Status::Paused => self.nodes.slots[i as usize].held.push((due, event)),
                Status::Crashed => self.arrive_down(i, event, now),
            },
            Pending::Client(c, event) => self.client_event(c, event, now),
        }
        self.meter.over(&mut self.rec, now);
        true
    }

    /// What arrives at a crashed node is lost.
    fn arrive_down(&mut self, i: u32, event: NodeEvent<N>, now: u64) {
        match event {
            NodeEvent::Deliver { from, msg, .. } => self.rec.dropped(now, from, Addr::Node(i), msg, DropReason::Down),
            NodeEvent::Timer { .. } => unreachable!("a crash removes the node's timers"),
        }
    }

    /// Node `i` resumes: what came due while it was paused is due now.
    pub(super) fn release_held(&mut self, i: u32) {
        let held = std::mem::take(&mut self.nodes.slots[i as usize].held);
        for (due, event) in held {
            self.queue.push(due, Pending::Node(i, event));
        }
    }

    /// Whether node `i` has an event due by now that it has not handled:
    /// while it is paused, one the pause delays.
    pub(super) fn has_due(&self, i: u32) -> bool {
        let now = self.now_ns;
        !self.nodes.slots[i as usize].held.is_empty()
            || self
                .queue
                .any(|due, e| due <= now && matches!(e, Pending::Node(n, _) if *n == i))
    }

    fn node_event(&mut self, i: u32, due: u64, event: NodeEvent<N>, now: u64) {
        match event {
            NodeEvent::Deliver {
                from,
                msg,
                sent_ns,
                wire,
            } => {
                // Whatever came due before a restart was handled (dropped)
                // before the restart's fault step, and a crash takes what a
                // pause held.
                debug_assert!(
                    due >= self.nodes.up_since_ns(i),
                    "n{i}: a message from before its restart"
                );
                let lost = match from {
                    Addr::Node(f) => self.net.on_arrive(f, i, sent_ns, due),
                    Addr::Client(_) => None,
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
        debug_assert!(due >= self.now_ns, "n{i}: an event in the past");
        self.queue.push(due, Pending::Node(i, event));
    }

    fn schedule_client(&mut self, c: u32, due: u64, event: ClientEvent<OutputOf<N>>) {
        debug_assert!(due >= self.now_ns, "c{c}: an event in the past");
        self.queue.push(due, Pending::Client(c, event));
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

    fn client_event(&mut self, c: u32, event: ClientEvent<OutputOf<N>>, now: u64) {
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

    /// Messages still queued when the run ends (sent, never handled),
    /// those a pause held included.
    pub(super) fn count_in_flight(&mut self) -> u64 {
        let held = self.nodes.slots.iter().flat_map(|s| &s.held).map(|(_, e)| e);
        let held = held.filter(|e| matches!(e, NodeEvent::Deliver { .. })).count();
        let queued = self.queue.drain().filter(|(_, e)| {
            matches!(
                e,
                Pending::Node(_, NodeEvent::Deliver { .. }) | Pending::Client(_, ClientEvent::Reply { .. })
            )
        });
        (queued.count() + held) as u64
    }

    /// Forgets a crashed node's volatile state. Messages already due but
    /// not handled (held by a pause, or due this instant) are lost now;
    /// those still in flight are dropped as they arrive, unless the node is
    /// back by then. Its timers are gone.
    pub(super) fn wipe(&mut self, i: u32) {
        let now = self.now_ns;
        self.notify(now, |o, at, found| o.crashed(at, NodeId(i), found));
        let mut lost: Vec<(u64, Addr, u64)> = Vec::new();
        for (due, event) in self.nodes.wipe(i) {
            if let NodeEvent::Deliver { from, msg, .. } = event {
                lost.push((due, from, msg));
            }
        }
        self.queue.retain(|due, e| match e {
            Pending::Node(n, NodeEvent::Deliver { from, msg, .. }) if *n == i && due <= now => {
                lost.push((due, *from, *msg));
                false
            }
            Pending::Node(n, NodeEvent::Timer { .. }) => *n != i,
            _ => true,
        });
        let disk_faults = self.nodes.take_disk_faults(i);
        self.node_faults(i, now, disk_faults);
        // In the order they arrived.
        lost.sort_unstable_by_key(|&(due, _, msg)| (due, msg));
        for (_, from, msg) in lost {
            self.rec.dropped(now, from, Addr::Node(i), msg, DropReason::Down);
        }
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
