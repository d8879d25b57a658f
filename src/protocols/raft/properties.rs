//! Raft's safety properties (figure 3 of the paper), checked while the run
//! goes on by watching every node's state after every step, plus the
//! liveness fact that a leader is elected after the heal.
//!
//! The observer keeps its own hash chain over each node's log (entry
//! hashes folded from index 1), so comparing two prefixes is comparing two
//! numbers and each entry is hashed once per version of a log. It trusts
//! the node only for which entries it holds and what it says its term,
//! role, commit and applied indices are.
//!
//! - Election Safety: the first node seen leading a term owns it.
//! - Log Matching: an (index, term) pair always comes with the same chain.
//! - Leader Completeness: when a node is first seen leading term T, its
//!   log holds every entry committed in a term before T. (A candidate of
//!   an old term may win with votes that were slow to arrive, after a
//!   newer leader committed more; those entries it need not hold.)
//! - State Machine Safety: every node applies the same entry at an index.
//! - Votes Once: a node's term never goes back, and its vote in a term,
//!   once cast, never changes nor is forgotten, crashes included (the
//!   durable term and vote are what Election Safety rests on).
//! - Leader Stays In Term: a leader leads until it crashes or learns of a
//!   newer term (this Raft has no leadership transfer nor check-quorum
//!   step-down): a leader giving up its term for nothing stalls writes
//!   until the next election.
//! - Elects Leader (eventually): after the heal, some leader's term is
//!   shared by a majority of the nodes that are up.
//! - Leader Replaced (sometimes): a term was led by another node than the
//!   term before it: a fault deposed a leader.
//! - Serves From Lease (sometimes, lease reads only): a leader answered a
//!   read from its lease, with no heartbeat round. Without it a sweep could
//!   pass a lease scenario whose leases never hold (a lease of length 0 is
//!   safe and slow).

use super::{Entry, Raft, Role, View};
use crate::core::NodeId;
use crate::property::{Findings, Moment, Observer, PropertyDef, When};
use rustc_hash::FxHashMap;
use rustc_hash::FxHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// At most one leader per term.
pub const ELECTION_SAFETY: &str = "ElectionSafety";
/// Two logs with an entry of the same index and term agree up to it.
pub const LOG_MATCHING: &str = "LogMatching";
/// A new leader holds every entry committed before its term.
pub const LEADER_COMPLETENESS: &str = "LeaderCompleteness";
/// No two nodes apply different entries at one index.
pub const STATE_MACHINE_SAFETY: &str = "StateMachineSafety";
/// Terms never go back; a vote cast in a term is never changed or lost.
pub const VOTES_ONCE: &str = "VotesOnce";
/// A leader leads until it crashes or sees a newer term.
pub const LEADER_STAYS_IN_TERM: &str = "LeaderStaysInTerm";
/// After the heal, a leader whose term a majority shares.
pub const ELECTS_LEADER: &str = "ElectsLeader";
/// A leader was succeeded by another node.
pub const LEADER_REPLACED: &str = "LeaderReplaced";
/// A leader answered a read from its lease.
pub const SERVES_FROM_LEASE: &str = "ServesFromLease";

/// What Raft offers scenarios' `checks`.
pub const PROPERTIES: &[PropertyDef] = &[
    PropertyDef {
        name: ELECTION_SAFETY,
        when: When::Always,
        about: "at most one leader per term",
    },
    PropertyDef {
        name: LOG_MATCHING,
        when: When::Always,
        about: "logs with an entry of the same index and term are identical up to it",
    },
    PropertyDef {
        name: LEADER_COMPLETENESS,
        when: When::Always,
        about: "a new leader's log holds every entry committed before its term",
    },
    PropertyDef {
        name: STATE_MACHINE_SAFETY,
        when: When::Always,
        about: "no two nodes apply different commands at one index",
    },
    PropertyDef {
        name: VOTES_ONCE,
        when: When::Always,
        about: "a node's term never goes back, and its vote in a term is never changed nor forgotten",
    },
    PropertyDef {
        name: LEADER_STAYS_IN_TERM,
        when: When::Always,
        about: "a leader leads until it crashes or learns of a newer term",
    },
    PropertyDef {
        name: ELECTS_LEADER,
        when: When::Eventually,
        about: "after the heal, a leader is elected whose term a majority of nodes share",
    },
    PropertyDef {
        name: LEADER_REPLACED,
        when: When::Sometimes,
        about: "a term is led by another node than the term before: a leader was deposed",
    },
    PropertyDef {
        name: SERVES_FROM_LEASE,
        when: When::Sometimes,
        about: "a leader answers a read from its lease, with no heartbeat round (reads: Lease)",
    },
];

/// A violation as [`Invariants::check`] finds it: property, nodes, detail.
pub type Found = (&'static str, Vec<NodeId>, String);

/// What the observer knows of one node's current life.
#[derive(Clone, Debug, Default)]
struct Watch {
    up: bool,
    term: u64,
    role: Role,
    /// Chain hash of the node's log prefix ending at each index (0-based).
    chain: Vec<u64>,
    /// How many of the log's rewrites have been accounted for.
    rewrites_seen: usize,
    applied: u64,
    /// The last term in which this node was checked as a new leader.
    led: Option<u64>,
    /// What the last check saw of the node (see [`Seen`]).
    seen: Option<Seen>,
}

/// The parts of a node's view that its checks read. A step that changes
/// none of them (a follower's heartbeat, most acknowledgements) has
/// nothing new to check at that node: every check compares what changed
/// since the node was last looked at with what others did before, and a
/// conflict with what another node does later is found at that node's
/// step. (A rewrite that keeps the log's length counts as a change.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    term: u64,
    vote: Option<NodeId>,
    role: Role,
    commit: u64,
    applied: u64,
    log_len: usize,
    rewrites: usize,
}

impl Seen {
    fn of(v: &View<'_>) -> Self {
        Seen {
            term: v.term,
            vote: v.vote,
            role: v.role,
            commit: v.commit,
            applied: v.applied,
            log_len: v.log.len(),
            rewrites: v.rewrites.len(),
        }
    }
}

/// An applied entry: its term, hash, and the node that applied it first.
#[derive(Clone, Copy, Debug)]
struct Applied {
    term: u64,
    hash: u64,
    node: NodeId,
}

/// A committed entry: its term, the chain of the prefix it ends, who first
/// reported it committed, and that node's term then (a follower learns
/// commits from its term's leader).
#[derive(Clone, Copy, Debug)]
struct Committed {
    term: u64,
    chain: u64,
    node: NodeId,
    commit_term: u64,
}

/// Raft's observer: judges every Raft property at once, sharing one hash
/// chain per log between them.
pub struct Invariants {
    watch: Vec<Watch>,
    /// Each node's term and vote as last seen: kept across its crashes,
    /// since both must be durable.
    ballots: Vec<(u64, Option<NodeId>)>,
    leaders: BTreeMap<u64, NodeId>,
    /// The chain of every (index, term) seen in any log.
    /// (Looked up for every entry each node appends, never iterated: a
    /// hash map's order cannot reach the run.)
    chains: FxHashMap<(u64, u64), (u64, NodeId)>,
    /// The longest committed prefix seen, index 1 first.
    committed: Vec<Committed>,
    /// What was applied at each index, index 1 first.
    applied: Vec<Applied>,
    /// Each violated property, once.
    violations: Vec<&'static str>,
    leader_after_heal_ns: Option<u64>,
    /// New leaders whose logs were compared with the committed prefix.
    leaders_checked: u64,
    /// Applications of an entry compared with the first at their index.
    applications: u64,
    /// Terms whose leader was another node than the previous term's.
    replaced: u64,
    /// Votes seen cast.
    votes: u64,
    /// Whether a leader answered a read from its lease.
    served_from_lease: bool,
    /// The properties the scenario asked for: only these are reported.
    requested: Vec<&'static str>,
}

fn entry_hash(entry: &Entry) -> u64 {
    let mut h = FxHasher::default();
    entry.hash(&mut h);
    h.finish()
}

fn fold(chain: u64, entry: u64) -> u64 {
    let mut h = FxHasher::default();
    (chain, entry).hash(&mut h);
    h.finish()
}

impl Invariants {
    /// An observer of `nodes` nodes that reports every property.
    pub fn new(nodes: u32) -> Self {
        let watch = Watch {
            up: true,
            ..Watch::default()
        };
        Invariants {
            watch: vec![watch; nodes as usize],
            ballots: vec![(0, None); nodes as usize],
            leaders: BTreeMap::new(),
            chains: FxHashMap::default(),
            committed: Vec::new(),
            applied: Vec::new(),
            violations: Vec::new(),
            leader_after_heal_ns: None,
            served_from_lease: false,
            leaders_checked: 0,
            applications: 0,
            replaced: 0,
            votes: 0,
            requested: PROPERTIES.iter().map(|p| p.name).collect(),
        }
    }

    /// An observer that reports only the `requested` properties.
    pub fn for_properties(nodes: u32, requested: &[&'static str]) -> Self {
        Invariants {
            requested: requested.to_vec(),
            ..Invariants::new(nodes)
        }
    }

    /// Checks node `id` in state `v`; the core of [`Observer::after_step`],
    /// separate so that tests can feed it states no correct node reaches.
    /// Returns the violations found by this step, each property's first.
    pub fn check(&mut self, now_ns: u64, id: NodeId, v: View<'_>, recover_at_ns: Option<u64>) -> Vec<Found> {
        let seen = Some(Seen::of(&v));
        if std::mem::replace(&mut self.watch[id.0 as usize].seen, seen) == seen {
            debug_assert!(self.watch[id.0 as usize].up, "a crash forgets what was seen");
            self.note_leader_after_heal(now_ns, recover_at_ns);
            return Vec::new();
        }
        let mut found = Vec::new();
        self.check_ballot(id, &v, &mut found);
        self.check_leader_stays(id, &v, &mut found);
        let w = &mut self.watch[id.0 as usize];
        w.up = true;
        w.term = v.term;
        w.role = v.role;
        self.follow_log(id, &v, &mut found);
        if v.role == Role::Leader {
            self.check_leader(id, &v, &mut found);
        }
        self.record_commit(id, &v, &mut found);
        self.check_applied(id, &v, &mut found);
        self.note_leader_after_heal(now_ns, recover_at_ns);
        found.retain(|(property, _, _)| {
            let first = !self.violations.contains(property);
            if first {
                self.violations.push(property);
            }
            first
        });
        found
    }

    /// Notes the first moment after the heal at which a majority follows a
    /// leader: on every step, whether the node changed or not, since it
    /// depends on time and on the other nodes.
    fn note_leader_after_heal(&mut self, now_ns: u64, recover_at_ns: Option<u64>) {
        if recover_at_ns.is_some_and(|heal| now_ns >= heal)
            && self.leader_after_heal_ns.is_none()
            && self.led_by_majority()
        {
            self.leader_after_heal_ns = Some(now_ns);
        }
    }

    /// A leader seen before (and not crashed since) that is no longer
    /// leader in the same term gave its term up.
    fn check_leader_stays(&self, id: NodeId, v: &View<'_>, found: &mut Vec<Found>) {
        let w = &self.watch[id.0 as usize];
        if w.up && w.role == Role::Leader && v.role != Role::Leader && v.term == w.term {
            found.push((
                LEADER_STAYS_IN_TERM,
                vec![id],
                format!("{id} stopped leading term {} while still in it", v.term),
            ));
        }
    }

    fn check_ballot(&mut self, id: NodeId, v: &View<'_>, found: &mut Vec<Found>) {
        let (term, vote) = std::mem::replace(&mut self.ballots[id.0 as usize], (v.term, v.vote));
        let name = |vote: Option<NodeId>| vote.map_or("nobody".to_string(), |n| n.to_string());
        if v.vote.is_some() && (v.term, v.vote) != (term, vote) {
            self.votes += 1;
        }
        if v.term < term {
            found.push((
                VOTES_ONCE,
                vec![id],
                format!("{id} went back from term {term} to term {}", v.term),
            ));
        } else if v.term == term && vote.is_some() && v.vote != vote {
            found.push((
                VOTES_ONCE,
                vec![id],
                format!(
                    "{id} voted for {} in term {term}, then for {}",
                    name(vote),
                    name(v.vote)
                ),
            ));
        }
    }

    /// Brings the node's chain up to date with its log, checking each new
    /// entry against every other log's entry of that index and term.
    fn follow_log(&mut self, id: NodeId, v: &View<'_>, found: &mut Vec<Found>) {
        let w = &mut self.watch[id.0 as usize];
        for &from in &v.rewrites[w.rewrites_seen.min(v.rewrites.len())..] {
            w.chain.truncate(from.saturating_sub(1) as usize);
        }
        w.rewrites_seen = v.rewrites.len();
        w.chain.truncate(v.log.len());
        for i in w.chain.len()..v.log.len() {
            let prev = w.chain.last().copied().unwrap_or(0);
            let chain = fold(prev, entry_hash(&v.log[i]));
            w.chain.push(chain);
            let (index, term) = (i as u64 + 1, v.log[i].term);
            match self.chains.get(&(index, term)) {
                Some(&(other, node)) if other != chain => found.push((
                    LOG_MATCHING,
                    vec![id, node],
                    format!("{id} and {node} both hold an entry at index {index} of term {term}, but their logs differ up to it"),
                )),
                Some(_) => {}
                None => {
                    self.chains.insert((index, term), (chain, id));
                }
            }
        }
    }

    fn check_leader(&mut self, id: NodeId, v: &View<'_>, found: &mut Vec<Found>) {
        let term = v.term;
        if self.watch[id.0 as usize].led == Some(term) {
            // Checked when it took the term: each property is reported
            // once, and nothing below changes while it leads it.
            return;
        }
        match self.leaders.get(&term) {
            Some(&other) if other != id => found.push((
                ELECTION_SAFETY,
                vec![other, id],
                format!("{other} and {id} are both leader in term {term}"),
            )),
            Some(_) => {}
            None => {
                let before = self.leaders.range(..term).next_back().map(|(_, n)| *n);
                if before.is_some_and(|n| n != id) {
                    self.replaced += 1;
                }
                self.leaders.insert(term, id);
            }
        }
        let w = &mut self.watch[id.0 as usize];
        w.led = Some(term);
        self.leaders_checked += 1;
        let n = self
            .committed
            .iter()
            .position(|c| c.commit_term >= term)
            .unwrap_or(self.committed.len());
        if n == 0 || w.chain.get(n - 1) == Some(&self.committed[n - 1].chain) {
            return;
        }
        // Name the first committed entry the new leader lacks.
        let missing = (0..n)
            .find(|&i| w.chain.get(i) != Some(&self.committed[i].chain))
            .expect("the chains differ somewhere");
        let c = self.committed[missing];
        let has = match v.log.get(missing) {
            Some(e) => format!("holds an entry of term {} there", e.term),
            None => format!("its log ends at index {}", v.log.len()),
        };
        found.push((
            LEADER_COMPLETENESS,
            vec![id, c.node],
            format!(
                "{id} became leader in term {term} without committed entry {} (term {}, committed by {}): {has}",
                missing + 1,
                c.term,
                c.node
            ),
        ));
    }

    /// Extends the committed prefix with what this node counts committed,
    /// and checks that what it counts committed and was committed before
    /// is the same: a node that holds another entry there will apply it.
    fn record_commit(&mut self, id: NodeId, v: &View<'_>, found: &mut Vec<Found>) {
        let w = &self.watch[id.0 as usize];
        let commit = (v.commit as usize).min(w.chain.len());
        let shared = commit.min(self.committed.len());
        if shared > 0 && w.chain[shared - 1] != self.committed[shared - 1].chain {
            let i = (0..shared)
                .find(|&i| w.chain[i] != self.committed[i].chain)
                .expect("the chains differ somewhere");
            let c = self.committed[i];
            found.push((
                STATE_MACHINE_SAFETY,
                vec![id, c.node],
                format!(
                    "{id} counts index {} committed but holds an entry of term {} there; {} committed one of term {}",
                    i + 1,
                    v.log[i].term,
                    c.node,
                    c.term
                ),
            ));
        }

        for i in self.committed.len()..commit {
            self.committed.push(Committed {
                term: v.log[i].term,
                chain: w.chain[i],
                node: id,
                commit_term: v.term,
            });
        }
    }

    fn check_applied(&mut self, id: NodeId, v: &View<'_>, found: &mut Vec<Found>) {
        let w = &mut self.watch[id.0 as usize];
        let upto = (v.applied as usize).min(v.log.len());
        self.applications += (upto as u64).saturating_sub(w.applied);
        for i in w.applied as usize..upto {
            let entry = &v.log[i];
            let hash = entry_hash(entry);
            match self.applied.get(i) {
                Some(first) if first.hash != hash || first.term != entry.term => found.push((
                    STATE_MACHINE_SAFETY,
                    vec![id, first.node],
                    format!(
                        "{id} applied {:?} (term {}) at index {}, but {} applied a different entry (term {}) there",
                        entry.command,
                        entry.term,
                        i + 1,
                        first.node,
                        first.term
                    ),
                )),
                Some(_) => {}
                None => self.applied.push(Applied {
                    term: entry.term,
                    hash,
                    node: id,
                }),
            }
        }
        w.applied = w.applied.max(upto as u64);
    }

    /// Some up node leads a term that a majority of nodes are in.
    fn led_by_majority(&self) -> bool {
        let majority = self.watch.len() / 2 + 1;
        self.watch.iter().any(|l| {
            l.up && l.role == Role::Leader && self.watch.iter().filter(|w| w.up && w.term == l.term).count() >= majority
        })
    }

    /// What held, per property: the evidence behind a pass.
    fn held(&self) -> Vec<(&'static str, String)> {
        let terms = self.leaders.keys().next_back().copied().unwrap_or(0);
        vec![
            (
                ELECTION_SAFETY,
                format!(
                    "{} terms had a leader (last term {terms}), one each",
                    self.leaders.len()
                ),
            ),
            (
                LOG_MATCHING,
                format!("{} (index, term) pairs, each with one log prefix", self.chains.len()),
            ),
            (
                LEADER_COMPLETENESS,
                format!(
                    "{} new leaders each held every entry committed before their term",
                    self.leaders_checked
                ),
            ),
            (
                STATE_MACHINE_SAFETY,
                format!(
                    "{} applications of {} indices agreed",
                    self.applications,
                    self.applied.len()
                ),
            ),
            (
                VOTES_ONCE,
                format!("{} votes cast, none changed or lost; no term went back", self.votes),
            ),
            (
                LEADER_STAYS_IN_TERM,
                "every leader led until it crashed or saw a newer term".to_string(),
            ),
            (
                ELECTS_LEADER,
                "no leader was followed by a majority after the heal".to_string(),
            ),
            (
                LEADER_REPLACED,
                format!("{} terms, every leader succeeded by itself", self.leaders.len()),
            ),
            (SERVES_FROM_LEASE, "every read waited for a heartbeat round".to_string()),
        ]
    }
}

impl Observer<Raft> for Invariants {
    fn after_step(&mut self, at: &Moment, id: NodeId, node: &Raft, found: &mut Findings) {
        let (replaced, led) = (self.replaced, self.leader_after_heal_ns);
        for (property, nodes, detail) in self.check(at.now_ns, id, node.view(), at.recover_at_ns) {
            if self.requested.contains(&property) {
                found.violated(property, nodes, detail);
            }
        }
        if self.replaced > replaced && self.requested.contains(&LEADER_REPLACED) {
            found.reached(LEADER_REPLACED, format!("{id} took over term {}", node.view().term));
        }
        if led.is_none() && self.leader_after_heal_ns.is_some() && self.requested.contains(&ELECTS_LEADER) {
            found.reached(ELECTS_LEADER, "a majority followed a leader");
        }
        if !self.served_from_lease && node.view().lease_reads > 0 && self.requested.contains(&SERVES_FROM_LEASE) {
            self.served_from_lease = true;
            found.reached(SERVES_FROM_LEASE, format!("{id} answered a read from its lease"));
        }
    }

    fn crashed(&mut self, _at: &Moment, id: NodeId, _found: &mut Findings) {
        self.watch[id.0 as usize] = Watch::default();
    }

    fn finish(self: Box<Self>, _at: &Moment, _states: &[Option<&Raft>], found: &mut Findings) {
        for (property, evidence) in self.held() {
            if self.requested.contains(&property) {
                found.evaluated(property, evidence);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Command;
    use super::*;

    fn noop(term: u64) -> Entry {
        Entry {
            term,
            command: Command::Noop,
        }
    }

    fn view(term: u64, role: Role, commit: u64, log: &[Entry]) -> View<'_> {
        View {
            term,
            vote: None,
            role,
            commit,
            applied: commit,
            log,
            rewrites: &[],
            lease_reads: 0,
        }
    }

    fn names(v: &[Found]) -> Vec<&str> {
        v.iter().map(|v| v.0).collect()
    }

    #[test]
    fn a_correct_history_passes() {
        let mut inv = Invariants::new(3);
        let log = [noop(1), noop(2)];
        assert!(inv
            .check(1, NodeId(0), view(1, Role::Leader, 0, &log[..1]), None)
            .is_empty());
        assert!(inv
            .check(2, NodeId(1), view(1, Role::Follower, 1, &log[..1]), None)
            .is_empty());
        assert!(inv.check(3, NodeId(1), view(2, Role::Leader, 2, &log), None).is_empty());
        assert!(inv
            .check(4, NodeId(0), view(2, Role::Follower, 2, &log), Some(4))
            .is_empty());
        assert_eq!(
            inv.leader_after_heal_ns,
            Some(4),
            "n1 leads term 2, which n0 and n1 share"
        );
        let held = inv.held();
        assert_eq!(held[0].1, "2 terms had a leader (last term 2), one each");
        assert_eq!(
            held[2].1,
            "2 new leaders each held every entry committed before their term"
        );
        assert_eq!(held[3].1, "4 applications of 2 indices agreed");
    }

    #[test]
    fn a_step_that_changes_nothing_checks_nothing_new_but_counts_for_the_heal() {
        let mut inv = Invariants::new(3);
        let log = [noop(1)];
        let leading = view(1, Role::Leader, 1, &log);
        let following = view(1, Role::Follower, 1, &log);
        assert!(inv.check(1, NodeId(0), leading, None).is_empty());
        assert!(inv.check(2, NodeId(1), following, None).is_empty());
        assert_eq!(inv.watch[1].seen, Some(Seen::of(&following)));
        assert!(inv.check(3, NodeId(1), following, Some(3)).is_empty());
        assert_eq!(inv.leader_after_heal_ns, Some(3), "noted on an unchanged step");
        assert_eq!(
            inv.held()[3].1,
            "2 applications of 1 indices agreed",
            "applied once each"
        );
        // A rewrite that keeps the log's length is a change.
        let other = [noop(2)];
        let rewritten = View {
            rewrites: &[1],
            ..view(1, Role::Follower, 1, &other)
        };
        let v = inv.check(4, NodeId(1), rewritten, Some(3));
        assert!(names(&v).contains(&STATE_MACHINE_SAFETY), "{v:?}");
    }

    fn voted(term: u64, vote: u32) -> View<'static> {
        View {
            vote: Some(NodeId(vote)),
            ..view(term, Role::Follower, 0, &[])
        }
    }

    #[test]
    fn a_vote_changed_or_forgotten_in_its_term_breaks_votes_once() {
        let mut inv = Invariants::new(3);
        assert!(inv.check(1, NodeId(0), voted(2, 1), None).is_empty());
        assert!(
            inv.check(2, NodeId(0), voted(3, 2), None).is_empty(),
            "a new term, a new vote"
        );
        let v = inv.check(3, NodeId(0), voted(3, 1), None);
        assert_eq!(names(&v), [VOTES_ONCE]);
        assert_eq!(v[0].2, "n0 voted for n2 in term 3, then for n1");

        let mut inv = Invariants::new(3);
        inv.check(1, NodeId(1), voted(4, 0), None);
        inv.watch[1] = Watch::default(); // crashed: the vote must survive it
        let v = inv.check(2, NodeId(1), view(4, Role::Follower, 0, &[]), None);
        assert_eq!(v[0].2, "n1 voted for n0 in term 4, then for nobody");
        assert_eq!(inv.votes, 1);
    }

    #[test]
    fn a_term_that_goes_back_breaks_votes_once() {
        let mut inv = Invariants::new(2);
        inv.check(1, NodeId(1), view(5, Role::Follower, 0, &[]), None);
        let v = inv.check(2, NodeId(1), view(4, Role::Follower, 0, &[]), None);
        assert_eq!(names(&v), [VOTES_ONCE]);
        assert_eq!(v[0].2, "n1 went back from term 5 to term 4");
    }

    #[test]
    fn a_leader_that_gives_up_its_term_breaks_leader_stays_in_term() {
        let mut inv = Invariants::new(3);
        inv.check(1, NodeId(0), view(2, Role::Leader, 0, &[]), None);
        assert!(
            inv.check(2, NodeId(0), view(3, Role::Follower, 0, &[]), None)
                .is_empty(),
            "a newer term"
        );
        inv.check(3, NodeId(1), view(3, Role::Leader, 0, &[]), None);
        inv.watch[1] = Watch::default(); // crashed and restarted
        assert!(inv
            .check(4, NodeId(1), view(3, Role::Follower, 0, &[]), None)
            .is_empty());
        inv.check(5, NodeId(2), view(4, Role::Leader, 0, &[]), None);
        let v = inv.check(6, NodeId(2), view(4, Role::Candidate, 0, &[]), None);
        assert_eq!(names(&v), [LEADER_STAYS_IN_TERM]);
        assert_eq!(v[0].2, "n2 stopped leading term 4 while still in it");
    }

    #[test]
    fn two_leaders_in_one_term_break_election_safety() {
        let mut inv = Invariants::new(3);
        inv.check(1, NodeId(0), view(3, Role::Leader, 0, &[]), None);
        let v = inv.check(2, NodeId(2), view(3, Role::Leader, 0, &[]), None);
        assert_eq!(names(&v), [ELECTION_SAFETY]);
        assert_eq!(v[0].2, "n0 and n2 are both leader in term 3");
        assert_eq!(v[0].1, [NodeId(0), NodeId(2)]);
        assert!(
            inv.check(3, NodeId(2), view(3, Role::Leader, 0, &[]), None).is_empty(),
            "reported once"
        );
    }

    #[test]
    fn same_index_and_term_over_different_prefixes_breaks_log_matching() {
        let mut inv = Invariants::new(2);
        inv.check(1, NodeId(0), view(2, Role::Follower, 0, &[noop(1), noop(2)]), None);
        let v = inv.check(2, NodeId(1), view(2, Role::Follower, 0, &[noop(2), noop(2)]), None);
        assert_eq!(names(&v), [LOG_MATCHING]);
        assert!(v[0].2.contains("index 2 of term 2"), "{}", v[0].2);
    }

    #[test]
    fn a_leader_missing_a_committed_entry_breaks_leader_completeness() {
        let mut inv = Invariants::new(3);
        inv.check(1, NodeId(0), view(1, Role::Leader, 1, &[noop(1)]), None);
        let v = inv.check(2, NodeId(1), view(2, Role::Leader, 0, &[]), None);
        assert_eq!(names(&v), [LEADER_COMPLETENESS]);
        assert!(v[0]
            .2
            .starts_with("n1 became leader in term 2 without committed entry 1 (term 1"));
    }

    #[test]
    fn a_leader_of_an_old_term_need_not_hold_entries_committed_in_newer_terms() {
        let mut inv = Invariants::new(3);
        inv.check(1, NodeId(0), view(1, Role::Leader, 1, &[noop(1)]), None);
        inv.check(2, NodeId(1), view(3, Role::Leader, 2, &[noop(1), noop(3)]), None);
        let v = inv.check(3, NodeId(2), view(2, Role::Leader, 0, &[noop(1)]), None);
        assert!(v.is_empty(), "entry 2 was committed in term 3: {v:?}");
        let v = inv.check(4, NodeId(0), view(4, Role::Leader, 0, &[noop(1)]), None);
        assert_eq!(names(&v), [LEADER_COMPLETENESS]);
        assert!(v[0].2.contains("without committed entry 2 (term 3"), "{}", v[0].2);
    }

    #[test]
    fn different_entries_applied_at_one_index_break_state_machine_safety() {
        let mut inv = Invariants::new(2);
        inv.check(1, NodeId(0), view(1, Role::Follower, 1, &[noop(1)]), None);
        let v = inv.check(2, NodeId(1), view(2, Role::Follower, 1, &[noop(2)]), None);
        assert_eq!(names(&v), [STATE_MACHINE_SAFETY]);
    }

    /// Found in review: a follower's committed, applied entry replaced by
    /// another went unreported until some node applied the other one.
    #[test]
    fn a_committed_entry_replaced_on_a_follower_breaks_state_machine_safety() {
        let mut inv = Invariants::new(3);
        inv.check(1, NodeId(0), view(1, Role::Leader, 1, &[noop(1)]), None);
        inv.check(2, NodeId(1), view(1, Role::Follower, 1, &[noop(1)]), None);
        let log = [noop(2)];
        let overwritten = View {
            rewrites: &[1],
            ..view(2, Role::Follower, 1, &log)
        };
        let v = inv.check(3, NodeId(1), overwritten, None);
        assert_eq!(names(&v), [STATE_MACHINE_SAFETY]);
        assert!(
            v[0].2
                .starts_with("n1 counts index 1 committed but holds an entry of term 2"),
            "{}",
            v[0].2
        );
    }

    #[test]
    fn a_rewritten_suffix_is_hashed_again() {
        let mut inv = Invariants::new(2);
        inv.check(1, NodeId(1), view(1, Role::Follower, 0, &[noop(1), noop(1)]), None);
        // n1's entry 2 was replaced by one of term 2, same length.
        let log = [noop(1), noop(2)];
        let rewritten = View {
            rewrites: &[2],
            ..view(2, Role::Follower, 0, &log)
        };
        inv.check(2, NodeId(1), rewritten, None);
        inv.check(3, NodeId(0), view(2, Role::Leader, 2, &log), None);
        let again = View {
            rewrites: &[2],
            ..view(3, Role::Leader, 0, &log)
        };
        let v = inv.check(4, NodeId(1), again, None);
        assert!(v.is_empty(), "n1's chain was recomputed after the rewrite: {v:?}");
    }
}
