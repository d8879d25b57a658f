//! The trace as a person reads it: filtered to some nodes and a window of
//! global time, with each event's node's own wall clock beside the global
//! time, since what a node did makes sense only against what it believed
//! the time was.

use crate::env::clock::ClockRecord;
use crate::trace::timeline::Lane;
use crate::trace::{event_lines, parse_line, TraceLine};

/// Which events to show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceFilter {
    /// Events that involve any of these nodes; empty: every event.
    pub nodes: Vec<u32>,
    /// Events before this global time are left out.
    pub from_ns: u64,
    /// Inclusive; `None`: to the end.
    pub to_ns: Option<u64>,
}

/// Nodes an event is about: its `node`, `from` and `to` fields, the one
/// where it happens first (the receiver, for a delivery or a drop).
fn nodes_of(line: &TraceLine<'_>) -> Vec<u32> {
    let keys = match line.kind {
        "deliver" | "drop" => ["node", "to", "from"],
        _ => ["node", "from", "to"],
    };
    keys.iter()
        .filter_map(|key| line.field(key))
        .filter_map(|v| Lane::parse(v)?.node())
        .collect()
}

/// One line per event kept: `GLOBAL  nI@LOCAL  SEQ KIND FIELDS...`, where
/// LOCAL is node I's wall clock (drift, offset and jumps included) at that
/// moment; `-` for events about no node.
pub fn render(trace: &str, clocks: &[ClockRecord], filter: &TraceFilter) -> String {
    let mut out = String::new();
    for text in event_lines(trace) {
        let Ok(line) = parse_line(text) else { continue };
        if line.time_ns < filter.from_ns || filter.to_ns.is_some_and(|to| line.time_ns > to) {
            continue;
        }
        let nodes = nodes_of(&line);
        if !filter.nodes.is_empty() && !nodes.iter().any(|n| filter.nodes.contains(n)) {
            continue;
        }
        let shown = nodes
            .iter()
            .find(|n| filter.nodes.is_empty() || filter.nodes.contains(n));
        let local = match shown.and_then(|&n| Some((n, clocks.get(n as usize)?))) {
            Some((n, clock)) => format!("n{n}@{:.6}", clock.wall_ns(line.seq, line.time_ns) as f64 / 1e9),
            None => "-".to_string(),
        };
        // Everything after SEQ TIME, as recorded.
        let rest = text.splitn(3, ' ').nth(2).unwrap_or("");
        out.push_str(&format!(
            "{:>16.9}  {local:<18} {} {rest}\n",
            line.time_ns as f64 / 1e9,
            line.seq
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "# comment
0 0.000000000 start node=n0
1 1.000000000 send from=n0 to=n1 msg=0 payload=Ping
2 1.000000000 clock-jump node=n1 by=2s
3 2.000000000 deliver from=n0 to=n1 msg=0
4 3.000000000 partition cut=n0>n1
";

    fn clocks() -> Vec<ClockRecord> {
        vec![
            ClockRecord::default(),
            ClockRecord {
                drift_ppm: 0,
                offset_ns: -500_000_000,
                jumps: vec![(2, 2_000_000_000)],
            },
        ]
    }

    #[test]
    fn shows_each_event_with_its_nodes_local_clock() {
        let all = render(TRACE, &clocks(), &TraceFilter::default());
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), 5);
        let words = |l: &str| l.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(lines[0]), ["0.000000000", "n0@0.000000", "0", "start", "node=n0"]);
        assert_eq!(words(lines[4])[1], "-", "a partition is about no one node");
        assert_eq!(words(lines[1])[1], "n0@1.000000", "a send happens at the sender");
        assert_eq!(words(lines[3])[1], "n1@3.500000", "a delivery at the receiver");

        let n1 = TraceFilter {
            nodes: vec![1],
            ..TraceFilter::default()
        };
        let only = render(TRACE, &clocks(), &n1);
        let lines: Vec<&str> = only.lines().collect();
        assert_eq!(lines.len(), 3, "{only}");
        assert!(
            lines[0].contains("n1@0.500000"),
            "the send, at n1's clock: {}",
            lines[0]
        );
        assert!(lines[2].contains("n1@3.500000"), "after the jump: {}", lines[2]);
    }

    #[test]
    fn a_time_window_keeps_what_is_inside_it() {
        let window = TraceFilter {
            nodes: vec![],
            from_ns: 1_000_000_000,
            to_ns: Some(2_000_000_000),
        };
        let shown = render(TRACE, &clocks(), &window);
        let seqs: Vec<&str> = shown.lines().map(|l| l.split_whitespace().nth(2).unwrap()).collect();
        assert_eq!(seqs, ["1", "2", "3"]);
    }
}
