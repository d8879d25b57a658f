//! `native`: simulate's own history.jsonl (see the `history` module).
//! `fail` drops the operation, `info` and open invocations are
//! indeterminate; outputs are what the node answered.

use crate::history::raw::{line_error, Completion, LineError, Pairer, RawHistory};
use crate::history::value::Value;
use crate::history::{Event, EventKind, History};
use crate::protocol::{Op, Output};

pub fn parse(text: &str) -> Result<RawHistory, LineError> {
    let mut pairer = Pairer::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let event: Event =
            serde_json::from_str(line).map_err(|e| line_error(n, format!("not a history event: {e}")))?;
        add(&mut pairer, n, event)?;
    }
    Ok(pairer.finish())
}

/// A run's history as the checker reads it; "lines" are event numbers
/// from 1, as in history.jsonl.
pub fn from_history(history: &History) -> Result<RawHistory, LineError> {
    let mut pairer = Pairer::default();
    for (i, event) in history.events.iter().enumerate() {
        add(&mut pairer, i + 1, event.clone())?;
    }
    Ok(pairer.finish())
}

fn add(pairer: &mut Pairer, n: usize, event: Event) -> Result<(), LineError> {
    match event.kind {
        EventKind::Invoke => {
            let op = event
                .input
                .ok_or_else(|| line_error(n, "an invoke needs an \"input\""))?;
            let (f, key, input) = raw_input(op);
            pairer.invoke(n, event.process, f, Some(key), input)
        }
        EventKind::Ok => {
            let output = event.output.ok_or_else(|| line_error(n, "an ok needs an \"output\""))?;
            pairer.complete(n, event.process, None, Completion::Ok(Some(raw_output(output))))
        }
        EventKind::Fail => pairer.complete(n, event.process, None, Completion::Fail),
        EventKind::Info => pairer.complete(n, event.process, None, Completion::Info),
    }
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
