//! Command-line interface: clap definitions and exit codes.
//!
//! Exit codes: 0 every check passed, 1 a check failed (a finding), 2 bad
//! input or usage, 3 unknown (a check could not decide), 130 interrupted.
//!
//! [`main`] is the `simulate` binary; [`main_with`] makes a binary of your
//! own that also knows your families: run, validate, sweep, replay,
//! reports and exit codes all work with `protocol: YourName(...)`.

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
mod corpus;
mod families;
mod merge;
mod replay;
mod run;
mod shrink;
mod summary;
mod sweep;
mod validate;

use crate::protocols::Registry;
use clap::{Parser, Subcommand};

/// Exit code: every check passed.
pub const EXIT_PASS: i32 = 0;
/// Exit code: a check failed (a finding).
pub const EXIT_FAIL: i32 = 1;
/// Exit code: bad input or usage.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: nothing failed, but a check could not decide.
pub const EXIT_UNKNOWN: i32 = 3;
/// Exit code: stopped by Ctrl-C before every seed ran, and none failed.
pub const EXIT_INTERRUPTED: i32 = 130;

/// What every command knows: the families, and the binary's name.
pub struct Env<'a> {
    /// The families scenarios may name.
    pub registry: &'a Registry,
    /// How replay lines call this binary: `simulate`.
    pub program: String,
}

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
    /// Merge the JSON summaries of a sweep's shards into the unsharded sweep's.
    Merge(merge::MergeArgs),
    /// Rerun a repro file exactly, and regenerate its report.
    Replay(replay::ReplayArgs),
    /// Cut a failing run down to a small scenario that fails the same way.
    Shrink(shrink::ShrinkArgs),
    /// List the protocol families, their properties and planted bugs.
    Families(families::FamiliesArgs),
}

/// The `simulate` binary: parses the arguments, runs the command, returns
/// the exit code.
pub fn main() -> i32 {
    main_with(Registry::builtin())
}

/// A `simulate` binary that knows `registry`'s families: your own, for
/// instance, with `Registry::builtin().with::<MyFamily>()`. Replay lines
/// name this binary as it was called.
pub fn main_with(registry: Registry) -> i32 {
    let program = std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "simulate".to_string());
    main_from(std::env::args_os(), &registry, &program)
}

/// [`main_with`], with the arguments given (the first is the program's).
pub fn main_from<I, T>(args: I, registry: &Registry, program: &str) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let env = Env {
        registry,
        program: program.to_string(),
    };
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_PASS };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args, &env),
        Command::Validate(args) => validate::validate(args, &env),
        Command::Check(args) => check::check(args),
        Command::Sweep(args) => sweep::sweep(args, &env),
        Command::Shrink(args) => shrink::shrink(args, &env),
        Command::Merge(args) => merge::merge(args),
        Command::Replay(args) => replay::replay(args, &env),
        Command::Families(args) => families::families(args, &env),
    }
}
