//! Linearizability checker speed and verdicts on the Porcupine corpus.
//!
//! `cargo bench --bench check [CORPUS_DIR]` checks every `*-ok.txt` and
//! `*-bad.txt` file in the folder (default ../shared/corpus/porcupine-kv),
//! asserts that the verdict matches the name, and prints the time of the
//! search alone (no counterexample), single-threaded and with all cores,
//! and the time of the full check with its explanation.
//!
//! Then two generated histories: 100,000 ops of one process one after
//! another (decided in one pass, no cache), and 661 appends-heavy ops that
//! no budget can refute, with the time to answer `unknown` under a 256 MiB
//! memory budget.
//!
//! Then the hard corpus of `simulate::history::generate` (kv and etcd
//! histories, each linearizable, with a read of a value no one wrote
//! (`-bad`) and with a read of a value certainly overwritten (`-stale`),
//! which only a search refutes), made in memory: per file the verdict's
//! time, the explanation's extra time and the process's peak memory.
//! `cargo bench --bench check -- --hard-only [NAME...]` runs only that
//! section, for the files whose names contain one of the NAMEs (all
//! without one), e.g. `--hard-only stale`.

use simulate::check::linear::{self, LinVerdict, ModelKind, Options};
use simulate::core::Value;
use simulate::history::formats::Format;
use simulate::history::generate::{hard_corpus, Class};
use simulate::history::raw::{RawHistory, RawOp};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; every other dashed argument is ours.
    let names: Vec<String> = args.iter().filter(|a| !a.starts_with('-')).cloned().collect();
    if args.iter().any(|a| a == "--hard-only") {
        hard(&names);
        return;
    }
    let dir = names
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/porcupine-kv"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    println!(
        "{:<16} {:>6} {:>18} {:>12} {:>12} {:>14}",
        "file", "ops", "verdict", "1 thread", "all cores", "with explain"
    );
    for file in files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&file).unwrap();
        let raw = Format::PorcupineKv.parse(&text).unwrap();
        let expected = if name.contains("-bad") {
            LinVerdict::NotLinearizable
        } else {
            LinVerdict::Linearizable
        };
        let time = |jobs: usize, explain: bool| {
            let options = Options {
                jobs,
                timeout: Some(Duration::from_secs(120)),
                ..Options::default()
            };
            let started = Instant::now();
            let report = if explain {
                linear::check_history(ModelKind::Kv, Format::PorcupineKv.default_initial(), &raw, &options)
            } else {
                linear::verdict_only(ModelKind::Kv, Format::PorcupineKv.default_initial(), &raw, &options)
            }
            .unwrap();
            assert_eq!(report.verdict, expected, "{name}");
            started.elapsed().as_secs_f64() * 1e3
        };
        let one = time(1, false);
        let all = time(Options::default().jobs, false);
        let full = time(Options::default().jobs, true);
        println!(
            "{name:<16} {:>6} {:>18} {one:>10.1}ms {all:>10.1}ms {full:>12.1}ms",
            raw.ops.len(),
            expected.as_str()
        );
    }
    generated();
    hard(&[]);
}

/// Times the check of generated histories, one thread, no explanation.
fn generated() {
    let cases = [
        ("seq-100k", sequential(100_000), 2 << 30, LinVerdict::Linearizable),
        ("appends-661", appends(660, 10, 200), 256 << 20, LinVerdict::Unknown),
    ];
    for (name, raw, memory_bytes, expected) in cases {
        let options = Options {
            jobs: 1,
            memory_bytes,
            timeout: Some(Duration::from_secs(120)),
            ..Options::default()
        };
        let started = Instant::now();
        let report = linear::verdict_only(ModelKind::Kv, Value::Nil, &raw, &options).unwrap();
        let ms = started.elapsed().as_secs_f64() * 1e3;
        assert_eq!(report.verdict, expected, "{name}");
        println!("{name:<16} {:>6} {:>18} {ms:>10.1}ms", raw.ops.len(), expected.as_str());
    }
}

/// The budget of each check of a hard history.
const HARD_TIMEOUT: Duration = Duration::from_secs(60);

/// Checks each history of the hard corpus whose file name contains one of
/// `names` (all if none), one thread: the verdict alone, then the full
/// check with the explanation `Options::default()` asks for (what
/// `simulate check` does by default); "explain" is the difference (noise,
/// for a linearizable file: there is nothing to explain). A wrong verdict
/// panics; `unknown` (the 60 s budget, or memory) is printed with its
/// reason, since it is a miss, not a wrong answer. When the verdict is
/// unknown the full check is skipped: it runs the same search first. Peak
/// is the process's peak resident memory while it made, parsed and
/// checked the file.
fn hard(names: &[String]) {
    println!(
        "{:<26} {:>6} {:>16} {:>16} {:>10} {:>10} {:>10} {:>8}",
        "hard history", "ops", "expected", "verdict", "verdict", "full", "explain", "peak"
    );
    for shape in hard_corpus() {
        let name = shape.file_name();
        if !names.is_empty() && !names.iter().any(|n| name.contains(n.as_str())) {
            continue;
        }
        let measured = reset_peak_memory();
        let format = shape.class.format();
        let raw = format.parse(&shape.text()).unwrap();
        let model = match shape.class {
            Class::Kv => ModelKind::Kv,
            Class::Etcd => ModelKind::CasRegister,
        };
        let expected = if shape.is_bad() {
            LinVerdict::NotLinearizable
        } else {
            LinVerdict::Linearizable
        };
        let check = |explain: bool| {
            let options = Options {
                jobs: 1,
                timeout: Some(HARD_TIMEOUT),
                ..Options::default()
            };
            let started = Instant::now();
            let report = if explain {
                linear::check_history(model, format.default_initial(), &raw, &options)
            } else {
                linear::verdict_only(model, format.default_initial(), &raw, &options)
            }
            .unwrap();
            let ms = started.elapsed().as_secs_f64() * 1e3;
            assert!(
                report.verdict == expected || report.verdict == LinVerdict::Unknown,
                "{name}: {} where {} was expected",
                report.verdict.as_str(),
                expected.as_str()
            );
            (report, ms)
        };
        let (report, verdict_ms) = check(false);
        let mut why = report.unknown.clone();
        let (full, explain) = match report.verdict {
            LinVerdict::Unknown => ("-".to_string(), "-".to_string()),
            _ => match check(true) {
                (full, full_ms) if full.verdict == LinVerdict::Unknown => {
                    why.extend(full.unknown.iter().map(|w| format!("full check: {w}")));
                    (format!("{full_ms:.1}ms"), "unknown".to_string())
                }
                (_, full_ms) => (format!("{full_ms:.1}ms"), format!("{:.1}ms", full_ms - verdict_ms)),
            },
        };
        let peak = match (measured, peak_memory_kib()) {
            (true, Some(kib)) => format!("{:.0}MiB", kib as f64 / 1024.0),
            _ => "-".to_string(),
        };
        println!(
            "{name:<26} {:>6} {:>16} {:>16} {verdict_ms:>8.1}ms {full:>10} {explain:>10} {peak:>8}",
            raw.ops.len(),
            expected.as_str(),
            report.verdict.as_str()
        );
        for reason in why {
            println!("    unknown: {reason}");
        }
    }
}

/// Resets the process's peak resident memory (Linux's VmHWM) to what it
/// holds now, after handing the allocator's free memory back to the
/// system, so that the peak is this file's and not what an earlier file
/// left cached in the allocator; false where that cannot be done.
fn reset_peak_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim only returns free heap pages to the
        // system; it touches no live allocation.
        unsafe {
            malloc_trim(0);
        }
    }
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The process's peak resident memory since the last reset, in KiB (Linux
/// only).
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn op(process: u64, f: &str, input: Value, output: Value, call: u64, ret: u64) -> RawOp {
    RawOp {
        process,
        f: f.into(),
        key: Some(Value::from("k")),
        input,
        output: Some(output),
        call,
        ret: Some(ret),
        line: 0,
    }
}

/// One process: puts and gets of one key, one after another.
fn sequential(n: u64) -> RawHistory {
    let ops = (0..n)
        .map(|i| {
            let v = Value::Int((i / 2) as i64);
            let (f, input) = if i % 2 == 0 {
                ("put", v.clone())
            } else {
                ("get", Value::Nil)
            };
            op(0, f, input, v, 2 * i, 2 * i + 1)
        })
        .collect();
    RawHistory { ops, failed: 0 }
}

/// `n` appends of `bytes` bytes to one key by `processes` processes, each
/// overlapping the next `processes - 1`, then a read of a value they
/// cannot have made.
fn appends(n: u64, processes: u64, bytes: usize) -> RawHistory {
    let mut ops: Vec<RawOp> = (0..n)
        .map(|i| {
            let text = format!("x {} {i} y ", i % processes);
            let value = Value::Str(format!("{text:z<bytes$}"));
            op(i % processes, "append", value, Value::Nil, i, i + processes)
        })
        .collect();
    ops.push(op(
        processes,
        "get",
        Value::Nil,
        Value::from("none"),
        n + processes,
        n + processes + 1,
    ));
    RawHistory { ops, failed: 0 }
}
