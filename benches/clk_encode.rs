//! CLK encoding throughput on FEBRL-like records: 8 fields, ~60 bigrams, 1024 bits,
//! 20 bits per token (issue 4 targets: native >= 500 k records/s/core and >= 1 M/s on
//! 2 cores; clkhash-compatible >= 100 k/s/core).
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nordlink::SecretKey;
use nordlink::clk::clkhash::{ClkhashCache, ClkhashEncoder, ClkhashSchema};
use nordlink::clk::{AnyEncoder, EncodeCache, Encoder, EncoderSecret, Schema};
use rayon::prelude::*;

#[path = "realistic.rs"]
mod realistic;

const SYLLABLES: [&str; 24] = [
    "an", "ja", "sø", "ås", "mik", "päi", "jó", "guð", "la", "in", "ka", "ol", "el", "jū", "ma",
    "li", "ber", "hau", "tam", "sa", "kaz", "vir", "kor", "lind",
];
const SUFFIXES: [&str; 8] = ["sen", "son", "nen", "dóttir", "ienė", "as", "berg", "qvist"];
const STREETS: [&str; 8] = [
    "storgatan",
    "kongens gade",
    "mannerheimintie",
    "laugavegur",
    "karl johans gate",
    "vilniaus gatvė",
    "pärnu maantee",
    "drottninggatan",
];
const PLACES: [&str; 8] =
    ["københavn", "göteborg", "tampere", "reykjavík", "bergen", "kaunas", "tartu", "malmö"];

/// Deterministic FEBRL-like records (given, surname, street no, street, place, postcode,
/// dob, sex). Names are built from syllables: thousands of distinct given names and
/// surnames, tens of thousands of birth dates, as in a real register sample.
fn records(n: usize) -> Vec<[String; 8]> {
    (0..n)
        .map(|i| {
            let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let y = x.rotate_left(29).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            let pick = |v: u64, shift: u32, len: usize| (v >> shift) as usize % len;
            let syl = |v: u64, shift: u32| SYLLABLES[pick(v, shift, SYLLABLES.len())];
            let given = format!(
                "{}{}{}",
                syl(x, 0),
                syl(x, 5),
                if x >> 10 & 1 == 1 { syl(x, 11) } else { "" }
            );
            let surname = format!("{}{}{}", syl(y, 0), syl(y, 5), SUFFIXES[pick(y, 10, 8)]);
            [
                given,
                surname,
                (1 + (x >> 16) % 400).to_string(),
                STREETS[pick(x, 26, 8)].to_owned(),
                PLACES[pick(y, 32, 8)].to_owned(),
                format!("{:04}", (x >> 36) % 10_000),
                format!(
                    "{}-{:02}-{:02}",
                    1930 + (y >> 40) % 80,
                    1 + (y >> 48) % 12,
                    1 + (y >> 54) % 28
                ),
                ["m", "f"][pick(y, 62, 2)].to_owned(),
            ]
        })
        .collect()
}

const NATIVE: &str = r#"
version = 1
[filter]
bits = 1024
context = "bench"
[[fields]]
name = "given"
kind = "given_name"
[[fields]]
name = "surname"
kind = "surname"
[[fields]]
name = "street_number"
tokenise = "whole"
bits_per_token = 20
[[fields]]
name = "street"
kind = "text"
bits_per_token = 20
[[fields]]
name = "place"
kind = "municipality"
bits_per_token = 20
[[fields]]
name = "postcode"
kind = "postcode"
bits_per_token = 20
[[fields]]
name = "dob"
kind = "birth_date"
bits_per_token = 20
[[fields]]
name = "sex"
kind = "sex"
"#;

fn clkhash_schema() -> String {
    let names = ["given", "surname", "street_number", "street", "place", "postcode", "dob", "sex"];
    let features: Vec<String> = names
        .iter()
        .map(|n| format!(r#"{{"identifier": "{n}", "format": {{"type": "string"}}, "hashing": {{"comparison": {{"type": "ngram", "n": 2}}, "strategy": {{"bitsPerToken": 20}}}}}}"#))
        .collect();
    format!(
        r#"{{"version": 3, "clkConfig": {{"l": 1024, "kdf": {{"type": "HKDF", "hash": "SHA256", "keySize": 64}}}}, "features": [{}]}}"#,
        features.join(", ")
    )
}

fn encode(c: &mut Criterion) {
    let recs = records(20_000);
    let mut raw = [3u8; 32];
    let key = SecretKey::from_bytes(&mut raw);
    let native = Encoder::new(Schema::parse(NATIVE).unwrap(), &key);
    let clkhash =
        ClkhashEncoder::new(ClkhashSchema::from_json(&clkhash_schema()).unwrap(), b"bench secret");
    let mut group = c.benchmark_group("clk_encode");
    group.throughput(Throughput::Elements(recs.len() as u64));
    group.sample_size(10);
    group.bench_function("native/1-core", |b| {
        let mut cache = EncodeCache::default();
        b.iter(|| {
            recs.iter()
                .map(|r| {
                    native.encode(|i| Some(r[i].as_str()), &mut cache).unwrap().record.count_ones()
                })
                .sum::<u32>()
        })
    });
    group.bench_function("native/all-cores", |b| {
        // One chunk (and so one cache) per thread, as the pipeline keeps a cache per thread.
        let chunk = recs.len().div_ceil(rayon::current_num_threads());
        let mut caches: Vec<EncodeCache> =
            (0..recs.len().div_ceil(chunk)).map(|_| EncodeCache::default()).collect();
        b.iter(|| {
            recs.par_chunks(chunk)
                .zip(caches.par_iter_mut())
                .map(|(part, cache)| {
                    part.iter()
                        .map(|r| {
                            native
                                .encode(|i| Some(r[i].as_str()), cache)
                                .unwrap()
                                .record
                                .count_ones()
                        })
                        .sum::<u32>()
                })
                .sum::<u32>()
        })
    });
    group.throughput(Throughput::Elements(2000));
    group.bench_function("native/1-core/cold-cache-2000", |b| {
        b.iter(|| {
            let mut cache = EncodeCache::default();
            recs[..2000]
                .iter()
                .map(|r| {
                    native
                        .encode(|i| Some(black_box(r[i].as_str())), &mut cache)
                        .unwrap()
                        .record
                        .count_ones()
                })
                .sum::<u32>()
        })
    });
    group.throughput(Throughput::Elements(recs.len() as u64));
    group.bench_function("clkhash-compatible/1-core", |b| {
        let mut cache = ClkhashCache::default();
        b.iter(|| {
            recs.iter()
                .map(|r| {
                    clkhash.encode(|i| Some(r[i].as_str()), &mut cache).unwrap().record.count_ones()
                })
                .sum::<u32>()
        })
    });
    group.finish();
}

/// The address records of `realistic.rs` (tens of thousands of distinct names, streets
/// and districts) under `examples/data/extract_schema.toml` (version 3: birth-year salt,
/// one XOR fold), through `encode_many` as `nordlink encode` calls it, 65 536 records per
/// call like one input batch. Caches are warm after the first iteration, as in a long run.
fn encode_realistic(c: &mut Criterion) {
    let recs = realistic::records(65_536, 7);
    let mut raw = [3u8; 32];
    let secret = EncoderSecret::Key(SecretKey::from_bytes(&mut raw));
    let schema = include_bytes!("../examples/data/extract_schema.toml");
    let encoder = AnyEncoder::from_schema_bytes(schema, &secret).unwrap();
    let mut group = c.benchmark_group("clk_encode_realistic");
    group.throughput(Throughput::Elements(recs.len() as u64));
    group.sample_size(10);
    group.bench_function("native-v3/all-cores", |b| {
        b.iter(|| {
            let out = encoder.encode_many(&recs, |r, i| Some(r[i].as_str()));
            out.iter().filter(|e| e.is_ok()).count()
        })
    });
    group.finish();
}

criterion_group!(benches, encode, encode_realistic);
criterion_main!(benches);
