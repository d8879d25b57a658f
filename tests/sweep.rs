//! `simulate sweep`: the same results whatever the worker count, shards
//! that cover a range exactly once, fail-fast, and bad input.

mod common;

use common::{simulate, temp_path};
use serde_json::Value;

const BUGGY: &str = "scenarios/raft-bug-no-fsync.ron";

/// Runs a sweep with a JSON summary; returns (exit code, summary).
fn sweep(args: &[&str], name: &str) -> (i32, Value) {
    let json = temp_path(&format!("sweep-{name}.json"));
    let reports = temp_path(&format!("sweep-{name}"));
    let mut all = vec!["sweep"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", json.to_str().unwrap(), "--out", reports.to_str().unwrap()]);
    let out = simulate(&all);
    let _ = std::fs::remove_dir_all(&reports);
    let summary =
        std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    std::fs::remove_file(&json).unwrap();
    (out.status.code().unwrap(), serde_json::from_str(&summary).unwrap())
}

fn seeds(summary: &Value, field: &str) -> Vec<u64> {
    let list = summary["scenarios"][0][field].as_array().unwrap();
    list.iter().map(|s| s.as_u64().unwrap()).collect()
}

#[test]
fn one_worker_or_two_give_the_same_results() {
    let (code1, one) = sweep(&[BUGGY, "--seeds", "0..12", "--jobs", "1"], "j1");
    let (code2, two) = sweep(&[BUGGY, "--seeds", "0..12", "--jobs", "2"], "j2");
    assert_eq!((code1, code2), (1, 1), "the bug fails some seed");
    assert_eq!(
        one["digest"], two["digest"],
        "every seed's trace hash and verdict agree"
    );
    assert_eq!(seeds(&one, "failed"), seeds(&two, "failed"));
    assert!(!seeds(&one, "failed").is_empty() && one["passed"].as_u64().unwrap() > 0);
}

#[test]
fn shards_run_each_seed_once_and_find_the_same_failures() {
    let (_, whole) = sweep(&[BUGGY, "--seeds", "3..15", "--jobs", "2"], "whole");
    let mut failed = Vec::new();
    let mut ran = 0;
    for k in 0..3 {
        let shard = format!("{k}/3");
        let (_, part) = sweep(
            &[BUGGY, "--seeds", "3..15", "--shard", &shard, "--jobs", "1"],
            &format!("s{k}"),
        );
        assert_eq!(part["ran"], 4, "shard {shard}");
        ran += part["ran"].as_u64().unwrap();
        failed.extend(seeds(&part, "failed"));
    }
    failed.sort_unstable();
    assert_eq!(ran, 12);
    assert_eq!(failed, seeds(&whole, "failed"));
}

#[test]
fn junit_has_a_case_per_scenario_and_the_failing_seeds_with_their_replay() {
    let xml = temp_path("sweep-junit.xml");
    let reports = temp_path("sweep-junit");
    let out = simulate(&[
        "sweep",
        "--out",
        reports.to_str().unwrap(),
        BUGGY,
        "scenarios/single-kv.ron",
        "--seeds",
        "0..4",
        "--junit",
        xml.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = std::fs::read_to_string(&xml).unwrap();
    std::fs::remove_file(&xml).unwrap();
    assert!(
        text.contains("<testsuites name=\"simulate sweep\" tests=\"2\" failures=\"1\""),
        "{text}"
    );
    assert!(
        text.contains("<testcase classname=\"raft-bug-no-fsync\" name=\"seeds 0..4\""),
        "{text}"
    );
    assert!(
        text.contains("<failure message=\"3 of 4 seeds did not pass: 0, 1, 3\">"),
        "{text}"
    );
    let repro = reports.join("raft-bug-no-fsync/3/repro.ron");
    assert!(
        text.contains(&format!("replay: simulate replay {}", repro.display())),
        "{text}"
    );
    assert!(repro.exists(), "a failing seed gets a report folder with a repro");
    assert!(!reports.join("single-kv").exists(), "passing seeds get none");
    std::fs::remove_dir_all(&reports).unwrap();
    assert!(
        text.contains("<testsuite name=\"single-kv\" tests=\"1\" failures=\"0\""),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_the_sweep_and_still_writes_what_ran() {
    let json = temp_path("sweep-int.json");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args([
            "sweep",
            "scenarios/raft-kv.ron",
            "--seeds",
            "0..100000",
            "--jobs",
            "2",
            "--json",
        ])
        .arg(&json)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(kill.unwrap().success());
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    assert!(
        stdout.contains("interrupted: ") && stdout.contains("swept "),
        "{stdout}"
    );
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).unwrap();
    assert_eq!(summary["interrupted"], true);
    assert!(summary["ran"].as_u64().unwrap() < 100_000, "{summary}");
}

#[test]
fn fail_fast_stops_starting_seeds_after_a_failure() {
    let file = "scenarios/raft-bug-vote-without-log-check.ron";
    let (code, summary) = sweep(&[file, "--seeds", "0..50", "--jobs", "1", "--fail-fast"], "ff");
    assert_eq!(code, 1);
    assert_eq!(summary["ran"], 1, "{summary}");
    assert_eq!(summary["planned"], 50);
}

#[test]
fn a_passing_sweep_exits_0_and_bad_input_exits_2() {
    let (code, summary) = sweep(&["scenarios/single-kv.ron", "--seeds", "0..4"], "pass");
    assert_eq!((code, summary["passed"].as_u64()), (0, Some(4)));
    for (args, words) in [
        (&["sweep", BUGGY, "--seeds", "5..5"][..], "not a seed range"),
        (&["sweep", BUGGY, "--seeds", "0..5", "--shard", "2/2"], "not a shard"),
        (&["sweep", "scenarios/missing.ron", "--seeds", "0..5"], "missing.ron"),
    ] {
        let out = simulate(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
}

#[test]
fn a_reader_that_stops_early_does_not_crash_the_sweep() {
    use std::io::BufRead;
    let reports = temp_path("sweep-pipe");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["sweep", BUGGY, "--seeds", "0..12", "--jobs", "1", "--out"])
        .arg(&reports)
        .arg("--json")
        .arg(reports.with_extension("json"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{first}{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let summary = std::fs::read_to_string(reports.with_extension("json")).unwrap();
    assert!(summary.contains("\"ran\": 12"), "the sweep went on: {summary}");
    std::fs::remove_dir_all(&reports).unwrap();
    std::fs::remove_file(reports.with_extension("json")).unwrap();
}
