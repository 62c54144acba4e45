//! Address-register records with realistic value cardinalities, for measuring encoding
//! end to end (issue 11): ten FEBRL-like fields where names repeat the way real names do
//! (the per-country frequency lists of `nordlink-synth`, with a tail of typos and Icelandic
//! patronymics), streets and districts run into tens of thousands of distinct values, and
//! birth dates and social-security numbers are nearly unique. The 8-value lists of the
//! kernel bench make every memo lookup hit; these do not.
//!
//! Deterministic in the seed; no real person or address is meant.

use nordlink::id::Scheme;
use nordlink_synth::corrupt::typo;
use nordlink_synth::names::{List, NameList};
use nordlink_synth::random::{Random, SeededRng};

/// Column names, in record order; the schema in `examples/data/extract_schema.toml` reads
/// them all.
#[allow(dead_code, reason = "realistic_extract names its columns; the bench does not")]
pub(crate) const COLUMNS: [&str; 10] = [
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
];

/// Street suffixes and district words per country, in the country's language.
fn street_words(country: Scheme) -> (&'static [&'static str], &'static [&'static str]) {
    match country {
        Scheme::Se => (
            &["gatan", "vägen", "gränd", "stigen", "allén", "backen"],
            &["Norra", "Södra", "Östra", "Västra", "Centrum"],
        ),
        Scheme::No => (
            &["veien", "gata", "gate", "vegen", "bakken"],
            &["Nord", "Sør", "Øst", "Vest", "Sentrum"],
        ),
        Scheme::Dk => (
            &["vej", "gade", "allé", "stræde", "vænget"],
            &["Nord", "Syd", "Øst", "Vest", "Centrum"],
        ),
        Scheme::Fi => (
            &["katu", "tie", "kuja", "polku", "raitti"],
            &["Pohjoinen", "Etelä", "Itä", "Länsi", "Keskusta"],
        ),
        Scheme::Is => (
            &["gata", "vegur", "braut", "stígur"],
            &["Norður", "Suður", "Austur", "Vestur", "Miðbær"],
        ),
        Scheme::Ee => {
            (&[" tänav", " maantee", " puiestee"], &["Põhja", "Lõuna", "Ida", "Lääne", "Kesklinn"])
        }
        _ => (
            &[" gatvė", " prospektas", " alėja"],
            &["Šiaurės", "Pietų", "Rytų", "Vakarų", "Centras"],
        ),
    }
}

/// Regions per country: the low-cardinality field (like FEBRL's `state`).
fn regions(country: Scheme) -> &'static [&'static str] {
    match country {
        Scheme::Se => &["Stockholm", "Västra Götaland", "Skåne", "Uppsala", "Norrbotten"],
        Scheme::No => &["Oslo", "Viken", "Vestland", "Trøndelag", "Nordland"],
        Scheme::Dk => &["Hovedstaden", "Sjælland", "Syddanmark", "Midtjylland", "Nordjylland"],
        Scheme::Fi => &["Uusimaa", "Pirkanmaa", "Varsinais-Suomi", "Lappi"],
        Scheme::Is => &["Höfuðborgarsvæðið", "Suðurnes", "Norðurland eystra"],
        Scheme::Ee => &["Harjumaa", "Tartumaa", "Ida-Virumaa"],
        _ => &["Vilniaus", "Kauno", "Klaipėdos"],
    }
}

/// Shares of the records per country (roughly by population).
const COUNTRIES: [(Scheme, f64); 7] = [
    (Scheme::Se, 0.33),
    (Scheme::Dk, 0.18),
    (Scheme::Fi, 0.17),
    (Scheme::No, 0.17),
    (Scheme::Lt, 0.09),
    (Scheme::Ee, 0.04),
    (Scheme::Is, 0.02),
];

fn list(country: Scheme, which: List) -> &'static NameList {
    NameList::get(country, which)
        .or_else(|| NameList::get(Scheme::Se, which))
        .unwrap_or_else(|| unreachable!("Sweden has every list"))
}

/// A uniform pick from a slice (never empty here).
fn any<'a>(items: &[&'a str], rng: &mut SeededRng) -> &'a str {
    items[rng.index(items.len())]
}

/// With probability `p`, the value with one typo.
fn maybe_typo(value: String, p: f64, rng: &mut SeededRng) -> String {
    if rng.chance(p) { typo(&value, rng) } else { value }
}

/// `n` records of [`COLUMNS`], deterministic in `seed`.
pub(crate) fn records(n: usize, seed: u64) -> Vec<[String; 10]> {
    let mut rng = SeededRng::new(seed);
    (0..n).map(|_| record(&mut rng)).collect()
}

fn record(rng: &mut SeededRng) -> [String; 10] {
    let u = rng.unit();
    let mut country = Scheme::Se;
    let mut acc = 0.0;
    for (c, share) in COUNTRIES {
        acc += share;
        if u < acc {
            country = c;
            break;
        }
    }
    let female = rng.chance(0.5);
    let given_list = list(country, if female { List::GivenFemale } else { List::GivenMale });
    let given = given_list.pick(rng.unit()).to_owned();
    let surname = if country == Scheme::Is {
        // Patronymics: a father's name (genitive, roughly) and -son or -dóttir.
        let father = list(Scheme::Is, List::GivenMale).pick(rng.unit());
        format!("{father}{}", if female { "sdóttir" } else { "sson" })
    } else {
        list(country, List::Surnames).pick(rng.unit()).to_owned()
    };
    let places = list(country, List::Places);
    let place = places.pick(rng.unit());
    let (suffixes, districts) = street_words(country);
    // Streets are named after people and places, the commonest most often.
    let root = match rng.below(3) {
        0 => list(country, List::Surnames).pick(rng.unit() * rng.unit()),
        1 => given_list.pick(rng.unit() * rng.unit()),
        _ => places.pick(rng.unit()),
    };
    let street = format!("{root}{}", any(suffixes, rng));
    let suburb =
        if rng.chance(0.4) { format!("{place} {}", any(districts, rng)) } else { place.to_owned() };
    // A postcode area per place, with streets spread over a few dozen codes in it.
    let area = place.bytes().fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let postcode = format!("{:05}", (area % 900 + 100) * 100 + rng.below(40));
    // 1..=200, low numbers commonest (a cube of a uniform draw).
    let c = rng.below(1000);
    let number = 1 + c * c * c / 5_000_000;
    let address_2 = match rng.below(10) {
        0 => format!("lgh {}", 1001 + rng.below(999)),
        1 => format!("c/o {}", list(country, List::Surnames).pick(rng.unit())),
        2 => format!("{}. sal", 1 + rng.below(9)),
        _ => String::new(),
    };
    let year = 1925 + rng.below(90);
    let month = 1 + rng.below(12);
    let day = 1 + rng.below(28);
    [
        maybe_typo(given, 0.03, rng),
        maybe_typo(surname, 0.03, rng),
        number.to_string(),
        maybe_typo(street, 0.03, rng),
        address_2,
        maybe_typo(suburb, 0.02, rng),
        postcode,
        any(regions(country), rng).to_owned(),
        format!("{year:04}{month:02}{day:02}"),
        format!("{:07}", rng.below(10_000_000)),
    ]
}

/// Distinct values per column, for reporting how realistic a sample is.
#[allow(dead_code, reason = "realistic_extract reports it; the bench does not")]
pub(crate) fn cardinalities(records: &[[String; 10]]) -> [usize; 10] {
    let mut out = [0; 10];
    for (c, slot) in out.iter_mut().enumerate() {
        let distinct: std::collections::HashSet<&str> =
            records.iter().map(|r| r[c].as_str()).collect();
        *slot = distinct.len();
    }
    out
}
