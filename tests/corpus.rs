//! `simulate sweep --corpus DIR`: seeds that failed go into the corpus,
//! later sweeps run them before their range (once, if the range holds
//! them), seeds that pass stay, and a bad corpus is refused with exit 2.

mod common;

use common::{simulate, temp_path};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `scenarios/raft-bug-no-fsync.ron` without its `expect:` line: its
/// bug's failures are unexpected, on some seeds.
fn buggy(name: &str) -> PathBuf {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/raft-bug-no-fsync.ron")).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("expect:"))
        .collect();
    let path = temp_path(&format!("{name}.ron"));
    std::fs::write(&path, kept.join("\n")).unwrap();
    path
}

/// What a sweep printed and wrote.
struct Swept {
    code: i32,
    stdout: String,
    stderr: String,
    json: Value,
}

/// `simulate sweep FILE --seeds SEEDS --jobs 1 --corpus CORPUS EXTRA...`.
fn sweep(file: &Path, seeds: &str, corpus: &Path, extra: &[&str], name: &str) -> Swept {
    let (json, out) = (
        temp_path(&format!("{name}.json")),
        temp_path(&format!("{name}-reports")),
    );
    let mut args = vec![
        "sweep",
        file.to_str().unwrap(),
        "--seeds",
        seeds,
        "--jobs",
        "1",
        "--corpus",
        corpus.to_str().unwrap(),
    ];
    args.extend_from_slice(&["--json", json.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    args.extend_from_slice(extra);
    let done = simulate(&args);
    let _ = std::fs::remove_dir_all(&out);
    let text = std::fs::read_to_string(&json).unwrap_or_default();
    let _ = std::fs::remove_file(&json);
    Swept {
        code: done.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&done.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&done.stderr).into_owned(),
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

fn numbers(v: &Value) -> Vec<u64> {
    v.as_array().unwrap().iter().map(|s| s.as_u64().unwrap()).collect()
}

/// The seeds of the first scenario that failed or were unknown.
fn not_passed(summary: &Value) -> Vec<u64> {
    let mut seeds = numbers(&summary["scenarios"][0]["failed"]);
    seeds.extend(numbers(&summary["scenarios"][0]["unknown"]));
    seeds.sort_unstable();
    seeds
}

/// The seeds a corpus file lists, in its order.
fn listed(file: &Path) -> Vec<u64> {
    let text = std::fs::read_to_string(file).unwrap();
    let seeds = text.lines().map(|l| l.split('#').next().unwrap().trim());
    seeds.filter(|s| !s.is_empty()).map(|s| s.parse().unwrap()).collect()
}

/// The seeds of the `fail`/`unknown` lines, in the order printed.
fn printed(stdout: &str) -> Vec<u64> {
    let seed = |l: &str| l.split(" seed ").nth(1)?.split(':').next()?.parse().ok();
    stdout
        .lines()
        .filter(|l| l.starts_with("fail ") || l.starts_with("unknown "))
        .filter_map(seed)
        .collect()
}

#[test]
fn failing_seeds_are_kept_and_run_first_by_a_later_sweep() {
    let scenario = buggy("corpus-buggy");
    let corpus = temp_path("corpus-dir");
    let _ = std::fs::remove_dir_all(&corpus);
    let file = corpus.join("raft-bug-no-fsync.seeds");

    // A first sweep creates the folder and writes the failing seeds.
    let first = sweep(&scenario, "0..10", &corpus, &[], "corpus-first");
    let failing = not_passed(&first.json);
    assert_eq!(first.code, 1, "{}{}", first.stdout, first.stderr);
    assert!(!failing.is_empty() && failing.len() < 10, "{failing:?}");
    assert_eq!(listed(&file), failing);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(&format!("{}  # failed: ", failing[0])), "{text}");
    assert_eq!(first.json["corpus_ran"], 0);
    assert_eq!(first.json["scenarios"][0]["corpus_size"], 0);

    // The same range again: the corpus seeds run in their place, once; the
    // same digest, and nothing new to add.
    let again = sweep(&scenario, "0..10", &corpus, &[], "corpus-again");
    assert_eq!(
        (again.json["ran"].as_u64(), again.json["corpus_ran"].as_u64()),
        (Some(10), Some(0))
    );
    assert_eq!(again.json["digest"], first.json["digest"]);
    assert_eq!(again.json["scenarios"][0]["corpus_size"], failing.len());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text, "the file is unchanged");

    // Another range: the corpus seeds run first, still fail (runs are
    // deterministic), and count in the totals.
    let later = sweep(&scenario, "100..105", &corpus, &[], "corpus-later");
    let s = &later.json["scenarios"][0];
    assert_eq!(numbers(&s["corpus"]), failing);
    assert_eq!(later.json["corpus_ran"], failing.len());
    assert_eq!(later.json["ran"], 5 + failing.len());
    assert_eq!(later.json["planned"], 5 + failing.len());
    let listed_seeds: Vec<String> = failing.iter().map(u64::to_string).collect();
    let corpus_seeds = format!(
        "corpus seed{} {}",
        if failing.len() == 1 { "" } else { "s" },
        listed_seeds.join(", ")
    );
    assert_eq!(s["seeds_ran"], format!("100..105 and {corpus_seeds}"));
    let now = not_passed(&later.json);
    assert!(failing.iter().all(|f| now.contains(f)), "{now:?} {failing:?}");
    let order = printed(&later.stdout);
    assert_eq!(
        order[..failing.len()],
        failing[..],
        "corpus seeds first:\n{}",
        later.stdout
    );
    assert!(order[failing.len()..].iter().all(|s| (100..105).contains(s)));
    assert!(
        later.stdout.contains(&format!("+ {} corpus seed", failing.len())),
        "{}",
        later.stdout
    );
    // New failures of 100..105 are appended below the old lines.
    let new: Vec<u64> = now.iter().copied().filter(|s| *s >= 100).collect();
    let after = std::fs::read_to_string(&file).unwrap();
    assert!(after.starts_with(&text));
    assert_eq!(listed(&file), [failing.clone(), new].concat());

    // With --fail-fast the first corpus seed, a known failure, stops the
    // sweep before the range; the JUnit has its failure.
    let xml = temp_path("corpus-ff.xml");
    let ff = sweep(
        &scenario,
        "200..210",
        &corpus,
        &["--fail-fast", "--junit", xml.to_str().unwrap()],
        "corpus-ff",
    );
    let junit = std::fs::read_to_string(&xml).unwrap();
    std::fs::remove_file(&xml).unwrap();
    assert_eq!((ff.code, ff.json["ran"].as_u64()), (1, Some(1)), "{}", ff.stdout);
    assert_eq!(printed(&ff.stdout), [failing[0]]);
    let s = &ff.json["scenarios"][0];
    assert_eq!(s["seeds_ran"], format!("corpus seed {}", failing[0]));
    assert!(
        s["seeds_not_run"]
            .as_str()
            .unwrap()
            .starts_with("200..210 and corpus seeds "),
        "{s}"
    );
    assert!(
        junit.contains(&format!("name=\"seeds corpus seed {}\"", failing[0])),
        "{junit}"
    );
    assert!(
        junit.contains("<failure message=\"1 of 1 seeds did not pass"),
        "{junit}"
    );
    std::fs::remove_dir_all(&corpus).unwrap();
}

#[test]
fn a_corpus_seed_that_passes_now_stays() {
    let corpus = temp_path("corpus-pass");
    std::fs::create_dir_all(&corpus).unwrap();
    let file = corpus.join("single-kv.seeds");
    let text = "# kept by hand\n77  # failed: Linearizable(kv) (fail)\n";
    std::fs::write(&file, text).unwrap();
    let scenario = Path::new("scenarios/single-kv.ron");
    let swept = sweep(scenario, "0..2", &corpus, &[], "corpus-pass");
    assert_eq!(swept.code, 0, "{}{}", swept.stdout, swept.stderr);
    assert_eq!(numbers(&swept.json["scenarios"][0]["corpus"]), [77]);
    assert_eq!(swept.json["ran"], 3);
    assert!(
        swept
            .stdout
            .contains("corpus single-kv: seed 77 ran before 0..2; none still fails"),
        "{}",
        swept.stdout
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), text);
    std::fs::remove_dir_all(&corpus).unwrap();
}

#[test]
fn expected_failures_of_a_bug_demonstration_are_not_kept() {
    let corpus = temp_path("corpus-demo");
    let _ = std::fs::remove_dir_all(&corpus);
    let demo = Path::new("scenarios/raft-bug-no-fsync.ron");
    let swept = sweep(demo, "0..10", &corpus, &[], "corpus-demo");
    assert_eq!(swept.code, 0, "{}{}", swept.stdout, swept.stderr);
    assert!(swept.json["failed_as_expected"].as_u64().unwrap() > 0);
    assert!(!corpus.join("raft-bug-no-fsync.seeds").exists());
    std::fs::remove_dir_all(&corpus).unwrap();
}

#[test]
fn a_bad_corpus_exits_2_and_says_where() {
    let scenario = Path::new("scenarios/single-kv.ron");
    let corpus = temp_path("corpus-bad");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(corpus.join("single-kv.seeds"), "# head\n3\n  4x  # typo\n").unwrap();
    let bad = sweep(scenario, "0..2", &corpus, &[], "corpus-bad");
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("single-kv.seeds:3:3: \"4x\" is not a seed; expected one seed per line"),
        "{}",
        bad.stderr
    );
    assert_eq!(bad.json, Value::Null, "nothing ran");

    let not_dir = corpus.join("single-kv.seeds");
    let bad = sweep(scenario, "0..2", &not_dir, &[], "corpus-not-dir");
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("is not a directory"), "{}", bad.stderr);
    std::fs::remove_dir_all(&corpus).unwrap();
}
