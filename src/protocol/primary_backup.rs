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

use super::kv::{decode_lines, encode_line, KvStore, Op};
use super::{Ctx, Node, NodeId, Reply, Request, RequestId, Role};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const LOG: &str = "pb.log";
const PRIMARY: NodeId = NodeId(0);
/// Most entries sent in answer to one fetch.
const FETCH_BATCH: usize = 64;

#[derive(Clone, Debug, Serialize)]
pub enum PbMsg {
    /// A backup passes a client's write to the primary.
    Forward {
        request: RequestId,
        op: Op,
    },
    /// The primary's answer to a forwarded write.
    Forwarded {
        request: RequestId,
        reply: Reply,
    },
    Replicate {
        index: u64,
        write: Op,
    },
    Heartbeat {
        log_len: u64,
    },
    Fetch {
        from: u64,
    },
    Entries {
        from: u64,
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

#[derive(Clone, Debug)]
pub enum PbTimer {
    Heartbeat,
}

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
    fn write(&mut self, ctx: &mut Ctx<'_, Self>, request: RequestId, op: &Op) -> Reply {
        debug_assert!(self.is_primary());
        let (output, write) = self.store.apply(op);
        let entry = LogEntry { request, write };
        ctx.disk().append(LOG, &encode_line(&entry));
        ctx.disk().fsync();
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

    fn on_request(&mut self, ctx: &mut Ctx<'_, Self>, request: Request) {
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
            Role::Leader
        } else {
            Role::Follower
        }
    }
}
