//! `simulate validate FILE...`

use super::{Env, EXIT_PASS, EXIT_USAGE};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// Scenario files (.ron).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn validate(args: ValidateArgs, env: &Env<'_>) -> i32 {
    let mut code = EXIT_PASS;
    for file in &args.files {
        match env.registry.load(file) {
            Ok(bound) => {
                let spec = bound.spec();
                let checks: Vec<String> = bound.checks.iter().map(|c| c.name()).collect();
                outln!(
                    "ok: {} ({}, protocol {}, {} nodes, {} + recover {}, checks: {})",
                    file.display(),
                    spec.name,
                    spec.protocol.name,
                    spec.nodes,
                    spec.duration,
                    spec.recover.unwrap_or_default(),
                    if checks.is_empty() {
                        "none".to_string()
                    } else {
                        checks.join(", ")
                    }
                );
                if !bound.expected.is_empty() {
                    outln!("    expected to fail: {}", bound.expected.join(", "));
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                code = EXIT_USAGE;
            }
        }
    }
    code
}
