//! Fault coverage: each kind of fault a run plays is noted as having had
//! an effect only when it hit something, and a sweep names the kinds that
//! hit nothing in any seed (inert faults) without failing for them.

mod common;

use common::*;
use serde::Serialize;
use simulate::core::{Ctx, NoService, Node, NodeId};
use simulate::world::{self, RunOptions};
use std::collections::BTreeSet;
use std::time::Duration;

/// Pings every peer every `period`, if it has one; else never says a word.
struct Pinger {
    period: Option<Duration>,
}

#[derive(Clone, Debug, Serialize)]
struct Ping;

impl Node for Pinger {
    type Msg = Ping;
    type Timer = ();
    type Service = NoService;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if let Some(period) = self.period {
            ctx.set_timer(period, ());
        }
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: Ping) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: ()) {
        ctx.broadcast(Ping);
        ctx.set_timer(self.period.expect("only a pinger sets timers"), ());
    }
}

fn effects(src: &str, seed: u64) -> BTreeSet<&'static str> {
    run_builtin(src, seed).coverage
}

#[test]
fn every_fault_kind_bites_when_it_has_something_to_hit() {
    // Raft heartbeats cross every link, so each cut drops something; the
    // crashed and paused nodes are busy; 5% loss and duplication over
    // hundreds of messages.
    let src = r#"Scenario(name: "busy", protocol: Raft(), nodes: 3, duration: "5s",
        network: (loss: 0.05, duplicate: 0.05),
        workload: (clients: 2, ops: 100),
        faults: [
          At("1s", Partition(Isolate(Node(0)))), At("1.5s", Heal),
          At("2s", PartitionOneWay(from: Node(1), to: Node(2))), At("2.5s", Heal),
          At("3s", Crash(Node(1))), At("3.5s", Restart(Crashed)),
          At("4s", Pause(Node(2))), At("4.5s", Resume(Node(2))),
          At("4.6s", ClockJump(Node(0), "1s")),
        ])"#;
    let all = BTreeSet::from(["partition", "one_way_partition", "crash", "pause", "loss", "duplicate"]);
    for seed in 0..3 {
        // Raft never reads the wall clock: its jump hits nothing.
        assert_eq!(effects(src, seed), all, "seed {seed}");
    }
}

#[test]
fn a_clock_jump_bites_only_a_node_that_reads_the_wall_clock() {
    // The planted last-write-wins bug stamps writes with ctx.now().
    let lww = load("scenarios/quorum-bug-wall-clock-lww.ron");
    let bitten = (0..5).filter(|&s| lww.run(s, &Default::default()).coverage.contains("clock_jump"));
    assert!(
        bitten.count() >= 4,
        "most seeds of the wall-clock bug read a jumped clock"
    );
    let correct = load("scenarios/quorum-kv.ron");
    let outcome = correct.run(0, &Default::default());
    assert!(outcome.stats.faults.get("clock-jump") > 0, "it jumped clocks");
    assert!(
        !outcome.coverage.contains("clock_jump"),
        "correct Quorum never reads the wall clock"
    );
}

#[test]
fn faults_on_an_idle_node_are_inert_and_the_same_on_a_busy_one_bite() {
    let faults = r#"faults: [At("1s", Crash(Node(0))), At("1.5s", Restart(Crashed)),
        At("2s", Pause(Node(0))), At("2.5s", Resume(Node(0))), At("3s", ClockJump(Node(0), "1s"))]"#;
    let idle = format!(r#"Scenario(name: "idle", protocol: Single, nodes: 1, duration: "4s", {faults})"#);
    assert_eq!(
        effects(&idle, 0),
        BTreeSet::new(),
        "no client: nothing to lose, nothing delayed"
    );
    let busy = format!(
        r#"Scenario(name: "busy", protocol: Single, nodes: 1, duration: "4s",
        workload: (clients: 3, ops: 400, timeout: "200ms"), {faults})"#
    );
    assert_eq!(effects(&busy, 0), BTreeSet::from(["crash", "pause"]));
}

#[test]
fn a_sweep_names_inert_faults_without_failing() {
    let json = temp_path("coverage-sweep.json");
    let out = simulate(&[
        "sweep",
        "scenarios/single-kv.ron",
        "scenarios/raft-rolling-restarts.ron",
        "--seeds",
        "0..4",
        "--jobs",
        "1",
        "--json",
        json.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "inert faults do not fail a sweep: {stdout}");
    assert!(
        stdout.contains("inert single-kv: clock_jump had no effect in any seed of 0..4"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("inert ").count(),
        1,
        "only single-kv's clock jump: {stdout}"
    );
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    std::fs::remove_file(&json).unwrap();
    let single = &summary["scenarios"][0];
    assert_eq!(single["inert"], serde_json::json!(["clock_jump"]));
    assert_eq!(single["fault_effects"], serde_json::json!({"crash": 4, "pause": 4}));
    let rolling = &summary["scenarios"][1];
    assert_eq!(rolling["inert"], serde_json::json!([]));
    assert_eq!(rolling["fault_effects"]["crash"], 4, "{rolling}");
}

#[test]
fn a_run_says_which_faults_bit_and_which_were_inert() {
    let out = simulate(&["run", "scenarios/single-kv.ron", "--json", "--report", "never"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["fault_effects"], serde_json::json!(["crash", "pause"]));
    assert_eq!(json["inert_faults"], serde_json::json!(["clock_jump"]));
    let text = simulate(&["run", "scenarios/single-kv.ron", "--report", "never"]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("effects   bit: crash, pause  inert: clock_jump"),
        "{stdout}"
    );
}

#[test]
fn a_partition_bites_only_a_link_that_carries_traffic() {
    let src = r#"Scenario(name: "cut", protocol: Custom("pinger"), nodes: 3, duration: "3s",
        faults: [At("1s", Partition(Isolate(Node(0)))), At("1.5s", Heal),
                 At("2s", PartitionOneWay(from: Node(1), to: Node(2))), At("2.5s", Heal)])"#;
    let spec = scenario(src).spec;
    let run = |period: Option<Duration>| world::run(&spec, 1, &RunOptions::default(), move |_| Pinger { period });
    let silent = run(None);
    assert_eq!(silent.stats.faults.get("partition"), 1, "the cut happened");
    assert_eq!(silent.coverage, BTreeSet::new(), "and hit nothing: no one talks");
    let talking = run(Some(Duration::from_millis(100)));
    assert_eq!(talking.coverage, BTreeSet::from(["partition", "one_way_partition"]));
}
