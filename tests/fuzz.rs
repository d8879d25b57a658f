//! Arbitrary and mutated input never panics: scenario, repro and history
//! bytes, mutated from the repository's own files by a seeded loop, are
//! parsed (and, when they parse, run or checked within their budgets); the
//! binary answers each with an exit code from 0 to 3.
//!
//! The default suite tries a few hundred inputs of each kind in seconds;
//! `cargo test --release --test fuzz -- --ignored` tries many more. A
//! failure names the seed and the mutated text, so it can be kept as a
//! regression case.

mod common;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use simulate::check::linear::{self, ModelKind, Options};
use simulate::history::formats::Format;
use simulate::protocols::Registry;
use simulate::world::RunOptions;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

/// Text that parsers find hard: numbers at the edges, units, brackets,
/// quotes, a byte-order mark, line ends, control and non-ASCII characters.
const TOKENS: &[&str] = &[
    "0",
    "-1",
    "1e309",
    "18446744073709551616",
    "9223372036854775807",
    "\"1ns\"",
    "\"2000000h\"",
    "\"0s\"",
    "\"-5ms\"",
    "[]",
    "()",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "\"",
    "\\",
    "\u{feff}",
    "\r\n",
    "\n",
    "\u{0}",
    "\u{1b}[31m",
    "é",
    "日本",
    "#_",
    ":f",
    ":invoke",
    "nil",
    "true",
    "Some(",
    "None",
    "Raft(",
    "Single",
    "//",
    "/*",
    "\"\"",
    "Crash(Node(999))",
    "At(\"1s\", Heal)",
    "{\"type\":\"ok\"}",
    "ops: 0",
    "nodes: 0",
];

/// `base` with one to four random edits: a byte changed, a range deleted
/// or doubled, a token inserted, or the end cut off.
fn mutate(base: &str, rng: &mut ChaCha8Rng) -> String {
    let mut bytes = base.as_bytes().to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        let at = rng.gen_range(0..=bytes.len());
        let len = rng.gen_range(0..=16.min(bytes.len() - at));
        match rng.gen_range(0..5) {
            0 if at < bytes.len() => bytes[at] = rng.gen(),
            1 => {
                bytes.drain(at..at + len);
            }
            2 => {
                let copy = bytes[at..at + len].to_vec();
                bytes.splice(at..at, copy);
            }
            3 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                bytes.splice(at..at, token.bytes());
            }
            _ => bytes.truncate(at),
        }
    }
    // The tools read text: invalid UTF-8 is refused before any parser
    // sees it (tested in the CLI tests), so parsers get lossy text.
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Runs `f`, failing the test with the seed and input if it panics.
fn no_panic<T>(what: &str, seed: u64, input: &str, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        let shown: String = input.chars().take(2_000).collect();
        panic!("{what} panicked on mutation seed {seed}; input:\n{shown}")
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every scenario file's text, and the repro of one run of each.
fn scenario_texts() -> Vec<String> {
    common::scenario_files().iter().map(|p| read(p)).collect()
}

/// Mutated scenarios parse or are refused; `runs` of those that parse are
/// run and checked, which must end within their budgets.
fn fuzz_scenarios(cases: u64, runs: usize) {
    let registry = Registry::builtin();
    let bases = scenario_texts();
    let mut ran = 0;
    for seed in 0..cases {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let text = mutate(&bases[seed as usize % bases.len()], &mut rng);
        let parsed = no_panic("scenario parsing", seed, &text, || registry.parse("fuzz.ron", &text));
        let Ok(bound) = parsed else { continue };
        if ran < runs {
            ran += 1;
            no_panic("a mutated scenario's run", seed, &text, || {
                let checked = simulate::run::run(&bound, seed, &RunOptions::default(), false);
                let _ = checked.report(&bound, None, "simulate").to_text();
            });
        }
    }
    assert_eq!(ran, runs, "too few mutants parsed to exercise runs");
}

/// Mutated repros parse or are refused.
fn fuzz_repros(cases: u64) {
    let bases: Vec<String> = scenario_texts()
        .iter()
        .map(|t| {
            let loaded = simulate::scenario::parse("s.ron", t).unwrap();
            simulate::report::repro::to_text(&loaded, 7, "00ff00ff00ff00ff", "pass")
        })
        .collect();
    for seed in 0..cases {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let text = mutate(&bases[seed as usize % bases.len()], &mut rng);
        let _ = no_panic("repro parsing", seed, &text, || {
            simulate::report::repro::parse("fuzz.ron", &text).map(|_| ())
        });
    }
}

/// Mutated histories parse or are refused in every format, and those that
/// parse are checked with every model, within a small budget.
fn fuzz_histories(cases: u64) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut bases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| read(&e.unwrap().path()))
        .collect();
    bases.sort();
    let formats = [
        Format::Native,
        Format::PorcupineKv,
        Format::JepsenEtcdLog,
        Format::KnossosEdn,
    ];
    let models = [
        ModelKind::Register,
        ModelKind::CasRegister,
        ModelKind::Kv,
        ModelKind::MultiRegister,
        ModelKind::Mutex,
    ];
    let options = Options {
        timeout: Some(std::time::Duration::from_secs(1)),
        jobs: 1,
        ..Options::default()
    };
    let mut checked = 0;
    for seed in 0..cases {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let text = mutate(&bases[seed as usize % bases.len()], &mut rng);
        // Mostly the format the file is in, sometimes another.
        let format = match rng.gen_bool(0.8) {
            true => formats
                .into_iter()
                .find(|f| f.parse(&bases[seed as usize % bases.len()]).is_ok()),
            false => None,
        };
        let format = format.unwrap_or(formats[rng.gen_range(0..formats.len())]);
        let model = models[rng.gen_range(0..models.len())];
        no_panic("history parsing and checking", seed, &text, || {
            if let Ok(raw) = format.parse(&text) {
                checked += 1;
                let _ = linear::check_history(model, format.default_initial(), &raw, &options);
            }
        });
    }
    assert!(checked * 4 > cases, "only {checked} of {cases} mutants parsed");
}

#[test]
fn mutated_scenarios_never_panic() {
    fuzz_scenarios(2_000, 5);
}

#[test]
fn mutated_repros_never_panic() {
    fuzz_repros(1_000);
}

#[test]
fn mutated_histories_never_panic() {
    fuzz_histories(3_000);
}

#[test]
#[ignore = "long: cargo test --release --test fuzz -- --ignored"]
fn many_mutated_inputs_never_panic() {
    fuzz_scenarios(200_000, 1_000);
    fuzz_repros(200_000);
    fuzz_histories(400_000);
}

/// The binary answers every mutated file with an exit code from 0 to 3,
/// never a panic's 101 or a signal.
#[test]
fn the_binary_answers_mutated_files_with_exit_0_to_3() {
    let dir = common::temp_dir("fuzz-cli");
    let scenarios = scenario_texts();
    let history = read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories/native-ok.jsonl"));
    for seed in 0..12u64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let scenario = dir.join(format!("s{seed}.ron"));
        std::fs::write(&scenario, mutate(&scenarios[seed as usize % scenarios.len()], &mut rng)).unwrap();
        let jsonl = dir.join(format!("h{seed}.jsonl"));
        std::fs::write(&jsonl, mutate(&history, &mut rng)).unwrap();
        let out_dir = dir.join(format!("out{seed}"));
        for args in [
            vec!["validate", scenario.to_str().unwrap()],
            vec![
                "check",
                jsonl.to_str().unwrap(),
                "--timeout",
                "2s",
                "--out",
                out_dir.to_str().unwrap(),
            ],
        ] {
            let out = common::simulate(&args);
            let code = out.status.code();
            assert!(
                matches!(code, Some(0..=3)),
                "{args:?} (seed {seed}) exited {code:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
