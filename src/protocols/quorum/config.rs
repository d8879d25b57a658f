//! `protocol: Quorum(...)`: the fields a scenario sets, their defaults,
//! and what makes no sense.

use crate::path;
use crate::scenario::validate::timer;
use crate::scenario::{Dur, Invalid, Scenario};
use serde::Deserialize;

/// The fields of `protocol: Quorum(...)`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct QuorumConfig {
    /// Replicas per key (its first `n` nodes on the ring). At most the
    /// scenario's node count.
    pub n: u32,
    /// Replies a read waits for, and a write's version read. 1 to `n`.
    pub r: u32,
    /// Acknowledgements a write waits for. 1 to `n`.
    pub w: u32,
    /// Sloppy quorum with hinted handoff: when a home replica has not
    /// acknowledged a write after `hint_after`, the write also goes to a
    /// fallback node, which keeps it as a hint and hands it to the home
    /// replica later. Hints add durability; they never count toward `w`.
    pub sloppy: bool,
    /// How long a write waits for a home replica before it sends a hint.
    pub hint_after: Dur,
    /// How long a coordinator waits for a quorum. A read (or a write still
    /// reading versions) then fails; a write whose values went out is left
    /// unanswered, since it may have taken effect.
    pub request_timeout: Dur,
    /// How often each node exchanges a digest of keys and versions with
    /// one peer (anti-entropy) and hands its hints off.
    pub sync_every: Dur,
    /// Whether replicas exchange digests (anti-entropy) at all.
    pub anti_entropy: bool,
    /// Whether a read pushes the newest value it saw to replicas that
    /// answered with an older one.
    pub read_repair: bool,
    /// How replicas order a key's writes: `Lww` (the default), a Lamport
    /// version per write, the newest wins; or `VersionVectors`, a clock
    /// per write, and writes neither of whose clocks descends from the
    /// other are kept side by side as siblings, which reads return.
    pub versions: Versions,
    /// Deliberate mistakes to plant; none by default.
    pub bugs: Vec<Bug>,
}

/// How a quorum store orders the writes of a key.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum Versions {
    /// Last write wins by (Lamport timestamp, node, boot).
    #[default]
    Lww,
    /// Version vectors, keeping concurrent writes as siblings.
    VersionVectors,
}

impl Default for QuorumConfig {
    fn default() -> Self {
        QuorumConfig {
            n: 3,
            r: 2,
            w: 2,
            sloppy: false,
            hint_after: Dur::from_millis(50),
            request_timeout: Dur::from_millis(500),
            sync_every: Dur::from_millis(200),
            anti_entropy: true,
            read_repair: true,
            versions: Versions::Lww,
            bugs: Vec::new(),
        }
    }
}

/// Planted bugs, for showing that the checks catch real mistakes.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub enum Bug {
    /// A sloppy quorum counted as a strict one: fallbacks' hinted acks
    /// count toward `w`, and their stand-in answers toward the version
    /// read's `r`.
    HintedCountsTowardW,
    /// Last-write-wins by the coordinator's wall clock: no version read, a
    /// write is stamped with the coordinator's (drifting, skewed) clock.
    WallClockLww,
    /// Read repair pushes the value the read returned to every replica
    /// that answered differently, and replicas take a repair as given.
    RepairOverwritesNewer,
}

impl Bug {
    /// Every bug the quorum store can plant.
    pub const ALL: [Bug; 3] = [Bug::HintedCountsTowardW, Bug::WallClockLww, Bug::RepairOverwritesNewer];

    /// As scenarios write it.
    pub const fn name(self) -> &'static str {
        match self {
            Bug::HintedCountsTowardW => "HintedCountsTowardW",
            Bug::WallClockLww => "WallClockLww",
            Bug::RepairOverwritesNewer => "RepairOverwritesNewer",
        }
    }
}

/// Every bug's name, as scenarios write it.
pub const BUG_NAMES: [&str; 3] = crate::protocols::bug_names!(Bug);

/// What serde cannot check: quorum sizes against `n` and the cluster, the
/// timers, bugs that need a feature, and operations a quorum store cannot
/// make atomic.
pub fn validate(q: &QuorumConfig, scenario: &Scenario) -> Result<(), Invalid> {
    if q.n == 0 || q.n > scenario.nodes {
        let message = format!("n is {}; expected 1 to the node count ({})", q.n, scenario.nodes);
        return Err(Invalid::at(path!["protocol", "n"], message));
    }
    for (name, value) in [("r", q.r), ("w", q.w)] {
        if value == 0 || value > q.n {
            let message = format!("{name} is {value}; expected 1 to n ({})", q.n);
            return Err(Invalid::at(path!["protocol", name], message));
        }
    }
    timer(q.hint_after, path!["protocol", "hint_after"])?;
    timer(q.request_timeout, path!["protocol", "request_timeout"])?;
    timer(q.sync_every, path!["protocol", "sync_every"])?;
    if q.sloppy && q.n == scenario.nodes {
        let message = format!(
            "sloppy quorums hand writes to nodes beyond a key's {} replicas, and there are only {} nodes; expected n below the node count",
            q.n, scenario.nodes
        );
        return Err(Invalid::at(path!["protocol", "sloppy"], message));
    }
    for (i, bug) in q.bugs.iter().enumerate() {
        if *bug == Bug::HintedCountsTowardW && !q.sloppy {
            let message = "HintedCountsTowardW plants a bug in sloppy quorums; expected sloppy: true";
            return Err(Invalid::at(path!["protocol", "bugs", i], message));
        }
        let lww_only = matches!(bug, Bug::WallClockLww | Bug::RepairOverwritesNewer);
        if lww_only && q.versions == Versions::VersionVectors {
            let message = format!(
                "{} plants a bug in last-write-wins versions; expected versions: Lww (or no such bug)",
                bug.name()
            );
            return Err(Invalid::at(path!["protocol", "bugs", i], message));
        }
    }
    let asks = |name: &str| scenario.checks.iter().position(|c| c.name == name);
    if let Some(i) = asks(super::properties::KEEPS_SIBLINGS).filter(|_| q.versions == Versions::Lww) {
        let message = "KeepsSiblings judges the clocks of version vectors; expected versions: VersionVectors";
        return Err(Invalid::at(path!["checks", i], message));
    }
    validate_mix(scenario)
}

/// A cas, or an append (a read and a write), is not atomic under quorums:
/// two coordinators can both read the old value and both write.
fn validate_mix(scenario: &Scenario) -> Result<(), Invalid> {
    let Some(workload) = &scenario.workload else {
        return Ok(());
    };
    for (name, weight) in [("cas", workload.mix.cas), ("append", workload.mix.append)] {
        if weight > 0.0 {
            let message = format!(
                "protocol Quorum has no atomic read-modify-write, so it serves no {name}; expected {name}: 0 (reads and writes only)"
            );
            return Err(Invalid::at(path!["workload", "mix", name], message));
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
    }
}
