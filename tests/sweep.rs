//! `simulate sweep`: the same results whatever the worker count, shards
//! that cover a range exactly once, fail-fast, and bad input.

mod common;

use common::{simulate, temp_path};
use serde_json::Value;
use std::path::PathBuf;

/// A bug demonstration of the repository.
const DEMO: &str = "scenarios/raft-bug-no-fsync.ron";

/// `file` as a scenario that does not expect its failure: its failures
/// are failures. Written beside the other temp files, once per name.
fn unexpected(file: &str, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("expect:"))
        .collect();
    let path = temp_path(&format!("{name}.ron"));
    std::fs::write(&path, kept.join("\n")).unwrap();
    path
}

/// The bug demonstration, with its failures unexpected.
fn buggy(name: &str) -> PathBuf {
    unexpected(DEMO, name)
}

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
    let file = buggy("buggy-j");
    let file = file.to_str().unwrap();
    let (code1, one) = sweep(&[file, "--seeds", "0..12", "--jobs", "1"], "j1");
    let (code2, two) = sweep(&[file, "--seeds", "0..12", "--jobs", "2"], "j2");
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
    let file = buggy("buggy-shards");
    let file = file.to_str().unwrap();
    let (_, whole) = sweep(&[file, "--seeds", "3..15", "--jobs", "2"], "whole");
    let mut failed = Vec::new();
    let mut ran = 0;
    for k in 0..3 {
        let shard = format!("{k}/3");
        let (_, part) = sweep(
            &[file, "--seeds", "3..15", "--shard", &shard, "--jobs", "1"],
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
    let file = buggy("buggy-junit");
    let out = simulate(&[
        "sweep",
        "--out",
        reports.to_str().unwrap(),
        file.to_str().unwrap(),
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
    let file = unexpected("scenarios/raft-bug-vote-without-log-check.ron", "buggy-ff");
    let file = file.to_str().unwrap();
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
        (&["sweep", DEMO, "--seeds", "5..5"][..], "not a seed range"),
        (&["sweep", DEMO, "--seeds", "0..5", "--shard", "2/2"], "not a shard"),
        (
            &["sweep", DEMO, "--seeds", "0..5", "--jobs", "1000000"],
            "more than 1024",
        ),
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
    let file = buggy("buggy-pipe");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args([
            "sweep",
            file.to_str().unwrap(),
            "--seeds",
            "0..12",
            "--jobs",
            "1",
            "--out",
        ])
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

#[test]
fn a_bug_demonstration_passes_when_it_fails_as_expected_and_only_so() {
    let (code, summary) = sweep(&[DEMO, "--seeds", "0..12", "--jobs", "2"], "demo");
    assert_eq!(code, 0, "expected failures are no failure of the sweep: {summary}");
    let s = &summary["scenarios"][0];
    assert!(s["failed_as_expected"].as_u64().unwrap() > 0, "{s}");
    assert_eq!(s["failed"], serde_json::json!([]));
    assert_eq!(s["first_failed_as_expected"], 0);

    // Seed 2 is one on which the bug does not show.
    let (code, summary) = sweep(&[DEMO, "--seeds", "2..3"], "demo-none");
    assert_eq!(code, 1, "no seed showed the bug: {summary}");
    let out = simulate(&["sweep", DEMO, "--seeds", "2..3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("no seed of 2..3 showed its expected failure"),
        "{stdout}"
    );

    // The same scenario expecting only ElectionSafety: its LeaderCompleteness
    // failures are unexpected.
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO)).unwrap();
    let narrow = temp_path("narrow.ron");
    let expect = text.lines().find(|l| l.trim_start().starts_with("expect:")).unwrap();
    std::fs::write(&narrow, text.replace(expect, "  expect: Fails([ElectionSafety]),")).unwrap();
    let (code, summary) = sweep(&[narrow.to_str().unwrap(), "--seeds", "0..6"], "narrow");
    assert_eq!(code, 1, "{summary}");
    assert!(!seeds(&summary, "failed").is_empty(), "{summary}");
}

#[test]
fn a_sometimes_property_no_seed_saw_is_listed() {
    let src = r#"Scenario(name: "calm", protocol: Raft(), nodes: 3, duration: "2s",
        workload: (clients: 1, ops: 20), checks: [LeaderReplaced, ElectionSafety])"#;
    let file = temp_path("calm.ron");
    std::fs::write(&file, src).unwrap();
    let out = simulate(&["sweep", file.to_str().unwrap(), "--seeds", "0..3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("never seen calm: LeaderReplaced held in no seed of 0..3"),
        "no fault, so no leader is ever replaced: {stdout}"
    );
    let src = src.replace(
        "workload:",
        r#"faults: [At("1s", Crash(Leader))], recover: "1s", workload:"#,
    );
    std::fs::write(&file, src).unwrap();
    let out = simulate(&["sweep", file.to_str().unwrap(), "--seeds", "0..3"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("never seen"),
        "crashing the leader replaces it: {stdout}"
    );
}

#[test]
fn fail_fast_junit_and_json_say_which_seeds_ran_and_skip_the_rest() {
    let file = unexpected("scenarios/raft-bug-vote-without-log-check.ron", "buggy-ff-junit");
    let xml = temp_path("sweep-ff.xml");
    let (code, summary) = sweep(
        &[
            file.to_str().unwrap(),
            "scenarios/single-kv.ron",
            "--seeds",
            "0..50",
            "--jobs",
            "1",
            "--fail-fast",
            "--junit",
            xml.to_str().unwrap(),
        ],
        "ff-junit",
    );
    let text = std::fs::read_to_string(&xml).unwrap();
    std::fs::remove_file(&xml).unwrap();
    assert_eq!(code, 1);
    let (first, second) = (&summary["scenarios"][0], &summary["scenarios"][1]);
    assert_eq!(
        (first["ran"].as_u64(), first["seeds_ran"].as_str()),
        (Some(1), Some("0..1"))
    );
    assert_eq!(
        (first["not_run"].as_u64(), first["seeds_not_run"].as_str()),
        (Some(49), Some("1..50"))
    );
    assert_eq!(
        (second["ran"].as_u64(), second["seeds_not_run"].as_str()),
        (Some(0), Some("0..50"))
    );
    assert!(
        summary["stopped_because"].as_str().unwrap().contains("--fail-fast"),
        "{summary}"
    );
    assert!(
        text.contains("<testsuites name=\"simulate sweep\" tests=\"3\" failures=\"1\" skipped=\"2\""),
        "{text}"
    );
    assert!(text.contains("name=\"seeds 0..1\""), "{text}");
    assert!(text.contains("name=\"seeds 1..50\""), "{text}");
    assert!(
        text.contains(
            "<skipped message=\"49 seeds did not run: --fail-fast stopped the sweep at the first failure\"/>"
        ),
        "{text}"
    );
    // The scenario that never ran is skipped whole, not passed.
    let single = &text[text.find("<testsuite name=\"single-kv\"").unwrap()..];
    assert!(
        single.starts_with("<testsuite name=\"single-kv\" tests=\"1\" failures=\"0\" skipped=\"1\""),
        "{text}"
    );
    assert!(!single.contains("name=\"seeds 0..0\""), "{text}");
}

#[test]
fn scenarios_that_share_a_name_keep_their_own_reports() {
    let a = buggy("same-name-a");
    let b = unexpected("scenarios/raft-bug-vote-without-log-check.ron", "same-name-b");
    let renamed = std::fs::read_to_string(&b)
        .unwrap()
        .replace("raft-bug-vote-without-log-check", "raft-bug-no-fsync");
    std::fs::write(&b, renamed).unwrap();
    let reports = temp_path("sweep-same-name");
    let out = simulate(&[
        "sweep",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--seeds",
        "1..2",
        "--out",
        reports.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let first = std::fs::read_to_string(reports.join("raft-bug-no-fsync/1/scenario.ron")).unwrap();
    let second = std::fs::read_to_string(reports.join("raft-bug-no-fsync-2/1/scenario.ron")).unwrap();
    std::fs::remove_dir_all(&reports).unwrap();
    assert!(first.contains("NoFsync"), "{first}");
    assert!(second.contains("VoteWithoutLogCheck"), "{second}");
    for (file, folder) in [(&a, "raft-bug-no-fsync"), (&b, "raft-bug-no-fsync-2")] {
        let line = format!("fail raft-bug-no-fsync ({}) seed 1", file.display());
        let at = stdout.find(&line).unwrap_or_else(|| panic!("{line}: {stdout}"));
        let replay = stdout[at..].lines().nth(1).unwrap();
        assert!(replay.ends_with(&format!("{folder}/1/repro.ron")), "{replay}");
    }
}

#[cfg(unix)]
#[test]
fn replay_lines_are_shell_words_even_with_spaces_and_semicolons() {
    let file = buggy("buggy-quote");
    let reports = temp_path("sweep quote; touch pwned");
    let out = simulate(&[
        "sweep",
        file.to_str().unwrap(),
        "--seeds",
        "1..2",
        "--out",
        reports.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let replay = stdout.lines().find_map(|l| l.trim().strip_prefix("replay: ")).unwrap();
    let command = replay.replacen("simulate", env!("CARGO_BIN_EXE_simulate"), 1);
    let shell = std::process::Command::new("sh")
        .args(["-c", &command])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    std::fs::remove_dir_all(&reports).unwrap();
    let stderr = String::from_utf8_lossy(&shell.stderr);
    assert!(stderr.contains("reproduced: trace hash"), "{command}: {stderr}");
    assert!(!std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pwned").exists());
}

/// raft-kv made long: each seed takes several seconds, so a stop lands
/// mid-run.
#[cfg(unix)]
fn slow_scenario(name: &str) -> PathBuf {
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft-kv.ron"))
        .unwrap();
    let duration = text.lines().find(|l| l.trim_start().starts_with("duration:")).unwrap();
    let long = text.replace(
        duration,
        "  duration: \"1200s\", budget: (events: 50000000, memory_mb: 4096),",
    );
    let long = long.replacen("ops: 2500", "ops: 1000000", 1);
    assert!(long.contains("ops: 1000000"), "raft-kv.ron's workload has ops: 2500");
    let path = temp_path(&format!("{name}.ron"));
    std::fs::write(&path, long).unwrap();
    path
}

#[cfg(unix)]
fn signal(child: &std::process::Child, name: &str) {
    let kill = std::process::Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status();
    assert!(kill.unwrap().success());
}

#[cfg(unix)]
#[test]
fn sigterm_twice_returns_at_once_and_writes_which_seeds_ran() {
    let file = slow_scenario("slow-term");
    let (json, xml) = (temp_path("sweep-term.json"), temp_path("sweep-term.xml"));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args([
            "sweep",
            file.to_str().unwrap(),
            "--seeds",
            "0..1000",
            "--jobs",
            "2",
            "--json",
        ])
        .arg(&json)
        .arg("--junit")
        .arg(&xml)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Both workers are inside their first seed, seconds from its end.
    std::thread::sleep(std::time::Duration::from_millis(800));
    signal(&child, "TERM");
    std::thread::sleep(std::time::Duration::from_millis(200));
    signal(&child, "TERM");
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let text = std::fs::read_to_string(&xml).unwrap();
    std::fs::remove_file(&json).unwrap();
    std::fs::remove_file(&xml).unwrap();
    let s = &summary["scenarios"][0];
    assert_eq!(summary["interrupted"], true);
    assert_eq!(
        s["ran"], 0,
        "the second stop did not wait for the running seeds: {summary}"
    );
    assert_eq!(s["interrupted"], serde_json::json!([0, 1]), "{summary}");
    assert_eq!(s["seeds_not_run"], "2..1000 and 0, 1 (interrupted)", "{summary}");
    assert!(
        text.contains("<skipped message=\"1000 seeds did not run: the sweep was interrupted\"/>"),
        "{text}"
    );
    assert!(
        !text.contains("name=\"seeds 0..0\""),
        "no seed ran, so no case says one passed: {text}"
    );
}

#[test]
fn a_seed_whose_checks_a_stop_cut_short_is_interrupted_not_passed() {
    static STOPPED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
    let bound = common::load("scenarios/raft-kv.ron");
    let reports = temp_path("sweep-cut-short");
    let result = simulate::sweep::run_one(&bound, (0, 0), Some(&reports), "simulate", Some(&STOPPED));
    assert!(result.interrupted, "{:?}", result.not_passed);
    assert_eq!(
        result.not_passed,
        [("Linearizable(kv)".to_string(), simulate::check::Verdict::Unknown)]
    );
    assert!(
        result.report.is_none() && !reports.exists(),
        "an interrupted seed writes no report"
    );
    let whole = simulate::sweep::run_one(&bound, (0, 0), None, "simulate", None);
    assert!(
        !whole.interrupted && whole.not_passed.is_empty(),
        "{:?}",
        whole.not_passed
    );
}

#[test]
fn a_swarm_sweep_runs_each_seeds_own_variant_and_replays_it() {
    let file = buggy("buggy-swarm");
    let f = file.to_str().unwrap();
    let (_, plain) = sweep(&[f, "--seeds", "0..6", "--jobs", "1"], "swarm-plain");
    let (_, one) = sweep(&[f, "--seeds", "0..6", "--jobs", "1", "--swarm"], "swarm-1");
    let (_, two) = sweep(&[f, "--seeds", "0..6", "--jobs", "2", "--swarm"], "swarm-2");
    assert_eq!(
        (plain["swarm"].as_bool(), one["swarm"].as_bool()),
        (Some(false), Some(true))
    );
    assert_ne!(plain["digest"], one["digest"], "the variants are other runs");
    assert_eq!(
        one["digest"], two["digest"],
        "a seed's variant depends on the seed alone"
    );
    // `run --swarm` names the variant, and its report's repro plays it again.
    let dir = temp_path("swarm-run");
    let out = simulate(&[
        "run",
        f,
        "--seed",
        "3",
        "--swarm",
        "--report",
        "always",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("swarm variant of seed 3: off ["), "{stderr}");
    let repro = std::fs::read_to_string(dir.join("repro.ron")).unwrap();
    assert!(
        repro.contains("// swarm variant of seed 3"),
        "the repro holds the variant"
    );
    let replay = simulate(&["replay", dir.join("repro.ron").to_str().unwrap()]);
    let said = String::from_utf8_lossy(&replay.stderr);
    assert!(said.contains("reproduced: trace hash"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}
