//! `simulate shrink REPRO | FILE --seed N [--out DIR] [--budget DUR] [--max-runs N] [--tries N] [--restarts N]`:
//! cuts a failing run down to a small scenario that fails the same way,
//! and writes it (`minimal.ron`), its report folder and repro, and
//! `shrink.log`.

use super::run::{execute, How, ReportWhen};
use super::{Env, EXIT_FAIL, EXIT_USAGE};
use crate::protocols::Bound;
use crate::report::{self, repro};
use crate::shrink::{self, Options, Shrunk};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct ShrinkArgs {
    /// A repro file (repro.ron in a report folder), or a scenario file with --seed.
    file: PathBuf,
    /// The failing seed of a scenario file; default: its `seed`, else 0.
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder; default: reports/<scenario>/<seed>-shrunk.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Wall time to spend (e.g. 120s, 5m); the best scenario so far is
    /// kept when it runs out.
    #[arg(long, default_value = "120s", value_parser = parse_budget)]
    budget: Duration,
    /// Runs to make at most, as well: unlike --budget, the same on every
    /// machine, so a shrink it cuts short gives the same result anywhere
    /// (for CI, and for results to compare).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_runs: Option<u64>,
    /// Seeds tried per candidate: the current one, then derived ones.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    tries: u32,
    /// Shrinks again from the input on up to this many other seeds that
    /// fail it too (among the 128 after the first --tries), keeping the
    /// smallest result.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=8))]
    restarts: u32,
}

fn parse_budget(text: &str) -> Result<Duration, String> {
    let ns = crate::scenario::duration::parse_ns(text)?;
    match u64::try_from(ns) {
        Ok(ns) if ns > 0 => Ok(Duration::from_nanos(ns)),
        _ => Err(format!(
            "{text:?} is not a budget; expected a positive duration like 120s"
        )),
    }
}

/// Whether `path` holds a repro (`Repro(...)` after its comments).
fn is_repro(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let code = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("//"));
    code.is_some_and(|l| l.starts_with("Repro"))
}

fn load(args: &ShrinkArgs, env: &Env<'_>) -> Result<(Bound, u64), String> {
    if is_repro(&args.file) {
        if args.seed.is_some() {
            return Err("--seed goes with a scenario file; a repro names its seed".into());
        }
        let r = repro::load(&args.file).map_err(|e| e.to_string())?;
        let seed = r.header.seed;
        return Ok((env.registry.bind(r.scenario).map_err(|e| e.to_string())?, seed));
    }
    let bound = env.registry.load(&args.file).map_err(|e| e.to_string())?;
    let seed = args.seed.or(bound.spec().seed).unwrap_or(0);
    Ok((bound, seed))
}

pub fn shrink(args: ShrinkArgs, env: &Env<'_>) -> i32 {
    let (bound, seed) = match load(&args, env) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    static STOP: AtomicBool = AtomicBool::new(false);
    if let Err(e) = ctrlc::set_handler(|| STOP.store(true, Ordering::Relaxed)) {
        eprintln!("warning: Ctrl-C will stop the shrink without keeping its best scenario: {e}");
    }
    let options = Options {
        tries: args.tries,
        restarts: args.restarts,
        budget: args.budget,
        runs_max: args.max_runs,
        stop: Some(&STOP),
    };
    let bar = spinner();
    let mut progress = |p: &shrink::Progress<'_>| {
        bar.set_message(format!("{}: {} runs, now {}", p.step, p.runs, p.best));
    };
    let shrunk = shrink::shrink(env.registry, &bound, seed, options, &mut progress);
    bar.finish_and_clear();
    let shrunk = match shrunk {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}", e.0);
            return EXIT_USAGE;
        }
    };
    let dir = args.out.clone().unwrap_or_else(|| {
        let name = &bound.spec().name;
        report::default_dir(name, seed).with_file_name(format!("{seed}-shrunk"))
    });
    match write(&shrunk, &dir, env) {
        Ok(()) => {
            outln!("{}", summary(&shrunk, &dir));
            EXIT_FAIL
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
    }
}

/// A spinner on stderr with the step and the best size so far; hidden
/// unless stdout is a terminal.
fn spinner() -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// minimal.ron, the report folder of its failing seed (with repro.ron),
/// and shrink.log, all in `dir`.
fn write(s: &Shrunk, dir: &Path, env: &Env<'_>) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let text = format!(
        "// Shrunk by simulate: fails {} on seed {} (`simulate run` this file).\n{}",
        s.signature,
        s.seed,
        crate::scenario::write::to_ron(&s.spec)
    );
    let minimal = dir.join("minimal.ron");
    let put = |path: &Path, bytes: &str| {
        report::write_atomic(path, bytes.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    put(&minimal, &text)?;
    let log = format!("{}\n", s.log.join("\n"));
    put(&dir.join("shrink.log"), &log)?;
    let bound = env.registry.load(&minimal).map_err(|e| e.to_string())?;
    let how = How {
        trace: false,
        json: false,
        check_determinism: false,
        report: ReportWhen::Always,
        write_repro: true,
        summary: false,
    };
    execute(&bound, s.seed, &how, dir.to_path_buf(), env)
        .map(|_| ())
        .map_err(|code| format!("the report of the shrunk scenario was not written (exit {code})"))
}

fn summary(s: &Shrunk, dir: &Path) -> String {
    let cut = s
        .cut_short
        .map_or(String::new(), |why| format!(" (stopped early: {why}; the best so far)"));
    format!(
        "shrunk: fails {} on seed {}{cut}\n  before: {}\n  after:  {}\n  {} runs, {} steps kept\n  minimal: {}\n  replay:  simulate replay {}",
        s.signature,
        s.seed,
        s.before,
        s.after,
        s.runs,
        s.log.len(),
        dir.join("minimal.ron").display(),
        dir.join("repro.ron").display()
    )
}
