//! The counterexample as a self-contained HTML page (rendered in a later step).

use super::Counterexample;

pub fn render(c: &Counterexample, title: &str) -> String {
    format!("<!doctype html><title>{title}</title><pre>{}</pre>", c.to_text())
}
