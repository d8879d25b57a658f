//! Counterexamples: from a failed search, a small self-contained window of
//! the history that cannot be linearized, and how far the search got.
//!
//! 1. The shortest failing prefix. Cut the partition at a return: ops
//!    called before the cut stay, ops still running at the cut become
//!    indeterminate. A prefix of a linearizable history is linearizable, so
//!    failure is monotone in the cut and a binary search finds the first
//!    return after which no linearization exists.
//! 2. The latest quiescent point before it (no op in flight but those
//!    that never return) whose prefix can end in only a few states. The
//!    prefix up to there is linearizable and can only leave the object in
//!    those states, so the ops after it, with the ones that never return
//!    (they may take effect on either side, or not at all), started from
//!    any of those states, fail when the whole prefix does; a window the
//!    search shows failing stands on its own.
//! 3. A search of the window gives the longest partial linearization and
//!    the op that could not be placed after it.
//!
//! Each step runs within the budget; if one runs out, the explanation falls
//! back to a larger window (at worst the whole partition).

use super::model::Model;
use super::search::{final_states, impossible_op, search, sequential_order, Budget, Failure, Op, Outcome};
use crate::history::raw::RawOp;
use std::time::Instant;

/// Most start states a window may have before a cut is not worth it.
const START_STATES_MAX: usize = 8;
/// Quiescent points tried, latest first.
const CUTS_TRIED: usize = 24;

/// One operation of a counterexample, as a person reads it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OpView {
    /// Index of the op in the history.
    pub id: usize,
    /// The process that ran it.
    pub process: u64,
    /// Line of its invocation in the history file.
    pub line: usize,
    /// Position of its invocation in the history's event order.
    pub call: u64,
    /// None: open (indeterminate) in the window.
    pub ret: Option<u64>,
    /// The operation and its output in the model's words: `cas 1->2 -> ok`.
    pub text: String,
}

/// Why a history is not linearizable: a small window of it that already
/// fails, and how far the search got in that window.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Counterexample {
    /// The label of the failing partition: `key "k1"`, or `history`.
    pub partition: String,
    /// How many operations that partition has in all.
    pub partition_ops: usize,
    /// After this op returned, no linearization existed any more. None
    /// when the budget ran out before that could be pinned down.
    pub first_bad_return: Option<usize>,
    /// The window, in call order.
    pub window: Vec<OpView>,
    /// The states the object can be in when the window starts, before
    /// any of its open ops takes effect (one may have taken effect before
    /// the window, as the window allows: it may go first).
    pub start_states: Vec<String>,
    /// The longest partial linearization: op ids with the state after each.
    pub prefix: Vec<(usize, String)>,
    /// The op that had to be placed next and could not be.
    pub blocked: usize,
    /// Ops that could have gone next instead, none of which led anywhere.
    pub candidates: Vec<usize>,
    /// What the explanation's budget cut short, if it ran out: then the
    /// window is larger than it could be.
    pub left_out: Vec<String>,
}

pub fn explain<M: Model>(
    model: &M,
    label: &str,
    ops: &[Op<M>],
    raw: &[RawOp],
    fallback: Failure,
    budget: &Budget<'_>,
) -> Counterexample {
    let init = model.init();
    let mut left_out = Vec::new();
    let found = impossible_op_window(model, &init, ops).or_else(|| lone_op_window(model, &init, ops, &fallback));
    let (cut, window, starts, start, failure) = match found {
        Some(found) => found,
        None => {
            let (cut, prefix_ops) = shortest_failing_prefix(model, &init, ops, fallback.blocked, budget);
            if cut.is_none() {
                left_out.push("the first return after which no order exists was not pinned down".to_string());
            }
            let (window, starts) = quiescent_window(model, &init, &prefix_ops, budget);
            match deepest_failure(model, &starts, &window, budget) {
                Some((start, failure)) => (cut, window, starts, start, failure),
                // Out of budget: the failure of the first search, over everything.
                None => {
                    left_out.push("the window is the whole partition".to_string());
                    (cut, ops.to_vec(), vec![init.clone()], init, fallback)
                }
            }
        }
    };
    if !spent(budget) {
        left_out.clear();
    }
    let view = |o: &Op<M>| OpView {
        id: o.id,
        process: o.client,
        line: raw[o.id].line,
        call: o.call,
        ret: o.ret,
        text: model.describe(&o.input, o.output.as_ref()),
    };
    let mut state = start;
    let prefix = failure
        .prefix
        .iter()
        .map(|&i| {
            let o = &window[i];
            state = model
                .step(&state, &o.input, o.output.as_ref())
                .expect("a found prefix replays");
            (o.id, model.describe_state(&state))
        })
        .collect();
    let mut window_view: Vec<OpView> = window.iter().map(view).collect();
    window_view.sort_by_key(|v| v.call);
    Counterexample {
        partition: label.to_string(),
        partition_ops: ops.len(),
        first_bad_return: cut.map(|i| ops[i].id),
        window: window_view,
        start_states: starts.iter().map(|s| model.describe_state(s)).collect(),
        prefix,
        blocked: window[failure.blocked].id,
        candidates: failure.candidates.iter().map(|&i| window[i].id).collect(),
        left_out,
    }
}

/// Whether the budget has run out (its time, or an interrupt).
fn spent(budget: &Budget<'_>) -> bool {
    budget.deadline.is_some_and(|d| Instant::now() >= d)
        || budget.cancel.is_some_and(|stop| stop())
        || budget
            .interrupt
            .is_some_and(|i| i.load(std::sync::atomic::Ordering::Relaxed))
}

/// What steps 1-3 find: the first bad return (if pinned down), the
/// window, its start states, the start of the deepest failure, and it.
type Found<M> = (
    Option<usize>,
    Vec<Op<M>>,
    Vec<<M as Model>::State>,
    <M as Model>::State,
    Failure,
);

/// An op that no reachable state allows fails alone, from any state: the
/// window is that op, shown from the initial state.
fn impossible_op_window<M: Model>(model: &M, init: &M::State, ops: &[Op<M>]) -> Option<Found<M>> {
    let failure = impossible_op(model, init, ops)?;
    let op = &ops[failure.blocked];
    let alone = Failure {
        prefix: Vec::new(),
        blocked: 0,
        candidates: Vec::new(),
    };
    // An earlier return may already have left no order: the first bad
    // return is not known.
    Some((None, vec![op.clone()], vec![init.clone()], init.clone(), alone))
}

/// When no two ops overlap, what steps 1-3 would find, in one pass: the
/// op that failed alone, from the one state the ops before it leave. (A
/// long history has no time for those steps, and without them the window
/// would be the whole partition.)
fn lone_op_window<M: Model>(model: &M, init: &M::State, ops: &[Op<M>], failure: &Failure) -> Option<Found<M>> {
    sequential_order(ops)?;
    let mut state = init.clone();
    for &i in &failure.prefix {
        state = model.step(&state, &ops[i].input, ops[i].output.as_ref())?;
    }
    let blocked = &ops[failure.blocked];
    let alone = Failure {
        prefix: Vec::new(),
        blocked: 0,
        candidates: Vec::new(),
    };
    let cut = blocked.ret.map(|_| failure.blocked);
    Some((cut, vec![blocked.clone()], vec![state.clone()], state, alone))
}

/// The ops as they stand just after `cut_time`: later calls gone, ops
/// still running made indeterminate.
fn cut_at<M: Model>(ops: &[Op<M>], cut_time: u64) -> Vec<Op<M>> {
    ops.iter()
        .filter(|o| o.call <= cut_time)
        .map(|o| {
            let mut o = o.clone();
            if o.ret.is_none_or(|r| r > cut_time) {
                o.ret = None;
                o.output = None;
            }
            o
        })
        .collect()
}

fn fails<M: Model>(model: &M, starts: &[M::State], ops: &[Op<M>], budget: &Budget<'_>) -> bool {
    starts
        .iter()
        .all(|s| matches!(search(model, s, ops, budget), Outcome::NotLinearizable(_)))
}

/// The index of the op whose return is the shortest failing cut, and the
/// ops cut there. A cut whose search is inconclusive counts as passing, so
/// the cut found still fails, but it may not be the first: then no op is
/// named.
///
/// Failure is monotone in the cut, so any order of probes finds it; the
/// order decides the cost, and cuts that pass cost the most (everything
/// before them must be linearized). The first probe is the return of
/// `hint`, the op the failed search could not place, which is usually the
/// answer or close after it; then cuts step back from the lowest failing
/// one by 1, 2, 4, ... until one passes; then halves.
fn shortest_failing_prefix<M: Model>(
    model: &M,
    init: &M::State,
    ops: &[Op<M>],
    hint: usize,
    budget: &Budget<'_>,
) -> (Option<usize>, Vec<Op<M>>) {
    let mut returns: Vec<(u64, usize)> = ops
        .iter()
        .enumerate()
        .filter_map(|(i, o)| o.ret.map(|r| (r, i)))
        .collect();
    returns.sort_unstable();
    // Invariant: cutting at returns[hi] fails (the whole history fails).
    let (mut lo, mut hi) = (0, returns.len());
    let mut exact = true;
    let mut first = returns.iter().position(|&(_, i)| i == hint);
    let (mut step, mut stepping) = (1, true);
    while lo < hi {
        if spent(budget) {
            exact = false;
            break;
        }
        let (probe, hinted) = match first.take().filter(|&m| m < hi) {
            Some(m) => (m, true),
            None if stepping => (hi.saturating_sub(step).max(lo), false),
            None => ((lo + hi) / 2, false),
        };
        match search(model, init, &cut_at(ops, returns[probe].0), budget) {
            Outcome::NotLinearizable(_) => {
                // The first step back from the hint is 1, then 2, 4, ...
                if stepping && !hinted {
                    step *= 2;
                }
                hi = probe;
            }
            outcome => {
                exact &= matches!(outcome, Outcome::Linearizable(_));
                lo = probe + 1;
                stepping = false;
            }
        }
    }
    match returns.get(hi) {
        Some(&(time, i)) => (Some(i).filter(|_| exact), cut_at(ops, time)),
        None => (None, ops.to_vec()),
    }
}

/// The ops after the latest usable quiescent point, with those still open
/// there that never return, and the states they can start from.
fn quiescent_window<M: Model>(
    model: &M,
    init: &M::State,
    ops: &[Op<M>],
    budget: &Budget<'_>,
) -> (Vec<Op<M>>, Vec<M::State>) {
    let mut by_call: Vec<Op<M>> = ops.to_vec();
    by_call.sort_by_key(|o| o.call);
    for &j in quiescent_cuts(&by_call).iter().rev().take(CUTS_TRIED) {
        if spent(budget) {
            break;
        }
        let (before, after) = by_call.split_at(j);
        let Some(starts) = final_states(model, init, before, START_STATES_MAX, budget) else {
            continue;
        };
        let window: Vec<Op<M>> = before
            .iter()
            .filter(|o| o.ret.is_none())
            .chain(after)
            .cloned()
            .collect();
        // It always fails in theory; a search cut short by the budget may
        // not show it, and then this cut is no use.
        if fails(model, &starts, &window, budget) {
            return (window, starts);
        }
    }
    (by_call, vec![init.clone()])
}

/// Where `by_call` (in call order) may be cut: before op j when every op
/// called earlier has returned, or never returns. One that never returns
/// may take effect on either side of the cut, or not at all, so it goes
/// into the window too, where it may still be left out: if the window
/// fails from every state the ops before the cut can leave (it among them
/// or not), the whole history fails, and the search checks that it does.
/// (Without this, one write that timed out early would leave no cut.)
fn quiescent_cuts<M: Model>(by_call: &[Op<M>]) -> Vec<usize> {
    let mut cuts = Vec::new();
    let mut latest_return = 0u64;
    for (j, o) in by_call.iter().enumerate() {
        if j > 0 && latest_return < o.call {
            cuts.push(j);
        }
        latest_return = latest_return.max(o.ret.unwrap_or(0));
    }
    cuts
}

/// Searches the window from each start state; keeps the deepest failure.
fn deepest_failure<M: Model>(
    model: &M,
    starts: &[M::State],
    window: &[Op<M>],
    budget: &Budget<'_>,
) -> Option<(M::State, Failure)> {
    if spent(budget) {
        return None;
    }
    starts
        .iter()
        .filter_map(|s| match search(model, s, window, budget) {
            Outcome::NotLinearizable(f) => Some((s.clone(), f)),
            _ => None,
        })
        .max_by_key(|(_, f)| f.prefix.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linear::model::{Register, RegisterOp, RegisterOutput};
    use crate::core::Value;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// One process's writes and reads, one after another; a read sees an
    /// older value (one written before, not the last) with chance `wrong`.
    fn one_after_another(rng: &mut ChaCha8Rng, n: usize, wrong: f64) -> Vec<Op<Register>> {
        let mut last = Value::Nil;
        let mut written = vec![Value::Nil];
        (0..n)
            .map(|i| {
                let (input, seen) = if rng.gen_bool(0.5) {
                    last = Value::Int(rng.gen_range(0..3));
                    written.push(last.clone());
                    (RegisterOp::Write(last.clone()), RegisterOutput::Done)
                } else {
                    let older = written.iter().find(|v| **v != last);
                    let seen = match older {
                        Some(v) if rng.gen_bool(wrong) => v.clone(),
                        _ => last.clone(),
                    };
                    (RegisterOp::Read, RegisterOutput::Read(seen))
                };
                Op {
                    id: i,
                    client: 0,
                    input,
                    output: Some(seen),
                    call: 2 * i as u64,
                    ret: Some(2 * i as u64 + 1),
                }
            })
            .collect()
    }

    /// Raw ops that give the explanation only their line numbers.
    fn raw_lines(n: usize) -> Vec<RawOp> {
        (0..n)
            .map(|i| RawOp {
                process: 0,
                f: "read".into(),
                key: None,
                input: Value::Nil,
                output: None,
                call: 0,
                ret: None,
                line: i + 1,
            })
            .collect()
    }

    fn ids(ops: &[Op<Register>]) -> Vec<usize> {
        ops.iter().map(|o| o.id).collect()
    }

    #[test]
    fn ops_that_never_overlap_are_explained_as_the_full_steps_would() {
        let model = Register { initial: Value::Nil };
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let budget = Budget::unlimited();
        let mut explained = 0;
        for case in 0..2_000 {
            let n = rng.gen_range(1..20);
            let ops = one_after_another(&mut rng, n, 0.1);
            let Outcome::NotLinearizable(failure) = search(&model, &Value::Nil, &ops, &budget) else {
                continue;
            };
            explained += 1;
            let (cut, window, starts, _, alone) = lone_op_window(&model, &Value::Nil, &ops, &failure).unwrap();
            let (full_cut, prefix_ops) = shortest_failing_prefix(&model, &Value::Nil, &ops, failure.blocked, &budget);
            let (full_window, full_starts) = quiescent_window(&model, &Value::Nil, &prefix_ops, &budget);
            let (_, full_failure) = deepest_failure(&model, &full_starts, &full_window, &budget).unwrap();
            assert_eq!(cut, full_cut, "case {case}");
            assert_eq!(ids(&window), ids(&full_window), "case {case}");
            assert_eq!(starts, full_starts, "case {case}");
            assert_eq!(alone, full_failure, "case {case}");
        }
        assert!(explained > 100, "{explained}");
    }

    #[test]
    fn a_long_history_without_overlaps_is_explained_by_one_op_with_no_time_left() {
        let model = Register { initial: Value::Nil };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut ops = one_after_another(&mut rng, 10_000, 0.0);
        // The last op reads a value written long before (an impossible
        // value would be explained without the search this test is about).
        let mut state = Value::Nil;
        for o in &ops[..ops.len() - 1] {
            state = model.step(&state, &o.input, o.output.as_ref()).unwrap();
        }
        let stale = Value::Int(if state == Value::Int(0) { 1 } else { 0 });
        let last = ops.last_mut().unwrap();
        (last.input, last.output) = (RegisterOp::Read, Some(RegisterOutput::Read(stale)));
        let Outcome::NotLinearizable(failure) = search(&model, &Value::Nil, &ops, &Budget::unlimited()) else {
            panic!("the last read sees a value never written")
        };
        let out_of_time = Budget {
            cancel: Some(&|| true),
            ..Budget::unlimited()
        };
        let raw = raw_lines(ops.len());
        let c = explain(&model, "history", &ops, &raw, failure, &out_of_time);
        assert_eq!(c.window.len(), 1);
        assert_eq!((c.first_bad_return, c.blocked), (Some(9_999), 9_999));
    }

    /// A write that never returned, called first, does not stand in the
    /// way of a quiescent point: the window is the stale read and the open
    /// write, carried along, from the state the writes before leave.
    /// (Before, no point after the open write counted, and the window was
    /// all 204 ops.)
    #[test]
    fn a_write_that_never_returned_goes_into_a_small_window() {
        let model = Register { initial: Value::Nil };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut ops = one_after_another(&mut rng, 200, 0.0);
        let next = |input, output, client, id: usize| {
            let call = 2 * id as u64 + 1;
            let ret = (id > 0).then_some(call + 1);
            Op {
                id,
                client,
                input,
                output,
                call,
                ret,
            }
        };
        let write = |v: i64| RegisterOp::Write(Value::Int(v));
        for o in &mut ops {
            *o = next(o.input.clone(), o.output.clone(), 0, o.id + 1);
        }
        ops.insert(0, next(write(7), None, 1, 0));
        let done = Some(RegisterOutput::Done);
        ops.push(next(write(5), done.clone(), 0, 201));
        ops.push(next(write(6), done, 0, 202));
        ops.push(next(
            RegisterOp::Read,
            Some(RegisterOutput::Read(Value::Int(5))),
            2,
            203,
        ));
        let budget = Budget::unlimited();
        let Outcome::NotLinearizable(failure) = search(&model, &Value::Nil, &ops, &budget) else {
            panic!("5 is read after 6 was written")
        };
        let raw = raw_lines(ops.len());
        let c = explain(&model, "history", &ops, &raw, failure, &budget);
        assert_eq!(c.first_bad_return, Some(203));
        let window: Vec<usize> = c.window.iter().map(|v| v.id).collect();
        assert_eq!(window, [0, 203]);
        assert_eq!(c.start_states, ["6"]);
    }
}
