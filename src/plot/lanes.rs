//! Operations as bars on lanes, one lane per process, each bar from its
//! call to its return: the picture of a linearizability counterexample.
//! Time is drawn by rank (the order of calls and returns), not to scale:
//! only the order matters to linearizability, and ranks keep short ops
//! readable next to long ones.

use super::*;
use plotters::coord::types::RangedCoordf64;

/// What the checker made of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarClass {
    /// In the longest partial linearization.
    Placed,
    /// Must take effect next, and cannot.
    Blocked,
    /// Could go next, but leads nowhere.
    Candidate,
    /// In the window, but none of the above.
    Other,
}

impl BarClass {
    /// The bar's fill colour, so a table beside the picture can match it.
    pub fn rgb(self) -> (u8, u8, u8) {
        let c = self.color();
        (c.0, c.1, c.2)
    }

    fn color(self) -> RGBColor {
        match self {
            BarClass::Placed => RGBColor(191, 230, 192),
            BarClass::Blocked => RGBColor(246, 180, 180),
            BarClass::Candidate => RGBColor(251, 226, 176),
            BarClass::Other => RGBColor(228, 228, 228),
        }
    }

    fn edge(self) -> RGBColor {
        match self {
            BarClass::Placed => RGBColor(58, 138, 60),
            BarClass::Blocked => RGBColor(178, 34, 34),
            BarClass::Candidate => RGBColor(192, 138, 30),
            BarClass::Other => RGBColor(153, 153, 153),
        }
    }
}

/// One operation to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    /// Index of its lane in the `lanes` names, from the top.
    pub lane: usize,
    /// Ranks of the call and the return; no return: still open.
    pub call: usize,
    /// See `call`; an open bar runs to the right edge.
    pub ret: Option<usize>,
    /// The text on the bar: the operation and its result.
    pub label: String,
    /// What the checker made of it, which sets its colours.
    pub class: BarClass,
}

const LANE_PX: u32 = 36;
const STEP_PX_MIN: u32 = 46;
const STEP_PX_MAX: u32 = 160;
const LEFT_PX: u32 = 96;
/// Pages scroll these sideways; see `report::page`.
const WIDTH_PX_MAX: u32 = 4800;

/// Wide enough for every finished bar's whole label where that fits in
/// `WIDTH_PX_MAX`: the results are what the reader needs to see.
pub fn size(lanes: usize, bars: &[Bar], ranks: usize) -> (u32, u32) {
    let style = font(12);
    let needed = bars.iter().filter_map(|b| {
        let span = b.ret? as f64 - b.call as f64 + 0.5;
        let text_px = style.font.box_size(&printable(&b.label)).map_or(0, |(w, _)| w) as f64;
        Some(((text_px + 12.0) / span).ceil() as u32)
    });
    let slots = ranks as u32 + 2;
    let step = needed
        .max()
        .unwrap_or(0)
        .clamp(STEP_PX_MIN, STEP_PX_MAX)
        .min((WIDTH_PX_MAX - 2 * LEFT_PX) / slots)
        .max(1);
    (2 * LEFT_PX + step * slots, 60 + LANE_PX * lanes.max(1) as u32 + 44)
}

/// `caption` goes under the time axis.
pub fn svg(lanes: &[String], bars: &[Bar], ranks: usize, caption: &str) -> Result<String, PlotError> {
    to_svg(size(lanes.len(), bars, ranks), |root| {
        draw(root, lanes, bars, ranks, caption)
    })
}

/// Draws `bars` on one lane per name in `lanes`, over `ranks` distinct
/// call and return times, with a legend of the bar classes.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lanes: &[String],
    bars: &[Bar],
    ranks: usize,
    caption: &str,
) -> Result<(), PlotError> {
    let rows = lanes.len().max(1) as f64;
    let (width, height) = root.dim_in_pixel();
    let (chart_area, legend_area) = root.split_vertically(height as i32 - 44);
    // The open end of a bar reaches past the last rank.
    let x_max = ranks as f64 + 1.5;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin(10)
        .margin_right(LEFT_PX)
        .x_label_area_size(24)
        .y_label_area_size(LEFT_PX)
        .build_cartesian_2d(-0.5..x_max, -(rows - 0.5)..0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_labels(0)
        .x_labels(0)
        .x_desc(printable(caption))
        .axis_desc_style(font(12))
        .draw()
        .map_err(err)?;
    draw_lane_names(root, &chart, lanes, x_max)?;
    for bar in bars {
        draw_bar(root, &mut chart, bar, x_max)?;
    }
    legend(&legend_area, (LEFT_PX as i32, 6), width as i32 - 10, &legend_entries())
}

type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Lane names on both sides: a wide picture is read scrolled.
fn draw_lane_names<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart<'_, DB>,
    lanes: &[String],
    x_max: f64,
) -> Result<(), PlotError> {
    let right = chart.backend_coord(&(x_max, 0.0)).0 + 8;
    for (i, name) in lanes.iter().enumerate() {
        let (_, y) = chart.backend_coord(&(0.0, -(i as f64)));
        for x in [8, right] {
            root.draw(&Text::new(printable(name), (x, y - 7), font(12)))
                .map_err(err)?;
        }
    }
    Ok(())
}

/// One operation's bar, from its call to its return (or past the last rank,
/// faded, if it has none), with its label cut to fit.
fn draw_bar<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut Chart<'_, DB>,
    bar: &Bar,
    x_max: f64,
) -> Result<(), PlotError> {
    let style = font(12);
    let y = -(bar.lane as f64);
    let x1 = bar.ret.map_or(x_max, |r| r as f64 + 0.5);
    let corners = [(bar.call as f64, y + 0.34), (x1, y - 0.34)];
    let fill = if bar.ret.is_none() {
        bar.class.color().mix(0.5)
    } else {
        bar.class.color().mix(1.0)
    };
    chart
        .draw_series([
            Rectangle::new(corners, fill.filled()),
            Rectangle::new(corners, bar.class.edge().stroke_width(1)),
        ])
        .map_err(err)?;
    let (px0, py) = chart.backend_coord(&(bar.call as f64, y + 0.2));
    let px1 = chart.backend_coord(&(x1, y)).0;
    let text = if bar.ret.is_none() {
        format!("{} \u{2026}", bar.label)
    } else {
        bar.label.clone()
    };
    let label = fit(root, &printable(&text), &style, px1 - px0 - 8);
    root.draw(&Text::new(label, (px0 + 4, py), style.clone())).map_err(err)
}

fn legend_entries() -> [(Swatch, String); 5] {
    [
        (
            Swatch::Fill(BarClass::Placed.color(), 1.0),
            "linearized, in order".to_string(),
        ),
        (
            Swatch::Fill(BarClass::Blocked.color(), 1.0),
            "must go next, cannot".into(),
        ),
        (
            Swatch::Fill(BarClass::Candidate.color(), 1.0),
            "could go next, leads nowhere".into(),
        ),
        (Swatch::Fill(BarClass::Other.color(), 1.0), "other".into()),
        (
            Swatch::Fill(BarClass::Other.color(), 0.5),
            "faded, ending in \u{2026}: no return (indeterminate)".into(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::Pixels;

    /// The colours found in the chart, above the legend.
    fn chart_colors(lanes: &[String], bars: &[Bar]) -> std::collections::BTreeSet<(u8, u8, u8)> {
        let size = size(lanes.len(), bars, 4);
        let (p, ()) = Pixels::draw(size, |root| draw(root, lanes, bars, 4, "caption"));
        let legend_top = size.1 as i32 - 44;
        (0..legend_top)
            .flat_map(|y| (0..p.width as i32).map(move |x| (x, y)))
            .map(|at| p.at(at))
            .collect()
    }

    fn rgb(c: RGBColor) -> (u8, u8, u8) {
        (c.0, c.1, c.2)
    }

    #[test]
    fn bars_are_coloured_by_what_the_checker_made_of_them() {
        let lanes = vec!["process 0".to_string(), "process 1".to_string()];
        let bar = |lane, call, class| Bar {
            lane,
            call,
            ret: Some(call + 1),
            label: "op".into(),
            class,
        };
        let bars = vec![bar(0, 0, BarClass::Placed), bar(1, 2, BarClass::Blocked)];
        let colors = chart_colors(&lanes, &bars);
        assert!(colors.contains(&rgb(BarClass::Placed.color())));
        assert!(colors.contains(&rgb(BarClass::Blocked.color())));
        assert!(!colors.contains(&rgb(BarClass::Candidate.color())), "no candidate bar");
        let none = chart_colors(&lanes, &[]);
        assert!(
            !none.contains(&rgb(BarClass::Placed.color())),
            "no bars, no bar colours"
        );
    }
}
