//! Arbitrary-length unsigned numbers for version segments.
//!
//! Tags carry numbers of any length (`20230719`, dates, build counters with 25 digits). They are
//! compared numerically, ignoring leading zeros, without ever overflowing.

use std::cmp::Ordering;
use std::fmt;

/// A non-negative integer of any length, normalised so that equal values are equal structurally.
///
/// Values that fit in a `u64` are kept inline (the common, fast case); longer ones keep their digits
/// with leading zeros removed, so they compare by length first and then digit by digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Num {
    /// A value that fits in 64 bits.
    Small(u64),
    /// A value larger than `u64::MAX`: its decimal digits, without leading zeros.
    Big(Box<str>),
}

impl Num {
    /// Builds a number from a run of ASCII digits. The caller guarantees `digits` is non-empty and
    /// holds only `0-9`.
    pub fn from_digits(digits: &str) -> Num {
        let trimmed = digits.trim_start_matches('0');
        if trimmed.is_empty() {
            return Num::Small(0);
        }
        match trimmed.parse::<u64>() {
            Ok(v) => Num::Small(v),
            Err(_) => Num::Big(trimmed.into()),
        }
    }

    /// True for the value zero, which pads missing segments (`1.0` equals `1.0.0`).
    pub fn is_zero(&self) -> bool {
        matches!(self, Num::Small(0))
    }

    /// The value as a `u64`, when it fits.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Num::Small(v) => Some(*v),
            Num::Big(_) => None,
        }
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Num::Small(a), Num::Small(b)) => a.cmp(b),
            (Num::Small(_), Num::Big(_)) => Ordering::Less,
            (Num::Big(_), Num::Small(_)) => Ordering::Greater,
            (Num::Big(a), Num::Big(b)) => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
        }
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Num::Small(v) => write!(f, "{v}"),
            Num::Big(s) => f.write_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zeros_are_ignored() {
        assert_eq!(Num::from_digits("007"), Num::from_digits("7"));
        assert_eq!(Num::from_digits("000"), Num::Small(0));
        assert!(Num::from_digits("0").is_zero());
    }

    #[test]
    fn numbers_longer_than_u64_compare_numerically() {
        let max = Num::from_digits("18446744073709551615");
        let over = Num::from_digits("18446744073709551616");
        let much_more = Num::from_digits("0000123456789012345678901234567890");
        assert_eq!(max, Num::Small(u64::MAX));
        assert!(matches!(over, Num::Big(_)));
        assert!(max < over);
        assert!(over < much_more);
        assert_eq!(
            Num::from_digits("000123456789012345678901234567890"),
            much_more
        );
        assert_eq!(over.to_string(), "18446744073709551616");
        assert_eq!(over.as_u64(), None);
    }
}
