//! `simulate sweep FILE... --seeds A..B [--jobs N] [--shard K/N] [--fail-fast] [--json FILE] [--corpus DIR]`
//!
//! With `--corpus DIR`, each scenario's corpus seeds outside the range (of
//! this shard) run first, and seeds that fail unexpectedly or could not
//! decide are added to the corpus (see [`super::corpus`]).
//!
//! Prints a line per seed that failed unexpectedly or could not decide
//! (with the command that replays it), a line per bug demonstration saying
//! how many seeds showed its expected failure, and a summary. Exit 1 if a
//! seed failed a check it was not expected to fail, or a bug demonstration
//! showed its failure on no seed; else 130 if interrupted; else 3 if a seed
//! was unknown; else 0.

use super::corpus::Corpus;
use super::summary::{CheckVerdict, Finding, FindingKind, ScenarioSummary, Summary};
use super::{Env, EXIT_USAGE};
use crate::check::Expectation;
use crate::protocols::Bound;
use crate::report::shell_word;
use crate::scenario::ScenarioError;
use crate::sweep::{self, Plan, SeedResult, Shard, Stop, Tally};
use std::collections::BTreeMap;
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
    /// Swarm testing: each seed runs its own variant of the scenario, with
    /// whole fault kinds switched off and rates at extremes (low, as
    /// written, high), drawn from the seed. Reports and replay lines play
    /// the variant again.
    #[arg(long)]
    swarm: bool,
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
    /// Seed corpus folder: run the seeds that once failed (one file per
    /// scenario, DIR/<scenario>.seeds) before the range, and add the
    /// seeds that fail now. Created if missing.
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
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
        swarm: args.swarm,
        reports: Some(args.out.clone()),
        program: &env.program,
        corpus: Vec::new(),
    };
    if plan.jobs > JOBS_MAX {
        eprintln!(
            "error: --jobs {} is more than {JOBS_MAX}; expected at most {JOBS_MAX}",
            plan.jobs
        );
        return EXIT_USAGE;
    }
    let mut corpus = match args.corpus.as_deref().map(|dir| Corpus::open(dir, &plan.folders())) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let Some(c) = &corpus {
        plan.corpus = corpus_first(&plan, c);
    }
    // No more workers than runs: each would only start and stop.
    plan.jobs = plan.jobs.min(usize::try_from(plan.runs()).unwrap_or(usize::MAX)).max(1);
    let started = Instant::now();
    let tally = run_plan(&plan, &args, &loaded);
    let wall_s = started.elapsed().as_secs_f64();
    let mut summary = summarize(&plan, &args, &tally, wall_s);
    if let Some(c) = &corpus {
        for (s, seeds) in summary.scenarios.iter_mut().zip(&c.seeds) {
            s.corpus_size = Some(seeds.len() as u64);
        }
    }
    summary.print();
    let added = corpus.as_mut().map_or(Ok(()), |c| add_to_corpus(c, &summary));
    let written = summary.write(args.json.as_deref(), args.junit.as_deref());
    if let Err(e) = added.and(written) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    summary.exit_code()
}

/// Each scenario's corpus seeds to run before the range: those this
/// shard owns that the range does not hold (those it holds run in their
/// place, once, so that the range's coverage stays one contiguous run).
fn corpus_first(plan: &Plan<'_>, corpus: &Corpus) -> Vec<Vec<u64>> {
    let first = |seeds: &std::collections::BTreeSet<u64>| {
        let owned = seeds.iter().copied().filter(|&s| plan.shard.owns(&plan.seeds, s));
        owned.filter(|&s| !plan.holds(s)).collect()
    };
    corpus.seeds.iter().map(first).collect()
}

/// Adds the seeds that failed unexpectedly or could not decide to the
/// corpus, saying which.
fn add_to_corpus(corpus: &mut Corpus, summary: &Summary) -> Result<(), String> {
    for (i, s) in summary.scenarios.iter().enumerate() {
        let added = corpus.add(i, &s.name, &s.not_passed)?;
        if !added.is_empty() {
            let listed: Vec<String> = added.iter().map(u64::to_string).collect();
            outln!(
                "corpus {}: added seed{} {} to {}",
                s.label,
                if added.len() == 1 { "" } else { "s" },
                listed.join(", "),
                corpus.file(i).display()
            );
        }
    }
    Ok(())
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
            let line = finding(&labels, plan, r).line(&labels.names[r.scenario]);
            progress.suspend(|| outln!("{line}"));
        }
    });
    progress.finish_and_clear();
    tally
}

/// The summary of a sweep that ran `plan` and found `tally`.
fn summarize(plan: &Plan<'_>, args: &SweepArgs, tally: &Tally, wall_s: f64) -> Summary {
    let ran = tally.total() as u64;
    let planned = plan.runs();
    let labels = Labels::new(&args.files, plan.scenarios);
    Summary {
        seeds: plan.seeds.clone(),
        shard: plan.shard,
        jobs: plan.jobs,
        swarm: plan.swarm,
        planned,
        ran,
        passed: tally.passed as u64,
        failed_as_expected: tally.expected.iter().sum::<usize>() as u64,
        failed: tally.failed as u64,
        unknown: tally.unknown as u64,
        wall_s,
        run_s: tally.run_ms.iter().sum::<f64>() / 1e3,
        interrupted: tally.stopped && ran < planned,
        digest: tally.digest(),
        stopped_because: (ran != planned).then(|| stop_reason(args, tally).to_string()),
        corpus_ran: tally.corpus_ran.iter().map(|c| c.len() as u64).sum(),
        scenarios: (0..plan.scenarios.len())
            .map(|i| scenario_summary(i, plan, &labels, tally))
            .collect(),
    }
}

/// Why seeds of the range did not run.
fn stop_reason(args: &SweepArgs, tally: &Tally) -> &'static str {
    match !tally.stopped && args.fail_fast && tally.failed > 0 {
        true => "--fail-fast stopped the sweep at the first failure",
        false => "the sweep was interrupted",
    }
}

fn scenario_summary(i: usize, plan: &Plan<'_>, labels: &Labels, tally: &Tally) -> ScenarioSummary {
    let findings: Vec<Finding> = tally
        .not_passed
        .iter()
        .filter(|r| r.scenario == i)
        .map(|r| finding(labels, plan, r))
        .collect();
    let seeds_with = |kind: FindingKind| findings.iter().filter(|f| f.outcome == kind).map(|f| f.seed).collect();
    let s = &plan.scenarios[i];
    let cover = Coverage::of(plan, tally, i);
    let counts = |m: &BTreeMap<String, usize>| m.iter().map(|(k, &v)| (k.clone(), v as u64)).collect();
    ScenarioSummary {
        file: labels.files[i].clone(),
        name: s.spec().name.clone(),
        label: labels.names[i].clone(),
        report_folder: plan
            .reports
            .as_ref()
            .map(|r| r.join(&plan.folders()[i]).display().to_string()),
        planned: plan.seeds_each() + plan.corpus.get(i).map_or(0, Vec::len) as u64,
        ran: tally.ran[i] as u64,
        run_s: tally.run_ms[i] / 1e3,
        seeds_ran: cover.ran,
        seeds_not_run: cover.not_run,
        not_run: cover.not_run_count,
        interrupted: cover.interrupted,
        failed: seeds_with(FindingKind::Failed),
        unknown: seeds_with(FindingKind::Unknown),
        expected_failures: s.expected.clone(),
        failed_as_expected: tally.expected[i] as u64,
        failed_as_expected_by_check: counts(&tally.expected_by_check[i]),
        first_failed_as_expected: tally.first_expected[i],
        sometimes_seen: counts(&tally.seen[i]),
        never_seen: tally.never_seen(plan.scenarios, i),
        fault_effects: counts(&tally.effects[i]),
        inert: tally.inert(plan.scenarios, i),
        not_passed: findings,
        corpus_size: None,
        corpus: tally.corpus_ran[i].clone(),
    }
}

/// What the summary keeps of a seed that did not pass, with the command
/// that replays it.
fn finding(labels: &Labels, plan: &Plan<'_>, r: &SeedResult) -> Finding {
    debug_assert!(matches!(r.expectation, Expectation::Failed | Expectation::Unknown));
    let (program, file) = (shell_word(plan.program), shell_word(&labels.files[r.scenario]));
    let swarm = if plan.swarm { " --swarm" } else { "" };
    let replay = match &r.report {
        Some(Ok(dir)) => format!(
            "{program} replay {}",
            shell_word(&dir.join("repro.ron").display().to_string())
        ),
        Some(Err(e)) => format!("{program} run {file} --seed {}{swarm} (no report: {e})", r.seed),
        None => format!("{program} run {file} --seed {}{swarm}", r.seed),
    };
    let checks = r.not_passed.iter().map(|(check, verdict)| CheckVerdict {
        check: check.clone(),
        verdict: *verdict,
    });
    Finding {
        seed: r.seed,
        verdict: r.verdict,
        outcome: match r.expectation {
            Expectation::Failed => FindingKind::Failed,
            _ => FindingKind::Unknown,
        },
        checks: checks.collect(),
        replay,
    }
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
        // The range's tasks come after the corpus seeds', scenario by scenario.
        let first_task = plan.corpus_runs() + i as u64 * per_scenario;
        let started = tally.taken.saturating_sub(first_task).min(per_scenario);
        let left_running = tally.unreported().into_iter().map(|t| plan.task(t));
        let left_running = left_running.filter(|&(s, _)| s == i).map(|(_, seed)| seed);
        let mut cut: Vec<u64> = tally.interrupted[i].iter().copied().chain(left_running).collect();
        cut.sort_unstable();
        let interrupted: Vec<u64> = cut.iter().copied().filter(|&s| plan.holds(s)).collect();
        let corpus_ran = tally.corpus_ran[i].len();
        debug_assert_eq!(
            started,
            (tally.ran[i] - corpus_ran + interrupted.len()) as u64,
            "every seed of the range started is counted once"
        );
        let boundary = match started < shard.len(range) {
            true => shard.nth(range, started),
            false => range.end,
        };
        let with_shard = |a: u64, b: u64| match shard == Shard::ALL {
            true => format!("{a}..{b}"),
            false => format!("{a}..{b} shard {}/{}", shard.index, shard.count),
        };
        let listed = |seeds: &[u64]| seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
        let mut ran = with_shard(range.start, boundary);
        let mut not_run = Vec::new();
        if !interrupted.is_empty() {
            ran.push_str(&format!(" except {}", listed(&interrupted)));
            not_run.push(format!("{} (interrupted)", listed(&interrupted)));
        }
        let not_started = shard.len(range) - started;
        if not_started > 0 {
            not_run.insert(0, with_shard(boundary, range.end));
        }
        let corpus = plan.corpus.get(i).map_or(&[][..], Vec::as_slice);
        let corpus_not_run: Vec<u64> = corpus
            .iter()
            .copied()
            .filter(|s| !tally.corpus_ran[i].contains(s))
            .collect();
        if !corpus_not_run.is_empty() {
            not_run.push(format!("corpus seeds {}", listed(&corpus_not_run)));
        }
        Coverage {
            ran: super::summary::seeds_ran((tally.ran[i] > corpus_ran).then_some(ran), &tally.corpus_ran[i]),
            not_run: (!not_run.is_empty()).then(|| not_run.join(" and ")),
            not_run_count: not_started + (interrupted.len() + corpus_not_run.len()) as u64,
            interrupted: cut,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linear::html::escape;

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
