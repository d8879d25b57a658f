//! A protocol family: everything one protocol brings, behind one trait.

use crate::core::{Node, NodeId};
use crate::env::rng::{stream, SimRng};
use crate::fault::FaultKind;
use crate::property::PropertyDef;
use crate::scenario::{Invalid, Scenario};
use crate::workload::Workload;
use crate::world::Hooks;
use serde::de::DeserializeOwned;
use std::fmt::Debug;

/// What a family knows when it sets up a run's hooks.
pub struct Setup<'a> {
    /// How many nodes.
    pub nodes: u32,
    /// The properties the scenario asks for (names from
    /// [`Family::properties`]).
    pub requested: &'a [&'static str],
    /// The run's seed.
    pub seed: u64,
}

impl Setup<'_> {
    /// The random stream called `name` for this run's hooks (stream
    /// `hook/<name>` of the seed): a network rule or an adversary draws
    /// from one of its own, so it shifts no other draw.
    pub fn stream(&self, name: &str) -> SimRng {
        stream(self.seed, &format!("hook/{name}"))
    }

    /// Whether the scenario asks for `property`.
    pub fn wants(&self, property: &str) -> bool {
        self.requested.contains(&property)
    }
}

/// A protocol family: its state machine, its config (the fields of
/// `protocol: Name(...)` in a scenario), the properties it offers, its
/// planted bugs and its fault hooks. A built-in family is one folder plus
/// one line in [`super::Registry::builtin`]; a family in your own crate is
/// registered the same way (`Registry::builtin().with::<MyFamily>()`) and
/// gets everything a built-in one gets.
pub trait Family: Send + Sync + 'static {
    /// As written in scenarios: `protocol: Raft(...)`.
    const NAME: &'static str;
    /// One line for people: what it is and what it guarantees.
    const ABOUT: &'static str;

    /// The fields of `protocol: Name(...)`. Parsed from the scenario as an
    /// anonymous struct (`(heartbeat: "20ms")`; a bare `Name` is `()`), so
    /// give every field a default (`#[serde(default)]`) and deny unknown
    /// ones (`#[serde(deny_unknown_fields)]`).
    type Config: DeserializeOwned + Clone + Debug + Send + Sync + 'static;

    /// The state machine on each node.
    type Node: Node<Service: Workload>;

    /// Checks the config against the scenario: what serde cannot say (a
    /// heartbeat shorter than the election timeout, a node count). Paths
    /// start at the scenario's root: `path!["protocol", "heartbeat"]`.
    /// Check each heartbeat or timeout with
    /// [`crate::scenario::validate::timer`], which refuses one too short
    /// to make sense, as the built-in families do.
    fn validate(_config: &Self::Config, _scenario: &Scenario) -> Result<(), Invalid> {
        Ok(())
    }

    /// A fresh node `id` of `nodes`: at boot and at every restart (then it
    /// recovers in `on_start` from what its disk kept).
    fn node(config: &Self::Config, id: NodeId, nodes: u32) -> Self::Node;

    /// Whether a request resent with the same id is applied at most once:
    /// only then may a scenario's workload use `retry`.
    fn dedupes_retries(_config: &Self::Config) -> bool {
        false
    }

    /// The properties this family offers, for scenarios' `checks`.
    fn properties() -> &'static [PropertyDef] {
        &[]
    }

    /// Observers for the properties the scenario asks for, and any fault
    /// hooks (an adversary, disk hooks, network rules) for this run.
    fn hooks(_config: &Self::Config, _setup: &Setup<'_>) -> Hooks<Self::Node> {
        Hooks::default()
    }

    /// Every bug this family can plant, by name as scenarios write it.
    /// Conformance asks for a scenario that shows each one.
    fn planted_bugs() -> &'static [&'static str] {
        &[]
    }

    /// The planted bugs this config turns on, by name.
    fn bugs(_config: &Self::Config) -> Vec<&'static str> {
        Vec::new()
    }

    /// The same config with every planted bug off.
    fn without_bugs(config: &Self::Config) -> Self::Config {
        config.clone()
    }

    /// Fault kinds this family's hooks cause, for the summaries and the
    /// pictures.
    fn fault_kinds() -> &'static [FaultKind] {
        &[]
    }
}
