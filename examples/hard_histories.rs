//! Writes the hard corpus of `simulate::history::generate` to a folder, to
//! check with `simulate check` or with another tool (Porcupine reads the
//! files as they are).
//!
//! `cargo run --release --example hard_histories -- OUT_DIR` writes one
//! file per shape (`kv-10000-c10-k4-ok.txt`, `etcd-200-c20-bad.log`,
//! `etcd-200-c20-stale.log`, ...) and `verdicts.txt`: each file's name and
//! the verdict a correct checker must reach (`linearizable` or
//! `not-linearizable`), one per line. `-bad` files read a value no one
//! wrote, `-stale` files a value written but certainly overwritten before
//! the read (see `simulate::history::generate::Corruption`).
//!
//! `-- --seed N OUT_DIR` writes the same shapes from seed N instead of 0
//! (names gain `-sN`): a set of histories no one tuned the checker on.

use simulate::history::generate::hard_corpus;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (seed, dir) = match &args[..] {
        [dir] => (0, dir),
        [flag, n, dir] if flag == "--seed" => match n.parse::<u64>() {
            Ok(n) => (n, dir),
            Err(_) => {
                eprintln!("--seed takes a whole number, got {n:?}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: hard_histories [--seed N] OUT_DIR");
            return ExitCode::from(2);
        }
    };
    let dir = PathBuf::from(dir);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut verdicts = String::new();
    for mut shape in hard_corpus() {
        shape.seed = seed;
        let name = shape.file_name();
        let path = dir.join(&name);
        if let Err(e) = std::fs::write(&path, shape.text()) {
            eprintln!("{}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        verdicts.push_str(&format!("{name} {}\n", shape.expected_verdict()));
    }
    let path = dir.join("verdicts.txt");
    if let Err(e) = std::fs::write(&path, &verdicts) {
        eprintln!("{}: {e}", path.display());
        return ExitCode::FAILURE;
    }
    print!("{verdicts}");
    println!("written to {}", dir.display());
    ExitCode::SUCCESS
}
