//! Raft's replicated log and its durable form on the simulated disk.
//!
//! Indices start at 1; index 0 is the empty prefix, of term 0. On disk the
//! log is append-only: each record carries its index, and a record for an
//! index at or below the current end truncates the log there first. So
//! replacing a conflicting suffix is one append, never a rewrite.

use super::Command;
use crate::core::RequestId;
use crate::env::disk::Disk;
use crate::workload::kv::op_json;
use serde::{Deserialize, Serialize};

const LOG_FILE: &str = "raft.log";

/// A log entry: a command and the term it was appended in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry {
    /// The term of the leader that appended it.
    pub term: u64,
    /// What applying it does.
    pub command: Command,
}

/// One line of the log file: `{"index":..,"term":..,"command":..}`. The
/// fields are spelled out rather than `#[serde(flatten)]`ed from [`Entry`]:
/// flattening buffers every record through serde's generic `Content`,
/// which made reading and writing the log a quarter of a Raft run's cost.
#[derive(Debug, PartialEq, Deserialize)]
struct Record {
    index: u64,
    term: u64,
    command: Command,
}

/// A [`Record`] to write, borrowing its command.
#[derive(Serialize)]
struct RecordRef<'a> {
    index: u64,
    term: u64,
    command: &'a Command,
}

/// Appends `record` as one line, the bytes serde_json writes for it,
/// without serde: writing the log was a tenth of a Raft run's cost.
fn write_record(record: &RecordRef<'_>, out: &mut Vec<u8>) {
    let number = |out: &mut Vec<u8>, n: u64| out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    out.extend_from_slice(b"{\"index\":");
    number(out, record.index);
    out.extend_from_slice(b",\"term\":");
    number(out, record.term);
    out.extend_from_slice(b",\"command\":");
    match record.command {
        Command::Noop => out.extend_from_slice(b"\"Noop\""),
        Command::Client { client, request, op } => {
            out.extend_from_slice(b"{\"Client\":{\"client\":");
            number(out, u64::from(*client));
            out.extend_from_slice(b",\"request\":");
            number(out, request.0);
            out.extend_from_slice(b",\"op\":");
            op_json::write(op, out);
            out.extend_from_slice(b"}}");
        }
    }
    out.extend_from_slice(b"}\n");
}

/// The records of a log file, up to the first line that does not read (a
/// torn write's): each read as [`write_record`] wrote it, or, if it is not
/// in exactly that form, by serde_json. Records are read one after the
/// other, without finding each line's end first: only a line the fast
/// reader refuses is looked for.
fn read_records(bytes: &[u8]) -> impl Iterator<Item = Record> + '_ {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        while let Some(after) = rest.strip_prefix(b"\n") {
            rest = after;
        }
        if rest.is_empty() {
            return None;
        }
        if let Some((record, after)) = read_record(rest) {
            rest = after;
            return Some(record);
        }
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let record = serde_json::from_slice(&rest[..end]).ok();
        // Nothing after a line that does not read is read.
        rest = if record.is_some() { &rest[end..] } else { &[] };
        record
    })
}

/// A line as [`write_record`] writes it at the start of `bytes`, and what
/// follows its newline (nothing if it ends the file).
fn read_record(bytes: &[u8]) -> Option<(Record, &[u8])> {
    let (index, rest) = read_number(bytes.strip_prefix(b"{\"index\":")?)?;
    let (term, rest) = read_number(rest.strip_prefix(b",\"term\":")?)?;
    let rest = rest.strip_prefix(b",\"command\":")?;
    let (command, rest) = match rest.strip_prefix(b"\"Noop\"") {
        Some(rest) => (Command::Noop, rest),
        None => {
            let (client, rest) = read_number(rest.strip_prefix(b"{\"Client\":{\"client\":")?)?;
            let (request, rest) = read_number(rest.strip_prefix(b",\"request\":")?)?;
            let (op, rest) = op_json::read(rest.strip_prefix(b",\"op\":")?)?;
            let command = Command::Client {
                client: u32::try_from(client).ok()?,
                request: RequestId(request),
                op,
            };
            (command, rest.strip_prefix(b"}}")?)
        }
    };
    let rest = rest.strip_prefix(b"}")?;
    let rest = match rest {
        [] => rest,
        [b'\n', after @ ..] => after,
        _ => return None,
    };
    Some((Record { index, term, command }, rest))
}

/// A decimal number at the start of `bytes` (as serde_json writes a u64),
/// and the rest.
fn read_number(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || (digits > 1 && bytes[0] == b'0') {
        return None;
    }
    let mut n = 0u64;
    for d in &bytes[..digits] {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    Some((n, &bytes[digits..]))
}

/// A node's log, as it holds it in memory (the disk has the append-only form).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Log {
    entries: Vec<Entry>,
    /// Where each write that replaced entries began, oldest first, so an
    /// observer can tell which part of the log changed since it looked.
    rewrites: Vec<u64>,
}

impl Log {
    /// The log as the disk holds it. Records that skip ahead of the log's
    /// end cannot have been written by [`Log::write`]; reading stops there.
    pub fn recover(disk: &Disk) -> Self {
        let mut log = Log::default();
        for record in read_records(disk.read(LOG_FILE).unwrap_or_default()) {
            if record.index == 0 || record.index > log.last_index() + 1 {
                break;
            }
            log.entries.truncate(record.index as usize - 1);
            log.entries.push(Entry {
                term: record.term,
                command: record.command,
            });
        }
        log
    }

    /// The index of the last entry; 0 when empty.
    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The term of the last entry; 0 when empty.
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// Term of the entry at `index`: 0 for index 0, `None` past the end.
    pub fn term_at(&self, index: u64) -> Option<u64> {
        match index {
            0 => Some(0),
            i => self.get(i).map(|e| e.term),
        }
    }

    /// The entry at `index` (from 1).
    pub fn get(&self, index: u64) -> Option<&Entry> {
        let i = usize::try_from(index.checked_sub(1)?).ok()?;
        self.entries.get(i)
    }

    /// Every entry, index 1 first.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Where each write that replaced entries began, oldest first.
    pub fn rewrites(&self) -> &[u64] {
        &self.rewrites
    }

    /// Up to `max` entries starting at `from`.
    pub fn slice(&self, from: u64, max: usize) -> &[Entry] {
        let start = (from.max(1) as usize - 1).min(self.entries.len());
        let end = start.saturating_add(max).min(self.entries.len());
        &self.entries[start..end]
    }

    /// First index holding an entry of `term` (the log's terms only grow).
    pub fn first_index_of(&self, term: u64) -> Option<u64> {
        let i = self.entries.partition_point(|e| e.term < term);
        (self.entries.get(i)?.term == term).then_some(i as u64 + 1)
    }

    /// Last index holding an entry of `term`.
    pub fn last_index_of(&self, term: u64) -> Option<u64> {
        let i = self.entries.partition_point(|e| e.term <= term);
        (i > 0 && self.entries[i - 1].term == term).then_some(i as u64)
    }

    /// Puts `entries` at `from..`, dropping whatever the log held from
    /// there on, and appends them to the disk (unsynced: the caller syncs).
    pub fn write(&mut self, disk: &mut Disk, from: u64, entries: &[Entry]) {
        assert!(
            from >= 1 && from <= self.last_index() + 1,
            "write at {from} would leave a gap after {}",
            self.last_index()
        );
        if from <= self.last_index() {
            self.rewrites.push(from);
        }
        self.entries.truncate(from as usize - 1);
        // About a record's size each: growing the buffer a few bytes at a
        // time cost as much as writing it.
        let mut bytes = Vec::with_capacity(entries.len() * 128);

        for (k, entry) in entries.iter().enumerate() {
            let record = RecordRef {
                index: from + k as u64,
                term: entry.term,
                command: &entry.command,
            };
            write_record(&record, &mut bytes);
            self.entries.push(entry.clone());
        }
        disk.append(LOG_FILE, &bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::kv::Op;

    fn e(term: u64) -> Entry {
        Entry {
            term,
            command: Command::Noop,
        }
    }

    fn terms(log: &Log) -> Vec<u64> {
        log.entries().iter().map(|e| e.term).collect()
    }

    #[test]
    fn overwriting_a_suffix_survives_recovery() {
        let mut disk = Disk::default();
        let mut log = Log::default();
        log.write(&mut disk, 1, &[e(1), e(1), e(2)]);
        log.write(&mut disk, 2, &[e(3)]);
        assert_eq!(terms(&log), [1, 3]);
        disk.fsync().unwrap();
        log.write(&mut disk, 3, &[e(3), e(3)]);
        assert_eq!(terms(&Log::recover(&disk)), [1, 3, 3, 3]);
        disk.crash();
        assert_eq!(terms(&Log::recover(&disk)), [1, 3], "only the synced records");
    }

    #[test]
    fn a_record_is_one_json_line_of_index_term_and_command() {
        let mut disk = Disk::default();
        Log::default().write(&mut disk, 1, &[e(7)]);
        assert_eq!(
            disk.read(LOG_FILE).map(|b| String::from_utf8_lossy(b).into_owned()),
            Some("{\"index\":1,\"term\":7,\"command\":\"Noop\"}\n".to_string())
        );
    }

    #[test]
    fn records_are_written_as_serde_json_writes_them_and_read_back() {
        let op = |key: &str| Op::Cas {
            key: key.into(),
            from: Some("a\"b".into()),
            to: "v".into(),
        };
        let commands = [
            Command::Noop,
            Command::Client {
                client: u32::MAX,
                request: RequestId(u64::MAX),
                op: Op::Get { key: "k1".into() },
            },
            Command::Client {
                client: 0,
                request: RequestId(10),
                op: op("k\n"),
            },
        ];
        for (i, command) in commands.iter().enumerate() {
            let record = RecordRef {
                index: i as u64 + 1,
                term: [0, 9, 123456789][i],
                command,
            };
            let mut ours = Vec::new();
            write_record(&record, &mut ours);
            let mut theirs = serde_json::to_vec(&record).unwrap();
            theirs.push(b'\n');
            assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
            let back: Vec<Record> = read_records(&ours).collect();
            let expected = Record {
                index: record.index,
                term: record.term,
                command: command.clone(),
            };
            assert_eq!(back, [expected]);
        }
    }

    #[test]
    fn a_torn_record_ends_the_log_and_odd_numbers_are_left_to_serde() {
        let mut bytes = Vec::new();
        for index in 1..=2 {
            write_record(
                &RecordRef {
                    index,
                    term: 1,
                    command: &Command::Noop,
                },
                &mut bytes,
            );
        }
        // A record whose closing brace was written is whole, newline or not.
        let line = bytes.len() / 2;
        for cut in 1..bytes.len() {
            let read = read_records(&bytes[..cut]).count();
            let whole = usize::from(cut >= line - 1) + usize::from(cut >= 2 * line - 1);
            assert_eq!(read, whole, "cut at {cut}");
        }
        assert_eq!(read_number(b"007"), None);
        assert_eq!(read_number(b"18446744073709551615,"), Some((u64::MAX, &b","[..])));
        assert_eq!(read_number(b"18446744073709551616"), None, "overflow");
        let spaced = b"{ \"index\": 1, \"term\": 2, \"command\": \"Noop\" }\n";
        assert_eq!(read_records(spaced).map(|r| r.term).collect::<Vec<_>>(), [2]);
        // Lines of either form in any order, blank lines skipped; the first
        // line that reads as neither ends the log.
        let mixed = [
            &bytes[..line],
            b"\n",
            spaced,
            &bytes[line..],
            b"not json\n",
            &bytes[..line],
        ]
        .concat();
        let read: Vec<_> = read_records(&mixed).map(|r| (r.index, r.term)).collect();
        assert_eq!(read, [(1, 1), (1, 2), (2, 1)]);
    }

    #[test]
    fn finds_terms_and_slices() {
        let mut log = Log::default();
        log.write(&mut Disk::default(), 1, &[e(1), e(1), e(2), e(4), e(4)]);
        assert_eq!((log.last_index(), log.last_term()), (5, 4));
        assert_eq!(
            (log.term_at(0), log.term_at(3), log.term_at(6)),
            (Some(0), Some(2), None)
        );
        assert_eq!((log.first_index_of(4), log.last_index_of(1)), (Some(4), Some(2)));
        assert_eq!((log.first_index_of(3), log.last_index_of(3)), (None, None));
        assert_eq!(log.slice(2, 2).len(), 2);
        assert_eq!(log.slice(5, 10).len(), 1);
        assert!(log.slice(6, 10).is_empty());
    }
}
