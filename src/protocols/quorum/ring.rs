//! Consistent hashing: where each key lives.
//!
//! Every node owns `VNODES` points on a ring of 64-bit hashes (FNV, so the
//! same on every machine). A key's preference list walks the ring
//! clockwise from the key's hash and lists each node the first time it
//! meets one of its points: the first `n` are the key's home replicas,
//! the rest are fallbacks in the order a sloppy quorum would use them.

use crate::core::NodeId;
use crate::fnv;

/// Points per node: enough that three nodes of five share keys fairly.
const VNODES: u32 = 16;

/// The ring of a cluster of a given size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ring {
    /// (point, owner), sorted by point.
    points: Vec<(u64, NodeId)>,
    nodes: u32,
}

impl Ring {
    /// The ring of nodes `0..nodes`.
    pub fn new(nodes: u32) -> Ring {
        assert!(nodes > 0, "a ring needs a node");
        let mut points: Vec<(u64, NodeId)> = (0..nodes)
            .flat_map(|n| (0..VNODES).map(move |v| (fnv::hash(format!("n{n}#{v}").as_bytes()), NodeId(n))))
            .collect();
        points.sort_unstable();
        Ring { points, nodes }
    }

    /// Every node, in the order `key` prefers them.
    pub fn preference(&self, key: &str) -> Vec<NodeId> {
        let at = fnv::hash(key.as_bytes());
        let start = self.points.partition_point(|&(p, _)| p < at);
        let mut list = Vec::with_capacity(self.nodes as usize);
        let walk = self.points[start..].iter().chain(&self.points[..start]);
        for &(_, node) in walk {
            if !list.contains(&node) {
                list.push(node);
                if list.len() == self.nodes as usize {
                    break;
                }
            }
        }
        debug_assert_eq!(list.len(), self.nodes as usize, "every node owns points");
        list
    }

    /// The `n` home replicas of `key`.
    pub fn home(&self, key: &str, n: u32) -> Vec<NodeId> {
        let mut list = self.preference(key);
        list.truncate(n as usize);
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn a_preference_list_names_every_node_once_and_is_stable() {
        let ring = Ring::new(5);
        let list = ring.preference("k3");
        let mut sorted = list.clone();
        sorted.sort();
        assert_eq!(sorted, (0..5).map(NodeId).collect::<Vec<_>>());
        assert_eq!(Ring::new(5).preference("k3"), list, "deterministic");
        assert_eq!(ring.home("k3", 3), list[..3]);
    }

    #[test]
    fn keys_spread_over_the_nodes() {
        let ring = Ring::new(5);
        let mut first: BTreeMap<NodeId, u32> = BTreeMap::new();
        for k in 0..1000 {
            *first.entry(ring.preference(&format!("k{k}"))[0]).or_default() += 1;
        }
        assert_eq!(first.len(), 5, "{first:?}");
        assert!(
            first.values().all(|&c| c > 80),
            "no node owns almost nothing: {first:?}"
        );
    }
}
