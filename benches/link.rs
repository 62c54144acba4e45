//! Dice comparisons of 1024-bit filters: raw kernels (one query against a cache-resident
//! tile) and the tiled candidate search, for every kernel this CPU has.
//!
//! ```sh
//! cargo bench -p nordlink-benches --bench link
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nordlink::clk::FilterArena;
use nordlink::link::{Kernel, Measure, candidates};
use std::hint::black_box;

/// `n` pseudo-random 1024-bit filters with about 37 % of bits set (x AND (y OR z)),
/// the fill of a realistic schema.
fn filters(n: usize, seed: u64) -> FilterArena {
    let mut state = seed | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut a = FilterArena::with_capacity(1024, n).unwrap();
    for _ in 0..n {
        let words: Vec<u64> = (0..16).map(|_| next() & (next() | next())).collect();
        a.push_words(&words).unwrap();
    }
    a
}

fn link(c: &mut Criterion) {
    let tile = filters(2048, 7);
    let queries = filters(64, 11);
    let left = filters(2048, 13);
    let right = filters(8192, 17);
    let mut group = c.benchmark_group("link_1024");
    for kernel in Kernel::available() {
        group.throughput(Throughput::Elements((queries.len() * tile.len()) as u64));
        group.bench_function(format!("and_counts/{}", kernel.name()), |b| {
            let mut out = vec![0u32; tile.len()];
            b.iter(|| {
                let mut sum = 0u64;
                for q in queries.iter() {
                    kernel.and_counts(black_box(q.words()), tile.words(), 16, &mut out);
                    sum += u64::from(out[0]);
                }
                sum
            })
        });
        group.throughput(Throughput::Elements((left.len() * right.len()) as u64));
        group.bench_function(format!("candidates_t0.8/{}", kernel.name()), |b| {
            b.iter(|| candidates(&left, &right, Measure::Dice, 0.8, kernel).unwrap().len())
        });
    }
    group.finish();
}

criterion_group!(benches, link);
criterion_main!(benches);
