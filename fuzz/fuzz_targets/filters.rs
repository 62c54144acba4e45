//! Fuzzes the filter arena's loaders: the first two bytes pick the filter width, the rest
//! is read as base64 text and as a fixed-width buffer. Never a panic; whatever is
//! accepted keeps its popcount and bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nordlink::clk::FilterArena;

fuzz_target!(|data: &[u8]| {
    let Some((width, rest)) = data.split_first_chunk::<2>() else { return };
    let bytes = 1 + usize::from(u16::from_le_bytes(*width) % 512);
    let Ok(mut arena) = FilterArena::new(8 * bytes) else { return };
    if let Ok(text) = std::str::from_utf8(rest) {
        let _ = arena.push_base64(text);
    }
    let before = arena.len();
    if arena.extend_from_fixed_width(rest).is_ok() {
        assert_eq!(arena.len(), before + rest.len() / bytes);
        for (i, chunk) in rest.chunks_exact(bytes).enumerate() {
            let view = arena.get(before + i).expect("pushed");
            let ones: u32 = chunk.iter().map(|b| b.count_ones()).sum();
            assert_eq!(view.popcount(), ones);
            let mut back = vec![0u8; bytes];
            view.write_bytes(&mut back).expect("same width");
            assert_eq!(back, chunk);
        }
    }
});
