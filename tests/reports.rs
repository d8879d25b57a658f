//! Report folders: when they are written, the pictures, and index.html.

mod common;

use common::{run_with_report, simulate, temp_path};
use simulate::trace::timeline::Timeline;
use simulate::world::RunOptions;
use std::path::Path;

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every `href="..."` and `src="..."` in a page.
fn references(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attr in ["href=\"", "src=\""] {
        for (i, _) in page.match_indices(attr) {
            let rest = &page[i + attr.len()..];
            found.push(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    found
}

#[test]
fn a_failing_run_writes_a_self_contained_page_with_its_pictures() {
    let dir = temp_path("report-stale-read");
    let _ = std::fs::remove_dir_all(&dir);
    let out = simulate(&[
        "run",
        "scenarios/raft-bug-stale-leader-read.ron",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let page = read(&dir, "index.html");
    assert!(page.starts_with("<!doctype html>") && page.trim_end().ends_with("</html>"));
    assert!(page.contains("FAIL: a check found a bug"));
    let replay = format!("simulate replay {}", dir.join("repro.ron").display());
    assert!(page.contains(&replay), "the page gives the replay command");
    // Self-contained: the pictures are inside, nothing is fetched, and
    // every link is a file beside it.
    assert_eq!(page.matches("<svg").count(), 3, "space-time, latency, counterexample");
    assert!(!page.contains("<script") && !page.contains("<link") && !page.contains("url("));
    for target in references(&page) {
        assert!(
            dir.join(&target).is_file(),
            "index.html links to {target}, which is missing"
        );
    }
    for picture in ["spacetime.svg", "latency.svg", "counterexample.svg"] {
        let svg = read(&dir, picture);
        assert!(page.contains(svg.trim_start()), "{picture} is inlined whole");
    }

    // The space-time diagram centres on the stale read: it names the check
    // and gives the client that exposed it a lane.
    let spacetime = read(&dir, "spacetime.svg");
    let label = "Linearizable(kv): op ";
    let at = spacetime.find(label).expect("the failure is labelled");
    let client = spacetime[at..]
        .split("client ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    // plotters writes each text on a line of its own.
    assert!(
        spacetime.contains(&format!("\n{client}\n</text>")),
        "{client} has a lane"
    );
    assert!(spacetime.contains("\npartition n"), "the partition band is labelled");
    assert!(
        spacetime.contains("lost message"),
        "messages lost to the partition are marked"
    );
}

#[test]
fn a_raft_invariant_failure_shows_the_crash_and_the_new_leader() {
    let dir = temp_path("report-no-fsync");
    let _ = std::fs::remove_dir_all(&dir);
    let out = simulate(&["run", "scenarios/raft-bug-no-fsync.ron", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let spacetime = read(&dir, "spacetime.svg");
    assert!(
        spacetime.contains("LeaderCompleteness"),
        "the first violation is the focus"
    );
    // Crash bands are filled with the crash colour; plotters writes the
    // fill as #RRGGBB.
    let hex = |c: simulate::plot::RGBColor| format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2);
    let fill = format!("fill=\"{}\"", hex(simulate::plot::CRASH));
    assert!(
        spacetime.matches(&fill).count() >= 2,
        "a crash band besides the legend's swatch"
    );
    // The new leader's lane is drawn 6 px thick (the legend's line is 2).
    let leader = format!("stroke=\"{}\" stroke-width=\"6\"", hex(simulate::plot::LEADER));
    assert!(spacetime.contains(&leader), "a leader's lane is drawn thick");
    let page = read(&dir, "index.html");
    assert!(
        page.contains("invariant violated: LeaderCompleteness"),
        "listed with the faults"
    );
    assert!(page.contains(" crashed</td>"), "the crashes are listed");
}

#[test]
fn a_passing_run_writes_a_report_only_when_asked() {
    let dir = temp_path("report-pass");
    let _ = std::fs::remove_dir_all(&dir);
    let out = simulate(&["run", "scenarios/single-kv.ron", "--out", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!dir.exists(), "a pass writes no folder by default");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("report:  not written"), "{text}");
    assert!(
        text.contains("replay:  simulate run scenarios/single-kv.ron --seed 0"),
        "{text}"
    );

    let out = run_with_report("scenarios/single-kv.ron", 0, &dir);
    assert_eq!(out.status.code(), Some(0));
    let page = read(&dir, "index.html");
    assert!(page.contains("PASS: every check held"));
    assert_eq!(page.matches("<svg").count(), 2, "no counterexample for a pass");
    assert!(!dir.join("counterexample.svg").exists());

    let failing = temp_path("report-never");
    let _ = std::fs::remove_dir_all(&failing);
    let args = ["run", "scenarios/raft-bug-no-fsync.ron", "--report", "never", "--out"];
    let out = simulate(&[&args[..], &[failing.to_str().unwrap()]].concat());
    assert_eq!(out.status.code(), Some(1));
    assert!(!failing.exists(), "--report never writes nothing, even for a failure");
}

#[test]
fn the_timeline_of_a_run_holds_every_fault_the_run_counted() {
    let outcome = common::load("scenarios/chaos-smoke.ron").run(0, &RunOptions::default());
    let t = Timeline::from_trace(outcome.trace.text());
    let f = &outcome.stats.faults;
    let count = |state| t.node_bands.iter().filter(|b| b.state_name() == state).count() as u64;
    assert_eq!(count("crashed"), f.get("crash"));
    assert_eq!(count("paused"), f.get("pause"));
    let jumps = t.marks.iter().filter(|m| m.label.starts_with("clock ")).count();
    assert_eq!(jumps as u64, f.get("clock-jump"));
    assert!(!t.partitions.is_empty());
    for p in &t.partitions {
        assert!(p.from_ns < p.to_ns && !p.cut.is_empty(), "{p:?}");
    }
    let sent = outcome.stats.messages.sent + outcome.stats.messages.duplicated;
    assert_eq!(t.messages.len() as u64, sent, "every message and every copy");
    assert_eq!(t.ops.len() as u64, outcome.history.counts().invoked);
    // The primary of primary-backup says it leads; n0 starts as primary.
    let first = t.leaders.first().expect("a leader is recorded");
    assert_eq!(first.node, 0, "{:?}", t.leaders);
    // Leadership ends at the latest when the leader crashes.
    for l in &t.leaders {
        let crashed = t
            .node_bands
            .iter()
            .find(|b| b.node == l.node && b.state_name() == "crashed" && b.from_ns >= l.from_ns);
        if let Some(c) = crashed {
            assert!(l.to_ns <= c.from_ns, "{l:?} outlived its node's crash {c:?}");
        }
    }
}

#[test]
fn a_reused_folder_loses_the_counterexample_of_an_earlier_run() {
    let dir = temp_path("report-reused");
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.to_str().unwrap();
    let failing = simulate(&["run", "scenarios/raft-bug-stale-leader-read.ron", "--out", out]);
    assert_eq!(failing.status.code(), Some(1));
    assert!(dir.join("counterexample.svg").exists());
    let passing = run_with_report("scenarios/single-kv.ron", 0, &dir);
    assert_eq!(passing.status.code(), Some(0));
    for stale in ["counterexample.svg", "counterexample.html", "linearizability.txt"] {
        assert!(!dir.join(stale).exists(), "{stale} is left from the failing run");
    }
    assert!(read(&dir, "index.html").contains("PASS"));

    // Cleaning up is best effort: what cannot be removed does not cost
    // the report.
    std::fs::create_dir_all(dir.join("counterexample.svg")).unwrap();
    std::fs::remove_file(dir.join("index.html")).unwrap();
    let again = run_with_report("scenarios/single-kv.ron", 0, &dir);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(dir.join("index.html").is_file());
}

#[test]
fn a_paxos_timeline_names_its_message_kinds_and_draws_each_new_leader() {
    let outcome = common::load("scenarios/paxos-leader-isolation.ron").run(0, &RunOptions::default());
    let t = Timeline::from_trace(outcome.trace.text());
    let kinds: std::collections::BTreeSet<&str> = t.messages.iter().map(|m| &*m.kind).collect();
    for kind in ["Prepare", "Promise", "Accept", "Accepted", "Commit"] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    // The leader is cut off every 1.2s: leadership moves, and each
    // leader's lane is a band of its own.
    let leaders: std::collections::BTreeSet<u32> = t.leaders.iter().map(|l| l.node).collect();
    assert!(leaders.len() >= 2, "{:?}", t.leaders);
    for pair in t.leaders.windows(2) {
        assert!(pair[0].from_ns <= pair[1].from_ns, "{pair:?}");
    }
}
