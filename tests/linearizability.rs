//! The checker against a brute-force one that tries every order, on
//! thousands of small random histories with indeterminate operations, for
//! every model. Also: witnesses replay, partitioning changes no verdict,
//! and counterexample windows really fail.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simulate::check::linear::model::*;
use simulate::check::linear::search::{search, Budget, Op, Outcome};
use simulate::check::linear::{brute, check, LinVerdict, Options};
use simulate::core::Value;
use simulate::history::raw::{RawHistory, RawOp};
use std::collections::BTreeMap;

const CASES: usize = 5_000;

/// Draws one operation: (f, key, input, output).
type GenOp = dyn Fn(&mut ChaCha8Rng) -> (String, Option<Value>, Value, Option<Value>);

/// A random history of up to 8 ops over 1-4 processes; some ops never
/// return. Outputs are drawn from a small domain so that both verdicts
/// are common.
fn history(rng: &mut ChaCha8Rng, gen_op: &GenOp) -> RawHistory {
    let n_ops = rng.gen_range(1..=8);
    let processes = rng.gen_range(1..=4u64);
    let mut open: BTreeMap<u64, RawOp> = BTreeMap::new();
    let mut ops = Vec::new();
    let mut time = 0;
    let mut started = 0;
    let mut next_process = processes;
    let mut live: Vec<u64> = (0..processes).collect();
    while started < n_ops || !open.is_empty() {
        let p = live[rng.gen_range(0..live.len())];
        if let Some(mut op) = open.remove(&p) {
            // Complete it; sometimes it never returns (indeterminate), and
            // the process carries on under a new id, as in Jepsen.
            if rng.gen_bool(0.15) {
                op.output = None;
                ops.push(op);
                let slot = live.iter().position(|&x| x == p).unwrap();
                live[slot] = next_process;
                next_process += 1;
            } else {
                op.ret = Some(time);
                if rng.gen_bool(0.1) {
                    op.output = None;
                }
                ops.push(op);
            }
        } else if started < n_ops {
            let (f, key, input, output) = gen_op(rng);
            open.insert(
                p,
                RawOp {
                    process: p,
                    f,
                    key,
                    input,
                    output,
                    call: time,
                    ret: None,
                    line: 0,
                },
            );
            started += 1;
        }
        time += 1;
    }
    ops.sort_by_key(|o| o.call);
    RawHistory { ops, failed: 0 }
}

fn small(rng: &mut ChaCha8Rng) -> Value {
    match rng.gen_range(0..4) {
        0 => Value::Nil,
        i => Value::Int(i),
    }
}

fn register_op(rng: &mut ChaCha8Rng, with_cas: bool) -> (String, Option<Value>, Value, Option<Value>) {
    match rng.gen_range(0..if with_cas { 3 } else { 2 }) {
        0 => ("read".into(), None, Value::Nil, Some(small(rng))),
        1 => ("write".into(), None, small(rng), Some(Value::Nil)),
        _ => {
            let args = Value::List(vec![small(rng), small(rng)]);
            ("cas".into(), None, args, Some(Value::Bool(rng.gen_bool(0.5))))
        }
    }
}

fn kv_op(rng: &mut ChaCha8Rng) -> (String, Option<Value>, Value, Option<Value>) {
    let key = Some(Value::Str(["a", "b"][rng.gen_range(0..2)].into()));
    let text = |rng: &mut ChaCha8Rng| Value::Str(["", "x", "y", "xy", "yx"][rng.gen_range(0..5)].into());
    match rng.gen_range(0..4) {
        0 => ("get".into(), key, Value::Nil, Some(text(rng))),
        1 => ("put".into(), key, text(rng), Some(Value::Nil)),
        2 => (
            "append".into(),
            key,
            Value::Str(["x", "y"][rng.gen_range(0..2)].into()),
            Some(Value::Nil),
        ),
        _ => (
            "cas".into(),
            key,
            Value::List(vec![text(rng), text(rng)]),
            Some(Value::Bool(rng.gen_bool(0.5))),
        ),
    }
}

fn txn_op(rng: &mut ChaCha8Rng) -> (String, Option<Value>, Value, Option<Value>) {
    let micro = |rng: &mut ChaCha8Rng| {
        let f = Value::Keyword(if rng.gen_bool(0.5) { "read" } else { "write" }.into());
        let k = Value::Keyword(if rng.gen_bool(0.5) { "x" } else { "y" }.into());
        Value::List(vec![f, k, small(rng)])
    };
    let txn = Value::List((0..rng.gen_range(1..=2)).map(|_| micro(rng)).collect());
    ("txn".into(), None, txn.clone(), Some(txn))
}

fn lock_op(rng: &mut ChaCha8Rng) -> (String, Option<Value>, Value, Option<Value>) {
    let f = if rng.gen_bool(0.5) { "acquire" } else { "release" };
    (f.into(), None, Value::Nil, Some(Value::Nil))
}

fn ops_of<M: Model>(model: &M, raw: &RawHistory) -> Vec<Op<M>> {
    simulate::check::linear::ops(model, raw).unwrap()
}

/// A witness must respect real time, include every op that returned, and
/// be legal step by step.
fn assert_witness<M: Model>(model: &M, ops: &[Op<M>], order: &[usize]) {
    let mut state = model.init();
    for (k, &i) in order.iter().enumerate() {
        state = model
            .step(&state, &ops[i].input, ops[i].output.as_ref())
            .expect("witness steps are legal");
        for &j in &order[k + 1..] {
            assert!(ops[j].ret.is_none_or(|r| r >= ops[i].call), "witness breaks real time");
        }
    }
    for (i, o) in ops.iter().enumerate() {
        assert!(
            o.ret.is_none() || order.contains(&i),
            "witness leaves out a completed op"
        );
    }
}

fn compare<M: Model>(name: &str, model: &M, gen_op: &GenOp) {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let (mut yes, mut no) = (0, 0);
    for case in 0..CASES {
        let raw = history(&mut rng, gen_op);
        let ops = ops_of(model, &raw);
        let expected = brute::linearizable(model, &model.init(), &ops);
        match search(model, &model.init(), &ops, &Budget::unlimited()) {
            Outcome::Linearizable(order) => {
                assert!(
                    expected,
                    "{name} case {case}: search says linearizable, brute force does not: {raw:#?}"
                );
                assert_witness(model, &ops, &order);
                yes += 1;
            }
            Outcome::NotLinearizable(_) => {
                assert!(
                    !expected,
                    "{name} case {case}: search says not linearizable, brute force does: {raw:#?}"
                );
                no += 1;
            }
            other => panic!("{name} case {case}: {other:?}"),
        }
    }
    assert!(
        yes > CASES / 10 && no > CASES / 10,
        "{name}: a poor mix of verdicts ({yes} yes, {no} no)"
    );
}

#[test]
fn register_agrees_with_brute_force() {
    compare("register", &Register { initial: Value::Nil }, &|r| {
        register_op(r, false)
    });
}

#[test]
fn cas_register_agrees_with_brute_force() {
    compare("cas-register", &CasRegister { initial: Value::Int(0) }, &|r| {
        register_op(r, true)
    });
}

#[test]
fn kv_agrees_with_brute_force_per_partition() {
    compare(
        "kv",
        &Kv {
            initial: Value::Str(String::new()),
        },
        &kv_op,
    );
}

#[test]
fn multi_register_agrees_with_brute_force() {
    compare("multi-register", &MultiRegister { initial: Value::Int(0) }, &txn_op);
}

#[test]
fn mutex_agrees_with_brute_force() {
    compare("mutex", &Mutex, &lock_op);
}

/// kv without partitions: one state for every key.
struct WholeKv(Kv);

impl Model for WholeKv {
    type State = BTreeMap<Value, KvValue>;
    type Input = KvOp;
    type Output = RegisterOutput;
    fn init(&self) -> Self::State {
        BTreeMap::new()
    }
    fn step(&self, state: &Self::State, input: &Self::Input, output: Option<&RegisterOutput>) -> Option<Self::State> {
        let current = state.get(&input.key).cloned().unwrap_or_else(|| self.0.init());
        let next = self.0.step(&current, input, output)?;
        let mut state = state.clone();
        state.insert(input.key.clone(), next);
        Some(state)
    }
    fn convert(&self, op: &RawOp) -> Result<(Self::Input, Option<RegisterOutput>), String> {
        self.0.convert(op)
    }
    fn describe(&self, input: &Self::Input, output: Option<&RegisterOutput>) -> String {
        self.0.describe(input, output)
    }
    fn describe_state(&self, state: &Self::State) -> String {
        format!("{state:?}")
    }
}

#[test]
fn partitioning_by_key_changes_no_verdict() {
    let kv = Kv {
        initial: Value::Str(String::new()),
    };
    let whole = WholeKv(Kv {
        initial: Value::Str(String::new()),
    });
    let options = Options {
        jobs: 2,
        ..Options::default()
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for case in 0..CASES {
        let raw = history(&mut rng, &kv_op);
        let expected = brute::linearizable(&whole, &whole.init(), &ops_of(&whole, &raw));
        let verdict = check(&kv, &raw, &options).unwrap().verdict;
        let want = if expected {
            LinVerdict::Linearizable
        } else {
            LinVerdict::NotLinearizable
        };
        assert_eq!(verdict, want, "case {case}: {raw:#?}");
    }
}

#[test]
fn counterexample_windows_fail_on_their_own_and_prefixes_are_shortest() {
    let model = CasRegister { initial: Value::Int(0) };
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut explained = 0;
    for case in 0..CASES {
        let raw = history(&mut rng, &|r| register_op(r, true));
        let report = check(
            &model,
            &raw,
            &Options {
                jobs: 1,
                ..Options::default()
            },
        )
        .unwrap();
        let Some(c) = report.counterexample else { continue };
        explained += 1;
        let ops = ops_of(&model, &raw);
        // The window, from each start state, fails by brute force.
        let window: Vec<Op<CasRegister>> = c
            .window
            .iter()
            .map(|v| {
                let mut op = ops[v.id].clone();
                if v.ret.is_none() {
                    op.ret = None;
                    op.output = None;
                }
                op
            })
            .collect();
        let starts: Vec<Value> = c
            .start_states
            .iter()
            .map(|s| Value::parse_literal(s).unwrap())
            .collect();
        for s in &starts {
            assert!(
                !brute::linearizable(&model, s, &window),
                "case {case}: window passes from {s}: {c:#?}\n{raw:#?}"
            );
        }
        // Cutting just before the first bad return is still linearizable.
        if let Some(bad) = c.first_bad_return {
            let cut = ops[bad].ret.unwrap() - 1;
            let before: Vec<Op<CasRegister>> = ops
                .iter()
                .filter(|o| o.call <= cut)
                .map(|o| {
                    let mut o = o.clone();
                    if o.ret.is_none_or(|r| r > cut) {
                        o.ret = None;
                        o.output = None;
                    }
                    o
                })
                .collect();
            assert!(
                brute::linearizable(&model, &model.init(), &before),
                "case {case}: an earlier cut fails too"
            );
        }
        // The partial linearization replays from a start state.
        assert!(c.prefix.len() <= c.window.len());
        assert!(c.window.iter().any(|v| v.id == c.blocked));
    }
    assert!(explained > CASES / 10, "{explained}");
}

/// `writes` concurrent writes of distinct values, then a read of a value
/// none wrote: refuting it visits every subset of the writes.
fn wide(writes: u64, key: &str) -> Vec<RawOp> {
    let op = |process, f: &str, input: Value, output, call, ret| RawOp {
        process,
        f: f.into(),
        key: Some(Value::Str(key.into())),
        input,
        output,
        call,
        ret,
        line: 0,
    };
    let mut ops: Vec<RawOp> = (0..writes)
        .map(|p| {
            op(
                p,
                "put",
                Value::Str(format!("{p}")),
                Some(Value::Nil),
                p,
                Some(writes + p),
            )
        })
        .collect();
    ops.push(op(
        0,
        "get",
        Value::Nil,
        Some(Value::Str("none".into())),
        2 * writes,
        Some(2 * writes + 1),
    ));
    ops
}

/// `wide`, but the writes are followed by a read of "0" and then a read
/// of "1": each value was written (no op is impossible on its own), yet
/// no order gives both; refuting it visits every subset of the writes.
fn wide_seen(writes: u64, key: &str) -> Vec<RawOp> {
    let mut ops = wide(writes, key);
    let mut second = ops.last().unwrap().clone();
    ops.last_mut().unwrap().output = Some(Value::Str("0".into()));
    second.output = Some(Value::Str("1".into()));
    second.call += 2;
    second.ret = second.ret.map(|r| r + 2);
    ops.push(second);
    ops
}

#[test]
fn a_partition_needing_many_rounds_is_still_refuted() {
    // 2^14 subsets: far more than the first rounds' step budgets, far less
    // than the timeout (a fixed step budget, or one that did not grow,
    // would end in `unknown` or in a wrong pass).
    let raw = RawHistory {
        ops: wide_seen(14, "k"),
        failed: 0,
    };
    let options = Options {
        timeout: Some(std::time::Duration::from_secs(60)),
        jobs: 1,
        ..Options::default()
    };
    let report = check(&Kv { initial: Value::Nil }, &raw, &options).unwrap();
    assert_eq!(report.verdict, LinVerdict::NotLinearizable, "{:?}", report.unknown);
}

#[test]
fn a_failed_partition_decides_even_when_another_is_unknown() {
    // Key "a" cannot finish within a zero budget; key "b" fails at once.
    let mut ops = wide_seen(40, "a");
    let stale = |f: &str, input: Value, output: Value, call| RawOp {
        process: 100,
        f: f.into(),
        key: Some(Value::Str("b".into())),
        input,
        output: Some(output),
        call,
        ret: Some(call + 1),
        line: 0,
    };
    ops.push(stale("put", Value::Str("x".into()), Value::Nil, 1_000));
    ops.push(stale("get", Value::Nil, Value::Nil, 1_002));
    let raw = RawHistory { ops, failed: 0 };
    for jobs in [1, 2] {
        let options = Options {
            timeout: Some(std::time::Duration::ZERO),
            jobs,
            ..Options::default()
        };
        let report = check(&Kv { initial: Value::Nil }, &raw, &options).unwrap();
        assert_eq!(report.verdict, LinVerdict::NotLinearizable, "jobs {jobs}");
        assert_eq!(report.counterexample.unwrap().partition, "key \"b\"");
    }
    let alone = RawHistory {
        ops: wide_seen(40, "a"),
        failed: 0,
    };
    let options = Options {
        timeout: Some(std::time::Duration::ZERO),
        jobs: 1,
        ..Options::default()
    };
    assert_eq!(
        check(&Kv { initial: Value::Nil }, &alone, &options).unwrap().verdict,
        LinVerdict::Unknown
    );
}

/// Unfinished reads change nothing and report nothing; the checker leaves
/// them out. Kept in, each would be open until the end, and refuting this
/// history would mean trying every subset of them at every point.
#[test]
fn unfinished_reads_do_not_slow_a_refutation() {
    let op = |process, f: &str, input, output, call, ret| RawOp {
        process,
        f: f.to_string(),
        key: None,
        input,
        output,
        call,
        ret,
        line: 0,
    };
    let mut ops: Vec<RawOp> = (0..24)
        .map(|p| op(100 + p, "read", Value::Nil, None, p, None))
        .collect();
    for i in 0..40 {
        let t = 100 + 10 * i as u64;
        ops.push(op(0, "write", Value::Int(i), None, t, Some(t + 1)));
    }
    // Reads a value that was overwritten long before.
    ops.push(op(0, "read", Value::Nil, Some(Value::Int(3)), 1_000, Some(1_001)));
    let raw = RawHistory { ops, failed: 0 };
    let options = Options {
        timeout: Some(std::time::Duration::from_secs(20)),
        ..Options::default()
    };
    let report = check(&Register { initial: Value::Nil }, &raw, &options).unwrap();
    assert_eq!(report.verdict, LinVerdict::NotLinearizable, "{}", report.to_text());
}

/// `writers` concurrent appends of `bytes` bytes each to `key`, then a
/// read of a value none of their orders gives: refuting it caches every
/// order of every subset of them, each with its own long string.
fn appends(writers: u64, bytes: usize, key: &str, from: u64) -> Vec<RawOp> {
    let op = |process, f: &str, input: Value, output, call| RawOp {
        process,
        f: f.into(),
        key: Some(Value::Str(key.into())),
        input,
        output: Some(output),
        call: from + call,
        ret: Some(from + call + writers + 1),
        line: 0,
    };
    let mut ops: Vec<RawOp> = (0..writers)
        .map(|p| op(p, "append", Value::Str(p.to_string().repeat(bytes)), Value::Nil, p))
        .collect();
    ops.push(op(0, "get", Value::Nil, Value::Str("none".into()), 2 * writers + 1));
    ops
}

fn kv_verdict(raw: &RawHistory, jobs: usize, memory_bytes: usize) -> simulate::check::linear::Report {
    let options = Options {
        jobs,
        memory_bytes,
        explain: simulate::check::linear::Explain::None,
        ..Options::default()
    };
    check(&Kv { initial: Value::Nil }, raw, &options).unwrap()
}

#[test]
fn past_the_memory_budget_the_verdict_is_unknown_and_says_why() {
    // 8 writers: 109,601 orders of subsets, each its own state.
    let raw = RawHistory {
        ops: appends(8, 1_000, "k", 0),
        failed: 0,
    };
    assert_eq!(kv_verdict(&raw, 1, 64 << 20).verdict, LinVerdict::NotLinearizable);
    for jobs in [1, 2] {
        let report = kv_verdict(&raw, jobs, 1 << 20);
        assert_eq!(report.verdict, LinVerdict::Unknown, "jobs {jobs}");
        assert_eq!(
            report.unknown,
            ["key \"k\": memory budget of 1 MiB ran out"],
            "jobs {jobs}"
        );
    }
}

/// Partitions searched at once share the budget; one that runs out of its
/// share gets the whole budget alone, so `--jobs` changes no verdict.
#[test]
fn jobs_change_no_verdict_under_the_memory_budget() {
    let mut ops = appends(6, 1_000, "a", 0);
    ops.extend(appends(5, 1_000, "b", 100));
    let raw = RawHistory { ops, failed: 0 };
    // The least budget that one thread decides with (failure is monotone
    // in the budget: the search holds the same bytes at each step).
    let (mut lo, mut hi) = (0usize, 64 << 20);
    assert_eq!(kv_verdict(&raw, 1, hi).verdict, LinVerdict::NotLinearizable);
    while lo + 1 < hi {
        let mid = (lo + hi) / 2;
        match kv_verdict(&raw, 1, mid).verdict {
            LinVerdict::Unknown => lo = mid,
            _ => hi = mid,
        }
    }
    for budget in [lo, hi, 3 * hi / 2] {
        let one = kv_verdict(&raw, 1, budget);
        let two = kv_verdict(&raw, 2, budget);
        assert_eq!(
            (one.verdict, one.unknown),
            (two.verdict, two.unknown),
            "budget {budget}"
        );
    }
}

/// One process, one op after another: one order is possible, found in one
/// pass with no cache, however long the history.
#[test]
fn a_history_without_concurrency_is_decided_with_no_memory() {
    let mut ops: Vec<RawOp> = (0..100_000u64)
        .map(|i| RawOp {
            process: 0,
            f: if i % 2 == 0 { "write" } else { "read" }.into(),
            key: None,
            input: Value::Int((i / 2) as i64),
            output: Some(Value::Int((i / 2) as i64)),
            call: 2 * i,
            ret: Some(2 * i + 1),
            line: 0,
        })
        .collect();
    let options = Options {
        memory_bytes: 0,
        jobs: 1,
        ..Options::default()
    };
    let model = Register { initial: Value::Nil };
    let raw = RawHistory {
        ops: ops.clone(),
        failed: 0,
    };
    assert_eq!(check(&model, &raw, &options).unwrap().verdict, LinVerdict::Linearizable);
    ops[99_999].output = Some(Value::Int(7));
    let raw = RawHistory { ops, failed: 0 };
    let report = check(&model, &raw, &options).unwrap();
    assert_eq!(report.verdict, LinVerdict::NotLinearizable);
    assert_eq!(report.counterexample.unwrap().blocked, 99_999);
}

/// The CLI starts the clock before it reads the file: reading and
/// parsing count. Here the clock started long before the check.
#[test]
fn the_timeout_counts_from_when_the_caller_started_it() {
    let ops: Vec<RawOp> = (0..10_000u64)
        .map(|i| RawOp {
            process: 0,
            f: "write".into(),
            key: None,
            input: Value::Int(1),
            output: Some(Value::Nil),
            call: 2 * i,
            ret: Some(2 * i + 1),
            line: 0,
        })
        .collect();
    let raw = RawHistory { ops, failed: 0 };
    let a_second_ago = std::time::Instant::now() - std::time::Duration::from_secs(1);
    let options = Options {
        timeout: Some(std::time::Duration::from_secs(1) / 2),
        timeout_from: Some(a_second_ago),
        ..Options::default()
    };
    let report = check(&Register { initial: Value::Nil }, &raw, &options).unwrap();
    assert_eq!(report.verdict, LinVerdict::Unknown);
    assert_eq!(report.unknown, ["history: time budget ran out"]);
}

#[test]
fn an_interrupt_stops_a_search_with_unknown() {
    // wide(40): 2^40 subsets, which only an interrupt (or the timeout)
    // ends; the interrupt is already set, as by a Ctrl-C during the check.
    static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);
    let raw = RawHistory {
        ops: wide(40, "k"),
        failed: 0,
    };
    let options = Options {
        timeout: Some(std::time::Duration::from_secs(600)),
        interrupt: Some(&INTERRUPTED),
        jobs: 1,
        ..Options::default()
    };
    let report = check(&Kv { initial: Value::Nil }, &raw, &options).unwrap();
    assert_eq!(report.verdict, LinVerdict::Unknown);
    assert_eq!(report.unknown, ["key \"k\": interrupted"]);
}

/// A read of a value that neither the initial value nor any write gives
/// fails whatever the order: decided without a search, however wide the
/// history, and explained by that read alone.
#[test]
fn a_read_of_a_value_nothing_wrote_is_refuted_without_a_search() {
    let mut ops = wide(200, "k");
    ops.last_mut().unwrap().line = 7;
    let raw = RawHistory { ops, failed: 0 };
    let options = Options {
        memory_bytes: 0,
        jobs: 1,
        ..Options::default()
    };
    let report = check(&Kv { initial: Value::Nil }, &raw, &options).unwrap();
    assert_eq!(report.verdict, LinVerdict::NotLinearizable, "{:?}", report.unknown);
    let c = report.counterexample.unwrap();
    assert_eq!((c.window.len(), c.blocked, c.window[0].line), (1, 200, 7));
    // "none" is written by nobody, but with an append any string may be
    // built: no shortcut, and a zero budget leaves it unknown.
    let mut ops = wide(200, "k");
    ops[0].f = "append".into();
    let raw = RawHistory { ops, failed: 0 };
    let report = check(&Kv { initial: Value::Nil }, &raw, &options).unwrap();
    assert_eq!(report.verdict, LinVerdict::Unknown);
}
