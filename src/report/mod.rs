//! Run reports: the summary (text and JSON), and the report folder.
//!
//! A report folder holds `summary.txt`, `summary.json`, `trace.log` (the
//! trace format is in `trace.rs`), `history.jsonl` (see `history`),
//! `scenario.ron`, a copy of the scenario as run, `repro.ron` (see
//! [`repro`]), which `simulate replay` reruns exactly even after the
//! original file changes, and `schedule.ron`, the faults the run played as
//! explicit `At` faults a scenario can take back. Pictures: `spacetime.svg` (nodes and messages
//! around the failure), `latency.svg` (every operation's latency with the
//! faults shaded) and, when linearizability fails, `counterexample.svg`.
//! `index.html` ([`page`]) puts it all together. Every file is written to
//! a temporary name and renamed into place: a reader never sees half a
//! file.

pub mod page;
pub mod repro;
pub mod trace_view;

use crate::check::{CheckResult, Verdict};
use crate::fault::FaultKinds;
use crate::history::OpCounts;
use crate::plot::{self, spacetime::Focus};
use crate::scenario::LoadedScenario;
use crate::trace::timeline::Timeline;
use crate::world::RunOutcome;
use page::Picture;
use serde_json::json;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

/// One run, ready to be shown: its summary and its report folder.
pub struct RunReport<'a> {
    /// The scenario it ran.
    pub scenario: &'a LoadedScenario,
    /// What the run produced.
    pub outcome: &'a RunOutcome,
    /// Every check's verdict.
    pub checks: Vec<CheckResult>,
    /// The worst of them.
    pub verdict: Verdict,
    /// Wall time of the run and its checks.
    pub wall_ms: f64,
    /// The report folder; None: not written (a passing run, by default).
    pub dir: Option<PathBuf>,
    /// False when the folder's repro is the one being replayed: a replay
    /// must not overwrite the record it is compared with.
    pub write_repro: bool,
    /// The fault kinds its family may cause, for counts and pictures.
    pub fault_kinds: &'a FaultKinds,
    /// The checks a bug demonstration is expected to fail, by name.
    pub expected: &'a [String],
    /// The command that runs this binary, for replay lines: `simulate`.
    pub program: &'a str,
}

/// `reports/<scenario name>/<seed>`, relative to the working directory.
pub fn default_dir(scenario_name: &str, seed: u64) -> PathBuf {
    dir_in(Path::new("reports"), scenario_name, seed)
}

/// `<root>/<scenario name>/<seed>`, the name made safe for a path.
pub fn dir_in(root: &Path, scenario_name: &str, seed: u64) -> PathBuf {
    root.join(safe_name(scenario_name)).join(seed.to_string())
}

/// `name` as one path component: ASCII letters, digits, `-` and `_` kept,
/// anything else (`/`, `.`, spaces) made `-`, so no name reaches outside
/// its folder (`..` becomes `--`).
pub fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

impl RunReport<'_> {
    /// The run's operations by outcome.
    pub fn ops(&self) -> OpCounts {
        self.outcome.history.counts()
    }

    /// The command that reruns this seed: the folder's repro if there is
    /// one, else the scenario file with the seed.
    pub fn replay_command(&self) -> String {
        match &self.dir {
            Some(dir) => format!("{} replay {}", self.program, dir.join("repro.ron").display()),
            None => format!(
                "{} run {} --seed {}",
                self.program, self.scenario.file, self.outcome.seed
            ),
        }
    }

    /// Each fault kind's count (zero if it never happened), keyed as the
    /// JSON summary writes them.
    fn fault_counts(&self) -> serde_json::Map<String, serde_json::Value> {
        let rows = self.fault_kinds.with_counts(&self.outcome.stats.faults);
        rows.into_iter()
            .map(|(key, _, n)| (key.to_string(), json!(n)))
            .collect()
    }

    /// Whether the failure is the one the scenario demonstrates: every
    /// check that failed is an expected one.
    pub fn failed_as_expected(&self) -> bool {
        crate::check::classify(&self.not_passed(), self.expected) == crate::check::Expectation::ExpectedFailure
    }

    /// The checks that did not pass, with their verdicts.
    fn not_passed(&self) -> Vec<(String, Verdict)> {
        let bad = self.checks.iter().filter(|c| c.verdict != Verdict::Pass);
        bad.map(|c| (c.name.clone(), c.verdict)).collect()
    }

    /// The expected checks that failed.
    pub fn failed_expected(&self) -> Vec<&str> {
        let failed = self.checks.iter().filter(|c| c.verdict == Verdict::Fail);
        failed
            .filter(|c| self.expected.contains(&c.name))
            .map(|c| c.name.as_str())
            .collect()
    }

    /// The summary as `--json` prints it and `summary.json` keeps it.
    pub fn to_json(&self) -> serde_json::Value {
        let o = self.outcome;
        json!({
            "scenario": self.scenario.spec.name,
            "protocol": self.scenario.spec.protocol.name,
            "seed": o.seed,
            "trace_hash": o.trace.hash_hex(),
            "events": o.trace.events(),
            "sim_time_ms": o.end_ns as f64 / 1e6,
            "wall_ms": self.wall_ms,
            "messages": o.stats.messages,
            "faults": self.fault_counts(),
            "ops": self.ops(),
            "verdict": self.verdict.as_str(),
            "expected_failures": self.expected,
            "failed_as_expected": self.failed_as_expected(),
            "checks": self.checks,
            "report_dir": self.dir.as_ref().map(|d| d.display().to_string()),
            "replay": self.replay_command(),
        })
    }

    /// The summary as `simulate run` prints it.
    pub fn to_text(&self) -> String {
        let o = self.outcome;
        let s = &self.scenario.spec;
        let m = o.stats.messages;
        let ops = self.ops();
        let mut t = String::new();
        let _ = writeln!(
            t,
            "{}  seed {}  protocol {}  {} nodes",
            s.name, o.seed, s.protocol.name, s.nodes
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
        let faults: Vec<String> = self
            .fault_kinds
            .with_counts(&o.stats.faults)
            .into_iter()
            .map(|(_, label, n)| format!("{label} {n}"))
            .collect();
        let _ = writeln!(t, "  faults    {}", faults.join("  "));
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
        if self.failed_as_expected() {
            let _ = writeln!(
                t,
                "expected: this scenario demonstrates a bug, and it failed as expected ({})",
                self.failed_expected().join(", ")
            );
        }
        match &self.dir {
            Some(dir) => writeln!(t, "report:  {}", dir.display()),
            None if self.verdict == Verdict::Pass => {
                writeln!(t, "report:  not written (the run passed; --report always writes one)")
            }
            None => writeln!(t, "report:  not written (--report never)"),
        }
        .expect("writing to a String");
        let _ = writeln!(t, "replay:  {}", self.replay_command());
        t
    }

    /// Writes the report folder, if the report has one.
    pub fn write(&self) -> io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        std::fs::create_dir_all(dir)?;
        let o = self.outcome;
        let mut trace = format!(
            "# simulate trace v1\n# scenario={} seed={} trace_hash={}\n",
            self.scenario.spec.name,
            o.seed,
            o.trace.hash_hex()
        );
        trace.push_str(o.trace.text());
        let json = serde_json::to_string_pretty(&self.to_json()).expect("the summary always serialises") + "\n";
        write_atomic(&dir.join("trace.log"), trace.as_bytes())?;
        write_atomic(&dir.join("history.jsonl"), o.history.to_jsonl().as_bytes())?;
        write_atomic(&dir.join("scenario.ron"), self.scenario.source.as_bytes())?;
        if self.write_repro {
            let repro = repro::to_text(self.scenario, o.seed, &o.trace.hash_hex(), self.verdict.as_str());
            write_atomic(&dir.join("repro.ron"), repro.as_bytes())?;
        }
        write_atomic(&dir.join("schedule.ron"), self.schedule_text().as_bytes())?;

        for (name, contents) in self.checks.iter().flat_map(|c| &c.files) {
            debug_assert!(
                CHECK_FILES.contains(&name.as_str()),
                "{name} is cleaned from reused folders"
            );
            write_atomic(&dir.join(name), contents.as_bytes())?;
        }
        let timeline = Timeline::from_trace_with(o.trace.text(), self.fault_kinds);
        let mut pictures = self.pictures(&timeline);
        for p in &pictures {
            if let Ok(svg) = &p.svg {
                write_atomic(&dir.join(p.file), svg.as_bytes())?;
            }
        }
        if let Some(svg) = self.file("counterexample.svg") {
            pictures.push(Picture {
                file: "counterexample.svg",
                title: "The linearizability counterexample",
                how_to_read: COUNTEREXAMPLE_HOW,
                svg: Ok(svg.to_string()),
            });
        }
        let index = page::render(self, &timeline, &pictures);
        write_atomic(&dir.join("index.html"), index.as_bytes())?;
        write_atomic(&dir.join("summary.json"), json.as_bytes())?;
        write_atomic(&dir.join("summary.txt"), self.to_text().as_bytes())?;
        // A folder reused from an earlier, failing run should not keep its
        // counterexample beside this run's report; the page does not link
        // it. Best effort, once the report is whole: a stale file is no
        // reason to lose the report.
        for name in CHECK_FILES.iter().filter(|n| !self.has_file(n)) {
            let _ = std::fs::remove_file(dir.join(name));
        }
        Ok(())
    }

    /// `schedule.ron`: the faults played, as a scenario's `faults` list.
    pub fn schedule_text(&self) -> String {
        let played = self.outcome.schedule.len();
        let mut text = format!(
            "// The {played} faults seed {} of {:?} played, every random choice resolved, as explicit\n\
             // `At` faults: put this list in the scenario's `faults` (and keep its `recover`) to play\n\
             // them again. The recovery phase is not listed: `recover` does it.\n",
            self.outcome.seed, self.scenario.spec.name
        );
        text.push_str(&crate::nemesis::schedule::to_ron(&self.outcome.schedule));
        text
    }

    /// A file a check made for the report folder.
    pub fn file(&self, name: &str) -> Option<&str> {
        let files = self.checks.iter().flat_map(|c| &c.files);
        files.into_iter().find(|(n, _)| n == name).map(|(_, c)| c.as_str())
    }

    /// Whether a check made file `name` for the folder.
    pub fn has_file(&self, name: &str) -> bool {
        self.file(name).is_some()
    }

    /// What the pictures centre on: the earliest failure a check timed,
    /// else the end of a failed run; a run that did not fail has none.
    pub fn focus(&self, timeline: &Timeline) -> Focus {
        let failed = self.checks.iter().filter(|c| c.verdict == Verdict::Fail);
        let first = failed.clone().filter(|c| c.at_ns.is_some()).min_by_key(|c| c.at_ns);
        let Some(check) = first.or(failed.clone().next()) else {
            return Focus::default();
        };
        let mut label = check.name.clone();
        if let Some(e) = check.exposed_by {
            let who = format!(": op {} (process {}, client c{}) exposed it", e.op, e.process, e.client);
            label.push_str(&who);
        }
        Focus {
            at_ns: Some(check.at_ns.unwrap_or(timeline.end_ns)),
            label,
            clients: check.exposed_by.map(|e| e.client).into_iter().collect(),
            op: check.exposed_by.map(|e| e.op),
        }
    }

    fn pictures(&self, timeline: &Timeline) -> Vec<Picture> {
        let focus = self.focus(timeline);
        let faulted = !timeline.node_bands.is_empty() || !timeline.partitions.is_empty();
        let title = match (focus.at_ns, faulted) {
            (Some(_), _) => "Nodes and messages around the failure",
            (None, true) => "Nodes and messages around the first fault",
            (None, false) => "Nodes and messages at the start of the run",
        };
        vec![
            Picture {
                file: "spacetime.svg",
                title,
                how_to_read: SPACETIME_HOW,
                svg: plot::spacetime::svg(timeline, &focus),
            },
            Picture {
                file: "latency.svg",
                title: "Operation latency over the run",
                how_to_read: LATENCY_HOW,
                svg: plot::latency::svg(timeline, &focus),
            },
        ]
    }
}

/// Files checks may write into a report folder.
const CHECK_FILES: [&str; 3] = ["linearizability.txt", "counterexample.html", "counterexample.svg"];

const SPACETIME_HOW: &str = "One row per node (and per client involved in the failure); time runs left to right. \
Each line is a message from its sender to its receiver, arrowhead where it arrived. A red cross marks a lost \
message: just off its sender, pointing at its receiver, when a partition or link loss dropped it; on the \
receiver's row when it reached a node that was down. A row drawn \
thick is a node that said it was the leader. Red bands on a row: the node was crashed; yellow: paused. Orange \
bands across all rows: a partition, labelled with the groups that could not reach each other. The red vertical \
line is when the failure happened or showed; the window is narrowed around it until the messages can be told \
apart, so earlier faults may lie outside it (the latency chart below shows the whole run).";

const LATENCY_HOW: &str = "Every client operation of the run, at the time it was invoked, by how long it took \
(log scale). Operations that never got an answer sit in the strip at the top. Shaded windows are faults: \
partitions orange, crashed nodes red, paused nodes yellow; purple lines are clock jumps. Stalls and \
timeouts line up with the faults that caused them.";

const COUNTEREXAMPLE_HOW: &str = "The smallest window of the history that cannot be linearized, one lane \
per client process, each operation a bar from its call to its return (in order of events, not to scale). \
Green bars are the longest order the checker could find in which every result is explained, numbered; \
the red bar had to take effect next and could not return what it returned.";

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
            Path::new("reports/raft-kv-partitions/7")
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
