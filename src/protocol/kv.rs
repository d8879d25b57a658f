//! Key-value operations that clients send, and a store that applies them.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "f", rename_all = "lowercase")]
pub enum Op {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
    },
    Append {
        key: String,
        value: String,
    },
    /// Sets `key` to `to` if it currently holds `from` (`None`: absent).
    Cas {
        key: String,
        from: Option<String>,
        to: String,
    },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Get { key } | Op::Put { key, .. } | Op::Append { key, .. } | Op::Cas { key, .. } => key,
        }
    }

    pub fn is_read(&self) -> bool {
        matches!(self, Op::Get { .. })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::Get { key } => write!(f, "get {key}"),
            Op::Put { key, value } => write!(f, "put {key} {value:?}"),
            Op::Append { key, value } => write!(f, "append {key} {value:?}"),
            Op::Cas { key, from, to } => write!(f, "cas {key} {from:?} {to:?}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// The value read (`None`: key absent).
    Value(Option<String>),
    /// A put or append took effect.
    Done,
    /// Whether a cas matched and took effect.
    Cas(bool),
}

/// A node's answer to a client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reply {
    Ok(Output),
    /// The operation definitely did not take effect.
    Fail(String),
    /// Not handled here (this node is not the leader): try the node named,
    /// or another. Says nothing about whether the operation took effect,
    /// so the client retries the same request, which the protocol must
    /// deduplicate.
    Redirect(Option<super::NodeId>),
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Ok(Output::Value(v)) => write!(f, "ok {v:?}"),
            Reply::Ok(Output::Done) => write!(f, "ok"),
            Reply::Ok(Output::Cas(b)) => write!(f, "ok {b}"),
            Reply::Fail(why) => write!(f, "fail {why:?}"),
            Reply::Redirect(Some(to)) => write!(f, "redirect {to}"),
            Reply::Redirect(None) => write!(f, "redirect ?"),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KvStore {
    map: BTreeMap<String, String>,
}

impl KvStore {
    pub fn get(&self, key: &str) -> Option<&String> {
        self.map.get(key)
    }

    /// Applies `op`; returns its output and the write it amounts to, if any
    /// (a matching cas is a put; a failed cas writes nothing). Logging the
    /// effective write lets replicas replay without re-deciding a cas.
    pub fn apply(&mut self, op: &Op) -> (Output, Option<Op>) {
        match op {
            Op::Get { key } => (Output::Value(self.map.get(key).cloned()), None),
            Op::Put { key, value } => {
                self.map.insert(key.clone(), value.clone());
                (Output::Done, Some(op.clone()))
            }
            Op::Append { key, value } => {
                self.map.entry(key.clone()).or_default().push_str(value);
                (Output::Done, Some(op.clone()))
            }
            Op::Cas { key, from, to } => {
                if self.map.get(key) != from.as_ref() {
                    return (Output::Cas(false), None);
                }
                self.map.insert(key.clone(), to.clone());
                let write = Op::Put {
                    key: key.clone(),
                    value: to.clone(),
                };
                (Output::Cas(true), Some(write))
            }
        }
    }
}

/// One record per line, as JSON: the durable log format that the built-in
/// protocols share.
pub fn encode_line<T: Serialize>(record: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(record).expect("log records always serialise");
    line.push(b'\n');
    line
}

/// Replays a log written by [`encode_line`]. A torn last line (cut short,
/// so it does not parse) ends the log, as a real log reader would.
pub fn decode_lines<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Vec<T> {
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .map_while(|line| serde_json::from_slice(line).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> String {
        x.to_string()
    }

    #[test]
    fn applies_each_kind_of_operation() {
        let mut kv = KvStore::default();
        let get = Op::Get { key: s("k") };
        assert_eq!(kv.apply(&get), (Output::Value(None), None));
        kv.apply(&Op::Append {
            key: s("k"),
            value: s("a"),
        });
        kv.apply(&Op::Append {
            key: s("k"),
            value: s("b"),
        });
        assert_eq!(kv.apply(&get).0, Output::Value(Some(s("ab"))));
        let cas = |from: Option<&str>, to: &str| Op::Cas {
            key: s("k"),
            from: from.map(s),
            to: s(to),
        };
        assert_eq!(kv.apply(&cas(Some("zz"), "c")), (Output::Cas(false), None));
        let (out, write) = kv.apply(&cas(Some("ab"), "c"));
        assert_eq!(out, Output::Cas(true));
        assert_eq!(
            write,
            Some(Op::Put {
                key: s("k"),
                value: s("c")
            })
        );
        assert_eq!(kv.get("k"), Some(&s("c")));
    }

    #[test]
    fn log_round_trips_and_ignores_a_torn_tail() {
        let ops = [
            Op::Put {
                key: s("a"),
                value: s("1"),
            },
            Op::Append {
                key: s("b"),
                value: s("x\ny"),
            },
        ];
        let mut bytes: Vec<u8> = ops.iter().flat_map(encode_line).collect();
        assert_eq!(decode_lines::<Op>(&bytes), ops);
        bytes.extend_from_slice(br#"{"f":"put","ke"#);
        assert_eq!(decode_lines::<Op>(&bytes), ops);
    }
}
