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
    /// Why the folder could not be written, once [`RunReport::write_or_forget`]
    /// failed; `dir` is then None, so that nothing names a missing folder.
    pub unwritten: Option<String>,
}

/// `reports/<scenario name>/<seed>`, relative to the working directory.
pub fn default_dir(scenario_name: &str, seed: u64) -> PathBuf {
    dir_in(Path::new("reports"), scenario_name, seed)
}

/// `<root>/<scenario name>/<seed>`, the name made safe for a path (see
/// [`folder_name`]).
pub fn dir_in(root: &Path, scenario_name: &str, seed: u64) -> PathBuf {
    root.join(folder_name(scenario_name)).join(seed.to_string())
}

/// Longest folder name made from a scenario name, in bytes: far below
/// every file system's 255, with room for a `-<hash>` suffix.
pub const FOLDER_NAME_BYTES_MAX: usize = 64;

/// A name made safe for one path component: letters and digits (any
/// script), `-` and `_` are kept, everything else becomes `-`. It never
/// starts with `-` (a shell would read it as an option) and is never empty,
/// `.` or `..`; a name cut to [`FOLDER_NAME_BYTES_MAX`] ends with a hash of
/// the whole name, so that long names that share a start stay apart.
pub fn folder_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '_' { c } else { '-' })
        .collect();
    let safe = safe.trim_start_matches('-');
    let safe = if safe.is_empty() { "scenario" } else { safe };
    if safe.len() <= FOLDER_NAME_BYTES_MAX {
        return safe.to_string();
    }
    let suffix = format!("-{:08x}", crate::fnv::hash(name.as_bytes()) as u32);
    let mut cut = FOLDER_NAME_BYTES_MAX - suffix.len();
    while !safe.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{suffix}", &safe[..cut])
}

/// One folder name per scenario name, in order: [`folder_name`], with
/// `-2`, `-3`, ... added to the second and later of names that would share
/// a folder, so no two scenarios of one sweep write into each other's.
pub fn unique_folder_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut taken = std::collections::BTreeSet::new();
    let mut folders = Vec::new();
    for name in names {
        let base = folder_name(name);
        let mut folder = base.clone();
        let mut n = 1;
        while !taken.insert(folder.clone()) {
            n += 1;
            folder = format!("{base}-{n}");
        }
        folders.push(folder);
    }
    folders
}

/// `word` as one shell word: kept as is when it holds only characters no
/// POSIX shell treats specially, else in single quotes. Replay commands
/// are printed to be pasted into a shell: a path with a space or a `;`
/// must neither break the command nor run another.
pub fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

impl RunReport<'_> {
    /// The run's operations by outcome.
    pub fn ops(&self) -> OpCounts {
        self.outcome.history.counts()
    }

    /// The command that reruns this seed: the folder's repro if there is
    /// one, else the scenario file with the seed.
    pub fn replay_command(&self) -> String {
        let program = shell_word(self.program);
        match &self.dir {
            Some(dir) => format!(
                "{program} replay {}",
                shell_word(&dir.join("repro.ron").display().to_string())
            ),
            None => format!(
                "{program} run {} --seed {}",
                shell_word(&self.scenario.file),
                self.outcome.seed
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
            "fault_effects": o.coverage,
            "inert_faults": self.inert_faults(),
            "ops": self.ops(),
            "ops_by_kind": self.outcome.history.counts_by_kind(),
            "verdict": self.verdict.as_str(),
            "expected_failures": self.expected,
            "failed_as_expected": self.failed_as_expected(),
            "checks": self.checks,
            "report_dir": self.dir.as_ref().map(|d| d.display().to_string()),
            "report_error": self.unwritten,
            "replay": self.replay_command(),
        })
    }

    /// The kinds of fault the scenario can produce that had no effect in
    /// this run (see `world::coverage`).
    fn inert_faults(&self) -> Vec<&'static str> {
        let possible = crate::world::coverage::possible(&self.scenario.spec);
        let keys = possible.into_iter().map(crate::world::coverage::Effect::key);
        keys.filter(|k| !self.outcome.coverage.contains(k)).collect()
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
        let inert = self.inert_faults();
        if !inert.is_empty() || !o.coverage.is_empty() {
            let bit: Vec<&str> = o.coverage.iter().copied().collect();
            let _ = writeln!(
                t,
                "  effects   bit: {}  inert: {}",
                list_or_none(&bit),
                list_or_none(&inert)
            );
        }
        let _ = writeln!(
            t,
            "  ops       invoked {}  ok {}  fail {}  indeterminate {}",
            ops.invoked, ops.ok, ops.fail, ops.indeterminate
        );
        for (kind, c) in self.outcome.history.counts_by_kind() {
            let _ = writeln!(
                t,
                "    {kind:<8} invoked {}  ok {}  fail {}  indeterminate {}",
                c.invoked, c.ok, c.fail, c.indeterminate
            );
        }
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
            None if self.unwritten.is_some() => writeln!(
                t,
                "report:  not written ({})",
                self.unwritten.as_deref().unwrap_or_default()
            ),
            None if self.verdict == Verdict::Pass => {
                writeln!(t, "report:  not written (the run passed; --report always writes one)")
            }
            None => writeln!(t, "report:  not written (--report never)"),
        }
        .expect("writing to a String");
        let _ = writeln!(t, "replay:  {}", self.replay_command());
        t
    }

    /// [`RunReport::write`]; if that fails, the report forgets its folder
    /// (`report_dir` becomes null and the replay command runs the scenario
    /// file) and keeps why in `unwritten`, so that the summary printed
    /// after names no folder or repro that is not there.
    pub fn write_or_forget(&mut self) -> Result<(), String> {
        let Err(e) = self.write() else {
            return Ok(());
        };
        let dir = self.dir.take().expect("only a report with a folder writes one");
        let why = format!("cannot write {}: {e}", dir.display());
        self.unwritten = Some(why.clone());
        Err(why)
    }

    /// Writes the report folder, if the report has one.
    pub fn write(&self) -> io::Result<()> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        std::fs::create_dir_all(dir)?;
        let o = self.outcome;
        let header = format!(
            "# simulate trace v1\n# scenario={} seed={} trace_hash={}\n",
            self.scenario.spec.name,
            o.seed,
            o.trace.hash_hex()
        );
        // The timeline and its pictures (the most of a report's work) are
        // drawn on a thread of their own while this one writes the rest:
        // the same files, the summary still last.
        std::thread::scope(|scope| {
            let drawing = scope.spawn(|| {
                let timeline = Timeline::from_trace_with(o.trace.text(), self.fault_kinds);
                let pictures = self.pictures(&timeline);
                (timeline, pictures)
            });
            let json = serde_json::to_string_pretty(&self.to_json()).expect("the summary always serialises") + "\n";
            let text = self.to_text();
            self.write_records(dir, &header)?;
            let (timeline, mut pictures) = drawing.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
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
            write_atomic(&dir.join("summary.txt"), text.as_bytes())
        })?;
        // A folder reused from an earlier, failing run should not keep its
        // counterexample beside this run's report; the page does not link
        // it. Best effort, once the report is whole: a stale file is no
        // reason to lose the report.
        for name in CHECK_FILES.iter().filter(|n| !self.has_file(n)) {
            let _ = std::fs::remove_file(dir.join(name));
        }
        Ok(())
    }

    /// The run's records: its trace (after `header`), history, scenario,
    /// repro, schedule and the checks' own files.
    fn write_records(&self, dir: &Path, header: &str) -> io::Result<()> {
        let o = self.outcome;
        // Header and text written one after the other: joining them would
        // copy the whole trace (megabytes) first.
        write_atomic_with(&dir.join("trace.log"), |file| {
            io::Write::write_all(file, header.as_bytes())?;
            io::Write::write_all(file, o.trace.text().as_bytes())
        })?;
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
    write_atomic_with(path, |file| io::Write::write_all(file, bytes))
}

/// [`write_atomic`], the contents written by `fill`. Whatever fails (the
/// writing, say on a full disk, or the rename), the temporary file is
/// removed: a failed write must not leave hidden files that keep the disk
/// full.
fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut std::fs::File) -> io::Result<()>) -> io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|mut file| fill(&mut file));
    written.and_then(|()| std::fs::rename(&tmp, path)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// `a, b`, or `none`.
fn list_or_none(items: &[&str]) -> String {
    match items {
        [] => "none".to_string(),
        _ => items.join(", "),
    }
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
    fn folder_names_are_safe_distinct_and_short() {
        assert_eq!(folder_name("raft kv/partitions"), "raft-kv-partitions");
        assert_eq!(folder_name(".."), "scenario");
        assert_eq!(folder_name("--rm -rf"), "rm--rf");
        assert_eq!(folder_name("日本"), "日本");
        assert_ne!(folder_name("日本"), folder_name("中文"));
        let long_a = format!("{}a", "x".repeat(300));
        let long_b = format!("{}b", "x".repeat(300));
        let (a, b) = (folder_name(&long_a), folder_name(&long_b));
        assert!(a.len() <= FOLDER_NAME_BYTES_MAX && b.len() <= FOLDER_NAME_BYTES_MAX);
        assert_ne!(a, b);
        let cut_in_a_char = folder_name(&"é".repeat(100));
        assert!(cut_in_a_char.len() <= FOLDER_NAME_BYTES_MAX, "{cut_in_a_char}");
    }

    #[test]
    fn names_that_share_a_folder_are_told_apart_in_order() {
        let folders = unique_folder_names(["kv", "a b", "kv", "a/b", "kv-2"]);
        assert_eq!(folders, ["kv", "a-b", "kv-2", "a-b-2", "kv-2-2"]);
    }

    #[test]
    fn shell_words_survive_spaces_quotes_and_semicolons() {
        assert_eq!(shell_word("reports/raft-kv/7/repro.ron"), "reports/raft-kv/7/repro.ron");
        assert_eq!(shell_word("my dir/a;rm x"), "'my dir/a;rm x'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("$HOME"), "'$HOME'");
    }

    #[test]
    fn a_write_that_fails_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("simulate-report-fail-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("trace.log");
        let full = write_atomic_with(&file, |f| {
            io::Write::write_all(f, b"half a trace")?;
            Err(io::Error::new(io::ErrorKind::StorageFull, "no space left on device"))
        });
        assert_eq!(full.unwrap_err().kind(), io::ErrorKind::StorageFull);
        assert_eq!(
            std::fs::read_dir(&dir).unwrap().count(),
            0,
            "the temporary file was removed"
        );
        std::fs::remove_dir_all(&dir).unwrap();
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
