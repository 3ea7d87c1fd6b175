//! Exact money: integer minor units, ISO 4217 exponents, basis points, and half-to-even
//! rounding. No floating point anywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Errors from parsing or computing money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("unknown or unsupported currency `{0}`")]
    UnknownCurrency(String),
    #[error("`{0}` is not a decimal number")]
    NotANumber(String),
    #[error("`{value}` has more decimals than {currency} allows ({exponent})")]
    TooPrecise { value: String, currency: String, exponent: u32 },
    #[error("amount `{0}` is out of range")]
    OutOfRange(String),
    #[error("amount must be positive")]
    NotPositive,
}

/// An ISO 4217 currency code with its minor-unit exponent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Currency {
    code: [u8; 3],
    exponent: u32,
}

/// Currencies we accept, with their ISO 4217 exponent.
const CURRENCIES: &[(&str, u32)] = &[
    ("AUD", 2),
    ("BGN", 2),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JPY", 0),
    ("KRW", 0),
    ("MXN", 2),
    ("MYR", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PHP", 2),
    ("PLN", 2),
    ("RON", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TRY", 2),
    ("USD", 2),
    ("ZAR", 2),
    ("AED", 2),
    ("BHD", 3),
    ("KWD", 3),
    ("OMR", 3),
];

impl Currency {
    /// Parses a currency code (case-insensitive) into a known currency.
    pub fn parse(code: &str) -> Result<Currency, MoneyError> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _)| *c == upper)
            .map(|(c, e)| {
                let b = c.as_bytes();
                Currency { code: [b[0], b[1], b[2]], exponent: *e }
            })
            .ok_or_else(|| MoneyError::UnknownCurrency(code.to_string()))
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).expect("currency codes are ASCII")
    }

    /// Number of decimals of the minor unit (2 for GBP, 0 for JPY).
    pub fn exponent(&self) -> u32 {
        self.exponent
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A ratio in basis points (1 bp = 0.01 %; 10 000 bps = 100 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Bps(pub u32);

impl Bps {
    pub const FULL: Bps = Bps(10_000);

    /// Parses a percentage such as `50`, `12.5` or `15.25` into basis points.
    /// More than two decimals, negatives or more than 100 % are refused.
    pub fn from_percent_str(s: &str) -> Result<Bps, MoneyError> {
        let v = parse_decimal(s, 2)?;
        if !(0..=10_000).contains(&v) {
            return Err(MoneyError::OutOfRange(s.to_string()));
        }
        Ok(Bps(v as u32))
    }

    /// The percentage as a decimal string with up to two decimals (`50.0`, `12.5`).
    pub fn percent_string(&self) -> String {
        let whole = self.0 / 100;
        let frac = self.0 % 100;
        if frac == 0 {
            format!("{whole}.0")
        } else if frac % 10 == 0 {
            format!("{whole}.{}", frac / 10)
        } else {
            format!("{whole}.{frac:02}")
        }
    }
}

/// Multiplies `amount_minor` by `bps / 10 000`, rounding half to even.
/// Returns `None` on overflow.
pub fn apply_bps(amount_minor: i64, bps: Bps) -> Option<i64> {
    let product = (amount_minor as i128).checked_mul(bps.0 as i128)?;
    let q = product.div_euclid(10_000);
    let r = product.rem_euclid(10_000);
    let rounded = match r.cmp(&5_000) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => {
            if q % 2 == 0 {
                q
            } else {
                q + 1
            }
        }
    };
    i64::try_from(rounded).ok()
}

/// Parses a decimal string into an integer scaled by `10^exponent`, exactly.
/// Refuses exponents (`1e3`), more decimals than allowed, and out-of-range values.
pub fn parse_decimal(s: &str, exponent: u32) -> Result<i64, MoneyError> {
    let t = s.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body, ""),
    };
    let digits_ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if int_part.is_empty() || !digits_ok(int_part) || !digits_ok(frac_part) || (body.contains('.') && frac_part.is_empty()) {
        return Err(MoneyError::NotANumber(s.to_string()));
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > exponent as usize {
        return Err(MoneyError::TooPrecise { value: s.to_string(), currency: String::new(), exponent });
    }
    let mut scaled: i64 = 0;
    for b in int_part.bytes() {
        scaled =
            scaled.checked_mul(10).and_then(|v| v.checked_add((b - b'0') as i64)).ok_or_else(|| MoneyError::OutOfRange(s.to_string()))?;
    }
    for i in 0..exponent as usize {
        let d = frac_trimmed.as_bytes().get(i).map(|b| (b - b'0') as i64).unwrap_or(0);
        scaled = scaled.checked_mul(10).and_then(|v| v.checked_add(d)).ok_or_else(|| MoneyError::OutOfRange(s.to_string()))?;
    }
    Ok(if neg { -scaled } else { scaled })
}

/// Parses an amount in `currency` into minor units; it must be positive.
pub fn parse_amount(s: &str, currency: Currency) -> Result<i64, MoneyError> {
    let v = parse_decimal(s, currency.exponent()).map_err(|e| match e {
        MoneyError::TooPrecise { value, exponent, .. } => MoneyError::TooPrecise { value, currency: currency.code().to_string(), exponent },
        other => other,
    })?;
    if v <= 0 {
        return Err(MoneyError::NotPositive);
    }
    Ok(v)
}

/// Formats minor units as a plain decimal string (`3000` GBP → `30.00`).
pub fn format_minor(amount_minor: i64, exponent: u32) -> String {
    if exponent == 0 {
        return amount_minor.to_string();
    }
    let scale = 10i64.pow(exponent);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    format!("{sign}{}.{:0width$}", abs / scale as u64, abs % scale as u64, width = exponent as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_to_even_rounding() {
        assert_eq!(apply_bps(5, Bps(5_000)), Some(2)); // 2.5 -> 2
        assert_eq!(apply_bps(7, Bps(5_000)), Some(4)); // 3.5 -> 4
        assert_eq!(apply_bps(1, Bps(4_999)), Some(0));
        assert_eq!(apply_bps(1, Bps(5_001)), Some(1));
        assert_eq!(apply_bps(-5, Bps(5_000)), Some(-2));
    }

    #[test]
    fn parses_decimals_exactly() {
        let gbp = Currency::parse("gbp").unwrap();
        assert_eq!(parse_amount("1000", gbp), Ok(100_000));
        assert_eq!(parse_amount("1000.10", gbp), Ok(100_010));
        assert_eq!(parse_amount("0.1", gbp), Ok(10));
        assert!(matches!(parse_amount("0.001", gbp), Err(MoneyError::TooPrecise { .. })));
        assert_eq!(parse_amount("12.50", gbp), Ok(1250));
        assert!(parse_amount("1e3", gbp).is_err());
        assert!(parse_amount("-1", gbp).is_err());
        assert!(parse_amount("0", gbp).is_err());
        assert!(parse_amount("99999999999999999999", gbp).is_err());
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(parse_amount("1500", jpy), Ok(1500));
        assert!(parse_amount("1500.5", jpy).is_err());
    }

    #[test]
    fn formats_minor_units() {
        assert_eq!(format_minor(3000, 2), "30.00");
        assert_eq!(format_minor(5, 2), "0.05");
        assert_eq!(format_minor(-105, 2), "-1.05");
        assert_eq!(format_minor(1500, 0), "1500");
    }

    #[test]
    fn percent_round_trip() {
        assert_eq!(Bps::from_percent_str("50").unwrap(), Bps(5000));
        assert_eq!(Bps::from_percent_str("12.5").unwrap().percent_string(), "12.5");
        assert_eq!(Bps::from_percent_str("15.25").unwrap(), Bps(1525));
        assert!(Bps::from_percent_str("100.01").is_err());
        assert!(Bps::from_percent_str("1.234").is_err());
        assert_eq!(Bps(5000).percent_string(), "50.0");
    }
}

/// Scale of stored exchange rates: a rate is an integer number of 10^-8 units.
pub const RATE_SCALE: i128 = 100_000_000;

/// Converts `amount_minor` (with `from_exponent` decimals) at `rate_e8` target units per
/// source unit into target minor units (`to_exponent` decimals), rounding half to even.
pub fn convert_minor(amount_minor: i64, from_exponent: u32, rate_e8: i64, to_exponent: u32) -> Option<i64> {
    let num = (amount_minor as i128).checked_mul(rate_e8 as i128)?.checked_mul(10i128.pow(to_exponent))?;
    let den = 10i128.pow(from_exponent) * RATE_SCALE;
    let q = num.div_euclid(den);
    let r = num.rem_euclid(den);
    let rounded = match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    };
    i64::try_from(rounded).ok()
}

#[cfg(test)]
mod convert_tests {
    use super::*;

    #[test]
    fn converts_exactly() {
        // GBP 30.00 at 1.25 USD/GBP = USD 37.50
        assert_eq!(convert_minor(3000, 2, 125_000_000, 2), Some(3750));
        // JPY 1000 at 0.0067 USD/JPY = USD 6.70
        assert_eq!(convert_minor(1000, 0, 670_000, 2), Some(670));
        // half to even: 0.005 -> 0.00, 0.015 -> 0.02
        assert_eq!(convert_minor(1, 2, 50_000_000, 2), Some(0));
        assert_eq!(convert_minor(3, 2, 50_000_000, 2), Some(2));
    }
}
