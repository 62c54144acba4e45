//! Synthetic people as a register holds them: names, sex, birth date, place and a valid
//! national identifier.
//!
//! Choices (also in docs/synth.md):
//! * Names where the list has real frequencies (Sweden, Finland) are drawn by them; where
//!   it has none, by a rank-frequency law close to Zipf's (rank `r` of `n` drawn as
//!   `n^u − 1`), over the list in a per-country shuffled order, because a register's
//!   names are skewed: a few very common, a long tail.
//! * Second given names: 30 % of people (Iceland and the Baltic countries 10 %).
//! * Icelanders carry a patronymic from a father's given name (Jón → Jónsson,
//!   Jónsdóttir; Helgi → Helgason; Guðmundur → Guðmundsson), and 5 % a middle name.
//!   Lithuanian women carry the feminine form of the surname, married (Kazlauskas →
//!   Kazlauskienė, Stankevičius → Stankevičienė, Jankus → Jankuvienė) or maiden
//!   (Kazlauskaitė, Stankevičiūtė, Jankutė), each with probability 1/2.
//! * Birth dates uniform over 1930-01-01..2005-12-31; sex 1:1.
//! * Places from the country's list: by population where the list has weights (NO, IS,
//!   EE, LT), else by the same rank-frequency law.

use nordlink::Date;
use nordlink::id::Sex;

use crate::ids::person_id;
use crate::names::{List, NameList};
use crate::random::Random;
use nordlink::id::Scheme;

/// One synthetic person, as registered in one country.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    /// The country of the register.
    pub country: Scheme,
    /// A valid personal identifier of that country.
    pub national_id: String,
    /// Given names, first name first (one or two).
    pub given: Vec<String>,
    /// Surname (in Iceland, the patronymic, after any middle name).
    pub surname: String,
    /// Sex.
    pub sex: Sex,
    /// Birth date.
    pub born: Date,
    /// Town or municipality, where the country's list has places.
    pub place: Option<String>,
}

/// Draws people for one country.
pub struct People {
    country: Scheme,
    given_female: &'static NameList,
    given_male: &'static NameList,
    surnames: Option<&'static NameList>,
    places: Option<&'static NameList>,
    middle: Option<&'static NameList>,
    /// Per list, a shuffled order of ranks for lists without frequencies.
    order: [Vec<usize>; 5],
}

impl People {
    /// A generator for `country`; `None` only if a shipped list were missing.
    pub fn new(country: Scheme, rng: &mut impl Random) -> Option<Self> {
        let get = |list| NameList::get(country, list);
        let lists = [
            get(List::GivenFemale),
            get(List::GivenMale),
            get(List::Surnames),
            get(List::Places),
            get(List::MiddleNames),
        ];
        let order = lists.map(|l| l.map_or_else(Vec::new, |l| shuffled(l.len(), rng)));
        Some(Self {
            country,
            given_female: lists[0]?,
            given_male: lists[1]?,
            surnames: lists[2],
            places: lists[3],
            middle: lists[4],
            order,
        })
    }

    /// The next person; `None` if no identifier could be made for the drawn date (it
    /// cannot happen for the 1930–2005 range in any of the seven schemes).
    pub fn next(&self, rng: &mut impl Random) -> Option<Person> {
        let sex = if rng.below(2) == 0 { Sex::Female } else { Sex::Male };
        let born = birth_date(rng);
        let given_list = if sex == Sex::Female { self.given_female } else { self.given_male };
        let order = &self.order[usize::from(sex == Sex::Male)];
        let first = pick(given_list, order, rng);
        let mut given = vec![first.to_owned()];
        let second_rate = match self.country {
            Scheme::Is | Scheme::Ee | Scheme::Lt => 10,
            _ => 30,
        };
        if rng.below(100) < second_rate {
            let second = pick(given_list, order, rng);
            if second != first {
                given.push(second.to_owned());
            }
        }
        let surname = match self.country {
            Scheme::Is => {
                let father = pick(self.given_male, &self.order[1], rng);
                let patronymic = patronymic(father, sex);
                match self.middle {
                    Some(m) if rng.below(100) < 5 => {
                        format!("{} {patronymic}", pick(m, &self.order[4], rng))
                    }
                    _ => patronymic,
                }
            }
            _ => {
                let list = self.surnames?;
                let name = pick(list, &self.order[2], rng);
                if self.country == Scheme::Lt && sex == Sex::Female {
                    lithuanian_feminine(name, rng.below(2) == 0)
                } else {
                    name.to_owned()
                }
            }
        };
        let place = self.places.map(|p| pick(p, &self.order[3], rng).to_owned());
        let national_id = person_id(self.country, born, sex, rng)?;
        Some(Person { country: self.country, national_id, given, surname, sex, born, place })
    }
}

/// A permutation of `0..n`.
fn shuffled(n: usize, rng: &mut impl Random) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut v);
    v
}

/// A name from `list`: by its frequencies when it has them, else by rank-frequency law
/// over `order`.
fn pick(list: &'static NameList, order: &[usize], rng: &mut impl Random) -> &'static str {
    let u = rng.unit();
    if list.has_frequencies() {
        return list.pick(u);
    }
    let n = list.len();
    // n^u − 1 is in 0..n: rank 0 about as often as all ranks from n/2 up together.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let rank = ((n as f64).powf(u) as usize).saturating_sub(1).min(n.saturating_sub(1));
    order.get(rank).and_then(|&i| list.names().get(i)).copied().unwrap_or("")
}

fn birth_date(rng: &mut impl Random) -> Date {
    // Uniform over 1930-01-01..2005-12-31 by rejection: impossible dates are drawn again.
    loop {
        let year = 1930 + u16::try_from(rng.below(76)).unwrap_or(0);
        let month = 1 + u8::try_from(rng.below(12)).unwrap_or(0);
        let day = 1 + u8::try_from(rng.below(31)).unwrap_or(0);
        if let Ok(d) = Date::new(year, month, day) {
            return d;
        }
    }
}

/// An Icelandic patronymic from the father's given name.
fn patronymic(father: &str, sex: Sex) -> String {
    let stem = if let Some(s) = father.strip_suffix("ur") {
        format!("{s}s")
    } else if let Some(s) = father.strip_suffix('i') {
        format!("{s}a")
    } else if father.ends_with('s') {
        father.to_owned()
    } else {
        format!("{father}s")
    };
    let ending = if sex == Sex::Female { "dóttir" } else { "son" };
    format!("{stem}{ending}")
}

/// The feminine form of a Lithuanian surname: married (-ienė, -uvienė) or maiden (-aitė,
/// -iūtė, -utė, -ytė).
fn lithuanian_feminine(surname: &str, married: bool) -> String {
    // (masculine ending, married ending, maiden ending); -ius before -us.
    let forms = [
        ("as", "ienė", "aitė"),
        ("ius", "ienė", "iūtė"),
        ("us", "uvienė", "utė"),
        ("ys", "ienė", "ytė"),
        ("is", "ienė", "ytė"),
    ];
    for (masculine, wife, maiden) in forms {
        if let Some(stem) = surname.strip_suffix(masculine) {
            return format!("{stem}{}", if married { wife } else { maiden });
        }
    }
    surname.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRng;

    #[test]
    fn icelandic_patronymics_and_lithuanian_feminine_surnames() {
        assert_eq!(patronymic("Jón", Sex::Male), "Jónsson");
        assert_eq!(patronymic("Jón", Sex::Female), "Jónsdóttir");
        assert_eq!(patronymic("Helgi", Sex::Male), "Helgason");
        assert_eq!(patronymic("Guðmundur", Sex::Female), "Guðmundsdóttir");
        assert_eq!(patronymic("Magnús", Sex::Male), "Magnússon");
        assert_eq!(lithuanian_feminine("Kazlauskas", true), "Kazlauskienė");
        assert_eq!(lithuanian_feminine("Kazlauskas", false), "Kazlauskaitė");
        assert_eq!(lithuanian_feminine("Stankevičius", false), "Stankevičiūtė");
        assert_eq!(lithuanian_feminine("Pocius", true), "Pocienė");
        assert_eq!(lithuanian_feminine("Jankus", true), "Jankuvienė");
        assert_eq!(lithuanian_feminine("Kairys", false), "Kairytė");
    }

    #[test]
    fn people_are_valid_deterministic_and_skewed() {
        for country in Scheme::ALL {
            let make = || {
                let mut rng = SeededRng::new(42);
                let people = People::new(country, &mut rng).unwrap();
                (0..3000).map(|_| people.next(&mut rng).unwrap()).collect::<Vec<_>>()
            };
            let a = make();
            assert_eq!(a, make(), "{country:?}: same seed, same people");
            let mut counts = std::collections::HashMap::new();
            for p in &a {
                let id = nordlink::id::parse(country, &p.national_id)
                    .unwrap_or_else(|e| panic!("{country:?}: {e}"));
                assert_eq!(id.birth_date(), Some(p.born));
                assert!(!p.surname.is_empty() && !p.given[0].is_empty());
                assert!((1930..=2005).contains(&p.born.year()));
                *counts.entry(p.given[0].as_str()).or_insert(0usize) += 1;
            }
            // Skewed: the commonest first name is far above the average one.
            let most = counts.values().copied().max().unwrap_or(0);
            let mean = a.len() / counts.len();
            assert!(most > 4 * mean, "{country:?}: most {most}, mean {mean}");
            assert!(a.iter().all(|p| p.place.is_some()), "{country:?}");
        }
    }
}
