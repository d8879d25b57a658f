//! `raft`: a replicated key-value store on Raft (Ongaro and Ousterhout,
//! "In Search of an Understandable Consensus Algorithm", and Ongaro's
//! thesis for client sessions, ReadIndex, leases and leader stickiness).
//!
//! - Elections: each node's election timeout is drawn from `[min, 2 min)`
//!   on its own (drifting) monotonic clock. A node that heard from a
//!   current leader within the minimum timeout ignores vote requests
//!   (thesis 4.2.3), which is what makes leases safe; a restarted node
//!   counts as having just heard from one.
//! - Durability: term and vote, and log entries, are fsynced before the
//!   node answers a vote request or acknowledges entries; a restarted node
//!   recovers them from its disk. Commit index and the state machine are
//!   volatile and rebuilt from the log.
//! - Replication: pipelined `Append`s (the next index advances when sent);
//!   a follower's rejection carries a conflict hint so the leader backs up
//!   a whole term at a time. A new leader appends a no-op, and commits only
//!   entries of its own term by counting replicas.
//! - Clients: only the leader takes requests; others redirect to the
//!   leader they know. Each client's last request id and output are part
//!   of the state machine, so a retried request is applied once.
//! - Reads: through the log, by ReadIndex (a heartbeat round confirms the
//!   leader after the read arrived), or by lease. The lease is the minimum
//!   election timeout shrunk by the clock drift bound, `(1-ρ)/(1+ρ)`, since
//!   the leader's clock may run slow while the voters' run fast.
//!
//! [`Bugs`] plants mistakes that real implementations have made; each is
//! off unless a scenario asks for it. The properties that catch them are in
//! [`properties`]; the family (config, properties, bugs) in [`RaftFamily`].
//! `MUTANTS.md` beside this file lists the mutants of this module that no
//! check catches, and why each is equivalent, harmless or missed.
//!
//! # Guarantees, weaknesses, and what catches each bug
//!
//! Correct Raft is linearizable and keeps Raft's four safety properties
//! through crashes, pauses, partitions of any shape, loss, duplication and
//! clock jumps; with `Lease` reads only while every clock's drift stays
//! within `drift_bound_ppm`. It is not available without a majority, and
//! it is not built for Byzantine nodes (one that lies about its log or term
//! breaks it). Every correct scenario in `scenarios/` (raft-kv,
//! leader-isolation, flapping-partitions, rolling-restarts, clock-skew)
//! passed seeds 0..500, and so did each bug scenario with its bug removed.
//! Each bug, over seeds 0..200 of its scenario
//! (`cargo test --release --test conformance -- --ignored --nocapture`):
//!
//! | bug | scenario | seeds failing as expected | by check | first |
//! |---|---|---|---|---|
//! | `VoteWithoutLogCheck` | `raft-bug-vote-without-log-check` | 199 | LeaderCompleteness 199, StateMachineSafety 199 | 0 |
//! | `CommitPreviousTerm` | `raft-bug-commit-previous-term` | 36 | LeaderCompleteness 34, StateMachineSafety 34 | 8 |
//! | `NoFsync` | `raft-bug-no-fsync` | 138 | LeaderCompleteness 137, StateMachineSafety 135, ElectionSafety 1, LogMatching 1 | 0 |
//! | `StaleLeaderRead` | `raft-bug-stale-leader-read` | 57 | Linearizable(kv) 57 | 0 |
//! | `LeaseIgnoresDrift` | `raft-bug-lease-ignores-drift` | 9 | Linearizable(kv) 9 | 0 |

pub mod config;
mod family;
pub mod log;
pub mod properties;

pub use family::RaftFamily;
pub use log::{Entry, Log};

use crate::core::{Ctx, Node, NodeId, PayloadHasher, Pieces, Reply, Request, RequestId};
use crate::workload::kv::{Kv, KvStore, Op, Output};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;

/// What a Raft node is in its term.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// Follows a leader (or waits for one).
    #[default]
    Follower,
    /// Asked for votes in its term.
    Candidate,
    /// Won its term's election.
    Leader,
}

const META_FILE: &str = "raft.meta";

/// How the leader serves reads (see [`config::Reads`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// Reads are log entries, like writes.
    Log,
    /// The leader confirms it still leads with a heartbeat round.
    ReadIndex,
    /// The leader serves reads alone while a majority's recent acks give
    /// it a lease; safe only while every clock's drift is within the bound.
    Lease {
        /// The drift bound, in parts per million.
        drift_bound_ppm: u64,
    },
}

/// Deliberate mistakes, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// Grant votes without the "candidate's log is up to date" check.
    pub vote_without_log_check: bool,
    /// Commit entries of earlier terms by counting replicas (figure 8).
    pub commit_previous_term: bool,
    /// Answer votes and appends before the disk is synced; a background
    /// flush syncs once per heartbeat.
    pub no_fsync: bool,
    /// The leader serves reads from its own state without confirming it
    /// is still the leader.
    pub stale_leader_read: bool,
    /// Leases as long as the minimum election timeout, ignoring drift.
    pub lease_ignores_drift: bool,
}

/// Raft's settings, as the node uses them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Minimum election timeout; each timeout is drawn from `[min, 2 min)`.
    pub election_timeout: Duration,
    /// How often a leader sends appends.
    pub heartbeat: Duration,
    /// How the leader serves reads.
    pub reads: ReadMode,
    /// Most entries in one `Append`.
    pub max_batch: usize,
    /// The planted bugs.
    pub bugs: Bugs,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            election_timeout: Duration::from_millis(150),
            heartbeat: Duration::from_millis(50),
            reads: ReadMode::ReadIndex,
            max_batch: 64,
            bugs: Bugs::default(),
        }
    }
}

impl From<&config::RaftConfig> for Config {
    fn from(spec: &config::RaftConfig) -> Self {
        use config::{Bug, Reads};
        let has = |bug| spec.bugs.contains(&bug);
        Config {
            election_timeout: Duration::from_nanos(spec.election_timeout.0),
            heartbeat: Duration::from_nanos(spec.heartbeat.0),
            reads: match spec.reads {
                Reads::Log => ReadMode::Log,
                Reads::ReadIndex => ReadMode::ReadIndex,
                Reads::Lease { drift_bound_ppm } => ReadMode::Lease { drift_bound_ppm },
            },
            max_batch: spec.max_batch as usize,
            bugs: Bugs {
                vote_without_log_check: has(Bug::VoteWithoutLogCheck),
                commit_previous_term: has(Bug::CommitPreviousTerm),
                no_fsync: has(Bug::NoFsync),
                stale_leader_read: has(Bug::StaleLeaderRead),
                lease_ignores_drift: has(Bug::LeaseIgnoresDrift),
            },
        }
    }
}

impl Bugs {
    /// True if any bug is planted: some local invariants then no longer
    /// hold, and it is the properties' job to say so.
    pub fn any(&self) -> bool {
        *self != Bugs::default()
    }
}

impl Config {
    /// How long a lease lasts on the leader's clock after the heartbeat
    /// round that granted it was sent.
    pub fn lease_ns(&self) -> u64 {
        let min = self.election_timeout.as_nanos() as u64;
        match self.reads {
            ReadMode::Lease { .. } if self.bugs.lease_ignores_drift => min,
            ReadMode::Lease { drift_bound_ppm } => {
                let rho = u128::from(drift_bound_ppm.min(999_999));
                let ppm = 1_000_000u128;
                (u128::from(min) * (ppm - rho) / (ppm + rho)) as u64
            }
            _ => 0,
        }
    }
}

/// What a log entry does when applied.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// Appended by each new leader, so that it can commit its term.
    Noop,
    /// A client's operation.
    Client {
        /// The client that asked.
        client: u32,
        /// Its request id: a retry has the same one.
        request: RequestId,
        /// The operation.
        op: Op,
    },
}

/// What Raft nodes send each other.
#[derive(Clone, Hash, Serialize)]
pub enum RaftMsg {
    /// A candidate asks for a vote in `term`; its log ends at `last_index` of `last_term`.
    RequestVote {
        /// The candidate's term.
        term: u64,
        /// The index of its last entry.
        last_index: u64,
        /// The term of its last entry.
        last_term: u64,
    },
    /// The answer to a vote request.
    Vote {
        /// The voter's term.
        term: u64,
        /// Whether it voted for the candidate.
        granted: bool,
    },
    /// A leader's entries (or heartbeat).
    Append(Append),
    /// A follower's answer to an append.
    Appended(Appended),
}

/// A leader's append: entries after `prev_index`, and its commit index.
#[derive(Clone, Debug, Hash, Serialize)]
pub struct Append {
    /// The leader's term.
    pub term: u64,
    /// The index just before the first entry.
    pub prev_index: u64,
    /// The term of the entry at `prev_index`.
    pub prev_term: u64,
    /// The entries, maybe none (a heartbeat).
    pub entries: Vec<Entry>,
    /// The leader's commit index.
    pub commit: u64,
    /// The leader's monotonic clock when sent; echoed in the answer.
    pub sent_at: u64,
}

/// A follower's answer to an append.
#[derive(Clone, Debug, Hash, Serialize)]
pub struct Appended {
    /// The follower's term.
    pub term: u64,
    /// Success: the last index known to match. Failure: where the leader
    /// should try next.
    pub index: u64,
    /// Whether the entries matched and were taken.
    pub success: bool,
    /// Failure: the term of the follower's conflicting entry.
    pub conflict_term: Option<u64>,
    /// The `sent_at` of the append answered.
    pub sent_at: u64,
}

/// Short, so that traces stay readable: entries appear as an index range.
/// Written piece by piece, numbers through itoa: a report formats every
/// message of the run, and `write!` with five numbers cost three times as
/// much.
impl fmt::Debug for RaftMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Pieces(f);
        match self {
            RaftMsg::RequestVote {
                term,
                last_index,
                last_term,
            } => out
                .text("RequestVote t")?
                .num(*term)?
                .text(" last=")?
                .num(*last_index)?
                .text("@t")?
                .num(*last_term),
            RaftMsg::Vote { term, granted } => {
                let granted = if *granted { " granted=true" } else { " granted=false" };
                out.text("Vote t")?.num(*term)?.text(granted)
            }
            RaftMsg::Append(a) => {
                out.text("Append t")?
                    .num(a.term)?
                    .text(" prev=")?
                    .num(a.prev_index)?
                    .text("@t")?
                    .num(a.prev_term)?;
                match a.entries.len() as u64 {
                    0 => out.text(" entries=none")?,
                    n => out
                        .text(" entries=")?
                        .num(a.prev_index + 1)?
                        .text("..=")?
                        .num(a.prev_index + n)?,
                };
                out.text(" commit=")?.num(a.commit)
            }
            RaftMsg::Appended(a) => {
                let success = if a.success { " success=true" } else { " success=false" };
                out.text("Appended t")?
                    .num(a.term)?
                    .text(success)?
                    .text(" index=")?
                    .num(a.index)?;
                match a.conflict_term {
                    Some(t) => out.text(" conflict=Some(")?.num(t)?.text(")"),
                    None => out.text(" conflict=None"),
                }
            }
        }
        .map(|_| ())
    }
}

/// Raft's timers.
#[derive(Clone, Debug, Hash)]
pub enum RaftTimer {
    /// Time to check whether an election is due.
    Election,
    /// Time for a leader to send appends.
    Heartbeat {
        /// The term it was set in: a leader of a later term ignores it.
        term: u64,
    },
    /// Only with the `no_fsync` bug: the background sync.
    Flush,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    term: u64,
    vote: Option<NodeId>,
}

/// A read waiting for the leader to confirm itself and to apply far enough.
#[derive(Debug)]
struct PendingRead {
    request: RequestId,
    key: Arc<str>,
    index: u64,
    /// Confirmed by acks of heartbeats sent at or after this (leader's
    /// monotonic clock).
    after: u64,
}

/// Leader-only state, rebuilt at each election.
#[derive(Debug, Default)]
struct Leadership {
    /// Next index to send, per node (pipelined: advanced on send).
    next: Vec<u64>,
    /// Highest index known replicated, per node.
    matched: Vec<u64>,
    /// Latest `sent_at` each node echoed in this term.
    acked_at: Vec<u64>,
    /// Index of this term's no-op.
    start: u64,
    reads: Vec<PendingRead>,
}

/// A Raft node: the state machine that runs on each node of the cluster.
#[derive(Debug)]
pub struct Raft {
    id: NodeId,
    config: Config,
    nodes: u32,
    // Durable.
    term: u64,
    vote: Option<NodeId>,
    log: Log,
    // Volatile.
    role: Role,
    leader: Option<NodeId>,
    commit: u64,
    applied: u64,
    store: KvStore,
    /// Per client: last request applied and its output.
    sessions: BTreeMap<u32, (RequestId, Output)>,
    /// Monotonic time after which an election may start.
    election_deadline: u64,
    /// Monotonic time this node last heard from a current leader.
    leader_contact: u64,
    votes: Vec<NodeId>,
    /// Requests this node appended, by index, to answer once applied.
    waiting: BTreeMap<u64, RequestId>,
    lead: Leadership,
    /// Reads answered from a lease, for the `ServesFromLease` property.
    lease_reads: u64,
}

/// What invariant checkers may look at.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// The node's term.
    pub term: u64,
    /// Whom it voted for in its term.
    pub vote: Option<NodeId>,
    /// Follower, candidate or leader.
    pub role: Role,
    /// The highest index it knows committed.
    pub commit: u64,
    /// The highest index it applied.
    pub applied: u64,
    /// Its log, index 1 first.
    pub log: &'a [Entry],
    /// See [`Log::rewrites`].
    pub rewrites: &'a [u64],
    /// Reads it answered from its lease, in this life.
    pub lease_reads: u64,
}

impl Raft {
    /// Node `id`, fresh: it recovers from its disk in `on_start`.
    pub fn new(id: NodeId, config: Config) -> Self {
        Raft {
            id,
            config,
            nodes: 1,
            term: 0,
            vote: None,
            log: Log::default(),
            role: Role::Follower,
            leader: None,
            commit: 0,
            applied: 0,
            store: KvStore::default(),
            sessions: BTreeMap::new(),
            election_deadline: 0,
            leader_contact: 0,
            votes: Vec::new(),
            waiting: BTreeMap::new(),
            lead: Leadership::default(),
            lease_reads: 0,
        }
    }

    /// What an observer may look at.
    pub fn view(&self) -> View<'_> {
        View {
            term: self.term,
            vote: self.vote,
            role: self.role,
            commit: self.commit,
            applied: self.applied,
            log: self.log.entries(),
            rewrites: self.log.rewrites(),
            lease_reads: self.lease_reads,
        }
    }

    fn majority(&self) -> usize {
        self.nodes as usize / 2 + 1
    }

    fn election_min_ns(&self) -> u64 {
        self.config.election_timeout.as_nanos() as u64
    }

    fn sync(&self, ctx: &mut Ctx<'_, Self>) {
        if !self.config.bugs.no_fsync {
            must_sync(ctx);
        }
    }

    fn persist_meta(&self, ctx: &mut Ctx<'_, Self>) {
        let meta = Meta {
            term: self.term,
            vote: self.vote,
        };
        ctx.disk()
            .write(META_FILE, &serde_json::to_vec(&meta).expect("meta serialises"));
        self.sync(ctx);
    }

    fn reset_election_deadline(&mut self, ctx: &mut Ctx<'_, Self>) {
        let min = self.election_min_ns();
        let timeout = rand::Rng::gen_range(ctx.rng(), min..2 * min);
        self.election_deadline = ctx.monotonic_ns() + timeout;
    }

    /// Moves to `term` (if newer) as a follower.
    fn step_down(&mut self, ctx: &mut Ctx<'_, Self>, term: u64) {
        if term > self.term {
            self.term = term;
            self.vote = None;
            self.leader = None;
            self.persist_meta(ctx);
        }
        if self.role == Role::Leader {
            let hint = self.leader;
            for read in std::mem::take(&mut self.lead.reads) {
                ctx.reply(read.request, Reply::Redirect(hint));
            }
            self.reset_election_deadline(ctx);
        }
        self.role = Role::Follower;
    }

    fn start_election(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.term += 1;
        self.vote = Some(self.id);
        self.role = Role::Candidate;
        self.leader = None;
        self.votes = vec![self.id];
        self.persist_meta(ctx);
        self.reset_election_deadline(ctx);
        ctx.broadcast(RaftMsg::RequestVote {
            term: self.term,
            last_index: self.log.last_index(),
            last_term: self.log.last_term(),
        });
        if self.votes.len() >= self.majority() {
            self.become_leader(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.role = Role::Leader;
        self.leader = Some(self.id);
        let n = self.nodes as usize;
        let start = self.log.last_index() + 1;
        self.lead = Leadership {
            next: vec![start; n],
            matched: vec![0; n],
            acked_at: vec![0; n],
            start,
            reads: Vec::new(),
        };
        self.append(ctx, Command::Noop);
        ctx.set_timer(self.config.heartbeat, RaftTimer::Heartbeat { term: self.term });
    }

    /// Leader: appends to its own log durably, then replicates. A leader
    /// only ever appends: it never truncates its own log.
    fn append(&mut self, ctx: &mut Ctx<'_, Self>, command: Command) -> u64 {
        assert_eq!(self.role, Role::Leader, "only a leader appends commands");
        let index = self.log.last_index() + 1;
        let entry = Entry {
            term: self.term,
            command,
        };
        self.log.write(ctx.disk(), index, &[entry]);
        self.sync(ctx);
        self.lead.matched[self.id.0 as usize] = index;
        self.broadcast_append(ctx);
        self.advance_commit(ctx);
        index
    }

    fn broadcast_append(&mut self, ctx: &mut Ctx<'_, Self>) {
        for peer in 0..self.nodes {
            if peer != self.id.0 {
                self.send_append(ctx, NodeId(peer));
            }
        }
    }

    fn send_append(&mut self, ctx: &mut Ctx<'_, Self>, peer: NodeId) {
        let p = peer.0 as usize;
        let next = self.lead.next[p].min(self.log.last_index() + 1);
        let prev_index = next - 1;
        let entries = self.log.slice(next, self.config.max_batch).to_vec();
        self.lead.next[p] = next + entries.len() as u64;
        let msg = RaftMsg::Append(Append {
            term: self.term,
            prev_index,
            prev_term: self.log.term_at(prev_index).expect("prev is within the log"),
            entries,
            commit: self.commit,
            sent_at: ctx.monotonic_ns(),
        });
        ctx.send(peer, msg);
    }

    fn advance_commit(&mut self, ctx: &mut Ctx<'_, Self>) {
        let replicated = nth_largest(self.lead.matched.iter().copied(), self.majority());
        if replicated <= self.commit {
            return;
        }
        let own_term = self.log.term_at(replicated) == Some(self.term);
        if own_term || self.config.bugs.commit_previous_term {
            self.commit = replicated;
            self.apply(ctx);
        }
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, Self>) {
        debug_assert!(
            self.applied <= self.commit,
            "applied {} > commit {}",
            self.applied,
            self.commit
        );
        while self.applied < self.commit {
            self.applied += 1;
            let entry = self.log.get(self.applied).expect("committed entries are in the log");
            let output = match &entry.command {
                Command::Noop => None,
                Command::Client { client, request, op } => {
                    Raft::apply_client(&mut self.sessions, &mut self.store, *client, *request, op)
                        .map(|out| (*request, out))
                }
            };
            if let Some(waiting) = self.waiting.remove(&self.applied) {
                match output {
                    Some((request, out)) if request == waiting => ctx.reply(waiting, Reply::Ok(out)),
                    // Our entry was replaced: the client must retry where
                    // the request may yet be (or already have been) applied.
                    _ if !self.entry_is(self.applied, waiting) => ctx.reply(waiting, Reply::Redirect(self.leader)),
                    // A duplicate of a request that was superseded.
                    _ => {}
                }
            }
        }
        self.serve_reads(ctx);
    }

    fn entry_is(&self, index: u64, request: RequestId) -> bool {
        matches!(self.log.get(index), Some(Entry { command: Command::Client { request: r, .. }, .. }) if *r == request)
    }

    /// Applies a client command once per (client, request): a retry gets
    /// the first output; a request older than the client's latest (which
    /// the client gave up on) is not applied at all.
    /// (The node's sessions and store are passed on their own, so that the
    /// operation can stay borrowed from the log.)
    fn apply_client(
        sessions: &mut BTreeMap<u32, (RequestId, Output)>,
        store: &mut KvStore,
        client: u32,
        request: RequestId,
        op: &Op,
    ) -> Option<Output> {
        match sessions.get(&client) {
            Some((last, out)) if *last == request => return Some(out.clone()),
            Some((last, _)) if *last > request => return None,
            _ => {}
        }
        let (out, _) = store.apply(op);
        sessions.insert(client, (request, out.clone()));
        Some(out)
    }

    /// The leader's monotonic time from which a majority has acknowledged
    /// it: the oldest of the newest acks of a majority (itself: now).
    fn confirmed_since(&self, now: u64) -> u64 {
        let acks = (0..self.nodes as usize).map(|p| {
            if p == self.id.0 as usize {
                now
            } else {
                self.lead.acked_at[p]
            }
        });
        nth_largest(acks, self.majority())
    }

    fn serve_reads(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role != Role::Leader || self.lead.reads.is_empty() {
            return;
        }
        let confirmed = self.confirmed_since(ctx.monotonic_ns());
        let ready = self.commit >= self.lead.start;
        let reads = std::mem::take(&mut self.lead.reads);
        for read in reads {
            if ready && confirmed >= read.after && self.applied >= read.index {
                let value = self.store.get(&read.key).cloned();
                ctx.reply(read.request, Reply::Ok(Output::Value(value)));
            } else {
                self.lead.reads.push(read);
            }
        }
    }

    fn lease_holds(&self, now: u64) -> bool {
        matches!(self.config.reads, ReadMode::Lease { .. })
            && self.commit >= self.lead.start
            && now < self.confirmed_since(now).saturating_add(self.config.lease_ns())
    }

    fn read(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, key: Arc<str>) {
        let now = ctx.monotonic_ns();
        let from_lease = self.lease_holds(now) && self.applied >= self.commit;
        if self.config.bugs.stale_leader_read || from_lease {
            self.lease_reads += u64::from(from_lease);
            let value = self.store.get(&key).cloned();
            return ctx.reply(request, Reply::Ok(Output::Value(value)));
        }
        self.lead.reads.push(PendingRead {
            request,
            key,
            index: self.commit.max(self.lead.start),
            after: now,
        });
        self.broadcast_append(ctx);
        // Alone, a node is its own majority: nothing will echo.
        self.serve_reads(ctx);
    }

    fn on_request_vote(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, term: u64, last_index: u64, last_term: u64) {
        let now = ctx.monotonic_ns();
        // Sticky: a current leader was heard from lately, so neither bump
        // the term for a candidate nor vote for one (thesis 4.2.3). The
        // vote matters even within one term: a stale answer can move this
        // node to the candidate's term first, and a vote then would let a
        // rival win while the old leader's lease holds.
        let sticky = now < self.leader_contact.saturating_add(self.election_min_ns()) && self.role != Role::Leader;
        if term > self.term && sticky {
            return;
        }
        if term > self.term {
            self.step_down(ctx, term);
        }
        let up_to_date = (last_term, last_index) >= (self.log.last_term(), self.log.last_index());
        let granted = term == self.term
            && !sticky
            && self.vote.is_none_or(|v| v == from)
            && (up_to_date || self.config.bugs.vote_without_log_check);
        if granted && self.vote.is_none() {
            self.vote = Some(from);
            self.persist_meta(ctx);
        }
        if granted {
            self.reset_election_deadline(ctx);
        }
        ctx.send(
            from,
            RaftMsg::Vote {
                term: self.term,
                granted,
            },
        );
    }

    fn on_vote(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, term: u64, granted: bool) {
        if term > self.term {
            return self.step_down(ctx, term);
        }
        if self.role != Role::Candidate || term != self.term || !granted || self.votes.contains(&from) {
            return;
        }
        self.votes.push(from);
        if self.votes.len() >= self.majority() {
            self.become_leader(ctx);
        }
    }

    fn on_append(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, m: Append) {
        let Append {
            term,
            prev_index,
            prev_term,
            entries,
            commit,
            sent_at,
        } = m;
        let reply = |term, index, success, conflict_term| {
            RaftMsg::Appended(Appended {
                term,
                index,
                success,
                conflict_term,
                sent_at,
            })
        };
        if term < self.term {
            return ctx.send(from, reply(self.term, 0, false, None));
        }
        // Entries of our own term come from us while we lead: another
        // leader of it would be two (ElectionSafety, which a planted bug may
        // break: the property reports it). So a leader never takes entries
        // that would replace its own.
        let own_term_leader = self.role == Role::Leader && term == self.term;
        assert!(
            !own_term_leader || self.config.bugs.any(),
            "{} leads term {term} and got {from}'s entries of it",
            self.id
        );
        self.step_down(ctx, term);
        self.leader = Some(from);
        self.leader_contact = ctx.monotonic_ns();
        self.reset_election_deadline(ctx);
        match self.log.term_at(prev_index) {
            None => {
                let next = self.log.last_index() + 1;
                return ctx.send(from, reply(term, next, false, None));
            }
            Some(t) if t != prev_term => {
                let first = self.log.first_index_of(t).expect("the term is in the log");
                return ctx.send(from, reply(term, first, false, Some(t)));
            }
            Some(_) => {}
        }
        // Skip entries we already hold; from the first conflict (or the
        // end of our log) on, take the leader's.
        let mut index = prev_index + 1;
        let mut new = &entries[..];
        while let Some((first, rest)) = new.split_first() {
            if self.log.term_at(index) != Some(first.term) {
                break;
            }
            index += 1;
            new = rest;
        }
        if !new.is_empty() {
            self.log.write(ctx.disk(), index, new);
            self.sync(ctx);
        }
        let last_new = prev_index + entries.len() as u64;
        if commit > self.commit {
            self.commit = commit.min(last_new).max(self.commit);
            self.apply(ctx);
        }
        ctx.send(from, reply(term, last_new, true, None));
    }

    fn on_appended(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, m: Appended) {
        let Appended {
            term,
            index,
            success,
            conflict_term,
            sent_at,
        } = m;
        if term > self.term {
            return self.step_down(ctx, term);
        }
        if self.role != Role::Leader || term != self.term {
            return;
        }
        let p = from.0 as usize;
        self.lead.acked_at[p] = self.lead.acked_at[p].max(sent_at);
        if success {
            self.lead.matched[p] = self.lead.matched[p].max(index);
            self.lead.next[p] = self.lead.next[p].max(index + 1);
            self.advance_commit(ctx);
            if self.lead.next[p] <= self.log.last_index() && self.lead.next[p] == index + 1 {
                self.send_append(ctx, from);
            }
        } else {
            let hint = conflict_term
                .and_then(|t| self.log.last_index_of(t).map(|i| i + 1))
                .unwrap_or(index);
            let next = hint.max(self.lead.matched[p] + 1);
            if next < self.lead.next[p] {
                self.lead.next[p] = next;
                self.send_append(ctx, from);
            }
        }
        self.serve_reads(ctx);
    }
}

/// The `n`th largest of `values` (from 1): what a majority of `n` has
/// reached. Sorted on the stack up to 16 values, since this runs on every
/// acknowledgement.
fn nth_largest(values: impl ExactSizeIterator<Item = u64>, n: usize) -> u64 {
    debug_assert!(n >= 1 && n <= values.len(), "the {n}th of {} values", values.len());
    let (mut small, mut large) = ([0u64; 16], Vec::new());
    let all: &mut [u64] = if values.len() <= small.len() {
        let count = values.len();
        for (slot, v) in small.iter_mut().zip(values) {
            *slot = v;
        }
        &mut small[..count]
    } else {
        large.extend(values);
        &mut large
    };
    all.sort_unstable_by(|a, b| b.cmp(a));
    all[n - 1]
}

/// A failed fsync stops the node (it panics), as PostgreSQL does since
/// fsyncgate: what it acknowledged may not be durable, and retrying the
/// sync would not make it so. No built-in scenario injects disk faults.
fn must_sync<N: Node>(ctx: &mut Ctx<'_, N>) {
    if let Err(e) = ctx.disk().fsync() {
        panic!("{e}: a Raft node cannot go on after its log failed to sync");
    }
}

impl Raft {
    /// Local invariants, after every handler. Some only hold for a correct
    /// Raft: with a bug planted it is the properties' job to report what
    /// broke, not a panic's.
    fn check_local(&self) {
        assert!(
            self.applied <= self.commit,
            "applied {} > commit {}",
            self.applied,
            self.commit
        );
        if self.role == Role::Leader {
            assert_eq!(self.leader, Some(self.id), "a leader knows it leads");
            assert_eq!(self.vote, Some(self.id), "a leader voted for itself");
            assert_eq!(self.lead.matched[self.id.0 as usize], self.log.last_index());
        }
        if !self.config.bugs.any() {
            assert!(
                self.commit <= self.log.last_index(),
                "commit {} past the log's end {}",
                self.commit,
                self.log.last_index()
            );
        }
    }
}

impl Node for Raft {
    type Msg = RaftMsg;
    type Timer = RaftTimer;
    type Service = Kv;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.nodes = ctx.nodes();
        if let Some(meta) = ctx
            .disk()
            .read(META_FILE)
            .and_then(|b| serde_json::from_slice::<Meta>(b).ok())
        {
            self.term = meta.term;
            self.vote = meta.vote;
        }
        self.log = Log::recover(ctx.disk());
        // As if a leader had just been heard from: this node may have
        // acknowledged one before it crashed, granting it a lease.
        self.leader_contact = ctx.monotonic_ns();
        self.reset_election_deadline(ctx);
        let wait = self.election_deadline - ctx.monotonic_ns();
        ctx.set_timer(Duration::from_nanos(wait), RaftTimer::Election);
        if self.config.bugs.no_fsync {
            ctx.set_timer(self.config.heartbeat, RaftTimer::Flush);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: RaftMsg) {
        match msg {
            RaftMsg::RequestVote {
                term,
                last_index,
                last_term,
            } => self.on_request_vote(ctx, from, term, last_index, last_term),
            RaftMsg::Vote { term, granted } => self.on_vote(ctx, from, term, granted),
            RaftMsg::Append(m) => self.on_append(ctx, from, m),
            RaftMsg::Appended(m) => self.on_appended(ctx, from, m),
        }
        self.check_local();
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: RaftTimer) {
        match timer {
            RaftTimer::Election => {
                let now = ctx.monotonic_ns();
                if self.role == Role::Leader {
                    self.election_deadline = now + self.election_min_ns();
                } else if now >= self.election_deadline {
                    self.start_election(ctx);
                }
                let wait = self.election_deadline.saturating_sub(now).max(1);
                ctx.set_timer(Duration::from_nanos(wait), RaftTimer::Election);
            }
            RaftTimer::Heartbeat { term } => {
                if self.role == Role::Leader && term == self.term {
                    self.broadcast_append(ctx);
                    ctx.set_timer(self.config.heartbeat, RaftTimer::Heartbeat { term });
                }
            }
            RaftTimer::Flush => {
                must_sync(ctx);
                ctx.set_timer(self.config.heartbeat, RaftTimer::Flush);
            }
        }
        self.check_local();
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request<Op>) {
        if self.role != Role::Leader {
            // Name the leader only if it was heard from lately; else the
            // client is better off trying the other nodes.
            let recent = ctx.monotonic_ns() < self.leader_contact.saturating_add(self.election_min_ns());
            let hint = self.leader.filter(|l| *l != self.id && recent);
            return ctx.reply(request.id, Reply::Redirect(hint));
        }

        if let Some((last, out)) = self.sessions.get(&request.client) {
            if *last == request.id {
                return ctx.reply(request.id, Reply::Ok(out.clone()));
            }
        }
        match request.op {
            Op::Get { key } if self.config.reads != ReadMode::Log => self.read(ctx, request.id, key),
            op => {
                let command = Command::Client {
                    client: request.client,
                    request: request.id,
                    op,
                };
                let index = self.log.last_index() + 1;
                self.waiting.insert(index, request.id);
                self.append(ctx, command);
            }
        }
    }

    fn role(&self) -> crate::core::Role {
        match self.role {
            Role::Leader => crate::core::Role::LEADER,
            Role::Follower => crate::core::Role::follows("follower"),
            Role::Candidate => crate::core::Role::follows("candidate"),
        }
    }

    fn hash_msg(msg: &RaftMsg, into: &mut PayloadHasher<'_>) {
        msg.hash(into);
    }

    fn hash_timer(timer: &RaftTimer, into: &mut PayloadHasher<'_>) {
        timer.hash(into);
    }
}

#[cfg(test)]
mod tests;
