//! A minimal proleptic Gregorian calendar date.
//!
//! The core crate needs only validation, formatting as `YYYY-MM-DD` and "today", so it
//! carries this small type instead of a calendar dependency.

use std::fmt;
use std::str::FromStr;

/// A calendar date in the proleptic Gregorian calendar, years 1..=9999.
///
/// Only valid dates can be constructed.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

/// The reason a date could not be built or parsed.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DateError {
    /// The text is not of the form `YYYY-MM-DD`.
    #[error("date is not of the form YYYY-MM-DD")]
    Format,
    /// Year, month or day out of range (including 29 February in a common year).
    #[error("no such calendar date")]
    OutOfRange,
}

/// Whether `year` is a Gregorian leap year.
pub(crate) const fn is_leap_year(year: u16) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Days in `month` of `year`, or 0 for a month outside 1..=12.
pub(crate) const fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// Builds a date, checking that it exists.
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] if the year is outside 1..=9999 or the day does not exist
    /// in that month.
    ///
    /// # Example
    /// ```
    /// use nordlink::Date;
    /// assert!(Date::new(2000, 2, 29).is_ok());
    /// assert!(Date::new(1900, 2, 29).is_err());
    /// ```
    pub const fn new(year: u16, month: u8, day: u8) -> Result<Self, DateError> {
        if year == 0 || year > 9999 || day == 0 || day > days_in_month(year, month) {
            return Err(DateError::OutOfRange);
        }
        Ok(Self { year, month, day })
    }

    /// The year.
    pub const fn year(self) -> u16 {
        self.year
    }

    /// The month, 1..=12.
    pub const fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, 1..=31.
    pub const fn day(self) -> u8 {
        self.day
    }

    /// Today's date in UTC, from the system clock.
    ///
    /// A clock before 1970 (a misconfigured machine) gives 1970-01-01.
    pub fn today_utc() -> Self {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self::from_unix_days(secs / 86_400)
    }

    /// The date `days` days after 1970-01-01 (saturating at 9999-12-31).
    pub fn from_unix_days(days: u64) -> Self {
        // Walk years, then months: simple and exact, and this runs once per process.
        let mut days = days;
        let mut year: u16 = 1970;
        while year < 9999 {
            let len = if is_leap_year(year) { 366 } else { 365 };
            if days < len {
                break;
            }
            days -= len;
            year += 1;
        }
        let mut month = 1u8;
        while month < 12 && days >= u64::from(days_in_month(year, month)) {
            days -= u64::from(days_in_month(year, month));
            month += 1;
        }
        let last = days_in_month(year, month);
        let day = u8::try_from(days + 1).map_or(last, |d| d.min(last));
        Self { year, month, day }
    }
}

impl Date {
    /// Days since 1970-01-01 (negative before), as Arrow's `Date32` counts them.
    pub fn to_unix_days(self) -> i32 {
        // Days from 0001-01-01 to 1 January of `y`.
        let before_year = |y: i32| {
            let p = y - 1;
            365 * p + p / 4 - p / 100 + p / 400
        };
        let year = i32::from(self.year);
        let before_month: i32 =
            (1..self.month).map(|m| i32::from(days_in_month(self.year, m))).sum();
        before_year(year) - before_year(1970) + before_month + i32::from(self.day) - 1
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = DateError;

    /// Parses exactly `YYYY-MM-DD` (ISO 8601 calendar date, four-digit year).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(DateError::Format);
        }
        let num = |r: std::ops::Range<usize>| -> Result<u16, DateError> {
            b[r].iter().try_fold(0u16, |acc, &c| {
                if c.is_ascii_digit() {
                    Ok(acc * 10 + u16::from(c - b'0'))
                } else {
                    Err(DateError::Format)
                }
            })
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let part = |v: u16| u8::try_from(v).map_err(|_| DateError::OutOfRange);
        Self::new(y, part(m)?, part(d)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leap_years_follow_gregorian_rules() {
        assert!(is_leap_year(2000));
        assert!(!is_leap_year(1900));
        assert!(is_leap_year(2024));
        assert!(!is_leap_year(2023));
    }

    #[test]
    fn unix_days_known_answers() {
        // 2000-03-01 is day 11 017; 2026-11-22 is day 20 779 (both via `date -d ... +%s`).
        assert_eq!(Date::from_unix_days(0).to_string(), "1970-01-01");
        assert_eq!(Date::from_unix_days(11_017).to_string(), "2000-03-01");
        assert_eq!(Date::from_unix_days(20_779).to_string(), "2026-11-22");
        for days in [0, 59, 60, 11_017, 20_779, 2_932_896] {
            assert_eq!(Date::from_unix_days(days).to_unix_days(), days as i32);
        }
        // 1900-01-01 is 25 567 days before the epoch.
        assert_eq!(Date::new(1900, 1, 1).unwrap().to_unix_days(), -25_567);
    }

    #[test]
    fn parse_round_trips_and_rejects_nonsense() {
        let d: Date = "1988-02-29".parse().unwrap();
        assert_eq!(d.to_string(), "1988-02-29");
        assert_eq!("1989-02-29".parse::<Date>(), Err(DateError::OutOfRange));
        assert_eq!("1989-2-28".parse::<Date>(), Err(DateError::Format));
        assert_eq!("1989/02/28".parse::<Date>(), Err(DateError::Format));
        assert_eq!("198a-02-28".parse::<Date>(), Err(DateError::Format));
    }
}
