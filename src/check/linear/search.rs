//! The Wing-Gong/Lowe linearizability search, with Porcupine's refinements.
//!
//! Calls and returns sit in one doubly linked list in time order. The
//! search walks it: at a call, it tries to linearize that operation next
//! (step the model; on success remove the op's call and return from the
//! list and start again from the head); at a return, the op of that return
//! should have been linearized already, so it backtracks: pops the last
//! linearized op, puts it back in the list and tries the entry after its
//! call. Each (set of linearized ops, model state) configuration is
//! explored at most once (the cache), which is what makes the search fast
//! on real histories.
//!
//! A partition whose operations never overlap has one order real time
//! allows: it is stepped through once, in linear time and with no cache
//! (the cache's bitsets alone would cost n²/64 words there).
//!
//! The search counts the bytes it holds (the cache's table, each cached
//! configuration with its model state, the stack's states, the lists) from
//! sizes it can compute, never by asking the allocator, so a memory budget
//! stops it at the same step on every machine.
//!
//! Indeterminate operations return "at infinity": their returns follow
//! every other entry. Reaching one means every determinate operation has
//! been placed, and the rest may simply never have taken effect, so the
//! history is linearizable. An indeterminate op that is placed earlier took
//! effect at that point.

use super::model::{Model, ALLOCATION_BYTES};
use rustc_hash::FxHashSet;
use std::fmt;
use std::mem::size_of;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// One operation of one partition, ready for the search.
#[derive(Debug)]
pub struct Op<M: Model> {
    /// Index in the history the op came from.
    pub id: usize,
    /// The process that ran it.
    pub client: u64,
    /// What it asked, in the model's terms.
    pub input: M::Input,
    /// `None`: unknown.
    pub output: Option<M::Output>,
    /// Position of its invocation; only the order of positions matters.
    pub call: u64,
    /// `None`: indeterminate.
    pub ret: Option<u64>,
}

// Not derived: that would require `M: Clone`.
impl<M: Model> Clone for Op<M> {
    fn clone(&self) -> Self {
        Op {
            id: self.id,
            client: self.client,
            input: self.input.clone(),
            output: self.output.clone(),
            call: self.call,
            ret: self.ret,
        }
    }
}

/// Limits that end a search with Unknown.
pub struct Budget<'a> {
    /// Real time by which the search must stop.
    pub deadline: Option<Instant>,
    /// Most bytes the search may hold: its cache (table, linearized sets
    /// and model states), the states on its stack, and its lists.
    pub memory_bytes: usize,
    /// Returns true when the search should stop early.
    pub cancel: Option<&'a (dyn Fn() -> bool + Sync)>,
    /// Set from outside the check (Ctrl-C), the search stops early.
    pub interrupt: Option<&'a AtomicBool>,
    /// Most search steps; past them the outcome is `OutOfSteps`.
    pub max_steps: u64,
}

impl Budget<'_> {
    /// No limit at all: the search runs until it has an answer.
    pub fn unlimited() -> Budget<'static> {
        Budget {
            deadline: None,
            memory_bytes: usize::MAX,
            cancel: None,
            interrupt: None,
            max_steps: u64::MAX,
        }
    }
}

/// How a search ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A witness: op indices in linearization order (ops left out never
    /// took effect; only indeterminate ops can be left out).
    Linearizable(Vec<usize>),
    /// No legal order exists; where the search got furthest.
    NotLinearizable(Failure),
    /// Stopped by the time or memory budget, or cancelled.
    Unknown(Stop),
    /// Used up `max_steps` without an answer; a larger budget may find one.
    OutOfSteps,
}

/// Why a search stopped without an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The deadline passed.
    Time,
    /// Holding one more configuration would take more than this many bytes.
    Memory(usize),
    /// `Budget::cancel` said so.
    Cancelled,
    /// `Budget::interrupt` was set.
    Interrupted,
    /// More final states than asked for (`final_states` only).
    FinalStates(usize),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Time => write!(f, "time budget ran out"),
            Stop::Memory(bytes) if bytes % (1 << 20) == 0 => write!(f, "memory budget of {} MiB ran out", bytes >> 20),
            Stop::Memory(bytes) => write!(f, "memory budget of {bytes} bytes ran out"),
            Stop::Cancelled => write!(f, "cancelled"),
            Stop::Interrupted => write!(f, "interrupted"),
            Stop::FinalStates(limit) => write!(f, "more than {limit} final states"),
        }
    }
}

/// Where the search got furthest before it ran out of options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The longest partial linearization that reached a dead end.
    pub prefix: Vec<usize>,
    /// The op that had to be linearized next (its return came up) but
    /// could not be, after `prefix`.
    pub blocked: usize,
    /// The other ops that could have gone next there.
    pub candidates: Vec<usize>,
}

/// Is `ops` linearizable from `init`?
pub fn search<M: Model>(model: &M, init: &M::State, ops: &[Op<M>], budget: &Budget<'_>) -> Outcome {
    // An interrupt set before the search began would go unnoticed by a
    // search shorter than the steps between looks at the clock.
    if budget.interrupt.is_some_and(|i| i.load(Ordering::Relaxed)) {
        return Outcome::Unknown(Stop::Interrupted);
    }
    let found = match sequential_order(ops) {
        Some(order) => step_through(model, init, ops, &order, budget).map(|(placed, _)| placed),
        None => Search::new(model, ops, budget).run(init.clone(), None),
    };
    match found {
        Ok(order) => Outcome::Linearizable(order),
        Err(End::Failed(f)) => Outcome::NotLinearizable(f),
        Err(End::Stopped(why)) => Outcome::Unknown(why),
        Err(End::OutOfSteps) => Outcome::OutOfSteps,
    }
}

/// Every state a complete linearization of `ops` (all determinate) can end
/// in, if there are at most `limit` of them.
pub fn final_states<M: Model>(
    model: &M,
    init: &M::State,
    ops: &[Op<M>],
    limit: usize,
    budget: &Budget<'_>,
) -> Option<Vec<M::State>> {
    debug_assert!(ops.iter().all(|o| o.ret.is_some()));
    if let Some(order) = sequential_order(ops) {
        let finished = step_through(model, init, ops, &order, budget);
        return finished.ok().filter(|_| limit > 0).map(|(_, last)| vec![last]);
    }
    let mut finals = Vec::new();
    match Search::new(model, ops, budget).run(init.clone(), Some((&mut finals, limit))) {
        Err(End::Failed(_)) if !finals.is_empty() => Some(finals),
        _ => None,
    }
}

enum End {
    Failed(Failure),
    Stopped(Stop),
    OutOfSteps,
}

/// The ops in call order if none overlaps another: each returned before
/// the next was called (so an indeterminate op can only be the last).
/// A return and a call at the same time overlap, as in [`Search::new`].
pub(super) fn sequential_order<M: Model>(ops: &[Op<M>]) -> Option<Vec<usize>> {
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by_key(|&i| ops[i].call);
    let apart = |w: &[usize]| ops[w[0]].ret.is_some_and(|r| r < ops[w[1]].call);
    order.windows(2).all(apart).then_some(order)
}

/// Steps ops that never overlap through the model in their only order:
/// the witness and the final state, or the failure the search would
/// report. Linear, so rounds gain nothing from cutting it short: it
/// ignores `max_steps`, and holds no cache to count against memory.
fn step_through<M: Model>(
    model: &M,
    init: &M::State,
    ops: &[Op<M>],
    order: &[usize],
    budget: &Budget<'_>,
) -> Result<(Vec<usize>, M::State), End> {
    let mut state = init.clone();
    for (placed, &i) in order.iter().enumerate() {
        if placed % 4096 == 4095 {
            stopped(budget)?;
        }
        let o = &ops[i];
        match model.step(&state, &o.input, o.output.as_ref()) {
            Some(next) => state = next,
            // It never returned: it may never have taken effect.
            None if o.ret.is_none() => return Ok((order[..placed].to_vec(), state)),
            None => {
                return Err(End::Failed(Failure {
                    prefix: order[..placed].to_vec(),
                    blocked: i,
                    candidates: Vec::new(),
                }))
            }
        }
    }
    Ok((order.to_vec(), state))
}

/// Whether the deadline has passed or the caller has cancelled.
fn stopped(budget: &Budget<'_>) -> Result<(), End> {
    if budget.deadline.is_some_and(|d| Instant::now() > d) {
        return Err(End::Stopped(Stop::Time));
    }
    if budget.cancel.is_some_and(|stop| stop()) {
        return Err(End::Stopped(Stop::Cancelled));
    }
    if budget.interrupt.is_some_and(|i| i.load(Ordering::Relaxed)) {
        return Err(End::Stopped(Stop::Interrupted));
    }
    Ok(())
}

/// Bytes of the cache's hash table once it holds `len` entries of
/// `slot_bytes` (hashbrown: a slot and a control byte per bucket, buckets
/// a power of two at most 7/8 full). Past `capacity` it grows, and holds
/// the old table and the new one at once while it moves.
fn table_bytes(slot_bytes: usize, len: usize, capacity: usize) -> usize {
    let buckets = |entries: usize| (entries.saturating_mul(8) / 7).next_power_of_two().max(4);
    let now = if capacity == 0 { 0 } else { buckets(capacity) };
    let grown = if len > capacity { buckets(len) } else { 0 };
    (now + grown) * (slot_bytes + 1)
}

/// What a search holds, in bytes it can compute.
struct Held {
    /// The lists, the linearized set and the stack's slots: fixed by the
    /// number of ops.
    fixed: usize,
    /// Heap bytes of the cached configurations and of the stacked states.
    heap: usize,
}

const HEAD: usize = usize::MAX;

/// Entry `e` is op `e / 2`'s call when even, its return when odd.
fn is_call(e: usize) -> bool {
    e.is_multiple_of(2)
}

struct Search<'a, M: Model> {
    model: &'a M,
    ops: &'a [Op<M>],
    budget: &'a Budget<'a>,
    /// Entry e: op index `e / 2`, call if even, return if odd.
    next: Vec<usize>,
    prev: Vec<usize>,
    head_next: usize,
}

impl<'a, M: Model> Search<'a, M> {
    fn new(model: &'a M, ops: &'a [Op<M>], budget: &'a Budget<'a>) -> Self {
        // Time order; at equal times calls come first (the ops overlap,
        // which constrains less: never a false "not linearizable").
        let mut order: Vec<usize> = (0..2 * ops.len()).collect();
        order.sort_by_key(|&e| {
            let op = &ops[e / 2];
            let time = if is_call(e) {
                op.call
            } else {
                op.ret.unwrap_or(u64::MAX)
            };
            (time, !is_call(e), op.call)
        });
        let n = order.len();
        let mut next = vec![HEAD; n];
        let mut prev = vec![HEAD; n];
        for (i, &e) in order.iter().enumerate() {
            prev[e] = if i == 0 { HEAD } else { order[i - 1] };
            next[e] = order.get(i + 1).copied().unwrap_or(HEAD);
        }
        Search {
            model,
            ops,
            budget,
            next,
            prev,
            head_next: order.first().copied().unwrap_or(HEAD),
        }
    }

    fn link_next(&mut self, e: usize, to: usize) {
        if e == HEAD {
            self.head_next = to;
        } else {
            self.next[e] = to;
        }
    }

    fn unlink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.link_next(p, n);
        if n != HEAD {
            self.prev[n] = p;
        }
    }

    /// Undoes `unlink(e)`; valid in reverse order of unlinking.
    fn relink(&mut self, e: usize) {
        let (p, n) = (self.prev[e], self.next[e]);
        self.link_next(p, e);
        if n != HEAD {
            self.prev[n] = e;
        }
    }

    fn lift(&mut self, op: usize) {
        self.unlink(2 * op);
        self.unlink(2 * op + 1);
    }

    fn unlift(&mut self, op: usize) {
        self.relink(2 * op + 1);
        self.relink(2 * op);
    }

    /// Finds a linearization; or, collecting, explores them all and
    /// records every final state (then "fails" once all are seen).
    fn run(mut self, mut state: M::State, mut collect: Option<(&mut Vec<M::State>, usize)>) -> Result<Vec<usize>, End> {
        let words = self.ops.len().div_ceil(64).max(1);
        let mut linearized = vec![0u64; words];
        let mut cache: FxHashSet<(Vec<u64>, M::State)> = FxHashSet::default();
        let mut stack: Vec<(usize, M::State)> = Vec::new();
        let mut held = Held {
            fixed: words * 8 + self.ops.len() * (4 * size_of::<usize>() + size_of::<(usize, M::State)>()),
            heap: 0,
        };
        let mut failure: Option<Failure> = None;
        let mut entry = self.head_next;
        let mut steps: u64 = 0;
        loop {
            steps += 1;
            if steps.is_multiple_of(4096) {
                stopped(self.budget)?;
            }
            if steps > self.budget.max_steps {
                return Err(End::OutOfSteps);
            }
            let done = entry == HEAD || (!is_call(entry) && self.ops[entry / 2].ret.is_none());
            if done {
                let Some((finals, limit)) = collect.as_mut() else {
                    return Ok(stack.iter().map(|(op, _)| *op).collect());
                };
                if !finals.contains(&state) {
                    if finals.len() == *limit {
                        return Err(End::Stopped(Stop::FinalStates(*limit)));
                    }
                    finals.push(state.clone());
                }
            } else if is_call(entry) {
                let op = entry / 2;
                let o = &self.ops[op];
                if let Some(new_state) = self.model.step(&state, &o.input, o.output.as_ref()) {
                    linearized[op / 64] |= 1 << (op % 64);
                    let key = (linearized, new_state);
                    if !cache.contains(&key) {
                        held.heap += self.entry_bytes(&key.1);
                        self.within_memory(&held, cache.len() + 1, cache.capacity())?;
                        cache.insert(key.clone());
                        let (bits, new_state) = key;
                        linearized = bits;
                        held.heap += self.model.state_bytes(&state);
                        stack.push((op, std::mem::replace(&mut state, new_state)));
                        self.lift(op);
                        entry = self.head_next;
                        continue;
                    }
                    linearized = key.0;
                    linearized[op / 64] &= !(1 << (op % 64));
                }
                entry = self.next[entry];
                continue;
            } else if failure.as_ref().is_none_or(|f| stack.len() > f.prefix.len()) {
                failure = Some(self.failure_at(entry, &stack));
            }
            // Backtrack: a return whose op is not linearized, or (when
            // collecting) a complete linearization already recorded.
            let Some((op, previous)) = stack.pop() else {
                let failure = failure.unwrap_or_else(|| Failure {
                    prefix: Vec::new(),
                    blocked: entry / 2,
                    candidates: Vec::new(),
                });
                return Err(End::Failed(failure));
            };
            held.heap -= self.model.state_bytes(&previous);
            state = previous;
            linearized[op / 64] &= !(1 << (op % 64));
            self.unlift(op);
            entry = self.next[2 * op];
        }
    }

    fn failure_at(&self, ret_entry: usize, stack: &[(usize, M::State)]) -> Failure {
        let mut candidates = Vec::new();
        let mut e = self.head_next;
        while e != ret_entry && e != HEAD {
            if is_call(e) && e / 2 != ret_entry / 2 {
                candidates.push(e / 2);
            }
            e = self.next[e];
        }
        Failure {
            prefix: stack.iter().map(|(op, _)| *op).collect(),
            blocked: ret_entry / 2,
            candidates,
        }
    }

    /// Heap bytes of one cached configuration holding `state`.
    fn entry_bytes(&self, state: &M::State) -> usize {
        self.ops.len().div_ceil(64).max(1) * 8 + ALLOCATION_BYTES + self.model.state_bytes(state)
    }

    /// Whether a cache of `len` entries fits the memory budget with what
    /// else is `held`.
    fn within_memory(&self, held: &Held, len: usize, capacity: usize) -> Result<(), End> {
        let slot_bytes = size_of::<(Vec<u64>, M::State)>();
        let bytes = held.fixed + held.heap + table_bytes(slot_bytes, len, capacity);
        if bytes > self.budget.memory_bytes {
            return Err(End::Stopped(Stop::Memory(self.budget.memory_bytes)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linear::model::{Kv, Register, RegisterOp, RegisterOutput};
    use crate::core::Value;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn register_op(
        id: usize,
        input: RegisterOp,
        output: Option<RegisterOutput>,
        call: u64,
        ret: Option<u64>,
    ) -> Op<Register> {
        Op {
            id,
            client: 0,
            input,
            output,
            call,
            ret,
        }
    }

    /// One process's ops, one after another, reads seeing the last write
    /// except where `wrong` says; the last op may never return.
    fn one_after_another(rng: &mut ChaCha8Rng, n: usize, wrong: f64) -> Vec<Op<Register>> {
        let mut last = Value::Nil;
        (0..n)
            .map(|i| {
                let (call, ret) = (2 * i as u64, Some(2 * i as u64 + 1));
                let ret = ret.filter(|_| i + 1 < n || rng.gen_bool(0.8));
                if rng.gen_bool(0.5) {
                    last = Value::Int(rng.gen_range(0..3));
                    let out = ret.map(|_| RegisterOutput::Done);
                    register_op(i, RegisterOp::Write(last.clone()), out, call, ret)
                } else {
                    let seen = if rng.gen_bool(wrong) {
                        Value::Int(9)
                    } else {
                        last.clone()
                    };
                    let out = ret.map(|_| RegisterOutput::Read(seen));
                    register_op(i, RegisterOp::Read, out, call, ret)
                }
            })
            .collect()
    }

    #[test]
    fn ops_that_never_overlap_get_the_answer_of_the_full_search() {
        let model = Register { initial: Value::Nil };
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let budget = Budget::unlimited();
        for case in 0..2_000 {
            let n = rng.gen_range(1..30);
            let ops = one_after_another(&mut rng, n, 0.05);
            let order = sequential_order(&ops).expect("none overlaps");
            let fast = step_through(&model, &Value::Nil, &ops, &order, &budget);
            let full = Search::new(&model, &ops, &budget).run(Value::Nil, None);
            match (fast, full) {
                (Ok((a, _)), Ok(b)) => assert_eq!(a, b, "case {case}"),
                (Err(End::Failed(a)), Err(End::Failed(b))) => assert_eq!(a, b, "case {case}"),
                _ => panic!("case {case}: the two disagree"),
            }
        }
    }

    #[test]
    fn ops_that_never_overlap_are_decided_without_memory() {
        // The full search would stop at its first cached configuration.
        let model = Register { initial: Value::Nil };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let budget = Budget {
            memory_bytes: 0,
            max_steps: 1,
            ..Budget::unlimited()
        };
        let good = one_after_another(&mut rng, 10_000, 0.0);
        let good: Vec<_> = good.into_iter().filter(|o| o.ret.is_some()).collect();
        assert!(
            matches!(search(&model, &Value::Nil, &good, &budget), Outcome::Linearizable(order) if order.len() == good.len())
        );
        let mut bad = good.clone();
        bad.push(register_op(
            10_000,
            RegisterOp::Read,
            Some(RegisterOutput::Read(Value::Int(9))),
            20_000,
            Some(20_001),
        ));
        let Outcome::NotLinearizable(failure) = search(&model, &Value::Nil, &bad, &budget) else {
            panic!("a read of a value never written fails")
        };
        assert_eq!((failure.prefix.len(), failure.blocked), (10_000, 10_000));
        let finals = final_states(&model, &Value::Nil, &good, 1, &budget);
        assert_eq!(finals.map(|f| f.len()), Some(1));
        // One overlap, and the full search (and its budget) is back.
        bad[1].ret = Some(bad[2].call);
        assert_eq!(
            search(&model, &Value::Nil, &bad, &budget),
            Outcome::Unknown(Stop::Memory(0))
        );
    }

    /// `writers` concurrent appends of `bytes` bytes each, then a read of
    /// a value none of their orders gives: refuting it caches every order
    /// of every subset, each with its own long string.
    fn appends(writers: u64, bytes: usize) -> Vec<Op<Kv>> {
        let key = Value::Str("k".into());
        let mut ops: Vec<Op<Kv>> = (0..writers)
            .map(|p| Op {
                id: p as usize,
                client: p,
                input: (key.clone(), RegisterOp::Append(Value::Str(p.to_string().repeat(bytes)))),
                output: Some(RegisterOutput::Done),
                call: p,
                ret: Some(writers + p),
            })
            .collect();
        ops.push(Op {
            id: writers as usize,
            client: 0,
            input: (key, RegisterOp::Read),
            output: Some(RegisterOutput::Read(Value::Str("none".into()))),
            call: 2 * writers,
            ret: Some(2 * writers + 1),
        });
        ops
    }

    #[test]
    fn the_memory_budget_counts_model_states() {
        let model = Kv { initial: Value::Nil };
        let ops = appends(6, 1_000);
        let unlimited = search(&model, &Value::Nil, &ops, &Budget::unlimited());
        assert!(matches!(unlimited, Outcome::NotLinearizable(_)));
        // 1,957 configurations: a few hundred kB of bitsets and table, but
        // megabytes of strings.
        let budget = Budget {
            memory_bytes: 1 << 20,
            ..Budget::unlimited()
        };
        let outcome = search(&model, &Value::Nil, &ops, &budget);
        assert_eq!(outcome, Outcome::Unknown(Stop::Memory(1 << 20)));
        assert_eq!(Stop::Memory(1 << 20).to_string(), "memory budget of 1 MiB ran out");
        let short = appends(6, 1);
        assert!(matches!(
            search(&model, &Value::Nil, &short, &budget),
            Outcome::NotLinearizable(_)
        ));
    }

    #[test]
    fn the_table_counts_both_tables_while_it_grows() {
        assert_eq!(table_bytes(31, 1, 0), 4 * 32);
        assert_eq!(table_bytes(31, 7, 7), 8 * 32);
        assert_eq!(table_bytes(31, 8, 7), (8 + 16) * 32);
        assert_eq!(table_bytes(31, 500, 896), 1024 * 32);
    }
}
