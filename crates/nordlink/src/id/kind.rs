use std::fmt;

use super::Scheme;

/// The variant of a number within its scheme.
///
/// Kinds matter downstream: a D-number and a later fødselsnummer of the same person give
/// different pseudonyms, and help numbers (NO H/FH, FI temporary) identify an episode of
/// care rather than a person.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Kind {
    /// DK CPR number satisfying the modulus-11 check.
    DkCpr,
    /// DK CPR number without a valid modulus-11 check (issued since 2007; fully valid).
    DkCprNoMod11,
    /// SE personnummer.
    SePersonnummer,
    /// SE samordningsnummer (day + 60).
    SeSamordningsnummer,
    /// NO fødselsnummer, classic control digits.
    NoFnr,
    /// NO fødselsnummer under the 2032 control-digit rule (no century, no sex).
    NoFnr2032,
    /// NO D-number (day + 40).
    NoDnr,
    /// NO D-number under the 2032 control-digit rule (no century, no sex).
    NoDnr2032,
    /// NO H-number (month + 40); NAV's synthetic identities use the same marker.
    NoHnr,
    /// NO FH-number (felles hjelpenummer, first digit 8 or 9): no date, no sex.
    NoFhnr,
    /// NO synthetic Tenor fødselsnummer (month + 80).
    NoSyntheticTenorFnr,
    /// NO synthetic Tenor D-number (day + 40, month + 80).
    NoSyntheticTenorDnr,
    /// NO synthetic NAV D-number (day + 40, month + 40).
    NoSyntheticNavDnr,
    /// FI henkilötunnus with a permanent individual number (002-899).
    FiHetu,
    /// FI temporary henkilötunnus (individual number 900-999).
    FiHetuTemporary,
    /// IS kennitala of a person with a valid check digit.
    IsPerson,
    /// IS kennitala of a person without a valid check digit (issued since 2026-02-18).
    IsPersonNoCheckdigit,
    /// IS kennitala of a legal entity (day + 40): no birth date.
    IsLegalEntity,
    /// EE isikukood.
    EeIsikukood,
    /// LT asmens kodas.
    LtAsmensKodas,
    /// LT asmens kodas with an unknown birth month and/or day (`00`): no birth date.
    LtAsmensKodasUnknownDate,
    /// LT code starting with 9: no date rules, check digit only.
    LtAsmensKodas9,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 22] = [
        Self::DkCpr,
        Self::DkCprNoMod11,
        Self::SePersonnummer,
        Self::SeSamordningsnummer,
        Self::NoFnr,
        Self::NoFnr2032,
        Self::NoDnr,
        Self::NoDnr2032,
        Self::NoHnr,
        Self::NoFhnr,
        Self::NoSyntheticTenorFnr,
        Self::NoSyntheticTenorDnr,
        Self::NoSyntheticNavDnr,
        Self::FiHetu,
        Self::FiHetuTemporary,
        Self::IsPerson,
        Self::IsPersonNoCheckdigit,
        Self::IsLegalEntity,
        Self::EeIsikukood,
        Self::LtAsmensKodas,
        Self::LtAsmensKodasUnknownDate,
        Self::LtAsmensKodas9,
    ];

    /// Stable snake-case name used in reports, e.g. `cpr_no_mod11` or `dnr_2032`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::DkCpr => "cpr",
            Self::DkCprNoMod11 => "cpr_no_mod11",
            Self::SePersonnummer => "personnummer",
            Self::SeSamordningsnummer => "samordningsnummer",
            Self::NoFnr => "fnr",
            Self::NoFnr2032 => "fnr_2032",
            Self::NoDnr => "dnr",
            Self::NoDnr2032 => "dnr_2032",
            Self::NoHnr => "hnr",
            Self::NoFhnr => "fhnr",
            Self::NoSyntheticTenorFnr => "synthetic_tenor_fnr",
            Self::NoSyntheticTenorDnr => "synthetic_tenor_dnr",
            Self::NoSyntheticNavDnr => "synthetic_nav_dnr",
            Self::FiHetu => "hetu",
            Self::FiHetuTemporary => "hetu_temporary",
            Self::IsPerson => "person",
            Self::IsPersonNoCheckdigit => "person_no_checkdigit",
            Self::IsLegalEntity => "legal_entity",
            Self::EeIsikukood => "isikukood",
            Self::LtAsmensKodas => "asmens_kodas",
            Self::LtAsmensKodasUnknownDate => "asmens_kodas_unknown_date",
            Self::LtAsmensKodas9 => "asmens_kodas_9",
        }
    }

    /// The scheme this kind belongs to.
    pub const fn scheme(self) -> Scheme {
        match self {
            Self::DkCpr | Self::DkCprNoMod11 => Scheme::Dk,
            Self::SePersonnummer | Self::SeSamordningsnummer => Scheme::Se,
            Self::NoFnr
            | Self::NoFnr2032
            | Self::NoDnr
            | Self::NoDnr2032
            | Self::NoHnr
            | Self::NoFhnr
            | Self::NoSyntheticTenorFnr
            | Self::NoSyntheticTenorDnr
            | Self::NoSyntheticNavDnr => Scheme::No,
            Self::FiHetu | Self::FiHetuTemporary => Scheme::Fi,
            Self::IsPerson | Self::IsPersonNoCheckdigit | Self::IsLegalEntity => Scheme::Is,
            Self::EeIsikukood => Scheme::Ee,
            Self::LtAsmensKodas | Self::LtAsmensKodasUnknownDate | Self::LtAsmensKodas9 => {
                Scheme::Lt
            }
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
