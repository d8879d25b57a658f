//! `protocol: Raft(...)`: the fields a scenario sets, their defaults, and
//! what makes no sense.

use crate::path;
use crate::scenario::validate::{election_timers, max_batch, DRIFT_PPM_MAX};
use crate::scenario::{Dur, Invalid, Scenario};
use serde::Deserialize;

/// The fields of `protocol: Raft(...)`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct RaftConfig {
    /// Minimum election timeout; each node draws each timeout from
    /// `[min, 2 min)` on its own clock. At least 1ms.
    pub election_timeout: Dur,
    /// How often a leader sends appends when it has nothing new. At least
    /// 1ms, and shorter than `election_timeout`.
    pub heartbeat: Dur,
    /// How the leader serves reads.
    pub reads: Reads,
    /// Most entries in one append message.
    pub max_batch: u32,
    /// Deliberate mistakes to plant; none by default.
    pub bugs: Vec<Bug>,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            election_timeout: Dur::from_millis(150),
            heartbeat: Dur::from_millis(50),
            reads: Reads::default(),
            max_batch: 64,
            bugs: Vec::new(),
        }
    }
}

/// How a Raft leader serves reads.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub enum Reads {
    /// As log entries, like writes.
    Log,
    /// After a heartbeat round confirms the leader (thesis 6.4).
    #[default]
    ReadIndex,
    /// Alone while a lease holds; safe while every clock's drift stays
    /// within `drift_bound_ppm` (the lease shrinks by `(1-ρ)/(1+ρ)`).
    Lease {
        /// The drift the lease allows for, in parts per million.
        drift_bound_ppm: u64,
    },
}

/// Planted bugs, for showing that the checks catch real mistakes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub enum Bug {
    /// Grant votes without checking that the candidate's log is up to date.
    VoteWithoutLogCheck,
    /// Commit entries of earlier terms by counting replicas (figure 8).
    CommitPreviousTerm,
    /// Answer votes and appends before fsync; a background flush syncs.
    NoFsync,
    /// The leader reads its own state without confirming it still leads.
    StaleLeaderRead,
    /// Leases as long as the election timeout, ignoring clock drift.
    LeaseIgnoresDrift,
}

impl Bug {
    /// Every bug Raft can plant.
    pub const ALL: [Bug; 5] = [
        Bug::VoteWithoutLogCheck,
        Bug::CommitPreviousTerm,
        Bug::NoFsync,
        Bug::StaleLeaderRead,
        Bug::LeaseIgnoresDrift,
    ];

    /// As scenarios write it.
    pub const fn name(self) -> &'static str {
        match self {
            Bug::VoteWithoutLogCheck => "VoteWithoutLogCheck",
            Bug::CommitPreviousTerm => "CommitPreviousTerm",
            Bug::NoFsync => "NoFsync",
            Bug::StaleLeaderRead => "StaleLeaderRead",
            Bug::LeaseIgnoresDrift => "LeaseIgnoresDrift",
        }
    }
}

/// Every bug's name, as scenarios write it.
pub const BUG_NAMES: [&str; 5] = crate::protocols::bug_names!(Bug);

/// What serde cannot check: the heartbeat against the timeout, the drift
/// bound, a bug or a property that needs leases.
pub fn validate(r: &RaftConfig, scenario: &Scenario) -> Result<(), Invalid> {
    election_timers(r.election_timeout, r.heartbeat)?;
    max_batch(r.max_batch)?;
    if let Reads::Lease { drift_bound_ppm } = r.reads {
        if drift_bound_ppm > DRIFT_PPM_MAX as u64 {
            return Err(Invalid::at(
                path!["protocol", "reads", "drift_bound_ppm"],
                format!("drift_bound_ppm is {drift_bound_ppm}; expected 0 to {DRIFT_PPM_MAX}"),
            ));
        }
    }
    let asks = |name: &str| scenario.checks.iter().position(|c| c.name == name);
    if let Some(i) = asks(super::properties::SERVES_FROM_LEASE).filter(|_| !matches!(r.reads, Reads::Lease { .. })) {
        let message = "ServesFromLease watches lease reads; expected reads: Lease(drift_bound_ppm: ...)";
        return Err(Invalid::at(path!["checks", i], message));
    }
    for (i, bug) in r.bugs.iter().enumerate() {
        if *bug == Bug::LeaseIgnoresDrift && !matches!(r.reads, Reads::Lease { .. }) {
            return Err(Invalid::at(
                path!["protocol", "bugs", i],
                "LeaseIgnoresDrift plants a bug in leases; expected reads: Lease(drift_bound_ppm: ...)",
            ));
        }
    }
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
