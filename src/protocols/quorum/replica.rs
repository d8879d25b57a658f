//! The replica's side: answering reads, taking writes, hints, repairs and
//! handoffs, and anti-entropy with its peers.

use super::{encode_line, Bug, Held, HintLine, QMsg, Quorum, Tag};
use crate::core::{Ctx, NodeId};
use std::collections::BTreeMap;

impl Quorum {
    pub(super) fn on_replica_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: QMsg) {
        match msg {
            QMsg::Read { op, key } => {
                // A fallback asked to stand in answers with its hint.
                let stored = self.store.get(&key).cloned().or_else(|| self.hint_for(&key));
                self.deliver(ctx, from, QMsg::ReadReply { op, stored });
            }
            QMsg::Write { op, key, stored } => {
                // An older version is acknowledged too: the newer one it
                // lost to was concurrent with it (see the module doc).
                if self.accept(ctx, &key, &stored, false) {
                    Self::sync(ctx);
                }
                self.deliver(ctx, from, QMsg::Ack { op });
            }
            QMsg::Hint { op, key, stored, home } => {
                self.keep_hint(ctx, home, key, stored);
                self.deliver(ctx, from, QMsg::Ack { op });
            }
            QMsg::Repair { key, stored } => {
                let overwrite = self.bug(Bug::RepairOverwritesNewer);
                if self.accept(ctx, &key, &stored, overwrite) {
                    Self::sync(ctx);
                }
            }
            QMsg::Handoff { key, stored } => {
                if self.accept(ctx, &key, &stored, false) {
                    Self::sync(ctx);
                }
                let version = stored.tag();
                self.deliver(ctx, from, QMsg::HandoffAck { key, version });
            }
            QMsg::HandoffAck { key, version } => self.drop_hint(ctx, from, key, version),
            QMsg::Digest { versions } => self.on_digest(ctx, from, versions),
            QMsg::Pull { keys } => {
                let entries: Vec<(String, Held)> = keys
                    .into_iter()
                    .filter_map(|k| self.store.get(&k).cloned().map(|s| (k, s)))
                    .collect();
                if !entries.is_empty() {
                    self.deliver(ctx, from, QMsg::Push { entries });
                }
            }
            QMsg::Push { entries } => self.on_push(ctx, entries),
            QMsg::ReadReply { .. } | QMsg::Ack { .. } => unreachable!("the coordinator's messages"),
        }
    }

    /// The hints this node keeps for `key`, whichever replica they are
    /// for, merged (the newest, under last write wins).
    fn hint_for(&self, key: &str) -> Option<Held> {
        let hints = self.hints.iter().filter(|((_, k), _)| k == key).map(|(_, s)| s);
        Held::merge_all(hints)
    }

    /// Keeps a hint for `home` durably (merged with the one kept, if it
    /// adds to it).
    fn keep_hint(&mut self, ctx: &mut Ctx<'_, Self>, home: NodeId, key: String, stored: Held) {
        assert_ne!(home, self.id, "a hint stands in for another node");
        let slot = (home, key);
        let kept = self.hints.get(&slot);
        if kept.is_some_and(|s| s.covers(&stored)) {
            return;
        }
        let stored = kept.map_or(stored.clone(), |k| k.merged(&stored));
        let line = HintLine {
            home,
            key: slot.1.clone(),
            stored: Some(stored.clone()),
        };
        ctx.disk().append(super::HINTS, &encode_line(&line));
        Self::sync(ctx);
        self.hints.insert(slot, stored);
    }

    /// `home` holds the hint's version: forget it. Not synced: handing it
    /// off again after a crash does no harm.
    fn drop_hint(&mut self, ctx: &mut Ctx<'_, Self>, home: NodeId, key: String, version: Tag) {
        let slot = (home, key);
        if self.hints.get(&slot).map(Held::tag) != Some(version) {
            return;
        }
        let line = HintLine {
            home,
            key: slot.1.clone(),
            stored: None,
        };
        ctx.disk().append(super::HINTS, &encode_line(&line));
        self.hints.remove(&slot);
    }

    /// A sync tick: hints to their home replicas, and a digest to the next
    /// peer in turn.
    pub(super) fn sync_round(&mut self, ctx: &mut Ctx<'_, Self>) {
        self.syncs += 1;
        let handoffs: Vec<(NodeId, QMsg)> = self
            .hints
            .iter()
            .map(|((home, key), stored)| {
                let msg = QMsg::Handoff {
                    key: key.clone(),
                    stored: stored.clone(),
                };
                (*home, msg)
            })
            .collect();
        for (home, msg) in handoffs {
            ctx.send(home, msg);
        }
        let peers: Vec<NodeId> = ctx.peers().collect();
        if !self.settings.anti_entropy || peers.is_empty() {
            return;
        }
        let peer = peers[(self.syncs % peers.len() as u64) as usize];
        let n = self.settings.n;
        let versions: Vec<(String, Tag)> = self
            .store
            .iter()
            .filter(|(k, _)| self.ring.home(k, n).contains(&peer))
            .map(|(k, s)| (k.clone(), s.tag()))
            .collect();
        ctx.send(peer, QMsg::Digest { versions });
    }

    /// A peer's versions: push what it lacks, pull what this node lacks.
    fn on_digest(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, versions: Vec<(String, Tag)>) {
        let n = self.settings.n;
        let theirs: BTreeMap<String, Tag> = versions.into_iter().collect();
        let entries: Vec<(String, Held)> = self
            .store
            .iter()
            .filter(|(k, s)| theirs.get(*k).is_none_or(|t| !t.covers(&s.tag())) && self.ring.home(k, n).contains(&from))
            .map(|(k, s)| (k.clone(), s.clone()))
            .collect();
        let keys: Vec<String> = theirs
            .iter()
            .filter(|(k, t)| self.store.get(*k).is_none_or(|s| !s.tag().covers(t)))
            .filter(|(k, _)| self.ring.home(k, n).contains(&self.id))
            .map(|(k, _)| k.clone())
            .collect();
        if !entries.is_empty() {
            ctx.send(from, QMsg::Push { entries });
        }
        if !keys.is_empty() {
            ctx.send(from, QMsg::Pull { keys });
        }
    }

    /// Copies from a peer: each taken if newer, then one fsync.
    fn on_push(&mut self, ctx: &mut Ctx<'_, Self>, entries: Vec<(String, Held)>) {
        let n = self.settings.n;
        let mut taken = false;
        for (key, stored) in entries {
            if self.ring.home(&key, n).contains(&self.id) {
                taken |= self.accept(ctx, &key, &stored, false);
            }
        }
        if taken {
            Self::sync(ctx);
        }
    }
}
