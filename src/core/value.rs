//! A small dynamic value: what operation inputs and outputs hold in any
//! history format (EDN's scalars and vectors, JSON's strings and booleans).
//!
//! In JSON (the native history format) a value is `null`, a boolean, an
//! integer, a string, an array, or `{"keyword": "x"}` for an EDN keyword.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A neutral value: operation arguments and outputs in every history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Value {
    /// Nothing: no argument, an absent key, a `done`.
    #[default]
    Nil,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(String),
    /// A keyword without its colon (`:x` is `Keyword("x")`).
    Keyword(String),
    /// A list of values.
    List(Vec<Value>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Nil, Into::into)
    }
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// Parses a literal as given to `--initial`: `nil`, `true`, `false`,
    /// an integer that fits in 64 bits, or a string in double quotes with
    /// JSON's escapes (`"a\"b"`). Anything else is refused, not taken as a
    /// string: `xyz` or `"abc` is more likely a mistake than a value, and
    /// an initial value nobody meant silently decides the verdict.
    pub fn parse_literal(text: &str) -> Result<Value, String> {
        let t = text.trim();
        let expected = "expected nil, an integer, true, false or a \"quoted string\"";
        match t {
            "nil" => return Ok(Value::Nil),
            "true" => return Ok(Value::Bool(true)),
            "false" => return Ok(Value::Bool(false)),
            _ => {}
        }
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return t
                .parse()
                .map(Value::Int)
                .map_err(|_| format!("{t} is out of range: integers are from {} to {}", i64::MIN, i64::MAX));
        }
        if t.starts_with('"') {
            return serde_json::from_str::<String>(t).map(Value::Str).map_err(|e| {
                let why = if e.is_eof() {
                    "its quote is never closed"
                } else {
                    r#"write a quote inside as \" and a backslash as \\"#
                };
                format!("{t} is not a properly quoted string ({why}); {expected}")
            });
        }
        Err(format!("{t:?} is not a value; {expected}"))
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

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Nil => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Str(v) => s.serialize_str(v),
            Value::Keyword(k) => {
                let mut map = s.serialize_map(Some(1))?;
                map.serialize_entry("keyword", k)?;
                map.end()
            }
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("null, a boolean, an integer, a string, a list or {\"keyword\": \"name\"}")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Value, E> {
        i64::try_from(u)
            .map(Value::Int)
            .map_err(|_| E::custom(format!("integer {u} is too large; expected at most {}", i64::MAX)))
    }

    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        Err(E::custom(format!(
            "{x} is not an integer; values are integers, strings, booleans or lists"
        )))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        Ok(Value::Str(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        Ok(Value::Str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let keyword = match map.next_entry::<String, String>()? {
            Some((k, v)) if k == "keyword" => v,
            _ => return Err(de::Error::custom("an object value must be {\"keyword\": \"name\"}")),
        };
        if map.next_key::<String>()?.is_some() {
            return Err(de::Error::custom("a keyword object has one field, \"keyword\""));
        }
        Ok(Value::Keyword(keyword))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_json() {
        let v = Value::List(vec![
            Value::Nil,
            Value::Bool(true),
            Value::Int(-3),
            Value::Str("a".into()),
            Value::Keyword("ok".into()),
        ]);
        let text = serde_json::to_string(&v).unwrap();
        assert_eq!(text, r#"[null,true,-3,"a",{"keyword":"ok"}]"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), v);
        assert!(serde_json::from_str::<Value>("1.5").is_err());
        assert!(serde_json::from_str::<Value>(r#"{"x":1}"#).is_err());
    }

    #[test]
    fn literals_and_display() {
        assert_eq!(Value::parse_literal("nil"), Ok(Value::Nil));
        assert_eq!(Value::parse_literal(" 0 "), Ok(Value::Int(0)));
        assert_eq!(Value::parse_literal("-7"), Ok(Value::Int(-7)));
        assert_eq!(Value::parse_literal("\"\""), Ok(Value::Str(String::new())));
        assert_eq!(Value::parse_literal(r#""a \"b\"""#), Ok(Value::Str("a \"b\"".into())));
        assert_eq!(Value::parse_literal("false"), Ok(Value::Bool(false)));
        let v = Value::List(vec![Value::Keyword("read".into()), Value::Nil, Value::Str("a".into())]);
        assert_eq!(v.to_string(), "[:read nil \"a\"]");
    }

    #[test]
    fn literals_that_are_not_values_are_refused_not_taken_as_strings() {
        for (bad, says) in [
            ("abc", "\"abc\" is not a value; expected nil"),
            ("\"abc", "\"abc is not a properly quoted string"),
            ("\"a\"b\"", "is not a properly quoted string"),
            ("", "\"\" is not a value"),
            ("-", "\"-\" is not a value"),
            ("1.5", "\"1.5\" is not a value"),
            ("9223372036854775808", "9223372036854775808 is out of range"),
            ("-9223372036854775809", "is out of range"),
        ] {
            let e = Value::parse_literal(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert_eq!(Value::parse_literal("9223372036854775807"), Ok(Value::Int(i64::MAX)));
    }
}
