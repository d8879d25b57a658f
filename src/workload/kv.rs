//! The key-value service: get, put, append and cas on string values, the
//! store that applies them, and the generator of a key-value workload.
//!
//! Several families serve it (single, primary-backup, Raft); a family of
//! your own can too, and can use [`KvStore`] as its state machine.
//!
//! The generator writes unique values ("v17" is written once, by request
//! 17), which is what lets a checker tell writes apart, and a cas expects
//! the value the client last saw for that key.

use super::{Generator, Outcome};
use crate::core::{Call, RequestId, Service, Value};
use crate::env::rng::SimRng;
use crate::scenario::WorkloadSpec;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// The key-value service.
#[derive(Clone, Copy, Debug)]
pub enum Kv {}

impl Service for Kv {
    type Op = Op;
    type Output = Output;
    const FUNCTIONS: &'static [&'static str] = &["get", "put", "append", "cas"];
    const KEYED: bool = true;

    fn call(op: &Op) -> Call {
        let call = Call::new(op.f()).key(Value::from(op.key()));
        match op {
            Op::Get { .. } => call,
            Op::Put { value, .. } | Op::Append { value, .. } => call.value(Value::from(&**value)),
            Op::Cas { from, to, .. } => call.value(Value::List(vec![Value::from(from.as_deref()), Value::from(&**to)])),
        }
    }

    fn output(_op: &Op, output: &Output) -> Value {
        match output {
            Output::Value(v) => Value::from(v.as_deref()),
            Output::Done => Value::Nil,
            Output::Cas(b) => Value::Bool(*b),
            Output::Siblings(values) => Value::List(values.iter().map(|v| Value::from(&**v)).collect()),
        }
    }
}

/// A key-value operation. In JSON, `{"f":"put","key":"k1","value":"v3"}`
/// (serde's internally tagged form; reading it back is hand-written, see
/// [`op_json`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "f", rename_all = "lowercase")]
pub enum Op {
    /// Reads `key`.
    Get {
        /// The key read.
        key: Arc<str>,
    },
    /// Sets `key` to `value`.
    Put {
        /// The key written.
        key: Arc<str>,
        /// Its new value.
        value: Arc<str>,
    },
    /// Appends `value` to what `key` holds (absent reads as empty).
    Append {
        /// The key written.
        key: Arc<str>,
        /// What is appended.
        value: Arc<str>,
    },
    /// Sets `key` to `to` if it currently holds `from` (`None`: absent).
    Cas {
        /// The key.
        key: Arc<str>,
        /// The value expected (`None`: absent).
        from: Option<Arc<str>>,
        /// The value set if the expectation holds.
        to: Arc<str>,
    },
}

pub mod op_json {
    //! An [`Op`]'s JSON form, read and written fast, since every family's
    //! durable log holds operations and a node reads all of them back when
    //! it restarts.
    //!
    //! Serde reading: the fields as they come, in any order, without the
    //! buffering serde's derive does for internally tagged enums (it reads
    //! the whole object into a generic tree first, to find the tag). What it
    //! accepts and rejects is what the derived reader does: unknown fields
    //! are skipped, a missing `from` is `None`, a missing or repeated field
    //! is an error.
    //!
    //! [`write`] and [`read`] go without serde: the same bytes as
    //! `serde_json::to_writer`, and reading exactly that form back (anything
    //! else, such as an escaped string, is left to serde).

    use super::Op;
    use serde::de::{Error, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::{Deserialize, Deserializer};
    use std::fmt;
    use std::sync::Arc;

    #[derive(Deserialize)]
    #[serde(field_identifier, rename_all = "lowercase")]
    enum Field {
        F,
        Key,
        Value,
        From,
        To,
        #[serde(other)]
        Other,
    }

    #[derive(Clone, Copy)]
    enum Function {
        Get,
        Put,
        Append,
        Cas,
    }

    /// The tag: a name (or, as serde's identifiers allow, its index).
    impl<'de> Deserialize<'de> for Function {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Function, D::Error> {
            deserializer.deserialize_identifier(FunctionVisitor)
        }
    }

    struct FunctionVisitor;

    impl Visitor<'_> for FunctionVisitor {
        type Value = Function;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("variant identifier")
        }

        fn visit_u64<E: Error>(self, n: u64) -> Result<Function, E> {
            let all = [Function::Get, Function::Put, Function::Append, Function::Cas];
            let unexpected = serde::de::Unexpected::Unsigned(n);
            all.get(n as usize)
                .copied()
                .ok_or_else(|| E::invalid_value(unexpected, &"variant index 0 <= i < 4"))
        }

        fn visit_str<E: Error>(self, name: &str) -> Result<Function, E> {
            match name {
                "get" => Ok(Function::Get),
                "put" => Ok(Function::Put),
                "append" => Ok(Function::Append),
                "cas" => Ok(Function::Cas),
                _ => Err(E::unknown_variant(name, &["get", "put", "append", "cas"])),
            }
        }

        fn visit_bytes<E: Error>(self, name: &[u8]) -> Result<Function, E> {
            match std::str::from_utf8(name) {
                Ok(name) => self.visit_str(name),
                Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(name), &self)),
            }
        }
    }

    /// A field that only some operations have, read before the tag may be
    /// known: its type and repeats matter only to an operation that has it.
    enum Loose {
        Str(Arc<str>),
        Null,
        Other,
    }

    impl<'de> Deserialize<'de> for Loose {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Loose, D::Error> {
            deserializer.deserialize_any(LooseVisitor)
        }
    }

    struct LooseVisitor;

    impl<'de> Visitor<'de> for LooseVisitor {
        type Value = Loose;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any value")
        }

        fn visit_str<E: Error>(self, text: &str) -> Result<Loose, E> {
            Ok(Loose::Str(Arc::from(text)))
        }

        fn visit_string<E: Error>(self, text: String) -> Result<Loose, E> {
            Ok(Loose::Str(Arc::from(text)))
        }

        fn visit_unit<E: Error>(self) -> Result<Loose, E> {
            Ok(Loose::Null)
        }

        fn visit_none<E: Error>(self) -> Result<Loose, E> {
            Ok(Loose::Null)
        }

        fn visit_bool<E: Error>(self, _: bool) -> Result<Loose, E> {
            Ok(Loose::Other)
        }

        fn visit_i64<E: Error>(self, _: i64) -> Result<Loose, E> {
            Ok(Loose::Other)
        }

        fn visit_u64<E: Error>(self, _: u64) -> Result<Loose, E> {
            Ok(Loose::Other)
        }

        fn visit_f64<E: Error>(self, _: f64) -> Result<Loose, E> {
            Ok(Loose::Other)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Loose::Other)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Loose, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Loose::Other)
        }
    }

    /// One of the fields only some operations have: its first value, and
    /// whether it came again.
    #[derive(Default)]
    struct Slot {
        first: Option<Loose>,
        repeated: bool,
    }

    impl Slot {
        fn put(&mut self, value: Loose) {
            self.repeated |= self.first.is_some();
            self.first.get_or_insert(value);
        }

        /// The field as an operation that has it reads it: present at most
        /// once, a string (or, if `nullable`, null).
        fn read<E: Error>(self, name: &'static str, nullable: bool) -> Result<Option<Arc<str>>, E> {
            let wrong = |what| E::invalid_type(serde::de::Unexpected::Other(what), &"a string");
            match (self.repeated, self.first) {
                (true, _) => Err(E::duplicate_field(name)),
                (false, None) if nullable => Ok(None),
                (false, None) => Err(E::missing_field(name)),
                (false, Some(Loose::Str(text))) => Ok(Some(text)),
                (false, Some(Loose::Null)) if nullable => Ok(None),
                (false, Some(Loose::Null)) => Err(wrong("null")),
                (false, Some(Loose::Other)) => Err(wrong("a value that is not a string")),
            }
        }

        fn needed<E: Error>(self, name: &'static str) -> Result<Arc<str>, E> {
            self.read(name, false).map(|v| v.expect("a field read as not nullable"))
        }
    }

    /// The fields read so far.
    #[derive(Default)]
    struct Fields {
        f: Option<Function>,
        key: Option<Arc<str>>,
        value: Slot,
        from: Slot,
        to: Slot,
    }

    fn once<T, E: Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
        match slot.replace(value) {
            Some(_) => Err(E::duplicate_field(name)),
            None => Ok(()),
        }
    }

    fn needed<T, E: Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
        slot.ok_or_else(|| E::missing_field(name))
    }

    impl Fields {
        fn op<E: Error>(self) -> Result<Op, E> {
            let key = |k: Option<Arc<str>>| needed(k, "key");
            Ok(match needed(self.f, "f")? {
                Function::Get => Op::Get { key: key(self.key)? },
                Function::Put => Op::Put {
                    key: key(self.key)?,
                    value: self.value.needed("value")?,
                },
                Function::Append => Op::Append {
                    key: key(self.key)?,
                    value: self.value.needed("value")?,
                },
                Function::Cas => Op::Cas {
                    key: key(self.key)?,
                    from: self.from.read("from", true)?,
                    to: self.to.needed("to")?,
                },
            })
        }
    }

    /// Element `at` of a sequence, which must be there.
    fn element<'de, T: Deserialize<'de>, A: SeqAccess<'de>>(seq: &mut A, at: usize) -> Result<T, A::Error> {
        seq.next_element()?
            .ok_or_else(|| A::Error::invalid_length(at, &"an operation's tag and fields"))
    }

    struct OpVisitor;

    impl<'de> Visitor<'de> for OpVisitor {
        type Value = Op;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a key-value operation, such as {\"f\": \"get\", \"key\": \"k1\"}")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Op, A::Error> {
            let mut read = Fields::default();
            while let Some(field) = map.next_key::<Field>()? {
                match field {
                    Field::F => once(&mut read.f, map.next_value()?, "f")?,
                    Field::Key => once(&mut read.key, map.next_value()?, "key")?,
                    Field::Value => read.value.put(map.next_value()?),
                    Field::From => read.from.put(map.next_value()?),
                    Field::To => read.to.put(map.next_value()?),
                    Field::Other => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            read.op()
        }

        /// The tag, then the fields in the order the enum declares them.
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Op, A::Error> {
            let (f, key): (Function, Arc<str>) = (element(&mut seq, 0)?, element(&mut seq, 1)?);
            Ok(match f {
                Function::Get => Op::Get { key },
                Function::Put => Op::Put {
                    key,
                    value: element(&mut seq, 2)?,
                },
                Function::Append => Op::Append {
                    key,
                    value: element(&mut seq, 2)?,
                },
                Function::Cas => Op::Cas {
                    key,
                    from: element(&mut seq, 2)?,
                    to: element(&mut seq, 3)?,
                },
            })
        }
    }

    impl<'de> Deserialize<'de> for Op {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Op, D::Error> {
            deserializer.deserialize_any(OpVisitor)
        }
    }

    /// Appends `op` as `serde_json::to_writer` would write it.
    pub fn write(op: &Op, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"f\":\"");
        out.extend_from_slice(op.f().as_bytes());
        out.extend_from_slice(b"\",\"key\":");
        write_str(op.key(), out);
        match op {
            Op::Get { .. } => {}
            Op::Put { value, .. } | Op::Append { value, .. } => {
                out.extend_from_slice(b",\"value\":");
                write_str(value, out);
            }
            Op::Cas { from, to, .. } => {
                out.extend_from_slice(b",\"from\":");
                match from {
                    Some(from) => write_str(from, out),
                    None => out.extend_from_slice(b"null"),
                }
                out.extend_from_slice(b",\"to\":");
                write_str(to, out);
            }
        }
        out.push(b'}');
    }

    /// A JSON string, escaped as serde_json escapes it.
    pub fn write_str(text: &str, out: &mut Vec<u8>) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        out.push(b'"');
        for &b in text.as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0x08 => out.extend_from_slice(b"\\b"),
                0x0c => out.extend_from_slice(b"\\f"),
                0..=0x1f => out.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ]),
                _ => out.push(b),
            }
        }
        out.push(b'"');
    }

    /// Reads an op written by [`write`] from the start of `bytes`; returns
    /// it and the bytes after it, or `None` if they hold anything else.
    pub fn read(bytes: &[u8]) -> Option<(Op, &[u8])> {
        let rest = bytes.strip_prefix(b"{\"f\":\"")?;
        let name_end = rest.iter().position(|&b| b == b'"')?;
        let (name, rest) = (&rest[..name_end], &rest[name_end + 1..]);
        let (key, rest) = read_str(rest.strip_prefix(b",\"key\":")?)?;
        let (op, rest) = match name {
            b"get" => (Op::Get { key }, rest),
            b"put" | b"append" => {
                let (value, rest) = read_str(rest.strip_prefix(b",\"value\":")?)?;
                match name {
                    b"put" => (Op::Put { key, value }, rest),
                    _ => (Op::Append { key, value }, rest),
                }
            }
            b"cas" => {
                let rest = rest.strip_prefix(b",\"from\":")?;
                let (from, rest) = match rest.strip_prefix(b"null") {
                    Some(rest) => (None, rest),
                    None => read_str(rest).map(|(s, rest)| (Some(s), rest))?,
                };
                let (to, rest) = read_str(rest.strip_prefix(b",\"to\":")?)?;
                (Op::Cas { key, from, to }, rest)
            }
            _ => return None,
        };
        Some((op, rest.strip_prefix(b"}")?))
    }

    /// A JSON string without escapes at the start of `bytes`, and the rest.
    pub fn read_str(bytes: &[u8]) -> Option<(Arc<str>, &[u8])> {
        let rest = bytes.strip_prefix(b"\"")?;
        let end = rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20)?;
        if rest[end] != b'"' {
            return None;
        }
        let text = std::str::from_utf8(&rest[..end]).ok()?;
        Some((Arc::from(text), &rest[end + 1..]))
    }
}

impl Op {
    /// The key the operation works on.
    pub fn key(&self) -> &str {
        self.key_shared()
    }

    /// The key, to keep without copying it.
    pub fn key_shared(&self) -> &Arc<str> {
        match self {
            Op::Get { key } | Op::Put { key, .. } | Op::Append { key, .. } | Op::Cas { key, .. } => key,
        }
    }

    /// The function's name, as the history records it.
    pub fn f(&self) -> &'static str {
        match self {
            Op::Get { .. } => "get",
            Op::Put { .. } => "put",
            Op::Append { .. } => "append",
            Op::Cas { .. } => "cas",
        }
    }

    /// True for a get.
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

/// What a key-value operation answers.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    /// The value read (`None`: key absent).
    Value(Option<Arc<str>>),
    /// A put or append took effect.
    Done,
    /// Whether a cas matched and took effect.
    Cas(bool),
    /// A read of a store that keeps concurrent writes (version vectors):
    /// two or more values, none of whose writes superseded another,
    /// sorted. Checks take the read as fresh if one of them is.
    Siblings(Vec<Arc<str>>),
}

/// The text `derive(Debug)` gives. Every reply goes into the trace (and
/// its hash) as this text, and a value appended to for a whole run is
/// long: escaping it char by char was half of recording a reply.
impl fmt::Debug for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Value(Some(v)) if !f.alternate() => {
                f.write_str("Value(Some(")?;
                debug_str(f, v)?;
                f.write_str("))")
            }
            Output::Value(v) => f.debug_tuple("Value").field(v).finish(),
            Output::Done => f.write_str("Done"),
            Output::Cas(b) => f.debug_tuple("Cas").field(b).finish(),
            Output::Siblings(v) => f.debug_tuple("Siblings").field(v).finish(),
        }
    }
}

/// `{:?}` of `s`: quoted as it is when it holds only printable ASCII
/// other than quotes and backslashes, which Debug leaves alone.
fn debug_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if s.bytes().all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\') {
        f.write_str("\"")?;
        f.write_str(s)?;
        f.write_str("\"")
    } else {
        fmt::Debug::fmt(s, f)
    }
}

/// The key-value state machine. Keys and values are shared with the
/// operations that wrote them and the outputs that read them: a read or a
/// replicated write costs no copy of a value, however long appends made it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvStore {
    map: BTreeMap<Arc<str>, Arc<str>>,
}

impl KvStore {
    /// What `key` holds.
    pub fn get(&self, key: &str) -> Option<&Arc<str>> {
        self.map.get(key)
    }

    /// Every key and its value, in key order (to snapshot or ship a store).
    pub fn entries(&self) -> impl Iterator<Item = (&Arc<str>, &Arc<str>)> {
        self.map.iter()
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
                let held = self.map.entry(key.clone()).or_insert_with(|| Arc::from(""));
                *held = Arc::from([&**held, &**value].concat());
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

/// One client's key-value operations: keys `k0..k{keys}`, kinds by the
/// mix's weights (a reader only gets), unique written values.
pub struct KvGenerator {
    /// The key names, `k0` on: made once, shared by every op on them.
    keys: Vec<Arc<str>>,
    /// Cumulative weights of get, put, append, cas.
    mix: [f64; 4],
    /// Last value seen per key (`None`: seen absent); a cas expects it.
    seen: BTreeMap<Arc<str>, Option<Arc<str>>>,
}

impl KvGenerator {
    /// The generator of client `client`; the last `spec.readers` clients
    /// only read.
    pub fn new(spec: &WorkloadSpec, client: u32) -> Self {
        let m = &spec.mix;
        let reader = client >= spec.clients.saturating_sub(spec.readers);
        let mut mix = if reader {
            [1.0, 0.0, 0.0, 0.0]
        } else {
            [m.read, m.write, m.append, m.cas]
        };
        for i in 1..4 {
            mix[i] += mix[i - 1];
        }
        debug_assert!(mix[3] > 0.0, "validated: some weight is positive");
        KvGenerator {
            keys: (0..spec.keys).map(|k| Arc::from(format!("k{k}"))).collect(),
            mix,
            seen: BTreeMap::new(),
        }
    }
}

impl Generator<Kv> for KvGenerator {
    fn next_op(&mut self, request: RequestId, rng: &mut SimRng) -> Op {
        // Drawn as a u32, as always: a usize range draws other numbers.
        let k: u32 = rng.gen_range(0..self.keys.len() as u32);
        let key = self.keys[k as usize].clone();
        let roll = rng.gen::<f64>() * self.mix[3];
        // `v<request>`, as format! would write it, without its machinery.
        let value = |end: &str| -> Arc<str> {
            let mut v = String::with_capacity(24);
            v.push('v');
            v.push_str(itoa::Buffer::new().format(request.0));
            v.push_str(end);
            Arc::from(v)
        };
        if roll < self.mix[0] {
            Op::Get { key }
        } else if roll < self.mix[1] {
            Op::Put { key, value: value("") }
        } else if roll < self.mix[2] {
            Op::Append { key, value: value(";") }
        } else {
            let from = self.seen.get(&key).cloned().flatten();
            Op::Cas {
                key,
                from,
                to: value(""),
            }
        }
    }

    fn final_ops(&mut self) -> Vec<Op> {
        self.keys.iter().map(|key| Op::Get { key: key.clone() }).collect()
    }

    fn observe(&mut self, op: &Op, outcome: Outcome<'_, Output>) {
        let Outcome::Ok(output) = outcome else {
            return;
        };
        let key = op.key_shared().clone();
        match (op, output) {
            (Op::Get { .. }, Output::Value(v)) => {
                self.seen.insert(key, v.clone());
            }
            (Op::Put { value, .. }, _) | (Op::Cas { to: value, .. }, Output::Cas(true)) => {
                self.seen.insert(key, Some(value.clone()));
            }
            // No single value to expect: a later cas guesses none.
            (Op::Append { .. }, _) | (Op::Get { .. }, Output::Siblings(_)) => {
                self.seen.remove(&key);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Arc<str> {
        Arc::from(x)
    }

    /// What serde's derive reads, for comparison with the hand-written reader.
    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(tag = "f", rename_all = "lowercase")]
    enum Derived {
        Get {
            key: Arc<str>,
        },
        Put {
            key: Arc<str>,
            value: Arc<str>,
        },
        Append {
            key: Arc<str>,
            value: Arc<str>,
        },
        Cas {
            key: Arc<str>,
            from: Option<Arc<str>>,
            to: Arc<str>,
        },
    }

    impl From<Derived> for Op {
        fn from(d: Derived) -> Op {
            match d {
                Derived::Get { key } => Op::Get { key },
                Derived::Put { key, value } => Op::Put { key, value },
                Derived::Append { key, value } => Op::Append { key, value },
                Derived::Cas { key, from, to } => Op::Cas { key, from, to },
            }
        }
    }

    #[test]
    fn output_debug_is_the_derived_text() {
        #[derive(Debug)]
        #[allow(dead_code, reason = "read only through Debug")]
        enum Derived {
            Value(Option<Arc<str>>),
            Done,
            Cas(bool),
            Siblings(Vec<Arc<str>>),
        }
        let texts = [
            "",
            "v1;v22;",
            "a\"b",
            "back\\slash",
            "new\nline\t",
            "caf\u{e9}",
            "\u{7f}",
            "it's",
            "\u{301}x",
        ];
        let mut pairs = vec![
            (Output::Done, Derived::Done),
            (Output::Value(None), Derived::Value(None)),
        ];
        pairs.extend([true, false].map(|b| (Output::Cas(b), Derived::Cas(b))));
        for t in texts {
            pairs.push((Output::Value(Some(t.into())), Derived::Value(Some(t.into()))));
        }
        let all: Vec<Arc<str>> = texts.iter().map(|&t| t.into()).collect();
        pairs.push((Output::Siblings(all.clone()), Derived::Siblings(all)));
        for (ours, derived) in &pairs {
            assert_eq!(format!("{ours:?}"), format!("{derived:?}"));
            assert_eq!(format!("{ours:#?}"), format!("{derived:#?}"));
        }
    }

    #[test]
    fn reads_operations_as_the_derived_reader_does() {
        let ops = [
            Op::Get { key: s("k\"1") },
            Op::Put {
                key: s("k"),
                value: s("v\n2"),
            },
            Op::Append {
                key: s("k"),
                value: s(""),
            },
            Op::Cas {
                key: s("k"),
                from: None,
                to: s("t"),
            },
            Op::Cas {
                key: s("k"),
                from: Some(s("f")),
                to: s("t"),
            },
        ];
        let written: Vec<String> = ops.iter().map(|op| serde_json::to_string(op).unwrap()).collect();
        let others = [
            r#"{"key":"k","f":"get"}"#,
            r#"{"f":"cas","to":"t","key":"k","extra":[1,{"a":2}]}"#,
            r#"{"f":"cas","key":"k","from":null,"to":"t"}"#,
            r#"{"f":"put","key":"k"}"#,
            r#"{"key":"k"}"#,
            r#"{"f":"get","key":"k","key":"j"}"#,
            r#"{"f":"delete","key":"k"}"#,
            r#"{"f":"get","key":7}"#,
            r#"["get","k"]"#,
            r#"["cas","k",null,"t"]"#,
            r#"["put","k"]"#,
            r#"["get","k","extra"]"#,
            r#""get""#,
            r#"{"f":"get","key":"k""#,
            r#"{"f":"get","key":"k","value":5}"#,
            r#"{"f":"get","key":"k","value":"a","value":"b"}"#,
            r#"{"f":"put","key":"k","value":"v","to":1}"#,
            r#"{"f":"put","key":"k","value":"v","from":"x"}"#,
            r#"{"f":"put","key":"k","value":"v","value":"w"}"#,
            r#"{"f":"put","key":"k","value":7}"#,
            r#"{"f":"cas","key":"k","to":"t","value":3}"#,
            r#"{"f":"cas","key":"k","from":"x","to":"t","from":null}"#,
            r#"{"f":"cas","key":"k","from":5,"to":"t"}"#,
            r#"{"f":"cas","key":"k","to":null}"#,
            r#"{"f":{"get":null},"key":"k"}"#,
            r#"[{"get":null},"k"]"#,
            r#"{"f":"get","key":"k","f":"get"}"#,
            r#"{"f":0,"key":"k"}"#,
            r#"{"f":4,"key":"k"}"#,
            r#"["cas","k","t"]"#,
        ];
        for text in written.iter().map(String::as_str).chain(others) {
            let ours = serde_json::from_str::<Op>(text).ok();
            let derived = serde_json::from_str::<Derived>(text).ok().map(Op::from);
            assert_eq!(ours, derived, "{text}");
        }
        for (op, text) in ops.iter().zip(&written) {
            assert_eq!(&serde_json::from_str::<Op>(text).unwrap(), op, "round trip");
        }
    }

    #[test]
    fn writes_operations_as_serde_json_does_and_reads_them_back() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        let texts = [s(""), s("k1"), s("v\u{e9}\u{1f600}"), s(&every_ascii)];
        for a in &texts {
            for b in &texts {
                for op in [
                    Op::Get { key: a.clone() },
                    Op::Put {
                        key: a.clone(),
                        value: b.clone(),
                    },
                    Op::Append {
                        key: b.clone(),
                        value: a.clone(),
                    },
                    Op::Cas {
                        key: a.clone(),
                        from: None,
                        to: b.clone(),
                    },
                    Op::Cas {
                        key: a.clone(),
                        from: Some(b.clone()),
                        to: a.clone(),
                    },
                ] {
                    let mut ours = Vec::new();
                    op_json::write(&op, &mut ours);
                    assert_eq!(ours, serde_json::to_vec(&op).unwrap(), "{op:?}");
                    ours.extend_from_slice(b"tail");
                    match op_json::read(&ours) {
                        Some((back, rest)) => assert_eq!((back, rest), (op, &b"tail"[..])),
                        // Only strings with escapes are left to serde.
                        None => assert!(ours.contains(&b'\\'), "{op:?}"),
                    }
                }
            }
        }
        for cut in [
            &br#"{"f":"get","key":"k"#[..],
            br#"{"f":"get","key":"k""#,
            br#"{"f":"gets","key":"k"}"#,
        ] {
            assert_eq!(op_json::read(cut), None, "{}", String::from_utf8_lossy(cut));
        }
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
    fn the_history_records_neutral_calls_and_outputs() {
        let cas = Op::Cas {
            key: s("k0"),
            from: None,
            to: s("v3"),
        };
        assert_eq!(Kv::call(&cas).to_string(), r#"cas "k0" [nil "v3"]"#);
        assert_eq!(Kv::output(&cas, &Output::Cas(true)), Value::Bool(true));
        let get = Op::Get { key: s("k0") };
        assert_eq!(Kv::call(&get).value, Value::Nil);
        assert_eq!(Kv::output(&get, &Output::Value(None)), Value::Nil);
        assert_eq!(Kv::output(&get, &Output::Value(Some(s("x")))), Value::from("x"));
    }
}
