//! Searching many partitions fairly: in rounds of growing step budgets,
//! each partition's search paused between rounds and resumed with all it
//! learnt, so that a partition that fails fast is found fast even when
//! another one is expensive (as Porcupine's kill switch does, but
//! deterministically: which partitions finish within a round depends only
//! on step counts, never on timing), and the rounds redo no work.
//!
//! Paused searches keep their caches, so every partition of the rounds
//! holds memory at once: each gets an equal share of the budget whatever
//! `jobs` is. One that runs out of its share waits, its search kept, until
//! the rounds are over; then the waiting ones resume one at a time, each
//! with the whole budget but the shares the others still hold. The
//! verdict is therefore the same for every `jobs`.

use super::model::Model;
use super::search::{self, Begun, Budget, Op, Outcome, Search, Stop};
use super::Options;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Step budget of the first round; each later round has four times more.
const FIRST_ROUND_STEPS: u64 = 10_000;

/// A partition between rounds.
enum Slot<'a, M: Model> {
    /// Not started yet.
    Waiting,
    /// Out of steps in the last round; resumes where it stopped.
    Paused(Box<Search<'a, M>>),
    /// Out of its share of memory; resumes after the rounds.
    OverShare(Box<Search<'a, M>>),
    Done(Outcome),
}

/// The budget of one search: the deadline, the interrupt, and
/// `memory_bytes`.
pub(super) fn budget<'a>(options: &'a Options, memory_bytes: usize, deadline: Option<Instant>) -> Budget<'a> {
    Budget {
        deadline,
        memory_bytes,
        cancel: None,
        interrupt: options.interrupt,
        max_steps: u64::MAX,
    }
}

/// Searches every partition. The first that fails (lowest index among
/// those failing in the first round that has a failure) decides; the
/// partitions after it, or still unresolved then, are left out (None).
pub(super) fn search_all<M: Model>(
    model: &M,
    parts: &[(String, Vec<Op<M>>)],
    options: &Options,
    deadline: Option<Instant>,
) -> Vec<Option<Outcome>> {
    if parts.len() == 1 {
        let whole = budget(options, options.memory_bytes, deadline);
        return vec![Some(search::search(model, &model.init(), &parts[0].1, &whole))];
    }
    let share = options.memory_bytes / parts.len().max(1);
    let slots: Vec<Mutex<Slot<M>>> = parts.iter().map(|_| Mutex::new(Slot::Waiting)).collect();
    let mut steps = FIRST_ROUND_STEPS;
    loop {
        let todo: Vec<usize> = (0..parts.len())
            .filter(|&i| matches!(*lock(&slots[i]), Slot::Waiting | Slot::Paused(_)))
            .collect();
        if todo.is_empty() {
            break;
        }
        run_round(
            model,
            parts,
            &slots,
            &todo,
            options,
            budget(options, share, deadline),
            steps,
        );
        let failed = |s: &Mutex<Slot<M>>| matches!(*lock(s), Slot::Done(Outcome::NotLinearizable(_)));
        if slots.iter().any(failed) {
            return outcomes(slots);
        }
        steps = steps.saturating_mul(4);
    }
    resume_over_shares(&slots, options, share, deadline);
    outcomes(slots)
}

fn lock<'m, T>(m: &'m Mutex<T>) -> std::sync::MutexGuard<'m, T> {
    m.lock().expect("no search panics while holding its slot")
}

/// The decided outcomes; paused or waiting partitions give None.
fn outcomes<M: Model>(slots: Vec<Mutex<Slot<M>>>) -> Vec<Option<Outcome>> {
    slots
        .into_iter()
        .map(|s| match s.into_inner().expect("no search panicked") {
            Slot::Done(o) => Some(o),
            Slot::Waiting | Slot::Paused(_) | Slot::OverShare(_) => None,
        })
        .collect()
}

/// Runs the partitions `todo` for `steps` more steps each (in all), on up
/// to `options.jobs` threads.
fn run_round<'a, M: Model>(
    model: &'a M,
    parts: &'a [(String, Vec<Op<M>>)],
    slots: &[Mutex<Slot<'a, M>>],
    todo: &[usize],
    options: &Options,
    budget: Budget<'_>,
    steps: u64,
) {
    let jobs = options.jobs.clamp(1, todo.len().max(1));
    let next = AtomicUsize::new(0);
    // Partitions after one that failed cannot change which failure is
    // reported: they are skipped, or stopped if already running.
    let first_failure = AtomicUsize::new(usize::MAX);
    let work = || loop {
        let Some(&i) = todo.get(next.fetch_add(1, Ordering::Relaxed)) else {
            return;
        };
        let moot = || first_failure.load(Ordering::Relaxed) < i;
        if moot() {
            continue;
        }
        let budget = Budget {
            max_steps: steps,
            cancel: Some(&moot),
            ..budget
        };
        let mut slot = lock(&slots[i]);
        let outcome = advance(model, &parts[i].1, &mut slot, &budget);
        if matches!(outcome, Some(Outcome::NotLinearizable(_))) {
            first_failure.fetch_min(i, Ordering::Relaxed);
        }
        match outcome.filter(|_| !moot()) {
            Some(Outcome::Unknown(Stop::Memory(_))) if matches!(*slot, Slot::Paused(_)) => {
                let Slot::Paused(search) = std::mem::replace(&mut *slot, Slot::Waiting) else {
                    unreachable!("just matched")
                };
                *slot = Slot::OverShare(search);
            }
            Some(outcome) => *slot = Slot::Done(outcome),
            None => {}
        }
    };
    if jobs == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(work);
            }
        });
    }
}

/// Runs one partition's search on within `budget`; None if it paused.
fn advance<'a, M: Model>(
    model: &'a M,
    ops: &'a [Op<M>],
    slot: &mut Slot<'a, M>,
    budget: &Budget<'_>,
) -> Option<Outcome> {
    if matches!(slot, Slot::Waiting) {
        match search::begin(model, &model.init(), ops, budget) {
            Begun::Decided(outcome) => return Some(outcome),
            Begun::Searching(search) => *slot = Slot::Paused(search),
        }
    }
    let (Slot::Paused(running) | Slot::OverShare(running)) = slot else {
        unreachable!("only undecided partitions run")
    };
    Some(running.outcome(budget)).filter(|o| *o != Outcome::OutOfSteps)
}

/// Resumes, one at a time in index order, the partitions that ran out of
/// their share, each with the whole budget but the shares of those still
/// waiting after it; the first of them that fails ends it (those after
/// cannot change the report).
fn resume_over_shares<M: Model>(slots: &[Mutex<Slot<M>>], options: &Options, share: usize, deadline: Option<Instant>) {
    let waiting = |from: usize| {
        slots[from..]
            .iter()
            .filter(|s| matches!(*lock(s), Slot::OverShare(_)))
            .count()
    };
    for (i, slot) in slots.iter().enumerate() {
        let mut slot = lock(slot);
        let Slot::OverShare(search) = &mut *slot else {
            continue;
        };
        let memory_bytes = options.memory_bytes - share * waiting(i + 1);
        let budget = budget(options, memory_bytes, deadline);
        // On a thread, as the rounds do: glibc keeps what a thread frees
        // in that thread's arena, which a new thread takes over, while the
        // main thread would grow its own arena on top.
        let outcome =
            std::thread::scope(|s| s.spawn(|| search.outcome(&budget)).join()).expect("the search does not panic");
        debug_assert!(outcome != Outcome::OutOfSteps, "the budget has no step limit");
        // The budget that ran out is the whole one, less what others hold.
        let outcome = match outcome {
            Outcome::Unknown(Stop::Memory(_)) => Outcome::Unknown(Stop::Memory(options.memory_bytes)),
            other => other,
        };
        let failed = matches!(outcome, Outcome::NotLinearizable(_));
        *slot = Slot::Done(outcome);
        if failed {
            return;
        }
    }
}
