//! A scenario's `checks`, resolved against what its family offers: the
//! generic checks every family with clients gets, and the family's own
//! properties. A check the family does not offer is an error at its line
//! and column.

use crate::check::linear::ModelKind;
use crate::check::regular::{self, Which};
use crate::check::{self, CheckResult};
use crate::property::{PropertyDef, When};
use crate::scenario::{Dur, Expect, Invalid, LoadedScenario, Named, ScenarioError};
use crate::world::RunOutcome;
use serde::Deserialize;
use std::sync::atomic::AtomicBool;

/// The generic checks' names.
pub const GENERIC: &[&str] = &["Linearizable", "Recovers", "NoStaleReads", "NoLostWrites"];

/// What a service's calls look like to a checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceShape {
    /// Every function its calls may have (empty: not declared).
    pub functions: &'static [&'static str],
    /// Whether every call has a key.
    pub keyed: bool,
}

/// What a scenario's family offers its checks.
#[derive(Clone, Copy, Debug)]
pub struct Offered {
    /// The family's properties.
    pub properties: &'static [PropertyDef],
    /// The shape of the service it serves.
    pub service: ServiceShape,
}

/// One check a scenario asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// The client history is linearizable for this model.
    Linearizable(ModelKind),
    /// An operation invoked after the heal completes ok within this bound.
    Recovers(Dur),
    /// No read returns a value a completed write had superseded before
    /// it began (see [`check::regular`]).
    NoStaleReads,
    /// The final reads keep every acknowledged write (see
    /// [`check::regular`]); they begin this long after the heal.
    NoLostWrites(Dur),
    /// A property of the family; `within` for an eventually property.
    Property {
        /// Its definition.
        def: PropertyDef,
        /// The bound of an eventually property.
        within: Option<Dur>,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Within {
    within: Dur,
}

#[derive(Deserialize)]
struct Model(ModelKind);

impl Check {
    /// As results and reports name it: `Linearizable(kv)`,
    /// `ElectsLeader(within: 2s)`.
    pub fn name(&self) -> String {
        match self {
            Check::Linearizable(m) => format!("Linearizable({})", m.name()),
            Check::Recovers(within) => format!("Recovers(within: {within})"),
            Check::NoStaleReads | Check::NoLostWrites(_) => self.base_name().to_string(),
            Check::Property { def, within: Some(w) } => format!("{}(within: {w})", def.name),
            Check::Property { def, within: None } => def.name.to_string(),
        }
    }

    /// The name as written without arguments: `Linearizable`.
    pub fn base_name(&self) -> &'static str {
        match self {
            Check::Linearizable(_) => "Linearizable",
            Check::Recovers(_) => "Recovers",
            Check::NoStaleReads => Which::StaleReads.name(),
            Check::NoLostWrites(_) => Which::LostWrites.name(),
            Check::Property { def, .. } => def.name,
        }
    }

    /// The family property it is, if it is one.
    pub fn property(&self) -> Option<&'static str> {
        match self {
            Check::Property { def, .. } => Some(def.name),
            _ => None,
        }
    }

    /// Its verdict on a run; on a run its budget stopped early, only what
    /// the run got to (see [`check::cut_short`]).
    /// `interrupt`, once set, makes a search give up with unknown.
    pub fn judge(&self, outcome: &RunOutcome, interrupt: Option<&'static AtomicBool>) -> CheckResult {
        let result = match self {
            Check::Linearizable(model) => check::linearizable(&outcome.history, *model, interrupt),
            Check::Recovers(within) => {
                check::recovers(&outcome.history, outcome.recover_at_ns, *within, outcome.end_ns)
            }
            Check::NoStaleReads => regular::judge_run(Which::StaleReads, &outcome.history, None),
            Check::NoLostWrites(after) => {
                let finals_ns = outcome.recover_at_ns.map(|heal| heal + after.0);
                regular::judge_run(Which::LostWrites, &outcome.history, finals_ns)
            }
            Check::Property { def, within } => {
                check::property(def.name, def.when, *within, &outcome.findings, outcome.recover_at_ns)
            }
        };
        match &outcome.budget_spent {
            Some(spent) => {
                let at_end = matches!(self, Check::Property { def, .. } if def.when == When::AtEnd)
                    || matches!(self, Check::NoLostWrites(_));
                check::cut_short(result, spent, at_end)
            }
            None => result,
        }
    }
}

/// Resolves every check of the scenario.
pub fn resolve(loaded: &LoadedScenario, offered: &Offered) -> Result<Vec<Check>, ScenarioError> {
    let mut checks: Vec<Check> = Vec::new();
    for (i, named) in loaded.spec.checks.iter().enumerate() {
        let check = resolve_one(loaded, offered, named, crate::path!["checks", i])?;
        if checks.contains(&check) {
            let message = format!("{} is asked for twice; expected each check once", check.name());
            return Err(loaded.invalid(Invalid::at(crate::path!["checks", i], message)));
        }
        checks.push(check);
    }
    Ok(checks)
}

fn resolve_one(
    loaded: &LoadedScenario,
    offered: &Offered,
    named: &Named,
    at: Vec<crate::scenario::locate::Seg>,
) -> Result<Check, ScenarioError> {
    let s = &loaded.spec;
    let err = |message: String| Err(loaded.error_at(&at, message));
    let needs_workload = |what: &str| {
        let message = format!("{what} watches client operations; expected a `workload`");
        s.workload.is_none().then(|| loaded.error_at(&at, message))
    };
    let check = match named.name.as_str() {
        "Linearizable" => {
            if let Some(e) = needs_workload("Linearizable") {
                return Err(e);
            }
            let model = named.parse_args::<Model>(&loaded.file)?.0;
            let shape = offered.service;
            if !shape.functions.is_empty() {
                if let Err(why) = model.reads(shape.functions, shape.keyed) {
                    let message = format!(
                        "Linearizable({}) cannot judge protocol {}'s operations: {why}",
                        model.name(),
                        s.protocol.name
                    );
                    return err(message);
                }
            }
            Check::Linearizable(model)
        }
        "Recovers" => {
            if let Some(e) = needs_workload("Recovers") {
                return Err(e);
            }
            Check::Recovers(within(loaded, named, &at)?)
        }
        "NoStaleReads" | "NoLostWrites" => resolve_regular(loaded, offered, named, &at)?,
        name => match offered.properties.iter().find(|p| p.name == name) {
            Some(def) if def.when == When::Eventually => Check::Property {
                def: *def,
                within: Some(within(loaded, named, &at)?),
            },
            Some(def) if named.is_bare() => Check::Property {
                def: *def,
                within: None,
            },
            Some(def) => {
                return err(format!(
                    "{name} takes no arguments; expected `{name}` alone ({} property)",
                    def.when.as_str()
                ))
            }
            None => return err(not_offered(&s.protocol.name, name, offered.properties)),
        },
    };
    Ok(check)
}

/// `NoStaleReads` or `NoLostWrites`: bare, over a workload of a service
/// whose operations they read; `NoLostWrites` judges the end, after the
/// heal, so it needs a recovery phase.
fn resolve_regular(
    loaded: &LoadedScenario,
    offered: &Offered,
    named: &Named,
    at: &[crate::scenario::locate::Seg],
) -> Result<Check, ScenarioError> {
    let s = &loaded.spec;
    let name = named.name.as_str();
    let which = if name == "NoStaleReads" {
        Which::StaleReads
    } else {
        Which::LostWrites
    };
    let err = |message: String| Err(loaded.error_at(at, message));
    if !named.is_bare() {
        return err(format!("{name} takes no arguments; expected `{name}` alone"));
    }
    if s.workload.is_none() {
        return err(format!("{name} watches client operations; expected a `workload`"));
    }
    let functions = offered.service.functions;
    let unread: Vec<&str> = functions
        .iter()
        .copied()
        .filter(|f| !regular::FUNCTIONS.contains(f))
        .collect();
    if !unread.is_empty() || (!functions.is_empty() && !functions.iter().any(|f| ["get", "read"].contains(f))) {
        return err(format!(
            "{name} cannot judge protocol {}'s operations ({}); expected a key-value service with reads ({})",
            s.protocol.name,
            functions.join(", "),
            regular::FUNCTIONS.join(", ")
        ));
    }
    if which == Which::StaleReads {
        return Ok(Check::NoStaleReads);
    }
    // Validated: final reads need a recovery phase.
    match s.workload.as_ref().and_then(|w| w.final_reads.map(|f| (f, w.timeout))) {
        Some((after, timeout)) => Ok(Check::NoLostWrites(Dur(after.0 + timeout.0))),
        None => err(format!(
            "{name} judges the final reads after the heal; expected `final_reads` in the workload (e.g. final_reads: \"1s\") and a `recover` field"
        )),
    }
}

fn not_offered(protocol: &str, name: &str, offered: &[PropertyDef]) -> String {
    let mut names: Vec<String> = vec![
        "Linearizable(model)".into(),
        "Recovers(within: d)".into(),
        "NoStaleReads".into(),
        "NoLostWrites".into(),
    ];
    names.extend(offered.iter().map(PropertyDef::written));
    format!(
        "{name} is not a check protocol {protocol} offers; expected one of: {}",
        names.join(", ")
    )
}

/// The `within` of an eventually check, which needs a recovery phase at
/// least that long.
fn within(loaded: &LoadedScenario, named: &Named, at: &[crate::scenario::locate::Seg]) -> Result<Dur, ScenarioError> {
    let name = &named.name;
    let Some(recover) = loaded.spec.recover else {
        let message = format!("{name} needs a recovery phase; expected a `recover` field (e.g. recover: \"5s\")");
        return Err(loaded.error_at(at, message));
    };
    let within = named.parse_args::<Within>(&loaded.file)?.within;
    if within > recover {
        let mut at = at.to_vec();
        at.push(crate::scenario::locate::Seg::Field("within"));
        let message =
            format!("within {within} is longer than the recovery phase ({recover}); expected at most {recover}");
        return Err(loaded.error_at(&at, message));
    }
    Ok(within)
}

/// The names of the checks `expect: Fails([..])` lists. Each names one
/// or more of the scenario's checks (by name: all that have it; with its
/// arguments: that one), or `NoPanic`; a sometimes property, which never
/// fails, cannot be expected to.
pub fn expected(loaded: &LoadedScenario, checks: &[Check], offered: &Offered) -> Result<Vec<String>, ScenarioError> {
    let Expect::Fails(list) = &loaded.spec.expect else {
        return Ok(Vec::new());
    };
    if list.is_empty() {
        let message =
            "Fails lists no check; expected the checks this scenario shows failing, e.g. Fails([Linearizable])";
        return Err(loaded.invalid(Invalid::at(crate::path!["expect"], message)));
    }
    let mut names = Vec::new();
    for (i, named) in list.iter().enumerate() {
        let at = crate::path!["expect", 0, i];
        let error = |message: String| loaded.invalid(Invalid::at(at.clone(), message));
        if named.name == "NoPanic" && named.is_bare() {
            names.push("NoPanic".to_string());
            continue;
        }
        let wanted = if named.is_bare() {
            None
        } else {
            Some(resolve_one(loaded, offered, named, at.clone())?)
        };
        let matching: Vec<&Check> = match &wanted {
            None => checks.iter().filter(|c| c.base_name() == named.name).collect(),
            Some(w) => checks.iter().filter(|c| *c == w).collect(),
        };
        if matching.is_empty() {
            let message = format!(
                "{} is not among this scenario's checks; expected one of them",
                named.text()
            );
            return Err(error(message));
        }
        for c in matching {
            if matches!(c, Check::Property { def, .. } if def.when == When::Sometimes) {
                let message = format!(
                    "{} is a sometimes property, which never fails; expected a check that can",
                    c.name()
                );
                return Err(error(message));
            }
            if names.contains(&c.name()) {
                return Err(error(format!("{} is listed twice; expected each check once", c.name())));
            }
            names.push(c.name());
        }
    }
    Ok(names)
}
