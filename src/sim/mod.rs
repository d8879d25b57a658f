//! The simulated world on madsim: one seeded runtime per run, a madsim node
//! per simulated node and client, our own network, clocks and disks.
//!
//! A run: build the world, create the madsim nodes (their hosts boot the
//! protocol nodes and clients), walk the nemesis timeline until the end of
//! the run, then stop every node and hand back the trace, history and
//! counts. The only randomness is the seed's: madsim's scheduler is seeded
//! with it, and every draw of ours comes from a named stream of it.

pub mod clock;
mod cluster;
pub mod disk;
mod host;
pub mod observe;
mod queue;
pub mod rng;
mod world;

pub use observe::{Observed, Observer, Violation};
pub use world::{Addr, BoxedObserver, Factory};

use crate::history::History;
use crate::nemesis::Nemesis;
use crate::protocol::primary_backup::PrimaryBackup;
use crate::protocol::raft::Raft;
use crate::protocol::single::Single;
use crate::protocol::{Node, NodeId};
use crate::scenario::{ProtocolSpec, Scenario};
use crate::trace::Trace;
use host::{Host, Who};
use serde::Serialize;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use world::{Shared, World};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageStats {
    pub sent: u64,
    pub delivered: u64,
    /// For any reason: loss, partition, receiver down.
    pub dropped: u64,
    /// Extra copies made by the network.
    pub duplicated: u64,
    /// Still travelling (or queued at a node that never handled them) when
    /// the run ended. sent + duplicated = delivered + dropped + in_flight.
    pub in_flight: u64,
}

/// How often each fault actually happened (a skipped fault counts nothing).
/// Node faults count once per node; `drop` counts messages lost to link
/// loss, `duplicate` copies made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FaultStats {
    pub partition: u64,
    pub one_way_partition: u64,
    pub heal: u64,
    pub crash: u64,
    pub restart: u64,
    pub pause: u64,
    pub resume: u64,
    pub clock_jump: u64,
    pub drop: u64,
    pub duplicate: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub messages: MessageStats,
    pub faults: FaultStats,
}

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Print every trace line to stderr as it happens.
    pub echo_trace: bool,
}

/// Everything a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    pub seed: u64,
    pub trace: Trace,
    pub history: History,
    pub stats: Stats,
    /// Simulated time when the run stopped.
    pub end_ns: u64,
    /// When the heal-and-recover phase began, if there was one.
    pub recover_at_ns: Option<u64>,
    /// What the protocol's observer found, if it had one.
    pub observed: Option<Observed>,
    /// Each node's clock over the run.
    pub clocks: Vec<clock::ClockRecord>,
    /// A node's code panicked: a bug in the protocol, and a finding.
    pub panic: Option<String>,
}

/// Runs `scenario` with the built-in protocol it names.
///
/// # Panics
/// On `Custom` protocols, which only the caller's code can build: use [`run`].
pub fn run_scenario(scenario: &Scenario, seed: u64, options: &RunOptions) -> RunOutcome {
    match &scenario.protocol {
        ProtocolSpec::Custom(name) => panic!("protocol Custom({name:?}) is not built in; run it with sim::run"),
        ProtocolSpec::Single => run(scenario, seed, options, |_| Single::default()),
        ProtocolSpec::AsyncPrimaryBackup(pb) => {
            let heartbeat = Duration::from_nanos(pb.heartbeat.0);
            run(scenario, seed, options, move |id| PrimaryBackup::new(id, heartbeat))
        }
        ProtocolSpec::Raft(spec) => {
            let config = crate::protocol::raft::Config::from(spec);
            let observer = crate::check::raft::Invariants::new(scenario.nodes);
            run_observed(
                scenario,
                seed,
                options,
                move |id| Raft::new(id, config.clone()),
                Some(Box::new(observer)),
            )
        }
    }
}

/// Runs `scenario` with nodes built by `factory` (at boot and at every
/// restart); the scenario's `protocol` field is not consulted. This is how
/// a library user runs their own protocol.
pub fn run<N: Node>(
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
    factory: impl Fn(NodeId) -> N + Send + Sync + 'static,
) -> RunOutcome {
    run_observed(scenario, seed, options, factory, None)
}

/// [`run`], with `observer` watching every node's state as the run goes.
pub fn run_observed<N: Node>(
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
    factory: impl Fn(NodeId) -> N + Send + Sync + 'static,
    observer: Option<BoxedObserver<N>>,
) -> RunOutcome {
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    let slot: Arc<Mutex<Option<Shared<N>>>> = Arc::default();
    let world_slot = slot.clone();
    let factory: Factory<N> = Box::new(factory);
    let echo = options.echo_trace;
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async move {
            let world = Arc::new(Mutex::new(World::new(scenario, seed, factory, echo)));
            {
                let mut w = world.lock().expect("no panic yet");
                w.me = Arc::downgrade(&world);
                w.observer = observer;
            }
            *world_slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(world.clone());
            drive(scenario, seed, &world).await;
        })
    }));
    let world = slot
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()
        .expect("the world is built before anything can panic");
    let mut world = world.lock().unwrap_or_else(PoisonError::into_inner);
    let panic = result.err().map(|p| panic_message(&*p));
    if let Some(message) = &panic {
        let now = world.now_ns();
        world.trace.record(now, "panic", format_args!("payload={message}"));
    }
    let in_flight = world.count_in_flight();
    world.stats.messages.in_flight = in_flight;
    // A panic ends the run early; otherwise it ran its full length (the
    // clock is a little past that, from stopping the nodes).
    let end_ns = if panic.is_some() {
        world.now_ns()
    } else {
        scenario.run_length().0
    };
    let outcome = RunOutcome {
        seed,
        trace: std::mem::take(&mut world.trace),
        history: std::mem::take(&mut world.history),
        stats: world.stats,
        end_ns,
        recover_at_ns: world.recover_at_ns,
        observed: world.observer.take().map(|o| o.finish()),
        clocks: clock_records(&world),

        panic,
    };

    drop(world);
    drop(runtime);
    outcome
}

/// The run's main task: create the nodes, play the nemesis, stop at the end.
async fn drive<N: Node>(scenario: &Scenario, seed: u64, world: &Shared<N>) {
    let handle = madsim::runtime::Handle::current();
    let end_ns = scenario.run_length().0;
    let (node_count, client_count) = {
        let w = world.lock().expect("no panic yet");
        (w.nodes.len() as u32, w.clients.len() as u32)
    };
    for i in 0..node_count {
        let id = spawn_host(&handle, world, format!("n{i}"), Who::Node(i));
        world.lock().expect("no panic yet").nodes[i as usize].madsim = Some(id);
    }
    for c in 0..client_count {
        let id = spawn_host(&handle, world, format!("c{c}"), Who::Client(c));
        world.lock().expect("no panic yet").clients[c as usize].madsim = Some(id);
    }
    let down = handle.create_node().name("down").build().id();
    world.lock().expect("no panic yet").down_node = Some(down);
    let mut nemesis = Nemesis::new(scenario, rng::stream(seed, "nemesis"));
    let time = host::SimTime::current();
    while let Some(due) = nemesis.next_due_ns().filter(|t| *t <= end_ns) {
        time.sleep_until(due).await;
        nemesis.step(&mut *world.lock().expect("a panic ends the run"));
    }
    time.sleep_until(end_ns).await;
    let ids: Vec<_> = {
        let mut w = world.lock().expect("a panic ends the run");
        let now = w.now_ns();
        w.trace.record(now, "end", format_args!(""));
        let nodes = w.nodes.iter().filter_map(|s| s.madsim);
        let clients = w.clients.iter().filter_map(|s| s.madsim);
        nodes.chain(clients).chain(w.down_node).collect()
    };
    for id in ids {
        handle.kill(id);
    }
    // Let madsim drop the killed tasks before block_on returns; tasks left
    // pending would leak (and keep the world alive).
    madsim::time::sleep(Duration::from_millis(1)).await;
}

fn spawn_host<N: Node>(
    handle: &madsim::runtime::Handle,
    world: &Shared<N>,
    name: String,
    who: Who,
) -> madsim::task::NodeId {
    let world = world.clone();
    handle
        .create_node()
        .name(name)
        .init(move || Host::new(world.clone(), who))
        .build()
        .id()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

fn clock_records<N: Node>(world: &World<N>) -> Vec<clock::ClockRecord> {
    world
        .nodes
        .iter()
        .enumerate()
        .map(|(i, slot)| clock::ClockRecord {
            drift_ppm: slot.clock.drift_ppm,
            offset_ns: slot.clock.offset_ns,
            jumps: world
                .clock_jumps
                .iter()
                .filter(|(_, n, _)| *n as usize == i)
                .map(|&(t, _, by)| (t, by))
                .collect(),
        })
        .collect()
}
