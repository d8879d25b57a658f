//! `protocol: MultiPaxos(...)`: the fields a scenario sets, their
//! defaults, and what makes no sense.

use crate::scenario::validate::{election_timers, max_batch};
use crate::scenario::{Dur, Invalid, Scenario};
use serde::Deserialize;

/// The fields of `protocol: MultiPaxos(...)`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct PaxosConfig {
    /// Minimum time without word from a leader before a node runs phase 1;
    /// each timeout is drawn from `[min, 2 min)` on the node's own clock.
    pub election_timeout: Dur,
    /// How often a leader announces what is chosen and resends
    /// unanswered proposals. Shorter than `election_timeout`.
    pub heartbeat: Dur,
    /// Most chosen values in one catch-up message, and most proposals
    /// resent to one node per heartbeat.
    pub max_batch: u32,
    /// Deliberate mistakes to plant; none by default.
    pub bugs: Vec<Bug>,
}

impl Default for PaxosConfig {
    fn default() -> Self {
        PaxosConfig {
            election_timeout: Dur::from_millis(150),
            heartbeat: Dur::from_millis(50),
            max_batch: 64,
            bugs: Vec::new(),
        }
    }
}

/// Planted bugs, for showing that the checks catch real mistakes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub enum Bug {
    /// The acceptor answers Prepare and Accept before its promise or
    /// accepted value is synced; a background flush syncs (epaxos#28).
    AnswerBeforeDurable,
    /// A restarted leader takes back the ballot it led with from its own
    /// record and proposes new commands from its first unchosen slot,
    /// without a fresh ballot or phase 1 (phxpaxos#145).
    ReuseBallotAfterRestart,
    /// A new leader re-proposes its own acceptor's value (else the first
    /// one reported) instead of the highest-ballot value of phase 1.
    ProposeOwnValue,
}

impl Bug {
    /// Every bug Multi-Paxos can plant.
    pub const ALL: [Bug; 3] = [
        Bug::AnswerBeforeDurable,
        Bug::ReuseBallotAfterRestart,
        Bug::ProposeOwnValue,
    ];

    /// As scenarios write it.
    pub const fn name(self) -> &'static str {
        match self {
            Bug::AnswerBeforeDurable => "AnswerBeforeDurable",
            Bug::ReuseBallotAfterRestart => "ReuseBallotAfterRestart",
            Bug::ProposeOwnValue => "ProposeOwnValue",
        }
    }
}

/// Every bug's name, as scenarios write it.
pub const BUG_NAMES: [&str; 3] = crate::protocols::bug_names!(Bug);

/// What serde cannot check: timers, and the heartbeat against the timeout.
pub fn validate(c: &PaxosConfig, _scenario: &Scenario) -> Result<(), Invalid> {
    election_timers(c.election_timeout, c.heartbeat)?;
    max_batch(c.max_batch)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_is_named_as_scenarios_write_it() {
        for bug in Bug::ALL {
            let parsed: Bug = ron::from_str(bug.name()).unwrap();
            assert_eq!(parsed, bug);
        }
        assert_eq!(BUG_NAMES.len(), Bug::ALL.len());
    }
}
