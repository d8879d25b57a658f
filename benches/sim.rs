//! Simulation speed, measured against raw madsim in the same run.
//!
//! `cargo bench --bench sim` prints:
//! - raw madsim: a ping-pong between two madsim nodes over madsim::net;
//! - the same ping-pong through our layers (network model, event queue, trace);
//! - the cost ratio of the two (our time per message / madsim's);
//! - chaos-smoke (5 nodes, 12 simulated seconds): wall time per run;
//! - a busy 5-node scenario: events and messages per wall second;
//! - raft-kv, paxos-kv and quorum-kv (5 nodes, 30 simulated seconds, ~2,000 client
//!   operations each): wall time per seed, run and every check included,
//!   over 20 seeds;
//!   and the time to write its report folder (`--report always`), and of
//!   that the pictures alone (timeline read back, space-time, latency).
//!
//! Each figure is the median of several repetitions; machines are shared
//! and noisy, so compare the ratio, which is measured in one process.

use madsim::net::Endpoint;
use madsim::runtime::Runtime;
use simulate::core::{Ctx, NoService, Node, NodeId};
use simulate::protocols::{Bound, Registry};
use simulate::scenario;
use simulate::world::{self, RunOptions};
use std::time::{Duration, Instant};

const ROUND_TRIPS: u64 = 100_000;
const REPEATS: usize = 7;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Seconds of wall time for `ROUND_TRIPS` ping-pongs over madsim::net.
fn raw_madsim() -> f64 {
    let runtime = Runtime::with_seed_and_config(1, madsim::Config::default());
    let a = runtime.create_node().ip("10.0.0.1".parse().unwrap()).build();
    let b = runtime.create_node().ip("10.0.0.2".parse().unwrap()).build();
    let started = Instant::now();
    runtime.block_on(async move {
        b.spawn(async move {
            let ep = Endpoint::bind("10.0.0.2:1").await.unwrap();
            let mut buf = [0u8; 16];
            loop {
                let (n, from) = ep.recv_from(1, &mut buf).await.unwrap();
                ep.send_to(from, 1, &buf[..n]).await.unwrap();
            }
        });
        let client = a.spawn(async move {
            madsim::time::sleep(Duration::from_millis(1)).await;
            let ep = Endpoint::bind("10.0.0.1:1").await.unwrap();
            let mut buf = [0u8; 16];
            for i in 0..ROUND_TRIPS {
                ep.send_to("10.0.0.2:1", 1, &i.to_le_bytes()).await.unwrap();
                ep.recv_from(1, &mut buf).await.unwrap();
            }
        });
        client.await.unwrap();
    });
    started.elapsed().as_secs_f64()
}

/// Node 0 pings node 1, which answers; node 0 pings again on each answer.
struct PingPong {
    left: u64,
}

#[derive(Clone, Debug)]
enum Msg {
    Ping(u64),
    Pong(u64),
}

impl Node for PingPong {
    type Msg = Msg;
    type Timer = ();
    type Service = NoService;
    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if ctx.id() == NodeId(0) {
            ctx.send(NodeId(1), Msg::Ping(self.left));
        }
    }
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Ping(i) => ctx.send(from, Msg::Pong(i)),
            Msg::Pong(i) => {
                assert_eq!(i, self.left, "each pong answers the last ping");
                if self.left > 1 {
                    self.left -= 1;
                    ctx.send(from, Msg::Ping(self.left));
                }
            }
        }
    }
    fn on_timer(&mut self, _: &mut Ctx<'_, Self>, _: ()) {}
}

/// Seconds of wall time for `ROUND_TRIPS` ping-pongs through our layers.
fn our_pingpong() -> (f64, u64) {
    // 1ms latency: long enough for 100k round trips to fit in 300s.
    let src = r#"Scenario(name: "pingpong", protocol: Custom("pingpong"), nodes: 2, duration: "300s",
                 network: (latency: Constant("1ms")))"#;
    let s = scenario::parse("bench", src).unwrap();
    let started = Instant::now();
    let outcome = world::run(&s.spec, 1, &RunOptions::default(), |_| PingPong { left: ROUND_TRIPS });
    let wall = started.elapsed().as_secs_f64();
    assert_eq!(outcome.stats.messages.delivered, 2 * ROUND_TRIPS);
    (wall, outcome.trace.events())
}

fn load(path: &str) -> Bound {
    Registry::builtin().load(std::path::Path::new(path)).unwrap()
}

fn run_file(path: &str) -> (f64, u64, u64, u64) {
    let s = load(path);
    let started = Instant::now();
    let outcome = s.run(1, &RunOptions::default());
    let wall = started.elapsed().as_secs_f64();
    (
        wall,
        outcome.trace.events(),
        outcome.stats.messages.delivered,
        outcome.end_ns,
    )
}

const BUSY: &str = r#"Scenario(
  name: "busy-5",
  protocol: AsyncPrimaryBackup(heartbeat: "1ms"),
  nodes: 5,
  duration: "10s",
  network: (latency: Uniform("1ms", "5ms"), loss: 0.01, duplicate: 0.01),
  clocks: (drift_ppm: (-100, 100)),
  workload: (clients: 10, ops: 20000, keys: 5, mix: (read: 0.5, write: 0.5), timeout: "200ms", think: "5ms"),
  faults: [Random(every: ("200ms", "600ms"), duration: ("100ms", "300ms"), kinds: [Partition, Crash, Pause, ClockJump])],
)"#;

fn main() {
    let raw: Vec<f64> = (0..REPEATS).map(|_| raw_madsim()).collect();
    let ours: Vec<(f64, u64)> = (0..REPEATS).map(|_| our_pingpong()).collect();
    let raw_s = median(raw);
    let ours_s = median(ours.iter().map(|x| x.0).collect());
    let messages = (2 * ROUND_TRIPS) as f64;
    println!("ping-pong, {} messages, median of {REPEATS}:", 2 * ROUND_TRIPS);
    println!("  raw madsim::net        {:>10.0} messages/s", messages / raw_s);
    println!(
        "  simulate (full trace)  {:>10.0} messages/s  ({:.0} events/s)",
        messages / ours_s,
        ours[0].1 as f64 / ours_s
    );
    println!("  cost ratio (ours/raw time per message): {:.2}x", ours_s / raw_s);

    let smoke: Vec<_> = (0..REPEATS).map(|_| run_file("scenarios/chaos-smoke.ron")).collect();
    let (_, events, delivered, end_ns) = smoke[0];
    let wall = median(smoke.iter().map(|x| x.0).collect());
    println!(
        "chaos-smoke, 5 nodes, {:.0} simulated s: {:.1} ms wall ({events} events, {delivered} messages, {:.0} events/s)",
        end_ns as f64 / 1e9,
        wall * 1e3,
        events as f64 / wall
    );

    let s = Registry::builtin().parse("busy-5", BUSY).unwrap();
    let runs: Vec<_> = (0..REPEATS)
        .map(|_| {
            let started = Instant::now();
            let o = s.run(1, &RunOptions::default());
            (
                started.elapsed().as_secs_f64(),
                o.trace.events(),
                o.stats.messages.delivered,
            )
        })
        .collect();
    let wall = median(runs.iter().map(|x| x.0).collect());
    let (_, events, delivered) = runs[0];
    println!(
        "busy-5, 5 nodes, 10 simulated s: {:.1} ms wall, {:.0} events/s, {:.0} messages/s ({events} events)",
        wall * 1e3,
        events as f64 / wall,
        delivered as f64 / wall
    );

    let raft = per_seed("raft-kv");
    per_seed("paxos-kv");
    per_seed("quorum-kv");
    raft_kv_report(&raft);
}

/// One seed of `scenarios/<name>.ron` as a CI sweep runs it: simulate,
/// then check everything.
fn per_seed(name: &str) -> Bound {
    let s = load(&format!("scenarios/{name}.ron"));
    let mut run_ms = Vec::new();
    let mut total_ms = Vec::new();
    let mut ops = 0;
    // As a sweep runs a seed: keeping the trace's hash, not its text.
    let options = RunOptions {
        hash_only: true,
        ..RunOptions::default()
    };
    for seed in 0..20 {
        let started = Instant::now();
        let outcome = s.run(seed, &options);
        let ran = started.elapsed().as_secs_f64();
        let results = s.check(&outcome);
        let total = started.elapsed().as_secs_f64();
        assert_eq!(
            simulate::check::overall(&results),
            simulate::check::Verdict::Pass,
            "seed {seed}"
        );
        ops += outcome
            .history
            .events
            .iter()
            .filter(|e| e.kind == simulate::history::EventKind::Invoke)
            .count();
        run_ms.push(ran * 1e3);
        total_ms.push(total * 1e3);
    }
    println!(
        "{name}, 5 nodes, 30 simulated s, {} client ops per seed on average: {:.1} ms per seed with checks ({:.1} ms simulating), median of 20 seeds",
        ops / 20,
        median(total_ms),
        median(run_ms)
    );
    s
}

/// What `--report always` adds to a raft-kv seed.
fn raft_kv_report(s: &Bound) {
    use simulate::plot::{latency, spacetime};
    use simulate::trace::timeline::Timeline;
    let dir = std::env::temp_dir().join(format!("simulate-bench-report-{}", std::process::id()));
    let (mut write_ms, mut picture_ms, mut bytes) = (Vec::new(), Vec::new(), 0);
    let mut text_ms = Vec::new();
    let hash_only = RunOptions {
        hash_only: true,
        ..RunOptions::default()
    };
    for seed in 0..5 {
        // A report needs the trace's text, which a sweep's run does not
        // keep: what keeping it costs counts as part of the report.
        let started = Instant::now();
        s.run(seed, &hash_only);
        let hashed = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let outcome = s.run(seed, &RunOptions::default());
        text_ms.push((started.elapsed().as_secs_f64() - hashed) * 1e3);
        let checks = s.check(&outcome);
        let started = Instant::now();
        let timeline = Timeline::from_trace(outcome.trace.text());
        let focus = spacetime::Focus::default();
        let pictures = [spacetime::svg(&timeline, &focus), latency::svg(&timeline, &focus)];
        picture_ms.push(started.elapsed().as_secs_f64() * 1e3);
        assert!(pictures.iter().all(Result::is_ok));
        let report = simulate::report::RunReport {
            scenario: &s.loaded,
            outcome: &outcome,
            verdict: simulate::check::overall(&checks),
            checks,
            wall_ms: 0.0,
            dir: Some(dir.clone()),
            write_repro: true,
            fault_kinds: &s.fault_kinds,
            expected: &s.expected,
            program: "simulate",
            unwritten: None,
        };
        let started = Instant::now();
        report.write().unwrap();
        write_ms.push(started.elapsed().as_secs_f64() * 1e3);
        bytes = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum();
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (write, text) = (median(write_ms), median(text_ms));
    println!(
        "raft-kv report folder: {:.1} ms to write ({:.1} MB), of which {:.1} ms the pictures, median of 5 seeds",
        write,
        bytes as f64 / 1e6,
        median(picture_ms)
    );
    println!(
        "raft-kv report with the run keeping its trace's text: {:.1} ms ({text:.1} ms the text)",
        write + text
    );
}
