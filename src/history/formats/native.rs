//! `native`: simulate's own history.jsonl (see the `history` module).
//! `fail` drops the operation, `info` and open invocations are
//! indeterminate; outputs are what the node answered. A completion names
//! its invocation by `op`, which must be the open op of its process; op
//! ids are unique. Whether an output fits its operation is the model's
//! business: a history records any service's operations.

use crate::history::raw::{clipped, line_error, Completion, LineError, Pairer, RawHistory};
use crate::history::{Event, EventKind, History};
use std::collections::{BTreeMap, BTreeSet};

/// Reads a history.jsonl text.
pub fn parse(text: &str) -> Result<RawHistory, LineError> {
    let mut reader = Reader::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let event: Event = serde_json::from_str(line)
            .map_err(|e| line_error(n, format!("not a history event: {}", clipped(&e.to_string()))))?;
        reader.add(n, &event)?;
    }
    Ok(reader.pairer.finish())
}

/// A run's history as the checker reads it; "lines" are event numbers
/// from 1, as in history.jsonl.
pub fn from_history(history: &History) -> Result<RawHistory, LineError> {
    let mut reader = Reader::default();
    for (i, event) in history.events.iter().enumerate() {
        reader.add(i + 1, event)?;
    }
    Ok(reader.pairer.finish())
}

#[derive(Default)]
struct Reader {
    pairer: Pairer,
    /// Every op id invoked so far, and each open op's id by process.
    seen: BTreeSet<u64>,
    open: BTreeMap<u64, u64>,
}

impl Reader {
    /// Takes in event `n`, copying only what the pairer keeps.
    fn add(&mut self, n: usize, event: &Event) -> Result<(), LineError> {
        let process = event.process;
        if event.kind == EventKind::Invoke {
            let call = event
                .input
                .as_ref()
                .ok_or_else(|| line_error(n, "an invoke needs an \"input\""))?;
            if self.seen.contains(&event.op) {
                return Err(line_error(
                    n,
                    format!("op {} is invoked a second time; op ids are unique", event.op),
                ));
            }
            self.pairer
                .invoke(n, process, &call.f, call.key.clone(), call.value.clone())?;
            self.seen.insert(event.op);
            self.open.insert(process, event.op);
            return Ok(());
        }
        // As the pairer: nothing changes until the event is accepted.
        match self.open.get(&process) {
            Some(&op) if op != event.op => {
                let e = format!("completes op {} for process {process}, whose open op is {op}", event.op);
                return Err(line_error(n, e));
            }
            _ => {}
        }
        let completion = match event.kind {
            EventKind::Ok => {
                let output = event
                    .output
                    .clone()
                    .ok_or_else(|| line_error(n, "an ok needs an \"output\""))?;
                Completion::Ok(Some(output))
            }
            EventKind::Fail => Completion::Fail,
            _ => Completion::Info,
        };
        self.pairer.complete(n, process, None, completion)?;
        self.open.remove(&process);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Value;

    #[test]
    fn reads_what_a_run_writes_and_the_older_form() {
        let text = r#"{"type":"invoke","op":0,"process":0,"client":0,"time_ns":1,"input":{"f":"put","key":"k","value":"v0"}}
{"type":"invoke","op":1,"process":1,"client":1,"time_ns":2,"input":{"f":"cas","key":"k","from":null,"to":"v1"}}
{"type":"ok","op":0,"process":0,"client":0,"time_ns":3,"output":null}
{"type":"info","op":1,"process":1,"client":1,"time_ns":4,"error":"timeout"}
{"type":"invoke","op":2,"process":4,"client":1,"time_ns":5,"input":{"f":"get","key":"k"}}
{"type":"fail","op":2,"process":4,"client":1,"time_ns":6,"error":"no"}
{"type":"invoke","op":3,"process":0,"client":0,"time_ns":7,"input":{"f":"cas","key":"k","value":["v0","v3"]}}
{"type":"ok","op":3,"process":0,"client":0,"time_ns":8,"output":true}
"#;
        let h = parse(text).unwrap();
        assert_eq!(h.failed, 1);
        assert_eq!(h.ops.len(), 3);
        assert_eq!(
            (h.ops[0].f.as_str(), h.ops[0].ret, h.ops[0].output.clone()),
            ("put", Some(2), Some(Value::Nil))
        );
        assert_eq!(h.ops[1].input, Value::List(vec![Value::Nil, Value::Str("v1".into())]));
        assert_eq!(h.ops[1].ret, None);
        assert_eq!(h.ops[2].input, Value::List(vec![Value::from("v0"), Value::from("v3")]));
        assert_eq!(h.ops[2].output, Some(Value::Bool(true)));
    }

    #[test]
    fn completions_must_name_the_open_op() {
        let invoke = |op: u64, process: u64| {
            let input = r#"{"f":"get","key":"k"}"#;
            format!(r#"{{"type":"invoke","op":{op},"process":{process},"client":0,"time_ns":0,"input":{input}}}"#)
        };
        let ok = |op: u64, process: u64| {
            format!(r#"{{"type":"ok","op":{op},"process":{process},"client":0,"time_ns":0,"output":null}}"#)
        };
        let crossed = [invoke(1, 1), invoke(2, 2), ok(2, 1)].join("\n");
        assert!(parse(&crossed)
            .unwrap_err()
            .message
            .contains("completes op 2 for process 1, whose open op is 1"));
        let twice = [invoke(1, 1), ok(1, 1), invoke(1, 2)].join("\n");
        assert_eq!(parse(&twice).unwrap_err().line, 3);
        let no_output = [invoke(1, 1), ok(1, 1).replace(r#","output":null"#, "")].join("\n");
        assert!(parse(&no_output)
            .unwrap_err()
            .message
            .contains("an ok needs an \"output\""));
        // A refused completion leaves op 1 open: op 2 still cannot complete it.
        let mut reader = Reader::default();
        let event = |line: &str| serde_json::from_str::<Event>(line).unwrap();
        reader.add(1, &event(&invoke(1, 1))).unwrap();
        let no_output = ok(1, 1).replace(r#","output":null"#, "");
        assert!(reader.add(2, &event(&no_output)).is_err());
        let e = reader.add(3, &event(&ok(2, 1))).unwrap_err();
        assert!(e.message.contains("whose open op is 1"), "{e:?}");
        reader.add(4, &event(&ok(1, 1))).unwrap();
        assert_eq!(reader.pairer.finish().ops[0].ret, Some(1));
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
        let unknown_field =
            r#"{"type":"invoke","op":0,"process":0,"client":0,"time_ns":1,"input":{"f":"get","kee":"k"}}"#;
        assert_eq!(parse(unknown_field).unwrap_err().line, 1);
    }
}
