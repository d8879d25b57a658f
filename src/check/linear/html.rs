//! A counterexample as a self-contained HTML page, in the spirit of
//! Porcupine's visualisation: one lane per process, each operation a bar
//! from its call to its return, the longest partial linearization numbered
//! in order, and the operation that could not be placed in red.
//!
//! Time is drawn by rank (the order of calls and returns), not to scale:
//! only the order matters to linearizability, and ranks keep short ops
//! readable next to long ones.

use super::Counterexample;
use std::collections::BTreeSet;
use std::fmt::Write as _;

const LANE_PX: usize = 34;
const STEP_PX: usize = 46;
const LEFT_PX: usize = 110;

pub fn render(c: &Counterexample, title: &str) -> String {
    let mut page = String::new();
    let _ = write!(
        page,
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{}</title>\n<style>{STYLE}</style></head><body>\n",
        escape(title)
    );
    let _ = writeln!(page, "<h1>Not linearizable: {}</h1>", escape(title));
    let _ = writeln!(
        page,
        "<p>{} ({} ops). The smallest failing window below has {} ops and starts from <code>{}</code>.</p>",
        escape(&c.partition),
        c.partition_ops,
        c.window.len(),
        escape(&c.start_states.join(" or "))
    );
    page.push_str(&timeline(c));
    page.push_str(LEGEND);
    page.push_str(&linearization_table(c));
    let _ = writeln!(
        page,
        "<h2>Details</h2><pre>{}</pre>\n</body></html>",
        escape(&c.to_text())
    );
    page
}

fn timeline(c: &Counterexample) -> String {
    let times: BTreeSet<u64> = c.window.iter().flat_map(|v| [Some(v.call), v.ret]).flatten().collect();
    let rank = |t: u64| times.range(..t).count();
    let processes: Vec<u64> = c
        .window
        .iter()
        .map(|v| v.process)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let lane = |p: u64| processes.iter().position(|&x| x == p).unwrap_or(0);
    let width = LEFT_PX + (times.len() + 1) * STEP_PX;
    let height = processes.len() * LANE_PX + 30;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\">"
    );
    for (i, p) in processes.iter().enumerate() {
        let y = 20 + i * LANE_PX;
        let _ = writeln!(
            svg,
            "<text x=\"4\" y=\"{}\" class=\"lane\">process {p}</text><line x1=\"{LEFT_PX}\" x2=\"{width}\" y1=\"{}\" y2=\"{}\" class=\"lane\"/>",
            y + 18,
            y + LANE_PX - 4,
            y + LANE_PX - 4
        );
    }
    for v in &c.window {
        let x0 = LEFT_PX + rank(v.call) * STEP_PX;
        let x1 = v.ret.map_or(width - 4, |r| LEFT_PX + rank(r) * STEP_PX + STEP_PX / 2);
        let y = 22 + lane(v.process) * LANE_PX;
        let order = c.prefix.iter().position(|(id, _)| *id == v.id);
        let class = match order {
            Some(_) => "placed",
            None if v.id == c.blocked => "blocked",
            None if c.candidates.contains(&v.id) => "candidate",
            None => "other",
        };
        let open = if v.ret.is_none() { " open" } else { "" };
        let state = order.map_or(String::new(), |k| format!("\nstate after: {}", c.prefix[k].1));
        let tip = format!("op {} (line {}): {}{state}", v.id, v.line, v.text);
        let number = order.map_or(String::new(), |k| format!("{}. ", k + 1));
        let label = fit(&format!("{number}{}", v.text), (x1 - x0).max(8));
        let _ = writeln!(
            svg,
            "<g class=\"{class}{open}\"><title>{}</title><rect x=\"{x0}\" y=\"{y}\" width=\"{}\" height=\"{}\" rx=\"4\"/><text x=\"{}\" y=\"{}\">{}</text></g>",
            escape(&tip),
            (x1 - x0).max(8),
            LANE_PX - 10,
            x0 + 4,
            y + 16,
            escape(&label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn linearization_table(c: &Counterexample) -> String {
    let mut t = String::from(
        "<h2>Longest partial linearization</h2>\n<table><tr><th>#</th><th>op</th><th>state after</th></tr>\n",
    );
    let text = |id: usize| {
        c.window
            .iter()
            .find(|v| v.id == id)
            .map_or(String::new(), |v| v.text.clone())
    };
    for (k, (id, state)) in c.prefix.iter().enumerate() {
        let _ = writeln!(
            t,
            "<tr><td>{}</td><td>op {id}: {}</td><td><code>{}</code></td></tr>",
            k + 1,
            escape(&text(*id)),
            escape(state)
        );
    }
    let _ = writeln!(
        t,
        "<tr class=\"blocked\"><td>next</td><td>op {}: {}</td><td>cannot take effect</td></tr></table>",
        c.blocked,
        escape(&text(c.blocked))
    );
    t
}

/// Cuts `text` to what fits in a bar `width_px` wide (monospace, about
/// 7 px a character); the tooltip and the table keep the whole text.
fn fit(text: &str, width_px: usize) -> String {
    let room = width_px.saturating_sub(8) / 7;
    if text.chars().count() <= room {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(room.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Text safe inside HTML or XML, in content or a double-quoted attribute.
/// Control characters other than tab and newlines are not allowed in XML
/// at all, even escaped, so they become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() && (c as u32) < 0x20 => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}svg{border:1px solid #ddd;background:#fcfcfc}\
text{font-size:12px;font-family:monospace}line.lane{stroke:#eee}text.lane{fill:#555}\
g.placed rect{fill:#bfe6c0;stroke:#3a8a3c}g.blocked rect{fill:#f6b4b4;stroke:#b22}\
g.candidate rect{fill:#fbe2b0;stroke:#c08a1e}g.other rect{fill:#e4e4e4;stroke:#999}\
g.open rect{stroke-dasharray:4 3}table{border-collapse:collapse;margin-top:1em}\
td,th{border:1px solid #ccc;padding:3px 8px;font-family:monospace;font-size:13px}tr.blocked td{background:#fbe0e0}\
.legend span{display:inline-block;padding:2px 8px;margin-right:8px;border:1px solid #999;font-size:12px}";

const LEGEND: &str = "<p class=\"legend\"><span style=\"background:#bfe6c0\">linearized, in order</span>\
<span style=\"background:#f6b4b4\">must go next, cannot</span><span style=\"background:#fbe2b0\">could go next, leads nowhere</span>\
<span style=\"background:#e4e4e4\">other</span><span style=\"border-style:dashed\">open (indeterminate)</span></p>\n";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::linear::OpView;

    #[test]
    fn escapes_and_marks_each_kind_of_op() {
        let op = |id, process, call, ret: Option<u64>, text: &str| OpView {
            id,
            process,
            line: id + 1,
            call,
            ret,
            text: text.into(),
        };
        let c = Counterexample {
            partition: "key \"k<0>\"".into(),
            partition_ops: 3,
            first_bad_return: Some(1),
            window: vec![
                op(0, 0, 0, Some(1), "put k v0"),
                op(1, 1, 2, Some(3), "get k -> nil"),
                op(2, 2, 2, None, "append k x"),
            ],
            start_states: vec!["nil".into()],
            prefix: vec![(0, "\"v0\"".into())],
            blocked: 1,
            candidates: vec![2],
        };
        let page = render(&c, "a <test>");
        assert!(page.contains("a &lt;test&gt;") && !page.contains("<test>"));
        assert!(
            page.contains("<g class=\"placed\">") && page.contains(">1. put …<"),
            "{page}"
        );
        assert!(page.contains("<g class=\"blocked\">") && page.contains("get k -&gt; nil"));
        assert!(page.contains("<g class=\"candidate open\">"));
        assert!(page.contains("state after: &quot;v0&quot;"));
    }

    #[test]
    fn labels_are_cut_to_their_bar() {
        assert_eq!(fit("get k -> nil", 200), "get k -> nil");
        assert_eq!(fit("get k -> nil", 50), "get k…");
        assert_eq!(fit("get k -> nil", 8), "…");
    }
}
