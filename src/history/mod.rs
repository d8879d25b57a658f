//! Client operation histories: what each client invoked, and how it ended.
//!
//! A history is a list of events in the order they happened. Every
//! operation has one `invoke` and at most one completion: `ok` (took
//! effect, with its output), `fail` (definitely did not take effect) or
//! `info` (unknown: timed out, so it may take effect at any later point,
//! or never). An invoke with no completion is open, which means the same
//! as `info`.
//!
//! Operations are neutral values ([`Call`] and [`Value`]), whatever family
//! served them, so this module and the checkers depend on no family.
//!
//! Native format: JSON Lines, one event per line, e.g.
//! `{"type":"invoke","op":7,"process":2,"client":2,"time_ns":1500000,"input":{"f":"put","key":"k0","value":"v7"}}`
//! then `{"type":"ok","op":7,"process":2,"client":2,"time_ns":2600000,"output":null}`.
//! `op` pairs an invoke with its completion. `process` follows Jepsen: a
//! client that times out continues under a new process id, because its
//! old operation may still be in flight. Files written before operations
//! were neutral (`"output":"done"`, `{"value":...}`, `{"cas":...}`, a cas
//! input with `from` and `to`) are read too.
//!
//! Submodules: [`formats`] reads history files of other tools, [`raw`] is
//! the format-neutral operation list checkers read, [`generate`] makes up
//! seeded hard histories (linearizable or not) for tests and benchmarks.

pub mod formats;
pub mod generate;
pub mod raw;

use crate::core::{Call, Value};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What an event says about its operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The client asked.
    Invoke,
    /// It took effect, with an output.
    Ok,
    /// It definitely did not take effect.
    Fail,
    /// Unknown: it may take effect at any later point, or never.
    Info,
}

/// One line of a history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Invocation or completion.
    #[serde(rename = "type")]
    pub kind: EventKind,
    /// Pairs an invocation with its completion; unique per operation.
    pub op: u64,
    /// The Jepsen process: a client's new id after each timeout.
    pub process: u64,
    /// The simulated client.
    pub client: u32,
    /// Simulated time.
    pub time_ns: u64,
    /// On an invocation: the operation.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "call_json",
        deserialize_with = "call_from_json"
    )]
    pub input: Option<Call>,
    /// On an ok: the output (`null` is an output too: a put's `done`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "output_from_json"
    )]
    pub output: Option<Value>,
    /// On a fail or info: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A call as JSON: `{"f": .., "key": .., "value": ..}`, without a missing
/// key or a nil value.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireCall {
    f: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<Value>,
    #[serde(default, skip_serializing_if = "is_nil")]
    value: Value,
    /// Before neutral operations, a cas wrote its arguments as `from`, `to`.
    #[serde(default, skip_serializing)]
    from: Option<Value>,
    #[serde(default, skip_serializing)]
    to: Option<Value>,
}

fn is_nil(v: &Value) -> bool {
    *v == Value::Nil
}

fn call_json<S: Serializer>(call: &Option<Call>, s: S) -> Result<S::Ok, S::Error> {
    let call = call.as_ref().expect("skipped when absent");
    WireCall {
        f: call.f.clone(),
        key: call.key.clone(),
        value: call.value.clone(),
        from: None,
        to: None,
    }
    .serialize(s)
}

fn call_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Call>, D::Error> {
    let w = WireCall::deserialize(d)?;
    let value = match (w.from, w.to) {
        (None, None) => w.value,
        (from, Some(to)) if w.value == Value::Nil => Value::List(vec![from.unwrap_or(Value::Nil), to]),
        _ => {
            return Err(serde::de::Error::custom(
                "a cas has `value: [from, to]` (or `from` and `to`), not both",
            ))
        }
    };
    Ok(Some(Call {
        f: w.f,
        key: w.key,
        value,
    }))
}

/// Present means an output, even `null`. The forms written before
/// neutral operations (`{"value": x}`, `{"cas": b}`) are read as x and b.
fn output_from_json<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    let json = serde_json::Value::deserialize(d)?;
    let inner = match &json {
        serde_json::Value::Object(m) if m.len() == 1 && (m.contains_key("value") || m.contains_key("cas")) => {
            m.values().next().cloned().expect("one entry")
        }
        _ => json,
    };
    Value::deserialize(inner).map(Some).map_err(serde::de::Error::custom)
}

/// A run's client operations, in the order their events happened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    /// Every event, in order.
    pub events: Vec<Event>,
}

/// Operation counts by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OpCounts {
    /// Operations invoked.
    pub invoked: u64,
    /// Completed ok.
    pub ok: u64,
    /// Definitely failed.
    pub fail: u64,
    /// Timed out, or still open when the run ended.
    pub indeterminate: u64,
}

impl History {
    /// Appends an event.
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

    /// Operation counts by outcome.
    pub fn counts(&self) -> OpCounts {
        let mut c = OpCounts::default();
        for e in &self.events {
            match e.kind {
                EventKind::Invoke => c.invoked += 1,
                EventKind::Ok => c.ok += 1,
                EventKind::Fail => c.fail += 1,
                EventKind::Info => c.indeterminate += 1,
            }
        }
        c.indeterminate += c.invoked - (c.ok + c.fail + c.indeterminate);
        c
    }

    /// Operation counts by outcome for each kind of operation (its call's
    /// name: `get`, `put`, ...), as Jepsen's availability tables show them:
    /// one kind that never answers hides in the totals.
    pub fn counts_by_kind(&self) -> std::collections::BTreeMap<String, OpCounts> {
        let mut kinds: std::collections::BTreeMap<String, OpCounts> = std::collections::BTreeMap::new();
        let mut kind_of = std::collections::BTreeMap::new();
        for e in &self.events {
            if let (EventKind::Invoke, Some(call)) = (e.kind, &e.input) {
                kind_of.insert(e.op, call.f.as_str());
                match kinds.get_mut(&call.f) {
                    Some(c) => c.invoked += 1,
                    None => kinds.entry(call.f.clone()).or_default().invoked += 1,
                }
                continue;
            }
            let Some(c) = kind_of.get(&e.op).and_then(|f| kinds.get_mut(*f)) else {
                continue;
            };
            match e.kind {
                EventKind::Ok => c.ok += 1,
                EventKind::Fail => c.fail += 1,
                EventKind::Info | EventKind::Invoke => c.indeterminate += 1,
            }
        }
        for c in kinds.values_mut() {
            // Still open at the end: as good as timed out.
            c.indeterminate = c.invoked - (c.ok + c.fail);
        }
        kinds
    }

    /// The native format: one JSON object per line.
    pub fn to_jsonl(&self) -> String {
        // Serialised straight into one buffer: a String per event costs
        // an allocation each.
        let mut out = Vec::new();
        for e in &self.events {
            serde_json::to_writer(&mut out, e).expect("history events always serialise");
            out.push(b'\n');
        }
        String::from_utf8(out).expect("JSON is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind, op: u64) -> Event {
        Event {
            kind,
            op,
            process: 0,
            client: 0,
            time_ns: op,
            input: (kind == EventKind::Invoke).then(|| Call::new("get").key(Value::from("k"))),
            output: (kind == EventKind::Ok).then_some(Value::Nil),
            error: None,
        }
    }

    #[test]
    fn open_invocations_count_as_indeterminate() {
        let mut h = History::default();
        for (kind, op) in [
            (EventKind::Invoke, 1),
            (EventKind::Ok, 1),
            (EventKind::Invoke, 2),
            (EventKind::Info, 2),
            (EventKind::Invoke, 3),
            (EventKind::Invoke, 4),
            (EventKind::Fail, 4),
        ] {
            h.push(event(kind, op));
        }
        let c = h.counts();
        assert_eq!((c.invoked, c.ok, c.fail, c.indeterminate), (4, 1, 1, 2));
    }

    #[test]
    fn jsonl_round_trips_and_keeps_a_null_output() {
        let mut h = History::default();
        h.push(event(EventKind::Invoke, 1));
        h.push(event(EventKind::Ok, 1));
        let text = h.to_jsonl();
        assert!(
            text.starts_with(
                r#"{"type":"invoke","op":1,"process":0,"client":0,"time_ns":1,"input":{"f":"get","key":"k"}}"#
            ),
            "{text}"
        );
        assert!(text.contains(r#""output":null"#), "{text}");
        let back: Vec<Event> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(back, h.events);
    }

    #[test]
    fn histories_written_before_neutral_operations_still_read() {
        let cas: Event = serde_json::from_str(
            r#"{"type":"invoke","op":8,"process":0,"client":0,"time_ns":1,"input":{"f":"cas","key":"k0","from":null,"to":"v8"}}"#,
        )
        .unwrap();
        assert_eq!(
            cas.input.unwrap().value,
            Value::List(vec![Value::Nil, Value::from("v8")])
        );
        let read = |output: &str| {
            let line = format!(r#"{{"type":"ok","op":9,"process":1,"client":1,"time_ns":2,"output":{output}}}"#);
            serde_json::from_str::<Event>(&line).unwrap().output
        };
        assert_eq!(read(r#"{"value":"v8"}"#), Some(Value::from("v8")));
        assert_eq!(read(r#"{"value":null}"#), Some(Value::Nil));
        assert_eq!(read(r#"{"cas":true}"#), Some(Value::Bool(true)));
        assert_eq!(read(r#""done""#), Some(Value::from("done")));
    }
}
