//! Scenario files: RON parsing, then validation into a runnable scenario.
//!
//! Errors always name the file, line and column and say what was expected:
//! serde/ron report type and syntax errors with their span, and the checks
//! that need more than one field (`validate`) find the offending value's
//! position with `locate`.

pub mod duration;
pub mod locate;
pub mod spec;
mod validate;

pub use duration::{Dur, SignedDur};
pub use spec::*;

use std::path::Path;

/// A bad scenario: where, and what was expected there.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
    #[error("{file}:{line}:{col}: {message}")]
    Invalid {
        file: String,
        line: usize,
        col: usize,
        message: String,
    },
}

/// A parsed and validated scenario, with the text it came from (kept so a
/// report can replay it exactly).
#[derive(Clone, Debug)]
pub struct LoadedScenario {
    pub spec: Scenario,
    pub file: String,
    pub source: String,
}

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
    let options = ron::Options::default().with_default_extension(
        ron::extensions::Extensions::IMPLICIT_SOME | ron::extensions::Extensions::UNWRAP_VARIANT_NEWTYPES,
    );
    let spec: Scenario = options.from_str(source).map_err(|e| ScenarioError::Invalid {
        file: file.to_string(),
        line: e.span.start.line,
        col: e.span.start.col,
        message: e.code.to_string(),
    })?;
    let loaded = LoadedScenario {
        spec,
        file: file.to_string(),
        source: source.to_string(),
    };
    validate::validate(&loaded.spec).map_err(|invalid| loaded.error_at(&invalid.path, invalid.message))?;
    Ok(loaded)
}

impl LoadedScenario {
    /// An error about the value at `path`, with its file, line and column.
    pub fn error_at(&self, path: &[locate::Seg], message: impl Into<String>) -> ScenarioError {
        let pos = locate::locate(&self.source, path).unwrap_or(locate::Pos { line: 1, col: 1 });
        ScenarioError::Invalid {
            file: self.file.clone(),
            line: pos.line,
            col: pos.col,
            message: message.into(),
        }
    }
}

impl Scenario {
    /// The whole run: fault phase plus recovery.
    pub fn run_length(&self) -> Dur {
        Dur(self.duration.0 + self.recover.map_or(0, |r| r.0))
    }
}
