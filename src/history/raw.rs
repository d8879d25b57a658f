//! Format-neutral operations: what every history parser produces and every
//! checker model reads.
//!
//! A parser applies its format's own rules (which lines are invocations,
//! what `:fail`, `:info` and `nil` mean) and hands over operations with a
//! call position, a return position or none (indeterminate), an input and
//! an output or none (unknown). Positions are event indices in file order,
//! which every format here defines as the real-time order.

use crate::core::Value;
use std::collections::BTreeMap;

/// One operation of a parsed history: who ran it, what it asked, what it
/// got back, and when it was called and returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawOp {
    /// The process that ran it; a process has one operation open at a time.
    pub process: u64,
    /// The operation's function, lower case without a colon: "read", "put"...
    pub f: String,
    /// The key it acts on, for key-value histories; `None` for a single
    /// register.
    pub key: Option<Value>,
    /// The invocation's argument.
    pub input: Value,
    /// What the completion reported; `None` when it is unknown (timed out,
    /// or a value the format says constrains nothing).
    pub output: Option<Value>,
    /// Position of its invocation among all events; earlier calls have
    /// smaller positions.
    pub call: u64,
    /// `None`: indeterminate, it may take effect at any point after its
    /// call, or never.
    pub ret: Option<u64>,
    /// Line of the invocation, for messages.
    pub line: usize,
}

/// A parsed history, ready for a checker: the operations that may have
/// taken effect, and a count of those that definitely did not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawHistory {
    /// Completed and indeterminate operations, in call order.
    pub ops: Vec<RawOp>,
    /// Operations that definitely did not happen, dropped by the parser.
    pub failed: usize,
}

impl RawHistory {
    /// How many operations have an unknown outcome (no return position).
    pub fn indeterminate(&self) -> usize {
        self.ops.iter().filter(|o| o.ret.is_none()).count()
    }
}

/// An error at a line of a history file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LineError {
    /// The offending line, counted from 1.
    pub line: usize,
    /// What is wrong with the line.
    pub message: String,
}

/// Shorthand for building a [`LineError`].
pub fn line_error(line: usize, message: impl Into<String>) -> LineError {
    LineError {
        line,
        message: message.into(),
    }
}

/// How much of a file's text a message quotes: enough to recognise it.
const EXCERPT_CHARS_MAX: usize = 80;

/// `text` cut after its first [`EXCERPT_CHARS_MAX`] characters, with `…`
/// where it was cut, for a message that quotes the file: one 200 KB line
/// must not become 200 KB of error.
pub fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS_MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// A message written by another library, which may quote the input
/// (serde names an unknown variant in full): its head and tail, the
/// middle of a long one cut to `…`.
pub fn clipped(message: &str) -> String {
    let chars = message.chars().count();
    if chars <= 3 * EXCERPT_CHARS_MAX {
        return message.to_string();
    }
    let head: String = message.chars().take(2 * EXCERPT_CHARS_MAX).collect();
    let tail: String = message.chars().skip(chars - EXCERPT_CHARS_MAX).collect();
    format!("{head}…{tail}")
}

/// What a completion says about its operation.
pub enum Completion {
    /// Took effect; `None` output means unknown.
    Ok(Option<Value>),
    /// Definitely did not take effect: the operation is dropped.
    Fail,
    /// Unknown whether it took effect: the operation becomes indeterminate.
    Info,
}

/// Pairs invocations with completions by process, in file order: a process
/// has at most one open operation, and a completion closes it.
///
/// Operations stay where they were invoked, in call order, and are only
/// marked as they complete: a history's ops are large, and keeping the open
/// ones in a map or sorting them at the end moved each many times.
#[derive(Default)]
pub struct Pairer {
    /// Every operation invoked, in call order; those that failed are marked
    /// in `dropped` and left out at the end.
    ops: Vec<RawOp>,
    dropped: Vec<bool>,
    /// Each open operation's index in `ops`, by process.
    open: BTreeMap<u64, usize>,
    failed: usize,
    position: u64,
}

impl Pairer {
    /// Opens an operation for `process`, called at the next position; an
    /// error if the process already has one open.
    pub fn invoke(
        &mut self,
        line: usize,
        process: u64,
        f: &str,
        key: Option<Value>,
        input: Value,
    ) -> Result<(), LineError> {
        if let Some(&open) = self.open.get(&process) {
            return Err(line_error(
                line,
                format!(
                    "process {process} invokes again, but its operation from line {} is still open",
                    self.ops[open].line
                ),
            ));
        }
        let call = self.next_position();
        debug_assert!(self.ops.last().is_none_or(|op| op.call < call), "kept in call order");
        self.open.insert(process, self.ops.len());
        self.ops.push(RawOp {
            process,
            f: f.to_string(),
            key,
            input,
            output: None,
            call,
            ret: None,
            line,
        });
        self.dropped.push(false);
        Ok(())
    }

    /// Whether `process` has an operation invoked and not yet completed.
    pub fn is_open(&self, process: u64) -> bool {
        self.open.contains_key(&process)
    }

    /// Completes `process`'s open operation; `f`, if given, must match it.
    pub fn complete(
        &mut self,
        line: usize,
        process: u64,
        f: Option<&str>,
        completion: Completion,
    ) -> Result<(), LineError> {
        // Nothing changes before every check passed: an error leaves the
        // operation open, as it was.
        let Some(&index) = self.open.get(&process) else {
            return Err(line_error(
                line,
                format!("process {process} completes an operation it never invoked"),
            ));
        };
        let open = &self.ops[index];
        if let Some(f) = f.filter(|f| *f != open.f) {
            return Err(line_error(
                line,
                format!(
                    "process {process} completes :{}, but its open operation (line {}) is :{}",
                    excerpt(f),
                    open.line,
                    excerpt(&open.f)
                ),
            ));
        }
        self.open.remove(&process);
        let position = self.next_position();
        match completion {
            Completion::Ok(output) => {
                let op = &mut self.ops[index];
                op.output = output;
                op.ret = Some(position);
            }
            Completion::Fail => {
                self.dropped[index] = true;
                self.failed += 1;
            }
            Completion::Info => {}
        }
        Ok(())
    }

    fn next_position(&mut self) -> u64 {
        self.position += 1;
        self.position - 1
    }

    /// Completes every open operation at the end of the history, in call
    /// order, with the output `output_of` gives it (Porcupine's rule for
    /// its kv logs). Afterwards nothing is open.
    pub fn close_open(&mut self, output_of: impl Fn(&RawOp) -> Value) {
        let mut open: Vec<usize> = std::mem::take(&mut self.open).into_values().collect();
        // Indices follow calls.
        open.sort_unstable();
        for index in open {
            let output = output_of(&self.ops[index]);
            let ret = self.next_position();
            let op = &mut self.ops[index];
            op.output = Some(output);
            op.ret = Some(ret);
        }
    }

    /// Operations still open become indeterminate.
    pub fn finish(mut self) -> RawHistory {
        assert_eq!(self.ops.len(), self.dropped.len(), "one mark per operation");
        let mut dropped = self.dropped.iter();
        self.ops.retain(|_| !*dropped.next().expect("one mark per operation"));
        debug_assert!(self.ops.windows(2).all(|w| w[0].call < w[1].call), "in call order");
        RawHistory {
            ops: self.ops,
            failed: self.failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_by_process_and_applies_completion_kinds() {
        let mut p = Pairer::default();
        p.invoke(1, 0, "write", None, Value::Int(1)).unwrap();
        p.invoke(2, 1, "read", None, Value::Nil).unwrap();
        p.complete(3, 1, Some("read"), Completion::Ok(Some(Value::Int(1))))
            .unwrap();
        p.invoke(4, 2, "cas", None, Value::Nil).unwrap();
        p.complete(5, 2, Some("cas"), Completion::Fail).unwrap();
        p.complete(6, 0, Some("write"), Completion::Info).unwrap();
        p.invoke(7, 3, "read", None, Value::Nil).unwrap();
        let h = p.finish();
        assert_eq!(h.failed, 1);
        let summary: Vec<_> = h
            .ops
            .iter()
            .map(|o| (o.line, o.call, o.ret, o.output.clone()))
            .collect();
        assert_eq!(
            summary,
            [
                (1, 0, None, None),
                (2, 1, Some(2), Some(Value::Int(1))),
                (7, 6, None, None)
            ]
        );
    }

    #[test]
    fn close_open_completes_at_the_end_in_call_order() {
        let mut p = Pairer::default();
        p.invoke(1, 5, "get", None, Value::Nil).unwrap();
        p.invoke(2, 3, "put", None, Value::Int(1)).unwrap();
        p.close_open(|op| {
            if op.f == "get" {
                Value::Str(String::new())
            } else {
                Value::Nil
            }
        });
        let h = p.finish();
        let ends: Vec<_> = h.ops.iter().map(|o| (o.process, o.ret, o.output.clone())).collect();
        assert_eq!(
            ends,
            [
                (5, Some(2), Some(Value::Str(String::new()))),
                (3, Some(3), Some(Value::Nil))
            ]
        );
    }

    #[test]
    fn rejects_double_invocations_and_orphan_completions() {
        let mut p = Pairer::default();
        p.invoke(1, 0, "read", None, Value::Nil).unwrap();
        assert_eq!(p.invoke(2, 0, "read", None, Value::Nil).unwrap_err().line, 2);
        assert!(p
            .complete(3, 9, Some("read"), Completion::Info)
            .unwrap_err()
            .message
            .contains("never invoked"));
        assert!(p
            .complete(4, 0, Some("write"), Completion::Info)
            .unwrap_err()
            .message
            .contains("is :read"));
        // The refused completion left the operation open, unchanged.
        assert!(p.is_open(0));
        p.complete(5, 0, Some("read"), Completion::Ok(Some(Value::Int(1))))
            .unwrap();
        let h = p.finish();
        assert_eq!((h.ops[0].line, h.ops[0].ret), (1, Some(1)));
    }

    #[test]
    fn excerpts_are_short_whatever_the_text() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(200_000);
        assert_eq!(excerpt(&long), format!("{}…", "é".repeat(EXCERPT_CHARS_MAX)));
        assert_eq!(clipped("fine"), "fine");
        let message = format!("unknown variant `{}`, expected `ok` at line 1", "x".repeat(200_000));
        let short = clipped(&message);
        assert!(short.chars().count() < 300, "{short}");
        assert!(short.starts_with("unknown variant `xx") && short.ends_with("expected `ok` at line 1"));
    }
}
