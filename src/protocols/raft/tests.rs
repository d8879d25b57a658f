//! The Raft state machine driven by hand, without the runtime: every
//! message, timer and request is delivered explicitly, at a chosen global
//! time, so each test controls exactly what each node has seen.

use super::*;
use crate::core::{Effects, Harness};

const MS: u64 = 1_000_000;

type Fx = Effects<Raft>;

/// N nodes, each started at time 0; nothing moves unless a test says so.
struct Cluster {
    hosts: Vec<Harness<Raft>>,
}

impl Cluster {
    fn new(n: u32, config: Config) -> Self {
        let hosts = (0..n)
            .map(|i| {
                let config = config.clone();
                Harness::new(NodeId(i), n, move |id| Raft::new(id, config.clone()))
            })
            .collect();
        let mut c = Cluster { hosts };
        for h in &mut c.hosts {
            h.start();
        }
        c
    }

    fn with_bugs(n: u32, bugs: Bugs) -> Self {
        Cluster::new(
            n,
            Config {
                bugs,
                ..Config::default()
            },
        )
    }

    /// Runs a handler on node `i` at global time `now` and returns what it did.
    fn call(&mut self, i: u32, now: u64, f: impl FnOnce(&mut Raft, &mut Ctx<'_, Raft>)) -> Fx {
        self.hosts[i as usize].at(now).call(f)
    }

    fn node(&self, i: u32) -> &Raft {
        self.hosts[i as usize].node()
    }

    fn timeout(&mut self, i: u32, now: u64) -> Fx {
        self.call(i, now, |n, ctx| n.on_timer(ctx, RaftTimer::Election))
    }

    fn deliver(&mut self, from: u32, to: u32, now: u64, msg: RaftMsg) -> Fx {
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

    fn request(&mut self, i: u32, now: u64, client: u32, id: u64, op: Op) -> Fx {
        let request = Request {
            id: RequestId(id),
            client,
            op,
        };
        self.call(i, now, |n, ctx| n.on_request(ctx, request))
    }

    /// Power cut and reboot: only what was fsynced survives.
    fn restart(&mut self, i: u32, now: u64) {
        self.hosts[i as usize].at(now).crash_and_restart();
    }

    /// Node `i`'s election timer expires and `voters` answer its
    /// RequestVote; returns what the node did with the votes.
    fn elect(&mut self, i: u32, now: u64, voters: &[u32]) -> Fx {
        let fx = self.timeout(i, now);
        let mut all = Fx::default();
        for &v in voters {
            let answer = self.relay(i, &fx, v, now);
            absorb(&mut all, self.relay(v, &answer, i, now));
        }
        all
    }

    fn log_terms(&self, i: u32) -> Vec<u64> {
        self.node(i).log.entries().iter().map(|e| e.term).collect()
    }
}

fn absorb(into: &mut Fx, fx: Fx) {
    into.sends.extend(fx.sends);
    into.timers.extend(fx.timers);
    into.cancels.extend(fx.cancels);
    into.replies.extend(fx.replies);
}

/// The messages sent, as "to: message" in the trace's short form.
fn sent(fx: &Fx) -> Vec<String> {
    fx.sends.iter().map(|(to, m)| format!("{to}: {m:?}")).collect()
}

fn noop(term: u64) -> Entry {
    Entry {
        term,
        command: Command::Noop,
    }
}

fn client_entry(term: u64, client: u32, request: u64, op: Op) -> Entry {
    Entry {
        term,
        command: Command::Client {
            client,
            request: RequestId(request),
            op,
        },
    }
}

fn append(term: u64, prev_index: u64, prev_term: u64, entries: Vec<Entry>, commit: u64) -> RaftMsg {
    RaftMsg::Append(Append {
        term,
        prev_index,
        prev_term,
        entries,
        commit,
        sent_at: 0,
    })
}

fn appended(term: u64, index: u64, sent_at: u64) -> RaftMsg {
    RaftMsg::Appended(Appended {
        term,
        index,
        success: true,
        conflict_term: None,
        sent_at,
    })
}

fn request_vote(term: u64, last_index: u64, last_term: u64) -> RaftMsg {
    RaftMsg::RequestVote {
        term,
        last_index,
        last_term,
    }
}

fn put(key: &str, value: &str) -> Op {
    Op::Put {
        key: key.into(),
        value: value.into(),
    }
}

fn get(key: &str) -> Op {
    Op::Get { key: key.into() }
}

fn value(v: &str) -> Reply<Output> {
    Reply::Ok(Output::Value(Some(v.into())))
}

// --- Elections ---------------------------------------------------------

#[test]
fn an_expired_election_timer_makes_a_candidate_that_votes_for_itself_durably() {
    let mut c = Cluster::new(3, Config::default());
    let fx = c.timeout(0, 300 * MS);
    let n = c.node(0);
    assert_eq!((n.role, n.term, n.vote), (Role::Candidate, 1, Some(NodeId(0))));
    assert_eq!(n.votes, [NodeId(0)]);
    assert_eq!(
        sent(&fx),
        ["n1: RequestVote t1 last=0@t0", "n2: RequestVote t1 last=0@t0"]
    );
    assert_eq!(fx.timers.len(), 1, "the election timer is rearmed");
    c.restart(0, 301 * MS);
    assert_eq!(
        (c.node(0).term, c.node(0).vote),
        (1, Some(NodeId(0))),
        "term and vote were fsynced"
    );
}

#[test]
fn an_election_timer_that_has_not_expired_does_nothing() {
    let mut c = Cluster::new(3, Config::default());
    let fx = c.timeout(0, 149 * MS);
    assert!(fx.sends.is_empty());
    assert_eq!((c.node(0).role, c.node(0).term), (Role::Follower, 0));
}

#[test]
fn a_candidate_with_a_majority_leads_and_appends_a_noop_at_the_next_index() {
    let mut c = Cluster::new(3, Config::default());
    c.deliver(1, 0, 10 * MS, append(1, 0, 0, vec![noop(1)], 0));
    let fx = c.timeout(0, 400 * MS);
    let answer = c.relay(0, &fx, 2, 400 * MS);
    assert_eq!(sent(&answer), ["n0: Vote t2 granted=true"]);
    assert_eq!(
        c.node(0).role,
        Role::Candidate,
        "one vote (its own) is not a majority of 3"
    );
    let fx = c.relay(2, &answer, 0, 400 * MS);
    assert_eq!((c.node(0).role, c.node(0).leader), (Role::Leader, Some(NodeId(0))));
    assert_eq!(c.log_terms(0), [1, 2]);
    assert_eq!(c.node(0).log.get(2).unwrap().command, Command::Noop);
    assert_eq!(
        sent(&fx),
        [
            "n1: Append t2 prev=1@t1 entries=2..=2 commit=0",
            "n2: Append t2 prev=1@t1 entries=2..=2 commit=0"
        ]
    );
}

#[test]
fn a_node_grants_one_vote_per_term() {
    let mut c = Cluster::new(3, Config::default());
    let t = 300 * MS;
    assert_eq!(
        sent(&c.deliver(0, 2, t, request_vote(1, 0, 0))),
        ["n0: Vote t1 granted=true"]
    );
    assert_eq!(
        sent(&c.deliver(1, 2, t, request_vote(1, 0, 0))),
        ["n1: Vote t1 granted=false"]
    );
    assert_eq!(
        sent(&c.deliver(0, 2, t, request_vote(1, 0, 0))),
        ["n0: Vote t1 granted=true"],
        "a resent request"
    );
    assert_eq!(c.node(2).vote, Some(NodeId(0)));
}

/// Node 2 holds entries of terms 1 and 2 and has not heard from a leader
/// for longer than the election timeout.
fn voter_with_log(bugs: Bugs) -> Cluster {
    let mut c = Cluster::with_bugs(3, bugs);
    c.deliver(1, 2, 10 * MS, append(2, 0, 0, vec![noop(1), noop(2)], 0));
    c
}

#[test]
fn a_node_refuses_a_candidate_whose_log_is_less_up_to_date() {
    let mut c = voter_with_log(Bugs::default());
    let t = 400 * MS;
    let lower_last_term = c.deliver(0, 2, t, request_vote(3, 5, 1));
    assert_eq!(sent(&lower_last_term), ["n0: Vote t3 granted=false"]);
    let shorter = c.deliver(1, 2, t, request_vote(3, 1, 2));
    assert_eq!(sent(&shorter), ["n1: Vote t3 granted=false"]);
    assert_eq!(
        (c.node(2).term, c.node(2).vote),
        (3, None),
        "the term moves on, the vote stays free"
    );
    let as_good = c.deliver(1, 2, t, request_vote(3, 2, 2));
    assert_eq!(sent(&as_good), ["n1: Vote t3 granted=true"]);
}

#[test]
fn without_the_log_check_a_node_votes_for_a_stale_candidate() {
    let bugs = Bugs {
        vote_without_log_check: true,
        ..Bugs::default()
    };
    let mut c = voter_with_log(bugs);
    let fx = c.deliver(0, 2, 400 * MS, request_vote(3, 5, 1));
    assert_eq!(sent(&fx), ["n0: Vote t3 granted=true"]);
}

#[test]
fn a_candidate_that_sees_a_higher_term_steps_down() {
    let mut c = Cluster::new(3, Config::default());
    c.timeout(0, 300 * MS);
    c.deliver(
        1,
        0,
        301 * MS,
        RaftMsg::Vote {
            term: 5,
            granted: false,
        },
    );
    let n = c.node(0);
    assert_eq!((n.role, n.term, n.vote), (Role::Follower, 5, None));
    c.deliver(2, 0, 302 * MS, RaftMsg::Vote { term: 1, granted: true });
    assert_eq!(
        c.node(0).role,
        Role::Follower,
        "a late vote of the old term counts for nothing"
    );
}

#[test]
fn a_follower_that_heard_from_the_leader_recently_ignores_vote_requests() {
    let mut c = Cluster::new(3, Config::default());
    c.deliver(0, 2, 300 * MS, append(1, 0, 0, vec![], 0));
    let fx = c.deliver(1, 2, 449 * MS, request_vote(2, 0, 0));
    assert!(fx.sends.is_empty(), "{:?}", sent(&fx));
    assert_eq!((c.node(2).term, c.node(2).vote), (1, None));
    let fx = c.deliver(1, 2, 450 * MS, request_vote(2, 0, 0));
    assert_eq!(sent(&fx), ["n1: Vote t2 granted=true"], "once the timeout has passed");
}

// --- Log conflicts -----------------------------------------------------

#[test]
fn a_follower_rejects_an_append_past_its_log_end_with_a_hint_at_its_end() {
    let mut c = Cluster::new(3, Config::default());
    c.deliver(0, 1, 10 * MS, append(1, 0, 0, vec![noop(1)], 0));
    let fx = c.deliver(0, 1, 20 * MS, append(1, 3, 1, vec![noop(1)], 0));
    assert_eq!(sent(&fx), ["n0: Appended t1 success=false index=2 conflict=None"]);
    assert_eq!(c.log_terms(1), [1]);
}

#[test]
fn a_follower_rejects_a_mismatched_prev_term_with_the_start_of_its_conflicting_term() {
    let mut c = Cluster::new(3, Config::default());
    c.deliver(0, 1, 10 * MS, append(2, 0, 0, vec![noop(1), noop(2), noop(2)], 0));
    let fx = c.deliver(2, 1, 20 * MS, append(3, 3, 3, vec![noop(3)], 0));
    assert_eq!(sent(&fx), ["n2: Appended t3 success=false index=2 conflict=Some(2)"]);
    assert_eq!(c.log_terms(1), [1, 2, 2], "a rejected append changes nothing");
}

#[test]
fn a_follower_replaces_its_log_from_the_first_conflict_and_keeps_the_matching_prefix() {
    let mut c = Cluster::new(3, Config::default());
    c.deliver(
        0,
        1,
        10 * MS,
        append(2, 0, 0, vec![noop(1), noop(1), noop(2), noop(2), noop(2)], 0),
    );
    let fx = c.deliver(2, 1, 20 * MS, append(3, 1, 1, vec![noop(1), noop(3)], 0));
    assert_eq!(sent(&fx), ["n2: Appended t3 success=true index=3 conflict=None"]);
    assert_eq!(c.log_terms(1), [1, 1, 3], "index 2 kept, 3 replaced, 4 and 5 dropped");
    assert_eq!(c.node(1).log.rewrites(), [3]);
}

#[test]
fn an_old_append_does_not_truncate_matching_entries() {
    let mut c = Cluster::new(3, Config::default());
    let four = vec![noop(1), noop(1), noop(1), noop(1)];
    c.deliver(0, 1, 10 * MS, append(1, 0, 0, four, 0));
    let fx = c.deliver(0, 1, 20 * MS, append(1, 0, 0, vec![noop(1), noop(1)], 0));
    assert_eq!(sent(&fx), ["n0: Appended t1 success=true index=2 conflict=None"]);
    assert_eq!(c.log_terms(1), [1, 1, 1, 1]);
    assert!(c.node(1).log.rewrites().is_empty());
}

#[test]
fn a_leader_backs_up_to_the_hint_when_it_lacks_the_conflicting_term() {
    let mut c = Cluster::new(3, Config::default());
    // Node 1 took index 2 from a leader of term 2 that node 0 never heard of.
    c.deliver(2, 1, 10 * MS, append(2, 0, 0, vec![noop(1), noop(2), noop(2)], 0));
    c.deliver(2, 0, 10 * MS, append(1, 0, 0, vec![noop(1), noop(1)], 0));
    c.deliver(
        2,
        0,
        10 * MS,
        RaftMsg::Vote {
            term: 2,
            granted: false,
        },
    );
    let fx = c.elect(0, 400 * MS, &[2]);
    assert_eq!(c.log_terms(0), [1, 1, 3]);
    let fx = c.relay(0, &fx, 1, 400 * MS);
    assert_eq!(sent(&fx), ["n0: Appended t3 success=false index=2 conflict=Some(2)"]);
    let fx = c.relay(1, &fx, 0, 401 * MS);
    assert_eq!(sent(&fx), ["n1: Append t3 prev=1@t1 entries=2..=3 commit=0"]);
    assert_eq!(c.node(0).lead.next[1], 4, "advanced again by the resend");
    let fx = c.relay(0, &fx, 1, 402 * MS);
    assert_eq!(sent(&fx), ["n0: Appended t3 success=true index=3 conflict=None"]);
    assert_eq!(c.log_terms(1), [1, 1, 3]);
}

#[test]
fn a_leader_that_has_the_conflicting_term_backs_up_past_its_last_entry_of_it() {
    let mut c = Cluster::new(3, Config::default());
    c.deliver(2, 0, 10 * MS, append(1, 0, 0, vec![noop(1), noop(1)], 0));
    let fx = c.elect(0, 400 * MS, &[2]);
    assert_eq!(c.log_terms(0), [1, 1, 2]);
    let reject = RaftMsg::Appended(Appended {
        term: 2,
        index: 1,
        success: false,
        conflict_term: Some(1),
        sent_at: 0,
    });

    assert_eq!(sent(&fx)[0], "n1: Append t2 prev=2@t1 entries=3..=3 commit=0");
    let fx = c.deliver(1, 0, 401 * MS, reject);
    assert_eq!(sent(&fx), ["n1: Append t2 prev=2@t1 entries=3..=3 commit=0"]);
}

// --- Commit rules ------------------------------------------------------

/// Node 0 leads term 1 of an `n`-node cluster; nothing it sent has arrived.
fn led_by_node_0(n: u32, config: Config) -> Cluster {
    let mut c = Cluster::new(n, config);
    let voters: Vec<u32> = (1..=n / 2).collect();
    c.elect(0, 300 * MS, &voters);
    assert_eq!((c.node(0).role, c.node(0).term), (Role::Leader, 1));
    c
}

#[test]
fn a_leader_commits_its_own_entry_on_a_majority_and_only_then_answers() {
    let mut c = led_by_node_0(5, Config::default());
    let fx = c.request(0, 310 * MS, 7, 1, put("k", "v"));
    assert!(fx.replies.is_empty());
    assert_eq!(c.node(0).log.last_index(), 2);
    let fx = c.deliver(1, 0, 320 * MS, appended(1, 2, 310 * MS));
    assert!(fx.replies.is_empty());
    assert_eq!(c.node(0).commit, 0, "2 of 5 is no majority");
    let fx = c.deliver(2, 0, 330 * MS, appended(1, 2, 310 * MS));
    assert_eq!(c.node(0).commit, 2);
    assert_eq!(fx.replies, [(RequestId(1), Reply::Ok(Output::Done))]);
    assert_eq!(c.node(0).store.get("k"), Some(&"v".into()));
}

/// Figure 8: node 0 leads term 3 with an index-2 entry of term 2; a batch
/// of two entries brings node 2 up to index 2 but not to the no-op at 3.
fn figure_8(bugs: Bugs) -> Cluster {
    let config = Config {
        max_batch: 2,
        bugs,
        ..Config::default()
    };
    let mut c = Cluster::new(3, config);
    c.deliver(1, 0, 10 * MS, append(2, 0, 0, vec![noop(1), noop(2)], 0));
    let fx = c.elect(0, 400 * MS, &[2]);
    assert_eq!((c.node(0).role, c.log_terms(0)), (Role::Leader, vec![1, 2, 3]));
    let reject = c.relay(0, &fx, 2, 400 * MS);
    let resend = c.relay(2, &reject, 0, 401 * MS);
    assert_eq!(sent(&resend), ["n2: Append t3 prev=0@t0 entries=1..=2 commit=0"]);
    let ack = c.relay(0, &resend, 2, 402 * MS);
    assert_eq!(sent(&ack), ["n0: Appended t3 success=true index=2 conflict=None"]);
    let rest = c.relay(2, &ack, 0, 403 * MS);
    assert_eq!(sent(&rest).len(), 1);
    assert!(
        sent(&rest)[0].starts_with("n2: Append t3 prev=2@t2 entries=3..=3"),
        "{:?}",
        sent(&rest)
    );
    c
}

#[test]
fn a_leader_does_not_commit_an_earlier_terms_entry_by_counting_replicas() {
    let mut c = figure_8(Bugs::default());
    assert_eq!(c.node(0).commit, 0, "index 2 is on a majority but is of term 2");
    c.deliver(2, 0, 404 * MS, appended(3, 3, 403 * MS));
    assert_eq!(c.node(0).commit, 3, "committing the no-op commits what precedes it");
}

#[test]
fn with_the_figure_8_bug_a_leader_commits_an_earlier_terms_entry() {
    let c = figure_8(Bugs {
        commit_previous_term: true,
        ..Bugs::default()
    });
    assert_eq!(c.node(0).commit, 2);
}

#[test]
fn a_followers_commit_is_the_leaders_but_no_further_than_the_last_new_entry() {
    let mut c = Cluster::new(3, Config::default());
    // Node 1 holds stale entries 2 and 3 from a deposed leader of term 2.
    c.deliver(2, 1, 10 * MS, append(2, 0, 0, vec![noop(1), noop(2), noop(2)], 0));
    c.deliver(0, 1, 20 * MS, append(3, 0, 0, vec![noop(1)], 5));
    assert_eq!(
        (c.node(1).commit, c.node(1).applied),
        (1, 1),
        "its entries 2 and 3 are unverified"
    );
    c.deliver(0, 1, 30 * MS, append(3, 1, 1, vec![noop(3), noop(3)], 2));
    assert_eq!(c.node(1).commit, 2, "the leader's commit");
    assert_eq!(c.log_terms(1), [1, 3, 3]);
    c.deliver(0, 1, 40 * MS, append(3, 0, 0, vec![noop(1)], 3));
    assert_eq!(c.node(1).commit, 2, "a reordered old append does not lower it");
}

// --- Clients -----------------------------------------------------------

#[test]
fn a_follower_redirects_to_the_leader_once_it_knows_it() {
    let mut c = Cluster::new(3, Config::default());
    let fx = c.request(1, 10 * MS, 7, 1, put("k", "v"));
    assert_eq!(fx.replies, [(RequestId(1), Reply::Redirect(None))]);
    c.deliver(2, 1, 20 * MS, append(1, 0, 0, vec![], 0));
    let fx = c.request(1, 30 * MS, 7, 1, put("k", "v"));
    assert_eq!(fx.replies, [(RequestId(1), Reply::Redirect(Some(NodeId(2))))]);
    assert!(fx.sends.is_empty() && c.node(1).log.last_index() == 0);
}

#[test]
fn a_retry_of_an_applied_request_is_answered_from_the_session() {
    let mut c = led_by_node_0(3, Config::default());
    c.request(0, 310 * MS, 7, 1, put("k", "v"));
    let fx = c.deliver(1, 0, 320 * MS, appended(1, 2, 310 * MS));
    assert_eq!(fx.replies, [(RequestId(1), Reply::Ok(Output::Done))]);
    let fx = c.request(0, 330 * MS, 7, 1, put("k", "v"));
    assert_eq!(fx.replies, [(RequestId(1), Reply::Ok(Output::Done))]);
    assert!(fx.sends.is_empty());
    assert_eq!(c.node(0).log.last_index(), 2, "not appended again");
}

#[test]
fn a_request_logged_twice_changes_the_store_once() {
    let mut c = led_by_node_0(3, Config::default());
    let op = Op::Append {
        key: "k".into(),
        value: "x".into(),
    };
    c.request(0, 310 * MS, 7, 1, op.clone());
    c.request(0, 320 * MS, 7, 1, op.clone());
    assert_eq!(
        c.node(0).log.last_index(),
        3,
        "a retry before the first was applied is logged again"
    );
    let fx = c.deliver(1, 0, 330 * MS, appended(1, 3, 320 * MS));
    assert_eq!(c.node(0).commit, 3);
    assert_eq!(c.node(0).store.get("k"), Some(&"x".into()));
    assert!(fx.replies.iter().all(|r| *r == (RequestId(1), Reply::Ok(Output::Done))));
    // A follower applying the same log agrees.
    let entries = vec![noop(1), client_entry(1, 7, 1, op.clone()), client_entry(1, 7, 1, op)];
    c.deliver(0, 2, 340 * MS, append(1, 0, 0, entries, 3));
    assert_eq!(c.node(2).store.get("k"), Some(&"x".into()));
}

// --- Recovery ----------------------------------------------------------

/// Node 1 votes for node 0 in term 1, then takes two entries from it.
fn voted_and_appended(bugs: Bugs) -> Cluster {
    let mut c = Cluster::with_bugs(3, bugs);
    let fx = c.deliver(0, 1, 300 * MS, request_vote(1, 0, 0));
    assert_eq!(sent(&fx), ["n0: Vote t1 granted=true"]);
    let fx = c.deliver(0, 1, 310 * MS, append(1, 0, 0, vec![noop(1), noop(1)], 0));
    assert_eq!(sent(&fx), ["n0: Appended t1 success=true index=2 conflict=None"]);
    c.restart(1, 320 * MS);
    c
}

#[test]
fn term_vote_and_log_survive_a_crash() {
    let mut c = voted_and_appended(Bugs::default());
    let n = c.node(1);
    assert_eq!((n.term, n.vote, n.role), (1, Some(NodeId(0)), Role::Follower));
    assert_eq!(c.log_terms(1), [1, 1]);
    let fx = c.deliver(2, 1, 500 * MS, request_vote(1, 2, 1));
    assert_eq!(sent(&fx), ["n2: Vote t1 granted=false"], "it already voted in term 1");
}

#[test]
fn without_fsync_a_crash_loses_the_vote_and_acknowledged_entries() {
    let mut c = voted_and_appended(Bugs {
        no_fsync: true,
        ..Bugs::default()
    });
    let n = c.node(1);
    assert_eq!((n.term, n.vote), (0, None));
    assert!(c.log_terms(1).is_empty());
    let fx = c.deliver(2, 1, 500 * MS, request_vote(1, 0, 0));
    assert_eq!(sent(&fx), ["n2: Vote t1 granted=true"], "a second vote in term 1");
}

#[test]
fn commit_index_and_store_are_rebuilt_once_the_commit_index_is_learned_again() {
    let mut c = Cluster::new(3, Config::default());
    let entries = vec![noop(1), client_entry(1, 7, 1, put("k", "v"))];
    c.deliver(0, 1, 10 * MS, append(1, 0, 0, entries, 2));
    assert_eq!(c.node(1).store.get("k"), Some(&"v".into()));
    c.restart(1, 20 * MS);
    let n = c.node(1);
    assert_eq!((n.commit, n.applied, n.store.get("k")), (0, 0, None));
    assert_eq!(c.log_terms(1), [1, 1], "the log is back, but not known to be committed");
    c.deliver(0, 1, 30 * MS, append(1, 2, 1, vec![], 2));
    let n = c.node(1);
    assert_eq!((n.commit, n.applied), (2, 2));
    assert_eq!(n.store.get("k"), Some(&"v".into()));
    assert_eq!(n.sessions.get(&7).map(|s| s.0), Some(RequestId(1)), "sessions too");
}

// --- ReadIndex ---------------------------------------------------------

/// Node 0 leads term 1 of 3 and has applied `k = v` at index 2.
fn leader_with_k(bugs: Bugs) -> Cluster {
    let mut c = led_by_node_0(
        3,
        Config {
            bugs,
            ..Config::default()
        },
    );
    c.request(0, 310 * MS, 7, 1, put("k", "v"));
    c.deliver(1, 0, 320 * MS, appended(1, 2, 310 * MS));
    assert_eq!(c.node(0).applied, 2);
    c
}

#[test]
fn a_read_waits_until_a_majority_echoes_a_heartbeat_sent_after_it_arrived() {
    let mut c = leader_with_k(Bugs::default());
    let fx = c.request(0, 400 * MS, 8, 2, get("k"));
    assert!(fx.replies.is_empty());
    assert_eq!(fx.sends.len(), 2, "a heartbeat round: {:?}", sent(&fx));
    let older = c.deliver(1, 0, 401 * MS, appended(1, 2, 399 * MS));
    assert!(
        older.replies.is_empty(),
        "an echo of an earlier heartbeat confirms nothing"
    );
    let answer = c.relay(0, &fx, 2, 402 * MS);
    let fx = c.relay(2, &answer, 0, 403 * MS);
    assert_eq!(fx.replies, [(RequestId(2), value("v"))]);
}

#[test]
fn with_the_stale_read_bug_a_leader_answers_a_read_at_once() {
    let mut c = leader_with_k(Bugs {
        stale_leader_read: true,
        ..Bugs::default()
    });
    let fx = c.request(0, 400 * MS, 8, 2, get("k"));
    assert_eq!(fx.replies, [(RequestId(2), value("v"))]);
    assert!(fx.sends.is_empty());
}

#[test]
fn a_single_node_leader_answers_a_read_index_read() {
    let mut c = Cluster::new(1, Config::default());
    c.timeout(0, 300 * MS);
    assert_eq!((c.node(0).role, c.node(0).commit), (Role::Leader, 1));
    let mut fx = c.request(0, 310 * MS, 7, 1, get("k"));
    absorb(
        &mut fx,
        c.call(0, 350 * MS, |n, ctx| n.on_timer(ctx, RaftTimer::Heartbeat { term: 1 })),
    );
    assert_eq!(fx.replies, [(RequestId(1), Reply::Ok(Output::Value(None)))]);
}

fn lease_config() -> Config {
    Config {
        reads: ReadMode::Lease { drift_bound_ppm: 0 },
        ..Config::default()
    }
}

/// n0 leads term 1 with n1 acking it; n2 is cut off from n0. Returns the
/// cluster and n1's old RequestVote(t1) to n2, still in flight.
fn lease_setup() -> (Cluster, RaftMsg) {
    let mut c = Cluster::new(3, lease_config());
    // n1 campaigns in term 1; its RequestVotes are delayed.
    let fx1 = c.timeout(1, 400 * MS);
    let rv1_to_n2 = fx1.sends.iter().find(|(to, _)| to.0 == 2).unwrap().1.clone();
    // n0 campaigns in term 1 too and wins with n2's vote.
    let fx0 = c.elect(0, 410 * MS, &[2]);
    assert_eq!((c.node(0).role, c.node(0).term), (Role::Leader, 1));
    let ack1 = c.relay(0, &fx0, 1, 411 * MS);
    c.relay(1, &ack1, 0, 412 * MS);
    let ack2 = c.relay(0, &fx0, 2, 411 * MS);
    c.relay(2, &ack2, 0, 412 * MS);
    assert_eq!(c.node(0).commit, 1);
    // From here on n0 and n2 cannot talk. n0 keeps heartbeating n1.
    for t in [460, 510, 560, 610, 660, 710] {
        let hb = c.call(0, t * MS, |n, ctx| n.on_timer(ctx, RaftTimer::Heartbeat { term: 1 }));
        let ack = c.relay(0, &hb, 1, t * MS + MS);
        c.relay(1, &ack, 0, t * MS + 2 * MS);
    }
    (c, rv1_to_n2)
}

#[test]
fn a_follower_that_heard_from_the_leader_ignores_a_new_candidate() {
    let (mut c, _) = lease_setup();
    let fx2 = c.timeout(2, 720 * MS); // n2 last heard from n0 at 411ms
    assert_eq!((c.node(2).role, c.node(2).term), (Role::Candidate, 2));
    let answer = c.relay(2, &fx2, 1, 721 * MS);
    assert!(answer.sends.is_empty(), "n1 heard n0 at 711ms: sticky");
    assert_eq!(c.node(1).term, 1);
}

/// Found in review: a stale Vote answer moved n1 into the candidate's
/// term first, and n1 then voted, 12ms after acking the leasing leader;
/// the new leader's write completed and the old leader read it stale.
#[test]
fn a_sticky_follower_moved_to_a_new_term_by_a_stale_answer_still_does_not_vote() {
    let (mut c, rv1_to_n2) = lease_setup();
    let fx2 = c.timeout(2, 720 * MS);
    // n1's old RequestVote(t1) finally reaches n2, which answers in term 2,
    // and that answer overtakes n2's RequestVote(t2) to n1.
    let stale = c.deliver(1, 2, 721 * MS, rv1_to_n2);
    assert_eq!(sent(&stale), ["n1: Vote t2 granted=false"]);
    c.relay(2, &stale, 1, 722 * MS);
    assert_eq!((c.node(1).term, c.node(1).vote), (2, None));
    let vote = c.relay(2, &fx2, 1, 723 * MS);
    assert_eq!(sent(&vote), ["n2: Vote t2 granted=false"], "n1 acked n0 12ms ago");
    c.relay(1, &vote, 2, 724 * MS);
    assert_eq!(c.node(2).role, Role::Candidate);
    let r = c.request(0, 730 * MS, 8, 101, get("k"));
    assert_eq!(
        r.replies,
        [(RequestId(101), Reply::Ok(Output::Value(None)))],
        "n0's lease holds, and rightly"
    );
}

#[test]
fn messages_read_as_they_always_did_in_traces() {
    let append = |entries: usize| Append {
        term: 7,
        prev_index: 41,
        prev_term: 6,
        entries: vec![
            Entry {
                term: 7,
                command: Command::Noop,
            };
            entries
        ],
        commit: 40,
        sent_at: 1,
    };
    let appended = |success: bool, conflict_term: Option<u64>| Appended {
        term: u64::MAX,
        index: 0,
        success,
        conflict_term,
        sent_at: 2,
    };
    let cases = [
        (
            RaftMsg::RequestVote {
                term: 3,
                last_index: 10,
                last_term: 2,
            },
            "RequestVote t3 last=10@t2".to_string(),
        ),
        (RaftMsg::Vote { term: 3, granted: true }, "Vote t3 granted=true".into()),
        (
            RaftMsg::Vote {
                term: 0,
                granted: false,
            },
            "Vote t0 granted=false".into(),
        ),
        (
            RaftMsg::Append(append(0)),
            "Append t7 prev=41@t6 entries=none commit=40".into(),
        ),
        (
            RaftMsg::Append(append(3)),
            "Append t7 prev=41@t6 entries=42..=44 commit=40".into(),
        ),
        (
            RaftMsg::Appended(appended(true, None)),
            format!("Appended t{} success=true index=0 conflict=None", u64::MAX),
        ),
        (
            RaftMsg::Appended(appended(false, Some(5))),
            format!("Appended t{} success=false index=0 conflict=Some(5)", u64::MAX),
        ),
    ];
    for (msg, text) in cases {
        assert_eq!(format!("{msg:?}"), text);
    }
}

#[test]
fn nth_largest_is_the_value_a_majority_reached() {
    assert_eq!(nth_largest([5, 9, 1].into_iter(), 2), 5);
    assert_eq!(nth_largest([3].into_iter(), 1), 3);
    // Past the stack's 16 slots, the same answer from the heap.
    for len in [2usize, 15, 16, 17, 40] {
        let values: Vec<u64> = (0..len as u64).map(|i| (i * 7919) % 101).collect();
        let mut sorted = values.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        for n in 1..=len {
            assert_eq!(nth_largest(values.iter().copied(), n), sorted[n - 1], "{n}th of {len}");
        }
    }
}
