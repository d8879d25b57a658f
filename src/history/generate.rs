//! Hard histories for the linearizability checker, made up from a seed.
//!
//! A [`Shape`] names a history: its class (a key-value store in
//! `porcupine-kv` format, or one etcd compare-and-set register in
//! `jepsen-etcd-log` format), how many operations, clients and keys, a
//! seed, and whether it is the linearizable original ("ok") or its twin
//! with one corrupted result ("bad"). [`Shape::text`] writes the file;
//! the same shape gives the same bytes on every machine and build (a
//! ChaCha8 stream, integer times, `libm`'s logarithm), so a benchmark
//! over [`hard_corpus`] measures the same work everywhere.
//!
//! **Ok by construction.** Each client runs one operation at a time:
//! exponential latencies (one operation in twenty is twenty times slower)
//! and exponential think times between its operations. Every call and
//! return gets its own position in the file (real-time order). Each
//! operation then gets a linearization point strictly between its call's
//! and its return's positions, and the outputs are those of one
//! sequential object that applies the operations in the order of their
//! points. That order is a witness: it respects real time (an operation
//! that returned before another was called has an earlier point) and every
//! output is what the object returned. An indeterminate etcd write or cas
//! takes effect at its point or, at random, never; the format lets the
//! checker assume either.
//!
//! **Bad by one result.** See [`Shape::text`] for which result and why no
//! order can explain it.

use crate::history::formats::Format;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;

/// Mean latency of an operation, in ticks (a tick is an arbitrary unit:
/// only the order of events is written).
const LATENCY_MEAN: f64 = 1_000.0;
/// Share of operations that are slow: they overlap many others, which is
/// what makes a history expensive to search.
const SLOW_SHARE: f64 = 0.05;
/// How much slower a slow operation is.
const SLOW_FACTOR: u64 = 20;
/// Mean time a client waits between its operations, in ticks.
const THINK_MEAN: f64 = 1_000.0;
/// Share of etcd operations whose outcome the client never learns.
const INDETERMINATE_SHARE: f64 = 0.02;
/// etcd values are 0..ETCD_VALUES, few enough that cas succeeds and fails
/// often (Jepsen's etcd tests use 0..4 too).
const ETCD_VALUES: u8 = 5;
/// The RNG stream that picks linearization points and which indeterminate
/// operations take effect (stream 0 makes the schedule).
const POINT_STREAM: u64 = 2;
/// The RNG stream that picks the corruption, apart from those that make
/// the history, so that an ok history and its bad twin differ in one line.
const CORRUPTION_STREAM: u64 = 1;

/// What kind of object a history is of, and so its file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// A key-value store (get, put, append; keys "0".."K-1", starting at
    /// ""), written as `porcupine-kv`; checked with the `kv` model.
    Kv,
    /// One register (read, write, cas; values 0..4, starting absent),
    /// written as `jepsen-etcd-log`; checked with the `cas-register`
    /// model.
    Etcd,
}

impl Class {
    /// The class's name, as file names start.
    pub fn name(self) -> &'static str {
        match self {
            Class::Kv => "kv",
            Class::Etcd => "etcd",
        }
    }

    /// The format its histories are written in.
    pub fn format(self) -> Format {
        match self {
            Class::Kv => Format::PorcupineKv,
            Class::Etcd => Format::JepsenEtcdLog,
        }
    }
}

/// The parameters of one generated history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// Key-value store or etcd register.
    pub class: Class,
    /// Operations in the history (invoked; all complete in kv, about 2%
    /// are indeterminate in etcd).
    pub ops: usize,
    /// Clients running at once, each one operation at a time.
    pub clients: usize,
    /// Keys of a kv history; an etcd history has one register whatever
    /// this says.
    pub keys: usize,
    /// Seeds the history; the corpus uses 0.
    pub seed: u64,
    /// Whether one result is corrupted so that no linearization exists.
    pub bad: bool,
}

impl Shape {
    /// A linearizable kv history of `ops` operations by `clients` clients
    /// over `keys` keys, seed 0.
    pub fn kv(ops: usize, clients: usize, keys: usize) -> Shape {
        Shape {
            class: Class::Kv,
            ops,
            clients,
            keys,
            seed: 0,
            bad: false,
        }
    }

    /// A linearizable etcd register history of `ops` operations by
    /// `clients` clients, seed 0.
    pub fn etcd(ops: usize, clients: usize) -> Shape {
        Shape {
            class: Class::Etcd,
            ops,
            clients,
            keys: 1,
            seed: 0,
            bad: false,
        }
    }

    /// The same history with one result corrupted.
    pub fn corrupted(self) -> Shape {
        Shape { bad: true, ..self }
    }

    /// A file name that says the shape, e.g. `kv-10000-c10-k4-ok.txt`,
    /// `etcd-200-c20-bad.log`; a seed other than 0 shows as `-s7`. The
    /// extension is the one `simulate check` reads the format from.
    pub fn file_name(&self) -> String {
        let verdict = if self.bad { "bad" } else { "ok" };
        let seed = if self.seed == 0 {
            String::new()
        } else {
            format!("-s{}", self.seed)
        };
        match self.class {
            Class::Kv => format!("kv-{}-c{}-k{}{seed}-{verdict}.txt", self.ops, self.clients, self.keys),
            Class::Etcd => format!("etcd-{}-c{}{seed}-{verdict}.log", self.ops, self.clients),
        }
    }

    /// The verdict a correct checker must reach, as `simulate check`
    /// prints it.
    pub fn expected_verdict(&self) -> &'static str {
        if self.bad {
            "not-linearizable"
        } else {
            "linearizable"
        }
    }

    /// The history as the text of a file in its class's format.
    ///
    /// A bad history is the ok one with one completed read's result
    /// replaced, at an operation called in the second half of the history
    /// (between half and three quarters of the way, or the nearest read
    /// after), so a checker has to get through much of the history before
    /// it can fail:
    ///
    /// - kv: a get returns what it would have read followed by the token
    ///   `x C i y`, where C, the number of clients, is no client's id.
    ///   Every state a key can reach is "" or a concatenation of put and
    ///   append arguments, each one token `x c i y` with c < C; a string
    ///   of such tokens splits into them in only one way (each token
    ///   starts with the only `x` in it), so no state holds that token and
    ///   the get is legal at no point of any order.
    /// - etcd: a read returns 5. The register starts absent and only ever
    ///   holds a value some write or successful cas set, all in 0..4, so
    ///   the read is legal at no point of any order.
    ///
    /// Panics if a bad shape's history has no completed read to corrupt,
    /// which takes a history of a handful of operations.
    pub fn text(&self) -> String {
        let mut ops = schedule(self);
        apply_in_point_order(self, &mut ops);
        if self.bad {
            corrupt_one_read(self, &mut ops);
        }
        write_text(self, &ops)
    }
}

/// The hard corpus the check benchmark runs: each shape ok and bad, ok
/// first. Kv histories of 1k to 100k operations with 10 to 50 clients over
/// 4 to 10 keys, etcd histories of 200 to 5k operations with 5 to 20
/// clients: 18 files, about 37 MB, all made in well under a second.
pub fn hard_corpus() -> Vec<Shape> {
    let shapes = [
        Shape::kv(1_000, 10, 4),
        Shape::kv(1_000, 50, 4),
        Shape::kv(10_000, 10, 4),
        Shape::kv(10_000, 50, 8),
        Shape::kv(100_000, 50, 10),
        Shape::etcd(200, 20),
        Shape::etcd(1_000, 10),
        Shape::etcd(2_000, 5),
        Shape::etcd(5_000, 10),
    ];
    shapes.into_iter().flat_map(|s| [s, s.corrupted()]).collect()
}

/// What an operation asks.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Action {
    Get,
    Put(String),
    Append(String),
    Read,
    Write(u8),
    Cas(u8, u8),
}

/// What an operation's completion says.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Output {
    /// Not computed yet.
    Pending,
    /// A put, append or write that completed.
    Done,
    /// What a get read.
    Got(String),
    /// What a read read; `None` is absent.
    Read(Option<u8>),
    /// Whether a cas took effect (`:ok` or `:fail`).
    Swapped(bool),
    /// Timed out: the client never learnt the outcome.
    TimedOut,
}

/// One generated operation.
#[derive(Clone, Debug)]
struct Op {
    /// The Jepsen process that ran it: the client's id, plus the number of
    /// clients for each earlier crash of that client.
    process: usize,
    key: usize,
    action: Action,
    /// Positions of its call and its return among all events.
    call: usize,
    ret: usize,
    /// Timed out (etcd only).
    indeterminate: bool,
    output: Output,
}

/// An exponential duration of mean `mean` ticks, at least one tick.
fn exponential(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    let u: f64 = rng.gen();
    // libm, not f64::ln: the platform's log may round differently.
    let ticks = -libm::log(1.0 - u) * mean;
    (ticks as u64).max(1)
}

/// The operations, in call order, with their actions, processes and the
/// positions of their calls and returns; outputs are still pending.
fn schedule(shape: &Shape) -> Vec<Op> {
    let clients = shape.clients.max(1);
    let keys = shape.keys.max(1);
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    // Per client: when it next calls, its process id, its ops so far.
    let mut next_call: Vec<u64> = (0..clients).map(|_| exponential(&mut rng, THINK_MEAN)).collect();
    let mut process: Vec<usize> = (0..clients).collect();
    let mut count = vec![0usize; clients];
    let mut ops = Vec::with_capacity(shape.ops);
    // (time, client, is return, op): times of one client strictly grow,
    // so (time, client) orders all events, the same way everywhere.
    let mut events: Vec<(u64, usize, bool, usize)> = Vec::with_capacity(2 * shape.ops);
    for id in 0..shape.ops {
        let client = (0..clients)
            .min_by_key(|&c| (next_call[c], c))
            .expect("one client at least");
        let call = next_call[client];
        let mut latency = exponential(&mut rng, LATENCY_MEAN);
        if rng.gen_bool(SLOW_SHARE) {
            latency *= SLOW_FACTOR;
        }
        let ret = call + latency;
        next_call[client] = ret + exponential(&mut rng, THINK_MEAN);
        let token = || format!("x {client} {} y", count[client]);
        let (key, action, indeterminate) = match shape.class {
            Class::Kv => {
                let key = rng.gen_range(0..keys);
                // 45% get, 10% put, 45% append: puts often enough that a
                // value is a few tokens long on average, as in the 6.824
                // logs Porcupine ships (about 160 bytes an operation).
                let action = match rng.gen_range(0..20) {
                    0..=8 => Action::Get,
                    9..=10 => Action::Put(token()),
                    _ => Action::Append(token()),
                };
                (key, action, false)
            }
            Class::Etcd => {
                let action = match rng.gen_range(0..3) {
                    0 => Action::Read,
                    1 => Action::Write(rng.gen_range(0..ETCD_VALUES)),
                    _ => Action::Cas(rng.gen_range(0..ETCD_VALUES), rng.gen_range(0..ETCD_VALUES)),
                };
                (0, action, rng.gen_bool(INDETERMINATE_SHARE))
            }
        };
        ops.push(Op {
            process: process[client],
            key,
            action,
            call: 0,
            ret: 0,
            indeterminate,
            output: Output::Pending,
        });
        // A write or cas that timed out may still be in flight, so Jepsen
        // continues the client as a new process; a timed-out read is a
        // `:fail` and the process goes on.
        if indeterminate && ops[id].action != Action::Read {
            process[client] += clients;
        }
        count[client] += 1;
        events.push((call, client, false, id));
        events.push((ret, client, true, id));
    }
    events.sort_unstable_by_key(|&(time, client, _, _)| (time, client));
    for (position, &(_, _, is_return, id)) in events.iter().enumerate() {
        if is_return {
            ops[id].ret = position;
        } else {
            ops[id].call = position;
        }
    }
    ops
}

/// Fills in every output: gives each operation a linearization point
/// between its call and its return and runs the operations, in the order
/// of their points, on one sequential object.
fn apply_in_point_order(shape: &Shape, ops: &mut [Op]) {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    rng.set_stream(POINT_STREAM);
    // A point is a gap between two events (after event `gap`), then a
    // random rank among the operations in the same gap: all of those are
    // open across it, so any order among them respects real time.
    let mut order: Vec<(usize, u32, usize)> = ops
        .iter()
        .enumerate()
        .map(|(id, op)| (rng.gen_range(op.call..op.ret), rng.gen(), id))
        .collect();
    order.sort_unstable();
    let mut strings = vec![String::new(); shape.keys.max(1)];
    let mut register: Option<u8> = None;
    for (_, _, id) in order {
        let op = &mut ops[id];
        // An indeterminate op takes effect at its point or never.
        let takes_effect = !op.indeterminate || rng.gen_bool(0.5);
        let output = match &op.action {
            Action::Get => Output::Got(strings[op.key].clone()),
            Action::Put(v) => {
                strings[op.key].clone_from(v);
                Output::Done
            }
            Action::Append(v) => {
                strings[op.key].push_str(v);
                Output::Done
            }
            Action::Read => Output::Read(register),
            Action::Write(v) => {
                if takes_effect {
                    register = Some(*v);
                }
                Output::Done
            }
            &Action::Cas(from, to) => {
                let swapped = register == Some(from);
                if swapped && takes_effect {
                    register = Some(to);
                }
                Output::Swapped(swapped)
            }
        };
        op.output = if op.indeterminate { Output::TimedOut } else { output };
    }
}

/// Replaces the result of one completed read in the second half of the
/// history with one no order can explain (see [`Shape::text`]).
fn corrupt_one_read(shape: &Shape, ops: &mut [Op]) {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    rng.set_stream(CORRUPTION_STREAM);
    let n = ops.len();
    let from = rng.gen_range(n / 2..=(3 * n / 4).max(n / 2));
    let readable = |op: &Op| matches!(op.output, Output::Got(_) | Output::Read(_));
    let target = (from..n)
        .find(|&i| readable(&ops[i]))
        .or_else(|| (0..from).rev().find(|&i| readable(&ops[i])))
        .unwrap_or_else(|| panic!("{}: no completed read to corrupt", shape.file_name()));
    ops[target].output = match &ops[target].output {
        Output::Got(v) => Output::Got(format!("{v}x {} {} y", shape.clients, rng.gen_range(0..1000))),
        _ => Output::Read(Some(ETCD_VALUES)),
    };
}

/// The events in position order, as lines of the shape's format.
fn write_text(shape: &Shape, ops: &[Op]) -> String {
    let mut lines: Vec<(usize, bool, usize)> = Vec::with_capacity(2 * ops.len());
    for (id, op) in ops.iter().enumerate() {
        lines.push((op.call, false, id));
        lines.push((op.ret, true, id));
    }
    lines.sort_unstable();
    let mut text = String::with_capacity(ops.len() * 150);
    for (_, is_return, id) in lines {
        let op = &ops[id];
        match shape.class {
            Class::Kv => write_kv_line(&mut text, op, is_return),
            Class::Etcd => write_etcd_line(&mut text, op, is_return),
        }
    }
    text
}

/// `{:process 1, :type :invoke, :f :get, :key "9", :value nil}`: Porcupine's
/// `parseKvLog` grammar.
fn write_kv_line(text: &mut String, op: &Op, is_return: bool) {
    let (f, value) = match (&op.action, &op.output, is_return) {
        (Action::Get, _, false) => ("get", None),
        (Action::Get, Output::Got(v), true) => ("get", Some(v.as_str())),
        (Action::Put(v), _, _) => ("put", Some(v.as_str())),
        (Action::Append(v), _, _) => ("append", Some(v.as_str())),
        (action, output, _) => unreachable!("kv history with {action:?} -> {output:?}"),
    };
    let kind = if is_return { "ok" } else { "invoke" };
    let _ = write!(
        text,
        "{{:process {}, :type :{kind}, :f :{f}, :key \"{}\", :value ",
        op.process, op.key
    );
    match value {
        Some(v) => {
            let _ = writeln!(text, "\"{v}\"}}");
        }
        None => text.push_str("nil}\n"),
    }
}

/// `INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]`: the lines Porcupine's
/// `parseJepsenLog` reads, with Jepsen's `:info` for a write or cas that
/// timed out (Porcupine leaves it open) and `:fail :read :timed-out` for
/// a read that did.
fn write_etcd_line(text: &mut String, op: &Op, is_return: bool) {
    let (kind, f, value) = match (&op.action, &op.output, is_return) {
        (Action::Read, _, false) => ("invoke", "read", "nil".to_string()),
        (Action::Read, Output::TimedOut, true) => ("fail", "read", ":timed-out".to_string()),
        (Action::Read, Output::Read(None), true) => ("ok", "read", "nil".to_string()),
        (Action::Read, Output::Read(Some(v)), true) => ("ok", "read", v.to_string()),
        (Action::Write(_), Output::TimedOut, true) => ("info", "write", ":timed-out".to_string()),
        (Action::Write(v), _, is_return) => (if is_return { "ok" } else { "invoke" }, "write", v.to_string()),
        (Action::Cas(..), Output::TimedOut, true) => ("info", "cas", ":timed-out".to_string()),
        (Action::Cas(a, b), output, is_return) => {
            let kind = match (is_return, output) {
                (false, _) => "invoke",
                (true, Output::Swapped(true)) => "ok",
                _ => "fail",
            };
            (kind, "cas", format!("[{a} {b}]"))
        }
        (action, output, _) => unreachable!("etcd history with {action:?} -> {output:?}"),
    };
    let _ = writeln!(text, "INFO  jepsen.util - {}\t:{kind}\t:{f}\t{value}", op.process);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linear::{self, LinVerdict, ModelKind, Options};
    use std::time::Duration;

    fn verdict(shape: Shape) -> LinVerdict {
        let format = shape.class.format();
        let raw = format.parse(&shape.text()).unwrap();
        assert_eq!(raw.ops.len(), shape.ops, "{}", shape.file_name());
        let model = match shape.class {
            Class::Kv => ModelKind::Kv,
            Class::Etcd => ModelKind::CasRegister,
        };
        let options = Options {
            jobs: 1,
            timeout: Some(Duration::from_secs(20)),
            ..Options::default()
        };
        linear::verdict_only(model, format.default_initial(), &raw, &options)
            .unwrap()
            .verdict
    }

    #[test]
    fn the_same_shape_gives_the_same_bytes() {
        for shape in [Shape::kv(2_000, 10, 4), Shape::etcd(2_000, 10).corrupted()] {
            assert_eq!(shape.text(), shape.text(), "{}", shape.file_name());
        }
        assert_ne!(
            Shape::kv(500, 5, 2).text(),
            Shape {
                seed: 1,
                ..Shape::kv(500, 5, 2)
            }
            .text()
        );
    }

    #[test]
    fn the_output_is_pinned() {
        // A change here changes every benchmark's input: make it on purpose.
        let kv = Shape::kv(60, 4, 2).text();
        let etcd = Shape::etcd(60, 4).corrupted().text();
        assert_eq!(
            (kv.len(), crate::fnv::hash(kv.as_bytes())),
            (8500, 519139294087998461),
            "{kv}"
        );
        assert_eq!(
            (etcd.len(), crate::fnv::hash(etcd.as_bytes())),
            (4563, 11018691798729784707),
            "{etcd}"
        );
    }

    #[test]
    fn ok_histories_are_linearizable_and_bad_ones_are_not() {
        for shape in [
            Shape::kv(200, 5, 2),
            Shape::kv(300, 10, 3),
            Shape::etcd(200, 5),
            Shape::etcd(150, 8),
        ] {
            assert_eq!(verdict(shape), LinVerdict::Linearizable, "{}", shape.file_name());
            let bad = shape.corrupted();
            assert_eq!(verdict(bad), LinVerdict::NotLinearizable, "{}", bad.file_name());
        }
    }

    #[test]
    fn a_bad_twin_differs_in_one_result_in_the_second_half() {
        for shape in [Shape::kv(1_000, 10, 4), Shape::etcd(1_000, 10)] {
            let ok = shape.text();
            let bad = shape.corrupted().text();
            let ok: Vec<&str> = ok.lines().collect();
            let bad: Vec<&str> = bad.lines().collect();
            assert_eq!(ok.len(), bad.len());
            let differ: Vec<usize> = (0..ok.len()).filter(|&i| ok[i] != bad[i]).collect();
            assert_eq!(differ.len(), 1, "{}", shape.file_name());
            assert!(differ[0] > ok.len() / 2, "{} line {}", shape.file_name(), differ[0]);
            assert!(bad[differ[0]].contains(":ok"), "{}", bad[differ[0]]);
        }
    }

    #[test]
    fn etcd_histories_have_timeouts_and_never_reuse_a_crashed_process() {
        let text = Shape::etcd(5_000, 10).text();
        let raw = Format::JepsenEtcdLog.parse(&text).unwrap();
        let open = raw.indeterminate();
        assert!((40..=160).contains(&open), "{open} writes and cas timed out");
        assert!(
            raw.ops.iter().any(|o| o.f == "read" && o.output.is_none()),
            "a read timed out"
        );
        let mut crashed = std::collections::BTreeSet::new();
        for line in text.lines() {
            let process = line.split_whitespace().nth(3).unwrap();
            assert!(!crashed.contains(process), "process {process} ran after its :info");
            if line.contains(":info") {
                crashed.insert(process.to_string());
            }
        }
        let bad = Format::JepsenEtcdLog
            .parse(&Shape::etcd(5_000, 10).corrupted().text())
            .unwrap();
        assert_eq!(bad.ops.len(), raw.ops.len());
    }

    #[test]
    fn kv_values_are_porcupine_tokens() {
        let text = Shape::kv(3_000, 10, 4).text();
        assert_eq!(text.lines().count(), 6_000, "every op completes");
        assert!(!text.contains('\\'));
        assert!(text.contains(":f :put") && text.contains(":f :append") && text.contains(":f :get"));
        assert!(text.contains(":value \"x "));
    }

    #[test]
    fn the_corpus_has_each_shape_ok_and_bad() {
        let corpus = hard_corpus();
        assert_eq!(corpus.len(), 18);
        let mut names: Vec<String> = corpus.iter().map(Shape::file_name).collect();
        assert!(names.contains(&"kv-10000-c10-k4-ok.txt".to_string()));
        assert!(names.contains(&"etcd-200-c20-bad.log".to_string()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 18);
    }
}
