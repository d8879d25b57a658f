//! For tests, yours and ours: sweep a scenario over a seed range inside a
//! `#[test]`, and drive one node by hand ([`Harness`]).
//!
//! ```no_run
//! use simulate::protocols::Registry;
//! use simulate::testing::Sweep;
//!
//! #[test]
//! fn my_lock_service_holds() {
//!     let registry = Registry::builtin(); // .with::<MyFamily>()
//!     Sweep::new(&registry).seeds(0..50).check("scenarios/lock.ron");
//! }
//! ```
//!
//! On failure the test panics with each seed that failed, its failing
//! checks, and the exact command that replays it.

pub use crate::core::Harness;

use crate::check::Expectation;
use crate::check::Verdict;
use crate::protocols::{Bound, Registry};
use crate::sweep::{self, Plan, SeedResult, Shard, Stop};
use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;

/// A sweep run from a test.
pub struct Sweep<'a> {
    registry: &'a Registry,
    seeds: Range<u64>,
    jobs: usize,
    program: String,
}

/// What a sweep found.
#[derive(Clone, Debug, PartialEq)]
pub struct Swept {
    /// The scenario's name.
    pub scenario: String,
    /// Seeds run.
    pub ran: usize,
    /// Seeds where every check passed.
    pub passed: usize,
    /// Seeds that showed the failure a bug demonstration expects, each
    /// with the checks that failed.
    pub failed_as_expected: Vec<(u64, Vec<String>)>,
    /// Seeds that failed a check they were not expected to fail, or could
    /// not decide one, with those checks.
    pub not_passed: Vec<(u64, Vec<(String, Verdict)>)>,
    /// The sweep's digest (same seeds, same digest, whatever the jobs).
    pub digest: u64,
}

impl Swept {
    /// The seeds on which `check` failed as expected.
    pub fn caught_by(&self, check: &str) -> Vec<u64> {
        let caught = self
            .failed_as_expected
            .iter()
            .filter(|(_, failed)| failed.iter().any(|f| f == check));
        caught.map(|(seed, _)| *seed).collect()
    }
}

impl<'a> Sweep<'a> {
    /// A sweep of seeds 0..20 on every core, with `registry`'s families.
    pub fn new(registry: &'a Registry) -> Self {
        Sweep {
            registry,
            seeds: 0..20,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            program: "simulate".to_string(),
        }
    }

    /// The seeds to run.
    pub fn seeds(mut self, seeds: Range<u64>) -> Self {
        self.seeds = seeds;
        self
    }

    /// Worker threads.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.jobs = jobs.max(1);
        self
    }

    /// How failure messages call your binary (made with `cli::main_with`),
    /// so the replay command they print works: default `simulate`.
    pub fn program(mut self, program: &str) -> Self {
        self.program = program.to_string();
        self
    }

    /// Sweeps the scenario file at `path` and panics, listing every seed
    /// that did not go as expected, if any did not (or if a bug
    /// demonstration showed its failure on no seed).
    pub fn check(&self, path: impl AsRef<Path>) -> Swept {
        let path = path.as_ref();
        let bound = self.registry.load(path).unwrap_or_else(|e| panic!("{e}"));
        self.check_bound(&bound, &path.display().to_string())
    }

    /// [`Sweep::check`] for a scenario already bound; `file` names it in
    /// replay commands.
    pub fn check_bound(&self, bound: &Bound, file: &str) -> Swept {
        let swept = self.run(bound);
        if let Some(why) = self.complaint(bound, file, &swept) {
            panic!("{why}");
        }
        swept
    }

    /// Sweeps without judging: what happened on each seed.
    pub fn run(&self, bound: &Bound) -> Swept {
        let scenarios = std::slice::from_ref(bound);
        let plan = Plan {
            scenarios,
            seeds: self.seeds.clone(),
            shard: Shard::ALL,
            jobs: self.jobs,
            fail_fast: false,
            swarm: false,
            reports: None,
            program: &self.program,
            corpus: Vec::new(),
        };
        let mut failed_as_expected = Vec::new();
        // Never asked to stop: a test sweeps every seed.
        static NEVER: Stop = Stop::new();
        let tally = sweep::run(&plan, &NEVER, |r: &SeedResult| {
            if r.expectation == Expectation::ExpectedFailure {
                let failed = r.not_passed.iter().filter(|(_, v)| *v == Verdict::Fail);
                failed_as_expected.push((r.seed, failed.map(|(n, _)| n.clone()).collect()));
            }
        });
        failed_as_expected.sort_unstable_by_key(|(seed, _)| *seed);
        Swept {
            scenario: bound.spec().name.clone(),
            ran: tally.total(),
            passed: tally.passed,
            failed_as_expected,
            not_passed: tally
                .not_passed
                .iter()
                .map(|r| (r.seed, r.not_passed.clone()))
                .collect(),
            digest: tally.digest(),
        }
    }

    /// Why the sweep does not pass, if it does not.
    fn complaint(&self, bound: &Bound, file: &str, swept: &Swept) -> Option<String> {
        let range = format!("{}..{}", self.seeds.start, self.seeds.end);
        let mut why = String::new();
        for (seed, checks) in &swept.not_passed {
            let checks: Vec<String> = checks.iter().map(|(n, v)| format!("{n} ({})", v.as_str())).collect();
            let _ = writeln!(
                why,
                "seed {seed}: {}\n  replay: {} run {file} --seed {seed}",
                checks.join(", "),
                self.program
            );
        }
        if bound.expects_failure() && swept.failed_as_expected.is_empty() {
            let _ = writeln!(
                why,
                "no seed of {range} showed the expected failure ({})",
                bound.expected.join(", ")
            );
        }
        (!why.is_empty()).then(|| format!("{} over seeds {range}:\n{why}", swept.scenario))
    }
}
