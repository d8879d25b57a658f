//! The `simulate` binary: exit codes, output, and bad input.

mod common;

use common::{simulate, temp_dir};

const BASE: &str = r#"Scenario(
  name: "bad",
  protocol: AsyncPrimaryBackup(),
  nodes: 5,
  duration: "10s",
  network: (latency: Uniform("1ms", "5ms"), loss: 0.01),
  workload: (clients: 2, ops: 10),
  faults: [At("1s", Crash(Node(1)))],
  recover: "1s",
  checks: [Recovers(within: "500ms")],
)
"#;

/// (what is wrong, replacements in the base, line:col, words the message must contain)
type Mistake = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

const MISTAKES: &[Mistake] = &[
    ("syntax", &[("nodes: 5,", "nodes: 5")], "5:3", "Expected comma"),
    (
        "unknown field",
        &[("nodes: 5,", "nodes: 5, lattency: 3,")],
        "4:13",
        "Unexpected field named `lattency`",
    ),
    (
        "wrong type",
        &[("nodes: 5", "nodes: \"five\"")],
        "4:9",
        "Expected integer",
    ),
    (
        "negative probability",
        &[("loss: 0.01", "loss: -0.1")],
        "6:51",
        "expected a number from 0.0 to 1.0",
    ),
    (
        "probability above one",
        &[("loss: 0.01", "loss: 1.5")],
        "6:51",
        "expected a number from 0.0 to 1.0",
    ),
    ("duration without unit", &[("\"10s\"", "\"10\"")], "5:14", "has no unit"),
    (
        "unknown duration unit",
        &[("\"10s\"", "\"10 parsecs\"")],
        "5:14",
        "unknown unit",
    ),
    (
        "node index out of range",
        &[("Crash(Node(1))", "Crash(Node(7))")],
        "8:32",
        "node index 7 is out of range; expected 0 to 4",
    ),
    (
        "majority split of two nodes",
        &[("nodes: 5", "nodes: 2"), ("Crash(Node(1))", "Partition(Majority)")],
        "8:31",
        "Majority needs at least 3 nodes",
    ),
    (
        "missing field",
        &[("  nodes: 5,\n", "")],
        "10:1",
        "missing field named `nodes`",
    ),
    (
        "unknown protocol",
        &[("AsyncPrimaryBackup()", "Paxos()")],
        "3:13",
        "unknown protocol Paxos; expected one of: Single, AsyncPrimaryBackup, Raft",
    ),
    (
        "uniform bounds reversed",
        &[("Uniform(\"1ms\", \"5ms\")", "Uniform(\"5ms\", \"1ms\")")],
        "6:30",
        "wrong way round",
    ),
    (
        "fault after the fault phase",
        &[("At(\"1s\"", "At(\"11s\"")],
        "8:15",
        "after the fault phase ends",
    ),
    ("zero clients", &[("clients: 2", "clients: 0")], "7:23", "clients is 0"),
    (
        "node in two groups",
        &[("Crash(Node(1))", "Partition(Groups([[0, 1], [1, 2]]))")],
        "8:48",
        "node 1 is in two groups",
    ),
    (
        "single with many nodes",
        &[("AsyncPrimaryBackup()", "Single")],
        "4:10",
        "exactly one node",
    ),
    (
        "recovers without recover",
        &[("  recover: \"1s\",\n", "")],
        "9:12",
        "needs a recovery phase",
    ),
    (
        "random with no kinds",
        &[(
            "At(\"1s\", Crash(Node(1)))",
            "Random(every: (\"1s\", \"2s\"), kinds: [])",
        )],
        "8:47",
        "kinds is empty",
    ),
    (
        "drift out of range",
        &[("  recover", "  clocks: (drift_ppm: (0, 2000000)),\n  recover")],
        "9:27",
        "drift 2000000 ppm is out of range",
    ),
    (
        "crash a majority of two",
        &[("nodes: 5", "nodes: 2"), ("Node(1)", "Majority")],
        "8:27",
        "a Majority of 2 nodes",
    ),
    (
        "retry without deduplication",
        &[("ops: 10)", "ops: 10, retry: \"100ms\")")],
        "7:42",
        "does not deduplicate resent requests",
    ),
    (
        "raft heartbeat not below the election timeout",
        &[("AsyncPrimaryBackup()", "Raft(heartbeat: \"200ms\")")],
        "3:29",
        "shorter than election_timeout (150ms)",
    ),
    (
        "lease bug without leases",
        &[("AsyncPrimaryBackup()", "Raft(bugs: [LeaseIgnoresDrift])")],
        "3:25",
        "expected reads: Lease(drift_bound_ppm: ...)",
    ),
    (
        "lease property without leases",
        &[
            ("AsyncPrimaryBackup()", "Raft()"),
            ("checks: [Recovers(within: \"500ms\")]", "checks: [ServesFromLease]"),
        ],
        "10:12",
        "ServesFromLease watches lease reads; expected reads: Lease(drift_bound_ppm: ...)",
    ),
    (
        "raft invariant on another protocol",
        &[("checks: [Recovers(within: \"500ms\")]", "checks: [ElectionSafety]")],
        "10:12",
        "ElectionSafety is not a check protocol AsyncPrimaryBackup offers; expected one of: Linearizable(model), Recovers(within: d)",
    ),
    (
        "linearizable with an unknown model",
        &[("checks: [Recovers(within: \"500ms\")]", "checks: [Linearizable(Kvv)]")],
        "10:25",
        "Unexpected variant named `Kvv`",
    ),
    (
        "eventually property without its bound",
        &[
            ("AsyncPrimaryBackup()", "Raft()"),
            ("checks: [Recovers(within: \"500ms\")]", "checks: [ElectsLeader]"),
        ],
        "10:12",
        "missing field named `within`",
    ),
    (
        "always property with arguments",
        &[
            ("AsyncPrimaryBackup()", "Raft()"),
            ("checks: [Recovers(within: \"500ms\")]", "checks: [LogMatching(within: \"1s\")]"),
        ],
        "10:12",
        "LogMatching takes no arguments",
    ),
    (
        "expected failure of a check not asked for",
        &[("checks: [Recovers(within: \"500ms\")],", "checks: [Recovers(within: \"500ms\")],\n  expect: Fails([Linearizable]),")],
        "11:18",
        "Linearizable is not among this scenario's checks",
    ),
    (
        "a model that cannot read the family's operations",
        &[("checks: [Recovers(within: \"500ms\")]", "checks: [Linearizable(Mutex)]")],
        "10:12",
        "Linearizable(mutex) cannot judge protocol AsyncPrimaryBackup's operations: model mutex reads acquire, release, not get",
    ),
    (
        "a sometimes property expected to fail",
        &[
            ("AsyncPrimaryBackup()", "Raft()"),
            ("checks: [Recovers(within: \"500ms\")],", "checks: [LeaderReplaced],\n  expect: Fails([LeaderReplaced]),"),
        ],
        "11:18",
        "LeaderReplaced is a sometimes property, which never fails",
    ),
    (
        "a check asked for twice",
        &[(
            "checks: [Recovers(within: \"500ms\")]",
            "checks: [Recovers(within: \"500ms\"), Recovers(within: \"500ms\")]",
        )],
        "10:39",
        "Recovers(within: 500ms) is asked for twice",
    ),
    (
        "a key-value workload with no keys",
        &[("ops: 10)", "ops: 10, keys: 0)")],
        "7:41",
        "keys is 0",
    ),
    (
        "more readers than clients",
        &[("ops: 10)", "ops: 10, readers: 3)")],
        "7:44",
        "readers is 3, but there are 2 clients",
    ),
    (
        "unknown raft bug",
        &[("AsyncPrimaryBackup()", "Raft(bugs: [Typo])")],
        "3:25",
        "expected one of `VoteWithoutLogCheck`",
    ),
    (
        "name too long",
        &[("\"bad\"", concat!("\"", "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789x", "\""))],
        "2:9",
        "101 characters long; expected at most 100",
    ),
    (
        "control character in the name",
        &[("\"bad\"", "\"bad\x1b[31m\"")],
        "2:9",
        "control character '\\u{1b}'",
    ),
    // Found by fuzzing: four scenarios that validated, then ran forever
    // while their memory grew.
    (
        "a heartbeat below the floor",
        &[("AsyncPrimaryBackup()", "AsyncPrimaryBackup(heartbeat: \"1ns\")")],
        "3:43",
        "heartbeat is 1ns; expected at least 1ms",
    ),
    (
        "a duration above the ceiling",
        &[("\"10s\"", "\"2000000h\"")],
        "5:13",
        "duration is 7200000000s; expected at most 24h",
    ),
    (
        "a recovery above the ceiling",
        &[("recover: \"1s\"", "recover: \"9223372036854775807ns\"")],
        "9:12",
        "recover is 9223372036854.775807ms; expected at most 24h",
    ),
    (
        "a raft election timeout below the floor",
        &[("AsyncPrimaryBackup()", "Raft(election_timeout: \"2ns\")")],
        "3:36",
        "election_timeout is 2ns; expected at least 1ms",
    ),
    (
        "a client timeout below the floor",
        &[("ops: 10)", "ops: 10, timeout: \"500us\")")],
        "7:44",
        "timeout is 500us; expected at least 1ms",
    ),
    (
        "an empty events budget",
        &[("  recover", "  budget: (events: 0),\n  recover")],
        "9:20",
        "events is 0; expected a budget of at least 1",
    ),
];

#[test]
fn bad_scenarios_exit_2_with_file_line_column_and_what_was_expected() {
    let dir = temp_dir("bad");
    for (what, edits, at, words) in MISTAKES {
        let mut text = BASE.to_string();
        for (from, to) in *edits {
            assert!(text.contains(from), "{what}: {from:?} not in the base scenario");
            text = text.replacen(from, to, 1);
        }
        let file = dir.join(format!("{}.ron", what.replace(' ', "-")));
        std::fs::write(&file, text).unwrap();
        let path = file.to_str().unwrap();
        for command in ["validate", "run"] {
            let out = simulate(&[command, path]);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{what} ({command}): {stderr}");
            assert!(
                stderr.contains(&format!("{path}:{at}: ")),
                "{what}: expected {path}:{at}: in {stderr}"
            );
            assert!(stderr.contains(words), "{what}: expected {words:?} in {stderr}");
            assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        }
    }
    assert!(MISTAKES.len() >= 10);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_base_of_the_bad_scenarios_is_itself_valid() {
    let dir = temp_dir("base");
    let file = dir.join("base.ron");
    std::fs::write(&file, BASE).unwrap();
    let out = simulate(&["validate", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_files_unknown_flags_and_unknown_protocols_exit_2() {
    let out = simulate(&["run", "no/such/file.ron"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.ron: cannot read scenario file"));
    assert_eq!(
        simulate(&["run", "scenarios/single-kv.ron", "--sede", "3"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(simulate(&["frobnicate"]).status.code(), Some(2));
    let dir = temp_dir("custom");
    let file = dir.join("custom.ron");
    std::fs::write(
        &file,
        "Scenario(name: \"c\",\n protocol: Custom(\"mine\"), nodes: 3, duration: \"1s\")",
    )
    .unwrap();
    let out = simulate(&["run", file.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(":2:12: unknown protocol Custom; expected one of: Single, AsyncPrimaryBackup, Raft"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn chaos_smoke_makes_every_fault_kind_happen() {
    let out = simulate(&[
        "run",
        "scenarios/chaos-smoke.ron",
        "--json",
        "--report",
        "always",
        "--out",
        temp_dir("smoke").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for kind in [
        "partition",
        "one_way_partition",
        "heal",
        "crash",
        "restart",
        "pause",
        "resume",
        "clock_jump",
        "drop",
        "duplicate",
    ] {
        assert!(json["faults"][kind].as_u64().unwrap() > 0, "{kind}: {}", json["faults"]);
    }
    for key in ["seed", "events", "sim_time_ms", "wall_ms", "report_dir"] {
        assert!(!json[key].is_null(), "{key} missing");
    }
    for key in ["sent", "delivered", "dropped", "duplicated"] {
        assert!(json["messages"][key].as_u64().unwrap() > 0, "messages.{key}");
    }
    for key in ["invoked", "ok", "indeterminate"] {
        assert!(json["ops"][key].as_u64().unwrap() > 0, "ops.{key}");
    }
    assert_eq!(json["ops"]["fail"], 0);
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["trace_hash"].as_str().unwrap().len(), 16);
    assert_eq!(json["sim_time_ms"], 12_000.0);
}

#[test]
fn a_failed_check_exits_1_and_keeps_its_report() {
    let dir = temp_dir("fail");
    let file = dir.join("slow.ron");
    // Client links take 5ms each way: no operation can finish within 1ms.
    let src = r#"Scenario(name: "slow", protocol: Single, nodes: 1, duration: "1s",
        network: (latency: Constant("5ms")), workload: (clients: 1, ops: 100),
        recover: "1s", checks: [Recovers(within: "1ms")])"#;
    std::fs::write(&file, src).unwrap();
    let report = dir.join("report");
    let out = simulate(&["run", file.to_str().unwrap(), "--out", report.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("verdict: FAIL"), "{stdout}");
    assert!(
        stdout.contains("fail    Recovers(within: 1ms): after the heal at 1.000s: get first ok came "),
        "{stdout}"
    );
    for name in [
        "summary.txt",
        "summary.json",
        "trace.log",
        "history.jsonl",
        "scenario.ron",
    ] {
        assert!(report.join(name).is_file(), "{name}");
    }
    assert_eq!(std::fs::read_to_string(report.join("scenario.ron")).unwrap(), src);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn check_determinism_passes_and_says_so() {
    let dir = temp_dir("det");
    let out = simulate(&[
        "run",
        "scenarios/single-kv.ron",
        "--check-determinism",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("pass    Determinism: two runs gave the same"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn trace_flag_streams_events_to_stderr_and_json_stays_one_object() {
    let dir = temp_dir("trace");
    let out = simulate(&[
        "run",
        "scenarios/single-kv.ron",
        "--trace",
        "--json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is exactly one JSON object");
    assert_eq!(stderr.lines().count() as u64, json["events"].as_u64().unwrap());
    assert!(stderr.starts_with("0 0.0000000"), "{}", &stderr[..80]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn families_lists_what_each_family_offers() {
    let out = simulate(&["families"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    for family in ["Single: ", "AsyncPrimaryBackup: ", "Raft: "] {
        assert!(text.lines().any(|l| l.starts_with(family)), "{family} in {text}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains("ElectsLeader(within: d)") && l.contains("eventually")),
        "{text}"
    );
    assert!(
        text.contains("bugs: VoteWithoutLogCheck, CommitPreviousTerm, NoFsync"),
        "{text}"
    );
}

#[test]
fn a_report_that_cannot_be_written_is_named_nowhere() {
    let dir = temp_dir("unwritable");
    let blocker = dir.join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let target = blocker.join("report");
    let out = simulate(&[
        "run",
        "scenarios/raft-bug-vote-without-log-check.ron",
        "--seed",
        "1",
        "--json",
        "--out",
        target.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "the finding keeps its exit code: {stderr}");
    assert!(stderr.contains("cannot write"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "fail");
    assert!(json["report_dir"].is_null(), "{json}");
    assert!(
        json["report_error"].as_str().unwrap().contains("cannot write"),
        "{json}"
    );
    let replay = json["replay"].as_str().unwrap();
    assert!(
        replay.ends_with("run scenarios/raft-bug-vote-without-log-check.ron --seed 1"),
        "{replay}"
    );
    let text = simulate(&[
        "run",
        "scenarios/raft-bug-vote-without-log-check.ron",
        "--seed",
        "1",
        "--out",
        target.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("report:  not written (cannot write"), "{stdout}");
    assert!(!stdout.contains("repro.ron"), "{stdout}");
    let passing = simulate(&[
        "run",
        "scenarios/single-kv.ron",
        "--report",
        "always",
        "--out",
        target.to_str().unwrap(),
    ]);
    assert_eq!(
        passing.status.code(),
        Some(2),
        "a pass whose asked-for report is lost exits 2"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Found by fuzzing: runs that never ended. A run that spends a budget
/// stops there and answers unknown (exit 3); its summary, JSON and trace
/// say which budget ran out, and when.
#[test]
fn a_spent_budget_stops_the_run_with_unknown_and_says_which_and_when() {
    let dir = temp_dir("budget");
    let raft_kv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/raft-kv.ron")).unwrap();
    for (budget, name) in [("events: 1000", "events"), ("memory_mb: 1", "memory")] {
        let src = raft_kv.replacen("recover: \"5s\",", &format!("recover: \"5s\", budget: ({budget}),"), 1);
        assert_ne!(src, raft_kv, "raft-kv.ron has a recover field");
        let file = dir.join(format!("{name}.ron"));
        std::fs::write(&file, src).unwrap();
        let report = dir.join(name);
        let out = common::run_with_report(file.to_str().unwrap(), 0, &report);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{name}: {stdout}");
        assert!(
            stdout.contains(&format!("unknown Budget({name}): the {name} budget ran out")),
            "{stdout}"
        );

        let trace = std::fs::read_to_string(report.join("trace.log")).unwrap();
        let lines: Vec<_> = simulate::trace::event_lines(&trace)
            .map(|l| simulate::trace::parse_line(l).unwrap())
            .collect();
        let (spent, end) = (&lines[lines.len() - 2], &lines[lines.len() - 1]);
        assert_eq!(
            (spent.kind, spent.field("ran_out")),
            ("budget", Some(name)),
            "{spent:?}"
        );
        assert_eq!((end.kind, end.time_ns), ("end", spent.time_ns));
        let used: u64 = spent.field("used").unwrap().parse().unwrap();
        let limit: u64 = spent.field("limit").unwrap().parse().unwrap();
        assert!(
            used > limit && used < limit + limit / 10,
            "stopped as soon as it was over: {spent:?}"
        );

        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(report.join("summary.json")).unwrap()).unwrap();
        assert_eq!(json["verdict"], "unknown");
        let sim_time_ms = json["sim_time_ms"].as_f64().unwrap();
        assert_eq!(sim_time_ms, spent.time_ns as f64 / 1e6, "the run's time is the stop");
        assert!(sim_time_ms < 25_000.0, "stopped before the end of the fault phase");
        let check = &json["checks"][1];
        assert_eq!(
            (&check["name"], &check["verdict"]),
            (
                &serde_json::json!(format!("Budget({name})")),
                &serde_json::json!("unknown")
            )
        );
        let at = format!("the run stopped at {:.6}s", spent.time_ns as f64 / 1e9);
        assert!(check["detail"].as_str().unwrap().contains(&at), "{check}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
