//! A node's simulated disk: named files, where only fsynced data survives
//! a crash.
//!
//! Each file has the contents the node sees and the contents that are on
//! stable storage. `fsync` makes them equal; a crash throws away the first
//! and keeps the second. Files are in a BTreeMap so listing them is
//! deterministic.
//!
//! A [`DiskHook`] can make disk operations fail: an fsync that returns an
//! error (and makes nothing durable), or a torn write (a crash keeps part
//! of the unsynced tail of a file). It draws from the disk's own random
//! stream, and each fault it causes is noted for the trace.

use super::rng::SimRng;
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Default)]
struct File {
    /// What reads return; `None` once removed.
    current: Option<Vec<u8>>,
    /// What survives a crash.
    durable: Durable,
    /// Only appends since the last sync (a crash can tear them).
    appended_only: bool,
}

/// What of a file survives a crash. A log is appended to and synced over
/// and over: its durable part is a prefix of what the node sees, and
/// keeping it as a length, not a second copy, spares copying each append
/// twice and doubling the memory of every log.
#[derive(Clone, Default, PartialEq, Eq)]
enum Durable {
    /// Nothing: never synced, or its removal was.
    #[default]
    Absent,
    /// The first this many bytes of `current`: only appends since.
    Prefix(usize),
    /// A copy of its own: the file was rewritten or removed since.
    Copy(Vec<u8>),
}

impl File {
    /// The bytes a crash would keep (before any torn write).
    fn durable_bytes(&self) -> Option<&[u8]> {
        match &self.durable {
            Durable::Absent => None,
            Durable::Prefix(len) => Some(&self.current.as_ref().expect("a prefix of something")[..*len]),
            Durable::Copy(bytes) => Some(bytes),
        }
    }

    /// Gives the durable part a copy of its own, before `current` changes
    /// other than by an append.
    fn detach(&mut self) {
        if let Durable::Prefix(len) = self.durable {
            let current = self.current.as_ref().expect("a prefix of something");
            self.durable = Durable::Copy(current[..len].to_vec());
        }
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File")
            .field("current", &self.current)
            .field("durable", &self.durable_bytes())
            .field("appended_only", &self.appended_only)
            .finish()
    }
}

/// A node's disk. Crash-consistent by default: fsynced data survives, the
/// rest is lost.
#[derive(Default)]
pub struct Disk {
    files: BTreeMap<String, File>,
    stats: DiskStats,
    hook: Option<(Box<dyn DiskHook>, SimRng)>,
    /// Faults the hook caused, not yet traced: (fault kind, detail).
    faults: Vec<(&'static str, String)>,
}

impl fmt::Debug for Disk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Disk")
            .field("files", &self.files)
            .field("stats", &self.stats)
            .field("hooked", &self.hook.is_some())
            .finish()
    }
}

/// An fsync that failed: nothing written since the last good sync became
/// durable by it. A later fsync that succeeds makes those writes durable;
/// a hook that wants Linux's behaviour after fsyncgate (the failed pages
/// are dropped, so they never become durable) fails the later fsyncs too.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("fsync failed: {0}")]
pub struct DiskError(pub String);

/// Decides which disk operations fail. Every method has a default that
/// fails nothing, so a hook states only the faults it causes.
pub trait DiskHook: Send {
    /// Called before each fsync; an error makes the fsync fail.
    fn fsync(&mut self, _rng: &mut SimRng) -> Result<(), DiskError> {
        Ok(())
    }

    /// Called at a crash for each file with `unsynced_bytes` written past
    /// its durable copy by appends only: how many of them survive anyway
    /// (a torn write). 0 is a clean crash.
    fn torn_bytes(&mut self, _file: &str, _unsynced_bytes: usize, _rng: &mut SimRng) -> usize {
        0
    }
}

/// One record per line, as JSON: the durable log format that the built-in
/// protocols share.
pub fn encode_line<T: serde::Serialize>(record: &T) -> Vec<u8> {
    let mut line = Vec::new();
    encode_line_into(&mut line, record);
    line
}

/// [`encode_line`], appended to `out`.
pub fn encode_line_into<T: serde::Serialize>(out: &mut Vec<u8>, record: &T) {
    serde_json::to_writer(&mut *out, record).expect("log records always serialise");
    out.push(b'\n');
}

/// Replays a log written by [`encode_line`]. A torn last line (cut short,
/// so it does not parse) ends the log, as a real log reader would.
pub fn decode_lines<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Vec<T> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map_while(|line| serde_json::from_slice(line).ok())
        .collect()
}

/// Running totals of what a node did to its disk, for reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Bytes passed to `write` and `append`, synced or not.
    pub bytes_written: u64,
    /// Calls to `fsync`, including ones the hook failed.
    pub fsyncs: u64,
    /// Bytes that were written but not synced when the node crashed.
    pub bytes_lost: u64,
}

impl Disk {
    /// A disk whose faults `hook` decides, drawing from `rng`.
    pub fn with_hook(hook: Box<dyn DiskHook>, rng: SimRng) -> Self {
        Disk {
            hook: Some((hook, rng)),
            ..Disk::default()
        }
    }

    /// Replaces the contents of `name`.
    pub fn write(&mut self, name: &str, data: &[u8]) {
        self.stats.bytes_written += data.len() as u64;
        let file = self.file(name);
        file.detach();
        file.current = Some(data.to_vec());
        file.appended_only = false;
    }

    /// Appends to `name`, creating it if needed.
    pub fn append(&mut self, name: &str, data: &[u8]) {
        self.stats.bytes_written += data.len() as u64;
        let file = self.file(name);
        match &mut file.current {
            Some(bytes) => bytes.extend_from_slice(data),
            None => {
                file.current = Some(data.to_vec());
                file.appended_only &= file.durable == Durable::Absent;
            }
        }
    }

    /// The file called `name`; a new one (as if only appended to) if none.
    fn file(&mut self, name: &str) -> &mut File {
        // Looked up before inserting: an insert needs the name as a
        // String of its own, and nearly every call finds the file.
        if !self.files.contains_key(name) {
            let new = File {
                appended_only: true,
                ..File::default()
            };
            self.files.insert(name.to_string(), new);
        }
        self.files.get_mut(name).expect("just made sure")
    }

    /// The contents of `name` as the node sees them now, synced or not;
    /// `None` if it does not exist.
    pub fn read(&self, name: &str) -> Option<&[u8]> {
        self.files.get(name)?.current.as_deref()
    }

    /// [`Disk::read`], copied: the copy borrows nothing, so a handler can
    /// go on sending while it holds it.
    pub fn read_owned(&self, name: &str) -> Option<Vec<u8>> {
        self.read(name).map(<[u8]>::to_vec)
    }

    /// Deletes `name`. Like any other change, the removal survives a crash
    /// only once synced.
    pub fn remove(&mut self, name: &str) {
        if let Some(file) = self.files.get_mut(name) {
            file.detach();
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

    /// Makes every write so far durable, unless the hook fails it.
    pub fn fsync(&mut self) -> Result<(), DiskError> {
        self.stats.fsyncs += 1;
        if let Some((hook, rng)) = &mut self.hook {
            if let Err(e) = hook.fsync(rng) {
                self.faults.push(("fsync-error", e.0.clone()));
                return Err(e);
            }
        }
        for file in self.files.values_mut() {
            sync_file(file);
        }
        self.files
            .retain(|_, f| f.current.is_some() || f.durable != Durable::Absent);
        Ok(())
    }

    /// Forgets everything that was not synced, as a power cut would (less
    /// what a torn write keeps).
    pub fn crash(&mut self) {
        for (name, file) in self.files.iter_mut() {
            let torn = match &mut self.hook {
                Some((hook, rng)) if file.appended_only => {
                    let tail = appended_tail(file);
                    hook.torn_bytes(name, tail, rng).min(tail)
                }
                _ => 0,
            };
            if torn > 0 {
                self.faults.push(("torn-write", format!("file={name} kept={torn}")));
            }
            self.stats.bytes_lost += unsynced_bytes(file).saturating_sub(torn as u64);
            keep_durable(file, torn);
        }
        self.files.retain(|_, f| f.current.is_some());
    }

    /// Faults the hook caused since the last call: (fault kind, detail).
    pub fn take_faults(&mut self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut self.faults)
    }

    /// Totals since the disk was created; a crash does not reset them.
    pub fn stats(&self) -> DiskStats {
        self.stats
    }
}

fn sync_file(file: &mut File) {
    file.durable = match &file.current {
        Some(current) => Durable::Prefix(current.len()),
        None => Durable::Absent,
    };
    file.appended_only = true;
}

/// Bytes appended past the durable part (all of them if never synced).
fn appended_tail(file: &File) -> usize {
    let durable = file.durable_bytes().map_or(0, <[u8]>::len);
    file.current.as_ref().map_or(0, |c| c.len().saturating_sub(durable))
}

/// The file as a crash leaves it: its durable part, plus the first `torn`
/// unsynced appended bytes.
fn keep_durable(file: &mut File, torn: usize) {
    match std::mem::take(&mut file.durable) {
        Durable::Prefix(len) => {
            let current = file.current.as_mut().expect("a prefix of something");
            current.truncate(len + torn);
            file.durable = Durable::Prefix(len);
        }
        Durable::Absent if torn > 0 => {
            file.current
                .as_mut()
                .expect("a torn file has unsynced bytes")
                .truncate(torn);
        }
        Durable::Absent => file.current = None,
        Durable::Copy(bytes) => {
            assert_eq!(torn, 0, "only a file appended to since its sync is torn");
            file.durable = Durable::Prefix(bytes.len());
            file.current = Some(bytes);
        }
    }
    file.appended_only = true;
}

fn unsynced_bytes(file: &File) -> u64 {
    match (file.current.as_deref(), file.durable_bytes()) {
        (Some(cur), Some(dur)) if cur.starts_with(dur) => (cur.len() - dur.len()) as u64,
        (Some(cur), dur) if Some(cur) != dur => cur.len() as u64,
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
        d.fsync().unwrap();
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
            d.fsync().unwrap();
        }
        d.crash();
        assert_eq!(d.read("log"), Some(&b"one two three"[..]));
    }

    #[test]
    fn removal_is_durable_only_after_sync() {
        let mut d = Disk::default();
        d.write("f", b"1");
        d.fsync().unwrap();
        d.remove("f");
        assert_eq!(d.read("f"), None);
        d.crash();
        assert_eq!(d.read("f"), Some(&b"1"[..]));
        d.remove("f");
        d.fsync().unwrap();
        d.crash();
        assert_eq!(d.read("f"), None);
        assert_eq!(d.files().count(), 0);
    }

    #[test]
    fn log_round_trips_and_ignores_a_torn_tail() {
        let records = [(1u32, "a".to_string()), (2, "x\ny".to_string())];
        let mut bytes: Vec<u8> = records.iter().flat_map(encode_line).collect();
        assert_eq!(decode_lines::<(u32, String)>(&bytes), records);
        bytes.extend_from_slice(br#"[3,"ze"#);
        assert_eq!(decode_lines::<(u32, String)>(&bytes), records);
    }

    /// Tears half of every unsynced tail; fails every fsync if `fsyncs_fail`.
    struct Faulty {
        fsyncs_fail: bool,
    }

    impl DiskHook for Faulty {
        fn fsync(&mut self, _rng: &mut SimRng) -> Result<(), DiskError> {
            match self.fsyncs_fail {
                true => Err(DiskError("EIO".into())),
                false => Ok(()),
            }
        }
        fn torn_bytes(&mut self, _file: &str, unsynced_bytes: usize, _rng: &mut SimRng) -> usize {
            unsynced_bytes / 2
        }
    }

    #[test]
    fn a_hook_fails_fsyncs_and_tears_appends() {
        let mut d = Disk::with_hook(
            Box::new(Faulty { fsyncs_fail: true }),
            crate::env::rng::stream(0, "disk/0"),
        );
        d.append("log", b"abcd");
        assert_eq!(d.fsync(), Err(DiskError("EIO".into())));
        d.crash();
        assert_eq!(d.read("log"), Some(&b"ab"[..]), "half the unsynced append survives");
        assert_eq!(d.stats().bytes_lost, 2);
        let kinds: Vec<_> = d.take_faults().into_iter().map(|(k, _)| k).collect();
        assert_eq!(kinds, ["fsync-error", "torn-write"]);
        assert!(d.take_faults().is_empty());
    }

    #[test]
    fn a_torn_append_after_a_sync_keeps_the_synced_prefix_and_part_of_the_tail() {
        let mut d = Disk::with_hook(
            Box::new(Faulty { fsyncs_fail: false }),
            crate::env::rng::stream(0, "disk/0"),
        );
        d.append("log", b"ab");
        d.fsync().unwrap();
        d.append("log", b"cdef");
        d.crash();
        assert_eq!(d.read("log"), Some(&b"abcd"[..]));
        assert_eq!(d.stats().bytes_lost, 2);
        // What the torn write kept is not durable until synced.
        d.append("log", b"x");
        d.crash();
        assert_eq!(d.read("log"), Some(&b"abc"[..]), "3 unsynced bytes, 1 torn in");
        d.append("log", b"yz");
        d.fsync().unwrap();
        d.crash();
        assert_eq!(d.read("log"), Some(&b"abcyz"[..]));
    }

    #[test]
    fn a_rewrite_after_a_sync_keeps_the_synced_bytes_for_a_crash() {
        let mut d = Disk::default();
        d.append("f", b"abc");
        d.fsync().unwrap();
        d.append("f", b"d");
        d.write("f", b"x");
        assert!(format!("{d:?}").contains("durable: Some([97, 98, 99])"), "{d:?}");
        d.crash();
        assert_eq!(d.read("f"), Some(&b"abc"[..]));
        assert_eq!(d.stats().bytes_lost, 1);
        d.remove("f");
        d.crash();
        assert_eq!(d.read("f"), Some(&b"abc"[..]), "the removal was never synced");
    }

    #[test]
    fn rewrite_then_append_syncs_the_whole_file() {
        let mut d = Disk::default();
        d.append("f", b"abc");
        d.fsync().unwrap();
        d.write("f", b"x");
        d.append("f", b"y");
        d.fsync().unwrap();
        d.crash();
        assert_eq!(d.read("f"), Some(&b"xy"[..]));
    }
}
