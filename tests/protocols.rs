//! The built-in protocols under faults, judged by the linearizability
//! checker: `single` must always pass, `async-primary-backup` must be
//! caught when backups serve reads behind a slow replication link.

mod common;

use simulate::check::{self, Verdict};
use simulate::scenario;
use simulate::sim::{self, RunOptions};

fn verdicts(file: &str, seeds: std::ops::Range<u64>) -> Vec<Verdict> {
    let s = scenario::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    seeds
        .map(|seed| {
            let outcome = sim::run_scenario(&s.spec, seed, &RunOptions::default());
            check::linearizable(&outcome.history, check::linear::ModelKind::Kv).verdict
        })
        .collect()
}

#[test]
fn single_is_linearizable_on_every_seed_through_crashes_and_pauses() {
    let v = verdicts("scenarios/single-kv.ron", 0..20);
    assert!(v.iter().all(|&x| x == Verdict::Pass), "{v:?}");
}

#[test]
fn async_primary_backup_is_caught_serving_stale_reads() {
    let v = verdicts("scenarios/primary-backup-stale-reads.ron", 0..10);
    let caught = v.iter().filter(|&&x| x == Verdict::Fail).count();
    assert!(caught >= 5, "caught on {caught} of 10 seeds: {v:?}");
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
        let result = check::linearizable(&outcome.history, check::linear::ModelKind::Kv);
        assert_eq!(result.verdict, Verdict::Pass, "seed {seed}: {}", result.detail);
        assert!(outcome.history.counts().ok > 200);
    }
}
