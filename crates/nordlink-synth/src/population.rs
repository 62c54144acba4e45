//! Registers of several countries with people who moved between them, and the ground
//! truth.
//!
//! Every register holds `people` residents born in its country. A share `movers` of them
//! also appear in one other register (chosen at random among the others): under that
//! country's identifier, written as that country's clerk writes them (the corruption
//! level), with a new place. These cross-border pairs are the true links: identifiers
//! differ, so only the names, dates and places can find them. Rows are shuffled within
//! each register. Deterministic for the seed.

use crate::corrupt::{Level, Record, corrupt};
use crate::ids::{Random, person_id};
use crate::names::{Country, List, NameList};
use crate::person::{People, Person};

/// Most people per register: bounds memory (about 100 bytes a row).
pub const MAX_PEOPLE: usize = 10_000_000;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Residents per register.
    pub people: usize,
    /// The registers, one per country (no repeats).
    pub registers: Vec<Country>,
    /// Share of each register's residents also registered in another country, 0..=1.
    pub movers: f64,
    /// How the second registration differs from the first.
    pub corruption: Level,
    /// The seed: the same spec and seed give the same registers.
    pub seed: u64,
}

/// One register row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The national identifier (the register's key).
    pub id: String,
    /// The fields as written.
    pub record: Record,
}

/// One true link: the same person in two registers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Index of the register the person was born in (in [`Spec::registers`]).
    pub home: usize,
    /// Their identifier there.
    pub home_id: String,
    /// Index of the register they moved to.
    pub abroad: usize,
    /// Their identifier there.
    pub abroad_id: String,
}

/// The generated registers and the true links between them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Population {
    /// One list of rows per register, in [`Spec::registers`] order.
    pub registers: Vec<Vec<Row>>,
    /// Every mover's two registrations.
    pub truth: Vec<Link>,
}

/// Why a spec cannot be generated.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// More people than [`MAX_PEOPLE`].
    #[error("at most {MAX_PEOPLE} people per register")]
    TooManyPeople,
    /// No register, or a country twice.
    #[error("give each country at most once, and at least one")]
    Registers,
    /// A movers share outside 0..=1.
    #[error("the share of movers must be between 0 and 1")]
    Movers,
    /// Movers need a second register to move to.
    #[error("movers need at least two registers")]
    NowhereToMove,
}

/// xorshift64* seeded through splitmix64: reproducible across platforms, fast, no
/// secrecy needed.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Self((z ^ (z >> 31)) | 1)
    }
}

impl Random for Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn record(p: &Person) -> Record {
    Record {
        given: p.given.join(" "),
        surname: p.surname.clone(),
        born: p.born.to_string(),
        sex: p.sex.as_str().to_owned(),
        place: p.place.clone().unwrap_or_default(),
    }
}

/// Generates the registers of `spec`.
///
/// # Errors
/// [`SpecError`] for a spec out of bounds.
pub fn generate(spec: &Spec) -> Result<Population, SpecError> {
    if spec.people > MAX_PEOPLE {
        return Err(SpecError::TooManyPeople);
    }
    let mut seen = std::collections::HashSet::new();
    if spec.registers.is_empty() || !spec.registers.iter().all(|c| seen.insert(*c)) {
        return Err(SpecError::Registers);
    }
    if !(0.0..=1.0).contains(&spec.movers) {
        return Err(SpecError::Movers);
    }
    if spec.movers > 0.0 && spec.registers.len() < 2 {
        return Err(SpecError::NowhereToMove);
    }
    let mut rng = Rng::new(spec.seed);
    let generators: Vec<People> = spec
        .registers
        .iter()
        .map(|&c| People::new(c, &mut rng).ok_or(SpecError::Registers))
        .collect::<Result<_, _>>()?;
    let mut registers: Vec<Vec<Row>> = vec![Vec::new(); spec.registers.len()];
    let mut truth = Vec::new();
    for (home, people) in generators.iter().enumerate() {
        let mut made = 0;
        while made < spec.people {
            // A date some scheme cannot express is drawn again (none in 1930–2005).
            let Some(person) = people.next(&mut rng) else { continue };
            made += 1;
            let row = Row { id: person.national_id.clone(), record: record(&person) };
            registers[home].push(row);
            let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            if unit >= spec.movers {
                continue;
            }
            let others = spec.registers.len() - 1;
            let pick = usize::try_from(rng.below(others as u64)).unwrap_or(0);
            let abroad = if pick >= home { pick + 1 } else { pick };
            let country = spec.registers[abroad];
            let Some(abroad_id) = person_id(country, person.born, person.sex, &mut rng) else {
                continue;
            };
            let new_place = NameList::get(country, List::Places)
                .map(|p| p.pick((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64))
                .unwrap_or("");
            let mut moved = record(&person);
            // Always a new place: they moved.
            moved.place = new_place.to_owned();
            corrupt(&mut moved, spec.corruption, new_place, &mut rng);
            truth.push(Link {
                home,
                home_id: person.national_id.clone(),
                abroad,
                abroad_id: abroad_id.clone(),
            });
            registers[abroad].push(Row { id: abroad_id, record: moved });
        }
    }
    for rows in &mut registers {
        for i in (1..rows.len()).rev() {
            let j = usize::try_from(rng.below(i as u64 + 1)).unwrap_or(0);
            rows.swap(i, j);
        }
    }
    Ok(Population { registers, truth })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec {
            people: 2_000,
            registers: vec![Country::Se, Country::No, Country::Lt],
            movers: 0.1,
            corruption: Level::Default,
            seed: 7,
        }
    }

    #[test]
    fn movers_appear_in_two_registers_under_valid_identifiers() {
        let pop = generate(&spec()).unwrap();
        assert_eq!(pop, generate(&spec()).unwrap(), "deterministic for a seed");
        let residents = 3 * 2_000;
        let total: usize = pop.registers.iter().map(Vec::len).sum();
        assert_eq!(total, residents + pop.truth.len());
        // About 10 % move.
        assert!((450..=750).contains(&pop.truth.len()), "{}", pop.truth.len());
        for link in &pop.truth {
            assert_ne!(link.home, link.abroad);
            for (register, id) in [(link.home, &link.home_id), (link.abroad, &link.abroad_id)] {
                let scheme = crate::ids::scheme(spec().registers[register]);
                assert!(nordlink::id::parse(scheme, id).is_ok());
                assert!(pop.registers[register].iter().any(|r| &r.id == id));
            }
        }
        // Another seed, other people.
        let other = generate(&Spec { seed: 8, ..spec() }).unwrap();
        assert_ne!(other.registers[0][0], pop.registers[0][0]);
    }

    #[test]
    fn specs_out_of_bounds_are_refused() {
        let bad = |s: Spec| generate(&s).unwrap_err();
        assert_eq!(bad(Spec { people: MAX_PEOPLE + 1, ..spec() }), SpecError::TooManyPeople);
        assert_eq!(bad(Spec { registers: vec![], ..spec() }), SpecError::Registers);
        assert_eq!(
            bad(Spec { registers: vec![Country::Dk, Country::Dk], ..spec() }),
            SpecError::Registers
        );
        assert_eq!(bad(Spec { movers: 1.5, ..spec() }), SpecError::Movers);
        assert_eq!(bad(Spec { registers: vec![Country::Dk], ..spec() }), SpecError::NowhereToMove);
        assert!(generate(&Spec { registers: vec![Country::Dk], movers: 0.0, ..spec() }).is_ok());
    }
}
