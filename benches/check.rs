//! Linearizability checker speed and verdicts on the Porcupine corpus.
//!
//! `cargo bench --bench check [CORPUS_DIR]` checks every `*-ok.txt` and
//! `*-bad.txt` file in the folder (default ../shared/corpus/porcupine-kv),
//! asserts that the verdict matches the name, and prints the time of the
//! search alone (no counterexample), single-threaded and with all cores,
//! and the time of the full check with its explanation.

use simulate::check::linear::{self, LinVerdict, ModelKind, Options};
use simulate::history::formats::Format;
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
}
