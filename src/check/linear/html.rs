//! A counterexample as a self-contained HTML page, in the spirit of
//! Porcupine's visualisation: the window's operations as bars on one lane
//! per process (drawn by `plot::lanes`), the longest partial
//! linearization numbered in order, and the operation that could not be
//! placed in red.

use super::{Counterexample, OpView};
use crate::plot::lanes::{self, Bar, BarClass};
use crate::plot::PlotError;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;

/// A complete HTML page for `c`: a summary, the picture, the partial
/// linearization as a table, and the text account; `title` heads it.
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
    match picture(c) {
        Ok(svg) => page.push_str(svg_body(&svg)),
        Err(e) => {
            let _ = writeln!(page, "<p>(the picture could not be drawn: {})</p>", escape(&e));
        }
    }
    page.push_str(&linearization_table(c));
    let _ = writeln!(
        page,
        "<h2>Details</h2><pre>{}</pre>\n</body></html>",
        escape(&c.to_text())
    );
    page
}

/// At most this many calls and returns are drawn: enough to read the
/// results on a screen. A longer window is cut to the stretch that ends
/// just after the op that cannot be placed; the table has every op.
pub const EVENTS_DRAWN_MAX: usize = 40;

/// The window as an SVG picture: bars by rank (a rank is a distinct call
/// or return time), numbered in the order of the longest partial
/// linearization. In a cut window, ops called before the cut start at
/// the left edge and ops returning after it reach the right edge; ops
/// left open since before it, which the checker did not place, are not
/// drawn (they would each take a lane across the whole picture).
pub fn picture(c: &Counterexample) -> Result<String, PlotError> {
    let l = layout(c);
    lanes::svg(&l.lanes, &l.bars, l.ranks, &l.caption)
}

/// What [`picture`] draws.
struct Layout {
    lanes: Vec<String>,
    bars: Vec<Bar>,
    ranks: usize,
    caption: String,
}

fn layout(c: &Counterexample) -> Layout {
    // A window can hold a whole partition: nothing here is quadratic.
    let times: Vec<u64> = c
        .window
        .iter()
        .flat_map(|v| [Some(v.call), v.ret])
        .flatten()
        .collect::<BTreeSet<u64>>()
        .into_iter()
        .collect();
    let rank = |t: u64| times.partition_point(|&x| x < t);
    let (lo, hi) = shown_ranks(c, times.len(), rank);
    let marks = Marks::of(c);
    let in_cut = |v: &OpView| rank(v.call) < hi && v.ret.is_none_or(|r| rank(r) >= lo);
    let folded =
        |v: &OpView| lo > 0 && v.ret.is_none() && rank(v.call) < lo && marks.class_of(c, v).0 == BarClass::Other;
    let drawn: Vec<&OpView> = c.window.iter().filter(|v| in_cut(v) && !folded(v)).collect();
    let processes: Vec<u64> = drawn
        .iter()
        .map(|v| v.process)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let lane = |p: u64| processes.iter().position(|&x| x == p).unwrap_or(0);
    let bars: Vec<Bar> = drawn
        .iter()
        .map(|v| {
            let (class, number) = marks.class_of(c, v);
            Bar {
                lane: lane(v.process),
                call: rank(v.call).max(lo) - lo,
                // Past the cut: to the right edge, where open ones end.
                ret: v.ret.map(|r| if rank(r) >= hi { hi - lo + 1 } else { rank(r) - lo }),
                label: format!("{number}{}", v.text),
                class,
            }
        })
        .collect();
    let names: Vec<String> = processes.iter().map(|p| format!("process {p}")).collect();
    let mut caption = String::from("order of calls and returns (not to scale)");
    if hi - lo < times.len() {
        let hidden = c.window.iter().filter(|v| folded(v)).count();
        caption.push_str(&format!(
            "; steps {}..{} of {}, up to the op that cannot be placed; {hidden} ops open since earlier not drawn",
            lo + 1,
            hi,
            times.len()
        ));
    }
    Layout {
        lanes: names,
        bars,
        ranks: hi - lo,
        caption,
    }
}

/// Where each op stands in the linearization, and which could have gone
/// next: looked up per op drawn.
struct Marks {
    order: HashMap<usize, usize>,
    candidates: HashSet<usize>,
}

impl Marks {
    fn of(c: &Counterexample) -> Marks {
        Marks {
            order: c.prefix.iter().enumerate().map(|(k, (id, _))| (*id, k)).collect(),
            candidates: c.candidates.iter().copied().collect(),
        }
    }

    /// What the checker made of `v`, and its number in the linearization.
    fn class_of(&self, c: &Counterexample, v: &OpView) -> (BarClass, String) {
        let order = self.order.get(&v.id);
        let class = match order {
            Some(_) => BarClass::Placed,
            None if v.id == c.blocked => BarClass::Blocked,
            None if self.candidates.contains(&v.id) => BarClass::Candidate,
            None => BarClass::Other,
        };
        (class, order.map_or(String::new(), |k| format!("{}. ", k + 1)))
    }
}

/// The ranks drawn, [lo, hi): all of them, or the last
/// [`EVENTS_DRAWN_MAX`] up to a little after the blocked op's return.
fn shown_ranks(c: &Counterexample, ranks: usize, rank: impl Fn(u64) -> usize) -> (usize, usize) {
    if ranks <= EVENTS_DRAWN_MAX {
        return (0, ranks);
    }
    let blocked = c.window.iter().find(|v| v.id == c.blocked);
    let end = blocked.map_or(ranks, |v| rank(v.ret.unwrap_or(v.call)) + 4);
    let hi = end.clamp(EVENTS_DRAWN_MAX, ranks);
    (hi - EVENTS_DRAWN_MAX, hi)
}

/// An SVG document without its XML declaration, to put inside HTML.
pub fn svg_body(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

fn linearization_table(c: &Counterexample) -> String {
    let mut t = String::from(
        "<h2>Longest partial linearization</h2>\n<table><tr><th>#</th><th>op</th><th>state after</th></tr>\n",
    );
    let by_id: HashMap<usize, &OpView> = c.window.iter().map(|v| (v.id, v)).collect();
    let text = |id: usize| by_id.get(&id).map_or(String::new(), |v| v.text.clone());
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

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}svg{border:1px solid #ddd}\
table{border-collapse:collapse;margin-top:1em}\
td,th{border:1px solid #ccc;padding:3px 8px;font-family:monospace;font-size:13px}tr.blocked td{background:#fbe0e0}";

#[cfg(test)]
mod tests {
    use super::*;

    fn op(id: usize, process: u64, call: u64, ret: Option<u64>, text: &str) -> OpView {
        OpView {
            id,
            process,
            line: id + 1,
            call,
            ret,
            text: text.into(),
        }
    }

    /// How many shapes are filled with this bar class's colour.
    fn fills(svg: &str, class: BarClass) -> usize {
        let (r, g, b) = class.rgb();
        svg.matches(&format!("fill=\"#{r:02X}{g:02X}{b:02X}\"")).count()
    }

    #[test]
    fn escapes_and_marks_each_kind_of_op() {
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
            left_out: Vec::new(),
        };
        let page = render(&c, "a <test>");
        assert!(page.contains("a &lt;test&gt;") && !page.contains("<test>"));
        assert!(
            page.contains("<svg") && !page.contains("<?xml"),
            "the picture is inline"
        );
        assert!(page.contains("process 2"), "one lane per process");
        assert!(
            page.contains("op 1: get k -&gt; nil</td><td>cannot take effect"),
            "{page}"
        );
        assert!(
            page.contains("<code>&quot;v0&quot;</code>"),
            "the state after each placed op"
        );
        let svg = picture(&c).unwrap();
        assert!(svg.contains("1. put k v0") && svg.contains("get k -&gt; nil"), "{svg}");
        // Each class once in the legend, and once per bar of that class.
        assert_eq!(fills(&svg, BarClass::Placed), 2, "op 0");
        assert_eq!(fills(&svg, BarClass::Blocked), 2, "op 1");
        assert_eq!(fills(&svg, BarClass::Candidate), 2, "op 2");
        assert_eq!(fills(&svg, BarClass::Other), 2, "two legend swatches, no bar");
    }

    #[test]
    fn a_long_window_is_drawn_up_to_the_op_that_cannot_be_placed() {
        // 60 ops one after another: 120 calls and returns.
        let window: Vec<OpView> = (0..60)
            .map(|i| op(i, 0, 2 * i as u64, Some(2 * i as u64 + 1), &format!("w{i}")))
            .collect();
        let c = Counterexample {
            partition: "key k".into(),
            partition_ops: 60,
            first_bad_return: Some(50),
            window,
            start_states: vec!["nil".into()],
            prefix: vec![],
            blocked: 50,
            candidates: vec![],
            left_out: Vec::new(),
        };
        let svg = picture(&c).unwrap();
        // Op 50 returns at rank 101: the last 40 steps up to rank 105.
        assert!(svg.contains("steps 66..105 of 120"), "{svg}");
        assert!(svg.contains("\nw50\n"), "the blocked op is drawn");
        // w32 returns at rank 65, the first drawn; w31 is gone.
        assert!(svg.contains("\nw32\n") && !svg.contains("\nw31\n"), "from rank 65 on");
        assert!(!svg.contains("\nw53\n"), "nothing after rank 105");
    }

    #[test]
    fn a_cut_window_clips_ops_at_its_edges_and_folds_old_open_ones() {
        // Process 0: 60 ops in a row (ranks 0..120); op 50 cannot be placed.
        let mut window: Vec<OpView> = (0..60)
            .map(|i| op(i, 0, 10 * i as u64, Some(10 * i as u64 + 5), &format!("w{i}")))
            .collect();
        // Spanning the whole cut, open since the start, and open but placed.
        window.push(op(60, 1, 1, Some(599), "long"));
        window.push(op(61, 2, 2, None, "open"));
        window.push(op(62, 3, 3, None, "placed open"));
        let c = Counterexample {
            partition: "key k".into(),
            partition_ops: 63,
            first_bad_return: Some(50),
            window,
            start_states: vec!["nil".into()],
            prefix: vec![(62, "nil".into())],
            blocked: 50,
            candidates: vec![],
            left_out: Vec::new(),
        };
        let l = layout(&c);
        assert_eq!(l.ranks, EVENTS_DRAWN_MAX);
        let bar = |text: &str| l.bars.iter().find(|b| b.label.ends_with(text));
        let long = bar("long").expect("an op across the cut is drawn");
        assert_eq!((long.call, long.ret), (0, Some(EVENTS_DRAWN_MAX + 1)), "edge to edge");
        assert!(
            !l.bars.iter().any(|b| b.label == "open"),
            "the unplaced old open op is folded"
        );
        let placed = bar("placed open").expect("a placed op is kept, open or not");
        assert_eq!((placed.label.as_str(), placed.ret), ("1. placed open", None));
        assert!(
            l.caption.contains("1 ops open since earlier not drawn"),
            "{}",
            l.caption
        );
        assert_eq!(l.lanes.len(), 3, "processes 0, 1 and 3: {:?}", l.lanes);
        let blocked = bar("w50").unwrap();
        assert_eq!(blocked.class, BarClass::Blocked);
    }
}
