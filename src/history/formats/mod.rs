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
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        match self {
            Format::Native => native::parse(text),
            Format::PorcupineKv => porcupine::parse(text),
            Format::JepsenEtcdLog => etcd::parse(text),
            Format::KnossosEdn => knossos::parse(text),
        }
    }
}
