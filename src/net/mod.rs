//! The simulated network between nodes: per-link latency, loss,
//! duplication, and partitions, on simulated time.
//!
//! Reordering is not a separate knob: every message draws its own latency,
//! so jitter reorders messages as it does on a real network.
//!
//! Partitions cut directed links. A message is delivered only if its link
//! was up for the whole time it was in flight: one sent while the link is
//! cut is dropped at once, and one already in flight when a partition
//! starts is dropped when it would have arrived, as if the cable had been
//! pulled with the packet on it. A message sent just before a heal is lost
//! all the same; one sent after the heal goes through.
//!
//! Clients are not part of this mesh: each client sits next to its node
//! (as Jepsen's clients do) and its link only has latency, never loss,
//! duplication or partitions. Faults are between servers.

mod latency;

pub use latency::sample_ns;

use crate::scenario::{Latency, NetworkSpec, Tail};
use crate::sim::rng::SimRng;
use rand::Rng;

#[derive(Clone, Debug, PartialEq)]
struct LinkModel {
    latency: Latency,
    tail: Option<Tail>,
    loss: f64,
    duplicate: f64,
}

/// What the network does with one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    Dropped(DropReason),
    /// Arrival time, and the arrival time of a duplicate if there is one.
    Arrives {
        at_ns: u64,
        copy_at_ns: Option<u64>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Lost to the link's loss probability.
    Loss,
    /// The link was cut at some point while the message was in flight.
    Partition,
    /// The receiver was down (crashed) when the message arrived.
    Down,
}

impl DropReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::Down => "down",
        }
    }
}

pub struct Network {
    nodes: usize,
    /// Directed links, `from * nodes + to`.
    links: Vec<LinkModel>,
    client_latency: Latency,
    /// Per directed link: the intervals [start, end) during which it was
    /// cut, in time order; an open interval ends at u64::MAX.
    cuts: Vec<Vec<(u64, u64)>>,
    rng: SimRng,
}

impl Network {
    pub fn new(spec: &NetworkSpec, nodes: usize, rng: SimRng) -> Self {
        let base = LinkModel {
            latency: spec.latency.clone(),
            tail: spec.tail.clone(),
            loss: spec.loss.0,
            duplicate: spec.duplicate.0,
        };
        let mut links = vec![base; nodes * nodes];
        for o in &spec.links {
            for &from in &o.from {
                for &to in &o.to {
                    let link = &mut links[from as usize * nodes + to as usize];
                    if let Some(l) = &o.latency {
                        link.latency = l.clone();
                    }
                    if o.tail.is_some() {
                        link.tail = o.tail.clone();
                    }
                    if let Some(p) = o.loss {
                        link.loss = p.0;
                    }
                    if let Some(p) = o.duplicate {
                        link.duplicate = p.0;
                    }
                }
            }
        }
        Network {
            nodes,
            links,
            client_latency: spec.latency.clone(),
            cuts: vec![Vec::new(); nodes * nodes],
            rng,
        }
    }

    fn index(&self, from: u32, to: u32) -> usize {
        debug_assert!((from as usize) < self.nodes && (to as usize) < self.nodes);
        from as usize * self.nodes + to as usize
    }

    /// Decides the fate of a message sent now from `from` to `to`.
    pub fn send(&mut self, from: u32, to: u32, now_ns: u64) -> Fate {
        let i = self.index(from, to);
        if self.is_cut_index(i) {
            return Fate::Dropped(DropReason::Partition);
        }
        let link = &self.links[i];
        if link.loss > 0.0 && self.rng.gen_bool(link.loss) {
            return Fate::Dropped(DropReason::Loss);
        }
        let at_ns = now_ns.saturating_add(link_delay(link, &mut self.rng));
        let copy_at_ns = if link.duplicate > 0.0 && self.rng.gen_bool(link.duplicate) {
            Some(now_ns.saturating_add(link_delay(link, &mut self.rng)))
        } else {
            None
        };
        Fate::Arrives { at_ns, copy_at_ns }
    }

    /// Latency of a client link (see the module comment).
    pub fn client_delay_ns(&mut self) -> u64 {
        sample_ns(&self.client_latency, &mut self.rng)
    }

    /// True unless the link was cut at any time in [sent, arrived].
    pub fn survives(&self, from: u32, to: u32, sent_ns: u64, arrived_ns: u64) -> bool {
        for &(start, end) in self.cuts[self.index(from, to)].iter().rev() {
            if end <= sent_ns {
                return true;
            }
            if start <= arrived_ns {
                return false;
            }
        }
        true
    }

    pub fn is_cut(&self, from: u32, to: u32) -> bool {
        self.is_cut_index(self.index(from, to))
    }

    fn is_cut_index(&self, i: usize) -> bool {
        self.cuts[i].last().is_some_and(|&(_, end)| end == u64::MAX)
    }

    /// Cuts each directed link in `links`; returns those not cut before.
    pub fn cut(&mut self, links: &[(u32, u32)], now_ns: u64) -> Vec<(u32, u32)> {
        let mut newly = Vec::new();
        for &(from, to) in links {
            debug_assert_ne!(from, to, "a node is never cut from itself");
            let i = self.index(from, to);
            if !self.is_cut_index(i) {
                self.cuts[i].push((now_ns, u64::MAX));
                newly.push((from, to));
            }
        }
        newly
    }

    /// Restores every link; returns those that were cut.
    pub fn heal(&mut self, now_ns: u64) -> Vec<(u32, u32)> {
        let all: Vec<usize> = (0..self.cuts.len()).collect();
        self.heal_indices(all, now_ns)
    }

    /// Restores the given links; returns those of them that were cut.
    pub fn heal_links(&mut self, links: &[(u32, u32)], now_ns: u64) -> Vec<(u32, u32)> {
        let indices = links.iter().map(|&(f, t)| self.index(f, t)).collect();
        self.heal_indices(indices, now_ns)
    }

    fn heal_indices(&mut self, indices: Vec<usize>, now_ns: u64) -> Vec<(u32, u32)> {
        let mut healed = Vec::new();
        for i in indices {
            if let Some(last) = self.cuts[i].last_mut().filter(|iv| iv.1 == u64::MAX) {
                last.1 = now_ns;
                healed.push(((i / self.nodes) as u32, (i % self.nodes) as u32));
            }
        }
        healed
    }

    pub fn any_cut(&self) -> bool {
        (0..self.cuts.len()).any(|i| self.is_cut_index(i))
    }
}

fn link_delay(link: &LinkModel, rng: &mut SimRng) -> u64 {
    let mut ns = sample_ns(&link.latency, rng);
    if let Some(tail) = &link.tail {
        if tail.probability.0 > 0.0 && rng.gen_bool(tail.probability.0) {
            ns = ns.saturating_add(sample_ns(&tail.extra, rng));
        }
    }
    ns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Dur, LinkSpec, Probability};
    use crate::sim::rng::stream;

    fn net(spec: NetworkSpec) -> Network {
        Network::new(&spec, 3, stream(1, "network"))
    }

    #[test]
    fn a_cut_link_delivers_nothing_and_heal_restores_it() {
        let mut n = net(NetworkSpec::default());
        assert!(matches!(n.send(0, 1, 0), Fate::Arrives { .. }));
        n.cut(&[(0, 1)], 100);
        assert!(n.is_cut(0, 1) && !n.is_cut(1, 0));
        for t in 100..200 {
            assert_eq!(n.send(0, 1, t), Fate::Dropped(DropReason::Partition));
        }
        assert!(matches!(n.send(1, 0, 150), Fate::Arrives { .. }), "one-way cut");
        assert_eq!(n.heal(200), [(0, 1)]);
        assert!(matches!(n.send(0, 1, 201), Fate::Arrives { .. }));
    }

    #[test]
    fn cut_reports_new_links_and_heal_links_heals_only_those() {
        let mut n = net(NetworkSpec::default());
        assert_eq!(n.cut(&[(0, 1), (1, 0)], 10), [(0, 1), (1, 0)]);
        assert_eq!(n.cut(&[(0, 1), (0, 2)], 20), [(0, 2)], "(0, 1) was already cut");
        assert_eq!(n.heal_links(&[(0, 2), (2, 1)], 30), [(0, 2)]);
        assert!(n.is_cut(0, 1) && n.is_cut(1, 0) && !n.is_cut(0, 2));
        assert_eq!(n.heal(40), [(0, 1), (1, 0)]);
        assert!(!n.any_cut());
    }

    #[test]
    fn messages_in_flight_across_a_cut_are_lost() {
        let mut n = net(NetworkSpec::default());
        n.cut(&[(0, 1)], 100);
        n.heal(200);
        assert!(n.survives(0, 1, 10, 99), "arrived before the cut");
        assert!(!n.survives(0, 1, 90, 110), "in flight when the cut started");
        assert!(!n.survives(0, 1, 90, 300), "spanned the whole cut");
        assert!(!n.survives(0, 1, 199, 205), "sent during the cut");
        assert!(n.survives(0, 1, 201, 300), "sent after the heal");
        assert!(n.survives(1, 0, 90, 110), "other direction untouched");
    }

    #[test]
    fn loss_and_duplication_follow_their_probabilities() {
        let mut n = net(NetworkSpec {
            loss: Probability(0.25),
            duplicate: Probability(0.1),
            ..NetworkSpec::default()
        });
        let (mut lost, mut dups) = (0, 0);
        for t in 0..20_000 {
            match n.send(0, 2, t) {
                Fate::Dropped(DropReason::Loss) => lost += 1,
                Fate::Arrives {
                    copy_at_ns: Some(_), ..
                } => dups += 1,
                Fate::Arrives { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!((4_500..5_500).contains(&lost), "lost {lost} of 20000 at p=0.25");
        assert!((1_300..1_700).contains(&dups), "duplicated {dups} of 15000 at p=0.1");
    }

    #[test]
    fn link_overrides_apply_to_their_direction_only() {
        let mut n = net(NetworkSpec {
            latency: Latency::Constant(Dur::from_millis(1)),
            links: vec![LinkSpec {
                from: vec![0],
                to: vec![1, 2],
                latency: Some(Latency::Constant(Dur::from_millis(50))),
                tail: None,
                loss: None,
                duplicate: None,
            }],
            ..NetworkSpec::default()
        });
        let arrival = |n: &mut Network, f, t| match n.send(f, t, 0) {
            Fate::Arrives { at_ns, .. } => at_ns,
            other => panic!("{other:?}"),
        };
        assert_eq!(arrival(&mut n, 0, 2), 50_000_000);
        assert_eq!(arrival(&mut n, 2, 0), 1_000_000);
    }
}
