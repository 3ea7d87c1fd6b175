//! The overview's bar chart, an SVG drawn on the server: one bar per month, its height
//! in proportion to the month's US cents, with the month under it and the amount in the
//! bar's title (what a screen reader and a hover show). The figures are also in the
//! table beside the chart, so nothing is only in the picture.

use maud::{html, Markup};

/// One bar: its label, its value in US cents and the title text.
pub struct Bar {
    pub label: String,
    pub value_minor: i64,
    pub title: String,
}

const WIDTH: i64 = 720;
const HEIGHT: i64 = 220;
const AXIS: i64 = 24;

pub fn bars(caption: &str, bars: &[Bar]) -> Markup {
    let max = bars.iter().map(|b| b.value_minor.max(0)).max().unwrap_or(0).max(1);
    let n = bars.len().max(1) as i64;
    let slot = WIDTH / n;
    let bar_w = (slot * 7 / 10).max(1);
    let plot = HEIGHT - AXIS;
    html! {
        svg.chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(caption) {
            title { (caption) }
            @for (i, b) in bars.iter().enumerate() {
                @let h = (b.value_minor.max(0) as i128 * (plot - 4) as i128 / max as i128) as i64;
                @let x = i as i64 * slot + (slot - bar_w) / 2;
                g {
                    title { (b.title) }
                    rect.bar x=(x) y=(plot - h) width=(bar_w) height=(h.max(1)) {}
                    text x=(x + bar_w / 2) y=(HEIGHT - 8) text-anchor="middle" { (b.label) }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_highest_bar_fills_the_plot_and_negative_months_stay_flat() {
        let svg = bars(
            "Earnings",
            &[
                Bar { label: "01".into(), value_minor: 500, title: "a".into() },
                Bar { label: "02".into(), value_minor: 1000, title: "b".into() },
                Bar { label: "03".into(), value_minor: -5, title: "c".into() },
            ],
        )
        .into_string();
        assert!(svg.contains("height=\"192\""), "{svg}");
        assert!(svg.contains("height=\"96\""), "{svg}");
        assert!(svg.contains("height=\"1\""), "{svg}");
        assert!(svg.contains("role=\"img\""));
    }
}
