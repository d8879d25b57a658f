//! The space-time (Lamport) diagram: one lane per node, time to the right,
//! each message an arrow from its send to its delivery, lost messages
//! ending in a cross. Crashes and pauses are bands on their node's lane;
//! partitions are bands across all lanes, labelled with who was cut off.
//!
//! A run sends thousands of messages, so the diagram shows a window
//! around the failure: as wide as keeps the arrows countable (at most
//! [`MESSAGES_MAX`]), with the failure at 70% of the width so its run-up
//! shows. Clients get lanes only when they took part in the failure.

use super::*;
use crate::trace::timeline::{Fate, Lane, Message, NodeBand, PartitionBand, Timeline};
use plotters::coord::types::RangedCoordf64;

/// What the picture is about: when it went wrong, and who was involved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Focus {
    /// When the failure happened; `None` for a run that did not fail.
    pub at_ns: Option<u64>,
    /// The text beside the failure line: which check failed, and how.
    pub label: String,
    /// Clients to give lanes (their requests and replies are drawn).
    pub clients: Vec<u32>,
    /// The operation that exposed the failure, if one did.
    pub op: Option<u64>,
}

/// The time span drawn, [from_ns, to_ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Global time at the left edge.
    pub from_ns: u64,
    /// Global time at the right edge; always after `from_ns`.
    pub to_ns: u64,
}

/// Most messages a window should show: the window is halved around the
/// focus until it shows at most this many, or is down to about 5ms.
pub const MESSAGES_MAX: usize = 150;
const SPAN_START_NS: u64 = 2_000_000_000;
const SPAN_MIN_NS: u64 = 5_000_000;

const WIDTH_PX: u32 = 1200;
const LANE_PX: u32 = 46;
const LEFT_PX: i32 = 56;
/// The strip under the chart that holds the legend.
const LEGEND_PX: i32 = 40;
/// Half the height of a crash or pause band: short of half a lane, so
/// bands on neighbouring lanes never touch.
const BAND_HALF_ROWS: f64 = 0.32;

/// Where the picture put things, so tests can look at pixels.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// The time span drawn.
    pub window: Window,
    /// Pixel x of `window.from_ns` and of `window.to_ns`.
    pub x_px: (i32, i32),
    /// Pixel y of the first lane and of the last.
    pub y_px: (i32, i32),
    /// How many lanes were drawn.
    pub lanes: usize,
}

impl Frame {
    /// The pixel x of global time `t_ns` (outside the picture if `t_ns` is
    /// outside the window).
    pub fn x(&self, t_ns: u64) -> i32 {
        let f = (t_ns as f64 - self.window.from_ns as f64) / (self.window.to_ns - self.window.from_ns) as f64;
        between(self.x_px, f)
    }

    /// The pixel y of lane number `lane`, counted from the top.
    pub fn y(&self, lane: usize) -> i32 {
        if self.lanes < 2 {
            return self.y_px.0;
        }
        between(self.y_px, lane as f64 / (self.lanes - 1) as f64)
    }
}

/// The lanes drawn: every node, then the focus's clients.
pub fn lanes(t: &Timeline, focus: &Focus) -> Vec<Lane> {
    let mut lanes: Vec<Lane> = (0..t.nodes).map(Lane::Node).collect();
    lanes.extend(focus.clients.iter().map(|&c| Lane::Client(c)));
    lanes
}

/// The window around the focus (or, without one, around the first fault).
pub fn window(t: &Timeline, focus: &Focus) -> Window {
    let first_fault = t
        .node_bands
        .iter()
        .map(|b| b.from_ns)
        .chain(t.partitions.iter().map(|p| p.from_ns))
        .min();
    let at = focus.at_ns.or(first_fault).unwrap_or(0).min(t.end_ns);
    let lanes = lanes(t, focus);
    let mut span = SPAN_START_NS;
    loop {
        let from_ns = at.saturating_sub(span * 7 / 10);
        let to_ns = from_ns
            .saturating_add(span)
            .min(t.end_ns.max(from_ns.saturating_add(SPAN_MIN_NS)));
        let w = Window { from_ns, to_ns };
        if span <= SPAN_MIN_NS || shown(t, &lanes, w).count() <= MESSAGES_MAX {
            return w;
        }
        span /= 2;
    }
}

/// Messages between two drawn lanes that are in the air during `w`.
/// Still in flight when the run ended are not drawn, so not counted.
fn shown<'a>(t: &'a Timeline, lanes: &'a [Lane], w: Window) -> impl Iterator<Item = &'a Message> + 'a {
    t.messages.iter().filter(move |m| {
        let end = match m.fate {
            Fate::Delivered { at_ns } | Fate::Dropped { at_ns, .. } => at_ns,
            Fate::Lost => return false,
        };
        m.sent_ns < w.to_ns && end >= w.from_ns && lanes.contains(&m.from) && lanes.contains(&m.to)
    })
}

/// Where a message lost on the way ends: on the line from its sender
/// towards its receiver, but within 0.4 of a lane of the sender, so the
/// cross never sits on another node's lane. Lost the moment it was sent,
/// it still gets some slope, to show which way it was going.
fn lost_at(from: (u64, f64), to: (u64, f64), w: Window) -> (u64, f64) {
    let flight = to.0.saturating_sub(from.0).max((w.to_ns - w.from_ns) / 60);
    let rows = (to.1 - from.1).abs();
    let f = if rows > 0.0 { (0.4 / rows).min(0.5) } else { 0.5 };
    (from.0 + (flight as f64 * f) as u64, from.1 + (to.1 - from.1) * f)
}

/// The space-time diagram of `t` around `focus`, as SVG text.
pub fn svg(t: &Timeline, focus: &Focus) -> Result<String, PlotError> {
    let w = window(t, focus);
    let size = size(lanes(t, focus).len());
    to_svg(size, |root| draw(root, t, focus, w).map(|_| ()))
}

/// The picture's size in pixels (width, height) with this many lanes.
pub fn size(lanes: usize) -> (u32, u32) {
    (WIDTH_PX, 110 + LANE_PX * lanes.max(1) as u32 + 40)
}

/// Draws the diagram of `t` over window `w` onto `root` (of any backend)
/// and says where it put things.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Timeline,
    focus: &Focus,
    w: Window,
) -> Result<Frame, PlotError> {
    let lanes = lanes(t, focus);
    let (width_px, height_px) = root.dim_in_pixel();
    let (chart_area, legend_area) = root.split_vertically(height_px as i32 - LEGEND_PX);
    let chart = chart_on(&chart_area, rows(&lanes), w)?;
    let mut canvas = Canvas {
        root,
        chart,
        lanes,
        window: w,
    };
    let frame = canvas.frame();
    // Back to front: bands under the lanes, labels over them, messages on top.
    let (bands, partitions) = t.faults_in(w.from_ns, w.to_ns);
    canvas.draw_fault_bands(&bands, &partitions)?;
    canvas.draw_lanes()?;
    canvas.draw_leaders(t)?;
    canvas.draw_band_labels(t, &bands, &partitions)?;
    let kinds = canvas.draw_messages(t)?;
    canvas.draw_marks(t)?;
    canvas.draw_failure(focus)?;
    let entries = legend_entries(t, &kinds);
    legend(&legend_area, (LEFT_PX, 4), width_px as i32 - 10, &entries)?;
    Ok(frame)
}

/// The chart's coordinates: seconds across; lanes down, the first at row 0,
/// the next at -1, and so on.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Rows the chart has room for: at least one, so an empty picture still
/// has a height.
fn rows(lanes: &[Lane]) -> f64 {
    lanes.len().max(1) as f64
}

/// The row of `lane` in the chart. Only drawn lanes are asked for; the
/// first lane is a harmless answer should that ever change.
fn row_of(lanes: &[Lane], lane: Lane) -> f64 {
    -(lanes.iter().position(|&l| l == lane).unwrap_or(0) as f64)
}

impl Window {
    /// `at_ns` in seconds, held inside the window, so bands that began
    /// before it or end after it are cut at its edges.
    fn clamped_s(&self, at_ns: u64) -> f64 {
        secs(at_ns.clamp(self.from_ns, self.to_ns))
    }
}

/// The chart over `w`, a row per lane, with its time axis drawn.
fn chart_on<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    rows: f64,
    w: Window,
) -> Result<Chart<'_, DB>, PlotError> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(28)
        .margin_right(16)
        .x_label_area_size(34)
        .y_label_area_size(LEFT_PX)
        .build_cartesian_2d(secs(w.from_ns)..secs(w.to_ns), -(rows - 0.5)..0.5)
        .map_err(err)?;
    // Lanes are named in the margin by hand, so the y axis has no labels.
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(10)
        .x_label_formatter(&|x| format!("{x:.3}s"))
        .x_desc("simulated time")
        .light_line_style(TRANSPARENT)
        .label_style(font(12))
        .axis_desc_style(font(12))
        .draw()
        .map_err(err)?;
    Ok(chart)
}

/// The whole drawing area (names, labels and marks are drawn on it in
/// pixels, so they may overhang the chart) and the chart within it.
struct Canvas<'r, 'c, DB: DrawingBackend> {
    root: &'r DrawingArea<DB, Shift>,
    chart: Chart<'c, DB>,
    lanes: Vec<Lane>,
    window: Window,
}

impl<DB: DrawingBackend> Canvas<'_, '_, DB> {
    fn row(&self, lane: Lane) -> f64 {
        row_of(&self.lanes, lane)
    }

    /// The top edge of the first lane's row, in rows.
    fn top(&self) -> f64 {
        0.5
    }

    /// The bottom edge of the last lane's row, in rows.
    fn bottom(&self) -> f64 {
        -(rows(&self.lanes) - 0.5)
    }

    /// The pixel at `at_ns` (held inside the window) and `row`.
    fn px(&self, at_ns: u64, row: f64) -> (i32, i32) {
        self.chart.backend_coord(&(self.window.clamped_s(at_ns), row))
    }

    fn frame(&self) -> Frame {
        let w = self.window;
        Frame {
            window: w,
            x_px: (
                self.chart.backend_coord(&(secs(w.from_ns), 0.0)).0,
                self.chart.backend_coord(&(secs(w.to_ns), 0.0)).0,
            ),
            y_px: (
                self.chart.backend_coord(&(0.0, 0.0)).1,
                self.chart.backend_coord(&(0.0, -(rows(&self.lanes) - 1.0))).1,
            ),
            lanes: self.lanes.len(),
        }
    }

    /// Partitions across every lane, since they cut the network, not a
    /// node; crashes and pauses on their node's lane.
    fn draw_fault_bands(&self, bands: &[&NodeBand], partitions: &[&PartitionBand]) -> Result<(), PlotError> {
        for p in partitions {
            let style = PARTITION.mix(BAND_PARTITION).filled();
            band(
                self.root,
                self.px(p.from_ns, self.bottom()),
                self.px(p.to_ns, self.top()),
                style,
            )?;
        }
        for b in bands {
            let y = self.row(Lane::Node(b.node));
            let (color, alpha) = b.color();
            let color = rgb(color);
            band(
                self.root,
                self.px(b.from_ns, y - BAND_HALF_ROWS),
                self.px(b.to_ns, y + BAND_HALF_ROWS),
                color.mix(alpha).filled(),
            )?;
        }
        Ok(())
    }

    /// Each lane's line across the window, and its name in the margin.
    fn draw_lanes(&mut self) -> Result<(), PlotError> {
        let w = self.window;
        for &lane in &self.lanes {
            let y = row_of(&self.lanes, lane);
            let line = vec![(secs(w.from_ns), y), (secs(w.to_ns), y)];
            self.chart
                .draw_series([PathElement::new(line, FAINT.stroke_width(1))])
                .map_err(err)?;
            let (_, y_px) = self.chart.backend_coord(&(0.0, y));
            let name = Text::new(lane.name(), (12, y_px - 7), font(14));
            self.root.draw(&name).map_err(err)?;
        }
        Ok(())
    }

    /// A leader's lane thick while it leads, so two leaders at once stand out.
    fn draw_leaders(&mut self, t: &Timeline) -> Result<(), PlotError> {
        let w = self.window;
        for l in t.leaders.iter().filter(|l| l.from_ns < w.to_ns && l.to_ns > w.from_ns) {
            let y = row_of(&self.lanes, Lane::Node(l.node));
            let line = vec![(w.clamped_s(l.from_ns), y), (w.clamped_s(l.to_ns), y)];
            self.chart
                .draw_series([PathElement::new(line, LEADER.mix(0.6).stroke_width(6))])
                .map_err(err)?;
        }
        Ok(())
    }

    /// What each band is, cut to the band's width: a band too narrow for
    /// its label goes without.
    fn draw_band_labels(
        &self,
        t: &Timeline,
        bands: &[&NodeBand],
        partitions: &[&PartitionBand],
    ) -> Result<(), PlotError> {
        for p in partitions {
            let (x0, y0) = self.px(p.from_ns, self.top());
            let x1 = self.px(p.to_ns, self.top()).0;
            let label = format!("partition {}", p.describe(t.nodes));
            self.draw_label(&label, (x0 + 3, y0 + 2), x1 - x0 - 6)?;
        }
        for b in bands {
            let (x0, y) = self.px(b.from_ns, self.row(Lane::Node(b.node)) + BAND_HALF_ROWS);
            let x1 = self.px(b.to_ns, 0.0).0;
            self.draw_label(b.state_name(), (x0 + 3, y + 1), x1 - x0 - 6)?;
        }
        Ok(())
    }

    fn draw_label(&self, text: &str, at_px: (i32, i32), width_px: i32) -> Result<(), PlotError> {
        let label = fit(self.root, text, &font(11), width_px);
        self.root.draw(&Text::new(label, at_px, font(11))).map_err(err)
    }

    /// Every message shown, coloured by kind; returns the kinds seen, for
    /// the legend.
    fn draw_messages<'s>(&'s self, t: &'s Timeline) -> Result<Kinds<'s>, PlotError> {
        let mut kinds = Kinds::default();
        for m in shown(t, &self.lanes, self.window) {
            let color = kinds.color(&m.kind);
            let Some((to, arrived)) = self.message_end(m) else {
                continue;
            };
            kinds.lost |= !arrived;
            self.draw_message((m.sent_ns, self.row(m.from)), to, arrived, color)?;
        }
        Ok(kinds)
    }

    /// Where a message's line ends (time, row), and whether it arrived
    /// there. Still in flight at the end of the run, it has no end.
    fn message_end(&self, m: &Message) -> Option<((u64, f64), bool)> {
        match &m.fate {
            Fate::Delivered { at_ns } => Some(((*at_ns, self.row(m.to)), true)),
            // It got there, to a node that was down.
            Fate::Dropped { at_ns, reason } if reason == "down" => Some(((*at_ns, self.row(m.to)), false)),
            Fate::Dropped { at_ns, .. } => {
                let from = (m.sent_ns, self.row(m.from));
                Some((lost_at(from, (*at_ns, self.row(m.to)), self.window), false))
            }
            Fate::Lost => None,
        }
    }

    /// A message's line, from `from` to `to` (time, row), cut to the window,
    /// ending in an arrowhead if it `arrived` or a cross if it was lost.
    fn draw_message(&self, from: (u64, f64), to: (u64, f64), arrived: bool, color: RGBColor) -> Result<(), PlotError> {
        let Some((a, b)) = clip(from, to, self.window) else {
            return Ok(());
        };
        let (a_px, b_px) = (self.chart.backend_coord(&a), self.chart.backend_coord(&b));
        self.root
            .draw(&PathElement::new(vec![a_px, b_px], color.stroke_width(1)))
            .map_err(err)?;
        // Cut at the window's right edge, its end is out of sight: no mark.
        let reached = secs(to.0) <= b.0;
        if reached && arrived {
            self.root.draw(&arrowhead(a_px, b_px, color)).map_err(err)?;
        } else if reached {
            self.root
                .draw(&Cross::new(b_px, 4, CRASH.stroke_width(2)))
                .map_err(err)?;
        }
        Ok(())
    }

    /// A tick across the lane of each node a fault hit at an instant (a
    /// clock jump, a failed fsync), labelled with what happened. A fault of
    /// no one node is drawn on the first lane.
    fn draw_marks(&self, t: &Timeline) -> Result<(), PlotError> {
        let w = self.window;
        let in_window = t.marks.iter().filter(|j| j.at_ns >= w.from_ns && j.at_ns < w.to_ns);
        for j in in_window {
            let color = j.color().map_or(CLOCK, rgb);
            let y = self.row(Lane::Node(j.node.unwrap_or(0)));
            let (x, y_px) = self.chart.backend_coord(&(secs(j.at_ns), y));
            let tick = PathElement::new(vec![(x, y_px - 16), (x, y_px + 16)], color.stroke_width(3));
            self.root.draw(&tick).map_err(err)?;
            let label = Text::new(j.label.clone(), (x + 4, y_px + 4), font(11).color(&color));
            self.root.draw(&label).map_err(err)?;
        }
        Ok(())
    }

    /// The failure's line across every lane, if it falls in the window.
    fn draw_failure(&self, focus: &Focus) -> Result<(), PlotError> {
        let w = self.window;
        if let Some(at) = focus.at_ns.filter(|&at| at >= w.from_ns && at <= w.to_ns) {
            let (x, y0) = self.chart.backend_coord(&(secs(at), self.top()));
            let y1 = self.chart.backend_coord(&(secs(at), self.bottom())).1;
            failure_line(self.root, x, (y0, y1), &focus.label)?;
        }
        Ok(())
    }
}

/// The message kinds drawn, in the order they first appeared (which gives
/// each its colour), and whether a message in the window was lost (even
/// one whose cross is out of sight: the legend explains what was lost).
#[derive(Default)]
struct Kinds<'t> {
    names: Vec<&'t str>,
    lost: bool,
}

impl<'t> Kinds<'t> {
    fn color(&mut self, kind: &'t str) -> RGBColor {
        let index = match self.names.iter().position(|&k| k == kind) {
            Some(index) => index,
            None => {
                self.names.push(kind);
                self.names.len() - 1
            }
        };
        kind_color(index)
    }
}

/// The colour of the `index`th kind to appear: the palette repeats.
fn kind_color(index: usize) -> RGBColor {
    PALETTE[index % PALETTE.len()]
}

/// The legend: the message kinds drawn, then every other mark the diagram
/// may have, so it reads the same from run to run.
fn legend_entries(t: &Timeline, kinds: &Kinds<'_>) -> Vec<(Swatch, String)> {
    let mut entries: Vec<(Swatch, String)> = kinds
        .names
        .iter()
        .enumerate()
        .map(|(i, k)| (Swatch::Line(kind_color(i)), k.to_string()))
        .collect();
    if kinds.lost {
        entries.push((Swatch::Cross(CRASH), "lost message".into()));
    }
    entries.push((Swatch::Line(LEADER), "leader (thick lane)".into()));
    entries.extend(fault_legend(t, 1.0, ""));
    entries.push((Swatch::Line(FAILURE), "failure".into()));
    entries
}

/// The part of the segment a→b (time in ns, lane row) inside the window,
/// in chart coordinates (seconds, row).
fn clip(a: (u64, f64), b: (u64, f64), w: Window) -> Option<((f64, f64), (f64, f64))> {
    if b.0 < w.from_ns || a.0 > w.to_ns {
        return None;
    }
    let at = |t: u64| {
        if b.0 == a.0 {
            return a.1;
        }
        let f = (t as f64 - a.0 as f64) / (b.0 as f64 - a.0 as f64);
        a.1 + (b.1 - a.1) * f
    };
    let (t0, t1) = (a.0.max(w.from_ns), b.0.min(w.to_ns));
    let y0 = if t0 == a.0 { a.1 } else { at(t0) };
    let y1 = if t1 == b.0 { b.1 } else { at(t1) };
    Some(((t0 as f64 / 1e9, y0), (t1 as f64 / 1e9, y1)))
}

/// A filled triangle at `to`, pointing along from→to.
fn arrowhead(from: (i32, i32), to: (i32, i32), color: RGBColor) -> Polygon<(i32, i32)> {
    let (dx, dy) = ((to.0 - from.0) as f64, (to.1 - from.1) as f64);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let back = |side: f64| {
        let x = to.0 as f64 - 8.0 * ux - 3.5 * uy * side;
        let y = to.1 as f64 - 8.0 * uy + 3.5 * ux * side;
        (x.round() as i32, y.round() as i32)
    };
    Polygon::new(vec![to, back(1.0), back(-1.0)], color.filled())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in crash and pause bands' opacity (see `fault::BUILT_IN`).
    const BAND_CRASH: f64 = 0.30;
    const BAND_PAUSE: f64 = 0.35;
    use crate::plot::testing::Pixels;

    const TRACE: &str = "\
0 0.000000000 start node=n0
0 0.050000000 role node=n0 role=leader
1 0.100000000 send from=n0 to=n1 msg=0 payload=Append { term: 1 }
2 0.150000000 deliver from=n0 to=n1 msg=0
3 0.200000000 crash node=n2
4 0.300000000 partition cut=n0>n1,n1>n0 payload=Partition
5 0.350000000 send from=n0 to=n1 msg=1 payload=Append { term: 1 }
6 0.400000000 drop from=n0 to=n1 msg=1 reason=partition
6 0.410000000 send from=n0 to=n2 msg=2 payload=Append { term: 1 }
6 0.420000000 drop from=n0 to=n2 msg=2 reason=down
6 0.900000000 send from=n0 to=n1 msg=3 payload=Append { term: 1 }
7 0.500000000 heal links=n0>n1,n1>n0
8 0.600000000 restart node=n2
9 0.700000000 pause node=n1
10 0.800000000 resume node=n1
11 1.000000000 end
";

    fn picture(focus: &Focus) -> (Pixels, Frame) {
        let t = Timeline::from_trace(TRACE);
        let w = Window {
            from_ns: 0,
            to_ns: 1_000_000_000,
        };
        Pixels::draw(size(lanes(&t, focus).len()), |root| draw(root, &t, focus, w))
    }

    #[test]
    fn bands_sit_on_their_lanes_and_times() {
        let (p, f) = picture(&Focus::default());
        assert_eq!(f.lanes, 3);
        let crash_mid = (f.x(550_000_000), f.y(2) + 6);
        assert!(
            p.tint_near(crash_mid, CRASH, BAND_CRASH),
            "n2 crashed 0.2..0.6s: {:?}",
            p.at(crash_mid)
        );
        let before_crash = (f.x(190_000_000), f.y(2) + 5);
        assert_eq!(p.at(before_crash), (255, 255, 255), "n2 up before 0.2s");
        let pause = (f.x(750_000_000), f.y(1) + 5);
        assert!(p.tint_near(pause, PAUSE, BAND_PAUSE), "n1 paused: {:?}", p.at(pause));
        assert_eq!(
            p.at((f.x(750_000_000), f.y(0) + 5)),
            (255, 255, 255),
            "n0 was never paused"
        );
        // n0 leads from 0.05s to the end: its lane is thick there, n1's is not.
        assert!(p.tint_near((f.x(600_000_000), f.y(0) + 2), LEADER, 0.6), "n0 leads");
        assert!(!p.tint_near((f.x(600_000_000), f.y(1) + 2), LEADER, 0.6), "n1 does not");
        assert!(
            !p.tint_near((f.x(30_000_000), f.y(0) + 2), LEADER, 0.6),
            "n0 before it led"
        );
        // The partition band spans every lane, between them too.
        let between = (f.x(450_000_000), (f.y(0) + f.y(1)) / 2);
        assert!(
            p.tint_near(between, PARTITION, BAND_PARTITION),
            "partition: {:?}",
            p.at(between)
        );
        assert_eq!(
            p.at((f.x(550_000_000), (f.y(0) + f.y(1)) / 2)),
            (255, 255, 255),
            "healed at 0.5s"
        );
    }

    #[test]
    fn messages_run_from_sender_to_receiver() {
        let (p, f) = picture(&Focus::default());
        // Half way along the first message, 0.1s on n0 to 0.15s on n1.
        let mid = (f.x(125_000_000), (f.y(0) + f.y(1)) / 2);
        let near: Vec<_> = (-2..=2).map(|d| p.at((mid.0 + d, mid.1))).collect();
        let blue = |&(r, _, b): &(u8, u8, u8)| b as i32 > r as i32 + 50;
        assert!(near.iter().any(blue), "the first message's colour: {near:?}");
        let off: Vec<_> = (-2..=2).map(|d| p.at((mid.0 + d, mid.1 + 12))).collect();
        assert!(!off.iter().any(blue), "nothing beside it: {off:?}");
        // The lost one ends in a red cross near its sender: 0.4 of the way
        // to the next lane, 0.4 of its 50ms flight after it was sent.
        let y = f.y(0) as f64 + (f.y(1) - f.y(0)) as f64 * 0.4;
        let cross = (f.x(370_000_000), y.round() as i32);
        let red = |(r, g, b): (u8, u8, u8)| r > 150 && g < 120 && b < 120;
        assert!(red(p.at(cross)), "a cross at {cross:?}: {:?}", p.at(cross));
        // One sent to the crashed n2 ends on n2's lane, when it arrived.
        let down = (f.x(420_000_000), f.y(2));
        assert!(red(p.at(down)), "a cross at {down:?}: {:?}", p.at(down));
    }

    #[test]
    fn messages_in_flight_at_the_end_are_neither_drawn_nor_counted() {
        let t = Timeline::from_trace(TRACE);
        let lanes = lanes(&t, &Focus::default());
        let w = Window {
            from_ns: 0,
            to_ns: 1_000_000_000,
        };
        let sent: Vec<u64> = shown(&t, &lanes, w).map(|m| m.sent_ns).collect();
        assert_eq!(
            sent,
            [100_000_000, 350_000_000, 410_000_000],
            "not the one sent at 0.9s"
        );
    }

    #[test]
    fn the_window_narrows_until_the_arrows_can_be_counted() {
        let mut trace = String::new();
        for i in 0..2000u64 {
            let t = i * 5_000_000;
            trace.push_str(&format!(
                "{} {}.{:09} send from=n0 to=n1 msg={i} payload=Ping\n",
                2 * i,
                t / 1_000_000_000,
                t % 1_000_000_000
            ));
            let d = t + 1_000_000;
            trace.push_str(&format!(
                "{} {}.{:09} deliver from=n0 to=n1 msg={i}\n",
                2 * i + 1,
                d / 1_000_000_000,
                d % 1_000_000_000
            ));
        }
        let t = Timeline::from_trace(&trace);
        let focus = Focus {
            at_ns: Some(5_000_000_000),
            ..Focus::default()
        };
        let w = window(&t, &focus);
        let lanes = lanes(&t, &focus);
        let n = shown(&t, &lanes, w).count();
        assert!(n <= MESSAGES_MAX && n > MESSAGES_MAX / 3, "{n} messages in {w:?}");
        assert!(
            w.from_ns < 5_000_000_000 && w.to_ns > 5_000_000_000,
            "{w:?} holds the focus"
        );
        let before = 5_000_000_000 - w.from_ns;
        assert!(before > (w.to_ns - w.from_ns) / 2, "more run-up than aftermath: {w:?}");
    }

    #[test]
    fn a_lost_message_ends_near_its_sender_never_on_another_lane() {
        let w = Window { from_ns: 0, to_ns: 600 };
        // From lane 0 to lane -4 (four lanes down), lost after 100ns.
        let (t, y) = lost_at((0, 0.0), (100, -4.0), w);
        assert_eq!((t, y), (10, -0.4));
        // To the next lane: 0.4 of the way.
        assert_eq!(lost_at((0, -2.0), (100, -1.0), w), (40, -1.6));
        // Lost as it was sent: a slope of a sixtieth of the window.
        assert_eq!(lost_at((50, 0.0), (50, -1.0), w), (54, -0.4));
    }

    #[test]
    fn clipping_keeps_the_part_inside() {
        let w = Window {
            from_ns: 100,
            to_ns: 200,
        };
        assert_eq!(clip((0, 0.0), (50, -1.0), w), None);
        let ((t0, y0), (t1, y1)) = clip((50, 0.0), (150, -1.0), w).unwrap();
        assert_eq!((t0 * 1e9, y0, t1 * 1e9, y1), (100.0, -0.5, 150.0, -1.0));
    }
}
