//! Checkers: they read what a run recorded and give a verdict; they never
//! change what happens.
//!
//! Every run is checked for panics in node code (a panic is a protocol
//! bug). Scenario `checks` add more: generic ones over the history
//! (`Linearizable(model)`, `Recovers(within)`, and the regular-register
//! checks `NoStaleReads` and `NoLostWrites` of [`regular`]), and the properties a
//! family's observers judged during the run ([`property`] turns what they
//! found into a verdict, by when the property must hold). [`converge`] is
//! an observer any replicated family can offer as `Converges(within)`.

pub mod converge;
pub mod linear;
pub mod regular;

use crate::core::Value;
use crate::history::formats::native;
use crate::history::{EventKind, History};
use crate::property::{Findings, Violation, When};
use crate::scenario::Dur;
use crate::world::{BudgetSpent, RunOutcome};
use linear::{LinVerdict, ModelKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

/// What a check concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// It held.
    Pass,
    /// Nothing failed, but some check could not decide.
    Unknown,
    /// It was broken: a finding.
    Fail,
}

impl Verdict {
    /// As summaries write it: `pass`, `unknown`, `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Unknown => "unknown",
            Verdict::Fail => "fail",
        }
    }
}

/// One check's verdict on one run, with what it saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// As results name it: `Linearizable(kv)`, `ElectsLeader(within: 2s)`.
    pub name: String,
    /// The verdict.
    pub verdict: Verdict,
    /// What held, or what broke and where.
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
    /// For a sometimes property: whether this run saw it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seen: Option<bool>,
}

/// A client operation that showed a failure (a stale read, say).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExposedBy {
    /// The client that invoked it.
    pub client: u32,
    /// The history's process: a client takes a new one after a timeout.
    pub process: u64,
    /// The operation's id in the history.
    pub op: u64,
}

impl CheckResult {
    /// A result with no time, files or operation.
    pub fn new(name: impl Into<String>, verdict: Verdict, detail: impl Into<String>) -> Self {
        CheckResult {
            name: name.into(),
            verdict,
            detail: detail.into(),
            files: Vec::new(),
            at_ns: None,
            exposed_by: None,
            seen: None,
        }
    }

    /// The same result, timed at `at_ns`.
    pub fn at(mut self, at_ns: u64) -> Self {
        self.at_ns = Some(at_ns);
        self
    }

    /// The same result of a sometimes property, seen or not.
    pub fn seen(mut self, seen: bool) -> Self {
        self.seen = Some(seen);
        self
    }
}

/// The worst verdict wins: any fail fails, else any unknown is unknown.
pub fn overall(results: &[CheckResult]) -> Verdict {
    results.iter().map(|r| r.verdict).max().unwrap_or(Verdict::Pass)
}

/// How long a run's linearizability check may take before it says unknown.
pub const LINEARIZABLE_TIMEOUT_S: u64 = 30;

/// The run's history checked against `model` (keys start absent).
/// Once `interrupt` is set, the search gives up with unknown.
pub fn linearizable(history: &History, model: ModelKind, interrupt: Option<&'static AtomicBool>) -> CheckResult {
    let name = format!("Linearizable({})", model.name());
    let raw = match native::from_history(history) {
        Ok(raw) => raw,
        Err(e) => panic!(
            "a recorded history is always well formed: event {}: {}",
            e.line, e.message
        ),
    };
    if raw.ops.is_empty() {
        return CheckResult::new(name, Verdict::Unknown, "no operation was invoked: nothing to judge");
    }
    let options = linear::Options {
        timeout: Some(std::time::Duration::from_secs(LINEARIZABLE_TIMEOUT_S)),
        interrupt,
        ..linear::Options::default()
    };
    let report = match linear::check_history(model, Value::Nil, &raw, &options) {
        Ok(report) => report,
        Err(e) => {
            let detail = format!(
                "the {} model cannot read this service's operations (history event {}: {}); expected a model that fits them",
                model.name(),
                e.line,
                e.message
            );
            return CheckResult::new(name, Verdict::Unknown, detail);
        }
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

/// A property the family's observers judged during the run, by when it
/// must hold. `within` is the bound of an eventually property.
pub fn property(
    name: &str,
    when: When,
    within: Option<Dur>,
    findings: &Findings,
    recover_at_ns: Option<u64>,
) -> CheckResult {
    let shown = match within {
        Some(w) => format!("{name}(within: {w})"),
        None => name.to_string(),
    };
    match when {
        When::Always | When::AtEnd => held(shown, when, findings.violation(name), findings.evidence(name)),
        When::Eventually => {
            let within = within.expect("an eventually property has a bound");
            let (reached, evidence) = (findings.reached_after_heal(name), findings.evidence(name));
            eventually(shown, within, reached, evidence, recover_at_ns)
        }
        When::Sometimes => sometimes(shown, findings.reached_at(name), findings.evidence(name)),
    }
}

/// Nothing observed it: never `pass`.
fn never_evaluated(shown: String) -> CheckResult {
    CheckResult::new(shown, Verdict::Unknown, "never evaluated: nothing observed it")
}

/// An always or at-the-end property: its first violation, or what held.
fn held(shown: String, when: When, violation: Option<&Violation>, evidence: Option<&str>) -> CheckResult {
    debug_assert!(matches!(when, When::Always | When::AtEnd));
    match (violation, evidence) {
        (Some(v), _) => {
            let nodes: Vec<String> = v.nodes.iter().map(ToString::to_string).collect();
            let who = if nodes.is_empty() {
                String::new()
            } else {
                format!(" [{}]", nodes.join(", "))
            };
            let at = v.at_ns as f64 / 1e9;
            CheckResult::new(shown, Verdict::Fail, format!("at {at:.6}s{who}: {}", v.detail)).at(v.at_ns)
        }
        (None, Some(held)) => {
            let lead = if when == When::Always {
                "held throughout"
            } else {
                "held at the end"
            };
            let detail = if held.is_empty() {
                lead.to_string()
            } else {
                format!("{lead}: {held}")
            };
            CheckResult::new(shown, Verdict::Pass, detail)
        }
        (None, None) => never_evaluated(shown),
    }
}

/// A sometimes property passes either way; whether it was seen is what a
/// sweep counts.
fn sometimes(shown: String, reached: Option<&(u64, String)>, evidence: Option<&str>) -> CheckResult {
    match (reached, evidence) {
        (Some((t, detail)), _) => {
            let at = *t as f64 / 1e9;
            CheckResult::new(shown, Verdict::Pass, format!("seen at {at:.6}s: {detail}")).seen(true)
        }
        (None, Some(instead)) => {
            CheckResult::new(shown, Verdict::Pass, format!("not seen in this run: {instead}")).seen(false)
        }
        (None, None) => never_evaluated(shown).seen(false),
    }
}

/// Reached within `within` of the heal, or not.
fn eventually(
    shown: String,
    within: Dur,
    reached: Option<&(u64, String)>,
    evidence: Option<&str>,
    recover_at_ns: Option<u64>,
) -> CheckResult {
    let Some(heal) = recover_at_ns else {
        return CheckResult::new(shown, Verdict::Unknown, "the run ended before the recovery phase began");
    };
    let heal_s = heal as f64 / 1e9;
    match (reached, evidence) {
        (Some((t, detail)), _) if t.saturating_sub(heal) <= within.0 => CheckResult::new(
            shown,
            Verdict::Pass,
            format!("{detail} {} after the heal at {heal_s:.3}s", elapsed(t - heal)),
        ),
        (Some((t, detail)), _) => CheckResult::new(
            shown,
            Verdict::Fail,
            format!(
                "{detail} only {} after the heal at {heal_s:.3}s; allowed {within}",
                elapsed(t - heal)
            ),
        )
        .at(heal + within.0),
        (None, Some(instead)) => CheckResult::new(
            shown,
            Verdict::Fail,
            format!("not reached after the heal at {heal_s:.3}s: {instead}"),
        )
        .at(heal + within.0),
        (None, None) => never_evaluated(shown),
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

/// Node code that panicked is a protocol bug.
pub fn no_panic(outcome: &RunOutcome) -> CheckResult {
    match &outcome.panic {
        // A panic ends the run.
        Some(message) => CheckResult::new(
            "NoPanic",
            Verdict::Fail,
            format!("the protocol's code panicked: {message}"),
        )
        .at(outcome.end_ns),
        None => CheckResult::new("NoPanic", Verdict::Pass, "no node panicked"),
    }
}

/// A run that its budget stopped early could not decide what it did not
/// reach: `unknown`, naming the budget and when it ran out. `None` for a
/// run that ran its full length.
pub fn budget(outcome: &RunOutcome) -> Option<CheckResult> {
    let spent = outcome.budget_spent?;
    let name = format!("Budget({})", spent.resource.as_str());
    Some(CheckResult::new(name, Verdict::Unknown, spent.to_string()).at(spent.at_ns))
}

/// A check's result on a run its budget stopped early. A failure stands if
/// the run got to it: a violation, or a deadline that passed before the
/// stop. A deadline after the stop, or a judgment of the end (`at_end`),
/// which the run never had, is `unknown`.
pub fn cut_short(result: CheckResult, spent: &BudgetSpent, at_end: bool) -> CheckResult {
    let unreached = result.verdict == Verdict::Fail && result.at_ns.is_some_and(|t| t > spent.at_ns);
    if !(at_end || unreached) || result.verdict == Verdict::Unknown {
        return result;
    }
    let at = spent.at_ns as f64 / 1e9;
    let why = if at_end {
        "judges the end of the run"
    } else {
        "could only fail later"
    };
    let detail = format!(
        "the run stopped at {at:.6}s on its {} budget, and this check {why}; by then: {}",
        spent.resource.as_str(),
        result.detail
    );
    CheckResult {
        verdict: Verdict::Unknown,
        detail,
        at_ns: None,
        exposed_by: None,
        ..result
    }
}

/// After the heal, every kind of operation the workload issues recovers:
/// for each (`get`, `put`, ... as the history's calls name them), some
/// operation of that kind called at or after the heal completes ok within
/// `within` of the kind's first call after the heal (not of the heal
/// itself: a kind the workload happens to call late is not late). Judged per kind
/// because a service that never answers one kind (every read times out,
/// and drops out of the linearizability search as indeterminate) is not
/// available, however well the other kinds do. Unknown if nothing was
/// invoked after the heal, or a kind that never completed was first
/// invoked too close to the run's end (`end_ns`) to tell.
pub fn recovers(history: &History, recover_at_ns: Option<u64>, within: Dur, end_ns: u64) -> CheckResult {
    let name = format!("Recovers(within: {within})");
    let Some(heal) = recover_at_ns else {
        return CheckResult::new(name, Verdict::Unknown, "the run ended before the recovery phase began");
    };
    let kinds = recoveries(history, heal);
    let heal_s = heal as f64 / 1e9;
    if kinds.is_empty() {
        let detail = format!("no operation was invoked after the heal at {heal_s:.3}s (the workload's ops were spent)");
        return CheckResult::new(name, Verdict::Unknown, detail);
    }
    let judged: Vec<(Verdict, String, u64)> = kinds.iter().map(|(f, k)| k.judge(f, heal, within, end_ns)).collect();
    let verdict = judged.iter().map(|j| j.0).max().expect("some kind");
    let said: Vec<&str> = judged.iter().filter(|j| j.0 == verdict).map(|j| j.1.as_str()).collect();
    let detail = match verdict {
        Verdict::Pass => format!(
            "after the heal at {heal_s:.3}s, each kind's first ok after its first call: {}",
            said.join(", ")
        ),
        _ => format!("after the heal at {heal_s:.3}s: {}", said.join("; ")),
    };
    let result = CheckResult::new(name, verdict, detail);
    match verdict {
        Verdict::Fail => {
            let failed = judged.iter().filter(|j| j.0 == Verdict::Fail);
            result.at(failed.map(|j| j.2).min().expect("a kind failed"))
        }
        _ => result,
    }
}

/// One kind of operation after the heal.
#[derive(Default)]
struct Recovery {
    /// Operations of the kind invoked at or after the heal.
    invoked: u64,
    /// The first such invocation.
    first_invoke_ns: u64,
    /// The first ok among them.
    first_ok_ns: Option<u64>,
}

impl Recovery {
    /// (verdict, what to say, the deadline) for kind `f`; times are
    /// counted from the kind's first call after the heal.
    fn judge(&self, f: &str, heal: u64, within: Dur, end_ns: u64) -> (Verdict, String, u64) {
        debug_assert!(self.invoked > 0 && self.first_invoke_ns >= heal);
        let first = self.first_invoke_ns;
        let deadline = first.saturating_add(within.0);
        match self.first_ok_ns {
            Some(t) if t <= deadline => (Verdict::Pass, format!("{f} {}", elapsed(t - first)), deadline),
            Some(t) => (
                Verdict::Fail,
                format!(
                    "{f} first ok came {} after its first call; allowed {within}",
                    elapsed(t - first)
                ),
                deadline,
            ),
            None if deadline > end_ns => (
                Verdict::Unknown,
                format!(
                    "{f} was first called {} before the end, too late to tell",
                    elapsed(end_ns.saturating_sub(first))
                ),
                deadline,
            ),
            None => (
                Verdict::Fail,
                format!(
                    "none of the {} {f} operations called after the heal completed ok",
                    self.invoked
                ),
                deadline,
            ),
        }
    }
}

/// Each kind of operation invoked at or after `heal`, by its call's name.
fn recoveries(history: &History, heal: u64) -> BTreeMap<&str, Recovery> {
    let mut kinds: BTreeMap<&str, Recovery> = BTreeMap::new();
    let mut kind_of: BTreeMap<u64, &str> = BTreeMap::new();
    for e in &history.events {
        match (e.kind, &e.input) {
            (EventKind::Invoke, Some(call)) if e.time_ns >= heal => {
                let k = kinds.entry(call.f.as_str()).or_default();
                if k.invoked == 0 {
                    k.first_invoke_ns = e.time_ns;
                }
                k.invoked += 1;
                kind_of.insert(e.op, call.f.as_str());
            }
            (EventKind::Ok, _) => {
                if let Some(k) = kind_of.get(&e.op).and_then(|f| kinds.get_mut(f)) {
                    k.first_ok_ns = Some(k.first_ok_ns.map_or(e.time_ns, |t| t.min(e.time_ns)));
                }
            }
            _ => {}
        }
    }
    kinds
}

/// Two runs of the same scenario and seed must record the same trace; on a
/// mismatch, the detail names the first event that differs.
pub fn determinism(first: &RunOutcome, second: &RunOutcome) -> CheckResult {
    let name = "Determinism".to_string();
    match crate::trace::first_difference(first.trace.text(), second.trace.text()) {
        // A payload's hash covers what its text may leave out (a Raft
        // append's entries): the same text with other hashes differs too.
        None if first.trace.hash() != second.trace.hash() => CheckResult::new(
            name,
            Verdict::Fail,
            format!(
                "the runs' traces read alike but hash differently ({} and {}): a message or timer differs in what its trace text leaves out",
                first.trace.hash_hex(),
                second.trace.hash_hex()
            ),
        ),
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

/// How one seed ended, against what its scenario expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// Every check passed.
    Passed,
    /// Only checks the scenario expects to fail failed (or could not
    /// decide): the bug it demonstrates showed.
    ExpectedFailure,
    /// A check outside the expected list failed.
    Failed,
    /// Nothing failed unexpectedly, but a check could not decide.
    Unknown,
}

/// A seed's checks that did not pass, against the checks expected to fail.
pub fn classify(not_passed: &[(String, Verdict)], expected: &[String]) -> Expectation {
    let unexpected = |v: Verdict| not_passed.iter().any(|(name, x)| *x == v && !expected.contains(name));
    if unexpected(Verdict::Fail) {
        Expectation::Failed
    } else if not_passed
        .iter()
        .any(|(name, v)| *v == Verdict::Fail && expected.contains(name))
    {
        Expectation::ExpectedFailure
    } else if unexpected(Verdict::Unknown) {
        Expectation::Unknown
    } else {
        Expectation::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::{Call, NodeId};
    use crate::history::Event;

    fn ev(kind: EventKind, op: u64, time_ns: u64) -> Event {
        Event {
            kind,
            op,
            process: 0,
            client: 0,
            time_ns,
            input: (kind == EventKind::Invoke).then(|| Call::new("get").key(Value::from("k"))),
            output: (kind == EventKind::Ok).then_some(Value::Nil),
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
        let end = 10_000;
        let h = history(&[(Invoke, 1, 50), (Invoke, 2, 100), (Ok, 1, 120), (Ok, 2, 150)]);
        assert_eq!(recovers(&h, Some(100), Dur(60), end).verdict, Verdict::Pass);
        assert_eq!(
            recovers(&h, Some(100), Dur(40), end).verdict,
            Verdict::Fail,
            "only op 2 counts, 50ns after"
        );
        let h = history(&[(Invoke, 1, 50), (Ok, 1, 120), (Invoke, 2, 130), (Info, 2, 200)]);
        assert_eq!(recovers(&h, Some(100), Dur(1_000), end).verdict, Verdict::Fail);
        assert_eq!(recovers(&h, None, Dur(1_000), end).verdict, Verdict::Unknown);
        assert_eq!(
            recovers(&h, Some(100), Dur(1_000), 1_000).verdict,
            Verdict::Unknown,
            "invoked 870ns before the end, it had until 1130ns"
        );
        let h = history(&[(Invoke, 1, 50), (Ok, 1, 120)]);
        assert_eq!(
            recovers(&h, Some(100), Dur(1_000), end).verdict,
            Verdict::Unknown,
            "nothing to judge"
        );
    }

    /// A run its budget stopped at 1000ns: only what it got to stands.
    #[test]
    fn a_run_cut_short_keeps_the_failures_it_reached_and_no_others() {
        use EventKind::*;
        let spent = BudgetSpent {
            resource: crate::world::Resource::Events,
            used: 11,
            limit: 10,
            at_ns: 1_000,
        };
        let h = history(&[(Invoke, 1, 50), (Info, 1, 900)]);
        let reached = recovers(&h, Some(10), Dur(500), 10_000);
        assert_eq!(
            cut_short(reached.clone(), &spent, false),
            reached,
            "its deadline passed"
        );
        let unreached = cut_short(recovers(&h, Some(10), Dur(5_000), 10_000), &spent, false);
        assert_eq!((unreached.verdict, unreached.at_ns), (Verdict::Unknown, None));
        assert!(
            unreached.detail.contains("stopped at 0.000001s on its events budget"),
            "{unreached:?}"
        );
        let held = CheckResult::new("P", Verdict::Pass, "held throughout");
        assert_eq!(cut_short(held.clone(), &spent, false), held);
        let end = cut_short(held, &spent, true);
        assert_eq!(end.verdict, Verdict::Unknown, "the run had no end to judge");
        let violated = CheckResult::new("P", Verdict::Fail, "broken").at(999);
        assert_eq!(cut_short(violated.clone(), &spent, false), violated);
    }

    #[test]
    fn recovers_fails_a_service_that_never_answers_one_kind() {
        use EventKind::*;
        let mut h = history(&[(Invoke, 1, 100), (Ok, 1, 110), (Invoke, 3, 130), (Ok, 3, 140)]);
        let put = Call::new("put").key(Value::from("k")).value(Value::from("v"));
        for (op, t) in [(2, 105), (4, 135)] {
            let mut invoke = ev(Invoke, op, t);
            invoke.input = Some(put.clone());
            h.events.push(invoke);
            h.events.push(ev(Info, op, t + 500));
        }
        h.events.sort_by_key(|e| e.time_ns);
        let result = recovers(&h, Some(100), Dur(100), 10_000);
        assert_eq!(result.verdict, Verdict::Fail, "{}", result.detail);
        assert!(
            result
                .detail
                .contains("none of the 2 put operations called after the heal completed ok"),
            "{}",
            result.detail
        );
        assert_eq!(result.at_ns, Some(205), "the put deadline: first put at 105 + 100");
        let gets_only = History {
            events: h.events.iter().filter(|e| e.op % 2 == 1).cloned().collect(),
        };
        let result = recovers(&gets_only, Some(100), Dur(100), 10_000);
        assert_eq!(result.verdict, Verdict::Pass, "{}", result.detail);
        assert!(result.detail.contains("first call: get 0.010us"), "{}", result.detail);
    }

    #[test]
    fn property_verdicts_follow_when_they_must_hold() {
        let mut f = Findings::default();
        let verdict = |f: &Findings, name, when, within| property(name, when, within, f, Some(1_000)).verdict;
        assert_eq!(
            verdict(&f, "Safety", When::Always, None),
            Verdict::Unknown,
            "never evaluated"
        );
        f.evaluated("Safety", "3 terms");
        assert_eq!(verdict(&f, "Safety", When::Always, None), Verdict::Pass);
        f.at(500);
        f.violated("Safety", vec![NodeId(0), NodeId(2)], "two leaders");
        let failed = property("Safety", When::Always, None, &f, None);
        assert_eq!((failed.verdict, failed.at_ns), (Verdict::Fail, Some(500)));
        assert!(failed.detail.contains("[n0, n2]: two leaders"), "{}", failed.detail);
        let within = Some(Dur(100));
        assert_eq!(verdict(&f, "Leader", When::Eventually, within), Verdict::Unknown);
        f.evaluated("Leader", "no leader");
        f.reached("Leader", "before the heal");
        assert_eq!(
            verdict(&f, "Leader", When::Eventually, within),
            Verdict::Fail,
            "found in review: a leader before the heal does not count"
        );
        f.recovery_begins(1_000);
        f.at(1_050);
        f.reached("Leader", "n1 led");
        assert_eq!(verdict(&f, "Leader", When::Eventually, within), Verdict::Pass);
        assert_eq!(verdict(&f, "Leader", When::Eventually, Some(Dur(10))), Verdict::Fail);
        let sometimes = property("Deposed", When::Sometimes, None, &f, None);
        assert_eq!((sometimes.verdict, sometimes.seen), (Verdict::Unknown, Some(false)));
        f.reached("Deposed", "n1 stepped down");
        let sometimes = property("Deposed", When::Sometimes, None, &f, None);
        assert_eq!((sometimes.verdict, sometimes.seen), (Verdict::Pass, Some(true)));
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

    #[test]
    fn a_failure_is_expected_only_when_every_failing_check_is_listed() {
        let expected = ["Linearizable(kv)".to_string()];
        let fail = |n: &str| (n.to_string(), Verdict::Fail);
        let unknown = |n: &str| (n.to_string(), Verdict::Unknown);
        assert_eq!(classify(&[], &expected), Expectation::Passed);
        assert_eq!(
            classify(&[fail("Linearizable(kv)")], &expected),
            Expectation::ExpectedFailure
        );
        assert_eq!(
            classify(&[fail("Linearizable(kv)"), fail("NoPanic")], &expected),
            Expectation::Failed
        );
        assert_eq!(classify(&[unknown("Linearizable(kv)")], &expected), Expectation::Passed);
        assert_eq!(
            classify(&[unknown("Recovers(within: 1s)")], &expected),
            Expectation::Unknown
        );
        assert_eq!(classify(&[fail("Linearizable(kv)")], &[]), Expectation::Failed);
    }
}
