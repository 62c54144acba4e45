//! Properties of the pseudonym construction.
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test and bench code: a panic is a failure"
)]

use nordlink::SecretKey;
use nordlink::id::{Scheme, parse};
use nordlink::pseudonym::{Algorithm, Context, Pseudonymiser};
use proptest::prelude::*;

fn key(seed: u8) -> SecretKey {
    let mut raw = [seed; 32];
    SecretKey::from_bytes(&mut raw)
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![Just(Algorithm::HmacSha256), Just(Algorithm::Blake3)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn deterministic_and_key_dependent(v in "[a-zA-Z0-9-]{1,40}", alg in algorithm()) {
        let ctx = Context::new("p").unwrap();
        let a = Pseudonymiser::new(&key(1), alg, &ctx);
        let b = Pseudonymiser::new(&key(1), alg, &ctx);
        let c = Pseudonymiser::new(&key(2), alg, &ctx);
        prop_assert_eq!(a.pseudonymise_opaque(&v), b.pseudonymise_opaque(&v));
        prop_assert_ne!(a.pseudonymise_opaque(&v), c.pseudonymise_opaque(&v));
    }

    #[test]
    fn contexts_and_algorithms_separate(v in "[a-z0-9]{1,20}", c1 in "[a-z]{0,8}", c2 in "[a-z]{0,8}") {
        prop_assume!(c1 != c2);
        let k = key(3);
        let p1 = Pseudonymiser::new(&k, Algorithm::HmacSha256, &Context::new(&c1).unwrap());
        let p2 = Pseudonymiser::new(&k, Algorithm::HmacSha256, &Context::new(&c2).unwrap());
        let p3 = Pseudonymiser::new(&k, Algorithm::Blake3, &Context::new(&c1).unwrap());
        let x = p1.pseudonymise_opaque(&v).unwrap();
        prop_assert_ne!(x, p2.pseudonymise_opaque(&v).unwrap());
        prop_assert_ne!(x, p3.pseudonymise_opaque(&v).unwrap());
    }

    #[test]
    fn schemes_separate_equal_digits(yy in 0u8..100, serial in 2000u32..3000, alg in algorithm()) {
        // A number valid as both DK and IS (IS persons are never rejected on the check
        // digit; century digit 9, sequence 20-29): same digits, different pseudonyms.
        let s = format!("0101{yy:02}{serial:04}");
        let s = format!("{}9", &s[..9]);
        let p = Pseudonymiser::new(&key(4), alg, &Context::default());
        let dk = parse(Scheme::Dk, &s).unwrap();
        let is = parse(Scheme::Is, &s).unwrap();
        prop_assert_eq!(dk.as_str(), is.as_str());
        prop_assert_ne!(p.pseudonymise(&dk), p.pseudonymise(&is));
        // And an opaque value with those digits collides with neither.
        let opaque = p.pseudonymise_opaque(&s).unwrap();
        prop_assert_ne!(opaque, p.pseudonymise(&dk));
    }
}
