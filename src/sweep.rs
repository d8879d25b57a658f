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
//! The sweep's digest is a set hash: each seed's line (scenario index,
//! seed, trace hash, verdict) is hashed on its own and the hashes are
//! added. It does not depend on the order results arrive in, needs no
//! buffer to restore task order, and the digests of shards that cover a
//! range add up to the digest of the unsharded sweep.
//!
//! A plan may also name seeds outside the range to run first, per
//! scenario (a seed corpus's: see `simulate sweep --corpus`): they are
//! tasks like the others and fold into the digest; split between shards
//! by [`Shard::owns`], the shards' digests still add up.
//!
//! A scenario that demonstrates a bug (`expect: Fails([..])`) passes the
//! sweep when some seed shows the expected failure and no seed fails
//! another check; every other scenario passes when no seed fails.

use crate::check::Verdict;
use crate::fnv;
use crate::protocols::Bound;
use crate::report;
use crate::run::{self, Expectation};
use crate::world::RunOptions;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

/// Shard `index` of `count`: every `count`-th seed of the range, starting
/// at its `index`-th. Shards 0..count cover the range exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// Whether `seed` is this shard's: for a seed of `range`, whether the
    /// shard runs it; for any other (a corpus seed outside the range), a
    /// split by the same rule, so that the shards of a sweep share the
    /// corpus seeds out between them, each once.
    pub fn owns(self, range: &Range<u64>, seed: u64) -> bool {
        seed.wrapping_sub(range.start) % self.count == self.index
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
    /// Kinds of fault that had an effect in this seed (see
    /// [`crate::world::coverage`]).
    pub effects: Vec<&'static str>,
    /// Wall time of the run and its checks.
    pub wall_ms: f64,
    /// The report folder written for a seed that did not pass.
    pub report: Option<Result<PathBuf, String>>,
    /// A stop cancelled its checks: it decided nothing, and counts as not
    /// run.
    pub interrupted: bool,
}

/// Runs `seed` of `scenario` and checks it, as `simulate run` would; if
/// it does not pass and `reports` (the scenario's own folder) is given,
/// writes its report folder (with a repro file) at `reports/<seed>`.
/// `program` names the binary in replay lines.
/// A `cancel` flag set while it runs cuts its checks short: the seed is
/// then interrupted, and gets no report.
pub fn run_one(
    scenario: &Bound,
    (index, seed): (usize, u64),
    reports: Option<&Path>,
    program: &str,
    cancel: Option<&'static AtomicBool>,
) -> SeedResult {
    // A seed's text is formatted only if it gets a report (run again).
    let options = RunOptions {
        interrupt: cancel,
        hash_only: true,
        ..RunOptions::default()
    };
    let checked = run::run(scenario, seed, &options, false);
    let not_passed = checked.not_passed();
    let seen = checked
        .checks
        .iter()
        .filter(|c| c.seen == Some(true))
        .map(|c| c.name.clone())
        .collect();
    let expectation = checked.expectation(scenario);
    let cancelled = cancel.is_some_and(|c| c.load(Ordering::SeqCst));
    let interrupted = cancelled && expectation == Expectation::Unknown;
    // A bug demonstration failing as it should needs no report folder:
    // `simulate run FILE --seed N` makes one.
    let wanted = matches!(expectation, Expectation::Failed | Expectation::Unknown) && !interrupted;
    let (verdict, wall_ms) = (checked.verdict, checked.wall_ms);
    let trace_hash = checked.outcome.trace.hash();
    let effects = checked.outcome.coverage.iter().copied().collect();
    let report = reports.filter(|_| wanted).map(|folder| {
        let dir = folder.join(seed.to_string());
        let written = checked
            .with_text(scenario)
            .report(scenario, Some(dir.clone()), program)
            .write()
            .map_err(|e| format!("cannot write {}: {e}", dir.display()));
        written.map(|()| dir)
    });
    SeedResult {
        scenario: index,
        seed,
        verdict,
        expectation,
        trace_hash,
        not_passed,
        seen,
        effects,
        wall_ms,
        report,
        interrupted,
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
    /// Run each seed's swarm variant of its scenario
    /// ([`Bound::swarm_variant`]) instead of the scenario as written.
    pub swarm: bool,
    /// Where to write report folders of seeds that do not pass: each
    /// scenario's go in a folder of its own below this one (see
    /// [`Plan::folders`]).
    pub reports: Option<PathBuf>,
    /// The command that runs this binary, for replay lines.
    pub program: &'a str,
    /// Seeds to run before the range, per scenario (those of a seed
    /// corpus that this shard owns and the range does not hold; see
    /// [`Shard::owns`]): tasks `0..corpus_runs()`, scenario by scenario.
    pub corpus: Vec<Vec<u64>>,
}

/// Which seed of which scenario each task runs: the corpus seeds first,
/// then each scenario's seeds of the range.
#[derive(Clone, Debug)]
struct Tasks {
    corpus: Vec<(usize, u64)>,
    seeds: Range<u64>,
    shard: Shard,
    per_scenario: u64,
    len: u64,
}

impl Tasks {
    fn of(plan: &Plan<'_>) -> Self {
        let corpus = plan.corpus.iter().enumerate();
        let corpus: Vec<(usize, u64)> = corpus
            .flat_map(|(i, seeds)| seeds.iter().map(move |&s| (i, s)))
            .collect();
        debug_assert!(
            corpus.iter().all(|&(_, s)| !plan.holds(s)),
            "a corpus seed of the range runs in its place, not twice"
        );
        Tasks {
            corpus,
            seeds: plan.seeds.clone(),
            shard: plan.shard,
            per_scenario: plan.seeds_each(),
            len: plan.runs(),
        }
    }

    /// The scenario and seed of `task`.
    fn get(&self, task: u64) -> (usize, u64) {
        debug_assert!(task < self.len);
        let corpus = self.corpus.len() as u64;
        if task < corpus {
            return self.corpus[task as usize];
        }
        let t = task - corpus;
        (
            (t / self.per_scenario) as usize,
            self.shard.nth(&self.seeds, t % self.per_scenario),
        )
    }
}

impl Plan<'_> {
    /// Seeds per scenario.
    pub fn seeds_each(&self) -> u64 {
        self.shard.len(&self.seeds)
    }

    /// Runs in all: the corpus seeds and the range's.
    pub fn runs(&self) -> u64 {
        let range = self.seeds_each().saturating_mul(self.scenarios.len() as u64);
        range.saturating_add(self.corpus_runs())
    }

    /// Runs of corpus seeds outside the range.
    pub fn corpus_runs(&self) -> u64 {
        self.corpus.iter().map(|c| c.len() as u64).sum()
    }

    /// Whether the range (with the shard) holds `seed`.
    pub fn holds(&self, seed: u64) -> bool {
        self.seeds.contains(&seed) && self.shard.owns(&self.seeds, seed)
    }

    /// The scenario and seed task `task` runs, for tasks `0..runs()`.
    pub fn task(&self, task: u64) -> (usize, u64) {
        Tasks::of(self).get(task)
    }

    /// Each scenario's report folder under `reports`, in order: named
    /// after the scenario, and distinct even when two files share a name.
    pub fn folders(&self) -> Vec<String> {
        report::unique_folder_names(self.scenarios.iter().map(|s| s.spec().name.as_str()))
    }
}

/// What a sweep keeps: counts per scenario, the results that did not
/// pass, and a digest summed over the seeds (see [`seed_digest`]).
/// Passing seeds add nothing that grows, so memory stays flat however
/// many seeds run.
#[derive(Debug, Default)]
pub struct Tally {
    /// Seeds run, per scenario (corpus seeds outside the range included).
    pub ran: Vec<usize>,
    /// Corpus seeds outside the range that ran, per scenario, sorted once
    /// the sweep is over.
    pub corpus_ran: Vec<Vec<u64>>,
    /// Tasks `0..corpus_tasks` are corpus seeds outside the range.
    pub corpus_tasks: u64,
    /// Tasks taken by the workers: tasks are taken in order, so these are
    /// tasks `0..taken` (a scenario's seeds, then the next scenario's);
    /// every one taken reported, unless the sweep was abandoned.
    pub taken: u64,
    /// Seeds started whose checks a stop cancelled, per scenario: they
    /// count as not run.
    pub interrupted: Vec<Vec<u64>>,
    /// A stop was asked for during the sweep.
    pub stopped: bool,
    /// The sweep returned without waiting for the seeds still running (a
    /// second stop request): see [`Tally::unreported`].
    pub abandoned: bool,
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
    /// Seeds in which each kind of fault had an effect, per scenario.
    pub effects: Vec<BTreeMap<String, usize>>,
    /// Seeds where every check passed.
    pub passed: usize,
    /// Seeds that failed a check they were not expected to fail.
    pub failed: usize,
    /// Seeds where nothing failed unexpectedly but a check could not decide.
    pub unknown: usize,
    /// Seeds that failed unexpectedly or could not be decided, sorted by
    /// (scenario, seed) once the sweep is over.
    pub not_passed: Vec<SeedResult>,
    digest: u64,
    /// Tasks `0..next_task` have all reported; these, past it, have too.
    /// Workers take tasks in order, so this holds about one per worker:
    /// enough to say which tasks an abandoned sweep left running.
    early: BTreeSet<u64>,
    next_task: u64,
}

/// The digest of one seed's run: FNV-1a of its line, then a finaliser
/// (splitmix64's) so that every input bit reaches every output bit; FNV
/// alone leaves lines that differ in one character with hashes that differ
/// in a few low bits, whose sums could collide.
pub fn seed_digest(scenario: usize, seed: u64, trace_hash: u64, verdict: Verdict) -> u64 {
    let line = format!("{scenario} {seed} {trace_hash:016x} {}\n", verdict.as_str());
    let mut z = fnv::hash(line.as_bytes());
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Tally {
    fn new(scenarios: usize) -> Self {
        Tally {
            ran: vec![0; scenarios],
            corpus_ran: vec![Vec::new(); scenarios],
            interrupted: vec![Vec::new(); scenarios],
            run_ms: vec![0.0; scenarios],
            expected: vec![0; scenarios],
            first_expected: vec![None; scenarios],
            expected_by_check: vec![BTreeMap::new(); scenarios],
            seen: vec![BTreeMap::new(); scenarios],
            effects: vec![BTreeMap::new(); scenarios],
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

    /// The kinds of fault scenario `i` can produce that had an effect in
    /// no seed: inert faults, a finding about the scenario (it tests less
    /// than it seems to), not a failure of the sweep.
    pub fn inert(&self, scenarios: &[Bound], i: usize) -> Vec<String> {
        let possible = crate::world::coverage::possible(scenarios[i].spec());
        possible
            .into_iter()
            .map(|e| e.key().to_string())
            .filter(|key| !self.effects[i].contains_key(key))
            .collect()
    }

    /// The wrapping sum of [`seed_digest`] over every seed run (not over
    /// interrupted ones): sweeps of the same seeds agree on it whatever
    /// their worker count, and the digests of shards add up to it.
    pub fn digest(&self) -> u64 {
        debug_assert!(self.early.is_empty() || self.abandoned, "every started task finished");
        self.digest
    }

    /// Tasks taken that never reported: those an abandoned sweep left
    /// running (none otherwise).
    pub fn unreported(&self) -> Vec<u64> {
        (self.next_task..self.taken)
            .filter(|t| !self.early.contains(t))
            .collect()
    }

    /// Notes that `task` reported.
    fn reported(&mut self, task: u64) {
        debug_assert!(
            task >= self.next_task && !self.early.contains(&task),
            "each task reports once"
        );
        self.early.insert(task);
        while self.early.remove(&self.next_task) {
            self.next_task += 1;
        }
    }

    /// Adds the result of `task`.
    fn add(&mut self, task: u64, r: SeedResult) {
        self.reported(task);
        if r.interrupted {
            // Nothing of it is kept but its seed, and it adds nothing to
            // the digest.
            self.interrupted[r.scenario].push(r.seed);
            return;
        }
        self.ran[r.scenario] += 1;
        if task < self.corpus_tasks {
            self.corpus_ran[r.scenario].push(r.seed);
        }
        self.run_ms[r.scenario] += r.wall_ms;
        for name in &r.seen {
            *self.seen[r.scenario].entry(name.clone()).or_default() += 1;
        }
        for &key in &r.effects {
            *self.effects[r.scenario].entry(key.to_string()).or_default() += 1;
        }
        self.digest = self
            .digest
            .wrapping_add(seed_digest(r.scenario, r.seed, r.trace_hash, r.verdict));
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

/// How a sweep is stopped from outside (Ctrl-C, SIGTERM). The first
/// request stops new seeds from starting and cancels the checks running
/// (their seeds are reported interrupted, not passed); a second makes the
/// sweep return at once with what has finished, leaving the runs still
/// going to end with the process.
#[derive(Debug, Default)]
pub struct Stop {
    stopping: AtomicBool,
    abandoning: AtomicBool,
}

impl Stop {
    /// Not stopped.
    pub const fn new() -> Self {
        Stop {
            stopping: AtomicBool::new(false),
            abandoning: AtomicBool::new(false),
        }
    }

    /// Asks the sweep to stop: soon the first time, at once the next.
    pub fn request(&self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            self.abandoning.store(true, Ordering::SeqCst);
        }
    }

    /// Whether a stop was asked for: no new seed starts.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Relaxed)
    }

    /// The flag running checks watch: set, they give up.
    pub fn cancel_flag(&self) -> &AtomicBool {
        &self.stopping
    }

    fn abandoning(&self) -> bool {
        self.abandoning.load(Ordering::Relaxed)
    }
}

/// What the workers share: an owned copy of the plan, as they may outlive
/// an abandoned sweep.
struct Work {
    scenarios: Vec<Bound>,
    tasks: Tasks,
    fail_fast: bool,
    swarm: bool,
    folders: Option<Vec<PathBuf>>,
    program: String,
    next: AtomicU64,
    failed: AtomicBool,
}

impl Work {
    /// Takes and runs tasks until none is left or the sweep stops.
    fn serve(&self, stop: &'static Stop, tx: &mpsc::Sender<(u64, SeedResult)>) {
        while !stop.stopping() && !self.failed.load(Ordering::Relaxed) {
            let task = self.next.fetch_add(1, Ordering::Relaxed);
            if task >= self.tasks.len {
                break;
            }
            let (index, seed) = self.tasks.get(task);
            let folder = self.folders.as_ref().map(|f| f[index].as_path());
            let cancel = Some(stop.cancel_flag());
            let variant = self.swarm.then(|| self.scenarios[index].swarm_variant(seed));
            let scenario = variant.as_ref().unwrap_or(&self.scenarios[index]);
            let result = run_one(scenario, (index, seed), folder, &self.program, cancel);
            // Set here, not by the receiver: this worker must not start
            // another seed after its own failure.
            if self.fail_fast && result.expectation == Expectation::Failed {
                self.failed.store(true, Ordering::Relaxed);
            }
            if tx.send((task, result)).is_err() {
                break;
            }
        }
    }
}

/// Runs the plan; `on_result` sees each result as it finishes (on the
/// calling thread). `stop` ends the sweep early (see [`Stop`]).
pub fn run(plan: &Plan<'_>, stop: &'static Stop, mut on_result: impl FnMut(&SeedResult)) -> Tally {
    let folders = plan.folders();
    let work = Arc::new(Work {
        scenarios: plan.scenarios.to_vec(),
        tasks: Tasks::of(plan),
        fail_fast: plan.fail_fast,
        swarm: plan.swarm,
        folders: plan
            .reports
            .as_ref()
            .map(|root| folders.iter().map(|f| root.join(f)).collect()),
        program: plan.program.to_string(),
        next: AtomicU64::new(0),
        failed: AtomicBool::new(false),
    });
    let (tx, rx) = mpsc::channel();
    let workers: Vec<_> = (0..plan.jobs.max(1))
        .map(|_| {
            let (work, tx) = (Arc::clone(&work), tx.clone());
            std::thread::spawn(move || work.serve(stop, &tx))
        })
        .collect();
    drop(tx);
    let mut tally = Tally::new(plan.scenarios.len());
    tally.corpus_tasks = plan.corpus_runs();
    loop {
        match rx.recv_timeout(std::time::Duration::from_millis(50)) {
            Ok((task, result)) => {
                on_result(&result);
                tally.add(task, result);
            }
            Err(mpsc::RecvTimeoutError::Timeout) if stop.abandoning() => {
                tally.abandoned = true;
                break;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    tally.stopped = stop.stopping();
    // Read after the last result: with every worker gone (or, abandoned,
    // past caring), no task is taken after this.
    tally.taken = work.next.load(Ordering::SeqCst).min(work.tasks.len);
    if !tally.abandoned {
        for worker in workers {
            // A worker that panicked lost only its own seed, which the
            // tally shows as not run.
            let _ = worker.join();
        }
    }
    tally.not_passed.sort_by_key(|r| (r.scenario, r.seed));
    tally.corpus_ran.iter_mut().for_each(|c| c.sort_unstable());
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

    fn result(scenario: usize, seed: u64, interrupted: bool) -> SeedResult {
        SeedResult {
            scenario,
            seed,
            verdict: Verdict::Pass,
            expectation: Expectation::Passed,
            trace_hash: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ scenario as u64,
            not_passed: Vec::new(),
            seen: Vec::new(),
            effects: Vec::new(),
            wall_ms: 1.0,
            report: None,
            interrupted,
        }
    }

    #[test]
    fn the_digest_ignores_arrival_order_and_shards_add_up_to_it() {
        let tasks: Vec<(u64, SeedResult)> = (0..12).map(|t| (t, result((t / 6) as usize, t % 6, false))).collect();
        let mut forward = Tally::new(2);
        tasks.iter().cloned().for_each(|(t, r)| forward.add(t, r));
        let mut backward = Tally::new(2);
        tasks.iter().rev().cloned().for_each(|(t, r)| backward.add(t, r));
        assert_eq!(forward.digest(), backward.digest());
        // A shard numbers its own tasks from 0.
        let mut shards = [Tally::new(2), Tally::new(2), Tally::new(2)];
        for (_, r) in tasks.iter().cloned() {
            let shard = &mut shards[(r.seed % 3) as usize];
            shard.add(shard.next_task, r);
        }
        let sum = shards.iter().fold(0u64, |d, s| d.wrapping_add(s.digest()));
        assert_eq!(sum, forward.digest());
        // A different verdict or trace hash on one seed changes it.
        let mut other = Tally::new(2);
        for (t, mut r) in tasks.iter().cloned() {
            r.verdict = if t == 7 { Verdict::Fail } else { r.verdict };
            other.add(t, r);
        }
        assert_ne!(other.digest(), forward.digest());
        assert_ne!(seed_digest(0, 1, 5, Verdict::Pass), seed_digest(0, 1, 4, Verdict::Pass));
    }

    #[test]
    fn interrupted_seeds_add_nothing_and_unreported_tasks_are_found() {
        let mut alone = Tally::new(1);
        alone.add(0, result(0, 0, false));
        let mut tally = Tally::new(1);
        tally.add(0, result(0, 0, false));
        tally.add(1, result(0, 2, true));
        assert_eq!(tally.digest(), alone.digest(), "an interrupted seed decided nothing");
        let mut tally = Tally::new(1);
        tally.add(0, result(0, 0, false));
        tally.add(2, result(0, 2, true));
        tally.add(4, result(0, 4, false));
        tally.abandoned = true;
        tally.taken = 6;
        assert_eq!(tally.unreported(), [1, 3, 5]);
        assert_eq!(tally.interrupted, [vec![2]]);
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
