//! The built-in per-packet rules after the partition: loss, latency with a
//! tail, duplication. Each holds its setting per directed link (the
//! scenario's network, then its `links` overrides in order) and draws from
//! a random stream of its own per directed link (`net/<rule>/<from>-><to>`):
//! the n-th message on a link draws the same as long as the link carried
//! the same messages before it, whatever happens on other links. That is
//! what lets the shrinker remove a fault without reshuffling every later
//! draw of the run.

use super::latency::sample_ns;
use super::{DropReason, Packet, Rule, Verdict};
use crate::env::rng::{stream, SimRng};
use crate::scenario::{Latency, NetworkSpec, Tail};
use rand::Rng;

/// One value per directed link, `from * nodes + to`.
struct PerLink<T> {
    nodes: usize,
    values: Vec<T>,
}

impl<T: Clone> PerLink<T> {
    /// `base` everywhere, then each override of `spec.links` that `pick`
    /// finds a value in, in order (a later one wins).
    fn new(spec: &NetworkSpec, nodes: u32, base: T, pick: impl Fn(&crate::scenario::LinkSpec) -> Option<T>) -> Self {
        let nodes = nodes as usize;
        let mut values = vec![base; nodes * nodes];
        for link in &spec.links {
            let Some(v) = pick(link) else { continue };
            for &from in &link.from {
                for &to in &link.to {
                    values[from as usize * nodes + to as usize] = v.clone();
                }
            }
        }
        PerLink { nodes, values }
    }

    fn get(&self, p: &Packet) -> &T {
        &self.values[self.index(p)]
    }

    fn get_mut(&mut self, p: &Packet) -> &mut T {
        let i = self.index(p);
        &mut self.values[i]
    }

    fn index(&self, p: &Packet) -> usize {
        debug_assert!((p.from as usize) < self.nodes && (p.to as usize) < self.nodes);
        p.from as usize * self.nodes + p.to as usize
    }
}

/// One random stream per directed link, named after the rule.
struct LinkStreams(PerLink<SimRng>);

impl LinkStreams {
    fn new(seed: u64, rule: &str, nodes: u32) -> Self {
        let n = nodes as usize;
        let values = (0..n * n)
            .map(|i| stream(seed, &format!("net/{rule}/{}->{}", i / n, i % n)))
            .collect();
        LinkStreams(PerLink { nodes: n, values })
    }

    fn get(&mut self, p: &Packet) -> &mut SimRng {
        self.0.get_mut(p)
    }
}

/// Loses a packet with its link's probability.
pub struct Loss {
    p: PerLink<f64>,
    rng: LinkStreams,
}

impl Loss {
    /// The loss of `spec`'s links, drawing from `seed`'s `net/loss/..` streams.
    pub fn new(spec: &NetworkSpec, nodes: u32, seed: u64) -> Self {
        Loss {
            p: PerLink::new(spec, nodes, spec.loss.0, |l| l.loss.map(|p| p.0)),
            rng: LinkStreams::new(seed, "loss", nodes),
        }
    }
}

impl Rule for Loss {
    fn on_send(&mut self, packet: &Packet) -> Verdict {
        let p = *self.p.get(packet);
        if p > 0.0 && self.rng.get(packet).gen_bool(p) {
            Verdict::Drop(DropReason::Loss)
        } else {
            Verdict::Pass
        }
    }
}

/// A link's delay distribution and its long tail.
#[derive(Clone, Debug, PartialEq)]
struct Delay {
    latency: Latency,
    tail: Option<Tail>,
}

impl Delay {
    fn sample_ns(&self, rng: &mut SimRng) -> u64 {
        let mut ns = sample_ns(&self.latency, rng);
        if let Some(tail) = &self.tail {
            if tail.probability.0 > 0.0 && rng.gen_bool(tail.probability.0) {
                ns = ns.saturating_add(sample_ns(&tail.extra, rng));
            }
        }
        ns
    }
}

fn delays(spec: &NetworkSpec, nodes: u32) -> PerLink<Delay> {
    let base = Delay {
        latency: spec.latency.clone(),
        tail: spec.tail.clone(),
    };
    let mut per_link = PerLink::new(spec, nodes, base, |_| None);
    // Latency and tail override separately, so apply them field by field.
    for link in &spec.links {
        for &from in &link.from {
            for &to in &link.to {
                let d = &mut per_link.values[from as usize * nodes as usize + to as usize];
                if let Some(l) = &link.latency {
                    d.latency = l.clone();
                }
                if link.tail.is_some() {
                    d.tail = link.tail.clone();
                }
            }
        }
    }
    per_link
}

/// Delays each packet by a draw from its link's latency (plus the tail).
pub struct LinkLatency {
    delay: PerLink<Delay>,
    rng: LinkStreams,
}

impl LinkLatency {
    /// The latencies of `spec`'s links, drawing from `seed`'s
    /// `net/latency/..` streams.
    pub fn new(spec: &NetworkSpec, nodes: u32, seed: u64) -> Self {
        LinkLatency {
            delay: delays(spec, nodes),
            rng: LinkStreams::new(seed, "latency", nodes),
        }
    }
}

impl Rule for LinkLatency {
    fn on_send(&mut self, packet: &Packet) -> Verdict {
        Verdict::Delay(self.delay.get(packet).sample_ns(self.rng.get(packet)))
    }
}

/// Copies a packet with its link's probability; the copy draws its own
/// latency.
pub struct Duplication {
    p: PerLink<f64>,
    delay: PerLink<Delay>,
    rng: LinkStreams,
}

impl Duplication {
    /// The duplication of `spec`'s links, drawing from `seed`'s
    /// `net/duplicate/..` streams.
    pub fn new(spec: &NetworkSpec, nodes: u32, seed: u64) -> Self {
        Duplication {
            p: PerLink::new(spec, nodes, spec.duplicate.0, |l| l.duplicate.map(|p| p.0)),
            delay: delays(spec, nodes),
            rng: LinkStreams::new(seed, "duplicate", nodes),
        }
    }
}

impl Rule for Duplication {
    fn on_send(&mut self, packet: &Packet) -> Verdict {
        let p = *self.p.get(packet);
        let rng = self.rng.get(packet);
        if p > 0.0 && rng.gen_bool(p) {
            Verdict::Duplicate(self.delay.get(packet).sample_ns(rng))
        } else {
            Verdict::Pass
        }
    }
}
