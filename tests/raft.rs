//! Raft end to end: correct Raft passes every scenario written for it, and
//! each planted bug is caught by the check meant for it, on the seed its
//! scenario names, while the same seed passes once the bug is removed.

mod common;

use simulate::check::{self, CheckResult, Verdict};
use simulate::scenario::{self, ProtocolSpec, Scenario};
use simulate::sim::{self, RunOptions};

fn load(name: &str) -> Scenario {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.ron"));
    scenario::load(&path).unwrap_or_else(|e| panic!("{e}")).spec
}

fn run_and_check(s: &Scenario, seed: u64) -> Vec<CheckResult> {
    let outcome = sim::run_scenario(s, seed, &RunOptions::default());
    check::run_checks(s, &outcome)
}

fn failed(results: &[CheckResult]) -> Vec<&str> {
    let failed = results.iter().filter(|r| r.verdict != Verdict::Pass);
    failed.map(|r| r.name.as_str()).collect()
}

/// Each bug scenario and the check that must catch it.
const BUGS: &[(&str, &str)] = &[
    ("raft-bug-vote-without-log-check", "LeaderCompleteness"),
    ("raft-bug-commit-previous-term", "LeaderCompleteness"),
    ("raft-bug-no-fsync", "LeaderCompleteness"),
    ("raft-bug-stale-leader-read", "Linearizable(kv)"),
    ("raft-bug-lease-ignores-drift", "Linearizable(kv)"),
];

#[test]
fn each_planted_bug_is_caught_by_its_check_and_the_seed_passes_without_it() {
    for (name, check) in BUGS {
        let s = load(name);
        let seed = s.seed.expect("a bug scenario names a seed where the bug shows");
        let results = run_and_check(&s, seed);
        let caught = results
            .iter()
            .find(|r| r.name == *check)
            .expect("the scenario runs the check");
        assert_eq!(caught.verdict, Verdict::Fail, "{name} seed {seed}: {results:#?}");
        let mut fixed = s.clone();
        let ProtocolSpec::Raft(raft) = &mut fixed.protocol else {
            panic!("{name} is a Raft scenario")
        };
        raft.bugs.clear();
        let results = run_and_check(&fixed, seed);
        assert!(
            failed(&results).is_empty(),
            "{name} without its bug, seed {seed}: {results:#?}"
        );
    }
}

#[test]
fn correct_raft_passes_every_raft_scenario() {
    for name in [
        "raft-kv",
        "raft-leader-isolation",
        "raft-flapping-partitions",
        "raft-rolling-restarts",
        "raft-clock-skew",
    ] {
        let s = load(name);
        for seed in 0..3 {
            let results = run_and_check(&s, seed);
            assert!(failed(&results).is_empty(), "{name} seed {seed}: {results:#?}");
            assert!(results.len() >= 8, "{name} runs every Raft check: {results:#?}");
        }
    }
}

#[test]
fn raft_kv_exercises_every_fault_and_a_full_workload() {
    let s = load("raft-kv");
    let outcome = sim::run_scenario(&s, 5, &RunOptions::default());
    let f = outcome.stats.faults;
    for (kind, n) in [
        ("partition", f.partition),
        ("one-way partition", f.one_way_partition),
        ("crash", f.crash),
        ("restart", f.restart),
        ("pause", f.pause),
        ("clock jump", f.clock_jump),
        ("drop", f.drop),
        ("duplicate", f.duplicate),
    ] {
        assert!(n > 0, "no {kind} happened: {f:?}");
    }
    let invoked = outcome
        .history
        .events
        .iter()
        .filter(|e| e.kind == simulate::history::EventKind::Invoke);
    let invoked = invoked.count();
    assert!((1800..=2500).contains(&invoked), "{invoked} operations");
    let observed = outcome.observed.expect("Raft runs are observed");
    assert!(observed.violations.is_empty(), "{observed:?}");
    assert!(observed.leader_after_heal_ns.is_some());
}

#[test]
fn a_violation_is_traced_with_its_invariant_nodes_and_term() {
    let s = load("raft-bug-vote-without-log-check");
    let outcome = sim::run_scenario(&s, s.seed.unwrap(), &RunOptions::default());
    let traced = common::lines(&outcome)
        .into_iter()
        .find(|l| l.kind == "violation")
        .expect("the violation is in the trace");
    assert_eq!(traced.field("invariant"), Some("LeaderCompleteness"));
    let message = traced.payload.unwrap();
    assert!(
        message.contains("became leader in term") && message.contains("without committed entry"),
        "{message}"
    );
}

#[test]
fn raft_runs_are_deterministic() {
    let s = load("raft-kv");
    let hash = |seed| sim::run_scenario(&s, seed, &RunOptions::default()).trace.hash_hex();
    assert_eq!(hash(3), hash(3));
    assert_ne!(hash(3), hash(4));
}
