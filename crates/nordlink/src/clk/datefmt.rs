//! A small `strptime`: the directives `%Y %m %d %y %%`, with CPython's matching rules.

use regex::Regex;

use crate::Date;

/// A compiled date format.
#[derive(Clone, Debug)]
pub(crate) struct DateFormat(Regex);

impl DateFormat {
    /// Compiles `fmt`. Whitespace in it matches any run of whitespace; matching ignores
    /// case and must cover the whole value.
    pub(crate) fn new(fmt: &str) -> Result<Self, String> {
        let mut re = String::from(r"(?i)\A");
        let mut chars = fmt.chars();
        while let Some(c) = chars.next() {
            match c {
                '%' => match chars.next() {
                    Some('Y') => re.push_str(r"(?P<Y>[0-9]{4})"),
                    Some('y') => re.push_str(r"(?P<y>[0-9]{2})"),
                    Some('m') => re.push_str(r"(?P<m>1[0-2]|0[1-9]|[1-9])"),
                    Some('d') => re.push_str(r"(?P<d>3[01]|[12][0-9]|0[1-9]|[1-9]| [1-9])"),
                    Some('%') => re.push('%'),
                    Some(other) => {
                        return Err(format!(
                            "date directive %{other} is not supported (use %Y %m %d %y)"
                        ));
                    }
                    None => return Err("date format ends in a lone %".into()),
                },
                c if c.is_whitespace() => re.push_str(r"\s+"),
                c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
            }
        }
        re.push_str(r"\z");
        Regex::new(&re).map(Self).map_err(|_| "date format could not be compiled".to_string())
    }

    /// Parses a value; missing parts default as in CPython (year 1900, month and day 1).
    pub(crate) fn parse(&self, s: &str) -> Option<Date> {
        let (y, m, d) = self.parts(s)?;
        Date::new(y, m, d).ok()
    }

    /// The year, month (1 to 12) and day (1 to 31) of a value that matches the format,
    /// whether or not they make a calendar date (`31.02.1990` gives `(1990, 2, 31)`).
    pub(crate) fn parts(&self, s: &str) -> Option<(u16, u8, u8)> {
        let caps = self.0.captures(s)?;
        let num = |name: &str| caps.name(name).and_then(|m| m.as_str().trim().parse::<u16>().ok());
        let year = match (num("Y"), num("y")) {
            (Some(y), _) => y,
            // CPython: 69-99 are 1969-1999, 00-68 are 2000-2068.
            (None, Some(y)) if y >= 69 => 1900 + y,
            (None, Some(y)) => 2000 + y,
            (None, None) => 1900,
        };
        let part = |name: &str| u8::try_from(num(name).unwrap_or(1)).ok();
        Some((year, part("m")?, part("d")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpython_rules() {
        let f = DateFormat::new("%Y-%m-%d").unwrap();
        assert_eq!(f.parse("2024-1-5").unwrap().to_string(), "2024-01-05");
        assert!(f.parse("2024-01-05 ").is_none());
        assert!(f.parse("2023-02-29").is_none());
        let g = DateFormat::new("%d.%m.%y").unwrap();
        assert_eq!(g.parse("17.05.68").unwrap().year(), 2068);
        assert_eq!(g.parse("17.05.69").unwrap().year(), 1969);
        assert!(DateFormat::new("%H:%M").is_err());
        assert_eq!(g.parts("31.02.90"), Some((1990, 2, 31)));
        assert_eq!(g.parts("32.02.90"), None);
        assert_eq!(g.parts("30.13.90"), None);
    }
}
