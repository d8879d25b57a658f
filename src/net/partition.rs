//! The partition rule: which directed links are cut, and were cut when.

use super::{DropReason, Packet, Rule, Verdict};

/// Directed links and the intervals over which each was cut.
pub struct Partitions {
    nodes: usize,
    /// Per directed link `from * nodes + to`: the intervals [start, end)
    /// during which it was cut, in time order; an open one ends at u64::MAX.
    cuts: Vec<Vec<(u64, u64)>>,
}

impl Partitions {
    /// No link cut among `nodes` nodes.
    pub fn new(nodes: u32) -> Self {
        let nodes = nodes as usize;
        Partitions {
            nodes,
            cuts: vec![Vec::new(); nodes * nodes],
        }
    }

    fn index(&self, from: u32, to: u32) -> usize {
        debug_assert!((from as usize) < self.nodes && (to as usize) < self.nodes);
        from as usize * self.nodes + to as usize
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

    /// Whether the directed link is cut now.
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
                debug_assert!(last.0 <= now_ns, "a cut heals after it began");
                last.1 = now_ns;
                healed.push(((i / self.nodes) as u32, (i % self.nodes) as u32));
            }
        }
        healed
    }

    /// Whether any link is cut now.
    pub fn any_cut(&self) -> bool {
        (0..self.cuts.len()).any(|i| self.is_cut_index(i))
    }
}

impl Rule for Partitions {
    fn on_send(&mut self, p: &Packet) -> Verdict {
        if self.is_cut(p.from, p.to) {
            Verdict::Drop(DropReason::Partition)
        } else {
            Verdict::Pass
        }
    }

    fn on_arrive(&self, p: &Packet, arrive_ns: u64) -> Option<DropReason> {
        (!self.survives(p.from, p.to, p.sent_ns, arrive_ns)).then_some(DropReason::Partition)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_link_delivers_nothing_and_heal_restores_it() {
        let mut n = Partitions::new(3);
        let p = |from, to, sent_ns| Packet { from, to, sent_ns };
        assert_eq!(n.on_send(&p(0, 1, 0)), Verdict::Pass);
        n.cut(&[(0, 1)], 100);
        assert!(n.is_cut(0, 1) && !n.is_cut(1, 0));
        for t in 100..200 {
            assert_eq!(n.on_send(&p(0, 1, t)), Verdict::Drop(DropReason::Partition));
        }
        assert_eq!(n.on_send(&p(1, 0, 150)), Verdict::Pass, "one-way cut");
        assert_eq!(n.heal(200), [(0, 1)]);
        assert_eq!(n.on_send(&p(0, 1, 201)), Verdict::Pass);
    }

    #[test]
    fn cut_reports_new_links_and_heal_links_heals_only_those() {
        let mut n = Partitions::new(3);
        assert_eq!(n.cut(&[(0, 1), (1, 0)], 10), [(0, 1), (1, 0)]);
        assert_eq!(n.cut(&[(0, 1), (0, 2)], 20), [(0, 2)], "(0, 1) was already cut");
        assert_eq!(n.heal_links(&[(0, 2), (2, 1)], 30), [(0, 2)]);
        assert!(n.is_cut(0, 1) && n.is_cut(1, 0) && !n.is_cut(0, 2));
        assert_eq!(n.heal(40), [(0, 1), (1, 0)]);
        assert!(!n.any_cut());
    }

    #[test]
    fn messages_in_flight_across_a_cut_are_lost() {
        let mut n = Partitions::new(3);
        n.cut(&[(0, 1)], 100);
        n.heal(200);
        assert!(n.survives(0, 1, 10, 99), "arrived before the cut");
        assert!(!n.survives(0, 1, 90, 110), "in flight when the cut started");
        assert!(!n.survives(0, 1, 90, 300), "spanned the whole cut");
        assert!(!n.survives(0, 1, 199, 205), "sent during the cut");
        assert!(n.survives(0, 1, 201, 300), "sent after the heal");
        assert!(n.survives(1, 0, 90, 110), "other direction untouched");
    }
}
