//! `porcupine-kv`: one EDN-like map per line, fields in a fixed order:
//! `{:process 1, :type :invoke, :f :get, :key "9", :value nil}`.
//! Types are :invoke and :ok; functions :get, :put, :append. Values hold no
//! quotes or backslashes. An invocation still open at the end returns
//! there with an empty output (a get reads ""), as Porcupine's parser has
//! it: Porcupine's kv logs have no way to say an outcome is unknown.

use crate::core::Value;
use crate::history::raw::{excerpt, line_error, Completion, LineError, Pairer, RawHistory};

pub fn parse(text: &str) -> Result<RawHistory, LineError> {
    let mut pairer = Pairer::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let op = fields(line).ok_or_else(|| {
            line_error(n, format!("expected {{:process N, :type :invoke|:ok, :f :get|:put|:append, :key \"K\", :value nil|\"V\"}}, found {:?}", excerpt(line)))
        })?;
        let key = Some(Value::Str(op.key.to_string()));
        match (op.kind, op.f, op.value) {
            ("invoke", "get", None) => pairer.invoke(n, op.process, "get", key, Value::Nil)?,
            ("invoke", "put" | "append", Some(v)) => pairer.invoke(n, op.process, op.f, key, Value::Str(v.into()))?,
            ("ok", "get", Some(v)) => {
                pairer.complete(n, op.process, Some("get"), Completion::Ok(Some(Value::Str(v.into()))))?
            }
            ("ok", "put" | "append", Some(_)) => {
                pairer.complete(n, op.process, Some(op.f), Completion::Ok(Some(Value::Nil)))?
            }
            (kind, f, value) => {
                let value = value.map_or("nil".to_string(), |v| format!("{:?}", excerpt(v)));
                let (kind, f) = (excerpt(kind), excerpt(f));
                return Err(line_error(
                    n,
                    format!(":type :{kind} with :f :{f} and :value {value} is not a porcupine-kv event"),
                ));
            }
        }
    }
    pairer.close_open(|op| {
        if op.f == "get" {
            Value::Str(String::new())
        } else {
            Value::Nil
        }
    });
    Ok(pairer.finish())
}

struct Fields<'a> {
    process: u64,
    kind: &'a str,
    f: &'a str,
    key: &'a str,
    /// `None` for nil.
    value: Option<&'a str>,
}

fn fields(line: &str) -> Option<Fields<'_>> {
    let rest = line.trim().strip_prefix("{:process ")?;
    let (process, rest) = rest.split_once(", :type :")?;
    let (kind, rest) = rest.split_once(", :f :")?;
    let (f, rest) = rest.split_once(", :key \"")?;
    let (key, rest) = rest.split_once("\", :value ")?;
    let value = rest.strip_suffix('}')?;
    let value = match value {
        "nil" => None,
        v => Some(v.strip_prefix('"')?.strip_suffix('"')?),
    };
    if value.is_some_and(|v| v.contains('"')) || key.contains('"') {
        return None;
    }
    Some(Fields {
        process: process.parse().ok()?,
        kind,
        f,
        key,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_porcupine_example() {
        let text = r#"{:process 1, :type :invoke, :f :get, :key "9", :value nil}
{:process 2, :type :invoke, :f :append, :key "9", :value "x 2 0 y"}
{:process 2, :type :ok, :f :append, :key "9", :value "x 2 0 y"}
{:process 1, :type :ok, :f :get, :key "9", :value "x 2 0 y"}
"#;
        let h = parse(text).unwrap();
        assert_eq!(h.ops.len(), 2);
        let get = &h.ops[0];
        assert_eq!((get.f.as_str(), get.call, get.ret), ("get", 0, Some(3)));
        assert_eq!(get.output, Some(Value::Str("x 2 0 y".into())));
        assert_eq!(h.ops[1].input, Value::Str("x 2 0 y".into()));
    }

    #[test]
    fn an_open_get_returns_empty_at_the_end() {
        let text = "{:process 0, :type :invoke, :f :get, :key \"9\", :value nil}\n";
        let h = parse(text).unwrap();
        assert_eq!(
            (h.ops[0].ret, h.ops[0].output.clone()),
            (Some(1), Some(Value::Str(String::new())))
        );
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line() {
        for (bad, line) in [
            (
                "{:process 1, :type :invoke, :f :get, :key \"9\", :value nil}\n{:process x}",
                2,
            ),
            ("{:process 1, :type :fail, :f :get, :key \"9\", :value nil}", 1),
            ("{:process 1, :type :invoke, :f :get, :key \"9\", :value \"v\"}", 1),
            ("\n\n{:process 1, :type :ok, :f :get, :key \"9\", :value \"\"}", 3),
        ] {
            assert_eq!(parse(bad).unwrap_err().line, line, "{bad}");
        }
    }
}
