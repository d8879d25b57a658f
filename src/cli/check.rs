//! `simulate check FILE [--checker C] [--format F] [--model M] [--initial V] [--timeout DUR] [--memory SIZE] [--explain none|quick|full] [--json] [--out DIR] [--jobs N] [--allow-empty] [--final-reads-from TIME]`

use super::{EXIT_FAIL, EXIT_PASS, EXIT_UNKNOWN, EXIT_USAGE};
use crate::check::linear::{self, Explain, LinVerdict, ModelKind, Options, Report};
use crate::check::regular::{self, Clock, Judgment};
use crate::check::Verdict;
use crate::core::Value;
use crate::history::formats::Format;
use crate::history::raw::RawHistory;
use crate::report::write_atomic;
use crate::scenario::duration::parse_ns;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// History file.
    file: PathBuf,
    /// What to check: linearizable (the default), no-stale-reads or
    /// no-lost-writes (regular-register checks of a key-value history).
    #[arg(long, value_enum, default_value = "linearizable")]
    checker: Checker,
    /// For no-lost-writes on a native history: the final reads are those
    /// that began at or after this time (e.g. "25.7s", as a run's
    /// NoLostWrites result says). Default: each key's reads that began
    /// after its last write was invoked.
    #[arg(long)]
    final_reads_from: Option<String>,
    /// Default: from the file's extension (.jsonl native, .txt porcupine-kv,
    /// .log jepsen-etcd-log, .edn knossos-edn).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Default: kv for native and porcupine-kv, cas-register for
    /// jepsen-etcd-log; for knossos-edn, from the ops' :f.
    #[arg(long, value_enum)]
    model: Option<ModelKind>,
    /// Initial value of the register(s): nil, an integer, true, false or a
    /// "quoted string"; not for --model mutex. Default: "" for porcupine-kv
    /// (as Porcupine), 0 for knossos-edn (as Knossos), nil otherwise.
    #[arg(long)]
    initial: Option<String>,
    /// Give up (verdict unknown, exit 3) after this long, e.g. "30s".
    #[arg(long, default_value = "60s")]
    timeout: String,
    /// Memory the search may hold (counted, model states included), e.g.
    /// "512MiB" or "8GiB"; past it the verdict is unknown, exit 3.
    #[arg(long, default_value = "2GiB")]
    memory: String,
    /// Counterexample of a failing history: none (the verdict as soon as
    /// it is known), quick (narrowed within 4 million search steps, the
    /// same on every machine), full (within the rest of --timeout).
    #[arg(long, value_enum, default_value = "quick")]
    explain: Explain,
    /// Threads for independent partitions; default: all cores.
    #[arg(long)]
    jobs: Option<usize>,
    /// Print one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Report folder; default reports/check/<file name>.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Accept a history with no operations (it is linearizable). Without
    /// it such a history exits 2: an empty or cut-short file, or one read
    /// as the wrong format, must not pass a CI gate.
    #[arg(long)]
    allow_empty: bool,
}

/// The checks `simulate check` runs on a history file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Checker {
    /// Some real-time order of the ops is one correct copy's.
    Linearizable,
    /// `NoStaleReads`: no read misses a write completed after its value's.
    NoStaleReads,
    /// `NoLostWrites`: each key's final reads keep every acknowledged write.
    NoLostWrites,
}

pub fn check(args: CheckArgs) -> i32 {
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_USAGE
        }
    }
}

fn run(args: &CheckArgs) -> Result<i32, String> {
    // Reading and parsing count against --timeout too.
    let started = Instant::now();
    let file = args.file.display().to_string();
    let format = args.format.or_else(|| Format::from_path(&args.file)).ok_or_else(|| {
        format!("{file}: cannot tell the format from the name; expected --format native|porcupine-kv|jepsen-etcd-log|knossos-edn")
    })?;
    let given_initial = args.initial.as_deref().map(Value::parse_literal).transpose();
    let given_initial = given_initial.map_err(|e| format!("--initial: {e}"))?;
    let timeout_ns = parse_ns(&args.timeout).map_err(|e| format!("--timeout: {e}"))?;
    if timeout_ns <= 0 {
        return Err("--timeout must be positive".into());
    }
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{file}: cannot read the history: {e}"))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        format!("{file}:{line}: not UTF-8 text; history files are text")
    })?;
    let raw = format
        .parse(&text)
        .map_err(|e| format!("{file}:{}: {}", e.line, e.message))?;
    // Operations that all failed still show the file was read as its
    // format; only a file with no operations at all is refused.
    if raw.ops.is_empty() && raw.failed == 0 && !args.allow_empty {
        let why = format.why_no_operations(&text);
        return Err(format!("{file}: {why} (--allow-empty accepts a history with none)"));
    }
    if args.checker != Checker::Linearizable {
        return run_regular(args, format, &text, &raw, given_initial);
    }
    let model = args.model.unwrap_or_else(|| default_model(format, &raw));
    let initial = initial_value(given_initial, model, format)?;
    let mut options = Options {
        timeout: Some(Duration::from_nanos(timeout_ns as u64)),
        timeout_from: Some(started),
        explain: args.explain,
        ..Options::default()
    };
    options.memory_bytes = memory_bytes(&args.memory).map_err(|e| format!("--memory: {e}"))?;
    if let Some(jobs) = args.jobs {
        options.jobs = jobs.max(1);
    }
    let report = linear::check_history(model, initial, &raw, &options)
        .map_err(|e| format!("{file}:{}: {}", e.line, e.message))?;
    let dir = args.out.clone().unwrap_or_else(|| default_dir(&args.file));
    let written = write_report(&dir, &report, &file, format);
    if args.json {
        outln!("{}", to_json(&report, format, &dir));
    } else {
        outln!(
            "{file} ({}, model {}, initial {})",
            format.name(),
            report.model,
            report.initial
        );
        out!("{}", report.to_text());
        outln!("report: {}", dir.display());
    }
    written.map_err(|e| format!("cannot write the report to {}: {e}", dir.display()))?;
    Ok(match report.verdict {
        LinVerdict::Linearizable => EXIT_PASS,
        LinVerdict::NotLinearizable => EXIT_FAIL,
        LinVerdict::Unknown => EXIT_UNKNOWN,
    })
}

/// `--checker no-stale-reads|no-lost-writes`: a verdict in one pass.
fn run_regular(
    args: &CheckArgs,
    format: Format,
    text: &str,
    raw: &RawHistory,
    initial: Option<Value>,
) -> Result<i32, String> {
    let file = args.file.display().to_string();
    let which = match args.checker {
        Checker::NoStaleReads => regular::Which::StaleReads,
        _ => regular::Which::LostWrites,
    };
    if args.model.is_some() {
        return Err(format!(
            "--model is for --checker linearizable; {} reads get, put, append and cas",
            which.name()
        ));
    }
    if args.final_reads_from.is_some() && (which != regular::Which::LostWrites || format != Format::Native) {
        return Err("--final-reads-from is for --checker no-lost-writes on a native history (which has times)".into());
    }
    let initial = initial.unwrap_or_else(|| format.default_initial());
    // A native history has times: counterexamples name them.
    let times: Option<Vec<u64>> = (format == Format::Native).then(|| native_times(text)).flatten();
    let clock = Clock {
        times_ns: times.as_deref(),
    };
    let judged = match which {
        regular::Which::StaleReads => regular::stale_reads(raw, &initial, &clock),
        regular::Which::LostWrites => {
            let after = match (&args.final_reads_from, &times) {
                (Some(from), Some(times)) => {
                    let from = parse_ns(from).map_err(|e| format!("--final-reads-from: {e}"))?.max(0) as u64;
                    (times.partition_point(|&t| t < from) as u64).checked_sub(1)
                }
                _ => None,
            };
            regular::lost_writes(raw, after, &clock)
        }
    };
    let j = judged.map_err(|why| format!("{file}: {why}"))?;
    let dir = args.out.clone().unwrap_or_else(|| default_dir(&args.file));
    let json = regular_json(&j, which, format, raw, &dir);
    let written = write_regular(&dir, &j, which, &json);
    if args.json {
        outln!("{json}");
    } else {
        outln!("{file} ({}, {}, initial {initial})", format.name(), which.name());
        outln!("{}: {}", j.verdict.as_str(), j.detail);
        outln!("report: {}", dir.display());
    }
    written.map_err(|e| format!("cannot write the report to {}: {e}", dir.display()))?;
    Ok(match j.verdict {
        Verdict::Pass => EXIT_PASS,
        Verdict::Fail => EXIT_FAIL,
        Verdict::Unknown => EXIT_UNKNOWN,
    })
}

/// Each event's time, in order, for a native history that parsed.
fn native_times(text: &str) -> Option<Vec<u64>> {
    let events = text.lines().filter(|l| !l.trim().is_empty());
    events
        .map(|l| serde_json::from_str::<crate::history::Event>(l).ok().map(|e| e.time_ns))
        .collect()
}

fn regular_json(
    j: &Judgment,
    which: regular::Which,
    format: Format,
    raw: &RawHistory,
    dir: &Path,
) -> serde_json::Value {
    serde_json::json!({
        "checker": which.name(),
        "verdict": j.verdict.as_str(),
        "detail": j.detail,
        "format": format.name(),
        "ops": raw.ops.len(),
        "indeterminate": raw.indeterminate(),
        "failed": raw.failed,
        "report_dir": dir.display().to_string(),
    })
}

fn write_regular(dir: &Path, j: &Judgment, which: regular::Which, json: &serde_json::Value) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let pretty = serde_json::to_string_pretty(json).expect("json serialises") + "\n";
    write_atomic(&dir.join("check.json"), pretty.as_bytes())?;
    let text = format!("{}: {}: {}\n", which.name(), j.verdict.as_str(), j.detail);
    write_atomic(&dir.join("check.txt"), text.as_bytes())?;
    // An old linearizability counterexample is not this verdict's.
    match std::fs::remove_file(dir.join("counterexample.html")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `--initial` if given (refused for a model with no initial value), else
/// what the format's own tool assumes.
fn initial_value(given: Option<Value>, model: ModelKind, format: Format) -> Result<Value, String> {
    match given {
        None => Ok(format.default_initial()),
        Some(_) if !model.has_initial() => Err(format!(
            "--initial: model {} has no initial value to set (a lock starts free); drop --initial",
            model.name()
        )),
        Some(value) => Ok(value),
    }
}

/// The model a format's histories are usually checked with.
fn default_model(format: Format, raw: &RawHistory) -> ModelKind {
    match format {
        Format::Native | Format::PorcupineKv => ModelKind::Kv,
        Format::JepsenEtcdLog => ModelKind::CasRegister,
        Format::KnossosEdn => {
            let has = |f: &str| raw.ops.iter().any(|o| o.f == f);
            if has("txn") {
                ModelKind::MultiRegister
            } else if has("acquire") || has("release") {
                ModelKind::Mutex
            } else {
                ModelKind::CasRegister
            }
        }
    }
}

/// `reports/check/<file stem>`, the stem made safe as `run` makes scenario
/// names safe: a file named `...jsonl` (stem `..`) must not report into
/// `reports/`.
fn default_dir(file: &Path) -> PathBuf {
    let stem = file
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    let name = match stem.chars().any(char::is_alphanumeric) {
        true => crate::report::folder_name(&stem),
        false => "history".to_string(),
    };
    crate::report::default_dir("check", 0).with_file_name(name)
}

/// A size: a whole number of bytes, or of KiB, MiB or GiB.
fn memory_bytes(text: &str) -> Result<usize, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let shift = match unit {
        "" | "B" => 0,
        "KiB" => 10,
        "MiB" => 20,
        "GiB" => 30,
        _ => return Err(format!("{text:?}: expected a whole number with B, KiB, MiB or GiB")),
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{text:?}: expected a whole number with B, KiB, MiB or GiB"))?;
    n.checked_mul(1 << shift)
        .filter(|&b| b > 0)
        .ok_or_else(|| format!("{text:?}: expected more than 0 bytes and fewer than 2^64"))
}

fn to_json(report: &Report, format: Format, dir: &Path) -> serde_json::Value {
    let mut json = serde_json::to_value(report).expect("reports serialise");
    json["format"] = format.name().into();
    json["report_dir"] = dir.display().to_string().into();
    json
}

fn write_report(dir: &Path, report: &Report, file: &str, format: Format) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(&to_json(report, format, dir)).expect("reports serialise") + "\n";
    write_atomic(&dir.join("check.json"), json.as_bytes())?;
    write_atomic(&dir.join("check.txt"), report.to_text().as_bytes())?;
    let page = dir.join("counterexample.html");
    match &report.counterexample {
        Some(c) => {
            let html = linear::html::render(c, &format!("{file} ({})", report.model));
            write_atomic(&page, html.as_bytes())?;
        }
        // A folder reused from a failing check must not show its old
        // counterexample beside this verdict.
        None => match std::fs::remove_file(&page) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        },
    }
    Ok(())
}
