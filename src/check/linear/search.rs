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

use super::arena::Chunked;
use super::model::Model;
use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::fmt;
use std::hash::{BuildHasher, Hash};
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

/// Steps a search takes between looks at its budget's clock, `cancel` and
/// interrupt. (A pass through ops that never overlap looks once per 4096
/// ops.)
pub const STEPS_PER_LOOK: u64 = 1024;

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
    match begin(model, init, ops, budget) {
        Begun::Decided(outcome) => outcome,
        Begun::Searching(mut search) => search.outcome(budget),
    }
}

/// How a search starts: decided at once, or a search to run.
pub(super) enum Begun<'a, M: Model> {
    Decided(Outcome),
    Searching(Box<Search<'a, M>>),
}

/// Decides at once what needs no cache (an interrupt already set, an op
/// no reachable state allows, ops that never overlap); else sets up the
/// search.
pub(super) fn begin<'a, M: Model>(
    model: &'a M,
    init: &M::State,
    ops: &'a [Op<M>],
    budget: &Budget<'_>,
) -> Begun<'a, M> {
    // An interrupt set before the search began would go unnoticed by a
    // search shorter than the steps between looks at the clock.
    if budget.interrupt.is_some_and(|i| i.load(Ordering::Relaxed)) {
        return Begun::Decided(Outcome::Unknown(Stop::Interrupted));
    }
    if let Some(failure) = impossible_op(model, init, ops) {
        return Begun::Decided(Outcome::NotLinearizable(failure));
    }
    match sequential_order(ops) {
        Some(order) => {
            let found = step_through(model, init, ops, &order, budget).map(|(placed, _)| placed);
            Begun::Decided(outcome_of(found))
        }
        None => Begun::Searching(Box::new(Search::new(model, init.clone(), ops))),
    }
}

/// The outcome a search's result stands for.
fn outcome_of(found: Result<Vec<usize>, End>) -> Outcome {
    match found {
        Ok(order) => Outcome::Linearizable(order),
        Err(End::Failed(f)) => Outcome::NotLinearizable(f),
        Err(End::Stopped(why)) => Outcome::Unknown(why),
        Err(End::OutOfSteps) => Outcome::OutOfSteps,
    }
}

/// The model's enablers of each op, renumbered in call order; none for
/// an op that never returned (it need not be placed at all).
fn enablers_by_call<M: Model>(model: &M, ops: &[Op<M>], by_call: &[usize]) -> Vec<Option<Box<[u32]>>> {
    let pairs: Vec<(&M::Input, Option<&M::Output>)> = ops.iter().map(|o| (&o.input, o.output.as_ref())).collect();
    let mut call_rank = vec![0u32; ops.len()];
    for (k, &i) in by_call.iter().enumerate() {
        call_rank[i] = k as u32;
    }
    let mut by_op = model.enablers(&pairs);
    assert_eq!(by_op.len(), ops.len(), "the model names enablers for every op");
    by_call
        .iter()
        .map(|&i| {
            let enablers = by_op[i]
                .take()
                .filter(|_| ops[i].ret.is_some() && ops[i].output.is_some())?;
            Some(enablers.into_iter().map(|j| call_rank[j]).collect())
        })
        .collect()
}

/// The failure of an op no reachable state allows ([`Model::impossible`]):
/// it cannot be placed even first.
pub(super) fn impossible_op<M: Model>(model: &M, start: &M::State, ops: &[Op<M>]) -> Option<Failure> {
    let pairs: Vec<(&M::Input, Option<&M::Output>)> = ops.iter().map(|o| (&o.input, o.output.as_ref())).collect();
    let blocked = model.impossible(start, &pairs)?;
    debug_assert!(
        ops[blocked].output.is_some(),
        "an op that reported nothing is never impossible"
    );
    Some(Failure {
        prefix: Vec::new(),
        blocked,
        candidates: Vec::new(),
    })
}

/// The states a linearization of `ops` can be in once the last of its ops
/// that returned is placed, if there are at most `limit` of them. Ops that
/// never returned are placed before that, or not at all; none after (a
/// window cut there carries them). Not quite all such states: a read-only
/// op is placed as early as it is legal, so a state that an open op
/// reaches only by going before it can be missing; the open op can go
/// after the read as well, so a window that carries it covers that state.
pub fn final_states<M: Model>(
    model: &M,
    init: &M::State,
    ops: &[Op<M>],
    limit: usize,
    budget: &Budget<'_>,
) -> Option<Vec<M::State>> {
    if let Some(mut order) = sequential_order(ops) {
        // Only the last op can be one that never returned.
        if order.last().is_some_and(|&i| ops[i].ret.is_none()) {
            order.pop();
        }
        debug_assert!(
            order.iter().all(|&i| ops[i].ret.is_some()),
            "open ops overlap what follows"
        );
        let finished = step_through(model, init, ops, &order, budget);
        return finished.ok().filter(|_| limit > 0).map(|(_, last)| vec![last]);
    }
    let mut finals = Vec::new();
    match Search::new(model, init.clone(), ops).run(budget, Some((&mut finals, limit))) {
        Err(End::Failed(_)) if !finals.is_empty() => Some(finals),
        _ => None,
    }
}

pub(super) enum End {
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

/// Bytes of a hash table of `slot_bytes` slots once it holds `len`
/// entries (hashbrown: a slot and a control byte per bucket, buckets a
/// power of two at most 7/8 full). Past `capacity` it grows, and holds the
/// old table and the new one at once while it moves.
fn table_bytes(slot_bytes: usize, len: usize, capacity: usize) -> usize {
    let buckets = |entries: usize| (entries.saturating_mul(8) / 7).next_power_of_two().max(4);
    let now = if capacity == 0 { 0 } else { buckets(capacity) };
    let grown = if len > capacity { buckets(len) } else { 0 };
    (now + grown) * (slot_bytes + 1)
}

/// A 64-bit mix (splitmix64's finaliser): hashes of op and state numbers,
/// fixed, so the search takes the same steps everywhere.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Every distinct model state the search has reached, each held once; the
/// search refers to states by their number here. Configurations then cost
/// a number, not a copy of the state (a kv value under appends grows).
struct States<S> {
    all: Chunked<S>,
    table: HashTable<u32>,
    /// Heap bytes of the states, as the model counts them.
    heap: usize,
}

impl<S: Hash + Eq> States<S> {
    fn new() -> Self {
        States {
            all: Chunked::new(0),
            table: HashTable::new(),
            heap: 0,
        }
    }

    /// Bytes held, once a new state owning `new` heap bytes is added if
    /// there is one.
    fn bytes(&self, new: Option<usize>) -> usize {
        let more = usize::from(new.is_some());
        table_bytes(size_of::<u32>(), self.all.len() + more, self.table.capacity())
            + self.all.bytes_with(more)
            + self.heap
            + new.unwrap_or(0)
    }

    fn find(&self, state: &S) -> (u64, Option<u32>) {
        let hash = FxBuildHasher.hash_one(state);
        let all = &self.all;
        (hash, self.table.find(hash, |&i| &all[i as usize] == state).copied())
    }

    /// Adds a state `find` did not find; `bytes` is what it owns. Hashes
    /// are not kept: the table rehashes a state when it grows, which costs
    /// less than 8 bytes a state.
    fn add(&mut self, state: S, hash: u64, bytes: usize) -> u32 {
        let id = u32::try_from(self.all.len()).expect("fewer than 2^32 states fit any memory budget");
        self.heap += bytes;
        self.all.push(state);
        let all = &self.all;
        self.table
            .insert_unique(hash, id, |&i| FxBuildHasher.hash_one(&all[i as usize]));
        id
    }
}

/// Bits of `Seen::at` that hold the run's length in words.
const LEN_BITS: u32 = 24;

/// One configuration the search has explored: a set of linearized ops
/// and a state. The set is stored trimmed: its leading all-ones words and
/// trailing zero words are implied, since ops are numbered in call order
/// and get linearized roughly in that order.
struct Seen {
    hash: u64,
    /// Where its words start in the cache's arena, and how many
    /// (`start << LEN_BITS | len`).
    at: u64,
    /// Index of the first stored word.
    lo: u32,
    state: u32,
}

impl Seen {
    fn start(&self) -> usize {
        (self.at >> LEN_BITS) as usize
    }

    fn len(&self) -> usize {
        (self.at & ((1 << LEN_BITS) - 1)) as usize
    }
}

/// The configurations explored so far, in chunked arenas.
struct Cache {
    words: Chunked<u64>,
    seen: Chunked<Seen>,
    table: HashTable<u32>,
}

/// The part of `bits` a configuration stores: (lo, hi) word bounds.
fn trimmed(bits: &[u64]) -> (usize, usize) {
    let lo = bits.iter().position(|&w| w != u64::MAX).unwrap_or(bits.len());
    let hi = bits.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1).max(lo);
    (lo, hi)
}

impl Cache {
    /// A cache for sets of `words` words.
    fn new(words: usize) -> Self {
        assert!(
            words < 1 << LEN_BITS,
            "a partition of {words} words of ops is beyond any memory budget"
        );
        Cache {
            words: Chunked::new(words),
            seen: Chunked::new(0),
            table: HashTable::new(),
        }
    }

    /// Bytes held once a configuration of `stored` words is added.
    fn bytes_with(&self, stored: usize) -> usize {
        let n = self.seen.len() + 1;
        table_bytes(size_of::<u32>(), n, self.table.capacity())
            + self.seen.bytes_with(1)
            + self.words.bytes_with(stored)
    }

    /// Adds (bits, state) unless it is there; true if it was new. One hash
    /// lookup either way.
    fn insert(&mut self, bits: &[u64], (lo, hi): (usize, usize), state: u32, hash: u64) -> bool {
        let (words, seen) = (&self.words, &self.seen);
        let same = |&i: &u32| {
            let s = &seen[i as usize];
            s.hash == hash
                && s.state == state
                && s.lo as usize == lo
                && s.len() == hi - lo
                && words.run(s.start(), s.len()) == &bits[lo..hi]
        };
        let id = u32::try_from(seen.len()).expect("fewer than 2^32 configurations fit any memory budget");
        match self.table.entry(hash, same, |&i| seen[i as usize].hash) {
            hashbrown::hash_table::Entry::Occupied(_) => false,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(id);
                let start = self.words.extend_together(&bits[lo..hi]);
                self.seen.push(Seen {
                    hash,
                    at: (start as u64) << LEN_BITS | (hi - lo) as u64,
                    lo: lo as u32,
                    state,
                });
                true
            }
        }
    }
}

const HEAD: usize = usize::MAX;

/// Entry `e` is op `e / 2`'s call when even, its return when odd.
fn is_call(e: usize) -> bool {
    e.is_multiple_of(2)
}

/// The state after an op: one seen before (its number), or a new one
/// with its hash.
enum Next<S> {
    Known(u32),
    New(S, u64),
}

/// What came of trying to place an op.
enum Try {
    Placed,
    /// The model refuses it in the current state.
    Illegal,
    /// Placing it gives a configuration explored before, which led nowhere.
    Seen,
}

/// One linearized op on the search's stack.
struct Placed {
    /// The op (in call order).
    op: usize,
    /// The state before it.
    before: u32,
    /// Placed as soon as it was legal (an inert op): no other op is tried
    /// in its place.
    forced: bool,
}

/// A configuration's candidates: the ops called before the first
/// return among those not yet placed, inert ones first, then by return.
struct Level {
    /// Where its candidates start in `Search::cands`.
    start: usize,
    /// The next candidate to try.
    pos: usize,
    /// The first return: its op must be placed before anything after it.
    first_return: usize,
}

/// A search that can be stopped after a number of steps and resumed with
/// all it learnt: rounds of growing step budgets cost no repeated work.
pub(super) struct Search<'a, M: Model> {
    model: &'a M,
    ops: &'a [Op<M>],
    /// Op `k` of the search (call order) is `ops[by_call[k]]`.
    by_call: Vec<usize>,
    inert: Vec<bool>,
    /// Op `k`'s enablers (see [`Model::enablers`]), in call order; None for
    /// an op the model says nothing of, or one that never returned.
    enablers: Vec<Option<Box<[u32]>>>,
    /// Rank of op `k` among candidates: inert ops first (one that is legal
    /// is placed at once), then by return time, which is where a
    /// linearization is most often found; an op that never returned ranks
    /// by its call (tried last, it would be placed only after every dead
    /// end without it).
    rank: Vec<u64>,
    /// Entry e: op `e / 2`, call if even, return if odd.
    next: Vec<usize>,
    prev: Vec<usize>,
    head_next: usize,
    states: States<M::State>,
    cache: Cache,
    linearized: Vec<u64>,
    /// Zobrist hash of `linearized`.
    bits_hash: u64,
    stack: Vec<Placed>,
    /// The candidates of each configuration on the stack (and of the
    /// current one), back to back.
    cands: Vec<u32>,
    levels: Vec<Level>,
    state: u32,
    steps: u64,
    failure: Option<Failure>,
    /// Bytes fixed by the number of ops: lists, bitset, stack.
    fixed_bytes: usize,
}

/// Sort key of entry `e` of `ops` (numbered in call order): time order;
/// at equal times calls first (the ops overlap, which constrains less:
/// never a false "not linearizable"), then returns before open ops'
/// returns, then by call.
fn entry_time<M: Model>(ops: &[Op<M>], by_call: &[usize], e: usize) -> (u64, bool, bool, u64) {
    let op = &ops[by_call[e / 2]];
    let time = if is_call(e) {
        op.call
    } else {
        op.ret.unwrap_or(u64::MAX)
    };
    // Open ops return after every op that returned, even one that
    // returned at u64::MAX: reaching an open return means all are placed.
    (time, !is_call(e), op.ret.is_none(), op.call)
}

impl<'a, M: Model> Search<'a, M> {
    pub(super) fn new(model: &'a M, init: M::State, ops: &'a [Op<M>]) -> Self {
        let mut by_call: Vec<usize> = (0..ops.len()).collect();
        by_call.sort_by_key(|&i| (ops[i].call, i));
        let mut order: Vec<usize> = (0..2 * ops.len()).collect();
        order.sort_by_key(|&e| entry_time(ops, &by_call, e));
        let n = order.len();
        let (mut next, mut prev) = (vec![HEAD; n], vec![HEAD; n]);
        for (i, &e) in order.iter().enumerate() {
            prev[e] = if i == 0 { HEAD } else { order[i - 1] };
            next[e] = order.get(i + 1).copied().unwrap_or(HEAD);
        }
        let inert: Vec<bool> = by_call
            .iter()
            .map(|&i| model.is_inert(&ops[i].input, ops[i].output.as_ref()))
            .collect();
        let rank = by_call
            .iter()
            .zip(&inert)
            .map(|(&i, &inert): (&usize, &bool)| {
                let time = ops[i].ret.unwrap_or(ops[i].call).min(u64::MAX >> 1);
                (u64::from(!inert) << 63) | time
            })
            .collect();
        let enablers = enablers_by_call(model, ops, &by_call);
        let enabler_bytes: usize = enablers.iter().flatten().map(|e| e.len() * 4 + 16).sum();
        let words = ops.len().div_ceil(64).max(1);
        let mut states = States::new();
        let (hash, _) = states.find(&init);
        let bytes = model.state_bytes(&init);
        let state = states.add(init, hash, bytes);
        Search {
            model,
            ops,
            by_call,
            inert,
            enablers,
            rank,
            next,
            prev,
            head_next: order.first().copied().unwrap_or(HEAD),
            states,
            cache: Cache::new(words),
            linearized: vec![0; words],
            bits_hash: 0,
            stack: Vec::with_capacity(ops.len()),
            cands: Vec::new(),
            levels: Vec::with_capacity(ops.len() + 1),
            state,
            steps: 0,
            failure: None,
            fixed_bytes: words * 8
                + enabler_bytes
                + ops.len() * (6 * size_of::<usize>() + size_of::<Placed>() + size_of::<Level>() + 1),
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

    fn flip(&mut self, op: usize) {
        self.linearized[op / 64] ^= 1 << (op % 64);
        self.bits_hash ^= mix(op as u64);
    }

    /// Whether the search fits its memory budget once a configuration of
    /// `stored` words, and a new state owning `new_state` bytes, is added.
    fn within_memory(&self, stored: usize, new_state: Option<usize>, budget: &Budget<'_>) -> Result<(), End> {
        let bytes = self.fixed_bytes
            + self.cands.capacity() * size_of::<u32>()
            + self.states.bytes(new_state)
            + self.cache.bytes_with(stored);
        if bytes > budget.memory_bytes {
            return Err(End::Stopped(Stop::Memory(budget.memory_bytes)));
        }
        Ok(())
    }

    /// The state after op `k` from the current one, or None if the op is
    /// illegal there.
    fn step(&self, k: usize) -> Option<Next<M::State>> {
        let o = &self.ops[self.by_call[k]];
        let now = &self.states.all[self.state as usize];
        if self.inert[k] {
            let legal = self.model.is_legal(now, &o.input, o.output.as_ref());
            return legal.then_some(Next::Known(self.state));
        }
        let next = self.model.step(now, &o.input, o.output.as_ref())?;
        Some(match self.states.find(&next) {
            (_, Some(id)) => Next::Known(id),
            (hash, None) => Next::New(next, hash),
        })
    }

    fn is_placed(&self, op: usize) -> bool {
        self.linearized[op / 64] & (1 << (op % 64)) != 0
    }

    /// Tries to place op `k` next.
    fn try_place(&mut self, k: usize, budget: &Budget<'_>) -> Result<Try, End> {
        debug_assert!(!self.is_placed(k), "a candidate is not placed yet");
        let Some(next) = self.step(k) else {
            return Ok(Try::Illegal);
        };
        self.flip(k);
        let span = trimmed(&self.linearized);
        let new_bytes = match &next {
            Next::New(state, _) => Some(self.model.state_bytes(state)),
            Next::Known(_) => None,
        };
        if let Err(stop) = self.within_memory(span.1 - span.0, new_bytes, budget) {
            // As it was: with more memory, the search resumes here.
            self.flip(k);
            return Err(stop);
        }
        let next = match next {
            Next::New(state, hash) => self.states.add(state, hash, new_bytes.unwrap_or(0)),
            Next::Known(id) => id,
        };
        let hash = self.bits_hash ^ mix(u64::from(next) ^ 0x5eed_0000_0000_0000);
        if !self.cache.insert(&self.linearized, span, next, hash) {
            self.flip(k);
            return Ok(Try::Seen);
        }
        self.stack.push(Placed {
            op: k,
            before: self.state,
            forced: self.inert[k],
        });
        self.state = next;
        self.unlink(2 * k);
        self.unlink(2 * k + 1);
        Ok(Try::Placed)
    }

    /// The current configuration leads nowhere: takes placed ops back
    /// until one whose configuration has candidates left to try; false
    /// when none has.
    fn retreat(&mut self) -> bool {
        loop {
            if self.levels.len() > self.stack.len() {
                let level = self.levels.pop().expect("just checked");
                self.cands.truncate(level.start);
            }
            let Some(placed) = self.stack.pop() else {
                return false;
            };
            self.state = placed.before;
            debug_assert!(self.is_placed(placed.op), "only placed ops are on the stack");
            self.flip(placed.op);
            self.relink(2 * placed.op + 1);
            self.relink(2 * placed.op);
            // A forced op's configuration is no better than it.
            if !placed.forced {
                return true;
            }
        }
    }

    /// Lists the current configuration's candidates, tried by `rank`.
    /// False when every determinate op is placed.
    fn open_level(&mut self) -> bool {
        let start = self.cands.len();
        let mut e = self.head_next;
        while e != HEAD && is_call(e) {
            self.cands.push((e / 2) as u32);
            e = self.next[e];
        }
        if e == HEAD || self.ops[self.by_call[e / 2]].ret.is_none() {
            self.cands.truncate(start);
            return false;
        }
        if self.cands[start..].iter().any(|&k| self.is_stuck(k as usize)) {
            // No order of what is left places that op: the configuration
            // leads nowhere, whatever is tried next.
            self.cands.truncate(start);
        }
        let rank = &self.rank;
        self.cands[start..].sort_unstable_by_key(|&k| (rank[k as usize], k));
        self.levels.push(Level {
            start,
            pos: start,
            first_return: e,
        });
        true
    }

    /// Whether op `k`, still to be placed, never can be from here: the
    /// state does not allow it, every op that could make it allow it is
    /// placed, and no other can (see [`Model::may_become_legal`]).
    fn is_stuck(&self, k: usize) -> bool {
        let Some(enablers) = &self.enablers[k] else {
            return false;
        };
        if enablers.iter().any(|&j| !self.is_placed(j as usize)) {
            return false;
        }
        let o = &self.ops[self.by_call[k]];
        let state = &self.states.all[self.state as usize];
        !self.model.is_legal(state, &o.input, o.output.as_ref())
            && !self.model.may_become_legal(state, &o.input, o.output.as_ref())
    }

    /// Runs until an answer, the end of a budget, or `budget.max_steps`
    /// steps in all (then it can run on, as it can after running out of
    /// memory, given more). Collecting, it explores every
    /// linearization, records each final state, and "fails" at the end.
    pub(super) fn run(
        &mut self,
        budget: &Budget<'_>,
        mut collect: Option<(&mut Vec<M::State>, usize)>,
    ) -> Result<Vec<usize>, End> {
        // Seen at once even by a run shorter than the steps between looks
        // at the clock; the deadline is not: a short search still answers.
        if budget.interrupt.is_some_and(|i| i.load(Ordering::Relaxed)) {
            return Err(End::Stopped(Stop::Interrupted));
        }
        loop {
            if self.steps >= budget.max_steps {
                return Err(End::OutOfSteps);
            }
            self.steps += 1;
            if self.steps.is_multiple_of(STEPS_PER_LOOK) {
                stopped(budget)?;
            }
            if self.levels.len() == self.stack.len() && !self.open_level() {
                let Some((finals, limit)) = collect.as_mut() else {
                    return Ok(self.stack.iter().map(|p| self.by_call[p.op]).collect());
                };
                let state = &self.states.all[self.state as usize];
                if !finals.contains(state) {
                    if finals.len() == *limit {
                        return Err(End::Stopped(Stop::FinalStates(*limit)));
                    }
                    finals.push(state.clone());
                }
            } else if self.levels.len() > self.stack.len() && self.try_next(budget)? {
                continue;
            }
            if !self.retreat() {
                // Only a collecting search can end without a failure.
                let failure = self.failure.take().unwrap_or(Failure {
                    prefix: Vec::new(),
                    blocked: 0,
                    candidates: Vec::new(),
                });
                return Err(End::Failed(failure));
            }
        }
    }

    /// Tries the current configuration's next candidate; false when it
    /// leads nowhere: no candidate is left, or an inert one led to a
    /// configuration explored before (then so would any other).
    fn try_next(&mut self, budget: &Budget<'_>) -> Result<bool, End> {
        let level = self.levels.last().expect("a level is open");
        let Some(&k) = self.cands.get(level.pos) else {
            let first_return = level.first_return;
            if self.failure.as_ref().is_none_or(|f| self.stack.len() > f.prefix.len()) {
                self.failure = Some(self.failure_at(first_return));
            }
            return Ok(false);
        };
        let k = k as usize;
        let tried = self.try_place(k, budget)?;
        self.levels.last_mut().expect("a level is open").pos += 1;
        Ok(match tried {
            Try::Placed | Try::Illegal => true,
            Try::Seen => !self.inert[k],
        })
    }

    /// Runs on within `budget` (see [`Search::run`]), as an outcome.
    pub(super) fn outcome(&mut self, budget: &Budget<'_>) -> Outcome {
        outcome_of(self.run(budget, None))
    }

    fn failure_at(&self, ret_entry: usize) -> Failure {
        let mut candidates = Vec::new();
        let mut e = self.head_next;
        while e != ret_entry && e != HEAD {
            if is_call(e) && e / 2 != ret_entry / 2 {
                candidates.push(self.by_call[e / 2]);
            }
            e = self.next[e];
        }
        Failure {
            prefix: self.stack.iter().map(|p| self.by_call[p.op]).collect(),
            blocked: self.by_call[ret_entry / 2],
            candidates,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linear::model::{Kv, KvOp, Register, RegisterOp, RegisterOutput};
    use crate::core::Value;
    use crate::history::raw::RawOp;
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
            let full = Search::new(&model, Value::Nil, &ops).run(&budget, None);
            match (fast, full) {
                // The search may leave out a last op that never returned.
                (Ok((a, _)), Ok(b)) => assert!(
                    a.starts_with(&b) && a[b.len()..].iter().all(|&i| ops[i].ret.is_none()),
                    "case {case}: {a:?} {b:?}"
                ),
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
        // A read of a value written long ago: possible on its own (no
        // shortcut), not after the writes since.
        let writes = || {
            good.iter().filter_map(|o| match &o.input {
                RegisterOp::Write(v) => Some(v.clone()),
                _ => None,
            })
        };
        let last = writes().next_back().unwrap();
        let stale = writes().find(|v| *v != last).unwrap();
        let mut bad = good.clone();
        bad.push(register_op(
            10_000,
            RegisterOp::Read,
            Some(RegisterOutput::Read(stale)),
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
    fn appends<M: Model<Input = KvOp, Output = RegisterOutput>>(writers: u64, bytes: usize) -> Vec<Op<M>> {
        let key = Value::Str("k".into());
        let mut ops: Vec<Op<M>> = (0..writers)
            .map(|p| Op {
                id: p as usize,
                client: p,
                input: KvOp::new(key.clone(), RegisterOp::Append(Value::Str(p.to_string().repeat(bytes)))),
                output: Some(RegisterOutput::Done),
                call: p,
                ret: Some(writers + p),
            })
            .collect();
        ops.push(Op {
            id: writers as usize,
            client: 0,
            input: KvOp::new(key, RegisterOp::Read),
            output: Some(RegisterOutput::Read(Value::Str("none".into()))),
            call: 2 * writers,
            ret: Some(2 * writers + 1),
        });
        ops
    }

    /// Appends to one string, held whole in every state (as kv held them
    /// before ropes): states that own kilobytes each.
    struct WholeStrings;

    impl Model for WholeStrings {
        type State = String;
        type Input = KvOp;
        type Output = RegisterOutput;
        fn init(&self) -> String {
            String::new()
        }
        fn step(&self, state: &String, input: &KvOp, output: Option<&RegisterOutput>) -> Option<String> {
            match (&input.op, output) {
                (RegisterOp::Append(Value::Str(tail)), _) => Some(state.clone() + tail),
                (RegisterOp::Read, Some(RegisterOutput::Read(Value::Str(s)))) => (s == state).then(|| s.clone()),
                _ => None,
            }
        }
        fn state_bytes(&self, state: &String) -> usize {
            state.capacity()
        }
        fn convert(&self, _: &RawOp) -> Result<(KvOp, Option<RegisterOutput>), String> {
            unreachable!("ops are built by the test")
        }
        fn describe(&self, input: &KvOp, _: Option<&RegisterOutput>) -> String {
            format!("{input:?}")
        }
        fn describe_state(&self, state: &String) -> String {
            state.clone()
        }
    }

    #[test]
    fn the_memory_budget_counts_model_states() {
        let model = WholeStrings;
        let ops = appends::<WholeStrings>(6, 1_000);
        let unlimited = search(&model, &model.init(), &ops, &Budget::unlimited());
        assert!(matches!(unlimited, Outcome::NotLinearizable(_)));
        // 1,957 configurations: a few hundred kB of bitsets and table, but
        // megabytes of strings.
        let budget = Budget {
            memory_bytes: 1 << 20,
            ..Budget::unlimited()
        };
        let outcome = search(&model, &model.init(), &ops, &budget);
        assert_eq!(outcome, Outcome::Unknown(Stop::Memory(1 << 20)));
        assert_eq!(Stop::Memory(1 << 20).to_string(), "memory budget of 1 MiB ran out");
        let short = appends::<WholeStrings>(6, 1);
        assert!(matches!(
            search(&model, &model.init(), &short, &budget),
            Outcome::NotLinearizable(_)
        ));
        // The kv model shares what appends have in common: its states fit.
        let kv = Kv { initial: Value::Nil };
        let outcome = search(&kv, &kv.init(), &appends::<Kv>(6, 1_000), &budget);
        assert!(matches!(outcome, Outcome::NotLinearizable(_)), "{outcome:?}");
    }

    #[test]
    fn a_search_resumed_in_rounds_takes_the_steps_of_one_run() {
        let model = Kv { initial: Value::Nil };
        let ops = appends::<Kv>(6, 1);
        let mut whole = Search::new(&model, model.init(), &ops);
        let Err(End::Failed(failure)) = whole.run(&Budget::unlimited(), None) else {
            panic!("no order of the appends gives \"none\"")
        };
        let mut rounds = Search::new(&model, model.init(), &ops);
        let mut max_steps = 1;
        let resumed = loop {
            let budget = Budget {
                max_steps,
                ..Budget::unlimited()
            };
            match rounds.run(&budget, None) {
                Err(End::OutOfSteps) => max_steps *= 2,
                other => break other,
            }
        };
        assert!(max_steps > 1_000, "it took rounds: {max_steps}");
        assert!(matches!(resumed, Err(End::Failed(f)) if f == failure));
        assert_eq!(rounds.steps, whole.steps, "no step was taken twice");
    }

    #[test]
    fn a_search_out_of_memory_resumes_with_more_as_if_never_stopped() {
        let model = Kv { initial: Value::Nil };
        let ops = appends::<Kv>(6, 100);
        let mut whole = Search::new(&model, model.init(), &ops);
        let Err(End::Failed(failure)) = whole.run(&Budget::unlimited(), None) else {
            panic!("no order of the appends gives \"none\"")
        };
        let mut grown = Search::new(&model, model.init(), &ops);
        let (mut memory_bytes, mut stops) = (16 << 10, 0);
        let outcome = loop {
            let budget = Budget {
                memory_bytes,
                ..Budget::unlimited()
            };
            match grown.run(&budget, None) {
                Err(End::Stopped(Stop::Memory(_))) => (memory_bytes, stops) = (memory_bytes * 2, stops + 1),
                other => break other,
            }
        };
        assert!(stops >= 3, "it ran out {stops} times");
        assert!(matches!(outcome, Err(End::Failed(f)) if f == failure));
        // Each stop retries the step it stopped at.
        assert_eq!(grown.steps, whole.steps + stops);
        assert_eq!(grown.cache.seen.len(), whole.cache.seen.len());
    }

    #[test]
    fn a_read_no_order_of_the_rest_can_satisfy_ends_the_branch_at_once() {
        // 8 concurrent appends and, concurrent with them, a read of all 8
        // in one order: only that order is linearizable. Without pruning
        // the search tries every order of every subset first (109,601
        // states); a read whose string no longer extends the state stops a
        // wrong order after its first wrong append.
        let key = Value::Str("k".into());
        let op = |p: u64, op, output| Op {
            id: p as usize,
            client: p,
            input: KvOp::new(key.clone(), op),
            output: Some(output),
            call: p,
            ret: Some(100 + p),
        };
        let mut ops: Vec<Op<Kv>> = (0..8)
            .map(|p| op(p, RegisterOp::Append(Value::Str(p.to_string())), RegisterOutput::Done))
            .collect();
        let all = Value::Str("70615243".into());
        ops.push(op(8, RegisterOp::Read, RegisterOutput::Read(all)));
        let model = Kv { initial: Value::Nil };
        {
            let mut search = Search::new(&model, model.init(), &ops);
            assert!(search.run(&Budget::unlimited(), None).is_ok(), "linearizable");
            assert!(
                search.cache.seen.len() < 100,
                "{} configurations",
                search.cache.seen.len()
            );
        }
        // A read of an order no interleaving gives is refuted as fast.
        ops[8].output = Some(RegisterOutput::Read(Value::Str("706152431".into())));
        let mut search = Search::new(&model, model.init(), &ops);
        assert!(matches!(search.run(&Budget::unlimited(), None), Err(End::Failed(_))));
        assert!(
            search.cache.seen.len() < 100,
            "{} configurations",
            search.cache.seen.len()
        );
    }

    #[test]
    fn an_inert_op_is_placed_once_not_tried_in_every_order() {
        // 12 concurrent reads of nil before a read of a value never
        // written: trying each read in each position would visit 2^12
        // sets of them; placing a legal read at once visits one.
        let key = Value::Str("k".into());
        let read = |p: u64, seen: Value, call, ret| Op {
            id: p as usize,
            client: p,
            input: KvOp::new(key.clone(), RegisterOp::Read),
            output: Some(RegisterOutput::Read(seen)),
            call,
            ret: Some(ret),
        };
        let mut ops: Vec<Op<Kv>> = (0..12).map(|p| read(p, Value::Nil, p, 100 + p)).collect();
        ops.push(read(12, Value::Str("x".into()), 200, 201));
        let model = Kv { initial: Value::Nil };
        let mut search = Search::new(&model, model.init(), &ops);
        assert!(matches!(search.run(&Budget::unlimited(), None), Err(End::Failed(_))));
        assert!(
            search.cache.seen.len() <= 13,
            "{} configurations",
            search.cache.seen.len()
        );
    }

    #[test]
    fn the_table_counts_both_tables_while_it_grows() {
        assert_eq!(table_bytes(31, 1, 0), 4 * 32);
        assert_eq!(table_bytes(31, 7, 7), 8 * 32);
        assert_eq!(table_bytes(31, 8, 7), (8 + 16) * 32);
        assert_eq!(table_bytes(31, 500, 896), 1024 * 32);
    }
}
