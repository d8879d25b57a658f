//! `simulate merge`: the shards of a sweep add up to the unsharded sweep
//! (summary, digest, JUnit, printed lines, exit code), and summaries that
//! are not the shards of one whole sweep are refused.

mod common;

use common::{simulate, temp_path};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `file` without its `expect:` line: its bug's failures are failures.
fn unexpected(file: &str, name: &str) -> PathBuf {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file)).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("expect:"))
        .collect();
    let path = temp_path(&format!("{name}.ron"));
    std::fs::write(&path, kept.join("\n")).unwrap();
    path
}

/// A scenario with a sometimes property no seed sees (no fault replaces
/// the leader) and one some seeds may.
fn calm(name: &str) -> PathBuf {
    let src = r#"Scenario(name: "calm", protocol: Raft(), nodes: 3, duration: "2s",
        workload: (clients: 1, ops: 20), checks: [LeaderReplaced, ElectionSafety])"#;
    let path = temp_path(&format!("{name}.ron"));
    std::fs::write(&path, src).unwrap();
    path
}

/// What a sweep or merge printed and wrote.
struct Swept {
    code: i32,
    stdout: String,
    json: Value,
    junit: String,
}

/// Runs `simulate ARGS --json J --junit X` and reads what it wrote.
fn run(args: &[&str], name: &str) -> Swept {
    let (json, xml) = (temp_path(&format!("{name}.json")), temp_path(&format!("{name}.xml")));
    let mut all = args.to_vec();
    all.extend_from_slice(&["--json", json.to_str().unwrap(), "--junit", xml.to_str().unwrap()]);
    let out = simulate(&all);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let text = std::fs::read_to_string(&json).unwrap_or_else(|e| panic!("{name}: {e}: {stderr}"));
    let junit = std::fs::read_to_string(&xml).unwrap();
    std::fs::remove_file(&xml).unwrap();
    Swept {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        json: serde_json::from_str(&text).unwrap(),
        junit,
    }
}

/// Sweeps `files` over `seeds` (with `extra` arguments), reports under
/// `out`, keeping the JSON summary at `temp_path(name.json)`.
fn sweep(files: &[&str], seeds: &str, extra: &[&str], out: &Path, name: &str) -> Swept {
    let mut args = vec!["sweep"];
    args.extend_from_slice(files);
    args.extend_from_slice(&["--seeds", seeds, "--jobs", "1", "--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    run(&args, name)
}

/// The summary without what depends on the machine or the worker count.
fn timeless(summary: &Value) -> Value {
    let mut s = summary.clone();
    for field in ["wall_s", "jobs", "run_s"] {
        s.as_object_mut().unwrap().remove(field).expect(field);
    }
    for scenario in s["scenarios"].as_array_mut().unwrap() {
        scenario.as_object_mut().unwrap().remove("run_s").expect("run_s");
    }
    s
}

/// XML with every `time="..."` attribute emptied.
fn without_times(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(at) = rest.find(" time=\"") {
        let value = at + " time=\"".len();
        let end = value + rest[value..].find('"').unwrap();
        out.push_str(&rest[..value]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The summary line without its timing and job count.
fn swept_line(stdout: &str) -> (String, String) {
    let line = stdout.lines().find(|l| l.starts_with("swept ")).unwrap();
    let (head, _) = line.split_once(" jobs) in ").unwrap();
    let head = head.rsplit_once(", ").unwrap().0.to_string();
    (head, line.split_once(" runs/s: ").unwrap().1.to_string())
}

fn path_of(name: &str) -> String {
    temp_path(&format!("{name}.json")).display().to_string()
}

#[test]
fn four_shards_merge_into_the_unsharded_sweep() {
    let buggy = unexpected("scenarios/raft-bug-no-fsync.ron", "merge-buggy");
    let calm = calm("merge-calm");
    let files = [
        "scenarios/single-kv.ron",
        "scenarios/raft-bug-no-fsync.ron",
        buggy.to_str().unwrap(),
        calm.to_str().unwrap(),
    ];
    let out = temp_path("merge-reports");
    let whole = sweep(&files, "0..10", &[], &out, "merge-whole");
    let mut shards = Vec::new();
    for k in 0..4 {
        let shard = format!("{k}/4");
        let part = sweep(&files, "0..10", &["--shard", &shard], &out, &format!("merge-shard{k}"));
        assert_eq!(part.json["shard"]["count"], 4);
        shards.push(path_of(&format!("merge-shard{k}")));
    }
    let mut args = vec!["merge"];
    args.extend(shards.iter().map(String::as_str));
    let merged = run(&args, "merge-merged");
    std::fs::remove_dir_all(&out).unwrap();

    // The sweep is not trivial: seeds passed, failed as expected, failed
    // unexpectedly, and a sometimes property went unseen.
    let w = &whole.json;
    assert_eq!(whole.code, 1, "{}", whole.stdout);
    assert!(
        w["passed"].as_u64().unwrap() > 0 && w["failed"].as_u64().unwrap() > 0,
        "{w}"
    );
    assert!(w["failed_as_expected"].as_u64().unwrap() > 0, "{w}");
    assert_eq!(w["scenarios"][3]["never_seen"], serde_json::json!(["LeaderReplaced"]));
    // single-kv's clock jump hits nothing (Single never reads its clock):
    // inert in every shard, so inert in the merge.
    assert_eq!(w["scenarios"][0]["inert"], serde_json::json!(["clock_jump"]));
    assert_eq!(w["scenarios"][0]["fault_effects"]["crash"], 10, "{w}");
    assert!(!w["scenarios"][2]["not_passed"].as_array().unwrap().is_empty());

    assert_eq!(merged.json["digest"], whole.json["digest"]);
    assert_eq!(timeless(&merged.json), timeless(&whole.json));
    assert_eq!(merged.json["jobs"], 4, "one worker per shard");
    assert_eq!(without_times(&merged.junit), without_times(&whole.junit));
    assert_eq!(merged.code, whole.code);
    assert_eq!(swept_line(&merged.stdout), swept_line(&whole.stdout));
    let before = |s: &str| s[..s.find("swept ").unwrap()].to_string();
    assert_eq!(
        before(&merged.stdout),
        before(&whole.stdout),
        "the same findings, expected failures, never-seen and inert lines"
    );
    for shard in &shards {
        std::fs::remove_file(shard).unwrap();
    }
    for name in ["merge-whole", "merge-merged"] {
        std::fs::remove_file(path_of(name)).unwrap();
    }
}

#[test]
fn a_passing_sweep_merges_to_a_passing_summary() {
    let out = temp_path("merge-pass-reports");
    let files = ["scenarios/single-kv.ron", "scenarios/raft-bug-no-fsync.ron"];
    let whole = sweep(&files, "0..6", &[], &out, "merge-pass-whole");
    let a = sweep(&files, "0..6", &["--shard", "0/2"], &out, "merge-pass-0");
    let b = sweep(&files, "0..6", &["--shard", "1/2"], &out, "merge-pass-1");
    assert_ne!(a.json["digest"], whole.json["digest"]);
    // Given in any order.
    let merged = run(
        &["merge", &path_of("merge-pass-1"), &path_of("merge-pass-0")],
        "merge-pass-merged",
    );
    assert_eq!((whole.code, merged.code), (0, 0), "{}", merged.stdout);
    assert_eq!(timeless(&merged.json), timeless(&whole.json));
    assert_eq!(b.json["seeds"], whole.json["seeds"]);
    for name in ["merge-pass-whole", "merge-pass-0", "merge-pass-1", "merge-pass-merged"] {
        std::fs::remove_file(path_of(name)).unwrap();
    }
}

/// `simulate merge ARGS`: (exit code, stderr).
fn refused(args: &[&str]) -> (i32, String) {
    let mut all = vec!["merge"];
    all.extend_from_slice(args);
    let out = simulate(&all);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn summaries_that_are_not_one_whole_sweep_are_refused() {
    let out = temp_path("merge-refuse-reports");
    let single = ["scenarios/single-kv.ron"];
    for k in 0..4 {
        let shard = format!("{k}/4");
        sweep(&single, "0..8", &["--shard", &shard], &out, &format!("merge-r{k}"));
    }
    let r: Vec<String> = (0..4).map(|k| path_of(&format!("merge-r{k}"))).collect();
    sweep(&single, "0..9", &["--shard", "3/4"], &out, "merge-range");
    let two = ["scenarios/single-kv.ron", "scenarios/raft-bug-no-fsync.ron"];
    sweep(&two, "0..8", &["--shard", "3/4"], &out, "merge-files");
    sweep(&single, "0..8", &["--shard", "1/2"], &out, "merge-count");
    sweep(&single, "0..8", &["--shard", "3/4", "--swarm"], &out, "merge-swarm");
    let buggy = unexpected("scenarios/raft-bug-no-fsync.ron", "merge-ff");
    let ff = sweep(
        &[buggy.to_str().unwrap()],
        "0..8",
        &["--shard", "0/2", "--fail-fast"],
        &out,
        "merge-ff",
    );
    assert!(ff.json["ran"].as_u64() < ff.json["planned"].as_u64(), "{}", ff.json);
    // An interrupted shard, as a stop would leave it.
    let mut cut = sweep(&single, "0..8", &["--shard", "3/4"], &out, "merge-cut").json;
    cut["interrupted"] = true.into();
    cut["ran"] = 1.into();
    cut["stopped_because"] = "the sweep was interrupted".into();
    std::fs::write(path_of("merge-cut"), cut.to_string()).unwrap();
    std::fs::write(path_of("merge-junk"), "{\"seeds\": [1, 2]}").unwrap();
    std::fs::remove_dir_all(&out).unwrap();

    let (r0, r1, r2, r3) = (&r[0], &r[1], &r[2], &r[3]);
    let swarm = path_of("merge-swarm");
    let [range, files, count, cut, ff, junk] = [
        "merge-range",
        "merge-files",
        "merge-count",
        "merge-cut",
        "merge-ff",
        "merge-junk",
    ]
    .map(path_of);
    let cases: Vec<(Vec<&str>, Vec<String>)> = vec![
        (vec![r0, r1, r3], vec!["shard 2/4 is missing".into()]),
        (vec![r0, r3], vec!["shards 1/4, 2/4 are missing".into()]),
        (
            vec![r0, r1, r2, r3, r1],
            vec![format!("{r1} and {r1} are both shard 1/4")],
        ),
        (
            vec![r0, r1, r2, &range],
            vec![path_of("merge-range"), "sweeps seeds 0..9".into()],
        ),
        (
            vec![r0, r1, r2, &files],
            vec![path_of("merge-files"), "other scenarios".into()],
        ),
        (vec![r0, &count], vec![path_of("merge-count"), "shard 1/2".into()]),
        (
            vec![r0, r1, r2, &swarm],
            vec![format!("{swarm} was swept with --swarm")],
        ),
        (
            vec![r0, r1, r2, &cut],
            vec![format!("{} is interrupted", path_of("merge-cut"))],
        ),
        (
            vec![&ff],
            vec![format!("{} is incomplete", path_of("merge-ff")), "--fail-fast".into()],
        ),
        (
            vec![r0, &junk],
            vec![format!("{}:1:", path_of("merge-junk")), "not a sweep summary".into()],
        ),
        (
            vec!["/nonexistent/s.json"],
            vec!["cannot read /nonexistent/s.json".into()],
        ),
    ];
    for (args, words) in &cases {
        let (code, stderr) = refused(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        for w in words {
            assert!(stderr.contains(w.as_str()), "{args:?}: expected {w:?} in {stderr}");
        }
    }
    let (code, stderr) = refused(&[r0, r1, r2, r3]);
    assert_eq!(code, 0, "the four shards do merge: {stderr}");
    for name in [
        "merge-swarm",
        "merge-range",
        "merge-files",
        "merge-count",
        "merge-ff",
        "merge-cut",
        "merge-junk",
    ] {
        std::fs::remove_file(path_of(name)).unwrap();
    }
    for f in &r {
        std::fs::remove_file(f).unwrap();
    }
}

/// The seeds a corpus file lists.
fn corpus_seeds(file: &Path) -> std::collections::BTreeSet<u64> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let seeds = text.lines().map(|l| l.split('#').next().unwrap().trim());
    seeds.filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
}

#[test]
fn shards_with_a_corpus_share_its_seeds_and_merge_into_the_unsharded_sweep() {
    let buggy = unexpected("scenarios/raft-bug-no-fsync.ron", "merge-corpus-buggy");
    let files = [buggy.to_str().unwrap()];
    let out = temp_path("merge-corpus-reports");
    // Seeds outside the range, of both parities; each sweep gets its own
    // copy, as each CI job would.
    let dirs: Vec<PathBuf> = (0..3).map(|k| temp_path(&format!("merge-corpus-{k}"))).collect();
    for dir in &dirs {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("raft-bug-no-fsync.seeds"), "1\n2 # two\n3\n4\n7\n").unwrap();
    }
    let corpus = |k: usize| dirs[k].to_str().unwrap().to_string();
    let whole = sweep(&files, "20..26", &["--corpus", &corpus(0)], &out, "merge-corpus-whole");
    let a = sweep(
        &files,
        "20..26",
        &["--shard", "0/2", "--corpus", &corpus(1)],
        &out,
        "merge-corpus-0",
    );
    let b = sweep(
        &files,
        "20..26",
        &["--shard", "1/2", "--corpus", &corpus(2)],
        &out,
        "merge-corpus-1",
    );
    let merged = run(
        &["merge", &path_of("merge-corpus-0"), &path_of("merge-corpus-1")],
        "merge-corpus-merged",
    );
    assert_eq!(whole.json["corpus_ran"], 5, "{}", whole.stdout);
    assert_eq!(whole.json["ran"], 11);
    // Shard 0/2 of 20..26 owns the seeds that are even from 20: 2 and 4.
    assert_eq!(a.json["scenarios"][0]["corpus"], serde_json::json!([2, 4]));
    assert_eq!(b.json["scenarios"][0]["corpus"], serde_json::json!([1, 3, 7]));
    assert_eq!(merged.json["digest"], whole.json["digest"]);
    assert_eq!(timeless(&merged.json), timeless(&whole.json));
    assert_eq!(merged.code, whole.code);
    assert_eq!(swept_line(&merged.stdout), swept_line(&whole.stdout));
    // The shards' corpora together hold what the unsharded sweep's does.
    let file = |k: usize| dirs[k].join("raft-bug-no-fsync.seeds");
    let joined: std::collections::BTreeSet<u64> =
        corpus_seeds(&file(1)).union(&corpus_seeds(&file(2))).copied().collect();
    assert_eq!(joined, corpus_seeds(&file(0)));

    // A shard that read no corpus is not a shard of this sweep.
    sweep(&files, "20..26", &["--shard", "1/2"], &out, "merge-corpus-none");
    let (code, stderr) = refused(&[&path_of("merge-corpus-0"), &path_of("merge-corpus-none")]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("read another seed corpus"), "{stderr}");
    std::fs::remove_dir_all(&out).unwrap();
    for dir in &dirs {
        std::fs::remove_dir_all(dir).unwrap();
    }
    for name in [
        "merge-corpus-whole",
        "merge-corpus-0",
        "merge-corpus-1",
        "merge-corpus-merged",
        "merge-corpus-none",
    ] {
        std::fs::remove_file(path_of(name)).unwrap();
    }
}
