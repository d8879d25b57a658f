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

use simulate::check::linear::{self, LinVerdict, ModelKind, Options};
use simulate::core::Value;
use simulate::history::formats::Format;
use simulate::history::raw::{RawHistory, RawOp};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn main() {
    let dir = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
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
