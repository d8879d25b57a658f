//! The acceptor's durable state: the highest ballot it promised and the
//! value it accepted in each slot, and their form on the simulated disk.
//!
//! The promise is one small file, rewritten; accepted values are an
//! append-only log of records, a later record for a slot replacing an
//! earlier one. Neither is synced here: the caller syncs before it answers
//! (unless a planted bug says otherwise).

use super::{Ballot, Command};
use crate::env::disk::{decode_lines, encode_line, Disk};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const PROMISE_FILE: &str = "paxos.promise";
const ACCEPTED_FILE: &str = "paxos.accepted";

#[derive(Serialize, Deserialize)]
struct Record {
    slot: u64,
    ballot: Ballot,
    command: Command,
}

/// An acceptor: what it promised and what it accepted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Acceptor {
    promised: Ballot,
    accepted: BTreeMap<u64, (Ballot, Command)>,
}

impl Acceptor {
    /// The acceptor as its disk holds it.
    pub fn recover(disk: &Disk) -> Self {
        let promised = disk
            .read(PROMISE_FILE)
            .and_then(|b| serde_json::from_slice::<Ballot>(b).ok())
            .unwrap_or_default();
        let mut accepted = BTreeMap::new();
        for r in decode_lines::<Record>(disk.read(ACCEPTED_FILE).unwrap_or_default()) {
            accepted.insert(r.slot, (r.ballot, r.command));
        }
        Acceptor { promised, accepted }
    }

    /// The highest ballot it promised (or accepted in).
    pub fn promised(&self) -> Ballot {
        self.promised
    }

    /// What it accepted in `slot`, and in which ballot.
    pub fn get(&self, slot: u64) -> Option<&(Ballot, Command)> {
        self.accepted.get(&slot)
    }

    /// Every value it accepted in slots from `from` on.
    pub fn since(&self, from: u64) -> Vec<(u64, Ballot, Command)> {
        let range = self.accepted.range(from..);
        range.map(|(s, (b, c))| (*s, *b, c.clone())).collect()
    }

    /// Promises `ballot` unless it promised a higher one; a promise of
    /// the ballot it already holds is given again (a resent Prepare).
    /// Returns whether it promised, and whether the disk changed.
    pub fn promise(&mut self, disk: &mut Disk, ballot: Ballot) -> (bool, bool) {
        if ballot < self.promised {
            return (false, false);
        }
        let changed = ballot > self.promised;
        if changed {
            self.promised = ballot;
            let bytes = serde_json::to_vec(&ballot).expect("a ballot serialises");
            disk.write(PROMISE_FILE, &bytes);
        }
        (true, changed)
    }

    /// Accepts `command` in `slot` at `ballot` unless it promised a higher
    /// ballot (accepting also promises `ballot`). Returns whether it
    /// accepted, and whether the disk changed.
    pub fn accept(&mut self, disk: &mut Disk, slot: u64, ballot: Ballot, command: &Command) -> (bool, bool) {
        let (ok, mut changed) = self.promise(disk, ballot);
        if !ok {
            return (false, false);
        }
        if self
            .accepted
            .get(&slot)
            .is_some_and(|(b, c)| *b == ballot && c == command)
        {
            return (true, changed);
        }
        debug_assert!(
            self.accepted.get(&slot).is_none_or(|(b, _)| *b <= ballot),
            "slot {slot}: accepting {ballot} below an accepted ballot, though promised {}",
            self.promised
        );
        let record = Record {
            slot,
            ballot,
            command: command.clone(),
        };
        disk.append(ACCEPTED_FILE, &encode_line(&record));
        self.accepted.insert(slot, (ballot, command.clone()));
        changed = true;
        (true, changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(round: u64, node: u32) -> Ballot {
        Ballot { round, node }
    }

    #[test]
    fn promises_only_grow_and_accepts_below_them_are_refused() {
        let mut disk = Disk::default();
        let mut a = Acceptor::default();
        assert_eq!(a.promise(&mut disk, b(2, 1)), (true, true));
        assert_eq!(a.promise(&mut disk, b(2, 1)), (true, false), "a resent prepare");
        assert_eq!(a.promise(&mut disk, b(2, 0)), (false, false));
        assert_eq!(a.accept(&mut disk, 1, b(1, 4), &Command::Noop), (false, false));
        assert_eq!(a.accept(&mut disk, 1, b(3, 0), &Command::Noop), (true, true));
        assert_eq!(a.promised(), b(3, 0), "accepting promises too");
    }

    #[test]
    fn only_synced_promises_and_values_survive_a_crash() {
        let mut disk = Disk::default();
        let mut a = Acceptor::default();
        a.accept(&mut disk, 1, b(1, 0), &Command::Noop);
        disk.fsync().unwrap();
        a.promise(&mut disk, b(5, 2));
        a.accept(&mut disk, 2, b(5, 2), &Command::Noop);
        assert_eq!(Acceptor::recover(&disk), a);
        disk.crash();
        let back = Acceptor::recover(&disk);
        assert_eq!(back.promised(), b(1, 0));
        assert_eq!(back.since(0).len(), 1);
    }
}
