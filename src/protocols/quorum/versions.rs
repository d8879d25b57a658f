//! What a replica holds for a key, and how two copies compare: one value
//! with a Lamport version (last write wins), or the siblings that version
//! vectors keep when writes were concurrent.
//!
//! Both kinds answer the same three questions, which is all the
//! coordinator and the replicas ask: does this copy already cover that
//! one ([`Held::covers`], so nothing needs sending), what is the two
//! merged ([`Held::merged`]), and what summary goes into an anti-entropy
//! digest ([`Tag`]). A store runs one kind only (`versions` in the config).

use crate::core::Value;
use crate::workload::kv::Output;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// Orders the writes of one key: the newer version wins. `boot` keeps two
/// lives of one node apart (a restarted coordinator's Lamport clock may
/// repeat a stamp it used before it crashed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Version {
    /// Lamport timestamp (or, with `WallClockLww`, wall-clock nanoseconds).
    pub stamp: i64,
    /// The coordinator that stamped it.
    pub node: u32,
    /// The coordinator's life, counted from 1.
    pub boot: u32,
}

/// A value with its version, as last-write-wins replicas keep it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Stored {
    /// Its version.
    pub version: Version,
    /// The value.
    pub value: String,
}

/// A version vector: how many writes each coordinator life made that
/// this one has seen (its own included). Entries are sorted by actor,
/// counts above 0. An actor is a (node, boot) pair, so a restarted
/// coordinator never reuses a count it handed out before its crash.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Clock(Vec<((u32, u32), u64)>);

impl Clock {
    /// Whether every write this clock has seen, `other` has seen too
    /// (equal, or `other` descends from it).
    pub fn leq(&self, other: &Clock) -> bool {
        self.0.iter().all(|(actor, n)| other.count(*actor) >= *n)
    }

    /// The writes `actor` made that this clock has seen.
    pub fn count(&self, actor: (u32, u32)) -> u64 {
        match self.0.binary_search_by_key(&actor, |e| e.0) {
            Ok(i) => self.0[i].1,
            Err(_) => 0,
        }
    }

    /// The least clock above both.
    pub fn join(&self, other: &Clock) -> Clock {
        let mut entries = self.0.clone();
        for &(actor, n) in &other.0 {
            match entries.binary_search_by_key(&actor, |e| e.0) {
                Ok(i) => entries[i].1 = entries[i].1.max(n),
                Err(i) => entries.insert(i, (actor, n)),
            }
        }
        Clock(entries)
    }

    /// This clock with `actor`'s count set to `count`, which must exceed
    /// the one it has: the clock of a new write by `actor`.
    pub fn advanced(&self, actor: (u32, u32), count: u64) -> Clock {
        assert!(count > self.count(actor), "a write's count is new to its actor");
        let mut entries = self.0.clone();
        match entries.binary_search_by_key(&actor, |e| e.0) {
            Ok(i) => entries[i].1 = count,
            Err(i) => entries.insert(i, (actor, count)),
        }
        Clock(entries)
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let entries: Vec<String> = self.0.iter().map(|((n, b), c)| format!("n{n}.{b}:{c}")).collect();
        write!(f, "{{{}}}", entries.join(","))
    }
}

/// One of a key's values under version vectors, with the clock of the
/// write that made it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Sibling {
    /// The write's clock: unique to it (its actor's count is new).
    pub clock: Clock,
    /// The value.
    pub value: String,
}

impl fmt::Debug for Sibling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{:?}", self.value, self.clock)
    }
}

/// A replica's copy of a key. Serialised (data files) and printed
/// (traces) as its contents alone, so last-write-wins stores look as they
/// did before version vectors existed.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Held {
    /// Last write wins: the newest version seen.
    Lww(Stored),
    /// Version vectors: every value no other one's clock descends from,
    /// sorted by clock; never empty.
    Siblings(Vec<Sibling>),
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Held::Lww(s) => s.fmt(f),
            Held::Siblings(s) => f.debug_list().entries(s).finish(),
        }
    }
}

impl Held {
    /// A new write's copy under version vectors.
    pub fn sibling(clock: Clock, value: String) -> Held {
        Held::Siblings(vec![Sibling { clock, value }])
    }

    /// What a digest says of this copy.
    pub fn tag(&self) -> Tag {
        match self {
            Held::Lww(s) => Tag::Version(s.version),
            Held::Siblings(s) => Tag::Clocks(s.iter().map(|s| s.clock.clone()).collect()),
        }
    }

    /// Whether merging `other` into this copy would add nothing.
    pub fn covers(&self, other: &Held) -> bool {
        self.tag().covers(&other.tag())
    }

    /// The two copies as one. Last write wins: the newer (`other` when
    /// tied, as a maximum taken in order would). Version vectors: the
    /// siblings of both that no other one descends from.
    pub fn merged(&self, other: &Held) -> Held {
        match (self, other) {
            (Held::Lww(a), Held::Lww(b)) => Held::Lww(if b.version >= a.version { b } else { a }.clone()),
            (Held::Siblings(a), Held::Siblings(b)) => {
                let mut all: Vec<Sibling> = a.iter().chain(b).cloned().collect();
                all.sort();
                all.dedup_by(|x, y| x.clock == y.clock);
                let superseded = |s: &Sibling| all.iter().any(|o| o.clock != s.clock && s.clock.leq(&o.clock));
                let kept: Vec<Sibling> = all.iter().filter(|s| !superseded(s)).cloned().collect();
                debug_assert!(!kept.is_empty(), "some sibling is maximal");
                Held::Siblings(kept)
            }
            _ => panic!("a store keeps one kind of version: {self:?} and {other:?}"),
        }
    }

    /// Every copy merged in order (the newest under last write wins, the
    /// later of ties); None if there is none.
    pub fn merge_all<'a>(copies: impl IntoIterator<Item = &'a Held>) -> Option<Held> {
        let merge = |acc: Option<Held>, c: &Held| Some(acc.map_or_else(|| c.clone(), |a| a.merged(c)));
        copies.into_iter().fold(None, merge)
    }

    /// The Lamport stamp a last-write-wins copy carries (0 for siblings,
    /// which need no Lamport clock).
    pub fn stamp(&self) -> i64 {
        match self {
            Held::Lww(s) => s.version.stamp,
            Held::Siblings(_) => 0,
        }
    }

    /// The copy's values, sorted.
    pub fn values(&self) -> Vec<&str> {
        let mut values: Vec<&str> = match self {
            Held::Lww(s) => vec![s.value.as_str()],
            Held::Siblings(s) => s.iter().map(|s| s.value.as_str()).collect(),
        };
        values.sort_unstable();
        values
    }

    /// The copy as observers see it: the value, or the sorted list of
    /// siblings' values.
    pub fn value(&self) -> Value {
        match self.values().as_slice() {
            [one] => Value::from(*one),
            many => Value::List(many.iter().map(|v| Value::from(*v)).collect()),
        }
    }

    /// What a read of this copy answers.
    pub fn output(&self) -> Output {
        let values = self.values();
        match values.as_slice() {
            [one] => Output::Value(Some(Arc::from(*one))),
            many => Output::Siblings(many.iter().map(|v| Arc::from(*v)).collect()),
        }
    }
}

/// What a digest or a handoff acknowledgement says of a copy: its version,
/// or its siblings' clocks.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Tag {
    /// A last-write-wins copy's version.
    Version(Version),
    /// The clocks of a copy's siblings.
    Clocks(Vec<Clock>),
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Version(v) => v.fmt(f),
            Tag::Clocks(c) => f.debug_list().entries(c).finish(),
        }
    }
}

impl Tag {
    /// Whether the copy this tag describes holds everything `other`'s
    /// does: a version at least as new, or a sibling at or above each of
    /// `other`'s.
    pub fn covers(&self, other: &Tag) -> bool {
        match (self, other) {
            (Tag::Version(a), Tag::Version(b)) => a >= b,
            (Tag::Clocks(a), Tag::Clocks(b)) => b.iter().all(|c| a.iter().any(|m| c.leq(m))),
            _ => panic!("a store keeps one kind of version: {self:?} and {other:?}"),
        }
    }

    /// The least clock above every sibling's: the context a new write
    /// descends from. None for a version.
    pub fn context(&self) -> Option<Clock> {
        match self {
            Tag::Version(_) => None,
            Tag::Clocks(c) => Some(c.iter().fold(Clock::default(), |acc, c| acc.join(c))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock(entries: &[(u32, u64)]) -> Clock {
        entries
            .iter()
            .fold(Clock::default(), |c, &(node, n)| c.advanced((node, 1), n))
    }

    fn sib(entries: &[(u32, u64)], value: &str) -> Held {
        Held::sibling(clock(entries), value.to_string())
    }

    #[test]
    fn concurrent_writes_stay_siblings_and_a_descendant_replaces_both() {
        let (a, b) = (sib(&[(0, 1)], "a"), sib(&[(1, 1)], "b"));
        let both = a.merged(&b);
        assert_eq!(both.values(), ["a", "b"]);
        assert_eq!(both.output(), Output::Siblings(vec!["a".into(), "b".into()]));
        assert!(both.covers(&a) && both.covers(&b) && !a.covers(&both));
        let c = sib(&[(0, 1), (1, 1), (2, 1)], "c");
        assert_eq!(both.merged(&c), c, "c's clock descends from both");
        assert_eq!(c.merged(&both), c, "merging is symmetric");
        assert_eq!(both.merged(&both), both);
    }

    #[test]
    fn a_write_that_saw_only_one_sibling_replaces_only_that_one() {
        let both = sib(&[(0, 1)], "a").merged(&sib(&[(1, 1)], "b"));
        let d = sib(&[(0, 2)], "d");
        assert_eq!(both.merged(&d).values(), ["b", "d"]);
    }

    #[test]
    fn last_write_wins_keeps_the_newer_version_and_the_later_of_ties() {
        let at = |stamp, value: &str| {
            Held::Lww(Stored {
                version: Version {
                    stamp,
                    node: 0,
                    boot: 1,
                },
                value: value.into(),
            })
        };
        assert_eq!(at(1, "x").merged(&at(2, "y")).values(), ["y"]);
        assert_eq!(at(2, "y").merged(&at(1, "x")).values(), ["y"]);
        assert_eq!(at(2, "y").merged(&at(2, "z")).values(), ["z"]);
        assert!(at(2, "y").covers(&at(1, "x")) && !at(1, "x").covers(&at(2, "y")));
    }

    #[test]
    fn a_last_write_wins_copy_prints_and_serialises_as_before() {
        let s = Stored {
            version: Version {
                stamp: 3,
                node: 1,
                boot: 1,
            },
            value: "v".into(),
        };
        assert_eq!(format!("{:?}", Held::Lww(s.clone())), format!("{s:?}"));
        let line = serde_json::to_string(&Held::Lww(s.clone())).unwrap();
        assert_eq!(line, serde_json::to_string(&s).unwrap());
        assert_eq!(serde_json::from_str::<Held>(&line).unwrap(), Held::Lww(s));
        let siblings = sib(&[(0, 1)], "a").merged(&sib(&[(1, 1)], "b"));
        let line = serde_json::to_string(&siblings).unwrap();
        assert_eq!(serde_json::from_str::<Held>(&line).unwrap(), siblings);
    }

    #[test]
    fn clocks_compare_entry_by_entry() {
        let (a, b) = (clock(&[(0, 2)]), clock(&[(0, 1), (1, 1)]));
        assert!(!a.leq(&b) && !b.leq(&a));
        let j = a.join(&b);
        assert!(a.leq(&j) && b.leq(&j) && j.count((0, 1)) == 2);
        assert_eq!(format!("{j:?}"), "{n0.1:2,n1.1:1}");
    }
}
