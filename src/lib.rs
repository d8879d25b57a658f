//! simulate: a deterministic distributed-systems simulator and chaos tester.
//!
//! Module map, lowest layer first (each module only uses those above it):
//! - [`fnv`]: a hash that is the same on every machine (stream names, sweep digests).
//! - [`env`](mod@env): a node's environment: drifting clocks, a disk with a fault hook, seeded random streams.
//! - [`core`]: the node API: `Node`, its `Ctx` and `Effects`, services with their requests and
//!   replies, neutral values, roles, and a harness to drive one node by hand.
//! - [`scenario`]: RON scenario files: schema, parsing, the validation all scenarios share, error positions.
//! - [`history`]: client operation histories in neutral values, the native format and importers.
//! - [`fault`]: fault kinds, each defined once: trace event, count key, how pictures show it.
//! - [`trace`]: the event trace, its line format and hash, and the timeline read back from it.
//! - [`plot`]: pictures drawn with plotters from a timeline: space-time diagram, latency, ops on lanes.
//! - [`net`]: the network: a chain of per-packet rules (partition, loss, latency, duplication).
//! - [`nemesis`]: fault plans, scripted and random, with symbolic targets; the schedule played.
//! - [`workload`]: clients: the session rules, and generators per service (key-value).
//! - [`property`]: properties typed by when they must hold, and the observers that judge them.
//! - [`world`]: the world, stepped in time order in one madsim task: nodes, clients, transport, records,
//!   observers, fault hooks, budgets, fault coverage.
//! - [`check`]: checkers giving verdicts: linearizability with its models, regular-register reads,
//!   lost writes, liveness, properties, and the convergence observer families offer.
//! - [`protocols`]: protocol families behind one trait and one registry, and the built-in ones.
//! - [`report`]: summaries and report folders, with pictures and an index.html.
//! - [`run`]: the one run pipeline (run, check, report) that `run`, `sweep` and `replay` use.
//! - [`sweep`]: seed sweeps over worker threads, one runtime per seed.
//! - [`shrink`]: a failing run cut down to a small scenario that fails the same way.
//! - [`testing`]: a `#[test]` helper that sweeps a scenario, and the node harness.
//! - [`cli`]: the `simulate` command line, and `main_with` for binaries with families of their own.

#![deny(missing_docs)]

#[cfg(not(madsim))]
compile_error!("simulate runs on madsim's simulator: build with `--cfg madsim` (set in .cargo/config.toml; an exported RUSTFLAGS overrides it)");

pub mod check;
pub mod cli;
pub mod core;
pub mod env;
pub mod fault;
pub mod fnv;
pub mod history;
pub mod nemesis;
pub mod net;
pub mod plot;
pub mod property;
pub mod protocols;
pub mod report;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod sweep;
pub mod testing;
pub mod trace;
pub mod workload;
pub mod world;
