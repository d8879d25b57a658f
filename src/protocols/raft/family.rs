//! Raft as a family: `protocol: Raft(...)` in a scenario.

use super::config::{self, RaftConfig};
use super::properties::{Invariants, PROPERTIES};
use super::{Config, Raft};
use crate::core::NodeId;
use crate::property::PropertyDef;
use crate::protocols::{Family, Setup};
use crate::scenario::{Invalid, Scenario};
use crate::world::Hooks;

/// The Raft key-value store.
pub struct RaftFamily;

impl Family for RaftFamily {
    const NAME: &'static str = "Raft";
    const ABOUT: &'static str =
        "a replicated key-value store on Raft: linearizable through crashes, partitions and drift within its bound";
    type Config = RaftConfig;
    type Node = Raft;

    fn validate(config: &RaftConfig, scenario: &Scenario) -> Result<(), Invalid> {
        config::validate(config, scenario)
    }

    fn node(config: &RaftConfig, id: NodeId, _nodes: u32) -> Raft {
        Raft::new(id, Config::from(config))
    }

    /// Client sessions in the state machine apply a retried request once.
    fn dedupes_retries(_config: &RaftConfig) -> bool {
        true
    }

    fn properties() -> &'static [PropertyDef] {
        PROPERTIES
    }

    fn hooks(_config: &RaftConfig, setup: &Setup<'_>) -> Hooks<Raft> {
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

    fn bugs(config: &RaftConfig) -> Vec<&'static str> {
        config.bugs.iter().map(|b| b.name()).collect()
    }

    fn without_bugs(config: &RaftConfig) -> RaftConfig {
        RaftConfig {
            bugs: Vec::new(),
            ..config.clone()
        }
    }
}
