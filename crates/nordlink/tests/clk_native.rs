//! The native encoder (`nordlink-clk/1`): known answers from the independent Python
//! implementation in scripts/clk_vectors.py, and properties.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use nordlink::SecretKey;
use nordlink::clk::{EncodeCache, Encoder, Schema};
use proptest::prelude::*;

fn master() -> SecretKey {
    let mut raw: [u8; 32] = std::array::from_fn(|i| i as u8);
    SecretKey::from_bytes(&mut raw)
}

const KAT_SCHEMA: &str = r#"
version = 1
[filter]
bits = 128
context = "kat"
[[fields]]
name = "sex"
tokenise = "whole"
bits_per_token = 5
[[fields]]
name = "given_name"
kind = "given_name"
bits_per_token = 4
"#;

#[test]
fn known_answers_from_the_python_reference() {
    let enc = Encoder::new(Schema::parse(KAT_SCHEMA).unwrap(), &master());
    let mut cache = EncodeCache::default();
    let f = |vals: [&'static str; 2]| {
        enc.encode(move |i| Some(vals[i]), &mut EncodeCache::default()).unwrap()
    };
    assert_eq!(f(["f", ""]).record.to_base64(), "IAAAAAAABAQAAABAAAEAAA==");
    // " Åse " normalises to "aase": Nordic folding, then padded bigrams.
    assert_eq!(f(["f", " Åse "]).record.to_base64(), "IgAAAYEARZQgCARACkFOBA==");
    let again = enc.encode(|i| Some(["f", "ÅSE"][i]), &mut cache).unwrap();
    assert_eq!(again.record.to_base64(), "IgAAAYEARZQgCARACkFOBA==");
}

fn dice(a: &nordlink::clk::BloomFilter, b: &nordlink::clk::BloomFilter) -> f64 {
    let inter: u32 = a.as_bytes().iter().zip(b.as_bytes()).map(|(x, y)| (x & y).count_ones()).sum();
    2.0 * f64::from(inter) / f64::from(a.count_ones() + b.count_ones()).max(1.0)
}

const NAME_SCHEMA: &str =
    "version = 1\n[filter]\nbits = 1024\n[[fields]]\nname = \"n\"\nkind = \"surname\"\n";

const HARDENED: &str = r#"
version = 1
[filter]
bits = 512
context = "h"
hardening = ["balance", "permute", "rule90", { xor_fold = 1 }, { randomised_response = 0.05 }]
field_filters = true
[[fields]]
name = "n"
kind = "surname"
[[fields]]
name = "dob"
kind = "birth_date"
[filter.salt]
field = "dob"
year_only = true
"#;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn one_typo_is_closer_than_an_unrelated_name(
        s in "[a-m]{5,12}", pos in 0usize..5, c in "[a-m]", t in "[n-z]{5,12}",
    ) {
        let enc = Encoder::new(Schema::parse(NAME_SCHEMA).unwrap(), &master());
        let mut cache = EncodeCache::default();
        let mut typo: Vec<char> = s.chars().collect();
        typo[pos] = c.chars().next().unwrap();
        let typo: String = typo.into_iter().collect();
        let e = |v: &str| enc.encode(|_| Some(v), &mut EncodeCache::default()).unwrap().record;
        let (a, b, u) = (e(&s), e(&typo), e(&t));
        prop_assert!(dice(&a, &b) >= 0.6, "typo dice {}", dice(&a, &b));
        prop_assert!(dice(&a, &b) > dice(&a, &u));
        // The memo never changes a result.
        prop_assert_eq!(enc.encode(|_| Some(s.as_str()), &mut cache).unwrap().record, a.clone());
        prop_assert_eq!(enc.encode(|_| Some(s.as_str()), &mut cache).unwrap().record, a);
    }

    #[test]
    fn deterministic_key_dependent_and_hardening_keeps_lengths(name in "[a-zåäöø]{2,12}", year in 1900u16..2020) {
        let dob = format!("{year}-06-15");
        let vals = [name.as_str(), dob.as_str()];
        let schema = Schema::parse(HARDENED).unwrap();
        let bits = schema.output_bits();
        prop_assert_eq!(bits, 512);
        let a = Encoder::new(schema.clone(), &master());
        let mut raw = [9u8; 32];
        let b = Encoder::new(schema, &SecretKey::from_bytes(&mut raw));
        let x = a.encode(|i| Some(vals[i]), &mut EncodeCache::default()).unwrap();
        let y = a.encode(|i| Some(vals[i]), &mut EncodeCache::default()).unwrap();
        let z = b.encode(|i| Some(vals[i]), &mut EncodeCache::default()).unwrap();
        prop_assert_eq!(&x, &y);
        prop_assert_ne!(&x.record, &z.record);
        prop_assert_eq!(x.record.len(), bits);
        prop_assert_eq!(x.fields.len(), 2);
        prop_assert!(x.fields.iter().all(|f| f.len() == bits));
    }
}

#[test]
fn salting_separates_equal_names_in_different_birth_years() {
    let schema = Schema::parse(&HARDENED.replace("hardening = [\"balance\", \"permute\", \"rule90\", { xor_fold = 1 }, { randomised_response = 0.05 }]", "")).unwrap();
    let enc = Encoder::new(schema, &master());
    let e = |dob: &'static str| {
        enc.encode(move |i| Some(["hansen", dob][i]), &mut EncodeCache::default()).unwrap()
    };
    // Same year: the name field's filter is identical; other year: unrelated bits.
    assert_eq!(e("1980-01-01").fields[0], e("1980-12-31").fields[0]);
    assert!(dice(&e("1980-01-01").fields[0], &e("1981-01-01").fields[0]) < 0.5);
}
