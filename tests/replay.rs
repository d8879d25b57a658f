//! Repro files and `simulate replay`: every failure replays to the same
//! trace hash and verdict; a replay that differs says so, and keeps the
//! record it was compared with.

mod common;

use common::{run_with_report, simulate, temp_dir};

#[test]
fn every_failing_seed_of_a_buggy_protocol_replays_exactly() {
    let dir = temp_dir("many");
    let mut failures = 0;
    for seed in 0..12 {
        let out = dir.join(seed.to_string());
        let seed = seed.to_string();
        let run = simulate(&[
            "run",
            "scenarios/raft-bug-no-fsync.ron",
            "--seed",
            &seed,
            "--out",
            out.to_str().unwrap(),
        ]);
        let code = run.status.code();
        if code != Some(1) {
            continue;
        }
        failures += 1;
        let repro = out.join("repro.ron");
        let replay = simulate(&["replay", repro.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&replay.stderr);
        assert_eq!(replay.status.code(), code, "seed {seed}: {stderr}");
        assert!(stderr.contains("reproduced: trace hash"), "seed {seed}: {stderr}");
        let first = String::from_utf8_lossy(&run.stdout);
        let hash = |text: &str| {
            text.lines()
                .find(|l| l.contains("trace "))
                .map(|l| l.rsplit(' ').next().unwrap().to_string())
        };
        assert_eq!(
            hash(&first),
            hash(&String::from_utf8_lossy(&replay.stdout)),
            "seed {seed}"
        );
    }
    assert!(failures >= 4, "only {failures} of 12 seeds failed");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_replay_that_differs_fails_and_keeps_the_record() {
    let dir = temp_dir("differs");
    let run = run_with_report("scenarios/single-kv.ron", 3, &dir);
    assert_eq!(run.status.code(), Some(0));
    let repro = dir.join("repro.ron");
    let text = std::fs::read_to_string(&repro).unwrap();
    let hash_line = text.lines().find(|l| l.contains("trace_hash")).unwrap();
    let tampered = text
        .replace(hash_line, "  trace_hash: \"0123456789abcdef\",")
        .replace("version: \"", "version: \"9.9.9-other");
    std::fs::write(&repro, &tampered).unwrap();
    let replay = simulate(&["replay", repro.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("warning: ") && stderr.contains("was written by simulate 9.9.9-other"),
        "{stderr}"
    );
    assert!(stderr.contains("the replay differs from the recorded run"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&repro).unwrap(), tampered, "the record is kept");
    let broken = simulate(&["replay", dir.join("summary.json").to_str().unwrap()]);
    assert_eq!(broken.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("not a repro file"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_repro_from_before_the_hash_changed_compares_its_verdict_only() {
    let dir = temp_dir("old-hash");
    let run = run_with_report("scenarios/single-kv.ron", 3, &dir);
    assert_eq!(run.status.code(), Some(0));
    let repro = dir.join("repro.ron");
    let text = std::fs::read_to_string(&repro).unwrap();
    let version = text.lines().find(|l| l.contains("version: ")).unwrap();
    let hash_line = text.lines().find(|l| l.contains("trace_hash")).unwrap();
    for (old_version, why) in [
        ("0.1.0", "another way (before 0.2)"),
        ("0.2.3", "wake-ups another way (before 0.3)"),
        ("0.3.0", "as a madsim task (before 0.4)"),
    ] {
        let old = text
            .replace(version, &format!("  version: \"{old_version}\","))
            .replace(hash_line, "  trace_hash: \"0123456789abcdef\",");
        std::fs::write(&repro, &old).unwrap();
        let replay = simulate(&["replay", repro.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&replay.stderr);
        assert_eq!(replay.status.code(), Some(0), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(stderr.contains("only the verdict is compared"), "{stderr}");
        assert!(stderr.contains("reproduced: verdict pass as recorded"), "{stderr}");
    }
    let old = text
        .replace(version, "  version: \"0.1.0\",")
        .replace(hash_line, "  trace_hash: \"0123456789abcdef\",");
    std::fs::write(&repro, old.replace("verdict: \"pass\"", "verdict: \"fail\"")).unwrap();
    let replay = simulate(&["replay", repro.to_str().unwrap()]);
    assert_eq!(replay.status.code(), Some(1), "a verdict that differs still fails");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replay_trace_shows_one_nodes_events_in_a_window_with_its_clock() {
    let dir = temp_dir("trace");
    let run = run_with_report("scenarios/raft-kv.ron", 2, &dir);
    assert_eq!(run.status.code(), Some(0));
    let repro = dir.join("repro.ron");
    // raft-kv jumps the leader's clock back 2s at 15s: find whose.
    let all = simulate(&[
        "replay",
        repro.to_str().unwrap(),
        "--trace",
        "--from",
        "15s",
        "--to",
        "15.0001s",
    ]);
    let all = String::from_utf8_lossy(&all.stdout);
    let jump = all
        .lines()
        .find(|l| l.contains("clock-jump"))
        .expect("the jump is in the window");
    let leader = jump.split("node=").nth(1).unwrap().split_whitespace().next().unwrap();
    let args = [
        "replay",
        repro.to_str().unwrap(),
        "--trace",
        "--node",
        leader,
        "--from",
        "15s",
        "--to",
        "15.1s",
    ];
    let out = simulate(&args);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 10, "{text}");
    for line in &lines {
        let words: Vec<&str> = line.split_whitespace().collect();
        let t: f64 = words[0].parse().unwrap();
        assert!((15.0..=15.1).contains(&t), "{line}");
        assert!(words[1].starts_with(&format!("{leader}@")), "{line}");
        assert!(line.contains(leader), "{line}");
    }
    let jump = lines
        .iter()
        .position(|l| l.contains(&format!("clock-jump node={leader} by=-2s")))
        .expect("the jump is shown");
    let local = |l: &str| l.split_whitespace().nth(1).unwrap()[3..].parse::<f64>().unwrap();
    assert!(
        local(lines[jump]) < 13.1,
        "after the jump the leader believes it is about 13s: {}",
        lines[jump]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_repro_of_a_protocol_this_binary_does_not_know_is_refused_not_run() {
    let dir = temp_dir("custom");
    let run = run_with_report("scenarios/single-kv.ron", 0, &dir);
    assert_eq!(run.status.code(), Some(0));
    let repro = dir.join("repro.ron");
    let text = std::fs::read_to_string(&repro).unwrap();
    std::fs::write(
        &repro,
        text.replacen("protocol: Single", "protocol: Custom(\"mine\")", 1),
    )
    .unwrap();
    let replay = simulate(&["replay", repro.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown protocol Custom; expected one of"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn replay_out_naming_the_repros_own_folder_another_way_keeps_the_record() {
    let dir = temp_dir("aliases");
    let run = run_with_report("scenarios/single-kv.ron", 3, &dir);
    assert_eq!(run.status.code(), Some(0));
    let repro = dir.join("repro.ron");
    let text = std::fs::read_to_string(&repro).unwrap();
    let hash_line = text.lines().find(|l| l.contains("trace_hash")).unwrap();
    let tampered = text.replace(hash_line, "  trace_hash: \"0123456789abcdef\",");
    std::fs::write(&repro, &tampered).unwrap();
    let name = dir.file_name().unwrap().to_str().unwrap();
    let link = dir.with_extension("link");
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    for alias in [
        dir.join("."),
        dir.join("..").join(name),
        dir.join("x").join(".."),
        link.clone(),
    ] {
        if !alias.exists() {
            continue;
        }
        let replay = simulate(&["replay", repro.to_str().unwrap(), "--out", alias.to_str().unwrap()]);
        assert_eq!(replay.status.code(), Some(1), "{}", alias.display());
        assert_eq!(
            std::fs::read_to_string(&repro).unwrap(),
            tampered,
            "--out {} kept the record",
            alias.display()
        );
    }
    // Another folder gets a repro of its own, of the run as it went now.
    let other = dir.with_extension("other");
    let replay = simulate(&["replay", repro.to_str().unwrap(), "--out", other.to_str().unwrap()]);
    assert_eq!(replay.status.code(), Some(1));
    let again = simulate(&["replay", other.join("repro.ron").to_str().unwrap()]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let _ = std::fs::remove_file(&link);
    std::fs::remove_dir_all(&other).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_trace_filter_that_can_show_nothing_is_refused() {
    let dir = temp_dir("filter");
    assert_eq!(
        run_with_report("scenarios/single-kv.ron", 0, &dir).status.code(),
        Some(0)
    );
    let repro = dir.join("repro.ron");
    let repro = repro.to_str().unwrap();
    for (args, words) in [
        (
            &["--trace", "--node", "n999"][..],
            "--node n999: the scenario has nodes n0 to n0",
        ),
        (
            &["--trace", "--from", "10s", "--to", "1s"],
            "--from 10s is after --to 1s",
        ),
        (&["--node", "n0"], "--trace"),
    ] {
        let out = simulate(&[&["replay", repro][..], args].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
