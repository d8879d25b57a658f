//! Shrinking a failing run to a small scenario that fails the same way.
//!
//! The failure kept is its signature: the first check that failed (for a
//! bug demonstration, the first of its expected checks that failed). A
//! candidate is kept when that check fails again under the current seed or
//! one of the next few seeds (`tries`: seed, seed + 1, ...); the seed that
//! failed goes with it, so `minimal.ron` names it. A run is a function of
//! its scenario and seed, so no candidate runs twice on one seed.
//!
//! Steps, in order:
//! 1. the faults the run played (random generators included) become an
//!    explicit list of `At` faults (the run's schedule);
//! 2. faults are removed by delta debugging: halves, then smaller chunks,
//!    then one at a time;
//! 3. fewer nodes, clients, keys and operations; a shorter fault phase and
//!    recovery. Fewer nodes means any subset of them, renumbered from 0
//!    (faults and per-link settings follow): the nodes the faults name
//!    are kept first, where dropping the highest numbers would take the
//!    faults that matter with them;
//! 4. simpler faults and network: one node isolated instead of a shape,
//!    faults moved earlier (partitions shorter), clock jumps halved, loss,
//!    duplication, tail latency, drift and offsets to zero;
//! 5. faults merged: each cut with the next (a pause of one node counted
//!    as its isolation, its resume as the heal), into one cut of both's
//!    links at the later time, else the earlier;
//! 6. a last pass removing each fault left, until none can go: the result
//!    is 1-minimal in its faults.
//!
//! What stays stable when a fault goes: each concern draws from its own
//! random stream (per directed link and network rule, per client and its
//! link, per node and disk, the clocks in node order, the nemesis), so
//! removing a fault leaves the clients' requests, the nodes' own draws and
//! each link's draws as they were. After step 1 the faults name their
//! nodes and links, so the nemesis stream no longer matters. What moves:
//! a link that carries other messages after the edit meets other losses
//! and latencies from then on. Trying a few seeds per candidate makes up
//! for some of that.
//!
//! When the passes keep nothing more, they run again with more seeds per
//! candidate (8, 24, then 96: cheap once the scenario is small, and a
//! failure that hinges on a race can show on one seed in a hundred).
//! Then, budget left, restarts: the input itself, from the next seeds
//! that fail it too (`restarts` of them, past the first `tries`), shrunk
//! the same way; each takes another path, and the smallest result wins.
//! Smaller means fewer faults, then fewer nodes, then fewer operations
//! invoked, then a shorter run (fault phase plus recovery).
//!
//! The shrinker reads the wall clock for its budget only; every run it
//! makes is deterministic, so a shrink that ends within its budget gives
//! the same result on every machine.

pub mod edit;

use crate::check::Verdict;
use crate::protocols::{Bound, Registry};
use crate::run::Checked;
use crate::scenario::{Expect, Fault, FaultSpec, Scenario};
use crate::world::RunOptions;

/// How the shrinker runs a candidate: it reads verdicts, sizes and the
/// schedule played, never the trace's text (the report of the result is
/// written by a run that keeps it).
const HASH_ONLY: RunOptions = RunOptions {
    echo_trace: false,
    hash_only: true,
    interrupt: None,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How to shrink.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Seeds tried per candidate: the current one, then derived ones.
    pub tries: u32,
    /// Wall time allowed; the best scenario so far is kept when it runs out.
    pub budget: Duration,
    /// Runs allowed, if limited: a budget that ends at the same point on
    /// every machine, so a shrink cut short by it still gives one result.
    pub runs_max: Option<u64>,
    /// Shrinks again from the input on the next seeds that fail it, each
    /// kept if it ends smaller.
    pub restarts: u32,
    /// Set from outside (Ctrl-C) to stop with the best so far.
    pub stop: Option<&'static AtomicBool>,
}

/// How big a failing scenario is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    /// Faults: scripted ones, or those played by its generators.
    pub faults: usize,
    /// Nodes.
    pub nodes: u32,
    /// Client operations invoked in the failing run.
    pub ops: u64,
    /// Fault phase plus recovery.
    pub duration_ns: u64,
}

/// What a shrink found.
pub struct Shrunk {
    /// The smallest failing scenario found (its `seed` set to the seed
    /// that fails).
    pub spec: Scenario,
    /// That seed.
    pub seed: u64,
    /// The check that fails, in both.
    pub signature: String,
    /// The input's size and the result's.
    pub before: Size,
    /// The result's size.
    pub after: Size,
    /// Runs made.
    pub runs: u64,
    /// Each step taken: what changed, and the runs so far.
    pub log: Vec<String>,
    /// Why it stopped early, if it did (budget, interrupt).
    pub cut_short: Option<&'static str>,
}

/// Why there is nothing to shrink.
#[derive(Debug)]
pub struct NotFailing(pub String);

/// Where a shrink is, for a progress line.
pub struct Progress<'a> {
    /// The step.
    pub step: &'a str,
    /// Runs so far.
    pub runs: u64,
    /// The best size so far.
    pub best: Size,
}

/// Seeds among which the restarts look for ones that fail the input too:
/// enough that a bug failing one seed in twenty (`raft-bug-lease-ignores-drift`
/// fails 9 of 200) still finds its restarts; each look is one run of the
/// input, and the scan stops at the restarts asked for.
const RESTART_SEEDS: u64 = 128;

/// Node sets tried per node count (all of them up to 5 nodes).
const NODE_SETS_MAX: usize = 10;

/// Seeds per candidate once the passes stall, in turn.
const MORE_SEEDS: [u32; 3] = [8, 24, 96];

/// The engine: the best candidate so far and how to judge one.
struct Shrinker<'a> {
    registry: &'a Registry,
    signature: String,
    options: Options,
    started: Instant,
    best: Scenario,
    seed: u64,
    /// Seeds tried per candidate now: `options.tries`, then more.
    tries: u32,
    /// The seeds each candidate (by its text) was run on without failing.
    passed: BTreeMap<String, BTreeSet<u64>>,
    /// When each operation of the best's failing run was invoked, in order.
    invoked_ns: Vec<u64>,
    size: Size,
    runs: u64,
    log: Vec<String>,
    cut_short: Option<&'static str>,
    progress: &'a mut dyn FnMut(&Progress<'_>),
}

/// Shrinks seed `seed` of `bound`, which must fail.
pub fn shrink(
    registry: &Registry,
    bound: &Bound,
    seed: u64,
    options: Options,
    progress: &mut dyn FnMut(&Progress<'_>),
) -> Result<Shrunk, NotFailing> {
    assert!(options.tries >= 1, "at least the seed itself is tried");
    let started = Instant::now();
    let first = crate::run::run(bound, seed, &HASH_ONLY, false);
    let signature = signature(bound, &first).ok_or_else(|| {
        let name = &bound.spec().name;
        NotFailing(format!(
            "seed {seed} of {name} fails no check; there is nothing to shrink"
        ))
    })?;
    let before = size_of(bound.spec(), &first);
    let mut s = Shrinker::new(registry, bound, seed, &first, signature, options, started, progress);
    s.runs = 1;
    s.all_passes(&first);
    let best = s.found();
    let mut log = std::mem::take(&mut s.log);
    let best = s.restarts(bound, seed, best, &mut log);
    let mut spec = best.spec;
    spec.seed = Some(best.seed);
    debug_assert!(
        best.size.faults <= before.faults || s.runs == 1,
        "shrinking never grows the fault list"
    );
    Ok(Shrunk {
        spec,
        seed: best.seed,
        signature: s.signature,
        before,
        after: best.size,
        runs: s.runs,
        log,
        cut_short: s.cut_short,
    })
}

/// The result of one shrink from one seed.
struct Found {
    spec: Scenario,
    seed: u64,
    size: Size,
}

impl Size {
    /// Whether `self` is smaller than `other`: fewer faults, then fewer
    /// nodes, then fewer operations, then a shorter run.
    pub fn smaller_than(&self, other: &Size) -> bool {
        let key = |s: &Size| (s.faults, s.nodes, s.ops, s.duration_ns);
        key(self) < key(other)
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let run = crate::scenario::Dur(self.duration_ns);
        write!(
            f,
            "{} faults, {} nodes, {} ops, {run}",
            self.faults, self.nodes, self.ops
        )
    }
}

/// The check whose failure is kept: the first expected one that failed,
/// else the first that failed.
fn signature(bound: &Bound, checked: &Checked) -> Option<String> {
    let failed: Vec<&str> = checked
        .checks
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| c.name.as_str())
        .collect();
    let expected = match &bound.spec().expect {
        Expect::Fails(names) => names.iter().map(|n| n.text()).collect(),
        Expect::Passes => Vec::new(),
    };
    let intended = failed.iter().find(|f| expected.iter().any(|e| e == *f));
    intended.or(failed.first()).map(|s| s.to_string())
}

/// The invocation times of a run's operations, earliest first.
fn invoked_ns(checked: &Checked) -> Vec<u64> {
    let events = checked.outcome.history.events.iter();
    let mut times: Vec<u64> = events
        .filter(|e| e.kind == crate::history::EventKind::Invoke)
        .map(|e| e.time_ns)
        .collect();
    times.sort_unstable();
    times
}

fn size_of(spec: &Scenario, checked: &Checked) -> Size {
    let scripted = spec.faults.iter().all(|f| matches!(f, FaultSpec::At(..)));
    Size {
        faults: if scripted {
            spec.faults.len()
        } else {
            checked.outcome.schedule.len()
        },
        nodes: spec.nodes,
        ops: checked.outcome.history.counts().invoked,
        duration_ns: spec.duration.0 + spec.recover.map_or(0, |r| r.0),
    }
}

impl<'a> Shrinker<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        registry: &'a Registry,
        bound: &Bound,
        seed: u64,
        first: &Checked,
        signature: String,
        options: Options,
        started: Instant,
        progress: &'a mut dyn FnMut(&Progress<'_>),
    ) -> Self {
        Shrinker {
            registry,
            signature,
            options,
            started,
            best: bound.spec().clone(),
            seed,
            tries: options.tries,
            passed: BTreeMap::new(),
            invoked_ns: invoked_ns(first),
            size: size_of(bound.spec(), first),
            runs: 0,
            log: Vec::new(),
            cut_short: None,
            progress,
        }
    }

    /// Starts again from the input, failing on `seed` as `run` shows;
    /// the runs and the clock go on.
    fn restart(&mut self, bound: &Bound, seed: u64, run: &Checked) {
        self.best = bound.spec().clone();
        self.seed = seed;
        self.tries = self.options.tries;
        self.invoked_ns = invoked_ns(run);
        self.size = size_of(bound.spec(), run);
    }

    /// Restarts: the input again from the next seeds that fail it too
    /// (as a candidate counts under a derived seed, so does the input),
    /// each shrunk as the first was; another run can take a path to a
    /// smaller scenario that the first closed off early. The scan starts
    /// past the seeds the first shrink tried its first candidates on: a
    /// restart from one of those tends to retrace its path. Returns the
    /// smallest of `best` and the restarts' results; `log` gets their steps.
    fn restarts(&mut self, bound: &Bound, seed: u64, mut best: Found, log: &mut Vec<String>) -> Found {
        let mut restarts = 0;
        let from = seed.saturating_add(u64::from(self.options.tries));
        for other in from..from.saturating_add(RESTART_SEEDS) {
            if restarts == self.options.restarts || self.over() {
                break;
            }
            let run = crate::run::run(bound, other, &HASH_ONLY, false);
            self.runs += 1;
            if !self.fails_same(&run) {
                continue;
            }
            restarts += 1;
            log.push(format!(
                "restart {restarts}: the input from seed {other} ({} runs so far)",
                self.runs
            ));
            self.restart(bound, other, &run);
            self.all_passes(&run);
            let found = self.found();
            let kept = found.size.smaller_than(&best.size);
            log.append(&mut self.log);
            let verdict = if kept { "smaller, kept" } else { "not smaller" };
            log.push(format!(
                "restart {restarts}: ended with {} on seed {}; {verdict} ({} runs so far)",
                found.size, found.seed, self.runs
            ));
            if kept {
                best = found;
            }
        }
        debug_assert!(restarts <= self.options.restarts, "no more restarts than asked");
        best
    }

    /// Whether `checked` fails the check the shrink keeps.
    fn fails_same(&self, checked: &Checked) -> bool {
        let failed = |c: &crate::check::CheckResult| c.name == self.signature && c.verdict == Verdict::Fail;
        checked.checks.iter().any(failed)
    }

    fn found(&self) -> Found {
        Found {
            spec: self.best.clone(),
            seed: self.seed,
            size: self.size,
        }
    }

    /// Step 1, then the passes until they keep nothing, with more seeds
    /// per candidate each time they stall, up to the last of MORE_SEEDS:
    /// a candidate that lost the failure on a few seeds may still show it
    /// on others (a link's draws follow its traffic, which every edit
    /// moves). Each level costs little once the scenario is small.
    fn all_passes(&mut self, first: &Checked) {
        self.explicit(first);
        let mut escalations = 0;
        loop {
            self.passes();
            if self.over() || escalations == MORE_SEEDS.len() {
                return;
            }
            self.tries = self.tries.max(MORE_SEEDS[escalations]);
            escalations += 1;
            let line = format!(
                "seeds: {} per candidate from now on ({} runs so far)",
                self.tries, self.runs
            );
            self.log.push(line);
        }
    }

    /// Whether to stop: interrupted, or a budget (runs, wall time) spent.
    fn over(&mut self) -> bool {
        if self.options.stop.is_some_and(|s| s.load(Ordering::Relaxed)) {
            self.cut_short = Some("interrupted");
        } else if self.options.runs_max.is_some_and(|most| self.runs >= most) {
            self.cut_short = Some("run budget spent");
        } else if self.started.elapsed() > self.options.budget {
            self.cut_short = Some("budget spent");
        }
        self.cut_short.is_some()
    }

    /// The seeds a candidate is tried with: the current one first.
    fn seeds(&self) -> Vec<u64> {
        let derived = (1..u64::from(self.tries)).map(|i| self.seed.wrapping_add(i));
        std::iter::once(self.seed).chain(derived).collect()
    }

    /// Keeps `candidate` if it fails the same way; says `what` changed.
    fn attempt(&mut self, step: &str, what: &str, candidate: &Scenario) -> bool {
        if self.over() {
            return false;
        }
        let text = crate::scenario::write::to_ron(candidate);
        // An edit that changes nothing would be kept forever.
        if text == crate::scenario::write::to_ron(&self.best) {
            return false;
        }
        // A run is a function of the scenario and the seed, so a seed this
        // candidate already passed on (tried before the seeds per candidate
        // grew, or by another round on the same best) need not run again.
        let passed = self.passed.get(&text).cloned().unwrap_or_default();
        let seeds: Vec<u64> = self.seeds().into_iter().filter(|s| !passed.contains(s)).collect();
        if seeds.is_empty() {
            return false;
        }
        // An edit can make a scenario its family refuses (too few nodes
        // for its quorum): not a candidate.
        let Ok(bound) = self.registry.parse("candidate.ron", &text) else {
            return false;
        };
        for seed in seeds {
            let checked = crate::run::run(&bound, seed, &HASH_ONLY, false);
            self.runs += 1;
            if self.fails_same(&checked) {
                self.best = bound.spec().clone();
                self.seed = seed;
                self.size = size_of(&self.best, &checked);
                self.invoked_ns = invoked_ns(&checked);
                self.log
                    .push(format!("{step}: {what} (seed {seed}; {} runs so far)", self.runs));
                (self.progress)(&Progress {
                    step,
                    runs: self.runs,
                    best: self.size,
                });
                return true;
            }
            self.passed.entry(text.clone()).or_default().insert(seed);
            if self.over() {
                return false;
            }
        }
        false
    }

    /// Steps 2 to 6 in turn, again until a round keeps nothing: each can
    /// open the way for another (a fault moved earlier lets the fault
    /// phase shorten).
    fn passes(&mut self) {
        loop {
            let before = self.log.len();
            self.fault_chunks();
            self.structure();
            self.simpler();
            self.merge();
            self.one_by_one();
            if self.over() || self.log.len() == before {
                return;
            }
        }
    }

    /// Step 1: the schedule played, as `At` faults.
    fn explicit(&mut self, first: &Checked) {
        if self.best.faults.iter().all(|f| matches!(f, FaultSpec::At(..))) {
            return;
        }
        let faults = first.outcome.schedule.iter();
        let at = |(t, f): &(u64, Fault)| FaultSpec::At(crate::scenario::Dur(*t), f.clone());
        let candidate = Scenario {
            faults: faults.map(at).collect(),
            ..self.best.clone()
        };
        let what = format!("the {} faults played, as an explicit list", candidate.faults.len());
        if !self.attempt("explicit", &what, &candidate) {
            self.log
                .push("explicit: the played schedule alone does not fail; shrinking the generators".into());
        }
    }

    /// The best scenario without faults `from..to`.
    fn without(&self, from: usize, to: usize) -> Scenario {
        let mut c = self.best.clone();
        c.faults.drain(from..to);
        c
    }

    /// Step 2: delta debugging over the fault list.
    fn fault_chunks(&mut self) {
        let total = self.best.faults.len();
        let none = self.without(0, total);
        if total == 0 || self.attempt("faults", &format!("all {total} faults removed"), &none) {
            return;
        }
        let mut chunks = 2;
        while self.best.faults.len() >= 2 && !self.over() {
            let len = self.best.faults.len();
            let size = len.div_ceil(chunks);
            let mut removed = false;
            let mut from = 0;
            while from < self.best.faults.len() {
                let to = (from + size).min(self.best.faults.len());
                let what = format!(
                    "faults {from}..{to} removed ({} left)",
                    self.best.faults.len() - (to - from)
                );
                let c = self.without(from, to);
                if self.attempt("faults", &what, &c) {
                    removed = true;
                } else {
                    from = to;
                }
            }
            if removed {
                chunks = (chunks - 1).max(2);
            } else if size > 1 {
                chunks = (chunks * 2).min(self.best.faults.len());
            } else {
                break;
            }
        }
    }

    /// Step 3: fewer nodes, clients, keys, operations; shorter phases.
    fn structure(&mut self) {
        self.fewer_nodes();
        self.workload();
        self.phases();
    }

    /// Fewer nodes, fewest first: for each count, the node sets that keep
    /// the faults' nodes first, renumbered (see [`edit::with_nodes_kept`]).
    fn fewer_nodes(&mut self) {
        for k in edit::ladder(u64::from(self.best.nodes), 1) {
            let k = k as u32;
            for keep in edit::node_sets(&self.best, k, NODE_SETS_MAX) {
                let Some(c) = edit::with_nodes_kept(&self.best, &keep) else {
                    continue;
                };
                let what = if keep.iter().copied().eq(0..k) {
                    format!("{k} nodes")
                } else {
                    format!("{k} nodes: {keep:?} kept, renumbered from 0")
                };
                if self.attempt("nodes", &what, &c) {
                    return;
                }
            }
        }
    }

    fn workload(&mut self) {
        let Some(w) = self.best.workload.clone() else {
            return;
        };
        for n in edit::ladder(u64::from(w.clients), 1) {
            let mut c = self.best.clone();
            let cw = c.workload.as_mut().expect("has a workload");
            cw.clients = n as u32;
            // Reader-only clients are the last ones; at least one client
            // is left to write.
            cw.readers = cw.readers.min(cw.clients - 1);
            if self.attempt("clients", &format!("{n} clients"), &c) {
                break;
            }
        }
        if w.keys > 1 {
            let mut c = self.best.clone();
            c.workload.as_mut().expect("has a workload").keys = 1;
            self.attempt("keys", "one key", &c);
        }
        // Final reads count among the operations invoked but not toward
        // the cap: the ladder starts below both.
        let cap = w.ops.map_or(self.size.ops, |o| self.size.ops.min(u64::from(o)));
        for ops in edit::op_ladder(cap) {
            let capped = edit::with_ops(&self.best, ops as u32, false);
            let spread = edit::with_ops(&self.best, ops as u32, true);
            if self.attempt("ops", &format!("at most {ops} operations"), &capped)
                || self.attempt("ops", &format!("{ops} operations spread up to the last fault"), &spread)
                || self.ops_meet_faults(ops)
            {
                break;
            }
        }
    }

    /// The first `ops` operations kept, and the faults moved earlier to
    /// meet them: to just after the last one's invocation, or a quarter of
    /// them earlier. A failure that needs operations in flight when the
    /// faults strike (an acknowledged write not yet durable) keeps them,
    /// where a cap alone ends the workload long before the faults.
    fn ops_meet_faults(&mut self, ops: u64) -> bool {
        let Some(first_ns) = edit::gap_before(&self.best, 0).map(|g| g + 1_000_000) else {
            return false;
        };
        let mut lasts = vec![ops, ops - ops / 4];
        lasts.dedup();
        for last in lasts {
            let Some(&t) = self.invoked_ns.get(last as usize - 1) else {
                continue;
            };
            if t + 1_000_000 >= first_ns {
                continue;
            }
            let capped = edit::with_ops(&self.best, ops as u32, false);
            let Some(c) = edit::gap_closed(&capped, 0, t) else {
                continue;
            };
            let what = format!("at most {ops} operations, the faults moved to just after operation {last}");
            if self.attempt("ops", &what, &c) {
                return true;
            }
        }
        false
    }

    fn phases(&mut self) {
        let floor = edit::last_fault_ns(&self.best);
        loop {
            let half = (self.best.duration.0 / 2).max(floor) / 1_000_000 * 1_000_000;
            if half >= self.best.duration.0 || half == 0 {
                break;
            }
            let c = Scenario {
                duration: crate::scenario::Dur(half),
                ..self.best.clone()
            };
            if !self.attempt("duration", &format!("fault phase {}", c.duration), &c) {
                break;
            }
        }
        while let Some(r) = self.best.recover.filter(|r| r.0 >= 2_000_000) {
            let half = crate::scenario::Dur(r.0 / 2 / 1_000_000 * 1_000_000);
            let c = Scenario {
                recover: Some(half),
                ..self.best.clone()
            };
            if !self.attempt("recover", &format!("recovery {half}"), &c) {
                break;
            }
        }
    }

    /// Step 4: simpler faults, network and clocks.
    fn simpler(&mut self) {
        for i in 0..self.best.faults.len() {
            for c in edit::isolations(&self.best, i) {
                if self.attempt("simplify", &format!("fault {i} isolates one node"), &c) {
                    break;
                }
            }
            self.close_gap(i);
            if let Some(c) = edit::earliest(&self.best, i) {
                self.attempt("simplify", &format!("fault {i} as early as it can be"), &c);
            }
            while let Some(c) = edit::earlier(&self.best, i) {
                if !self.attempt("simplify", &format!("fault {i} earlier"), &c) {
                    break;
                }
            }
            while let Some(c) = edit::smaller_jump(&self.best, i) {
                if !self.attempt("simplify", &format!("fault {i}: a smaller clock jump"), &c) {
                    break;
                }
            }
        }
        // One at a time, each on the best so far.
        let mut tried: Vec<&str> = Vec::new();
        while let Some((what, c)) = edit::plainer(&self.best).into_iter().find(|(w, _)| !tried.contains(w)) {
            tried.push(what);
            self.attempt("simplify", what, &c);
        }
    }

    /// Fewer faults by merging: each cut (a pause of one node counted as
    /// its isolation) with the next cut, into one cut of both's links (see
    /// [`edit::merged_cuts`]). A failure that needs several links down at
    /// once, which the run's schedule happened to cut one after another,
    /// keeps one fault for them where removing either loses it.
    fn merge(&mut self) {
        let mut i = 0;
        while i < self.best.faults.len() && !self.over() {
            let left = self.best.faults.len() - 1;
            let merged = edit::merged_cuts(&self.best, i)
                .iter()
                .zip(["later", "earlier"])
                .any(|(c, when)| {
                    let what =
                        format!("fault {i} and the next cut merged into one cut, at the {when} time ({left} left)");
                    self.attempt("merge", &what, c)
                });
            if !merged {
                i += 1;
            }
        }
    }

    /// The quiet stretch before fault `i` removed, else halved while that
    /// keeps the failure; the faults after it move along.
    fn close_gap(&mut self, i: usize) {
        let what = format!("fault {i} and those after it moved earlier");
        if let Some(c) = edit::gap_closed(&self.best, i, 0) {
            if self.attempt("simplify", &what, &c) {
                return;
            }
        }
        loop {
            let Some(gap) = edit::gap_before(&self.best, i) else {
                return;
            };
            let Some(c) = edit::gap_closed(&self.best, i, gap / 2) else {
                return;
            };
            if !self.attempt("simplify", &what, &c) {
                return;
            }
        }
    }

    /// Step 6: each fault left, removed alone, until none can go.
    fn one_by_one(&mut self) {
        let mut changed = true;
        while changed && !self.over() {
            changed = false;
            let mut i = 0;
            while i < self.best.faults.len() {
                let what = format!("fault {i} removed ({} left)", self.best.faults.len() - 1);
                let c = self.without(i, i + 1);
                if self.attempt("1-minimal", &what, &c) {
                    changed = true;
                } else {
                    i += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Size;

    fn size(faults: usize, nodes: u32, ops: u64, duration_ns: u64) -> Size {
        Size {
            faults,
            nodes,
            ops,
            duration_ns,
        }
    }

    #[test]
    fn smaller_means_faults_then_nodes_then_ops_then_duration() {
        let a = size(2, 5, 100, 9);
        assert!(size(1, 9, 900, 99).smaller_than(&a), "fewer faults win over all else");
        assert!(size(2, 3, 900, 99).smaller_than(&a), "then fewer nodes");
        assert!(size(2, 5, 20, 99).smaller_than(&a), "then fewer operations");
        assert!(size(2, 5, 100, 8).smaller_than(&a), "then a shorter run");
        assert!(!a.smaller_than(&a), "a tie keeps the first");
        assert!(!size(3, 1, 1, 1).smaller_than(&a));
    }
}
