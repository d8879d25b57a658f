//! Conformance, for every family in the registry and every scenario of it
//! in scenarios/:
//! - a scenario meant to pass passes a seed range;
//! - a bug demonstration (`expect: Fails([..])`) shows its intended failure
//!   (the first check it lists) on some seed of its stated range, no check
//!   outside its list fails, and the same scenario with the bug removed
//!   passes that range; its `seed` field names the first failing seed;
//! - every bug a family can plant has such a scenario.
//!
//! The shrunk regressions in scenarios/regressions/ are checked by
//! tests/regressions.rs instead (their seed is the one they were shrunk
//! on, not the first failing one of a range).
//!
//! The long sweeps (500 seeds of every correct scenario, 200 of every bug
//! demonstration, with the rates the families' docs quote) are `--ignored`.

mod common;

use simulate::protocols::{Bound, Registry};
use simulate::testing::Sweep;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::PathBuf;

/// Seeds each scenario meant to pass runs in the default suite.
const PASS_SEEDS: Range<u64> = 0..8;

/// The seed range over which each bug demonstration must show its failure,
/// and the rate measured over 0..200 (in the family's doc).
const BUG_SEEDS: &[(&str, Range<u64>)] = &[
    ("raft-bug-vote-without-log-check", 0..10),
    ("raft-bug-commit-previous-term", 0..40),
    ("raft-bug-no-fsync", 0..20),
    ("raft-bug-stale-leader-read", 0..20),
    ("raft-bug-lease-ignores-drift", 0..60),
    ("primary-backup-stale-reads", 0..10),
    ("primary-backup-regular-reads", 0..10),
    ("paxos-bug-answer-before-durable", 0..10),
    ("paxos-bug-reuse-ballot", 0..10),
    ("paxos-bug-propose-own-value", 0..10),
    ("quorum-weak-r1-w1", 0..10),
    ("quorum-bug-wall-clock-lww", 0..10),
    ("quorum-bug-hinted-counts-toward-w", 0..10),
    ("quorum-bug-repair-overwrites-newer", 0..10),
];

/// Every scenario of the repository, bound to its family.
fn scenarios(registry: &Registry) -> Vec<(String, Bound)> {
    let bind = |f: PathBuf| {
        let bound = registry.load(&f).unwrap_or_else(|e| panic!("{e}"));
        (f.display().to_string(), bound)
    };
    common::scenario_files().into_iter().map(bind).collect()
}

/// A shrunk regression (scenarios/regressions/): it names the seed it
/// was shrunk on, not the first of a range; tests/regressions.rs runs it.
fn is_regression(file: &str) -> bool {
    std::path::Path::new(file)
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|d| d == "regressions")
}

fn bug_range(name: &str) -> Range<u64> {
    let found = BUG_SEEDS.iter().find(|(n, _)| *n == name);
    found
        .unwrap_or_else(|| panic!("{name}: a bug demonstration states its seed range in BUG_SEEDS"))
        .1
        .clone()
}

#[test]
fn every_family_has_a_scenario_and_every_planted_bug_a_demonstration() {
    let registry = Registry::builtin();
    let all = scenarios(&registry);
    for family in registry.families() {
        let mine: Vec<&Bound> = all
            .iter()
            .map(|(_, b)| b)
            .filter(|b| b.family == family.name())
            .collect();
        assert!(!mine.is_empty(), "{} has no scenario", family.name());
        assert!(
            mine.iter().any(|b| !b.expects_failure()),
            "{} has no scenario meant to pass",
            family.name()
        );
        let shown: BTreeSet<&str> = mine
            .iter()
            .filter(|b| b.expects_failure())
            .flat_map(|b| b.bugs())
            .collect();
        for bug in family.planted_bugs() {
            assert!(shown.contains(bug), "{}: no scenario demonstrates {bug}", family.name());
        }
    }
}

#[test]
fn correct_scenarios_pass_their_seeds() {
    let registry = Registry::builtin();
    for (file, bound) in scenarios(&registry).iter().filter(|(_, b)| !b.expects_failure()) {
        assert!(
            bound.bugs().is_empty(),
            "{file} plants a bug but does not expect a failure"
        );
        Sweep::new(&registry).seeds(PASS_SEEDS).check_bound(bound, file);
    }
}

#[test]
fn each_bug_demonstration_fails_as_intended_and_passes_without_its_bug() {
    let registry = Registry::builtin();
    let demonstrations = scenarios(&registry)
        .into_iter()
        .filter(|(f, b)| b.expects_failure() && !is_regression(f));
    for (file, bound) in &demonstrations.collect::<Vec<_>>() {
        let name = &bound.spec().name;
        let range = bug_range(name);
        let swept = Sweep::new(&registry).seeds(range.clone()).check_bound(bound, file);
        let intended = &bound.expected[0];
        let caught = swept.caught_by(intended);
        assert!(
            !caught.is_empty(),
            "{name}: {intended} never failed in {range:?}: {swept:?}"
        );
        assert_eq!(
            bound.spec().seed,
            Some(caught[0]),
            "{name}: its `seed` names the first seed {intended} fails on"
        );
        if !bound.bugs().is_empty() {
            Sweep::new(&registry)
                .seeds(range)
                .check_bound(&bound.without_bugs(), file);
        }
    }
}

#[test]
#[ignore = "long: 500 seeds of every correct scenario (run with --ignored)"]
fn correct_scenarios_pass_500_seeds() {
    let registry = Registry::builtin();
    for (file, bound) in scenarios(&registry).iter().filter(|(_, b)| !b.expects_failure()) {
        let swept = Sweep::new(&registry).seeds(0..500).check_bound(bound, file);
        println!("{}: {} of {} seeds passed", bound.spec().name, swept.passed, swept.ran);
    }
}

#[test]
#[ignore = "long: the catch rate of every bug over 200 seeds (run with --ignored --nocapture)"]
fn bug_catch_rates_over_200_seeds() {
    let registry = Registry::builtin();
    let demonstrations = scenarios(&registry)
        .into_iter()
        .filter(|(f, b)| b.expects_failure() && !is_regression(f));
    for (file, bound) in &demonstrations.collect::<Vec<_>>() {
        let swept = Sweep::new(&registry).seeds(0..200).check_bound(bound, file);
        let rates: Vec<String> = bound
            .expected
            .iter()
            .map(|check| format!("{check} {}", swept.caught_by(check).len()))
            .collect();
        let first = swept.failed_as_expected.first().map(|(s, _)| *s);
        println!(
            "{}: {} of 200 seeds failed as expected ({}), first seed {first:?}",
            bound.spec().name,
            swept.failed_as_expected.len(),
            rates.join(", ")
        );
        if !bound.bugs().is_empty() {
            let fixed = Sweep::new(&registry)
                .seeds(0..500)
                .check_bound(&bound.without_bugs(), file);
            println!("  without its bug: {} of {} seeds passed", fixed.passed, fixed.ran);
        }
    }
}
