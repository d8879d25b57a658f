//! What a run writes down as it goes: the trace, the history, message and
//! fault counts, clock jumps and the fault schedule it played.

use super::coverage::Coverage;
use super::engine::Addr;
use crate::fault::{FaultCounts, BUILT_IN};
use crate::history::{Event, EventKind, History};
use crate::net::DropReason;
use crate::scenario::Fault;
use crate::trace::Trace;
use serde::Serialize;
use std::fmt;
use std::hash::Hash;

/// Message counts of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageStats {
    /// Sent by nodes and clients.
    pub sent: u64,
    /// Handled by their receiver.
    pub delivered: u64,
    /// For any reason: loss, partition, receiver down.
    pub dropped: u64,
    /// Extra copies made by the network.
    pub duplicated: u64,
    /// Still travelling (or queued at a node that never handled them) when
    /// the run ended. sent + duplicated = delivered + dropped + in_flight.
    pub in_flight: u64,
}

impl MessageStats {
    /// Asserts the conservation law: every message (and copy) sent was
    /// delivered, dropped, or is still in flight.
    pub fn assert_balanced(&self) {
        assert_eq!(
            self.sent + self.duplicated,
            self.delivered + self.dropped + self.in_flight,
            "messages are conserved: {self:?}"
        );
    }
}

/// The run's records.
#[derive(Default)]
pub(super) struct Recorder {
    pub trace: Trace,
    pub history: History,
    pub messages: MessageStats,
    /// How often each fault happened, by trace event kind.
    pub faults: FaultCounts,
    /// Every clock jump: (trace sequence number, node, by how much).
    pub clock_jumps: Vec<(u64, u32, i64)>,
    /// The faults played, as explicit `At` faults, until recovery begins.
    pub schedule: Vec<(u64, Fault)>,
    /// False once recovery began: the `recover` field replays the rest.
    pub scheduling: bool,
    /// When the driver stopped the run (the `end` event is written once the
    /// observers had their last look).
    pub ended_at_ns: Option<u64>,
    /// Which kinds of fault had an effect (see [`super::coverage`]).
    pub coverage: Coverage,
}

impl Recorder {
    pub fn new(trace: Trace, nodes: u32) -> Self {
        Recorder {
            trace,
            coverage: Coverage::new(nodes),
            scheduling: true,
            ..Recorder::default()
        }
    }

    /// A fault happened: traced as an event of kind `kind` and counted.
    pub fn fault(&mut self, now_ns: u64, kind: &'static str, fields: fmt::Arguments<'_>) {
        self.faults.add(kind);
        self.trace.record(now_ns, kind, fields);
    }

    /// Notes a fault the nemesis played, for the schedule: `now_ns` is the
    /// time its step was due (a step runs at that time exactly).
    pub fn played(&mut self, now_ns: u64, fault: Fault) {
        if self.scheduling {
            self.schedule.push((now_ns, fault));
        }
    }

    /// A message was lost: always a `drop` event, counted as a fault
    /// when the loss is one (link loss, a family's rule), not when it is
    /// the effect of another fault (a partition, a crashed receiver).
    pub fn dropped(&mut self, now_ns: u64, from: Addr, to: Addr, msg: u64, why: DropReason) {
        self.messages.dropped += 1;
        if let Some(kind) = why.fault() {
            if let DropReason::Rule(name) = why {
                // Its drops would be counted as another fault's.
                let taken = BUILT_IN.iter().any(|k| k.event == name || k.count_name() == name);
                assert!(!taken, "a network rule drops as {name:?}, the name of a built-in fault");
            }
            self.faults.add(kind);
        }
        self.trace.record_with(now_ns, "drop", |line| {
            from.write_to(line.text("from="));
            to.write_to(line.text(" to="));
            line.text(" msg=").number(msg).text(" reason=").text(why.as_str());
        });
    }

    /// A property broken: a `violation` event.
    pub fn violation(&mut self, now_ns: u64, property: &str, v: &crate::property::Violation) {
        let nodes: Vec<String> = v.nodes.iter().map(ToString::to_string).collect();
        let nodes = if nodes.is_empty() {
            "-".to_string()
        } else {
            nodes.join(",")
        };
        let payload = &v.detail;
        let fields = format_args!("invariant={property} nodes={nodes} payload={payload}");
        self.trace.record(now_ns, "violation", fields);
    }

    /// A history event of client `c`: traced, then kept.
    pub fn client_event(&mut self, c: u32, e: Event) {
        let (t, p, op) = (e.time_ns, e.process, e.op);
        if e.kind == EventKind::Invoke {
            let input = e.input.as_ref().expect("an invoke has an input");
            self.trace.record_with(t, "invoke", |line| {
                line.text("client=").client(c).text(" process=").number(p);
                line.text(" op=").number(op).text(" payload=");
                line.payload(|h| input.hash(h), format_args!("{input}"));
            });
        } else {
            let status = match e.kind {
                EventKind::Ok => "ok",
                EventKind::Fail => "fail",
                _ => "info",
            };
            self.trace.record_with(t, "complete", |line| {
                line.text("client=").client(c).text(" process=").number(p);
                line.text(" op=").number(op).text(" status=").text(status);
                line.text(" payload=");
                match (&e.output, &e.error) {
                    (Some(out), _) => line.payload(|h| out.hash(h), format_args!("{out}")),
                    (None, Some(why)) => line.text(why),
                    (None, None) => line,
                };
            });
        }
        self.history.push(e);
    }
}

/// `n0>n1,n1>n0`: directed links as the trace writes them.
pub(super) fn format_links(links: &[(u32, u32)]) -> String {
    let each: Vec<String> = links.iter().map(|(a, b)| format!("n{a}>n{b}")).collect();
    each.join(",")
}
