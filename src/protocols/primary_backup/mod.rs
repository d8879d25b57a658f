//! `async-primary-backup`: a fixed primary (node 0) applies every write,
//! logs and fsyncs it, answers the client, and only then sends it to the
//! backups. Every node answers reads from its own copy, so a read at a
//! backup can miss writes that have already been acknowledged: fast, and
//! not linearizable. It exists to be caught by the checker.
//!
//! The primary logs every write request it handles (a failed cas as a
//! no-op) with its request id, so that a duplicated `Forward` is handled
//! once, even across a primary restart.
//! Backups apply the log strictly in order. The primary's heartbeat
//! carries its log length; a backup that sees a gap (lost or reordered
//! updates) fetches the missing entries. Backups keep no disk state: after
//! a restart they fetch the whole log again.
//!
//! It has no planted bugs: its weakness is its design. Under a slow link
//! from the primary to the backups (`primary-backup-stale-reads`),
//! `Linearizable(Kv)` fails on 200 of seeds 0..200 (first seed 0), and so
//! does `NoStaleReads` (`primary-backup-regular-reads`, 200 of 200), while
//! `NoLostWrites` passes all 200 there: once healed the backups catch up,
//! so the final reads see every acknowledged write. `chaos-smoke` (every
//! fault kind, checked only for `Recovers`) passed seeds 0..500.

use crate::core::{Ctx, Node, NodeId, Reply, Request, RequestId, Role};
use crate::env::disk::{decode_lines, encode_line};
use crate::path;
use crate::protocols::Family;
use crate::scenario::{Dur, Invalid, Scenario};
use crate::workload::kv::{Kv, KvStore, Op, Output};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const LOG: &str = "pb.log";
const PRIMARY: NodeId = NodeId(0);
/// Most entries sent in answer to one fetch.
const FETCH_BATCH: usize = 64;

/// What primary and backups send each other.
#[derive(Clone, Debug, Hash)]
pub enum PbMsg {
    /// A backup passes a client's write to the primary.
    Forward {
        /// The client's request.
        request: RequestId,
        /// The write.
        op: Op,
    },
    /// The primary's answer to a forwarded write.
    Forwarded {
        /// The request answered.
        request: RequestId,
        /// The primary's answer.
        reply: Reply<Output>,
    },
    /// The primary sends each write to every backup.
    Replicate {
        /// Its place in the log, from 0.
        index: u64,
        /// The write as applied (a matching cas as a put).
        write: Op,
    },
    /// The primary's log length, so backups see a gap.
    Heartbeat {
        /// Entries in the primary's log.
        log_len: u64,
    },
    /// A backup asks for the entries it lacks.
    Fetch {
        /// The first index it lacks.
        from: u64,
    },
    /// The primary's answer to a fetch.
    Entries {
        /// The index of the first entry.
        from: u64,
        /// The entries, in order.
        writes: Vec<Op>,
    },
}

/// A line of the primary's disk log; only entries with a write are part of
/// the replicated log.
#[derive(Debug, Serialize, Deserialize)]
struct LogEntry {
    request: RequestId,
    write: Option<Op>,
}

/// The primary's timer.
#[derive(Clone, Debug, Hash)]
pub enum PbTimer {
    /// Time to tell the backups the log's length.
    Heartbeat,
}

/// A node of the primary-backup store: the primary (node 0) or a backup.
#[derive(Debug)]
pub struct PrimaryBackup {
    id: NodeId,
    heartbeat: Duration,
    store: KvStore,
    /// Primary: the whole log. Backup: the prefix applied so far.
    log: Vec<Op>,
    /// Backup: entries that arrived ahead of a gap.
    early: BTreeMap<u64, Op>,
    /// Primary: write requests already handled.
    handled: BTreeSet<RequestId>,
}

impl PrimaryBackup {
    /// Node `id`, whose primary heartbeats every `heartbeat`.
    pub fn new(id: NodeId, heartbeat: Duration) -> Self {
        PrimaryBackup {
            id,
            heartbeat,
            store: KvStore::default(),
            log: Vec::new(),
            early: BTreeMap::new(),
            handled: BTreeSet::new(),
        }
    }

    fn is_primary(&self) -> bool {
        self.id == PRIMARY
    }

    /// Primary only: applies, logs durably, replicates. Returns the reply.
    fn write(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, op: &Op) -> Reply<Output> {
        assert!(self.is_primary(), "only the primary writes");
        let (output, write) = self.store.apply(op);
        let entry = LogEntry { request, write };
        ctx.disk().append(LOG, &encode_line(&entry));
        if let Err(e) = ctx.disk().fsync() {
            panic!("{e}: the primary cannot go on after its log failed to sync");
        }
        self.handled.insert(request);
        if let Some(write) = entry.write {
            let index = self.log.len() as u64;
            self.log.push(write.clone());
            ctx.broadcast(PbMsg::Replicate { index, write });
        }
        Reply::Ok(output)
    }

    /// Backup only: takes entry `index` if it is next, buffers it if early.
    fn receive(&mut self, index: u64, write: Op) {
        let next = self.log.len() as u64;
        if index > next {
            self.early.insert(index, write);
            return;
        }
        if index < next {
            return;
        }
        self.apply_backup(write);
        while let Some(write) = self.early.remove(&(self.log.len() as u64)) {
            self.apply_backup(write);
        }
    }

    fn apply_backup(&mut self, write: Op) {
        self.store.apply(&write);
        self.log.push(write);
    }
}

impl Node for PrimaryBackup {
    type Msg = PbMsg;
    type Timer = PbTimer;
    type Service = Kv;

    fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
        if self.is_primary() {
            for entry in decode_lines::<LogEntry>(ctx.disk().read(LOG).unwrap_or_default()) {
                self.handled.insert(entry.request);
                if let Some(write) = entry.write {
                    self.store.apply(&write);
                    self.log.push(write);
                }
            }
            ctx.set_timer(self.heartbeat, PbTimer::Heartbeat);
        } else {
            ctx.send(PRIMARY, PbMsg::Fetch { from: 0 });
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: PbMsg) {
        match msg {
            PbMsg::Forward { request, op } if self.is_primary() => {
                // A duplicate of a request already handled: its first
                // answer went back already (or was lost, and the client
                // timed out). Handling it again could apply it twice.
                if !self.handled.contains(&request) {
                    let reply = self.write(ctx, request, &op);
                    ctx.send(from, PbMsg::Forwarded { request, reply });
                }
            }
            PbMsg::Forwarded { request, reply } => ctx.reply(request, reply),
            PbMsg::Replicate { index, write } if !self.is_primary() => self.receive(index, write),
            PbMsg::Heartbeat { log_len } if !self.is_primary() => {
                if log_len > self.log.len() as u64 {
                    ctx.send(
                        PRIMARY,
                        PbMsg::Fetch {
                            from: self.log.len() as u64,
                        },
                    );
                }
            }
            PbMsg::Fetch { from: start } if self.is_primary() => {
                let begin = (start as usize).min(self.log.len());
                let end = (begin + FETCH_BATCH).min(self.log.len());
                let writes = self.log[begin..end].to_vec();
                ctx.send(from, PbMsg::Entries { from: start, writes });
            }
            PbMsg::Entries { from: start, writes } if !self.is_primary() => {
                for (i, write) in writes.into_iter().enumerate() {
                    self.receive(start + i as u64, write);
                }
            }
            // A message meant for the other role: only a bug sends one.
            other => debug_assert!(false, "{} got unexpected {other:?}", self.id),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, timer: PbTimer) {
        match timer {
            PbTimer::Heartbeat => {
                ctx.broadcast(PbMsg::Heartbeat {
                    log_len: self.log.len() as u64,
                });
                ctx.set_timer(self.heartbeat, PbTimer::Heartbeat);
            }
        }
    }

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request<Op>) {
        if request.op.is_read() {
            let (output, _) = self.store.apply(&request.op);
            ctx.reply(request.id, Reply::Ok(output));
        } else if self.is_primary() {
            let reply = self.write(ctx, request.id, &request.op);
            ctx.reply(request.id, reply);
        } else {
            ctx.send(
                PRIMARY,
                PbMsg::Forward {
                    request: request.id,
                    op: request.op,
                },
            );
        }
    }

    fn role(&self) -> Role {
        if self.is_primary() {
            Role {
                leads: true,
                label: "primary",
            }
        } else {
            Role::follows("backup")
        }
    }

    fn hash_msg(msg: &PbMsg, into: &mut crate::core::PayloadHasher<'_>) {
        std::hash::Hash::hash(msg, into);
    }

    fn hash_timer(timer: &PbTimer, into: &mut crate::core::PayloadHasher<'_>) {
        std::hash::Hash::hash(timer, into);
    }
}

/// The fields of `protocol: AsyncPrimaryBackup(...)`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrimaryBackupConfig {
    /// How often the primary tells backups how long its log is, so that
    /// backups which missed updates ask for them again. At least 1ms.
    pub heartbeat: Dur,
}

impl Default for PrimaryBackupConfig {
    fn default() -> Self {
        PrimaryBackupConfig {
            heartbeat: Dur::from_millis(50),
        }
    }
}

/// The asynchronous primary-backup store.
pub struct AsyncPrimaryBackup;

impl Family for AsyncPrimaryBackup {
    const NAME: &'static str = "AsyncPrimaryBackup";
    const ABOUT: &'static str =
        "node 0 applies and fsyncs writes, answers, then replicates; every node reads its own copy: not linearizable";
    type Config = PrimaryBackupConfig;
    type Node = PrimaryBackup;

    fn validate(config: &PrimaryBackupConfig, _scenario: &Scenario) -> Result<(), Invalid> {
        crate::scenario::validate::timer(config.heartbeat, path!["protocol", "heartbeat"])
    }

    fn node(config: &PrimaryBackupConfig, id: NodeId, _nodes: u32) -> PrimaryBackup {
        PrimaryBackup::new(id, Duration::from_nanos(config.heartbeat.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Effects;

    /// One node, driven by hand.
    struct Harness(crate::core::Harness<PrimaryBackup>);

    impl Harness {
        fn new(id: u32) -> Self {
            let mut h =
                crate::core::Harness::new(NodeId(id), 3, |id| PrimaryBackup::new(id, Duration::from_millis(50)));
            h.start();
            Harness(h)
        }

        fn call(&mut self, f: impl FnOnce(&mut PrimaryBackup, &mut Ctx<'_, PrimaryBackup>)) -> Effects<PrimaryBackup> {
            self.0.call(f)
        }

        fn restart(&mut self) {
            self.0.crash_and_restart();
        }

        fn get(&mut self, key: &str) -> Option<std::sync::Arc<str>> {
            let request = Request {
                id: RequestId(999),
                client: 0,
                op: Op::Get { key: key.into() },
            };
            let fx = self.0.request(request);
            match &fx.replies[..] {
                [(_, Reply::Ok(Output::Value(v)))] => v.clone(),
                other => panic!("{other:?}"),
            }
        }
    }

    fn put(key: &str, value: &str) -> Op {
        Op::Put {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn the_primary_logs_durably_answers_then_replicates() {
        let mut p = Harness::new(0);
        let fx = p.call(|n, ctx| {
            n.on_request(
                ctx,
                Request {
                    id: RequestId(1),
                    client: 0,
                    op: put("k", "a"),
                },
            )
        });
        assert_eq!(fx.replies, [(RequestId(1), Reply::Ok(Output::Done))]);
        let sent: Vec<_> = fx.sends.iter().map(|(to, m)| (to.0, format!("{m:?}"))).collect();
        assert_eq!(sent.len(), 2);
        assert!(
            sent.iter().all(|(_, m)| m.starts_with("Replicate { index: 0")),
            "{sent:?}"
        );
        p.restart();
        assert_eq!(p.get("k"), Some("a".into()), "the write survived the crash");
    }

    #[test]
    fn a_duplicated_forward_is_applied_once_even_across_a_restart() {
        let mut p = Harness::new(0);
        let append = Op::Append {
            key: "k".into(),
            value: "x".into(),
        };
        let forward = || PbMsg::Forward {
            request: RequestId(7),
            op: append.clone(),
        };
        let fx = p.call(|n, ctx| n.on_message(ctx, NodeId(1), forward()));
        assert_eq!(fx.sends.len(), 3, "Forwarded back, Replicate to both backups");
        assert!(p.call(|n, ctx| n.on_message(ctx, NodeId(1), forward())).is_empty());
        p.restart();
        assert!(p.call(|n, ctx| n.on_message(ctx, NodeId(2), forward())).is_empty());
        assert_eq!(p.get("k"), Some("x".into()));
    }

    #[test]
    fn a_backup_applies_in_order_and_fetches_what_it_missed() {
        let mut b = Harness::new(1);
        let rep = |index, value: &str| PbMsg::Replicate {
            index,
            write: put("k", value),
        };
        b.call(|n, ctx| n.on_message(ctx, PRIMARY, rep(1, "second")));
        assert_eq!(b.get("k"), None, "index 1 waits for index 0");
        b.call(|n, ctx| n.on_message(ctx, PRIMARY, rep(0, "first")));
        assert_eq!(b.get("k"), Some("second".into()));
        let fx = b.call(|n, ctx| n.on_message(ctx, PRIMARY, PbMsg::Heartbeat { log_len: 4 }));
        assert_eq!(format!("{:?}", fx.sends), "[(NodeId(0), Fetch { from: 2 })]");
        let entries = PbMsg::Entries {
            from: 2,
            writes: vec![put("k", "third"), put("j", "fourth")],
        };
        b.call(|n, ctx| n.on_message(ctx, PRIMARY, entries));
        assert_eq!((b.get("k"), b.get("j")), (Some("third".into()), Some("fourth".into())));
        assert!(b
            .call(|n, ctx| n.on_message(ctx, PRIMARY, PbMsg::Heartbeat { log_len: 4 }))
            .is_empty());
    }

    #[test]
    fn a_backup_forwards_writes_and_relays_the_answer() {
        let mut b = Harness::new(2);
        let fx = b.call(|n, ctx| {
            n.on_request(
                ctx,
                Request {
                    id: RequestId(5),
                    client: 0,
                    op: put("k", "v"),
                },
            )
        });
        assert!(fx.replies.is_empty());
        assert_eq!(
            format!("{:?}", fx.sends),
            format!(
                "{:?}",
                [(
                    PRIMARY,
                    PbMsg::Forward {
                        request: RequestId(5),
                        op: put("k", "v")
                    }
                )]
            )
        );
        let answer = PbMsg::Forwarded {
            request: RequestId(5),
            reply: Reply::Ok(Output::Done),
        };
        let fx = b.call(|n, ctx| n.on_message(ctx, PRIMARY, answer));
        assert_eq!(fx.replies, [(RequestId(5), Reply::Ok(Output::Done))]);
    }
}
