//! The shrunk regression scenarios in scenarios/regressions/ (written by
//! `simulate shrink`, see scripts/regressions): each fails, at the seed it
//! names, exactly the checks its `expect` lists and no other; the same
//! scenario with its planted bug removed (or, for a design that is weak on
//! purpose, with the weakness fixed) passes that seed and a range of
//! others, so the regression is about the bug and not a scenario that
//! breaks a correct protocol; and every bug demonstration of scenarios/
//! has one.

mod common;

use simulate::check::Verdict;
use simulate::protocols::{Bound, Registry};
use simulate::world::RunOptions;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Seeds the fixed scenario passes, besides the regression's own.
const FIXED_SEEDS: std::ops::Range<u64> = 0..20;

/// Scenarios that show a weakness of a design rather than a planted bug:
/// the text edits that remove the weakness (each must apply), and why.
/// A text edit: what to replace, and with what.
type Edit = (&'static str, &'static str);

const WEAKNESS_FIXES: &[(&str, &[Edit], &str)] = &[
    (
        "quorum-weak-r1-w1",
        &[("r: 1, w: 1", "r: 2, w: 2")],
        "R + W > N: every read quorum meets every write quorum",
    ),
    (
        "primary-backup-stale-reads",
        &[
            ("nodes: 2", "nodes: 1"),
            ("(from: [0], to: [1], latency: Uniform(\"20ms\", \"60ms\")),", ""),
        ],
        "the primary alone: every read sees what it applied before it answered",
    ),
];

fn regressions() -> Vec<PathBuf> {
    let files: Vec<PathBuf> = common::scenario_files()
        .into_iter()
        .filter(|f| {
            f.parent()
                .and_then(|p| p.file_name())
                .is_some_and(|d| d == "regressions")
        })
        .collect();
    assert!(!files.is_empty(), "scenarios/regressions/ holds the shrunk scenarios");
    files
}

fn load(file: &Path) -> Bound {
    Registry::builtin().load(file).unwrap_or_else(|e| panic!("{e}"))
}

fn seed_of(bound: &Bound) -> u64 {
    let name = &bound.spec().name;
    bound
        .spec()
        .seed
        .unwrap_or_else(|| panic!("{name}: a regression names the seed it fails on"))
}

/// The checks that do not pass on `seed`.
fn failing(bound: &Bound, seed: u64) -> BTreeSet<String> {
    let outcome = bound.run(seed, &RunOptions::default());
    let checks = bound.check(&outcome);
    checks
        .into_iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .map(|c| c.name)
        .collect()
}

/// The regression with its bug (or weakness) removed, expected to pass.
fn fixed(file: &Path, bound: &Bound) -> Bound {
    if !bound.bugs().is_empty() {
        return bound.without_bugs();
    }
    let name = file.file_stem().unwrap().to_string_lossy();
    let (_, edits, _) = WEAKNESS_FIXES
        .iter()
        .find(|(prefix, ..)| name.starts_with(prefix))
        .unwrap_or_else(|| panic!("{name} plants no bug and has no fix in WEAKNESS_FIXES"));
    let mut text = std::fs::read_to_string(file).unwrap();
    for (from, to) in edits.iter() {
        assert!(
            text.contains(from),
            "{name}: the fix replaces {from:?}, which the file lacks"
        );
        text = text.replace(from, to);
    }
    let parsed = Registry::builtin().parse("fixed.ron", &text);
    parsed.unwrap_or_else(|e| panic!("{name} fixed: {e}")).without_bugs()
}

#[test]
fn each_regression_fails_exactly_its_expected_checks_at_its_seed() {
    for file in regressions() {
        let bound = load(&file);
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        assert_eq!(bound.spec().name, name, "a regression's name is its file's");
        let expected: BTreeSet<String> = bound.expected.iter().cloned().collect();
        assert!(
            !expected.is_empty(),
            "{name}: expect: Fails([..]) with the check that fails"
        );
        assert_eq!(failing(&bound, seed_of(&bound)), expected, "{name}");
    }
}

/// The checks that fail (not merely undecided) on `seed`.
fn failed(bound: &Bound, seed: u64) -> Vec<String> {
    let outcome = bound.run(seed, &RunOptions::default());
    let checks = bound.check(&outcome);
    checks
        .into_iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| c.name)
        .collect()
}

/// Without its bug a regression fails no check, on its seed or others.
/// Undecided checks are allowed: with the sloppy-quorum bug removed, the
/// cut makes writes time out, and NoLostWrites has nothing to judge.
#[test]
fn each_regression_passes_with_its_bug_removed() {
    for file in regressions() {
        let bound = load(&file);
        let good = fixed(&file, &bound);
        let name = file.display().to_string();
        for seed in std::iter::once(seed_of(&bound)).chain(FIXED_SEEDS) {
            let bad = failed(&good, seed);
            assert!(bad.is_empty(), "{name} without its bug fails {bad:?} on seed {seed}");
        }
    }
}

/// Every bug demonstration in scenarios/ (planted bugs and weak designs
/// alike) has a regression shrunk from it, which keeps its protocol.
#[test]
fn every_bug_demonstration_has_a_shrunk_regression() {
    let registry = Registry::builtin();
    let shrunk: Vec<Bound> = regressions().iter().map(|f| load(f)).collect();
    let top = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap();
    let mut demonstrations = 0;
    for entry in top {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "ron") {
            continue;
        }
        let bound = registry.load(&path).unwrap_or_else(|e| panic!("{e}"));
        let name = &bound.spec().name;
        // primary-backup-regular-reads judges the same runs as
        // primary-backup-stale-reads with weaker checks: one regression.
        if !bound.expects_failure() || name == "primary-backup-regular-reads" {
            continue;
        }
        demonstrations += 1;
        // A regression keeps its family and planted bugs; one of a weak
        // design (no bug to plant) keeps its name as a prefix.
        let found = shrunk.iter().find(|r| {
            r.family == bound.family
                && r.bugs() == bound.bugs()
                && (!bound.bugs().is_empty() || r.spec().name.starts_with(name.as_str()))
        });
        let r = found.unwrap_or_else(|| panic!("{name} has no regression in scenarios/regressions/"));
        assert!(r.expects_failure(), "{name}");
    }
    assert!(demonstrations >= 13, "{demonstrations}");
}
