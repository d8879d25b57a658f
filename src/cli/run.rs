//! `simulate run FILE [--seed N] [--report WHEN] [--out DIR] [--json] [--check-determinism] [--trace]`

use super::{EXIT_FAIL, EXIT_PASS, EXIT_UNKNOWN, EXIT_USAGE};
use crate::check::{self, Verdict};
use crate::report::{self, RunReport};
use crate::scenario::locate::Seg;
use crate::scenario::{LoadedScenario, ProtocolSpec, ScenarioError};
use crate::sim::{self, RunOptions, RunOutcome};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario file (.ron).
    file: PathBuf,
    /// Seed for every random choice; default: the scenario's `seed`, else 0.
    #[arg(long)]
    seed: Option<u64>,
    /// When to write the report folder (summary, trace, history, pictures,
    /// index.html, repro): when the run does not pass, always, or never.
    #[arg(long, value_enum, default_value_t = ReportWhen::Failure)]
    report: ReportWhen,
    /// Report folder; default: reports/<scenario>/<seed>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the text summary.
    #[arg(long)]
    json: bool,
    /// Run twice and compare the traces event by event.
    #[arg(long)]
    check_determinism: bool,
    /// Print every trace event to stderr as it happens.
    #[arg(long)]
    trace: bool,
}

pub fn run(args: RunArgs) -> i32 {
    let loaded = match crate::scenario::load(&args.file).and_then(built_in) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let seed = args.seed.or(loaded.spec.seed).unwrap_or(0);
    let dir = args.out.unwrap_or_else(|| report::default_dir(&loaded.spec.name, seed));
    let how = How {
        trace: args.trace,
        json: args.json,
        check_determinism: args.check_determinism,
        report: args.report,
        write_repro: true,
        summary: true,
    };
    match execute(&loaded, seed, &how, dir) {
        Ok((verdict, _)) => exit_code(verdict),
        Err(code) => code,
    }
}

/// `loaded`, if `simulate` can run its protocol: a `Custom` one comes
/// from the library user's code.
pub(super) fn built_in(loaded: LoadedScenario) -> Result<LoadedScenario, ScenarioError> {
    if let ProtocolSpec::Custom(name) = &loaded.spec.protocol {
        let message = format!(
            "protocol Custom({name:?}) comes from library code and runs through simulate::sim::run; \
             expected a built-in protocol (Single, AsyncPrimaryBackup(..), Raft(..))"
        );
        return Err(loaded.error_at(&[Seg::Field("protocol")], message));
    }
    Ok(loaded)
}

/// When a run writes its report folder.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportWhen {
    /// When the verdict is not pass (fail or unknown).
    Failure,
    Always,
    Never,
}

impl ReportWhen {
    fn wants(self, verdict: Verdict) -> bool {
        match self {
            ReportWhen::Failure => verdict != Verdict::Pass,
            ReportWhen::Always => true,
            ReportWhen::Never => false,
        }
    }
}

/// How to run and show one seed.
pub(super) struct How {
    pub trace: bool,
    pub json: bool,
    pub check_determinism: bool,
    pub report: ReportWhen,
    pub write_repro: bool,
    /// Print the summary (text or JSON) on stdout.
    pub summary: bool,
}

/// Runs and checks one seed, prints the summary, writes the report folder
/// (with a repro file) to `dir` if `how.report` wants one. Returns the
/// verdict and the run, or the exit code if the report could not be
/// written.
pub(super) fn execute(
    loaded: &LoadedScenario,
    seed: u64,
    how: &How,
    dir: PathBuf,
) -> Result<(Verdict, RunOutcome), i32> {
    let options = RunOptions { echo_trace: how.trace };
    let started = Instant::now();
    let outcome = sim::run_scenario(&loaded.spec, seed, &options);
    let wall_ms = started.elapsed().as_secs_f64() * 1e3;
    let mut checks = check::run_checks(&loaded.spec, &outcome);
    if how.check_determinism {
        let again = sim::run_scenario(&loaded.spec, seed, &RunOptions::default());
        checks.push(check::determinism(&outcome, &again));
    }
    let verdict = check::overall(&checks);
    let report = RunReport {
        scenario: loaded,
        outcome: &outcome,
        checks,
        verdict,
        wall_ms,
        dir: how.report.wants(verdict).then_some(dir),
        write_repro: how.write_repro,
    };

    let written = report.write();
    // The result is printed even if the report could not be written.
    if how.summary && how.json {
        outln!("{}", report.to_json());
    } else if how.summary {
        out!("{}", report.to_text());
    }
    if let Err(e) = written {
        let dir = report.dir.as_ref().map_or(String::new(), |d| d.display().to_string());
        eprintln!("error: cannot write the report to {dir}: {e}");
        return Err(EXIT_USAGE);
    }
    drop(report);
    Ok((verdict, outcome))
}

pub(super) fn exit_code(verdict: Verdict) -> i32 {
    match verdict {
        Verdict::Pass => EXIT_PASS,
        Verdict::Fail => EXIT_FAIL,
        Verdict::Unknown => EXIT_UNKNOWN,
    }
}
