//! A lock service as a protocol family of its own: the kind of thing a
//! user of simulate writes in their own crate. Nothing here is built in.
//!
//! Node 0 is the lock server: it grants the lock to one client at a time
//! and writes who holds it to its disk, fsynced, before it answers. Every
//! other node redirects clients to node 0. Clients acquire and release in
//! turn; a refused acquire (the lock is held) or release (not the holder)
//! fails and did not happen.
//!
//! Judged by `Linearizable(Mutex)` (the history is that of one correct
//! lock) and by `GrantsSurviveCrashes`, a property of this family: a server
//! that restarts knows the holder it last acknowledged.
//!
//! Planted bug `AckBeforeSync`: the server answers before its write is
//! durable (a background flush syncs every 50ms), so a crash can forget an
//! acknowledged grant and grant the lock twice.

use serde::Deserialize;
use simulate::core::{Call, Ctx, Node, NodeId, Reply, Request, RequestId, Role, Service, Value};
use simulate::env::rng::SimRng;
use simulate::path;
use simulate::property::{Findings, Moment, Observer, PropertyDef, When};
use simulate::protocols::{Family, Setup};
use simulate::scenario::{Invalid, Scenario, WorkloadSpec};
use simulate::workload::{Generator, Outcome, Workload};
use simulate::world::Hooks;
use std::time::Duration;

/// What clients ask: the lock service.
pub enum Lock {}

/// Take the lock, or give it back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOp {
    Acquire,
    Release,
}

impl Service for Lock {
    type Op = LockOp;
    /// A granted acquire or an accepted release answers nothing more.
    type Output = ();
    const FUNCTIONS: &'static [&'static str] = &["acquire", "release"];

    fn call(op: &LockOp) -> Call {
        match op {
            LockOp::Acquire => Call::new("acquire"),
            LockOp::Release => Call::new("release"),
        }
    }

    fn output(_op: &LockOp, _output: &()) -> Value {
        Value::Nil
    }
}

/// Each client acquires the lock, holds it a while (its think time), and
/// releases it. After a timeout it does not know whether it holds the lock,
/// so it releases: the server refuses if it does not.
struct TakeTurns {
    /// Whether this client holds the lock, if it knows.
    holds: Option<bool>,
}

impl Generator<Lock> for TakeTurns {
    fn next_op(&mut self, _request: RequestId, _rng: &mut SimRng) -> LockOp {
        match self.holds {
            Some(false) => LockOp::Acquire,
            Some(true) | None => LockOp::Release,
        }
    }

    fn observe(&mut self, op: &LockOp, outcome: Outcome<'_, ()>) {
        self.holds = match (op, outcome) {
            (LockOp::Acquire, Outcome::Ok(())) => Some(true),
            (_, Outcome::Unknown) => None,
            _ => Some(false),
        };
    }
}

impl Workload for Lock {
    fn generator(_spec: &WorkloadSpec, _client: u32) -> Box<dyn Generator<Lock>> {
        Box::new(TakeTurns { holds: Some(false) })
    }
}

const HOLDER: &str = "holder";
const SERVER: NodeId = NodeId(0);

/// A node of the lock service.
pub struct LockNode {
    id: NodeId,
    ack_before_sync: bool,
    /// The client holding the lock, as this server knows it.
    holder: Option<u32>,
}

/// The background flush of the `AckBeforeSync` bug.
#[derive(Clone, Debug)]
pub struct Flush;

impl LockNode {
    fn persist(&mut self, ctx: &mut Ctx<'_, Self>, holder: Option<u32>) -> Result<(), String> {
        self.holder = holder;
        let bytes = serde_json::to_vec(&holder).expect("a holder serialises");
        ctx.disk().write(HOLDER, &bytes);
        if self.ack_before_sync {
            return Ok(());
        }
        ctx.disk().fsync().map_err(|e| e.to_string())
    }
}

impl Node for LockNode {
    type Msg = ();
    type Timer = Flush;
    type Service = Lock;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let saved = ctx.read_file(HOLDER);
        self.holder = saved.and_then(|b| serde_json::from_slice(&b).ok()).flatten();
        if self.ack_before_sync {
            ctx.set_timer(Duration::from_millis(50), Flush);
        }
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: ()) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _flush: Flush) {
        let _ = ctx.disk().fsync();
        ctx.set_timer(Duration::from_millis(50), Flush);
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request<LockOp>) {
        if self.id != SERVER {
            return ctx.reply(request.id, Reply::Redirect(Some(SERVER)));
        }
        let client = request.client;
        let reply = match (request.op, self.holder) {
            (LockOp::Acquire, None) => self.persist(ctx, Some(client)),
            (LockOp::Release, Some(h)) if h == client => self.persist(ctx, None),
            (LockOp::Acquire, Some(h)) => Err(format!("held by c{h}")),
            (LockOp::Release, _) => Err(format!("c{client} does not hold it")),
        };
        ctx.reply(request.id, reply.map_or_else(Reply::Fail, Reply::Ok));
    }

    fn role(&self) -> Role {
        if self.id == SERVER {
            Role::LEADER
        } else {
            Role::follows("redirector")
        }
    }
}

/// The fields of `protocol: Lock(...)`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LockConfig {
    /// Planted bugs: `AckBeforeSync`.
    pub bugs: Vec<LockBug>,
}

/// The mistakes this family can plant.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum LockBug {
    /// Answer before the holder is on disk.
    AckBeforeSync,
}

const GRANTS_SURVIVE_CRASHES: &str = "GrantsSurviveCrashes";

/// Watches the server: the holder it knows after a restart is the one it
/// knew when it crashed, since it acknowledged that.
struct GrantsSurvive {
    /// The holder the server knew after its last step, and whether it has
    /// restarted since.
    known: Option<u32>,
    restarted: bool,
    restarts: u64,
}

impl Observer<LockNode> for GrantsSurvive {
    fn after_step(&mut self, _at: &Moment, id: NodeId, node: &LockNode, found: &mut Findings) {
        if id != SERVER {
            return;
        }
        if std::mem::take(&mut self.restarted) && node.holder != self.known {
            let detail = format!(
                "{id} restarted believing the holder is {:?}, but it had acknowledged {:?}",
                node.holder, self.known
            );
            found.violated(GRANTS_SURVIVE_CRASHES, vec![id], detail);
        }
        self.known = node.holder;
    }

    fn started(&mut self, _at: &Moment, id: NodeId, _found: &mut Findings) {
        if id == SERVER {
            self.restarted = true;
            self.restarts += 1;
        }
    }

    fn finish(self: Box<Self>, _at: &Moment, _states: &[Option<&LockNode>], found: &mut Findings) {
        let lives = self.restarts;
        let evidence = format!(
            "the server kept its holder through {} restarts",
            lives.saturating_sub(1)
        );
        found.evaluated(GRANTS_SURVIVE_CRASHES, evidence);
    }
}

/// The lock service family: `protocol: Lock(...)` in a scenario.
pub struct LockService;

impl Family for LockService {
    const NAME: &'static str = "Lock";
    const ABOUT: &'static str = "one lock server (node 0) that fsyncs each grant; the others redirect to it";
    type Config = LockConfig;
    type Node = LockNode;

    fn validate(_config: &LockConfig, scenario: &Scenario) -> Result<(), Invalid> {
        if scenario.workload.as_ref().is_some_and(|w| w.keys != 1) {
            return Err(Invalid::at(
                path!["workload", "keys"],
                "there is one lock; expected no keys field",
            ));
        }
        Ok(())
    }

    fn node(config: &LockConfig, id: NodeId, _nodes: u32) -> LockNode {
        LockNode {
            id,
            ack_before_sync: config.bugs.contains(&LockBug::AckBeforeSync),
            holder: None,
        }
    }

    fn properties() -> &'static [PropertyDef] {
        &[PropertyDef {
            name: GRANTS_SURVIVE_CRASHES,
            when: When::Always,
            about: "a restarted server knows the holder it last acknowledged",
        }]
    }

    fn hooks(_config: &LockConfig, setup: &Setup<'_>) -> Hooks<LockNode> {
        let mut hooks = Hooks::default();
        if setup.wants(GRANTS_SURVIVE_CRASHES) {
            hooks.observers.push(Box::new(GrantsSurvive {
                known: None,
                restarted: false,
                restarts: 0,
            }));
        }
        hooks
    }

    fn planted_bugs() -> &'static [&'static str] {
        &["AckBeforeSync"]
    }

    fn bugs(config: &LockConfig) -> Vec<&'static str> {
        config.bugs.iter().map(|_| "AckBeforeSync").collect()
    }

    fn without_bugs(_config: &LockConfig) -> LockConfig {
        LockConfig::default()
    }
}
