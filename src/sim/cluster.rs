//! The world as the nemesis sees it: node faults go through madsim (kill,
//! restart, pause, resume the node's madsim task), network faults through
//! the simulated network, clock faults through the node's clock.

use super::world::World;
use crate::nemesis::{Cluster, Status};
use crate::protocol::{Node, Role};
use crate::scenario::duration::format_ns;
use madsim::runtime::Handle;

impl<N: Node> World<N> {
    fn madsim_id(&self, i: u32) -> madsim::task::NodeId {
        self.nodes[i as usize]
            .madsim
            .expect("nodes get their madsim id before any fault")
    }

    fn healed(&mut self, now: u64, links: Vec<(u32, u32)>) -> bool {
        if links.is_empty() {
            return false;
        }
        self.stats.faults.heal += 1;
        let links = format_links(&links);
        self.trace.record(now, "heal", format_args!("links={links}"));
        true
    }
}

/// `n0>n1,n1>n0`: directed links as the trace writes them.
fn format_links(links: &[(u32, u32)]) -> String {
    let each: Vec<String> = links.iter().map(|(a, b)| format!("n{a}>n{b}")).collect();
    each.join(",")
}

impl<N: Node> Cluster for World<N> {
    fn nodes(&self) -> u32 {
        self.nodes.len() as u32
    }

    fn status(&self, node: u32) -> Status {
        self.nodes[node as usize].status
    }

    fn is_leader(&self, node: u32) -> bool {
        let slot = &self.nodes[node as usize];
        slot.status != Status::Crashed && slot.state.as_ref().is_some_and(|n| n.role() == Role::Leader)
    }

    fn epoch(&self, node: u32) -> u64 {
        self.nodes[node as usize].epoch
    }

    fn crash(&mut self, node: u32) {
        debug_assert_ne!(self.status(node), Status::Crashed);
        self.nodes[node as usize].epoch += 1;
        Handle::current().kill(self.madsim_id(node));
        self.wipe(node);
        self.nodes[node as usize].status = Status::Crashed;
        self.spawn_down_host(node);
        self.stats.faults.crash += 1;
        self.trace.record(self.now_ns(), "crash", format_args!("node=n{node}"));
    }

    fn restart(&mut self, node: u32) {
        assert_eq!(self.status(node), Status::Crashed, "only a crashed node restarts");
        let now = self.now_ns();
        let slot = &mut self.nodes[node as usize];
        slot.status = Status::Up;
        slot.up_since_ns = now;
        slot.epoch += 1;
        // The down host's wake-ups are not the new host's.
        slot.wake.reset();
        // Re-runs the node's init: a new host task, which boots a new node.
        Handle::current().restart(self.madsim_id(node));
        self.stats.faults.restart += 1;
        self.trace.record(now, "restart", format_args!("node=n{node}"));
    }

    fn pause(&mut self, node: u32) {
        assert_eq!(self.status(node), Status::Up);
        Handle::current().pause(self.madsim_id(node));
        self.nodes[node as usize].status = Status::Paused;
        self.nodes[node as usize].epoch += 1;
        self.stats.faults.pause += 1;
        self.trace.record(self.now_ns(), "pause", format_args!("node=n{node}"));
    }

    fn resume(&mut self, node: u32) {
        assert_eq!(self.status(node), Status::Paused);
        Handle::current().resume(self.madsim_id(node));
        self.nodes[node as usize].status = Status::Up;
        self.nodes[node as usize].epoch += 1;
        self.stats.faults.resume += 1;
        self.trace.record(self.now_ns(), "resume", format_args!("node=n{node}"));
    }

    fn partition(&mut self, links: &[(u32, u32)], one_way: bool, description: &str) -> Vec<(u32, u32)> {
        let now = self.now_ns();
        let newly = self.net.cut(links, now);
        if newly.is_empty() {
            return newly;
        }
        let kind = if one_way {
            self.stats.faults.one_way_partition += 1;
            "partition-one-way"
        } else {
            self.stats.faults.partition += 1;
            "partition"
        };
        let cut = format_links(&newly);
        self.trace
            .record(now, kind, format_args!("cut={cut} payload={description}"));
        newly
    }

    fn heal(&mut self) -> bool {
        let now = self.now_ns();
        let healed = self.net.heal(now);
        self.healed(now, healed)
    }

    fn heal_links(&mut self, links: &[(u32, u32)]) -> bool {
        let now = self.now_ns();
        let healed = self.net.heal_links(links, now);
        self.healed(now, healed)
    }

    fn clock_jump(&mut self, node: u32, by_ns: i64) {
        self.nodes[node as usize].clock.jump(by_ns);
        let seq = self.trace.events();
        self.clock_jumps.push((seq, node, by_ns));

        self.stats.faults.clock_jump += 1;
        let by = format_ns(by_ns);
        self.trace
            .record(self.now_ns(), "clock-jump", format_args!("node=n{node} by={by}"));
    }

    fn skip(&mut self, step: &str, why: &str) {
        let why = why.replace(' ', "-");
        self.trace
            .record(self.now_ns(), "skip", format_args!("reason={why} payload={step}"));
    }

    fn recovery_begins(&mut self) {
        let now = self.now_ns();
        self.recover_at_ns = Some(now);
        self.trace.record(now, "phase", format_args!("name=recover"));
    }
}
