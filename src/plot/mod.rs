//! Pictures for reports, drawn with plotters as SVG: the space-time
//! diagram of nodes and messages around a failure, operation latency over
//! the run, and operations as bars on lanes (the counterexample).
//!
//! Each picture has a `draw` that works on any plotters backend (the tests
//! draw into a pixel buffer and look at the pixels) and an `svg` that
//! returns the SVG text. Text is measured with an embedded font (DejaVu
//! Sans, subset; `assets/`), so no system font library is needed; the SVG
//! names the family `sans-serif`, which a browser draws with its own.

pub mod lanes;
pub mod latency;
pub mod spacetime;

pub use plotters::style::RGBColor;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{register_font, FontStyle};
use std::sync::Once;

/// The family the embedded font is registered under and the SVG names; a
/// browser draws it with its own sans-serif font.
pub const FAMILY: &str = "sans-serif";
const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-subset.ttf");

/// Red: the crash fault's colour, also used for the cross on a lost
/// message and for operations that never got an answer.
pub const CRASH: RGBColor = RGBColor(214, 39, 40);
/// Yellow: the pause fault's colour.
pub const PAUSE: RGBColor = RGBColor(230, 171, 2);
/// Orange: partition bands, drawn at [`BAND_PARTITION`] strength.
pub const PARTITION: RGBColor = RGBColor(255, 127, 14);
/// Purple: clock jumps, and any instant mark whose fault kind gives no
/// colour of its own.
pub const CLOCK: RGBColor = RGBColor(148, 103, 189);
/// Teal: the thick line over a lane while its node says it leads.
pub const LEADER: RGBColor = RGBColor(0, 110, 110);
/// Operations that failed (as opposed to timing out).
pub const FAILED: RGBColor = RGBColor(140, 86, 75);
/// The line and label at the moment a check failed, and the ring around
/// the operation that exposed it.
pub const FAILURE: RGBColor = RGBColor(200, 0, 0);
/// Text.
pub const INK: RGBColor = RGBColor(40, 40, 40);
/// Lane lines and dividers that should stay in the background.
pub const FAINT: RGBColor = RGBColor(200, 200, 200);

/// Message kinds get these in order of first appearance.
pub const PALETTE: [RGBColor; 8] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(188, 189, 34),
    RGBColor(127, 127, 127),
    RGBColor(148, 103, 189),
];

/// How much of the fill colour shows through in partition bands (node
/// bands say their own, in their fault kind).
pub const BAND_PARTITION: f64 = 0.16;

/// A fault kind's colour as plotters takes it.
pub fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// The legend entries of the fault kinds a timeline shows: bands, marks and
/// partitions, the classic ones always, others when the run had them.
/// `fade` scales band opacity (the latency chart's bands are paler).
pub(crate) fn fault_legend(t: &crate::trace::timeline::Timeline, fade: f64, node_word: &str) -> Vec<(Swatch, String)> {
    use crate::fault::{FaultKinds, Show};
    let present = |event: &str| {
        t.node_bands.iter().any(|b| b.fault.event == event)
            || t.marks.iter().any(|m| m.fault.is_some_and(|f| f.event == event))
    };
    let mut entries = Vec::new();
    let mut partition = false;
    for k in t.kinds.all() {
        if !(FaultKinds::always_in_legend(k) || present(k.event)) {
            continue;
        }
        match k.show {
            Show::Band {
                color,
                opacity_pct,
                state,
                ..
            } => {
                let opacity = f64::from(opacity_pct) / 100.0 * fade;
                entries.push((Swatch::Fill(rgb(color), opacity), format!("{node_word}{state}")));
            }
            Show::Mark { color, .. } => entries.push((Swatch::Line(rgb(color)), k.event.replace('-', " "))),
            Show::Cut if !partition => {
                partition = true;
                entries.push((Swatch::Fill(PARTITION, BAND_PARTITION), "partition".into()));
            }
            _ => {}
        }
    }
    entries
}

/// Why a picture could not be drawn (a bug: the backend draws into memory).
pub type PlotError = String;

pub(crate) fn register_embedded_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        register_font(FAMILY, FontStyle::Normal, FONT).unwrap_or_else(|_| panic!("the embedded font parses"));
    });
}

pub(crate) fn font(size: u32) -> TextStyle<'static> {
    register_embedded_font();
    TextStyle::from((FAMILY, size).into_font()).color(&INK)
}

/// Draws with `draw` onto an SVG canvas of `size` pixels and returns the
/// SVG text.
pub fn to_svg<F>(size: (u32, u32), draw: F) -> Result<String, PlotError>
where
    F: FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), PlotError>,
{
    register_embedded_font();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, size).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root)?;
        root.present().map_err(err)?;
    }
    Ok(text)
}

/// The pixel a fraction `f` of the way from `px.0` to `px.1`.
pub(crate) fn between(px: (i32, i32), f: f64) -> i32 {
    px.0 + ((px.1 - px.0) as f64 * f).round() as i32
}

/// A plotters error as text.
pub(crate) fn err<E: std::fmt::Debug>(e: E) -> PlotError {
    format!("{e:?}")
}

/// `text` cut to fit in `width_px` at `style`, ending in an ellipsis.
pub(crate) fn fit<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle<'_>,
    width_px: i32,
) -> String {
    let fits = |t: &str| {
        area.estimate_text_size(t, style)
            .is_ok_and(|(w, _)| w as i32 <= width_px)
    };
    if fits(text) {
        return text.to_string();
    }
    let chars: Vec<char> = text.chars().collect();
    // The longest prefix that fits with its ellipsis, by bisection.
    let (mut lo, mut hi) = (0, chars.len());
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        let candidate: String = chars[..mid].iter().chain(['\u{2026}'].iter()).collect();
        if fits(&candidate) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo == 0 {
        return String::new();
    }
    chars[..lo].iter().chain(['\u{2026}'].iter()).collect()
}

/// Text safe to draw: control characters and the non-characters U+FFFE
/// and U+FFFF (which XML forbids) dropped.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .filter(|&c| !c.is_control() && c != '\u{fffe}' && c != '\u{ffff}')
        .collect()
}

/// The red line at a failure, from `ys.0` down to `ys.1`, labelled above
/// its top: to the right of the line, or to its left when the line is in
/// the right part of the picture, so the label is never cut off.
pub(crate) fn failure_line<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    x: i32,
    ys: (i32, i32),
    label: &str,
) -> Result<(), PlotError> {
    root.draw(&PathElement::new(vec![(x, ys.0), (x, ys.1)], FAILURE.stroke_width(2)))
        .map_err(err)?;
    let label = printable(&format!("\u{d7} {label}"));
    let style = font(13).color(&FAILURE);
    let width = root.dim_in_pixel().0 as i32;
    let (pos, at) = if x > width * 55 / 100 {
        (Pos::new(HPos::Right, VPos::Top), (x - 4, ys.0 - 20))
    } else {
        (Pos::new(HPos::Left, VPos::Top), (x + 4, ys.0 - 20))
    };
    root.draw(&Text::new(label, at, style.pos(pos))).map_err(err)
}

/// A band between two pixel corners, at least 2 px wide: a partition
/// healed the instant it was made still lost messages, and must show.
pub(crate) fn band<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    a: (i32, i32),
    b: (i32, i32),
    style: ShapeStyle,
) -> Result<(), PlotError> {
    let x0 = a.0.min(b.0);
    let x1 = a.0.max(b.0).max(x0 + 2);
    let corners = [(x0, a.1.min(b.1)), (x1, a.1.max(b.1))];
    root.draw(&Rectangle::new(corners, style)).map_err(err)
}

/// One entry of a legend drawn below a chart.
pub(crate) enum Swatch {
    Line(RGBColor),
    Fill(RGBColor, f64),
    Cross(RGBColor),
    Dot(RGBColor),
    Triangle(RGBColor),
}

/// Draws `entries` left to right from `origin` (pixels), wrapping at `width`.
pub(crate) fn legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    origin: (i32, i32),
    width: i32,
    entries: &[(Swatch, String)],
) -> Result<(), PlotError> {
    let style = font(12);
    let (mut x, mut y) = origin;
    for (swatch, label) in entries {
        let label = printable(label);
        let text_w = root.estimate_text_size(&label, &style).map_err(err)?.0 as i32;
        if x + 24 + text_w > width && x > origin.0 {
            (x, y) = (origin.0, y + 18);
        }
        let mid = y + 7;
        match *swatch {
            Swatch::Line(c) => root.draw(&PathElement::new(vec![(x, mid), (x + 16, mid)], c.stroke_width(2))),
            Swatch::Fill(c, alpha) => root.draw(&Rectangle::new([(x, y), (x + 16, y + 13)], c.mix(alpha).filled())),
            Swatch::Cross(c) => root.draw(&Cross::new((x + 8, mid), 4, c.stroke_width(2))),
            Swatch::Dot(c) => root.draw(&Circle::new((x + 8, mid), 3, c.filled())),
            Swatch::Triangle(c) => root.draw(&TriangleMarker::new((x + 8, mid), 5, c.filled())),
        }
        .map_err(err)?;
        root.draw(&Text::new(label, (x + 21, y), style.clone())).map_err(err)?;
        x += 24 + text_w + 14;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_label_near_the_right_edge_ends_at_its_line() {
        let label_at = |x: i32| {
            let svg = to_svg((1200, 300), |root| failure_line(root, x, (40, 280), "Check")).unwrap();
            let text = svg.lines().find(|l| l.starts_with("<text")).unwrap().to_string();
            text.contains("text-anchor=\"end\"")
        };
        assert!(!label_at(100), "room on the right: the label starts at the line");
        assert!(label_at(1190), "at the edge: the label ends at the line");
    }

    #[test]
    fn fit_cuts_text_to_its_room_with_an_ellipsis() {
        let svg = to_svg((400, 100), |root| {
            let style = font(12);
            let whole = fit(root, "get k -> nil", &style, 400);
            let cut = fit(root, "get k -> nil", &style, 40);
            assert_eq!(whole, "get k -> nil");
            assert!(cut.ends_with('\u{2026}') && cut.chars().count() < 8, "{cut}");
            assert_eq!(fit(root, "get k -> nil", &style, 2), "");
            Ok(())
        });
        assert!(svg.is_ok());
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Drawing into a pixel buffer, to look at what a picture shows.
    use super::*;

    pub struct Pixels {
        pub width: u32,
        pub height: u32,
        pub rgb: Vec<u8>,
    }

    impl Pixels {
        pub fn draw<T>(
            size: (u32, u32),
            draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<T, PlotError>,
        ) -> (Pixels, T) {
            register_embedded_font();
            let mut rgb = vec![0u8; (size.0 * size.1 * 3) as usize];
            let result = {
                let root = BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area();
                root.fill(&WHITE).unwrap();
                let result = draw(&root).unwrap();
                root.present().unwrap();
                result
            };
            let pixels = Pixels {
                width: size.0,
                height: size.1,
                rgb,
            };
            (pixels, result)
        }

        pub fn at(&self, (x, y): (i32, i32)) -> (u8, u8, u8) {
            assert!(x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height);
            let i = ((y as u32 * self.width + x as u32) * 3) as usize;
            (self.rgb[i], self.rgb[i + 1], self.rgb[i + 2])
        }

        /// Is the pixel `color` blended over white at `alpha` (give or take
        /// rounding)?
        pub fn is_tint(&self, at: (i32, i32), color: RGBColor, alpha: f64) -> bool {
            let (r, g, b) = self.at(at);
            let expect = |c: u8| 255.0 * (1.0 - alpha) + c as f64 * alpha;
            let near = |got: u8, c: u8| (got as f64 - expect(c)).abs() <= 3.0;
            near(r, color.0) && near(g, color.1) && near(b, color.2)
        }

        /// Is some pixel within 4 of `at` that tint? Grid lines and
        /// labels may cover the exact spot.
        pub fn tint_near(&self, (x, y): (i32, i32), color: RGBColor, alpha: f64) -> bool {
            (-4..=4).any(|dy| (-4..=4).any(|dx| self.is_tint((x + dx, y + dy), color, alpha)))
        }
    }
}
