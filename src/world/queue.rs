//! A time-ordered event queue: earliest due first, ties in insertion order.
//! The world keeps one for every event of a run, whichever node or client
//! it is for, so that events at the same instant happen in the order they
//! were scheduled.
//!
//! The heap orders small keys (due time, sequence number, slot); the
//! events themselves wait in slots that are reused. An event is large (a
//! message with its envelope), and a heap of events moved each one at
//! every level it climbed or sank: a seventh of a run's time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub struct EventQueue<E> {
    /// Earliest (due, seq) on top; the third field is the event's slot.
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slots: Vec<Option<E>>,
    /// Slots free for reuse.
    free: Vec<u32>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, due_ns: u64, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let slot = match self.free.pop() {
            Some(slot) => {
                debug_assert!(self.slots[slot as usize].is_none(), "a free slot is empty");
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 events waiting")
            }
        };
        self.heap.push(Reverse((due_ns, seq, slot)));
    }

    pub fn next_due_ns(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((due, _, _))| *due)
    }

    /// The earliest event if it is due by `now_ns`.
    pub fn pop_due(&mut self, now_ns: u64) -> Option<(u64, E)> {
        if self.next_due_ns()? > now_ns {
            return None;
        }
        let Reverse((due, _, slot)) = self.heap.pop().expect("peeked");
        Some((due, self.take(slot)))
    }

    /// The earliest event if it is due before `bound_ns`.
    pub fn pop_before(&mut self, bound_ns: u64) -> Option<(u64, E)> {
        self.pop_due(bound_ns.checked_sub(1)?)
    }

    fn take(&mut self, slot: u32) -> E {
        self.free.push(slot);
        self.slots[slot as usize].take().expect("a queued slot holds its event")
    }

    /// Keeps only the events `keep` says yes to.
    pub fn retain(&mut self, mut keep: impl FnMut(u64, &E) -> bool) {
        let (slots, free) = (&mut self.slots, &mut self.free);
        self.heap.retain(|&Reverse((due, _, slot))| {
            let kept = keep(
                due,
                slots[slot as usize].as_ref().expect("a queued slot holds its event"),
            );
            if !kept {
                slots[slot as usize] = None;
                free.push(slot);
            }
            kept
        });
    }

    /// Whether some event satisfies `test`.
    pub fn any(&self, mut test: impl FnMut(u64, &E) -> bool) -> bool {
        self.heap.iter().any(|&Reverse((due, _, slot))| {
            test(
                due,
                self.slots[slot as usize]
                    .as_ref()
                    .expect("a queued slot holds its event"),
            )
        })
    }

    /// Everything left, in no particular order (for end-of-run accounting).
    pub fn drain(&mut self) -> impl Iterator<Item = (u64, E)> + '_ {
        let mut slots = std::mem::take(&mut self.slots);
        self.free.clear();
        self.heap.drain().map(move |Reverse((due, _, slot))| {
            (due, slots[slot as usize].take().expect("a queued slot holds its event"))
        })
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
        assert_eq!(q.pop_before(30), None);
        assert_eq!(q.pop_before(31), Some((30, "c")));
    }

    #[test]
    fn reuses_slots_and_keeps_order_through_retain_and_drain() {
        let mut q = EventQueue::default();
        for (due, name) in [(5, "x"), (1, "gone"), (3, "y"), (3, "gone"), (9, "z")] {
            q.push(due, name);
        }
        q.retain(|_, e| *e != "gone");
        assert!(q.any(|due, e| due == 3 && *e == "y") && !q.any(|_, e| *e == "gone"));
        // New events take the freed slots and still come out in order.
        q.push(3, "y2");
        q.push(0, "w");
        assert_eq!(q.slots.len(), 5, "no slot grown while two were free");
        let order: Vec<_> = std::iter::from_fn(|| q.pop_due(u64::MAX)).collect();
        assert_eq!(order, [(0, "w"), (3, "y"), (3, "y2"), (5, "x"), (9, "z")]);
        q.push(4, "v");
        let mut left: Vec<_> = q.drain().collect();
        left.sort();
        assert_eq!(left, [(4, "v")]);
        assert_eq!((q.next_due_ns(), q.slots.len()), (None, 0), "drained empty");
    }
}
