//! Partition shapes as sets of directed links to cut.

use crate::env::rng::SimRng;
use rand::seq::SliceRandom;

type Links = Vec<(u32, u32)>;

/// `side` against everyone else.
pub fn isolate(n: u32, side: &[u32]) -> Vec<Vec<u32>> {
    let rest = (0..n).filter(|i| !side.contains(i)).collect();
    vec![side.to_vec(), rest]
}

/// A random majority (n/2 + 1) and the minority left over.
pub fn majority(n: u32, rng: &mut SimRng) -> Vec<Vec<u32>> {
    let mut order: Vec<u32> = (0..n).collect();
    order.shuffle(rng);
    let minority = order.split_off((n / 2 + 1) as usize);
    vec![order, minority]
}

/// The given groups, plus one group of the nodes none of them names.
pub fn complete_groups(n: u32, groups: &[Vec<u32>]) -> Vec<Vec<u32>> {
    let mut all = groups.to_vec();
    let rest: Vec<u32> = (0..n).filter(|i| !groups.iter().any(|g| g.contains(i))).collect();
    if !rest.is_empty() {
        all.push(rest);
    }
    all
}

/// Both directions between every two nodes in different groups.
pub fn between_groups(groups: &[Vec<u32>]) -> Links {
    let mut links = Vec::new();
    for (gi, a) in groups.iter().enumerate() {
        for b in groups.iter().skip(gi + 1) {
            for &x in a {
                for &y in b {
                    links.extend([(x, y), (y, x)]);
                }
            }
        }
    }
    links
}

/// From every node of `from` to every other node of `to`.
pub fn one_way(from: &[u32], to: &[u32]) -> Links {
    from.iter()
        .flat_map(|&f| to.iter().filter(move |&&t| t != f).map(move |&t| (f, t)))
        .collect()
}

/// Two halves that cannot talk, and one bridge node that talks to both.
pub fn bridge(n: u32, rng: &mut SimRng) -> Links {
    let mut order: Vec<u32> = (0..n).collect();
    order.shuffle(rng);
    let rest = &order[1..];
    let (a, b) = rest.split_at(rest.len() / 2);
    between_groups(&[a.to_vec(), b.to_vec()])
}

/// Nodes on a random ring; each keeps the links to nodes within ring
/// distance r, where 2r+1 is the smallest odd number reaching a majority.
/// Every node sees a majority, no two see the same one.
pub fn ring(n: u32, rng: &mut SimRng) -> Links {
    let mut order: Vec<u32> = (0..n).collect();
    order.shuffle(rng);
    let majority = n / 2 + 1;
    let reach = majority / 2;
    let mut links = Vec::new();
    for i in 0..n {
        for j in 0..n {
            let d = i.abs_diff(j);
            if d.min(n - d) > reach {
                links.push((order[i as usize], order[j as usize]));
            }
        }
    }
    links
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::rng::stream;
    use std::collections::BTreeSet;

    /// Who each node can still hear from, itself included.
    fn views(n: u32, links: &Links) -> Vec<BTreeSet<u32>> {
        let cut: BTreeSet<_> = links.iter().copied().collect();
        (0..n)
            .map(|i| (0..n).filter(|&j| !cut.contains(&(j, i))).collect())
            .collect()
    }

    #[test]
    fn isolate_cuts_one_node_off_both_ways() {
        let links = between_groups(&isolate(4, &[2]));
        assert_eq!(links.len(), 6);
        let v = views(4, &links);
        assert_eq!(v[2], BTreeSet::from([2]));
        assert_eq!(v[0], BTreeSet::from([0, 1, 3]));
    }

    #[test]
    fn majority_split_sizes() {
        let groups = majority(5, &mut stream(1, "nemesis"));
        assert_eq!((groups[0].len(), groups[1].len()), (3, 2));
        assert_eq!(between_groups(&groups).len(), 2 * 3 * 2);
    }

    #[test]
    fn bridge_node_sees_everyone_and_halves_do_not_meet() {
        for n in 3..8 {
            let v = views(n, &bridge(n, &mut stream(u64::from(n), "nemesis")));
            let full: Vec<_> = v.iter().filter(|s| s.len() as u32 == n).collect();
            assert_eq!(full.len(), 1, "exactly one bridge for n={n}");
            assert!(v
                .iter()
                .filter(|s| (s.len() as u32) < n)
                .all(|s| s.len() as u32 <= n / 2 + 1));
        }
    }

    #[test]
    fn ring_gives_every_node_a_different_majority() {
        for n in 4..10 {
            let v = views(n, &ring(n, &mut stream(u64::from(n), "nemesis")));
            for s in &v {
                assert!(s.len() as u32 > n / 2, "n={n}: a node sees only {s:?}");
                assert!((s.len() as u32) < n, "n={n}: some link must be cut for every node");
            }
            let distinct: BTreeSet<_> = v.iter().collect();
            assert_eq!(distinct.len(), n as usize, "n={n}: views must differ");
        }
    }

    #[test]
    fn groups_get_a_leftover_group_and_one_way_skips_self() {
        assert_eq!(
            complete_groups(5, &[vec![0, 1], vec![3]]),
            vec![vec![0, 1], vec![3], vec![2, 4]]
        );
        assert_eq!(one_way(&[0], &[0, 1, 2]), vec![(0, 1), (0, 2)]);
    }
}
