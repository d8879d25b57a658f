//! `paxos`: a replicated key-value store on Multi-Paxos (Lamport, "Paxos
//! Made Simple", section 3; van Renesse and Altinbuken, "Paxos Made
//! Moderately Complex", for the roles and the no-op gap filling).
//!
//! Every node is proposer, acceptor and learner of one log of slots.
//!
//! - Ballots are `(round, node)`, ordered by round then node, so no two
//!   nodes share one. A node that hears nothing from a leader for an
//!   election timeout (drawn from `[min, 2 min)` on its own drifting
//!   clock) runs phase 1 once for every slot from the first it does not
//!   know chosen, with a round above the one its acceptor promised: its
//!   own acceptor promises first, durably, so a restarted node never uses
//!   a ballot again. A node that heard from a leader lately does not
//!   promise a rival (as Raft's leader stickiness), which keeps a stable
//!   leader stable; safety never depends on it.
//! - A new leader re-proposes, in every slot not known chosen, the value
//!   with the highest ballot among the promises, and a no-op in the gaps;
//!   then phase 2 per slot, each new command in the next slot. A value is
//!   chosen when a majority accepted it in the leader's ballot.
//! - Acceptors fsync their promise and accepted values before they answer.
//! - Learners: the leader's heartbeat names the end of its chosen prefix;
//!   a node takes a slot as chosen if it accepted a value there in that
//!   leader's ballot (the leader proposes one value per slot and ballot),
//!   and asks for the rest, which the leader sends in batches. Chosen
//!   values are kept in a file that needs no sync (they can be learned
//!   again); the store is rebuilt from them at a restart.
//! - Clients: only the leader takes requests; others redirect to the
//!   leader they heard from lately. Reads go through the log. Each
//!   client's last request and output are part of the replicated state,
//!   so a retried request is applied once.
//!
//! # Guarantees, weaknesses, and what catches each bug
//!
//! Correct Multi-Paxos chooses at most one value per slot and is
//! linearizable through crashes, pauses, partitions of any shape, loss,
//! duplication, clock drift and jumps (timers only decide when to try,
//! never what is safe). It is not available without a majority, two
//! nodes that keep timing out can duel (randomized timeouts make that
//! short), and it is not built for Byzantine nodes or for disks that lose
//! synced data. There is no log compaction: the log grows with the run.
//!
//! The correct scenarios (`paxos-kv`, `paxos-leader-isolation`,
//! `paxos-clock-skew`) passed seeds 0..500 each, and so did each bug
//! scenario with its bug removed. Each bug (config `bugs: [...]`), the
//! scenario that shows it, and the seeds of 0..200 that fail as expected
//! (`simulate sweep scenarios/paxos-bug-*.ron --seeds 0..200 --jobs 1`):
//!
//! | bug | what it does | scenario | failing seeds | first |
//! |---|---|---|---|---|
//! | `AnswerBeforeDurable` | the acceptor answers before its promise or value is synced (epaxos#28); a crash forgets an acceptance that counted toward a choice, and a later leader's phase 1 misses the chosen value | `paxos-bug-answer-before-durable` (3 nodes, crashes and partitions every 100-400ms) | SlotAgreement 166 | 0 |
//! | `ReuseBallotAfterRestart` | a restarted leader takes back its old ballot from its own record and proposes from its first unchosen slot without phase 1: one ballot carries two values in a slot (phxpaxos#145) | `paxos-bug-reuse-ballot` (3 nodes, crashes shorter than the election timeout) | SlotAgreement 198 | 0 |
//! | `ProposeOwnValue` | a new leader re-proposes its own acceptor's value (else the first reported) instead of the highest-ballot one | `paxos-bug-propose-own-value` (5 nodes, partitions and pauses every 100-300ms) | SlotAgreement 90 | 2 |
//!
//! With Linearizable(kv) checked as well, `AnswerBeforeDurable` failed it
//! on 25 of the 200 seeds, at about 0.5s of checking a seed on histories
//! this broken; so the bug scenarios check SlotAgreement alone, which
//! names the slot, both values and their ballots.

mod acceptor;
pub mod config;
mod family;
pub mod properties;

pub use acceptor::Acceptor;
pub use family::MultiPaxos;

use crate::core::{Ctx, Node, NodeId, Reply, Request, RequestId};
use crate::env::disk::{decode_lines, encode_line};
use crate::workload::kv::{Kv, KvStore, Op, Output};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

const CHOSEN_FILE: &str = "paxos.chosen";
const LEADER_FILE: &str = "paxos.leader";

/// A ballot: a round, made unique by the node that runs it. Ordered by
/// round, then node; the default (round 0) is below every real ballot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ballot {
    /// The round.
    pub round: u64,
    /// The node that runs it.
    pub node: u32,
}

impl fmt::Display for Ballot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}.{}", self.round, self.node)
    }
}

/// What a node is, as a proposer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// Follows a leader (or waits for one).
    #[default]
    Follower,
    /// Runs phase 1 with its ballot.
    Candidate,
    /// Won phase 1: proposes in phase 2.
    Leader,
}

/// What a slot holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// Fills a gap a new leader found.
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

/// Deliberate mistakes, for showing that the checks catch them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bugs {
    /// See [`config::Bug::AnswerBeforeDurable`].
    pub answer_before_durable: bool,
    /// See [`config::Bug::ReuseBallotAfterRestart`].
    pub reuse_ballot_after_restart: bool,
    /// See [`config::Bug::ProposeOwnValue`].
    pub propose_own_value: bool,
}

/// Multi-Paxos's settings, as the node uses them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Minimum election timeout; each is drawn from `[min, 2 min)`.
    pub election_timeout: Duration,
    /// How often a leader sends heartbeats.
    pub heartbeat: Duration,
    /// Most values per catch-up message and resends per heartbeat.
    pub max_batch: usize,
    /// The planted bugs.
    pub bugs: Bugs,
}

impl Default for Config {
    fn default() -> Self {
        Config::from(&config::PaxosConfig::default())
    }
}

impl From<&config::PaxosConfig> for Config {
    fn from(spec: &config::PaxosConfig) -> Self {
        use config::Bug;
        let has = |bug| spec.bugs.contains(&bug);
        Config {
            election_timeout: Duration::from_nanos(spec.election_timeout.0),
            heartbeat: Duration::from_nanos(spec.heartbeat.0),
            max_batch: spec.max_batch as usize,
            bugs: Bugs {
                answer_before_durable: has(Bug::AnswerBeforeDurable),
                reuse_ballot_after_restart: has(Bug::ReuseBallotAfterRestart),
                propose_own_value: has(Bug::ProposeOwnValue),
            },
        }
    }
}

/// What Multi-Paxos nodes send each other.
#[derive(Clone, Hash)]
pub enum PaxosMsg {
    /// Phase 1a: promise `ballot` for every slot from `from` on.
    Prepare {
        /// The candidate's ballot.
        ballot: Ballot,
        /// The first slot the candidate does not know chosen.
        from: u64,
    },
    /// Phase 1b: promised, with every value accepted from `from` on.
    Promise {
        /// The ballot promised.
        ballot: Ballot,
        /// (slot, ballot accepted in, value).
        accepted: Vec<(u64, Ballot, Command)>,
    },
    /// Phase 2a: accept `command` in `slot`.
    Accept {
        /// The leader's ballot.
        ballot: Ballot,
        /// The slot.
        slot: u64,
        /// The value proposed.
        command: Command,
        /// The end of the leader's chosen prefix.
        prefix: u64,
    },
    /// Phase 2b: accepted.
    Accepted {
        /// The ballot accepted in.
        ballot: Ballot,
        /// The slot.
        slot: u64,
        /// The end of the acceptor's chosen prefix.
        prefix: u64,
    },
    /// Refused: a higher ballot was promised.
    Nack {
        /// The ballot refused.
        ballot: Ballot,
        /// The ballot promised instead.
        promised: Ballot,
    },
    /// A leader's heartbeat: every slot up to `prefix` is chosen.
    Commit {
        /// The leader's ballot.
        ballot: Ballot,
        /// The end of its chosen prefix.
        prefix: u64,
    },
    /// A node behind the leader says how far it knows what is chosen.
    Status {
        /// The ballot of the leader asked.
        ballot: Ballot,
        /// The end of its chosen prefix.
        prefix: u64,
    },
    /// Chosen values from slot `first` on, for a node behind.
    Chosen {
        /// The sender's ballot.
        ballot: Ballot,
        /// The slot of the first value.
        first: u64,
        /// The values, in slot order.
        commands: Vec<Command>,
        /// The end of the sender's chosen prefix.
        prefix: u64,
    },
}

/// Short, so that traces stay readable: values appear as slots.
impl fmt::Debug for PaxosMsg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaxosMsg::Prepare { ballot, from } => write!(f, "Prepare {ballot} from={from}"),
            PaxosMsg::Promise { ballot, accepted } => {
                write!(f, "Promise {ballot} accepted={}", accepted.len())
            }
            PaxosMsg::Accept {
                ballot, slot, prefix, ..
            } => write!(f, "Accept {ballot} slot={slot} prefix={prefix}"),
            PaxosMsg::Accepted { ballot, slot, prefix } => {
                write!(f, "Accepted {ballot} slot={slot} prefix={prefix}")
            }
            PaxosMsg::Nack { ballot, promised } => write!(f, "Nack {ballot} promised={promised}"),
            PaxosMsg::Commit { ballot, prefix } => write!(f, "Commit {ballot} prefix={prefix}"),
            PaxosMsg::Status { ballot, prefix } => write!(f, "Status {ballot} prefix={prefix}"),
            PaxosMsg::Chosen {
                ballot,
                first,
                commands,
                prefix,
            } => {
                let last = first + commands.len() as u64;
                write!(f, "Chosen {ballot} slots={first}..{last} prefix={prefix}")
            }
        }
    }
}

/// Multi-Paxos's timers.
#[derive(Clone, Debug, Hash)]
pub enum PaxosTimer {
    /// Time to check whether phase 1 is due.
    Election,
    /// Time for a leader to send heartbeats.
    Heartbeat {
        /// The ballot it was set in: a later ballot ignores it.
        ballot: Ballot,
    },
    /// Only with `AnswerBeforeDurable`: the background sync.
    Flush,
}

/// A chosen value, as the learner's file keeps it.
#[derive(Serialize, Deserialize)]
struct Learned {
    slot: u64,
    command: Command,
}

/// Phase 1 in progress.
#[derive(Debug, Default)]
struct Phase1 {
    /// The first slot it asked about.
    from: u64,
    /// Nodes that promised, as a bit set.
    promised: u64,
    /// Per slot, the value to re-propose and the ballot it was accepted in.
    reports: BTreeMap<u64, (Ballot, Command)>,
}

/// A value proposed in the leader's ballot, not yet known chosen.
#[derive(Debug)]
struct Proposal {
    command: Command,
    /// Nodes that accepted it, as a bit set.
    acks: u64,
}

/// Leader-only state, rebuilt with each ballot won.
#[derive(Debug, Default)]
struct Leadership {
    /// The slot the next new command goes in.
    next_slot: u64,
    proposals: BTreeMap<u64, Proposal>,
    /// Requests this leader proposed, by slot, to answer once applied.
    waiting: BTreeMap<u64, RequestId>,
}

/// A node of the Multi-Paxos cluster.
#[derive(Debug)]
pub struct Paxos {
    id: NodeId,
    config: Config,
    nodes: u32,
    acceptor: Acceptor,
    // Learner.
    chosen: BTreeMap<u64, Command>,
    /// Every slot up to here is chosen.
    prefix: u64,
    applied: u64,
    store: KvStore,
    /// Per client: last request applied and its output.
    sessions: BTreeMap<u32, (RequestId, Output)>,
    // Proposer.
    role: Role,
    /// The ballot it leads or runs phase 1 with.
    ballot: Ballot,
    leader: Option<NodeId>,
    /// Monotonic time it last heard from a leader it promised.
    leader_contact: u64,
    election_deadline: u64,
    /// The highest round it heard of in a refusal: where to try next.
    round_seen: u64,
    phase1: Phase1,
    lead: Leadership,
    /// What its acceptor accepted during the current step: (slot, ballot).
    journal: Vec<(u64, Ballot)>,
}

/// What property observers may look at.
#[derive(Clone, Copy, Debug)]
pub struct View<'a> {
    /// Follower, candidate or leader.
    pub role: Role,
    /// Its ballot as proposer.
    pub ballot: Ballot,
    /// Its acceptor's promise.
    pub promised: Ballot,
    /// What its acceptor accepted in the step just taken: (slot, ballot).
    pub accepted_now: &'a [(u64, Ballot)],
    /// Its acceptor.
    pub acceptor: &'a Acceptor,
    /// Every slot up to here is known chosen.
    pub prefix: u64,
}

impl Paxos {
    /// Node `id`, fresh: it recovers from its disk in `on_start`.
    pub fn new(id: NodeId, config: Config) -> Self {
        Paxos {
            id,
            config,
            nodes: 1,
            acceptor: Acceptor::default(),
            chosen: BTreeMap::new(),
            prefix: 0,
            applied: 0,
            store: KvStore::default(),
            sessions: BTreeMap::new(),
            role: Role::Follower,
            ballot: Ballot::default(),
            leader: None,
            leader_contact: 0,
            election_deadline: 0,
            round_seen: 0,
            phase1: Phase1::default(),
            lead: Leadership::default(),
            journal: Vec::new(),
        }
    }

    /// What an observer may look at.
    pub fn view(&self) -> View<'_> {
        View {
            role: self.role,
            ballot: self.ballot,
            promised: self.acceptor.promised(),
            accepted_now: &self.journal,
            acceptor: &self.acceptor,
            prefix: self.prefix,
        }
    }

    /// Its key-value state machine.
    pub fn store(&self) -> &KvStore {
        &self.store
    }

    /// The value it knows chosen in `slot`.
    pub fn chosen(&self, slot: u64) -> Option<&Command> {
        self.chosen.get(&slot)
    }

    fn majority(&self) -> u32 {
        self.nodes / 2 + 1
    }

    fn bit(node: NodeId) -> u64 {
        1 << node.0
    }

    fn election_min_ns(&self) -> u64 {
        self.config.election_timeout.as_nanos() as u64
    }

    /// Makes the acceptor's answer durable before it goes out.
    fn sync(&self, ctx: &mut Ctx<'_, Self>) {
        if !self.config.bugs.answer_before_durable {
            must_sync(ctx);
        }
    }

    fn reset_election_deadline(&mut self, ctx: &mut Ctx<'_, Self>) {
        let min = self.election_min_ns();
        let timeout = rand::Rng::gen_range(ctx.rng(), min..2 * min);
        self.election_deadline = ctx.monotonic_ns() + timeout;
    }

    /// Whether a leader was heard from within the minimum timeout.
    fn heard_lately(&self, now: u64) -> bool {
        now < self.leader_contact.saturating_add(self.election_min_ns())
    }

    /// A message from `from` in `ballot`, which this node promised: that
    /// node leads (or will), so any leadership of ours is over.
    fn heard_leader(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot) {
        debug_assert!(ballot >= self.acceptor.promised() && from != self.id);
        self.step_down(ctx);
        self.leader = Some(from);
        self.leader_contact = ctx.monotonic_ns();
        self.reset_election_deadline(ctx);
    }

    /// Gives up leading or running phase 1.
    fn step_down(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.role == Role::Follower {
            return;
        }
        self.role = Role::Follower;
        self.leader = None;
        self.phase1 = Phase1::default();
        // The request may still be chosen (a later leader re-proposes
        // it): the client retries, and its session dedupes.
        for (_, request) in std::mem::take(&mut self.lead.waiting) {
            ctx.reply(request, Reply::Redirect(None));
        }
        self.lead = Leadership::default();
    }

    /// Phase 1, with a round above any its acceptor promised.
    fn start_phase1(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.step_down(ctx);
        let round = self
            .acceptor
            .promised()
            .round
            .max(self.ballot.round)
            .max(self.round_seen)
            + 1;
        self.ballot = Ballot { round, node: self.id.0 };
        let (promised, _) = self.acceptor.promise(ctx.disk(), self.ballot);
        assert!(promised, "{} promises its own fresh ballot {}", self.id, self.ballot);
        // Durable before anyone hears of it: a restart starts above it.
        must_sync(ctx);
        self.role = Role::Candidate;
        self.leader = None;
        let from = self.prefix + 1;
        self.phase1 = Phase1 {
            from,
            promised: 0,
            reports: BTreeMap::new(),
        };
        self.reset_election_deadline(ctx);
        ctx.broadcast(PaxosMsg::Prepare {
            ballot: self.ballot,
            from,
        });
        let own = self.acceptor.since(from);
        self.on_promise(ctx, self.id, self.ballot, own);
    }

    fn on_prepare(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot, first: u64) {
        let promised = self.acceptor.promised();
        if ballot < promised {
            return ctx.send(from, PaxosMsg::Nack { ballot, promised });
        }
        // Sticky: a leader was heard from lately; do not help depose it.
        let rival = ballot > promised && self.leader != Some(from);
        if rival && self.role != Role::Leader && self.heard_lately(ctx.monotonic_ns()) {
            return;
        }
        if ballot > self.ballot {
            self.step_down(ctx);
        }
        let (ok, changed) = self.acceptor.promise(ctx.disk(), ballot);
        debug_assert!(ok, "{ballot} is at least the promise {promised}");
        if changed {
            self.sync(ctx);
            self.leader = None;
        }
        self.reset_election_deadline(ctx);
        let accepted = self.acceptor.since(first);
        ctx.send(from, PaxosMsg::Promise { ballot, accepted });
    }

    fn on_promise(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        accepted: Vec<(u64, Ballot, Command)>,
    ) {
        if self.role != Role::Candidate || ballot != self.ballot || self.phase1.promised & Self::bit(from) != 0 {
            return;
        }
        self.phase1.promised |= Self::bit(from);
        let own_first = self.config.bugs.propose_own_value;
        for (slot, b, command) in accepted {
            if slot < self.phase1.from {
                continue;
            }
            let report = self.phase1.reports.entry(slot).or_insert((b, command.clone()));
            // The bug keeps the first report: its own acceptor's comes first.
            if b > report.0 && !own_first {
                *report = (b, command);
            }
        }
        if self.phase1.promised.count_ones() >= self.majority() {
            self.become_leader(ctx);
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.role = Role::Leader;
        self.leader = Some(self.id);
        let phase1 = std::mem::take(&mut self.phase1);
        let last_reported = phase1.reports.keys().next_back().copied().unwrap_or(0);
        let last_chosen = self.chosen.keys().next_back().copied().unwrap_or(0);
        let end = last_reported.max(last_chosen).max(self.prefix);
        self.lead = Leadership {
            next_slot: end + 1,
            ..Leadership::default()
        };
        let mut reports = phase1.reports;
        for slot in phase1.from..=end {
            if self.chosen.contains_key(&slot) {
                continue;
            }
            let command = reports.remove(&slot).map_or(Command::Noop, |(_, c)| c);
            self.propose(ctx, slot, command);
        }
        if self.config.bugs.reuse_ballot_after_restart {
            let bytes = serde_json::to_vec(&self.ballot).expect("a ballot serialises");
            ctx.disk().write(LEADER_FILE, &bytes);
            must_sync(ctx);
        }
        let (ballot, prefix) = (self.ballot, self.prefix);
        ctx.broadcast(PaxosMsg::Commit { ballot, prefix });
        ctx.set_timer(self.config.heartbeat, PaxosTimer::Heartbeat { ballot });
    }

    /// Phase 2 for `slot`: the leader's own acceptor first, durably.
    fn propose(&mut self, ctx: &mut Ctx<'_, Self>, slot: u64, command: Command) {
        assert_eq!(self.role, Role::Leader, "only a leader proposes");
        debug_assert!(
            !self.lead.proposals.contains_key(&slot),
            "one value per slot and ballot"
        );
        let (ok, _) = self.acceptor.accept(ctx.disk(), slot, self.ballot, &command);
        assert!(ok, "a leader's acceptor promised no higher ballot than {}", self.ballot);
        self.journal.push((slot, self.ballot));
        self.sync(ctx);
        ctx.broadcast(PaxosMsg::Accept {
            ballot: self.ballot,
            slot,
            command: command.clone(),
            prefix: self.prefix,
        });
        let acks = Self::bit(self.id);
        self.lead.proposals.insert(slot, Proposal { command, acks });
        self.count_acks(ctx, slot);
    }

    fn on_accept(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        slot: u64,
        command: Command,
        prefix: u64,
    ) {
        let promised = self.acceptor.promised();
        if ballot < promised {
            return ctx.send(from, PaxosMsg::Nack { ballot, promised });
        }
        self.heard_leader(ctx, from, ballot);
        let (ok, changed) = self.acceptor.accept(ctx.disk(), slot, ballot, &command);
        debug_assert!(ok, "{ballot} is at least the promise {promised}");
        if changed {
            self.journal.push((slot, ballot));
            self.sync(ctx);
        }
        self.learn_prefix(ctx, ballot, prefix);
        let prefix = self.prefix;
        ctx.send(from, PaxosMsg::Accepted { ballot, slot, prefix });
    }

    fn on_accepted(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot, slot: u64) {
        if self.role != Role::Leader || ballot != self.ballot {
            return;
        }
        if let Some(p) = self.lead.proposals.get_mut(&slot) {
            p.acks |= Self::bit(from);
            self.count_acks(ctx, slot);
        }
    }

    /// A proposal a majority accepted is chosen.
    fn count_acks(&mut self, ctx: &mut Ctx<'_, Self>, slot: u64) {
        let Some(p) = self.lead.proposals.get(&slot) else {
            return;
        };
        if p.acks.count_ones() >= self.majority() {
            let p = self.lead.proposals.remove(&slot).expect("just seen");
            self.learn(ctx, slot, p.command);
            self.apply(ctx);
        }
    }

    fn on_nack(&mut self, ctx: &mut Ctx<'_, Self>, ballot: Ballot, promised: Ballot) {
        self.round_seen = self.round_seen.max(promised.round);
        if ballot == self.ballot && promised > self.ballot {
            self.step_down(ctx);
        }
    }

    fn on_commit(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot, prefix: u64) {
        let promised = self.acceptor.promised();
        if ballot < promised {
            return ctx.send(from, PaxosMsg::Nack { ballot, promised });
        }
        self.heard_leader(ctx, from, ballot);
        self.learn_prefix(ctx, ballot, prefix);
        if self.prefix < prefix {
            let prefix = self.prefix;
            ctx.send(from, PaxosMsg::Status { ballot, prefix });
        }
    }

    fn on_status(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, ballot: Ballot, prefix: u64) {
        if self.role != Role::Leader || ballot != self.ballot || prefix >= self.prefix {
            return;
        }
        let first = prefix + 1;
        let commands: Vec<Command> = self
            .chosen
            .range(first..=self.prefix)
            .take(self.config.max_batch)
            .map(|(_, c)| c.clone())
            .collect();
        let prefix = self.prefix;
        ctx.send(
            from,
            PaxosMsg::Chosen {
                ballot,
                first,
                commands,
                prefix,
            },
        );
    }

    /// Chosen values are facts whoever sends them, so they are learned
    /// whatever the ballot.
    fn on_chosen(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        from: NodeId,
        ballot: Ballot,
        first: u64,
        commands: Vec<Command>,
        prefix: u64,
    ) {
        for (slot, command) in (first..).zip(commands) {
            if !self.chosen.contains_key(&slot) {
                self.learn(ctx, slot, command);
            }
        }
        self.apply(ctx);
        if ballot >= self.acceptor.promised() && self.prefix < prefix {
            let prefix = self.prefix;
            ctx.send(from, PaxosMsg::Status { ballot, prefix });
        }
    }

    /// The leader of `ballot` has chosen every slot up to `prefix`: a
    /// value accepted in `ballot` is the one it chose.
    fn learn_prefix(&mut self, ctx: &mut Ctx<'_, Self>, ballot: Ballot, prefix: u64) {
        let mut slot = self.prefix + 1;
        while slot <= prefix {
            if !self.chosen.contains_key(&slot) {
                match self.acceptor.get(slot) {
                    Some((b, command)) if *b == ballot => {
                        let command = command.clone();
                        self.learn(ctx, slot, command);
                    }
                    _ => break,
                }
            }
            slot += 1;
        }
        self.apply(ctx);
    }

    /// Records `command` as chosen in `slot`; the file needs no sync, since
    /// a value once chosen can be learned again.
    fn learn(&mut self, ctx: &mut Ctx<'_, Self>, slot: u64, command: Command) {
        let record = Learned {
            slot,
            command: command.clone(),
        };
        ctx.disk().append(CHOSEN_FILE, &encode_line(&record));
        let before = self.chosen.insert(slot, command);
        debug_assert!(
            before.is_none() || self.config.bugs != Bugs::default(),
            "slot {slot} learned twice"
        );
        while self.chosen.contains_key(&(self.prefix + 1)) {
            self.prefix += 1;
        }
    }

    /// Applies the chosen prefix in order, answering the requests waiting.
    fn apply(&mut self, ctx: &mut Ctx<'_, Self>) {
        while self.applied < self.prefix {
            self.applied += 1;
            let slot = self.applied;
            let output = match self.chosen.get(&slot).expect("the prefix is chosen") {
                Command::Noop => None,
                Command::Client { client, request, op } => {
                    let (client, request, op) = (*client, *request, op.clone());
                    self.apply_client(client, request, &op).map(|out| (request, out))
                }
            };
            if let Some(waiting) = self.lead.waiting.remove(&slot) {
                match output {
                    Some((request, out)) if request == waiting => ctx.reply(waiting, Reply::Ok(out)),
                    // Another value took the slot: the client retries.
                    _ => ctx.reply(waiting, Reply::Redirect(self.leader)),
                }
            }
        }
    }

    /// Applies a client command once per (client, request): a retry gets
    /// the first output; a request older than the client's latest (which
    /// the client gave up on) is not applied at all.
    fn apply_client(&mut self, client: u32, request: RequestId, op: &Op) -> Option<Output> {
        match self.sessions.get(&client) {
            Some((last, out)) if *last == request => return Some(out.clone()),
            Some((last, _)) if *last > request => return None,
            _ => {}
        }
        let (out, _) = self.store.apply(op);
        self.sessions.insert(client, (request, out.clone()));
        Some(out)
    }

    /// The leader's heartbeat: its chosen prefix to all, and its oldest
    /// unanswered proposals again to each node that has not accepted them.
    fn heartbeat(&mut self, ctx: &mut Ctx<'_, Self>) {
        let (ballot, prefix) = (self.ballot, self.prefix);
        ctx.broadcast(PaxosMsg::Commit { ballot, prefix });
        for peer in ctx.peers() {
            let pending = self
                .lead
                .proposals
                .iter()
                .filter(|(_, p)| p.acks & Self::bit(peer) == 0);
            for (&slot, p) in pending.take(self.config.max_batch) {
                let command = p.command.clone();
                let msg = PaxosMsg::Accept {
                    ballot,
                    slot,
                    command,
                    prefix,
                };
                ctx.send(peer, msg);
            }
        }
    }

    /// Only with `ReuseBallotAfterRestart`: a node that led before its
    /// crash, and promised nothing higher since, leads again in the same
    /// ballot from its first unchosen slot, as if nothing had been
    /// proposed there.
    fn resume_old_ballot(&mut self, ctx: &mut Ctx<'_, Self>) {
        let Some(ballot) = ctx
            .read_file(LEADER_FILE)
            .and_then(|b| serde_json::from_slice::<Ballot>(&b).ok())
        else {
            return;
        };
        if ballot != self.acceptor.promised() {
            return;
        }
        self.ballot = ballot;
        self.role = Role::Leader;
        self.leader = Some(self.id);
        self.lead = Leadership {
            next_slot: self.prefix + 1,
            ..Leadership::default()
        };
        self.heartbeat(ctx);
        ctx.set_timer(self.config.heartbeat, PaxosTimer::Heartbeat { ballot });
    }

    fn recover_chosen(&mut self, ctx: &mut Ctx<'_, Self>) {
        let bytes = ctx.read_file(CHOSEN_FILE).unwrap_or_default();
        for learned in decode_lines::<Learned>(&bytes) {
            self.chosen.entry(learned.slot).or_insert(learned.command);
        }
        while self.chosen.contains_key(&(self.prefix + 1)) {
            self.prefix += 1;
        }
        self.apply(ctx);
    }

    /// Local invariants, after every handler.
    fn check_local(&self) {
        assert!(
            self.applied <= self.prefix,
            "applied {} > prefix {}",
            self.applied,
            self.prefix
        );
        assert!(
            self.ballot <= self.acceptor.promised() || self.role == Role::Follower,
            "{} runs {} but its acceptor promised only {}",
            self.id,
            self.ballot,
            self.acceptor.promised()
        );
        if self.role == Role::Leader {
            assert_eq!(self.leader, Some(self.id), "a leader knows it leads");
            assert_eq!(self.ballot.node, self.id.0, "a leader leads its own ballot");
        }
    }
}

/// A failed fsync stops the node (it panics), as PostgreSQL does since
/// fsyncgate: what it promised may not be durable, and retrying the sync
/// would not make it so.
fn must_sync<N: Node>(ctx: &mut Ctx<'_, N>) {
    if let Err(e) = ctx.disk().fsync() {
        panic!("{e}: a Paxos acceptor cannot go on after its promise failed to sync");
    }
}

impl Node for Paxos {
    type Msg = PaxosMsg;
    type Timer = PaxosTimer;
    type Service = Kv;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        assert!(ctx.nodes() <= 64, "ballots' vote sets are 64-bit");
        self.nodes = ctx.nodes();
        self.journal.clear();
        self.acceptor = Acceptor::recover(ctx.disk());
        self.recover_chosen(ctx);
        self.reset_election_deadline(ctx);
        let wait = self.election_deadline - ctx.monotonic_ns();
        ctx.set_timer(Duration::from_nanos(wait), PaxosTimer::Election);
        if self.config.bugs.answer_before_durable {
            ctx.set_timer(self.config.heartbeat, PaxosTimer::Flush);
        }
        if self.config.bugs.reuse_ballot_after_restart {
            self.resume_old_ballot(ctx);
        }
        self.check_local();
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: PaxosMsg) {
        self.journal.clear();
        match msg {
            PaxosMsg::Prepare { ballot, from: first } => self.on_prepare(ctx, from, ballot, first),
            PaxosMsg::Promise { ballot, accepted } => self.on_promise(ctx, from, ballot, accepted),
            PaxosMsg::Accept {
                ballot,
                slot,
                command,
                prefix,
            } => self.on_accept(ctx, from, ballot, slot, command, prefix),
            PaxosMsg::Accepted { ballot, slot, .. } => self.on_accepted(ctx, from, ballot, slot),
            PaxosMsg::Nack { ballot, promised } => self.on_nack(ctx, ballot, promised),
            PaxosMsg::Commit { ballot, prefix } => self.on_commit(ctx, from, ballot, prefix),
            PaxosMsg::Status { ballot, prefix } => self.on_status(ctx, from, ballot, prefix),
            PaxosMsg::Chosen {
                ballot,
                first,
                commands,
                prefix,
            } => self.on_chosen(ctx, from, ballot, first, commands, prefix),
        }
        self.check_local();
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: PaxosTimer) {
        self.journal.clear();
        match timer {
            PaxosTimer::Election => {
                let now = ctx.monotonic_ns();
                if self.role == Role::Leader {
                    self.election_deadline = now + self.election_min_ns();
                } else if now >= self.election_deadline {
                    self.start_phase1(ctx);
                }
                let wait = self.election_deadline.saturating_sub(now).max(1);
                ctx.set_timer(Duration::from_nanos(wait), PaxosTimer::Election);
            }
            PaxosTimer::Heartbeat { ballot } => {
                if self.role == Role::Leader && ballot == self.ballot {
                    self.heartbeat(ctx);
                    ctx.set_timer(self.config.heartbeat, PaxosTimer::Heartbeat { ballot });
                }
            }
            PaxosTimer::Flush => {
                must_sync(ctx);
                ctx.set_timer(self.config.heartbeat, PaxosTimer::Flush);
            }
        }
        self.check_local();
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request<Op>) {
        self.journal.clear();
        if self.role != Role::Leader {
            let hint = self
                .leader
                .filter(|l| *l != self.id && self.heard_lately(ctx.monotonic_ns()));
            return ctx.reply(request.id, Reply::Redirect(hint));
        }
        if let Some((last, out)) = self.sessions.get(&request.client) {
            if *last == request.id {
                return ctx.reply(request.id, Reply::Ok(out.clone()));
            }
        }
        if self.lead.waiting.values().any(|r| *r == request.id) {
            return;
        }
        let slot = self.lead.next_slot;
        self.lead.next_slot += 1;
        self.lead.waiting.insert(slot, request.id);
        let command = Command::Client {
            client: request.client,
            request: request.id,
            op: request.op,
        };
        self.propose(ctx, slot, command);
        self.check_local();
    }

    fn role(&self) -> crate::core::Role {
        match self.role {
            Role::Leader => crate::core::Role::LEADER,
            Role::Follower => crate::core::Role::follows("follower"),
            Role::Candidate => crate::core::Role::follows("candidate"),
        }
    }

    fn hash_msg(msg: &PaxosMsg, into: &mut crate::core::PayloadHasher<'_>) {
        std::hash::Hash::hash(msg, into);
    }

    fn hash_timer(timer: &PaxosTimer, into: &mut crate::core::PayloadHasher<'_>) {
        std::hash::Hash::hash(timer, into);
    }
}

#[cfg(test)]
mod tests;
