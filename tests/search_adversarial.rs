//! Adversarial tests of the linearizability search, aimed at what makes it
//! faster than a plain Wing-Gong/Lowe search: inert ops placed once,
//! impossible ops refuted without a search, candidate order, trimmed
//! bitset cache keys, searches paused and resumed (rounds, memory shares),
//! `--jobs`, and the explanation's shortest failing prefix.
//!
//! Small histories are checked against the brute-force checker (and
//! against brute-force final states and longest partial linearizations);
//! large ones (63 to 193 ops in a partition, past the bitset's word edges)
//! are linearizable by construction, or have one violation that no order
//! can hide, and are also checked against the same search with its
//! shortcuts turned off.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simulate::check::linear::model::*;
use simulate::check::linear::search::{final_states, search, Budget, Op, Outcome};
use simulate::check::linear::{brute, check, ops, Counterexample, Explain, LinVerdict, Options, Report};
use simulate::core::Value;
use simulate::history::raw::{RawHistory, RawOp};
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

// ---------------------------------------------------------------------------
// Models with the search's shortcuts turned off.

/// `M`, without `impossible`; with `is_inert` only if `INERT`.
struct Wrapped<'a, M, const INERT: bool>(&'a M);

/// Neither shortcut: the plain search with its cache.
type Plain<'a, M> = Wrapped<'a, M, false>;

impl<M: Model, const INERT: bool> Model for Wrapped<'_, M, INERT> {
    type State = M::State;
    type Input = M::Input;
    type Output = M::Output;
    fn init(&self) -> M::State {
        self.0.init()
    }
    fn step(&self, state: &M::State, input: &M::Input, output: Option<&M::Output>) -> Option<M::State> {
        self.0.step(state, input, output)
    }
    fn state_bytes(&self, state: &M::State) -> usize {
        self.0.state_bytes(state)
    }
    fn convert(&self, op: &RawOp) -> Result<(M::Input, Option<M::Output>), String> {
        self.0.convert(op)
    }
    fn partition(&self, inputs: &[&M::Input]) -> Vec<(String, Vec<usize>)> {
        self.0.partition(inputs)
    }
    fn describe(&self, input: &M::Input, output: Option<&M::Output>) -> String {
        self.0.describe(input, output)
    }
    fn describe_state(&self, state: &M::State) -> String {
        self.0.describe_state(state)
    }
    fn is_read_only(&self, input: &M::Input) -> bool {
        self.0.is_read_only(input)
    }
    fn is_inert(&self, input: &M::Input, output: Option<&M::Output>) -> bool {
        INERT && self.0.is_inert(input, output)
    }
    fn is_legal(&self, state: &M::State, input: &M::Input, output: Option<&M::Output>) -> bool {
        self.0.is_legal(state, input, output)
    }
}

fn rewrap<A: Model, B: Model<Input = A::Input, Output = A::Output>>(ops: &[Op<A>]) -> Vec<Op<B>> {
    ops.iter()
        .map(|o| Op {
            id: o.id,
            client: o.client,
            input: o.input.clone(),
            output: o.output.clone(),
            call: o.call,
            ret: o.ret,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Brute force beyond yes/no.

/// Whether op `i` may go next: no other unplaced op returned before its
/// call (as `brute` and the search read real time).
fn may_go_next<M: Model>(ops: &[Op<M>], placed: u32, i: usize) -> bool {
    (0..ops.len()).all(|j| j == i || placed & (1 << j) != 0 || ops[j].ret.is_none_or(|r| r >= ops[i].call))
}

/// Every state a complete linearization of `ops` (all determinate) ends in.
fn brute_finals<M: Model>(model: &M, init: &M::State, ops: &[Op<M>]) -> Vec<M::State> {
    fn go<M: Model>(
        model: &M,
        state: &M::State,
        ops: &[Op<M>],
        placed: u32,
        seen: &mut HashSet<(u32, M::State)>,
        out: &mut Vec<M::State>,
    ) {
        if !seen.insert((placed, state.clone())) {
            return;
        }
        if placed.count_ones() as usize == ops.len() {
            if !out.contains(state) {
                out.push(state.clone());
            }
            return;
        }
        for i in 0..ops.len() {
            if placed & (1 << i) != 0 || !may_go_next(ops, placed, i) {
                continue;
            }
            if let Some(next) = model.step(state, &ops[i].input, ops[i].output.as_ref()) {
                go(model, &next, ops, placed | (1 << i), seen, out);
            }
        }
    }
    assert!(ops.iter().all(|o| o.ret.is_some()));
    let mut out = Vec::new();
    go(model, init, ops, 0, &mut HashSet::new(), &mut out);
    out
}

/// The length of the longest partial linearization (ops placed one at a
/// time, each legal and allowed next by real time), and every state one
/// reaches.
fn brute_partial<M: Model>(model: &M, init: &M::State, ops: &[Op<M>]) -> (usize, Vec<M::State>) {
    fn go<M: Model>(
        model: &M,
        state: &M::State,
        ops: &[Op<M>],
        placed: u32,
        seen: &mut HashSet<(u32, M::State)>,
        states: &mut Vec<M::State>,
    ) -> usize {
        if !seen.insert((placed, state.clone())) {
            return 0;
        }
        if !states.contains(state) {
            states.push(state.clone());
        }
        let mut best = placed.count_ones() as usize;
        for i in 0..ops.len() {
            if placed & (1 << i) != 0 || !may_go_next(ops, placed, i) {
                continue;
            }
            if let Some(next) = model.step(state, &ops[i].input, ops[i].output.as_ref()) {
                best = best.max(go(model, &next, ops, placed | (1 << i), seen, states));
            }
        }
        best
    }
    let mut states = Vec::new();
    let longest = go(model, init, ops, 0, &mut HashSet::new(), &mut states);
    (longest, states)
}

// ---------------------------------------------------------------------------
// Small random histories.

/// Draws one operation: (f, key, input, output).
type Drawn = (String, Option<Value>, Value, Option<Value>);
type GenOp = dyn Fn(&mut ChaCha8Rng) -> Drawn;

struct Shape {
    max_ops: usize,
    processes: u64,
    /// Chance that an op never returns.
    indeterminate: f64,
    /// Chance that an op that returned reported nothing.
    unknown_output: f64,
    /// Chance that the next event happens at the same time as this one.
    ties: f64,
}

const SMALL: Shape = Shape {
    max_ops: 9,
    processes: 4,
    indeterminate: 0.25,
    unknown_output: 0.15,
    ties: 0.3,
};

/// A random history: processes run one op at a time; some ops never
/// return (the process goes on under a new id, as in Jepsen); events may
/// share a time, so a return and a call (even of one op) can coincide.
fn history(rng: &mut ChaCha8Rng, shape: &Shape, gen_op: &GenOp) -> RawHistory {
    let n_ops = rng.gen_range(1..=shape.max_ops);
    let processes = rng.gen_range(1..=shape.processes);
    let mut open: BTreeMap<u64, RawOp> = BTreeMap::new();
    let mut ops = Vec::new();
    let (mut time, mut started, mut next_process) = (0, 0, processes);
    let mut live: Vec<u64> = (0..processes).collect();
    while started < n_ops || !open.is_empty() {
        let slot = rng.gen_range(0..live.len());
        let p = live[slot];
        if let Some(mut op) = open.remove(&p) {
            if rng.gen_bool(shape.indeterminate) {
                op.output = None;
                live[slot] = next_process;
                next_process += 1;
            } else {
                op.ret = Some(time);
                if rng.gen_bool(shape.unknown_output) {
                    op.output = None;
                }
            }
            ops.push(op);
        } else if started < n_ops {
            let (f, key, input, output) = gen_op(rng);
            let op = RawOp {
                process: p,
                f,
                key,
                input,
                output,
                call: time,
                ret: None,
                line: 0,
            };
            open.insert(p, op);
            started += 1;
        }
        if !rng.gen_bool(shape.ties) {
            time += 1;
        }
    }
    ops.sort_by_key(|o| o.call);
    for (i, o) in ops.iter_mut().enumerate() {
        o.line = i + 1;
    }
    RawHistory { ops, failed: 0 }
}

/// Values that look alike but are not equal: 1 and "1".
fn value(rng: &mut ChaCha8Rng) -> Value {
    match rng.gen_range(0..4) {
        0 => Value::Nil,
        1 => Value::Int(1),
        2 => Value::Int(2),
        _ => Value::Str("1".into()),
    }
}

fn register_op(rng: &mut ChaCha8Rng, with_cas: bool) -> Drawn {
    match rng.gen_range(0..if with_cas { 3 } else { 2 }) {
        0 => ("read".into(), None, Value::Nil, Some(value(rng))),
        1 => ("write".into(), None, value(rng), Some(Value::Nil)),
        _ => {
            let args = Value::List(vec![value(rng), value(rng)]);
            ("cas".into(), None, args, Some(Value::Bool(rng.gen_bool(0.5))))
        }
    }
}

fn text(rng: &mut ChaCha8Rng) -> Value {
    match rng.gen_range(0..5) {
        0 => Value::Nil,
        i => Value::Str(["", "x", "y", "xy"][i - 1].into()),
    }
}

fn kv_op(rng: &mut ChaCha8Rng, appends: bool) -> Drawn {
    let key = Some(Value::Str(["a", "b"][rng.gen_range(0..2)].into()));
    match rng.gen_range(0..4) {
        0 => ("get".into(), key, Value::Nil, Some(text(rng))),
        1 => ("put".into(), key, text(rng), Some(Value::Nil)),
        2 if appends => (
            "append".into(),
            key,
            Value::Str(["x", "y"][rng.gen_range(0..2)].into()),
            Some(Value::Nil),
        ),
        2 => ("get".into(), key, Value::Nil, Some(text(rng))),
        _ => (
            "cas".into(),
            key,
            Value::List(vec![text(rng), text(rng)]),
            Some(Value::Bool(rng.gen_bool(0.5))),
        ),
    }
}

fn keyword(k: &str) -> Value {
    Value::Keyword(k.into())
}

/// A transaction: the invocation reads nil, the completion carries the
/// values read (nil among them: it constrains nothing). Often read-only.
fn txn_op(rng: &mut ChaCha8Rng) -> Drawn {
    let read_only = rng.gen_bool(0.4);
    let micros: Vec<(bool, &str, Value)> = (0..rng.gen_range(1..=2))
        .map(|_| {
            let write = !read_only && rng.gen_bool(0.5);
            let k = if rng.gen_bool(0.5) { "x" } else { "y" };
            let v = match rng.gen_range(0..4) {
                0 => Value::Nil,
                i => Value::Int(i - 1),
            };
            (write, k, v)
        })
        .collect();
    let txn = |reads_seen: bool| {
        Value::List(
            micros
                .iter()
                .map(|(w, k, v)| {
                    let f = keyword(if *w { "write" } else { "read" });
                    let v = if *w || reads_seen { v.clone() } else { Value::Nil };
                    Value::List(vec![f, keyword(k), v])
                })
                .collect(),
        )
    };
    ("txn".into(), None, txn(false), Some(txn(true)))
}

fn lock_op(rng: &mut ChaCha8Rng) -> Drawn {
    let f = if rng.gen_bool(0.5) { "acquire" } else { "release" };
    (f.into(), None, Value::Nil, Some(Value::Nil))
}

/// The model's partitions of `ops`, with their labels.
fn split<M: Model>(model: &M, ops: &[Op<M>]) -> Vec<(String, Vec<Op<M>>)> {
    let inputs: Vec<&M::Input> = ops.iter().map(|o| &o.input).collect();
    model
        .partition(&inputs)
        .into_iter()
        .map(|(label, ids)| (label, ids.into_iter().map(|i| ops[i].clone()).collect()))
        .collect()
}

fn verdict(linearizable: bool) -> LinVerdict {
    if linearizable {
        LinVerdict::Linearizable
    } else {
        LinVerdict::NotLinearizable
    }
}

/// A witness must respect real time, include every op that returned, and
/// be legal step by step from `init`.
fn assert_witness<M: Model>(model: &M, init: &M::State, ops: &[Op<M>], order: &[usize], what: &str) {
    let mut state = init.clone();
    for (k, &i) in order.iter().enumerate() {
        state = model
            .step(&state, &ops[i].input, ops[i].output.as_ref())
            .unwrap_or_else(|| panic!("{what}: witness step {k} is illegal"));
        for &j in &order[k + 1..] {
            assert!(
                ops[j].ret.is_none_or(|r| r >= ops[i].call),
                "{what}: witness breaks real time"
            );
        }
    }
    let mut sorted = order.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), order.len(), "{what}: witness repeats an op");
    for (i, o) in ops.iter().enumerate() {
        assert!(
            o.ret.is_none() || order.contains(&i),
            "{what}: witness leaves out a completed op"
        );
    }
}

/// The search's answer from `init` against brute force's `want`.
fn assert_search<M: Model>(model: &M, init: &M::State, ops: &[Op<M>], want: bool, what: &str) {
    match search(model, init, ops, &Budget::unlimited()) {
        Outcome::Linearizable(order) => {
            assert!(want, "{what}: search says linearizable, brute force does not");
            assert_witness(model, init, ops, &order, what);
        }
        Outcome::NotLinearizable(_) => assert!(!want, "{what}: search says not linearizable, brute force does"),
        other => panic!("{what}: {other:?}"),
    }
}

/// One model under test: how to make it (its initial value drawn), other
/// states to start from, and its operations.
struct Subject<'a, M: Model> {
    name: &'a str,
    make: &'a dyn Fn(&mut ChaCha8Rng) -> M,
    start: &'a dyn Fn(&mut ChaCha8Rng) -> M::State,
    gen_op: &'a GenOp,
}

impl<M: Model> Subject<'_, M> {
    fn rng(&self, salt: u64) -> ChaCha8Rng {
        let seed = self
            .name
            .bytes()
            .fold(salt, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        ChaCha8Rng::seed_from_u64(seed)
    }
}

/// Most final states asked for (as the explanation asks for 8).
const FINALS: usize = 3;

/// For each case: every partition searched (indeterminate reads kept),
/// from the initial state and from another; final states; the whole check
/// with one and two jobs; both verdicts common.
fn differential<M: Model>(subject: &Subject<M>, cases: usize, shape: &Shape) {
    let mut rng = subject.rng(1);
    let (mut yes, mut no) = (0, 0);
    for case in 0..cases {
        let model = (subject.make)(&mut rng);
        let raw = history(&mut rng, shape, subject.gen_op);
        let all = ops(&model, &raw).unwrap();
        let init = model.init();
        let mut truth = true;
        for (label, part) in split(&model, &all) {
            let what = format!("{} case {case} {label}: {raw:#?}", subject.name);
            let want = brute::linearizable(&model, &init, &part);
            truth &= want;
            assert_search(&model, &init, &part, want, &what);
            let plain = rewrap::<M, Plain<M>>(&part);
            assert_search(&Wrapped::<M, false>(&model), &init, &plain, want, &what);
            // From another state (as the explanation searches windows):
            // the impossible-op shortcut must judge ops from there.
            let other = (subject.start)(&mut rng);
            let want_other = brute::linearizable(&model, &other, &part);
            assert_search(&model, &other, &part, want_other, &format!("{what}\nfrom {other:?}"));
            // Final states, collected with inert ops placed once.
            let done: Vec<Op<M>> = part.iter().filter(|o| o.ret.is_some()).cloned().collect();
            for start in [&init, &other] {
                let want = brute_finals(&model, start, &done);
                let got = final_states(&model, start, &done, FINALS, &Budget::unlimited());
                match got {
                    None => assert!(
                        want.is_empty() || want.len() > FINALS,
                        "{what}\nfrom {start:?}: no final states, brute force has {want:?}"
                    ),
                    Some(got) => assert!(
                        got.len() == want.len() && got.iter().all(|s| want.contains(s)),
                        "{what}\nfrom {start:?}: final states {got:?}, brute force {want:?}"
                    ),
                }
            }
        }
        if truth {
            yes += 1;
        } else {
            no += 1;
        }
        let options = Options {
            jobs: 1 + case % 2,
            explain: Explain::None,
            ..Options::default()
        };
        let report = check(&model, &raw, &options).unwrap();
        assert_eq!(
            report.verdict,
            verdict(truth),
            "{} case {case} (jobs {}): {raw:#?}",
            subject.name,
            options.jobs
        );
    }
    assert!(
        yes > cases / 10 && no > cases / 10,
        "{}: a poor mix of verdicts ({yes} yes, {no} no)",
        subject.name
    );
}

#[test]
fn register_searches_agree_with_brute_force() {
    differential(
        &Subject {
            name: "register",
            make: &|r| Register { initial: value(r) },
            start: &value,
            gen_op: &|r| register_op(r, false),
        },
        1_500,
        &SMALL,
    );
}

#[test]
fn cas_register_searches_agree_with_brute_force() {
    differential(
        &Subject {
            name: "cas-register",
            make: &|r| CasRegister { initial: value(r) },
            start: &value,
            gen_op: &|r| register_op(r, true),
        },
        2_000,
        &SMALL,
    );
}

fn kv_initial(rng: &mut ChaCha8Rng) -> Value {
    if rng.gen_bool(0.5) {
        Value::Nil
    } else {
        Value::Str(String::new())
    }
}

#[test]
fn kv_searches_agree_with_brute_force() {
    for appends in [false, true] {
        differential(
            &Subject {
                name: if appends { "kv" } else { "kv-no-appends" },
                make: &|r| Kv { initial: kv_initial(r) },
                start: &|r| KvValue::of(&text(r)),
                gen_op: &move |r| kv_op(r, appends),
            },
            1_000,
            &Shape { max_ops: 12, ..SMALL },
        );
    }
}

#[test]
fn multi_register_searches_agree_with_brute_force() {
    differential(
        &Subject {
            name: "multi-register",
            make: &|_| MultiRegister { initial: Value::Int(0) },
            start: &|r| {
                let mut s = BTreeMap::new();
                for k in ["x", "y"] {
                    if r.gen_bool(0.5) {
                        s.insert(keyword(k), Value::Int(r.gen_range(0..3)));
                    }
                }
                s
            },
            gen_op: &txn_op,
        },
        1_500,
        &SMALL,
    );
}

#[test]
fn mutex_searches_agree_with_brute_force() {
    differential(
        &Subject {
            name: "mutex",
            make: &|_| Mutex,
            start: &|r| r.gen_bool(0.5),
            gen_op: &lock_op,
        },
        1_500,
        &SMALL,
    );
}

/// Inert ops placed once, in histories made mostly of them: many reads and
/// failed cas ops, many of them indeterminate or with no output.
#[test]
fn histories_of_mostly_inert_ops_agree_with_brute_force() {
    let inert_heavy = |r: &mut ChaCha8Rng| match r.gen_range(0..10) {
        0..=4 => ("read".into(), None, Value::Nil, Some(value(r))),
        5 | 6 => (
            "cas".into(),
            None,
            Value::List(vec![value(r), value(r)]),
            Some(Value::Bool(false)),
        ),
        _ => register_op(r, true),
    };
    differential(
        &Subject {
            name: "inert-heavy",
            make: &|r| CasRegister { initial: value(r) },
            start: &value,
            gen_op: &inert_heavy,
        },
        1_500,
        &Shape {
            max_ops: 11,
            processes: 6,
            indeterminate: 0.4,
            unknown_output: 0.3,
            ties: 0.4,
        },
    );
}

// ---------------------------------------------------------------------------
// The impossible-op shortcut, case by case.

fn op(process: u64, f: &str, input: Value, output: Option<Value>, call: u64, ret: Option<u64>) -> RawOp {
    RawOp {
        process,
        f: f.into(),
        key: None,
        input,
        output,
        call,
        ret,
        line: call as usize + 1,
    }
}

fn verdict_of<M: Model>(model: &M, ops: Vec<RawOp>) -> LinVerdict {
    let raw = RawHistory { ops, failed: 0 };
    let options = Options {
        jobs: 1,
        explain: Explain::None,
        ..Options::default()
    };
    check(model, &raw, &options).unwrap().verdict
}

#[test]
fn the_impossible_op_shortcut_only_refutes_what_no_order_allows() {
    use LinVerdict::{Linearizable as Yes, NotLinearizable as No};
    let int = Value::Int;
    let s = |x: &str| Value::Str(x.into());
    let nil = || Value::Nil;
    let cas = |a: Value, b: Value| Value::List(vec![a, b]);
    let write = |v: Value, call, ret| op(0, "write", v, Some(nil()), call, ret);
    let read = |v: Value, call, ret| op(1, "read", nil(), Some(v), call, Some(ret));
    let reg = CasRegister { initial: nil() };
    // An indeterminate write makes its value readable.
    assert_eq!(verdict_of(&reg, vec![write(int(1), 0, None), read(int(1), 1, 2)]), Yes);
    // 1 is not "1", nor :1.
    assert_eq!(
        verdict_of(&reg, vec![write(int(1), 0, Some(1)), read(s("1"), 2, 3)]),
        No
    );
    assert_eq!(
        verdict_of(&reg, vec![write(s("1"), 0, Some(1)), read(int(1), 2, 3)]),
        No
    );
    let kw = op(1, "read", nil(), Some(keyword("1")), 2, Some(3));
    assert_eq!(verdict_of(&reg, vec![write(s("1"), 0, Some(1)), kw]), No);
    // A cas whose outcome is unknown may have written; one that failed did not.
    let unknown_cas = op(0, "cas", cas(nil(), int(7)), None, 0, Some(1));
    assert_eq!(verdict_of(&reg, vec![unknown_cas.clone(), read(int(7), 2, 3)]), Yes);
    let lost_cas = op(0, "cas", cas(nil(), int(7)), None, 0, None);
    assert_eq!(verdict_of(&reg, vec![lost_cas, read(int(7), 2, 3)]), Yes);
    let failed_cas = op(0, "cas", cas(int(3), int(7)), Some(Value::Bool(false)), 0, Some(1));
    assert_eq!(verdict_of(&reg, vec![failed_cas, read(int(7), 2, 3)]), No);
    // A successful cas from a value nobody wrote; from the initial value.
    let from_nowhere = op(0, "cas", cas(int(5), int(7)), Some(Value::Bool(true)), 0, Some(1));
    assert_eq!(verdict_of(&reg, vec![from_nowhere]), No);
    let from_initial = op(0, "cas", cas(nil(), int(7)), Some(Value::Bool(true)), 0, Some(1));
    assert_eq!(verdict_of(&reg, vec![from_initial.clone(), read(int(7), 2, 3)]), Yes);
    // A successful cas writes even when a read of the old value follows
    // concurrently.
    let concurrent = vec![from_initial, read(nil(), 0, 3)];
    assert_eq!(verdict_of(&reg, concurrent), Yes);
    // The initial value, nil or not.
    assert_eq!(verdict_of(&reg, vec![read(nil(), 0, 1)]), Yes);
    let zero = CasRegister { initial: int(0) };
    assert_eq!(verdict_of(&zero, vec![read(int(0), 0, 1)]), Yes);
    assert_eq!(verdict_of(&zero, vec![read(nil(), 0, 1)]), No);
    // A read that never returned says nothing, whatever its output field.
    assert_eq!(
        verdict_of(&zero, vec![op(1, "read", nil(), Some(int(9)), 0, None)]),
        Yes
    );
    // Nil written explicitly.
    assert_eq!(
        verdict_of(&zero, vec![write(nil(), 0, Some(1)), read(nil(), 2, 3)]),
        Yes
    );
    // kv: per key; "x" written under another key is not readable here.
    let kv_op = |f: &str, key: &str, input: Value, output: Option<Value>, call: u64| RawOp {
        key: Some(s(key)),
        ..op(call, f, input, output, call, Some(call + 1))
    };
    let kv = Kv { initial: nil() };
    let other_key = vec![
        kv_op("put", "a", s("x"), Some(nil()), 0),
        kv_op("get", "b", nil(), Some(s("x")), 2),
    ];
    assert_eq!(verdict_of(&kv, other_key), No);
    // With an append, any string may be built: no shortcut, and the search
    // finds the order.
    let appended = vec![
        kv_op("put", "a", s("x"), Some(nil()), 0),
        kv_op("append", "a", s("y"), Some(nil()), 2),
        kv_op("get", "a", nil(), Some(s("xy")), 4),
    ];
    assert_eq!(verdict_of(&kv, appended), Yes);
}

/// `search` takes the state to start from, and the impossible-op shortcut
/// must judge ops from it: a read of the start state that nobody in `ops`
/// wrote is legal. (It once judged them from the model's initial value;
/// the explanation searches windows from the states a prefix leaves, so its
/// counterexamples blamed the wrong op: see the next two tests.)
#[test]
fn an_impossible_op_is_judged_from_the_state_the_search_starts_in() {
    let model = Register { initial: Value::Nil };
    let read_5 = Op::<Register> {
        id: 0,
        client: 0,
        input: RegisterOp::Read,
        output: Some(RegisterOutput::Read(Value::Int(5))),
        call: 0,
        ret: Some(1),
    };
    let ops = [read_5];
    assert!(brute::linearizable(&model, &Value::Int(5), &ops));
    let outcome = search(&model, &Value::Int(5), &ops, &Budget::unlimited());
    assert!(matches!(outcome, Outcome::Linearizable(_)), "{outcome:?}");
}

/// The window after the quiescent point starts from 5. When its first read
/// of 5 was taken for impossible, the explanation said that read "cannot
/// take effect" after an empty prefix; the op that cannot is the last
/// read, after the other two.
#[test]
fn a_counterexample_blames_the_op_that_cannot_take_effect() {
    let nil = || Some(Value::Nil);
    let raw = RawHistory {
        ops: vec![
            op(0, "write", Value::Int(5), nil(), 0, Some(10)),
            op(1, "read", Value::Nil, Some(Value::Int(5)), 20, Some(50)),
            op(2, "write", Value::Int(6), nil(), 30, Some(40)),
            op(3, "read", Value::Nil, Some(Value::Int(5)), 45, Some(60)),
        ],
        failed: 0,
    };
    let options = Options {
        explain: Explain::Full,
        jobs: 1,
        ..Options::default()
    };
    let report = check(&Register { initial: Value::Nil }, &raw, &options).unwrap();
    let c = report.counterexample.as_ref().unwrap();
    assert_eq!(c.first_bad_return, Some(3));
    assert_eq!((c.blocked, c.prefix.len()), (3, 2), "{}", report.to_text());
}

/// An op that returned at `u64::MAX` ties with the returns of
/// indeterminate ops, which the search puts "at infinity" there; one
/// called earlier must not end the search before the op is placed. (The
/// library API only: parsed histories number events from 0.)
#[test]
fn an_op_returning_at_the_last_instant_must_still_be_placed() {
    let nil = || Some(Value::Nil);
    let ops = vec![
        op(0, "write", Value::Int(1), nil(), 0, Some(1)),
        op(1, "write", Value::Int(2), None, 0, None),
        op(2, "read", Value::Nil, nil(), 2, Some(u64::MAX)),
    ];
    // The read of nil follows the write of 1, and nobody writes nil.
    assert_eq!(
        verdict_of(&Register { initial: Value::Nil }, ops),
        LinVerdict::NotLinearizable
    );
}

// ---------------------------------------------------------------------------
// Explanations.

/// Reads a state back from how counterexamples show it.
type Parse<'a, M> = Option<&'a dyn Fn(&str) -> <M as Model>::State>;

/// The ops as they stand just after `t`: later calls gone, ops still
/// running made indeterminate (as the explanation cuts them).
fn cut<M: Model>(ops: &[Op<M>], t: u64) -> Vec<Op<M>> {
    ops.iter()
        .filter(|o| o.call <= t)
        .map(|o| {
            let mut o = o.clone();
            if o.ret.is_none_or(|r| r > t) {
                o.ret = None;
                o.output = None;
            }
            o
        })
        .collect()
}

/// The partition `c` names, as the checker searched it: unfinished
/// read-only ops left out, and writes no op could see.
fn failing_partition<M: Model>(model: &M, raw: &RawHistory, c: &Counterexample) -> Vec<Op<M>> {
    let all = ops(model, raw).unwrap();
    let (_, part) = split(model, &all)
        .into_iter()
        .find(|(label, _)| *label == c.partition)
        .expect("the counterexample names a partition");
    let part: Vec<Op<M>> = part
        .into_iter()
        .filter(|o| o.ret.is_some() || !model.is_read_only(&o.input))
        .collect();
    // Nor the writes no op could see.
    let pairs: Vec<(&M::Input, Option<&M::Output>)> = part.iter().map(|o| (&o.input, o.output.as_ref())).collect();
    let open: Vec<bool> = part.iter().map(|o| o.ret.is_none()).collect();
    let unseen = model.unseen(&pairs, &open);
    let searched = (0..part.len()).filter(|i| !unseen.contains(i));
    searched.map(|i| part[i].clone()).collect()
}

/// The first bad return is exact: the cut at it fails, the cut at the
/// return before it passes, and of returns at the same time it is the
/// first. The window fails from every start state (when states can be read
/// back), and holds the blocked op.
fn assert_explanation<M: Model>(model: &M, raw: &RawHistory, c: &Counterexample, parse: Parse<M>, what: &str) {
    let part = failing_partition(model, raw, c);
    let init = model.init();
    assert!(
        !brute::linearizable(model, &init, &part),
        "{what}: the partition passes"
    );
    if c.first_bad_return.is_none() {
        // Only an impossible op (refuted without a search) leaves it open:
        // one that returned, and that no state reachable allows.
        let (_, reachable) = brute_partial(model, &init, &part);
        let never = |o: &Op<M>| {
            reachable
                .iter()
                .all(|s| model.step(s, &o.input, o.output.as_ref()).is_none())
        };
        assert!(
            part.iter().any(|o| o.ret.is_some() && never(o)),
            "{what}: the first bad return is not pinned down"
        );
    }
    if let Some(bad) = c.first_bad_return {
        let at = part.iter().position(|o| o.id == bad).expect("in the partition");
        let t = part[at].ret.expect("it returned");
        assert!(
            !brute::linearizable(model, &init, &cut(&part, t)),
            "{what}: the cut at the first bad return passes"
        );
        if let Some(before) = part.iter().filter_map(|o| o.ret).filter(|&r| r < t).max() {
            assert!(
                brute::linearizable(model, &init, &cut(&part, before)),
                "{what}: the cut before the first bad return fails too"
            );
        }
        assert!(
            part[..at].iter().all(|o| o.ret != Some(t)),
            "{what}: an op earlier in call order returns at the same time"
        );
    }
    assert!(
        c.window.iter().any(|v| v.id == c.blocked),
        "{what}: blocked op outside the window"
    );
    // A window cut at a quiescent point stands on its own (an impossible
    // op's stands alone): every op called before the window's first op
    // that returned is in it, or returned before that call (one that
    // never returned goes into the window wherever it was called); and
    // the window starts from every state the ops before it can leave.
    let in_window = |o: &Op<M>| c.window.iter().any(|v| v.id == o.id);
    let first = c.window.iter().filter(|v| v.ret.is_some()).map(|v| v.call).min();
    let before: Vec<Op<M>> = match first.filter(|_| c.first_bad_return.is_some()) {
        Some(first) => part
            .iter()
            .filter(|o| o.call < first && !in_window(o))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    assert!(
        before.iter().all(|o| o.ret.is_some_and(|r| Some(r) < first)),
        "{what}: an op before the window is left out of it but was still open"
    );
    if let Some(parse) = parse {
        let starts: Vec<M::State> = c.start_states.iter().map(|s| parse(s)).collect();
        for end in brute_finals(model, &init, &before) {
            assert!(
                starts.contains(&end),
                "{what}: the ops before the window can end in a state it does not start from"
            );
        }
        let window: Vec<Op<M>> = c
            .window
            .iter()
            .map(|v| {
                let mut o = part.iter().find(|o| o.id == v.id).expect("window op").clone();
                if v.ret.is_none() {
                    (o.ret, o.output) = (None, None);
                }
                o
            })
            .collect();
        for s in &c.start_states {
            assert!(
                !brute::linearizable(model, &parse(s), &window),
                "{what}: the window passes from {s}"
            );
        }
    }
}

fn explained<M: Model>(subject: &Subject<M>, cases: usize, parse: Parse<M>) -> usize {
    let mut rng = subject.rng(2);
    let mut explained = 0;
    for case in 0..cases {
        let model = (subject.make)(&mut rng);
        let raw = history(&mut rng, &SMALL, subject.gen_op);
        let options = Options {
            explain: Explain::Full,
            jobs: 1,
            ..Options::default()
        };
        let report = check(&model, &raw, &options).unwrap();
        let Some(c) = &report.counterexample else { continue };
        explained += 1;
        let what = format!("{} case {case}: {}\n{raw:#?}", subject.name, report.to_text());
        assert_explanation(&model, &raw, c, parse, &what);
    }
    assert!(explained > cases / 10, "{}: {explained} explained", subject.name);
    explained
}

fn parse_value(s: &str) -> Value {
    Value::parse_literal(s).unwrap()
}

#[test]
fn explanations_pin_down_the_first_bad_return() {
    explained(
        &Subject {
            name: "register",
            make: &|r| Register { initial: value(r) },
            start: &value,
            gen_op: &|r| register_op(r, false),
        },
        600,
        Some(&parse_value),
    );
    explained(
        &Subject {
            name: "cas-register",
            make: &|r| CasRegister { initial: value(r) },
            start: &value,
            gen_op: &|r| register_op(r, true),
        },
        600,
        Some(&parse_value),
    );
    explained(
        &Subject {
            name: "kv",
            make: &|r| Kv { initial: kv_initial(r) },
            start: &|r| KvValue::of(&text(r)),
            gen_op: &|r| kv_op(r, true),
        },
        600,
        Some(&|s| KvValue::of(&parse_value(s))),
    );
    explained(
        &Subject {
            name: "multi-register",
            make: &|_| MultiRegister { initial: Value::Int(0) },
            start: &|_| BTreeMap::new(),
            gen_op: &txn_op,
        },
        600,
        None,
    );
    explained(
        &Subject {
            name: "mutex",
            make: &|_| Mutex,
            start: &|_| false,
            gen_op: &lock_op,
        },
        600,
        Some(&|s: &str| s == "locked"),
    );
}

/// A counterexample's blocked op is the one whose return comes first once
/// the prefix is placed (the search could place it nowhere before its
/// return), or, with an empty prefix, an op no state the window reaches
/// allows (an impossible op). The prefix is a partial linearization of the
/// window. (Found the impossible-op shortcut judging windows from the
/// model's initial value, at random.)
#[test]
fn counterexamples_block_on_the_first_return_or_an_impossible_op() {
    let model = CasRegister { initial: Value::Nil };
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    for case in 0..3_000 {
        let raw = history(&mut rng, &SMALL, &|r| register_op(r, true));
        let options = Options {
            explain: Explain::Full,
            jobs: 1,
            ..Options::default()
        };
        let report = check(&model, &raw, &options).unwrap();
        let Some(c) = &report.counterexample else { continue };
        let what = format!("case {case}: {}\n{raw:#?}", report.to_text());
        let part = failing_partition(&model, &raw, c);
        let window: Vec<Op<CasRegister>> = c
            .window
            .iter()
            .map(|v| {
                let mut o = part.iter().find(|o| o.id == v.id).unwrap().clone();
                if v.ret.is_none() {
                    (o.ret, o.output) = (None, None);
                }
                o
            })
            .collect();
        let at = |id: usize| window.iter().position(|o| o.id == id).unwrap();
        let starts: Vec<Value> = c.start_states.iter().map(|s| parse_value(s)).collect();
        // The prefix replays from a start state, each op allowed next.
        let mut placed = 0u32;
        for (id, _) in &c.prefix {
            assert!(
                may_go_next(&window, placed, at(*id)),
                "{what}: the prefix breaks real time"
            );
            placed |= 1 << at(*id);
        }
        let replays = |s: &Value| {
            let mut state = s.clone();
            c.prefix.iter().all(|(id, _)| {
                let o = &window[at(*id)];
                model
                    .step(&state, &o.input, o.output.as_ref())
                    .map(|next| state = next)
                    .is_some()
            })
        };
        assert!(starts.iter().any(replays), "{what}: the prefix does not replay");
        let blocked = &window[at(c.blocked)];
        let first_return = blocked
            .ret
            .is_some_and(|r| (0..window.len()).all(|i| placed & (1 << i) != 0 || window[i].ret.is_none_or(|q| q >= r)));
        let never = c.prefix.is_empty()
            && starts.iter().any(|s| {
                let (_, reachable) = brute_partial(&model, s, &window);
                reachable
                    .iter()
                    .all(|s| model.step(s, &blocked.input, blocked.output.as_ref()).is_none())
            });
        assert!(first_return || never, "{what}: the blocked op is neither");
    }
}

// ---------------------------------------------------------------------------
// Large histories: linearizable by construction, or with one violation.

/// When an op ran and (for those that took effect) the point at which it
/// did. Times are distinct and even.
#[derive(Clone, Debug)]
struct Slot {
    process: u64,
    call: u64,
    ret: Option<u64>,
    point: f64,
    effect: bool,
}

/// `n` ops of `processes` processes, at most `max_lost` of them never
/// returning. Each op takes effect at a random point of its interval;
/// one that never returned takes effect (somewhere after its call) or not.
fn schedule(rng: &mut ChaCha8Rng, n: usize, processes: u64, max_lost: usize) -> Vec<Slot> {
    let mut live: Vec<u64> = (0..processes).collect();
    let mut open: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let (mut started, mut lost, mut time, mut next_process) = (0, 0, 0u64, processes);
    let mut slots = Vec::new();
    let mut pending_lost = Vec::new();
    while started < n || !open.is_empty() {
        time += 2;
        let i = rng.gen_range(0..live.len());
        let p = live[i];
        if let Some(&(process, call)) = open.get(&p) {
            if lost < max_lost && rng.gen_bool(0.05) {
                open.remove(&p);
                lost += 1;
                pending_lost.push((process, call));
                live[i] = next_process;
                next_process += 1;
            } else if rng.gen_bool(0.5) {
                open.remove(&p);
                let point = call as f64 + rng.gen_range(0.0..1.0) * (time - call) as f64;
                slots.push(Slot {
                    process,
                    call,
                    ret: Some(time),
                    point,
                    effect: true,
                });
            }
        } else if started < n {
            open.insert(p, (p, time));
            started += 1;
        }
    }
    let end = time + 2;
    for (process, call) in pending_lost {
        slots.push(Slot {
            process,
            call,
            ret: None,
            point: call as f64 + rng.gen_range(0.0..1.0) * (end - call) as f64,
            effect: rng.gen_bool(0.5),
        });
    }
    slots.sort_by_key(|s| s.call);
    slots
}

/// Slot indices in the order the ops took effect.
fn by_point(slots: &[Slot]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..slots.len()).collect();
    order.sort_by(|&a, &b| slots[a].point.total_cmp(&slots[b].point));
    order
}

fn raw_op(s: &Slot, f: &str, key: Option<Value>, input: Value, output: Option<Value>) -> RawOp {
    RawOp {
        process: s.process,
        f: f.into(),
        key,
        input,
        output: output.filter(|_| s.ret.is_some()),
        call: s.call,
        ret: s.ret,
        line: 0,
    }
}

fn finish(mut ops: Vec<RawOp>) -> RawHistory {
    ops.sort_by_key(|o| o.call);
    for (i, o) in ops.iter_mut().enumerate() {
        o.line = i + 1;
    }
    RawHistory { ops, failed: 0 }
}

/// Register ops (with cas if `with_cas`; over `keys` kv keys if any),
/// their outputs those of one register in point order; every value written
/// is new. Some outputs are left unknown.
fn register_history(rng: &mut ChaCha8Rng, slots: &[Slot], with_cas: bool, keys: usize) -> RawHistory {
    let mut state: BTreeMap<usize, Value> = BTreeMap::new();
    let mut fresh = 0;
    let mut ops = vec![None; slots.len()];
    for i in by_point(slots) {
        let s = &slots[i];
        let k = rng.gen_range(0..keys.max(1));
        let key = (keys > 0).then(|| Value::Str(format!("k{k}")));
        let now = state.get(&k).cloned().unwrap_or(Value::Nil);
        let took = s.effect;
        let unknown = rng.gen_bool(0.1);
        let names = if keys > 0 { ["get", "put"] } else { ["read", "write"] };
        let roll = rng.gen_range(0..10);
        let op = if roll < 5 {
            let out = (!unknown).then_some(now);
            raw_op(s, names[0], key, Value::Nil, out)
        } else if roll < 8 || !with_cas {
            fresh += 1;
            if took {
                state.insert(k, Value::Int(fresh));
            }
            raw_op(s, names[1], key, Value::Int(fresh), Some(Value::Nil))
        } else {
            fresh += 1;
            let from = if rng.gen_bool(0.6) {
                now.clone()
            } else {
                Value::Int(rng.gen_range(0..=fresh))
            };
            let applies = from == now;
            if took && applies {
                state.insert(k, Value::Int(fresh));
            }
            let out = (!unknown).then_some(Value::Bool(applies));
            raw_op(s, "cas", key, Value::List(vec![from, Value::Int(fresh)]), out)
        };
        ops[i] = Some(op);
    }
    finish(ops.into_iter().map(Option::unwrap).collect())
}

/// Transactions over three registers, outputs those of one store in point
/// order (some reads reported as nil); every value written is new.
fn txn_history(rng: &mut ChaCha8Rng, slots: &[Slot]) -> RawHistory {
    let mut state: BTreeMap<Value, Value> = BTreeMap::new();
    let mut fresh = 0;
    let mut ops = vec![None; slots.len()];
    for i in by_point(slots) {
        let s = &slots[i];
        let read_only = rng.gen_bool(0.5);
        let (mut input, mut output) = (Vec::new(), Vec::new());
        for _ in 0..rng.gen_range(1..=3) {
            let k = keyword(["x", "y", "z"][rng.gen_range(0..3)]);
            let micro = |f: &str, v: Value| Value::List(vec![keyword(f), k.clone(), v]);
            if read_only || rng.gen_bool(0.4) {
                let seen = if rng.gen_bool(0.1) {
                    Value::Nil
                } else {
                    state.get(&k).cloned().unwrap_or(Value::Int(0))
                };
                input.push(micro("read", Value::Nil));
                output.push(micro("read", seen));
            } else {
                fresh += 1;
                if s.effect {
                    state.insert(k.clone(), Value::Int(fresh));
                }
                input.push(micro("write", Value::Int(fresh)));
                output.push(micro("write", Value::Int(fresh)));
            }
        }
        let op = raw_op(s, "txn", None, Value::List(input), Some(Value::List(output)));
        ops[i] = Some(op);
    }
    finish(ops.into_iter().map(Option::unwrap).collect())
}

/// A lock taken and released in point order, by anyone.
fn lock_history(slots: &[Slot]) -> RawHistory {
    let mut locked = false;
    let mut ops = vec![None; slots.len()];
    for i in by_point(slots) {
        let s = &slots[i];
        let f = if locked { "release" } else { "acquire" };
        if s.effect {
            locked = !locked;
        }
        ops[i] = Some(raw_op(s, f, None, Value::Nil, Some(Value::Nil)));
    }
    finish(ops.into_iter().map(Option::unwrap).collect())
}

/// Makes one read at or after call index `at` return a value that no
/// order allows, though someone wrote it: a value written (by an op that
/// returned) before another write that returned before the read was
/// called. Returns the read's index. Reads of txns count, key by key.
fn stale_read(raw: &mut RawHistory, at: usize) -> Option<usize> {
    // (index, key, value written last) of the writes that returned.
    let writes: Vec<(usize, Option<Value>, Value)> = raw
        .ops
        .iter()
        .enumerate()
        .filter(|(_, o)| o.ret.is_some())
        .flat_map(|(i, o)| -> Vec<(usize, Option<Value>, Value)> {
            match o.f.as_str() {
                "write" | "put" => vec![(i, o.key.clone(), o.input.clone())],
                "txn" => {
                    let mut last: BTreeMap<Value, Value> = BTreeMap::new();
                    for m in o.input.as_list().unwrap() {
                        if let [f, k, v] = m.as_list().unwrap() {
                            if *f == keyword("write") {
                                last.insert(k.clone(), v.clone());
                            }
                        }
                    }
                    last.into_iter().map(|(k, v)| (i, Some(k), v)).collect()
                }
                _ => vec![],
            }
        })
        .collect();
    for r in at..raw.ops.len() {
        let o = &raw.ops[r];
        let (Some(_), Some(output)) = (o.ret, &o.output) else {
            continue;
        };
        // The key read (for a txn, its first read of a value).
        let (key, seen, micro) = match o.f.as_str() {
            "read" | "get" => (o.key.clone(), output.clone(), None),
            "txn" => {
                let Some((m, k, v)) = output.as_list().unwrap().iter().enumerate().find_map(|(m, micro)| {
                    let [f, k, v] = micro.as_list().unwrap() else {
                        return None;
                    };
                    (*f == keyword("read") && *v != Value::Nil).then(|| (m, k.clone(), v.clone()))
                }) else {
                    continue;
                };
                (Some(k), v, Some(m))
            }
            _ => continue,
        };
        let before = |i: usize, j: usize| raw.ops[i].ret.is_some_and(|ret| ret < raw.ops[j].call);
        let found = writes.iter().find_map(|(x, kx, _)| {
            if *kx != key || !before(*x, r) {
                return None;
            }
            writes
                .iter()
                .find(|(y, ky, vy)| *ky == key && before(*y, *x) && *vy != seen)
                .map(|(_, _, vy)| vy.clone())
        });
        let Some(old) = found else { continue };
        let o = &mut raw.ops[r];
        match micro {
            None => o.output = Some(old),
            Some(m) => {
                let Some(Value::List(micros)) = &mut o.output else {
                    unreachable!()
                };
                let Value::List(parts) = &mut micros[m] else {
                    unreachable!()
                };
                parts[2] = old;
            }
        }
        return Some(r);
    }
    None
}

/// The search, the search without shortcuts, and the check with one and
/// two jobs all give `want`; a witness replays.
fn assert_large<M: Model>(model: &M, raw: &RawHistory, want: bool, what: &str) {
    let all = ops(model, raw).unwrap();
    let init = model.init();
    let mut truth = true;
    for (label, part) in split(model, &all) {
        let what = format!("{what} {label} ({} ops)", part.len());
        let outcome = search(model, &init, &part, &Budget::unlimited());
        if let Outcome::Linearizable(order) = &outcome {
            assert_witness(model, &init, &part, order, &what);
        }
        let found = match outcome {
            Outcome::Linearizable(_) => true,
            Outcome::NotLinearizable(_) => false,
            other => panic!("{what}: {other:?}"),
        };
        let plain = rewrap::<M, Plain<M>>(&part);
        let plain = search(&Wrapped::<M, false>(model), &init, &plain, &Budget::unlimited());
        assert_eq!(
            matches!(plain, Outcome::Linearizable(_)),
            found,
            "{what}: the search without shortcuts disagrees"
        );
        truth &= found;
    }
    assert_eq!(truth, want, "{what}");
    for jobs in [1, 2] {
        let options = Options {
            jobs,
            explain: Explain::None,
            ..Options::default()
        };
        assert_eq!(
            check(model, raw, &options).unwrap().verdict,
            verdict(want),
            "{what} jobs {jobs}"
        );
    }
}

/// Partition sizes around the bitset's 64-op words.
const SIZES: [usize; 8] = [63, 64, 65, 127, 128, 129, 192, 193];

#[test]
fn large_register_histories_around_word_edges() {
    let mut rng = ChaCha8Rng::seed_from_u64(64);
    for n in SIZES {
        for with_cas in [false, true] {
            let model = CasRegister { initial: Value::Nil };
            let what = format!("n {n} cas {with_cas}");
            let slots = schedule(&mut rng, n, 3, 2);
            let good = register_history(&mut rng, &slots, with_cas, 0);
            assert_large(&model, &good, true, &what);
            // The violation near the end: the search fails with about n ops
            // placed, across the word edges at these sizes.
            let mut bad = good.clone();
            let r = stale_read(&mut bad, n - 3).or_else(|| stale_read(&mut bad, n / 2));
            let r = r.expect("a read to make stale");
            assert_large(&model, &bad, false, &format!("{what} stale read {r}"));
            // Each cut before the stale read's return is linearizable (by
            // construction), the cut at it is not: the first bad return.
            let options = Options {
                jobs: 1,
                explain: Explain::Full,
                ..Options::default()
            };
            let report = check(&model, &bad, &options).unwrap();
            let c = report.counterexample.as_ref().expect("explained");
            assert_eq!(c.first_bad_return, Some(r), "{what}: {}", report.to_text());
        }
    }
}

#[test]
fn large_kv_histories_around_word_edges() {
    let mut rng = ChaCha8Rng::seed_from_u64(65);
    let model = Kv { initial: Value::Nil };
    for n in SIZES {
        // Two keys: partitions of about n/2 ops, and the whole of n ops
        // checked key by key.
        let slots = schedule(&mut rng, 2 * n, 4, 3);
        let good = register_history(&mut rng, &slots, true, 2);
        assert_large(&model, &good, true, &format!("kv n {n}"));
        let mut bad = good.clone();
        let r = stale_read(&mut bad, n).expect("a read to make stale");
        assert_large(&model, &bad, false, &format!("kv n {n} stale read {r}"));
    }
}

#[test]
fn large_multi_register_histories_around_word_edges() {
    let mut rng = ChaCha8Rng::seed_from_u64(66);
    let model = MultiRegister { initial: Value::Int(0) };
    for n in SIZES {
        let slots = schedule(&mut rng, n, 3, 2);
        let good = txn_history(&mut rng, &slots);
        assert_large(&model, &good, true, &format!("txn n {n}"));
        let mut bad = good.clone();
        let r = stale_read(&mut bad, n - 3).or_else(|| stale_read(&mut bad, n / 2));
        let r = r.expect("a read to make stale");
        assert_large(&model, &bad, false, &format!("txn n {n} stale read {r}"));
    }
}

#[test]
fn large_mutex_histories_around_word_edges() {
    let mut rng = ChaCha8Rng::seed_from_u64(67);
    for n in SIZES {
        let slots = schedule(&mut rng, n, 3, 0);
        let mut good = lock_history(&slots);
        // Free at the end: one more release by then if it is held.
        let held =
            good.ops.iter().filter(|o| o.f == "acquire").count() > good.ops.iter().filter(|o| o.f == "release").count();
        let end = good.ops.iter().filter_map(|o| o.ret).max().unwrap();
        if held {
            good.ops
                .push(op(999, "release", Value::Nil, Some(Value::Nil), end + 2, Some(end + 4)));
        }
        assert_large(&Mutex, &good, true, &format!("mutex n {n}"));
        // One release more than acquires, overlapping ops near op n - 3:
        // no order can have it.
        let at = &good.ops[n - 3];
        let extra = op(
            998,
            "release",
            Value::Nil,
            Some(Value::Nil),
            at.call + 1,
            Some(at.call + 5),
        );
        let mut bad = good.clone();
        bad.ops.push(extra);
        let bad = finish(bad.ops);
        assert_large(&Mutex, &bad, false, &format!("mutex n {n} extra release"));
    }
}

/// Random changes to large histories (reads of other values written, cas
/// outcomes flipped, outputs forgotten): the search with its shortcuts
/// and without them agree.
#[test]
fn large_perturbed_histories_agree_with_the_plain_search() {
    let mut rng = ChaCha8Rng::seed_from_u64(68);
    let model = CasRegister { initial: Value::Nil };
    let (mut yes, mut no) = (0, 0);
    for case in 0..60 {
        let n = [63, 64, 65, 100, 128, 129][case % 6];
        let slots = schedule(&mut rng, n, 3, 2);
        let mut raw = register_history(&mut rng, &slots, true, 0);
        let written: Vec<Value> = raw
            .ops
            .iter()
            .filter(|o| o.f == "write")
            .map(|o| o.input.clone())
            .collect();
        for _ in 0..rng.gen_range(1..=2) {
            let i = rng.gen_range(0..raw.ops.len());
            let o = &mut raw.ops[i];
            match (o.f.as_str(), &o.output) {
                ("read", Some(_)) => o.output = Some(written[rng.gen_range(0..written.len())].clone()),
                ("cas", Some(Value::Bool(b))) => o.output = Some(Value::Bool(!b)),
                _ => o.output = None,
            }
        }
        let all = ops(&model, &raw).unwrap();
        let init = model.init();
        let with = search(&model, &init, &all, &Budget::unlimited());
        let plain = rewrap::<CasRegister, Plain<CasRegister>>(&all);
        let without = search(
            &Wrapped::<CasRegister, false>(&model),
            &init,
            &plain,
            &Budget::unlimited(),
        );
        match (&with, &without) {
            (Outcome::Linearizable(order), Outcome::Linearizable(_)) => {
                assert_witness(&model, &init, &all, order, &format!("case {case}"));
                yes += 1;
            }
            (Outcome::NotLinearizable(_), Outcome::NotLinearizable(_)) => no += 1,
            _ => panic!("case {case}: {with:?} vs {without:?}\n{raw:#?}"),
        }
    }
    assert!(yes > 5 && no > 5, "{yes} yes, {no} no");
}

// ---------------------------------------------------------------------------
// Jobs, memory shares, rounds that resume.

fn kv_report(raw: &RawHistory, jobs: usize, memory_bytes: usize, explain: Explain) -> Report {
    let options = Options {
        jobs,
        memory_bytes,
        explain,
        timeout: Some(Duration::from_secs(120)),
        ..Options::default()
    };
    check(&Kv { initial: Value::Nil }, raw, &options).unwrap()
}

/// What a report says that must not depend on `--jobs`: the verdict, why
/// it is unknown, and which partition fails.
fn gist(r: &Report) -> (LinVerdict, Vec<String>, Option<String>) {
    let partition = r.counterexample.as_ref().map(|c| c.partition.clone());
    (r.verdict, r.unknown.clone(), partition)
}

#[test]
fn small_histories_get_one_verdict_for_any_jobs_and_tiny_memory() {
    let mut rng = ChaCha8Rng::seed_from_u64(69);
    let model = Kv { initial: Value::Nil };
    let three_keys = |r: &mut ChaCha8Rng| {
        let appends = r.gen_bool(0.3);
        let (f, _, input, output) = kv_op(r, appends);
        (
            f,
            Some(Value::Str(["a", "b", "c"][r.gen_range(0..3)].into())),
            input,
            output,
        )
    };
    let shape = Shape { max_ops: 14, ..SMALL };
    let mut unknown = 0;
    for case in 0..150 {
        let raw = history(&mut rng, &shape, &three_keys);
        let all = ops(&model, &raw).unwrap();
        let truth = split(&model, &all)
            .iter()
            .all(|(_, part)| brute::linearizable(&model, &model.init(), part));
        for memory in [0, 300, 600, 900, 1_200, 2_500, 5_000, 1 << 20] {
            let one = kv_report(&raw, 1, memory, Explain::None);
            assert!(
                one.verdict == verdict(truth) || (one.verdict == LinVerdict::Unknown && memory < 1 << 20),
                "case {case} memory {memory}: {:?} {:?}\n{raw:#?}",
                one.verdict,
                one.unknown
            );
            unknown += usize::from(one.verdict == LinVerdict::Unknown);
            for jobs in [2, 4] {
                let other = kv_report(&raw, jobs, memory, Explain::None);
                assert_eq!(gist(&one), gist(&other), "case {case} memory {memory} jobs {jobs}");
            }
        }
    }
    assert!(unknown > 20, "the budgets are too large to matter: {unknown} unknown");
}

/// `writers` concurrent puts of "0".., then reads: of "0" and then "1"
/// (no order gives both), or of "0" twice (the put of "0" last: found
/// late). Either takes thousands of steps, past the first rounds.
fn wide(key: &str, writers: u64, from: u64, linearizable: bool) -> Vec<RawOp> {
    let kv = |f: &str, input: Value, output: Value, call: u64, ret: u64| RawOp {
        key: Some(Value::Str(key.into())),
        ..op(from + call, f, input, Some(output), from + call, Some(from + ret))
    };
    let mut ops: Vec<RawOp> = (0..writers)
        .map(|p| kv("put", Value::Str(p.to_string()), Value::Nil, p, writers + p))
        .collect();
    let second = if linearizable { "0" } else { "1" };
    ops.push(kv(
        "get",
        Value::Nil,
        Value::Str("0".into()),
        2 * writers,
        2 * writers + 1,
    ));
    ops.push(kv(
        "get",
        Value::Nil,
        Value::Str(second.into()),
        2 * writers + 2,
        2 * writers + 3,
    ));
    ops
}

/// Keys of every kind: wide ones that take rounds (failing or not), large
/// ones by construction (with a stale read or not), small ones that fail
/// at once; in different orders.
fn many_keys(rng: &mut ChaCha8Rng, order: &[usize], per_key: usize) -> (RawHistory, Vec<bool>) {
    let mut ops = Vec::new();
    let mut truth = Vec::new();
    for (slot, &kind) in order.iter().enumerate() {
        let key = format!("k{slot}");
        let from = 10_000 * slot as u64;
        match kind {
            0 | 1 => {
                ops.extend(wide(&key, 11, from, kind == 1));
                truth.push(kind == 1);
            }
            _ => {
                let slots = schedule(rng, per_key, 3, 1);
                let mut part = register_history(rng, &slots, true, 0);
                if kind == 3 {
                    stale_read(&mut part, per_key - 10).expect("a read to make stale");
                }
                for mut o in part.ops {
                    o.f = if o.f == "read" {
                        "get".into()
                    } else if o.f == "write" {
                        "put".into()
                    } else {
                        o.f
                    };
                    o.key = Some(Value::Str(key.clone()));
                    o.call += from;
                    o.ret = o.ret.map(|r| r + from);
                    o.process += 100 * slot as u64;
                    ops.push(o);
                }
                truth.push(kind == 2);
            }
        }
    }
    (finish(ops), truth)
}

#[test]
fn partitions_paused_and_resumed_give_one_verdict_for_any_jobs() {
    let mut rng = ChaCha8Rng::seed_from_u64(70);
    for order in [[1, 2, 0, 3], [3, 1, 0, 2], [0, 1, 2, 2], [1, 2, 1, 2]] {
        let (raw, truth) = many_keys(&mut rng, &order, 70);
        let want = verdict(truth.iter().all(|&t| t));
        let unlimited = kv_report(&raw, 1, usize::MAX >> 1, Explain::None);
        assert_eq!(unlimited.verdict, want, "{order:?}");
        let mut seen = Vec::new();
        for memory in [50_000, 200_000, 400_000, 800_000, 1_600_000, 64 << 20] {
            let one = kv_report(&raw, 1, memory, Explain::Quick);
            assert!(
                one.verdict == want || one.verdict == LinVerdict::Unknown,
                "{order:?} memory {memory}: {:?}",
                one.verdict
            );
            if one.verdict == LinVerdict::NotLinearizable {
                // The failing partition reported is one that fails (not
                // always the first: a later one may fail in an earlier round).
                let c = one.counterexample.as_ref().unwrap();
                let i: usize = c.partition["key \"k".len()..c.partition.len() - 1].parse().unwrap();
                assert!(!truth[i], "{order:?} memory {memory}: reported {}", c.partition);
            }
            for jobs in [2, 4] {
                let other = kv_report(&raw, jobs, memory, Explain::Quick);
                assert_eq!(gist(&one), gist(&other), "{order:?} memory {memory} jobs {jobs}");
            }
            seen.push(one.verdict);
        }
        // The budgets span unknown to decided.
        assert_eq!(seen.last(), Some(&want), "{order:?}: {seen:?}");
    }
}

/// A failing partition that is wide (many rounds) and needs more than its
/// memory share: it pauses, waits for the rounds to end, and resumes with
/// the whole budget, reaching the verdict a search alone reaches.
#[test]
fn a_partition_over_its_share_resumes_to_the_verdict_of_a_search_alone() {
    for linearizable in [false, true] {
        let alone = RawHistory {
            ops: wide("a", 12, 0, linearizable),
            failed: 0,
        };
        // The least budget the partition alone is decided with.
        let (mut lo, mut hi) = (0usize, 64 << 20);
        assert_ne!(kv_report(&alone, 1, hi, Explain::None).verdict, LinVerdict::Unknown);
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            match kv_report(&alone, 1, mid, Explain::None).verdict {
                LinVerdict::Unknown => lo = mid,
                _ => hi = mid,
            }
        }
        let need = hi;
        // With two easy keys after it, its share is a third of the budget;
        // with the whole budget at least `need`, it is decided.
        let mut ops = wide("a", 12, 0, linearizable);
        ops.extend(wide("b", 2, 1_000, true));
        ops.extend(wide("c", 2, 2_000, true));
        let raw = finish(ops);
        for memory in [need, need + need / 7, 2 * need] {
            for jobs in [1, 2, 4] {
                let report = kv_report(&raw, jobs, memory, Explain::None);
                assert_eq!(
                    report.verdict,
                    verdict(linearizable),
                    "linearizable {linearizable} memory {memory} jobs {jobs}: {:?}",
                    report.unknown
                );
            }
        }
        // Two such partitions: the first resumes with all but the second's
        // share.
        let mut ops = wide("a", 12, 0, true);
        ops.extend(wide("b", 12, 1_000, linearizable));
        ops.extend(wide("c", 2, 2_000, true));
        let raw = finish(ops);
        let budget = 2 * need;
        let reports: Vec<_> = [1, 2, 4]
            .into_iter()
            .map(|jobs| gist(&kv_report(&raw, jobs, budget, Explain::None)))
            .collect();
        assert!(reports.iter().all(|r| *r == reports[0]), "{reports:?}");
        assert_eq!(reports[0].0, verdict(linearizable), "{reports:?}");
    }
}

/// A partition that fails at once (an impossible read) after one that
/// takes a search to fail: with several jobs the later one fails first,
/// yet the report names the earlier one, as one job does.
#[test]
fn a_later_partition_failing_first_does_not_change_the_report() {
    let mut rng = ChaCha8Rng::seed_from_u64(71);
    for _ in 0..10 {
        let (mut raw, _) = many_keys(&mut rng, &[3], 190);
        let kv = |key: &str, call: u64| RawOp {
            key: Some(Value::Str(key.into())),
            ..op(
                900 + call,
                "get",
                Value::Nil,
                Some(Value::from("never written")),
                call,
                Some(call + 1),
            )
        };
        raw.ops.extend([kv("k1", 50_000), kv("k2", 50_002), kv("k3", 50_004)]);
        let raw = finish(raw.ops);
        for jobs in [1, 2, 4] {
            let report = kv_report(&raw, jobs, 1 << 30, Explain::Quick);
            assert_eq!(report.verdict, LinVerdict::NotLinearizable, "jobs {jobs}");
            let c = report.counterexample.unwrap();
            assert_eq!(c.partition, "key \"k0\"", "jobs {jobs}");
        }
    }
}

/// `links` concurrent cas ops nil->1, 1->2, ...: one order works, and the
/// search tries it last at every step (it returns last). The first round
/// pauses somewhere in it; for some `links` just where the one op that
/// works is to be tried next. The resumed search must still try it.
#[test]
fn a_search_paused_in_its_only_way_through_resumes_there() {
    let kv = |key: &str, input: Value, call: u64, ret: u64| RawOp {
        key: Some(Value::Str(key.into())),
        ..op(call, "cas", input, Some(Value::Bool(true)), call, Some(ret))
    };
    for links in 150..=200u64 {
        let mut ops: Vec<RawOp> = (0..links)
            .map(|i| {
                let from = if i == 0 { Value::Nil } else { Value::Int(i as i64) };
                let to = Value::Int(i as i64 + 1);
                kv("a", Value::List(vec![from, to]), i, 2 * links - i)
            })
            .collect();
        ops.push(kv("b", Value::List(vec![Value::Nil, Value::Int(1)]), 0, 1));
        let raw = finish(ops);
        for jobs in [1, 2] {
            let report = kv_report(&raw, jobs, 1 << 30, Explain::None);
            assert_eq!(report.verdict, LinVerdict::Linearizable, "links {links} jobs {jobs}");
        }
    }
}

/// A quick explanation stops after a fixed number of search steps
/// (`QUICK_STEPS`), not after a share of the verdict's wall time: one
/// history gets one counterexample on any machine, however loaded. This
/// one needs more steps than that to narrow its window: quick says what it
/// left out, the same each time; full narrows it to the one read.
#[test]
fn a_quick_explanation_stops_at_a_step_count_the_same_every_time() {
    let raw = finish(wide("k", 15, 0, false));
    let quick = || kv_report(&raw, 1, 1 << 30, Explain::Quick).counterexample.unwrap();
    let first = quick();
    assert_eq!(first.left_out, ["the window is the whole partition"]);
    assert!(first.first_bad_return.is_some(), "the prefix step fits the budget");
    assert_eq!(first.window.len(), 17);
    assert_eq!(quick(), first);
    let full = kv_report(&raw, 1, 1 << 30, Explain::Full).counterexample.unwrap();
    assert!(full.left_out.is_empty(), "{:?}", full.left_out);
    assert_eq!(full.window.len(), 1);
}

/// Writes that never returned and that no op could have seen are left out
/// of the search (`Model::unseen`); the verdict must stay what brute force
/// gives over every op. Kv and register histories with many ops that never
/// return, some with cas (where nothing may be left out), writes of nil
/// (never left out: appends build any string on it), of "", and of
/// values that are neither (appends onto them are illegal: a later write
/// of a string may be what let an append take effect), and
/// strings that overlap ("a", "ab"), so a read can see a write inside
/// another value.
#[test]
fn leaving_out_writes_no_op_could_see_keeps_every_verdict() {
    let mut rng = ChaCha8Rng::seed_from_u64(71);
    let shape = Shape {
        max_ops: 10,
        indeterminate: 0.4,
        ..SMALL
    };
    let piece = |r: &mut ChaCha8Rng| -> Value {
        match r.gen_range(0..9) {
            0 => Value::Nil,
            1 => Value::Str(String::new()),
            2 => Value::Int(0),
            3 => Value::Bool(true),
            i => Value::Str(["a", "b", "ab", "ba", "c"][i - 4].into()),
        }
    };
    let read = move |r: &mut ChaCha8Rng| -> Value {
        match (piece(r), piece(r)) {
            (Value::Str(a), Value::Str(b)) if r.gen_bool(0.5) => Value::Str(a + &b),
            (v, _) => v,
        }
    };
    let (mut left_out, mut failing_with) = (0, 0);
    for case in 0..3_000 {
        let with_cas = case % 4 == 0;
        let registers = case % 3 == 0;
        let gen = move |r: &mut ChaCha8Rng| -> Drawn {
            let key = (!registers).then(|| Value::Str("k".into()));
            match r.gen_range(0..if with_cas { 4 } else { 3 }) {
                0 => ("get".into(), key, Value::Nil, Some(read(r))),
                1 => ("put".into(), key, piece(r), Some(Value::Nil)),
                2 if !registers => (
                    "append".into(),
                    key,
                    Value::Str(["a", "b", "c"][r.gen_range(0..3)].into()),
                    Some(Value::Nil),
                ),
                2 => ("get".into(), key, Value::Nil, Some(read(r))),
                _ => (
                    "cas".into(),
                    key,
                    Value::List(vec![piece(r), piece(r)]),
                    Some(Value::Bool(r.gen_bool(0.5))),
                ),
            }
        };
        let raw = history(&mut rng, &shape, &gen);
        let options = Options {
            explain: Explain::None,
            jobs: 1,
            ..Options::default()
        };
        let (truth, report) = if registers {
            let raw = RawHistory {
                ops: raw
                    .ops
                    .iter()
                    .map(|o| RawOp {
                        f: if o.f == "get" {
                            "read".into()
                        } else if o.f == "put" {
                            "write".into()
                        } else {
                            o.f.clone()
                        },
                        ..o.clone()
                    })
                    .collect(),
                failed: 0,
            };
            let model = CasRegister { initial: Value::Nil };
            let all = ops(&model, &raw).unwrap();
            (
                brute::linearizable(&model, &model.init(), &all),
                check(&model, &raw, &options).unwrap(),
            )
        } else {
            let model = Kv { initial: Value::Nil };
            let all = ops(&model, &raw).unwrap();
            let truth = split(&model, &all)
                .iter()
                .all(|(_, part)| brute::linearizable(&model, &model.init(), part));
            (truth, check(&model, &raw, &options).unwrap())
        };
        assert_eq!(
            report.verdict,
            verdict(truth),
            "case {case}: {} left out\n{raw:#?}",
            report.unseen
        );
        left_out += usize::from(report.unseen > 0);
        failing_with += usize::from(report.unseen > 0 && !truth);
    }
    assert!(
        left_out > 300 && failing_with > 50,
        "{left_out} cases left ops out, {failing_with} of them failing"
    );
}
