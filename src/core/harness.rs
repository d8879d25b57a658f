//! A node on its own, driven by hand: for unit tests of a protocol's
//! handlers without a runtime. Deliver a message, fire a timer, send a
//! request, crash and restart from disk, and read what the node asked for.

use super::{Ctx, Effects, Node, NodeId, OpOf, Parts, Request, TimerId};
use crate::env::clock::Clock;
use crate::env::disk::Disk;
use crate::env::rng::{stream, SimRng};
use std::collections::BTreeMap;

/// One node, its disk, clock, random stream and timers, at a time the test
/// sets. Time only moves when the test moves it ([`Harness::at`],
/// [`Harness::fire_next`]).
pub struct Harness<N: Node> {
    id: NodeId,
    nodes: u32,
    now_ns: u64,
    factory: Box<dyn Fn(NodeId) -> N>,
    node: N,
    disk: Disk,
    clock: Clock,
    rng: SimRng,
    next_timer: u64,
    /// Timers set and not cancelled or fired: id -> (due, global ns; payload).
    timers: BTreeMap<TimerId, (u64, N::Timer)>,
}

impl<N: Node> Harness<N> {
    /// Node `id` of `nodes`, built by `factory` (again at every restart),
    /// not yet started: call [`Harness::start`].
    pub fn new(id: NodeId, nodes: u32, factory: impl Fn(NodeId) -> N + 'static) -> Self {
        assert!(id.0 < nodes, "node {id} of {nodes}");
        Harness {
            id,
            nodes,
            now_ns: 0,
            node: factory(id),
            factory: Box::new(factory),
            disk: Disk::default(),
            clock: Clock::new(0, 0),
            rng: stream(0, &format!("node/{}", id.0)),
            next_timer: 0,
            timers: BTreeMap::new(),
        }
    }

    /// The same, with this clock (drift and offset).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Moves global time to `now_ns` (never backwards).
    pub fn at(&mut self, now_ns: u64) -> &mut Self {
        assert!(now_ns >= self.now_ns, "time goes forward: {} -> {now_ns}", self.now_ns);
        self.now_ns = now_ns;
        self
    }

    /// Global time now.
    pub fn now_ns(&self) -> u64 {
        self.now_ns
    }

    /// Runs `on_start`.
    pub fn start(&mut self) -> Effects<N> {
        self.call(|n, ctx| n.on_start(ctx))
    }

    /// Delivers `msg` from `from`.
    pub fn deliver(&mut self, from: NodeId, msg: N::Msg) -> Effects<N> {
        self.call(|n, ctx| n.on_message(ctx, from, msg))
    }

    /// Hands the node a client request.
    pub fn request(&mut self, request: Request<OpOf<N>>) -> Effects<N> {
        self.call(|n, ctx| n.on_request(ctx, request))
    }

    /// Fires a timer with this payload now, whether or not the node set it.
    pub fn fire(&mut self, timer: N::Timer) -> Effects<N> {
        self.call(|n, ctx| n.on_timer(ctx, timer))
    }

    /// Moves time to the earliest timer the node set (and did not cancel)
    /// and fires it; `None` if there is none.
    pub fn fire_next(&mut self) -> Option<Effects<N>> {
        let (&id, &(due, _)) = self.timers.iter().min_by_key(|(id, (due, _))| (*due, **id))?;
        let (_, timer) = self.timers.remove(&id).expect("just found");
        self.now_ns = self.now_ns.max(due);
        Some(self.fire(timer))
    }

    /// The timers set and not yet fired or cancelled, earliest first:
    /// (due, global ns; payload).
    pub fn pending_timers(&self) -> Vec<(u64, &N::Timer)> {
        let mut all: Vec<(u64, &N::Timer)> = self.timers.values().map(|(due, t)| (*due, t)).collect();
        all.sort_by_key(|(due, _)| *due);
        all
    }

    /// A crash then a restart: unsynced writes and every timer are lost, a
    /// fresh node from the factory starts from what the disk kept.
    pub fn crash_and_restart(&mut self) -> Effects<N> {
        self.disk.crash();
        self.timers.clear();
        self.node = (self.factory)(self.id);
        self.start()
    }

    /// The node.
    pub fn node(&self) -> &N {
        &self.node
    }

    /// The node, to set it up for a test.
    pub fn node_mut(&mut self) -> &mut N {
        &mut self.node
    }

    /// The node's disk.
    pub fn disk(&mut self) -> &mut Disk {
        &mut self.disk
    }

    /// Runs any handler now; returns what it asked for. Timers it set or
    /// cancelled are tracked for [`Harness::fire_next`].
    pub fn call(&mut self, handler: impl FnOnce(&mut N, &mut Ctx<'_, N>)) -> Effects<N> {
        let mut out = Effects::default();
        let parts = Parts {
            clock: &self.clock,
            rng: &mut self.rng,
            disk: &mut self.disk,
            next_timer: &mut self.next_timer,
        };
        let mut ctx = Ctx::new(self.id, self.nodes, self.now_ns, parts, &mut out);
        handler(&mut self.node, &mut ctx);
        for id in &out.cancels {
            self.timers.remove(id);
        }
        for (id, local_ns, timer) in &out.timers {
            let due = self.now_ns.saturating_add(self.clock.global_span_ns(*local_ns));
            self.timers.insert(*id, (due, timer.clone()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{NoService, Role};
    use super::*;
    use std::time::Duration;

    /// Counts ticks on disk; ticks every 10ms; pings whoever pings it.
    struct Ticker {
        ticks: u64,
    }

    impl Node for Ticker {
        type Msg = u64;
        type Timer = ();
        type Service = NoService;

        fn on_start(&mut self, ctx: &mut Ctx<'_, Self>) {
            self.ticks = ctx.read_file("ticks").map_or(0, |b| b.len() as u64);
            ctx.set_timer(Duration::from_millis(10), ());
        }

        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, msg: u64) {
            ctx.send(from, msg + 1);
        }

        fn on_timer(&mut self, ctx: &mut Ctx<'_, Self>, _timer: ()) {
            self.ticks += 1;
            ctx.disk().append("ticks", b"t");
            if self.ticks.is_multiple_of(2) {
                ctx.disk().fsync().expect("no disk faults here");
            }
            ctx.set_timer(Duration::from_millis(10), ());
        }

        fn role(&self) -> Role {
            Role::follows("ticker")
        }
    }

    #[test]
    fn a_node_runs_by_hand_through_timers_messages_and_a_crash() {
        let mut h = Harness::new(NodeId(1), 3, |_| Ticker { ticks: 0 });
        h.start();
        for _ in 0..3 {
            h.fire_next().expect("the ticker always has a timer");
        }
        assert_eq!((h.node().ticks, h.now_ns()), (3, 30_000_000));
        let fx = h.deliver(NodeId(2), 41);
        assert_eq!(fx.sends, [(NodeId(2), 42)]);
        h.crash_and_restart();
        assert_eq!(h.node().ticks, 2, "the third tick was never synced");
        assert_eq!(h.pending_timers().len(), 1, "only the new life's timer");
    }
}
