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

pub mod schedule;
mod shapes;
pub mod swarm;

use crate::env::rng::SimRng;
use crate::scenario::{Dur, Fault, FaultKind, FaultSpec, RandomFaults, Scenario, Shape, Target};
use rand::seq::SliceRandom;
use rand::Rng;

/// Whether a node is running, as far as faults are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Running: handles messages and timers.
    Up,
    /// Frozen by a pause fault with its memory intact, like a long GC pause
    /// or a stopped process; a resume lets it go on where it stopped.
    Paused,
    /// Down: its memory is gone and only its synced disk survives; a restart
    /// boots it again from that disk.
    Crashed,
}

/// What the nemesis can see and do; the world implements it.
pub trait Cluster {
    /// How many nodes there are; they are numbered from 0.
    fn nodes(&self) -> u32;
    /// Whether `node` is up, paused or crashed now.
    fn status(&self, node: u32) -> Status;
    /// Whether `node` reports the Leader (or Primary) role now; what
    /// `Target::Leader` resolves to.
    fn is_leader(&self, node: u32) -> bool;
    /// Stops `node`: its memory is lost, and of its disk only what was
    /// synced survives.
    fn crash(&mut self, node: u32);
    /// Boots a crashed `node` again from its disk.
    fn restart(&mut self, node: u32);
    /// Freezes an up `node` with its state kept.
    fn pause(&mut self, node: u32);
    /// Lets a paused `node` run again.
    fn resume(&mut self, node: u32);
    /// Counts crashes, restarts, pauses and resumes of `node`: an undo is
    /// only due if nothing touched the node since.
    fn epoch(&self, node: u32) -> u64;
    /// Cuts the directed links that are not cut yet and returns them (an
    /// empty list means nothing happened); `one_way` labels the trace.
    fn partition(&mut self, links: &[(u32, u32)], one_way: bool, description: &str) -> Vec<(u32, u32)>;
    /// Heals every link; false if nothing was cut.
    fn heal(&mut self) -> bool;
    /// Heals these links only; false if none of them was cut.
    fn heal_links(&mut self, links: &[(u32, u32)]) -> bool;
    /// Steps `node`'s wall clock by `by_ns`; its timers are not affected.
    fn clock_jump(&mut self, node: u32, by_ns: i64);
    /// Records that a step did nothing, and why.
    fn skip(&mut self, step: &str, why: &str);
    /// Marks the start of the heal-and-recover phase.
    fn recovery_begins(&mut self);
}

#[derive(Clone, Debug)]
enum Step {
    Scripted(Fault),
    /// `jump`: the generator's range of clock-jump sizes.
    Random {
        kind: FaultKind,
        slot: usize,
        jump: (Dur, Dur),
    },
    Undo(usize),
    Recover,
}

/// How to undo one random fault: only what it did, and only where nothing
/// else changed things since (a node's epoch moved on, a link was healed).
#[derive(Clone, Debug)]
enum Undo {
    /// Nodes and their epoch just after the crash.
    Restart(Vec<(u32, u64)>),
    /// Nodes and their epoch just after the pause.
    Resume(Vec<(u32, u64)>),
    /// The links this fault cut.
    Heal(Vec<(u32, u32)>),
}

/// The fault schedule of one run, drawn when the run starts, with its
/// position: the world asks when the next step is due and then runs it.
pub struct Nemesis {
    /// (time, step), in time order; ties keep schedule order.
    timeline: Vec<(u64, Step)>,
    next: usize,
    /// Per random fault: how to end it, once it started.
    undo: Vec<Option<Undo>>,
    rng: SimRng,
}

impl Nemesis {
    /// The schedule for `scenario`: its scripted faults, the random faults
    /// its generators draw from `rng`, and recovery at the end of the fault
    /// phase if it has one.
    pub fn new(scenario: &Scenario, mut rng: SimRng) -> Self {
        let fault_end = scenario.duration.0;
        let mut timeline = Vec::new();
        let mut slots = 0;
        for spec in &scenario.faults {
            match spec {
                FaultSpec::At(at, fault) => timeline.push((at.0, Step::Scripted(fault.clone()))),
                FaultSpec::Random(r) => {
                    let steps = random_steps(r, fault_end, slots, &mut rng);
                    slots += steps.iter().filter(|(_, s)| matches!(s, Step::Random { .. })).count();
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
            undo: vec![None; slots],
            rng,
        }
    }

    /// When the next step is due, if any.
    pub fn next_due_ns(&self) -> Option<u64> {
        self.timeline.get(self.next).map(|(t, _)| *t)
    }

    /// Carries out the next step.
    pub fn step<C: Cluster>(&mut self, cluster: &mut C) {
        let Some((_, step)) = self.timeline.get(self.next).cloned() else {
            return;
        };
        self.next += 1;
        match step {
            Step::Scripted(fault) => {
                self.apply(cluster, &fault);
            }
            Step::Random { kind, slot, jump } => {
                let fault = self.random_fault(cluster, kind, jump);
                self.undo[slot] = self.apply(cluster, &fault);
            }
            Step::Undo(slot) => {
                if let Some(undo) = self.undo[slot].take() {
                    undo_fault(cluster, undo);
                }
            }
            Step::Recover => recover(cluster),
        }
    }

    /// Applies `fault`; returns how to undo it, if it did anything that a
    /// random fault's end should undo.
    fn apply<C: Cluster>(&mut self, cluster: &mut C, fault: &Fault) -> Option<Undo> {
        let label = format!("{fault:?}").replace(' ', "");
        match fault {
            Fault::Crash(t) => {
                let nodes = self.each(cluster, &label, t, |s| s != Status::Crashed, C::crash)?;
                Some(Undo::Restart(with_epochs(cluster, nodes)))
            }
            Fault::Pause(t) => {
                let nodes = self.each(cluster, &label, t, |s| s == Status::Up, C::pause)?;
                Some(Undo::Resume(with_epochs(cluster, nodes)))
            }
            Fault::Restart(t) => {
                self.each(cluster, &label, t, |s| s == Status::Crashed, C::restart);
                None
            }
            Fault::Resume(t) => {
                self.each(cluster, &label, t, |s| s == Status::Paused, C::resume);
                None
            }
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
            Fault::CutLinks(links) => self.cut(cluster, links, false, &label),
            Fault::CutLinksOneWay(links) => self.cut(cluster, links, true, &label),
            Fault::HealLinks(links) => {
                if !cluster.heal_links(links) {
                    cluster.skip(&label, "its links were healed already");
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
        let newly = cluster.partition(links, one_way, label);
        if newly.is_empty() {
            cluster.skip(label, "every link it names is cut already");
            return None;
        }
        Some(Undo::Heal(newly))
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

    fn random_fault(&mut self, cluster: &impl Cluster, kind: FaultKind, jump: (Dur, Dur)) -> Fault {
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
                let (lo, hi) = jump;
                let size = self.rng.gen_range(lo.0..=hi.0) as i64;
                let by = if self.rng.gen_bool(0.5) { size } else { -size };
                Fault::ClockJump(Target::Random, crate::scenario::SignedDur(by))
            }
        }
    }
}

/// Ends a random fault: only what it did, only where it still holds.
fn undo_fault<C: Cluster>(cluster: &mut C, undo: Undo) {
    match undo {
        Undo::Restart(nodes) => undo_each(cluster, &nodes, Status::Crashed, C::restart, "Restart"),
        Undo::Resume(nodes) => undo_each(cluster, &nodes, Status::Paused, C::resume, "Resume"),
        Undo::Heal(links) => {
            if !cluster.heal_links(&links) {
                cluster.skip("Heal", "its links were healed already");
            }
        }
    }
}

fn with_epochs(cluster: &impl Cluster, nodes: Vec<u32>) -> Vec<(u32, u64)> {
    nodes.into_iter().map(|n| (n, cluster.epoch(n))).collect()
}

/// Undoes a crash or pause on the nodes still as the fault left them.
fn undo_each<C: Cluster>(cluster: &mut C, nodes: &[(u32, u64)], left: Status, act: fn(&mut C, u32), what: &str) {
    let due: Vec<u32> = nodes
        .iter()
        .filter(|&&(n, epoch)| cluster.epoch(n) == epoch && cluster.status(n) == left)
        .map(|&(n, _)| n)
        .collect();
    if due.is_empty() {
        cluster.skip(what, "something else changed the node since");
    }
    due.into_iter().for_each(|n| act(cluster, n));
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
/// A clock jump is never undone, so it gets no undo step: a step that
/// does nothing would still wake the simulator, and a schedule replayed as
/// explicit faults would not.
fn random_steps(r: &RandomFaults, fault_end: u64, first_slot: usize, rng: &mut SimRng) -> Vec<(u64, Step)> {
    let stop = r.stop.map_or(fault_end, |s| s.0);
    let mut steps = Vec::new();
    let mut slot = first_slot;
    let mut t = r.start.0 + rng.gen_range(r.every.0 .0..=r.every.1 .0);
    while t < stop {
        let kind = *r.kinds.choose(rng).expect("validated: kinds is not empty");
        let lasts = rng.gen_range(r.duration.0 .0..=r.duration.1 .0);
        steps.push((
            t,
            Step::Random {
                kind,
                slot,
                jump: r.jump,
            },
        ));
        if kind != FaultKind::ClockJump {
            steps.push((t + lasts, Step::Undo(slot)));
        }
        slot += 1;
        t += rng.gen_range(r.every.0 .0..=r.every.1 .0);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::rng::stream;
    use crate::scenario::{self, SignedDur};
    use std::collections::BTreeSet;

    /// Records what the nemesis did.
    struct Fake {
        status: Vec<Status>,
        epoch: Vec<u64>,
        leader: Option<u32>,
        cut: BTreeSet<(u32, u32)>,
        log: Vec<String>,
    }

    impl Fake {
        fn new(n: usize) -> Self {
            Fake {
                status: vec![Status::Up; n],
                epoch: vec![0; n],
                leader: None,
                cut: BTreeSet::new(),
                log: Vec::new(),
            }
        }

        fn set(&mut self, node: u32, status: Status, what: &str) {
            self.status[node as usize] = status;
            self.epoch[node as usize] += 1;
            self.log.push(format!("{what} {node}"));
        }
    }

    impl Cluster for Fake {
        fn nodes(&self) -> u32 {
            self.status.len() as u32
        }
        fn status(&self, node: u32) -> Status {
            self.status[node as usize]
        }
        fn is_leader(&self, node: u32) -> bool {
            self.leader == Some(node)
        }
        fn epoch(&self, node: u32) -> u64 {
            self.epoch[node as usize]
        }
        fn crash(&mut self, node: u32) {
            self.set(node, Status::Crashed, "crash");
        }
        fn restart(&mut self, node: u32) {
            self.set(node, Status::Up, "restart");
        }
        fn pause(&mut self, node: u32) {
            self.set(node, Status::Paused, "pause");
        }
        fn resume(&mut self, node: u32) {
            self.set(node, Status::Up, "resume");
        }
        fn partition(&mut self, links: &[(u32, u32)], _one_way: bool, _d: &str) -> Vec<(u32, u32)> {
            let newly: Vec<_> = links.iter().copied().filter(|l| self.cut.insert(*l)).collect();
            if !newly.is_empty() {
                self.log.push(format!("cut {}", newly.len()));
            }
            newly
        }
        fn heal(&mut self) -> bool {
            let any = !self.cut.is_empty();
            self.cut.clear();
            self.log.push("heal all".into());
            any
        }
        fn heal_links(&mut self, links: &[(u32, u32)]) -> bool {
            let n = links.iter().filter(|l| self.cut.remove(l)).count();
            self.log.push(format!("heal {n}"));
            n > 0
        }
        fn clock_jump(&mut self, node: u32, by_ns: i64) {
            self.log.push(format!("jump {node} {by_ns}"));
        }
        fn skip(&mut self, step: &str, why: &str) {
            self.log.push(format!("skip {step}: {why}"));
        }
        fn recovery_begins(&mut self) {
            self.log.push("recover".into());
        }
    }

    fn nemesis(nodes: u32, faults: &str, recover: bool) -> Nemesis {
        let recover = if recover { "recover: \"1s\"," } else { "" };
        let src = format!(
            r#"Scenario(name: "t", protocol: Custom("t"), nodes: {nodes}, duration: "10s", {recover} faults: [{faults}])"#
        );
        let s = scenario::parse("t.ron", &src).unwrap_or_else(|e| panic!("{e}"));
        Nemesis::new(&s.spec, stream(1, "nemesis"))
    }

    fn run_all(n: &mut Nemesis, cluster: &mut Fake) {
        while n.next_due_ns().is_some() {
            n.step(cluster);
        }
    }

    #[test]
    fn targets_resolve_to_the_right_nodes() {
        let mut c = Fake::new(5);
        let mut n = nemesis(5, "", false);
        let minority = n.resolve(&c, &Target::Minority, |_| true);
        let majority = n.resolve(&c, &Target::Majority, |_| true);
        assert_eq!((minority.len(), majority.len()), (2, 3));
        assert_eq!(n.resolve(&c, &Target::Leader, |_| true), Vec::<u32>::new());
        c.leader = Some(3);
        assert_eq!(n.resolve(&c, &Target::Leader, |_| true), [3]);
        c.status[1] = Status::Crashed;
        c.status[4] = Status::Paused;
        assert_eq!(n.resolve(&c, &Target::Crashed, |_| true), [1]);
        assert_eq!(n.resolve(&c, &Target::All, |s| s == Status::Up), [0, 2, 3]);
        assert_eq!(n.resolve(&c, &Target::Nodes(vec![1, 2]), |s| s != Status::Crashed), [2]);
        let random = n.resolve(&c, &Target::Random, |s| s == Status::Paused);
        assert_eq!(random, [4]);
    }

    #[test]
    fn random_crashes_are_crashes_and_each_is_undone_by_a_restart() {
        let mut c = Fake::new(3);
        let mut n = nemesis(
            3,
            r#"Random(every: ("1s", "2s"), duration: ("100ms", "200ms"), kinds: [Crash])"#,
            false,
        );
        run_all(&mut n, &mut c);
        let crashes: Vec<_> = c.log.iter().filter(|l| l.starts_with("crash")).collect();
        let restarts: Vec<_> = c.log.iter().filter(|l| l.starts_with("restart")).collect();
        assert!(crashes.len() >= 4, "{:?}", c.log);
        assert_eq!(crashes.len(), restarts.len(), "{:?}", c.log);
        assert!(
            c.log.iter().all(|l| l.starts_with("crash") || l.starts_with("restart")),
            "{:?}",
            c.log
        );
        for pair in c.log.chunks(2) {
            assert_eq!(
                pair[0].replace("crash", "restart"),
                pair[1],
                "each restart undoes its own crash"
            );
        }
    }

    #[test]
    fn undo_leaves_alone_what_something_else_changed() {
        let mut c = Fake::new(3);
        // A random pause of 2s..3s from 1s; scripted faults interfere.
        let mut n = nemesis(
            3,
            r#"Random(every: ("1s", "1s"), duration: ("2s", "2s"), kinds: [Pause], stop: "1.5s"),
               At("1.5s", Resume(All)), At("2s", Pause(All))"#,
            false,
        );
        run_all(&mut n, &mut c);
        // Paused at 1s, resumed by the script at 1.5s, paused again at 2s:
        // the random pause's end (3s) must not resume it.
        assert!(c.log.last().unwrap().starts_with("skip Resume"), "{:?}", c.log);
        assert!(c.status.iter().all(|&s| s == Status::Paused));
    }

    #[test]
    fn a_random_partition_heals_only_its_own_links() {
        let mut c = Fake::new(3);
        let mut n = nemesis(
            3,
            r#"At("500ms", Partition(Isolate(Node(0)))),
               Random(every: ("1s", "1s"), duration: ("100ms", "100ms"), kinds: [Partition], stop: "1.5s")"#,
            false,
        );
        for _ in 0..3 {
            n.step(&mut c);
        }
        assert!(
            c.cut.contains(&(0, 1)) && c.cut.contains(&(1, 0)),
            "the scripted isolation holds: {:?}",
            c.log
        );
    }

    #[test]
    fn recovery_heals_resumes_and_restarts_everything() {
        let mut c = Fake::new(4);
        let mut n = nemesis(
            4,
            r#"At("1s", Crash(Node(1))), At("2s", Pause(Node(2))), At("3s", Partition(Isolate(Node(3)))),
               At("4s", ClockJump(Node(0), "-1s"))"#,
            true,
        );
        run_all(&mut n, &mut c);
        assert!(c.status.iter().all(|&s| s == Status::Up), "{:?}", c.log);
        assert!(c.cut.is_empty());
        let after: Vec<_> = c.log.iter().skip_while(|l| *l != "recover").cloned().collect();
        assert_eq!(after, ["recover", "heal all", "restart 1", "resume 2"]);
        assert!(c.log.contains(&format!("jump 0 {}", SignedDur(-1_000_000_000).0)));
    }

    #[test]
    fn faults_with_no_target_are_skipped_and_say_why() {
        let mut c = Fake::new(3);
        let mut n = nemesis(
            3,
            r#"At("1s", Restart(Crashed)), At("2s", Crash(Leader)), At("3s", Heal)"#,
            false,
        );
        run_all(&mut n, &mut c);
        assert_eq!(
            c.log,
            [
                "skip Restart(Crashed): no eligible node",
                "skip Crash(Leader): no eligible node",
                "heal all",
                "skip Heal: nothing to heal"
            ]
        );
    }
}
