//! A scenario written back as a scenario file: what `simulate shrink`
//! writes (`minimal.ron`) and what a recorded schedule's faults look like.
//! Every field is written out, defaults included, so the file says all
//! there is; reading it back gives the same scenario (a test holds every
//! shipped scenario to that).

use super::spec::*;
use super::{Dur, Named};
use std::fmt::Write;

/// The whole scenario as RON, one field per line.
pub fn to_ron(s: &Scenario) -> String {
    let mut out = String::from("Scenario(\n");
    let mut field = |name: &str, value: String| {
        let _ = writeln!(out, "  {name}: {value},");
    };
    field("name", format!("{:?}", s.name));
    if !s.description.is_empty() {
        field("description", format!("{:?}", s.description));
    }
    field("protocol", s.protocol.text());
    field("nodes", s.nodes.to_string());
    field("duration", quoted(s.duration));
    if let Some(seed) = s.seed {
        field("seed", seed.to_string());
    }
    field("network", network_ron(&s.network));
    field("clocks", clocks_ron(&s.clocks));
    if let Some(w) = &s.workload {
        field("workload", workload_ron(w));
    }
    field("faults", list(s.faults.iter().map(fault_spec_ron), "    "));
    if let Some(r) = s.recover {
        field("recover", quoted(r));
    }
    field("checks", list(s.checks.iter().map(Named::text), "    "));
    if let Expect::Fails(checks) = &s.expect {
        let names: Vec<String> = checks.iter().map(Named::text).collect();
        field("expect", format!("Fails([{}])", names.join(", ")));
    }
    let b = &s.budget;
    field("budget", format!("(events: {}, memory_mb: {})", b.events, b.memory_mb));
    out.push_str(")\n");
    out
}

/// A fault as a scenario writes it.
pub fn fault_ron(fault: &Fault) -> String {
    match fault {
        Fault::Partition(shape) => format!("Partition({})", shape_ron(shape)),
        Fault::PartitionOneWay { from, to } => {
            format!("PartitionOneWay(from: {}, to: {})", target_ron(from), target_ron(to))
        }
        Fault::Heal => "Heal".to_string(),
        Fault::CutLinks(links) => format!("CutLinks({links:?})"),
        Fault::CutLinksOneWay(links) => format!("CutLinksOneWay({links:?})"),
        Fault::HealLinks(links) => format!("HealLinks({links:?})"),
        Fault::Crash(t) => format!("Crash({})", target_ron(t)),
        Fault::Restart(t) => format!("Restart({})", target_ron(t)),
        Fault::Pause(t) => format!("Pause({})", target_ron(t)),
        Fault::Resume(t) => format!("Resume({})", target_ron(t)),
        Fault::ClockJump(t, by) => format!("ClockJump({}, \"{by}\")", target_ron(t)),
    }
}

fn quoted(d: Dur) -> String {
    format!("\"{d}\"")
}

/// `[\n    a,\n    b,\n  ]`, or `[]`.
fn list(items: impl Iterator<Item = String>, indent: &str) -> String {
    let items: Vec<String> = items.map(|i| format!("{indent}{i},\n")).collect();
    match items.is_empty() {
        true => "[]".to_string(),
        false => format!("[\n{}{}]", items.concat(), &indent[2..]),
    }
}

fn shape_ron(shape: &Shape) -> String {
    match shape {
        Shape::Isolate(t) => format!("Isolate({})", target_ron(t)),
        Shape::Groups(groups) => format!("Groups({groups:?})"),
        other => other.name().to_string(),
    }
}

fn target_ron(target: &Target) -> String {
    // Debug of these variants is their RON: `Node(3)`, `Nodes([1, 2])`, `Leader`.
    format!("{target:?}")
}

fn fault_spec_ron(f: &FaultSpec) -> String {
    match f {
        FaultSpec::At(at, fault) => format!("At({}, {})", quoted(*at), fault_ron(fault)),
        FaultSpec::Random(r) => {
            let kinds: Vec<String> = r.kinds.iter().map(|k| format!("{k:?}")).collect();
            let mut text = format!(
                "Random(every: {}, duration: {}, kinds: [{}], jump: {}, start: {}",
                pair(r.every),
                pair(r.duration),
                kinds.join(", "),
                pair(r.jump),
                quoted(r.start)
            );
            if let Some(stop) = r.stop {
                let _ = write!(text, ", stop: {}", quoted(stop));
            }
            text + ")"
        }
    }
}

fn pair((a, b): (Dur, Dur)) -> String {
    format!("({}, {})", quoted(a), quoted(b))
}

fn latency_ron(l: &Latency) -> String {
    match l {
        Latency::Constant(d) => format!("Constant({})", quoted(*d)),
        Latency::Uniform(a, b) => format!("Uniform({}, {})", quoted(*a), quoted(*b)),
        Latency::Normal { mean, std_dev } => {
            format!("Normal(mean: {}, std_dev: {})", quoted(*mean), quoted(*std_dev))
        }
        Latency::Exponential(d) => format!("Exponential({})", quoted(*d)),
    }
}

fn tail_ron(t: &Tail) -> String {
    format!("(probability: {:?}, extra: {})", t.probability.0, latency_ron(&t.extra))
}

fn network_ron(n: &NetworkSpec) -> String {
    let mut text = format!(
        "(\n    latency: {},\n    loss: {:?},\n    duplicate: {:?},\n",
        latency_ron(&n.latency),
        n.loss.0,
        n.duplicate.0
    );
    if let Some(t) = &n.tail {
        let _ = writeln!(text, "    tail: {},", tail_ron(t));
    }
    if !n.links.is_empty() {
        let _ = writeln!(text, "    links: {},", list(n.links.iter().map(link_ron), "      "));
    }
    text + "  )"
}

fn link_ron(l: &LinkSpec) -> String {
    let mut text = format!("(from: {:?}, to: {:?}", l.from, l.to);
    if let Some(lat) = &l.latency {
        let _ = write!(text, ", latency: {}", latency_ron(lat));
    }
    if let Some(t) = &l.tail {
        let _ = write!(text, ", tail: {}", tail_ron(t));
    }
    if let Some(p) = l.loss {
        let _ = write!(text, ", loss: {:?}", p.0);
    }
    if let Some(p) = l.duplicate {
        let _ = write!(text, ", duplicate: {:?}", p.0);
    }
    text + ")"
}

fn clocks_ron(c: &ClockSpec) -> String {
    let (lo, hi) = c.offset;
    format!(
        "(drift_ppm: ({}, {}), offset: (\"{lo}\", \"{hi}\"))",
        c.drift_ppm.0, c.drift_ppm.1
    )
}

fn workload_ron(w: &WorkloadSpec) -> String {
    let mut text = String::from("(\n");
    let mut field = |name: &str, value: String| {
        let _ = writeln!(text, "    {name}: {value},");
    };
    field("clients", w.clients.to_string());
    if let Some(ops) = w.ops {
        field("ops", ops.to_string());
    }
    if let Some(rate) = w.rate {
        field("rate", format!("{rate:?}"));
    }
    field("keys", w.keys.to_string());
    let m = &w.mix;
    let mix = format!(
        "(read: {:?}, write: {:?}, append: {:?}, cas: {:?})",
        m.read, m.write, m.append, m.cas
    );
    field("mix", mix);
    field("readers", w.readers.to_string());
    field("timeout", quoted(w.timeout));
    for (name, value) in [("retry", w.retry), ("think", w.think), ("final_reads", w.final_reads)] {
        if let Some(d) = value {
            field(name, quoted(d));
        }
    }
    field("routing", format!("{:?}", w.routing));
    text + "  )"
}
