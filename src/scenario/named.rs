//! Values a scenario names but does not define: the protocol (`Raft(...)`)
//! and the checks (`ElectsLeader(within: "2s")`). Each family defines its
//! own config and properties, so the scenario keeps such a value as its
//! name and source text, and the layer that knows what it means parses it
//! later, with errors at the right line and column of the file.

use super::locate::{Pos, Span};
use super::ScenarioError;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer};

/// `Name` or `Name(...)`, as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Named {
    /// The identifier: `Raft`, `Linearizable`.
    pub name: String,
    /// The whole value's text with the name blanked out, so that its
    /// arguments sit at their columns: `    (within: "2s")`, or empty.
    args: String,
    /// Where the value starts.
    pub pos: Pos,
}

/// Read as anything: the scenario parser sets the name and text afterwards
/// (with `Named::from_span`).
impl<'de> Deserialize<'de> for Named {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d)?;
        Ok(Named::default())
    }
}

impl Named {
    /// A value named `name` with the given argument text (`(..)` or "").
    pub fn new(name: &str, args: &str) -> Named {
        Named {
            name: name.to_string(),
            args: format!("{}{args}", " ".repeat(name.len())),
            pos: Pos { line: 1, col: 1 },
        }
    }

    /// Takes the name and text from where the value sits in `source`.
    /// None when the value has no leading identifier (a number, a list).
    pub(super) fn from_span(source: &str, span: &Span) -> Option<Named> {
        let name = span.name.clone()?;
        let text = &source[span.bytes.clone()];
        Some(Named {
            args: format!("{}{}", " ".repeat(name.len()), &text[name.len()..]),
            name,
            pos: span.pos,
        })
    }

    /// True when it is written without arguments: `ElectionSafety`.
    pub fn is_bare(&self) -> bool {
        self.args.trim().is_empty()
    }

    /// As written, on one line: `ElectsLeader(within: "2s")`.
    pub fn text(&self) -> String {
        let args: Vec<&str> = self.args.split_whitespace().collect();
        format!("{}{}", self.name, args.join(" "))
    }

    /// Parses the arguments (the part after the name; `()` if there is
    /// none) as `T`, an anonymous struct, tuple or unit. Errors point into
    /// `file` at the argument's line and column.
    pub fn parse_args<T: DeserializeOwned>(&self, file: &str) -> Result<T, ScenarioError> {
        let text = if self.is_bare() { "()" } else { &self.args };
        super::ron_options().from_str(text).map_err(|e| {
            let (line, col) = (e.span.start.line, e.span.start.col);
            let (line, col) = if self.is_bare() {
                // Nothing was written after the name: point at the name.
                (self.pos.line, self.pos.col)
            } else if line <= 1 {
                (self.pos.line, self.pos.col + col.saturating_sub(1))
            } else {
                (self.pos.line + line - 1, col)
            };
            ScenarioError::Invalid {
                file: file.to_string(),
                line,
                col,
                message: format!("in {}: {}", self.name, e.code),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::locate::Seg;
    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Within {
        within: String,
    }

    #[test]
    fn arguments_parse_with_positions_in_the_file() {
        let src = "Scenario(\n  checks: [ElectsLeader(within: \"2s\"), Bad(\n    nope: 1)],\n)";
        let item = |i: usize| {
            let span = super::super::locate::span(src, &[Seg::Field("checks"), Seg::Index(i)]).unwrap();
            Named::from_span(src, &span).unwrap()
        };
        let ok = item(0);
        assert_eq!(
            (ok.name.as_str(), ok.text()),
            ("ElectsLeader", "ElectsLeader(within: \"2s\")".into())
        );
        assert_eq!(
            ok.parse_args::<Within>("f.ron").unwrap(),
            Within { within: "2s".into() }
        );
        let err = item(1).parse_args::<Within>("f.ron").unwrap_err().to_string();
        assert!(err.starts_with("f.ron:3:5: in Bad:"), "{err}");
        let err = Named::new("X", "")
            .parse_args::<Within>("f.ron")
            .unwrap_err()
            .to_string();
        assert!(err.contains("within"), "{err}");
        assert!(Named::new("X", "").is_bare());
    }
}
