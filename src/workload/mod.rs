//! Clients: each issues key-value operations to its home node, one at a
//! time, and records what happened in the history.
//!
//! Client `i` talks to node `i % nodes`, as Jepsen binds each client to a
//! node. Written values are unique ("v17" is written once, by operation
//! 17), which is what lets a checker tell writes apart. A cas expects the
//! value the client last saw for that key. After a timeout the outcome is
//! unknown; the client moves on under a new process id, since its old
//! request may still take effect.
//!
//! A node that is not the leader answers `Redirect`; the client then
//! sends the same request to the node named (at once, the first time) or
//! to the next node, with exponential backoff. With `retry` set, an
//! attempt left unanswered that long is resent to the next node too. The
//! request id stays the same across attempts, so a protocol that
//! deduplicates by (client, request id) applies it at most once.

use crate::history::{Event, EventKind};
use crate::protocol::{NodeId, Op, Output, Reply, Request, RequestId};
use crate::scenario::WorkloadSpec;
use crate::sim::rng::SimRng;
use rand::Rng;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    Think,
    Timeout(RequestId),
    /// Send the request again unless attempt `attempt` was superseded;
    /// to the next node if `next_node` (the attempt went unanswered), else
    /// to the target a redirect named.
    Retry {
        request: RequestId,
        attempt: u32,
        next_node: bool,
    },
}

/// First backoff after a redirect without a leader hint; doubles per attempt.
const BACKOFF_NS_MIN: u64 = 10_000_000;
const BACKOFF_NS_MAX: u64 = 320_000_000;

/// What a client asks its host to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAction {
    Send { to: NodeId, request: Request },
    SetTimer { after_ns: u64, timer: ClientTimer },
    Record(Event),
}

/// Shared by all clients of a run: how many operations are left to issue,
/// and the next request id.
#[derive(Clone, Debug)]
pub struct Budget {
    pub ops_left: u32,
    pub next_request: u64,
}

struct Pending {
    request: RequestId,
    op: Op,
    /// Attempts sent so far.
    attempt: u32,
}

pub struct Client {
    index: u32,
    clients: u32,
    nodes: u32,
    home: NodeId,
    /// Where the next attempt goes: the home node until a redirect or a
    /// retry moves it.
    target: NodeId,
    retry_ns: Option<u64>,
    process: u64,
    rng: SimRng,
    keys: u32,
    /// Cumulative weights of read, write, append, cas.
    mix: [f64; 4],
    timeout_ns: u64,
    think_mean_ns: u64,
    pending: Option<Pending>,
    /// Last value seen per key (`None`: seen absent); a cas expects it.
    seen: BTreeMap<String, Option<String>>,
}

impl Client {
    /// `fault_phase_ns` sets the default think time: operations spread
    /// over the fault phase.
    pub fn new(index: u32, spec: &WorkloadSpec, nodes: u32, fault_phase_ns: u64, rng: SimRng) -> Self {
        let m = &spec.mix;
        let reader = index >= spec.clients.saturating_sub(spec.readers);
        let mut mix = if reader {
            [1.0, 0.0, 0.0, 0.0]
        } else {
            [m.read, m.write, m.append, m.cas]
        };
        for i in 1..4 {
            mix[i] += mix[i - 1];
        }
        let default_think = fault_phase_ns.saturating_mul(u64::from(spec.clients)) / u64::from(spec.ops.max(1));
        Client {
            index,
            clients: spec.clients,
            nodes,
            home: NodeId(index % nodes),
            target: NodeId(index % nodes),
            retry_ns: spec.retry.map(|r| r.0),
            process: u64::from(index),
            rng,
            keys: spec.keys,
            mix,
            timeout_ns: spec.timeout.0,
            think_mean_ns: spec.think.map_or(default_think, |t| t.0),
            pending: None,
            seen: BTreeMap::new(),
        }
    }

    pub fn home(&self) -> NodeId {
        self.home
    }

    pub fn start(&mut self, out: &mut Vec<ClientAction>) {
        self.think(out);
    }

    pub fn on_timer(&mut self, now_ns: u64, timer: ClientTimer, budget: &mut Budget, out: &mut Vec<ClientAction>) {
        match timer {
            ClientTimer::Think => self.invoke(now_ns, budget, out),
            ClientTimer::Timeout(request) => {
                if self.pending.as_ref().is_some_and(|p| p.request == request) {
                    self.pending = None;
                    out.push(ClientAction::Record(self.event(
                        EventKind::Info,
                        request,
                        now_ns,
                        None,
                        Some("timeout"),
                    )));
                    self.process += u64::from(self.clients);
                    self.think(out);
                }
            }
            ClientTimer::Retry {
                request,
                attempt,
                next_node,
            } => {
                if self
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.request == request && p.attempt == attempt)
                {
                    if next_node {
                        self.target = self.next_node(self.target);
                    }
                    self.send_attempt(out);
                }
            }
        }
    }

    fn next_node(&self, node: NodeId) -> NodeId {
        NodeId((node.0 + 1) % self.nodes)
    }

    /// Sends the pending request to the target, and arms the per-attempt
    /// timeout if there is one.
    fn send_attempt(&mut self, out: &mut Vec<ClientAction>) {
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
    fn redirected(&mut self, hint: Option<NodeId>, out: &mut Vec<ClientAction>) {
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

    /// A reply to anything but the pending request (one that timed out) is
    /// ignored: its outcome was already recorded as unknown.
    pub fn on_reply(&mut self, now_ns: u64, request: RequestId, reply: Reply, out: &mut Vec<ClientAction>) {
        if self.pending.as_ref().is_none_or(|p| p.request != request) {
            return;
        }
        if let Reply::Redirect(hint) = reply {
            return self.redirected(hint, out);
        }
        let pending = self.pending.take().expect("checked above");
        let event = match reply {
            Reply::Ok(output) => {
                self.remember(&pending.op, &output);
                self.event(EventKind::Ok, request, now_ns, Some(output), None)
            }
            Reply::Fail(why) => self.event(EventKind::Fail, request, now_ns, None, Some(&why)),
            Reply::Redirect(_) => unreachable!("handled above"),
        };
        out.push(ClientAction::Record(event));
        self.think(out);
    }

    fn think(&mut self, out: &mut Vec<ClientAction>) {
        let u: f64 = self.rng.gen();
        let after_ns = (-libm::log(1.0 - u) * self.think_mean_ns as f64) as u64;
        out.push(ClientAction::SetTimer {
            after_ns,
            timer: ClientTimer::Think,
        });
    }

    fn invoke(&mut self, now_ns: u64, budget: &mut Budget, out: &mut Vec<ClientAction>) {
        debug_assert!(self.pending.is_none(), "one operation at a time per client");
        if budget.ops_left == 0 {
            return;
        }
        budget.ops_left -= 1;
        let request = RequestId(budget.next_request);
        budget.next_request += 1;
        let op = self.choose_op(request);
        let mut invoke = self.event(EventKind::Invoke, request, now_ns, None, None);
        invoke.input = Some(op.clone());
        out.push(ClientAction::Record(invoke));
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

    fn choose_op(&mut self, request: RequestId) -> Op {
        let key = format!("k{}", self.rng.gen_range(0..self.keys));
        let roll = self.rng.gen::<f64>() * self.mix[3];
        let value = format!("v{}", request.0);
        if roll < self.mix[0] {
            Op::Get { key }
        } else if roll < self.mix[1] {
            Op::Put { key, value }
        } else if roll < self.mix[2] {
            Op::Append {
                key,
                value: format!("{value};"),
            }
        } else {
            let from = self.seen.get(&key).cloned().flatten();
            Op::Cas { key, from, to: value }
        }
    }

    fn remember(&mut self, op: &Op, output: &Output) {
        let key = op.key().to_string();
        match (op, output) {
            (Op::Get { .. }, Output::Value(v)) => {
                self.seen.insert(key, v.clone());
            }
            (Op::Put { value, .. }, _) | (Op::Cas { to: value, .. }, Output::Cas(true)) => {
                self.seen.insert(key, Some(value.clone()));
            }
            (Op::Append { .. }, _) => {
                self.seen.remove(&key);
            }
            _ => {}
        }
    }

    fn event(
        &self,
        kind: EventKind,
        request: RequestId,
        now_ns: u64,
        output: Option<Output>,
        error: Option<&str>,
    ) -> Event {
        Event {
            kind,
            op: request.0,
            process: self.process,
            client: self.index,
            time_ns: now_ns,
            input: None,
            output,
            error: error.map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Dur, Mix};
    use crate::sim::rng::stream;

    fn spec(mix: Mix) -> WorkloadSpec {
        WorkloadSpec {
            clients: 2,
            ops: 10,
            keys: 3,
            mix,
            timeout: Dur::from_millis(100),
            retry: None,
            readers: 0,

            think: Some(Dur::from_millis(5)),
        }
    }

    fn sent(out: &[ClientAction]) -> Option<&Request> {
        out.iter().find_map(|a| match a {
            ClientAction::Send { request, .. } => Some(request),
            _ => None,
        })
    }

    #[test]
    fn timeout_records_info_and_moves_to_a_new_process() {
        let mut c = Client::new(1, &spec(Mix::default()), 3, 1_000, stream(0, "client/1"));
        let mut budget = Budget {
            ops_left: 5,
            next_request: 40,
        };
        let mut out = Vec::new();
        c.on_timer(10, ClientTimer::Think, &mut budget, &mut out);
        let req = sent(&out).expect("an operation was sent").id;
        assert_eq!((req, budget.ops_left, c.home()), (RequestId(40), 4, NodeId(1)));
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
        let mut c = Client::new(0, &spec(mix), 1, 1_000, stream(0, "client/0"));
        let mut budget = Budget {
            ops_left: 2,
            next_request: 0,
        };
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
        assert_eq!(values, ["v0", "v1"]);
    }

    /// Found in review: with `retry` set, the resend after a redirect went
    /// to the node after the one named, which redirected back, until the
    /// operation timed out.
    #[test]
    fn a_redirect_is_followed_to_the_node_it_names() {
        let mut spec = spec(Mix::default());
        spec.retry = Some(Dur::from_millis(200));
        spec.timeout = Dur::from_millis(1000);
        let mut c = Client::new(0, &spec, 5, 1_000, stream(0, "client/0"));
        let mut budget = Budget {
            ops_left: 5,
            next_request: 1,
        };
        let mut out = Vec::new();
        c.on_timer(10, ClientTimer::Think, &mut budget, &mut out);
        let req = sent(&out).unwrap().id;
        let mut sent_to = Vec::new();
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
            c.on_timer(
                30 + t * 100,
                timer.expect("a redirect schedules a resend"),
                &mut budget,
                &mut out,
            );
            sent_to.push(out.iter().find_map(|a| match a {
                ClientAction::Send { to, .. } => Some(*to),
                _ => None,
            }));
        }
        assert_eq!(sent_to, [Some(NodeId(3)); 3]);
        // An attempt left unanswered moves on to the next node.
        let unanswered = ClientTimer::Retry {
            request: req,
            attempt: 4,
            next_node: true,
        };
        out.clear();
        c.on_timer(400, unanswered, &mut budget, &mut out);
        assert_eq!(sent(&out).map(|_| ()), Some(()));
        assert!(
            out.iter()
                .any(|a| matches!(a, ClientAction::Send { to: NodeId(4), .. })),
            "{out:?}"
        );
    }
}
