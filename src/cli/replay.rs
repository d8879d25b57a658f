//! `simulate replay REPRO [--out DIR] [--json] [--trace]`: reruns a repro
//! file and says whether it gave the same trace hash and verdict.

use super::run::{execute, exit_code, How};
use super::{EXIT_FAIL, EXIT_USAGE};
use crate::report::repro::{self, VERSION};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// Repro file (repro.ron in a report folder).
    file: PathBuf,
    /// Report folder to regenerate; default: the repro's own folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print one JSON object on stdout instead of the text summary.
    #[arg(long)]
    json: bool,
    /// Print every trace event to stderr as it happens.
    #[arg(long)]
    trace: bool,
}

pub fn replay(args: ReplayArgs) -> i32 {
    let repro = match repro::load(&args.file) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let h = &repro.header;
    if h.version != VERSION {
        eprintln!(
            "warning: {} was written by simulate {}, and this is {VERSION}; the run may differ",
            args.file.display(),
            h.version
        );
    }
    let home = args.file.parent().filter(|p| !p.as_os_str().is_empty());
    let home = home.map_or_else(|| PathBuf::from("."), PathBuf::from);
    let how = How {
        trace: args.trace,
        json: args.json,
        check_determinism: false,
        // Regenerating the repro's own folder keeps the repro as recorded.
        write_repro: args.out.as_ref().is_some_and(|o| *o != home),
    };
    let dir = args.out.clone().unwrap_or(home);

    let (verdict, hash) = match execute(&repro.scenario, h.seed, &how, dir) {
        Ok(done) => done,
        Err(code) => return code,
    };
    if hash != h.trace_hash || verdict.as_str() != h.verdict {
        eprintln!(
            "error: the replay differs from the recorded run: trace hash {hash} (recorded {}), verdict {} (recorded {})",
            h.trace_hash,
            verdict.as_str(),
            h.verdict
        );
        return EXIT_FAIL;
    }
    eprintln!("reproduced: trace hash {hash} and verdict {} as recorded", h.verdict);
    exit_code(verdict)
}
