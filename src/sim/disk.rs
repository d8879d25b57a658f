//! A node's simulated disk: named files, where only fsynced data survives
//! a crash.
//!
//! Each file has the contents the node sees and the contents that are on
//! stable storage. `fsync` makes them equal; a crash throws away the first
//! and keeps the second. Files are in a BTreeMap so listing them is
//! deterministic.

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
struct File {
    /// What reads return; `None` once removed.
    current: Option<Vec<u8>>,
    /// What survives a crash; `None` if never synced (or removal synced).
    durable: Option<Vec<u8>>,
    /// Only appends since the last sync: syncing can copy just the tail.
    appended_only: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Disk {
    files: BTreeMap<String, File>,
    stats: DiskStats,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    pub bytes_written: u64,
    pub fsyncs: u64,
    /// Bytes that were written but not synced when the node crashed.
    pub bytes_lost: u64,
}

impl Disk {
    /// Replaces the contents of `name`.
    pub fn write(&mut self, name: &str, data: &[u8]) {
        self.stats.bytes_written += data.len() as u64;
        let file = self.files.entry(name.to_string()).or_default();
        file.current = Some(data.to_vec());
        file.appended_only = false;
    }

    /// Appends to `name`, creating it if needed.
    pub fn append(&mut self, name: &str, data: &[u8]) {
        self.stats.bytes_written += data.len() as u64;
        let file = self.files.entry(name.to_string()).or_insert_with(|| File {
            appended_only: true,
            ..File::default()
        });
        match &mut file.current {
            Some(bytes) => bytes.extend_from_slice(data),
            None => {
                file.current = Some(data.to_vec());
                file.appended_only &= file.durable.is_none();
            }
        }
    }

    pub fn read(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name)?.current.as_deref()
    }

    pub fn remove(&mut self, name: &str) {
        if let Some(file) = self.files.get_mut(name) {
            file.current = None;
            file.appended_only = false;
        }
    }

    /// Names of the files that exist now, in order.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files
            .iter()
            .filter(|(_, f)| f.current.is_some())
            .map(|(n, _)| n.as_str())
    }

    /// Makes every write so far durable.
    pub fn fsync(&mut self) {
        self.stats.fsyncs += 1;
        for file in self.files.values_mut() {
            sync_file(file);
        }
        self.files.retain(|_, f| f.current.is_some() || f.durable.is_some());
    }

    /// Forgets everything that was not synced, as a power cut would.
    pub fn crash(&mut self) {
        for file in self.files.values_mut() {
            self.stats.bytes_lost += unsynced_bytes(file);
            file.current = file.durable.clone();
            file.appended_only = true;
        }
        self.files.retain(|_, f| f.current.is_some());
    }

    pub fn stats(&self) -> DiskStats {
        self.stats
    }
}

fn sync_file(file: &mut File) {
    match (&file.current, &mut file.durable) {
        (Some(cur), Some(dur)) if file.appended_only => {
            debug_assert!(cur.starts_with(dur), "append-only file diverged from its synced prefix");
            let synced = dur.len();
            dur.extend_from_slice(&cur[synced..]);
        }
        (cur, dur) if cur != dur => *dur = cur.clone(),
        _ => {}
    }
    file.appended_only = true;
}

fn unsynced_bytes(file: &File) -> u64 {
    match (&file.current, &file.durable) {
        (Some(cur), Some(dur)) if cur.starts_with(dur) => (cur.len() - dur.len()) as u64,
        (Some(cur), _) if file.current != file.durable => cur.len() as u64,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_keeps_synced_data_and_loses_the_rest() {
        let mut d = Disk::default();
        d.append("log", b"a");
        d.write("meta", b"term=1");
        d.fsync();
        d.append("log", b"b");
        d.write("meta", b"term=2");
        d.write("new", b"x");
        assert_eq!(d.read("log"), Some(&b"ab"[..]));
        d.crash();
        assert_eq!(d.read("log"), Some(&b"a"[..]));
        assert_eq!(d.read("meta"), Some(&b"term=1"[..]));
        assert_eq!(d.read("new"), None);
        assert_eq!(d.stats().bytes_lost, 1 + 6 + 1);
    }

    #[test]
    fn appends_after_sync_extend_the_durable_copy() {
        let mut d = Disk::default();
        for chunk in [&b"one "[..], b"two ", b"three"] {
            d.append("log", chunk);
            d.fsync();
        }
        d.crash();
        assert_eq!(d.read("log"), Some(&b"one two three"[..]));
    }

    #[test]
    fn removal_is_durable_only_after_sync() {
        let mut d = Disk::default();
        d.write("f", b"1");
        d.fsync();
        d.remove("f");
        assert_eq!(d.read("f"), None);
        d.crash();
        assert_eq!(d.read("f"), Some(&b"1"[..]));
        d.remove("f");
        d.fsync();
        d.crash();
        assert_eq!(d.read("f"), None);
        assert_eq!(d.files().count(), 0);
    }

    #[test]
    fn rewrite_then_append_syncs_the_whole_file() {
        let mut d = Disk::default();
        d.append("f", b"abc");
        d.fsync();
        d.write("f", b"x");
        d.append("f", b"y");
        d.fsync();
        d.crash();
        assert_eq!(d.read("f"), Some(&b"xy"[..]));
    }
}
