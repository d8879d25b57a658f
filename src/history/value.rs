//! A small dynamic value: what operation inputs and outputs hold in any
//! history format (EDN's scalars and vectors, JSON's strings and booleans).

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    Nil,
    Bool(bool),
    Int(i64),
    Str(String),
    /// A keyword without its colon (`:x` is `Keyword("x")`).
    Keyword(String),
    List(Vec<Value>),
}

impl Value {
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// Parses a literal as given to `--initial`: `nil`, an integer, a
    /// `"quoted string"`, `true`/`false`, or else the bare text as a string.
    pub fn parse_literal(text: &str) -> Value {
        let t = text.trim();
        match t {
            "nil" => Value::Nil,
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => {
                if let Ok(i) = t.parse::<i64>() {
                    Value::Int(i)
                } else if t.len() >= 2 && t.starts_with('"') && t.ends_with('"') {
                    Value::Str(t[1..t.len() - 1].to_string())
                } else {
                    Value::Str(t.to_string())
                }
            }
        }
    }
}

/// EDN-like: `nil`, `3`, `"text"`, `:kw`, `[1 2]`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Keyword(k) => write!(f, ":{k}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_display() {
        assert_eq!(Value::parse_literal("nil"), Value::Nil);
        assert_eq!(Value::parse_literal(" 0 "), Value::Int(0));
        assert_eq!(Value::parse_literal("\"\""), Value::Str(String::new()));
        assert_eq!(Value::parse_literal("abc"), Value::Str("abc".into()));
        let v = Value::List(vec![Value::Keyword("read".into()), Value::Nil, Value::Str("a".into())]);
        assert_eq!(v.to_string(), "[:read nil \"a\"]");
    }
}
