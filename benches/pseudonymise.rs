//! Pseudonym kernel throughput: one identifier after another on one core, and the same
//! work split over all cores with rayon (issue 3 targets: HMAC-SHA256 >= 6 M/s/core, keyed
//! BLAKE3 >= 10 M/s/core, >= 1.7x on 2 cores).
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nordlink::SecretKey;
use nordlink::id::{NationalId, Scheme, parse};
use nordlink::pseudonym::{Algorithm, Context, OutputFormat, Pseudonymiser};
use rayon::prelude::*;

/// 100 000 distinct valid Danish numbers (DK never rejects on modulus 11).
fn ids() -> Vec<NationalId> {
    (0..100_000u32)
        .map(|i| {
            let s = format!(
                "{:02}{:02}{:02}{:04}",
                1 + i % 28,
                1 + i / 28 % 12,
                i / 336 % 100,
                i % 10_000
            );
            parse(Scheme::Dk, &s).expect("valid by construction")
        })
        .collect()
}

fn kernel(c: &mut Criterion) {
    let ids = ids();
    let key = SecretKey::generate().expect("OS RNG");
    let format = OutputFormat::default();
    let mut group = c.benchmark_group("pseudonymise");
    group.throughput(Throughput::Elements(ids.len() as u64));
    group.sample_size(20);
    for algorithm in [Algorithm::HmacSha256, Algorithm::Blake3] {
        let p = Pseudonymiser::new(&key, algorithm, &Context::new("bench").unwrap());
        group.bench_function(format!("{}/1-core", algorithm.name()), |b| {
            b.iter(|| {
                let mut acc = 0u8;
                for id in &ids {
                    acc ^= p.pseudonymise(black_box(id)).as_bytes()[0];
                }
                acc
            })
        });
        group.bench_function(format!("{}/all-cores", algorithm.name()), |b| {
            b.iter(|| {
                ids.par_chunks(4096)
                    .map(|chunk| {
                        chunk.iter().fold(0u8, |a, id| a ^ p.pseudonymise(id).as_bytes()[0])
                    })
                    .reduce(|| 0, |a, b| a ^ b)
            })
        });
        // Parse + pseudonymise + hex-encode: the per-row work of the command.
        let raw: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
        group.bench_function(format!("{}/parse+encode/1-core", algorithm.name()), |b| {
            let mut out = [0u8; 64];
            b.iter(|| {
                for s in &raw {
                    let id = parse(Scheme::Dk, black_box(s)).expect("valid");
                    p.pseudonymise(&id).encode_to_slice(format, &mut out);
                }
                out[0]
            })
        });
    }
    group.finish();
}

/// Hex output of the pseudonym column: `encode_to_slice` (faster-hex) beside the `hex`
/// crate it replaced, on the same 100 000 pseudonyms.
fn hex_output(c: &mut Criterion) {
    let key = SecretKey::generate().expect("OS RNG");
    let p = Pseudonymiser::new(&key, Algorithm::HmacSha256, &Context::new("bench").unwrap());
    let pseudonyms: Vec<_> = ids().iter().map(|id| p.pseudonymise(id)).collect();
    let format = OutputFormat::default();
    let mut out = vec![0u8; 64 * pseudonyms.len()];
    let mut group = c.benchmark_group("pseudonym_hex");
    group.throughput(Throughput::Elements(pseudonyms.len() as u64));
    group.bench_function("encode_to_slice", |b| {
        b.iter(|| {
            for (ps, o) in pseudonyms.iter().zip(out.chunks_exact_mut(64)) {
                ps.encode_to_slice(format, o);
            }
            black_box(out[0])
        })
    });
    group.bench_function("hex-crate", |b| {
        b.iter(|| {
            for (ps, o) in pseudonyms.iter().zip(out.chunks_exact_mut(64)) {
                hex::encode_to_slice(ps.as_bytes(), o).unwrap();
            }
            black_box(out[0])
        })
    });
    group.finish();
}

criterion_group!(benches, kernel, hex_output);
criterion_main!(benches);
