//! A sweep's summary: what `--json` writes, and everything the printed
//! summary, the JUnit XML and the exit code are made from.
//!
//! `simulate sweep` builds one from its tally; `simulate merge` reads
//! shards' summaries and adds them up. Both print, write and exit from
//! the summary alone, so a merge of shards says what the unsharded sweep
//! would have said.

use super::{EXIT_FAIL, EXIT_INTERRUPTED, EXIT_PASS, EXIT_UNKNOWN};
use crate::check::linear::html::escape;
use crate::check::Verdict;
use crate::sweep::Shard;
use crate::world::coverage::Effect;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

/// The whole sweep (or shard).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Summary {
    /// The seed range, before sharding.
    pub seeds: Range<u64>,
    /// The part of the range this sweep ran.
    pub shard: Shard,
    /// Worker threads (over all shards, once merged).
    pub jobs: usize,
    /// Each seed ran its swarm variant of the scenario (`--swarm`).
    #[serde(default)]
    pub swarm: bool,
    pub planned: u64,
    pub ran: u64,
    pub passed: u64,
    pub failed_as_expected: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Elapsed time (the slowest shard's, once merged).
    pub wall_s: f64,
    /// Time inside the runs themselves (simulate and check), over all
    /// workers: wall_s * jobs - run_s is what the sweep added.
    pub run_s: f64,
    pub interrupted: bool,
    #[serde(with = "hex")]
    pub digest: u64,
    pub stopped_because: Option<String>,
    /// Runs of corpus seeds outside the range (`--corpus`), counted in
    /// `planned` and `ran` too.
    #[serde(default)]
    pub corpus_ran: u64,
    pub scenarios: Vec<ScenarioSummary>,
}

/// One scenario's part of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct ScenarioSummary {
    pub file: String,
    pub name: String,
    /// How the output names it: its name, and its file too when another
    /// scenario of the sweep has the same name.
    pub label: String,
    pub report_folder: Option<String>,
    pub planned: u64,
    pub ran: u64,
    /// Time inside this scenario's runs.
    pub run_s: f64,
    pub seeds_ran: Option<String>,
    pub seeds_not_run: Option<String>,
    pub not_run: u64,
    pub interrupted: Vec<u64>,
    pub failed: Vec<u64>,
    pub unknown: Vec<u64>,
    pub expected_failures: Vec<String>,
    pub failed_as_expected: u64,
    pub failed_as_expected_by_check: BTreeMap<String, u64>,
    pub first_failed_as_expected: Option<u64>,
    pub sometimes_seen: BTreeMap<String, u64>,
    pub never_seen: Vec<String>,
    /// Seeds in which each kind of fault had an effect (partition, crash,
    /// clock_jump...; see `world::coverage`).
    #[serde(default)]
    pub fault_effects: BTreeMap<String, u64>,
    /// Kinds of fault the scenario can produce that had an effect in no
    /// seed. A finding, printed; it does not change the exit code.
    #[serde(default)]
    pub inert: Vec<String>,
    /// The seeds that failed unexpectedly or could not decide, by seed.
    pub not_passed: Vec<Finding>,
    /// Seeds in the scenario's corpus file when the sweep started; None
    /// without `--corpus`. Shards of one sweep must agree on it.
    #[serde(default)]
    pub corpus_size: Option<u64>,
    /// The corpus seeds outside the range that ran, before the range (a
    /// corpus seed the range holds runs in its place). Counted in
    /// `planned` and `ran`.
    #[serde(default)]
    pub corpus: Vec<u64>,
}

/// A seed that failed unexpectedly or could not decide.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Finding {
    pub seed: u64,
    /// The worst check's verdict.
    pub verdict: Verdict,
    /// `failed` (a check outside the expected ones failed) or `unknown`.
    pub outcome: FindingKind,
    /// The checks that did not pass.
    pub checks: Vec<CheckVerdict>,
    /// The command that replays it.
    pub replay: String,
}

/// How a finding counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum FindingKind {
    Failed,
    Unknown,
}

/// A check that did not pass, and how.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct CheckVerdict {
    pub check: String,
    pub verdict: Verdict,
}

/// The digest as 16 hex digits, as the summary line prints it.
mod hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(digest: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{digest:016x}"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16)
            .ok()
            .filter(|_| text.len() == 16)
            .ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a digest; expected 16 hex digits")))
    }
}

impl Finding {
    /// The line a sweep prints for it, and the JUnit lists.
    pub fn line(&self, label: &str) -> String {
        let checks: Vec<String> = self
            .checks
            .iter()
            .map(|c| format!("{} ({})", c.check, c.verdict.as_str()))
            .collect();
        format!(
            "{} {label} seed {}: {}\n  replay: {}",
            self.verdict.as_str(),
            self.seed,
            checks.join(", "),
            self.replay
        )
    }
}

/// What a scenario's `seeds_ran` says: the seeds of the range that ran
/// (`range`, if any did) and the corpus seeds run before them.
pub(super) fn seeds_ran(range: Option<String>, corpus: &[u64]) -> Option<String> {
    let corpus = (!corpus.is_empty()).then(|| {
        let listed: Vec<String> = corpus.iter().map(u64::to_string).collect();
        format!(
            "corpus seed{} {}",
            if corpus.len() == 1 { "" } else { "s" },
            listed.join(", ")
        )
    });
    match (range, corpus) {
        (Some(r), Some(c)) => Some(format!("{r} and {c}")),
        (r, c) => r.or(c),
    }
}

impl ScenarioSummary {
    /// A bug demonstration of which some seed ran and none showed the
    /// failure.
    pub fn missing_expected(&self) -> bool {
        !self.expected_failures.is_empty() && self.ran > 0 && self.failed_as_expected == 0
    }
}

impl Summary {
    fn range(&self) -> String {
        format!("{}..{}", self.seeds.start, self.seeds.end)
    }

    /// Exit 1 if a seed failed unexpectedly or a bug demonstration showed
    /// nothing; else 130 if interrupted; else 3 if a seed was unknown;
    /// else 0. Inert faults and sometimes properties never seen are
    /// findings about the scenario, printed, not failures of the code.
    pub fn exit_code(&self) -> i32 {
        if self.failed > 0 || self.scenarios.iter().any(ScenarioSummary::missing_expected) {
            EXIT_FAIL
        } else if self.interrupted {
            EXIT_INTERRUPTED
        } else if self.unknown > 0 {
            EXIT_UNKNOWN
        } else {
            EXIT_PASS
        }
    }

    /// Prints the expected failures, what no seed saw, and the summary line.
    pub fn print(&self) {
        let range = self.range();
        for s in self.scenarios.iter().filter(|s| !s.expected_failures.is_empty()) {
            let by_check = |name: &String| format!("{name} {}", s.failed_as_expected_by_check.get(name).unwrap_or(&0));
            let what = s.expected_failures.iter().map(by_check).collect::<Vec<_>>().join(", ");
            let (name, shown) = (&s.label, s.failed_as_expected);
            let first = s
                .first_failed_as_expected
                .map_or(String::new(), |f| format!(", first seed {f}"));
            match shown {
                0 if s.ran > 0 => outln!("fail {name}: no seed of {range} showed its expected failure ({what})"),
                _ => outln!(
                    "expected {name}: {shown} of {} seeds failed as expected ({what}){first}",
                    s.ran
                ),
            }
        }
        for s in self.scenarios.iter().filter(|s| !s.corpus.is_empty()) {
            let bad = s.corpus.iter().filter(|c| s.not_passed.iter().any(|f| f.seed == **c));
            let bad: Vec<String> = bad.map(u64::to_string).collect();
            let listed: Vec<String> = s.corpus.iter().map(u64::to_string).collect();
            let still = match bad.is_empty() {
                true => "none still fails".to_string(),
                false => format!("still failing or unknown: {}", bad.join(", ")),
            };
            let seeds = if listed.len() == 1 { "seed" } else { "seeds" };
            outln!(
                "corpus {}: {seeds} {} ran before {range}; {still}",
                s.label,
                listed.join(", ")
            );
        }
        for s in &self.scenarios {
            for name in &s.never_seen {
                outln!("never seen {}: {name} held in no seed of {range}", s.label);
            }
        }
        for s in self.scenarios.iter().filter(|s| s.ran > 0) {
            for key in &s.inert {
                let when = Effect::from_key(key).map_or("", Effect::bites_when);
                outln!(
                    "inert {}: {key} had no effect in any seed of {range} (no {when})",
                    s.label
                );
            }
        }
        let (ran, planned) = (self.ran, self.planned);
        if self.interrupted {
            let cut: usize = self.scenarios.iter().map(|s| s.interrupted.len()).sum();
            outln!("interrupted: {ran} of {planned} runs done, {cut} more cut short");
        }
        let count = self.scenarios.len();
        let corpus = match self.corpus_ran {
            0 => String::new(),
            n => format!(" + {n} corpus seed{}", if n == 1 { "" } else { "s" }),
        };
        outln!(
            "swept {ran} of {planned} runs ({count} scenario{}, seeds {range}{corpus}{}, shard {}/{}, {} jobs) in {:.1}s, {:.1} runs/s: {} passed, {} failed as expected, {} failed, {} unknown; digest {:016x}",
            if count == 1 { "" } else { "s" },
            if self.swarm { " as swarm variants" } else { "" },
            self.shard.index,
            self.shard.count,
            self.jobs,
            self.wall_s,
            ran as f64 / self.wall_s.max(1e-9),
            self.passed,
            self.failed_as_expected,
            self.failed,
            self.unknown,
            self.digest
        );
    }

    /// Writes the JSON summary and the JUnit XML where asked, atomically.
    pub fn write(&self, json: Option<&Path>, junit: Option<&Path>) -> Result<(), String> {
        let write = |path: &Path, text: &str| {
            crate::report::write_atomic(path, text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))
        };
        if let Some(path) = json {
            write(
                path,
                &(serde_json::to_string_pretty(self).expect("the summary serialises") + "\n"),
            )?;
        }
        if let Some(path) = junit {
            write(path, &self.junit())?;
        }
        Ok(())
    }

    /// JUnit XML, as CI systems display it: a suite per scenario with one
    /// case for the seeds that ran (failing seeds make a `failure`,
    /// unknown ones, when none failed, an `error`) and, when some never
    /// ran (Ctrl-C, `--fail-fast`), one `skipped` case for those.
    pub fn junit(&self) -> String {
        let stopped = self.stopped_because.as_deref().unwrap_or("");
        let suites: Vec<Suite> = self.scenarios.iter().map(|s| Suite::of(s, stopped)).collect();
        let count = |f: fn(&Suite) -> usize| suites.iter().map(f).sum::<usize>();
        let mut xml = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"simulate sweep\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
            count(|s| s.tests),
            count(|s| s.failures),
            count(|s| s.skipped),
            self.wall_s,
        );
        for suite in &suites {
            xml.push_str(&suite.xml);
        }
        xml.push_str("</testsuites>\n");
        xml
    }
}

/// One scenario's `testsuite` element, with its counts.
struct Suite {
    xml: String,
    tests: usize,
    failures: usize,
    skipped: usize,
}

impl Suite {
    fn of(s: &ScenarioSummary, stopped: &str) -> Self {
        let (name, file) = (escape(&s.label), escape(&s.file));
        let case = |seeds: &str, time_s: f64, inner: &str| {
            format!(
                "    <testcase classname=\"{name}\" name=\"seeds {}\" file=\"{file}\" time=\"{time_s:.3}\">\n{inner}    </testcase>\n",
                escape(seeds)
            )
        };
        let mut cases = String::new();
        // A scenario none of whose seeds ran has only the skipped case.
        if let Some(ran) = &s.seeds_ran {
            cases.push_str(&case(ran, s.run_s, &finding_xml(s)));
        }
        if let Some(rest) = &s.seeds_not_run {
            let message = format!("{} seeds did not run: {stopped}", s.not_run);
            let inner = format!("      <skipped message=\"{}\"/>\n", escape(&message));
            cases.push_str(&case(rest, 0.0, &inner));
        }
        let skipped = usize::from(s.seeds_not_run.is_some());
        let tests = usize::from(s.seeds_ran.is_some()) + skipped;
        let failures = usize::from(!s.not_passed.is_empty() || s.missing_expected());
        Suite {
            xml: format!(
                "  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{:.3}\">\n{cases}  </testsuite>\n",
                s.run_s
            ),
            tests,
            failures,
            skipped,
        }
    }
}

/// The `failure` or `error` element of the seeds that ran, if any.
fn finding_xml(s: &ScenarioSummary) -> String {
    if s.missing_expected() {
        let expected = s.expected_failures.join(", ");
        let message = format!("no seed showed the expected failure ({expected})");
        return format!("      <failure message=\"{}\"></failure>\n", escape(&message));
    }
    if s.not_passed.is_empty() {
        return String::new();
    }
    let any_fail = s.not_passed.iter().any(|f| f.outcome == FindingKind::Failed);
    let tag = if any_fail { "failure" } else { "error" };
    let seeds: Vec<String> = s.not_passed.iter().map(|f| f.seed.to_string()).collect();
    let message = format!(
        "{} of {} seeds did not pass: {}",
        s.not_passed.len(),
        s.ran,
        seeds.join(", ")
    );
    let body: Vec<String> = s.not_passed.iter().map(|f| f.line(&s.label)).collect();
    format!(
        "      <{tag} message=\"{}\">{}</{tag}>\n",
        escape(&message),
        escape(&body.join("\n"))
    )
}
