//! Scenario files: RON parsing, then validation into a runnable scenario.
//!
//! Errors always name the file, line and column and say what was expected:
//! serde/ron report type and syntax errors with their span, and the checks
//! that need more than one field (`validate`) find the offending value's
//! position with `locate`.
//!
//! This layer checks what every scenario shares (nodes, network, clocks,
//! workload sessions, faults). The protocol's config and the checks are
//! kept as [`Named`] values: the protocol family they name parses and
//! checks them (see `protocols::Registry`).

pub mod duration;
pub mod locate;
mod named;
pub mod spec;
pub mod validate;
pub mod write;

pub use duration::{Dur, SignedDur};
pub use named::Named;
pub use spec::*;

use std::path::Path;

/// A bad scenario: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read at all (missing, not UTF-8, no permission).
    #[error("{file}: {message}")]
    Unreadable {
        /// The path as given, for the message.
        file: String,
        /// Why it could not be read.
        message: String,
    },
    /// The text did not parse, or a value in it makes no sense.
    #[error("{file}:{line}:{col}: {message}")]
    Invalid {
        /// The path as given, or the name passed to [`parse`].
        file: String,
        /// 1-based line of the offending value.
        line: usize,
        /// 1-based column of the offending value.
        col: usize,
        /// What is wrong and what was expected.
        message: String,
    },
}

/// A parsed and validated scenario, with the text it came from (kept so a
/// report can replay it exactly).
#[derive(Clone, Debug)]
pub struct LoadedScenario {
    /// The scenario.
    pub spec: Scenario,
    /// Where it was read from, for messages.
    pub file: String,
    /// Its text, verbatim.
    pub source: String,
}

/// Reads, parses and validates a scenario file.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    let file = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|e| ScenarioError::Unreadable {
        file: file.clone(),
        message: format!("cannot read scenario file: {e}"),
    })?;
    parse(&file, &source)
}

/// Parses and validates scenario text; `file` is only used in messages.
pub fn parse(file: &str, source: &str) -> Result<LoadedScenario, ScenarioError> {
    // Editors on Windows may start a file with a byte-order mark.
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let mut spec: Scenario = ron_options().from_str(source).map_err(|e| ScenarioError::Invalid {
        file: file.to_string(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })?;
    fill_names(file, source, &mut spec)?;
    let loaded = LoadedScenario {
        spec,
        file: file.to_string(),
        source: source.to_string(),
    };
    validate::validate(&loaded.spec).map_err(|invalid| loaded.error_at(&invalid.path, invalid.message))?;
    Ok(loaded)
}

/// The RON dialect of scenario files: `Some` may be left out, and a
/// newtype variant's content may be written directly.
pub(crate) fn ron_options() -> ron::Options {
    ron::Options::default().with_default_extension(
        ron::extensions::Extensions::IMPLICIT_SOME | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
    )
}

/// Reads the names and text of the protocol, the checks and the expected
/// failures, which serde only skipped over.
fn fill_names(file: &str, source: &str, spec: &mut Scenario) -> Result<(), ScenarioError> {
    let named = |path: Vec<locate::Seg>, what: &str| {
        locate::span(source, &path)
            .and_then(|span| Named::from_span(source, &span))
            .ok_or_else(|| error_at(file, source, &path, format!("expected {what}")))
    };
    spec.protocol = named(crate::path!["protocol"], "a protocol like Raft(...) or Single")?;
    for (i, check) in spec.checks.iter_mut().enumerate() {
        *check = named(
            crate::path!["checks", i],
            "a check like Linearizable(Kv) or ElectionSafety",
        )?;
    }
    if let Expect::Fails(list) = &mut spec.expect {
        for (i, check) in list.iter_mut().enumerate() {
            *check = named(crate::path!["expect", 0, i], "the name of a check in `checks`")?;
        }
    }
    Ok(())
}

/// A value that makes no sense: where it is (its path from the root of the
/// scenario), and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// Path of the offending value from the scenario's root.
    pub path: Vec<locate::Seg>,
    /// What is wrong and what was expected.
    pub message: String,
}

impl Invalid {
    /// An error at `path`.
    pub fn at(path: Vec<locate::Seg>, message: impl Into<String>) -> Invalid {
        Invalid {
            path,
            message: message.into(),
        }
    }
}

impl LoadedScenario {
    /// An [`Invalid`] value, with its file, line and column.
    pub fn invalid(&self, invalid: Invalid) -> ScenarioError {
        self.error_at(&invalid.path, invalid.message)
    }

    /// An error about the value at `path`, with its file, line and column.
    pub fn error_at(&self, path: &[locate::Seg], message: impl Into<String>) -> ScenarioError {
        error_at(&self.file, &self.source, path, message)
    }
}

fn error_at(file: &str, source: &str, path: &[locate::Seg], message: impl Into<String>) -> ScenarioError {
    let pos = locate::locate(source, path).unwrap_or(locate::Pos { line: 1, col: 1 });
    ScenarioError::Invalid {
        file: file.to_string(),
        line: pos.line,
        col: pos.col,
        message: message.into(),
    }
}

impl Scenario {
    /// The whole run: fault phase plus recovery.
    pub fn run_length(&self) -> Dur {
        Dur(self.duration.0 + self.recover.map_or(0, |r| r.0))
    }
}
