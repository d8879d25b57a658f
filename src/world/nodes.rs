//! The nodes of a run: each one's protocol state, queue, clocks, disk,
//! random stream and timers, and the running of its handlers.

use super::engine::{Addr, Factory};
use crate::core::{Ctx, Effects, Node, NodeId, OpOf, Parts, Request, RequestId, Role, TimerId};
use crate::env::clock::Clock;
use crate::env::disk::{Disk, DiskHook};
use crate::env::rng::{stream, SimRng};
use crate::nemesis::Status;
use crate::scenario::Scenario;
use rand::Rng;
use std::collections::{BTreeMap, BTreeSet};

/// What travels to a node.
pub(super) enum Wire<N: Node> {
    Peer(N::Msg),
    Request(Request<OpOf<N>>),
}

pub(super) enum NodeEvent<N: Node> {
    Deliver {
        from: Addr,
        msg: u64,
        sent_ns: u64,
        wire: Wire<N>,
    },
    Timer {
        id: u64,
        timer: N::Timer,
    },
}

pub(super) struct NodeSlot<N: Node> {
    pub state: Option<N>,
    pub status: Status,
    /// Start of the current life; messages that arrived before it are lost.
    pub up_since_ns: u64,
    /// Counts node faults (crash, restart, pause, resume) done to it.
    pub epoch: u64,
    /// Events that came due while the node was paused, in the order they
    /// did: it handles them when it resumes.
    pub held: Vec<(u64, NodeEvent<N>)>,
    pub clock: Clock,
    disk: Disk,
    rng: SimRng,
    live_timers: BTreeSet<u64>,
    next_timer: u64,
    /// Requests received in this life, awaiting a reply: id -> client.
    requests: BTreeMap<RequestId, u32>,
    /// Restarted and not booted yet: it boots once the fault step that
    /// restarted it is over (or, if paused meanwhile, when it resumes).
    pub unbooted: bool,
    /// The role last recorded in the trace (a crash forgets it).
    role: Role,
    /// Handled a message, request or timer in this life: a crash now
    /// loses something (see [`super::coverage::Effect::Crash`]).
    pub handled: bool,
}

/// Builds each node's disk: with the family's fault hook, if it has one.
pub type DiskHooks = dyn Fn(NodeId) -> Box<dyn DiskHook> + Send + Sync;

pub(super) struct Nodes<N: Node> {
    pub slots: Vec<NodeSlot<N>>,
    factory: Factory<N>,
    /// The effects buffer, reused by every handler call.
    effects: Effects<N>,
}

impl<N: Node> Nodes<N> {
    pub fn new(scenario: &Scenario, seed: u64, factory: Factory<N>, disk_hooks: Option<&DiskHooks>) -> Self {
        let mut clock_rng = stream(seed, "clocks");
        let slots = (0..scenario.nodes)
            .map(|i| {
                let (lo, hi) = scenario.clocks.drift_ppm;
                let drift = clock_rng.gen_range(lo..=hi);
                let (lo, hi) = scenario.clocks.offset;
                let offset = clock_rng.gen_range(lo.0..=hi.0);
                let disk = match disk_hooks {
                    Some(hook) => Disk::with_hook(hook(NodeId(i)), stream(seed, &format!("disk/{i}"))),
                    None => Disk::default(),
                };
                NodeSlot {
                    state: None,
                    status: Status::Up,
                    up_since_ns: 0,
                    epoch: 0,
                    held: Vec::new(),
                    clock: Clock::new(drift, offset),
                    disk,
                    rng: stream(seed, &format!("node/{i}")),
                    live_timers: BTreeSet::new(),
                    next_timer: 0,
                    requests: BTreeMap::new(),
                    unbooted: true,
                    role: Role::NONE,
                    handled: false,
                }
            })
            .collect();
        Nodes {
            slots,
            factory,
            effects: Effects::default(),
        }
    }

    fn slot(&mut self, i: u32) -> &mut NodeSlot<N> {
        &mut self.slots[i as usize]
    }

    pub fn len(&self) -> u32 {
        self.slots.len() as u32
    }

    pub fn state(&self, i: u32) -> Option<&N> {
        self.slots[i as usize].state.as_ref()
    }

    pub fn up_since_ns(&self, i: u32) -> u64 {
        self.slots[i as usize].up_since_ns
    }

    /// Whether node `i` has something a crash takes from it: it handled
    /// an event in this life, or has files on its disk.
    pub fn has_state(&self, i: u32) -> bool {
        let slot = &self.slots[i as usize];
        slot.handled || slot.disk.files().next().is_some()
    }

    /// A new life: a fresh node from the factory.
    pub fn boot(&mut self, i: u32) {
        let node = (self.factory)(NodeId(i));
        let slot = self.slot(i);
        debug_assert!(slot.state.is_none(), "a node boots once per life");
        debug_assert_eq!(slot.status, Status::Up, "only a running node boots");
        slot.state = Some(node);
        slot.unbooted = false;
    }

    pub fn timer_is_live(&mut self, i: u32, id: u64) -> bool {
        self.slot(i).live_timers.remove(&id)
    }

    pub fn took_request(&mut self, i: u32, request: RequestId, client: u32) {
        self.slot(i).requests.insert(request, client);
    }

    /// The client that asked `request` in this life, if any: each is
    /// answered once.
    pub fn answered(&mut self, i: u32, request: RequestId) -> Option<u32> {
        self.slot(i).requests.remove(&request)
    }

    /// Runs `handler` on node `i`; returns its role if it changed.
    pub fn run_handler(&mut self, i: u32, now: u64, handler: impl FnOnce(&mut N, &mut Ctx<'_, N>)) -> Option<Role> {
        let nodes = self.len();
        let slot = &mut self.slots[i as usize];
        let node = slot.state.as_mut().expect("a running host has a node");
        let parts = Parts {
            clock: &slot.clock,
            rng: &mut slot.rng,
            disk: &mut slot.disk,
            next_timer: &mut slot.next_timer,
        };
        debug_assert!(self.effects.is_empty(), "the last handler's effects were carried out");
        let mut ctx = Ctx::new(NodeId(i), nodes, now, parts, &mut self.effects);
        handler(node, &mut ctx);
        let role = node.role();
        (role != std::mem::replace(&mut slot.role, role)).then_some(role)
    }

    pub fn take_disk_faults(&mut self, i: u32) -> Vec<(&'static str, String)> {
        self.slot(i).disk.take_faults()
    }

    pub fn effects_mut(&mut self) -> &mut Effects<N> {
        &mut self.effects
    }

    pub fn take_effects(&mut self) -> Effects<N> {
        std::mem::take(&mut self.effects)
    }

    /// Hands the (drained) buffer back, keeping its allocations.
    pub fn return_effects(&mut self, fx: Effects<N>) {
        debug_assert!(fx.is_empty());
        self.effects = fx;
    }

    /// When a timer of `local_ns` on node `i`'s clock set now fires, in
    /// global time; the timer is live from now.
    pub fn timer_due(&mut self, i: u32, now: u64, id: TimerId, local_ns: u64) -> u64 {
        let slot = self.slot(i);
        slot.live_timers.insert(id.0);
        now.saturating_add(slot.clock.global_span_ns(local_ns))
    }

    pub fn cancel_timer(&mut self, i: u32, id: TimerId) {
        self.slot(i).live_timers.remove(&id.0);
    }

    /// Forgets node `i`'s volatile state; returns the events it held
    /// while paused (the world's queue holds the rest).
    pub fn wipe(&mut self, i: u32) -> Vec<(u64, NodeEvent<N>)> {
        let slot = self.slot(i);
        slot.state = None;
        slot.role = Role::NONE;
        slot.handled = false;
        slot.disk.crash();
        slot.live_timers.clear();
        slot.requests.clear();
        std::mem::take(&mut slot.held)
    }

    /// Each node's clock over the run, from its jumps.
    pub fn clock_records(&self, jumps: &[(u64, u32, i64)]) -> Vec<crate::env::clock::ClockRecord> {
        let record = |(i, slot): (usize, &NodeSlot<N>)| crate::env::clock::ClockRecord {
            drift_ppm: slot.clock.drift_ppm,
            offset_ns: slot.clock.offset_ns,
            jumps: jumps
                .iter()
                .filter(|(_, n, _)| *n as usize == i)
                .map(|&(t, _, by)| (t, by))
                .collect(),
        };
        self.slots.iter().enumerate().map(record).collect()
    }
}
