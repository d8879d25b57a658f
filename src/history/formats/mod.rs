//! History file formats. Each parser owns its format's rules (what `:fail`,
//! `:info`, `nil` and open invocations mean) and produces [`RawHistory`].
//!
//! Unlike Porcupine, which skips lines its regexes do not match, these
//! parsers reject a malformed operation line with its line number: a typo
//! must not silently shrink the history that gets checked. Lines that are
//! not operations at all (other log lines in a Jepsen log) are skipped.

pub mod edn;
mod etcd;
mod knossos;
pub mod native;
mod porcupine;

use super::raw::{LineError, RawHistory};
use crate::core::Value;
use std::path::Path;

/// A history file format that `check` can read (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// simulate's own JSON Lines (history.jsonl of a run).
    Native,
    /// MIT 6.824 key-value logs as Porcupine reads them.
    PorcupineKv,
    /// Jepsen etcd single-register logs as Porcupine reads them.
    JepsenEtcdLog,
    /// Knossos/Jepsen EDN: one vector or list of op maps.
    KnossosEdn,
}

impl Format {
    /// The name `--format` takes and messages use.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::PorcupineKv => "porcupine-kv",
            Format::JepsenEtcdLog => "jepsen-etcd-log",
            Format::KnossosEdn => "knossos-edn",
        }
    }

    /// A guess from the file name: .jsonl, .txt, .log, .edn.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()? {
            "jsonl" => Some(Format::Native),
            "txt" => Some(Format::PorcupineKv),
            "log" => Some(Format::JepsenEtcdLog),
            "edn" => Some(Format::KnossosEdn),
            _ => None,
        }
    }

    /// The value every register or key holds before the first write, as
    /// the format's own tool assumes: Porcupine's kv model starts each key
    /// at "", Knossos's registers start at 0, everything else at nil.
    /// `--initial` overrides it.
    pub fn default_initial(self) -> Value {
        match self {
            Format::PorcupineKv => Value::Str(String::new()),
            Format::KnossosEdn => Value::Int(0),
            Format::Native | Format::JepsenEtcdLog => Value::Nil,
        }
    }

    /// Parses a whole file; a leading byte-order mark is ignored.
    pub fn parse(self, text: &str) -> Result<RawHistory, LineError> {
        let text = without_bom(text);
        match self {
            Format::Native => native::parse(text),
            Format::PorcupineKv => porcupine::parse(text),
            Format::JepsenEtcdLog => etcd::parse(text),
            Format::KnossosEdn => knossos::parse(text),
        }
    }

    /// Why `text`, read as this format, gave no operations, for a message:
    /// how long it is, what this format passes over, and the format its
    /// first line looks like. Zero operations is more often a wrong or
    /// truncated file than an empty history.
    pub fn why_no_operations(self, text: &str) -> String {
        let text = without_bom(text);
        let lines = text.lines().count();
        let mut why = match lines {
            0 => format!("no operations found: the file is empty (read as {})", self.name()),
            1 => format!("no operations found in its 1 line read as {}", self.name()),
            n => format!("no operations found in its {n} lines read as {}", self.name()),
        };
        if self == Format::JepsenEtcdLog && lines > 0 {
            why.push_str(", which passes over lines that are not `INFO jepsen.util - P ...` operations");
        }
        match Format::sniff(text) {
            Some(other) if other != self => {
                why.push_str(&format!("; it looks like {0}: is it --format {0}?", other.name()))
            }
            None if lines > 0 => why.push_str("; is it another format, or cut short?"),
            _ => {}
        }
        why
    }

    /// The format the first line that is not blank looks like, if any.
    fn sniff(text: &str) -> Option<Format> {
        let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
        let mut words = line.split_whitespace();
        if line.starts_with("{\"") {
            Some(Format::Native)
        } else if line.starts_with("{:process ") {
            Some(Format::PorcupineKv)
        } else if line.starts_with(['[', '(', ';']) {
            Some(Format::KnossosEdn)
        } else if words.nth(1).is_some_and(|w| w.starts_with("jepsen.")) {
            Some(Format::JepsenEtcdLog)
        } else {
            None
        }
    }
}

/// The text without a leading byte-order mark, which some editors write.
fn without_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_operations_says_how_much_was_read_and_what_it_looks_like() {
        let kv = "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n";
        let etcd = Format::JepsenEtcdLog;
        let why = etcd.why_no_operations(kv);
        assert!(
            why.starts_with("no operations found in its 1 line read as jepsen-etcd-log, which passes over"),
            "{why}"
        );
        assert!(
            why.ends_with("; it looks like porcupine-kv: is it --format porcupine-kv?"),
            "{why}"
        );
        let readme = "# simulate\n\nA simulator.\n";
        assert!(etcd.why_no_operations(readme).ends_with("in its 3 lines read as jepsen-etcd-log, which passes over lines that are not `INFO jepsen.util - P ...` operations; is it another format, or cut short?"));
        assert_eq!(
            Format::Native.why_no_operations("\u{feff}"),
            "no operations found: the file is empty (read as native)"
        );
        let edn = Format::KnossosEdn.why_no_operations("[]");
        assert_eq!(edn, "no operations found in its 1 line read as knossos-edn");
        for (text, format) in [
            ("\n  {\"type\":\"invoke\"}", Format::Native),
            ("; a comment\n[]", Format::KnossosEdn),
            ("INFO  jepsen.core - Worker 3 starting", Format::JepsenEtcdLog),
        ] {
            assert_eq!(Format::sniff(text), Some(format), "{text}");
        }
    }
}
