//! The session rules every client follows, whatever its service: one
//! operation at a time, a timeout that makes the outcome unknown, redirects
//! followed, retries with the same request id, a choice of which node to
//! ask. What to ask comes from the client's [`Generator`].
//!
//! - An operation that gets no answer within `timeout` is recorded as
//!   indeterminate (`info`); the client moves on under a new process id,
//!   since the old request may still take effect.
//! - A node that is not the leader answers `Redirect`: the client sends the
//!   same request to the node named (at once, the first time) or to the
//!   next node, with exponential backoff.
//! - With `retry`, an attempt left unanswered that long is resent to the
//!   next node. The request id stays the same across attempts, so a
//!   protocol that deduplicates by (client, request id) applies it once.
//! - Routing (where an operation starts): `Home` (client i asks node
//!   i mod n every time), `FollowRedirects` (stays where redirects led it;
//!   the default), `Rediscover` (as FollowRedirects, and a timeout moves it
//!   to the next node), `RoundRobin` (each operation the next node).

use super::{Generator, Outcome, Workload};
use crate::core::{NodeId, Reply, Request, RequestId, Service};
use crate::env::rng::SimRng;
use crate::history::{Event, EventKind};
use crate::scenario::{Routing, WorkloadSpec};
use rand::Rng;
use std::fmt;

/// A client's own timers.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientTimer {
    /// Time to invoke the next operation.
    Think,
    /// The pending request timed out.
    Timeout(RequestId),
    /// Send the request again unless attempt `attempt` was superseded;
    /// to the next node if `next_node` (the attempt went unanswered), else
    /// to the target a redirect named.
    Retry {
        /// The request to resend.
        request: RequestId,
        /// The attempt this timer belongs to.
        attempt: u32,
        /// Move on to the next node first.
        next_node: bool,
    },
}

impl ClientTimer {
    /// The text `derive(Debug)` gives, piece by piece, to `out`: every
    /// client timer goes into the trace (and its hash) as this text, and
    /// the trace takes the pieces without fmt's machinery.
    pub fn write_text(&self, out: &mut dyn FnMut(&str)) {
        match self {
            ClientTimer::Think => out("Think"),
            ClientTimer::Timeout(request) => {
                out("Timeout(RequestId(");
                out(itoa::Buffer::new().format(request.0));
                out("))");
            }
            ClientTimer::Retry {
                request,
                attempt,
                next_node,
            } => {
                out("Retry { request: RequestId(");
                out(itoa::Buffer::new().format(request.0));
                out("), attempt: ");
                out(itoa::Buffer::new().format(*attempt));
                out(if *next_node {
                    ", next_node: true }"
                } else {
                    ", next_node: false }"
                });
            }
        }
    }
}

impl fmt::Debug for ClientTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut written = Ok(());
        self.write_text(&mut |piece| written = written.and_then(|()| f.write_str(piece)));
        written
    }
}

/// First backoff after a redirect without a leader hint; doubles per attempt.
const BACKOFF_NS_MIN: u64 = 10_000_000;
const BACKOFF_NS_MAX: u64 = 320_000_000;

/// What a client asks its host to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAction<Op> {
    /// Send a request to a node.
    Send {
        /// The node asked.
        to: NodeId,
        /// The request.
        request: Request<Op>,
    },
    /// Call back with `timer` after this long.
    SetTimer {
        /// Global nanoseconds from now (clients' clocks do not drift).
        after_ns: u64,
        /// What comes back.
        timer: ClientTimer,
    },
    /// Put an event in the history.
    Record(Event),
}

/// Shared by all clients of a run: how many operations are left to issue
/// (`None`: no limit, clients go on until the run ends), and the next
/// request id.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Operations left to issue over all clients.
    pub ops_left: Option<u32>,
    /// The next request id to hand out.
    pub next_request: u64,
}

impl Budget {
    /// Takes one operation's worth, if any is left.
    fn take(&mut self) -> Option<RequestId> {
        match &mut self.ops_left {
            Some(0) => return None,
            Some(n) => *n -= 1,
            None => {}
        }
        self.next_request += 1;
        Some(RequestId(self.next_request - 1))
    }

    /// A request id for a final read, which `ops` does not limit.
    fn take_final(&mut self) -> RequestId {
        self.next_request += 1;
        RequestId(self.next_request - 1)
    }
}

struct Pending<Op> {
    request: RequestId,
    op: Op,
    /// Attempts sent so far.
    attempt: u32,
}

/// One client: its session state and its generator.
pub struct Session<S: Service> {
    index: u32,
    clients: u32,
    nodes: u32,
    home: NodeId,
    /// Where the next attempt goes.
    target: NodeId,
    routing: Routing,
    retry_ns: Option<u64>,
    process: u64,
    rng: SimRng,
    generator: Box<dyn Generator<S>>,
    timeout_ns: u64,
    think_mean_ns: u64,
    pending: Option<Pending<S::Op>>,
    /// Operations this client invoked so far.
    invoked: u32,
    /// Once the final reads began: what is left of them.
    finale: Option<std::collections::VecDeque<S::Op>>,
    /// Nothing pending and no think timer set: the budget ran out.
    idle: bool,
}

impl<S: Workload> Session<S> {
    /// Client `index` of a workload on `nodes` nodes. `fault_phase_ns`
    /// sets the default think time when `ops` is a budget: operations
    /// spread over the fault phase.
    pub fn new(index: u32, spec: &WorkloadSpec, nodes: u32, fault_phase_ns: u64, rng: SimRng) -> Self {
        let generator = S::generator(spec, index);
        Session::with_generator(index, spec, nodes, fault_phase_ns, rng, generator)
    }
}

impl<S: Service> Session<S> {
    /// [`Session::new`], asking what `generator` generates.
    pub fn with_generator(
        index: u32,
        spec: &WorkloadSpec,
        nodes: u32,
        fault_phase_ns: u64,
        rng: SimRng,
        generator: Box<dyn Generator<S>>,
    ) -> Self {
        debug_assert!(nodes > 0 && index < spec.clients);
        let home = NodeId(index % nodes);
        Session {
            index,
            clients: spec.clients,
            nodes,
            home,
            target: home,
            routing: spec.routing,
            retry_ns: spec.retry.map(|r| r.0),
            process: u64::from(index),
            rng,
            generator,
            timeout_ns: spec.timeout.0,
            think_mean_ns: spec.think_mean_ns(fault_phase_ns),
            pending: None,
            invoked: 0,
            finale: None,
            idle: false,
        }
    }

    /// The node this client asks first.
    pub fn home(&self) -> NodeId {
        self.home
    }

    /// At the start of the run: think, then invoke.
    pub fn start(&mut self, out: &mut Vec<ClientAction<S::Op>>) {
        self.think(out);
    }

    /// One of this client's timers fired.
    pub fn on_timer(
        &mut self,
        now_ns: u64,
        timer: ClientTimer,
        budget: &mut Budget,
        out: &mut Vec<ClientAction<S::Op>>,
    ) {
        match timer {
            ClientTimer::Think => self.invoke(now_ns, budget, out),
            ClientTimer::Timeout(request) => self.timed_out(now_ns, request, out),
            ClientTimer::Retry {
                request,
                attempt,
                next_node,
            } => {
                let current = self
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.request == request && p.attempt == attempt);
                if current {
                    if next_node {
                        self.target = self.next_node(self.target);
                    }
                    self.send_attempt(out);
                }
            }
        }
    }

    fn timed_out(&mut self, now_ns: u64, request: RequestId, out: &mut Vec<ClientAction<S::Op>>) {
        if self.pending.as_ref().is_none_or(|p| p.request != request) {
            return;
        }
        let pending = self.pending.take().expect("checked above");
        self.generator.observe(&pending.op, Outcome::Unknown);
        let info = self.event(EventKind::Info, request, now_ns);
        out.push(ClientAction::Record(Event {
            error: Some("timeout".into()),
            ..info
        }));
        self.process += u64::from(self.clients);
        if self.routing == Routing::Rediscover {
            self.target = self.next_node(self.target);
        }
        self.think(out);
    }

    fn next_node(&self, node: NodeId) -> NodeId {
        NodeId((node.0 + 1) % self.nodes)
    }

    /// Sends the pending request to the target, and arms the per-attempt
    /// timeout if there is one.
    fn send_attempt(&mut self, out: &mut Vec<ClientAction<S::Op>>) {
        let pending = self.pending.as_mut().expect("an attempt needs a pending request");
        pending.attempt += 1;
        out.push(ClientAction::Send {
            to: self.target,
            request: Request {
                id: pending.request,
                client: self.index,
                op: pending.op.clone(),
            },
        });
        if let Some(after_ns) = self.retry_ns {
            out.push(ClientAction::SetTimer {
                after_ns,
                timer: ClientTimer::Retry {
                    request: pending.request,
                    attempt: pending.attempt,
                    next_node: true,
                },
            });
        }
    }

    /// A redirect: go where it points at once the first time, else back
    /// off (with jitter, so clients do not retry in step) and try again.
    fn redirected(&mut self, hint: Option<NodeId>, out: &mut Vec<ClientAction<S::Op>>) {
        let pending = self.pending.as_ref().expect("only the pending request is redirected");
        let (request, attempt) = (pending.request, pending.attempt);
        let fresh_hint = hint.filter(|h| *h != self.target);
        self.target = hint.unwrap_or_else(|| self.next_node(self.target));
        let after_ns = if fresh_hint.is_some() && attempt == 1 {
            0
        } else {
            let full = BACKOFF_NS_MIN.saturating_mul(1 << attempt.min(6)).min(BACKOFF_NS_MAX);
            self.rng.gen_range(full / 2..=full)
        };
        out.push(ClientAction::SetTimer {
            after_ns,
            timer: ClientTimer::Retry {
                request,
                attempt,
                next_node: false,
            },
        });
    }

    /// A node answered. A reply to anything but the pending request (one
    /// that timed out) is ignored: its outcome was already recorded as
    /// unknown.
    pub fn on_reply(
        &mut self,
        now_ns: u64,
        request: RequestId,
        reply: Reply<S::Output>,
        out: &mut Vec<ClientAction<S::Op>>,
    ) {
        if self.pending.as_ref().is_none_or(|p| p.request != request) {
            return;
        }
        if let Reply::Redirect(hint) = reply {
            return self.redirected(hint, out);
        }
        let pending = self.pending.take().expect("checked above");
        let done = self.event(EventKind::Ok, request, now_ns);
        let event = match reply {
            Reply::Ok(output) => {
                self.generator.observe(&pending.op, Outcome::Ok(&output));
                Event {
                    output: Some(S::output(&pending.op, &output)),
                    ..done
                }
            }
            Reply::Fail(why) => {
                self.generator.observe(&pending.op, Outcome::Failed);
                Event {
                    kind: EventKind::Fail,
                    error: Some(why),
                    ..done
                }
            }
            Reply::Redirect(_) => unreachable!("handled above"),
        };
        out.push(ClientAction::Record(event));
        self.think(out);
    }

    fn think(&mut self, out: &mut Vec<ClientAction<S::Op>>) {
        let u: f64 = self.rng.gen();
        let after_ns = (-libm::log(1.0 - u) * self.think_mean_ns as f64) as u64;
        out.push(ClientAction::SetTimer {
            after_ns,
            timer: ClientTimer::Think,
        });
    }

    /// The workload ends: the client invokes nothing more until its
    /// final reads (an operation pending now still completes or times out).
    pub fn end_workload(&mut self) {
        debug_assert!(self.finale.is_none(), "the workload ends once");
        self.finale = Some(Default::default());
    }

    /// From now on the client asks only its final operations (a read of
    /// each key), one at a time, then stops.
    pub fn begin_final_reads(&mut self, out: &mut Vec<ClientAction<S::Op>>) {
        debug_assert!(
            self.finale.as_ref().is_some_and(|f| f.is_empty()),
            "after the workload's end"
        );
        self.finale = Some(self.generator.final_ops().into());
        if self.idle {
            self.idle = false;
            out.push(ClientAction::SetTimer {
                after_ns: 0,
                timer: ClientTimer::Think,
            });
        }
    }

    fn invoke(&mut self, now_ns: u64, budget: &mut Budget, out: &mut Vec<ClientAction<S::Op>>) {
        debug_assert!(self.pending.is_none(), "one operation at a time per client");
        let next = match &mut self.finale {
            Some(left) => left.pop_front().map(|op| (budget.take_final(), Some(op))),
            None => budget.take().map(|request| (request, None)),
        };
        let Some((request, final_op)) = next else {
            self.idle = true;
            return;
        };
        match self.routing {
            Routing::Home => self.target = self.home,
            Routing::RoundRobin => self.target = NodeId((self.home.0 + self.invoked % self.nodes) % self.nodes),
            Routing::FollowRedirects | Routing::Rediscover => {}
        }
        self.invoked += 1;
        let op = match final_op {
            Some(op) => op,
            None => self.generator.next_op(request, &mut self.rng),
        };
        let invoke = self.event(EventKind::Invoke, request, now_ns);
        out.push(ClientAction::Record(Event {
            input: Some(S::call(&op)),
            ..invoke
        }));
        self.pending = Some(Pending {
            request,
            op,
            attempt: 0,
        });
        self.send_attempt(out);
        out.push(ClientAction::SetTimer {
            after_ns: self.timeout_ns,
            timer: ClientTimer::Timeout(request),
        });
    }

    fn event(&self, kind: EventKind, request: RequestId, now_ns: u64) -> Event {
        Event {
            kind,
            op: request.0,
            process: self.process,
            client: self.index,
            time_ns: now_ns,
            input: None,
            output: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn client_timers_read_as_derive_debug_writes_them() {
        use super::ClientTimer;
        use crate::core::RequestId;
        assert_eq!(format!("{:?}", ClientTimer::Think), "Think");
        assert_eq!(
            format!("{:?}", ClientTimer::Timeout(RequestId(17))),
            "Timeout(RequestId(17))"
        );
        let retry = ClientTimer::Retry {
            request: RequestId(1234567890123),
            attempt: 4,
            next_node: true,
        };
        let text = "Retry { request: RequestId(1234567890123), attempt: 4, next_node: true }";
        assert_eq!(format!("{retry:?}"), text);
        let retry = ClientTimer::Retry {
            request: RequestId(0),
            attempt: 0,
            next_node: false,
        };
        let text = "Retry { request: RequestId(0), attempt: 0, next_node: false }";
        assert_eq!(format!("{retry:?}"), text);
    }

    use super::*;
    use crate::core::Value;
    use crate::env::rng::stream;
    use crate::scenario::{Dur, Mix};
    use crate::workload::kv::{Kv, Op, Output};

    fn spec(mix: Mix) -> WorkloadSpec {
        WorkloadSpec {
            clients: 2,
            ops: Some(10),
            keys: 3,
            mix,
            timeout: Dur::from_millis(100),
            think: Some(Dur::from_millis(5)),
            ..WorkloadSpec::default()
        }
    }

    type Actions = Vec<ClientAction<Op>>;

    fn sent(out: &Actions) -> Option<&Request<Op>> {
        out.iter().find_map(|a| match a {
            ClientAction::Send { request, .. } => Some(request),
            _ => None,
        })
    }

    fn sent_to(out: &Actions) -> Option<NodeId> {
        out.iter().find_map(|a| match a {
            ClientAction::Send { to, .. } => Some(*to),
            _ => None,
        })
    }

    fn client(index: u32, spec: &WorkloadSpec, nodes: u32) -> Session<Kv> {
        Session::new(index, spec, nodes, 1_000, stream(0, &format!("client/{index}")))
    }

    fn budget(ops: u32, next: u64) -> Budget {
        Budget {
            ops_left: Some(ops),
            next_request: next,
        }
    }

    #[test]
    fn final_reads_read_every_key_once_after_the_workload_ends() {
        let mut c = client(0, &spec(Mix::default()), 3);
        let mut budget = budget(0, 7);
        let mut out = Vec::new();
        c.on_timer(10, ClientTimer::Think, &mut budget, &mut out);
        assert!(out.is_empty(), "the budget is spent: the client idles");
        c.end_workload();
        c.begin_final_reads(&mut out);
        assert!(
            matches!(
                out[..],
                [ClientAction::SetTimer {
                    after_ns: 0,
                    timer: ClientTimer::Think
                }]
            ),
            "an idle client starts at once: {out:?}"
        );
        let mut read = Vec::new();
        for t in 1..=4u64 {
            out.clear();
            c.on_timer(100 * t, ClientTimer::Think, &mut budget, &mut out);
            let Some(request) = sent(&out).cloned() else {
                break;
            };
            read.push((request.id, request.op.clone()));
            out.clear();
            c.on_reply(100 * t + 1, request.id, Reply::Ok(Output::Value(None)), &mut out);
        }
        let keys: Vec<String> = read.iter().map(|(_, op)| op.to_string()).collect();
        assert_eq!(keys, ["get k0", "get k1", "get k2"], "then nothing more");
        assert_eq!(read[0].0, RequestId(7), "final reads take ids, not ops");
        assert_eq!(budget.ops_left, Some(0));
    }

    #[test]
    fn timeout_records_info_and_moves_to_a_new_process() {
        let mut c = client(1, &spec(Mix::default()), 3);
        let mut budget = budget(5, 40);
        let mut out = Vec::new();
        c.on_timer(10, ClientTimer::Think, &mut budget, &mut out);
        let req = sent(&out).expect("an operation was sent").id;
        assert_eq!((req, budget.ops_left, c.home()), (RequestId(40), Some(4), NodeId(1)));
        out.clear();
        c.on_timer(110, ClientTimer::Timeout(req), &mut budget, &mut out);
        let ClientAction::Record(info) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!((info.kind, info.process, info.op), (EventKind::Info, 1, 40));
        out.clear();
        c.on_reply(120, req, Reply::Ok(Output::Done), &mut out);
        assert!(out.is_empty(), "a late reply is ignored: {out:?}");
        c.on_timer(130, ClientTimer::Think, &mut budget, &mut out);
        let ClientAction::Record(next) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(next.process, 3, "new process id = old + clients");
    }

    #[test]
    fn stops_when_the_budget_is_spent_and_writes_unique_values() {
        let mix = Mix {
            read: 0.0,
            write: 1.0,
            append: 0.0,
            cas: 0.0,
        };
        let mut c = client(0, &spec(mix), 1);
        let mut budget = budget(2, 0);
        let mut values = Vec::new();
        for t in 0..3 {
            let mut out = Vec::new();
            c.on_timer(t, ClientTimer::Think, &mut budget, &mut out);
            match sent(&out) {
                Some(Request {
                    id,
                    op: Op::Put { value, .. },
                    ..
                }) => {
                    values.push(value.clone());
                    c.on_reply(t, *id, Reply::Ok(Output::Done), &mut Vec::new());
                }
                other => assert!(t == 2 && other.is_none(), "budget exhausted at t={t}: {other:?}"),
            }
        }
        assert_eq!(values, [std::sync::Arc::from("v0"), std::sync::Arc::from("v1")]);
    }

    #[test]
    fn without_a_budget_clients_go_on_and_record_neutral_values() {
        let mut c = client(0, &spec(Mix::default()), 1);
        let mut budget = Budget {
            ops_left: None,
            next_request: 0,
        };
        for t in 0..50 {
            let mut out = Vec::new();
            c.on_timer(t, ClientTimer::Think, &mut budget, &mut out);
            let ClientAction::Record(invoke) = &out[0] else {
                panic!("{out:?}")
            };
            let call = invoke.input.as_ref().expect("an invoke records its call");
            assert!(["get", "put"].contains(&call.f.as_str()), "{call}");
            let id = sent(&out).unwrap().id;
            let mut done = Vec::new();
            c.on_reply(t, id, Reply::Ok(Output::Value(None)), &mut done);
            if call.f == "get" {
                let ClientAction::Record(ok) = &done[0] else {
                    panic!("{done:?}")
                };
                assert_eq!(ok.output, Some(Value::Nil));
            }
        }
        assert_eq!(budget.next_request, 50);
    }

    /// Found in review: with `retry` set, the resend after a redirect went
    /// to the node after the one named, which redirected back, until the
    /// operation timed out.
    #[test]
    fn a_redirect_is_followed_to_the_node_it_names() {
        let mut spec = spec(Mix::default());
        spec.retry = Some(Dur::from_millis(200));
        spec.timeout = Dur::from_millis(1000);
        let mut c = client(0, &spec, 5);
        let mut budget = budget(5, 1);
        let mut out = Vec::new();
        c.on_timer(10, ClientTimer::Think, &mut budget, &mut out);
        let req = sent(&out).unwrap().id;
        let mut sent_to_nodes = Vec::new();
        for t in 0..3u64 {
            out.clear();
            c.on_reply(20 + t * 100, req, Reply::Redirect(Some(NodeId(3))), &mut out);
            let timer = out.iter().find_map(|a| match a {
                ClientAction::SetTimer {
                    timer: timer @ ClientTimer::Retry { .. },
                    ..
                } => Some(timer.clone()),
                _ => None,
            });
            out.clear();
            let timer = timer.expect("a redirect schedules a resend");
            c.on_timer(30 + t * 100, timer, &mut budget, &mut out);
            sent_to_nodes.push(sent_to(&out));
        }
        assert_eq!(sent_to_nodes, [Some(NodeId(3)); 3]);
        // An attempt left unanswered moves on to the next node.
        let unanswered = ClientTimer::Retry {
            request: req,
            attempt: 4,
            next_node: true,
        };
        out.clear();
        c.on_timer(400, unanswered, &mut budget, &mut out);
        assert_eq!(sent_to(&out), Some(NodeId(4)));
    }

    /// Where each of four operations starts, under `routing`, when the
    /// first is redirected to n2 and the second times out.
    fn starts(routing: Routing) -> Vec<NodeId> {
        let mut spec = spec(Mix::default());
        spec.routing = routing;
        let mut c = client(0, &spec, 3);
        let mut budget = budget(10, 0);
        let mut first = Vec::new();
        for t in 0..4u64 {
            let mut out = Vec::new();
            c.on_timer(t * 10, ClientTimer::Think, &mut budget, &mut out);
            first.push(sent_to(&out).unwrap());
            let id = sent(&out).unwrap().id;
            match t {
                0 => {
                    c.on_reply(t * 10 + 1, id, Reply::Redirect(Some(NodeId(2))), &mut Vec::new());
                    let retry = ClientTimer::Retry {
                        request: id,
                        attempt: 1,
                        next_node: false,
                    };
                    c.on_timer(t * 10 + 2, retry, &mut budget, &mut Vec::new());
                    c.on_reply(t * 10 + 3, id, Reply::Ok(Output::Done), &mut Vec::new());
                }
                1 => c.on_timer(t * 10 + 5, ClientTimer::Timeout(id), &mut budget, &mut Vec::new()),
                _ => c.on_reply(t * 10 + 3, id, Reply::Ok(Output::Done), &mut Vec::new()),
            }
        }
        first
    }

    /// Gets, and notes every outcome it is told of.
    struct Noting(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl Generator<Kv> for Noting {
        fn next_op(&mut self, _request: RequestId, _rng: &mut SimRng) -> Op {
            Op::Get { key: "k".into() }
        }

        fn observe(&mut self, _op: &Op, outcome: Outcome<'_, Output>) {
            self.0.lock().unwrap().push(format!("{outcome:?}"));
        }
    }

    #[test]
    fn the_generator_hears_of_every_outcome() {
        let noted = std::sync::Arc::default();
        let spec = spec(Mix::default());
        let generator = Box::new(Noting(std::sync::Arc::clone(&noted)));
        let mut c = Session::with_generator(0, &spec, 1, 1_000, stream(0, "client/0"), generator);
        let mut budget = budget(10, 0);
        let mut op = |c: &mut Session<Kv>, t: u64| {
            let mut out = Vec::new();
            c.on_timer(t, ClientTimer::Think, &mut budget, &mut out);
            sent(&out).unwrap().id
        };
        let id = op(&mut c, 0);
        c.on_reply(1, id, Reply::Ok(Output::Value(None)), &mut Vec::new());
        let id = op(&mut c, 2);
        c.on_reply(3, id, Reply::Fail("no".into()), &mut Vec::new());
        let id = op(&mut c, 4);
        c.on_timer(500, ClientTimer::Timeout(id), &mut budget_dummy(), &mut Vec::new());
        assert_eq!(*noted.lock().unwrap(), ["Ok(Value(None))", "Failed", "Unknown"]);
    }

    fn budget_dummy() -> Budget {
        budget(0, 0)
    }

    #[test]
    fn routing_decides_where_each_operation_starts() {
        let n = NodeId;
        assert_eq!(starts(Routing::Home), [n(0), n(0), n(0), n(0)]);
        assert_eq!(starts(Routing::FollowRedirects), [n(0), n(2), n(2), n(2)]);
        assert_eq!(starts(Routing::Rediscover), [n(0), n(2), n(0), n(0)]);
        assert_eq!(starts(Routing::RoundRobin), [n(0), n(1), n(2), n(0)]);
    }
}
