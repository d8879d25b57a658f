//! Linearizability: is there a total order of the operations, consistent
//! with real time, that a single correct copy of the object (the model)
//! could have produced?
//!
//! The history is split into independent partitions (per key for kv),
//! each searched on its own, in parallel when `jobs > 1`. The verdict is
//! never a guess: a search that hits its time or memory budget makes the
//! verdict `unknown` (unless another partition already failed, which
//! settles it).
//!
//! The memory budget is counted, not measured (see [`search`]), so the
//! verdict under it is the same on every machine and for every `jobs`:
//! each partition gets an equal share, and one that runs out of its share
//! waits and resumes after the others with the whole budget, less the
//! shares of those still waiting (see [`rounds`]).

mod arena;
pub mod brute;
mod explain;
pub mod html;
pub mod model;
pub mod rope;
mod rounds;
pub mod search;

pub use explain::{Counterexample, OpView};
pub use model::{Model, ModelKind};

use crate::core::Value;
use crate::history::raw::{line_error, LineError, RawHistory};
use search::{Op, Outcome};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How hard to try, and what to produce.
#[derive(Clone, Debug)]
pub struct Options {
    /// Wall-clock budget for the whole check, explanation included.
    pub timeout: Option<Duration>,
    /// When the timeout started counting; None: when the check starts. The
    /// CLI starts it before reading the file, so that reading and parsing
    /// count too.
    pub timeout_from: Option<Instant>,
    /// Memory budget of the searches, over all threads: what their caches,
    /// model states included, and their stacks hold, counted as the search
    /// goes. Past it the verdict is unknown. The history itself is not
    /// counted.
    pub memory_bytes: usize,
    /// Partitions searched at once.
    pub jobs: usize,
    /// How much to spend explaining a history that is not linearizable.
    pub explain: Explain,
    /// Set by another thread (Ctrl-C, say), the search stops with unknown.
    pub interrupt: Option<&'static AtomicBool>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: Some(Duration::from_secs(60)),
            timeout_from: None,
            memory_bytes: 2 << 30,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            explain: Explain::Quick,
            interrupt: None,
        }
    }
}

/// Search steps a quick explanation takes at most, over all its searches:
/// a count, not a share of the verdict's wall time as it once was, so the
/// counterexample does not depend on the machine's speed or load. About a
/// second of searching at most; most windows need far fewer.
pub const QUICK_STEPS: u64 = 1 << 22;

/// How much a failing check spends on its counterexample, once the
/// verdict is known. Every level gives at least the failing search's own
/// account (how far it got, and the op it could not place); narrowing that
/// to a small window costs further searches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Explain {
    /// No counterexample: the verdict only, as soon as it is known.
    None,
    /// Narrow it within a fixed number of search steps ([`QUICK_STEPS`]
    /// over all its searches), so that a history gets the same
    /// counterexample on every machine.
    Quick,
    /// Narrow it within what is left of the timeout.
    Full,
}

/// The answer of a linearizability check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinVerdict {
    /// Every partition has a legal order.
    Linearizable,
    /// Some partition has none; the report says which.
    NotLinearizable,
    /// No partition failed, but at least one ran out of time or memory.
    Unknown,
}

impl LinVerdict {
    /// The verdict as the JSON report writes it: `not-linearizable`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinVerdict::Linearizable => "linearizable",
            LinVerdict::NotLinearizable => "not-linearizable",
            LinVerdict::Unknown => "unknown",
        }
    }
}

/// The outcome of checking one history, with the numbers behind it.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The answer.
    pub verdict: LinVerdict,
    /// The model's name, as `--model` takes it.
    pub model: &'static str,
    /// What registers and keys held before the first write.
    pub initial: String,
    /// Operations checked: completed and indeterminate ones.
    pub ops: usize,
    /// Of those, how many have an unknown outcome.
    pub indeterminate: usize,
    /// Failed ops the parser dropped (they did not happen).
    pub failed: usize,
    /// Indeterminate writes left out because no op could have seen them
    /// (see [`model::Model::unseen`]): the verdict is the same without them.
    pub unseen: usize,
    /// How many independent parts the model split the history into.
    pub partitions: usize,
    /// Real time the check took.
    pub wall_ms: f64,
    /// Of that, the time until the verdict was known.
    pub verdict_ms: f64,
    /// Of that, the time spent on the counterexample.
    pub explain_ms: f64,
    /// Why the verdict is unknown, per partition.
    pub unknown: Vec<String>,
    /// Why the history fails, when it does and `Options::explain` is on.
    pub counterexample: Option<Counterexample>,
}

/// Checks `raw` against the model `kind`, whose registers start at `initial`.
pub fn check_history(
    kind: ModelKind,
    initial: Value,
    raw: &RawHistory,
    options: &Options,
) -> Result<Report, LineError> {
    let name = kind.name();
    let shown = initial.to_string();
    let mut report = match kind {
        ModelKind::Register => check(&model::Register { initial }, raw, options),
        ModelKind::CasRegister => check(&model::CasRegister { initial }, raw, options),
        ModelKind::Kv => check(&model::Kv { initial }, raw, options),
        ModelKind::MultiRegister => check(&model::MultiRegister { initial }, raw, options),
        ModelKind::Mutex => check(&model::Mutex, raw, options),
    }?;
    report.model = name;
    report.initial = shown;
    Ok(report)
}

/// Like [`check_history`], without the counterexample: the verdict only.
pub fn verdict_only(kind: ModelKind, initial: Value, raw: &RawHistory, options: &Options) -> Result<Report, LineError> {
    let options = Options {
        explain: Explain::None,
        ..options.clone()
    };
    check_history(kind, initial, raw, &options)
}

/// The history's operations as the model reads them; op `id`s are their
/// indices in `raw.ops`.
pub fn ops<M: Model>(model: &M, raw: &RawHistory) -> Result<Vec<Op<M>>, LineError> {
    // Sized up front: collecting a Result cannot, and regrowing copies
    // every op again and again on long histories.
    let mut ops = Vec::with_capacity(raw.ops.len());
    for (id, r) in raw.ops.iter().enumerate() {
        let (input, output) = model.convert(r).map_err(|m| line_error(r.line, m))?;
        ops.push(Op {
            id,
            client: r.process,
            input,
            // An op that never returned reported nothing.
            output: output.filter(|_| r.ret.is_some()),
            call: r.call,
            ret: r.ret,
        });
    }
    Ok(ops)
}

/// Checks `raw` against `model`; the report's `model` and `initial` are
/// left empty for the caller ([`check_history`] fills them). An error means
/// an operation the model cannot read.
pub fn check<M: Model>(model: &M, raw: &RawHistory, options: &Options) -> Result<Report, LineError> {
    let started = Instant::now();
    let deadline = options.timeout.map(|t| options.timeout_from.unwrap_or(started) + t);
    let ops = ops(model, raw)?;
    let ops_count = ops.len();
    let (parts, unseen) = partitions(model, ops);
    let outcomes = rounds::search_all(model, &parts, options, deadline);
    let mut report = Report {
        verdict: LinVerdict::Linearizable,
        model: "",
        initial: String::new(),
        ops: ops_count,
        indeterminate: raw.indeterminate(),
        failed: raw.failed,
        unseen,
        partitions: parts.len(),
        wall_ms: 0.0,
        verdict_ms: 0.0,
        explain_ms: 0.0,
        unknown: Vec::new(),
        counterexample: None,
    };
    let failed = outcomes
        .iter()
        .position(|o| matches!(o, Some(Outcome::NotLinearizable(_))));
    if let Some(i) = failed {
        let Some(Outcome::NotLinearizable(failure)) = &outcomes[i] else {
            unreachable!()
        };
        report.verdict = LinVerdict::NotLinearizable;
        report.verdict_ms = started.elapsed().as_secs_f64() * 1e3;
        let (label, part) = &parts[i];
        if options.explain == Explain::None {
            report.wall_ms = report.verdict_ms;
            return Ok(report);
        }
        // Each search looks at `cancel` once per STEPS_PER_LOOK steps:
        // counting the looks counts the steps of all the explanation's
        // searches, the same on every machine.
        let looks = AtomicU64::new(0);
        let quick_spent = || looks.fetch_add(1, Ordering::Relaxed) >= QUICK_STEPS / search::STEPS_PER_LOOK;
        let mut budget = rounds::budget(options, options.memory_bytes, deadline);
        if options.explain == Explain::Quick {
            budget.cancel = Some(&quick_spent);
        }
        let explaining = Instant::now();
        report.counterexample = Some(explain::explain(model, label, part, &raw.ops, failure.clone(), &budget));
        report.explain_ms = explaining.elapsed().as_secs_f64() * 1e3;
    } else {
        for (o, (label, _)) in outcomes.iter().zip(&parts) {
            if let Some(Outcome::Unknown(why)) = o {
                report.unknown.push(format!("{label}: {why}"));
            }
        }
        if !report.unknown.is_empty() {
            report.verdict = LinVerdict::Unknown;
        }
    }
    report.wall_ms = started.elapsed().as_secs_f64() * 1e3;
    if report.verdict != LinVerdict::NotLinearizable {
        report.verdict_ms = report.wall_ms;
    }
    Ok(report)
}

/// Labelled partitions, each with the ops the search needs.
type Parts<M> = Vec<(String, Vec<Op<M>>)>;

/// The model's partitions of `ops`, with the ops the search needs, moved
/// rather than copied (histories can have millions), and how many writes
/// no op could see were left out.
fn partitions<M: Model>(model: &M, ops: Vec<Op<M>>) -> (Parts<M>, usize) {
    let inputs: Vec<&M::Input> = ops.iter().map(|o| &o.input).collect();
    let labelled = model.partition(&inputs);
    let mut slots: Vec<Option<Op<M>>> = ops.into_iter().map(Some).collect();
    // Unfinished reads only widen the search: every one is concurrent
    // with all that follows it, and none can change the verdict.
    let searched = |o: &Op<M>| o.ret.is_some() || !model.is_read_only(&o.input);
    let mut unseen = 0;
    let parts = labelled
        .into_iter()
        .map(|(label, ids)| {
            let mut part = Vec::with_capacity(ids.len());
            part.extend(ids.into_iter().filter_map(|i| slots[i].take()).filter(searched));
            let dropped = without_unseen(model, &mut part);
            unseen += dropped;
            (label, part)
        })
        .collect();
    (parts, unseen)
}

/// Leaves out of `part` the ops the model says no op could have seen;
/// returns how many.
fn without_unseen<M: Model>(model: &M, part: &mut Vec<Op<M>>) -> usize {
    let pairs: Vec<(&M::Input, Option<&M::Output>)> = part.iter().map(|o| (&o.input, o.output.as_ref())).collect();
    let open: Vec<bool> = part.iter().map(|o| o.ret.is_none()).collect();
    let unseen = model.unseen(&pairs, &open);
    debug_assert!(
        unseen.iter().all(|&i| open[i]),
        "only ops that never returned may be left out"
    );
    if unseen.is_empty() {
        return 0;
    }
    let mut drop = vec![false; part.len()];
    unseen.iter().for_each(|&i| drop[i] = true);
    let mut i = 0;
    part.retain(|_| {
        i += 1;
        !drop[i - 1]
    });
    unseen.len()
}

impl Report {
    /// A readable account, with the counterexample if there is one.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let unseen = match self.unseen {
            0 => String::new(),
            n => format!(", {n} of them writes no op could see, left out"),
        };
        let _ = write!(
            t,
            "{}: {} ops ({} indeterminate{unseen}, {} failed ops dropped), {} partitions, model {}, {:.1} ms",
            self.verdict.as_str(),
            self.ops,
            self.indeterminate,
            self.failed,
            self.partitions,
            self.model,
            self.wall_ms
        );
        if self.counterexample.is_some() {
            let _ = write!(
                t,
                " (verdict {:.1} ms, explanation {:.1} ms)",
                self.verdict_ms, self.explain_ms
            );
        }
        t.push('\n');
        for why in &self.unknown {
            let _ = writeln!(t, "  unknown: {why}");
        }
        if let Some(c) = &self.counterexample {
            t.push_str(&c.to_text());
        }
        t
    }
}

impl Counterexample {
    /// A readable account: the window, the longest partial linearization,
    /// and the op that could not be placed after it.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        // Windows can hold a whole partition: no search per op.
        let by_id: HashMap<usize, &OpView> = self.window.iter().map(|v| (v.id, v)).collect();
        let show = |id: usize| {
            by_id.get(&id).map_or(format!("op {id}"), |v| {
                format!("op {id} (process {}, line {}): {}", v.process, v.line, v.text)
            })
        };
        let _ = writeln!(t, "counterexample in {} ({} ops):", self.partition, self.partition_ops);
        if let Some(id) = self.first_bad_return {
            let _ = writeln!(t, "  no linearization exists once {} has returned", show(id));
        }
        let open = match self.window.iter().filter(|v| v.ret.is_none()).count() {
            0 => String::new(),
            n => format!(" ({n} open)"),
        };
        let _ = writeln!(
            t,
            "  smallest failing window: {} ops{open}, starting from {}",
            self.window.len(),
            self.start_states.join(" or ")
        );
        for v in &self.window {
            let ret = v.ret.map_or("open".to_string(), |r| r.to_string());
            let _ = writeln!(
                t,
                "    [{:>6} .. {:>6}] process {:<4} {}",
                v.call, ret, v.process, v.text
            );
        }
        let _ = writeln!(t, "  longest partial linearization ({} ops):", self.prefix.len());
        for (id, state) in &self.prefix {
            let _ = writeln!(t, "    {}  => {state}", show(*id));
        }
        let _ = writeln!(t, "  then {} cannot take effect", show(self.blocked));
        if !self.candidates.is_empty() {
            let list: Vec<String> = self.candidates.iter().map(|&id| show(id)).collect();
            let _ = writeln!(t, "  and no other op can go first: {}", list.join("; "));
        }
        if !self.left_out.is_empty() {
            let _ = writeln!(
                t,
                "  the explanation's budget ran out: {} (--explain full gives it the rest of --timeout)",
                self.left_out.join("; ")
            );
        }
        t
    }
}
