//! Every scenario file in scenarios/ (regressions included) is valid and
//! deterministic: same seed, same trace, in this process and in another;
//! different seeds, different traces.

mod common;

use simulate::protocols::Registry;
use simulate::world::RunOptions;
use std::collections::BTreeSet;
use std::process::Command;

#[test]
fn every_scenario_gives_the_same_trace_for_the_same_seed() {
    for file in common::scenario_files() {
        let s = Registry::builtin().load(&file).unwrap_or_else(|e| panic!("{e}"));
        let a = s.run(7, &RunOptions::default());
        let b = s.run(7, &RunOptions::default());
        // A shrunk regression is small by design: a real run all the same.
        let regression = file
            .parent()
            .and_then(|p| p.file_name())
            .is_some_and(|d| d == "regressions");
        let floor = if regression { 10 } else { 100 };
        assert!(a.trace.events() > floor, "{}: a real run", file.display());
        assert_eq!(a.trace.text(), b.trace.text(), "{}", file.display());
        assert_eq!(a.trace.hash(), b.trace.hash());
        assert_eq!(a.history, b.history);
    }
}

#[test]
fn every_scenario_gives_twenty_traces_for_twenty_seeds() {
    for file in common::scenario_files() {
        let s = Registry::builtin().load(&file).unwrap();
        let hashes: BTreeSet<u64> = (0..20)
            .map(|seed| s.run(seed, &RunOptions::default()).trace.hash())
            .collect();
        assert_eq!(hashes.len(), 20, "{}", file.display());
    }
}

#[test]
fn every_scenario_gives_the_same_hash_in_other_processes() {
    let out = std::env::temp_dir().join(format!("simulate-determinism-{}", std::process::id()));
    for file in common::scenario_files() {
        let s = Registry::builtin().load(&file).unwrap();
        let here = s.run(11, &RunOptions::default()).trace.hash_hex();
        for _ in 0..2 {
            let output = Command::new(env!("CARGO_BIN_EXE_simulate"))
                .args(["run", file.to_str().unwrap(), "--seed", "11", "--json", "--out"])
                .arg(&out)
                .output()
                .unwrap();
            let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(json["trace_hash"], here.as_str(), "{}", file.display());
        }
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_run_keeping_only_its_hash_hashes_as_the_run_that_wrote_its_trace() {
    let out = std::env::temp_dir().join(format!("simulate-tracefile-{}", std::process::id()));
    // single-kv's messages go into the hash as Debug text, Raft's through `Hash`.
    for file in ["scenarios/single-kv.ron", "scenarios/raft-kv.ron"] {
        let run = |report: &str| {
            let output = Command::new(env!("CARGO_BIN_EXE_simulate"))
                .args(["run", file, "--json", "--report", report, "--out"])
                .arg(&out)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
        };
        let (json, hashed) = (run("always"), run("never"));
        assert_eq!(
            json["trace_hash"], hashed["trace_hash"],
            "{file}: with and without the text"
        );
        let text = std::fs::read_to_string(out.join("trace.log")).unwrap();
        let mut events = 0;
        for line in simulate::trace::event_lines(&text) {
            assert_eq!(simulate::trace::parse_line(line).unwrap().seq, events);
            events += 1;
        }
        assert_eq!(json["events"], events);
        let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
        assert_eq!(
            history.lines().count() as u64,
            json["ops"]["invoked"].as_u64().unwrap() * 2 - count_open(&history)
        );
        std::fs::remove_dir_all(&out).unwrap();
    }
}

/// Invocations with no completion line.
fn count_open(history: &str) -> u64 {
    let events: Vec<serde_json::Value> = history.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let completed: BTreeSet<_> = events
        .iter()
        .filter(|e| e["type"] != "invoke")
        .map(|e| e["op"].as_u64())
        .collect();
    events
        .iter()
        .filter(|e| e["type"] == "invoke" && !completed.contains(&e["op"].as_u64()))
        .count() as u64
}

/// A scenario written back (`scenario::write::to_ron`, what `simulate
/// shrink` writes) reads as the same scenario: written again it is the same
/// text, and its seeds give the same traces.
#[test]
fn every_scenario_written_back_reads_the_same_and_runs_the_same() {
    for file in common::scenario_files() {
        let s = Registry::builtin().load(&file).unwrap();
        let text = simulate::scenario::write::to_ron(s.spec());
        let back = Registry::builtin()
            .parse("back.ron", &text)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", file.display()));
        assert_eq!(
            simulate::scenario::write::to_ron(back.spec()),
            text,
            "{}",
            file.display()
        );
        let (a, b) = (s.run(3, &RunOptions::default()), back.run(3, &RunOptions::default()));
        assert_eq!(a.trace.hash(), b.trace.hash(), "{}", file.display());
    }
}
