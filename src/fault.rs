//! Fault kinds, each defined once: its trace event, its count's key in the
//! JSON summary and label in the text one, and how the pictures and the
//! report's table show it. The world records a fault as a trace event and
//! counts it under its count name: the event's kind (`crash`), or for a
//! drop, its reason (`loss`, or the name of the family's network rule).
//! Everything downstream reads this table, so a new kind of fault (one a
//! family's hook causes, say) is one more [`FaultKind`], with no edit to
//! the report or the pictures.

use std::collections::BTreeMap;

/// One kind of fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FaultKind {
    /// The trace event's kind: `crash`, `partition-one-way`.
    pub event: &'static str,
    /// Only events with this field value are this fault (a `drop` is a
    /// link's loss only with `reason=loss`). A drop is counted under its
    /// reason; any other fault under its event, whatever its condition.
    pub only_if: Option<(&'static str, &'static str)>,
    /// Its key in `faults` of the JSON summary: `one_way_partition`.
    pub key: &'static str,
    /// Its label in the text summary: `one-way`.
    pub label: &'static str,
    /// How pictures and the report's table show it.
    pub show: Show,
}

/// How a fault shows in the pictures and the report's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Show {
    /// Only counted; its effect shows elsewhere (a restart ends a crash).
    Count,
    /// A band on the node's row (the event's `node=` field) until an event
    /// of kind `until` for that node, or another band's start, or the end.
    Band {
        /// The event kind that ends the band.
        until: &'static str,
        /// Fill colour, RGB.
        color: (u8, u8, u8),
        /// How much of the colour shows, in percent.
        opacity_pct: u8,
        /// What the node was, for the legend and the table: `crashed`.
        state: &'static str,
    },
    /// Cuts the directed links its `cut=` field lists.
    Cut,
    /// Restores the directed links its `links=` field lists.
    Heal,
    /// An instant on the node's row; `detail` names the field to show.
    Mark {
        /// Line colour, RGB.
        color: (u8, u8, u8),
        /// What it is, for the legend and the table: `clock`.
        what: &'static str,
        /// The field whose value follows `what` in the table: `by`.
        detail: &'static str,
    },
}

const RED: (u8, u8, u8) = (214, 39, 40);
const YELLOW: (u8, u8, u8) = (230, 171, 2);
const PURPLE: (u8, u8, u8) = (148, 103, 189);
const BROWN: (u8, u8, u8) = (140, 86, 75);

/// The faults the simulator itself causes, in the order the summaries
/// list them.
pub const BUILT_IN: &[FaultKind] = &[
    kind("partition", "partition", "partition", Show::Cut),
    kind("partition-one-way", "one_way_partition", "one-way", Show::Cut),
    kind("heal", "heal", "heal", Show::Heal),
    kind(
        "crash",
        "crash",
        "crash",
        Show::Band {
            until: "restart",
            color: RED,
            opacity_pct: 30,
            state: "crashed",
        },
    ),
    kind("restart", "restart", "restart", Show::Count),
    kind(
        "pause",
        "pause",
        "pause",
        Show::Band {
            until: "resume",
            color: YELLOW,
            opacity_pct: 35,
            state: "paused",
        },
    ),
    kind("resume", "resume", "resume", Show::Count),
    kind(
        "clock-jump",
        "clock_jump",
        "clock-jump",
        Show::Mark {
            color: PURPLE,
            what: "clock",
            detail: "by",
        },
    ),
    FaultKind {
        only_if: Some(("reason", "loss")),
        ..kind("drop", "drop", "drop", Show::Count)
    },
    kind("dup", "duplicate", "duplicate", Show::Count),
    kind(
        "fsync-error",
        "fsync_error",
        "fsync-error",
        Show::Mark {
            color: BROWN,
            what: "fsync failed",
            detail: "payload",
        },
    ),
    kind(
        "torn-write",
        "torn_write",
        "torn-write",
        Show::Mark {
            color: BROWN,
            what: "torn write",
            detail: "file",
        },
    ),
];

impl FaultKind {
    /// The name the world counts this fault under (see the module doc):
    /// a drop's reason, any other fault's event.
    pub fn count_name(&self) -> &'static str {
        match self.only_if {
            Some((_, reason)) if self.event == "drop" => reason,
            _ => self.event,
        }
    }
}

const fn kind(event: &'static str, key: &'static str, label: &'static str, show: Show) -> FaultKind {
    FaultKind {
        event,
        only_if: None,
        key,
        label,
        show,
    }
}

/// The fault kinds a run may show: the built-in ones, then those of the
/// families in use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultKinds(Vec<FaultKind>);

impl Default for FaultKinds {
    fn default() -> Self {
        FaultKinds(BUILT_IN.to_vec())
    }
}

impl FaultKinds {
    /// Whether a legend lists this kind even when a run did not have it:
    /// the classic faults do, so legends read the same from run to run.
    pub fn always_in_legend(kind: &FaultKind) -> bool {
        ["crash", "pause", "partition", "clock-jump"].contains(&kind.event)
    }

    /// Adds a kind. A later one with the same event and condition replaces
    /// nothing: the first definition wins.
    pub fn add(&mut self, kind: FaultKind) {
        if !self
            .0
            .iter()
            .any(|k| (k.event, k.only_if) == (kind.event, kind.only_if))
        {
            self.0.push(kind);
        }
    }

    /// Every kind, in order.
    pub fn all(&self) -> &[FaultKind] {
        &self.0
    }

    /// The kind of a trace event with these fields, if it is a fault.
    pub fn of_event<'f>(&self, event: &str, field: impl Fn(&str) -> Option<&'f str>) -> Option<&FaultKind> {
        self.0
            .iter()
            .find(|k| k.event == event && k.only_if.is_none_or(|(f, v)| field(f) == Some(v)))
    }

    /// The events some kind describes: no other event is a fault, whatever
    /// its fields (readers of whole traces look here first).
    pub fn events(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.0.iter().map(|k| k.event)
    }

    /// Every kind with its count (zero if it never happened), then any
    /// counted event no kind describes, by its event name.
    pub fn with_counts<'a>(&'a self, counts: &'a FaultCounts) -> Vec<(&'a str, &'a str, u64)> {
        let mut rows: Vec<(&str, &str, u64)> = self
            .0
            .iter()
            .map(|k| (k.key, k.label, counts.get(k.count_name())))
            .collect();
        for (name, n) in &counts.0 {
            if !self.0.iter().any(|k| k.count_name() == *name) {
                rows.push((name, name, *n));
            }
        }
        rows
    }
}

/// How often each fault happened, by count name (see the module doc).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts(BTreeMap<&'static str, u64>);

impl FaultCounts {
    /// One more fault counted under `name`.
    pub fn add(&mut self, name: &'static str) {
        *self.0.entry(name).or_default() += 1;
    }

    /// How many faults were counted under `name`.
    pub fn get(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_list_every_built_in_kind_then_unknown_events() {
        let mut counts = FaultCounts::default();
        counts.add("crash");
        counts.add("crash");
        counts.add("brownout");
        let kinds = FaultKinds::default();
        let rows = kinds.with_counts(&counts);
        assert_eq!(rows.len(), BUILT_IN.len() + 1);
        assert!(rows.contains(&("crash", "crash", 2)));
        assert!(rows.contains(&("one_way_partition", "one-way", 0)));
        assert_eq!(rows.last(), Some(&("brownout", "brownout", 1)));
    }

    #[test]
    fn a_rules_drops_can_have_a_kind_of_their_own() {
        let mut kinds = FaultKinds::default();
        kinds.add(FaultKind {
            only_if: Some(("reason", "deaf")),
            ..kind("drop", "deaf", "deaf", Show::Count)
        });
        assert_eq!(kinds.all().len(), BUILT_IN.len() + 1, "another drop kind, not refused");
        let reason = |r: &'static str| move |f: &str| (f == "reason").then_some(r);
        assert_eq!(kinds.of_event("drop", reason("deaf")).map(|k| k.key), Some("deaf"));
        let mut counts = FaultCounts::default();
        counts.add("deaf");
        counts.add("loss");
        let rows = kinds.with_counts(&counts);
        assert!(
            rows.contains(&("deaf", "deaf", 1)) && rows.contains(&("drop", "drop", 1)),
            "{rows:?}"
        );
        assert_eq!(rows.len(), kinds.all().len(), "nothing counted twice");
    }

    #[test]
    fn a_conditional_kind_of_another_event_counts_under_its_event() {
        let muted_n1 = FaultKind {
            only_if: Some(("node", "n1")),
            ..kind("mute", "mute", "mute", Show::Count)
        };
        assert_eq!(muted_n1.count_name(), "mute");
        let mut kinds = FaultKinds::default();
        kinds.add(muted_n1);
        let mut counts = FaultCounts::default();
        counts.add("mute");
        let rows = kinds.with_counts(&counts);
        assert_eq!(rows.iter().filter(|r| r.0 == "mute").count(), 1, "{rows:?}");
        assert!(rows.contains(&("mute", "mute", 1)));
    }

    #[test]
    fn a_drop_is_a_fault_only_when_the_link_lost_it() {
        let kinds = FaultKinds::default();
        let reason = |r: &'static str| move |f: &str| (f == "reason").then_some(r);
        assert_eq!(kinds.of_event("drop", reason("loss")).map(|k| k.key), Some("drop"));
        assert_eq!(kinds.of_event("drop", reason("partition")), None);
        assert_eq!(kinds.of_event("crash", |_| None).map(|k| k.key), Some("crash"));
        assert_eq!(kinds.of_event("send", |_| None), None);
    }
}
