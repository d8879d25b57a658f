//! `native`: simulate's own history.jsonl (see the `history` module).
//! `fail` drops the operation, `info` and open invocations are
//! indeterminate; outputs are what the node answered. A completion names
//! its invocation by `op`, which must be the open op of its process; op ids
//! are unique; an output must fit its operation (a get reads a value, a
//! put or append is done, a cas says true or false).

use crate::history::raw::{line_error, Completion, LineError, Pairer, RawHistory};
use crate::history::value::Value;
use crate::history::{Event, EventKind, History};
use crate::protocol::{Op, Output};
use std::collections::{BTreeMap, BTreeSet};

pub fn parse(text: &str) -> Result<RawHistory, LineError> {
    let mut reader = Reader::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let event: Event =
            serde_json::from_str(line).map_err(|e| line_error(n, format!("not a history event: {e}")))?;
        reader.add(n, event)?;
    }
    Ok(reader.pairer.finish())
}

/// A run's history as the checker reads it; "lines" are event numbers
/// from 1, as in history.jsonl.
pub fn from_history(history: &History) -> Result<RawHistory, LineError> {
    let mut reader = Reader::default();
    for (i, event) in history.events.iter().enumerate() {
        reader.add(i + 1, event.clone())?;
    }
    Ok(reader.pairer.finish())
}

#[derive(Default)]
struct Reader {
    pairer: Pairer,
    /// Every op id invoked so far, and each open op's id and f by process.
    seen: BTreeSet<u64>,
    open: BTreeMap<u64, (u64, &'static str)>,
}

impl Reader {
    fn add(&mut self, n: usize, event: Event) -> Result<(), LineError> {
        let process = event.process;
        if event.kind == EventKind::Invoke {
            let op = event
                .input
                .ok_or_else(|| line_error(n, "an invoke needs an \"input\""))?;
            if !self.seen.insert(event.op) {
                return Err(line_error(
                    n,
                    format!("op {} is invoked a second time; op ids are unique", event.op),
                ));
            }
            let (f, key, input) = raw_input(op);
            self.pairer.invoke(n, process, f, Some(key), input)?;
            self.open.insert(process, (event.op, f));
            return Ok(());
        }
        let (op, f) = match self.open.remove(&process) {
            Some((op, f)) if op == event.op => (op, f),
            Some((op, _)) => {
                let e = format!("completes op {} for process {process}, whose open op is {op}", event.op);
                return Err(line_error(n, e));
            }
            None => (event.op, ""),
        };
        let completion = match event.kind {
            EventKind::Ok => {
                let output = event.output.ok_or_else(|| line_error(n, "an ok needs an \"output\""))?;
                if !fits(f, &output) {
                    return Err(line_error(
                        n,
                        format!("op {op} is a {f}, which cannot complete with {output:?}"),
                    ));
                }
                Completion::Ok(Some(raw_output(output)))
            }
            EventKind::Fail => Completion::Fail,
            _ => Completion::Info,
        };
        self.pairer.complete(n, process, None, completion)
    }
}

/// Whether `output` is what an op called `f` answers ("" when unknown:
/// the pairer reports the missing invocation).
fn fits(f: &str, output: &Output) -> bool {
    matches!(
        (f, output),
        ("", _) | ("get", Output::Value(_)) | ("put" | "append", Output::Done) | ("cas", Output::Cas(_))
    )
}

/// The format-neutral view of one of our operations (also used to check a
/// run's history without writing it out).
pub fn raw_input(op: Op) -> (&'static str, Value, Value) {
    match op {
        Op::Get { key } => ("get", Value::Str(key), Value::Nil),
        Op::Put { key, value } => ("put", Value::Str(key), Value::Str(value)),
        Op::Append { key, value } => ("append", Value::Str(key), Value::Str(value)),
        Op::Cas { key, from, to } => {
            let from = from.map_or(Value::Nil, Value::Str);
            ("cas", Value::Str(key), Value::List(vec![from, Value::Str(to)]))
        }
    }
}

pub fn raw_output(output: Output) -> Value {
    match output {
        Output::Value(v) => v.map_or(Value::Nil, Value::Str),
        Output::Done => Value::Nil,
        Output::Cas(b) => Value::Bool(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_a_run_writes() {
        let text = r#"{"type":"invoke","op":0,"process":0,"client":0,"time_ns":1,"input":{"f":"put","key":"k","value":"v0"}}
{"type":"invoke","op":1,"process":1,"client":1,"time_ns":2,"input":{"f":"cas","key":"k","from":null,"to":"v1"}}
{"type":"ok","op":0,"process":0,"client":0,"time_ns":3,"output":"done"}
{"type":"info","op":1,"process":1,"client":1,"time_ns":4,"error":"timeout"}
{"type":"invoke","op":2,"process":4,"client":1,"time_ns":5,"input":{"f":"get","key":"k"}}
{"type":"fail","op":2,"process":4,"client":1,"time_ns":6,"error":"no"}
"#;
        let h = parse(text).unwrap();
        assert_eq!(h.failed, 1);
        assert_eq!(h.ops.len(), 2);
        assert_eq!(
            (h.ops[0].f.as_str(), h.ops[0].ret, h.ops[0].output.clone()),
            ("put", Some(2), Some(Value::Nil))
        );
        assert_eq!(h.ops[1].input, Value::List(vec![Value::Nil, Value::Str("v1".into())]));
        assert_eq!(h.ops[1].ret, None);
    }

    #[test]
    fn completions_must_name_the_open_op_and_fit_it() {
        let invoke = |op: u64, process: u64, f: &str| {
            let input = match f {
                "get" => r#"{"f":"get","key":"k"}"#.to_string(),
                _ => r#"{"f":"put","key":"k","value":"v"}"#.to_string(),
            };
            format!(r#"{{"type":"invoke","op":{op},"process":{process},"client":0,"time_ns":0,"input":{input}}}"#)
        };
        let ok = |op: u64, process: u64, output: &str| {
            format!(r#"{{"type":"ok","op":{op},"process":{process},"client":0,"time_ns":0,"output":{output}}}"#)
        };
        let crossed = [invoke(1, 1, "get"), invoke(2, 2, "get"), ok(2, 1, r#"{"value":null}"#)].join("\n");
        assert!(parse(&crossed)
            .unwrap_err()
            .message
            .contains("completes op 2 for process 1, whose open op is 1"));
        let twice = [invoke(1, 1, "get"), ok(1, 1, r#"{"value":null}"#), invoke(1, 2, "get")].join("\n");
        assert_eq!(parse(&twice).unwrap_err().line, 3);
        let misfit = [invoke(1, 1, "get"), ok(1, 1, r#""done""#)].join("\n");
        assert!(parse(&misfit)
            .unwrap_err()
            .message
            .contains("op 1 is a get, which cannot complete with Done"));
        let misfit = [invoke(1, 1, "put"), ok(1, 1, r#"{"cas":true}"#)].join("\n");
        assert_eq!(parse(&misfit).unwrap_err().line, 2);
    }

    #[test]
    fn bad_lines_are_errors() {
        assert_eq!(parse("{}\n").unwrap_err().line, 1);
        assert_eq!(
            parse("\n{\"type\":\"ok\",\"op\":0,\"process\":0,\"client\":0,\"time_ns\":3,\"output\":\"done\"}")
                .unwrap_err()
                .line,
            2
        );
    }
}
