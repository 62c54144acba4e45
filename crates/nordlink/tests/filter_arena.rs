//! The filter arena keeps every filter's bits and popcount, whatever the length and the
//! route in (bytes, a fixed-width buffer, base64).
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use nordlink::clk::{BloomFilter, FilterArena};
use proptest::prelude::*;

fn filters() -> impl Strategy<Value = (usize, Vec<Vec<u8>>)> {
    (1usize..=80).prop_flat_map(|width| {
        (Just(8 * width), prop::collection::vec(prop::collection::vec(any::<u8>(), width), 0..12))
    })
}

proptest! {
    #[test]
    fn every_route_in_gives_the_same_bits((bits, raw) in filters()) {
        let mut by_bytes = FilterArena::new(bits).unwrap();
        let mut by_base64 = FilterArena::new(bits).unwrap();
        let mut by_buffer = FilterArena::new(bits).unwrap();
        for f in &raw {
            by_bytes.push_bytes(f).unwrap();
            let filter = BloomFilter::from_words(
                &{
                    let mut w = vec![0u64; bits.div_ceil(64)];
                    for (i, b) in f.iter().enumerate() {
                        w[i / 8] |= u64::from(*b) << (56 - 8 * (i % 8));
                    }
                    w
                },
                bits,
            );
            prop_assert_eq!(filter.as_bytes(), &f[..]);
            by_base64.push_base64(&filter.to_base64()).unwrap();
        }
        by_buffer.extend_from_fixed_width(&raw.concat()).unwrap();
        prop_assert_eq!(&by_bytes, &by_base64);
        prop_assert_eq!(&by_bytes, &by_buffer);
        for (view, f) in by_bytes.iter().zip(&raw) {
            let ones: u32 = f.iter().map(|b| b.count_ones()).sum();
            prop_assert_eq!(view.popcount(), ones);
            let mut back = vec![0u8; f.len()];
            view.write_bytes(&mut back).unwrap();
            prop_assert_eq!(&back, f);
            for i in 0..bits {
                prop_assert_eq!(view.get(i), f[i / 8] & (0x80 >> (i % 8)) != 0);
            }
        }
    }
}
