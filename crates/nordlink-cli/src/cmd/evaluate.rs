//! `nordlink evaluate`.

use std::path::Path;

use anyhow::{Context as _, bail};
use nordlink::link::Quality;

use crate::flags::EvaluateArgs;

/// Longest truth or matches file read: far above any real linkage (ids are short).
const MAX_PAIRS_FILE: u64 = 4 << 30;

/// The (left, right) id pairs in the first two columns of a CSV file. A first row whose
/// two cells end in `id` (any case) or are `left` and `right` is a header.
pub(super) fn pairs(path: &Path, header: Option<bool>) -> anyhow::Result<Vec<(String, String)>> {
    let size = std::fs::metadata(path).with_context(|| path.display().to_string())?.len();
    if size > MAX_PAIRS_FILE {
        bail!("{}: larger than 4 GiB", path.display());
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| path.display().to_string())?;
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), i + 1))?;
        let (Some(a), Some(b)) = (record.get(0), record.get(1)) else {
            bail!("{}: row {} has fewer than two columns", path.display(), i + 1);
        };
        let named = |s: &str, side: &str| s.to_ascii_lowercase().ends_with("id") || s == side;
        let is_header = i == 0 && header.unwrap_or_else(|| named(a, "left") && named(b, "right"));
        if !is_header {
            out.push((a.to_owned(), b.to_owned()));
        }
    }
    Ok(out)
}

pub(super) fn run(args: &EvaluateArgs) -> anyhow::Result<()> {
    let header = match (args.header, args.no_header) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    let matches = pairs(&args.matches, header)?;
    let truth = pairs(&args.truth, header)?;
    let q = Quality::of(&matches, &truth);
    // Pairs completeness is the recall of the candidate set.
    let completeness = match &args.candidates {
        Some(path) => Some(Quality::of(&pairs(path, header)?, &truth).recall()),
        None => None,
    };
    if args.json {
        let extra =
            completeness.map(|c| format!(", \"pairs_completeness\": {c}")).unwrap_or_default();
        out!(
            "{{\"precision\": {}, \"recall\": {}, \"f1\": {}, \"tp\": {}, \"fp\": {}, \"fn\": {}{extra}}}",
            q.precision(),
            q.recall(),
            q.f1(),
            q.true_positives,
            q.false_positives,
            q.false_negatives
        );
    } else {
        if let Some(c) = completeness {
            out!("pairs completeness {c:.4} (true links among the candidates)");
        }
        out!(
            "true positives {}, false positives {}, false negatives {}\nprecision {:.4}, recall {:.4}, F1 {:.4}",
            q.true_positives,
            q.false_positives,
            q.false_negatives,
            q.precision(),
            q.recall(),
            q.f1()
        );
    }
    Ok(())
}
