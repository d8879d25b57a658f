//! `simulate families`: the families this binary knows, what each offers
//! scenarios' `checks`, and the bugs it can plant.

use super::{Env, EXIT_PASS};

#[derive(clap::Args, Debug)]
pub struct FamiliesArgs {}

pub fn families(_args: FamiliesArgs, env: &Env<'_>) -> i32 {
    for f in env.registry.families() {
        outln!("{}: {}", f.name(), f.about());
        for p in f.properties() {
            outln!("  {:<32} {:<10} {}", p.written(), p.when.as_str(), p.about);
        }
        if !f.planted_bugs().is_empty() {
            outln!("  bugs: {}", f.planted_bugs().join(", "));
        }
    }
    outln!("every family with clients also gets Linearizable(model) and Recovers(within: d); every run, NoPanic");
    EXIT_PASS
}
