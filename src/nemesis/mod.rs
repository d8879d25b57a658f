//! The nemesis: turns a scenario's fault schedule into a timeline of steps
//! and carries each out against the cluster when its time comes.
//!
//! Scripted faults (`At`) happen at their time. A `Random` generator draws
//! its start times, kinds and durations from the nemesis stream when the
//! run begins; each of its faults is undone after its duration (restart,
//! resume, heal). Targets (`Random`, `Leader`, `Minority`...) are resolved
//! when the step runs, against the cluster as it is then. A fault that finds
//! no eligible node (crash the leader when there is none, restart when
//! nothing is down) is skipped, and the trace says so.
//!
//! With a `recover` phase, at the end of the fault phase every link heals,
//! every paused node resumes and every crashed node restarts; steps still
//! pending after that are dropped.

mod shapes;

use crate::scenario::{Dur, Fault, FaultKind, FaultSpec, RandomFaults, Scenario, Shape, Target};
use crate::sim::rng::SimRng;
use rand::seq::SliceRandom;
use rand::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Up,
    Paused,
    Crashed,
}

/// What the nemesis can see and do; the world implements it.
pub trait Cluster {
    fn nodes(&self) -> u32;
    fn status(&self, node: u32) -> Status;
    fn is_leader(&self, node: u32) -> bool;
    fn crash(&mut self, node: u32);
    fn restart(&mut self, node: u32);
    fn pause(&mut self, node: u32);
    fn resume(&mut self, node: u32);
    /// Cuts the directed links; `one_way` only labels the trace event.
    fn partition(&mut self, links: &[(u32, u32)], one_way: bool, description: &str);
    /// Returns false if nothing was cut.
    fn heal(&mut self) -> bool;
    fn clock_jump(&mut self, node: u32, by_ns: i64);
    /// Records that a step did nothing, and why.
    fn skip(&mut self, step: &str, why: &str);
    /// Marks the start of the heal-and-recover phase.
    fn recovery_begins(&mut self);
}

#[derive(Clone, Debug)]
enum Step {
    Scripted(Fault),
    Random { kind: FaultKind, slot: usize },
    Undo(usize),
    Recover,
}

/// How to undo one random fault.
#[derive(Clone, Debug)]
enum Undo {
    Restart(Vec<u32>),
    Resume(Vec<u32>),
    Heal,
}

pub struct Nemesis {
    /// (time, step), in time order; ties keep schedule order.
    timeline: Vec<(u64, Step)>,
    next: usize,
    undo: Vec<Option<Undo>>,
    jump: Vec<(Dur, Dur)>,
    rng: SimRng,
}

impl Nemesis {
    pub fn new(scenario: &Scenario, mut rng: SimRng) -> Self {
        let fault_end = scenario.duration.0;
        let mut timeline = Vec::new();
        let mut jump = Vec::new();
        for spec in &scenario.faults {
            match spec {
                FaultSpec::At(at, fault) => timeline.push((at.0, Step::Scripted(fault.clone()))),
                FaultSpec::Random(r) => {
                    let first_slot = jump.len();
                    let steps = random_steps(r, fault_end, first_slot, &mut rng);
                    jump.extend(std::iter::repeat_n(r.jump, steps.len() / 2));
                    timeline.extend(steps);
                }
            }
        }
        if scenario.recover.is_some() {
            timeline.push((fault_end, Step::Recover));
        }
        // Stable: steps at the same time keep the order they were written in.
        timeline.sort_by_key(|(t, _)| *t);
        if scenario.recover.is_some() {
            // Recovery undoes everything at once.
            timeline.retain(|(t, step)| !(matches!(step, Step::Undo(_)) && *t >= fault_end));
        }
        Nemesis {
            timeline,
            next: 0,
            undo: vec![None; jump.len()],
            jump,
            rng,
        }
    }

    /// When the next step is due, if any.
    pub fn next_due_ns(&self) -> Option<u64> {
        self.timeline.get(self.next).map(|(t, _)| *t)
    }

    /// Carries out the next step.
    pub fn step(&mut self, cluster: &mut impl Cluster) {
        let Some((_, step)) = self.timeline.get(self.next).cloned() else {
            return;
        };
        self.next += 1;
        match step {
            Step::Scripted(fault) => {
                self.apply(cluster, &fault);
            }
            Step::Random { kind, slot } => {
                let fault = self.random_fault(cluster, kind, slot);
                self.undo[slot] = self.apply(cluster, &fault);
            }
            Step::Undo(slot) => {
                let fault = match self.undo[slot].take() {
                    Some(Undo::Restart(nodes)) => Fault::Restart(Target::Nodes(nodes)),
                    Some(Undo::Resume(nodes)) => Fault::Resume(Target::Nodes(nodes)),
                    Some(Undo::Heal) => Fault::Heal,
                    None => return,
                };
                self.apply(cluster, &fault);
            }
            Step::Recover => recover(cluster),
        }
    }

    /// Applies `fault`; returns how to undo it, if it did anything that a
    /// random fault's end should undo.
    fn apply<C: Cluster>(&mut self, cluster: &mut C, fault: &Fault) -> Option<Undo> {
        let label = format!("{fault:?}").replace(' ', "");
        match fault {
            Fault::Crash(t) => self
                .each(cluster, &label, t, |s| s != Status::Crashed, C::crash)
                .map(Undo::Restart),
            Fault::Pause(t) => self
                .each(cluster, &label, t, |s| s == Status::Up, C::pause)
                .map(Undo::Resume),
            Fault::Restart(t) => self
                .each(cluster, &label, t, |s| s == Status::Crashed, C::restart)
                .and(None),
            Fault::Resume(t) => self
                .each(cluster, &label, t, |s| s == Status::Paused, C::resume)
                .and(None),
            Fault::ClockJump(t, by) => {
                let nodes = self.resolve(cluster, t, |_| true);
                if nodes.is_empty() {
                    cluster.skip(&label, "no eligible node");
                }
                nodes.into_iter().for_each(|n| cluster.clock_jump(n, by.0));
                None
            }
            Fault::Partition(shape) => {
                let links = self.shape_links(cluster, shape);
                self.cut(cluster, &links, false, &label)
            }
            Fault::PartitionOneWay { from, to } => {
                let from = self.resolve(cluster, from, |_| true);
                let to = self.resolve(cluster, to, |_| true);
                self.cut(cluster, &shapes::one_way(&from, &to), true, &label)
            }
            Fault::Heal => {
                if !cluster.heal() {
                    cluster.skip(&label, "nothing to heal");
                }
                None
            }
        }
    }

    /// Does `act` to every node `target` names that `eligible` accepts.
    fn each<C: Cluster>(
        &mut self,
        cluster: &mut C,
        label: &str,
        target: &Target,
        eligible: fn(Status) -> bool,
        act: fn(&mut C, u32),
    ) -> Option<Vec<u32>> {
        let nodes = self.resolve(cluster, target, eligible);
        if nodes.is_empty() {
            cluster.skip(label, "no eligible node");
            return None;
        }
        nodes.iter().for_each(|&n| act(cluster, n));
        Some(nodes)
    }

    fn shape_links<C: Cluster>(&mut self, cluster: &C, shape: &Shape) -> Vec<(u32, u32)> {
        let n = cluster.nodes();
        match shape {
            Shape::Isolate(t) => {
                let side = self.resolve(cluster, t, |_| true);
                shapes::between_groups(&shapes::isolate(n, &side))
            }
            Shape::Majority => shapes::between_groups(&shapes::majority(n, &mut self.rng)),
            Shape::Groups(groups) => shapes::between_groups(&shapes::complete_groups(n, groups)),
            Shape::Bridge => shapes::bridge(n, &mut self.rng),
            Shape::Ring => shapes::ring(n, &mut self.rng),
        }
    }

    fn cut(&mut self, cluster: &mut impl Cluster, links: &[(u32, u32)], one_way: bool, label: &str) -> Option<Undo> {
        if links.is_empty() {
            cluster.skip(label, "no link to cut");
            return None;
        }
        cluster.partition(links, one_way, label);
        Some(Undo::Heal)
    }

    /// The nodes `target` names that `eligible` accepts, in index order.
    fn resolve<C: Cluster>(&mut self, cluster: &C, target: &Target, eligible: fn(Status) -> bool) -> Vec<u32> {
        let n = cluster.nodes();
        let ok: Vec<u32> = (0..n).filter(|&i| eligible(cluster.status(i))).collect();
        let rng = &mut self.rng;
        let mut pick = |count: u32| {
            let mut chosen: Vec<u32> = ok
                .choose_multiple(rng, (count as usize).min(ok.len()))
                .copied()
                .collect();
            chosen.sort_unstable();
            chosen
        };
        match target {
            Target::Random => pick(1),
            Target::Minority => pick((n - 1) / 2),
            Target::Majority => pick(n / 2 + 1),
            Target::Node(i) => ok.into_iter().filter(|x| x == i).collect(),
            Target::Nodes(list) => ok.into_iter().filter(|x| list.contains(x)).collect(),
            Target::Leader => ok.into_iter().filter(|&i| cluster.is_leader(i)).collect(),
            Target::All => ok,
            Target::Crashed => ok
                .into_iter()
                .filter(|&i| cluster.status(i) == Status::Crashed)
                .collect(),
            Target::Paused => ok
                .into_iter()
                .filter(|&i| cluster.status(i) == Status::Paused)
                .collect(),
        }
    }

    fn random_fault(&mut self, cluster: &impl Cluster, kind: FaultKind, slot: usize) -> Fault {
        let n = cluster.nodes();
        match kind {
            FaultKind::Crash => Fault::Crash(Target::Random),
            FaultKind::Pause => Fault::Pause(Target::Random),
            FaultKind::Partition => {
                let mut shapes = vec![Shape::Isolate(Target::Random)];
                shapes.extend(
                    [Shape::Majority, Shape::Bridge, Shape::Ring]
                        .into_iter()
                        .filter(|s| s.min_nodes() <= n),
                );
                Fault::Partition(
                    shapes
                        .choose(&mut self.rng)
                        .expect("Isolate is always possible")
                        .clone(),
                )
            }
            FaultKind::PartitionOneWay => {
                let node = Target::Node(self.rng.gen_range(0..n));
                let others = Target::All;
                // Either the node cannot send, or it cannot hear.
                if self.rng.gen_bool(0.5) {
                    Fault::PartitionOneWay { from: node, to: others }
                } else {
                    Fault::PartitionOneWay { from: others, to: node }
                }
            }
            FaultKind::ClockJump => {
                let (lo, hi) = self.jump[slot];
                let size = self.rng.gen_range(lo.0..=hi.0) as i64;
                let by = if self.rng.gen_bool(0.5) { size } else { -size };
                Fault::ClockJump(Target::Random, crate::scenario::SignedDur(by))
            }
        }
    }
}

/// Heal, resume and restart everything.
fn recover(cluster: &mut impl Cluster) {
    cluster.recovery_begins();
    cluster.heal();
    for n in 0..cluster.nodes() {
        match cluster.status(n) {
            Status::Paused => cluster.resume(n),
            Status::Crashed => cluster.restart(n),
            Status::Up => {}
        }
    }
}

/// Draws a generator's steps: a start, then its undo, per fault.
fn random_steps(r: &RandomFaults, fault_end: u64, first_slot: usize, rng: &mut SimRng) -> Vec<(u64, Step)> {
    let stop = r.stop.map_or(fault_end, |s| s.0);
    let mut steps = Vec::new();
    let mut t = r.start.0 + rng.gen_range(r.every.0 .0..=r.every.1 .0);
    while t < stop {
        let slot = first_slot + steps.len() / 2;
        let kind = *r.kinds.choose(rng).expect("validated: kinds is not empty");
        let lasts = rng.gen_range(r.duration.0 .0..=r.duration.1 .0);
        steps.push((t, Step::Random { kind, slot }));
        steps.push((t + lasts, Step::Undo(slot)));
        t += rng.gen_range(r.every.0 .0..=r.every.1 .0);
    }
    steps
}
