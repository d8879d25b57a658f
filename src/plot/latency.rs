//! Operation latency over the whole run: one dot per operation at the
//! time it was invoked, on a log scale, with the fault windows shaded, so
//! a stall lines up with the fault that caused it. Operations that never
//! got an answer sit in a strip above the chart.

use super::spacetime::Focus;
use super::*;
use crate::trace::timeline::{OpEnd, Timeline};

const SIZE: (u32, u32) = (1200, 380);
const LEFT_PX: u32 = 64;

/// Where the picture put things, so tests can look at pixels.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub end_ns: u64,
    /// Pixel x of time 0 and of the run's end.
    pub x_px: (i32, i32),
    /// Pixel y of the top and the bottom of the plotting area.
    pub y_px: (i32, i32),
    /// Pixel y of the strip of unanswered operations.
    pub strip_y: i32,
}

impl Frame {
    pub fn x(&self, t_ns: u64) -> i32 {
        between(self.x_px, t_ns as f64 / self.end_ns.max(1) as f64)
    }
}

pub fn svg(t: &Timeline, focus: &Focus) -> Result<String, PlotError> {
    to_svg(SIZE, |root| draw(root, t, focus).map(|_| ()))
}

pub fn size() -> (u32, u32) {
    SIZE
}

/// Latency in milliseconds.
fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Timeline,
    focus: &Focus,
) -> Result<Frame, PlotError> {
    let (width, height) = root.dim_in_pixel();
    let (chart_area, legend_area) = root.split_vertically(height as i32 - 40);
    let answered: Vec<(u64, u64, OpEnd)> = t
        .ops
        .iter()
        .filter_map(|o| {
            o.done
                .map(|(at, end)| (o.invoke_ns, at.saturating_sub(o.invoke_ns), end))
        })
        .filter(|&(_, _, end)| end != OpEnd::Info)
        .collect();
    let slowest = answered.iter().map(|a| ms(a.1)).fold(1.0, f64::max);
    let fastest = answered.iter().map(|a| ms(a.1)).fold(slowest, f64::min);
    // Log scale: the bottom the power of ten under the fastest (strictly,
    // so no dot sits on the axis), the top room for the unanswered strip
    // above the slowest.
    let y_lo = 10f64.powf((fastest.max(1e-3) * 0.8).log10().floor());
    let y_answer_max = slowest * 1.5;
    let y_hi = y_answer_max * 4.0;
    let end_s = t.end_ns.max(1) as f64 / 1e9;
    let mut chart = ChartBuilder::on(&chart_area)
        .margin_top(24)
        .margin_right(16)
        .x_label_area_size(34)
        .y_label_area_size(LEFT_PX)
        .build_cartesian_2d(0.0..end_s, (y_lo..y_hi).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_labels(12)
        .x_label_formatter(&|x| format!("{x:.1}s"))
        .y_label_formatter(&|y| format!("{y}ms"))
        .x_desc("invoked at (simulated time)")
        .y_desc("latency")
        .light_line_style(TRANSPARENT)
        .label_style(font(12))
        .axis_desc_style(font(12))
        .draw()
        .map_err(err)?;
    let secs = |ns: u64| ns as f64 / 1e9;
    let full = |from: u64, to: u64| {
        let (a, b) = (
            chart.backend_coord(&(secs(from), y_lo)),
            chart.backend_coord(&(secs(to), y_hi)),
        );
        move |style| band(root, a, b, style)
    };
    for p in &t.partitions {
        full(p.from_ns, p.to_ns)(PARTITION.mix(BAND_PARTITION).filled())?;
    }
    for b in &t.node_bands {
        let (color, alpha) = match b.state {
            crate::trace::timeline::NodeState::Crashed => (CRASH, BAND_CRASH * 0.6),
            crate::trace::timeline::NodeState::Paused => (PAUSE, BAND_PAUSE * 0.6),
        };
        full(b.from_ns, b.to_ns)(color.mix(alpha).filled())?;
    }
    for j in &t.clock_jumps {
        let line = PathElement::new(
            vec![(secs(j.at_ns), y_lo), (secs(j.at_ns), y_hi)],
            CLOCK.stroke_width(2),
        );
        chart.draw_series([line]).map_err(err)?;
    }
    let strip = y_answer_max * 2.0;
    let divider = PathElement::new(vec![(0.0, y_answer_max * 1.25), (end_s, y_answer_max * 1.25)], FAINT);
    chart.draw_series([divider]).map_err(err)?;

    let dots = answered.iter().map(|&(at, lat, end)| {
        let color = if end == OpEnd::Ok { PALETTE[0] } else { FAILED };
        Circle::new((secs(at), ms(lat).max(y_lo)), 2, color.mix(0.7).filled())
    });
    chart.draw_series(dots).map_err(err)?;
    let unanswered = t
        .ops
        .iter()
        .filter(|o| o.done.is_none_or(|(_, end)| end == OpEnd::Info));
    let marks = unanswered.map(|o| TriangleMarker::new((secs(o.invoke_ns), strip), 5, CRASH.filled()));
    chart.draw_series(marks).map_err(err)?;

    if let Some(at) = focus.at_ns {
        let (x, y0) = chart.backend_coord(&(secs(at), y_hi));
        let y1 = chart.backend_coord(&(secs(at), y_lo)).1;
        failure_line(root, x, (y0, y1), &focus.label)?;
    }
    if let Some(o) = focus.op.and_then(|op| t.ops.iter().find(|o| o.op == op)) {
        let y = match o.done {
            Some((at, OpEnd::Ok | OpEnd::Fail)) => ms(at.saturating_sub(o.invoke_ns)).max(y_lo),
            Some((_, OpEnd::Info)) | None => strip,
        };
        let ring = Circle::new((secs(o.invoke_ns), y), 7, FAILURE.stroke_width(2));
        chart.draw_series([ring]).map_err(err)?;
    }

    let frame = Frame {
        end_ns: t.end_ns.max(1),
        x_px: (
            chart.backend_coord(&(0.0, y_lo)).0,
            chart.backend_coord(&(end_s, y_lo)).0,
        ),
        y_px: (chart.backend_coord(&(0.0, y_hi)).1, chart.backend_coord(&(0.0, y_lo)).1),
        strip_y: chart.backend_coord(&(0.0, strip)).1,
    };
    let entries = [
        (Swatch::Dot(PALETTE[0]), "ok".to_string()),
        (Swatch::Dot(FAILED), "failed".into()),
        (
            Swatch::Triangle(CRASH),
            "no answer (timed out or open), in the strip on top".into(),
        ),
        (Swatch::Fill(PARTITION, BAND_PARTITION), "partition".into()),
        (Swatch::Fill(CRASH, BAND_CRASH * 0.6), "node crashed".into()),
        (Swatch::Fill(PAUSE, BAND_PAUSE * 0.6), "node paused".into()),
        (Swatch::Line(CLOCK), "clock jump".into()),
        (Swatch::Line(FAILURE), "failure".into()),
    ];
    legend(&legend_area, (LEFT_PX as i32, 4), width as i32 - 10, &entries)?;
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::testing::Pixels;

    const TRACE: &str = "\
0 0.000000000 start node=n0
1 0.100000000 invoke client=c0 process=0 op=0 payload=get k
2 0.110000000 complete client=c0 process=0 op=0 status=ok payload=Value(None)
3 1.000000000 crash node=n1
4 2.000000000 restart node=n1
5 3.000000000 partition cut=n0>n1,n1>n0 payload=Partition
6 3.500000000 invoke client=c0 process=0 op=1 payload=put k 1
6 9.500000000 complete client=c0 process=0 op=1 status=info payload=timed out
7 4.000000000 heal links=n0>n1,n1>n0
8 5.000000000 pause node=n0
9 6.000000000 resume node=n0
10 7.000000000 invoke client=c1 process=2 op=3 payload=cas k 1 2
10 7.100000000 complete client=c1 process=2 op=3 status=fail payload=Mismatch
10 9.000000000 invoke client=c0 process=1 op=2 payload=get k
11 10.000000000 end
";

    #[test]
    fn fault_windows_are_shaded_where_they_happened() {
        let t = Timeline::from_trace(TRACE);
        let (p, f) = Pixels::draw(size(), |root| draw(root, &t, &Focus::default()));
        let mid_y = (f.y_px.0 + f.y_px.1) / 2 + 3;
        let at = |s: f64| (f.x((s * 1e9) as u64), mid_y);
        assert!(
            p.tint_near(at(1.5), CRASH, BAND_CRASH * 0.6),
            "crash: {:?}",
            p.at(at(1.5))
        );
        assert!(
            p.tint_near(at(3.7), PARTITION, BAND_PARTITION),
            "partition: {:?}",
            p.at(at(3.7))
        );
        assert!(
            p.tint_near(at(5.5), PAUSE, BAND_PAUSE * 0.6),
            "pause: {:?}",
            p.at(at(5.5))
        );
        assert!(!p.tint_near(at(5.5), CRASH, BAND_CRASH * 0.6), "no crash at 5.5s");
        for quiet in [0.6, 2.5, 4.5, 7.0] {
            let faults = [
                (CRASH, BAND_CRASH * 0.6),
                (PARTITION, BAND_PARTITION),
                (PAUSE, BAND_PAUSE * 0.6),
            ];
            let shaded = faults.iter().any(|&(c, a)| p.tint_near(at(quiet), c, a));
            assert!(!shaded, "no fault at {quiet}s: {:?}", p.at(at(quiet)));
        }
    }

    #[test]
    fn unanswered_ops_are_marked_above_the_answers() {
        let t = Timeline::from_trace(TRACE);
        let (p, f) = Pixels::draw(size(), |root| draw(root, &t, &Focus::default()));
        let red_in_column = |s: f64| {
            let x = f.x((s * 1e9) as u64);
            (f.y_px.0..f.y_px.1).any(|y| {
                let (r, g, b) = p.at((x, y));
                r > 180 && g < 80 && b < 80
            })
        };
        assert!(
            red_in_column(3.5) && red_in_column(9.0),
            "ops 1 and 2 never got answers"
        );
        assert!(!red_in_column(0.1), "op 0 was answered");
        // A failed op (an answer, unlike a timeout) is a dot in its own colour.
        let failed = (5..p.height as i32 - 5).any(|y| p.tint_near((f.x(7_000_000_000), y), FAILED, 0.7));
        assert!(failed, "op 3 failed after 100ms");
    }

    #[test]
    fn the_op_that_exposed_a_failure_is_ringed_where_it_is_drawn() {
        let t = Timeline::from_trace(TRACE);
        let focus = Focus {
            op: Some(1),
            ..Focus::default()
        };
        let ringed = |focus: &Focus| {
            let (p, f) = Pixels::draw(size(), |root| draw(root, &t, focus));
            // Op 1 timed out: its ring is on the strip, 7px round, not
            // where a 6s answer would be.
            let x = f.x(3_500_000_000);
            let red = |y: i32| {
                (-2..=2).any(|d| {
                    let (r, g, b) = p.at((x + d, y));
                    r > 150 && g < 60 && b < 60
                })
            };
            red(f.strip_y - 7) || red(f.strip_y + 7)
        };
        assert!(ringed(&focus), "ring around the strip marker");
        assert!(!ringed(&Focus::default()), "no focus, no ring");
    }
}
