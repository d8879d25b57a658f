//! `simulate replay REPRO [--out DIR] [--json] [--trace [--node N]... [--from T] [--to T]]`:
//! reruns a repro file and says whether it gave the same trace hash and
//! verdict; with `--trace`, prints the trace instead of the summary.

use super::run::{execute, exit_code, How, ReportWhen};
use super::{Env, EXIT_FAIL, EXIT_USAGE};
use crate::report::repro::{self, Repro, VERSION};
use crate::report::trace_view::{self, TraceFilter};
use std::path::{Path, PathBuf};

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
    /// Print the trace instead of the summary: global time, the node's
    /// own wall clock, then the event.
    #[arg(long)]
    trace: bool,
    /// With --trace: only events that involve this node (n2 or 2); repeatable.
    #[arg(long = "node", value_parser = parse_node, requires = "trace")]
    nodes: Vec<u32>,
    /// With --trace: from this global time on (e.g. 1.5s).
    #[arg(long, value_parser = parse_time, requires = "trace")]
    from: Option<u64>,
    /// With --trace: up to this global time, inclusive.
    #[arg(long, value_parser = parse_time, requires = "trace")]
    to: Option<u64>,
}

fn parse_node(text: &str) -> Result<u32, String> {
    let digits = text.strip_prefix('n').unwrap_or(text);
    digits
        .parse()
        .map_err(|_| format!("{text:?} is not a node; expected n2 or 2"))
}

fn parse_time(text: &str) -> Result<u64, String> {
    let ns = crate::scenario::duration::parse_ns(text)?;
    u64::try_from(ns).map_err(|_| format!("{text:?} is negative; expected a time from the start, like \"1.5s\""))
}

/// A filter that would show nothing for want of a node or a time is a
/// mistake to say, not an empty trace to print.
fn check_trace_filter(args: &ReplayArgs, nodes: u32) -> Result<(), String> {
    if let Some(n) = args.nodes.iter().find(|&&n| n >= nodes) {
        let last = nodes - 1;
        return Err(format!("--node n{n}: the scenario has nodes n0 to n{last}"));
    }
    match (args.from, args.to) {
        (Some(from), Some(to)) if from > to => Err(format!(
            "--from {} is after --to {}; expected --from at or before --to",
            crate::scenario::Dur(from),
            crate::scenario::Dur(to)
        )),
        _ => Ok(()),
    }
}

/// Whether writing a report into `out` would touch the record being
/// replayed: `out` is the repro's own folder (`./F`, `F/../F`, an absolute
/// path or a link to it) or would write over the repro file itself.
fn keeps_the_record(out: &Path, home: &Path, repro: &Path) -> bool {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        // A folder that does not exist yet is not the repro's, which does.
        _ => false,
    };
    same(out, home) || same(&out.join("repro.ron"), repro)
}

pub fn replay(args: ReplayArgs, env: &Env<'_>) -> i32 {
    let loaded = repro::load(&args.file).and_then(|r: Repro| Ok((env.registry.bind(r.scenario)?, r.header)));
    let (bound, header) = match loaded {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    if let Err(e) = check_trace_filter(&args, bound.spec().nodes) {
        eprintln!("error: {e}");
        return EXIT_USAGE;
    }
    let h = &header;
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
        trace: false,
        summary: !args.trace,
        json: args.json,
        report: ReportWhen::Always,
        check_determinism: false,
        // Regenerating the repro's own folder, however it is named, keeps
        // the repro as recorded: it is the evidence the replay is compared with.
        write_repro: args
            .out
            .as_ref()
            .is_some_and(|o| !keeps_the_record(o, &home, &args.file)),
    };
    let dir = args.out.clone().unwrap_or(home);

    let checked = match execute(&bound, h.seed, &how, dir, env) {
        Ok(done) => done,
        Err(code) => return code,
    };
    let (verdict, outcome) = (checked.verdict, &checked.outcome);
    if args.trace {
        let filter = TraceFilter {
            nodes: args.nodes.clone(),
            from_ns: args.from.unwrap_or(0),
            to_ns: args.to,
        };
        out!("{}", trace_view::render(outcome.trace.text(), &outcome.clocks, &filter));
    }
    let hash = outcome.trace.hash_hex();
    let incomparable = repro::hash_incomparable(&h.version);
    if let Some(why) = incomparable {
        eprintln!("warning: simulate {} {why}; only the verdict is compared", h.version);
    }
    let hashes = incomparable.is_none();
    if (hashes && hash != h.trace_hash) || verdict.as_str() != h.verdict {
        eprintln!(
            "error: the replay differs from the recorded run: trace hash {hash} (recorded {}), verdict {} (recorded {})",
            h.trace_hash,
            verdict.as_str(),
            h.verdict
        );
        return EXIT_FAIL;
    }
    match hashes {
        true => eprintln!("reproduced: trace hash {hash} and verdict {} as recorded", h.verdict),
        false => eprintln!("reproduced: verdict {} as recorded (trace hash now {hash})", h.verdict),
    }
    exit_code(verdict)
}
