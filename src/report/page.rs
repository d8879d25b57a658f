//! `index.html`: one self-contained page (inline CSS and SVG, no scripts,
//! nothing fetched) that puts a run's report together for someone who
//! never saw the code: the verdict, the command that replays it, what
//! failed and when, the pictures with a line on how to read each, the
//! faults in order, and links to the raw files beside it.

use super::RunReport;
use crate::check::linear::html::{escape, svg_body};
use crate::check::Verdict;
use crate::trace::timeline::Timeline;
use std::fmt::Write as _;

/// A picture for the page: its file name and its SVG, or why it is missing.
pub struct Picture {
    /// Its file name in the folder.
    pub file: &'static str,
    /// Its heading on the page.
    pub title: &'static str,
    /// A paragraph on how to read it.
    pub how_to_read: &'static str,
    /// The SVG, or why it could not be drawn.
    pub svg: Result<String, String>,
}

/// The whole page for `report`.
pub fn render(report: &RunReport<'_>, timeline: &Timeline, pictures: &[Picture]) -> String {
    let mut page = head(report);
    page.push_str(&checks_table(report));
    for p in pictures {
        let _ = writeln!(page, "<h2>{}</h2>\n<p class=\"how\">{}</p>", p.title, p.how_to_read);
        match &p.svg {
            Ok(svg) => {
                // Counterexamples are drawn wide enough to read every
                // result; they scroll rather than shrink.
                let class = if p.file == "counterexample.svg" {
                    " class=\"wide\""
                } else {
                    ""
                };
                let _ = writeln!(page, "<figure{class}>{}</figure>", svg_body(svg));
            }
            Err(why) => {
                let _ = writeln!(page, "<p class=\"missing\">Not drawn: {}</p>", escape(why));
            }
        }
    }
    if report.has_file("counterexample.html") {
        page.push_str(
            "<p>The counterexample with its linearization step by step: <a href=\"counterexample.html\">counterexample.html</a>.</p>\n",
        );
    }
    page.push_str(&faults_table(timeline));
    let _ = writeln!(
        page,
        "<h2>Summary</h2>\n<details><summary>The text summary (summary.txt)</summary><pre>{}</pre></details>",
        escape(&report.to_text())
    );
    page.push_str(&files_list(report, pictures));
    page.push_str("</body></html>\n");
    page
}

/// The document's head, and the top of the page: verdict, what ran, how
/// to replay it, and whether the failure was the one expected.
fn head(report: &RunReport<'_>) -> String {
    let o = report.outcome;
    let s = &report.scenario.spec;
    let verdict = report.verdict;
    let mut page = String::new();
    let title = format!("{} seed {}: {}", s.name, o.seed, verdict.as_str().to_uppercase());
    let _ = write!(
        page,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{}</title>\n<style>{STYLE}</style></head><body>\n",
        escape(&title)
    );
    let _ = writeln!(
        page,
        "<header class=\"{}\"><h1>{}</h1><p>{} · protocol {} · {} nodes · seed {} · simulated {:.3}s · {} events · trace hash <code>{}</code></p></header>",
        verdict.as_str(),
        escape(&verdict_headline(verdict)),
        escape(&s.name),
        escape(&s.protocol.name),
        s.nodes,
        o.seed,
        o.end_ns as f64 / 1e9,
        o.trace.events(),
        o.trace.hash_hex()
    );
    let _ = writeln!(
        page,
        "<p class=\"replay\">Replay this run exactly: <code>{}</code></p>",
        escape(&report.replay_command())
    );
    if report.failed_as_expected() {
        let _ = writeln!(
            page,
            "<p class=\"expected\">This scenario demonstrates a bug, and it failed as expected: {}.</p>",
            escape(&report.failed_expected().join(", "))
        );
    }
    page
}

fn verdict_headline(v: Verdict) -> String {
    match v {
        Verdict::Pass => "PASS: every check held".into(),
        Verdict::Fail => "FAIL: a check found a bug".into(),
        Verdict::Unknown => "UNKNOWN: nothing failed, but a check could not decide".into(),
    }
}

fn checks_table(report: &RunReport<'_>) -> String {
    let mut t = String::from("<h2>Checks</h2>\n<table class=\"checks\">\n");
    for c in &report.checks {
        let at = c
            .at_ns
            .map_or(String::new(), |ns| format!(" at {:.6}s", ns as f64 / 1e9));
        let _ = writeln!(
            t,
            "<tr class=\"{}\"><td class=\"v\">{}</td><td><b>{}</b>{}</td><td><pre>{}</pre></td></tr>",
            c.verdict.as_str(),
            c.verdict.as_str(),
            escape(&c.name),
            escape(&at),
            escape(&first_lines(&c.detail, DETAIL_LINES_MAX))
        );
    }
    t.push_str("</table>\n");
    t
}

/// A check's detail is cut to this many lines; the files have it all.
const DETAIL_LINES_MAX: usize = 40;

fn first_lines(text: &str, max: usize) -> String {
    let total = text.lines().count();
    if total <= max {
        return text.to_string();
    }
    let mut shown: Vec<&str> = text.lines().take(max).collect();
    let more = format!("\u{2026} {} more lines in summary.txt", total - max);
    shown.push(&more);
    shown.join("\n")
}

/// Every fault window and finding, in time order: what the nemesis and
/// the network did, and what went wrong. Instants have no "until".
fn faults_table(t: &Timeline) -> String {
    let mut rows: Vec<(u64, Option<u64>, String)> = Vec::new();
    for b in &t.node_bands {
        rows.push((b.from_ns, Some(b.to_ns), format!("n{} {}", b.node, b.state_name())));
    }
    for p in &t.partitions {
        rows.push((p.from_ns, Some(p.to_ns), format!("partition: {}", p.describe(t.nodes))));
    }
    for m in &t.marks {
        let node = m.node.map_or(String::new(), |n| format!("n{n} "));
        rows.push((m.at_ns, None, format!("{node}{}", m.label)));
    }
    for v in &t.violations {
        rows.push((v.at_ns, None, format!("invariant violated: {}", v.label)));
    }
    for p in &t.panics {
        rows.push((p.at_ns, None, format!("the protocol's code panicked: {}", p.label)));
    }
    rows.sort();
    let mut out = format!("<h2>Faults and findings ({})</h2>\n", rows.len());
    if rows.is_empty() {
        out.push_str("<p>None: no node crashed or paused, no link was cut, no clock jumped.</p>\n");
        return out;
    }
    out.push_str("<table class=\"faults\"><tr><th>from</th><th>until</th><th>what</th></tr>\n");
    let secs = |ns: u64| format!("{:.6}s", ns as f64 / 1e9);
    for (from, until, what) in rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            secs(from),
            until.map_or(String::new(), secs),
            escape(&what)
        );
    }
    out.push_str("</table>\n");
    out
}

fn files_list(report: &RunReport<'_>, pictures: &[Picture]) -> String {
    // A folder always has its repro: written now, or the one replayed.
    let base = [
        "summary.txt",
        "summary.json",
        "trace.log",
        "history.jsonl",
        "scenario.ron",
        "repro.ron",
        "schedule.ron",
    ];
    let mut names: Vec<String> = base.iter().map(|s| s.to_string()).collect();
    names.extend(pictures.iter().filter(|p| p.svg.is_ok()).map(|p| p.file.to_string()));
    names.extend(report.checks.iter().flat_map(|c| &c.files).map(|(n, _)| n.clone()));
    names.sort();
    names.dedup();
    let mut out = String::from("<h2>Files</h2>\n<ul class=\"files\">\n");
    for n in names {
        let n = escape(&n);
        let _ = writeln!(out, "<li><a href=\"{n}\">{n}</a></li>");
    }
    out.push_str("</ul>\n");
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:0 auto;padding:1em 1.5em;max-width:1250px;color:#222;line-height:1.4}\
header{padding:.6em 1em;border-radius:6px;margin-bottom:1em}header h1{margin:.1em 0;font-size:1.5em}header p{margin:.2em 0}\
header.fail{background:#fbe0e0;border:2px solid #b22}header.pass{background:#e2f3e2;border:2px solid #3a8a3c}\
header.unknown{background:#fdf2d0;border:2px solid #c08a1e}\
code{background:#f3f3f3;padding:1px 4px;border-radius:3px}p.replay{font-size:1.05em}\
h2{margin-top:1.4em;border-bottom:1px solid #ddd}p.how{color:#555;max-width:70em}\
figure{margin:0}svg{max-width:100%;height:auto;border:1px solid #ddd}\
figure.wide{overflow-x:auto;direction:rtl}figure.wide svg{max-width:none;direction:ltr}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;vertical-align:top;text-align:left}\
table.checks pre{margin:0;white-space:pre-wrap;font-size:12px;max-height:22em;overflow:auto}\
tr.fail td.v{background:#f6b4b4;font-weight:bold}tr.pass td.v{background:#bfe6c0}tr.unknown td.v{background:#fbe2b0}\
table.faults td{font-family:monospace;font-size:13px}summary{cursor:pointer;color:#555}p.missing{color:#b22}pre{font-size:12px}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_listed_in_time_order_with_instants_open_ended() {
        let t = Timeline::from_trace(
            "\
0 0.000000000 start node=n0
1 1.000000000 crash node=n1
2 1.000250000 restart node=n1
3 2.000000000 clock-jump node=n0 by=+1s
4 3.000000000 violation invariant=ElectionSafety payload=two leaders
5 4.000000000 panic payload=boom <b>
",
        );
        let table = faults_table(&t);
        let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("<tr><td>")).collect();
        assert_eq!(
            rows,
            [
                "<tr><td>1.000000s</td><td>1.000250s</td><td>n1 crashed</td></tr>",
                "<tr><td>2.000000s</td><td></td><td>n0 clock +1s</td></tr>",
                "<tr><td>3.000000s</td><td></td><td>invariant violated: ElectionSafety</td></tr>",
                "<tr><td>4.000000s</td><td></td><td>the protocol's code panicked: boom &lt;b&gt;</td></tr>",
            ]
        );
        assert!(table.contains("Faults and findings (4)"));
    }

    #[test]
    fn long_details_are_cut_with_a_pointer_to_the_whole() {
        let text: String = (0..50).map(|i| format!("line {i}\n")).collect();
        let cut = first_lines(&text, 40);
        assert_eq!(cut.lines().count(), 41);
        assert!(cut.ends_with("\u{2026} 10 more lines in summary.txt"), "{cut}");
        assert_eq!(first_lines("a\nb", 40), "a\nb");
    }
}
