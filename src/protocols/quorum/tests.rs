//! The quorum store driven by hand, one node at a time: every message,
//! timer and request is delivered explicitly.

use super::config::{Bug, QuorumConfig};
use super::*;
use crate::core::{Effects, Harness};
use crate::property::{Findings, Moment, Observer};
use crate::workload::kv::Output;

type Fx = Effects<Quorum>;

const NODES: u32 = 5;

fn node(id: u32, config: QuorumConfig) -> Harness<Quorum> {
    let mut h = Harness::new(NodeId(id), NODES, move |id| Quorum::new(id, NODES, &config));
    h.start();
    h
}

fn with_bugs(bugs: Vec<Bug>) -> QuorumConfig {
    QuorumConfig {
        bugs,
        ..QuorumConfig::default()
    }
}

/// A key, its preference list, and a coordinator that is not one of its
/// home replicas (so every replica message is a send).
fn outside_key() -> (String, Vec<NodeId>, u32) {
    let ring = Ring::new(NODES);
    let key = "k0".to_string();
    let preference = ring.preference(&key);
    let outsider = preference[4].0;
    (key, preference, outsider)
}

fn stored(stamp: i64, node: u32, value: &str) -> Held {
    Held::Lww(Stored {
        version: Version { stamp, node, boot: 1 },
        value: value.into(),
    })
}

fn sends(fx: &Fx) -> Vec<(u32, String)> {
    fx.sends.iter().map(|(to, m)| (to.0, format!("{m:?}"))).collect()
}

fn request(id: u64, op: Op) -> Request<Op> {
    Request {
        id: RequestId(id),
        client: 0,
        op,
    }
}

#[test]
fn a_replica_syncs_before_it_acknowledges_and_keeps_the_newer_version() {
    let (key, preference, c) = outside_key();
    let mut r = node(preference[0].0, QuorumConfig::default());
    let write = |s: Held| QMsg::Write {
        op: RequestId(1),
        key: key.as_str().into(),
        stored: s,
    };
    let fx = r.deliver(NodeId(c), write(stored(5, 2, "new")));
    assert_eq!(sends(&fx), [(c, "Ack { op: RequestId(1) }".to_string())]);
    let fx = r.deliver(NodeId(c), write(stored(3, 4, "old")));
    assert_eq!(fx.sends.len(), 1, "an older write is acknowledged too");
    r.crash_and_restart();
    assert_eq!(
        r.node().stored(&key),
        Some(&stored(5, 2, "new")),
        "synced, and not replaced"
    );
    assert_eq!(r.node().boot, 2, "a restart is a new life");
}

#[test]
fn a_write_is_stamped_above_every_version_its_quorum_reported() {
    let (key, preference, c) = outside_key();
    let mut coord = node(c, QuorumConfig::default());
    let put = Op::Put {
        key: key.as_str().into(),
        value: "v9".into(),
    };
    let fx = coord.request(request(9, put));
    let reads: Vec<u32> = fx.sends.iter().map(|(to, _)| to.0).collect();
    assert_eq!(reads, preference[..3].iter().map(|n| n.0).collect::<Vec<_>>());
    let reply = |s| QMsg::ReadReply {
        op: RequestId(9),
        stored: s,
    };
    assert!(coord
        .deliver(preference[0], reply(Some(stored(41, 0, "a"))))
        .sends
        .is_empty());
    let fx = coord.deliver(preference[1], reply(None));
    assert_eq!(fx.sends.len(), 3, "phase 2 goes to every home replica");
    let shown = format!("{:?}", fx.sends[0].1);
    assert!(shown.contains(&format!("stamp: 42, node: {c}, boot: 1")), "{shown}");
    for h in &preference[..2] {
        let fx = coord.deliver(*h, QMsg::Ack { op: RequestId(9) });
        let done = fx.replies == [(RequestId(9), Reply::Ok(Output::Done))];
        assert_eq!(done, *h == preference[1], "answered on the second ack");
    }
}

/// A read answers on the second reply with the newest value, then repairs
/// the stale replica (the late one too), and never a newer one.
fn read_with_a_late_newer_reply(bugs: Vec<Bug>) -> Vec<Fx> {
    let (key, preference, c) = outside_key();
    let mut coord = node(c, with_bugs(bugs));
    coord.request(request(
        7,
        Op::Get {
            key: key.as_str().into(),
        },
    ));
    let reply = |s| QMsg::ReadReply {
        op: RequestId(7),
        stored: Some(s),
    };
    let first = coord.deliver(preference[0], reply(stored(2, 0, "old")));
    let second = coord.deliver(preference[1], reply(stored(3, 0, "mid")));
    let late = coord.deliver(preference[2], reply(stored(4, 0, "new")));
    assert!(first.replies.is_empty());
    assert_eq!(
        second.replies,
        [(RequestId(7), Reply::Ok(Output::Value(Some("mid".into()))))]
    );
    vec![second, late]
}

#[test]
fn read_repair_pushes_only_newer_values() {
    let fx = read_with_a_late_newer_reply(vec![]);
    let (_, preference, _) = outside_key();
    assert_eq!(fx[0].sends.len(), 1, "{:?}", fx[0].sends);
    assert_eq!(fx[0].sends[0].0, preference[0], "the stale replica is repaired");
    assert!(fx[1].sends.is_empty(), "the late, newer replica is left alone");
}

#[test]
fn the_repair_bug_overwrites_a_newer_replica() {
    let fx = read_with_a_late_newer_reply(vec![Bug::RepairOverwritesNewer]);
    assert_eq!(
        fx[1].sends.len(),
        1,
        "the newer replica is 'repaired' with the older value"
    );
    let (key, preference, _) = outside_key();
    let repair = fx[1].sends[0].1.clone();
    let mut correct = node(preference[2].0, QuorumConfig::default());
    let mut buggy = node(preference[2].0, with_bugs(vec![Bug::RepairOverwritesNewer]));
    for r in [&mut correct, &mut buggy] {
        r.deliver(
            NodeId(4),
            QMsg::Write {
                op: RequestId(1),
                key: key.as_str().into(),
                stored: stored(4, 0, "new"),
            },
        );
        r.deliver(NodeId(4), repair.clone());
    }
    assert_eq!(correct.node().stored(&key).unwrap().values(), ["new"]);
    assert_eq!(buggy.node().stored(&key).unwrap().values(), ["mid"]);
}

/// A write whose third home replica is silent: hints go to a fallback,
/// whose acknowledgement counts toward w only under the bug.
fn hinted_write(bugs: Vec<Bug>) -> bool {
    let (key, preference, c) = outside_key();
    let config = QuorumConfig {
        sloppy: true,
        w: 3,
        ..with_bugs(bugs)
    };
    let mut coord = node(c, config);
    coord.request(request(
        3,
        Op::Put {
            key: key.into(),
            value: "v3".into(),
        },
    ));
    // The write goes out once r homes have answered the read; then they
    // acknowledge it.
    for h in &preference[..2] {
        coord.deliver(
            *h,
            QMsg::ReadReply {
                op: RequestId(3),
                stored: None,
            },
        );
    }
    for h in &preference[..2] {
        coord.deliver(*h, QMsg::Ack { op: RequestId(3) });
    }
    let fx = coord.fire(QTimer::Sloppy(RequestId(3)));
    let hints: Vec<(u32, String)> = sends(&fx);
    assert_eq!(hints.len(), 1, "{hints:?}");
    let fallback = preference[3];
    assert_eq!(hints[0].0, fallback.0);
    assert!(
        hints[0].1.contains(&format!("home: NodeId({})", preference[2].0)),
        "{hints:?}"
    );
    let fx = coord.deliver(fallback, QMsg::Ack { op: RequestId(3) });
    !fx.replies.is_empty()
}

#[test]
fn hinted_acknowledgements_count_toward_w_only_under_the_bug() {
    assert!(!hinted_write(vec![]));
    assert!(hinted_write(vec![Bug::HintedCountsTowardW]));
}

#[test]
fn a_fallback_keeps_hints_durably_and_hands_them_off() {
    let (key, preference, _) = outside_key();
    let mut f = node(preference[3].0, QuorumConfig::default());
    let home = preference[2];
    f.deliver(
        NodeId(0),
        QMsg::Hint {
            op: RequestId(1),
            key: key.as_str().into(),
            stored: stored(5, 0, "v"),
            home,
        },
    );
    f.crash_and_restart();
    let fx = f.fire(QTimer::Sync);
    let handoff = fx
        .sends
        .iter()
        .find(|(to, m)| *to == home && matches!(m, QMsg::Handoff { .. }));
    assert!(handoff.is_some(), "{:?}", fx.sends);
    f.deliver(
        home,
        QMsg::HandoffAck {
            key,
            version: stored(5, 0, "v").tag(),
        },
    );
    assert!(f.node().hints().is_empty());
}

#[test]
fn anti_entropy_pushes_what_a_peer_lacks_and_pulls_what_it_has() {
    let (key, preference, _) = outside_key();
    let (a, b) = (preference[0], preference[1]);
    let mut r = node(a.0, QuorumConfig::default());
    r.deliver(
        NodeId(4),
        QMsg::Write {
            op: RequestId(1),
            key: key.as_str().into(),
            stored: stored(5, 0, "v"),
        },
    );
    let fx = r.deliver(b, QMsg::Digest { versions: vec![] });
    assert_eq!(sends(&fx).len(), 1);
    assert!(sends(&fx)[0].1.starts_with("Push"), "{:?}", sends(&fx));
    let newer = stored(6, 1, "w").tag();
    let fx = r.deliver(
        b,
        QMsg::Digest {
            versions: vec![(key.clone(), newer)],
        },
    );
    assert_eq!(sends(&fx), [(b.0, format!("Pull {{ keys: [{key:?}] }}"))]);
}

#[test]
fn cas_and_append_are_refused_with_the_reason() {
    let src = r#"Scenario(name: "q", protocol: Quorum(), nodes: 3, duration: "1s",
        workload: (clients: 1, mix: (read: 1, write: 1, cas: 1)))"#;
    let err = crate::protocols::Registry::builtin()
        .parse("q.ron", src)
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(
        text.contains("no atomic read-modify-write, so it serves no cas"),
        "{text}"
    );
    let src = src.replace("Quorum()", "Quorum(n: 4)");
    let err = crate::protocols::Registry::builtin()
        .parse("q.ron", &src)
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("n is 4; expected 1 to the node count (3)"),
        "{err}"
    );
}

fn vectors() -> QuorumConfig {
    QuorumConfig {
        versions: config::Versions::VersionVectors,
        ..QuorumConfig::default()
    }
}

/// A sibling written by coordinator `node` (first life) as its `count`-th
/// write, having seen `seen`.
fn sibling(seen: &[(u32, u64)], node: u32, count: u64, value: &str) -> Held {
    let context = seen
        .iter()
        .fold(versions::Clock::default(), |c, &(n, k)| c.advanced((n, 1), k));
    Held::sibling(context.advanced((node, 1), count), value.into())
}

fn write_msg(key: &str, op: u64, stored: Held) -> QMsg {
    QMsg::Write {
        op: RequestId(op),
        key: key.into(),
        stored,
    }
}

#[test]
fn concurrent_writes_become_siblings_and_a_write_that_read_both_replaces_them() {
    let (key, preference, c) = outside_key();
    let mut replica = node(preference[0].0, vectors());
    // Two coordinators on either side of a partition, neither seeing the other.
    replica.deliver(NodeId(1), write_msg(&key, 1, sibling(&[], 1, 1, "a")));
    replica.deliver(NodeId(2), write_msg(&key, 2, sibling(&[], 2, 1, "b")));
    let both = replica.node().stored(&key).cloned().expect("held");
    assert_eq!(both.values(), ["a", "b"], "neither clock descends from the other");
    // A read returns both; a write after it descends from both.
    let mut coord = node(c, vectors());
    coord.request(request(
        5,
        Op::Get {
            key: key.as_str().into(),
        },
    ));
    let reply = |op, stored| QMsg::ReadReply {
        op: RequestId(op),
        stored,
    };
    coord.deliver(preference[0], reply(5, Some(both.clone())));
    let fx = coord.deliver(preference[1], reply(5, None));
    let siblings = Output::Siblings(vec!["a".into(), "b".into()]);
    assert_eq!(fx.replies, [(RequestId(5), Reply::Ok(siblings))]);
    coord.request(request(
        6,
        Op::Put {
            key: key.as_str().into(),
            value: "c".into(),
        },
    ));
    coord.deliver(preference[0], reply(6, Some(both.clone())));
    let fx = coord.deliver(preference[1], reply(6, None));
    let QMsg::Write { stored, .. } = fx.sends[0].1.clone() else {
        panic!("phase 2 follows the version read: {:?}", fx.sends);
    };
    assert!(stored.covers(&both), "{stored:?} descends from {both:?}");
    replica.deliver(NodeId(c), write_msg(&key, 6, stored));
    replica.crash_and_restart();
    assert_eq!(
        replica.node().stored(&key).unwrap().values(),
        ["c"],
        "synced, and replaced both"
    );
}

/// `KeepsSiblings` over three replicas of a key that were handed `noted`
/// (as the observer saw it) but hold what `held` was written to them.
fn keeps_siblings(noted: &[Held], held: &[Held]) -> Findings {
    let (key, preference, _) = outside_key();
    let mut observer = Box::new(properties::KeepsSiblings::new(NODES, 3));
    let mut found = Findings::default();
    let at = Moment {
        now_ns: 7,
        recover_at_ns: None,
    };
    for (i, h) in noted.iter().enumerate() {
        observer.delivered(
            &at,
            NodeId(4),
            preference[0],
            &write_msg(&key, i as u64, h.clone()),
            &mut found,
        );
    }
    let mut nodes: Vec<Harness<Quorum>> = (0..NODES).map(|i| node(i, vectors())).collect();
    for h in held {
        for r in &preference[..3] {
            nodes[r.0 as usize].deliver(NodeId(4), write_msg(&key, 0, h.clone()));
        }
    }
    let states: Vec<Option<&Quorum>> = nodes.iter().map(|h| Some(h.node())).collect();
    observer.finish(&at, &states, &mut found);
    found
}

#[test]
fn keeps_siblings_fails_when_a_taken_write_is_neither_held_nor_superseded() {
    let (a, b) = (sibling(&[], 1, 1, "a"), sibling(&[], 2, 1, "b"));
    let c = sibling(&[(1, 1)], 3, 1, "c");
    let found = keeps_siblings(&[a.clone(), b.clone()], std::slice::from_ref(&b));
    let v = found.violation(properties::KEEPS_SIBLINGS).expect("a was dropped");
    assert!(v.detail.contains("a {n1.1:1}"), "{}", v.detail);
    let found = keeps_siblings(&[a.clone(), b.clone()], &[a.clone(), b.clone()]);
    assert!(found.violation(properties::KEEPS_SIBLINGS).is_none());
    let found = keeps_siblings(&[a, b.clone()], &[b, c]);
    assert!(
        found.violation(properties::KEEPS_SIBLINGS).is_none(),
        "c's clock descends from a's"
    );
    assert!(found.evidence(properties::KEEPS_SIBLINGS).is_some());
}

#[test]
fn keeps_siblings_needs_version_vectors() {
    let src = r#"Scenario(name: "q", protocol: Quorum(), nodes: 3, duration: "1s", checks: [KeepsSiblings])"#;
    let err = crate::protocols::Registry::builtin()
        .parse("q.ron", src)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("expected versions: VersionVectors"), "{err}");
    let ok = src.replace("Quorum()", "Quorum(versions: VersionVectors)");
    assert!(crate::protocols::Registry::builtin().parse("q.ron", &ok).is_ok());
    let bug = ok.replace("VersionVectors)", "VersionVectors, bugs: [WallClockLww])");
    let err = crate::protocols::Registry::builtin()
        .parse("q.ron", &bug)
        .err()
        .expect("refused");
    assert!(
        err.to_string().contains("WallClockLww plants a bug in last-write-wins"),
        "{err}"
    );
}
