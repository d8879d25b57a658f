//! Operations as bars on lanes, one lane per process, each bar from its
//! call to its return: the picture of a linearizability counterexample.
//! Time is drawn by rank (the order of calls and returns), not to scale:
//! only the order matters to linearizability, and ranks keep short ops
//! readable next to long ones.

use super::*;

/// What the checker made of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarClass {
    /// In the longest partial linearization.
    Placed,
    /// Must take effect next, and cannot.
    Blocked,
    /// Could go next, but leads nowhere.
    Candidate,
    Other,
}

impl BarClass {
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

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bar {
    pub lane: usize,
    /// Ranks of the call and the return; no return: still open.
    pub call: usize,
    pub ret: Option<usize>,
    pub label: String,
    pub class: BarClass,
}

const LANE_PX: u32 = 36;
const STEP_PX_MIN: u32 = 46;
const STEP_PX_MAX: u32 = 160;
const LEFT_PX: u32 = 96;
const WIDTH_PX_MAX: u32 = 3200;

/// Wide enough for every finished bar's whole label where that fits in
/// [`WIDTH_PX_MAX`]: the results are what the reader needs to see.
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
        .min((WIDTH_PX_MAX - LEFT_PX) / slots)
        .max(8);
    (LEFT_PX + 24 + step * slots, 60 + LANE_PX * lanes.max(1) as u32 + 44)
}

pub fn svg(lanes: &[String], bars: &[Bar], ranks: usize) -> Result<String, PlotError> {
    to_svg(size(lanes.len(), bars, ranks), |root| draw(root, lanes, bars, ranks))
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    lanes: &[String],
    bars: &[Bar],
    ranks: usize,
) -> Result<(), PlotError> {
    let rows = lanes.len().max(1) as f64;
    let (width, height) = root.dim_in_pixel();
    let (chart_area, legend_area) = root.split_vertically(height as i32 - 44);
    // The open end of a bar reaches past the last rank.
    let x_max = ranks as f64 + 1.5;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin(10)
        .x_label_area_size(24)
        .y_label_area_size(LEFT_PX)
        .build_cartesian_2d(-0.5..x_max, -(rows - 0.5)..0.5)
        .map_err(err)?;
    chart
        .configure_mesh()
        .disable_mesh()
        .y_labels(0)
        .x_labels(0)
        .x_desc("order of calls and returns (not to scale)")
        .axis_desc_style(font(12))
        .draw()
        .map_err(err)?;
    for (i, name) in lanes.iter().enumerate() {
        let (_, y) = chart.backend_coord(&(0.0, -(i as f64)));
        root.draw(&Text::new(printable(name), (8, y - 7), font(12)))
            .map_err(err)?;
    }
    let style = font(12);
    for bar in bars {
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
        root.draw(&Text::new(label, (px0 + 4, py), style.clone()))
            .map_err(err)?;
    }
    let entries = [
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
    ];
    legend(&legend_area, (LEFT_PX as i32, 6), width as i32 - 10, &entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::Pixels;

    #[test]
    fn bars_are_coloured_by_what_the_checker_made_of_them() {
        let lanes = vec!["process 0".to_string(), "process 1".to_string()];
        let bars = vec![
            Bar {
                lane: 0,
                call: 0,
                ret: Some(1),
                label: "put x 1".into(),
                class: BarClass::Placed,
            },
            Bar {
                lane: 1,
                call: 2,
                ret: Some(3),
                label: "get x -> 2".into(),
                class: BarClass::Blocked,
            },
        ];
        let size = size(lanes.len(), &bars, 4);
        let (p, ()) = Pixels::draw(size, |root| draw(root, &lanes, &bars, 4));
        let colors: std::collections::BTreeSet<_> = (0..p.height as i32)
            .flat_map(|y| (0..p.width as i32).map(move |x| (x, y)))
            .map(|at| p.at(at))
            .collect();
        for class in [BarClass::Placed, BarClass::Blocked] {
            let c = class.color();
            assert!(colors.contains(&(c.0, c.1, c.2)), "{class:?} is drawn");
        }
        // In the legend only: the candidate swatch; the bars have no candidate.
        let legend_top = size.1 as i32 - 44;
        let candidate = BarClass::Candidate.color();
        let in_chart = (0..legend_top)
            .any(|y| (0..p.width as i32).any(|x| p.at((x, y)) == (candidate.0, candidate.1, candidate.2)));
        assert!(!in_chart);
    }
}
