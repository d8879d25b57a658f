//! `simulate merge SUMMARY.json... [--json FILE] [--junit FILE]`
//!
//! Adds up the JSON summaries of the shards of one sweep (`--shard 0/N`
//! to `N-1/N`, each written with `--json`) into the summary of the
//! unsharded sweep: the same counts, failing seeds, expected failures and
//! digest, printed with the same lines, written as the same JSON and
//! JUnit (times aside), and the same exit code. Wall time is the slowest
//! shard's and jobs the sum over shards.
//!
//! It refuses (exit 2) summaries of different sweeps, duplicate or
//! missing shards, and shards that did not run all their seeds: a merge
//! is only ever the whole range, so that its coverage and exit code mean
//! what the unsharded sweep's would.

use super::summary::{ScenarioSummary, Summary};
use super::EXIT_USAGE;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// JSON summaries of the shards (`simulate sweep ... --shard K/N --json FILE`).
    #[arg(required = true)]
    summaries: Vec<PathBuf>,
    /// Write the merged JSON summary here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write the merged JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
}

pub fn merge(args: MergeArgs) -> i32 {
    let merged = read_all(&args.summaries).and_then(|shards| merge_shards(&shards));
    let summary = match merged {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    for s in &summary.scenarios {
        for f in &s.not_passed {
            outln!("{}", f.line(&s.label));
        }
    }
    summary.print();
    if let Err(e) = summary.write(args.json.as_deref(), args.junit.as_deref()) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    summary.exit_code()
}

/// A summary and the file it came from.
struct Shard {
    file: String,
    summary: Summary,
}

fn read_all(files: &[PathBuf]) -> Result<Vec<Shard>, String> {
    files.iter().map(|f| read(f)).collect()
}

fn read(path: &Path) -> Result<Shard, String> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {file}: {e}"))?;
    let summary: Summary = serde_json::from_str(&text).map_err(|e| {
        let (line, column) = (e.line(), e.column());
        // serde_json's message ends with the position, which goes first here.
        let what = e.to_string();
        let what = what.trim_end_matches(&format!(" at line {line} column {column}"));
        format!(
            "{file}:{line}:{column}: not a sweep summary this simulate can merge: {what} (expected the --json of `simulate sweep` from this version)"
        )
    })?;
    let shard = summary.shard;
    if shard.count == 0 || shard.index >= shard.count || summary.seeds.start >= summary.seeds.end {
        return Err(format!(
            "{file}: shard {}/{} of seeds {}..{} is not a shard of a seed range",
            shard.index, shard.count, summary.seeds.start, summary.seeds.end
        ));
    }
    Ok(Shard { file, summary })
}

/// The unsharded summary the shards add up to, or why they do not.
fn merge_shards(shards: &[Shard]) -> Result<Summary, String> {
    let first = &shards[0];
    for s in shards {
        same_sweep(first, s)?;
        whole(s)?;
    }
    let count = first.summary.shard.count;
    let mut by_index: BTreeMap<u64, &Shard> = BTreeMap::new();
    for s in shards {
        if let Some(other) = by_index.insert(s.summary.shard.index, s) {
            return Err(format!(
                "{} and {} are both shard {}/{count}: each shard once",
                other.file, s.file, s.summary.shard.index
            ));
        }
    }
    let missing: Vec<String> = (0..count)
        .filter(|k| !by_index.contains_key(k))
        .map(|k| format!("{k}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard{} {} missing: a merge covers the whole range (run the missing shard{} with --shard and merge again)",
            if missing.len() == 1 { "" } else { "s" },
            if missing.len() == 1 {
                format!("{} is", missing[0])
            } else {
                format!("{} are", missing.join(", "))
            },
            if missing.len() == 1 { "" } else { "s" },
        ));
    }
    let mut merged = by_index.into_values().map(|s| s.summary.clone());
    let total = merged.next().expect("at least one summary");
    let mut total = Summary {
        shard: crate::sweep::Shard::ALL,
        ..total
    };
    for next in merged {
        add(&mut total, next);
    }
    Ok(total)
}

/// Refuses `s` if it is not a shard of the same sweep as `first`.
fn same_sweep(first: &Shard, s: &Shard) -> Result<(), String> {
    let (a, b) = (&first.summary, &s.summary);
    let range = |x: &Summary| format!("{}..{}", x.seeds.start, x.seeds.end);
    if a.seeds != b.seeds {
        return Err(format!(
            "{} sweeps seeds {}, {} seeds {}: shards of one sweep share the range",
            s.file,
            range(b),
            first.file,
            range(a)
        ));
    }
    if a.swarm != b.swarm {
        let how = |x: &Summary| if x.swarm { "with --swarm" } else { "without --swarm" };
        return Err(format!(
            "{} was swept {}, {} {}: shards of one sweep run the same variants",
            s.file,
            how(b),
            first.file,
            how(a)
        ));
    }
    if a.shard.count != b.shard.count {
        return Err(format!(
            "{} is shard {}/{}, {} shard {}/{}: shards of one sweep share N",
            s.file, b.shard.index, b.shard.count, first.file, a.shard.index, a.shard.count
        ));
    }
    let list = |x: &Summary| -> Vec<(String, String, Vec<String>)> {
        let one = |c: &ScenarioSummary| (c.file.clone(), c.name.clone(), c.expected_failures.clone());
        x.scenarios.iter().map(one).collect()
    };
    if list(a) != list(b) {
        let names = |x: &Summary| {
            x.scenarios
                .iter()
                .map(|c| c.file.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        };
        return Err(format!(
            "{} sweeps other scenarios than {} ({} against {}): shards of one sweep share the files, in order",
            s.file,
            first.file,
            names(b),
            names(a)
        ));
    }
    // Shards split the corpus seeds between them (see Shard::owns): they
    // add up to the unsharded sweep only if they read the same corpus.
    let sizes = |x: &Summary| x.scenarios.iter().map(|c| c.corpus_size).collect::<Vec<_>>();
    if sizes(a) != sizes(b) {
        let show = |x: &Summary| {
            let one = |c: &ScenarioSummary| {
                c.corpus_size
                    .map_or("no --corpus".to_string(), |n| format!("{n} seeds"))
            };
            x.scenarios.iter().map(one).collect::<Vec<_>>().join(", ")
        };
        return Err(format!(
            "{} read another seed corpus than {} ({} against {}): shards of one sweep start from the same --corpus",
            s.file,
            first.file,
            show(b),
            show(a)
        ));
    }
    Ok(())
}

/// Refuses a shard that did not run all its seeds.
fn whole(s: &Shard) -> Result<(), String> {
    let x = &s.summary;
    let shard = format!("{}/{}", x.shard.index, x.shard.count);
    if x.interrupted {
        return Err(format!(
            "{} is interrupted: shard {shard} ran {} of its {} runs; rerun it and merge again",
            s.file, x.ran, x.planned
        ));
    }
    if x.ran != x.planned || x.stopped_because.is_some() {
        let why = x.stopped_because.as_deref().unwrap_or("not every seed ran");
        return Err(format!(
            "{} is incomplete: shard {shard} ran {} of its {} runs ({why}); a merge needs every seed",
            s.file, x.ran, x.planned
        ));
    }
    Ok(())
}

/// Adds the shard `next` to `total`: both complete shards of one sweep.
fn add(total: &mut Summary, next: Summary) {
    total.jobs += next.jobs;
    total.planned += next.planned;
    total.ran += next.ran;
    total.passed += next.passed;
    total.failed_as_expected += next.failed_as_expected;
    total.failed += next.failed;
    total.unknown += next.unknown;
    // The shards ran side by side: the merged sweep took as long as the
    // slowest.
    total.wall_s = total.wall_s.max(next.wall_s);
    total.run_s += next.run_s;
    total.digest = total.digest.wrapping_add(next.digest);
    total.corpus_ran += next.corpus_ran;
    for (t, n) in total.scenarios.iter_mut().zip(next.scenarios) {
        add_scenario(t, n, &next.seeds);
    }
    debug_assert_eq!(
        total.ran,
        total.passed + total.failed_as_expected + total.failed + total.unknown
    );
}

fn add_scenario(t: &mut ScenarioSummary, n: ScenarioSummary, seeds: &std::ops::Range<u64>) {
    debug_assert!(n.interrupted.is_empty() && n.not_run == 0, "only whole shards merge");
    t.planned += n.planned;
    t.ran += n.ran;
    t.run_s += n.run_s;
    t.corpus = sorted(std::mem::take(&mut t.corpus), n.corpus);
    // Every seed of the range ran: the unsharded sweep says so the same way.
    let range = (t.ran > t.corpus.len() as u64).then(|| format!("{}..{}", seeds.start, seeds.end));
    t.seeds_ran = super::summary::seeds_ran(range, &t.corpus);
    t.failed = sorted(std::mem::take(&mut t.failed), n.failed);
    t.unknown = sorted(std::mem::take(&mut t.unknown), n.unknown);
    t.failed_as_expected += n.failed_as_expected;
    add_counts(&mut t.failed_as_expected_by_check, n.failed_as_expected_by_check);
    t.first_failed_as_expected = match (t.first_failed_as_expected, n.first_failed_as_expected) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    add_counts(&mut t.sometimes_seen, n.sometimes_seen);
    // Never seen in the merge: never seen in any shard.
    t.never_seen.retain(|name| n.never_seen.contains(name));
    add_counts(&mut t.fault_effects, n.fault_effects);
    // Inert in the merge: without effect in every shard.
    t.inert.retain(|key| n.inert.contains(key));
    t.not_passed.extend(n.not_passed);
    t.not_passed.sort_by_key(|f| f.seed);
}

fn sorted(mut a: Vec<u64>, b: Vec<u64>) -> Vec<u64> {
    a.extend(b);
    a.sort_unstable();
    a
}

fn add_counts(total: &mut BTreeMap<String, u64>, next: BTreeMap<String, u64>) {
    for (name, n) in next {
        *total.entry(name).or_default() += n;
    }
}
