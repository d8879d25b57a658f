//! The scenario file schema, as serde types.
//!
//! Every struct denies unknown fields: a misspelt `lattency` is an error,
//! not a silently ignored setting. Defaults are chosen so that a scenario
//! states only what it cares about.

use super::duration::{Dur, SignedDur};
use serde::{Deserialize, Deserializer};

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct Scenario {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub protocol: ProtocolSpec,
    pub nodes: u32,
    /// Length of the fault phase. The run lasts `duration + recover`.
    pub duration: Dur,
    /// Seed used when `--seed` is not given. Without either, seed 0.
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub network: NetworkSpec,
    #[serde(default)]
    pub clocks: ClockSpec,
    #[serde(default)]
    pub workload: Option<WorkloadSpec>,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Heal-and-recover phase: at `duration` every partition heals, paused
    /// nodes resume and crashed nodes restart; the run goes on this long.
    #[serde(default)]
    pub recover: Option<Dur>,
    #[serde(default)]
    pub checks: Vec<CheckSpec>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum ProtocolSpec {
    /// One key-value server (node 0). Linearizable; unavailable while down.
    Single,
    /// Primary applies writes and replicates them to backups asynchronously;
    /// every node serves reads from its own copy.
    AsyncPrimaryBackup(PrimaryBackupSpec),
    /// A replicated key-value store on Raft.
    Raft(RaftSpec),
    /// A protocol from the library user's own code, run through
    /// `simulate::sim::run`; `simulate run` cannot run it.
    Custom(String),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryBackupSpec {
    /// How often the primary tells backups how long its log is, so that
    /// backups which missed updates ask for them again.
    #[serde(default = "default_heartbeat")]
    pub heartbeat: Dur,
}

fn default_heartbeat() -> Dur {
    Dur::from_millis(50)
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RaftSpec {
    /// Minimum election timeout; each node draws each timeout from
    /// `[min, 2 min)` on its own clock.
    #[serde(default = "default_election_timeout")]
    pub election_timeout: Dur,
    #[serde(default = "default_heartbeat")]
    pub heartbeat: Dur,
    #[serde(default)]
    pub reads: RaftReads,
    /// Most entries in one append message.
    #[serde(default = "default_max_batch")]
    pub max_batch: u32,
    /// Deliberate mistakes to plant; none by default.
    #[serde(default)]
    pub bugs: Vec<RaftBug>,
}

impl Default for RaftSpec {
    fn default() -> Self {
        RaftSpec {
            election_timeout: default_election_timeout(),
            heartbeat: default_heartbeat(),
            reads: RaftReads::default(),
            max_batch: default_max_batch(),
            bugs: Vec::new(),
        }
    }
}

fn default_election_timeout() -> Dur {
    Dur::from_millis(150)
}

fn default_max_batch() -> u32 {
    64
}

/// How a Raft leader serves reads.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum RaftReads {
    /// As log entries, like writes.
    Log,
    /// After a heartbeat round confirms the leader (thesis 6.4).
    #[default]
    ReadIndex,
    /// Alone while a lease holds; safe while every clock's drift stays
    /// within `drift_bound_ppm` (the lease shrinks by `(1-ρ)/(1+ρ)`).
    Lease { drift_bound_ppm: u64 },
}

/// Planted bugs, for showing that the checks catch real mistakes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub enum RaftBug {
    /// Grant votes without checking that the candidate's log is up to date.
    VoteWithoutLogCheck,
    /// Commit entries of earlier terms by counting replicas (figure 8).
    CommitPreviousTerm,
    /// Answer votes and appends before fsync; a background flush syncs.
    NoFsync,
    /// The leader reads its own state without confirming it still leads.
    StaleLeaderRead,
    /// Leases as long as the election timeout, ignoring clock drift.
    LeaseIgnoresDrift,
}

impl RaftBug {
    /// The name used in scenario file names: `raft-bug-<name>.ron`.
    pub fn slug(self) -> &'static str {
        match self {
            RaftBug::VoteWithoutLogCheck => "vote-without-log-check",
            RaftBug::CommitPreviousTerm => "commit-previous-term",
            RaftBug::NoFsync => "no-fsync",
            RaftBug::StaleLeaderRead => "stale-leader-read",
            RaftBug::LeaseIgnoresDrift => "lease-ignores-drift",
        }
    }
}

impl ProtocolSpec {
    pub fn name(&self) -> &str {
        match self {
            ProtocolSpec::Single => "single",
            ProtocolSpec::AsyncPrimaryBackup(_) => "async-primary-backup",
            ProtocolSpec::Raft(_) => "raft",
            ProtocolSpec::Custom(name) => name,
        }
    }
}

/// A probability in [0, 1], checked where it is read so the error points at it.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Probability(pub f64);

impl<'de> Deserialize<'de> for Probability {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = f64::deserialize(d)?;
        if !(0.0..=1.0).contains(&p) {
            return Err(serde::de::Error::custom(format!(
                "probability {p} is out of range; expected a number from 0.0 to 1.0"
            )));
        }
        Ok(Probability(p))
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Latency {
    Constant(Dur),
    /// Uniform between the two bounds, inclusive.
    Uniform(Dur, Dur),
    /// Normal, cut off at zero.
    Normal {
        mean: Dur,
        std_dev: Dur,
    },
    Exponential(Dur),
}

/// With `probability`, a message is delayed by an extra draw from `extra`:
/// the long tail of a real network (GC pauses, retransmits, bufferbloat).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tail {
    pub probability: Probability,
    pub extra: Latency,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    #[serde(default = "default_latency")]
    pub latency: Latency,
    #[serde(default)]
    pub tail: Option<Tail>,
    #[serde(default)]
    pub loss: Probability,
    #[serde(default)]
    pub duplicate: Probability,
    /// Per-link overrides, applied in order (a later one wins).
    #[serde(default)]
    pub links: Vec<LinkSpec>,
}

fn default_latency() -> Latency {
    Latency::Constant(Dur::from_millis(1))
}

impl Default for NetworkSpec {
    fn default() -> Self {
        NetworkSpec {
            latency: default_latency(),
            tail: None,
            loss: Probability(0.0),
            duplicate: Probability(0.0),
            links: Vec::new(),
        }
    }
}

/// Overrides for the directed links from each node in `from` to each in `to`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    pub from: Vec<u32>,
    pub to: Vec<u32>,
    #[serde(default)]
    pub latency: Option<Latency>,
    #[serde(default)]
    pub tail: Option<Tail>,
    #[serde(default)]
    pub loss: Option<Probability>,
    #[serde(default)]
    pub duplicate: Option<Probability>,
}

/// Each node draws its drift and offset uniformly from these ranges.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockSpec {
    pub drift_ppm: (i64, i64),
    pub offset: (SignedDur, SignedDur),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    pub clients: u32,
    /// Operations over all clients together.
    pub ops: u32,
    #[serde(default = "default_keys")]
    pub keys: u32,
    #[serde(default)]
    pub mix: Mix,
    /// How many of the clients (the last ones) only read, whatever the
    /// mix: readers that stay with one node while writers move on, as in
    /// Jepsen's separate reader processes.
    #[serde(default)]
    pub readers: u32,

    /// A client gives up on an operation after this long; its outcome is
    /// then unknown (indeterminate).
    #[serde(default = "default_timeout")]
    pub timeout: Dur,
    /// Resend a request left unanswered this long to the next node (same
    /// request id). Only for protocols that deduplicate retried requests,
    /// such as Raft; default: no resend (redirects are still followed).
    #[serde(default)]
    pub retry: Option<Dur>,

    /// Mean pause between one client's operations (exponential). Default:
    /// spread the operations over the fault phase.
    #[serde(default)]
    pub think: Option<Dur>,
}

fn default_keys() -> u32 {
    1
}

fn default_timeout() -> Dur {
    Dur::from_secs(1)
}

/// Relative weights of the operation kinds; they need not sum to 1.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Mix {
    #[serde(default)]
    pub read: f64,
    #[serde(default)]
    pub write: f64,
    #[serde(default)]
    pub append: f64,
    #[serde(default)]
    pub cas: f64,
}

impl Default for Mix {
    fn default() -> Self {
        Mix {
            read: 0.5,
            write: 0.5,
            append: 0.0,
            cas: 0.0,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    /// A fault at a fixed time from the start of the run.
    At(Dur, Fault),
    /// A generator of random faults, each undone after a random duration.
    Random(RandomFaults),
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFaults {
    /// Time between the starts of two faults, drawn uniformly.
    pub every: (Dur, Dur),
    /// How long each fault lasts before it is undone (heal, restart, resume).
    #[serde(default = "default_fault_duration")]
    pub duration: (Dur, Dur),
    pub kinds: Vec<FaultKind>,
    /// Size of clock jumps, drawn uniformly; the sign is a coin flip.
    #[serde(default = "default_jump")]
    pub jump: (Dur, Dur),
    #[serde(default)]
    pub start: Dur,
    /// Default: the end of the fault phase.
    #[serde(default)]
    pub stop: Option<Dur>,
}

fn default_fault_duration() -> (Dur, Dur) {
    (Dur::from_millis(500), Dur::from_secs(2))
}

fn default_jump() -> (Dur, Dur) {
    (Dur::from_millis(100), Dur::from_secs(1))
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub enum FaultKind {
    Partition,
    PartitionOneWay,
    Crash,
    Pause,
    ClockJump,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Fault {
    /// Cut links both ways; adds to any partition already in place.
    Partition(Shape),
    /// Cut the links from every node of `from` to every node of `to`.
    PartitionOneWay {
        from: Target,
        to: Target,
    },
    /// Restore every link.
    Heal,
    Crash(Target),
    Restart(Target),
    Pause(Target),
    Resume(Target),
    /// Step the node's wall clock (what `now()` returns) by this much.
    ClockJump(Target, SignedDur),
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Shape {
    /// The target nodes on one side, everyone else on the other.
    Isolate(Target),
    /// A random majority and the minority that is left.
    Majority,
    /// Two halves that only one bridge node connects.
    Bridge,
    /// Nodes on a random ring; each talks to its nearest neighbours, a
    /// majority each, but no two see the same majority.
    Ring,
    /// Explicit groups; nodes named in no group form one more group.
    Groups(Vec<Vec<u32>>),
}

/// Who a fault hits, resolved when it happens.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Target {
    Node(u32),
    Nodes(Vec<u32>),
    /// One node picked at random among those the fault can hit.
    Random,
    /// The node(s) that currently report the Leader role (or Primary).
    Leader,
    /// A random minority: (nodes - 1) / 2 nodes.
    Minority,
    /// A random majority: nodes / 2 + 1 nodes.
    Majority,
    All,
    Crashed,
    Paused,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum CheckSpec {
    /// After the heal at the end of the fault phase, an operation invoked
    /// after the heal completes ok within this bound.
    Recovers { within: Dur },
    /// The recorded client history is linearizable for this model.
    Linearizable(HistoryModel),
    /// Raft: at most one leader per term.
    ElectionSafety,
    /// Raft: two logs with an entry of the same index and term are
    /// identical up to that index.
    LogMatching,
    /// Raft: a new leader's log holds every entry committed before.
    LeaderCompleteness,
    /// Raft: no two nodes apply different commands at one index.
    StateMachineSafety,
    /// Raft: after the heal, within this bound, a leader is elected whose
    /// term a majority of nodes share.
    ElectsLeader { within: Dur },
}

impl CheckSpec {
    /// Checks that observe Raft's node states.
    pub fn is_raft_invariant(&self) -> bool {
        matches!(
            self,
            CheckSpec::ElectionSafety
                | CheckSpec::LogMatching
                | CheckSpec::LeaderCompleteness
                | CheckSpec::StateMachineSafety
                | CheckSpec::ElectsLeader { .. }
        )
    }
}

/// Models a run's key-value history can be checked against.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum HistoryModel {
    /// Per-key registers with get, put, append and cas; keys start absent.
    Kv,
}

impl Shape {
    /// Fewest nodes for which the shape is a real partition.
    pub fn min_nodes(&self) -> u32 {
        match self {
            Shape::Isolate(_) | Shape::Groups(_) => 2,
            Shape::Majority | Shape::Bridge => 3,
            // With 3 nodes every node's ring neighbourhood is the whole ring.
            Shape::Ring => 4,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Shape::Isolate(_) => "Isolate",
            Shape::Majority => "Majority",
            Shape::Bridge => "Bridge",
            Shape::Ring => "Ring",
            Shape::Groups(_) => "Groups",
        }
    }
}
