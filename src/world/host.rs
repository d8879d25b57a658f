//! The madsim side of the world: global simulated time, exact wake-ups, and
//! the host task that runs inside each madsim node.
//!
//! Every node and client is a madsim node whose one task is a [`Host`].
//! A host does no work of its own: each poll asks the world to handle the
//! events now due for its node. Killing, restarting, pausing and resuming a
//! madsim node therefore stops, replaces, parks and releases exactly the
//! code of that simulated node.

use super::engine::{Shared, World};
use crate::core::Node;
use madsim::time::{Instant, Sleep, TimeHandle};
use std::future::Future;
use std::pin::Pin;
use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Wake-ups later than this (about 146 years) are clamped to it: no run
/// gets there, and `Instant` arithmetic would overflow on the way.
const FAR_FUTURE_NS: u64 = 1 << 62;

/// Simulated time, in nanoseconds since the run began.
pub struct SimTime {
    handle: TimeHandle,
    origin_instant: Instant,
    origin_elapsed: Duration,
}

impl SimTime {
    /// Must be called inside the madsim runtime.
    pub fn current() -> Self {
        let handle = TimeHandle::current();
        SimTime {
            origin_instant: handle.now_instant(),
            origin_elapsed: handle.elapsed(),
            handle,
        }
    }

    pub fn now_ns(&self) -> u64 {
        (self.handle.elapsed() - self.origin_elapsed).as_nanos() as u64
    }

    fn instant(&self, ns: u64) -> Instant {
        self.origin_instant + Duration::from_nanos(ns.min(FAR_FUTURE_NS))
    }

    /// Wakes `waker` at time `ns` exactly, through `sleep` (made on first
    /// use and kept: each poll of a madsim `Sleep` arms a timer of its own,
    /// so one serves every wake-up, and making one costs a lock and two
    /// reference counts). madsim's `sleep_until` rounds up to at least 1 ms
    /// from now, which would distort sub-millisecond latencies;
    /// `Sleep::reset` sets the deadline as given.
    pub fn wake_at(&self, ns: u64, waker: &Waker, sleep: &mut Option<Sleep>) {
        let at = self.instant(ns);
        let sleep = sleep.get_or_insert_with(|| self.handle.sleep_until(at));
        Pin::new(&mut *sleep).reset(at);
        if Pin::new(sleep).poll(&mut Context::from_waker(waker)).is_ready() {
            waker.wake_by_ref();
        }
    }

    pub async fn sleep_until(&self, ns: u64) {
        let at = self.instant(ns);
        let mut sleep = self.handle.sleep_until(at);
        Pin::new(&mut sleep).reset(at);
        sleep.await;
    }
}

/// Tracks one host's waker and the wake-ups already asked of madsim, so
/// that an event only arms a timer when none is armed by its time. Every
/// armed wake-up is remembered, not only the earliest: forgetting the
/// later ones when the earliest fired armed them again, and a third of a
/// run's madsim timers were such repeats (simulate 0.3; the runs moved by
/// madsim's 50 to 100 ns per round of tasks, see `report::repro`).
#[derive(Default)]
pub struct Wake {
    waker: Option<Waker>,
    /// Every wake-up armed for this waker and not yet seen due, latest
    /// first: a timer is armed only when it is earlier than all of them,
    /// so it goes on the end.
    armed_ns: Vec<u64>,
    /// What arms the timers (see [`SimTime::wake_at`]).
    sleep: Option<Sleep>,
}

impl Wake {
    /// Called at the start of every poll of the host.
    pub fn polled(&mut self, waker: &Waker, now_ns: u64) {
        if self.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            // Those due have fired (or are firing now): keep the later ones.
            while self.armed_ns.last().is_some_and(|&t| t <= now_ns) {
                self.armed_ns.pop();
            }
        } else {
            // A new task (first boot or restart): earlier wake-ups were for
            // the old one.
            self.waker = Some(waker.clone());
            self.armed_ns.clear();
        }
    }

    /// Forgets the waker: wake-ups already armed go to a task that is gone.
    pub fn reset(&mut self) {
        *self = Wake::default();
    }

    /// Makes sure the host is woken by `due_ns`.
    pub fn want(&mut self, due_ns: u64, time: &SimTime) {
        if self.armed_ns.last().is_some_and(|&t| t <= due_ns) {
            return;
        }
        if let Some(waker) = &self.waker {
            time.wake_at(due_ns, waker, &mut self.sleep);
            debug_assert!(self.armed_ns.last().is_none_or(|&t| t > due_ns), "kept latest first");
            self.armed_ns.push(due_ns);
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    Node(u32),
    Client(u32),
    /// Stands in for a crashed node: drops what arrives for it, as it
    /// arrives, until the node restarts.
    Down(u32),
}

pub struct Host<N: Node> {
    world: Shared<N>,
    who: Who,
    booted: bool,
}

impl<N: Node> Host<N> {
    pub fn new(world: Shared<N>, who: Who) -> Self {
        Host {
            world,
            who,
            booted: false,
        }
    }
}

impl<N: Node> Future for Host<N> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut world: std::sync::MutexGuard<'_, World<N>> = this.world.lock().unwrap_or_else(PoisonError::into_inner);
        let first = !std::mem::replace(&mut this.booted, true);
        if world.poll_host(this.who, cx.waker(), first) {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_up_already_armed_is_not_armed_again() {
        let runtime = madsim::runtime::Runtime::with_seed_and_config(1, madsim::Config::default());
        runtime.block_on(async {
            let time = SimTime::current();
            let waker = Waker::noop();
            let mut wake = Wake::default();
            wake.want(100, &time);
            assert!(wake.armed_ns.is_empty(), "no waker yet: nothing to arm");
            wake.polled(waker, 0);
            wake.want(100, &time);
            wake.want(200, &time);
            assert_eq!(wake.armed_ns, [100], "100 wakes the host before 200");
            wake.want(50, &time);
            assert_eq!(wake.armed_ns, [100, 50]);
            wake.polled(waker, 60);
            wake.want(150, &time);
            assert_eq!(wake.armed_ns, [100], "the timer for 100 still stands");
            wake.polled(waker, 100);
            wake.want(150, &time);
            assert_eq!(wake.armed_ns, [150]);
            wake.reset();
            assert!(wake.armed_ns.is_empty() && wake.waker.is_none());
        });
    }
}
