//! `simulate validate FILE...`

use super::{EXIT_PASS, EXIT_USAGE};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files (.ron).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn validate(args: ValidateArgs) -> i32 {
    let mut code = EXIT_PASS;
    for file in &args.files {
        match crate::scenario::load(file) {
            Ok(s) => {
                let spec = &s.spec;
                outln!(
                    "ok: {} ({}, protocol {}, {} nodes, {} + recover {})",
                    file.display(),
                    spec.name,
                    spec.protocol.name(),
                    spec.nodes,
                    spec.duration,
                    spec.recover.unwrap_or_default()
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                code = EXIT_USAGE;
            }
        }
    }
    code
}
