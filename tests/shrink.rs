//! `simulate shrink`: a failing run cut down to a small scenario that
//! fails the same way, written as a plain scenario file.

mod common;

use simulate::check::Verdict;
use simulate::protocols::Registry;
use simulate::shrink::{self, Options};
use simulate::world::RunOptions;
use std::time::Duration;

fn options() -> Options {
    Options {
        tries: 3,
        restarts: 0,
        budget: Duration::from_secs(120),
        runs_max: None,
        stop: None,
    }
}

#[test]
fn a_planted_raft_bug_shrinks_to_one_fault_and_a_few_operations() {
    let bound = common::load("scenarios/raft-bug-vote-without-log-check.ron");
    let registry = Registry::builtin();
    let s = shrink::shrink(&registry, &bound, 0, options(), &mut |_| {}).expect("seed 0 fails");
    assert_eq!(s.signature, "LeaderCompleteness");
    assert!(s.before.faults > 20 && s.before.ops > 1000, "{:?}", s.before);
    assert!(s.after.faults <= 3, "{:?}", s.after);
    // 3 nodes: the two a cut link separates and one more, whatever their
    // numbers were in the 5-node run (renumbered from 0).
    assert!(s.after.nodes <= 3, "{:?}", s.after);
    assert!(s.after.ops <= 20, "{:?}", s.after);
    assert!(s.cut_short.is_none() && s.log.len() > 3);
    // The result is a scenario file anyone can run: it names its seed and
    // fails the same check on it.
    let text = simulate::scenario::write::to_ron(&s.spec);
    let minimal = registry.parse("minimal.ron", &text).expect("valid");
    assert_eq!(minimal.spec().seed, Some(s.seed));
    let outcome = minimal.run(s.seed, &RunOptions::default());
    let checks = minimal.check(&outcome);
    let failed = checks
        .iter()
        .find(|c| c.name == "LeaderCompleteness")
        .expect("asked for");
    assert_eq!(failed.verdict, Verdict::Fail, "{}", failed.detail);
}

#[test]
fn a_seed_that_passes_has_nothing_to_shrink() {
    let bound = common::load("scenarios/single-kv.ron");
    let found = shrink::shrink(&Registry::builtin(), &bound, 0, options(), &mut |_| {});
    let err = found.err().expect("single-kv passes");
    assert!(err.0.contains("fails no check"), "{}", err.0);
}

#[test]
fn the_command_writes_the_minimal_scenario_its_report_and_log() {
    let out = std::env::temp_dir().join(format!("simulate-shrink-{}", std::process::id()));
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/raft-bug-stale-leader-read.ron");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["shrink", scenario, "--seed", "0", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("fails Linearizable(kv)"), "{stdout}");
    for file in ["minimal.ron", "repro.ron", "shrink.log", "summary.txt"] {
        assert!(out.join(file).exists(), "{file} missing: {stdout}");
    }
    let replay = std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(["replay"])
        .arg(out.join("repro.ron"))
        .output()
        .unwrap();
    assert_eq!(replay.status.code(), Some(1), "the shrunk repro replays its failure");
    let _ = std::fs::remove_dir_all(&out);
}

/// A failure that needs no fault at all (skewed clocks alone): every
/// fault goes, and the steps that move faults find none to move.
#[test]
fn a_failure_without_faults_shrinks_to_a_few_operations() {
    let bound = common::load("scenarios/quorum-bug-wall-clock-lww.ron");
    let s = shrink::shrink(&Registry::builtin(), &bound, 0, options(), &mut |_| {}).expect("seed 0 fails");
    assert_eq!(s.after.faults, 0, "{:?}", s.after);
    assert!(s.after.ops <= 20 && s.after.nodes <= 3, "{:?}", s.after);
    assert!(
        s.signature == "NoStaleReads" || s.signature == "NoLostWrites",
        "{}",
        s.signature
    );
}

/// Restarts shrink the input again from other seeds that fail it, and
/// the smallest result wins: never larger than the shrink without them,
/// and each restart is in the log with what it ended with.
#[test]
fn restarts_keep_the_smallest_result() {
    let bound = common::load("scenarios/quorum-bug-repair-overwrites-newer.ron");
    let registry = Registry::builtin();
    let once = shrink::shrink(&registry, &bound, 0, options(), &mut |_| {}).expect("seed 0 fails");
    let with = Options {
        restarts: 2,
        ..options()
    };
    let more = shrink::shrink(&registry, &bound, 0, with, &mut |_| {}).expect("seed 0 fails");
    assert!(once.cut_short.is_none() && more.cut_short.is_none());
    assert!(
        !once.after.smaller_than(&more.after),
        "{:?} vs {:?}",
        once.after,
        more.after
    );
    assert!(more.runs > once.runs);
    let ends: Vec<&String> = more.log.iter().filter(|l| l.contains(": ended with")).collect();
    assert_eq!(ends.len(), 2, "{:#?}", more.log);
    // The result is the input's first shrink unless a restart was kept.
    let kept = ends.iter().any(|l| l.contains("smaller, kept"));
    assert_eq!(
        kept,
        more.after != once.after || more.seed != once.seed,
        "{:#?}",
        more.log
    );
    assert!(!once.log.iter().any(|l| l.starts_with("restart")));
}

/// A run budget ends a shrink at the same point on every machine: two
/// shrinks cut short by it give the same scenario, seed and log, and make
/// no more runs than it allows.
#[test]
fn a_run_budget_cuts_a_shrink_short_at_the_same_point_every_time() {
    let bound = common::load("scenarios/raft-bug-vote-without-log-check.ron");
    let registry = Registry::builtin();
    let limited = Options {
        runs_max: Some(40),
        ..options()
    };
    let one = shrink::shrink(&registry, &bound, 0, limited, &mut |_| {}).expect("seed 0 fails");
    let other = shrink::shrink(&registry, &bound, 0, limited, &mut |_| {}).expect("seed 0 fails");
    assert_eq!(one.cut_short, Some("run budget spent"));
    assert_eq!(one.runs, 40);
    let text = |s: &shrink::Shrunk| simulate::scenario::write::to_ron(&s.spec);
    assert_eq!(text(&one), text(&other));
    assert_eq!((one.seed, &one.log, one.runs), (other.seed, &other.log, other.runs));
    // Cut short, it is further from the minimum than the whole shrink.
    let whole = shrink::shrink(&registry, &bound, 0, options(), &mut |_| {}).expect("seed 0 fails");
    assert!(
        whole.after.smaller_than(&one.after),
        "{:?} vs {:?}",
        whole.after,
        one.after
    );
}
