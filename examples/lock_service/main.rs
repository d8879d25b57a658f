//! A `simulate` binary that also knows the lock service of `family.rs`:
//! every command (run, validate, sweep, replay, check) works with
//! `protocol: Lock(...)` in a scenario, with reports, pictures and exit
//! codes as for a built-in family.
//!
//! ```sh
//! cargo run --release --example lock_service -- run examples/lock_service/lock.ron
//! cargo run --release --example lock_service -- sweep examples/lock_service/*.ron --seeds 0..100
//! cargo test --release --example lock_service
//! ```

mod family;

use simulate::protocols::Registry;

/// The built-in families, and ours.
fn registry() -> Registry {
    Registry::builtin().with::<family::LockService>()
}

fn main() {
    std::process::exit(simulate::cli::main_with(registry()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use simulate::testing::Sweep;

    /// How the helper's failure messages call this binary.
    const PROGRAM: &str = "cargo run --release --example lock_service --";

    #[test]
    fn the_lock_service_is_linearizable_through_crashes() {
        let swept = Sweep::new(&registry())
            .program(PROGRAM)
            .seeds(0..20)
            .check("examples/lock_service/lock.ron");
        assert_eq!(swept.passed, 20);
    }

    #[test]
    fn acknowledging_before_the_sync_grants_the_lock_twice() {
        let swept = Sweep::new(&registry())
            .program(PROGRAM)
            .seeds(0..20)
            .check("examples/lock_service/lock-bug-ack-before-sync.ron");
        assert!(!swept.caught_by("GrantsSurviveCrashes").is_empty(), "{swept:?}");
        assert!(!swept.caught_by("Linearizable(mutex)").is_empty(), "{swept:?}");
    }

    #[test]
    fn a_failing_seed_names_the_command_that_replays_it() {
        let bug = registry()
            .load(std::path::Path::new(
                "examples/lock_service/lock-bug-ack-before-sync.ron",
            ))
            .unwrap();
        // Without its `expect`, the bug's failures are failures.
        let mut loaded = bug.loaded.clone();
        loaded.spec.expect = simulate::scenario::Expect::Passes;
        let plain = registry().bind(loaded).unwrap();
        let failure = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Sweep::new(&registry())
                .program(PROGRAM)
                .seeds(0..20)
                .check_bound(&plain, "lock-bug.ron")
        }));
        let message = *failure.unwrap_err().downcast::<String>().unwrap();
        assert!(
            message.contains(&format!("replay: {PROGRAM} run lock-bug.ron --seed ")),
            "{message}"
        );
        assert!(message.contains("GrantsSurviveCrashes (fail)"), "{message}");
    }
}
