//! `jepsen-etcd-log`: Jepsen log lines for one register, as Porcupine reads
//! them: `INFO  jepsen.util - 2 :invoke :cas [3 0]` (fields separated by tabs
//! or runs of spaces).
//!
//! Rules (Porcupine's): a failed cas is an observation (the value was not
//! A), so it completes with output false; `:fail :read :timed-out` returns
//! with an unknown output; an `:info` leaves its operation indeterminate.
//! `nil` is an absent value and constrains reads. Log lines that are not
//! process operations (other loggers, `:nemesis`) are skipped.

use crate::core::Value;
use crate::history::raw::{excerpt, line_error, Completion, LineError, Pairer, RawHistory};

pub fn parse(text: &str) -> Result<RawHistory, LineError> {
    let mut pairer = Pairer::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let Some((process, words)) = operation_words(line) else {
            continue;
        };
        let process = process.map_err(|p| {
            let p = excerpt(p);
            line_error(n, format!("process {p:?} is not a number or a keyword like :nemesis"))
        })?;
        let bad = || {
            let line = excerpt(line.trim());
            line_error(n, format!("not a jepsen etcd register operation: {line:?}"))
        };
        let (kind, f, arg) = match words.as_slice() {
            [kind, f, arg @ ..] => (*kind, *f, arg.join(" ")),
            _ => return Err(bad()),
        };
        match (kind, f) {
            (":invoke", ":read") if arg == "nil" => pairer.invoke(n, process, "read", None, Value::Nil)?,
            (":invoke", ":write") => pairer.invoke(n, process, "write", None, int(&arg).ok_or_else(bad)?)?,
            (":invoke", ":cas") => pairer.invoke(n, process, "cas", None, pair(&arg).ok_or_else(bad)?)?,
            (":ok", ":read") => {
                let v = if arg == "nil" {
                    Value::Nil
                } else {
                    int(&arg).ok_or_else(bad)?
                };
                pairer.complete(n, process, Some("read"), Completion::Ok(Some(v)))?
            }
            (":ok", ":write") => {
                int(&arg).ok_or_else(bad)?;
                pairer.complete(n, process, Some("write"), Completion::Ok(Some(Value::Nil)))?
            }
            (":ok" | ":fail", ":cas") => {
                pair(&arg).ok_or_else(bad)?;
                let applied = Value::Bool(kind == ":ok");
                pairer.complete(n, process, Some("cas"), Completion::Ok(Some(applied)))?
            }
            (":fail", ":read") if arg == ":timed-out" => {
                pairer.complete(n, process, Some("read"), Completion::Ok(None))?
            }
            (":info", ":read" | ":write" | ":cas") => pairer.complete(n, process, Some(&f[1..]), Completion::Info)?,
            _ => return Err(bad()),
        }
    }
    Ok(pairer.finish())
}

/// The process id (or the text that should have been one) and the words
/// after it, for `INFO jepsen.util - P ...` lines whose process is not a
/// keyword (`:nemesis` lines are skipped).
fn operation_words(line: &str) -> Option<(Result<u64, &str>, Vec<&str>)> {
    let mut words = line.split_whitespace();
    if (words.next()?, words.next()?, words.next()?) != ("INFO", "jepsen.util", "-") {
        return None;
    }
    let process = words.next()?;
    if process.starts_with(':') {
        return None;
    }
    Some((process.parse().map_err(|_| process), words.collect()))
}

fn int(text: &str) -> Option<Value> {
    text.parse().ok().map(Value::Int)
}

fn pair(text: &str) -> Option<Value> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    let mut parts = inner.split_whitespace();
    let (a, b) = (int(parts.next()?)?, int(parts.next()?)?);
    parts.next().is_none().then(|| Value::List(vec![a, b]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]
INFO  jepsen.util - 2\t:ok\t:cas\t[3 0]
INFO  jepsen.core - Worker 3 starting
INFO  jepsen.util - 1    :invoke  :cas    [0 3]
INFO  jepsen.util - 1    :fail    :cas    [0 3]
INFO  jepsen.util - :nemesis\t:info\t:start\tnil
INFO  jepsen.util - 4\t:invoke\t:write\t3
INFO  jepsen.util - 4\t:info\t:write\t:timed-out
INFO  jepsen.util - 5\t:invoke\t:read\tnil
INFO  jepsen.util - 5\t:fail\t:read\t:timed-out
INFO  jepsen.util - 6\t:invoke\t:read\tnil
INFO  jepsen.util - 6\t:ok\t:read\tnil
";

    #[test]
    fn applies_porcupines_rules() {
        let h = parse(EXAMPLE).unwrap();
        let ops: Vec<_> = h
            .ops
            .iter()
            .map(|o| (o.process, o.f.as_str(), o.output.clone(), o.ret.is_some()))
            .collect();
        assert_eq!(
            ops,
            [
                (2, "cas", Some(Value::Bool(true)), true),
                (1, "cas", Some(Value::Bool(false)), true),
                (4, "write", None, false),
                (5, "read", None, true),
                (6, "read", Some(Value::Nil), true),
            ]
        );
        assert_eq!(h.ops[0].input, Value::List(vec![Value::Int(3), Value::Int(0)]));
        assert_eq!(parse("").unwrap(), RawHistory::default());
    }

    #[test]
    fn malformed_operations_are_errors() {
        for bad in [
            "INFO  jepsen.util - 1 :invoke :write x",
            "INFO  jepsen.util - 1 :invoke :cas [1]",
            "INFO  jepsen.util - 1 :ok",
        ] {
            assert_eq!(parse(bad).unwrap_err().line, 1, "{bad}");
        }
    }
}
