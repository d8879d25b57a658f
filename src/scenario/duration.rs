//! Durations written as strings with units: "150ms", "1.5s", "-2s".
//!
//! Units: ns, us (or µs), ms, s, m (minutes), h. A number without a unit is
//! an error: "5" could mean seconds or milliseconds and guessing is worse
//! than asking. Fractions are exact to the nanosecond ("1.5ms" = 1_500_000
//! ns); anything finer is an error rather than silently rounded.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// A non-negative duration, nanosecond resolution.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub u64);

/// A duration that may be negative (clock offsets and jumps).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SignedDur(pub i64);

impl Dur {
    /// Zero length, which validation rejects where a positive duration is
    /// needed (`duration`, `timeout`).
    pub const ZERO: Dur = Dur(0);

    /// `ms` milliseconds, for building scenarios in code.
    pub fn from_millis(ms: u64) -> Dur {
        Dur(ms * 1_000_000)
    }

    /// `s` seconds, for building scenarios in code.
    pub fn from_secs(s: u64) -> Dur {
        Dur(s * 1_000_000_000)
    }

    /// The length in nanoseconds, the unit of simulated time.
    pub fn ns(self) -> u64 {
        self.0
    }
}

const UNITS: [(&str, u64); 7] = [
    ("ns", 1),
    ("us", 1_000),
    ("µs", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Parses "1.5s" into signed nanoseconds.
pub fn parse_ns(text: &str) -> Result<i64, String> {
    let expected =
        "expected a duration with a unit, like \"150ms\", \"1.5s\" or \"500us\" (units: ns, us, ms, s, m, h)";
    let t = text.trim();
    let (negative, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let split = body
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("{text:?} has no unit; {expected}"))?;
    let (number, unit) = body.split_at(split);
    let scale = UNITS
        .iter()
        .find(|(u, _)| *u == unit.trim())
        .map(|(_, s)| *s)
        .ok_or_else(|| format!("{text:?} has an unknown unit {unit:?}; {expected}"))?;
    let ns = scale_decimal(number, scale).map_err(|why| match why {
        "is not a number" => format!("{text:?} {why}; {expected}"),
        _ => format!("{text:?} {why}"),
    })?;
    let ns = i64::try_from(ns).map_err(|_| format!("{text:?} is too long (at most about 292 years)"))?;
    Ok(if negative { -ns } else { ns })
}

/// "1.25" * scale, exactly, or why not.
fn scale_decimal(number: &str, scale: u64) -> Result<u64, &'static str> {
    const TOO_LONG: &str = "is too long (at most about 292 years)";
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    let digits = |p: &str| p.chars().all(|c| c.is_ascii_digit());
    if (int_part.is_empty() && frac_part.is_empty()) || !digits(int_part) || !digits(frac_part) {
        return Err("is not a number");
    }
    let int: u64 = if int_part.is_empty() {
        0
    } else {
        int_part.parse().map_err(|_| TOO_LONG)?
    };
    let mut total = int.checked_mul(scale).ok_or(TOO_LONG)?;
    let mut place = scale;
    for digit in frac_part.bytes() {
        let d = u64::from(digit - b'0');
        if !place.is_multiple_of(10) {
            // A fraction of a nanosecond: refuse rather than round, unless it is zero.
            if d != 0 {
                return Err("is finer than a nanosecond");
            }
            continue;
        }
        place /= 10;
        total = total.checked_add(d * place).ok_or(TOO_LONG)?;
    }
    Ok(total)
}

/// Formats nanoseconds with the largest unit that keeps it exact.
pub fn format_ns(ns: i64) -> String {
    format_parts(if ns < 0 { "-" } else { "" }, ns.unsigned_abs())
}

/// [`format_ns`] of a sign and a magnitude: a [`Dur`] above `i64::MAX`
/// must not print as a negative one.
fn format_parts(sign: &str, abs: u64) -> String {
    if abs == 0 {
        return "0s".to_string();
    }
    for (unit, scale) in [("s", 1_000_000_000u64), ("ms", 1_000_000), ("us", 1_000)] {
        if abs.is_multiple_of(scale) {
            return format!("{sign}{}{unit}", abs / scale);
        }
    }
    if abs >= 1_000_000 {
        // Not exact at ms: show fractional ms, which reads best for latencies.
        return format!("{sign}{}.{:06}ms", abs / 1_000_000, abs % 1_000_000);
    }
    format!("{sign}{abs}ns")
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_parts("", self.0))
    }
}

impl fmt::Display for SignedDur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_ns(self.0))
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let ns = parse_ns(&text).map_err(serde::de::Error::custom)?;
        if ns < 0 {
            return Err(serde::de::Error::custom(format!(
                "{text:?} is negative; expected a duration of zero or more"
            )));
        }
        Ok(Dur(ns as u64))
    }
}

impl<'de> Deserialize<'de> for SignedDur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_ns(&text).map(SignedDur).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_fractions_exactly() {
        assert_eq!(parse_ns("150ms"), Ok(150_000_000));
        assert_eq!(parse_ns("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_ns("0.001ms"), Ok(1_000));
        assert_eq!(parse_ns("500us"), Ok(500_000));
        assert_eq!(parse_ns("2m"), Ok(120_000_000_000));
        assert_eq!(parse_ns("-2s"), Ok(-2_000_000_000));
        assert_eq!(parse_ns("+3ns"), Ok(3));
        assert_eq!(parse_ns(".5s"), Ok(500_000_000));
        assert_eq!(parse_ns("1.0ns"), Ok(1));
    }

    #[test]
    fn rejects_what_it_cannot_read_exactly() {
        for bad in [
            "5",
            "5 parsecs",
            "ms",
            "1.5ns",
            "1..5s",
            "",
            "-",
            "1e3ms",
            "99999999999h",
        ] {
            assert!(parse_ns(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn says_why_it_cannot_read_a_number() {
        let why = |t: &str| parse_ns(t).unwrap_err();
        assert!(why("99999999999h").contains("is too long"), "{}", why("99999999999h"));
        assert!(why("9999999h").contains("is too long"), "{}", why("9999999h"));
        assert!(why("1.5ns").contains("finer than a nanosecond"));
        assert!(why("1..5s").contains("is not a number"));
    }

    #[test]
    fn a_dur_beyond_i64_prints_positive() {
        assert_eq!(Dur(u64::MAX).to_string(), "18446744073709.551615ms");
        assert_eq!(
            Dur(u64::MAX / 1_000_000_000 * 1_000_000_000).to_string(),
            "18446744073s"
        );
    }

    #[test]
    fn formats_round_trip() {
        for ns in [
            0i64,
            1,
            999,
            1_000,
            1_500_000,
            150_000_000,
            2_000_000_000,
            -50_000_000,
            1_234_567,
        ] {
            assert_eq!(parse_ns(&format_ns(ns)), Ok(ns), "{}", format_ns(ns));
        }
        assert_eq!(format_ns(150_000_000), "150ms");
        assert_eq!(format_ns(1_500_000), "1500us");
        assert_eq!(format_ns(1_234_567), "1.234567ms");
    }
}
