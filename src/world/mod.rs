//! The simulated world: one seeded madsim runtime per run, whose one task
//! steps every node and client; our own network, clocks and disks.
//!
//! A run: build the world, boot the nodes and start the clients, then
//! handle every event in time order, applying the nemesis's faults at
//! their times, until the end of the run (or until its budget runs out),
//! and hand back the trace, history, counts, what the observers found and
//! the fault schedule played. The only randomness is the seed's: every
//! draw comes from a named stream of it.
//!
//! Why one task, not a madsim node per simulated node (as before simulate
//! 0.4): node code never touches madsim (its time, randomness and I/O come
//! through `Ctx`), and a task per node cost, for every event, a madsim
//! timer, a wake-up and a switch of tasks: a quarter of a run's time,
//! measured. The world's queue gives each event its exact due time, and
//! events due at the same instant happen in the order they were scheduled.

mod budget;
mod cluster;
pub mod coverage;
mod engine;
mod nodes;
mod queue;
mod recorder;

pub use budget::{BudgetSpent, Resource};
pub use engine::{Addr, Factory};
pub use nodes::DiskHooks;
pub use recorder::MessageStats;

use crate::core::{Effects, Node, NodeId};
use crate::env::clock::ClockRecord;
use crate::env::rng::{self, SimRng};
use crate::fault::FaultCounts;
use crate::history::History;
use crate::nemesis::Nemesis;
use crate::net::Rule;
use crate::property::{Findings, Moment, Observer};
use crate::scenario::{Fault, Scenario};
use crate::trace::Trace;
use crate::workload::Workload;
use engine::World;
use std::collections::BTreeSet;
use std::panic::AssertUnwindSafe;

/// Message and fault counts of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages sent, delivered, dropped...
    pub messages: MessageStats,
    /// How often each fault actually happened (a skipped fault counts
    /// nothing), by trace event kind. Node faults count once per node;
    /// `drop` counts messages lost to link loss, `dup` copies made.
    pub faults: FaultCounts,
}

/// How to run, beyond the scenario and seed.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Print every trace line to stderr as it happens.
    pub echo_trace: bool,
    /// Keep only the trace's hash and counts, not its text: what a sweep
    /// needs of a seed that passes (a report runs the seed again for the
    /// text). Formatting the text is a third of a run's cost.
    pub hash_only: bool,
    /// Set (by Ctrl-C, say), the run's checks give up with unknown as soon
    /// as they notice. The simulation itself runs to its end: it is cheap
    /// next to a search, and bounded by its budget.
    pub interrupt: Option<&'static std::sync::atomic::AtomicBool>,
}

/// Rewrites a node's effects before the host carries them out: a Byzantine
/// node, whose messages, timers and replies are whatever the adversary
/// makes of what the correct code asked for.
pub trait Adversary<N: Node>: Send {
    /// Rewrites what node `id` asked for. Each fault it causes is noted in
    /// `faults` as (fault kind, detail), for the trace and the counts.
    fn rewrite(
        &mut self,
        at: &Moment,
        id: NodeId,
        effects: &mut Effects<N>,
        rng: &mut SimRng,
        faults: &mut Vec<(&'static str, String)>,
    );
}

/// What a family adds to a run: observers for its properties, and hooks
/// through which faults beyond the scenario's reach the nodes.
pub struct Hooks<N: Node> {
    /// Observers, each judging some properties.
    pub observers: Vec<Box<dyn Observer<N>>>,
    /// Rewrites nodes' effects (Byzantine faults).
    pub adversary: Option<Box<dyn Adversary<N>>>,
    /// Builds each node's disk fault hook.
    pub disk: Option<Box<DiskHooks>>,
    /// Per-packet rules appended to the network's chain.
    pub rules: Vec<Box<dyn Rule>>,
}

impl<N: Node> Default for Hooks<N> {
    fn default() -> Self {
        Hooks {
            observers: Vec::new(),
            adversary: None,
            disk: None,
            rules: Vec::new(),
        }
    }
}

/// Everything a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The seed it ran with.
    pub seed: u64,
    /// Every event.
    pub trace: Trace,
    /// The clients' operations.
    pub history: History,
    /// Message and fault counts.
    pub stats: Stats,
    /// Simulated time when the run stopped.
    pub end_ns: u64,
    /// When the heal-and-recover phase began, if there was one.
    pub recover_at_ns: Option<u64>,
    /// What the observers found.
    pub findings: Findings,
    /// Each node's clock over the run.
    pub clocks: Vec<ClockRecord>,
    /// A node's code panicked: a bug in the protocol, and a finding.
    pub panic: Option<String>,
    /// The faults the nemesis played, with their resolved targets, until
    /// the recovery phase: (time, fault) as explicit `At` faults.
    pub schedule: Vec<(u64, Fault)>,
    /// The budget that ran out, if one did: the run stopped there, and
    /// what it did not reach is unknown.
    pub budget_spent: Option<BudgetSpent>,
    /// The kinds of fault that had an effect, by [`coverage::Effect::key`]
    /// (`partition`: a partition dropped a message). Observation only: it
    /// is not in the trace, and changes no hash.
    pub coverage: BTreeSet<&'static str>,
}

/// Runs `scenario` with nodes built by `factory` (at boot and at every
/// restart); the scenario's `protocol` field is not consulted. Most users
/// register a family instead (see `protocols::Family`).
pub fn run<N: Node>(
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
    factory: impl Fn(NodeId) -> N + Send + Sync + 'static,
) -> RunOutcome
where
    N::Service: Workload,
{
    run_with(scenario, seed, options, factory, Hooks::default())
}

/// [`run`], with observers and fault hooks.
pub fn run_with<N: Node>(
    scenario: &Scenario,
    seed: u64,
    options: &RunOptions,
    factory: impl Fn(NodeId) -> N + Send + Sync + 'static,
    hooks: Hooks<N>,
) -> RunOutcome
where
    N::Service: Workload,
{
    let runtime = madsim::runtime::Runtime::with_seed_and_config(seed, madsim::Config::default());
    let factory: Factory<N> = Box::new(factory);
    let trace = crate::trace::Trace::new(!options.hash_only, options.echo_trace);
    let mut world = World::new(scenario, seed, factory, hooks, trace);
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async { drive(scenario, seed, &mut world) });
    }));
    let panic = result.err().map(|p| panic_message(&*p));
    let outcome = finish(&mut world, scenario, seed, panic);
    drop(world);
    drop(runtime);
    outcome
}

/// The run is over: account for what is in flight, let the observers look
/// at the final states, and hand everything back.
fn finish<N: Node>(world: &mut World<N>, scenario: &Scenario, seed: u64, panic: Option<String>) -> RunOutcome {
    // The last moment of the run: when the driver stopped it, or when a
    // panic did.
    let now = world.rec.ended_at_ns.unwrap_or_else(|| world.now_ns());
    world.rec.messages.in_flight = world.count_in_flight();
    // A panic may have struck between counting a message and queueing it.
    if panic.is_none() {
        world.rec.messages.assert_balanced();
    }
    // A panic or a spent budget ends the run early; otherwise it ran its
    // full length (the clock is a little past that, from stopping the
    // nodes).
    let stopped_early = panic.is_some() || world.meter.spent.is_some();
    debug_assert!(
        world.meter.spent.is_none_or(|s| s.at_ns == now),
        "a spent budget ended the run"
    );
    let end_ns = if stopped_early { now } else { scenario.run_length().0 };
    let findings = judge_the_end(world, now);
    // The trace ends with the end, or with the panic that ended the run.
    match &panic {
        Some(message) => world.rec.trace.record(now, "panic", format_args!("payload={message}")),
        None => world.rec.trace.record(now, "end", format_args!("")),
    }
    RunOutcome {
        seed,
        trace: std::mem::take(&mut world.rec.trace),
        history: std::mem::take(&mut world.rec.history),
        stats: Stats {
            messages: world.rec.messages,
            faults: std::mem::take(&mut world.rec.faults),
        },
        end_ns,
        recover_at_ns: world.recover_at_ns,
        findings,
        clocks: world.nodes.clock_records(&world.rec.clock_jumps),
        panic,
        schedule: std::mem::take(&mut world.rec.schedule),
        budget_spent: world.meter.spent,
        coverage: coverage_of(world),
    }
}

/// The kinds of fault that bit in the run: those the world noted as it
/// went, and clock jumps a node read.
fn coverage_of<N: Node>(world: &World<N>) -> BTreeSet<&'static str> {
    let read = world.nodes.slots.iter().any(|s| s.clock.read_after_jump());
    let jumps = read.then_some(coverage::Effect::ClockJump);
    world.rec.coverage.names(jumps)
}

/// The observers look at the final states; their at-the-end findings go in
/// the trace at the run's last moment, `now`.
fn judge_the_end<N: Node>(world: &mut World<N>, now: u64) -> Findings {
    let at = Moment {
        now_ns: now,
        recover_at_ns: world.recover_at_ns,
    };
    let mut findings = std::mem::take(&mut world.watch.findings);
    findings.at(now);
    let states: Vec<Option<&N>> = world.nodes.slots.iter().map(|s| s.state.as_ref()).collect();
    for o in std::mem::take(&mut world.watch.observers) {
        o.finish(&at, &states, &mut findings);
    }
    for (property, v) in findings.take_new() {
        world.rec.violation(now, property, v);
    }
    findings
}

/// The run's one task: boot the nodes and clients, then handle their
/// events in time order, with the nemesis's steps and the workload's end
/// between them (a step due at the same time as events goes first), until
/// the end of the run or of its budget.
fn drive<N: Node>(scenario: &Scenario, seed: u64, world: &mut World<N>) {
    let end_ns = scenario.run_length().0;
    world.boot_everyone();
    let mut nemesis = Nemesis::new(scenario, rng::stream(seed, "nemesis"));
    // The workload's end, then its final reads once every operation
    // pending at the end has had its full timeout: no write is still
    // pending when they begin. Validated: both inside the recovery phase.
    let mut finale: Vec<u64> = match &scenario.workload {
        Some(w) => w.final_reads.map_or_else(Vec::new, |after| {
            let stop = scenario.duration.0 + after.0;
            vec![stop + w.timeout.0, stop]
        }),
        None => Vec::new(),
    };
    while world.meter.spent.is_none() {
        let nemesis_due = nemesis.next_due_ns().filter(|t| *t <= end_ns);
        // At a tie the nemesis goes first: the finale follows the heal.
        let finale_first = finale.last().is_some_and(|f| nemesis_due.is_none_or(|n| *f < n));
        let step_due = if finale_first {
            finale.last().copied()
        } else {
            nemesis_due
        };
        let bound = step_due.unwrap_or(end_ns);
        while world.meter.spent.is_none() && world.step_before(bound) {}
        let Some(due) = step_due.filter(|_| world.meter.spent.is_none()) else {
            break;
        };
        world.advance_to(due);
        if finale_first {
            finale.pop();
            match finale.is_empty() {
                false => world.end_workload(),
                true => world.begin_final_reads(),
            }
            continue;
        }
        debug_assert_eq!(world.now_ns(), due, "a nemesis step runs when it is due");
        nemesis.step(world);
        world.boot_restarted();
    }
    if world.meter.spent.is_none() {
        world.advance_to(end_ns);
    }
    // A spent budget stopped the run earlier.
    let now = world.now_ns();
    world.rec.ended_at_ns.get_or_insert(now);
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.to_string()
    } else {
        "a panic with a non-string payload".to_string()
    }
}
