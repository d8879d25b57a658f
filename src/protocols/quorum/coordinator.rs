//! The coordinator's side: a client's read or write, from its first
//! message to its answer.

use super::{Bug, Held, Pending, QMsg, QTimer, Quorum, ReadOp, Stored, Tag, Version, WriteOp};
use crate::core::{Ctx, NodeId, Reply, RequestId};
use crate::workload::kv::Output;
use std::collections::{BTreeMap, BTreeSet};

impl Quorum {
    /// Asks the key's home replicas; answers on the first `r` replies.
    pub(super) fn start_read(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId, key: String) {
        let home = self.ring.home(&key, self.settings.n);
        let read = ReadOp {
            key: key.clone(),
            home: home.clone(),
            replies: BTreeMap::new(),
            answer: None,
        };
        debug_assert!(!self.pending.contains_key(&op), "request ids are unique");
        self.pending.insert(op, Pending::Read(read));
        ctx.set_timer(self.settings.request_timeout, QTimer::Expire(op));
        for h in home {
            self.deliver(ctx, h, QMsg::Read { op, key: key.clone() });
        }
    }

    /// Reads versions from the home replicas (phase 1), then writes.
    pub(super) fn start_write(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId, key: String, value: String) {
        let preference = self.ring.preference(&key);
        let write = WriteOp {
            key: key.clone(),
            preference: preference.clone(),
            value,
            versions: BTreeMap::new(),
            stored: None,
            acks: BTreeSet::new(),
            fallbacks_used: 0,
        };
        debug_assert!(!self.pending.contains_key(&op), "request ids are unique");
        self.pending.insert(op, Pending::Write(write));
        ctx.set_timer(self.settings.request_timeout, QTimer::Expire(op));
        if self.bug(Bug::WallClockLww) {
            let version = Version {
                stamp: ctx.now(),
                node: self.id.0,
                boot: self.boot,
            };
            let Some(Pending::Write(w)) = self.pending.get(&op) else {
                unreachable!("just inserted");
            };
            let stored = Held::Lww(Stored {
                version,
                value: w.value.clone(),
            });
            return self.send_write(ctx, op, stored);
        }
        if self.settings.sloppy {
            ctx.set_timer(self.settings.hint_after, QTimer::Sloppy(op));
        }
        for &h in &preference[..self.settings.n as usize] {
            self.deliver(ctx, h, QMsg::Read { op, key: key.clone() });
        }
    }

    /// Phase 2: the versioned value to every home replica.
    fn send_write(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId, stored: Held) {
        let n = self.settings.n as usize;
        let Some(Pending::Write(w)) = self.pending.get_mut(&op) else {
            unreachable!("a write being sent is pending");
        };
        assert!(w.stored.is_none(), "a write is versioned once");
        debug_assert_eq!(stored.values(), [w.value.as_str()], "a write carries its own value");
        w.stored = Some(stored.clone());
        let (key, home) = (w.key.clone(), w.preference[..n].to_vec());
        if self.settings.sloppy {
            ctx.set_timer(self.settings.hint_after, QTimer::Sloppy(op));
        }
        for h in home {
            let msg = QMsg::Write {
                op,
                key: key.clone(),
                stored: stored.clone(),
            };
            self.deliver(ctx, h, msg);
        }
    }

    pub(super) fn on_read_reply(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId, from: NodeId, stored: Option<Held>) {
        match self.pending.get(&op) {
            Some(Pending::Read(_)) => self.read_reply(ctx, op, from, stored),
            Some(Pending::Write(_)) => self.version_reply(ctx, op, from, stored.map(|s| s.tag())),
            None => {}
        }
    }

    /// A replica's copy for a read: answers on the `r`-th, repairs stale
    /// replicas, the late ones too.
    fn read_reply(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId, from: NodeId, stored: Option<Held>) {
        let Some(Pending::Read(read)) = self.pending.get_mut(&op) else {
            unreachable!("checked by the caller");
        };
        if !read.home.contains(&from) || read.replies.contains_key(&from) {
            return;
        }
        read.replies.insert(from, stored.clone());
        let key = read.key.clone();
        if let Some(answer) = read.answer.clone() {
            return self.repair(ctx, &key, answer.as_ref(), from, stored.as_ref());
        }
        if read.replies.len() < self.settings.r {
            return;
        }
        // Last write wins: the newest; version vectors: every sibling.
        let answer = Held::merge_all(read.replies.values().flatten());
        read.answer = Some(answer.clone());
        let replies: Vec<(NodeId, Option<Held>)> = read.replies.iter().map(|(n, s)| (*n, s.clone())).collect();
        let output = answer.as_ref().map_or(Output::Value(None), Held::output);
        ctx.reply(op, Reply::Ok(output));
        for (node, reply) in replies {
            self.repair(ctx, &key, answer.as_ref(), node, reply.as_ref());
        }
    }

    /// Read repair of `node`, which answered `reply` to a read that
    /// returned `answer`.
    fn repair(
        &mut self,
        ctx: &mut Ctx<'_, Self>,
        key: &str,
        answer: Option<&Held>,
        node: NodeId,
        reply: Option<&Held>,
    ) {
        let Some(answer) = answer.filter(|_| self.settings.read_repair) else {
            return;
        };
        let repair = if self.bug(Bug::RepairOverwritesNewer) {
            reply.map(Held::tag) != Some(answer.tag())
        } else {
            reply.is_none_or(|r| !r.covers(answer))
        };
        if repair {
            let msg = QMsg::Repair {
                key: key.to_string(),
                stored: answer.clone(),
            };
            self.deliver(ctx, node, msg);
        }
    }

    /// Phase 1: on the `r`-th version, versions the write above them all.
    fn version_reply(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId, from: NodeId, tag: Option<Tag>) {
        let (n, r) = (self.settings.n as usize, self.settings.r);
        let sloppy_counts = self.bug(Bug::HintedCountsTowardW);
        let Some(Pending::Write(w)) = self.pending.get_mut(&op) else {
            unreachable!("checked by the caller");
        };
        let home = w.preference[..n].contains(&from);
        if w.stored.is_some() || (!home && !sloppy_counts) {
            return;
        }
        w.versions.insert(from, tag);
        if w.versions.len() < r {
            return;
        }
        let (tags, value): (Vec<Tag>, String) = (w.versions.values().flatten().cloned().collect(), w.value.clone());
        let stored = match self.settings.vectors {
            true => self.next_sibling(&tags, value),
            false => self.next_version(&tags, value),
        };
        debug_assert!(tags.iter().all(|t| stored.tag().covers(t)), "above every version read");
        self.send_write(ctx, op, stored);
    }

    /// Last write wins: a Lamport stamp above every version read.
    fn next_version(&mut self, tags: &[Tag], value: String) -> Held {
        let versions = tags.iter().map(|t| match t {
            Tag::Version(v) => *v,
            Tag::Clocks(_) => unreachable!("a last-write-wins store reports versions"),
        });
        let seen = versions.max();
        let stamp = self.clock.max(seen.map_or(0, |v| v.stamp)) + 1;
        self.clock = stamp;
        let version = Version {
            stamp,
            node: self.id.0,
            boot: self.boot,
        };
        debug_assert!(seen.is_none_or(|s| s < version), "above every version read");
        Held::Lww(Stored { version, value })
    }

    /// Version vectors: the clock every sibling read descends to, with
    /// this life's next write added: it supersedes what it read and
    /// nothing else.
    fn next_sibling(&mut self, tags: &[Tag], value: String) -> Held {
        let context = tags
            .iter()
            .map(|t| t.context().expect("a version-vector store reports clocks"))
            .fold(super::versions::Clock::default(), |acc, c| acc.join(&c));
        self.writes += 1;
        let actor = (self.id.0, self.boot);
        debug_assert!(context.count(actor) < self.writes, "only this life counts its writes");
        Held::sibling(context.advanced(actor, self.writes), value)
    }

    pub(super) fn on_ack(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId, from: NodeId) {
        let n = self.settings.n as usize;
        let sloppy_counts = self.bug(Bug::HintedCountsTowardW);
        let Some(Pending::Write(w)) = self.pending.get_mut(&op) else {
            return;
        };
        debug_assert!(w.stored.is_some(), "acks come after the write went out");
        if !w.preference[..n].contains(&from) && !sloppy_counts {
            return;
        }
        w.acks.insert(from);
        if w.acks.len() >= self.settings.w {
            self.pending.remove(&op);
            ctx.reply(op, Reply::Ok(Output::Done));
        }
    }

    /// The sloppy timer: fallbacks stand in for home replicas that have
    /// not answered. Phase 2 hints the value to them; phase 1 asks them
    /// for versions only under `HintedCountsTowardW`, since a correct
    /// coordinator would not count their answers.
    pub(super) fn stand_in(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId) {
        let n = self.settings.n as usize;
        let sloppy_counts = self.bug(Bug::HintedCountsTowardW);
        let Some(Pending::Write(w)) = self.pending.get_mut(&op) else {
            return;
        };
        let (home, fallbacks) = w.preference.split_at(n);
        let answered = |h: &NodeId| match &w.stored {
            None => w.versions.contains_key(h),
            Some(_) => w.acks.contains(h),
        };
        let missing: Vec<NodeId> = home.iter().filter(|h| !answered(h)).copied().collect();
        let key = w.key.clone();
        let sends: Vec<(NodeId, QMsg)> = match w.stored.clone() {
            None if !sloppy_counts => return,
            None => fallbacks
                .iter()
                .take(missing.len())
                .map(|&f| (f, QMsg::Read { op, key: key.clone() }))
                .collect(),
            Some(stored) => {
                let unused = &fallbacks[w.fallbacks_used.min(fallbacks.len())..];
                let pairs: Vec<(NodeId, QMsg)> = missing
                    .iter()
                    .zip(unused)
                    .map(|(&h, &f)| {
                        (
                            f,
                            QMsg::Hint {
                                op,
                                key: key.clone(),
                                stored: stored.clone(),
                                home: h,
                            },
                        )
                    })
                    .collect();
                w.fallbacks_used += pairs.len();
                pairs
            }
        };
        for (to, msg) in sends {
            self.deliver(ctx, to, msg);
        }
    }

    /// A request's quorum did not come in time. A read, or a write still
    /// reading versions, changed nothing: it fails. A write whose value
    /// went out may have taken effect: it stays unanswered, and the
    /// client's own timeout makes it indeterminate.
    pub(super) fn expire(&mut self, ctx: &mut Ctx<'_, Self>, op: RequestId) {
        let r = self.settings.r;
        let why = match self.pending.remove(&op) {
            Some(Pending::Read(read)) if read.answer.is_none() => {
                format!("no read quorum: {} of {r} replicas answered", read.replies.len())
            }
            Some(Pending::Write(w)) if w.stored.is_none() => {
                format!(
                    "no quorum to read versions from: {} of {r} replicas answered",
                    w.versions.len()
                )
            }
            _ => return,
        };
        ctx.reply(op, Reply::Fail(why));
    }
}
