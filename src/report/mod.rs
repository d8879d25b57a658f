//! Run reports: the summary (text and JSON), and the report folder.
//!
//! A report folder holds `summary.txt`, `summary.json`, `trace.log` (the
//! trace format is in `trace.rs`), `history.jsonl` (see `history`) and
//! `scenario.ron`, a copy of the scenario as run, and `repro.ron` (see
//! [`repro`]), which `simulate replay` reruns exactly even after the
//! original file changes. Every file is written to a

//! temporary name and renamed into place: a reader never sees half a file.

pub mod repro;
pub mod trace_view;

use crate::check::{CheckResult, Verdict};

use crate::history::OpCounts;
use crate::scenario::LoadedScenario;
use crate::sim::RunOutcome;
use serde_json::json;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

pub struct RunReport<'a> {
    pub scenario: &'a LoadedScenario,
    pub outcome: &'a RunOutcome,
    pub checks: Vec<CheckResult>,
    pub verdict: Verdict,
    pub wall_ms: f64,
    pub dir: PathBuf,
    /// False when the folder's repro is the one being replayed: a replay
    /// must not overwrite the record it is compared with.
    pub write_repro: bool,
}

/// `reports/<scenario name>/seed-<seed>`, relative to the working directory.
pub fn default_dir(scenario_name: &str, seed: u64) -> PathBuf {
    dir_in(Path::new("reports"), scenario_name, seed)
}

/// `<root>/<scenario name>/seed-<seed>`, the name made safe for a path.
pub fn dir_in(root: &Path, scenario_name: &str, seed: u64) -> PathBuf {
    let safe: String = scenario_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    root.join(safe).join(format!("seed-{seed}"))
}

impl RunReport<'_> {
    pub fn ops(&self) -> OpCounts {
        self.outcome.history.counts()
    }

    pub fn replay_command(&self) -> String {
        format!("simulate replay {}", self.dir.join("repro.ron").display())
    }

    pub fn to_json(&self) -> serde_json::Value {
        let o = self.outcome;
        json!({
            "scenario": self.scenario.spec.name,
            "protocol": self.scenario.spec.protocol.name(),
            "seed": o.seed,
            "trace_hash": o.trace.hash_hex(),
            "events": o.trace.events(),
            "sim_time_ms": o.end_ns as f64 / 1e6,
            "wall_ms": self.wall_ms,
            "messages": o.stats.messages,
            "faults": o.stats.faults,
            "ops": self.ops(),
            "verdict": self.verdict.as_str(),
            "checks": self.checks,
            "report_dir": self.dir.display().to_string(),
            "replay": self.replay_command(),
        })
    }

    pub fn to_text(&self) -> String {
        let o = self.outcome;
        let s = &self.scenario.spec;
        let m = o.stats.messages;
        let f = o.stats.faults;
        let ops = self.ops();
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{}  seed {}  protocol {}  {} nodes",
            s.name,
            o.seed,
            s.protocol.name(),
            s.nodes
        );
        let _ = writeln!(
            t,
            "  simulated {:.3}s in {:.1}ms wall, {} events, trace {}",
            o.end_ns as f64 / 1e9,
            self.wall_ms,
            o.trace.events(),
            o.trace.hash_hex()
        );
        let _ = writeln!(
            t,
            "  messages  sent {}  delivered {}  dropped {}  duplicated {}  in flight {}",
            m.sent, m.delivered, m.dropped, m.duplicated, m.in_flight
        );
        let _ = writeln!(
            t,
            "  faults    partition {}  one-way {}  heal {}  crash {}  restart {}  pause {}  resume {}  clock-jump {}  drop {}  duplicate {}",
            f.partition, f.one_way_partition, f.heal, f.crash, f.restart, f.pause, f.resume, f.clock_jump, f.drop, f.duplicate
        );
        let _ = writeln!(
            t,
            "  ops       invoked {}  ok {}  fail {}  indeterminate {}",
            ops.invoked, ops.ok, ops.fail, ops.indeterminate
        );
        for (i, c) in self.checks.iter().enumerate() {
            let label = if i == 0 { "  checks   " } else { "           " };
            let detail = c.detail.replace('\n', "\n                     ");
            let _ = writeln!(t, "{label} {:<7} {}: {detail}", c.verdict.as_str(), c.name);
        }
        let _ = writeln!(t, "verdict: {}", self.verdict.as_str().to_uppercase());
        let _ = writeln!(t, "report:  {}", self.dir.display());
        let _ = writeln!(t, "replay:  {}", self.replay_command());
        t
    }

    /// Writes the report folder.
    pub fn write(&self) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let o = self.outcome;
        let mut trace = format!(
            "# simulate trace v1\n# scenario={} seed={} trace_hash={}\n",
            self.scenario.spec.name,
            o.seed,
            o.trace.hash_hex()
        );
        trace.push_str(o.trace.text());
        let json = serde_json::to_string_pretty(&self.to_json()).expect("the summary always serialises") + "\n";
        write_atomic(&self.dir.join("trace.log"), trace.as_bytes())?;
        write_atomic(&self.dir.join("history.jsonl"), o.history.to_jsonl().as_bytes())?;
        write_atomic(&self.dir.join("scenario.ron"), self.scenario.source.as_bytes())?;
        if self.write_repro {
            let repro = repro::to_text(self.scenario, o.seed, &o.trace.hash_hex(), self.verdict.as_str());
            write_atomic(&self.dir.join("repro.ron"), repro.as_bytes())?;
        }

        for (name, contents) in self.checks.iter().flat_map(|c| &c.files) {
            write_atomic(&self.dir.join(name), contents.as_bytes())?;
        }
        write_atomic(&self.dir.join("summary.json"), json.as_bytes())?;
        write_atomic(&self.dir.join("summary.txt"), self.to_text().as_bytes())
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_dir_is_safe_for_any_name() {
        assert_eq!(
            default_dir("raft kv/partitions", 7),
            Path::new("reports/raft-kv-partitions/seed-7")
        );
    }

    #[test]
    fn write_atomic_replaces_whole_files_and_leaves_no_temp() {
        let dir = std::env::temp_dir().join(format!("simulate-report-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.txt");
        write_atomic(&file, b"first").unwrap();
        write_atomic(&file, b"second").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.txt"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
