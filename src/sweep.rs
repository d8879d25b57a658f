//! Seed sweeps: every seed of every scenario, spread over worker threads.
//!
//! Each seed runs in its own madsim runtime on whichever worker takes it;
//! a run depends only on its scenario and seed, so the results are the
//! same whatever the number of workers. Results come back in the order
//! they finish and are sorted by (scenario, seed) at the end. Only a small
//! record per seed is kept, so memory stays flat over long sweeps, and
//! seeds are computed as they are taken: a range of any size costs nothing
//! until it runs.
//!
//! A scenario that demonstrates a bug (`expect: Fails([..])`) passes the
//! sweep when some seed shows the expected failure and no seed fails
//! another check; every other scenario passes when no seed fails.

use crate::check::Verdict;
use crate::fnv::Fnv64;
use crate::protocols::Bound;
use crate::report;
use crate::run::{self, Expectation};
use crate::world::RunOptions;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

/// Shard `index` of `count`: every `count`-th seed of the range, starting
/// at its `index`-th. Shards 0..count cover the range exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u64,
    /// How many shards in all.
    pub count: u64,
}

impl Shard {
    /// The whole range.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// This shard's seeds of `range`, in order.
    pub fn seeds(self, range: Range<u64>) -> impl Iterator<Item = u64> {
        (0..self.len(&range)).map(move |k| self.nth(&range, k))
    }

    /// How many seeds of `range` this shard runs.
    pub fn len(self, range: &Range<u64>) -> u64 {
        debug_assert!(self.index < self.count);
        let span = range.end.saturating_sub(range.start);
        span.saturating_sub(self.index).div_ceil(self.count)
    }

    /// This shard's `k`-th seed of `range`.
    pub fn nth(self, range: &Range<u64>, k: u64) -> u64 {
        debug_assert!(k < self.len(range));
        range.start + self.index + k * self.count
    }
}

/// What a sweep keeps of one seed's run.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedResult {
    /// Index of the scenario in the sweep's list.
    pub scenario: usize,
    /// The seed.
    pub seed: u64,
    /// The worst check's verdict.
    pub verdict: Verdict,
    /// How it ended against what the scenario expects.
    pub expectation: Expectation,
    /// The run's trace hash.
    pub trace_hash: u64,
    /// Checks that did not pass, with their verdicts.
    pub not_passed: Vec<(String, Verdict)>,
    /// Sometimes properties this seed saw.
    pub seen: Vec<String>,
    /// Wall time of the run and its checks.
    pub wall_ms: f64,
    /// The report folder written for a seed that did not pass.
    pub report: Option<Result<PathBuf, String>>,
}

/// Runs `seed` of `scenario` and checks it, as `simulate run` would; if
/// it does not pass and `reports` (the scenario's own folder) is given,
/// writes its report folder (with a repro file) at `reports/<seed>`.
/// `program` names the binary in replay lines.
pub fn run_one(scenario: &Bound, index: usize, seed: u64, reports: Option<&Path>, program: &str) -> SeedResult {
    let checked = run::run(scenario, seed, &RunOptions::default(), false);
    let not_passed = checked.not_passed();
    let seen = checked
        .checks
        .iter()
        .filter(|c| c.seen == Some(true))
        .map(|c| c.name.clone())
        .collect();
    let expectation = checked.expectation(scenario);
    // A bug demonstration failing as it should needs no report folder:
    // `simulate run FILE --seed N` makes one.
    let wanted = matches!(expectation, Expectation::Failed | Expectation::Unknown);
    let report = reports.filter(|_| wanted).map(|folder| {
        let dir = folder.join(seed.to_string());
        let written = checked
            .report(scenario, Some(dir.clone()), program)
            .write()
            .map_err(|e| format!("cannot write {}: {e}", dir.display()));
        written.map(|()| dir)
    });
    SeedResult {
        scenario: index,
        seed,
        verdict: checked.verdict,
        expectation,
        trace_hash: checked.outcome.trace.hash(),
        not_passed,
        seen,
        wall_ms: checked.wall_ms,
        report,
    }
}

/// What to sweep and how.
pub struct Plan<'a> {
    /// The scenarios, each run over every seed.
    pub scenarios: &'a [Bound],
    /// The seed range and the shard of it to run.
    pub seeds: Range<u64>,
    /// The part of the range this sweep runs.
    pub shard: Shard,
    /// Worker threads.
    pub jobs: usize,
    /// Stop taking new seeds after the first failure.
    pub fail_fast: bool,
    /// Where to write report folders of seeds that do not pass: each
    /// scenario's go in a folder of its own below this one (see
    /// [`Plan::folders`]).
    pub reports: Option<PathBuf>,
    /// The command that runs this binary, for replay lines.
    pub program: &'a str,
}

impl Plan<'_> {
    /// Seeds per scenario.
    pub fn seeds_each(&self) -> u64 {
        self.shard.len(&self.seeds)
    }

    /// Runs in all.
    pub fn runs(&self) -> u64 {
        self.seeds_each().saturating_mul(self.scenarios.len() as u64)
    }

    /// Each scenario's report folder under `reports`, in order: named
    /// after the scenario, and distinct even when two files share a name.
    pub fn folders(&self) -> Vec<String> {
        report::unique_folder_names(self.scenarios.iter().map(|s| s.spec().name.as_str()))
    }
}

/// What a sweep keeps: counts per scenario, the results that did not
/// pass, and a digest folded in (scenario, seed) order. Passing seeds add
/// nothing that grows, so memory stays flat however many seeds run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Seeds run, per scenario.
    pub ran: Vec<usize>,
    /// Seeds started, per scenario: the first `started[i]` seeds of the
    /// scenario's shard (tasks are taken in order, and each one taken
    /// runs to its end), so those after them never ran.
    pub started: Vec<u64>,
    /// Time inside the runs, per scenario.
    pub run_ms: Vec<f64>,
    /// Seeds that showed the expected failure, per scenario.
    pub expected: Vec<usize>,
    /// The lowest seed that showed the expected failure, per scenario.
    pub first_expected: Vec<Option<u64>>,
    /// Of those seeds, how many each expected check failed on, per scenario.
    pub expected_by_check: Vec<BTreeMap<String, usize>>,
    /// Seeds that saw each sometimes property, per scenario.
    pub seen: Vec<BTreeMap<String, usize>>,
    /// Seeds where every check passed.
    pub passed: usize,
    /// Seeds that failed a check they were not expected to fail.
    pub failed: usize,
    /// Seeds where nothing failed unexpectedly but a check could not decide.
    pub unknown: usize,
    /// Seeds that failed unexpectedly or could not be decided, sorted by
    /// (scenario, seed) once the sweep is over.
    pub not_passed: Vec<SeedResult>,
    digest: Fnv64,
    /// Results that finished ahead of an earlier task, waiting to be
    /// folded into the digest; at most about one per worker.
    early: BTreeMap<u64, String>,
    next_task: u64,
}

impl Tally {
    fn new(scenarios: usize) -> Self {
        Tally {
            ran: vec![0; scenarios],
            started: vec![0; scenarios],
            run_ms: vec![0.0; scenarios],
            expected: vec![0; scenarios],
            first_expected: vec![None; scenarios],
            expected_by_check: vec![BTreeMap::new(); scenarios],
            seen: vec![BTreeMap::new(); scenarios],
            ..Tally::default()
        }
    }

    /// Seeds run in all.
    pub fn total(&self) -> usize {
        self.ran.iter().sum()
    }

    /// Bug demonstrations that no seed of the sweep showed failing as
    /// expected (only among scenarios that ran at least one seed).
    pub fn missing_expected(&self, scenarios: &[Bound]) -> Vec<usize> {
        (0..scenarios.len())
            .filter(|&i| scenarios[i].expects_failure() && self.ran[i] > 0 && self.expected[i] == 0)
            .collect()
    }

    /// The sometimes properties scenario `i` asks for that no seed saw.
    pub fn never_seen(&self, scenarios: &[Bound], i: usize) -> Vec<String> {
        let asked = scenarios[i].checks.iter().filter(|c| {
            matches!(c, crate::protocols::Check::Property { def, .. } if def.when == crate::property::When::Sometimes)
        });
        asked
            .map(|c| c.name())
            .filter(|name| !self.seen[i].contains_key(name))
            .collect()
    }

    /// One hash over every (scenario, seed, trace hash, verdict), in
    /// order: sweeps of the same seeds agree on it whatever their worker
    /// count.
    pub fn digest(&self) -> u64 {
        debug_assert!(self.early.is_empty(), "every started task finished");
        self.digest.finish()
    }

    /// Adds the result of `task`, the `k`-th seed of its scenario's shard.
    fn add(&mut self, task: u64, k: u64, r: SeedResult) {
        self.ran[r.scenario] += 1;
        self.started[r.scenario] = self.started[r.scenario].max(k + 1);
        self.run_ms[r.scenario] += r.wall_ms;
        for name in &r.seen {
            *self.seen[r.scenario].entry(name.clone()).or_default() += 1;
        }
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
        match r.expectation {
            Expectation::Passed => self.passed += 1,
            Expectation::ExpectedFailure => self.expected[r.scenario] += 1,
            Expectation::Failed => self.failed += 1,
            Expectation::Unknown => self.unknown += 1,
        }
        if matches!(r.expectation, Expectation::Failed | Expectation::Unknown) {
            self.not_passed.push(r);
        } else if r.expectation == Expectation::ExpectedFailure {
            let first = &mut self.first_expected[r.scenario];
            *first = Some(first.map_or(r.seed, |s: u64| s.min(r.seed)));
            for (name, _) in r.not_passed.iter().filter(|(_, v)| *v == Verdict::Fail) {
                *self.expected_by_check[r.scenario].entry(name.clone()).or_default() += 1;
            }
        }
    }
}

/// Runs the plan; `on_result` sees each result as it finishes (on the
/// calling thread). `stop` ends the sweep early when set (e.g. by Ctrl-C):
/// seeds already running finish, no new ones start.
pub fn run(plan: &Plan<'_>, stop: &AtomicBool, mut on_result: impl FnMut(&SeedResult)) -> Tally {
    let per_scenario = plan.seeds_each();
    let tasks = plan.runs();
    let next = AtomicU64::new(0);
    let (tx, rx) = mpsc::channel();
    let mut tally = Tally::new(plan.scenarios.len());
    let folders = plan.folders();
    let folders = &folders;
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
                let index = (task / per_scenario) as usize;
                let seed = plan.shard.nth(&plan.seeds, task % per_scenario);
                let bound = &plan.scenarios[index];
                let folder = plan.reports.as_ref().map(|root| root.join(&folders[index]));
                let result = run_one(bound, index, seed, folder.as_deref(), plan.program);
                // Set here, not by the receiver: this worker must not
                // start another seed after its own failure.
                if plan.fail_fast && result.expectation == Expectation::Failed {
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
            tally.add(task, task % per_scenario, result);
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

    #[test]
    fn a_huge_range_costs_nothing_until_it_runs() {
        let all = 0..u64::MAX;
        assert_eq!(Shard::ALL.len(&all), u64::MAX);
        let last = Shard { index: 3, count: 4 };
        assert_eq!(
            last.nth(&all, last.len(&all) - 1),
            u64::MAX - 1 - (u64::MAX - 1 - 3) % 4
        );
        assert_eq!(Shard::ALL.seeds(10..u64::MAX).take(2).collect::<Vec<_>>(), [10, 11]);
    }
}
