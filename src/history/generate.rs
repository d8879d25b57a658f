//! Hard histories for the linearizability checker, made up from a seed.
//!
//! A [`Shape`] names a history: its class (a key-value store in
//! `porcupine-kv` format, or one etcd compare-and-set register in
//! `jepsen-etcd-log` format), how many operations, clients and keys, a
//! seed, and whether it is the linearizable original ("ok") or a twin
//! with one corrupted result: a read of a value no one wrote ("bad", see
//! [`Corruption::Unwritten`]) or of a value that was written but certainly
//! overwritten before the read was called ("stale", see
//! [`Corruption::Stale`]). [`Shape::text`] writes the file;
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
//! **Bad by one result.** See [`Shape::text`] and [`Corruption`] for which
//! result and why no order can explain it.

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

/// How a non-linearizable twin corrupts one completed read of the ok
/// history (see [`Shape::text`] for which read).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Corruption {
    /// The read returns a value no operation ever wrote: a kv get returns
    /// what it read followed by the token `x C i y`, where C, the number
    /// of clients, is no client's id; an etcd read returns 5.
    ///
    /// Every state a kv key can reach is "" or a concatenation of put and
    /// append arguments, each one token `x c i y` with c < C; a string of
    /// such tokens splits into them in only one way (each token starts
    /// with the only `x` in it), so no state holds that token. The etcd
    /// register starts absent and only ever holds a value some write or
    /// successful cas set, all in 0..4. Either way the read is legal at no
    /// point of any order. A checker can refute this without searching
    /// (for the etcd register and kv keys without appends, the value is
    /// neither the initial one nor any write's), so these files measure
    /// little of the search on etcd.
    Unwritten,
    /// The read returns a value that some operation did write (the
    /// history keeps every value read among the values written), but one
    /// a later completed write certainly overwrote before the read was
    /// called, so only a search (or a real-time argument about writes)
    /// refutes it. File names end in `-stale`.
    ///
    /// **etcd.** A read R returns `v` in 0..4 (never absent). The
    /// *producers* of `v` are the writes of `v` and the cas to `v` whose
    /// outcome was not a reported failure (indeterminate ones included);
    /// the register's initial value is absent, never `v`. `v` is chosen
    /// so that at least one producer was called before R returned, and
    /// for every producer X called before R returned, X returned (it is
    /// not indeterminate) and some *overwriter* W, a completed write of a
    /// value other than `v` or a cas that reported success to a value
    /// other than `v`, was called after X returned and returned before R
    /// was called. Proof that no linearization exists: take any order
    /// that respects real time and gives every completed op its reported
    /// output, with R at point p. The register at p holds the value set by
    /// the last op before p that set it (a write, or a cas that took
    /// effect), or the initial absent value if none did; R reads `v`, not
    /// absent, so that last setter X exists and is a producer of `v`, and
    /// it precedes p, which precedes R's return, so X was called before R
    /// returned. Then the condition gives W with X's return before W's
    /// call and W's return before R's call: W comes after X and before p
    /// in the order (real time), and W sets the register (a completed
    /// write always does; a cas that reported success must have taken
    /// effect), so X was not the last setter before p. Contradiction.
    ///
    /// **kv.** A get R of key k returns the value S that k held, in the
    /// ok history's own witness order, just after some put or append X of
    /// k, where some put or append W of k was called after X returned and
    /// returned before R was called. Proof: every put or append argument
    /// is a distinct token (`x c i y`, client c's i-th operation), and a
    /// string of tokens splits into them in only one way, so S is not ""
    /// and ends with X's token, and a state of k ends with the token of
    /// the last put or append of k before it (a put leaves its token, an
    /// append adds its token at the end). In any order that respects real
    /// time, with R at point p, the last put or append of k before p must
    /// then be X itself, since no other op has X's token; but W comes
    /// after X and before p (X returned before W was called, W returned
    /// before R was called). Contradiction. (All kv ops complete.) S was a
    /// real state of k, so it is among the values a kv key can reach.
    ///
    /// Of the values (etcd) or ops X (kv) that qualify, the one whose
    /// producer returned last is taken: the freshest value R certainly
    /// cannot see.
    ///
    /// An indeterminate producer of `v` may take effect at any point after
    /// its call, so once every value has one (about 2% of etcd writes and
    /// cas time out), no later read can be made certainly stale: in long
    /// etcd histories the stale read is then the latest one that can,
    /// before the second half (etcd 5k/10: a fifth of the way in).
    Stale,
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
    /// Whether one result is corrupted so that no linearization exists,
    /// and how; `None` is the linearizable original.
    pub corruption: Option<Corruption>,
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
            corruption: None,
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
            corruption: None,
        }
    }

    /// The same history with one read returning a value no one wrote
    /// ([`Corruption::Unwritten`]).
    pub fn corrupted(self) -> Shape {
        Shape {
            corruption: Some(Corruption::Unwritten),
            ..self
        }
    }

    /// The same history with one read returning a value that was written
    /// but certainly overwritten before the read ([`Corruption::Stale`]).
    pub fn stale(self) -> Shape {
        Shape {
            corruption: Some(Corruption::Stale),
            ..self
        }
    }

    /// Whether the history is corrupted, so not linearizable.
    pub fn is_bad(&self) -> bool {
        self.corruption.is_some()
    }

    /// A file name that says the shape, e.g. `kv-10000-c10-k4-ok.txt`,
    /// `etcd-200-c20-bad.log`, `etcd-200-c20-stale.log`; a seed other than
    /// 0 shows as `-s7`. The extension is the one `simulate check` reads
    /// the format from.
    pub fn file_name(&self) -> String {
        let verdict = match self.corruption {
            None => "ok",
            Some(Corruption::Unwritten) => "bad",
            Some(Corruption::Stale) => "stale",
        };
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
        if self.is_bad() {
            "not-linearizable"
        } else {
            "linearizable"
        }
    }

    /// The history as the text of a file in its class's format.
    ///
    /// A corrupted history is the ok one with one completed read's result
    /// replaced, at an operation called in the second half of the history
    /// (between half and three quarters of the way, or the nearest read
    /// after that can be corrupted so, else the nearest before: see
    /// [`Corruption::Stale`] for when that happens), so a checker has to
    /// get through much of the history before it can fail.
    /// [`Corruption`] says with what and proves that no order explains it.
    ///
    /// Panics if a corrupted shape's history has no completed read to
    /// corrupt that way, which takes a history of a handful of operations.
    pub fn text(&self) -> String {
        let mut ops = schedule(self);
        apply_in_point_order(self, &mut ops);
        if let Some(corruption) = self.corruption {
            corrupt_one_read(self, corruption, &mut ops);
        }
        write_text(self, &ops)
    }
}

/// The hard corpus the check benchmark runs: each shape ok, bad
/// (unwritten value) and stale, in that order. Kv histories of 1k to 100k
/// operations with 10 to 50 clients over 4 to 10 keys, etcd histories of
/// 200 to 5k operations with 5 to 20 clients: 27 files, about 55 MB, all
/// made in about a second.
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
    shapes.into_iter().flat_map(|s| [s, s.corrupted(), s.stale()]).collect()
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
    /// For a kv put or append, the key's value just after it in the
    /// witness order (what a stale get may return).
    after: Option<String>,
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
            after: None,
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
                op.after = Some(strings[op.key].clone());
                Output::Done
            }
            Action::Append(v) => {
                strings[op.key].push_str(v);
                op.after = Some(strings[op.key].clone());
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
/// history with one no order can explain (see [`Shape::text`] and
/// [`Corruption`]).
fn corrupt_one_read(shape: &Shape, corruption: Corruption, ops: &mut [Op]) {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    rng.set_stream(CORRUPTION_STREAM);
    let n = ops.len();
    let from = rng.gen_range(n / 2..=(3 * n / 4).max(n / 2));
    let corrupt = |ops: &[Op], i: usize| -> Option<Output> {
        match (&ops[i].output, corruption) {
            (Output::Got(v), Corruption::Unwritten) => Some(Output::Got(format!(
                "{v}x {} {} y",
                shape.clients,
                rng.clone().gen_range(0..1000)
            ))),
            (Output::Read(_), Corruption::Unwritten) => Some(Output::Read(Some(ETCD_VALUES))),
            (Output::Got(_), Corruption::Stale) => stale_get(ops, i).map(Output::Got),
            (Output::Read(_), Corruption::Stale) => stale_read(ops, i).map(|v| Output::Read(Some(v))),
            _ => None,
        }
    };
    let (target, output) = (from..n)
        .chain((0..from).rev())
        .find_map(|i| Some((i, corrupt(ops, i)?)))
        .unwrap_or_else(|| panic!("{}: no completed read to corrupt", shape.file_name()));
    assert_ne!(
        ops[target].output,
        output,
        "{}: the corruption changes nothing",
        shape.file_name()
    );
    ops[target].output = output;
}

/// A value in 0..4 that the completed etcd read `ops[r]` certainly cannot
/// return ([`Corruption::Stale`]), though an op called before the read
/// returned wrote it: the one whose last producer returned last, if any.
fn stale_read(ops: &[Op], r: usize) -> Option<u8> {
    let read = &ops[r];
    (0..ETCD_VALUES)
        .filter_map(|v| {
            // The latest call of an overwriter of `v` that returned before
            // the read was called.
            let overwritten = ops
                .iter()
                .filter(|w| w.ret < read.call)
                .filter(|w| match (&w.action, &w.output) {
                    (&Action::Write(u), Output::Done) => u != v,
                    (&Action::Cas(_, to), Output::Swapped(true)) => to != v,
                    _ => false,
                })
                .map(|w| w.call)
                .max()?;
            // The producers of `v` called before the read returned: all
            // must have returned before `overwritten`.
            let mut last = None;
            for x in ops.iter().filter(|x| x.call < read.ret) {
                let produces = match (&x.action, &x.output) {
                    (&Action::Write(u), _) => u == v,
                    (&Action::Cas(_, to), output) => to == v && *output != Output::Swapped(false),
                    _ => false,
                };
                if produces {
                    if x.indeterminate || x.ret >= overwritten {
                        return None;
                    }
                    last = last.max(Some(x.ret));
                }
            }
            Some((last?, v))
        })
        .max()
        .map(|(_, v)| v)
}

/// A value the completed kv get `ops[r]` certainly cannot return
/// ([`Corruption::Stale`]), though its key held it earlier: its value just
/// after the last put or append of the key that returned before another
/// one was called that returned before the get was called.
fn stale_get(ops: &[Op], r: usize) -> Option<String> {
    let get = &ops[r];
    let writes = || {
        ops.iter()
            .filter(|w| w.key == get.key && matches!(w.action, Action::Put(_) | Action::Append(_)))
    };
    let overwritten = writes().filter(|w| w.ret < get.call).map(|w| w.call).max()?;
    let x = writes().filter(|x| x.ret < overwritten).max_by_key(|x| x.ret)?;
    x.after.clone()
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
    use crate::check::linear::model::{CasRegister, Kv};
    use crate::check::linear::{self, LinVerdict, Model, ModelKind, Options};
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
    fn the_corpus_has_each_shape_ok_bad_and_stale() {
        let corpus = hard_corpus();
        assert_eq!(corpus.len(), 27);
        let mut names: Vec<String> = corpus.iter().map(Shape::file_name).collect();
        assert!(names.contains(&"kv-10000-c10-k4-ok.txt".to_string()));
        assert!(names.contains(&"etcd-200-c20-bad.log".to_string()));
        assert!(names.contains(&"etcd-1000-c10-stale.log".to_string()));
        assert!(names.contains(&"kv-1000-c50-k4-stale.txt".to_string()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 27);
    }

    /// The first op, if any, that the model refutes without a search
    /// ([`Model::impossible`]), asked of each part of the history as the
    /// checker asks it.
    fn impossible(shape: Shape) -> Option<usize> {
        fn first<M: Model>(model: &M, raw: &crate::history::raw::RawHistory) -> Option<usize> {
            let ops: Vec<_> = raw.ops.iter().map(|op| model.convert(op).unwrap()).collect();
            let inputs: Vec<&M::Input> = ops.iter().map(|(input, _)| input).collect();
            model
                .partition(&inputs)
                .into_iter()
                .filter_map(|(_, part)| {
                    let pairs: Vec<_> = part.iter().map(|&i| (&ops[i].0, ops[i].1.as_ref())).collect();
                    model.impossible(&model.init(), &pairs).map(|j| part[j])
                })
                .min()
        }
        let format = shape.class.format();
        let raw = format.parse(&shape.text()).unwrap();
        let initial = format.default_initial();
        match shape.class {
            Class::Kv => first(&Kv { initial }, &raw),
            Class::Etcd => first(&CasRegister { initial }, &raw),
        }
    }

    #[test]
    fn stale_histories_are_not_linearizable_yet_only_a_search_says_so() {
        // The helper sees what the checker's shortcut sees: the unwritten
        // etcd read is refuted without a search.
        assert!(impossible(Shape::etcd(200, 5).corrupted()).is_some());
        for shape in [
            Shape::kv(200, 5, 2),
            Shape::kv(300, 10, 3),
            Shape::kv(300, 10, 1),
            Shape::etcd(200, 5),
            Shape::etcd(150, 8),
            Shape::etcd(300, 3),
        ] {
            let stale = shape.stale();
            assert_eq!(impossible(stale), None, "{}", stale.file_name());
            assert_eq!(verdict(stale), LinVerdict::NotLinearizable, "{}", stale.file_name());
        }
        for seed in 1..20 {
            let stale = Shape {
                seed,
                ..Shape::etcd(100, 6).stale()
            };
            assert_eq!(impossible(stale), None, "{}", stale.file_name());
            assert_eq!(verdict(stale), LinVerdict::NotLinearizable, "{}", stale.file_name());
        }
    }

    #[test]
    fn a_stale_twin_differs_in_one_read_of_a_written_value_in_the_second_half() {
        for shape in hard_corpus().into_iter().filter(|s| s.corruption.is_none()) {
            let ok = shape.text();
            let stale = shape.stale().text();
            let ok: Vec<&str> = ok.lines().collect();
            let stale: Vec<&str> = stale.lines().collect();
            assert_eq!(ok.len(), stale.len());
            let differ: Vec<usize> = (0..ok.len()).filter(|&i| ok[i] != stale[i]).collect();
            let name = shape.stale().file_name();
            assert_eq!(differ.len(), 1, "{name}");
            let line = stale[differ[0]];
            // etcd 5k/10: by a fifth of the way in, every value has an
            // indeterminate producer, which could take effect at any later
            // point: the latest read that can be made certainly stale is
            // there (line 2064 of 10000).
            let from = if shape == Shape::etcd(5_000, 10) {
                ok.len() / 5
            } else {
                ok.len() / 2
            };
            assert!(differ[0] > from, "{name} line {}", differ[0]);
            assert!(
                line.contains(":ok") && (line.contains(":read") || line.contains(":get")),
                "{line}"
            );
            // The value read is one a put, append, write or cas wrote
            // (for kv, the token it ends with).
            let value = match shape.class {
                Class::Etcd => line.rsplit('\t').next().unwrap().to_string(),
                Class::Kv => {
                    let got = line.rsplit(":value \"").next().unwrap().trim_end_matches("\"}");
                    got[got.rfind('x').unwrap()..].to_string()
                }
            };
            let written = ok.iter().any(|l| {
                l.contains(":invoke")
                    && match shape.class {
                        Class::Etcd => l.ends_with(&format!(":write\t{value}")) || l.ends_with(&format!(" {value}]")),
                        Class::Kv => l.ends_with(&format!(":value \"{value}\"}}")),
                    }
            });
            assert!(written, "{name}: {line} reads a value no one wrote");
        }
    }
}
