//! The simulated network between nodes: every message passes a chain of
//! per-packet rules (as turmoil's `Rule::on_packet`), each with its own
//! random streams (one per directed link for the built-in ones, see
//! `rules.rs`): partition, loss, latency with a tail, duplication, then
//! any rule a family adds. A new kind of network fault (corruption, delay
//! spikes, omission) is one more [`Rule`].
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
//! duplication or partitions. Faults are between servers. Each client's
//! link draws from its own stream (`net/client/<c>`).

mod latency;
mod partition;
mod rules;

pub use latency::sample_ns;
pub use partition::Partitions;
pub use rules::{Duplication, LinkLatency, Loss};

use crate::env::rng::{stream, SimRng};
use crate::scenario::{Latency, NetworkSpec};

/// A message on its way between two nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// Sender.
    pub from: u32,
    /// Receiver.
    pub to: u32,
    /// When it was sent (global time).
    pub sent_ns: u64,
}

/// What one rule says about a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing: the next rule decides.
    Pass,
    /// The packet is lost.
    Drop(DropReason),
    /// The packet takes this much longer.
    Delay(u64),
    /// The network makes a copy of the packet, which arrives this long
    /// after it was sent.
    Duplicate(u64),
}

/// Why a message was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Lost to the link's loss probability.
    Loss,
    /// The link was cut at some point while the message was in flight.
    Partition,
    /// The receiver was down (crashed) when the message arrived.
    Down,
    /// A rule of a family's own, by name.
    Rule(&'static str),
}

impl DropReason {
    /// As the trace writes it (`drop ... reason=loss`).
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Loss => "loss",
            DropReason::Partition => "partition",
            DropReason::Down => "down",
            DropReason::Rule(name) => name,
        }
    }

    /// The name this drop is counted under as a fault, if it is one: its
    /// reason (a partition's and a crash's drops are counted as the
    /// partition and the crash).
    pub fn fault(self) -> Option<&'static str> {
        match self {
            DropReason::Loss => Some("loss"),
            DropReason::Rule(name) => Some(name),
            DropReason::Partition | DropReason::Down => None,
        }
    }
}

/// A per-packet rule. Rules see packets in chain order; the first `Drop`
/// ends the chain.
pub trait Rule: Send {
    /// Decides about a packet as it is sent.
    fn on_send(&mut self, packet: &Packet) -> Verdict;

    /// Decides about a packet as it arrives at `arrive_ns`: `Some` drops it.
    fn on_arrive(&self, _packet: &Packet, _arrive_ns: u64) -> Option<DropReason> {
        None
    }
}

/// What the network does with one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// Lost at once.
    Dropped(DropReason),
    /// Arrival time, and the arrival times of copies the network made.
    Arrives {
        /// When the message arrives.
        at_ns: u64,
        /// When each copy arrives.
        copies_ns: Vec<u64>,
    },
}

/// The mesh between nodes, and the clients' links.
pub struct Network {
    partitions: Partitions,
    rules: Vec<Box<dyn Rule>>,
    client_latency: Latency,
    client_rngs: Vec<SimRng>,
    seed: u64,
}

impl Network {
    /// The network a scenario describes, drawing from `seed`'s streams
    /// (`net/<rule>/<from>-><to>`, `net/client/<c>`).
    pub fn new(spec: &NetworkSpec, nodes: u32, seed: u64) -> Self {
        let rules: Vec<Box<dyn Rule>> = vec![
            Box::new(Loss::new(spec, nodes, seed)),
            Box::new(LinkLatency::new(spec, nodes, seed)),
            Box::new(Duplication::new(spec, nodes, seed)),
        ];
        Network {
            partitions: Partitions::new(nodes),
            rules,
            client_latency: spec.latency.clone(),
            client_rngs: Vec::new(),
            seed,
        }
    }

    /// Adds a rule at the end of the chain.
    pub fn push_rule(&mut self, rule: Box<dyn Rule>) {
        self.rules.push(rule);
    }

    /// Decides the fate of a message sent now from `from` to `to`.
    pub fn send(&mut self, from: u32, to: u32, now_ns: u64) -> Fate {
        let packet = Packet {
            from,
            to,
            sent_ns: now_ns,
        };
        if let Verdict::Drop(reason) = self.partitions.on_send(&packet) {
            return Fate::Dropped(reason);
        }
        let (mut delay_ns, mut copies_ns) = (0u64, Vec::new());
        for rule in &mut self.rules {
            match rule.on_send(&packet) {
                Verdict::Pass => {}
                Verdict::Drop(reason) => return Fate::Dropped(reason),
                Verdict::Delay(ns) => delay_ns = delay_ns.saturating_add(ns),
                Verdict::Duplicate(after_ns) => copies_ns.push(now_ns.saturating_add(after_ns)),
            }
        }
        Fate::Arrives {
            at_ns: now_ns.saturating_add(delay_ns),
            copies_ns,
        }
    }

    /// Whether a message sent at `sent_ns` that arrives now is delivered.
    pub fn on_arrive(&self, from: u32, to: u32, sent_ns: u64, arrive_ns: u64) -> Option<DropReason> {
        let packet = Packet { from, to, sent_ns };
        let rules = std::iter::once(&self.partitions as &dyn Rule).chain(self.rules.iter().map(|r| &**r));
        rules.into_iter().find_map(|r| r.on_arrive(&packet, arrive_ns))
    }

    /// Latency of client `c`'s link (see the module comment).
    pub fn client_delay_ns(&mut self, c: u32) -> u64 {
        let c = c as usize;
        while self.client_rngs.len() <= c {
            let next = self.client_rngs.len();
            self.client_rngs.push(stream(self.seed, &format!("net/client/{next}")));
        }
        sample_ns(&self.client_latency, &mut self.client_rngs[c])
    }

    /// The partition rule, which the nemesis cuts and heals links through.
    pub fn partitions(&mut self) -> &mut Partitions {
        &mut self.partitions
    }

    /// Whether the directed link is cut now.
    pub fn is_cut(&self, from: u32, to: u32) -> bool {
        self.partitions.is_cut(from, to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Dur, LinkSpec, Probability};

    fn net(spec: NetworkSpec) -> Network {
        Network::new(&spec, 3, 1)
    }

    impl Network {
        fn send_many(&mut self, from: u32, to: u32, count: u64) -> Vec<Fate> {
            (0..count).map(|t| self.send(from, to, t)).collect()
        }
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
                Fate::Arrives { copies_ns, .. } => dups += copies_ns.len(),
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

    /// Drops every packet to node 2: a rule of a family's own.
    struct Blackhole;

    impl Rule for Blackhole {
        fn on_send(&mut self, p: &Packet) -> Verdict {
            if p.to == 2 {
                Verdict::Drop(DropReason::Rule("blackhole"))
            } else {
                Verdict::Pass
            }
        }
    }

    #[test]
    fn a_rule_added_to_the_chain_sees_every_packet_and_counts_as_its_fault() {
        let mut n = net(NetworkSpec::default());
        n.push_rule(Box::new(Blackhole));
        assert_eq!(n.send(0, 2, 5), Fate::Dropped(DropReason::Rule("blackhole")));
        assert!(matches!(n.send(0, 1, 5), Fate::Arrives { .. }));
        assert_eq!(DropReason::Rule("blackhole").fault(), Some("blackhole"));
        assert_eq!(DropReason::Partition.fault(), None);
    }

    #[test]
    fn a_link_draws_the_same_whatever_other_links_carry() {
        let spec = NetworkSpec {
            latency: Latency::Uniform(Dur::from_millis(1), Dur::from_millis(100)),
            loss: Probability(0.3),
            duplicate: Probability(0.3),
            ..NetworkSpec::default()
        };
        let on_link_0_1 = |busy: bool| {
            let mut n = Network::new(&spec, 3, 9);
            let mut fates = Vec::new();
            for t in 0..200 {
                if busy {
                    n.send(1, 2, t);
                    n.send(2, 0, t);
                    n.client_delay_ns(0);
                }
                fates.push(n.send(0, 1, t));
            }
            fates
        };
        let quiet = on_link_0_1(false);
        assert_eq!(quiet, on_link_0_1(true));
        assert_ne!(quiet, Network::new(&spec, 3, 10).send_many(0, 1, 200));
    }

    #[test]
    fn a_client_link_draws_the_same_whatever_other_clients_do() {
        let spec = NetworkSpec {
            latency: Latency::Uniform(Dur::from_millis(1), Dur::from_millis(100)),
            ..NetworkSpec::default()
        };
        let mut quiet = Network::new(&spec, 3, 4);
        let mut busy = Network::new(&spec, 3, 4);
        for _ in 0..50 {
            busy.client_delay_ns(0);
            busy.send(0, 1, 0);
            assert_eq!(quiet.client_delay_ns(1), busy.client_delay_ns(1));
        }
        assert_ne!(quiet.client_delay_ns(0), quiet.client_delay_ns(1));
    }

    #[test]
    fn a_cut_drops_at_send_and_in_flight() {
        let mut n = net(NetworkSpec::default());
        n.partitions().cut(&[(0, 1)], 100);
        assert_eq!(n.send(0, 1, 150), Fate::Dropped(DropReason::Partition));
        assert_eq!(n.on_arrive(0, 1, 90, 110), Some(DropReason::Partition));
        assert_eq!(n.on_arrive(1, 0, 90, 110), None);
    }
}
