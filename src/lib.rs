//! simulate: a deterministic distributed-systems simulator and chaos tester.
//!
//! Module map, in data-flow order (each module only uses those above it):
//! - [`fnv`]: a hash that is the same on every machine (trace hash, stream names).
//! - [`scenario`]: RON scenario files: schema, parsing, validation, error positions.
//! - [`protocol`]: the node API (the `Node` trait and its `Ctx`) and the built-in protocols (single, primary-backup, Raft).
//! - [`history`]: client operation histories, the native JSON Lines format and importers.
//! - [`trace`]: the event trace, its line format and hash, and the timeline read back from it.
//! - [`plot`]: pictures drawn with plotters: space-time diagram, latency, ops on lanes.
//! - [`net`]: the simulated network: latency, loss, duplication, partitions.
//! - [`workload`]: clients that issue operations and record the history.
//! - [`nemesis`]: fault schedules, scripted and random, with symbolic targets.
//! - [`sim`]: the world on madsim: hosts, clocks, disks, RNG streams, observers; runs a scenario
//!   (for Raft it attaches `check::raft`'s observer, the one use of a module below it).
//! - [`check`]: checkers (linearizability with its models and counterexamples, liveness, Raft's invariants) giving verdicts.
//! - [`sweep`]: seed sweeps over worker threads, one runtime per seed.
//! - [`report`]: summaries and report folders, with pictures and an index.html.
//! - [`cli`]: the `simulate` command line.

#[cfg(not(madsim))]
compile_error!("simulate runs on madsim's simulator: build with `--cfg madsim` (set in .cargo/config.toml; an exported RUSTFLAGS overrides it)");

pub mod check;
pub mod cli;
pub mod fnv;
pub mod history;
pub mod nemesis;
pub mod net;
pub mod plot;
pub mod protocol;
pub mod report;
pub mod scenario;
pub mod sim;
pub mod sweep;
pub mod trace;
pub mod workload;
