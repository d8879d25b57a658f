//! `simulate run FILE [--seed N] [--swarm] [--report WHEN] [--out DIR] [--json] [--check-determinism] [--trace]`

use super::{Env, EXIT_FAIL, EXIT_PASS, EXIT_UNKNOWN, EXIT_USAGE};
use crate::check::Verdict;
use crate::protocols::Bound;
use crate::report;
use crate::run::Checked;
use crate::world::RunOptions;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario file (.ron).
    file: PathBuf,
    /// Seed for every random choice; default: the scenario's `seed`, else 0.
    #[arg(long)]
    seed: Option<u64>,
    /// When to write the report folder (summary, trace, history, pictures,
    /// index.html, repro, schedule): when the run does not pass, always,
    /// or never.
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
    /// Run the seed's swarm variant of the scenario, as `sweep --swarm` does.
    #[arg(long)]
    swarm: bool,
}

pub fn run(args: RunArgs, env: &Env<'_>) -> i32 {
    let bound = match env.registry.load(&args.file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let seed = args.seed.or(bound.spec().seed).unwrap_or(0);
    let bound = if args.swarm { bound.swarm_variant(seed) } else { bound };
    if args.swarm {
        // On stderr, so that --json keeps stdout one object.
        eprintln!("{}", bound.spec().description);
    }
    let dir = args
        .out
        .unwrap_or_else(|| report::default_dir(&bound.spec().name, seed));
    let how = How {
        trace: args.trace,
        json: args.json,
        check_determinism: args.check_determinism,
        report: args.report,
        write_repro: true,
        summary: true,
    };
    match execute(&bound, seed, &how, dir, env) {
        Ok(checked) => exit_code(checked.verdict),
        Err(code) => code,
    }
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
/// (with a repro file) to `dir` if `how.report` wants one. Returns the run,
/// or the exit code if the report could not be written.
pub(super) fn execute(bound: &Bound, seed: u64, how: &How, dir: PathBuf, env: &Env<'_>) -> Result<Checked, i32> {
    // Only a report needs the trace's text.
    let options = RunOptions {
        echo_trace: how.trace,
        hash_only: how.report == ReportWhen::Never,
        ..RunOptions::default()
    };
    let checked = crate::run::run(bound, seed, &options, how.check_determinism);
    let mut report = checked.report(bound, how.report.wants(checked.verdict).then_some(dir), &env.program);
    report.write_repro = how.write_repro;
    let written = report.write_or_forget();
    // The result is printed even if the report could not be written.
    if how.summary && how.json {
        outln!("{}", report.to_json());
    } else if how.summary {
        out!("{}", report.to_text());
    }
    if let Err(e) = written {
        eprintln!("error: {e}");
        // A finding outranks the lost folder: the verdict's exit code
        // stays, and only a run that passed exits 2 for it.
        if checked.verdict == Verdict::Pass {
            return Err(EXIT_USAGE);
        }
    }
    drop(report);
    Ok(checked)
}

pub(super) fn exit_code(verdict: Verdict) -> i32 {
    match verdict {
        Verdict::Pass => EXIT_PASS,
        Verdict::Fail => EXIT_FAIL,
        Verdict::Unknown => EXIT_UNKNOWN,
    }
}
