//! `simulate sweep FILE... --seeds A..B [--jobs N] [--shard K/N] [--fail-fast] [--json FILE]`
//!
//! Prints a line per seed that did not pass (with the command that replays
//! it) and a summary; exit 1 if any seed failed, else 3 if any was unknown.

use super::run::built_in;
use super::{EXIT_FAIL, EXIT_PASS, EXIT_UNKNOWN, EXIT_USAGE};
use crate::check::linear::html::escape;
use crate::check::Verdict;
use crate::scenario::{LoadedScenario, Scenario, ScenarioError};
use crate::sweep::{self, Plan, SeedResult, Shard, Tally};
use serde_json::json;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Stopped by Ctrl-C before every seed ran, and none failed (128 + SIGINT).
pub const EXIT_INTERRUPTED: i32 = 130;

use std::time::Instant;

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

fn load_all(files: &[PathBuf]) -> Result<Vec<LoadedScenario>, ScenarioError> {
    files
        .iter()
        .map(|f| crate::scenario::load(f).and_then(built_in))
        .collect()
}

pub fn sweep(args: SweepArgs) -> i32 {
    let loaded = match load_all(&args.files) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let scenarios: Vec<Scenario> = loaded.iter().map(|l| l.spec.clone()).collect();
    let shard = args.shard.unwrap_or(Shard::ALL);
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let plan = Plan {
        scenarios: &loaded,
        seeds: shard.seeds(args.seeds.clone()).collect(),
        jobs,
        fail_fast: args.fail_fast,
        reports: Some(args.out.clone()),
    };
    // Ctrl-C: no new seeds start; those running finish, and the summary
    // of what ran is still printed and written.
    static STOP: AtomicBool = AtomicBool::new(false);
    let stop = &STOP;
    if let Err(e) = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed)) {
        eprintln!("warning: Ctrl-C will not stop the sweep cleanly: {e}");
    }
    let started = Instant::now();
    let progress = progress_bar((scenarios.len() * plan.seeds.len()) as u64);
    let mut failures = 0;
    let tally = sweep::run(&plan, stop, |r| {
        failures += usize::from(r.verdict == Verdict::Fail);
        progress.set_message(format!("{failures} failed"));
        progress.inc(1);
        if r.verdict != Verdict::Pass {
            // Above the bar on a terminal; a plain line in CI logs.
            progress.suspend(|| outln!("{}", seed_line(&args.files, &scenarios, r)));
        }
    });
    progress.finish_and_clear();
    let wall_s = started.elapsed().as_secs_f64();
    let (passed, failed, unknown) = (tally.passed, tally.failed, tally.unknown);
    let ran = tally.total();
    let planned = scenarios.len() * plan.seeds.len();
    let interrupted = ran < planned && !args.fail_fast;
    if interrupted {
        outln!("interrupted: {ran} of {planned} runs done");
    }
    outln!(
        "swept {} of {planned} runs ({} scenario{}, seeds {}..{}, shard {}/{}, {jobs} jobs) in {wall_s:.1}s, {:.1} runs/s: {passed} passed, {failed} failed, {unknown} unknown; digest {:016x}",
        ran,
        scenarios.len(),
        if scenarios.len() == 1 { "" } else { "s" },

        args.seeds.start,
        args.seeds.end,
        shard.index,
        shard.count,
        ran as f64 / wall_s.max(1e-9),
        tally.digest()
    );
    if let Some(path) = &args.json {
        let summary = json!({
            "seeds": {"start": args.seeds.start, "end": args.seeds.end},
            "shard": {"index": shard.index, "count": shard.count},
            "jobs": jobs,
            "planned": planned,
            "ran": ran,
            "passed": passed,
            "failed": failed,
            "unknown": unknown,
            "wall_s": wall_s,
            // Time inside the runs themselves (simulate and check), over
            // all workers: wall_s * jobs - run_s is what the sweep added.
            "run_s": tally.run_ms.iter().sum::<f64>() / 1e3,

            "interrupted": interrupted,
            "digest": format!("{:016x}", tally.digest()),
            "scenarios": loaded.iter().enumerate().map(|(i, l)| scenario_json(i, l, &args.files[i], &tally)).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&summary).expect("the summary serialises") + "\n";
        if let Err(e) = crate::report::write_atomic(path, text.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_USAGE;
        }
    }
    if let Some(path) = &args.junit {
        let xml = junit(&args, &scenarios, &tally, wall_s);
        if let Err(e) = crate::report::write_atomic(path, xml.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return EXIT_USAGE;
        }
    }
    if failed > 0 {
        EXIT_FAIL
    } else if interrupted {
        EXIT_INTERRUPTED
    } else if unknown > 0 {
        EXIT_UNKNOWN
    } else {
        EXIT_PASS
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

fn seed_line(files: &[PathBuf], scenarios: &[Scenario], r: &SeedResult) -> String {
    let replay = match &r.report {
        Some(Ok(dir)) => format!("simulate replay {}", dir.join("repro.ron").display()),
        Some(Err(e)) => format!(
            "simulate run {} --seed {} (no report: {e})",
            files[r.scenario].display(),
            r.seed
        ),
        None => format!("simulate run {} --seed {}", files[r.scenario].display(), r.seed),
    };
    let checks: Vec<String> = r
        .not_passed
        .iter()
        .map(|(name, v)| format!("{name} ({})", v.as_str()))
        .collect();
    format!(
        "{} {} seed {}: {}\n  replay: {replay}",
        r.verdict.as_str(),
        scenarios[r.scenario].name,
        r.seed,
        checks.join(", "),
    )
}

/// JUnit XML, as CI systems display it: a suite per scenario with one case
/// for its seed range; failing seeds make a `failure`, unknown ones (when
/// none failed) an `error`.
fn junit(args: &SweepArgs, scenarios: &[Scenario], tally: &Tally, wall_s: f64) -> String {
    let range = format!("seeds {}..{}", args.seeds.start, args.seeds.end);
    let range = match args.shard {
        Some(s) => format!("{range} shard {}/{}", s.index, s.count),
        None => range,
    };
    let failed = (0..scenarios.len())
        .filter(|&i| tally.not_passed.iter().any(|r| r.scenario == i))
        .count();
    let mut xml = format!(

        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"simulate sweep\" tests=\"{}\" failures=\"{failed}\" time=\"{wall_s:.3}\">\n",
        scenarios.len()
    );
    for (i, s) in scenarios.iter().enumerate() {
        let bad: Vec<&SeedResult> = tally.not_passed.iter().filter(|r| r.scenario == i).collect();
        let time_s = tally.run_ms[i] / 1e3;
        let name = escape(&s.name);
        xml.push_str(&format!(
            "  <testsuite name=\"{name}\" tests=\"1\" failures=\"{}\" time=\"{time_s:.3}\">\n    <testcase classname=\"{name}\" name=\"{range}\" time=\"{time_s:.3}\">\n",
            usize::from(!bad.is_empty())
        ));
        if !bad.is_empty() {
            let any_fail = bad.iter().any(|r| r.verdict == Verdict::Fail);
            let tag = if any_fail { "failure" } else { "error" };
            let seeds: Vec<String> = bad.iter().map(|r| r.seed.to_string()).collect();
            let message = format!(
                "{} of {} seeds did not pass: {}",
                bad.len(),
                tally.ran[i],
                seeds.join(", ")
            );
            let body: Vec<String> = bad.iter().map(|r| seed_line(&args.files, scenarios, r)).collect();
            xml.push_str(&format!(
                "      <{tag} message=\"{}\">{}</{tag}>\n",
                escape(&message),
                escape(&body.join("\n"))
            ));
        }
        xml.push_str("    </testcase>\n  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

fn scenario_json(index: usize, loaded: &LoadedScenario, file: &std::path::Path, tally: &Tally) -> serde_json::Value {
    let mine = tally.not_passed.iter().filter(|r| r.scenario == index);
    let seeds_with = |v: Verdict| {
        mine.clone()
            .filter(|r| r.verdict == v)
            .map(|r| r.seed)
            .collect::<Vec<_>>()
    };
    json!({
        "file": file.display().to_string(),
        "name": loaded.spec.name,
        "ran": tally.ran[index],
        "failed": seeds_with(Verdict::Fail),
        "unknown": seeds_with(Verdict::Unknown),
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
