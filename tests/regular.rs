//! The regular-register checks on real runs: `final_reads` makes every
//! client read every key after the heal; `NoStaleReads` catches
//! primary-backup's reads at lagging backups while `NoLostWrites` passes
//! it (nothing acknowledged is lost once the backups catch up); Raft
//! passes both. The 200-seed rates are in the README and the family docs.

mod common;

use simulate::check::Verdict;
use simulate::history::EventKind;
use simulate::protocols::Registry;
use simulate::testing::Sweep;

fn verdict(results: &[simulate::check::CheckResult], name: &str) -> (Verdict, String) {
    let r = results
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("{name}"));
    (r.verdict, r.detail.clone())
}

#[test]
fn final_reads_read_every_key_after_the_workload_ends() {
    let bound = common::load("scenarios/raft-regular-reads.ron");
    let outcome = bound.run(3, &simulate::world::RunOptions::default());
    let heal = outcome.recover_at_ns.expect("a recovery phase");
    // final_reads: 2s after the heal the workload ends; 1s (the timeout)
    // later, every client reads each key.
    let finals = heal + 3_000_000_000;
    let invoked_after = |t: u64| {
        outcome
            .history
            .events
            .iter()
            .filter(|e| e.kind == EventKind::Invoke && e.time_ns >= t)
            .map(|e| e.input.as_ref().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let reads = invoked_after(finals);
    assert_eq!(reads.len(), 10 * 4, "10 clients, 4 keys: {reads:?}");
    assert!(reads.iter().all(|r| r.starts_with("get ")), "{reads:?}");
    assert!(
        invoked_after(heal + 2_000_000_000).len() == reads.len(),
        "nothing is invoked between the workload's end and the final reads"
    );
    let results = bound.check(&outcome);
    for name in ["NoStaleReads", "NoLostWrites", "Linearizable(kv)"] {
        let (v, detail) = verdict(&results, name);
        assert_eq!(v, Verdict::Pass, "{name}: {detail}");
    }
    assert!(verdict(&results, "NoLostWrites").1.starts_with("final reads from "));
}

#[test]
fn stale_reads_at_backups_fail_no_stale_reads_and_lose_no_write() {
    let registry = Registry::builtin();
    let file = "scenarios/primary-backup-regular-reads.ron";
    let swept = Sweep::new(&registry).seeds(0..10).check(file);
    assert_eq!(swept.caught_by("NoStaleReads").len(), 10, "{swept:?}");
    assert!(swept.caught_by("NoLostWrites").is_empty(), "{swept:?}");
}

#[test]
fn raft_passes_both_checks() {
    let registry = Registry::builtin();
    let swept = Sweep::new(&registry)
        .seeds(0..4)
        .check("scenarios/raft-regular-reads.ron");
    assert_eq!(swept.passed, 4, "{swept:?}");
}

/// A scenario that asks for what these checks cannot do is an error at
/// the line and column, exit 2.
#[test]
fn misuse_is_an_error_at_its_line() {
    let raft =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/raft-regular-reads.ron")).unwrap();
    for (name, src, said) in [
        (
            "no-final-reads",
            raft.replace("    final_reads: \"2s\",\n", ""),
            ":57:5: NoLostWrites judges the final reads after the heal; expected `final_reads` in the workload",
        ),
        (
            "arguments",
            raft.replace("NoStaleReads,", "NoStaleReads(within: \"1s\"),"),
            ":57:5: NoStaleReads takes no arguments; expected `NoStaleReads` alone",
        ),
        (
            "late",
            raft.replace("final_reads: \"2s\"", "final_reads: \"4.5s\""),
            ":28:18: final_reads at 4500ms after the heal, then the workload's timeout (1s) for what is pending, end past the recovery phase (5s)",
        ),
    ] {
        let file = common::temp_path(&format!("regular-{name}.ron"));
        std::fs::write(&file, src).unwrap();
        let out = common::simulate(&["validate", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(err.contains(said), "{name}: {err}");
        let _ = std::fs::remove_file(&file);
    }
}
