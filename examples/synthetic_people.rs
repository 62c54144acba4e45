//! Writes two synthetic registers of the same people and the true links between them, for
//! linkage measurements: `LEFT.csv` (the people), `RIGHT.csv` (the same people under new
//! ids, shuffled, corrupted as a clerk in another country would) and `TRUTH.csv`.
//!
//! ```sh
//! cargo run --release -p nordlink-io --example synthetic_people -- /tmp/people 1000000
//! cargo run --release -p nordlink-io --example synthetic_people -- /tmp/hard 100000 0.5 heavy
//! ```
//!
//! Names are made of syllables (no real person), but drawn at realistic cardinalities
//! and skew: 5 000 given names, 60 000 surnames and 2 000 places, each picked with a
//! Zipf-like law (a few very common values, a long tail), birth dates 1930–2005.
//! Corruption of the right register: a typo in 50 % of surnames and 30 % of given names,
//! another place for 20 %, day and month swapped for 5 % (when still a date). With
//! `heavy`: a typo in 80 % of surnames (a second one in 30 %), 60 % of given names (a
//! second in 20 %), another place for 40 %, day and month swapped for 10 %, the birth year
//! off by one for 5 %, given name and surname swapped for 5 %, and the given name missing
//! for 5 %. OVERLAP (default 1) is the share of left people also in the right register;
//! the right register is filled up to PEOPLE with people of its own. Deterministic for
//! the arguments. The linkage measurements in docs/performance.md use it; `nordlink synth`
//! makes per-country registers with movers.
#![allow(clippy::unwrap_used, clippy::cast_possible_truncation, reason = "an example program")]

use std::io::Write;

const SYLLABLES: [&str; 44] = [
    "an", "ber", "ka", "li", "ma", "nor", "sa", "te", "vi", "jo", "hel", "ing", "rid", "sig",
    "mar", "ta", "ole", "per", "kri", "sten", "bjø", "ås", "ö", "ä", "lu", "ni", "ko", "ri", "en",
    "son", "sen", "dót", "tir", "ha", "gu", "ny", "ei", "ur", "ul", "ve", "da", "fa", "ro", "mi",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: reproducible, fast; no secrecy needed.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// An index in 0..n, small ones far more often (rank-frequency close to Zipf's law).
    fn zipf(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

fn names(rng: &mut Rng, n: usize, syllables: (usize, usize)) -> Vec<String> {
    (0..n)
        .map(|_| {
            let len = syllables.0 + rng.below(syllables.1 - syllables.0 + 1);
            let s: String = (0..len).map(|_| SYLLABLES[rng.below(SYLLABLES.len())]).collect();
            let mut c = s.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        })
        .collect()
}

fn typo(rng: &mut Rng, s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.len() >= 3 {
        let i = rng.below(chars.len());
        chars[i] = "abdefghijklmnoprstuvy".chars().nth(rng.below(21)).unwrap();
    }
    chars.into_iter().collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: synthetic_people PREFIX PEOPLE [OVERLAP] [heavy]";
    let prefix = args.next().ok_or(usage)?;
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let overlap: f64 = args.next().map_or(Ok(1.0), |a| a.parse())?;
    let heavy = match args.next().as_deref() {
        None | Some("default") => false,
        Some("heavy") => true,
        Some(_) => return Err(usage.into()),
    };
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ n as u64);
    let given = names(&mut rng, 5_000, (2, 3));
    let surnames = names(&mut rng, 60_000, (2, 4));
    let places = names(&mut rng, 2_000, (2, 3));
    let header = "id,first_name,last_name,dob,sex,city\n";
    let mut left = std::io::BufWriter::new(std::fs::File::create(format!("{prefix}-left.csv"))?);
    let mut truth = std::io::BufWriter::new(std::fs::File::create(format!("{prefix}-truth.csv"))?);
    left.write_all(header.as_bytes())?;
    truth.write_all(b"left_id,right_id\n")?;
    let person = |rng: &mut Rng| {
        let (g, s, c) = (
            given[rng.zipf(given.len())].clone(),
            surnames[rng.zipf(surnames.len())].clone(),
            places[rng.zipf(places.len())].clone(),
        );
        let (y, m, d) = (1930 + rng.below(76), 1 + rng.below(12), 1 + rng.below(28));
        let sex = if rng.chance(0.5) { "F" } else { "M" };
        (g, s, c, (y, m, d), sex)
    };
    let mut right = Vec::with_capacity(n);
    for i in 0..n {
        let (g, s, c, (y, m, d), sex) = person(&mut rng);
        writeln!(left, "{i},{g},{s},{y}-{m:02}-{d:02},{sex},{c}")?;
        if overlap < 1.0 && !rng.chance(overlap) {
            continue;
        }
        writeln!(truth, "{i},r{i}")?;
        let (ps, pg, pc, pdm) = if heavy { (0.8, 0.6, 0.4, 0.1) } else { (0.5, 0.3, 0.2, 0.05) };
        let mut s2 = if rng.chance(ps) { typo(&mut rng, &s) } else { s.clone() };
        let mut g2 = if rng.chance(pg) { typo(&mut rng, &g) } else { g.clone() };
        let c2 = if rng.chance(pc) { places[rng.zipf(places.len())].clone() } else { c.clone() };
        let (m2, d2) = if rng.chance(pdm) && d <= 12 { (d, m) } else { (m, d) };
        let mut y2 = y;
        if heavy {
            if rng.chance(0.3) {
                s2 = typo(&mut rng, &s2);
            }
            if rng.chance(0.2) {
                g2 = typo(&mut rng, &g2);
            }
            if rng.chance(0.05) {
                y2 = if rng.chance(0.5) { y + 1 } else { y - 1 };
            }
            if rng.chance(0.05) {
                std::mem::swap(&mut g2, &mut s2);
            }
            if rng.chance(0.05) {
                g2.clear();
            }
        }
        right.push(format!("r{i},{g2},{s2},{y2}-{m2:02}-{d2:02},{sex},{c2}\n"));
    }
    // People only the right register holds.
    for i in n..(2 * n - right.len()) {
        let (g, s, c, (y, m, d), sex) = person(&mut rng);
        right.push(format!("r{i},{g},{s},{y}-{m:02}-{d:02},{sex},{c}\n"));
    }
    for i in (1..right.len()).rev() {
        right.swap(i, rng.below(i + 1));
    }
    let mut out = std::io::BufWriter::new(std::fs::File::create(format!("{prefix}-right.csv"))?);
    out.write_all(header.as_bytes())?;
    for line in &right {
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    left.flush()?;
    truth.flush()?;
    Ok(())
}
