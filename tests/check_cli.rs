//! `simulate check` on hand-written histories in every import format,
//! linearizable and not; bad input; the report it writes.

use std::path::{Path, PathBuf};
mod common;

use common::simulate;

fn out_dir(name: &str) -> PathBuf {
    common::temp_path(&format!("check-{name}"))
}

fn histories() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn every_hand_written_history_gets_the_verdict_its_name_says() {
    let files = histories();
    assert!(files.len() >= 12, "{files:?}");
    for file in files {
        let name = file.file_name().unwrap().to_str().unwrap();
        let dir = out_dir(name);
        let out = simulate(&[
            "check",
            file.to_str().unwrap(),
            "--json",
            "--out",
            dir.to_str().unwrap(),
        ]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let (verdict, code) = if name.contains("-bad") {
            ("not-linearizable", 1)
        } else {
            ("linearizable", 0)
        };
        assert_eq!(json["verdict"], verdict, "{name}: {json}");
        assert_eq!(out.status.code(), Some(code), "{name}");
        for key in ["ops", "partitions", "wall_ms"] {
            assert!(json[key].is_number(), "{name}: {key}");
        }
        assert_eq!(dir.join("counterexample.html").exists(), code == 1, "{name}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn formats_and_models_follow_from_the_file_and_its_ops() {
    for (file, format, model) in [
        ("tests/histories/kv-append-ok.txt", "porcupine-kv", "kv"),
        (
            "tests/histories/etcd-timeouts-ok.log",
            "jepsen-etcd-log",
            "cas-register",
        ),
        ("tests/histories/mutex-ok.edn", "knossos-edn", "mutex"),
        ("tests/histories/multi-register-ok.edn", "knossos-edn", "multi-register"),
        ("tests/histories/native-ok.jsonl", "native", "kv"),
    ] {
        let dir = out_dir("infer");
        let out = simulate(&["check", file, "--json", "--out", dir.to_str().unwrap()]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (json["format"].as_str(), json["model"].as_str()),
            (Some(format), Some(model)),
            "{file}"
        );
    }
}

#[test]
fn the_initial_value_decides_a_history_that_reads_it() {
    // Reads 0 before anything is written: fine from 0 (Knossos's registers
    // start there, the knossos-edn default), impossible from nil.
    let file = "tests/histories/cas-register-ok.edn";
    let dir = out_dir("initial");
    let dir = dir.to_str().unwrap();
    let out = simulate(&["check", file, "--out", dir]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("model cas-register, initial 0"));
    let out = simulate(&["check", file, "--initial", "nil", "--out", dir]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    // Native and etcd histories start at nil (absent).
    let out = simulate(&["check", "tests/histories/native-ok.jsonl", "--out", dir]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("model kv, initial nil"));
}

#[test]
fn a_counterexample_names_the_ops_that_cannot_be_ordered() {
    let dir = out_dir("cx");
    let out = simulate(&[
        "check",
        "tests/histories/native-stale-read-bad.jsonl",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("counterexample in key \"k0\""), "{text}");
    assert!(
        text.contains("no linearization exists once op 1 (process 1, line 3): get \"k0\" -> nil has returned"),
        "{text}"
    );
    // The put completed before the get began: the window is the get
    // alone, starting from the value the put left.
    assert!(
        text.contains("smallest failing window: 1 ops, starting from \"v0\""),
        "{text}"
    );
    assert!(
        text.contains("then op 1 (process 1, line 3): get \"k0\" -> nil cannot take effect"),
        "{text}"
    );
    let page = std::fs::read_to_string(dir.join("counterexample.html")).unwrap();
    assert!(
        page.contains("<svg") && page.contains("get &quot;k0&quot; -&gt; nil"),
        "{page}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("check.json")).unwrap()).unwrap();
    assert_eq!(json["counterexample"]["blocked"], 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn malformed_histories_exit_2_with_file_and_line() {
    let dir = out_dir("bad-input");
    std::fs::create_dir_all(&dir).unwrap();
    let deep = "[".repeat(100_000);
    let cases = [
        (
            "g.log",
            "INFO  jepsen.util - 99999999999999999999 :invoke :write 1\n",
            ":1: process \"99999999999999999999\" is not a number",
        ),
        (
            "h.edn",
            deep.as_str(),
            ":1: values are nested more than 256 levels deep",
        ),
        (
            "i.edn",
            "[{:process 0 :type :invoke\n :type :ok :f :read}]",
            ":2: a map has the key :type twice",
        ),
        (
            "a.txt",
            "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0, :typo :ok}\n",
            ":2: expected {:process N",
        ),
        (
            "b.log",
            "INFO  jepsen.util - 3\t:invoke\t:write\tlots\n",
            ":1: not a jepsen etcd register operation",
        ),
        (
            "c.edn",
            "[{:process 0 :type :invoke :f :read}\n {:process 0 :type :invoke :f :read}]",
            ":2: process 0 invokes again",
        ),
        (
            "d.edn",
            "[{:process 0 :type :invoke :f :read :value \"unclosed}]",
            ":1: this string is never closed",
        ),
        ("e.jsonl", "{\"type\":\"ok\"}\n", ":1: not a history event"),
        (
            "f.edn",
            "[{:process 0 :type :invoke :f :frobnicate}]",
            ":1: model cas-register has no operation :frobnicate",
        ),
    ];
    for (name, text, expected) in &cases {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let out = simulate(&["check", file.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{}{expected}", file.display())),
            "{name}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    let binary = dir.join("j.txt");
    std::fs::write(
        &binary,
        b"{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n\xff\xfe",
    )
    .unwrap();
    let out = simulate(&["check", binary.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("j.txt:2: not UTF-8 text"),
        "{out:?}"
    );
    let bom = dir.join("k.txt");
    std::fs::write(
        &bom,
        "\u{feff}{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n",
    )
    .unwrap();
    assert_eq!(
        simulate(&["check", bom.to_str().unwrap(), "--out", dir.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
    let out = simulate(&["check", "tests/histories/mutex-ok.edn", "--model", "kv"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("model kv needs a key"));
    assert_eq!(simulate(&["check", "no/such.edn"]).status.code(), Some(2));
    assert_eq!(
        simulate(&["check", "Cargo.toml"]).status.code(),
        Some(2),
        "unknown format"
    );
    assert_eq!(
        simulate(&["check", "tests/histories/mutex-ok.edn", "--timeout", "soon"])
            .status
            .code(),
        Some(2)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_exhausted_budget_says_unknown_and_exits_3() {
    // 200 concurrent writes, then reads of 0 and then 1 (both written, so
    // no op is impossible on its own): refuting it means trying orders of
    // 200 writes.
    let dir = out_dir("budget");
    std::fs::create_dir_all(&dir).unwrap();
    let mut text = String::from("[");
    for p in 0..200 {
        text.push_str(&format!("{{:process {p} :type :invoke :f :write :value {p}}}\n"));
    }
    for p in 0..200 {
        text.push_str(&format!("{{:process {p} :type :ok :f :write :value {p}}}\n"));
    }
    for seen in [0, 1] {
        text.push_str(&format!(
            "{{:process 0 :type :invoke :f :read :value nil}}\n{{:process 0 :type :ok :f :read :value {seen}}}\n"
        ));
    }
    text.push(']');
    let file = dir.join("wide.edn");
    std::fs::write(&file, text).unwrap();
    let out = simulate(&[
        "check",
        file.to_str().unwrap(),
        "--timeout",
        "1ns",
        "--json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "unknown", "{json}");
    assert_eq!(out.status.code(), Some(3));
    let with = |memory: &str| {
        let memory = format!("--memory={memory}");
        simulate(&[
            "check",
            file.to_str().unwrap(),
            &memory,
            "--json",
            "--out",
            dir.to_str().unwrap(),
        ])
    };
    let out = with("64KiB");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["unknown"][0], "history: memory budget of 65536 bytes ran out",
        "{json}"
    );
    assert_eq!(out.status.code(), Some(3));
    for bad in ["0", "2TB", "-1GiB", "1.5GiB", "99999999999999GiB"] {
        let out = with(bad);
        assert_eq!(out.status.code(), Some(2), "--memory {bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--memory"),
            "--memory {bad}"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_runs_history_file_checks_to_the_same_verdict_as_the_run() {
    for (scenario, seed, code) in [
        ("scenarios/primary-backup-stale-reads.ron", "3", 1),
        ("scenarios/single-kv.ron", "3", 0),
    ] {
        let dir = out_dir("roundtrip");
        let run = simulate(&[
            "run",
            scenario,
            "--seed",
            seed,
            "--json",
            "--report",
            "always",
            "--out",
            dir.to_str().unwrap(),
        ]);
        let run_json: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
        let in_run = run_json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == "Linearizable(kv)")
            .unwrap();
        let history = dir.join("history.jsonl");
        let check_dir = dir.join("check");
        let out = simulate(&[
            "check",
            history.to_str().unwrap(),
            "--json",
            "--out",
            check_dir.to_str().unwrap(),
        ]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(code), "{scenario}: {json}");
        assert_eq!(in_run["verdict"], if code == 0 { "pass" } else { "fail" });
        assert_eq!(
            json["ops"].as_u64(),
            run_json["ops"]["invoked"]
                .as_u64()
                .map(|n| n - run_json["ops"]["fail"].as_u64().unwrap())
        );
        let text = std::fs::read_to_string(&history).unwrap();
        for line in text.lines() {
            let event: simulate::history::Event = serde_json::from_str(line).unwrap();
            assert_eq!(serde_json::to_string(&event).unwrap(), line, "lossless");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

/// Runs the `simulate` binary from `dir`.
fn simulate_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn the_default_report_folder_stays_under_reports_check_whatever_the_file_name() {
    let dir = common::temp_dir("check-dotted-name");
    let history = std::fs::read_to_string("tests/histories/native-ok.jsonl").unwrap();
    std::fs::write(dir.join("...jsonl"), &history).unwrap();
    std::fs::write(dir.join("a b.jsonl"), &history).unwrap();
    for (file, folder) in [("...jsonl", "history"), ("a b.jsonl", "a-b")] {
        let out = simulate_in(&dir, &["check", file]);
        assert_eq!(out.status.code(), Some(0), "{file}: {out:?}");
        let report = dir.join("reports/check").join(folder);
        assert!(report.join("check.json").is_file(), "{file}: {out:?}");
    }
    assert!(!dir.join("reports/check.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_reused_folder_loses_its_old_counterexample_when_the_verdict_passes() {
    let dir = out_dir("reused");
    let dir_arg = dir.to_str().unwrap();
    let bad = simulate(&[
        "check",
        "tests/histories/mutex-double-acquire-bad.edn",
        "--out",
        dir_arg,
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(dir.join("counterexample.html").is_file());
    let ok = simulate(&["check", "tests/histories/mutex-ok.edn", "--out", dir_arg]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(!dir.join("counterexample.html").exists());
    assert!(dir.join("check.json").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_initial_value_that_is_not_a_value_or_does_not_apply_exits_2() {
    let dir = out_dir("bad-initial");
    let dir = dir.to_str().unwrap();
    let register = "tests/histories/cas-register-ok.edn";
    for (file, initial, says) in [
        (
            register,
            "xyz",
            "--initial: \"xyz\" is not a value; expected nil, an integer",
        ),
        (register, "\"abc", "--initial: \"abc is not a properly quoted string"),
        (
            register,
            "99999999999999999999",
            "--initial: 99999999999999999999 is out of range",
        ),
        (
            "tests/histories/mutex-ok.edn",
            "0",
            "--initial: model mutex has no initial value",
        ),
        (
            "tests/histories/kv-append-ok.txt",
            "0",
            ":1: append concatenates strings, but keys start at 0 (--initial)",
        ),
    ] {
        let out = simulate(&["check", file, "--initial", initial, "--out", dir]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file} --initial {initial}: {stderr}");
        assert!(stderr.contains(says), "{file} --initial {initial}: {stderr}");
    }
    let quoted = simulate(&[
        "check",
        "tests/histories/kv-append-ok.txt",
        "--initial",
        "\"\"",
        "--out",
        dir,
    ]);
    assert_eq!(quoted.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_history_with_no_operations_exits_2_unless_allowed() {
    let dir = out_dir("empty");
    std::fs::create_dir_all(&dir).unwrap();
    let kv = std::fs::read_to_string("tests/histories/kv-append-ok.txt").unwrap();
    let cases: [(&str, &str, &[&str], &str); 7] = [
        ("a.jsonl", "", &[], "no operations found: the file is empty (read as native)"),
        ("b.txt", "\n\n", &[], "in its 2 lines read as porcupine-kv"),
        ("c.log", "", &[], "the file is empty (read as jepsen-etcd-log)"),
        ("d.edn", "[]", &[], "in its 1 line read as knossos-edn"),
        (
            "README.md",
            "# simulate\n\nA simulator.\n",
            &["--format", "jepsen-etcd-log"],
            "in its 3 lines read as jepsen-etcd-log, which passes over lines that are not `INFO jepsen.util - P ...` operations; is it another format, or cut short?",
        ),
        (
            "kv.log",
            &kv,
            &[],
            "read as jepsen-etcd-log, which passes over lines that are not `INFO jepsen.util - P ...` operations; it looks like porcupine-kv: is it --format porcupine-kv?",
        ),
        (
            "nemesis.edn",
            "[{:process :nemesis :type :info :f :start}]",
            &[],
            "in its 1 line read as knossos-edn",
        ),
    ];
    let dir_arg = dir.to_str().unwrap();
    for (name, text, flags, says) in cases {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let file_arg = file.to_str().unwrap();
        let out = simulate(&[&["check", file_arg, "--out", dir_arg], flags].concat());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(says), "{name}: {stderr}");
        assert!(
            stderr.contains(&format!("{}: no operations found", file.display())),
            "{name}: {stderr}"
        );
        assert!(
            stderr.contains("(--allow-empty accepts a history with none)"),
            "{name}: {stderr}"
        );
        let allowed = simulate(&[&["check", file_arg, "--out", dir_arg, "--json", "--allow-empty"], flags].concat());
        assert_eq!(allowed.status.code(), Some(0), "{name}: {allowed:?}");
        let json: serde_json::Value = serde_json::from_slice(&allowed.stdout).unwrap();
        assert_eq!(
            (json["verdict"].as_str(), json["ops"].as_u64()),
            (Some("linearizable"), Some(0))
        );
    }
    // Operations that all failed are a history, not an empty file.
    let failed = dir.join("failed.edn");
    let text = "[{:process 0 :type :invoke :f :write :value 1}\n {:process 0 :type :fail :f :write :value 1}]";
    std::fs::write(&failed, text).unwrap();
    let out = simulate(&["check", failed.to_str().unwrap(), "--out", dir_arg]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_change_no_verdict_in_any_format() {
    let dir = out_dir("crlf");
    std::fs::create_dir_all(&dir).unwrap();
    let dir_arg = dir.to_str().unwrap();
    let summary = |file: &Path| {
        let out = simulate(&["check", file.to_str().unwrap(), "--json", "--out", dir_arg]);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: {e}: {}", file.display(), String::from_utf8_lossy(&out.stderr)));
        (
            out.status.code(),
            json["verdict"].clone(),
            json["ops"].clone(),
            json["failed"].clone(),
        )
    };
    for file in histories() {
        let name = file.file_name().unwrap().to_str().unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        let windows = dir.join(name);
        std::fs::write(&windows, format!("\u{feff}{}", text.replace('\n', "\r\n"))).unwrap();
        assert_eq!(summary(&windows), summary(&file), "{name}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_error_quotes_a_long_line_only_in_part() {
    let dir = out_dir("long-line");
    std::fs::create_dir_all(&dir).unwrap();
    let long = "x".repeat(200_000);
    let cases = [
        (
            "a.txt",
            format!("{{:process 0, :typo :ok, :f :get, :key \"{long}\"}}\n"),
        ),
        (
            "b.txt",
            format!("{{:process 0, :type :{long}, :f :get, :key \"1\", :value nil}}\n"),
        ),
        ("c.log", format!("INFO  jepsen.util - 1 :invoke :write {long}\n")),
        ("d.log", format!("INFO  jepsen.util - {long} :invoke :write 1\n")),
        ("e.jsonl", format!("{{\"type\":\"{long}\"}}\n")),
        ("f.edn", format!("[{{:process 0 :type :{long} :f :read}}]")),
        ("g.edn", format!("[{{:process 0 :type :invoke :f :{long}}}]")),
        (
            "h.edn",
            format!("[{{:process 0 :type :invoke :f :cas :value [{long}]}}]"),
        ),
        (
            "i.edn",
            format!("[{{:process 0 :type :invoke :f :read :value 1{long}}}]"),
        ),
    ];
    for (name, text) in &cases {
        let file = dir.join(name);
        std::fs::write(&file, text).unwrap();
        let out = simulate(&["check", file.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name}: {}",
            &stderr[..stderr.len().min(500)]
        );
        assert!(
            stderr.len() < 600 && stderr.contains("xxx…"),
            "{name}: {} bytes: {}",
            stderr.len(),
            &stderr[..stderr.len().min(500)]
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_none_gives_the_verdict_without_a_counterexample() {
    let dir = out_dir("explain-none");
    let file = "tests/histories/native-stale-read-bad.jsonl";
    let out = simulate(&[
        "check",
        file,
        "--explain",
        "none",
        "--json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verdict"], "not-linearizable");
    assert!(json["counterexample"].is_null(), "{json}");
    assert!(!dir.join("counterexample.html").exists());
    let out = simulate(&[
        "check",
        file,
        "--explain",
        "full",
        "--json",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["counterexample"]["blocked"], 1, "{json}");
    assert_eq!(json["counterexample"]["left_out"], serde_json::json!([]));
    let out = simulate(&["check", file, "--explain", "some"]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `--checker no-stale-reads|no-lost-writes`: exit 1 on a violation, 0 on
/// a pass, 3 when a key was never read at the end, 2 on operations they
/// cannot read or options they do not take.
#[test]
fn regular_checkers_judge_history_files() {
    let check = |file: &str, checker: &str, extra: &[&str]| {
        let dir = out_dir(&format!("regular-{checker}"));
        let mut args = vec![
            "check",
            file,
            "--checker",
            checker,
            "--json",
            "--out",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = simulate(&args);
        let _ = std::fs::remove_dir_all(&dir);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
        (
            out.status.code(),
            json,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let stale = "tests/histories/kv-regular-stale-bad.jsonl";
    let inversion = "tests/histories/kv-regular-inversion-bad.jsonl";
    let (code, json, _) = check(stale, "no-stale-reads", &[]);
    assert_eq!((code, json["verdict"].as_str()), (Some(1), Some("fail")), "{json}");
    let detail = json["detail"].as_str().unwrap();
    assert!(
        detail.ends_with(
            "get \"k0\" -> \"v1\" (process 2, called 0.000500s, returned 0.000600s): it returned \"v1\", \
             written by put \"k0\" \"v1\" (process 0, called 0.000100s, returned 0.000200s); \
             it missed put \"k0\" \"v2\" (process 1, called 0.000300s, returned 0.000400s), \
             which began after that write completed and completed before the read began"
        ),
        "{detail}"
    );
    assert_eq!(json["checker"], "NoStaleReads");
    assert_eq!(check(stale, "no-lost-writes", &[]).0, Some(1));
    // Regular but not linearizable: only Linearizable fails it.
    assert_eq!(check(inversion, "no-stale-reads", &[]).0, Some(0));
    assert_eq!(check(inversion, "no-lost-writes", &[]).0, Some(0));
    assert_eq!(check(inversion, "linearizable", &[]).0, Some(1));
    // Final reads from after the last read: none, so not evaluated.
    let (code, json, _) = check(inversion, "no-lost-writes", &["--final-reads-from", "2ms"]);
    assert_eq!((code, json["verdict"].as_str()), (Some(3), Some("unknown")), "{json}");
    let (code, _, err) = check("tests/histories/mutex-ok.edn", "no-stale-reads", &[]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("an operation acquire; these checks read get, put"),
        "{err}"
    );
    let (code, _, err) = check(stale, "no-stale-reads", &["--model", "kv"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--model is for --checker linearizable"), "{err}");
}
