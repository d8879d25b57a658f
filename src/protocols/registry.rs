//! The registry of families, and scenarios bound to theirs.
//!
//! [`Registry::builtin`] is the one place that lists the built-in
//! families; everything else finds a family by the name a scenario gives.
//! Binding a scenario to its family parses the family's config, checks it,
//! resolves the scenario's `checks` against what the family offers, and
//! checks the workload against the service the family serves.

use super::checks::{self, Check};
use super::family::{Family, Setup};
use crate::check::CheckResult;
use crate::core::{Node, NodeId, Service};
use crate::fault::FaultKinds;
use crate::property::PropertyDef;
use crate::scenario::{self, Invalid, LoadedScenario, Scenario, ScenarioError};
use crate::workload::Workload;
use crate::world::{self, RunOptions, RunOutcome};
use std::marker::PhantomData;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A family behind a trait object: what the registry and the CLI need.
pub trait DynFamily: Send + Sync {
    /// As written in scenarios.
    fn name(&self) -> &'static str;
    /// One line for people.
    fn about(&self) -> &'static str;
    /// The properties it offers.
    fn properties(&self) -> &'static [PropertyDef];
    /// The fault kinds its hooks cause.
    fn fault_kinds(&self) -> &'static [crate::fault::FaultKind];
    /// Every bug it can plant.
    fn planted_bugs(&self) -> &'static [&'static str];
    /// Parses and checks the family's config in `loaded`.
    fn config(&self, loaded: &LoadedScenario) -> Result<Arc<dyn Runner>, ScenarioError>;
}

/// A family with its config: runs scenarios.
pub trait Runner: Send + Sync {
    /// One run, with observers for the `requested` properties.
    fn run(&self, scenario: &Scenario, seed: u64, options: &RunOptions, requested: &[&'static str]) -> RunOutcome;
    /// Whether retried requests apply once.
    fn dedupes_retries(&self) -> bool;
    /// The planted bugs this config turns on.
    fn bugs(&self) -> Vec<&'static str>;
    /// The same family with every planted bug off.
    fn without_bugs(&self) -> Arc<dyn Runner>;
    /// Checks the workload against the service the family serves.
    fn validate_workload(&self, spec: &scenario::WorkloadSpec) -> Result<(), Invalid>;
    /// What the service's calls look like to a checker.
    fn service(&self) -> checks::ServiceShape;
}

struct Entry<F>(PhantomData<fn() -> F>);

struct Configured<F: Family> {
    config: F::Config,
}

impl<F: Family> DynFamily for Entry<F> {
    fn name(&self) -> &'static str {
        F::NAME
    }

    fn about(&self) -> &'static str {
        F::ABOUT
    }

    fn properties(&self) -> &'static [PropertyDef] {
        F::properties()
    }

    fn fault_kinds(&self) -> &'static [crate::fault::FaultKind] {
        F::fault_kinds()
    }

    fn planted_bugs(&self) -> &'static [&'static str] {
        F::planted_bugs()
    }

    fn config(&self, loaded: &LoadedScenario) -> Result<Arc<dyn Runner>, ScenarioError> {
        let config: F::Config = loaded.spec.protocol.parse_args(&loaded.file)?;
        F::validate(&config, &loaded.spec).map_err(|e| loaded.invalid(e))?;
        Ok(Arc::new(Configured::<F> { config }))
    }
}

impl<F: Family> Runner for Configured<F> {
    fn run(&self, scenario: &Scenario, seed: u64, options: &RunOptions, requested: &[&'static str]) -> RunOutcome {
        let config = self.config.clone();
        let nodes = scenario.nodes;
        let setup = Setup { nodes, requested, seed };
        let hooks = F::hooks(&self.config, &setup);
        let factory = move |id: NodeId| F::node(&config, id, nodes);
        world::run_with(scenario, seed, options, factory, hooks)
    }

    fn dedupes_retries(&self) -> bool {
        F::dedupes_retries(&self.config)
    }

    fn bugs(&self) -> Vec<&'static str> {
        F::bugs(&self.config)
    }

    fn without_bugs(&self) -> Arc<dyn Runner> {
        Arc::new(Configured::<F> {
            config: F::without_bugs(&self.config),
        })
    }

    fn validate_workload(&self, spec: &scenario::WorkloadSpec) -> Result<(), Invalid> {
        <<F::Node as Node>::Service as Workload>::validate(spec)
    }

    fn service(&self) -> checks::ServiceShape {
        type S<F> = <<F as Family>::Node as Node>::Service;
        checks::ServiceShape {
            functions: <S<F> as Service>::FUNCTIONS,
            keyed: <S<F> as Service>::KEYED,
        }
    }
}

/// The families a `simulate` binary knows.
pub struct Registry {
    families: Vec<Box<dyn DynFamily>>,
}

impl Registry {
    /// No family at all.
    pub fn empty() -> Registry {
        Registry { families: Vec::new() }
    }

    /// The built-in families. This is the one list of them.
    pub fn builtin() -> Registry {
        Registry::empty()
            .with::<super::single::Single>()
            .with::<super::primary_backup::AsyncPrimaryBackup>()
            .with::<super::raft::RaftFamily>()
            .with::<super::paxos::MultiPaxos>()
            .with::<super::quorum::QuorumFamily>()
    }

    /// Adds family `F`.
    ///
    /// # Panics
    /// If a family of that name is registered already, or `F` offers a
    /// property named like a generic check: scenarios could not tell them
    /// apart.
    pub fn with<F: Family>(mut self) -> Registry {
        assert!(self.get(F::NAME).is_none(), "two families are named {}", F::NAME);
        for p in F::properties() {
            assert!(
                !checks::GENERIC.contains(&p.name),
                "{} offers a property named like the generic check {}",
                F::NAME,
                p.name
            );
        }
        self.families.push(Box::new(Entry::<F>(PhantomData)));
        self
    }

    /// The family a scenario names `name`.
    pub fn get(&self, name: &str) -> Option<&dyn DynFamily> {
        self.families.iter().find(|f| f.name() == name).map(|f| &**f)
    }

    /// Every family, in registration order.
    pub fn families(&self) -> impl Iterator<Item = &dyn DynFamily> {
        self.families.iter().map(|f| &**f)
    }

    /// Reads, parses and binds a scenario file.
    pub fn load(&self, path: &Path) -> Result<Bound, ScenarioError> {
        self.bind(scenario::load(path)?)
    }

    /// Parses and binds scenario text; `file` is only used in messages.
    pub fn parse(&self, file: &str, source: &str) -> Result<Bound, ScenarioError> {
        self.bind(scenario::parse(file, source)?)
    }

    /// Binds a parsed scenario to the family it names.
    pub fn bind(&self, loaded: LoadedScenario) -> Result<Bound, ScenarioError> {
        let protocol = &loaded.spec.protocol;
        let Some(family) = self.get(&protocol.name) else {
            let names: Vec<&str> = self.families.iter().map(|f| f.name()).collect();
            let message = format!(
                "unknown protocol {}; expected one of: {}",
                protocol.name,
                names.join(", ")
            );
            return Err(loaded.invalid(Invalid::at(crate::path!["protocol"], message)));
        };
        let runner = family.config(&loaded)?;
        if let Some(w) = &loaded.spec.workload {
            runner.validate_workload(w).map_err(|e| loaded.invalid(e))?;
            if w.retry.is_some() && !runner.dedupes_retries() {
                let message = format!(
                    "protocol {} does not deduplicate resent requests, so a retry could apply twice; expected no retry field",
                    family.name()
                );
                return Err(loaded.invalid(Invalid::at(crate::path!["workload", "retry"], message)));
            }
        }
        let offered = checks::Offered {
            properties: family.properties(),
            service: runner.service(),
        };
        let resolved = checks::resolve(&loaded, &offered)?;
        let expected = checks::expected(&loaded, &resolved, &offered)?;
        let mut fault_kinds = FaultKinds::default();
        family.fault_kinds().iter().for_each(|k| fault_kinds.add(*k));
        Ok(Bound {
            family: family.name(),
            fault_kinds,
            runner,
            checks: resolved,
            expected,
            loaded,
        })
    }
}

/// A scenario bound to its family: ready to run and to check.
#[derive(Clone)]
pub struct Bound {
    /// The scenario as loaded.
    pub loaded: LoadedScenario,
    /// Its family's name.
    pub family: &'static str,
    /// The checks it asks for, resolved.
    pub checks: Vec<Check>,
    /// The checks a bug demonstration is expected to fail, by name; empty
    /// when every check must pass.
    pub expected: Vec<String>,
    /// The fault kinds its runs may show: the built-in ones and its
    /// family's, whatever else the binary knows.
    pub fault_kinds: FaultKinds,
    runner: Arc<dyn Runner>,
}

impl Bound {
    /// The scenario.
    pub fn spec(&self) -> &Scenario {
        &self.loaded.spec
    }

    /// Runs seed `seed`.
    pub fn run(&self, seed: u64, options: &RunOptions) -> RunOutcome {
        let requested: Vec<&'static str> = self.checks.iter().filter_map(Check::property).collect();
        self.runner.run(&self.loaded.spec, seed, options, &requested)
    }

    /// Every check's verdict on `outcome`: NoPanic first, then Budget if
    /// a budget stopped the run, then the scenario's checks in order.
    pub fn check(&self, outcome: &RunOutcome) -> Vec<CheckResult> {
        self.check_until(outcome, None)
    }

    /// [`Bound::check`], giving up (unknown) on the checks still searching
    /// once `interrupt` is set.
    pub fn check_until(&self, outcome: &RunOutcome, interrupt: Option<&'static AtomicBool>) -> Vec<CheckResult> {
        let mut results = vec![crate::check::no_panic(outcome)];
        results.extend(crate::check::budget(outcome));
        results.extend(self.checks.iter().map(|c| c.judge(outcome, interrupt)));
        results
    }

    /// Seed `seed`'s swarm variant (see [`crate::nemesis::swarm`]): the
    /// same family and checks on a scenario with fault kinds switched off
    /// and rates at extremes. Its text, which a report's repro keeps,
    /// opens with a comment saying what the variant changed.
    pub fn swarm_variant(&self, seed: u64) -> Bound {
        let (spec, what) = crate::nemesis::swarm::variant(self.spec(), seed);
        let source = format!("// {what}\n{}", crate::scenario::write::to_ron(&spec));
        let loaded = LoadedScenario {
            spec,
            source,
            file: self.loaded.file.clone(),
        };
        Bound { loaded, ..self.clone() }
    }

    /// The planted bugs its config turns on.
    pub fn bugs(&self) -> Vec<&'static str> {
        self.runner.bugs()
    }

    /// The same scenario with every planted bug off, expected to pass.
    pub fn without_bugs(&self) -> Bound {
        Bound {
            runner: self.runner.without_bugs(),
            expected: Vec::new(),
            ..self.clone()
        }
    }

    /// Whether the scenario demonstrates a bug (`expect: Fails([..])`),
    /// and still plants it.
    pub fn expects_failure(&self) -> bool {
        !self.expected.is_empty()
    }
}
