//! A brute-force linearizability checker: tries every order. Exponential,
//! so only for tiny histories; it exists to check the real search against.
//!
//! An order is legal when it respects real time (an op that returned
//! before another was called comes first), includes every determinate op
//! and any subset of the indeterminate ones, and every step is legal in
//! the model.

use super::model::Model;
use super::search::Op;

/// Whether some legal order of `ops` exists from `init`. Panics on more
/// than 12 operations.
pub fn linearizable<M: Model>(model: &M, init: &M::State, ops: &[Op<M>]) -> bool {
    assert!(ops.len() <= 12, "brute force is for tiny histories");
    let mut placed = vec![false; ops.len()];
    place(model, init, ops, &mut placed)
}

fn place<M: Model>(model: &M, state: &M::State, ops: &[Op<M>], placed: &mut [bool]) -> bool {
    if (0..ops.len()).all(|i| placed[i] || ops[i].ret.is_none()) {
        return true;
    }
    for i in 0..ops.len() {
        if placed[i] || !may_go_next(ops, placed, i) {
            continue;
        }
        if let Some(next) = model.step(state, &ops[i].input, ops[i].output.as_ref()) {
            placed[i] = true;
            let ok = place(model, &next, ops, placed);
            placed[i] = false;
            if ok {
                return true;
            }
        }
    }
    false
}

/// No unplaced op returned before `i` was called. (Indeterminate ops never
/// return, so leaving one out never blocks anything.)
fn may_go_next<M: Model>(ops: &[Op<M>], placed: &[bool], i: usize) -> bool {
    (0..ops.len()).all(|j| j == i || placed[j] || ops[j].ret.is_none_or(|r| r >= ops[i].call))
}
