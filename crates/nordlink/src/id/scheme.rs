use std::fmt;
use std::str::FromStr;

/// A national identifier scheme, named by its ISO 3166-1 alpha-2 country code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Scheme {
    /// Denmark: CPR-nummer.
    Dk,
    /// Sweden: personnummer and samordningsnummer.
    Se,
    /// Norway: fødselsnummer, D-, H-, FH- and synthetic numbers.
    No,
    /// Finland: henkilötunnus (HETU).
    Fi,
    /// Iceland: kennitala.
    Is,
    /// Estonia: isikukood.
    Ee,
    /// Lithuania: asmens kodas.
    Lt,
}

impl Scheme {
    /// Every scheme, in a fixed order.
    pub const ALL: [Self; 7] =
        [Self::Dk, Self::Se, Self::No, Self::Fi, Self::Is, Self::Ee, Self::Lt];

    /// Digits of the compact form when a number is stored as an integer (leading zeros
    /// lost): the width to zero-pad back to. `None` for Finland, whose numbers hold a
    /// century sign and so are never integers.
    pub const fn integer_width(self) -> Option<usize> {
        match self {
            Self::Dk | Self::Se | Self::Is => Some(10),
            Self::No | Self::Ee | Self::Lt => Some(11),
            Self::Fi => None,
        }
    }

    /// Lower-case country code: `dk`, `se`, `no`, `fi`, `is`, `ee`, `lt`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Dk => "dk",
            Self::Se => "se",
            Self::No => "no",
            Self::Fi => "fi",
            Self::Is => "is",
            Self::Ee => "ee",
            Self::Lt => "lt",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The name given is not one of the scheme codes.
#[derive(Clone, Copy, PartialEq, Eq, Debug, thiserror::Error)]
#[error("unknown identifier scheme (expected one of dk, se, no, fi, is, ee, lt)")]
pub struct UnknownScheme;

impl FromStr for Scheme {
    type Err = UnknownScheme;

    /// Accepts the country code in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|c| c.code().eq_ignore_ascii_case(s)).ok_or(UnknownScheme)
    }
}
