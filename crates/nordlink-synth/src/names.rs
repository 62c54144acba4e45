//! Per-country name lists, embedded in the binary, and weighted picks from them.

use std::sync::OnceLock;

use nordlink::id::Scheme;

/// Which list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum List {
    /// Given names of women.
    GivenFemale,
    /// Given names of men.
    GivenMale,
    /// Surnames (masculine forms where the language inflects them).
    Surnames,
    /// Towns or municipalities.
    Places,
    /// Middle names (Iceland).
    MiddleNames,
}

impl List {
    const ALL: [Self; 5] =
        [Self::GivenFemale, Self::GivenMale, Self::Surnames, Self::Places, Self::MiddleNames];

    const fn file(self) -> &'static str {
        match self {
            Self::GivenFemale => "given_female",
            Self::GivenMale => "given_male",
            Self::Surnames => "surnames",
            Self::Places => "places",
            Self::MiddleNames => "middle_names",
        }
    }
}

/// The embedded TSV text of a list, when the country has one.
fn text(country: Scheme, list: List) -> Option<&'static str> {
    macro_rules! lists {
        ($($cc:literal: [$($file:literal),*]),* $(,)?) => {
            match (country.code(), list.file()) {
                $($(($cc, $file) => Some(include_str!(concat!("../data/names/", $cc, "/", $file, ".tsv"))),)*)*
                _ => None,
            }
        };
    }
    lists! {
        "dk": ["given_female", "given_male", "surnames", "places"],
        "se": ["given_female", "given_male", "surnames", "places"],
        "no": ["given_female", "given_male", "surnames", "places"],
        "fi": ["given_female", "given_male", "surnames", "places"],
        "is": ["given_female", "given_male", "middle_names", "places"],
        "ee": ["given_female", "given_male", "surnames", "places"],
        "lt": ["given_female", "given_male", "surnames", "places"],
    }
}

/// A list of names with weights, heaviest first.
#[derive(Debug)]
pub struct NameList {
    names: Vec<&'static str>,
    /// Running sums of the weights, for picking by binary search.
    cumulative: Vec<f64>,
    /// Whether the weights differ (real frequencies) or are all equal (a plain list).
    frequencies: bool,
}

impl NameList {
    /// The list, or `None` where the country has none (see `data/names/SOURCES.md`).
    pub fn get(country: Scheme, list: List) -> Option<&'static NameList> {
        static LISTS: OnceLock<Vec<((Scheme, List), NameList)>> = OnceLock::new();
        let all = LISTS.get_or_init(|| {
            Scheme::ALL
                .iter()
                .flat_map(|&c| List::ALL.iter().map(move |&l| (c, l)))
                .filter_map(|(c, l)| Some(((c, l), NameList::parse(text(c, l)?))))
                .collect()
        });
        all.iter().find(|(key, _)| *key == (country, list)).map(|(_, l)| l)
    }

    /// Parses `name<TAB>weight` lines. The data is ours and checked by tests, so a
    /// malformed line (which cannot ship) would be skipped rather than abort a run.
    fn parse(text: &'static str) -> Self {
        let mut names = Vec::new();
        let mut cumulative = Vec::new();
        let mut total = 0.0;
        let mut first = None;
        let mut frequencies = false;
        for line in text.lines() {
            let Some((name, weight)) = line.split_once('\t') else { continue };
            let Ok(weight) = weight.parse::<f64>() else { continue };
            // NaN and non-positive weights are refused alike.
            if name.is_empty() || weight.is_nan() || weight <= 0.0 {
                continue;
            }
            frequencies |= *first.get_or_insert(weight) != weight;
            total += weight;
            names.push(name);
            cumulative.push(total);
        }
        Self { names, cumulative, frequencies }
    }

    /// Whether the list carries real frequencies (its weights differ), not a plain list.
    pub fn has_frequencies(&self) -> bool {
        self.frequencies
    }

    /// The names, heaviest first.
    pub fn names(&self) -> &[&'static str] {
        &self.names
    }

    /// How many names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the list is empty (no shipped list is).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The name at `u` (in 0..1) of the way through the weights: with `u` uniform, each
    /// name comes up in proportion to its weight.
    pub fn pick(&self, u: f64) -> &'static str {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let at = self.cumulative.partition_point(|&c| c <= u.clamp(0.0, 1.0) * total);
        self.names.get(at.min(self.names.len().saturating_sub(1))).copied().unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    #[test]
    fn every_shipped_list_is_clean() {
        let mut lists = 0;
        for country in Scheme::ALL {
            for list in List::ALL {
                let Some(text) = text(country, list) else { continue };
                lists += 1;
                let parsed = NameList::get(country, list).unwrap();
                let where_ = format!("{}/{}", country.code(), list.file());
                // Every line parses: nothing is skipped.
                assert_eq!(parsed.len(), text.lines().count(), "{where_}");
                assert!(parsed.len() >= 20, "{where_}: {}", parsed.len());
                let mut seen = std::collections::HashSet::new();
                for name in parsed.names() {
                    assert!(seen.insert(*name), "{where_}: {name} twice");
                    assert_eq!(name.nfc().collect::<String>(), *name, "{where_}: {name} not NFC");
                    assert_eq!(name.trim(), *name, "{where_}: {name:?}");
                    assert!(!name.chars().any(char::is_control), "{where_}: {name:?}");
                }
                // Heaviest first.
                let weights: Vec<f64> =
                    text.lines().map(|l| l.split_once('\t').unwrap().1.parse().unwrap()).collect();
                assert!(weights.windows(2).all(|w| w[0] >= w[1]), "{where_}");
            }
        }
        // Four lists per country.
        assert_eq!(lists, 28);
        // Every country has given names of both sexes and places.
        for country in Scheme::ALL {
            for list in [List::GivenFemale, List::GivenMale, List::Places] {
                assert!(NameList::get(country, list).is_some(), "{country:?} {list:?}");
            }
        }
    }

    #[test]
    fn picks_follow_the_weights() {
        // Swedish surnames carry real frequencies: the first is far more common than the
        // 400th, and picks at evenly spaced points reproduce that.
        let list = NameList::get(Scheme::Se, List::Surnames).unwrap();
        let mut counts = std::collections::HashMap::new();
        for i in 0..100_000 {
            *counts.entry(list.pick((f64::from(i) + 0.5) / 100_000.0)).or_insert(0u32) += 1;
        }
        let first = counts[list.names()[0]];
        let late = counts.get(list.names()[400]).copied().unwrap_or(0);
        assert!(first > 10 * late.max(1), "{first} vs {late}");
        assert_eq!(list.pick(0.0), list.names()[0]);
        assert_eq!(list.pick(1.0), *list.names().last().unwrap());
        // Uniform weights: every name comes up about equally.
        let no = NameList::get(Scheme::No, List::GivenFemale).unwrap();
        let mut counts = std::collections::HashMap::new();
        for i in 0..10_000 {
            *counts.entry(no.pick((f64::from(i) + 0.5) / 10_000.0)).or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), no.len());
        assert!(counts.values().all(|&c| c.abs_diff(100) <= 1), "{counts:?}");
    }
}
