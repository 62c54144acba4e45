//! Registers of several countries with people who moved between them, and the ground
//! truth.
//!
//! Every register holds `people` residents born in its country. A share `movers` of them
//! also appear in one other register (chosen at random among the others): under that
//! country's identifier, written as that country's clerk writes them (the corruption
//! level), with a new place. These cross-border pairs are the true links: identifiers
//! differ, so only the names, dates and places can find them. Rows are shuffled within
//! each register. Deterministic for the seed.

use crate::corrupt::{Elsewhere, Level, Record, corrupt};
use crate::ids::{newcomer_id, person_id};
use crate::names::{List, NameList};
use crate::person::{People, Person};
use crate::random::{Random, SeededRng};
use nordlink::id::Scheme;

/// Share of movers registered abroad under a newcomer's number (a Swedish
/// samordningsnummer, a Norwegian D-number, a Finnish number with a 2023 century sign)
/// rather than an ordinary one: people who work or study across the border without
/// (yet) being registered residents. A modelling choice, not a published statistic.
pub const NEWCOMER_SHARE: f64 = 0.25;

/// Most people per register.
pub const MAX_PEOPLE: usize = 10_000_000;

/// Most rows over all registers (residents and movers): the population is held in memory
/// at about 400 bytes a row (770 k rows measured at 290 MiB peak), so this bounds it near
/// 8 GiB.
pub const MAX_ROWS: usize = 20_000_000;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct Spec {
    /// Residents per register.
    pub people: usize,
    /// The registers, one per country (no repeats).
    pub registers: Vec<Scheme>,
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
    /// More people than [`MAX_PEOPLE`], or more rows than [`MAX_ROWS`].
    #[error("at most {MAX_PEOPLE} people per register and {MAX_ROWS} rows in all")]
    TooManyPeople,
    /// The generator kept failing to make a person (a country without the lists or the
    /// identifier rules it needs).
    #[error("cannot make people for a register")]
    Unsupported,
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
    // Residents plus the expected movers, with room for chance.
    let expected = spec.people as f64 * spec.registers.len() as f64 * (1.0 + spec.movers);
    if expected > MAX_ROWS as f64 {
        return Err(SpecError::TooManyPeople);
    }
    let mut rng = SeededRng::new(spec.seed);
    let generators: Vec<People> = spec
        .registers
        .iter()
        .map(|&c| People::new(c, &mut rng).ok_or(SpecError::Registers))
        .collect::<Result<_, _>>()?;
    let mut registers: Vec<Vec<Row>> = vec![Vec::new(); spec.registers.len()];
    let mut truth = Vec::new();
    for (home, people) in generators.iter().enumerate() {
        let (mut made, mut misses) = (0, 0);
        while made < spec.people {
            // A date some scheme cannot express is drawn again (none in 1930–2005); a
            // generator that never succeeds must not loop for ever.
            let Some(person) = people.next(&mut rng) else {
                misses += 1;
                if misses > 1_000 {
                    return Err(SpecError::Unsupported);
                }
                continue;
            };
            made += 1;
            let row = Row { id: person.national_id.clone(), record: record(&person) };
            registers[home].push(row);
            if !rng.chance(spec.movers) {
                continue;
            }
            let others = spec.registers.len() - 1;
            let pick = rng.index(others);
            let abroad = if pick >= home { pick + 1 } else { pick };
            let country = spec.registers[abroad];
            let issue = if rng.chance(NEWCOMER_SHARE) { newcomer_id } else { person_id };
            let Some(abroad_id) = issue(country, person.born, person.sex, &mut rng) else {
                continue;
            };
            let new_place =
                NameList::get(country, List::Places).map(|p| p.pick(rng.unit())).unwrap_or("");
            let spouse =
                NameList::get(country, List::Surnames).map(|p| p.pick(rng.unit())).unwrap_or("");
            let mut moved = record(&person);
            // Always a new place: they moved. So `corrupt` gets no other place (its own
            // replacement would only undo a transliteration of this one).
            moved.place = new_place.to_owned();
            let elsewhere = Elsewhere { place: "", surname: spouse };
            corrupt(&mut moved, spec.corruption, elsewhere, &mut rng);
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
        rng.shuffle(rows);
    }
    Ok(Population { registers, truth })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        Spec {
            people: 2_000,
            registers: vec![Scheme::Se, Scheme::No, Scheme::Lt],
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
                let scheme = spec().registers[register];
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
            bad(Spec { registers: vec![Scheme::Dk, Scheme::Dk], ..spec() }),
            SpecError::Registers
        );
        assert_eq!(bad(Spec { movers: 1.5, ..spec() }), SpecError::Movers);
        assert_eq!(bad(Spec { registers: vec![Scheme::Dk], ..spec() }), SpecError::NowhereToMove);
        assert!(generate(&Spec { registers: vec![Scheme::Dk], movers: 0.0, ..spec() }).is_ok());
    }
}
