//! Operation latency over the whole run: one dot per operation at the
//! time it was invoked, on a log scale, with the fault windows shaded, so
//! a stall lines up with the fault that caused it. Operations that never
//! got an answer sit in a strip above the chart.

use super::spacetime::Focus;
use super::*;
use crate::trace::timeline::{OpEnd, Timeline};
use plotters::coord::types::RangedCoordf64;

const SIZE: (u32, u32) = (1200, 380);
const LEFT_PX: u32 = 64;
/// The strip under the chart that holds the legend.
const LEGEND_PX: i32 = 40;

/// Where the picture put things, so tests can look at pixels.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// The run's end, which the right edge stands for (at least 1).
    pub end_ns: u64,
    /// Pixel x of time 0 and of the run's end.
    pub x_px: (i32, i32),
    /// Pixel y of the top and the bottom of the plotting area.
    pub y_px: (i32, i32),
    /// Pixel y of the strip of unanswered operations.
    pub strip_y: i32,
}

impl Frame {
    /// The pixel x of run time `t_ns`.
    pub fn x(&self, t_ns: u64) -> i32 {
        between(self.x_px, t_ns as f64 / self.end_ns.max(1) as f64)
    }
}

/// The latency chart of the run in `t` as SVG text, marking the failure
/// and the operation that exposed it from `focus`.
pub fn svg(t: &Timeline, focus: &Focus) -> Result<String, PlotError> {
    to_svg(SIZE, |root| draw(root, t, focus).map(|_| ()))
}

/// The chart's size in pixels (width, height); it is always the same.
pub fn size() -> (u32, u32) {
    SIZE
}

/// Latency in milliseconds.
fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// Draws the latency chart onto `root` (of any backend) and says where it
/// put things.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    t: &Timeline,
    focus: &Focus,
) -> Result<Frame, PlotError> {
    let (width_px, height_px) = root.dim_in_pixel();
    let (chart_area, legend_area) = root.split_vertically(height_px as i32 - LEGEND_PX);
    let answers = answers(t);
    let scale = Scale::of(&answers, t.end_ns);
    let mut chart = chart_on(&chart_area, &scale)?;
    // Back to front: fault windows under the operations.
    draw_fault_bands(root, &chart, t, &scale)?;
    draw_marks(&mut chart, t, &scale)?;
    draw_answers(&mut chart, &answers, &scale)?;
    draw_unanswered(&mut chart, t, &scale)?;
    draw_focus(root, &mut chart, t, focus, &scale)?;
    let frame = frame(&chart, t, &scale);
    let entries = legend_entries(t);
    legend(&legend_area, (LEFT_PX as i32, 4), width_px as i32 - 10, &entries)?;
    Ok(frame)
}

/// The chart's coordinates: seconds across, latency in milliseconds up, on
/// a log scale.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, LogCoord<f64>>>;

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// An operation that got an answer, ok or failed.
struct Answer {
    invoked_ns: u64,
    latency_ns: u64,
    end: OpEnd,
}

/// The operations that were answered. A timeout is no answer: it is drawn
/// in the strip, with the operations still open at the end.
fn answers(t: &Timeline) -> Vec<Answer> {
    t.ops
        .iter()
        .filter_map(|o| {
            o.done.map(|(at_ns, end)| Answer {
                invoked_ns: o.invoke_ns,
                latency_ns: at_ns.saturating_sub(o.invoke_ns),
                end,
            })
        })
        .filter(|a| a.end != OpEnd::Info)
        .collect()
}

/// The chart's ranges.
struct Scale {
    end_s: f64,
    /// The bottom: the power of ten under the fastest answer (strictly, so
    /// no dot sits on the axis).
    lo_ms: f64,
    /// The top of the answers' part: half as much again as the slowest.
    answers_max_ms: f64,
    /// The top, with room above the answers for the strip.
    hi_ms: f64,
}

impl Scale {
    fn of(answers: &[Answer], end_ns: u64) -> Scale {
        let slowest_ms = answers.iter().map(|a| ms(a.latency_ns)).fold(1.0, f64::max);
        let fastest_ms = answers.iter().map(|a| ms(a.latency_ns)).fold(slowest_ms, f64::min);
        let answers_max_ms = slowest_ms * 1.5;
        Scale {
            end_s: secs(end_ns.max(1)),
            lo_ms: 10f64.powf((fastest_ms.max(1e-3) * 0.8).log10().floor()),
            answers_max_ms,
            hi_ms: answers_max_ms * 4.0,
        }
    }

    /// The height of the strip of unanswered operations.
    fn strip_ms(&self) -> f64 {
        self.answers_max_ms * 2.0
    }

    /// The height of the line between the answers and the strip.
    fn divider_ms(&self) -> f64 {
        self.answers_max_ms * 1.25
    }
}

/// The chart over the whole run, with its axes drawn.
fn chart_on<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    scale: &Scale,
) -> Result<Chart<'a, DB>, PlotError> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(24)
        .margin_right(16)
        .x_label_area_size(34)
        .y_label_area_size(LEFT_PX)
        .build_cartesian_2d(0.0..scale.end_s, (scale.lo_ms..scale.hi_ms).log_scale())
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
    Ok(chart)
}

/// Every fault window, the full height of the chart. Crash and pause bands
/// are paler than on the space-time diagram: here they lie under the dots.
fn draw_fault_bands<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &Chart<'_, DB>,
    t: &Timeline,
    scale: &Scale,
) -> Result<(), PlotError> {
    let full_height = |from_ns: u64, to_ns: u64, style: ShapeStyle| {
        let a = chart.backend_coord(&(secs(from_ns), scale.lo_ms));
        let b = chart.backend_coord(&(secs(to_ns), scale.hi_ms));
        band(root, a, b, style)
    };
    for p in &t.partitions {
        full_height(p.from_ns, p.to_ns, PARTITION.mix(BAND_PARTITION).filled())?;
    }
    for b in &t.node_bands {
        let (color, alpha) = b.color();
        full_height(b.from_ns, b.to_ns, rgb(color).mix(alpha * BAND_FADE).filled())?;
    }
    Ok(())
}

/// Node bands here are this much paler than on the space-time diagram:
/// they lie under the dots.
const BAND_FADE: f64 = 0.6;

/// A line the chart's height at each fault of an instant (a clock jump).
fn draw_marks<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, t: &Timeline, scale: &Scale) -> Result<(), PlotError> {
    for j in &t.marks {
        let color = j.color().map_or(CLOCK, rgb);
        let line = PathElement::new(
            vec![(secs(j.at_ns), scale.lo_ms), (secs(j.at_ns), scale.hi_ms)],
            color.stroke_width(2),
        );
        chart.draw_series([line]).map_err(err)?;
    }
    Ok(())
}

/// A dot per answer, at its latency, under the line that divides the
/// answers from the strip.
fn draw_answers<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    answers: &[Answer],
    scale: &Scale,
) -> Result<(), PlotError> {
    let divider = PathElement::new(
        vec![(0.0, scale.divider_ms()), (scale.end_s, scale.divider_ms())],
        FAINT,
    );
    chart.draw_series([divider]).map_err(err)?;
    let dots = answers.iter().map(|a| {
        let color = if a.end == OpEnd::Ok { PALETTE[0] } else { FAILED };
        let at = (secs(a.invoked_ns), ms(a.latency_ns).max(scale.lo_ms));
        Circle::new(at, 2, color.mix(0.7).filled())
    });
    chart.draw_series(dots).map_err(err)?;
    Ok(())
}

/// A mark in the strip for each operation without an answer: timed out,
/// or still open when the run ended. Its latency is unknown, so it has
/// no height of its own.
fn draw_unanswered<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    t: &Timeline,
    scale: &Scale,
) -> Result<(), PlotError> {
    let unanswered = t
        .ops
        .iter()
        .filter(|o| o.done.is_none_or(|(_, end)| end == OpEnd::Info));
    let marks = unanswered.map(|o| TriangleMarker::new((secs(o.invoke_ns), scale.strip_ms()), 5, CRASH.filled()));
    chart.draw_series(marks).map_err(err)?;
    Ok(())
}

/// The failure's line, and a ring around the operation that exposed it,
/// wherever that was drawn (a dot or a strip mark).
fn draw_focus<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &mut Chart<'_, DB>,
    t: &Timeline,
    focus: &Focus,
    scale: &Scale,
) -> Result<(), PlotError> {
    if let Some(at_ns) = focus.at_ns {
        let (x, y0) = chart.backend_coord(&(secs(at_ns), scale.hi_ms));
        let y1 = chart.backend_coord(&(secs(at_ns), scale.lo_ms)).1;
        failure_line(root, x, (y0, y1), &focus.label)?;
    }
    if let Some(o) = focus.op.and_then(|op| t.ops.iter().find(|o| o.op == op)) {
        let y_ms = match o.done {
            Some((at_ns, OpEnd::Ok | OpEnd::Fail)) => ms(at_ns.saturating_sub(o.invoke_ns)).max(scale.lo_ms),
            Some((_, OpEnd::Info)) | None => scale.strip_ms(),
        };
        let ring = Circle::new((secs(o.invoke_ns), y_ms), 7, FAILURE.stroke_width(2));
        chart.draw_series([ring]).map_err(err)?;
    }
    Ok(())
}

fn frame<DB: DrawingBackend>(chart: &Chart<'_, DB>, t: &Timeline, scale: &Scale) -> Frame {
    Frame {
        end_ns: t.end_ns.max(1),
        x_px: (
            chart.backend_coord(&(0.0, scale.lo_ms)).0,
            chart.backend_coord(&(scale.end_s, scale.lo_ms)).0,
        ),
        y_px: (
            chart.backend_coord(&(0.0, scale.hi_ms)).1,
            chart.backend_coord(&(0.0, scale.lo_ms)).1,
        ),
        strip_y: chart.backend_coord(&(0.0, scale.strip_ms())).1,
    }
}

/// Every mark the chart may have, whether or not this run has it, so the
/// legend reads the same from run to run.
fn legend_entries(t: &Timeline) -> Vec<(Swatch, String)> {
    let mut entries = vec![
        (Swatch::Dot(PALETTE[0]), "ok".to_string()),
        (Swatch::Dot(FAILED), "failed".into()),
        (
            Swatch::Triangle(CRASH),
            "no answer (timed out or open), in the strip on top".into(),
        ),
    ];
    entries.extend(fault_legend(t, BAND_FADE, "node "));
    entries.push((Swatch::Line(FAILURE), "failure".into()));
    entries
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
