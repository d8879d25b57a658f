//! Command-line interface: clap definitions and exit codes.
//!
//! Exit codes: 0 every check passed, 1 a check failed (a finding), 2 bad
//! input or usage, 3 unknown (a check could not decide).

/// `print!` to stdout, ignoring write errors: a reader that closes the
/// pipe early (`simulate sweep ... | head`) must not turn into a panic,
/// and the work (reports, summaries, the exit code) goes on regardless.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

/// `println!` to stdout, ignoring write errors (see `out!`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod check;
mod replay;
mod run;
mod sweep;
mod validate;

use clap::{Parser, Subcommand};

pub const EXIT_PASS: i32 = 0;
pub const EXIT_FAIL: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_UNKNOWN: i32 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "simulate",
    version,
    about = "Deterministic distributed-systems simulator and chaos tester"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario with one seed and check it.
    Run(run::RunArgs),
    /// Check scenario files without running them.
    Validate(validate::ValidateArgs),
    /// Check a recorded history for linearizability.
    Check(check::CheckArgs),
    /// Run a range of seeds of one or more scenarios in parallel.
    Sweep(sweep::SweepArgs),
    /// Rerun a repro file exactly, and regenerate its report.
    Replay(replay::ReplayArgs),
}

/// Parses the arguments, runs the command, returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_PASS };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::validate(args),
        Command::Check(args) => check::check(args),
        Command::Sweep(args) => sweep::sweep(args),
        Command::Replay(args) => replay::replay(args),
    }
}
