//! Client operation histories: what each client invoked, and how it ended.
//!
//! A history is a list of events in the order they happened. Every
//! operation has one `invoke` and at most one completion: `ok` (took
//! effect, with its output), `fail` (definitely did not take effect) or
//! `info` (unknown: timed out, so it may take effect at any later point,
//! or never). An invoke with no completion is open, which means the same
//! as `info`.
//!
//! Native format: JSON Lines, one event per line, e.g.
//! `{"type":"invoke","op":7,"process":2,"client":2,"time_ns":1500000,"input":{"f":"put","key":"k0","value":"v7"}}`
//! then `{"type":"ok","op":7,"process":2,"client":2,"time_ns":2600000,"output":"done"}`.
//! `op` pairs an invoke with its completion. `process` follows Jepsen: a
//! client that times out continues under a new process id, because its
//! old operation may still be in flight.

pub mod formats;
pub mod raw;
pub mod value;

use crate::protocol::{Op, Output};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Invoke,
    Ok,
    Fail,
    Info,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub op: u64,
    pub process: u64,
    pub client: u32,
    pub time_ns: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Op>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Output>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    pub events: Vec<Event>,
}

/// Operation counts by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OpCounts {
    pub invoked: u64,
    pub ok: u64,
    pub fail: u64,
    /// Timed out, or still open when the run ended.
    pub indeterminate: u64,
}

impl History {
    pub fn push(&mut self, event: Event) {
        self.events.push(event);
    }

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

    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            out.push_str(&serde_json::to_string(e).expect("history events always serialise"));
            out.push('\n');
        }
        out
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
            input: (kind == EventKind::Invoke).then(|| Op::Get { key: "k".into() }),
            output: (kind == EventKind::Ok).then_some(Output::Value(None)),
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
    fn jsonl_round_trips() {
        let mut h = History::default();
        h.push(event(EventKind::Invoke, 1));
        h.push(event(EventKind::Ok, 1));
        let text = h.to_jsonl();
        assert!(text.starts_with(r#"{"type":"invoke","op":1,"#), "{text}");
        let back: Vec<Event> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(back, h.events);
    }
}
