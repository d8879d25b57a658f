//! Each fault really happens: checked through the trace and through what
//! probe nodes observe from inside the simulation.

mod common;

use common::*;
use serde::Serialize;
use simulate::core::{Ctx, NoService, Node, NodeId, Request};
use simulate::workload::kv::{Kv, Op, Output};
use simulate::world::{self, RunOptions, RunOutcome};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What probe nodes saw, for the test to read after the run.
type Log = Arc<Mutex<Vec<String>>>;

/// Pings every peer every `period`, writes to its disk, and logs what it
/// finds at start and what its clocks say at each tick.
struct Probe {
    log: Log,
    ticks: u64,
    period: Duration,
}

#[derive(Clone, Debug, Serialize)]
struct Ping(u64);

impl Node for Probe {
    type Msg = Ping;
    type Timer = ();
    type Service = NoService;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        let id = ctx.id();
        let disk = ctx.disk();
        let seen = |name| disk.read(name).map(|b| String::from_utf8_lossy(b).into_owned());
        let entry = format!("start {id} synced={:?} unsynced={:?}", seen("synced"), seen("unsynced"));
        self.log.lock().unwrap().push(entry);
        ctx.disk().write("synced", format!("{id} durable").as_bytes());
        ctx.disk().fsync().unwrap();
        ctx.disk().write("unsynced", b"volatile");
        ctx.set_timer(self.period, ());
    }

    fn on_message(&mut self, _ctx: &mut Ctx<'_, Self>, _from: NodeId, _msg: Ping) {}

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: ()) {
        self.ticks += 1;
        let entry = format!(
            "tick {} n={} now={} mono={}",
            ctx.id(),
            self.ticks,
            ctx.now(),
            ctx.monotonic_ns()
        );
        self.log.lock().unwrap().push(entry);
        ctx.broadcast(Ping(self.ticks));
        ctx.set_timer(self.period, ());
    }
}

fn run_probe(src: &str, period_ms: u64) -> (RunOutcome, Vec<String>) {
    let log: Log = Arc::default();
    let shared = log.clone();
    let s = scenario(src);
    let outcome = world::run(&s.spec, 1, &RunOptions::default(), move |_| Probe {
        log: shared.clone(),
        ticks: 0,
        period: Duration::from_millis(period_ms),
    });
    assert_eq!(outcome.panic, None);
    let entries = log.lock().unwrap().clone();
    (outcome, entries)
}

const NET_10MS: &str = r#"network: (latency: Constant("10ms")),"#;

fn probe_scenario(nodes: u32, extra: &str) -> String {
    let network = if extra.contains("network:") { "" } else { NET_10MS };
    format!(r#"Scenario(name: "probe", protocol: Custom("probe"), nodes: {nodes}, duration: "3s", {network} {extra})"#)
}

/// Sends indexed by message id: (from, to, sent_ns).
fn sends(outcome: &RunOutcome) -> BTreeMap<String, (String, String, u64)> {
    lines(outcome)
        .iter()
        .filter(|l| l.kind == "send")
        .map(|l| {
            (
                l.field("msg").unwrap().to_string(),
                (
                    l.field("from").unwrap().into(),
                    l.field("to").unwrap().into(),
                    l.time_ns,
                ),
            )
        })
        .collect()
}

#[test]
fn crash_loses_unsynced_writes_and_volatile_state_but_keeps_synced_writes() {
    let src = probe_scenario(2, r#"faults: [At("1s", Crash(Node(1))), At("2s", Restart(Node(1)))]"#);
    let (outcome, log) = run_probe(&src, 100);
    let starts: Vec<_> = log.iter().filter(|e| e.starts_with("start n1")).collect();
    assert_eq!(starts.len(), 2, "{log:?}");
    assert_eq!(starts[0], "start n1 synced=None unsynced=None");
    assert_eq!(starts[1], "start n1 synced=Some(\"n1 durable\") unsynced=None");
    // The tick counter lived in the dropped struct: the new life counts from 1.
    let n1_ticks: Vec<_> = log.iter().filter(|e| e.starts_with("tick n1 ")).collect();
    let restarted_at = n1_ticks
        .iter()
        .position(|e| e.starts_with("tick n1 n=1 ") && e != &n1_ticks[0])
        .unwrap();
    assert!(restarted_at >= 9, "about ten ticks in the first life: {n1_ticks:?}");
    // Nothing runs on n1 while it is down.
    for l in lines(&outcome) {
        let touches_n1 =
            l.field("to") == Some("n1") && l.kind == "deliver" || l.field("node") == Some("n1") && l.kind == "timer";
        assert!(
            !(touches_n1 && l.time_ns > SEC && l.time_ns < 2 * SEC),
            "n1 handled an event while crashed: {l:?}"
        );
    }
}

#[test]
fn messages_arriving_at_a_crashed_node_are_lost() {
    let src = probe_scenario(2, r#"faults: [At("1s", Crash(Node(1))), At("2s", Restart(Node(1)))]"#);
    let (outcome, _) = run_probe(&src, 100);
    let sent = sends(&outcome);
    let down_drops: Vec<_> = lines(&outcome)
        .into_iter()
        .filter(|l| l.kind == "drop" && l.field("reason") == Some("down"))
        .collect();
    assert!(
        down_drops.len() >= 9,
        "n0 pinged n1 about ten times while it was down: {down_drops:?}"
    );
    for d in &down_drops {
        let (_, to, sent_ns) = &sent[d.field("msg").unwrap()];
        assert_eq!(to, "n1");
        assert!(
            *sent_ns + 10 * MS > SEC && *sent_ns + 10 * MS < 2 * SEC,
            "arrived while down: sent {sent_ns}"
        );
    }
}

#[test]
fn messages_to_a_node_that_stays_down_are_dropped_as_they_arrive() {
    let src = probe_scenario(2, r#"faults: [At("1s", Crash(Node(1)))]"#);
    let (outcome, _) = run_probe(&src, 100);
    let sent = sends(&outcome);
    let drops: Vec<_> = lines(&outcome).into_iter().filter(|l| l.kind == "drop").collect();
    assert!(
        drops.len() >= 19,
        "n0 pinged n1 about twenty times after the crash: {}",
        drops.len()
    );
    for d in &drops {
        let (_, _, sent_ns) = sent[d.field("msg").unwrap()];
        assert_eq!(d.field("reason"), Some("down"));
        assert!(
            d.time_ns.abs_diff(sent_ns + 10 * MS) < 2_000,
            "dropped on arrival, not later: {d:?}"
        );
    }
    assert_eq!(outcome.stats.messages.in_flight, 0);
    assert_eq!(outcome.stats.messages.dropped, drops.len() as u64);
}

#[test]
fn a_crash_during_a_pause_loses_what_the_pause_held() {
    let faults = r#"faults: [At("1s", Pause(Node(1))), At("1.5s", Crash(Node(1))), At("2s", Restart(Node(1)))]"#;
    let (outcome, log) = run_probe(&probe_scenario(2, faults), 100);
    let all = lines(&outcome);
    let sent = sends(&outcome);
    let drops: Vec<_> = all.iter().filter(|l| l.kind == "drop").collect();
    let at_crash = drops.iter().filter(|d| d.time_ns == 1500 * MS).count();
    assert!(
        (4..=5).contains(&at_crash),
        "the ~5 pings that arrived during the pause are lost at the crash: {drops:?}"
    );
    for d in &drops {
        let (_, to, sent_ns) = &sent[d.field("msg").unwrap()];
        assert_eq!((to.as_str(), d.field("reason")), ("n1", Some("down")));
        assert!(*sent_ns + 10 * MS > SEC && *sent_ns + 10 * MS < 2 * SEC, "{d:?}");
    }
    let handled_late = all.iter().filter(|l| {
        l.kind == "deliver"
            && l.field("to") == Some("n1")
            && l.time_ns >= 2 * SEC
            && sent[l.field("msg").unwrap()].2 < 2 * SEC - 10 * MS
    });
    assert_eq!(
        handled_late.count(),
        0,
        "nothing from before the restart is delivered after it"
    );
    let starts = log.iter().filter(|e| e.starts_with("start n1")).count();
    assert_eq!(
        (starts, outcome.stats.messages.in_flight),
        (2, 0),
        "booted, then restarted"
    );
    assert_eq!(outcome.stats.messages.dropped, drops.len() as u64);
}

#[test]
fn a_partitioned_link_delivers_nothing_until_healed() {
    let src = probe_scenario(3, r#"faults: [At("1s", Partition(Isolate(Node(0)))), At("2s", Heal)]"#);
    let (outcome, _) = run_probe(&src, 5);
    let sent = sends(&outcome);
    let (mut cut_delivered, mut after_heal, mut in_flight_lost) = (0, 0, 0);
    for l in lines(&outcome) {
        let Some(msg) = l.field("msg") else { continue };
        let Some((from, to, sent_ns)) = sent.get(msg) else {
            continue;
        };
        let crosses = from != to && (from == "n0" || to == "n0");
        let arrive = sent_ns + 10 * MS;
        let touched_cut = crosses && arrive >= SEC && *sent_ns < 2 * SEC;
        match l.kind {
            "deliver" if touched_cut => cut_delivered += 1,
            "deliver" if crosses && *sent_ns > 2 * SEC => after_heal += 1,
            "drop" if touched_cut && *sent_ns < SEC => {
                assert_eq!(l.field("reason"), Some("partition"));
                in_flight_lost += 1;
            }
            _ => {}
        }
    }
    assert_eq!(cut_delivered, 0, "no message over a cut link arrives");
    assert!(after_heal > 300, "links work again after the heal: {after_heal}");
    assert_eq!(
        in_flight_lost, 8,
        "2 ticks x 4 cut links were in flight when the cut began"
    );
}

#[test]
fn a_one_way_partition_cuts_one_direction_only() {
    let src = probe_scenario(
        3,
        r#"faults: [At("1s", PartitionOneWay(from: Node(0), to: All)), At("2s", Heal)]"#,
    );
    let (outcome, _) = run_probe(&src, 5);
    let sent = sends(&outcome);
    let (mut out_of_n0, mut into_n0) = (0, 0);
    for l in lines(&outcome).iter().filter(|l| l.kind == "deliver") {
        let (from, to, sent_ns) = &sent[l.field("msg").unwrap()];
        if *sent_ns > SEC && *sent_ns + 10 * MS < 2 * SEC {
            out_of_n0 += usize::from(from == "n0");
            into_n0 += usize::from(to == "n0" && from != "n0");
        }
    }
    assert_eq!(out_of_n0, 0);
    assert!(into_n0 > 300, "n0 still hears the others: {into_n0}");
}

#[test]
fn events_happen_at_their_due_times_and_ties_in_the_order_they_were_scheduled() {
    let (outcome, _) = run_probe(&probe_scenario(2, ""), 100);
    let all = lines(&outcome);
    let at = |kind: &str, when: u64| -> Vec<String> {
        let here = all.iter().filter(|l| l.kind == kind && l.time_ns == when);
        here.map(|l| l.field("node").or(l.field("to")).unwrap().to_string())
            .collect()
    };
    // Both boot at 0, n0 first, and set their timers in that order: at
    // 100 ms both fire, in that order; their pings arrive 10 ms later.
    assert_eq!(at("start", 0), ["n0", "n1"]);
    assert_eq!(at("timer", 100 * MS), ["n0", "n1"]);
    assert_eq!(at("deliver", 110 * MS), ["n1", "n0"]);
    let off_time: Vec<_> = all
        .iter()
        .filter(|l| matches!(l.kind, "timer" | "deliver") && l.time_ns % (10 * MS) != 0)
        .collect();
    assert!(off_time.is_empty(), "events away from their due times: {off_time:?}");
}

#[test]
fn a_paused_node_handles_nothing_until_resumed_then_everything_that_waited() {
    let src = probe_scenario(2, r#"faults: [At("1s", Pause(Node(1))), At("2s", Resume(Node(1)))]"#);
    let (outcome, log) = run_probe(&src, 100);
    let all = lines(&outcome);
    let handled_by_n1 = |l: &&simulate::trace::TraceLine| {
        (l.kind == "deliver" && l.field("to") == Some("n1")) || (l.kind == "timer" && l.field("node") == Some("n1"))
    };
    let during: Vec<_> = all
        .iter()
        .filter(handled_by_n1)
        .filter(|l| l.time_ns > SEC + MS && l.time_ns < 2 * SEC)
        .collect();
    assert!(during.is_empty(), "n1 handled events while paused: {during:?}");
    let resume = all.iter().find(|l| l.kind == "resume").unwrap().time_ns;
    let burst = all
        .iter()
        .filter(handled_by_n1)
        .filter(|l| l.time_ns >= resume && l.time_ns < resume + MS)
        .count();
    assert!(
        burst >= 10,
        "the ~10 pings and the timer that waited run at resume: {burst}"
    );
    assert!(!all.iter().any(|l| l.kind == "drop"), "pausing loses nothing");
    // Its state survived: the tick count goes on from where it stopped.
    let counts: Vec<u64> = log
        .iter()
        .filter(|e| e.starts_with("tick n1 "))
        .map(|e| {
            e.split(' ')
                .find_map(|w| w.strip_prefix("n="))
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(counts, (1..=counts.len() as u64).collect::<Vec<_>>());
    // ~10 ticks before the pause, the late one at resume, 9 after.
    assert!((18..=20).contains(&counts.len()), "{counts:?}");
}

#[test]
fn drifting_clocks_fire_timers_early_or_late_by_the_drift() {
    for (drift, expected_ns) in [
        (100_000i64, 909_090_910u64),
        (-100_000, 1_111_111_112),
        (0, 1_000_000_000),
    ] {
        let src = probe_scenario(1, &format!("clocks: (drift_ppm: ({drift}, {drift}))"));
        let (outcome, log) = run_probe(&src, 1000);
        let first = lines(&outcome).into_iter().find(|l| l.kind == "timer").unwrap();
        let error = first.time_ns.abs_diff(expected_ns);
        assert!(
            error < 2_000,
            "drift {drift}: fired at {} expected {expected_ns}",
            first.time_ns
        );
        // The node's own clock reads one second at that moment.
        let tick = &log.iter().find(|e| e.starts_with("tick")).unwrap();
        let mono: u64 = tick.rsplit("mono=").next().unwrap().parse().unwrap();
        assert!(mono.abs_diff(SEC) < 2_000, "drift {drift}: local clock read {mono}");
    }
}

#[test]
fn clock_jumps_move_the_wall_clock_but_not_timers() {
    let src = probe_scenario(
        1,
        r#"clocks: (offset: ("-40ms", "-40ms")), faults: [At("1.05s", ClockJump(Node(0), "-500ms"))]"#,
    );
    let (outcome, log) = run_probe(&src, 100);
    let field = |e: &str, k: &str| -> i64 { e.split(' ').find_map(|w| w.strip_prefix(k)).unwrap().parse().unwrap() };
    let ticks: Vec<_> = log.iter().filter(|e| e.starts_with("tick")).collect();
    let (t10, t11) = (ticks[9], ticks[10]);
    assert!(
        (field(t10, "now=") - (SEC as i64 - 40 * MS as i64)).abs() < 2_000,
        "offset applies: {t10}"
    );
    let wall_step = field(t11, "now=") - field(t10, "now=");
    let mono_step = field(t11, "mono=") - field(t10, "mono=");
    assert!(
        (wall_step - (100 - 500) * MS as i64).abs() < 2_000,
        "wall clock went back 500ms: {t10} -> {t11}"
    );
    assert!(
        (mono_step - 100 * MS as i64).abs() < 2_000,
        "monotonic clock did not: {t10} -> {t11}"
    );
    let timers: Vec<_> = lines(&outcome)
        .into_iter()
        .filter(|l| l.kind == "timer")
        .map(|l| l.time_ns)
        .collect();
    assert!(
        timers.windows(2).all(|w| (w[1] - w[0]).abs_diff(100 * MS) < 2_000),
        "timer spacing unchanged"
    );
}

#[test]
fn loss_and_duplication_happen_at_their_rates() {
    let src = probe_scenario(
        3,
        "network: (latency: Uniform(\"1ms\", \"3ms\"), loss: 0.1, duplicate: 0.05)",
    );
    let (outcome, _) = run_probe(&src, 5);
    let m = outcome.stats.messages;
    let (loss, dup) = (
        outcome.stats.faults.get("loss") as f64 / m.sent as f64,
        m.duplicated as f64 / m.sent as f64,
    );
    assert!(m.sent > 3_000, "{m:?}");
    assert!((0.08..0.12).contains(&loss), "loss rate {loss}");
    assert!((0.035..0.065).contains(&dup), "duplication rate {dup}");
    assert_eq!(m.sent + m.duplicated, m.delivered + m.dropped + m.in_flight, "{m:?}");
}

#[test]
fn latency_is_what_the_link_says_and_jitter_reorders() {
    let src = probe_scenario(
        2,
        "network: (latency: Uniform(\"1ms\", \"9ms\"), links: [(from: [1], to: [0], latency: Constant(\"7ms\"))])",
    );
    let (outcome, _) = run_probe(&src, 1);
    let sent = sends(&outcome);
    let mut reordered = 0;
    let mut last_sent_0_to_1 = 0;
    for l in lines(&outcome).iter().filter(|l| l.kind == "deliver") {
        let (from, _, sent_ns) = &sent[l.field("msg").unwrap()];
        let latency = l.time_ns - sent_ns;
        if from == "n1" {
            assert!(latency.abs_diff(7 * MS) < 2_000, "constant link: {latency}");
        } else {
            assert!(
                (MS - 1_000..9 * MS + 2_000).contains(&latency),
                "uniform link: {latency}"
            );
            reordered += usize::from(*sent_ns < last_sent_0_to_1);
            last_sent_0_to_1 = last_sent_0_to_1.max(*sent_ns);
        }
    }
    assert!(reordered > 100, "jitter reorders messages: {reordered}");
}

#[test]
fn crash_leader_targets_the_node_that_reports_the_leader_role() {
    let src = r#"Scenario(name: "pb", protocol: AsyncPrimaryBackup(), nodes: 3, duration: "2s",
                 faults: [At("1s", Crash(Leader)), At("1.5s", Crash(Leader))])"#;
    let outcome = run_builtin(src, 5);
    let events: Vec<_> = lines(&outcome)
        .into_iter()
        .filter(|l| matches!(l.kind, "crash" | "skip"))
        .collect();
    assert_eq!(events[0].field("node"), Some("n0"), "the primary reports Leader");
    assert_eq!(events[1].kind, "skip", "no leader left to crash: {events:?}");
    assert_eq!(outcome.stats.faults.get("crash"), 1);
}

#[test]
fn a_panicking_node_is_a_finding_not_a_crash_of_the_tool() {
    struct Bomb;
    impl Node for Bomb {
        type Msg = ();
        type Timer = ();
        type Service = NoService;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(Duration::from_millis(500), ());
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {
            panic!("invariant broken on purpose");
        }
    }
    let s = scenario(&probe_scenario(1, ""));
    let outcome = world::run(&s.spec, 0, &RunOptions::default(), |_| Bomb);
    assert_eq!(outcome.panic.as_deref(), Some("invariant broken on purpose"));
    let last = lines(&outcome).pop().unwrap();
    assert_eq!(
        (last.kind, last.payload),
        ("panic", Some("invariant broken on purpose"))
    );
    assert!(
        outcome.end_ns >= 500 * MS && outcome.end_ns < 501 * MS,
        "stopped at the panic: {}",
        outcome.end_ns
    );
    // The report's pictures centre on when it happened.
    let no_panic = simulate::check::no_panic(&outcome);
    assert_eq!(no_panic.at_ns, Some(outcome.end_ns));
}

/// Found in review: a node that sent to a node that does not exist made
/// the message counts disagree, and the end-of-run check took the whole
/// process down instead of failing the run.
#[test]
fn a_send_to_no_such_node_fails_the_run_and_only_the_run() {
    struct Lost;
    impl Node for Lost {
        type Msg = u8;
        type Timer = ();
        type Service = NoService;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(Duration::from_millis(10), ());
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u8) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
            ctx.send(NodeId(7), 1);
        }
    }
    let s = scenario(&probe_scenario(3, ""));
    let outcome = world::run(&s.spec, 0, &RunOptions::default(), |_| Lost);
    let message = outcome.panic.as_deref().unwrap_or_default();
    assert!(message.contains("send to n7, but there are 3 nodes"), "{message}");
    assert_eq!(
        simulate::check::no_panic(&outcome).verdict,
        simulate::check::Verdict::Fail
    );
}

#[test]
fn determinism_check_names_the_first_event_that_differs() {
    use std::sync::atomic::{AtomicU64, Ordering};
    /// Leaks state between runs through a global: the kind of bug the
    /// check exists to catch.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    struct Leaky(u64);
    impl Node for Leaky {
        type Msg = u64;
        type Timer = ();
        type Service = NoService;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(Duration::from_millis(100), ());
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: u64) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
            ctx.broadcast(self.0);
        }
    }
    let s = scenario(&probe_scenario(2, ""));
    let run = || {
        let generation = RUNS.fetch_add(1, Ordering::SeqCst);
        world::run(&s.spec, 3, &RunOptions::default(), move |_| Leaky(generation))
    };
    let (first, second) = (run(), run());
    let result = simulate::check::determinism(&first, &second);
    assert_eq!(result.verdict, simulate::check::Verdict::Fail);
    assert!(result.detail.contains("first:  3 0.100000"), "{}", result.detail);
    assert!(
        result.detail.contains("payload=0") && result.detail.contains("payload=1"),
        "{}",
        result.detail
    );
    let at = result.at_ns.expect("the first difference is timed");
    assert!((100 * MS..101 * MS).contains(&at), "{at}");
    let same = simulate::check::determinism(&first, &first);
    assert_eq!(same.verdict, simulate::check::Verdict::Pass);
}

#[test]
fn determinism_check_fails_runs_whose_texts_agree_but_hashes_do_not() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static RUNS: AtomicU64 = AtomicU64::new(0);
    /// Its trace text shows only `seen`; its hash covers `hidden` too.
    #[derive(Clone, Hash)]
    struct Note {
        seen: u64,
        hidden: u64,
    }
    impl std::fmt::Debug for Note {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "Note {}", self.seen)
        }
    }
    struct Hides(u64);
    impl Node for Hides {
        type Msg = Note;
        type Timer = ();
        type Service = NoService;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            ctx.set_timer(Duration::from_millis(100), ());
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: Note) {}
        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _: ()) {
            ctx.broadcast(Note {
                seen: 1,
                hidden: self.0,
            });
        }
        fn hash_msg(msg: &Note, into: &mut simulate::core::PayloadHasher<'_>) {
            std::hash::Hash::hash(msg, into);
        }
    }
    let s = scenario(&probe_scenario(2, ""));
    let run = || {
        let generation = RUNS.fetch_add(1, Ordering::SeqCst);
        world::run(&s.spec, 3, &RunOptions::default(), move |_| Hides(generation))
    };
    let (first, second) = (run(), run());
    assert_eq!(first.trace.text(), second.trace.text(), "the texts agree");
    let result = simulate::check::determinism(&first, &second);
    assert_eq!(result.verdict, simulate::check::Verdict::Fail);
    assert!(result.detail.contains("hash differently"), "{}", result.detail);
}

#[test]
fn a_reply_to_a_request_from_before_a_crash_goes_nowhere() {
    /// Remembers requests on disk without answering; answers them all
    /// after a restart.
    struct Forgetful;
    impl Node for Forgetful {
        type Msg = ();
        type Timer = ();
        type Service = Kv;
        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            let ids: Vec<u64> = ctx
                .disk()
                .read("pending")
                .map_or(Vec::new(), |b| serde_json::from_slice(b).unwrap());
            for id in ids {
                let reply = simulate::core::Reply::Ok(Output::Done);
                ctx.reply(simulate::core::RequestId(id), reply);
            }
        }
        fn on_message(&mut self, _: &mut Ctx<'_, Self>, _: NodeId, _: ()) {}
        fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
        fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request<Op>) {
            let mut ids: Vec<u64> = ctx
                .disk()
                .read("pending")
                .map_or(Vec::new(), |b| serde_json::from_slice(b).unwrap());
            ids.push(request.id.0);
            ctx.disk().write("pending", &serde_json::to_vec(&ids).unwrap());
            ctx.disk().fsync().unwrap();
        }
    }
    let src = r#"Scenario(name: "forgetful", protocol: Custom("f"), nodes: 1, duration: "2s",
        workload: (clients: 2, ops: 20, timeout: "100ms", think: "50ms"),
        faults: [At("1s", Crash(Node(0))), At("1.5s", Restart(Node(0)))])"#;
    let s = scenario(src);
    let outcome = world::run(&s.spec, 2, &RunOptions::default(), |_| Forgetful);
    let replies = lines(&outcome)
        .into_iter()
        .filter(|l| l.kind == "send" && l.field("from") == Some("n0"))
        .count();
    assert_eq!(replies, 0, "the new life did not receive those requests");
    let c = outcome.history.counts();
    assert!(c.invoked >= 10 && c.ok == 0 && c.indeterminate == c.invoked, "{c:?}");
}

/// The schedule a run played, put back into its scenario as explicit `At`
/// faults, plays the same faults: the same counts, at the same times, on
/// the same nodes, and so the same client history.
#[test]
fn a_played_schedule_taken_back_as_faults_replays_the_same_faults() {
    for (file, seed) in [("scenarios/chaos-smoke.ron", 3), ("scenarios/raft-kv.ron", 1)] {
        schedule_replays(file, seed);
    }
}

fn schedule_replays(file: &str, seed: u64) {
    let original = common::load(file);
    let first = original.run(seed, &RunOptions::default());
    assert!(first.schedule.len() > 10, "{:?}", first.schedule);
    let source = &original.loaded.source;
    let at = [simulate::scenario::locate::Seg::Field("faults")];
    let faults = simulate::scenario::locate::span(source, &at).unwrap();
    let explicit = simulate::nemesis::schedule::to_ron(&first.schedule);
    let text = format!(
        "{}{}{}",
        &source[..faults.bytes.start],
        explicit,
        &source[faults.bytes.end..]
    );
    let replayed = common::bound(&text).run(seed, &RunOptions::default());
    let events = |o: &RunOutcome| {
        let kinds = [
            "crash",
            "restart",
            "pause",
            "resume",
            "partition",
            "partition-one-way",
            "heal",
            "clock-jump",
        ];
        let faults: Vec<String> = lines(o)
            .into_iter()
            .filter(|l| kinds.contains(&l.kind))
            .map(|l| {
                format!(
                    "{} {} {:?} {:?} {:?}",
                    l.time_ns,
                    l.kind,
                    l.field("node"),
                    l.field("cut"),
                    l.field("links")
                )
            })
            .collect();
        faults
    };
    assert_eq!(events(&first), events(&replayed));
    assert_eq!(first.history, replayed.history, "the same faults make the same run");
}
