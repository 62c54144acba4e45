//! `nordlink link --model-chart`: the fitted Fellegi–Sunter model as an SVG, in the manner
//! of Splink's match-weights chart.
//!
//! One row per field and comparison level, a bar from zero to the level's match weight
//! (log2 of m/u: right and blue for evidence of a match, left and red against), with m and
//! u written beside it; the prior's weight is the first row. A field the candidates' key
//! decides is one grey row, "not weighed"; a level rare among matches and non-matches
//! alike (m and u below 0.001) has a pale bar, its weight being mostly EM's pseudo-counts.
//! Plain SVG written by hand, like the histogram.

use std::fmt::Write as _;
use std::path::Path;

use nordlink::link::{Bands, FieldLinkage};

use super::super::histogram::escape;

const WIDTH: f64 = 820.0;
const ROW: f64 = 20.0;
const TOP: f64 = 70.0;
const LABEL: f64 = 250.0;
const NOTE: f64 = 190.0;
/// The weight that fills half the plot width; larger weights are drawn clipped.
const SCALE: f64 = 16.0;

/// A level's name: its band of field Dice, or agree/disagree for a two-level field.
fn level_name(bands: &Bands, levels: usize, level: usize) -> String {
    if levels == 2 {
        return if level == 0 { "agree" } else { "disagree" }.to_owned();
    }
    if level == bands.levels() {
        return "one holds the other".to_owned();
    }
    match (bands.limits().get(level), level.checked_sub(1).and_then(|l| bands.limits().get(l))) {
        (Some(lo), None) => format!("Dice ≥ {lo}"),
        (Some(lo), Some(hi)) => format!("{lo} ≤ Dice < {hi}"),
        (None, Some(hi)) => format!("Dice < {hi}"),
        (None, None) => format!("level {level}"),
    }
}

/// The SVG text for a linkage whose model fields are named `names`.
pub(super) fn svg(linkage: &FieldLinkage, names: &[&str], bands: &Bands) -> String {
    let model = &linkage.fit.model;
    let rows: usize = 1
        + (0..model.fields())
            .map(|f| {
                if linkage.left_out.get(f).copied().unwrap_or(false) { 1 } else { model.m[f].len() }
            })
            .sum::<usize>();
    let height = TOP + ROW * rows as f64 + 40.0;
    let plot = WIDTH - LABEL - NOTE;
    let zero = LABEL + plot / 2.0;
    let x = |w: f64| zero + (w / SCALE).clamp(-1.0, 1.0) * plot / 2.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="{}" y="22" text-anchor="middle" font-size="15">Match weights of the fitted model (log2 m/u)</text>
<text x="{}" y="40" text-anchor="middle" fill="#555">{}; prior λ = {:.3e}; threshold p ≥ {:.3}</text>
<line x1="{zero}" y1="{}" x2="{zero}" y2="{}" stroke="#333"/>
"##,
        WIDTH / 2.0,
        WIDTH / 2.0,
        escape(&linkage.blocking),
        model.prior,
        linkage.threshold,
        TOP - 8.0,
        TOP + ROW * rows as f64,
    );
    let mut row = 0usize;
    // `faint`: a level rare among matches and non-matches alike, whose weight comes from
    // EM's pseudo-counts more than from data.
    let mut bar = |s: &mut String, label: &str, weight: Option<f64>, note: &str, faint: bool| {
        let y = TOP + ROW * row as f64;
        row += 1;
        let _ = writeln!(
            s,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LABEL - 8.0,
            y + 14.0,
            escape(label)
        );
        match weight {
            Some(w) => {
                let (a, b) = if w >= 0.0 { (zero, x(w)) } else { (x(w), zero) };
                let fill = match (faint, w >= 0.0) {
                    (true, _) => "#cbd5e0",
                    (false, true) => "#2b6cb0",
                    (false, false) => "#c53030",
                };
                let _ = writeln!(
                    s,
                    r#"<rect x="{a:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}"><title>{w:+.2}</title></rect>"#,
                    y + 3.0,
                    (b - a).max(0.5),
                    ROW - 6.0,
                );
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" fill="#333">{w:+.1} {}</text>"##,
                    WIDTH - NOTE + 6.0,
                    y + 14.0,
                    escape(note)
                );
            }
            None => {
                let _ = writeln!(
                    s,
                    r##"<text x="{zero:.1}" y="{:.1}" text-anchor="middle" fill="#999">{}</text>"##,
                    y + 14.0,
                    escape(note)
                );
            }
        }
    };
    bar(&mut s, "prior (λ)", Some(model.prior_weight()), "", false);
    for (f, name) in names.iter().enumerate().take(model.fields()) {
        if linkage.left_out.get(f).copied().unwrap_or(false) {
            bar(&mut s, name, None, "not weighed: the candidates' key decides it", false);
            continue;
        }
        let levels = model.m[f].len();
        for level in 0..levels {
            let label = format!("{name}: {}", level_name(bands, levels, level));
            let (m, u) = (model.m[f][level], model.u[f][level]);
            let faint = m < 1e-3 && u < 1e-3;
            let rare = if faint { " (rare in both)" } else { "" };
            let note = format!("m {m:.3}, u {u:.4}{rare}");
            #[allow(clippy::cast_possible_truncation, reason = "at most MAX_LEVELS levels")]
            let weight = model.field_weight(f, level as u8);
            bar(&mut s, &label, Some(weight), &note, faint);
        }
    }
    s.push_str("</svg>\n");
    s
}

/// Stages the chart, to be placed with the run's other outputs.
pub(super) fn stage(
    path: &Path,
    linkage: &FieldLinkage,
    names: &[&str],
    bands: &Bands,
) -> anyhow::Result<nordlink_io::Staged> {
    Ok(nordlink_io::stage_bytes(path, svg(linkage, names, bands).as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_named_by_their_band() {
        let bands = Bands::default();
        let names: Vec<String> = (0..5).map(|l| level_name(&bands, 5, l)).collect();
        assert_eq!(
            names,
            [
                "Dice ≥ 0.95",
                "0.85 ≤ Dice < 0.95",
                "0.7 ≤ Dice < 0.85",
                "0.5 ≤ Dice < 0.7",
                "Dice < 0.5"
            ]
        );
        assert_eq!(level_name(&bands, 6, 5), "one holds the other");
        assert_eq!(
            (level_name(&bands, 2, 0), level_name(&bands, 2, 1)),
            ("agree".into(), "disagree".into())
        );
    }
}
