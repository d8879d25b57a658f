//! The built-in families end to end, beyond what conformance checks for
//! every family: what their runs contain, and how their findings read.

mod common;

use simulate::check::{self, Verdict};
use simulate::history::EventKind;
use simulate::world::RunOptions;

#[test]
fn raft_kv_exercises_every_fault_and_a_full_workload() {
    let s = common::load("scenarios/raft-kv.ron");
    let outcome = s.run(5, &RunOptions::default());
    let f = &outcome.stats.faults;
    for kind in [
        "partition",
        "partition-one-way",
        "crash",
        "restart",
        "pause",
        "clock-jump",
        "loss",
        "dup",
    ] {
        assert!(f.get(kind) > 0, "no {kind} happened: {f:?}");
    }
    let invoked = outcome.history.events.iter().filter(|e| e.kind == EventKind::Invoke);
    let invoked = invoked.count();
    assert!((1800..=2500).contains(&invoked), "{invoked} operations");
    let results = s.check(&outcome);
    assert!(results.iter().all(|r| r.verdict == Verdict::Pass), "{results:#?}");
    assert!(results.len() >= 8, "NoPanic and every check asked for: {results:#?}");
}

#[test]
fn a_violation_is_traced_with_its_invariant_nodes_and_detail() {
    let s = common::load("scenarios/raft-bug-vote-without-log-check.ron");
    let outcome = s.run(s.spec().seed.unwrap(), &RunOptions::default());
    let traced = common::lines(&outcome)
        .into_iter()
        .find(|l| l.kind == "violation")
        .expect("the violation is in the trace");
    let invariant = traced.field("invariant").unwrap();
    assert!(
        s.expected.iter().any(|e| e == invariant),
        "{invariant} is an expected failure"
    );
    let nodes = traced.field("nodes").unwrap();
    assert!(nodes.split(',').all(|n| n.starts_with('n')), "{nodes}");
    let results = s.check(&outcome);
    let failed = results.iter().find(|r| r.name == invariant).unwrap();
    assert_eq!(failed.verdict, Verdict::Fail);
    assert_eq!(
        failed.at_ns,
        Some(traced.time_ns),
        "the result and the trace agree on when"
    );
    assert!(
        failed.detail.contains(&format!("[{}]", nodes.replace(',', ", "))),
        "{}",
        failed.detail
    );
}

#[test]
fn raft_runs_are_deterministic_and_seeds_differ() {
    let s = common::load("scenarios/raft-kv.ron");
    let hash = |seed| s.run(seed, &RunOptions::default()).trace.hash_hex();
    assert_eq!(hash(3), hash(3));
    assert_ne!(hash(3), hash(4));
}

#[test]
fn primary_backup_reading_only_from_the_primary_is_linearizable() {
    // One node: the primary serves every read itself.
    let src = r#"Scenario(name: "pb-primary-only", protocol: AsyncPrimaryBackup(), nodes: 1, duration: "3s",
        network: (latency: Uniform("1ms", "5ms")),
        workload: (clients: 4, ops: 400, keys: 2, mix: (read: 0.5, write: 0.2, append: 0.2, cas: 0.1), timeout: "300ms"),
        faults: [At("1s", Crash(Node(0))), At("1.3s", Restart(Crashed)), At("2s", Pause(Node(0))), At("2.2s", Resume(Paused))],
        checks: [Linearizable(Kv)])"#;
    for seed in 0..10 {
        let outcome = common::run_builtin(src, seed);
        let result = check::linearizable(&outcome.history, check::linear::ModelKind::Kv, None);
        assert_eq!(result.verdict, Verdict::Pass, "seed {seed}: {}", result.detail);
        assert!(outcome.history.counts().ok > 200);
    }
}

#[test]
fn the_primary_says_it_leads_under_its_own_label() {
    let src = r#"Scenario(name: "pb", protocol: AsyncPrimaryBackup(), nodes: 3, duration: "1s")"#;
    let outcome = common::run_builtin(src, 0);
    let roles: Vec<(String, String)> = common::lines(&outcome)
        .into_iter()
        .filter(|l| l.kind == "role")
        .map(|l| {
            (
                l.field("role").unwrap().to_string(),
                l.field("leads").unwrap().to_string(),
            )
        })
        .collect();
    assert!(roles.contains(&("primary".into(), "true".into())), "{roles:?}");
    assert!(roles.contains(&("backup".into(), "false".into())), "{roles:?}");
}

/// Found in review: `Fails([X])` named only the first check called X, and
/// could not name NoPanic.
#[test]
fn an_expected_failure_names_every_check_it_matches_and_may_name_no_panic() {
    let b = common::bound(
        r#"Scenario(name: "e", protocol: Raft(), nodes: 3, duration: "1s", recover: "3s",
        checks: [ElectsLeader(within: "1s"), ElectsLeader(within: "2s"), ElectionSafety],
        expect: Fails([ElectsLeader, NoPanic]))"#,
    );
    assert_eq!(
        b.expected,
        ["ElectsLeader(within: 1s)", "ElectsLeader(within: 2s)", "NoPanic"]
    );
    let one = common::bound(
        r#"Scenario(name: "e", protocol: Raft(), nodes: 3, duration: "1s", recover: "3s",
        checks: [ElectsLeader(within: "1s"), ElectsLeader(within: "2s")],
        expect: Fails([ElectsLeader(within: "2s")]))"#,
    );
    assert_eq!(one.expected, ["ElectsLeader(within: 2s)"]);
}

/// Replicas that missed writes during a partition stay behind when
/// nothing repairs them: `Converges` fails without anti-entropy and read
/// repair, and passes with them, on the same seeds.
#[test]
fn quorum_replicas_converge_only_through_repair() {
    let scenario = |repair: bool| {
        format!(
            r#"Scenario(name: "q", protocol: Quorum(anti_entropy: {repair}, read_repair: {repair}), nodes: 5,
            duration: "3s", network: (latency: Uniform("1ms", "5ms")),
            workload: (clients: 4, ops: 200, keys: 3, think: "10ms", timeout: "200ms", routing: RoundRobin),
            faults: [At("100ms", Partition(Isolate(Random)))],
            recover: "2s", checks: [Converges(within: "2s")])"#
        )
    };
    let verdicts = |repair: bool| -> Vec<Verdict> {
        let s = common::bound(&scenario(repair));
        (0..4)
            .map(|seed| check::overall(&s.check(&s.run(seed, &RunOptions::default()))))
            .collect()
    };
    let without = verdicts(false);
    assert!(without.contains(&Verdict::Fail), "{without:?}");
    let failed = common::bound(&scenario(false));
    let seed = without.iter().position(|v| *v == Verdict::Fail).unwrap() as u64;
    let results = failed.check(&failed.run(seed, &RunOptions::default()));
    let converges = results.iter().find(|r| r.name == "Converges(within: 2s)").unwrap();
    assert!(
        converges.detail.contains("replicas still differed"),
        "{}",
        converges.detail
    );
    assert_eq!(verdicts(true), [Verdict::Pass; 4]);
}
