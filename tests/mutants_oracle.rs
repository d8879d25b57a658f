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
use simulate::testing::Sweep;

#[test]
#[ignore]
fn the_familys_scenarios_say_what_they_said() {
    let family = std::env::var("MUTANTS_FAMILY").unwrap_or_else(|_| "Raft".into());
    let seeds: u64 = std::env::var("MUTANTS_SEEDS").map_or(30, |s| s.parse().expect("MUTANTS_SEEDS is a number"));
    let swarm = std::env::var("MUTANTS_SWARM").is_ok_and(|s| s == "1");
    let registry = Registry::builtin();
    let mut ran = 0;
    for file in common::scenario_files() {
        let bound = registry.load(&file).unwrap_or_else(|e| panic!("{e}"));
        if bound.family != family {
            continue;
        }
        let name = file.display().to_string();
        let sweep = Sweep::new(&registry).seeds(0..seeds).jobs(1);
        if bound.expects_failure() {
            still_fails_as_expected(&bound, &name);
            sweep.check_bound(&bound.without_bugs(), &name);
        } else {
            sweep.check_bound(&bound, &name);
            if swarm {
                (0..seeds).for_each(|seed| passes(&bound.swarm_variant(seed), seed, &name));
            }
        }
        ran += 1;
    }
    assert!(ran > 0, "family {family} has no scenario");
}

fn passes(bound: &Bound, seed: u64, file: &str) {
    let outcome = bound.run(seed, &Default::default());
    let bad: Vec<String> = bound
        .check(&outcome)
        .into_iter()
        .filter(|c| c.verdict != Verdict::Pass)
        .map(|c| c.name)
        .collect();
    assert!(bad.is_empty(), "{file} seed {seed} --swarm: {bad:?}");
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
