//! A time-ordered event queue: earliest due first, ties in insertion order.
//! The world keeps one for every event of a run, whichever node or client
//! it is for, so that events at the same instant happen in the order they
//! were scheduled.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

struct Entry<E> {
    due_ns: u64,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        (self.due_ns, self.seq) == (other.due_ns, other.seq)
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    /// Reversed, so that BinaryHeap (a max-heap) pops the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due_ns, other.seq).cmp(&(self.due_ns, self.seq))
    }
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, due_ns: u64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { due_ns, seq, event });
    }

    pub fn next_due_ns(&self) -> Option<u64> {
        self.heap.peek().map(|e| e.due_ns)
    }

    /// The earliest event if it is due by `now_ns`.
    pub fn pop_due(&mut self, now_ns: u64) -> Option<(u64, E)> {
        if self.next_due_ns()? > now_ns {
            return None;
        }
        self.heap.pop().map(|e| (e.due_ns, e.event))
    }

    /// The earliest event if it is due before `bound_ns`.
    pub fn pop_before(&mut self, bound_ns: u64) -> Option<(u64, E)> {
        self.pop_due(bound_ns.checked_sub(1)?)
    }

    pub fn retain(&mut self, mut keep: impl FnMut(u64, &E) -> bool) {
        self.heap.retain(|e| keep(e.due_ns, &e.event));
    }

    /// Whether some event satisfies `test`.
    pub fn any(&self, mut test: impl FnMut(u64, &E) -> bool) -> bool {
        self.heap.iter().any(|e| test(e.due_ns, &e.event))
    }

    /// Everything left, in no particular order (for end-of-run accounting).
    pub fn drain(&mut self) -> impl Iterator<Item = (u64, E)> + '_ {
        self.heap.drain().map(|e| (e.due_ns, e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_by_time_then_insertion_order() {
        let mut q = EventQueue::default();
        q.push(30, "c");
        q.push(10, "a1");
        q.push(20, "b");
        q.push(10, "a2");
        assert_eq!(q.pop_due(5), None);
        assert_eq!(q.pop_due(25), Some((10, "a1")));
        assert_eq!(q.pop_due(25), Some((10, "a2")));
        assert_eq!(q.pop_due(25), Some((20, "b")));
        assert_eq!(q.pop_due(25), None);
        assert_eq!(q.next_due_ns(), Some(30));
    }
}
