//! The one run pipeline: simulate a seed of a bound scenario, check it, and
//! make its report. `simulate run`, `sweep`, `replay` and the `#[test]`
//! helper all go through here, so a seed means the same everywhere.

pub use crate::check::Expectation;

use crate::check::{self, CheckResult, Verdict};
use crate::protocols::Bound;
use crate::report::RunReport;
use crate::world::{RunOptions, RunOutcome};
use std::path::PathBuf;
use std::time::Instant;

/// One seed, run and checked.
pub struct Checked {
    /// What the run produced.
    pub outcome: RunOutcome,
    /// NoPanic, the scenario's checks, and Determinism if asked for.
    pub checks: Vec<CheckResult>,
    /// The worst verdict.
    pub verdict: Verdict,
    /// Wall time of the run and its checks.
    pub wall_ms: f64,
}

/// Runs seed `seed` of `bound` and checks it; with `determinism`, runs it
/// twice and compares the traces too (their texts: both keep them).
pub fn run(bound: &Bound, seed: u64, options: &RunOptions, determinism: bool) -> Checked {
    let started = Instant::now();
    let text_kept = RunOptions {
        hash_only: false,
        ..options.clone()
    };
    let outcome = bound.run(seed, if determinism { &text_kept } else { options });
    let mut checks = bound.check_until(&outcome, options.interrupt);
    if determinism {
        let again = bound.run(seed, &RunOptions::default());
        checks.push(check::determinism(&outcome, &again));
    }
    let verdict = check::overall(&checks);
    Checked {
        outcome,
        checks,
        verdict,
        wall_ms: started.elapsed().as_secs_f64() * 1e3,
    }
}

impl Checked {
    /// The checks that did not pass, with their verdicts.
    pub fn not_passed(&self) -> Vec<(String, Verdict)> {
        let bad = self.checks.iter().filter(|c| c.verdict != Verdict::Pass);
        bad.map(|c| (c.name.clone(), c.verdict)).collect()
    }

    /// How the seed ended against `bound`'s expectation.
    pub fn expectation(&self, bound: &Bound) -> Expectation {
        check::classify(&self.not_passed(), &bound.expected)
    }

    /// This run with its trace's text, which a report needs: itself if it
    /// kept the text, else the seed run again keeping it. The rerun must
    /// give the same trace hash; if it does not, the run is not
    /// deterministic, and a failed `Determinism` check says so (the report
    /// then shows the rerun's trace).
    pub fn with_text(mut self, bound: &Bound) -> Checked {
        if self.outcome.trace.has_text() {
            return self;
        }
        let again = bound.run(self.outcome.seed, &RunOptions::default());
        let (was, is) = (self.outcome.trace.hash_hex(), again.trace.hash_hex());
        if was != is {
            // The report shows the rerun: its checks, not the first run's.
            let detail = format!(
                "the seed run again to write its trace gave trace hash {is}, the first run {was}: the same seed ran differently (this report shows the second run)"
            );
            self.checks = bound.check(&again);
            self.checks
                .push(CheckResult::new("Determinism".to_string(), Verdict::Fail, detail));
            self.verdict = check::overall(&self.checks);
        }
        self.outcome = again;
        self
    }

    /// The report of this run; its folder is `dir`, if one is wanted.
    /// Its outcome must have kept the trace's text (see
    /// [`Checked::with_text`]).
    pub fn report<'a>(&'a self, bound: &'a Bound, dir: Option<PathBuf>, program: &'a str) -> RunReport<'a> {
        RunReport {
            scenario: &bound.loaded,
            outcome: &self.outcome,
            checks: self.checks.clone(),
            verdict: self.verdict,
            wall_ms: self.wall_ms,
            dir,
            write_repro: true,
            fault_kinds: &bound.fault_kinds,
            expected: &bound.expected,
            program,
            unwritten: None,
        }
    }
}
