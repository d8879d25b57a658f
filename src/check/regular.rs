//! Regular-register checks of a key-value history: `NoStaleReads` and
//! `NoLostWrites`. Weaker than linearizability, and cheap: a sort and a
//! binary search per read, never a search over orders.
//!
//! Both rest on one idea. With unique written values, the value a read
//! returns names the write that produced it (its *source*). A write W'
//! that began after the source completed (W'.call > S.ret) and itself
//! completed before the read began (W'.ret < R.call) is, in every
//! real-time order, between the source and the read: a store with
//! regular-register semantics (every linearizable one among them) cannot
//! return the source's value then.
//!
//! - `NoStaleReads`: every ok read returns the initial value or a value
//!   written by a write invoked before the read returned, and no completed
//!   write supersedes that write before the read began. O(n log n) per
//!   key: writes sorted by call, a suffix minimum of their returns, one
//!   binary search per read.
//! - `NoLostWrites`: at the end (reads that began after the heal and after
//!   the key's last write was invoked: the *final reads*), every
//!   acknowledged write is still there (its value is the read's, or among
//!   its siblings, or, for an append, inside it), or was replaced by an
//!   overwrite that had not completed before it began. A key with
//!   acknowledged writes and no final read is *not evaluated*: the verdict
//!   is then unknown, never pass.
//!
//! Operations, as [`RawOp`]s: `get`/`read` read; `put`/`write` write their
//! input; a cas `[from, to]` that answered true writes `to` (one that
//! answered false writes nothing; its comparison is not judged as a read);
//! `append` appends a string. An op that definitely failed is not in the
//! history; an indeterminate one (timed out) may be a read's source, but
//! never supersedes anything, since it may never have happened.
//!
//! Appends: a value built by appends is named by its last append (the
//! append whose string ends the value): `NoStaleReads` judges only that
//! one, so a value missing an append in its middle is `Linearizable`'s
//! business. `NoLostWrites` looks at every acknowledged append: its string
//! must appear in the final value unless an overwrite (the put or cas
//! whose value the final value starts with) replaced it.
//!
//! Siblings: a read whose output is a list that no write wrote is a set of
//! siblings (as a store with version vectors returns): it is fresh if one
//! sibling is, and a write survives if one sibling keeps it.
//!
//! Unique values: the check is exact when each key's written values (put
//! and cas values, appended strings) are distinct, as the key-value
//! workload's are. A value written twice is judged conservatively: the
//! read is taken to return whichever of its writes makes it freshest, so a
//! repeated value can hide a stale read but never invent one; the result
//! says how many values were repeated. What the checks cannot see: a read
//! that answers from the right write for the wrong reason, the order of
//! writes a read did not return, and anything between the final reads and
//! the end of the run.

use super::{CheckResult, ExposedBy, Verdict};
use crate::core::Value;
use crate::history::formats::native;
use crate::history::raw::{RawHistory, RawOp};
use crate::history::History;
use std::collections::{BTreeMap, BTreeSet};

/// What an operation is to these checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Read,
    /// Overwrites the key with this op's value.
    Put,
    Append,
    /// A cas that wrote nothing.
    NoWrite,
}

/// The functions these checks read, for messages.
pub const FUNCTIONS: &[&str] = &["get", "put", "append", "cas", "read", "write"];

/// Positions of events, and how to name them for people.
pub struct Clock<'a> {
    /// Time of each event position, for a run's history; `None` for a
    /// file, whose ops are named by line.
    pub times_ns: Option<&'a [u64]>,
}

impl Clock<'_> {
    fn at(&self, position: u64) -> String {
        match self.times_ns.and_then(|t| t.get(position as usize)) {
            Some(t) => format!("{:.6}s", *t as f64 / 1e9),
            None => format!("event {}", position + 1),
        }
    }

    /// `put k0 "v3" (process 2, called 1.000000s, ok 1.200000s)`.
    fn describe(&self, op: &RawOp) -> String {
        let what = match (op.f.as_str(), &op.output) {
            ("get" | "read", Some(v)) => format!("{} -> {v}", call_text(op)),
            ("cas", Some(v)) => format!("{} -> {v}", call_text(op)),
            _ => call_text(op),
        };
        let called = match self.times_ns {
            Some(_) => format!("called {}", self.at(op.call)),
            None => format!("line {}", op.line),
        };
        let ended = match op.ret {
            Some(r) => format!("returned {}", self.at(r)),
            None => "never returned".to_string(),
        };
        format!("{what} (process {}, {called}, {ended})", op.process)
    }
}

fn call_text(op: &RawOp) -> String {
    let key = op.key.as_ref().map(|k| format!(" {k}")).unwrap_or_default();
    match op.f.as_str() {
        "get" | "read" => format!("{}{key}", op.f),
        _ => format!("{}{key} {}", op.f, op.input),
    }
}

fn kind_of(op: &RawOp) -> Result<Kind, String> {
    let kind = match op.f.as_str() {
        "get" | "read" => Kind::Read,
        "put" | "write" => Kind::Put,
        "append" => match op.input {
            Value::Str(_) => Kind::Append,
            _ => {
                return Err(format!(
                    "line {}: an append of {}; expected a string",
                    op.line, op.input
                ))
            }
        },
        "cas" => match (&op.input, &op.output) {
            (Value::List(args), _) if args.len() == 2 => match &op.output {
                Some(Value::Bool(false)) => Kind::NoWrite,
                None | Some(Value::Bool(true)) => Kind::Put,
                Some(other) => {
                    return Err(format!(
                        "line {}: a cas answered {other}; expected true or false",
                        op.line
                    ))
                }
            },
            _ => return Err(format!("line {}: a cas of {}; expected [from, to]", op.line, op.input)),
        },
        f => {
            return Err(format!(
                "line {}: an operation {f}; these checks read {}",
                op.line,
                FUNCTIONS.join(", ")
            ))
        }
    };
    Ok(kind)
}

/// The value a write leaves (a cas's `to`), or the string it appends.
fn written(op: &RawOp) -> &Value {
    match (&op.input, op.f.as_str()) {
        (Value::List(args), "cas") => &args[1],
        (v, _) => v,
    }
}

/// When a source's write is known done: `None` for the initial value
/// (before everything), `u64::MAX` for a write that never returned.
type End = Option<u64>;

fn end_of(op: &RawOp) -> End {
    Some(op.ret.unwrap_or(u64::MAX))
}

/// Writes of one value, by call, with the latest end among the first i.
#[derive(Default)]
struct Candidates {
    calls: Vec<u64>,
    best: Vec<(u64, usize)>,
}

impl Candidates {
    fn build(mut ops: Vec<(u64, u64, usize)>) -> Self {
        ops.sort_unstable();
        let mut best: Vec<(u64, usize)> = Vec::with_capacity(ops.len());
        for &(_, end, op) in &ops {
            let next = match best.last() {
                Some(&b) if b.0 >= end => b,
                _ => (end, op),
            };
            best.push(next);
        }
        Candidates {
            calls: ops.iter().map(|o| o.0).collect(),
            best,
        }
    }

    /// The write invoked before `before` that ended latest, if any.
    fn freshest_before(&self, before: u64) -> Option<(u64, usize)> {
        let n = self.calls.partition_point(|&c| c < before);
        n.checked_sub(1).map(|i| self.best[i])
    }

    /// Whether any write wrote it, whenever invoked.
    fn any(&self) -> bool {
        !self.calls.is_empty()
    }
}

/// What a read's value resolves to.
enum Resolved {
    /// Its freshest possible source: the op, or the initial value (`None`).
    Source(End, Option<usize>),
    /// Only writes invoked after the read returned wrote it.
    Future,
    /// No write wrote it, and it is not the initial value.
    Nobody,
}

/// One key's operations, indexed.
struct KeyIndex {
    /// Ok writes that certainly took effect: (call, ret, op), by call.
    sure: Vec<(u64, u64, usize)>,
    /// Over `sure[i..]`: the earliest return and its op.
    earliest_ret_from: Vec<(u64, usize)>,
    by_value: BTreeMap<Value, Candidates>,
    by_tail: BTreeMap<String, Candidates>,
    tail_lengths: BTreeSet<usize>,
    put_lengths: BTreeSet<usize>,
    reads: Vec<usize>,
    /// Position of the last write's invocation.
    last_write_call: Option<u64>,
    repeated: usize,
}

impl KeyIndex {
    fn build(ops: &[RawOp], members: &[(usize, Kind)]) -> Self {
        let mut sure = Vec::new();
        let (mut values, mut tails): (BTreeMap<Value, Vec<_>>, BTreeMap<String, Vec<_>>) = Default::default();
        let mut reads = Vec::new();
        let mut last_write_call = None;
        for &(i, kind) in members {
            let op = &ops[i];
            if kind == Kind::Read {
                reads.push(i);
                continue;
            }
            if kind == Kind::NoWrite {
                continue;
            }
            last_write_call = last_write_call.max(Some(op.call));
            let entry = (op.call, end_of(op).expect("a write has an end"), i);
            // A cas with no known answer may not have written.
            let certain = op.ret.is_some() && !(op.f == "cas" && op.output.is_none());
            if certain {
                sure.push((op.call, op.ret.expect("certain"), i));
            }
            match (kind, written(op)) {
                (Kind::Append, Value::Str(s)) => tails.entry(s.clone()).or_default().push(entry),
                (_, v) => values.entry(v.clone()).or_default().push(entry),
            }
        }
        sure.sort_unstable();
        let mut earliest_ret_from = vec![(u64::MAX, usize::MAX); sure.len() + 1];
        for i in (0..sure.len()).rev() {
            let (_, ret, op) = sure[i];
            earliest_ret_from[i] = earliest_ret_from[i + 1].min((ret, op));
        }
        let repeated = values.values().chain(tails.values()).filter(|w| w.len() > 1).count();
        let tail_lengths = tails.keys().map(String::len).collect();
        let put_lengths = values
            .keys()
            .filter_map(|v| match v {
                Value::Str(s) => Some(s.len()),
                _ => None,
            })
            .collect();
        KeyIndex {
            sure,
            earliest_ret_from,
            by_value: values.into_iter().map(|(v, w)| (v, Candidates::build(w))).collect(),
            by_tail: tails.into_iter().map(|(t, w)| (t, Candidates::build(w))).collect(),
            tail_lengths,
            put_lengths,
            reads,
            last_write_call,
            repeated,
        }
    }

    /// The first certain write that began after `end` and returned before
    /// `before`: the one that returned earliest.
    fn superseding(&self, end: End, before: u64) -> Option<usize> {
        let from = match end {
            None => 0,
            Some(e) => self.sure.partition_point(|w| w.0 <= e),
        };
        let (ret, op) = self.earliest_ret_from[from];
        (ret < before).then_some(op)
    }

    /// The candidate groups for `v` as a last write: the writes of `v`,
    /// and the appends whose string ends it.
    fn last_writes<'s>(&'s self, v: &Value) -> Vec<&'s Candidates> {
        let mut groups: Vec<&Candidates> = self.by_value.get(v).into_iter().collect();
        if let Value::Str(s) = v {
            for &n in self.tail_lengths.range(..=s.len()) {
                let cut = s.len() - n;
                if let Some(c) = s.is_char_boundary(cut).then(|| self.by_tail.get(&s[cut..])).flatten() {
                    groups.push(c);
                }
            }
        }
        groups
    }

    /// The freshest write that could have left `v` for a read that
    /// returned at `read_ret`; for a sibling list, the freshest sibling's.
    fn resolve(&self, v: &Value, initial: &Value, read_ret: u64) -> Resolved {
        let groups = self.last_writes(v);
        let best = groups.iter().filter_map(|g| g.freshest_before(read_ret)).max();
        match (best, v == initial) {
            (Some((end, op)), _) => return Resolved::Source(Some(end), Some(op)),
            (None, true) => return Resolved::Source(None, None),
            _ => {}
        }
        if groups.iter().any(|g| g.any()) {
            return Resolved::Future;
        }
        match v {
            Value::List(items) if !items.is_empty() => {
                let mut freshest: Option<(End, Option<usize>)> = None;
                for item in items {
                    match self.resolve(item, initial, read_ret) {
                        Resolved::Source(end, op) => freshest = freshest.max(Some((end, op))),
                        other => return other,
                    }
                }
                let (end, op) = freshest.expect("a list with items");
                Resolved::Source(end, op)
            }
            _ => Resolved::Nobody,
        }
    }
}

/// Every key's operations, indexed.
struct Index {
    keys: BTreeMap<Option<Value>, KeyIndex>,
}

impl Index {
    fn build(raw: &RawHistory) -> Result<Self, String> {
        let mut members: BTreeMap<Option<Value>, Vec<(usize, Kind)>> = BTreeMap::new();
        for (i, op) in raw.ops.iter().enumerate() {
            members.entry(op.key.clone()).or_default().push((i, kind_of(op)?));
        }
        let keys = members
            .into_iter()
            .map(|(k, m)| (k, KeyIndex::build(&raw.ops, &m)))
            .collect();
        Ok(Index { keys })
    }

    fn repeated(&self) -> usize {
        self.keys.values().map(|k| k.repeated).sum()
    }
}

fn key_name(key: &Option<Value>) -> String {
    key.as_ref()
        .map_or_else(|| "the register".to_string(), |k| format!("key {k}"))
}

/// A verdict, what it says, and the op that showed a failure.
pub struct Judgment {
    /// Pass, unknown or fail.
    pub verdict: Verdict,
    /// For people.
    pub detail: String,
    /// The read that showed a failure, by index in the history's ops.
    pub exposed: Option<usize>,
}

fn repeated_note(n: usize) -> String {
    match n {
        0 => String::new(),
        n => format!(
            "; note: {n} value(s) were written more than once on one key, so reads of them were judged by their freshest write"
        ),
    }
}

/// Why a read was stale, or `None` if it was not.
fn stale(k: &KeyIndex, raw: &RawHistory, r: usize, initial: &Value, clock: &Clock) -> Option<String> {
    let read = &raw.ops[r];
    let (Some(v), Some(ret)) = (&read.output, read.ret) else {
        return None;
    };
    let why = match k.resolve(v, initial, ret) {
        Resolved::Source(end, source) => {
            let missed = k.superseding(end, read.call)?;
            let from = match source {
                Some(s) => format!("written by {}", clock.describe(&raw.ops[s])),
                None => "the initial value".to_string(),
            };
            format!(
                "it returned {v}, {from}; it missed {}, which began after that write completed and completed before the read began",
                clock.describe(&raw.ops[missed])
            )
        }
        Resolved::Future => format!("it returned {v}, which only writes invoked after the read returned wrote"),
        Resolved::Nobody => format!("it returned {v}, which no write wrote and is not the initial value"),
    };
    Some(why)
}

/// `NoStaleReads` over a parsed history (see the module doc): the
/// earliest stale read (by its return), or what held. An error names an
/// operation these checks cannot read.
pub fn stale_reads(raw: &RawHistory, initial: &Value, clock: &Clock) -> Result<Judgment, String> {
    let index = Index::build(raw)?;
    let (mut judged, mut stale_count) = (0usize, 0usize);
    let mut first: Option<(u64, usize, String)> = None;
    for (key, k) in &index.keys {
        for &r in &k.reads {
            let read = &raw.ops[r];
            let (Some(_), Some(ret)) = (&read.output, read.ret) else {
                continue;
            };
            judged += 1;
            let Some(why) = stale(k, raw, r, initial, clock) else {
                continue;
            };
            stale_count += 1;
            if first.as_ref().is_none_or(|f| ret < f.0) {
                let detail = format!("{}: {}: {why}", key_name(key), clock.describe(read));
                first = Some((ret, r, detail));
            }
        }
    }
    let note = repeated_note(index.repeated());
    Ok(match (first, judged) {
        (Some((_, r, detail)), _) => Judgment {
            verdict: Verdict::Fail,
            detail: format!("{stale_count} of {judged} reads were stale; the first: {detail}{note}"),
            exposed: Some(r),
        },
        (None, 0) => Judgment {
            verdict: Verdict::Unknown,
            detail: format!("no read completed with a value: nothing to judge{note}"),
            exposed: None,
        },
        (None, n) => Judgment {
            verdict: Verdict::Pass,
            detail: format!(
                "{n} reads over {} keys each returned a value no completed write had superseded before the read began{note}",
                index.keys.len()
            ),
            exposed: None,
        },
    })
}

/// How a final read's value keeps writes: its overwrite's end, and the
/// value itself, per sibling.
fn kept_by(k: &KeyIndex, v: &Value, read_ret: u64) -> Vec<(End, Value)> {
    let overwrite = |s: &Value| -> End {
        let mut groups: Vec<&Candidates> = k.by_value.get(s).into_iter().collect();
        if let Value::Str(text) = s {
            for &n in k.put_lengths.range(..text.len()) {
                if let Some(c) = text
                    .is_char_boundary(n)
                    .then(|| k.by_value.get(&Value::from(&text[..n])))
                {
                    groups.extend(c);
                }
            }
        }
        groups
            .iter()
            .filter_map(|g| g.freshest_before(read_ret))
            .max()
            .map(|b| b.0)
    };
    match v {
        Value::List(items) if !k.by_value.contains_key(v) && !items.is_empty() => {
            items.iter().map(|i| (overwrite(i), i.clone())).collect()
        }
        _ => vec![(overwrite(v), v.clone())],
    }
}

/// Whether `value` shows write `w`: it is w's value, starts with it
/// (appends since), or holds w's appended string.
fn shows(value: &Value, w: &RawOp, kind: Kind) -> bool {
    let wrote = written(w);
    match (value, wrote) {
        _ if value == wrote => true,
        (Value::Str(v), Value::Str(s)) if kind == Kind::Append => v.contains(s.as_str()),
        (Value::Str(v), Value::Str(s)) => v.starts_with(s.as_str()),
        _ => false,
    }
}

/// `NoLostWrites` over a parsed history (see the module doc): final reads
/// are those that began after position `after` (`None`: any) and after
/// the key's last write was invoked.
pub fn lost_writes(raw: &RawHistory, after: Option<u64>, clock: &Clock) -> Result<Judgment, String> {
    let index = Index::build(raw)?;
    let (mut unseen, mut lost, mut acknowledged) = (Vec::new(), Vec::new(), 0usize);
    let mut exposed = None;
    for (key, k) in &index.keys {
        acknowledged += k.sure.len();
        let settled = k.last_write_call.max(after);
        let finals: Vec<usize> = k
            .reads
            .iter()
            .copied()
            .filter(|&r| raw.ops[r].ret.is_some() && raw.ops[r].output.is_some())
            .filter(|&r| settled.is_none_or(|s| raw.ops[r].call > s))
            .collect();
        if finals.is_empty() {
            if !k.sure.is_empty() {
                unseen.push(key_name(key));
            }
            continue;
        }
        for &r in &finals {
            let read = &raw.ops[r];
            let value = read.output.as_ref().expect("filtered");
            let keeps = kept_by(k, value, read.ret.expect("filtered"));
            let gone: Vec<usize> = k
                .sure
                .iter()
                .filter(|w| w.1 < read.call)
                .filter(|w| {
                    let (op, kind) = (&raw.ops[w.2], kind_of(&raw.ops[w.2]).expect("indexed"));
                    keeps
                        .iter()
                        .all(|(end, v)| end.is_none_or(|e| e < w.0) && !shows(v, op, kind))
                })
                .map(|w| w.2)
                .collect();
            let Some(&first) = gone.first() else {
                continue;
            };
            lost.push(format!(
                "{}: {} acknowledged write(s) lost, first {}; the final read {} shows no trace of it, and its value's overwrite completed before that write began",
                key_name(key),
                gone.len(),
                clock.describe(&raw.ops[first]),
                clock.describe(read)
            ));
            exposed = exposed.or(Some(r));
            break;
        }
    }
    let note = repeated_note(index.repeated());
    let judgment = if !lost.is_empty() {
        Judgment {
            verdict: Verdict::Fail,
            detail: format!("{}{note}", lost.join("; ")),
            exposed,
        }
    } else if !unseen.is_empty() {
        Judgment {
            verdict: Verdict::Unknown,
            detail: format!(
                "not evaluated for {}: acknowledged writes but no final read (one that began after the key's last write, and after the final reads began; the workload's final_reads makes them){note}",
                unseen.join(", ")
            ),
            exposed: None,
        }
    } else if acknowledged == 0 {
        Judgment {
            verdict: Verdict::Unknown,
            detail: "no write was acknowledged: nothing could be lost".into(),
            exposed: None,
        }
    } else {
        Judgment {
            verdict: Verdict::Pass,
            detail: format!(
                "the final reads of {} keys keep all {acknowledged} acknowledged writes, or an overwrite that had not completed before each began{note}",
                index.keys.len()
            ),
            exposed: None,
        }
    };
    Ok(judgment)
}

/// Which of the two checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// `NoStaleReads`.
    StaleReads,
    /// `NoLostWrites`.
    LostWrites,
}

impl Which {
    /// As scenarios and results name it.
    pub fn name(self) -> &'static str {
        match self {
            Which::StaleReads => "NoStaleReads",
            Which::LostWrites => "NoLostWrites",
        }
    }
}

/// A run's history judged by `which`; keys start absent (nil). For
/// `NoLostWrites`, `finals_ns` is when the final reads began (`None`: the
/// run ended before the recovery phase).
pub fn judge_run(which: Which, history: &History, finals_ns: Option<u64>) -> CheckResult {
    let name = which.name();
    let raw = match native::from_history(history) {
        Ok(raw) => raw,
        Err(e) => panic!(
            "a recorded history is always well formed: event {}: {}",
            e.line, e.message
        ),
    };
    let times: Vec<u64> = history.events.iter().map(|e| e.time_ns).collect();
    let clock = Clock { times_ns: Some(&times) };
    let judged = match which {
        Which::StaleReads => stale_reads(&raw, &Value::Nil, &clock),
        Which::LostWrites => {
            let Some(finals) = finals_ns else {
                return CheckResult::new(name, Verdict::Unknown, "the run ended before the recovery phase began");
            };
            let before = times.partition_point(|&t| t < finals) as u64;
            lost_writes(&raw, before.checked_sub(1), &clock).map(|mut j| {
                j.detail = format!("final reads from {:.6}s: {}", finals as f64 / 1e9, j.detail);
                j
            })
        }
    };
    let j = match judged {
        Ok(j) => j,
        Err(why) => {
            let detail = format!("cannot read this service's operations: history {why}");
            return CheckResult::new(name, Verdict::Unknown, detail);
        }
    };
    let mut result = CheckResult::new(name, j.verdict, j.detail);
    if let Some(op) = j.exposed.map(|i| &raw.ops[i]) {
        let invoke = &history.events[op.call as usize];
        result.exposed_by = Some(ExposedBy {
            client: invoke.client,
            process: invoke.process,
            op: invoke.op,
        });
        result.at_ns = op.ret.map(|r| times[r as usize]);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An op on key "k" from `call` to `ret` (event positions).
    fn op(f: &str, input: Value, output: Option<Value>, call: u64, ret: Option<u64>) -> RawOp {
        RawOp {
            process: call,
            f: f.into(),
            key: Some(Value::from("k")),
            input,
            output,
            call,
            ret,
            line: call as usize + 1,
        }
    }

    fn put(v: &str, call: u64, ret: u64) -> RawOp {
        op("put", Value::from(v), Some(Value::Nil), call, Some(ret))
    }

    fn append(v: &str, call: u64, ret: u64) -> RawOp {
        op("append", Value::from(v), Some(Value::Nil), call, Some(ret))
    }

    fn get(v: Value, call: u64, ret: u64) -> RawOp {
        op("get", Value::Nil, Some(v), call, Some(ret))
    }

    fn cas(from: &str, to: &str, ok: bool, call: u64, ret: u64) -> RawOp {
        let args = Value::List(vec![Value::from(from), Value::from(to)]);
        op("cas", args, Some(Value::Bool(ok)), call, Some(ret))
    }

    fn history(mut ops: Vec<RawOp>) -> RawHistory {
        ops.sort_by_key(|o| o.call);
        RawHistory { ops, failed: 0 }
    }

    const NO_TIMES: Clock<'static> = Clock { times_ns: None };

    fn stale(ops: Vec<RawOp>) -> Judgment {
        stale_reads(&history(ops), &Value::Nil, &NO_TIMES).unwrap()
    }

    fn lost(ops: Vec<RawOp>) -> Judgment {
        lost_writes(&history(ops), None, &NO_TIMES).unwrap()
    }

    #[test]
    fn a_read_that_misses_a_completed_newer_write_is_stale() {
        let j = stale(vec![put("v1", 0, 1), put("v2", 2, 3), get(Value::from("v1"), 4, 5)]);
        assert_eq!(j.verdict, Verdict::Fail, "{}", j.detail);
        assert_eq!(
            j.detail,
            "1 of 1 reads were stale; the first: key \"k\": get \"k\" -> \"v1\" (process 4, line 5, returned event 6): \
             it returned \"v1\", written by put \"k\" \"v1\" (process 0, line 1, returned event 2); \
             it missed put \"k\" \"v2\" (process 2, line 3, returned event 4), which began after that write completed and completed before the read began"
        );
        assert_eq!(j.exposed, Some(2));
        // The fixed twin: the newer write is still going when the read begins.
        let j = stale(vec![put("v1", 0, 1), put("v2", 2, 5), get(Value::from("v1"), 3, 4)]);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.detail);
    }

    #[test]
    fn a_new_old_inversion_is_regular_though_not_linearizable() {
        let j = stale(vec![
            put("v1", 0, 1),
            put("v2", 2, 9),
            get(Value::from("v2"), 3, 4),
            get(Value::from("v1"), 5, 6),
        ]);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.detail);
    }

    #[test]
    fn the_initial_value_is_stale_once_a_write_completed() {
        let j = stale(vec![put("v1", 0, 1), get(Value::Nil, 2, 3)]);
        assert_eq!(j.verdict, Verdict::Fail);
        assert!(
            j.detail.contains("it returned nil, the initial value; it missed put"),
            "{}",
            j.detail
        );
        let j = stale(vec![put("v1", 0, 3), get(Value::Nil, 1, 2)]);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.detail);
    }

    #[test]
    fn values_from_the_future_or_from_nobody_fail() {
        let j = stale(vec![get(Value::from("v9"), 0, 1), put("v9", 2, 3)]);
        assert!(
            j.detail
                .contains("which only writes invoked after the read returned wrote"),
            "{}",
            j.detail
        );
        let j = stale(vec![put("v1", 0, 1), get(Value::from("zz"), 2, 3)]);
        assert!(
            j.detail.contains("which no write wrote and is not the initial value"),
            "{}",
            j.detail
        );
        assert_eq!(j.verdict, Verdict::Fail);
    }

    #[test]
    fn indeterminate_writes_may_be_sources_but_never_supersede() {
        let open = op("put", Value::from("v2"), None, 2, None);
        let j = stale(vec![
            put("v1", 0, 1),
            open.clone(),
            get(Value::from("v1"), 4, 5),
            put("v3", 6, 7),
            get(Value::from("v2"), 8, 9),
        ]);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.detail);
        // Completed, the same write does supersede.
        let j = stale(vec![put("v1", 0, 1), put("v2", 2, 3), get(Value::from("v1"), 4, 5)]);
        assert_eq!(j.verdict, Verdict::Fail);
    }

    #[test]
    fn a_successful_cas_writes_and_a_failed_one_does_not() {
        let failed = stale(vec![
            put("v1", 0, 1),
            cas("v0", "v2", false, 2, 3),
            get(Value::from("v1"), 4, 5),
        ]);
        assert_eq!(failed.verdict, Verdict::Pass, "{}", failed.detail);
        let done = stale(vec![
            put("v1", 0, 1),
            cas("v1", "v2", true, 2, 3),
            get(Value::from("v1"), 4, 5),
        ]);
        assert_eq!(done.verdict, Verdict::Fail, "{}", done.detail);
        assert!(
            done.detail.contains("it missed cas \"k\" [\"v1\" \"v2\"] -> true"),
            "{}",
            done.detail
        );
    }

    #[test]
    fn a_value_built_by_appends_is_named_by_its_last_append() {
        let ops = |read: &str| vec![append("a;", 0, 1), append("b;", 2, 3), get(Value::from(read), 4, 5)];
        assert_eq!(stale(ops("a;")).verdict, Verdict::Fail);
        assert_eq!(stale(ops("a;b;")).verdict, Verdict::Pass);
        let onto_put = vec![put("x", 0, 1), append("a;", 2, 3), get(Value::from("xa;"), 4, 5)];
        assert_eq!(stale(onto_put).verdict, Verdict::Pass);
    }

    #[test]
    fn a_repeated_value_is_judged_by_its_freshest_write_and_said() {
        let j = stale(vec![
            put("x", 0, 1),
            put("y", 2, 3),
            put("x", 4, 9),
            get(Value::from("x"), 5, 6),
        ]);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.detail);
        assert!(
            j.detail.contains("note: 1 value(s) were written more than once"),
            "{}",
            j.detail
        );
    }

    #[test]
    fn siblings_are_fresh_if_one_is() {
        let siblings = |vs: &[&str]| Value::List(vs.iter().map(|v| Value::from(*v)).collect());
        let writes = || vec![put("v1", 0, 1), put("v2", 2, 3)];
        let mut fresh = writes();
        fresh.push(get(siblings(&["v1", "v2"]), 4, 5));
        assert_eq!(stale(fresh).verdict, Verdict::Pass);
        let mut old = writes();
        old.push(get(siblings(&["v1", "v0"]), 4, 5));
        assert_eq!(stale(old).verdict, Verdict::Fail, "v0 was never written");
    }

    #[test]
    fn operations_of_other_services_are_refused() {
        let mut lock = put("v1", 0, 1);
        lock.f = "acquire".into();
        let e = stale_reads(&history(vec![lock]), &Value::Nil, &NO_TIMES).err().unwrap();
        assert_eq!(
            e,
            "line 1: an operation acquire; these checks read get, put, append, cas, read, write"
        );
        assert_eq!(
            stale(vec![put("v1", 0, 1)]).verdict,
            Verdict::Unknown,
            "no read: nothing to judge"
        );
    }

    #[test]
    fn a_final_read_that_lost_an_acknowledged_write_fails() {
        let j = lost(vec![put("v1", 0, 1), put("v2", 2, 3), get(Value::from("v1"), 10, 11)]);
        assert_eq!(j.verdict, Verdict::Fail, "{}", j.detail);
        assert!(
            j.detail
                .starts_with("key \"k\": 1 acknowledged write(s) lost, first put \"k\" \"v2\" (process 2"),
            "{}",
            j.detail
        );
        assert!(
            j.detail.contains("the final read get \"k\" -> \"v1\" (process 10"),
            "{}",
            j.detail
        );
        let j = lost(vec![put("v1", 0, 1), put("v2", 2, 3), get(Value::from("v2"), 10, 11)]);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.detail);
        assert!(j.detail.contains("keep all 2 acknowledged writes"), "{}", j.detail);
    }

    #[test]
    fn a_write_replaced_by_a_concurrent_one_is_not_lost() {
        let j = lost(vec![put("v1", 0, 5), put("v2", 1, 3), get(Value::from("v1"), 10, 11)]);
        assert_eq!(j.verdict, Verdict::Pass, "{}", j.detail);
    }

    #[test]
    fn every_acknowledged_append_must_be_in_the_final_value() {
        let ops = |read: &str| vec![append("a;", 0, 1), append("b;", 2, 3), get(Value::from(read), 10, 11)];
        let j = lost(ops("b;"));
        assert_eq!(j.verdict, Verdict::Fail, "{}", j.detail);
        assert!(j.detail.contains("first append \"k\" \"a;\""), "{}", j.detail);
        assert_eq!(lost(ops("a;b;")).verdict, Verdict::Pass);
        // A later put replaced the append: nothing lost.
        let replaced = vec![
            put("x", 0, 1),
            append("a;", 2, 3),
            put("y", 4, 5),
            get(Value::from("y"), 10, 11),
        ];
        assert_eq!(lost(replaced).verdict, Verdict::Pass);
    }

    #[test]
    fn a_key_with_no_final_read_is_not_evaluated() {
        let mut other = put("w1", 0, 1);
        other.key = Some(Value::from("k1"));
        let j = lost(vec![put("v1", 0, 1), other, get(Value::from("v1"), 10, 11)]);
        assert_eq!(j.verdict, Verdict::Unknown, "{}", j.detail);
        assert!(j.detail.starts_with("not evaluated for key \"k1\""), "{}", j.detail);
        // A read before the key's last write is not a final read.
        let j = lost(vec![put("v1", 0, 1), get(Value::from("v1"), 2, 3), put("v2", 4, 5)]);
        assert_eq!(j.verdict, Verdict::Unknown, "{}", j.detail);
    }

    #[test]
    fn final_reads_begin_where_they_are_told() {
        let ops = vec![
            put("v1", 0, 1),
            put("v2", 2, 3),
            get(Value::from("v1"), 4, 5),
            get(Value::from("v2"), 6, 7),
        ];
        assert_eq!(
            lost(ops.clone()).verdict,
            Verdict::Fail,
            "the read at 4 is a final read"
        );
        let j = lost_writes(&history(ops), Some(5), &NO_TIMES).unwrap();
        assert_eq!(j.verdict, Verdict::Pass, "only the read at 6 is: {}", j.detail);
    }
}
