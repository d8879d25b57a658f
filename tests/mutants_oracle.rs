//! The oracle of mutation testing (`scripts/mutants`): what a family's
//! scenarios say about it. A mutant of the family's code that this test
//! still passes is one no check noticed. For the family:
//! - every scenario meant to pass passes seeds `0..MUTANTS_SEEDS`;
//! - every bug demonstration, its bugs removed, passes the same seeds (these
//!   scenarios are built to press where the bugs are: a lease mutant that
//!   lengthens leases fails where the lease bug does);
//! - every bug demonstration still fails as it expects on its `seed` (a
//!   mutant that breaks how a bug is planted, or an invariant assertion
//!   that a planted bug is allowed to break, is noticed).
//!
//! Ignored in the default suite (it is the script's): tests/conformance.rs
//! runs the same scenarios. The family is `MUTANTS_FAMILY` (as scenarios
//! write it; default `Raft`), the seeds `MUTANTS_SEEDS` (default 30), and
//! `MUTANTS_SWARM=1` runs each seed's swarm variant of the correct
//! scenarios too.

mod common;

use simulate::check::Verdict;
use simulate::protocols::{Bound, Registry};
use std::collections::BTreeSet;

#[test]
#[ignore]
fn the_familys_scenarios_say_what_they_said() {
    let family = std::env::var("MUTANTS_FAMILY").unwrap_or_else(|_| "Raft".into());
    let seeds: u64 = std::env::var("MUTANTS_SEEDS").map_or(30, |s| s.parse().expect("MUTANTS_SEEDS is a number"));
    let swarm = std::env::var("MUTANTS_SWARM").is_ok_and(|s| s == "1");
    let registry = Registry::builtin();
    // (file, scenario that must pass): the correct ones, and each bug
    // demonstration with its bugs removed.
    let mut must_pass: Vec<(String, Bound)> = Vec::new();
    for file in common::scenario_files() {
        let bound = registry.load(&file).unwrap_or_else(|e| panic!("{e}"));
        if bound.family != family {
            continue;
        }
        let name = file.display().to_string();
        if bound.expects_failure() {
            still_fails_as_expected(&bound, &name);
            must_pass.push((name, bound.without_bugs()));
        } else {
            must_pass.push((name, bound));
        }
    }
    assert!(!must_pass.is_empty(), "family {family} has no scenario");
    // Seed by seed across scenarios, stopping at the first failure: most
    // mutants fail early, and the oracle runs once per mutant.
    let mut unseen: Vec<BTreeSet<String>> = must_pass.iter().map(|_| BTreeSet::new()).collect();
    for seed in 0..seeds {
        for (i, (file, bound)) in must_pass.iter().enumerate() {
            let seen = passes(bound, seed, file, "");
            if seed == 0 {
                unseen[i] = seen.iter().filter(|(_, s)| !s).map(|(n, _)| n.clone()).collect();
            }
            unseen[i].retain(|n| !seen.contains(&(n.clone(), true)));
            if swarm && !bound.expects_failure() {
                passes(&bound.swarm_variant(seed), seed, file, " --swarm");
            }
        }
    }
    // A sometimes property no seed saw: the scenario no longer does what
    // it was built to (a lease that never holds is safe, and useless).
    for ((file, _), never) in must_pass.iter().zip(&unseen) {
        assert!(never.is_empty(), "{file}: never seen in 0..{seeds}: {never:?}");
    }
}

/// Asserts every check passes; returns the sometimes properties and
/// whether each was seen. A shrunk regression (scenarios/regressions/)
/// may leave a check undecided on other seeds than its own (two operations
/// that a seed never gets to invoke): there only a failure counts, as in
/// tests/regressions.rs.
fn passes(bound: &Bound, seed: u64, file: &str, how: &str) -> Vec<(String, bool)> {
    let outcome = bound.run(seed, &Default::default());
    let checks = bound.check(&outcome);
    let shrunk = file.contains("/regressions/");
    let bad: Vec<String> = checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail || (c.verdict != Verdict::Pass && !shrunk))
        .map(|c| format!("{} ({})", c.name, c.detail.lines().next().unwrap_or("")))
        .collect();
    assert!(bad.is_empty(), "{file} seed {seed}{how}: {bad:?}");
    checks.into_iter().filter_map(|c| Some((c.name, c.seen?))).collect()
}
/// On the seed the demonstration names, its first expected check fails
/// and every other check either passes or is one it expects to fail.
fn still_fails_as_expected(bound: &Bound, file: &str) {
    let seed = bound
        .spec()
        .seed
        .unwrap_or_else(|| panic!("{file}: a bug demonstration names its seed"));
    let outcome = bound.run(seed, &Default::default());
    let checks = bound.check(&outcome);
    let intended = &bound.expected[0];
    let caught = checks.iter().any(|c| &c.name == intended && c.verdict == Verdict::Fail);
    let other: Vec<&str> = checks
        .iter()
        .filter(|c| c.verdict != Verdict::Pass && !bound.expected.contains(&c.name))
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        caught && other.is_empty(),
        "{file} seed {seed}: {intended} caught: {caught}; other failures: {other:?}"
    );
}
