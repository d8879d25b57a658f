//! Checks that need more than one field, or that serde cannot express,
//! on what every scenario shares. The protocol's config and the checks are
//! the family's to check (see `protocols::Registry`).
//!
//! Values that make no sense are refused, even where serde could read
//! them: a timer below [`TIMER_MIN`] (families check theirs with
//! [`timer`]), a phase above [`PHASE_MAX`]. What is legal and still never
//! settles (a zero delay that keeps a node busy at one instant) is stopped
//! by the run's budget (`budget` in the scenario).

use super::locate::Seg;
use super::spec::*;
use super::{Dur, Invalid};
use crate::path;

type Checked = Result<(), Invalid>;

fn fail(path: Vec<Seg>, message: impl Into<String>) -> Checked {
    Err(Invalid::at(path, message))
}

/// Largest cluster a scenario may ask for; far above any useful test, low
/// enough that n*n link tables stay small.
pub const NODES_MAX: u32 = 256;
/// Drift beyond ±50% is not a clock any more.
pub const DRIFT_PPM_MAX: i64 = 500_000;
/// Far more clients than any useful test; each is a simulated node.
pub const CLIENTS_MAX: u32 = 10_000;
/// Most faults one `Random` generator may start (each is planned ahead).
pub const RANDOM_FAULTS_MAX: u64 = 100_000;
/// Shortest heartbeat, timeout or retry interval a scenario may set. Real
/// systems stay far above it; below it a run spends its time on timers
/// (a 1ns heartbeat is a billion events a simulated second).
pub const TIMER_MIN: Dur = Dur(1_000_000);
/// Longest fault phase (`duration`) and longest recovery (`recover`): a
/// simulated day, far beyond any useful test, and far below where
/// simulated time could overflow.
pub const PHASE_MAX: Dur = Dur(24 * 3_600_000_000_000);

/// Checks a heartbeat, timeout or retry interval at `at` against
/// [`TIMER_MIN`]; the message names the path's last field. For families'
/// configs as much as for the scenario's own fields.
pub fn timer(value: Dur, at: Vec<Seg>) -> Result<(), Invalid> {
    if value >= TIMER_MIN {
        return Ok(());
    }
    let name = last_field(&at);
    fail(
        at,
        format!("{name} is {value}; expected at least {TIMER_MIN} (a shorter timer makes a run that never ends)"),
    )
}

/// Checks a leader-based family's `protocol.election_timeout` and
/// `protocol.heartbeat` as timers, and that the heartbeat is the shorter:
/// a leader that beats less often than followers time out is deposed
/// again and again.
pub fn election_timers(election_timeout: Dur, heartbeat: Dur) -> Result<(), Invalid> {
    timer(election_timeout, crate::path!["protocol", "election_timeout"])?;
    timer(heartbeat, crate::path!["protocol", "heartbeat"])?;
    if heartbeat < election_timeout {
        return Ok(());
    }
    fail(
        crate::path!["protocol", "heartbeat"],
        format!("heartbeat is {heartbeat}; expected an interval shorter than election_timeout ({election_timeout})"),
    )
}

/// Checks a family's `protocol.max_batch`: at least one entry per message.
pub fn max_batch(value: u32) -> Result<(), Invalid> {
    if value > 0 {
        return Ok(());
    }
    fail(
        crate::path!["protocol", "max_batch"],
        "max_batch is 0; expected at least 1",
    )
}

/// Checks a phase (`duration`, `recover`) at `at` against [`PHASE_MAX`].
fn phase(value: Dur, at: Vec<Seg>) -> Checked {
    if value <= PHASE_MAX {
        return Ok(());
    }
    let name = last_field(&at);
    fail(
        at,
        format!(
            "{name} is {value}; expected at most {} of simulated time",
            format_hours(PHASE_MAX)
        ),
    )
}

/// The name of the field a path ends in, for messages.
fn last_field(at: &[Seg]) -> &'static str {
    match at.last() {
        Some(Seg::Field(name)) => name,
        _ => "the value",
    }
}

/// "24h": a whole number of hours, as scenarios would write it.
fn format_hours(d: Dur) -> String {
    debug_assert!(d.0.is_multiple_of(3_600_000_000_000));
    format!("{}h", d.0 / 3_600_000_000_000)
}

/// A name is printed to terminals and names folders: it must be short
/// and hold no control characters (they would reach the terminal).
fn validate_name(name: &str) -> Checked {
    if name.trim().is_empty() {
        return fail(path!["name"], "name is empty; expected a short name for reports");
    }
    let chars = name.chars().count();
    if chars > NAME_CHARS_MAX {
        return fail(
            path!["name"],
            format!("name is {chars} characters long; expected at most {NAME_CHARS_MAX}"),
        );
    }
    if let Some(c) = name.chars().find(|c| c.is_control()) {
        return fail(
            path!["name"],
            format!("name holds the control character {c:?}; expected printable text"),
        );
    }
    Ok(())
}

/// Longest scenario name, in characters: it names report folders and
/// test cases, and is printed on every summary line.
pub const NAME_CHARS_MAX: usize = 100;

pub(super) fn validate(s: &Scenario) -> Checked {
    validate_name(&s.name)?;
    if s.nodes == 0 || s.nodes > NODES_MAX {
        return fail(
            path!["nodes"],
            format!("nodes is {}; expected 1 to {NODES_MAX}", s.nodes),
        );
    }
    if s.duration == Dur::ZERO {
        return fail(
            path!["duration"],
            "duration is zero; expected a positive duration like \"10s\"",
        );
    }
    phase(s.duration, path!["duration"])?;
    network(s)?;
    clocks(&s.clocks)?;
    if let Some(w) = &s.workload {
        session(w)?;
        final_reads(s, w)?;
    }
    for (i, f) in s.faults.iter().enumerate() {
        fault_spec(s, i, f)?;
    }
    if s.recover == Some(Dur::ZERO) {
        return fail(
            path!["recover"],
            "recover is zero; expected a positive duration or no recover field",
        );
    }
    if let Some(r) = s.recover {
        phase(r, path!["recover"])?;
    }
    budget(&s.budget)
}

fn budget(b: &RunBudget) -> Checked {
    for (name, value) in [("events", b.events), ("memory_mb", b.memory_mb)] {
        if value == 0 {
            return fail(
                path!["budget", name],
                format!("{name} is 0; expected a budget of at least 1, or no {name} field for the default"),
            );
        }
    }
    Ok(())
}

fn network(s: &Scenario) -> Checked {
    let net = &s.network;
    latency(&net.latency, path!["network", "latency"])?;
    if let Some(t) = &net.tail {
        latency(&t.extra, path!["network", "tail", "extra"])?;
    }
    for (i, link) in net.links.iter().enumerate() {
        for (field, list) in [("from", &link.from), ("to", &link.to)] {
            node_list(s, list, path!["network", "links", i, field])?;
        }
        if let Some(l) = &link.latency {
            latency(l, path!["network", "links", i, "latency"])?;
        }
        if let Some(t) = &link.tail {
            latency(&t.extra, path!["network", "links", i, "tail", "extra"])?;
        }
    }
    Ok(())
}

fn latency(l: &Latency, at: Vec<Seg>) -> Checked {
    match l {
        Latency::Uniform(lo, hi) if lo > hi => {
            let mut at = at;
            at.push(Seg::Index(0));
            fail(
                at,
                format!("Uniform({lo}, {hi}) has its bounds the wrong way round; expected low <= high"),
            )
        }
        Latency::Exponential(mean) if *mean == Dur::ZERO => {
            fail(at, "Exponential mean is zero; expected a positive mean")
        }
        _ => Ok(()),
    }
}

fn clocks(c: &ClockSpec) -> Checked {
    let (lo, hi) = c.drift_ppm;
    for (i, v) in [lo, hi].into_iter().enumerate() {
        if v.unsigned_abs() > DRIFT_PPM_MAX as u64 {
            return fail(
                path!["clocks", "drift_ppm", i],
                format!("drift {v} ppm is out of range; expected -{DRIFT_PPM_MAX} to {DRIFT_PPM_MAX}"),
            );
        }
    }
    if lo > hi {
        return fail(
            path!["clocks", "drift_ppm"],
            "drift_ppm range is the wrong way round; expected (low, high)",
        );
    }
    if c.offset.0 > c.offset.1 {
        return fail(
            path!["clocks", "offset"],
            "offset range is the wrong way round; expected (low, high)",
        );
    }
    Ok(())
}

/// What every workload shares: the clients and their session rules.
fn session(w: &WorkloadSpec) -> Checked {
    if w.clients == 0 || w.clients > CLIENTS_MAX {
        return fail(
            path!["workload", "clients"],
            format!(
                "clients is {}; expected 1 to {CLIENTS_MAX} (or no workload field)",
                w.clients
            ),
        );
    }
    if w.ops == Some(0) {
        return fail(
            path!["workload", "ops"],
            "ops is 0; expected at least 1, or no ops field (clients go on until the run ends)",
        );
    }
    if let Some(rate) = w.rate {
        if !(rate.is_finite() && rate > 0.0) {
            return fail(
                path!["workload", "rate"],
                format!("rate is {rate}; expected a positive number of operations per second"),
            );
        }
        if w.think.is_some() {
            return fail(
                path!["workload", "rate"],
                "rate and think both set the pause between operations; expected one of them",
            );
        }
    }
    timer(w.timeout, path!["workload", "timeout"])?;
    if let Some(retry) = w.retry {
        timer(retry, path!["workload", "retry"])?;
    }
    Ok(())
}

/// Final reads happen inside the recovery phase.
fn final_reads(s: &Scenario, w: &WorkloadSpec) -> Checked {
    let Some(after) = w.final_reads else {
        return Ok(());
    };
    let at = path!["workload", "final_reads"];
    match s.recover {
        None => fail(
            at,
            "final_reads happen after the heal; expected a `recover` field (e.g. recover: \"5s\")",
        ),
        Some(r) if Dur(after.0.saturating_add(w.timeout.0)) >= r => fail(
            at,
            format!(
                "final_reads at {after} after the heal, then the workload's timeout ({}) for what is pending, end past the recovery phase ({r}); expected them to end before it",
                w.timeout
            ),
        ),
        Some(_) => Ok(()),
    }
}

/// The key-value service's own workload fields: keys, mix, readers.
pub fn kv_workload(w: &WorkloadSpec) -> Checked {
    if w.readers > w.clients {
        return fail(
            path!["workload", "readers"],
            format!(
                "readers is {}, but there are {} clients; expected at most {}",
                w.readers, w.clients, w.clients
            ),
        );
    }
    if w.keys == 0 {
        return fail(path!["workload", "keys"], "keys is 0; expected at least 1");
    }
    let m = &w.mix;
    for (name, v) in [
        ("read", m.read),
        ("write", m.write),
        ("append", m.append),
        ("cas", m.cas),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return fail(
                path!["workload", "mix", name],
                format!("{name} weight is {v}; expected a weight of 0 or more"),
            );
        }
    }
    if m.read + m.write + m.append + m.cas <= 0.0 {
        return fail(
            path!["workload", "mix"],
            "every weight in mix is zero; expected at least one positive weight",
        );
    }
    Ok(())
}

fn fault_spec(s: &Scenario, i: usize, f: &FaultSpec) -> Checked {
    match f {
        FaultSpec::At(at, fault_) => {
            if *at > s.duration {
                return fail(
                    path!["faults", i, 0],
                    format!(
                        "fault at {at} is after the fault phase ends (duration {}); expected a time within it",
                        s.duration
                    ),
                );
            }
            fault(s, fault_, path!["faults", i, 1])
        }
        FaultSpec::Random(r) => random(s, r, path!["faults", i]),
    }
}

fn random(s: &Scenario, r: &RandomFaults, at: Vec<Seg>) -> Checked {
    let sub = |name: &'static str| {
        let mut p = at.clone();
        p.push(Seg::Field(name));
        p
    };
    if r.every.0 == Dur::ZERO {
        return fail(
            sub("every"),
            "every starts at zero; expected a positive minimum interval",
        );
    }
    for (name, (lo, hi)) in [("every", r.every), ("duration", r.duration), ("jump", r.jump)] {
        if lo > hi {
            return fail(
                sub(name),
                format!("{name} range ({lo}, {hi}) is the wrong way round; expected (low, high)"),
            );
        }
    }
    if r.kinds.is_empty() {
        return fail(
            sub("kinds"),
            "kinds is empty; expected some of Partition, PartitionOneWay, Crash, Pause, ClockJump",
        );
    }
    let stop = r.stop.unwrap_or(s.duration);
    if stop > s.duration {
        return fail(
            sub("stop"),
            format!(
                "stop {stop} is after the fault phase ends (duration {}); expected at most that",
                s.duration
            ),
        );
    }
    if r.start >= stop {
        return fail(
            sub("start"),
            format!("start {} is not before stop {stop}; expected start < stop", r.start),
        );
    }
    let most = (stop.0 - r.start.0) / r.every.0 .0;
    if most > RANDOM_FAULTS_MAX {
        return fail(
            sub("every"),
            format!(
                "every {} from {} to {stop} could start {most} faults; expected at most {RANDOM_FAULTS_MAX} (a longer interval)",
                r.every.0, r.start
            ),
        );
    }
    for (k, kind) in r.kinds.iter().enumerate() {
        let needs = match kind {
            FaultKind::Partition | FaultKind::PartitionOneWay => 2,
            _ => 1,
        };
        if s.nodes < needs {
            let mut p = sub("kinds");
            p.push(Seg::Index(k));
            return fail(
                p,
                format!("{kind:?} needs at least {needs} nodes, but nodes is {}", s.nodes),
            );
        }
    }
    Ok(())
}

fn fault(s: &Scenario, f: &Fault, at: Vec<Seg>) -> Checked {
    let inner = |i: usize| {
        let mut p = at.clone();
        p.push(Seg::Index(i));
        p
    };
    match f {
        Fault::Partition(shape_) => shape(s, shape_, inner(0)),
        Fault::PartitionOneWay { from, to } => {
            if s.nodes < 2 {
                return fail(at, "PartitionOneWay needs at least 2 nodes");
            }
            for (name, t) in [("from", from), ("to", to)] {
                let mut p = at.clone();
                p.push(Seg::Field(name));
                target(s, t, p)?;
            }
            Ok(())
        }
        Fault::Heal => Ok(()),
        Fault::CutLinks(links) | Fault::CutLinksOneWay(links) | Fault::HealLinks(links) => {
            link_list(s, links, inner(0))
        }
        Fault::Crash(t) | Fault::Restart(t) | Fault::Pause(t) | Fault::Resume(t) | Fault::ClockJump(t, _) => {
            target(s, t, inner(0))
        }
    }
}

fn shape(s: &Scenario, shape: &Shape, at: Vec<Seg>) -> Checked {
    let needs = shape.min_nodes();
    if s.nodes < needs {
        return fail(
            at,
            format!(
                "{} needs at least {needs} nodes, but nodes is {}",
                shape.name(),
                s.nodes
            ),
        );
    }
    match shape {
        Shape::Isolate(t) => {
            let mut p = at;
            p.push(Seg::Index(0));
            target(s, t, p)
        }
        Shape::Groups(groups) => {
            let mut seen = vec![false; s.nodes as usize];
            for (g, group) in groups.iter().enumerate() {
                let mut p = at.clone();
                p.extend([Seg::Index(0), Seg::Index(g)]);
                node_list(s, group, p.clone())?;
                for (k, n) in group.iter().enumerate() {
                    if std::mem::replace(&mut seen[*n as usize], true) {
                        p.push(Seg::Index(k));
                        return fail(
                            p,
                            format!("node {n} is in two groups; expected each node in at most one group"),
                        );
                    }
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

fn target(s: &Scenario, t: &Target, at: Vec<Seg>) -> Checked {
    match t {
        Target::Node(n) => node_index(s, *n, {
            let mut p = at;
            p.push(Seg::Index(0));
            p
        }),
        Target::Nodes(list) => node_list(s, list, {
            let mut p = at;
            p.push(Seg::Index(0));
            p
        }),
        Target::Majority | Target::Minority if s.nodes < 3 => fail(
            at,
            format!(
                "a {t:?} of {} nodes is not a proper subset; expected at least 3 nodes",
                s.nodes
            ),
        ),
        _ => Ok(()),
    }
}

fn node_list(s: &Scenario, list: &[u32], at: Vec<Seg>) -> Checked {
    if list.is_empty() {
        return fail(at, "the node list is empty; expected at least one node index");
    }
    for (k, n) in list.iter().enumerate() {
        let mut p = at.clone();
        p.push(Seg::Index(k));
        node_index(s, *n, p)?;
    }
    Ok(())
}

fn node_index(s: &Scenario, n: u32, at: Vec<Seg>) -> Checked {
    if n >= s.nodes {
        return fail(
            at,
            format!(
                "node index {n} is out of range; expected 0 to {} (nodes is {})",
                s.nodes - 1,
                s.nodes
            ),
        );
    }
    Ok(())
}

fn link_list(s: &Scenario, links: &[(u32, u32)], at: Vec<Seg>) -> Checked {
    if links.is_empty() {
        return fail(at, "the link list is empty; expected (from, to) pairs of node indices");
    }
    for (k, &(from, to)) in links.iter().enumerate() {
        let mut p = at.clone();
        p.push(Seg::Index(k));
        node_index(s, from, [p.clone(), path![0]].concat())?;
        node_index(s, to, [p.clone(), path![1]].concat())?;
        if from == to {
            return fail(
                p,
                format!("link ({from}, {to}) joins a node to itself; expected two different nodes"),
            );
        }
    }
    Ok(())
}
