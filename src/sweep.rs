//! Seed sweeps: every seed of every scenario, spread over worker threads.
//!
//! Each seed runs in its own madsim runtime on whichever worker takes it;
//! a run depends only on its scenario and seed, so the results are the
//! same whatever the number of workers. Results come back in the order
//! they finish and are sorted by (scenario, seed) at the end. Only a small
//! record per seed is kept, so memory stays flat over long sweeps.

use crate::check::{self, Verdict};
use crate::fnv::Fnv64;
use crate::report::{self, RunReport};
use crate::scenario::LoadedScenario;
use crate::sim::{self, RunOptions};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Instant;

/// Shard `index` of `count`: every `count`-th seed of the range, starting
/// at its `index`-th. Shards 0..count cover the range exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    pub fn seeds(self, range: Range<u64>) -> impl Iterator<Item = u64> {
        debug_assert!(self.index < self.count);
        let start = range.start.saturating_add(self.index);
        (start..range.end).step_by(self.count as usize)
    }
}

/// What a sweep keeps of one seed's run.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedResult {
    /// Index of the scenario in the sweep's list.
    pub scenario: usize,
    pub seed: u64,
    pub verdict: Verdict,
    pub trace_hash: u64,
    /// Checks that did not pass, with their verdicts.
    pub not_passed: Vec<(String, Verdict)>,
    pub wall_ms: f64,
    /// The report folder written for a seed that did not pass.
    pub report: Option<Result<PathBuf, String>>,
}

/// Runs `seed` of `scenario` and checks it, as `simulate run` would; if
/// it does not pass and `reports` is given, writes its report folder
/// (with a repro file) under it.
pub fn run_one(scenario: &LoadedScenario, index: usize, seed: u64, reports: Option<&Path>) -> SeedResult {
    let started = Instant::now();
    let outcome = sim::run_scenario(&scenario.spec, seed, &RunOptions::default());
    let checks = check::run_checks(&scenario.spec, &outcome);
    let not_passed = checks
        .iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .map(|c| (c.name.clone(), c.verdict))
        .collect();
    let verdict = check::overall(&checks);
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    let report = reports.filter(|_| verdict != Verdict::Pass).map(|root| {
        let dir = report::dir_in(root, &scenario.spec.name, seed);
        let report = RunReport {
            scenario,
            outcome: &outcome,
            checks,
            verdict,
            wall_ms,
            dir: Some(dir.clone()),
            write_repro: true,
        };
        let written = report
            .write()
            .map_err(|e| format!("cannot write {}: {e}", dir.display()));
        written.map(|()| dir)
    });
    SeedResult {
        scenario: index,
        seed,
        verdict,
        trace_hash: outcome.trace.hash(),
        not_passed,
        wall_ms,
        report,
    }
}

pub struct Plan<'a> {
    pub scenarios: &'a [LoadedScenario],
    pub seeds: Vec<u64>,
    pub jobs: usize,
    /// Stop taking new seeds after the first failure.
    pub fail_fast: bool,
    /// Where to write report folders of seeds that do not pass.
    pub reports: Option<PathBuf>,
}

/// What a sweep keeps: counts per scenario, the results that did not
/// pass, and a digest folded in (scenario, seed) order. Passing seeds add
/// nothing that grows, so memory stays flat however many seeds run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Seeds run, per scenario.
    pub ran: Vec<usize>,
    /// Time inside the runs, per scenario.
    pub run_ms: Vec<f64>,
    pub passed: usize,
    pub failed: usize,
    pub unknown: usize,
    /// Sorted by (scenario, seed) once the sweep is over.
    pub not_passed: Vec<SeedResult>,
    digest: Fnv64,
    /// Results that finished ahead of an earlier task, waiting to be
    /// folded into the digest; at most about one per worker.
    early: BTreeMap<usize, String>,
    next_task: usize,
}

impl Tally {
    fn new(scenarios: usize) -> Self {
        Tally {
            ran: vec![0; scenarios],
            run_ms: vec![0.0; scenarios],
            ..Tally::default()
        }
    }

    pub fn total(&self) -> usize {
        self.ran.iter().sum()
    }

    /// One hash over every (scenario, seed, trace hash, verdict), in
    /// order: sweeps of the same seeds agree on it whatever their worker
    /// count.
    pub fn digest(&self) -> u64 {
        debug_assert!(self.early.is_empty(), "every started task finished");
        self.digest.finish()
    }

    fn add(&mut self, task: usize, r: SeedResult) {
        self.ran[r.scenario] += 1;
        self.run_ms[r.scenario] += r.wall_ms;
        let line = format!(
            "{} {} {:016x} {}\n",
            r.scenario,
            r.seed,
            r.trace_hash,
            r.verdict.as_str()
        );
        self.early.insert(task, line);
        while let Some(line) = self.early.remove(&self.next_task) {
            self.digest.write(line.as_bytes());
            self.next_task += 1;
        }
        match r.verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail => self.failed += 1,
            Verdict::Unknown => self.unknown += 1,
        }
        if r.verdict != Verdict::Pass {
            self.not_passed.push(r);
        }
    }
}

/// Runs the plan; `on_result` sees each result as it finishes (on the
/// calling thread). `stop` ends the sweep early when set (e.g. by Ctrl-C):
/// seeds already running finish, no new ones start.
pub fn run(plan: &Plan<'_>, stop: &AtomicBool, mut on_result: impl FnMut(&SeedResult)) -> Tally {
    let per_scenario = plan.seeds.len();
    let tasks = plan.scenarios.len() * per_scenario;
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel();
    let mut tally = Tally::new(plan.scenarios.len());
    std::thread::scope(|scope| {
        for _ in 0..plan.jobs.max(1) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || loop {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let task = next.fetch_add(1, Ordering::Relaxed);
                if task >= tasks {
                    break;
                }
                let (index, seed) = (task / per_scenario, plan.seeds[task % per_scenario]);
                let result = run_one(&plan.scenarios[index], index, seed, plan.reports.as_deref());
                // Set here, not by the receiver: this worker must not
                // start another seed after its own failure.
                if plan.fail_fast && result.verdict == Verdict::Fail {
                    stop.store(true, Ordering::Relaxed);
                }
                if tx.send((task, result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (task, result) in rx {
            on_result(&result);
            tally.add(task, result);
        }
    });
    tally.not_passed.sort_by_key(|r| (r.scenario, r.seed));
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_a_range_exactly_once() {
        let mut all: Vec<u64> = (0..4)
            .flat_map(|k| Shard { index: k, count: 4 }.seeds(10..31))
            .collect();
        all.sort_unstable();
        assert_eq!(all, (10..31).collect::<Vec<_>>());
        assert_eq!(
            Shard { index: 1, count: 4 }.seeds(10..20).collect::<Vec<_>>(),
            [11, 15, 19]
        );
        assert_eq!(Shard::ALL.seeds(3..6).count(), 3);
        assert_eq!(Shard { index: 5, count: 8 }.seeds(0..3).count(), 0);
    }
}
