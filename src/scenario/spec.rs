//! The scenario file schema, as serde types.
//!
//! Every struct denies unknown fields: a misspelt `lattency` is an error,
//! not a silently ignored setting. Defaults are chosen so that a scenario
//! states only what it cares about.

use super::duration::{Dur, SignedDur};
use super::named::Named;
use serde::{Deserialize, Deserializer};

/// A scenario file, as parsed: what to run, under which faults, checked how.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename = "Scenario")]
pub struct Scenario {
    /// A short name for reports.
    pub name: String,
    /// What it shows, for people.
    #[serde(default)]
    pub description: String,
    /// The protocol family and its config, `Raft(...)`; the family parses it.
    pub protocol: Named,
    /// How many nodes.
    pub nodes: u32,
    /// Length of the fault phase. The run lasts `duration + recover`.
    /// At most 24h ([`super::validate::PHASE_MAX`]).
    pub duration: Dur,
    /// Seed used when `--seed` is not given. Without either, seed 0.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Latency, loss, duplication, per-link overrides.
    #[serde(default)]
    pub network: NetworkSpec,
    /// How far each node's clocks drift and are offset.
    #[serde(default)]
    pub clocks: ClockSpec,
    /// The clients and what they ask.
    #[serde(default)]
    pub workload: Option<WorkloadSpec>,
    /// The fault plan.
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// Heal-and-recover phase: at `duration` every partition heals, paused
    /// nodes resume and crashed nodes restart; the run goes on this long.
    /// At most 24h, like `duration`.
    #[serde(default)]
    pub recover: Option<Dur>,
    /// What to check: generic checks and the family's properties.
    #[serde(default)]
    pub checks: Vec<Named>,
    /// Whether the scenario is meant to pass, or to show a bug.
    #[serde(default)]
    pub expect: Expect,
    /// How much one run may do before it stops with verdict unknown.
    #[serde(default)]
    pub budget: RunBudget,
}

/// What one run may use before it stops early with verdict `unknown`,
/// naming the budget that ran out. Both are counted, never measured, so a
/// seed gets the same verdict on every machine; and they live in the
/// scenario, not on the command line, so that a repro replays the same
/// verdict.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RunBudget {
    /// Most trace events (what a summary counts as `events`). Default
    /// 5,000,000: over 70 times the busiest shipped scenario, and a few
    /// seconds of a runaway run.
    pub events: u64,
    /// Most megabytes (of 2^20 bytes) the run may keep, counted as the
    /// trace's text plus [`RunBudget::ITEM_BYTES`] for each message in
    /// flight and each history event. Default 256: 50 times the busiest
    /// shipped scenario. The process itself uses up to a few times more
    /// (the trace is written out, checked and drawn after the run).
    pub memory_mb: u64,
}

impl RunBudget {
    /// What a message in flight or a history event is counted as.
    pub const ITEM_BYTES: u64 = 128;

    /// [`RunBudget::memory_mb`] in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.memory_mb.saturating_mul(1 << 20)
    }
}

impl Default for RunBudget {
    fn default() -> Self {
        RunBudget {
            events: 5_000_000,
            memory_mb: 256,
        }
    }
}

/// What a scenario is meant to show.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum Expect {
    /// Every check passes.
    #[default]
    Passes,
    /// A bug demonstration: these checks fail (on some seeds); no other
    /// check may.
    Fails(Vec<Named>),
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

/// The distribution a message's one-way delay is drawn from; each message
/// draws its own, so jitter reorders messages.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Latency {
    /// Every message takes exactly this long.
    Constant(Dur),
    /// Uniform between the two bounds, inclusive.
    Uniform(Dur, Dur),
    /// Normal, cut off at zero.
    Normal {
        /// Centre of the distribution.
        mean: Dur,
        /// Spread; with a large one relative to `mean`, many draws are cut
        /// to zero.
        std_dev: Dur,
    },
    /// Exponential with this mean: mostly short, with a few long delays.
    Exponential(Dur),
}

/// With `probability`, a message is delayed by an extra draw from `extra`:
/// the long tail of a real network (GC pauses, retransmits, bufferbloat).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Tail {
    /// Chance that a given message gets the extra delay.
    pub probability: Probability,
    /// The distribution of the extra delay, added to the normal draw.
    pub extra: Latency,
}

/// The network between nodes: how long messages take and how often they are
/// lost or duplicated, on every link unless `links` overrides it. Partitions
/// are faults, not part of this.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// One-way delay of each message. Default: a constant 1ms.
    #[serde(default = "default_latency")]
    pub latency: Latency,
    /// An occasional extra delay on top of `latency`. Default: none.
    #[serde(default)]
    pub tail: Option<Tail>,
    /// Chance that a message is dropped. Default: 0.
    #[serde(default)]
    pub loss: Probability,
    /// Chance that a message is delivered twice; the copy draws its own
    /// latency. Default: 0.
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
    /// The sending ends of the links.
    pub from: Vec<u32>,
    /// The receiving ends of the links.
    pub to: Vec<u32>,
    /// Replaces the network's latency on these links; `None` keeps it.
    #[serde(default)]
    pub latency: Option<Latency>,
    /// Replaces the network's tail on these links; `None` keeps it.
    #[serde(default)]
    pub tail: Option<Tail>,
    /// Replaces the network's loss on these links; `None` keeps it.
    #[serde(default)]
    pub loss: Option<Probability>,
    /// Replaces the network's duplication on these links; `None` keeps it.
    #[serde(default)]
    pub duplicate: Option<Probability>,
}

/// Each node draws its drift and offset uniformly from these ranges.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClockSpec {
    /// (low, high) of each node's clock rate error, in parts per million;
    /// positive runs fast. Default: no drift.
    pub drift_ppm: (i64, i64),
    /// (low, high) of each node's fixed wall-clock offset from global time.
    /// Default: none.
    pub offset: (SignedDur, SignedDur),
}

/// The clients: how many, how much they ask, and their session rules;
/// `keys`, `mix` and `readers` are the key-value service's.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// How many clients.
    pub clients: u32,
    /// Operations over all clients together. Without it, clients go on
    /// until the run ends, recovery phase included.
    #[serde(default)]
    pub ops: Option<u32>,
    /// Operations per second over all clients (sets `think`).
    #[serde(default)]
    pub rate: Option<f64>,
    /// Key-value: how many keys (`k0`, `k1`...).
    #[serde(default = "default_keys")]
    pub keys: u32,
    /// Key-value: relative weights of the operation kinds.
    #[serde(default)]
    pub mix: Mix,
    /// Key-value: how many of the clients (the last ones) only read,
    /// whatever the mix, as in Jepsen's separate reader processes.
    #[serde(default)]
    pub readers: u32,
    /// A client gives up on an operation after this long; its outcome is
    /// then unknown (indeterminate). At least 1ms
    /// ([`super::validate::TIMER_MIN`]).
    #[serde(default = "default_timeout")]
    pub timeout: Dur,
    /// Resend a request left unanswered this long to the next node (same
    /// request id). Only for protocols that deduplicate retried requests;
    /// default: no resend (redirects are still followed). At least 1ms.
    #[serde(default)]
    pub retry: Option<Dur>,
    /// Mean pause between one client's operations (exponential). Default:
    /// with `ops`, spread them over the fault phase; without, 10ms.
    #[serde(default)]
    pub think: Option<Dur>,
    /// Which node each operation starts at.
    #[serde(default)]
    pub routing: Routing,
    /// This long after the heal, every client ends its workload; once
    /// `timeout` more has passed (nothing is pending any more), each reads
    /// every key once (recorded like any other operation): the final reads
    /// `NoLostWrites` judges. Needs `recover`, and must end inside it.
    #[serde(default)]
    pub final_reads: Option<Dur>,
}

impl Default for WorkloadSpec {
    fn default() -> Self {
        WorkloadSpec {
            clients: 1,
            ops: None,
            rate: None,
            keys: default_keys(),
            mix: Mix::default(),
            readers: 0,
            timeout: default_timeout(),
            retry: None,
            think: None,
            routing: Routing::default(),
            final_reads: None,
        }
    }
}

impl WorkloadSpec {
    /// Mean pause between one client's operations: `think`, else from
    /// `rate`, else the `ops` spread over the fault phase, else 10ms.
    pub fn think_mean_ns(&self, fault_phase_ns: u64) -> u64 {
        if let Some(t) = self.think {
            return t.0;
        }
        let clients = u64::from(self.clients);
        match (self.rate, self.ops) {
            (Some(rate), _) => (clients as f64 * 1e9 / rate) as u64,
            (None, Some(ops)) => fault_phase_ns.saturating_mul(clients) / u64::from(ops.max(1)),
            (None, None) => THINK_NS_DEFAULT,
        }
    }
}

/// Mean think time of a workload without `ops`, `rate` or `think`.
pub const THINK_NS_DEFAULT: u64 = 10_000_000;

/// Which node a client's operation starts at (redirects and retries then
/// move it within the operation).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum Routing {
    /// Client i asks node i mod n, every time.
    Home,
    /// It stays where redirects and retries led it.
    #[default]
    FollowRedirects,
    /// As FollowRedirects, and after a timeout it moves to the next node.
    Rediscover,
    /// Each operation asks the next node in turn.
    RoundRobin,
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
    /// Weight of reads of one key. Default: 0.5 when no mix is given.
    #[serde(default)]
    pub read: f64,
    /// Weight of blind writes (puts) of a fresh value. Default: 0.5 when
    /// no mix is given.
    #[serde(default)]
    pub write: f64,
    /// Weight of appends to a key's value.
    #[serde(default)]
    pub append: f64,
    /// Weight of compare-and-sets from the last value the client saw for
    /// the key to a fresh one.
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

/// One entry of a scenario's `faults` list: a scripted fault, or a
/// generator of random ones.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultSpec {
    /// A fault at a fixed time from the start of the run.
    At(Dur, Fault),
    /// A generator of random faults, each undone after a random duration.
    Random(RandomFaults),
}

/// Random faults from `start` to `stop`: one every `every`, of a kind drawn
/// from `kinds`, each undone after `duration` (clock jumps are not undone).
/// All draws are made when the run starts, from the nemesis stream.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomFaults {
    /// Time between the starts of two faults, drawn uniformly.
    pub every: (Dur, Dur),
    /// How long each fault lasts before it is undone (heal, restart, resume).
    #[serde(default = "default_fault_duration")]
    pub duration: (Dur, Dur),
    /// The kinds to draw from, each entry equally likely (so listing a kind
    /// twice makes it twice as likely).
    pub kinds: Vec<FaultKind>,
    /// Size of clock jumps, drawn uniformly; the sign is a coin flip.
    #[serde(default = "default_jump")]
    pub jump: (Dur, Dur),
    /// When the generator starts; its first fault comes one `every` draw
    /// later. Default: the start of the run.
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

/// A kind of fault a random generator can draw; the nemesis picks the
/// target and the details when the fault starts.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub enum FaultKind {
    /// A two-way partition of a random [`Shape`] that the cluster is large
    /// enough for (`Isolate` of one random node always is); healed at its
    /// end.
    Partition,
    /// One random node can no longer send to the others, or can no longer
    /// hear them (a coin flip); healed at its end.
    PartitionOneWay,
    /// Crashes one random node that is not crashed; restarted at its end.
    Crash,
    /// Pauses one random node that is up; resumed at its end.
    Pause,
    /// Jumps one random node's wall clock forward or back by a size drawn
    /// from the generator's `jump`; never undone.
    ClockJump,
}

/// One fault, as a scenario scripts it with `At` and as a recorded schedule
/// writes back what was played. A fault whose target names no eligible node
/// is skipped.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub enum Fault {
    /// Cut links both ways; adds to any partition already in place.
    Partition(Shape),
    /// Cut the links from every node of `from` to every node of `to`.
    PartitionOneWay {
        /// The nodes whose messages are cut off.
        from: Target,
        /// The nodes that no longer hear them.
        to: Target,
    },
    /// Restore every link.
    Heal,
    /// Cut exactly these directed links (from, to): how a recorded
    /// schedule writes the shapes a random partition drew.
    CutLinks(Vec<(u32, u32)>),
    /// Cut exactly these directed links, as a one-way partition: how a
    /// recorded schedule writes what a `PartitionOneWay` cut.
    CutLinksOneWay(Vec<(u32, u32)>),
    /// Restore exactly these directed links.
    HealLinks(Vec<(u32, u32)>),
    /// Crash the targeted nodes that are not crashed already: they stop,
    /// and lose everything not synced to disk.
    Crash(Target),
    /// Restart the targeted nodes that are crashed, from their disks.
    Restart(Target),
    /// Pause the targeted nodes that are up; they keep their state.
    Pause(Target),
    /// Resume the targeted nodes that are paused.
    Resume(Target),
    /// Step the node's wall clock (what `now()` returns) by this much.
    ClockJump(Target, SignedDur),
}

/// How a partition splits the cluster; it cuts the links between the parts
/// in both directions.
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
    /// This node, by index from 0.
    Node(u32),
    /// These nodes, by index from 0.
    Nodes(Vec<u32>),
    /// One node picked at random among those the fault can hit.
    Random,
    /// The node(s) that currently report the Leader role (or Primary).
    Leader,
    /// A random minority: (nodes - 1) / 2 nodes.
    Minority,
    /// A random majority: nodes / 2 + 1 nodes.
    Majority,
    /// Every node the fault can hit.
    All,
    /// The nodes that are crashed now (what `Restart` wants).
    Crashed,
    /// The nodes that are paused now (what `Resume` wants).
    Paused,
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

    /// The variant's name without its contents, for messages and for
    /// writing unit shapes back as RON.
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
