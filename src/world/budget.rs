//! A run's budget: how many events it may record and how much it may keep
//! before it stops early, with verdict unknown. Both are counted from what
//! the run records, never measured, so the same seed stops at the same
//! event on every machine.

use super::recorder::Recorder;
use crate::scenario::RunBudget;
use std::fmt;

/// Which budget ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// Trace events.
    Events,
    /// The trace's bytes (as its hash reads them: about its text's
    /// size, kept or not), plus a fixed size per message in flight and per
    /// history event.
    Memory,
}

impl Resource {
    /// As the trace and the scenario's `budget` field name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Events => "events",
            Resource::Memory => "memory",
        }
    }
}

/// The budget that ran out, how much the run had used, and when it stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetSpent {
    /// Which budget.
    pub resource: Resource,
    /// What the run had used when it stopped: events, or bytes.
    pub used: u64,
    /// The budget: events, or bytes.
    pub limit: u64,
    /// Simulated time when it stopped.
    pub at_ns: u64,
}

impl fmt::Display for BudgetSpent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at_ns as f64 / 1e9;
        let name = self.resource.as_str();
        write!(f, "the {name} budget ran out: the run stopped at {at:.6}s, ")?;
        match self.resource {
            Resource::Events => write!(
                f,
                "after {} events (budget {}); raise it with budget: (events: {})",
                self.used,
                self.limit,
                self.limit.saturating_mul(10)
            ),
            Resource::Memory => {
                let mb = |bytes: u64| bytes as f64 / f64::from(1 << 20);
                write!(
                    f,
                    "keeping {:.1} MB of trace, messages in flight and history (budget {:.0} MB); raise it with budget: (memory_mb: {})",
                    mb(self.used),
                    mb(self.limit),
                    (self.limit >> 20).saturating_mul(10)
                )
            }
        }
    }
}

/// Counts a run against its budget as it goes.
pub(super) struct Meter {
    events_max: u64,
    memory_bytes_max: u64,
    /// Set once a budget ran out: the run is over.
    pub spent: Option<BudgetSpent>,
}

impl Meter {
    pub fn new(budget: &RunBudget) -> Self {
        Meter {
            events_max: budget.events,
            memory_bytes_max: budget.memory_bytes(),
            spent: None,
        }
    }

    /// Whether the run is over budget. The first time it is, the run ends
    /// now: the budget that ran out goes in the trace.
    pub fn over(&mut self, rec: &mut Recorder, now_ns: u64) -> bool {
        if self.spent.is_some() {
            return true;
        }
        let events = rec.trace.events();
        let (resource, used, limit) = if events > self.events_max {
            (Resource::Events, events, self.events_max)
        } else {
            let bytes = memory_bytes(rec);
            if bytes <= self.memory_bytes_max {
                return false;
            }
            (Resource::Memory, bytes, self.memory_bytes_max)
        };
        debug_assert!(rec.ended_at_ns.is_none(), "a budget runs out before the run ends");
        let name = resource.as_str();
        rec.trace.record(
            now_ns,
            "budget",
            format_args!("ran_out={name} used={used} limit={limit}"),
        );
        rec.ended_at_ns = Some(now_ns);
        self.spent = Some(BudgetSpent {
            resource,
            used,
            limit,
            at_ns: now_ns,
        });
        true
    }
}

/// What the run keeps, as the memory budget counts it.
fn memory_bytes(rec: &Recorder) -> u64 {
    let m = &rec.messages;
    let in_flight = (m.sent + m.duplicated).saturating_sub(m.delivered + m.dropped);
    let items = in_flight + rec.history.events.len() as u64;
    rec.trace
        .hashed_bytes()
        .saturating_add(items.saturating_mul(RunBudget::ITEM_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::Trace;

    fn meter(events: u64, memory_mb: u64) -> Meter {
        Meter::new(&RunBudget { events, memory_mb })
    }

    #[test]
    fn the_first_budget_to_run_out_ends_the_run_once() {
        let (mut m, mut rec) = (meter(2, 1), Recorder::new(Trace::default(), 1));
        for t in 0..2 {
            rec.trace.record(t, "timer", format_args!(""));
            assert!(!m.over(&mut rec, t), "two events are within a budget of two");
        }
        rec.trace.record(5, "timer", format_args!(""));
        assert!(m.over(&mut rec, 5));
        assert!(m.over(&mut rec, 6), "and stays over");
        let spent = BudgetSpent {
            resource: Resource::Events,
            used: 3,
            limit: 2,
            at_ns: 5,
        };
        assert_eq!((m.spent, rec.ended_at_ns), (Some(spent), Some(5)));
        assert!(rec
            .trace
            .text()
            .ends_with("3 0.000000005 budget ran_out=events used=3 limit=2\n"));
        assert_eq!(rec.trace.events(), 4, "one budget event");
    }

    #[test]
    fn memory_counts_the_trace_and_each_message_in_flight() {
        let (mut m, mut rec) = (meter(u64::MAX, 1), Recorder::new(Trace::default(), 1));
        rec.messages.sent = (1 << 20) / RunBudget::ITEM_BYTES;
        assert!(!m.over(&mut rec, 0), "exactly 1 MB");
        rec.messages.delivered = 1;
        rec.messages.duplicated = 2;
        assert!(m.over(&mut rec, 0), "one more in flight");
        let spent = m.spent.unwrap();
        assert_eq!((spent.resource, spent.used), (Resource::Memory, (1 << 20) + 128));
        assert!(
            spent.to_string().contains("raise it with budget: (memory_mb: 10)"),
            "{spent}"
        );
    }
}
