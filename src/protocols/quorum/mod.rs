//! `quorum`: a Dynamo-style key-value store replicated by quorums
//! (DeCandia et al., "Dynamo: Amazon's Highly Available Key-value Store",
//! SOSP 2007; Cassandra's and Riak's N/R/W).
//!
//! - Placement: each key lives on its first `n` nodes of a consistent-hash
//!   ring ([`ring`]); the nodes after them are its fallbacks.
//! - Any node coordinates a client's request. A read asks the `n` home
//!   replicas and answers with the newest value among the first `r`
//!   replies. A write first reads versions from `r` home replicas, stamps
//!   the value with a version above all of them (a Lamport timestamp, tied
//!   by node id and boot count), sends it to the `n` home replicas, and
//!   answers once `w` acknowledged. Versions decide: a replica keeps the
//!   newer of what it holds and what arrives (last write wins).
//! - Version vectors (`versions: VersionVectors`) instead: a write's clock
//!   is the join of the clocks its version read saw, plus one write of its
//!   coordinator's life (actor = node and boot, so a restart never reuses
//!   a count). A replica keeps every value no other value's clock descends
//!   from: concurrent writes stay side by side as siblings, reads return
//!   them all (`Output::Siblings`), and a write supersedes exactly the
//!   siblings it read. Repair, hints and anti-entropy merge sibling sets
//!   the same way ([`versions::Held`]).
//! - Durability: a replica appends each value it takes to its data file
//!   and fsyncs before it acknowledges; a restart replays the file.
//! - Read repair: a read pushes the value it returned to every replica
//!   that answered with an older one, including replies that arrive after
//!   the answer.
//! - Sloppy quorum (`sloppy: true`): a write that a home replica has not
//!   acknowledged within `hint_after` also goes to a fallback, which keeps
//!   it as a durable hint and hands it to the home replica on each sync
//!   tick until that replica has it. Hints never count toward `w`.
//! - Anti-entropy: every `sync_every` (on the node's own clock) a node
//!   sends one peer, in turn, the versions of the keys both replicate; each
//!   side then pushes what the other lacks. After a heal this brings every
//!   replica of every key to the newest version within a few rounds.
//! - cas and append are refused at validation: under quorums a
//!   read-modify-write is not atomic (two coordinators can read the same
//!   old value and both write).
//!
//! # Consistency of each configuration, and why (CAP)
//!
//! - Strict quorums with `r + w > n` (e.g. 3/2/2): every read quorum meets
//!   every write quorum in at least one replica, and a write's version read
//!   meets every completed write's quorum, so each write's version exceeds
//!   every write that completed before it began. A read therefore returns
//!   the latest completed write or a concurrent one: a regular register,
//!   judged by `NoStaleReads`. Acknowledged writes are on `w` fsynced
//!   replicas and are only ever replaced by newer versions, so
//!   `NoLostWrites` holds, and anti-entropy makes replicas `Converge` after
//!   the heal. It is not linearizable: read repair does not block, so a
//!   read concurrent with a write may see the new value and a later read
//!   the old one. On the CAP side it picks consistency: a coordinator that
//!   cannot reach `r` (or `w`) home replicas of a key fails reads (or
//!   leaves writes unanswered) until the partition heals, which shows in
//!   the latency plot as failures and timeouts during partitions.
//! - `r + w <= n` (e.g. 3/1/1): a read quorum can miss every replica that
//!   took the latest write, so reads go stale (`NoStaleReads` fails; see
//!   `quorum-weak-r1-w1`): available with fewer replicas, eventually
//!   consistent only. Replicas still converge after the heal.
//! - Version vectors with `r + w > n`: the same regular reads, judged per
//!   sibling (a read is fresh if one of its siblings is: the read quorum
//!   meets the latest completed write's, whose replica holds that write or
//!   a descendant), no lost writes, convergence to one sibling set. What
//!   they add over last write wins is that concurrent writes are not
//!   silently dropped: `KeepsSiblings` (at the end) asks that every
//!   sibling a home replica took is still held or superseded by a write
//!   whose clock descends from it. The history checks cannot ask this (a
//!   store that keeps one of two concurrent writes is a regular register
//!   too); a replica that drops concurrent siblings passed `NoStaleReads`
//!   and `NoLostWrites` on 100 of 100 seeds of `quorum-version-vectors`
//!   and failed `KeepsSiblings` on 73. The price: clients must resolve
//!   siblings (a put after a read of siblings replaces them all), and
//!   clocks grow with each coordinator life that wrote a key.
//! - Sloppy quorum, correct (hints do not count): same guarantees as the
//!   strict quorum it is; hints only speed convergence after a heal.
//!   Counting hints toward `w` is Dynamo's own availability choice and it
//!   gives up the intersection: a planted bug here.
//!
//! # Planted bugs
//!
//! - `HintedCountsTowardW`: a sloppy quorum counted as a strict one:
//!   fallbacks' stand-in answers count toward the version read's `r` and
//!   their hinted acknowledgements toward `w`. A write acknowledged by one
//!   home replica and a fallback is missed by a read of the other two home
//!   replicas: `NoStaleReads` fails.
//! - `WallClockLww`: last-write-wins by the coordinator's wall clock, with
//!   no version read (Cassandra's client timestamps; Jepsen on Riak and
//!   Cassandra). A coordinator whose clock is behind stamps a later write
//!   below an earlier one; replicas keep the earlier one and still
//!   acknowledge: the acknowledged write is silently dropped
//!   (`NoLostWrites`).
//! - `RepairOverwritesNewer`: read repair pushes the value the read
//!   returned to every replica that answered differently, newer ones
//!   included, and replicas take a repair as given: a reply that arrives
//!   after a newer write landed on its replica gets that write overwritten
//!   with the older value (`NoStaleReads`, `NoLostWrites`).
//!
//! # Measured
//!
//! `quorum-kv` (5 nodes, every fault kind) and `quorum-clock-skew` (drift
//! up to 45%, offsets up to 2s, jumps, sloppy quorum) passed seeds 0..500
//! with `NoStaleReads`, `NoLostWrites`, `Converges(within: 5s)` and
//! `Recovers(within: 2s)`; so did each bug scenario with its bug removed,
//! and `quorum-version-vectors` (quorum-kv with version vectors and a
//! sloppy quorum, `KeepsSiblings` too; about 4% of its reads return
//! siblings). The same with `r: 1, w: 1` failed `NoStaleReads` on 100 of
//! 100 seeds. The bugs `WallClockLww` and `RepairOverwritesNewer` plant
//! mistakes of last write wins and are refused with version vectors.
//! Over seeds 0..200 (`cargo test --release --test conformance --
//! --ignored --nocapture`):
//!
//! | configuration | scenario | seeds failing as expected | by check | first |
//! |---|---|---|---|---|
//! | `r: 1, w: 1` (R+W<=N) | `quorum-weak-r1-w1` | 199 | NoStaleReads 199, NoLostWrites 0 | 0 |
//! | `HintedCountsTowardW` | `quorum-bug-hinted-counts-toward-w` | 200 | NoStaleReads 200 | 0 |
//! | `WallClockLww` | `quorum-bug-wall-clock-lww` | 200 | NoLostWrites 179, NoStaleReads 200 | 0 |
//! | `RepairOverwritesNewer` | `quorum-bug-repair-overwrites-newer` | 180 | NoStaleReads 180, NoLostWrites 1 | 0 |

pub mod config;
mod family;
pub mod properties;
pub mod ring;
#[cfg(test)]
mod tests;
pub mod versions;

pub use family::QuorumFamily;

use crate::core::{Ctx, Node, NodeId, Reply, Request, RequestId, Role, Value};
use crate::env::disk::{decode_lines, encode_line};
use crate::workload::kv::{Kv, Op};
use config::{Bug, QuorumConfig, Versions};
use rand::Rng;
use ring::Ring;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
pub use versions::{Held, Stored, Tag, Version};

const DATA: &str = "quorum.data";
const HINTS: &str = "quorum.hints";
const BOOTS: &str = "quorum.boots";

/// What nodes send each other.
#[derive(Clone, Debug, Hash)]
pub enum QMsg {
    /// A coordinator asks a replica for its copy of `key` (a read, or a
    /// write's version read).
    Read {
        /// The client request it serves.
        op: RequestId,
        /// The key.
        key: String,
    },
    /// A replica's copy, if it has one.
    ReadReply {
        /// The request.
        op: RequestId,
        /// Its copy.
        stored: Option<Held>,
    },
    /// A coordinator's write to a home replica.
    Write {
        /// The request.
        op: RequestId,
        /// The key.
        key: String,
        /// The versioned value.
        stored: Held,
    },
    /// A write to a fallback, to keep for home replica `home`.
    Hint {
        /// The request.
        op: RequestId,
        /// The key.
        key: String,
        /// The versioned value.
        stored: Held,
        /// The home replica it stands in for.
        home: NodeId,
    },
    /// A replica (or fallback) holds the write durably.
    Ack {
        /// The request.
        op: RequestId,
    },
    /// Read repair: a newer value than the replica answered with.
    Repair {
        /// The key.
        key: String,
        /// The value.
        stored: Held,
    },
    /// A fallback hands a hint to its home replica.
    Handoff {
        /// The key.
        key: String,
        /// The value.
        stored: Held,
    },
    /// The home replica holds the handed-off value durably.
    HandoffAck {
        /// The key.
        key: String,
        /// The version handed off.
        version: Tag,
    },
    /// Anti-entropy: the sender's versions of the keys both replicate.
    Digest {
        /// (key, version), in key order.
        versions: Vec<(String, Tag)>,
    },
    /// Anti-entropy: send me your copies of these keys.
    Pull {
        /// The keys.
        keys: Vec<String>,
    },
    /// Anti-entropy: copies newer than (or missing from) the receiver's.
    Push {
        /// (key, value), in key order.
        entries: Vec<(String, Held)>,
    },
}

/// What a node's timers carry.
#[derive(Clone, Debug, Hash)]
pub enum QTimer {
    /// A request's quorum did not come in time.
    Expire(RequestId),
    /// A write's home replicas are slow: hint to fallbacks.
    Sloppy(RequestId),
    /// Anti-entropy with the next peer, and hint handoff.
    Sync,
}

/// A line of the data file: a value the replica took.
#[derive(Debug, Serialize, Deserialize)]
struct DataLine {
    key: String,
    stored: Held,
}

/// A line of the hints file: a hint kept (`Some`) or handed off (`None`).
#[derive(Debug, Serialize, Deserialize)]
struct HintLine {
    home: NodeId,
    key: String,
    stored: Option<Held>,
}

/// A read this node coordinates.
#[derive(Debug)]
struct ReadOp {
    key: String,
    home: Vec<NodeId>,
    replies: BTreeMap<NodeId, Option<Held>>,
    /// What the client was told, once it was.
    answer: Option<Option<Held>>,
}

/// A write this node coordinates.
#[derive(Debug)]
struct WriteOp {
    key: String,
    /// The key's preference list: `n` home replicas, then fallbacks.
    preference: Vec<NodeId>,
    value: String,
    /// Phase 1: the versions replicas reported.
    versions: BTreeMap<NodeId, Option<Tag>>,
    /// Phase 2: the versioned value sent, and who holds it.
    stored: Option<Held>,
    acks: BTreeSet<NodeId>,
    /// Fallbacks already asked to stand in.
    fallbacks_used: usize,
}

#[derive(Debug)]
enum Pending {
    Read(ReadOp),
    Write(WriteOp),
}

/// The settings a node runs with.
#[derive(Clone, Debug)]
struct Settings {
    n: u32,
    r: usize,
    w: usize,
    sloppy: bool,
    hint_after: Duration,
    request_timeout: Duration,
    sync_every: Duration,
    anti_entropy: bool,
    read_repair: bool,
    vectors: bool,
    bugs: BTreeSet<Bug>,
}

impl From<&QuorumConfig> for Settings {
    fn from(c: &QuorumConfig) -> Self {
        Settings {
            n: c.n,
            r: c.r as usize,
            w: c.w as usize,
            sloppy: c.sloppy,
            hint_after: Duration::from_nanos(c.hint_after.0),
            request_timeout: Duration::from_nanos(c.request_timeout.0),
            sync_every: Duration::from_nanos(c.sync_every.0),
            anti_entropy: c.anti_entropy,
            read_repair: c.read_repair,
            vectors: c.versions == Versions::VersionVectors,
            bugs: c.bugs.iter().copied().collect(),
        }
    }
}

/// A node of the quorum store: replica of some keys, fallback for others,
/// coordinator of whatever clients ask it.
#[derive(Debug)]
pub struct Quorum {
    id: NodeId,
    settings: Settings,
    ring: Ring,
    store: BTreeMap<String, Held>,
    hints: BTreeMap<(NodeId, String), Held>,
    /// Lamport clock: above every stamp seen.
    clock: i64,
    boot: u32,
    /// Writes this life coordinated under version vectors: its actor's
    /// count in the next write's clock.
    writes: u64,
    pending: BTreeMap<RequestId, Pending>,
    /// Anti-entropy rounds so far: picks the next peer.
    syncs: u64,
}

impl Quorum {
    /// Node `id` of `nodes`, configured by `config`.
    pub fn new(id: NodeId, nodes: u32, config: &QuorumConfig) -> Self {
        assert!(config.n <= nodes && config.n > 0, "validated: 1 <= n <= nodes");
        Quorum {
            id,
            settings: Settings::from(config),
            ring: Ring::new(nodes),
            store: BTreeMap::new(),
            hints: BTreeMap::new(),
            clock: 0,
            boot: 0,
            writes: 0,
            pending: BTreeMap::new(),
            syncs: 0,
        }
    }

    /// What this node holds as a replica (hints excluded): key to value.
    pub fn values(&self) -> BTreeMap<Value, Value> {
        let pairs = self
            .store
            .iter()
            .map(|(k, held)| (Value::from(k.as_str()), held.value()));
        pairs.collect()
    }

    /// This node's copy of `key`, with its version.
    pub fn stored(&self, key: &str) -> Option<&Held> {
        self.store.get(key)
    }

    /// The hints this node keeps: (home replica, key) to value.
    pub fn hints(&self) -> &BTreeMap<(NodeId, String), Held> {
        &self.hints
    }

    fn bug(&self, bug: Bug) -> bool {
        self.settings.bugs.contains(&bug)
    }

    /// Sends `msg` to `to`, or handles it here if `to` is this node: a
    /// coordinator is often one of the key's replicas.
    fn deliver(&mut self, ctx: &mut Ctx<'_, Self>, to: NodeId, msg: QMsg) {
        if to == self.id {
            self.on_message(ctx, to, msg);
        } else {
            ctx.send(to, msg);
        }
    }

    /// A failed fsync stops the node (it panics), as Raft does: what it
    /// acknowledged may not be durable.
    fn sync(ctx: &mut Ctx<'_, Self>) {
        if let Err(e) = ctx.disk().fsync() {
            panic!("{e}: a replica cannot go on after its data failed to sync");
        }
    }

    /// Takes `stored` for `key` if it adds to what this replica holds
    /// (or, with `overwrite`, if it differs): the two merged, or `stored`
    /// as given when overwriting. Logged, not yet synced.
    fn accept(&mut self, ctx: &mut Ctx<'_, Self>, key: &str, stored: &Held, overwrite: bool) -> bool {
        let old = self.store.get(key);
        let adds = old.is_none_or(|o| !o.covers(stored));
        let taken = adds || (overwrite && old != Some(stored));
        if !taken {
            return false;
        }
        let new = match old {
            Some(o) if adds && !overwrite => o.merged(stored),
            _ => stored.clone(),
        };
        debug_assert!(overwrite || new.covers(stored), "a replica keeps what it took");
        self.clock = self.clock.max(stored.stamp());
        let line = DataLine {
            key: key.to_string(),
            stored: new.clone(),
        };
        ctx.disk().append(DATA, &encode_line(&line));
        self.store.insert(key.to_string(), new);
        true
    }

    /// Rebuilds the store and hints from the disk, and counts this life.
    fn recover(&mut self, ctx: &mut Ctx<'_, Self>) {
        let boots: Vec<u32> = decode_lines(ctx.disk().read(BOOTS).unwrap_or_default());
        self.boot = boots.last().copied().unwrap_or(0) + 1;
        ctx.disk().write(BOOTS, &encode_line(&self.boot));
        for line in decode_lines::<DataLine>(ctx.disk().read(DATA).unwrap_or_default()) {
            // Lines are appended only when a value was taken: the last wins.
            self.clock = self.clock.max(line.stored.stamp());
            self.store.insert(line.key, line.stored);
        }
        for line in decode_lines::<HintLine>(ctx.disk().read(HINTS).unwrap_or_default()) {
            match line.stored {
                Some(s) => self.hints.insert((line.home, line.key), s),
                None => self.hints.remove(&(line.home, line.key)),
            };
        }
        Self::sync(ctx);
        debug_assert!(self.boot >= 1 && self.pending.is_empty());
    }
}

mod coordinator;
mod replica;

impl Node for Quorum {
    type Msg = QMsg;
    type Timer = QTimer;
    type Service = Kv;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.recover(ctx);
        // Spread the nodes' sync ticks so they do not all talk at once.
        let first = ctx.rng().gen_range(0..self.settings.sync_every.as_nanos() as u64);
        ctx.set_timer(Duration::from_nanos(first.max(1)), QTimer::Sync);
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: QMsg) {
        match msg {
            QMsg::ReadReply { op, stored } => self.on_read_reply(ctx, op, from, stored),
            QMsg::Ack { op } => self.on_ack(ctx, op, from),
            other => self.on_replica_message(ctx, from, other),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: QTimer) {
        match timer {
            QTimer::Expire(op) => self.expire(ctx, op),
            QTimer::Sloppy(op) => self.stand_in(ctx, op),
            QTimer::Sync => {
                self.sync_round(ctx);
                ctx.set_timer(self.settings.sync_every, QTimer::Sync);
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request<Op>) {
        match request.op {
            Op::Get { key } => self.start_read(ctx, request.id, String::from(&*key)),
            Op::Put { key, value } => self.start_write(ctx, request.id, String::from(&*key), String::from(&*value)),
            op => {
                let why = format!("{} is not atomic under quorums; this store serves get and put", op.f());
                ctx.reply(request.id, Reply::Fail(why));
            }
        }
    }

    fn role(&self) -> Role {
        Role::follows("replica")
    }

    fn hash_msg(msg: &QMsg, into: &mut crate::core::PayloadHasher<'_>) {
        std::hash::Hash::hash(msg, into);
    }

    fn hash_timer(timer: &QTimer, into: &mut crate::core::PayloadHasher<'_>) {
        std::hash::Hash::hash(timer, into);
    }
}
