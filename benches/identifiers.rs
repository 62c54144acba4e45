//! Identifier parsing throughput per scheme (issue 2 target: >= 20 M identifiers/s/core).
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use nordlink::Date;
use nordlink::id::{ParseOptions, Scheme, parse_with};

/// Realistic inputs per scheme: mostly valid, in mixed spellings, some invalid.
fn inputs(scheme: Scheme) -> &'static [&'static str] {
    match scheme {
        Scheme::Dk => &["211062-5629", "1111111118", "2110620629", "010190 1234", "310290-1234"],
        Scheme::Se => &["880320-0016", "198112289841", "701063-2391", "120512+8919", "8803200017"],
        Scheme::No => &["15108695088", "70019950032", "301082 99920", "17912099997", "15108695089"],
        Scheme::Fi => &["131052-308T", "100190Y999P", "010594y202e", "131052-308U", "010594A202E"],
        Scheme::Is => &["120160-3389", "1201743399", "450401-3150", "2811913049", "120160-3385"],
        Scheme::Ee => &["36805280109", "37605030299", "49403136526", "36805280108", "49403136526"],
        _ => &["33309240064", "33300000007", "99999999997", "33309240065", "33309240064"],
    }
}

fn parse_all(c: &mut Criterion) {
    let options = ParseOptions::with_reference_date(Date::new(2026, 11, 22).unwrap());
    let mut group = c.benchmark_group("id_parse");
    for scheme in Scheme::ALL {
        // 1 000 identifiers per iteration so per-iteration overhead vanishes.
        let batch: Vec<&str> = inputs(scheme).iter().copied().cycle().take(1000).collect();
        group.throughput(Throughput::Elements(batch.len() as u64));
        group.bench_function(scheme.code(), |b| {
            b.iter(|| {
                let mut valid = 0usize;
                for s in &batch {
                    valid += usize::from(parse_with(scheme, black_box(s), &options).is_ok());
                }
                valid
            })
        });
    }
    group.finish();
}

criterion_group!(benches, parse_all);
criterion_main!(benches);
