//! A small SVG line chart: F1 against the threshold, one line per series.

use std::fmt::Write as _;

use nordlink::link::Quality;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 420.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 150.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;
const COLOURS: [&str; 6] = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"];

/// One line: its name, F1 at each threshold, and the automatic threshold.
pub(crate) type Series<'a> = (&'a str, Vec<(f64, Quality)>, f64);

/// Lines of F1 over thresholds 0.5–1.0 (y from 0 to 1), each with a dot at its automatic
/// threshold.
pub(crate) fn f1_curves(title: &str, series: &[Series<'_>]) -> String {
    let x = |t: f64| LEFT + (t - 0.5) / 0.5 * (WIDTH - LEFT - RIGHT);
    let y = |f: f64| TOP + (1.0 - f) * (HEIGHT - TOP - BOTTOM);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(s, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    let _ = write!(s, r#"<text x="{LEFT}" y="22" font-size="14">{}</text>"#, escape(title));
    for i in 0..=10 {
        let v = f64::from(i) / 10.0;
        let (gy, gx) = (y(v), x(0.5 + v / 2.0));
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{gy:.1}" y2="{gy:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{v:.1}</text>"##,
            WIDTH - RIGHT,
            LEFT - 6.0,
            gy + 4.0
        );
        let _ = write!(
            s,
            r##"<line x1="{gx:.1}" x2="{gx:.1}" y1="{TOP}" y2="{:.1}" stroke="#eee"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle">{:.2}</text>"##,
            HEIGHT - BOTTOM,
            HEIGHT - BOTTOM + 16.0,
            0.5 + v / 2.0
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">threshold (Dice)</text><text x="16" y="{:.1}" transform="rotate(-90 16 {:.1})" text-anchor="middle">F1</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 12.0,
        (TOP + HEIGHT - BOTTOM) / 2.0,
        (TOP + HEIGHT - BOTTOM) / 2.0
    );
    for (i, (name, points, auto)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> =
            points.iter().map(|(t, q)| format!("{:.1},{:.1}", x(*t), y(q.f1()))).collect();
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
            path.join(" ")
        );
        // The curve's F1 at the grid point nearest the automatic threshold.
        if let Some((_, q)) =
            points.iter().min_by(|a, b| (a.0 - auto).abs().total_cmp(&(b.0 - auto).abs()))
        {
            let _ = write!(
                s,
                r#"<circle cx="{:.1}" cy="{:.1}" r="5" fill="{colour}"/>"#,
                x(*auto),
                y(q.f1())
            );
        }
        let ly = TOP + 20.0 * i as f64 + 10.0;
        let lx = WIDTH - RIGHT + 16.0;
        let _ = write!(
            s,
            r#"<line x1="{lx}" x2="{:.1}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0,
            escape(name)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
