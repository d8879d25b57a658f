//! Multi-Paxos as a family: `protocol: MultiPaxos(...)` in a scenario.

use super::config::{self, PaxosConfig};
use super::properties::{Invariants, PROPERTIES};
use super::{Config, Paxos};
use crate::core::NodeId;
use crate::property::PropertyDef;
use crate::protocols::{Family, Setup};
use crate::scenario::{Invalid, Scenario};
use crate::world::Hooks;

/// The Multi-Paxos key-value store.
pub struct MultiPaxos;

impl Family for MultiPaxos {
    const NAME: &'static str = "MultiPaxos";
    const ABOUT: &'static str =
        "a replicated key-value store on Multi-Paxos: one value chosen per slot, linearizable through crashes, partitions and drift";
    type Config = PaxosConfig;
    type Node = Paxos;

    fn validate(config: &PaxosConfig, scenario: &Scenario) -> Result<(), Invalid> {
        config::validate(config, scenario)
    }

    fn node(config: &PaxosConfig, id: NodeId, _nodes: u32) -> Paxos {
        Paxos::new(id, Config::from(config))
    }

    /// Client sessions in the replicated state apply a retried request once.
    fn dedupes_retries(_config: &PaxosConfig) -> bool {
        true
    }

    fn properties() -> &'static [PropertyDef] {
        PROPERTIES
    }

    fn hooks(_config: &PaxosConfig, setup: &Setup<'_>) -> Hooks<Paxos> {
        let mut hooks = Hooks::default();
        if !setup.requested.is_empty() {
            let invariants = Invariants::for_properties(setup.nodes, setup.requested);
            hooks.observers.push(Box::new(invariants));
        }
        hooks
    }

    fn planted_bugs() -> &'static [&'static str] {
        &config::BUG_NAMES
    }

    fn bugs(config: &PaxosConfig) -> Vec<&'static str> {
        config.bugs.iter().map(|b| b.name()).collect()
    }

    fn without_bugs(config: &PaxosConfig) -> PaxosConfig {
        PaxosConfig {
            bugs: Vec::new(),
            ..config.clone()
        }
    }
}
