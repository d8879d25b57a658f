//! The Multi-Paxos state machine driven by hand, without the runtime:
//! every message, timer and request is delivered explicitly, at a chosen
//! global time, so each test controls exactly what each node has seen.

use super::*;
use crate::core::{Effects, Harness};

const MS: u64 = 1_000_000;

type Fx = Effects<Paxos>;

/// N nodes, each started at time 0; nothing moves unless a test says so.
struct Cluster {
    hosts: Vec<Harness<Paxos>>,
}

impl Cluster {
    fn new(n: u32, bugs: Bugs) -> Self {
        let config = Config {
            bugs,
            ..Config::default()
        };
        let hosts = (0..n)
            .map(|i| {
                let config = config.clone();
                Harness::new(NodeId(i), n, move |id| Paxos::new(id, config.clone()))
            })
            .collect();
        let mut c = Cluster { hosts };
        for h in &mut c.hosts {
            h.start();
        }
        c
    }

    fn node(&self, i: u32) -> &Paxos {
        self.hosts[i as usize].node()
    }

    fn call(&mut self, i: u32, now: u64, f: impl FnOnce(&mut Paxos, &mut Ctx<'_, Paxos>)) -> Fx {
        self.hosts[i as usize].at(now).call(f)
    }

    /// Node `i`'s election timer fires well after any deadline.
    fn timeout(&mut self, i: u32, now: u64) -> Fx {
        self.call(i, now, |n, ctx| n.on_timer(ctx, PaxosTimer::Election))
    }

    fn deliver(&mut self, from: u32, to: u32, now: u64, msg: PaxosMsg) -> Fx {
        self.call(to, now, |n, ctx| n.on_message(ctx, NodeId(from), msg))
    }

    /// Delivers to `to` every message in `fx` (sent by `from`) addressed to it.
    fn relay(&mut self, from: u32, fx: &Fx, to: u32, now: u64) -> Fx {
        let mut all = Fx::default();
        for (dest, msg) in &fx.sends {
            if dest.0 == to {
                absorb(&mut all, self.deliver(from, to, now, msg.clone()));
            }
        }
        all
    }

    /// Node `i` runs phase 1 and `voters` answer; returns what it did then.
    fn elect(&mut self, i: u32, now: u64, voters: &[u32]) -> Fx {
        let fx = self.timeout(i, now);
        let mut all = Fx::default();
        for &v in voters {
            let answer = self.relay(i, &fx, v, now);
            absorb(&mut all, self.relay(v, &answer, i, now));
        }
        all
    }

    fn request(&mut self, i: u32, now: u64, client: u32, id: u64, op: Op) -> Fx {
        let request = Request {
            id: RequestId(id),
            client,
            op,
        };
        self.call(i, now, |n, ctx| n.on_request(ctx, request))
    }

    fn restart(&mut self, i: u32, now: u64) -> Fx {
        self.hosts[i as usize].at(now).crash_and_restart()
    }
}

fn absorb(into: &mut Fx, fx: Fx) {
    into.sends.extend(fx.sends);
    into.timers.extend(fx.timers);
    into.cancels.extend(fx.cancels);
    into.replies.extend(fx.replies);
}

fn sent(fx: &Fx) -> Vec<String> {
    fx.sends.iter().map(|(to, m)| format!("{to}: {m:?}")).collect()
}

fn b(round: u64, node: u32) -> Ballot {
    Ballot { round, node }
}

fn put(key: &str, value: &str) -> Op {
    Op::Put {
        key: key.into(),
        value: value.into(),
    }
}

fn client(request: u64, op: Op) -> Command {
    Command::Client {
        client: 0,
        request: RequestId(request),
        op,
    }
}

/// Proposals a leader sent to `to`: (slot, command).
fn accepts_to(fx: &Fx, to: u32) -> Vec<(u64, Command)> {
    let to_node = fx.sends.iter().filter(|(d, _)| d.0 == to);
    to_node
        .filter_map(|(_, m)| match m {
            PaxosMsg::Accept { slot, command, .. } => Some((*slot, command.clone())),
            _ => None,
        })
        .collect()
}

const T: u64 = 1_000 * MS;

#[test]
fn a_timed_out_node_promises_its_own_ballot_durably_and_asks_everyone() {
    let mut c = Cluster::new(3, Bugs::default());
    let fx = c.timeout(1, T);
    assert_eq!(sent(&fx), ["n0: Prepare b1.1 from=1", "n2: Prepare b1.1 from=1"]);
    assert_eq!(c.node(1).role, Role::Candidate);
    c.restart(1, T + 1);
    assert_eq!(c.node(1).acceptor.promised(), b(1, 1), "the promise was synced");
    let fx = c.timeout(1, 2 * T);
    assert!(sent(&fx)[0].starts_with("n0: Prepare b2.1"), "{:?}", sent(&fx));
}

#[test]
fn an_acceptor_refuses_a_lower_ballot_and_the_candidate_goes_higher_next_time() {
    let mut c = Cluster::new(3, Bugs::default());
    c.elect(2, T, &[0]);
    assert_eq!(c.node(2).role, Role::Leader);
    let fx = c.timeout(1, T + 1);
    let answer = c.relay(1, &fx, 0, T + 1);
    assert_eq!(sent(&answer), ["n1: Nack b1.1 promised=b1.2"]);
    c.relay(0, &answer, 1, T + 1);
    assert_eq!(c.node(1).role, Role::Follower);
    let fx = c.timeout(1, 3 * T);
    assert!(sent(&fx)[0].starts_with("n0: Prepare b2.1"), "{:?}", sent(&fx));
}

#[test]
fn a_follower_that_heard_from_its_leader_lately_ignores_a_rival() {
    let mut c = Cluster::new(3, Bugs::default());
    let won = c.elect(2, T, &[0]);
    c.relay(2, &won, 0, T + MS);
    let fx = c.timeout(1, T + 2 * MS);
    let rival = PaxosMsg::Prepare {
        ballot: b(9, 1),
        from: 1,
    };
    assert!(c.deliver(1, 0, T + 3 * MS, rival.clone()).sends.is_empty());
    drop(fx);
    let later = c.deliver(1, 0, 2 * T, rival);
    assert_eq!(sent(&later), ["n1: Promise b9.1 accepted=0"]);
}

/// Of 5 nodes, n0 accepted slots 1 and 3 in b1.0, n1 accepted slot 1 in
/// b2.1, and n2 (whose own acceptor holds slot 1 from b1.2) runs phase 1
/// with both: a majority.
fn phase1_with_reports(bugs: Bugs) -> (Cluster, Fx) {
    let mut c = Cluster::new(5, bugs);
    let seed = |c: &mut Cluster, i: u32, slot: u64, ballot: Ballot, value: &str| {
        let command = client(slot, put("k", value));
        c.call(i, 0, |n, ctx| {
            n.acceptor.accept(ctx.disk(), slot, ballot, &command);
        });
    };
    seed(&mut c, 0, 1, b(1, 0), "a");
    seed(&mut c, 0, 3, b(1, 0), "c");
    seed(&mut c, 1, 1, b(2, 1), "b");
    seed(&mut c, 2, 1, b(1, 2), "z");
    let fx = c.elect(2, T, &[0, 1]);
    (c, fx)
}

#[test]
fn a_new_leader_proposes_the_highest_ballot_value_and_fills_gaps_with_noops() {
    let (c, fx) = phase1_with_reports(Bugs::default());
    assert_eq!(c.node(2).role, Role::Leader);
    assert_eq!(c.node(2).ballot, b(2, 2), "above the b2.1 that n1 promised");
    let proposed = accepts_to(&fx, 0);
    let expected = [
        (1, client(1, put("k", "b"))),
        (2, Command::Noop),
        (3, client(3, put("k", "c"))),
    ];
    assert_eq!(proposed, expected);
    assert_eq!(c.node(2).lead.next_slot, 4);
}

#[test]
fn with_propose_own_value_the_new_leader_prefers_its_own_acceptors_value() {
    let bugs = Bugs {
        propose_own_value: true,
        ..Bugs::default()
    };
    let (_, fx) = phase1_with_reports(bugs);
    assert_eq!(accepts_to(&fx, 0)[0], (1, client(1, put("k", "z"))));
}

/// n0 leads b1.0 with n1 (n2 hears nothing); a put goes in slot 1.
fn led_by_n0(bugs: Bugs) -> (Cluster, Fx) {
    let mut c = Cluster::new(3, bugs);
    c.elect(0, T, &[1]);
    let fx = c.request(0, T + MS, 7, 1, put("k", "v1"));
    (c, fx)
}

#[test]
fn a_leader_answers_once_a_majority_accepted_and_a_retry_applies_once() {
    let (mut c, fx) = led_by_n0(Bugs::default());
    assert!(fx.replies.is_empty(), "only its own acceptor has it");
    let answer = c.relay(0, &fx, 1, T + 2 * MS);
    assert_eq!(sent(&answer), ["n0: Accepted b1.0 slot=1 prefix=0"]);
    let done = c.relay(1, &answer, 0, T + 3 * MS);
    assert_eq!(done.replies, [(RequestId(1), Reply::Ok(Output::Done))]);
    assert_eq!(c.node(0).store().get("k").map(|v| &**v), Some("v1"));
    let again = c.request(0, T + 4 * MS, 7, 1, put("k", "v1"));
    assert_eq!(again.replies, [(RequestId(1), Reply::Ok(Output::Done))]);
    assert!(again.sends.is_empty(), "answered from the session");
}

#[test]
fn a_follower_learns_its_accepted_values_from_a_heartbeat_and_asks_for_the_rest() {
    let (mut c, fx) = led_by_n0(Bugs::default());
    let answer = c.relay(0, &fx, 1, T + 2 * MS);
    c.relay(1, &answer, 0, T + 3 * MS);
    let beat = c.call(0, T + 50 * MS, |n, ctx| n.heartbeat(ctx));
    assert!(c.relay(0, &beat, 1, T + 51 * MS).sends.is_empty());
    assert_eq!(c.node(1).prefix, 1, "n1 accepted slot 1 in b1.0");
    let ask = c.relay(0, &beat, 2, T + 51 * MS);
    assert_eq!(sent(&ask), ["n0: Status b1.0 prefix=0"]);
    let values = c.relay(2, &ask, 0, T + 52 * MS);
    assert_eq!(sent(&values), ["n2: Chosen b1.0 slots=1..2 prefix=1"]);
    c.relay(0, &values, 2, T + 53 * MS);
    assert_eq!(c.node(2).store().get("k").map(|v| &**v), Some("v1"));
}

#[test]
fn a_follower_redirects_to_the_leader_it_heard_from() {
    let (mut c, fx) = led_by_n0(Bugs::default());
    c.relay(0, &fx, 1, T + 2 * MS);
    let fx = c.request(1, T + 3 * MS, 8, 2, put("k", "v2"));
    assert_eq!(fx.replies, [(RequestId(2), Reply::Redirect(Some(NodeId(0))))]);
}

#[test]
fn an_accepted_value_survives_a_crash_unless_answered_before_fsync() {
    for (bugs, kept) in [
        (Bugs::default(), true),
        (
            Bugs {
                answer_before_durable: true,
                ..Bugs::default()
            },
            false,
        ),
    ] {
        let (mut c, fx) = led_by_n0(bugs);
        c.relay(0, &fx, 1, T + 2 * MS);
        c.restart(1, T + 3 * MS);
        assert_eq!(c.node(1).acceptor.get(1).is_some(), kept, "{bugs:?}");
    }
}

#[test]
fn with_reuse_ballot_a_restarted_leader_proposes_a_new_value_in_an_old_ballots_slot() {
    let bugs = Bugs {
        reuse_ballot_after_restart: true,
        ..Bugs::default()
    };
    let (mut c, fx) = led_by_n0(bugs);
    c.relay(0, &fx, 1, T + 2 * MS);
    c.restart(0, T + 3 * MS);
    assert_eq!(c.node(0).role, Role::Leader, "it took back b1.0");
    let fx = c.request(0, T + 4 * MS, 8, 2, put("k", "v2"));
    assert_eq!(
        accepts_to(&fx, 1),
        [(
            1,
            Command::Client {
                client: 8,
                request: RequestId(2),
                op: put("k", "v2")
            }
        )]
    );
    let (mut correct, fx) = led_by_n0(Bugs::default());
    correct.relay(0, &fx, 1, T + 2 * MS);
    correct.restart(0, T + 3 * MS);
    assert_eq!(correct.node(0).role, Role::Follower, "a correct node runs phase 1 anew");
}
