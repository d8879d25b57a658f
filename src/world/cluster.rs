//! The world as the nemesis sees it: node faults change the node's status
//! (a crashed node's events are dropped, a paused node's held, a restarted
//! node boots once the fault step is over), network faults go through the
//! network's partition rule, clock faults through the node's clock.
//! Each fault is traced, counted, shown to the observers and, until the
//! recovery phase, written into the schedule the run played.

use super::coverage::Effect;
use super::engine::World;
use super::recorder::format_links;
use crate::core::{Node, NodeId};
use crate::nemesis::{Cluster, Status};
use crate::scenario::duration::format_ns;
use crate::scenario::{Fault, SignedDur, Target};

impl<N: Node> World<N> {
    /// Traces and counts a node fault, and tells the observers.
    fn node_fault(&mut self, kind: &'static str, node: u32, fault: Fault) {
        let now = self.now_ns();
        self.rec.fault(now, kind, format_args!("node=n{node}"));
        self.rec.played(now, fault);
        self.tell_fault(now, kind, vec![NodeId(node)]);
    }

    /// A paused node that has an event due now had it delayed by the pause.
    fn note_pause_effect(&mut self, node: u32) {
        let paused = self.nodes.slots[node as usize].status == Status::Paused;
        if paused && self.has_due(node) {
            self.rec.coverage.saw(Effect::Pause);
        }
    }

    fn healed(&mut self, links: Vec<(u32, u32)>, fault: Fault) -> bool {
        if links.is_empty() {
            return false;
        }
        let now = self.now_ns();
        let listed = format_links(&links);
        self.rec.fault(now, "heal", format_args!("links={listed}"));
        self.rec.played(now, fault);
        self.tell_fault(now, "heal", ends(&links));
        true
    }
}

/// The nodes at either end of some link, in order.
fn ends(links: &[(u32, u32)]) -> Vec<NodeId> {
    let mut nodes: Vec<NodeId> = links.iter().flat_map(|&(a, b)| [NodeId(a), NodeId(b)]).collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

impl<N: Node> Cluster for World<N> {
    fn nodes(&self) -> u32 {
        self.nodes.len()
    }

    fn status(&self, node: u32) -> Status {
        self.nodes.slots[node as usize].status
    }

    fn is_leader(&self, node: u32) -> bool {
        let slot = &self.nodes.slots[node as usize];
        slot.status != Status::Crashed && slot.state.as_ref().is_some_and(|n| n.role().leads)
    }

    fn epoch(&self, node: u32) -> u64 {
        self.nodes.slots[node as usize].epoch
    }

    fn crash(&mut self, node: u32) {
        debug_assert_ne!(self.status(node), Status::Crashed);
        self.note_pause_effect(node);
        if self.nodes.has_state(node) {
            self.rec.coverage.saw(Effect::Crash);
        }
        self.nodes.slots[node as usize].epoch += 1;
        self.wipe(node);
        self.nodes.slots[node as usize].status = Status::Crashed;
        self.node_fault("crash", node, Fault::Crash(Target::Node(node)));
    }

    fn restart(&mut self, node: u32) {
        assert_eq!(self.status(node), Status::Crashed, "only a crashed node restarts");
        let now = self.now_ns();
        let slot = &mut self.nodes.slots[node as usize];
        slot.status = Status::Up;
        slot.up_since_ns = now;
        slot.epoch += 1;
        // A new node from the factory, once this fault step is over.
        slot.unbooted = true;
        self.node_fault("restart", node, Fault::Restart(Target::Node(node)));
    }

    fn pause(&mut self, node: u32) {
        assert_eq!(self.status(node), Status::Up);
        self.nodes.slots[node as usize].status = Status::Paused;
        self.nodes.slots[node as usize].epoch += 1;
        self.node_fault("pause", node, Fault::Pause(Target::Node(node)));
    }

    fn resume(&mut self, node: u32) {
        assert_eq!(self.status(node), Status::Paused);
        self.note_pause_effect(node);
        self.nodes.slots[node as usize].status = Status::Up;
        self.nodes.slots[node as usize].epoch += 1;
        self.release_held(node);
        self.node_fault("resume", node, Fault::Resume(Target::Node(node)));
    }

    fn partition(&mut self, links: &[(u32, u32)], one_way: bool, description: &str) -> Vec<(u32, u32)> {
        let now = self.now_ns();
        let newly = self.net.partitions().cut(links, now);
        if newly.is_empty() {
            return newly;
        }
        self.rec.coverage.cut(&newly, one_way);
        let kind = if one_way { "partition-one-way" } else { "partition" };
        let cut = format_links(&newly);
        self.rec
            .fault(now, kind, format_args!("cut={cut} payload={description}"));
        let played = if one_way {
            Fault::CutLinksOneWay(newly.clone())
        } else {
            Fault::CutLinks(newly.clone())
        };
        self.rec.played(now, played);
        self.tell_fault(now, kind, ends(&newly));
        newly
    }

    fn heal(&mut self) -> bool {
        let now = self.now_ns();
        let healed = self.net.partitions().heal(now);
        self.healed(healed, Fault::Heal)
    }

    fn heal_links(&mut self, links: &[(u32, u32)]) -> bool {
        let now = self.now_ns();
        let healed = self.net.partitions().heal_links(links, now);
        let fault = Fault::HealLinks(healed.clone());
        self.healed(healed, fault)
    }

    fn clock_jump(&mut self, node: u32, by_ns: i64) {
        self.nodes.slots[node as usize].clock.jump(by_ns);
        let seq = self.rec.trace.events();
        self.rec.clock_jumps.push((seq, node, by_ns));
        let by = format_ns(by_ns);
        let now = self.now_ns();
        self.rec.fault(now, "clock-jump", format_args!("node=n{node} by={by}"));
        self.rec
            .played(now, Fault::ClockJump(Target::Node(node), SignedDur(by_ns)));
        self.tell_fault(now, "clock-jump", vec![NodeId(node)]);
    }

    fn skip(&mut self, step: &str, why: &str) {
        let why = why.replace(' ', "-");
        self.rec
            .trace
            .record(self.now_ns(), "skip", format_args!("reason={why} payload={step}"));
    }

    fn recovery_begins(&mut self) {
        let now = self.now_ns();
        self.recover_at_ns = Some(now);
        self.rec.scheduling = false;
        self.rec.trace.record(now, "phase", format_args!("name=recover"));
        self.watch.findings.recovery_begins(now);
        self.notify(now, |o, at, found| o.recovery_begins(at, found));
    }
}
