//! Helpers shared by the integration tests.
#![allow(dead_code)]

use simulate::protocols::{Bound, Registry};
use simulate::scenario::{self, LoadedScenario};
use simulate::trace::{event_lines, parse_line, TraceLine};
use simulate::world::{RunOptions, RunOutcome};

/// A scenario for `world::run` (its protocol is not consulted).
pub fn scenario(src: &str) -> LoadedScenario {
    scenario::parse("test.ron", src).unwrap_or_else(|e| panic!("test scenario is invalid: {e}"))
}

/// A scenario bound to its built-in family.
pub fn bound(src: &str) -> Bound {
    Registry::builtin()
        .parse("test.ron", src)
        .unwrap_or_else(|e| panic!("test scenario is invalid: {e}"))
}

/// A scenario file of the repository, bound to its built-in family.
pub fn load(file: &str) -> Bound {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
    Registry::builtin().load(&path).unwrap_or_else(|e| panic!("{e}"))
}

pub fn run_builtin(src: &str, seed: u64) -> RunOutcome {
    bound(src).run(seed, &RunOptions::default())
}

/// Every trace line, parsed.
pub fn lines(outcome: &RunOutcome) -> Vec<TraceLine<'_>> {
    event_lines(outcome.trace.text())
        .map(|l| parse_line(l).unwrap_or_else(|e| panic!("unparsable trace line: {e}")))
        .collect()
}

pub fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

pub const MS: u64 = 1_000_000;
pub const SEC: u64 = 1_000_000_000;

/// Runs the `simulate` binary from the crate root.
pub fn simulate(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_simulate"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// A path under the system temp folder, unique to this test process:
/// `simulate-<name>-<pid>`. Not created.
pub fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("simulate-{name}-{}", std::process::id()))
}

/// [`temp_path`], created as a folder.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = temp_path(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `simulate run FILE --seed SEED --report always --out DIR`: a report
/// folder (and its repro) whatever the verdict.
pub fn run_with_report(file: &str, seed: u64, dir: &std::path::Path) -> std::process::Output {
    let seed = seed.to_string();
    let args = ["run", file, "--seed", &seed, "--report", "always", "--out"];
    simulate(&[&args[..], &[dir.to_str().unwrap()]].concat())
}

/// Every scenario file under scenarios/, regressions included, in order.
pub fn scenario_files() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "ron") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
        &mut files,
    );
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    files
}
