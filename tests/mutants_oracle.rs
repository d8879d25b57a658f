//! The oracle of mutation testing (`scripts/mutants`): every scenario of
//! one family that is meant to pass, over a seed range, every check
//! passing. A mutant of the family's code that this test still passes
//! is one no check noticed.
//!
//! Ignored in the default suite (it is the script's); the family is
//! `MUTANTS_FAMILY` (as scenarios write it; default `Raft`), the seeds
//! `MUTANTS_SEEDS` per scenario (default 30), and `MUTANTS_SWARM=1` runs
//! each seed's swarm variant too.

mod common;

use simulate::protocols::Registry;
use simulate::testing::Sweep;

#[test]
#[ignore]
fn the_familys_correct_scenarios_pass() {
    let family = std::env::var("MUTANTS_FAMILY").unwrap_or_else(|_| "Raft".into());
    let seeds: u64 = std::env::var("MUTANTS_SEEDS").map_or(30, |s| s.parse().expect("MUTANTS_SEEDS is a number"));
    let swarm = std::env::var("MUTANTS_SWARM").is_ok_and(|s| s == "1");
    let registry = Registry::builtin();
    let mut ran = 0;
    for file in common::scenario_files() {
        let bound = registry.load(&file).unwrap_or_else(|e| panic!("{e}"));
        if bound.family != family || bound.expects_failure() {
            continue;
        }
        let sweep = Sweep::new(&registry).seeds(0..seeds).jobs(1);
        sweep.check_bound(&bound, &file.display().to_string());
        if swarm {
            for seed in 0..seeds {
                let variant = bound.swarm_variant(seed);
                let outcome = variant.run(seed, &Default::default());
                let bad: Vec<String> = variant
                    .check(&outcome)
                    .into_iter()
                    .filter(|c| c.verdict != simulate::check::Verdict::Pass)
                    .map(|c| c.name)
                    .collect();
                assert!(bad.is_empty(), "{} seed {seed} --swarm: {bad:?}", file.display());
            }
        }
        ran += 1;
    }
    assert!(ran > 0, "no scenario of family {family} is meant to pass");
}
