//! Repro files: one run, self-contained. A RON `Repro(...)` holding the
//! crate version, the seed, the trace hash and verdict the run gave, and
//! the scenario's own text inlined verbatim (comments and all), so that
//! `simulate replay FILE` needs nothing else.
//!
//! The scenario text starts on the line after `scenario:` and ends before
//! the closing `)`; errors in it are reported at their line in the repro.

use crate::scenario::{self, LoadedScenario, ScenarioError};
use serde::Deserialize;

/// This build's crate version. A repro records it; replaying under another
/// version warns that the run may differ.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Why a repro written by simulate `version` has a trace hash this build
/// cannot reproduce, whatever the code under test: before 0.2 the hash
/// was FNV-1a over the trace's text lines (see [`crate::trace`]); before
/// 0.3 hosts armed a madsim timer again for a wake-up already armed, and
/// madsim advances time 50 to 100 ns per round of tasks, so events landed
/// tens of nanoseconds elsewhere; before 0.4 every node and client ran as
/// a madsim task, woken by a madsim timer, so each event happened 50 ns
/// or more after its due time, and events due at once in a random order
/// (0.4 steps them all from one task, each at its due time). Only the
/// verdict of such a repro can be compared. None: the hash can be
/// compared.
pub fn hash_incomparable(version: &str) -> Option<&'static str> {
    if version.starts_with("0.0.") || version.starts_with("0.1.") {
        Some("computed trace hashes another way (before 0.2)")
    } else if version.starts_with("0.2.") {
        Some("scheduled wake-ups another way (before 0.3), so events may fall tens of nanoseconds apart")
    } else if version.starts_with("0.3.") {
        Some("ran each node as a madsim task (before 0.4), so events fell 50 ns or more after their due times")
    } else {
        None
    }
}
const SCENARIO_START: &str = "\n  scenario:\n";
const END: &str = "\n)\n";

/// What a repro records besides the scenario.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename = "Repro")]
pub struct ReproHeader {
    /// The simulate version that wrote the repro.
    pub version: String,
    /// The seed the run used.
    pub seed: u64,
    /// The run's trace hash, 16 hex digits; a replay must match it.
    pub trace_hash: String,
    /// The run's verdict: `pass`, `fail` or `unknown`; a replay must match
    /// it too.
    pub verdict: String,
    /// Always `()`: the scenario is parsed apart, into [`Repro::scenario`].
    pub scenario: (),
}

/// A repro file as read: what the run gave, and the scenario to run again.
pub struct Repro {
    /// Seed and the results to compare a replay with.
    pub header: ReproHeader,
    /// The inlined scenario, parsed and validated; its `source` is the
    /// inlined text.
    pub scenario: LoadedScenario,
}

/// The repro file of a run of `scenario` with `seed` that gave `trace_hash`
/// and `verdict`.
pub fn to_text(scenario: &LoadedScenario, seed: u64, trace_hash: &str, verdict: &str) -> String {
    let mut source = scenario.source.clone();
    if !source.ends_with('\n') {
        source.push('\n');
    }
    format!(
        "// Written by simulate {VERSION}. `simulate replay <this file>` reruns this run exactly.\nRepro(\n  version: \"{VERSION}\",\n  seed: {seed},\n  trace_hash: \"{trace_hash}\",\n  verdict: \"{verdict}\",{SCENARIO_START}{source})\n"
    )
}

/// Reads repro text; `file` is only used in messages, and errors point at
/// lines of the repro, inlined scenario included.
pub fn parse(file: &str, text: &str) -> Result<Repro, ScenarioError> {
    // A repro that went through an editor or a checkout on Windows may
    // have gained a byte-order mark and CRLF line ends; lines stay put.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = &text.replace("\r\n", "\n");
    let invalid = |line, col, message: String| ScenarioError::Invalid {
        file: file.to_string(),
        line,
        col,
        message,
    };
    let (Some(start), Some(end)) = (text.find(SCENARIO_START), text.rfind(END)) else {
        return Err(invalid(
            1,
            1,
            "not a repro file; expected Repro(version: .., seed: .., trace_hash: .., verdict: .., scenario: Scenario(..))"
                .into(),
        ));
    };
    let body_start = start + SCENARIO_START.len();
    if end + 1 < body_start {
        return Err(invalid(1, 1, "the repro's scenario is missing".into()));
    }
    let after = &text[end + END.len()..];
    if let Some(extra) = after
        .lines()
        .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with("//"))
    {
        let line = text[..end + END.len()].matches('\n').count() + extra + 1;
        return Err(invalid(
            line,
            1,
            "text after the repro's closing `)`; expected the end of the file".into(),
        ));
    }
    let header_text = format!("{}\n  scenario: (),\n)\n", &text[..start]);
    let options = ron::Options::default();
    let header: ReproHeader = options
        .from_str(&header_text)
        .map_err(|e| invalid(e.span.start.line, e.span.start.col, e.code.to_string()))?;
    // Scenario errors point into the repro: shift them by the lines above.
    let lines_above = text[..body_start].matches('\n').count();
    let scenario = scenario::parse(file, &text[body_start..=end]).map_err(|e| match e {
        ScenarioError::Invalid { line, col, message, .. } => invalid(line + lines_above, col, message),
        other => other,
    })?;
    Ok(Repro { header, scenario })
}

/// Reads and parses the repro file at `path`.
pub fn load(path: &std::path::Path) -> Result<Repro, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Unreadable {
        file: file.clone(),
        message: format!("cannot read repro file: {e}"),
    })?;
    parse(&file, &text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str =
        "// a comment\nScenario(\n  name: \"r\",\n  protocol: Single,\n  nodes: 1,\n  duration: \"1s\",\n)";

    #[test]
    fn a_repro_round_trips_with_its_scenario_text() {
        let loaded = scenario::parse("s.ron", SRC).unwrap();
        let text = to_text(&loaded, 42, "00ff00ff00ff00ff", "fail");
        let repro = parse("r.ron", &text).unwrap();
        assert_eq!(
            (
                repro.header.seed,
                repro.header.version.as_str(),
                repro.header.verdict.as_str()
            ),
            (42, VERSION, "fail")
        );
        assert_eq!(repro.header.trace_hash, "00ff00ff00ff00ff");
        assert_eq!(repro.scenario.source, format!("{SRC}\n"));
        assert_eq!(repro.scenario.spec.name, "r");
    }

    #[test]
    fn errors_in_the_inlined_scenario_point_at_their_line_in_the_repro() {
        let loaded = scenario::parse("s.ron", SRC).unwrap();
        let text = to_text(&loaded, 1, "0", "pass").replace("nodes: 1", "nodes: 0");
        let line = text.lines().position(|l| l.contains("nodes: 0")).unwrap() + 1;
        let err = parse("r.ron", &text).err().unwrap().to_string();
        assert!(err.starts_with(&format!("r.ron:{line}:")), "{err}");
        assert!(parse("r.ron", "Scenario()").is_err());
        let bad_seed = to_text(&loaded, 1, "0", "pass").replace("seed: 1", "seed: -1");
        assert!(parse("r.ron", &bad_seed)
            .err()
            .unwrap()
            .to_string()
            .starts_with("r.ron:4:"));
    }

    #[test]
    fn a_repro_with_a_bom_or_crlf_lines_still_reads() {
        let loaded = scenario::parse("s.ron", SRC).unwrap();
        let text = to_text(&loaded, 7, "00ff00ff00ff00ff", "pass");
        let windows = format!("\u{feff}{}", text.replace('\n', "\r\n"));
        let repro = parse("r.ron", &windows).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((repro.header.seed, repro.scenario.spec.name.as_str()), (7, "r"));
        let bom_scenario = scenario::parse("s.ron", &format!("\u{feff}{SRC}")).unwrap();
        assert_eq!(bom_scenario.spec.name, "r");
    }

    #[test]
    fn text_after_the_closing_paren_is_refused_at_its_line() {
        let loaded = scenario::parse("s.ron", SRC).unwrap();
        let text = to_text(&loaded, 7, "00ff00ff00ff00ff", "pass");
        let lines = text.lines().count();
        assert!(parse("r.ron", &format!("{text}\n// a note\n\n")).is_ok());
        let err = parse("r.ron", &format!("{text}// a note\nseed: 9\n"))
            .err()
            .unwrap()
            .to_string();
        assert!(err.starts_with(&format!("r.ron:{}:1: text after", lines + 2)), "{err}");
    }
}
