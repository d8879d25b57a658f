//! Checkers: they read what a run recorded and give a verdict; they never
//! change what happens.
//!
//! Every run is checked for panics in node code (a panic is a protocol
//! bug). Scenario `checks` add more; `Recovers` is liveness after the
//! heal-and-recover phase begins. Raft's invariants are watched during the
//! run by [`raft::Invariants`]; here their findings become verdicts.

pub mod linear;
pub mod raft;

use crate::history::formats::native;
use crate::history::value::Value;
use crate::history::{EventKind, History};
use crate::scenario::{CheckSpec, Dur, HistoryModel, Scenario};
use crate::sim::RunOutcome;
use linear::{LinVerdict, ModelKind};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    /// Nothing failed, but some check could not decide.
    Unknown,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Unknown => "unknown",
            Verdict::Fail => "fail",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub verdict: Verdict,
    pub detail: String,
    /// Files for the report folder: (name, contents).
    #[serde(skip)]
    pub files: Vec<(String, String)>,
    /// When a failure happened or showed, for the report's pictures.
    #[serde(skip)]
    pub at_ns: Option<u64>,
    /// The operation that exposed a failure.
    #[serde(skip)]
    pub exposed_by: Option<ExposedBy>,
}

/// A client operation that showed a failure (a stale read, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExposedBy {
    pub client: u32,
    /// The history's process: a client takes a new one after a timeout.
    pub process: u64,
    pub op: u64,
}

impl CheckResult {
    pub fn new(name: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Self {
        CheckResult {
            name: name.into(),
            verdict,
            detail: detail.into(),
            files: Vec::new(),
            at_ns: None,
            exposed_by: None,
        }
    }

    pub fn at(mut self, at_ns: u64) -> Self {
        self.at_ns = Some(at_ns);
        self
    }
}

/// The worst verdict wins: any fail fails, else any unknown is unknown.
pub fn overall(results: &[CheckResult]) -> Verdict {
    results.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Pass)
}

pub fn run_checks(scenario: &Scenario, outcome: &RunOutcome) -> Vec<CheckResult> {
    let mut results = vec![no_panic(outcome)];
    for check in &scenario.checks {
        results.push(match check {
            CheckSpec::Recovers { within } => recovers(&outcome.history, outcome.recover_at_ns, *within),
            CheckSpec::Linearizable(HistoryModel::Kv) => linearizable(&outcome.history, ModelKind::Kv),
            CheckSpec::ElectsLeader { within } => elects_leader(outcome, *within),
            invariant => observed_invariant(outcome, invariant),
        });
    }
    results
}

/// How long a run's linearizability check may take before it says unknown.
pub const LINEARIZABLE_TIMEOUT_S: u64 = 30;

/// The run's history checked against `model` (keys start absent).
pub fn linearizable(history: &History, model: ModelKind) -> CheckResult {
    let name = format!("Linearizable({})", model.name());
    let raw = match native::from_history(history) {
        Ok(raw) => raw,
        Err(e) => panic!(
            "a recorded history is always well formed: event {}: {}",
            e.line, e.message
        ),
    };
    let options = linear::Options {
        timeout: Some(std::time::Duration::from_secs(LINEARIZABLE_TIMEOUT_S)),
        ..linear::Options::default()
    };
    let report = match linear::check_history(model, Value::Nil, &raw, &options) {
        Ok(report) => report,
        Err(e) => panic!(
            "the {} model reads every recorded op: event {}: {}",
            model.name(),
            e.line,
            e.message
        ),
    };
    let verdict = match report.verdict {
        LinVerdict::Linearizable => Verdict::Pass,
        LinVerdict::NotLinearizable => Verdict::Fail,
        LinVerdict::Unknown => Verdict::Unknown,
    };
    let summary = report.to_text();
    let mut result = CheckResult::new(name, verdict, summary.trim_end());
    if let Some(c) = &report.counterexample {
        result.files.push(("linearizability.txt".into(), summary.clone()));
        result.files.push((
            "counterexample.html".into(),
            linear::html::render(c, "the run's history"),
        ));
        if let Ok(svg) = linear::html::picture(c) {
            result.files.push(("counterexample.svg".into(), svg));
        }
        if let Some((exposed, at_ns)) = exposing_op(history, c) {
            result.at_ns = Some(at_ns);
            result.exposed_by = Some(exposed);
        }
    }
    result
}

/// The op after whose return no linearization existed (or, if that was
/// not pinned down, the one that could not be placed), and when it
/// returned (or was invoked, if it never did).
fn exposing_op(history: &History, c: &linear::Counterexample) -> Option<(ExposedBy, u64)> {
    let id = c.first_bad_return.unwrap_or(c.blocked);
    let view = c.window.iter().find(|v| v.id == id)?;
    // A recorded history is read one event per line, from line 1.
    let invoke = history.events.get(view.line.checked_sub(1)?)?;
    debug_assert_eq!(invoke.kind, EventKind::Invoke);
    let returned = history
        .events
        .iter()
        .find(|e| e.op == invoke.op && e.kind != EventKind::Invoke)
        .map(|e| e.time_ns);
    let exposed = ExposedBy {
        client: invoke.client,
        process: invoke.process,
        op: invoke.op,
    };
    Some((exposed, returned.unwrap_or(invoke.time_ns)))
}

/// An invariant the protocol's observer watched during the run.
fn observed_invariant(outcome: &RunOutcome, check: &CheckSpec) -> CheckResult {
    let name = format!("{check:?}");
    let Some(observed) = &outcome.observed else {
        return CheckResult::new(name, Verdict::Unknown, "this protocol's states were not observed");
    };
    match observed.violations.iter().find(|v| v.invariant == name) {
        Some(v) => {
            let at = v.time_ns as f64 / 1e9;
            CheckResult::new(name, Verdict::Fail, format!("at {at:.6}s: {}", v.message)).at(v.time_ns)
        }
        None => {
            let held = observed.held.iter().find(|(n, _)| *n == name);
            let detail = held.map_or(String::new(), |(_, d)| format!(": {d}"));
            CheckResult::new(name, Verdict::Pass, format!("held throughout{detail}"))
        }
    }
}

/// A leader backed by a majority in its term, within `within` of the heal.
fn elects_leader(outcome: &RunOutcome, within: Dur) -> CheckResult {
    let name = format!("ElectsLeader(within: {within})");
    let (Some(heal), Some(observed)) = (outcome.recover_at_ns, &outcome.observed) else {
        return CheckResult::new(name, Verdict::Unknown, "the run ended before the recovery phase began");
    };
    let heal_s = heal as f64 / 1e9;
    match observed.leader_after_heal_ns {
        Some(t) if t - heal <= within.0 => CheckResult::new(
            name,
            Verdict::Pass,
            format!(
                "a majority followed a leader {} after the heal at {heal_s:.3}s",
                elapsed(t - heal)
            ),
        ),
        Some(t) => CheckResult::new(
            name,
            Verdict::Fail,
            format!(
                "a majority first followed a leader {} after the heal at {heal_s:.3}s; allowed {within}",
                elapsed(t - heal)
            ),
        )
        .at(heal + within.0),
        None => CheckResult::new(
            name,
            Verdict::Fail,
            format!("no leader was followed by a majority after the heal at {heal_s:.3}s"),
        )
        .at(heal + within.0),
    }
}

/// A measured span, for people: "954.300us", "63.226ms", "1.204s".
fn elapsed(ns: u64) -> String {
    match ns {
        0..1_000_000 => format!("{:.3}us", ns as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.3}ms", ns as f64 / 1e6),
        _ => format!("{:.3}s", ns as f64 / 1e9),
    }
}

fn no_panic(outcome: &RunOutcome) -> CheckResult {
    match &outcome.panic {
        // A panic ends the run.
        Some(message) => {
            CheckResult::new("NoPanic", Verdict::Fail, format!("node code panicked: {message}")).at(outcome.end_ns)
        }
        None => CheckResult::new("NoPanic", Verdict::Pass, "no node panicked"),
    }
}

/// Some operation invoked at or after the heal completes ok within `within`
/// of the heal. Unknown if no operation was invoked after the heal at all.
pub fn recovers(history: &History, recover_at_ns: Option<u64>, within: Dur) -> CheckResult {
    let name = format!("Recovers(within: {within})");
    let Some(heal) = recover_at_ns else {
        return CheckResult::new(name, Verdict::Unknown, "the run ended before the recovery phase began");
    };
    let deadline = heal + within.0;
    let invoked_after: BTreeMap<u64, u64> = history
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Invoke && e.time_ns >= heal)
        .map(|e| (e.op, e.time_ns))
        .collect();
    let first_ok = history
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Ok && invoked_after.contains_key(&e.op))
        .map(|e| e.time_ns)
        .min();
    let heal_s = heal as f64 / 1e9;
    let (verdict, detail) = match first_ok {
        Some(t) if t <= deadline => (
            Verdict::Pass,
            format!("first ok {} after the heal at {heal_s:.3}s", elapsed(t - heal)),
        ),
        Some(t) => (
            Verdict::Fail,
            format!(
                "first ok came {} after the heal at {heal_s:.3}s; allowed {within}",
                elapsed(t - heal)
            ),
        ),
        None if invoked_after.is_empty() => (
            Verdict::Unknown,
            format!("no operation was invoked after the heal at {heal_s:.3}s (the workload's ops were spent)"),
        ),
        None => (
            Verdict::Fail,
            format!(
                "none of the {} operations invoked after the heal at {heal_s:.3}s completed ok",
                invoked_after.len()
            ),
        ),
    };
    let result = CheckResult::new(name, verdict, detail);
    if verdict == Verdict::Fail {
        return result.at(deadline);
    }
    result
}

/// Two runs of the same scenario and seed must record the same trace; on a
/// mismatch, the detail names the first event that differs.
pub fn determinism(first: &RunOutcome, second: &RunOutcome) -> CheckResult {
    let name = "Determinism".to_string();
    match crate::trace::first_difference(first.trace.text(), second.trace.text()) {
        None => {
            let (events, hash) = (first.trace.events(), first.trace.hash_hex());
            CheckResult::new(
                name,
                Verdict::Pass,
                format!("two runs gave the same {events} events, hash {hash}"),
            )
        }
        Some((a, b)) => {
            let detail = format!("the runs first differ at this event:\n  first:  {a}\n  second: {b}");
            let result = CheckResult::new(name, Verdict::Fail, detail);
            // The earlier of the two events (a missing one is "").
            let times = [a, b].map(|l| crate::trace::parse_line(l).map(|l| l.time_ns).ok());
            match times.into_iter().flatten().min() {
                Some(at_ns) => result.at(at_ns),
                None => result,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Event;
    use crate::protocol::{Op, Output};

    fn ev(kind: EventKind, op: u64, time_ns: u64) -> Event {
        Event {
            kind,
            op,
            process: 0,
            client: 0,
            time_ns,
            input: (kind == EventKind::Invoke).then(|| Op::Get { key: "k".into() }),
            output: (kind == EventKind::Ok).then_some(Output::Value(None)),
            error: None,
        }
    }

    fn history(events: &[(EventKind, u64, u64)]) -> History {
        History {
            events: events.iter().map(|&(k, op, t)| ev(k, op, t)).collect(),
        }
    }

    #[test]
    fn recovers_passes_fails_and_ignores_old_operations() {
        use EventKind::*;
        let h = history(&[(Invoke, 1, 50), (Invoke, 2, 100), (Ok, 1, 120), (Ok, 2, 150)]);
        assert_eq!(recovers(&h, Some(100), Dur(60)).verdict, Verdict::Pass);
        assert_eq!(
            recovers(&h, Some(100), Dur(40)).verdict,
            Verdict::Fail,
            "only op 2 counts, 50ns after"
        );
        let h = history(&[(Invoke, 1, 50), (Ok, 1, 120), (Invoke, 2, 130), (Info, 2, 200)]);
        assert_eq!(recovers(&h, Some(100), Dur(1_000)).verdict, Verdict::Fail);
        assert_eq!(recovers(&h, None, Dur(1_000)).verdict, Verdict::Unknown);
        let h = history(&[(Invoke, 1, 50), (Ok, 1, 120)]);
        assert_eq!(
            recovers(&h, Some(100), Dur(1_000)).verdict,
            Verdict::Unknown,
            "nothing to judge"
        );
    }

    #[test]
    fn spans_read_in_the_unit_that_fits() {
        assert_eq!(elapsed(954_300), "954.300us");
        assert_eq!(elapsed(63_225_839), "63.226ms");
        assert_eq!(elapsed(1_204_000_000), "1.204s");
    }

    #[test]
    fn worst_verdict_wins() {
        let r = |v| CheckResult::new("", v, "");
        assert_eq!(overall(&[]), Verdict::Pass);
        assert_eq!(overall(&[r(Verdict::Pass), r(Verdict::Unknown)]), Verdict::Unknown);
        assert_eq!(
            overall(&[r(Verdict::Unknown), r(Verdict::Fail), r(Verdict::Pass)]),
            Verdict::Fail
        );
    }
}
