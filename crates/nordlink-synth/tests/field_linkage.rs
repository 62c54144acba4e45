//! Fellegi–Sunter linkage end to end on small synthetic registers with a known truth:
//! synthesised, encoded with field-level filters, linked without ground truth, scored
//! against it.
#![allow(clippy::unwrap_used, reason = "test code: a panic is a failure")]

use std::collections::HashMap;

use nordlink::SecretKey;
use nordlink::clk::{AnyCache, AnyEncoder, EncoderSecret, FilterArena};
use nordlink::id::Scheme;
use nordlink::link::{
    CandidateSource, FieldInput, FieldLinkError, FieldLinker, KeyColumn, Linker, Quality,
};
use nordlink_synth::corrupt::Level;
use nordlink_synth::population::{Row, Spec, generate};

const SCHEMA: &str = r#"version = 3
default_match_keys = true
[filter]
bits = 1024
context = "field-linkage-test"
field_filters = true
field_filters_reveal_frequencies = true

[[fields]]
name = "given_name"
kind = "given_name"

[[fields]]
name = "surname"
kind = "surname"

[[fields]]
name = "birth_date"
kind = "birth_date"

[[fields]]
name = "sex"
kind = "sex"
"#;

struct Encoded {
    record: FilterArena,
    fields: Vec<FilterArena>,
    keys: Vec<KeyColumn>,
}

fn encode(encoder: &AnyEncoder, rows: &[Row]) -> Encoded {
    let cell = |row: &Row, f: usize| -> String {
        let r = &row.record;
        [&r.given, &r.surname, &r.born, &r.sex][f].clone()
    };
    let mut record = FilterArena::new(encoder.bits()).unwrap();
    let mut fields: Vec<FilterArena> = Vec::new();
    let mut keys: Vec<KeyColumn> = encoder
        .match_key_names()
        .into_iter()
        .map(|name| KeyColumn { name: name.to_owned(), values: Vec::new() })
        .collect();
    let mut cache = AnyCache::default();
    for row in rows {
        let cells: Vec<String> = (0..4).map(|f| cell(row, f)).collect();
        let e = encoder.encode(|f| Some(cells[f].as_str()), &mut cache).unwrap();
        record.push_filter(&e.record).unwrap();
        for (f, filter) in e.fields.iter().enumerate() {
            if fields.len() <= f {
                fields.push(FilterArena::new(filter.len()).unwrap());
            }
            fields[f].push_filter(filter).unwrap();
        }
        for (column, key) in keys.iter_mut().zip(&e.keys) {
            column.values.push(KeyColumn::value(key.as_ref()));
        }
    }
    Encoded { record, fields, keys }
}

/// Two registers of 3 000 residents each, 30 % of them also in the other one.
fn registers(seed: u64) -> (Encoded, Encoded, Vec<(u32, u32)>) {
    let spec = Spec {
        people: 3_000,
        registers: vec![Scheme::Se, Scheme::No],
        movers: 0.3,
        corruption: Level::Default,
        seed,
    };
    let population = generate(&spec).unwrap();
    let mut raw = [3u8; 32];
    let encoder = AnyEncoder::from_schema_bytes(
        SCHEMA.as_bytes(),
        &EncoderSecret::Key(SecretKey::from_bytes(&mut raw)),
    )
    .unwrap();
    let left = encode(&encoder, &population.registers[0]);
    let right = encode(&encoder, &population.registers[1]);
    let position = |r: usize| -> HashMap<&str, u32> {
        population.registers[r]
            .iter()
            .enumerate()
            .map(|(i, row)| (row.id.as_str(), u32::try_from(i).unwrap()))
            .collect()
    };
    let (se, no) = (position(0), position(1));
    let truth = population
        .truth
        .iter()
        .map(|l| match l.home {
            0 => (se[l.home_id.as_str()], no[l.abroad_id.as_str()]),
            _ => (se[l.abroad_id.as_str()], no[l.home_id.as_str()]),
        })
        .collect();
    (left, right, truth)
}

fn input(e: &Encoded) -> FieldInput<'_> {
    FieldInput { record: &e.record, fields: &e.fields, keys: &e.keys }
}

fn quality(linkage: &nordlink::link::FieldLinkage, truth: &[(u32, u32)]) -> Quality {
    let found: Vec<(u32, u32)> = linkage.matches.iter().map(|p| (p.left, p.right)).collect();
    Quality::of(&found, truth)
}

#[test]
fn fellegi_sunter_links_without_ground_truth_and_beats_record_level_dice() {
    let (left, right, truth) = registers(5);
    let on_filters = FieldLinker { candidates: CandidateSource::Filters, ..FieldLinker::default() };
    let linkage = on_filters.link(input(&left), input(&right)).unwrap();
    assert!(!linkage.blocking.starts_with("match key"), "{}", linkage.blocking);
    let fs = quality(&linkage, &truth);
    let dice = Linker::default().link(&left.record, &right.record).unwrap();
    let dice_pairs: Vec<(u32, u32)> = dice.matches.iter().map(|c| (c.left, c.right)).collect();
    let dice = Quality::of(&dice_pairs, &truth);
    assert!(fs.f1() > 0.9, "Fellegi–Sunter F1 {}", fs.f1());
    assert!(fs.f1() > dice.f1(), "Fellegi–Sunter {} against Dice {}", fs.f1(), dice.f1());
    // The model's own expectation is in the right region, and every match passes its
    // threshold.
    assert!((linkage.expected.f1 - fs.f1()).abs() < 0.08, "{:?}", linkage.expected);
    assert!(linkage.matches.iter().all(|p| p.probability >= linkage.threshold));
    // Matching fields weigh for a match, and the most agreeing level weighs most.
    let model = &linkage.fit.model;
    for f in 0..model.fields() {
        assert!(model.field_weight(f, 0) > 0.0, "field {f}: {model:?}");
        assert!(model.field_weight(f, 0) > model.field_weight(f, 4), "field {f}: {model:?}");
    }
}

#[test]
fn candidates_from_a_birth_date_key_leave_the_birth_date_out_and_beat_dice() {
    let (left, right, truth) = registers(8);
    let linkage = FieldLinker::default().link(input(&left), input(&right)).unwrap();
    assert!(linkage.blocking.starts_with("match key birth_date "), "{}", linkage.blocking);
    // Every candidate agrees on the birth date and the salt: neither is weighed.
    let names = ["given_name", "surname", "birth_date", "sex", "names_swapped", "salt"];
    let left_out: Vec<&str> =
        names.iter().zip(&linkage.left_out).filter(|(_, o)| **o).map(|(n, _)| *n).collect();
    assert_eq!(left_out, ["birth_date", "salt"]);
    let fs = quality(&linkage, &truth);
    let dice = Linker::default().link(&left.record, &right.record).unwrap();
    let dice_pairs: Vec<(u32, u32)> = dice.matches.iter().map(|c| (c.left, c.right)).collect();
    let dice = Quality::of(&dice_pairs, &truth);
    assert!(fs.f1() > 0.9, "Fellegi–Sunter on key candidates: F1 {}", fs.f1());
    assert!(fs.f1() > dice.f1(), "Fellegi–Sunter {} against Dice {}", fs.f1(), dice.f1());
    assert!((linkage.expected.f1 - fs.f1()).abs() < 0.08, "{:?}", linkage.expected);
    // Each match's explanation adds up to its weight; the fields left out weigh nothing.
    let model = &linkage.fit.model;
    assert_eq!(linkage.explanations.len(), linkage.matches.len());
    for (p, e) in linkage.matches.iter().zip(&linkage.explanations) {
        let total = model.prior_weight() + e.weights.iter().sum::<f64>();
        assert!((total - p.weight).abs() < 1e-9, "{p:?} {e:?}");
        assert!(e.weights[2] == 0.0 && e.weights[5] == 0.0, "{e:?}");
    }
    // Names learnt inside the block weigh for a match.
    assert!(model.field_weight(0, 0) > 5.0 && model.field_weight(1, 0) > 5.0, "{model:?}");
}

#[test]
fn match_keys_that_do_not_line_up_are_refused() {
    let (left, right, _) = registers(9);
    let fewer = FieldInput { keys: &right.keys[1..], ..input(&right) };
    let err = FieldLinker::default().link(input(&left), fewer).unwrap_err();
    assert!(matches!(err, FieldLinkError::Keys(_)), "{err}");
    let none = FieldInput { keys: &[], ..input(&right) };
    let keys = FieldLinker { candidates: CandidateSource::Keys, ..FieldLinker::default() };
    let err = keys.link(FieldInput { keys: &[], ..input(&left) }, none).unwrap_err();
    assert!(matches!(err, FieldLinkError::Keys(_)), "{err}");
}

#[test]
fn a_fixed_probability_threshold_keeps_only_pairs_above_it() {
    let (left, right, _) = registers(6);
    let strict = FieldLinker { threshold: Some(0.999), ..FieldLinker::default() };
    let loose = FieldLinker { threshold: Some(0.01), ..FieldLinker::default() };
    let a = strict.link(input(&left), input(&right)).unwrap();
    let b = loose.link(input(&left), input(&right)).unwrap();
    assert!(a.matches.iter().all(|p| p.probability >= 0.999));
    assert!(a.matches.len() < b.matches.len());
    // Matches are given by left, then right position.
    assert!(b.matches.windows(2).all(|w| (w[0].left, w[0].right) < (w[1].left, w[1].right)));
}

#[test]
fn field_filters_that_do_not_line_up_are_refused() {
    let (left, right, _) = registers(7);
    let fewer = FieldInput { fields: &right.fields[..3], ..input(&right) };
    let err = FieldLinker::default().link(input(&left), fewer).unwrap_err();
    assert!(matches!(err, FieldLinkError::Fields(_)), "{err}");
    let short = FieldInput { record: &left.record, fields: &right.fields, keys: &[] };
    let err = FieldLinker::default().link(short, input(&right)).unwrap_err();
    assert!(matches!(err, FieldLinkError::Fields(_)), "{err}");
}
