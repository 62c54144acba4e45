//! `nordlink link --histogram`: the best scores of a sample of left records as an SVG.
//!
//! Bars count sampled records by their best score (bins of 0.01, log scale: the few
//! records near the threshold matter as much as the many far from it). A line follows
//! the second-best scores, which show what a record's best non-match looks like; the
//! threshold is a vertical line. Plain SVG written by hand: no plotting dependency for
//! one small chart.

use std::fmt::Write as _;
use std::path::Path;

use nordlink::link::ScoreProfile;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 62.0;
const BOTTOM: f64 = 72.0;

/// Counts per bin of 0.01 from `start` to 1 (scores of 1 in the last bin); scores below
/// `start` (and records without one) are not counted.
fn bins(scores: &[f64], start: usize) -> Vec<u64> {
    let mut counts = vec![0u64; 101 - start];
    for &s in scores {
        if s.is_finite() {
            // s is in 0..=1: the bin index is in 0..=100.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let b = ((s * 100.0).floor() as usize).min(99);
            if b >= start {
                counts[b - start] += 1;
            }
        }
    }
    counts.truncate(100 - start);
    counts
}

/// The SVG text; `how` says how the threshold was chosen.
pub(super) fn svg(profile: &ScoreProfile, threshold: f64, how: &str) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let start = ((profile.floor * 100.0).floor() as usize).min(99);
    let best = bins(&profile.best, start);
    let second = bins(&profile.second, start);
    let top = best.iter().chain(&second).copied().max().unwrap_or(1).max(1);
    let decades = (top as f64).log10().ceil().max(1.0);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let lo = start as f64 / 100.0;
    let x = |score: f64| LEFT + (score - lo) / (1.0 - lo) * plot_w;
    // log10(count + 1), so an empty bin sits on the axis and one record is visible.
    let y = |count: u64| TOP + plot_h * (1.0 - ((count as f64) + 1.0).log10() / decades);

    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">Best score of each of {} sampled left records</text>
<text x="{}" y="40" text-anchor="middle" fill="#555">threshold {threshold:.3} ({})</text>
"##,
        WIDTH / 2.0,
        profile.best.len(),
        WIDTH / 2.0,
        escape(how),
    );
    for (i, &n) in best.iter().enumerate() {
        let s0 = (start + i) as f64 / 100.0;
        let fill = if s0 + 0.005 >= threshold { "#2b6cb0" } else { "#a0aec0" };
        let _ = writeln!(
            s,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{s0:.2}-{:.2}: {n} records</title></rect>"#,
            x(s0) + 0.5,
            y(n),
            (x(s0 + 0.01) - x(s0) - 1.0).max(0.5),
            TOP + plot_h - y(n),
            s0 + 0.01,
        );
    }
    let points: Vec<String> = second
        .iter()
        .enumerate()
        .map(|(i, &n)| format!("{:.1},{:.1}", x((start + i) as f64 / 100.0 + 0.005), y(n)))
        .collect();
    let _ = writeln!(
        s,
        r##"<polyline points="{}" fill="none" stroke="#dd6b20" stroke-width="2"/>"##,
        points.join(" ")
    );
    // Axes, ticks and labels.
    let _ = writeln!(
        s,
        r##"<line x1="{LEFT}" y1="{0}" x2="{1}" y2="{0}" stroke="black"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{0}" stroke="black"/>"##,
        TOP + plot_h,
        LEFT + plot_w
    );
    let mut tick = (lo * 10.0).ceil() / 10.0;
    while tick <= 1.0 + 1e-9 {
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{tick:.1}</text>"#,
            x(tick),
            TOP + plot_h + 16.0
        );
        tick += 0.1;
    }
    let mut d = 0.0;
    while d <= decades {
        let n = 10f64.powf(d);
        let yy = TOP + plot_h * (1.0 - (n + 1.0).log10() / decades);
        let _ =
            writeln!(s, r#"<text x="{}" y="{yy:.1}" text-anchor="end">{n:.0}</text>"#, LEFT - 6.0);
        d += 1.0;
    }
    let _ = write!(
        s,
        r##"<line x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{bottom}" stroke="#c53030" stroke-width="2" stroke-dasharray="6 3"/>
<text x="{tx:.1}" y="{label_y}" fill="#c53030" text-anchor="middle">{threshold:.3}</text>
<text x="{cx}" y="{}" text-anchor="middle">best score (bars; at or above the threshold in blue)</text>
<text transform="translate(18 {cy}) rotate(-90)" text-anchor="middle">records (log scale)</text>
<text x="{}" y="{}" fill="#dd6b20" text-anchor="middle">line: second-best scores (what a non-match scores)</text>
</svg>
"##,
        HEIGHT - 14.0,
        LEFT + plot_w / 2.0,
        HEIGHT - 34.0,
        tx = x(threshold.max(lo)),
        bottom = TOP + plot_h,
        label_y = TOP - 2.0,
        cx = LEFT + plot_w / 2.0,
        cy = TOP + plot_h / 2.0,
    );
    s
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Stages the chart, to be placed with the run's other outputs.
pub(super) fn stage(
    path: &Path,
    profile: &ScoreProfile,
    threshold: f64,
    how: &str,
) -> anyhow::Result<nordlink_io::Staged> {
    Ok(nordlink_io::stage_bytes(path, svg(profile, threshold, how).as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_count_scores_from_the_floor_and_put_one_in_the_last_bin() {
        let b = bins(&[0.5, 0.505, 0.999, 1.0, f64::NEG_INFINITY, 0.2], 50);
        assert_eq!(b.len(), 50);
        assert_eq!((b[0], b[49], b.iter().sum::<u64>()), (2, 2, 4));
    }

    #[test]
    fn the_chart_is_one_svg_with_a_bar_per_bin_and_the_threshold() {
        let profile = ScoreProfile {
            best: vec![0.6, 0.9, 0.95],
            second: vec![0.55, 0.6, 0.61],
            third: vec![0.5; 3],
            floor: 0.5,
        };
        let text = svg(&profile, 0.8, "auto <test>");
        assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
        assert_eq!(text.matches("<rect x=").count(), 50);
        assert!(text.contains("threshold 0.800 (auto &lt;test&gt;)"));
        assert!(text.contains("3 sampled left records"));
    }
}
