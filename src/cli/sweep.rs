//! `simulate sweep FILE... --seeds A..B [--jobs N] [--shard K/N] [--fail-fast] [--json FILE]`
//!
//! Prints a line per seed that failed unexpectedly or could not decide
//! (with the command that replays it), a line per bug demonstration saying
//! how many seeds showed its expected failure, and a summary. Exit 1 if a
//! seed failed a check it was not expected to fail, or a bug demonstration
//! showed its failure on no seed; else 130 if interrupted; else 3 if a seed
//! was unknown; else 0.

use super::{Env, EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS, EXIT_UNKNOWN, EXIT_USAGE};
use crate::check::linear::html::escape;
use crate::check::Expectation;
use crate::protocols::Bound;
use crate::report::shell_word;
use crate::scenario::ScenarioError;
use crate::sweep::{self, Plan, SeedResult, Shard, Stop, Tally};
use serde_json::json;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Instant;

/// More worker threads than this is never useful on one machine.
pub const JOBS_MAX: usize = 1024;

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Scenario files (.ron).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Seeds to run, as A..B (B excluded).
    #[arg(long, value_parser = parse_seeds)]
    seeds: Range<u64>,
    /// Worker threads; default: one per core.
    #[arg(long)]
    jobs: Option<usize>,
    /// Run only shard K of N: every N-th seed from A + K. Shards 0/N to
    /// (N-1)/N together cover the range exactly once.
    #[arg(long, value_parser = parse_shard)]
    shard: Option<Shard>,
    /// Stop starting seeds after the first failure.
    #[arg(long)]
    fail_fast: bool,
    /// Write a JSON summary here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Report folders of seeds that do not pass go under DIR/<scenario>/<N>.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Write JUnit XML here: one test case per scenario and seed range,
    /// its failure listing each failing seed with the command that replays it.
    #[arg(long)]
    junit: Option<PathBuf>,
}

fn parse_seeds(text: &str) -> Result<Range<u64>, String> {
    let bad = || format!("{text:?} is not a seed range; expected A..B with A < B, e.g. 0..1000");
    let (a, b) = text.split_once("..").ok_or_else(bad)?;
    let (a, b) = (
        a.parse::<u64>().map_err(|_| bad())?,
        b.parse::<u64>().map_err(|_| bad())?,
    );
    if a >= b {
        return Err(bad());
    }
    Ok(a..b)
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let bad = || format!("{text:?} is not a shard; expected K/N with 0 <= K < N, e.g. 0/4");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (index, count) = (
        k.parse::<u64>().map_err(|_| bad())?,
        n.parse::<u64>().map_err(|_| bad())?,
    );
    if index >= count {
        return Err(bad());
    }
    Ok(Shard { index, count })
}

fn load_all(files: &[PathBuf], env: &Env<'_>) -> Result<Vec<Bound>, ScenarioError> {
    files.iter().map(|f| env.registry.load(f)).collect()
}

pub fn sweep(args: SweepArgs, env: &Env<'_>) -> i32 {
    let loaded = match load_all(&args.files, env) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let shard = args.shard.unwrap_or(Shard::ALL);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut plan = Plan {
        scenarios: &loaded,
        seeds: args.seeds.clone(),
        shard,
        jobs: args.jobs.unwrap_or(cores),
        fail_fast: args.fail_fast,
        reports: Some(args.out.clone()),
        program: &env.program,
    };
    if plan.jobs > JOBS_MAX {
        eprintln!(
            "error: --jobs {} is more than {JOBS_MAX}; expected at most {JOBS_MAX}",
            plan.jobs
        );
        return EXIT_USAGE;
    }
    // No more workers than runs: each would only start and stop.
    plan.jobs = plan.jobs.min(usize::try_from(plan.runs()).unwrap_or(usize::MAX)).max(1);
    let started = Instant::now();
    let tally = run_plan(&plan, &args, &loaded);
    let wall_s = started.elapsed().as_secs_f64();
    let outcome = summarize(&plan, &args, &tally, wall_s);
    if let Err(e) = write_files(&plan, &args, &tally, wall_s, outcome.interrupted) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    outcome.exit_code()
}

/// Runs the plan with a progress bar and Ctrl-C handling, printing each
/// seed that did not go as expected as it finishes.
fn run_plan(plan: &Plan<'_>, args: &SweepArgs, loaded: &[Bound]) -> Tally {
    // Ctrl-C or SIGTERM (how CI runners and Kubernetes stop a job): no
    // new seeds start and running checks give up; a second one returns
    // at once. The summary of what ran is printed and written either way.
    static STOP: Stop = Stop::new();
    if let Err(e) = ctrlc::set_handler(|| STOP.request()) {
        eprintln!("warning: Ctrl-C and SIGTERM will not stop the sweep cleanly: {e}");
    }
    let progress = progress_bar(plan.runs());
    let labels = Labels::new(&args.files, loaded);
    let mut failures = 0;
    let tally = sweep::run(plan, &STOP, |r| {
        failures += usize::from(r.expectation == Expectation::Failed);
        progress.set_message(format!("{failures} failed"));
        progress.inc(1);
        if matches!(r.expectation, Expectation::Failed | Expectation::Unknown) {
            // Above the bar on a terminal; a plain line in CI logs.
            progress.suspend(|| outln!("{}", seed_line(&labels, plan.program, r)));
        }
    });
    progress.finish_and_clear();
    tally
}

/// What the sweep found, for the exit code.
struct Outcome {
    failed: usize,
    missing: usize,
    unknown: usize,
    interrupted: bool,
}

impl Outcome {
    fn exit_code(&self) -> i32 {
        if self.failed > 0 || self.missing > 0 {
            EXIT_FAIL
        } else if self.interrupted {
            EXIT_INTERRUPTED
        } else if self.unknown > 0 {
            EXIT_UNKNOWN
        } else {
            EXIT_PASS
        }
    }
}

/// Prints the expected failures, what no seed saw, and the summary line.
fn summarize(plan: &Plan<'_>, args: &SweepArgs, tally: &Tally, wall_s: f64) -> Outcome {
    let scenarios = plan.scenarios;
    let labels = Labels::new(&args.files, scenarios);
    let range = format!("{}..{}", args.seeds.start, args.seeds.end);
    for (i, s) in scenarios.iter().enumerate().filter(|(_, s)| s.expects_failure()) {
        let shown = tally.expected[i];
        let first = tally.first_expected[i].map_or(String::new(), |f| format!(", first seed {f}"));
        let by_check = |name: &String| format!("{name} {}", tally.expected_by_check[i].get(name).unwrap_or(&0));
        let what = s.expected.iter().map(by_check).collect::<Vec<_>>().join(", ");
        let name = &labels.names[i];
        match shown {
            0 if tally.ran[i] > 0 => {
                outln!("fail {name}: no seed of {range} showed its expected failure ({what})")
            }
            _ => outln!(
                "expected {name}: {shown} of {} seeds failed as expected ({what}){first}",
                tally.ran[i]
            ),
        }
    }
    for (i, label) in labels.names.iter().enumerate() {
        for name in tally.never_seen(scenarios, i) {
            outln!("never seen {label}: {name} held in no seed of {range}");
        }
    }
    let ran = tally.total();
    let planned = plan.runs();
    let interrupted = tally.stopped && (ran as u64) < planned;
    if interrupted {
        let cut: usize = tally.interrupted.iter().map(Vec::len).sum();
        let cut = cut + tally.unreported().len();
        outln!("interrupted: {ran} of {planned} runs done, {cut} more cut short");
    }
    let expected: usize = tally.expected.iter().sum();
    outln!(
        "swept {ran} of {planned} runs ({} scenario{}, seeds {range}, shard {}/{}, {} jobs) in {wall_s:.1}s, {:.1} runs/s: {} passed, {expected} failed as expected, {} failed, {} unknown; digest {:016x}",
        scenarios.len(),
        if scenarios.len() == 1 { "" } else { "s" },
        plan.shard.index,
        plan.shard.count,
        plan.jobs,
        ran as f64 / wall_s.max(1e-9),
        tally.passed,
        tally.failed,
        tally.unknown,
        tally.digest()
    );
    Outcome {
        failed: tally.failed,
        missing: tally.missing_expected(scenarios).len(),
        unknown: tally.unknown,
        interrupted,
    }
}

/// The JSON summary and JUnit XML, if asked for.
fn write_files(plan: &Plan<'_>, args: &SweepArgs, tally: &Tally, wall_s: f64, interrupted: bool) -> Result<(), String> {
    let write = |path: &PathBuf, text: &str| {
        crate::report::write_atomic(path, text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    if let Some(path) = &args.json {
        let summary = json_summary(plan, args, tally, wall_s, interrupted);
        write(
            path,
            &(serde_json::to_string_pretty(&summary).expect("the summary serialises") + "\n"),
        )?;
    }
    if let Some(path) = &args.junit {
        write(path, &junit(args, plan, tally, wall_s))?;
    }
    Ok(())
}

fn json_summary(plan: &Plan<'_>, args: &SweepArgs, tally: &Tally, wall_s: f64, interrupted: bool) -> serde_json::Value {
    let scenarios = plan.scenarios;
    let labels = Labels::new(&args.files, scenarios);
    json!({
        "seeds": {"start": args.seeds.start, "end": args.seeds.end},
        "shard": {"index": plan.shard.index, "count": plan.shard.count},
        "jobs": plan.jobs,
        "planned": plan.runs(),
        "ran": tally.total(),
        "passed": tally.passed,
        "failed_as_expected": tally.expected.iter().sum::<usize>(),
        "failed": tally.failed,
        "unknown": tally.unknown,
        "wall_s": wall_s,
        // Time inside the runs themselves (simulate and check), over
        // all workers: wall_s * jobs - run_s is what the sweep added.
        "run_s": tally.run_ms.iter().sum::<f64>() / 1e3,
        "interrupted": interrupted,
        "digest": format!("{:016x}", tally.digest()),
        "stopped_because": (tally.total() as u64 != plan.runs()).then(|| stop_reason(args, tally)),
        "scenarios": (0..scenarios.len()).map(|i| scenario_json(i, plan, &labels, tally)).collect::<Vec<_>>(),
    })
}

/// Seeds done, seeds per second, failures so far and time left, on
/// stderr; hidden unless stdout is a terminal (in CI the lines per failure
/// and the summary say it all).
fn progress_bar(total: u64) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} seeds  {rate}  {msg}  ETA {eta}")
        .expect("the template is valid")
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.1} seeds/s", state.per_sec());
            },
        );

    indicatif::ProgressBar::new(total).with_style(style)
}

fn seed_line(labels: &Labels, program: &str, r: &SeedResult) -> String {
    let (program, file) = (shell_word(program), shell_word(&labels.files[r.scenario]));
    let replay = match &r.report {
        Some(Ok(dir)) => format!(
            "{program} replay {}",
            shell_word(&dir.join("repro.ron").display().to_string())
        ),
        Some(Err(e)) => format!("{program} run {file} --seed {} (no report: {e})", r.seed),
        None => format!("{program} run {file} --seed {}", r.seed),
    };
    let checks: Vec<String> = r
        .not_passed
        .iter()
        .map(|(name, v)| format!("{name} ({})", v.as_str()))
        .collect();
    format!(
        "{} {} seed {}: {}\n  replay: {replay}",
        r.verdict.as_str(),
        labels.names[r.scenario],
        r.seed,
        checks.join(", "),
    )
}

/// How the sweep's output names each scenario: by its name, and by name
/// and file where two files share a name.
struct Labels {
    names: Vec<String>,
    files: Vec<String>,
}

impl Labels {
    fn new(files: &[PathBuf], scenarios: &[Bound]) -> Self {
        let files: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
        let name = |i: usize| scenarios[i].spec().name.as_str();
        let shared = |i: usize| (0..scenarios.len()).filter(|&j| name(j) == name(i)).count() > 1;
        let names = (0..scenarios.len())
            .map(|i| match shared(i) {
                true => format!("{} ({})", name(i), files[i]),
                false => name(i).to_string(),
            })
            .collect();
        Labels { names, files }
    }
}

/// Which of a scenario's seeds ran: a seed range (with the sweep's
/// shard), and which did not, if some did not.
struct Coverage {
    /// The seeds that ran, as `A..B` with the shard if there is one, and
    /// the seeds in it that a stop interrupted; None if none ran.
    ran: Option<String>,
    /// The seeds that did not run, as above: those never started and
    /// those interrupted; None when all ran.
    not_run: Option<String>,
    /// How many did not run.
    not_run_count: u64,
    /// The seeds a stop interrupted (or left running), in order.
    interrupted: Vec<u64>,
}

impl Coverage {
    fn of(plan: &Plan<'_>, tally: &Tally, i: usize) -> Self {
        let (range, shard) = (&plan.seeds, plan.shard);
        let per_scenario = plan.seeds_each();
        let started = tally.taken.saturating_sub(i as u64 * per_scenario).min(per_scenario);
        let left_running = tally.unreported().into_iter().filter(|t| t / per_scenario == i as u64);
        let left_running = left_running.map(|t| shard.nth(range, t % per_scenario));
        let mut interrupted: Vec<u64> = tally.interrupted[i].iter().copied().chain(left_running).collect();
        interrupted.sort_unstable();
        debug_assert_eq!(
            started,
            (tally.ran[i] + interrupted.len()) as u64,
            "every seed started is counted once"
        );
        let boundary = match started < shard.len(range) {
            true => shard.nth(range, started),
            false => range.end,
        };
        let with_shard = |a: u64, b: u64| match shard == Shard::ALL {
            true => format!("{a}..{b}"),
            false => format!("{a}..{b} shard {}/{}", shard.index, shard.count),
        };
        let listed = interrupted.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let mut ran = with_shard(range.start, boundary);
        let mut not_run = Vec::new();
        if !interrupted.is_empty() {
            ran.push_str(&format!(" except {listed}"));
            not_run.push(format!("{listed} (interrupted)"));
        }
        let not_started = shard.len(range) - started;
        if not_started > 0 {
            not_run.insert(0, with_shard(boundary, range.end));
        }
        Coverage {
            ran: (tally.ran[i] > 0).then_some(ran),
            not_run: (!not_run.is_empty()).then(|| not_run.join(" and ")),
            not_run_count: not_started + interrupted.len() as u64,
            interrupted,
        }
    }
}

/// JUnit XML, as CI systems display it: a suite per scenario with one case
/// for the seeds that ran (failing seeds make a `failure`, unknown ones,
/// when none failed, an `error`) and, when some never ran (Ctrl-C,
/// `--fail-fast`), one `skipped` case for those.
fn junit(args: &SweepArgs, plan: &Plan<'_>, tally: &Tally, wall_s: f64) -> String {
    let labels = Labels::new(&args.files, plan.scenarios);
    let stopped = stop_reason(args, tally);
    let suites: Vec<Suite> = (0..plan.scenarios.len())
        .map(|i| junit_suite(i, plan, tally, &labels, stopped))
        .collect();
    let count = |f: fn(&Suite) -> usize| suites.iter().map(f).sum::<usize>();
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"simulate sweep\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{wall_s:.3}\">\n",
        count(|s| s.tests),
        count(|s| s.failures),
        count(|s| s.skipped),
    );
    for suite in &suites {
        xml.push_str(&suite.xml);
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// Why seeds of the range did not run.
fn stop_reason(args: &SweepArgs, tally: &Tally) -> &'static str {
    match !tally.stopped && args.fail_fast && tally.failed > 0 {
        true => "--fail-fast stopped the sweep at the first failure",
        false => "the sweep was interrupted",
    }
}

/// One scenario's `testsuite` element, with its counts.
struct Suite {
    xml: String,
    tests: usize,
    failures: usize,
    skipped: usize,
}

fn junit_suite(i: usize, plan: &Plan<'_>, tally: &Tally, labels: &Labels, stopped: &str) -> Suite {
    let bad: Vec<&SeedResult> = tally.not_passed.iter().filter(|r| r.scenario == i).collect();
    let missing = tally.missing_expected(plan.scenarios).contains(&i);
    let cover = Coverage::of(plan, tally, i);
    let (name, file) = (escape(&labels.names[i]), escape(&labels.files[i]));
    let time_s = tally.run_ms[i] / 1e3;
    let case = |seeds: &str, time_s: f64, inner: &str| {
        format!(
            "    <testcase classname=\"{name}\" name=\"seeds {}\" file=\"{file}\" time=\"{time_s:.3}\">\n{inner}    </testcase>\n",
            escape(seeds)
        )
    };
    let mut cases = String::new();
    // A scenario none of whose seeds ran has only the skipped case.
    let ran_case = cover.ran.is_some();
    if let Some(ran) = &cover.ran {
        let finding = junit_finding(i, plan, tally, labels, &bad, missing);
        cases.push_str(&case(ran, time_s, &finding));
    }
    if let Some(rest) = &cover.not_run {
        let message = format!("{} seeds did not run: {stopped}", cover.not_run_count);
        let inner = format!("      <skipped message=\"{}\"/>\n", escape(&message));
        cases.push_str(&case(rest, 0.0, &inner));
    }
    let skipped = usize::from(cover.not_run.is_some());
    let tests = usize::from(ran_case) + skipped;
    let failures = usize::from(!bad.is_empty() || missing);
    Suite {
        xml: format!(
            "  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{time_s:.3}\">\n{cases}  </testsuite>\n"
        ),
        tests,
        failures,
        skipped,
    }
}

/// The `failure` or `error` element of the seeds that ran, if any.
fn junit_finding(
    i: usize,
    plan: &Plan<'_>,
    tally: &Tally,
    labels: &Labels,
    bad: &[&SeedResult],
    missing: bool,
) -> String {
    if missing {
        let expected = plan.scenarios[i].expected.join(", ");
        let message = format!("no seed showed the expected failure ({expected})");
        return format!("      <failure message=\"{}\"></failure>\n", escape(&message));
    }
    if bad.is_empty() {
        return String::new();
    }
    let any_fail = bad.iter().any(|r| r.expectation == Expectation::Failed);
    let tag = if any_fail { "failure" } else { "error" };
    let seeds: Vec<String> = bad.iter().map(|r| r.seed.to_string()).collect();
    let message = format!(
        "{} of {} seeds did not pass: {}",
        bad.len(),
        tally.ran[i],
        seeds.join(", ")
    );
    let body: Vec<String> = bad.iter().map(|r| seed_line(labels, plan.program, r)).collect();
    format!(
        "      <{tag} message=\"{}\">{}</{tag}>\n",
        escape(&message),
        escape(&body.join("\n"))
    )
}

fn scenario_json(index: usize, plan: &Plan<'_>, labels: &Labels, tally: &Tally) -> serde_json::Value {
    let mine = tally.not_passed.iter().filter(|r| r.scenario == index);
    let seeds_with = |e: Expectation| {
        mine.clone()
            .filter(|r| r.expectation == e)
            .map(|r| r.seed)
            .collect::<Vec<_>>()
    };
    let s = &plan.scenarios[index];
    let cover = Coverage::of(plan, tally, index);
    json!({
        "file": labels.files[index],
        "name": s.spec().name,
        "label": labels.names[index],
        "report_folder": plan.reports.as_ref().map(|r| r.join(&plan.folders()[index]).display().to_string()),
        "planned": plan.seeds_each(),
        "ran": tally.ran[index],
        "seeds_ran": cover.ran,
        "seeds_not_run": cover.not_run,
        "not_run": cover.not_run_count,
        "interrupted": cover.interrupted,
        "failed": seeds_with(Expectation::Failed),
        "unknown": seeds_with(Expectation::Unknown),
        "expected_failures": s.expected,
        "failed_as_expected": tally.expected[index],
        "failed_as_expected_by_check": tally.expected_by_check[index],
        "first_failed_as_expected": tally.first_expected[index],
        "sometimes_seen": tally.seen[index],
        "never_seen": tally.never_seen(plan.scenarios, index),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(escape("a<b & \"c\"\u{1}\n"), "a&lt;b &amp; &quot;c&quot;\u{fffd}\n");
    }

    #[test]
    fn seed_ranges_and_shards_parse_or_say_what_was_expected() {
        assert_eq!(parse_seeds("3..10"), Ok(3..10));
        assert!(parse_seeds("10..3").unwrap_err().contains("expected A..B with A < B"));
        assert!(parse_seeds("0-5").is_err());
        assert_eq!(parse_shard("1/4"), Ok(Shard { index: 1, count: 4 }));
        assert!(parse_shard("4/4").unwrap_err().contains("expected K/N with 0 <= K < N"));
    }
}
