//! `knossos-edn`: one EDN vector or list of op maps, as Knossos reads it.
//!
//! Rules (Knossos's): operations pair by `:process`; `:fail` ops are
//! dropped (they did not happen); `:info` after an open invocation makes it
//! indeterminate, with the invocation's value; `:info` with nothing open
//! and every op of a non-integer process (`:nemesis`) is ignored; an
//! invocation open at the end is indeterminate. A read completed with
//! `nil` constrains nothing. A missing `:value` is nil. `:time` and other
//! keys are ignored: file order is the only order.

use super::edn::{read_all, Edn, Form};
use crate::core::Value;
use crate::history::raw::{excerpt, line_error, Completion, LineError, Pairer, RawHistory};

pub fn parse(text: &str) -> Result<RawHistory, LineError> {
    let forms = read_all(text).map_err(|e| line_error(e.line, e.message))?;
    let ops = match forms.as_slice() {
        [Form {
            edn: Edn::Vector(ops) | Edn::List(ops),
            ..
        }] => ops,
        // As every format: what to make of no operations is the caller's.
        [] => return Ok(RawHistory::default()),
        [one] => return Err(line_error(one.line, "expected a vector or list of op maps")),
        [_, extra, ..] => {
            return Err(line_error(
                extra.line,
                "expected one collection of ops, found a second top-level form",
            ))
        }
    };
    let mut pairer = Pairer::default();
    for op in ops {
        let n = op.line;
        if !matches!(op.edn, Edn::Map(_)) {
            return Err(line_error(
                n,
                "expected an op map like {:process 0, :type :invoke, :f :read, :value nil}",
            ));
        }
        let process = match op.get("process").map(|p| &p.edn) {
            Some(Edn::Int(p)) if *p >= 0 => *p as u64,
            Some(Edn::Keyword(_)) => continue,
            _ => {
                return Err(line_error(
                    n,
                    "expected :process to be a non-negative integer or a keyword like :nemesis",
                ))
            }
        };
        let kind = keyword(op, "type").ok_or_else(|| line_error(n, "expected :type :invoke, :ok, :fail or :info"))?;
        let f = keyword(op, "f").ok_or_else(|| line_error(n, "expected :f to be a keyword like :read"))?;
        let value = op
            .get("value")
            .map_or(Ok(Value::Nil), value)
            .map_err(|m| line_error(n, m))?;
        match kind {
            "invoke" => pairer.invoke(n, process, f, None, value)?,
            "ok" => {
                let output = match (f, &value) {
                    ("read", Value::Nil) => None,
                    ("cas", _) => Some(Value::Bool(true)),
                    ("write" | "acquire" | "release", _) => Some(Value::Nil),
                    _ => Some(value),
                };
                pairer.complete(n, process, Some(f), Completion::Ok(output))?
            }
            "fail" => pairer.complete(n, process, Some(f), Completion::Fail)?,
            "info" if pairer.is_open(process) => pairer.complete(n, process, Some(f), Completion::Info)?,
            "info" => {}
            other => {
                return Err(line_error(
                    n,
                    format!(":type :{} is not one of :invoke, :ok, :fail, :info", excerpt(other)),
                ))
            }
        }
    }
    Ok(pairer.finish())
}

fn keyword<'a>(op: &'a Form, key: &str) -> Option<&'a str> {
    match &op.get(key)?.edn {
        Edn::Keyword(k) => Some(k),
        _ => None,
    }
}

fn value(form: &Form) -> Result<Value, String> {
    Ok(match &form.edn {
        Edn::Nil => Value::Nil,
        Edn::Bool(b) => Value::Bool(*b),
        Edn::Int(i) => Value::Int(*i),
        Edn::Str(s) => Value::Str(s.clone()),
        Edn::Keyword(k) => Value::Keyword(k.clone()),
        Edn::Vector(items) | Edn::List(items) => Value::List(items.iter().map(value).collect::<Result<_, _>>()?),
        other => {
            let other = match other {
                Edn::Float(x) => format!("the float {x}"),
                Edn::Char(c) => format!("the character {c:?}"),
                Edn::Symbol(s) => format!("the symbol {}", excerpt(s)),
                Edn::Map(_) => "a map".to_string(),
                // The rest were read above.
                _ => "a set".to_string(),
            };
            return Err(format!(
                "a :value of {other} is not supported; expected nil, integers, strings, keywords and vectors"
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_knossos_rules() {
        let text = r#"; a comment before the history
[{:process 0, :type :invoke, :f :write, :value 3, :time 5}
 {:process :nemesis, :type :info, :f :start, :value "Cut off {:n2 #{:n3}}"}
 {:process 1  :type :invoke, :f :read, :value nil}
 {:process 0, :type :ok, :f :write, :value 3}
 {:process 1, :type :ok, :f :read, :value nil}
 {:process 2, :type :invoke, :f :cas, :value [3 4]}
 {:process 2, :type :fail, :f :cas, :value [3 4]}
 {:process 3, :type :invoke, :f :cas, :value [3 1]}
 {:process 3, :type :info, :f :cas, :value [3 1]}
 {:process 4, :type :invoke, :f :acquire}
 {:process 5, :type :info, :f :read}
]"#;
        let h = parse(text).unwrap();
        assert_eq!(h.failed, 1);
        let ops: Vec<_> = h
            .ops
            .iter()
            .map(|o| (o.process, o.f.as_str(), o.output.clone(), o.ret.is_some(), o.line))
            .collect();
        assert_eq!(
            ops,
            [
                (0, "write", Some(Value::Nil), true, 2),
                (1, "read", None, true, 4),
                (3, "cas", None, false, 9),
                (4, "acquire", None, false, 11),
            ]
        );
        assert_eq!(h.ops[2].input, Value::List(vec![Value::Int(3), Value::Int(1)]));
    }

    #[test]
    fn txn_values_come_from_the_completion() {
        let text = "({:process 0 :type :invoke :f :txn :value [[:read :x nil] [:write :y 2]]}
                      {:process 0 :type :ok :f :txn :value [[:read :x 1] [:write :y 2]]})";
        let h = parse(text).unwrap();
        assert_eq!(
            h.ops[0].output.as_ref().unwrap().to_string(),
            "[[:read :x 1] [:write :y 2]]"
        );
    }

    #[test]
    fn malformed_histories_name_the_line() {
        assert_eq!(parse(" ; only a comment\n").unwrap(), RawHistory::default());
        for (bad, line) in [
            (
                "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :launch :f :read}]",
                2,
            ),
            ("[{:process 0 :type :invoke :f :read}\n 7]", 2),
            ("[{:process 0 :type :ok :f :read :value 1}]", 1),
            ("[]\n[]", 2),
            ("[{:process 0 :type :invoke :f :read :value #{1}}]", 1),
        ] {
            assert_eq!(parse(bad).unwrap_err().line, line, "{bad}");
        }
    }
}
