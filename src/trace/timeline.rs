//! What a trace says happened, in the shape the pictures need: who sent
//! what to whom and when it arrived, and when nodes were down, paused or
//! cut off. It is read back from the trace text, so a report shows exactly
//! what the trace file records, and a replayed run draws the same pictures.

use crate::fault::{FaultKind, FaultKinds, Show};
use crate::trace::{self, MessageLine, TraceLine};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// A row of the space-time diagram: a node or a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lane {
    /// A server node, `n3` in the trace.
    Node(u32),
    /// A client, `c1` in the trace.
    Client(u32),
}

impl Lane {
    /// `n3` or `c1`, as the trace writes them.
    pub fn parse(name: &str) -> Option<Lane> {
        let (kind, number) = name.split_at_checked(1)?;
        // Nine digits always fit; anything else as `parse` reads it.
        let plain = trace::plain_digits(number, 9).map(|n| n as u32);
        let number = plain.or_else(|| number.parse().ok())?;
        match kind {
            "n" => Some(Lane::Node(number)),
            "c" => Some(Lane::Client(number)),
            _ => None,
        }
    }

    /// The node's number, if this is a node.
    pub fn node(self) -> Option<u32> {
        match self {
            Lane::Node(n) => Some(n),
            Lane::Client(_) => None,
        }
    }

    /// The lane as the trace writes it: `n3` or `c1`.
    pub fn name(self) -> String {
        match self {
            Lane::Node(n) => format!("n{n}"),
            Lane::Client(c) => format!("c{c}"),
        }
    }
}

/// What became of a message after it was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It reached its receiver.
    Delivered {
        /// When it arrived.
        at_ns: u64,
    },
    /// The network dropped it.
    Dropped {
        /// When it was dropped: when sent (cut link, loss), or when it would
        /// have arrived (caught in flight by a partition, receiver down).
        at_ns: u64,
        /// The trace's `reason=`: `partition`, `loss`, `down` or a family
        /// rule's name; `?` if missing.
        reason: String,
    },
    /// Still in flight when the run ended.
    Lost,
}

/// One message (or duplicate copy) as the space-time diagram draws it: an
/// arrow from sender to receiver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The sender.
    pub from: Lane,
    /// The receiver.
    pub to: Lane,
    /// When it was sent; for a copy, when the network duplicated it.
    pub sent_ns: u64,
    /// Delivered, dropped or still in flight.
    pub fate: Fate,
    /// The payload's first word: `Append`, `Vote`, `get`, `redirect`
    /// (shared by every message of that kind: a trace has tens of
    /// thousands of messages and a handful of kinds).
    pub kind: Arc<str>,
}

/// A node under a fault (crashed, paused...) over [from_ns, to_ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeBand {
    /// The node.
    pub node: u32,
    /// The fault, whose `Show::Band` says how to draw it.
    pub fault: FaultKind,
    /// When it began.
    pub from_ns: u64,
    /// When it ended (or the run did).
    pub to_ns: u64,
}

impl NodeBand {
    /// What the node was: `crashed`, `paused`.
    pub fn state_name(&self) -> &'static str {
        match self.fault.show {
            Show::Band { state, .. } => state,
            _ => self.fault.label,
        }
    }

    /// The band's colour, and how much of it shows (0 to 1).
    pub fn color(&self) -> ((u8, u8, u8), f64) {
        match self.fault.show {
            Show::Band { color, opacity_pct, .. } => (color, f64::from(opacity_pct) / 100.0),
            _ => ((128, 128, 128), 0.3),
        }
    }
}

/// A node that said it was the leader over [from_ns, to_ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeaderBand {
    /// The node.
    pub node: u32,
    /// When it began to lead, as its role reported.
    pub from_ns: u64,
    /// When its role said it no longer leads, it crashed, or the run ended.
    pub to_ns: u64,
}

/// A stretch of time over which the same directed links were cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionBand {
    /// When this set of cut links began.
    pub from_ns: u64,
    /// When a partition or heal changed it, or the run ended.
    pub to_ns: u64,
    /// The directed links (from, to) that were cut, by node number.
    pub cut: BTreeSet<(u32, u32)>,
}

/// How a client's operation ended, as the history records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpEnd {
    /// It took effect.
    Ok,
    /// It definitely did not take effect.
    Fail,
    /// Timed out: it may or may not have taken effect.
    Info,
}

/// One client operation, from its invocation to its completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpSpan {
    /// The operation's id, as in the history's `op`.
    pub op: u64,
    /// The client that invoked it.
    pub client: u32,
    /// When it was invoked.
    pub invoke_ns: u64,
    /// None: still open when the run ended.
    pub done: Option<(u64, OpEnd)>,
}

/// Something that happened at an instant: a clock jump, a violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mark {
    /// When.
    pub at_ns: u64,
    /// At which node, if one.
    pub node: Option<u32>,
    /// What, for people: `clock -2s`.
    pub label: String,
    /// The fault, for marks that are faults (its `Show::Mark` has the colour).
    pub fault: Option<FaultKind>,
}

impl Mark {
    /// The mark's colour, if it is a fault's.
    pub fn color(&self) -> Option<(u8, u8, u8)> {
        match self.fault?.show {
            Show::Mark { color, .. } => Some(color),
            _ => None,
        }
    }
}

/// Everything the pictures draw about one run, read back from its trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    /// How many node rows to draw: one more than the highest node number
    /// the trace mentions.
    pub nodes: u32,
    /// Time of the last event: where open bands and the picture end.
    pub end_ns: u64,
    /// In the order they were sent.
    pub messages: Vec<Message>,
    /// Crashes, pauses and other node faults drawn as bands, in the order
    /// they began.
    pub node_bands: Vec<NodeBand>,
    /// In the order they began.
    pub leaders: Vec<LeaderBand>,
    /// Each stretch of a constant set of cut links, in time order.
    pub partitions: Vec<PartitionBand>,
    /// Faults at an instant (clock jumps, disk faults), in time order.
    pub marks: Vec<Mark>,
    /// The fault kinds it was read with, for legends.
    pub kinds: FaultKinds,
    /// Invariants found broken during the run, labelled with the
    /// invariant's name, in time order.
    pub violations: Vec<Mark>,
    /// Node code that panicked (this ends a run).
    pub panics: Vec<Mark>,
    /// In the order they were invoked.
    pub ops: Vec<OpSpan>,
}

impl Timeline {
    /// Reads a trace (as `Trace::text` or a trace file), with the built-in
    /// fault kinds. Lines that do not parse are skipped: a picture of most
    /// of a run beats none.
    pub fn from_trace(text: &str) -> Timeline {
        Timeline::from_trace_with(text, &FaultKinds::default())
    }

    /// [`Timeline::from_trace`], knowing the fault kinds `kinds`.
    pub fn from_trace_with(text: &str, kinds: &FaultKinds) -> Timeline {
        let mut reader = Reader {
            kinds: kinds.clone(),
            fault_events: kinds.events().collect(),
            ..Reader::default()
        };
        let mut spare = Vec::with_capacity(8);
        // Sends and deliveries read by place, unless some fault kind is
        // told by them (then every line goes the general way).
        let by_place = !["send", "deliver"].iter().any(|k| reader.fault_events.contains(k));
        for line in trace::event_lines(text) {
            if let Some(message) = trace::message_line(line).filter(|_| by_place) {
                reader.message(&message);
                continue;
            }
            if let Ok(line) = trace::parse_line_reusing(line, std::mem::take(&mut spare)) {
                reader.read(&line);
                spare = line.fields;
            }
        }
        reader.finish()
    }

    /// Everything that overlaps [from_ns, to_ns), for a closer look.
    pub fn faults_in(&self, from_ns: u64, to_ns: u64) -> (Vec<&NodeBand>, Vec<&PartitionBand>) {
        let bands = self
            .node_bands
            .iter()
            .filter(|b| b.from_ns < to_ns && b.to_ns > from_ns)
            .collect();
        let partitions = self
            .partitions
            .iter()
            .filter(|p| p.from_ns < to_ns && p.to_ns > from_ns)
            .collect();
        (bands, partitions)
    }
}

impl PartitionBand {
    /// `n3 | n0 n1 n2 n4` when the cut splits the nodes into groups that
    /// cannot reach each other either way; otherwise the links themselves.
    pub fn describe(&self, nodes: u32) -> String {
        if let Some(groups) = groups(&self.cut, nodes) {
            let shown: Vec<String> = groups
                .iter()
                .map(|g| g.iter().map(|n| format!("n{n}")).collect::<Vec<_>>().join(" "))
                .collect();
            return shown.join(" | ");
        }
        let links: Vec<String> = self.cut.iter().map(|(a, b)| format!("n{a}\u{219b}n{b}")).collect();
        if links.len() <= 6 {
            links.join(" ")
        } else {
            format!("{} links cut, e.g. {}", links.len(), links[..4].join(" "))
        }
    }
}

/// The groups `cut` splits `0..nodes` into, if it cuts exactly every link
/// between different groups, both ways, and nothing else.
fn groups(cut: &BTreeSet<(u32, u32)>, nodes: u32) -> Option<Vec<Vec<u32>>> {
    let mut group: Vec<u32> = (0..nodes).collect();
    // Joined when both directions are up; few nodes, so a plain relabel.
    for a in 0..nodes {
        for b in 0..nodes {
            if a != b && !cut.contains(&(a, b)) && !cut.contains(&(b, a)) {
                let (from, to) = (group[b as usize], group[a as usize]);
                group.iter_mut().filter(|g| **g == from).for_each(|g| *g = to);
            }
        }
    }
    let exact = (0..nodes)
        .all(|a| (0..nodes).all(|b| a == b || cut.contains(&(a, b)) == (group[a as usize] != group[b as usize])));
    if !exact {
        return None;
    }
    let mut by_group: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for n in 0..nodes {
        by_group.entry(group[n as usize]).or_default().push(n);
    }
    let mut groups: Vec<Vec<u32>> = by_group.into_values().collect();
    // The smaller side first: it is usually the one that was cut off.
    groups.sort_by_key(|g| (g.len(), g[0]));
    Some(groups)
}

#[derive(Default)]
struct Reader<'a> {
    kinds: FaultKinds,
    /// The events some fault kind describes: only these are looked up
    /// among the kinds (looked up only, so a hash set stays deterministic).
    fault_events: FxHashSet<&'static str>,
    /// Each message kind met so far, shared by its messages.
    message_kinds: FxHashMap<&'a str, Arc<str>>,
    nodes: u32,
    end_ns: u64,
    messages: Vec<Message>,
    /// Message id to its index in `messages`. Only looked up, never
    /// iterated, so a hash map keeps the reading deterministic; a trace
    /// has tens of thousands of messages.
    by_id: FxHashMap<u64, usize>,
    /// Bands still open, by node.
    open_bands: BTreeMap<u32, (FaultKind, u64)>,
    node_bands: Vec<NodeBand>,
    /// Since when each current leader has led.
    leading: BTreeMap<u32, u64>,
    leaders: Vec<LeaderBand>,
    cut: BTreeSet<(u32, u32)>,
    cut_since_ns: u64,
    partitions: Vec<PartitionBand>,
    marks: Vec<Mark>,
    violations: Vec<Mark>,
    panics: Vec<Mark>,
    ops: Vec<OpSpan>,
    /// Op id to its index in `ops` (looked up only, as `by_id`).
    op_index: FxHashMap<u64, usize>,
}

impl<'a> Reader<'a> {
    fn read(&mut self, line: &TraceLine<'a>) {
        let t = line.time_ns;
        self.end_ns = self.end_ns.max(t);
        let node = line.field("node").and_then(Lane::parse).and_then(Lane::node);
        if let Some(n) = node {
            self.see_node(n);
            self.close_band_ended_by(n, line.kind, t);
        }
        if self.fault_events.contains(line.kind) {
            let field = |f: &str| match f {
                "payload" => line.payload,
                _ => line.field(f),
            };
            if let Some(kind) = self.kinds.of_event(line.kind, field).copied() {
                self.fault(line, kind, node);
            }
        }
        match line.kind {
            "send" => self.sent(t, ["from", "to", "msg"].map(|f| line.field(f)), line.payload),
            "dup" => self.duplicated(line),
            "deliver" => self.ended(t, line.field("msg"), |at_ns| Fate::Delivered { at_ns }),
            "drop" => {
                let reason = line.field("reason").unwrap_or("?").to_string();
                self.ended(t, line.field("msg"), |at_ns| Fate::Dropped { at_ns, reason })
            }
            "role" => self.role(line, node),
            "violation" => self.violations.push(Mark {
                at_ns: t,
                node: None,
                label: line.field("invariant").unwrap_or("invariant").to_string(),
                fault: None,
            }),
            "panic" => self.panics.push(Mark {
                at_ns: t,
                node: None,
                label: line.payload.unwrap_or("").to_string(),
                fault: None,
            }),
            "invoke" => self.invoked(line),
            "complete" => self.completed(line),
            _ => {}
        }
    }

    /// A send or delivery, as [`Reader::read`] reads it: such a line has
    /// no node field and, here, tells no fault.
    fn message(&mut self, m: &MessageLine<'a>) {
        self.end_ns = self.end_ns.max(m.time_ns);
        match m.kind {
            "send" => self.sent(m.time_ns, [Some(m.from), Some(m.to), Some(m.msg)], m.payload),
            _ => self.ended(m.time_ns, Some(m.msg), |at_ns| Fate::Delivered { at_ns }),
        }
    }

    /// A fault event, drawn as its kind says.
    fn fault(&mut self, line: &TraceLine<'_>, kind: FaultKind, node: Option<u32>) {
        let t = line.time_ns;
        match kind.show {
            Show::Band { .. } => {
                let Some(n) = node else { return };
                // A paused node can be crashed: its pause ends there.
                self.close_band(n, t);
                self.open_bands.insert(n, (kind, t));
                if line.kind == "crash" {
                    // A crashed node leads no more, though it says nothing.
                    self.stop_leading(n, t);
                }
            }
            Show::Cut => self.recut(t, line.field("cut"), true),
            Show::Heal => self.recut(t, line.field("links"), false),
            Show::Mark { what, detail, .. } => {
                let value = if detail == "payload" {
                    line.payload
                } else {
                    line.field(detail)
                };
                self.marks.push(Mark {
                    at_ns: t,
                    node,
                    label: format!("{what} {}", value.unwrap_or("?")),
                    fault: Some(kind),
                });
            }
            Show::Count => {}
        }
    }

    /// `role node=n1 role=candidate leads=false`; traces written before
    /// `leads` existed say `role=leader`.
    fn role(&mut self, line: &TraceLine<'_>, node: Option<u32>) {
        let Some(n) = node else { return };
        let leads = match line.field("leads") {
            Some(leads) => leads == "true",
            None => line.field("role") == Some("leader"),
        };
        if leads {
            self.leading.entry(n).or_insert(line.time_ns);
        } else {
            self.stop_leading(n, line.time_ns);
        }
    }

    fn invoked(&mut self, line: &TraceLine<'_>) {
        let client = line.field("client").and_then(Lane::parse);
        let (Some(Lane::Client(client)), Some(op)) = (client, number(line.field("op"))) else {
            return;
        };
        self.op_index.insert(op, self.ops.len());
        self.ops.push(OpSpan {
            op,
            client,
            invoke_ns: line.time_ns,
            done: None,
        });
    }

    fn completed(&mut self, line: &TraceLine<'_>) {
        let end = match line.field("status") {
            Some("ok") => OpEnd::Ok,
            Some("fail") => OpEnd::Fail,
            _ => OpEnd::Info,
        };
        let found = number(line.field("op")).and_then(|op| self.op_index.get(&op));
        if let Some(&i) = found {
            self.ops[i].done = Some((line.time_ns, end));
        }
    }

    /// A send at `t` of the message with fields `[from, to, msg]`.
    fn sent(&mut self, t: u64, [from, to, msg]: [Option<&str>; 3], payload: Option<&'a str>) {
        let ends = (from.and_then(Lane::parse), to.and_then(Lane::parse));
        let (Some(from), Some(to), Some(id)) = (ends.0, ends.1, number(msg)) else {
            return;
        };
        for lane in [from, to] {
            if let Lane::Node(n) = lane {
                self.see_node(n);
            }
        }
        let kind = self.message_kind(payload.unwrap_or(""));
        self.by_id.insert(id, self.messages.len());
        self.messages.push(Message {
            from,
            to,
            sent_ns: t,
            fate: Fate::Lost,
            kind,
        });
    }

    /// The payload's first word, shared with the messages of its kind.
    fn message_kind(&mut self, payload: &'a str) -> Arc<str> {
        let word = first_word(payload);
        self.message_kinds
            .entry(word)
            .or_insert_with(|| Arc::from(word))
            .clone()
    }

    /// The copy travels on its own, from the moment it was made.
    fn duplicated(&mut self, line: &TraceLine<'_>) {
        let original = number(line.field("msg")).and_then(|id| self.by_id.get(&id).copied());
        let (Some(i), Some(copy)) = (original, number(line.field("copy"))) else {
            return;
        };
        let message = Message {
            sent_ns: line.time_ns,
            fate: Fate::Lost,
            ..self.messages[i].clone()
        };
        self.by_id.insert(copy, self.messages.len());
        self.messages.push(message);
    }

    /// Message `msg` arrived or was lost at `t`.
    fn ended(&mut self, t: u64, msg: Option<&str>, fate: impl FnOnce(u64) -> Fate) {
        let found = number(msg).and_then(|id| self.by_id.remove(&id));
        if let Some(i) = found {
            self.messages[i].fate = fate(t);
        }
    }

    fn see_node(&mut self, n: u32) {
        self.nodes = self.nodes.max(n.saturating_add(1));
    }

    fn stop_leading(&mut self, node: u32, t: u64) {
        if let Some(from_ns) = self.leading.remove(&node) {
            self.leaders.push(LeaderBand {
                node,
                from_ns,
                to_ns: t,
            });
        }
    }

    fn close_band(&mut self, node: u32, t: u64) {
        if let Some((fault, from_ns)) = self.open_bands.remove(&node) {
            self.node_bands.push(NodeBand {
                node,
                fault,
                from_ns,
                to_ns: t,
            });
        }
    }

    /// An event that ends the node's open band (a restart ends a crash).
    fn close_band_ended_by(&mut self, node: u32, event: &str, t: u64) {
        let ends = self
            .open_bands
            .get(&node)
            .is_some_and(|(kind, _)| matches!(kind.show, Show::Band { until, .. } if until == event));
        if ends {
            self.close_band(node, t);
        }
    }

    /// Adds (a partition) or removes (a heal) `links`, closing the band of
    /// the cut set before the change.
    fn recut(&mut self, t: u64, links: Option<&str>, add: bool) {
        let links = links.unwrap_or("").split(',').filter_map(parse_link);
        let mut cut = self.cut.clone();
        for link in links {
            self.see_node(link.0.max(link.1));
            if add {
                cut.insert(link);
            } else {
                cut.remove(&link);
            }
        }
        if cut == self.cut {
            return;
        }
        self.close_partition(t, !add);
        self.cut = cut;
        self.cut_since_ns = t;
    }

    /// A cut healed at the instant it was made still counts (messages in
    /// flight across it were lost); one widened at that instant does not.
    fn close_partition(&mut self, t: u64, healed: bool) {
        if !self.cut.is_empty() && (healed || t > self.cut_since_ns) {
            self.partitions.push(PartitionBand {
                from_ns: self.cut_since_ns,
                to_ns: t,
                cut: self.cut.clone(),
            });
        }
    }

    fn finish(mut self) -> Timeline {
        let end = self.end_ns;
        let open: Vec<u32> = self.open_bands.keys().copied().collect();
        for node in open {
            self.close_band(node, end);
        }
        self.close_partition(end, true);
        let leading: Vec<u32> = self.leading.keys().copied().collect();
        for node in leading {
            self.stop_leading(node, end);
        }
        self.node_bands.sort_by_key(|b| (b.from_ns, b.node));
        self.leaders.sort_by_key(|b| (b.from_ns, b.node));
        Timeline {
            nodes: self.nodes,
            end_ns: end,
            messages: self.messages,
            node_bands: self.node_bands,
            leaders: self.leaders,
            partitions: self.partitions,
            marks: self.marks,
            kinds: self.kinds,
            violations: self.violations,
            panics: self.panics,
            ops: self.ops,
        }
    }
}

fn number(field: Option<&str>) -> Option<u64> {
    let field = field?;
    trace::plain_digits(field, 19).or_else(|| field.parse().ok())
}

/// `n0>n1` as (0, 1).
fn parse_link(text: &str) -> Option<(u32, u32)> {
    let (a, b) = text.split_once('>')?;
    match (Lane::parse(a)?, Lane::parse(b)?) {
        (Lane::Node(a), Lane::Node(b)) => Some((a, b)),
        _ => None,
    }
}

fn first_word(payload: &str) -> &str {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    // ASCII byte by byte (every built-in payload); past a non-ASCII byte,
    // char by char.
    let ascii = payload
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
        .unwrap_or(payload.len());
    let end = match payload.as_bytes().get(ascii) {
        Some(b) if !b.is_ascii() => {
            ascii
                + payload[ascii..]
                    .find(|c: char| !word(c))
                    .unwrap_or(payload.len() - ascii)
        }
        _ => ascii,
    };
    &payload[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payloads_first_word_is_what_the_char_rule_gives() {
        let by_chars = |p: &str| {
            let end = p
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(p.len());
            p[..end].to_string()
        };
        for payload in [
            "Append t1",
            "get \"k\"",
            "",
            "x",
            "Vote{t:1}",
            "añadir x",
            "über",
            "a_b-c.d",
            "日本語 x",
            "a\u{301}b c",
            "é",
        ] {
            assert_eq!(first_word(payload), by_chars(payload), "{payload:?}");
        }
    }

    const TRACE: &str = "\
# simulate trace v1
0 0.000000000 start node=n0
0 0.000500000 role node=n0 role=leader
0 0.000500000 role node=n1 role=follower leads=false
0 0.000600000 role node=n1 role=primary leads=true
1 0.001000000 send from=n0 to=n1 msg=0 payload=Append { term: 1 }
2 0.002000000 dup from=n0 to=n1 msg=0 copy=1
3 0.003000000 deliver from=n0 to=n1 msg=0
4 0.004000000 send from=c0 to=n2 msg=2 payload=get k1
4 0.004000000 invoke client=c0 process=0 op=0 payload=get k1
4 0.004000000 invoke client=c1 process=1 op=1 payload=put k1 \"v1\"
4 0.005000000 complete client=c1 process=1 op=1 status=ok payload=Done
5 0.005000000 partition cut=n2>n0,n0>n2,n2>n1,n1>n2 payload=Partition(Isolate(Node(2)))
6 0.006000000 drop from=n0 to=n1 msg=1 reason=partition
7 0.007000000 crash node=n1
8 0.008000000 partition-one-way cut=n0>n1 payload=PartitionOneWay
9 0.009000000 heal links=n2>n0,n0>n2,n2>n1,n1>n2
10 0.010000000 restart node=n1
11 0.011000000 pause node=n0
12 0.012000000 clock-jump node=n2 by=-2s
13 0.013000000 violation invariant=ElectionSafety payload=two leaders
14 0.020000000 end
";

    /// Every line read by name, as before sends and deliveries were read
    /// by place.
    fn by_name_only(text: &str) -> Timeline {
        let kinds = FaultKinds::default();
        let mut reader = Reader {
            kinds: kinds.clone(),
            fault_events: kinds.events().collect(),
            ..Reader::default()
        };
        for line in trace::event_lines(text) {
            if let Ok(line) = trace::parse_line(line) {
                reader.read(&line);
            }
        }
        reader.finish()
    }

    #[test]
    fn sends_and_deliveries_read_by_place_give_the_same_timeline() {
        let mut text = TRACE.to_string();
        // Message ids past the test trace's, odd forms included.
        for (i, line) in [
            "send from=n2 to=n0 msg=10 payload=Vote { term: 3 }",
            "send from=n0 to=n2 msg=11",
            "deliver from=n2 to=n0 msg=10",
            "deliver from=n0 to=n2 msg=11 payload=",
            "send from=n1 to=n0 msg=+12 payload=x",
            "deliver from=n1 to=n0 msg=+12",
            "send from=n007 to=c0 msg=0013 payload=ok",
            "deliver from=n007 to=c0 msg=13",
            "send to=n0 from=n1 msg=14 payload=reordered",
            "deliver from=n1 to=n0 msg=14 extra=1",
        ]
        .iter()
        .enumerate()
        {
            text.push_str(&format!("{} 0.0{:02}000000 {line}\n", 20 + i, 21 + i));
        }
        let fast = Timeline::from_trace(&text);
        assert_eq!(fast, by_name_only(&text));
        assert_eq!(fast.messages.len(), 8, "{:?}", fast.messages);
    }

    #[test]
    fn reads_messages_with_their_fates() {
        let t = Timeline::from_trace(TRACE);
        assert_eq!(t.nodes, 3);
        assert_eq!(t.end_ns, 20_000_000);
        let fates: Vec<_> = t
            .messages
            .iter()
            .map(|m| (m.from, m.to, m.sent_ns, m.fate.clone()))
            .collect();
        assert_eq!(
            fates,
            [
                (
                    Lane::Node(0),
                    Lane::Node(1),
                    1_000_000,
                    Fate::Delivered { at_ns: 3_000_000 }
                ),
                (
                    Lane::Node(0),
                    Lane::Node(1),
                    2_000_000,
                    Fate::Dropped {
                        at_ns: 6_000_000,
                        reason: "partition".into()
                    }
                ),
                (Lane::Client(0), Lane::Node(2), 4_000_000, Fate::Lost),
            ]
        );
        let kinds: Vec<_> = t.messages.iter().map(|m| &*m.kind).collect();
        assert_eq!(kinds, ["Append", "Append", "get"]);
    }

    #[test]
    fn node_bands_run_from_the_fault_to_its_end_or_the_run_end() {
        let t = Timeline::from_trace(TRACE);
        assert_eq!(
            t.node_bands,
            [
                NodeBand {
                    node: 1,
                    fault: crate::fault::BUILT_IN[3],
                    from_ns: 7_000_000,
                    to_ns: 10_000_000
                },
                NodeBand {
                    node: 0,
                    fault: crate::fault::BUILT_IN[5],
                    from_ns: 11_000_000,
                    to_ns: 20_000_000
                },
            ]
        );
        let leaders: Vec<_> = t.leaders.iter().map(|l| (l.node, l.from_ns, l.to_ns)).collect();
        // n1 led until it crashed; n0 until the end.
        assert_eq!(leaders, [(0, 500_000, 20_000_000), (1, 600_000, 7_000_000)]);
        assert_eq!(t.node_bands[0].state_name(), "crashed");
        assert_eq!(t.node_bands[1].state_name(), "paused");
        assert_eq!(t.marks[0].node, Some(2));
        assert_eq!(t.marks[0].label, "clock -2s");
        assert_eq!(t.violations[0].label, "ElectionSafety");
    }

    #[test]
    fn a_crash_ends_a_pause_and_an_instant_partition_is_kept() {
        let trace = "\
0 1.000000000 pause node=n1
1 1.500000000 crash node=n1
2 1.600000000 partition cut=n0>n1 payload=p
2 1.600000000 partition cut=n1>n0 payload=p
3 1.600000000 heal links=n0>n1,n1>n0
4 2.000000000 restart node=n1
5 2.500000000 panic payload=boom
";
        let t = Timeline::from_trace(trace);
        let bands: Vec<_> = t
            .node_bands
            .iter()
            .map(|b| (b.state_name(), b.from_ns, b.to_ns))
            .collect();
        assert_eq!(
            bands,
            [
                ("paused", 1_000_000_000, 1_500_000_000),
                ("crashed", 1_500_000_000, 2_000_000_000)
            ]
        );
        let parts: Vec<_> = t.partitions.iter().map(|p| (p.from_ns, p.to_ns)).collect();
        assert_eq!(parts, [(1_600_000_000, 1_600_000_000)]);
        assert_eq!(t.panics[0].label, "boom");
    }

    #[test]
    fn ops_pair_invocations_with_completions() {
        let t = Timeline::from_trace(TRACE);
        let spans: Vec<_> = t.ops.iter().map(|o| (o.op, o.client, o.invoke_ns, o.done)).collect();
        assert_eq!(
            spans,
            [(0, 0, 4_000_000, None), (1, 1, 4_000_000, Some((5_000_000, OpEnd::Ok))),]
        );
    }

    #[test]
    fn partitions_follow_each_cut_and_heal_of_single_links() {
        let t = Timeline::from_trace(TRACE);
        let spans: Vec<_> = t
            .partitions
            .iter()
            .map(|p| (p.from_ns, p.to_ns, p.describe(3)))
            .collect();
        assert_eq!(
            spans,
            [
                (5_000_000, 8_000_000, "n2 | n0 n1".to_string()),
                (
                    8_000_000,
                    9_000_000,
                    "n0\u{219b}n1 n0\u{219b}n2 n1\u{219b}n2 n2\u{219b}n0 n2\u{219b}n1".to_string()
                ),
                (9_000_000, 20_000_000, "n0\u{219b}n1".to_string()),
            ]
        );
        let (bands, parts) = t.faults_in(8_500_000, 9_500_000);
        assert_eq!((bands.len(), parts.len()), (1, 2));
    }

    #[test]
    fn a_fault_kind_of_a_familys_own_is_drawn_as_its_definition_says() {
        let mut kinds = FaultKinds::default();
        kinds.add(FaultKind {
            event: "brownout",
            only_if: None,
            key: "brownout",
            label: "brownout",
            show: Show::Band {
                until: "brownout-end",
                color: (1, 2, 3),
                opacity_pct: 40,
                state: "browned out",
            },
        });
        let trace = "\
0 1.000000000 brownout node=n2
1 2.000000000 brownout-end node=n2
2 3.000000000 fsync-error node=n1 payload=EIO
";
        let t = Timeline::from_trace_with(trace, &kinds);
        let bands: Vec<_> = t
            .node_bands
            .iter()
            .map(|b| (b.node, b.state_name(), b.color(), b.to_ns))
            .collect();
        assert_eq!(bands, [(2, "browned out", ((1, 2, 3), 0.4), 2_000_000_000)]);
        assert_eq!(t.marks[0].label, "fsync failed EIO");
        assert!(
            Timeline::from_trace(trace).node_bands.is_empty(),
            "unknown without its definition"
        );
    }

    #[test]
    fn groups_only_when_the_cut_is_exactly_between_them() {
        let both = |pairs: &[(u32, u32)]| pairs.iter().flat_map(|&(a, b)| [(a, b), (b, a)]).collect();
        let majority: BTreeSet<_> = both(&[(0, 2), (0, 3), (0, 4), (1, 2), (1, 3), (1, 4)]);
        assert_eq!(groups(&majority, 5), Some(vec![vec![0, 1], vec![2, 3, 4]]));
        // A bridge: n2 reaches both sides, so there are no groups.
        let bridge: BTreeSet<_> = both(&[(0, 3), (0, 4), (1, 3), (1, 4)]);
        assert_eq!(groups(&bridge, 5), None);
    }
}
