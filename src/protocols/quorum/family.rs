//! The quorum store as a family: `protocol: Quorum(...)` in a scenario.

use super::config::{self, QuorumConfig};
use super::properties::{self, CONVERGES, KEEPS_SIBLINGS, PROPERTIES};
use super::Quorum;
use crate::core::NodeId;
use crate::property::PropertyDef;
use crate::protocols::{Family, Setup};
use crate::scenario::{Invalid, Scenario};
use crate::world::Hooks;

/// The Dynamo-style quorum-replicated key-value store.
pub struct QuorumFamily;

impl Family for QuorumFamily {
    const NAME: &'static str = "Quorum";
    const ABOUT: &'static str =
        "a Dynamo-style key-value store on N/R/W quorums: regular reads when R+W>N, stale ones otherwise; replicas converge after the heal";
    type Config = QuorumConfig;
    type Node = Quorum;

    fn validate(config: &QuorumConfig, scenario: &Scenario) -> Result<(), Invalid> {
        config::validate(config, scenario)
    }

    fn node(config: &QuorumConfig, id: NodeId, nodes: u32) -> Quorum {
        Quorum::new(id, nodes, config)
    }

    fn properties() -> &'static [PropertyDef] {
        PROPERTIES
    }

    fn hooks(config: &QuorumConfig, setup: &Setup<'_>) -> Hooks<Quorum> {
        let mut hooks = Hooks::default();
        if setup.wants(CONVERGES) {
            hooks
                .observers
                .push(Box::new(properties::converges(setup.nodes, config.n)));
        }
        if setup.wants(KEEPS_SIBLINGS) {
            let observer = properties::KeepsSiblings::new(setup.nodes, config.n);
            hooks.observers.push(Box::new(observer));
        }
        hooks
    }

    fn planted_bugs() -> &'static [&'static str] {
        &config::BUG_NAMES
    }

    fn bugs(config: &QuorumConfig) -> Vec<&'static str> {
        config.bugs.iter().map(|b| b.name()).collect()
    }

    fn without_bugs(config: &QuorumConfig) -> QuorumConfig {
        QuorumConfig {
            bugs: Vec::new(),
            ..config.clone()
        }
    }
}
