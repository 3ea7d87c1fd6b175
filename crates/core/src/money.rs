//! Exact money: integer minor units, ISO 4217 exponents, basis points, and half-to-even
//! rounding. No floating point anywhere.
//!
//! Every amount that enters the system is at most [`MAX_AMOUNT_MINOR`] minor units and every
//! USD rate at most one dollar per minor unit ([`max_rate_e8`]). Within those bounds no
//! derived figure overflows an `i64`: fee splits stay below the amount, a USD conversion
//! below [`MAX_CONVERTED_MINOR`], and sums of up to [`MAX_SUM_TERMS`] such figures fit. The
//! arithmetic is checked anyway (`i128` intermediates) and answers [`Overflow`] rather
//! than panicking.

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
    #[error("amount `{0}` is larger than the maximum of {max} minor units", max = MAX_AMOUNT_MINOR)]
    TooLarge(String),
    #[error("a USD rate of {currency} must be at most {max} (one US dollar per minor unit)")]
    RateTooLarge { currency: String, max: String },
}

/// The largest amount accepted anywhere, in minor units (10^13: EUR 100,000,000,000.00,
/// JPY 10,000,000,000,000).
pub const MAX_AMOUNT_MINOR: i64 = 10_000_000_000_000;

/// The largest exchange rate to USD for a currency with `exponent` decimals, in 10^-8
/// units: one US dollar per minor unit (100 USD per EUR, 1 USD per JPY, 1,000 USD per
/// KWD), about a hundred times the dearest currency we know.
pub fn max_rate_e8(exponent: u32) -> i64 {
    10i64.pow(exponent) * RATE_SCALE as i64
}

/// The largest figure a conversion of a valid amount at a valid rate gives, in cents
/// (10^15).
pub const MAX_CONVERTED_MINOR: i64 = MAX_AMOUNT_MINOR * 100;

/// How many of the largest figures a sum holds without leaving the `i64` range (9,223).
pub const MAX_SUM_TERMS: i64 = i64::MAX / MAX_CONVERTED_MINOR;

/// A money computation left the `i64` range. Unreachable from inputs within
/// [`MAX_AMOUNT_MINOR`] and [`max_rate_e8`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("money arithmetic overflowed")]
pub struct Overflow;

/// Adds amounts exactly; [`Overflow`] when the total leaves the `i64` range.
pub fn checked_sum<I: IntoIterator<Item = i64>>(amounts: I) -> Result<i64, Overflow> {
    let mut total: i128 = 0;
    for a in amounts {
        total = total.checked_add(a as i128).ok_or(Overflow)?;
    }
    i64::try_from(total).map_err(|_| Overflow)
}

/// `a + b`, or [`Overflow`].
pub fn checked_add(a: i64, b: i64) -> Result<i64, Overflow> {
    a.checked_add(b).ok_or(Overflow)
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

    /// Every currency we accept.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().map(|(c, e)| {
            let b = c.as_bytes();
            Currency { code: [b[0], b[1], b[2]], exponent: *e }
        })
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

/// Parses an amount in `currency` into minor units; it must be positive and at most
/// [`MAX_AMOUNT_MINOR`].
pub fn parse_amount(s: &str, currency: Currency) -> Result<i64, MoneyError> {
    let v = parse_amount_or_zero(s, currency)?;
    if v == 0 {
        return Err(MoneyError::NotPositive);
    }
    Ok(v)
}

/// Parses an amount in `currency` that may be zero (a corrected total): at least 0 and at
/// most [`MAX_AMOUNT_MINOR`].
pub fn parse_amount_or_zero(s: &str, currency: Currency) -> Result<i64, MoneyError> {
    let v = parse_decimal(s, currency.exponent()).map_err(|e| match e {
        MoneyError::TooPrecise { value, exponent, .. } => MoneyError::TooPrecise { value, currency: currency.code().to_string(), exponent },
        MoneyError::OutOfRange(value) => MoneyError::TooLarge(value),
        other => other,
    })?;
    if v < 0 {
        return Err(MoneyError::NotPositive);
    }
    if v > MAX_AMOUNT_MINOR {
        return Err(MoneyError::TooLarge(s.trim().to_string()));
    }
    Ok(v)
}

/// Checks a USD rate of `currency` in 10^-8 units: positive and at most
/// [`max_rate_e8`].
pub fn check_rate(rate_e8: i64, currency: Currency) -> Result<i64, MoneyError> {
    if rate_e8 <= 0 {
        return Err(MoneyError::NotPositive);
    }
    if rate_e8 > max_rate_e8(currency.exponent()) {
        return Err(MoneyError::RateTooLarge {
            currency: currency.code().to_string(),
            max: format_minor(max_rate_e8(currency.exponent()), 8),
        });
    }
    Ok(rate_e8)
}

/// Parses a USD rate of `currency` (USD per unit, at most 8 decimals) into 10^-8 units,
/// checked by [`check_rate`].
pub fn parse_rate(s: &str, currency: Currency) -> Result<i64, MoneyError> {
    check_rate(parse_decimal(s, 8)?, currency)
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
        assert_eq!(parse_amount("100000000000.00", gbp), Ok(MAX_AMOUNT_MINOR));
        assert!(matches!(parse_amount("100000000000.01", gbp), Err(MoneyError::TooLarge(_))));
        assert!(matches!(parse_amount("92233720368547758.07", gbp), Err(MoneyError::TooLarge(_))));
        assert!(matches!(parse_amount("92233720368547758070", gbp), Err(MoneyError::TooLarge(_))));
        assert_eq!(parse_amount_or_zero("0", gbp), Ok(0));
        assert!(parse_amount_or_zero("-0.01", gbp).is_err());
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
/// `None` when the result leaves the `i64` range (never within the bounds above).
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

/// The bounds hold over the whole accepted range: nothing derived from amounts in
/// `[0, MAX_AMOUNT_MINOR]` and rates in `[1, max_rate_e8]` overflows.
#[cfg(test)]
mod bounds {
    use super::*;
    use crate::fees::{referral_fee, split_payment, FeeTerms};
    use proptest::prelude::*;

    fn amount() -> impl Strategy<Value = i64> {
        prop_oneof![0..=MAX_AMOUNT_MINOR, Just(MAX_AMOUNT_MINOR), Just(0), (MAX_AMOUNT_MINOR - 1000)..=MAX_AMOUNT_MINOR]
    }

    fn exponent() -> impl Strategy<Value = u32> {
        prop_oneof![Just(0u32), Just(2u32), Just(3u32)]
    }

    fn rate(exponent: u32) -> impl Strategy<Value = i64> {
        prop_oneof![1..=max_rate_e8(exponent), Just(max_rate_e8(exponent)), Just(1)]
    }

    proptest! {
        #[test]
        fn every_derived_figure_of_one_amount_fits(
            a in amount(), success in 0u32..=10_000, share in 0u32..=10_000, referral in 0u32..=10_000,
            (e, r) in exponent().prop_flat_map(|e| (Just(e), rate(e))),
        ) {
            let split = split_payment(a, FeeTerms { success_fee_bps: Bps(success), platform_share_bps: Bps(share) }).unwrap();
            let fee = referral_fee(split.platform_fee, Bps(referral)).unwrap();
            prop_assert!(0 <= fee && fee <= split.platform_fee && split.platform_fee <= split.success_fee && split.success_fee <= a);
            for x in [a, split.success_fee, split.platform_fee, fee] {
                let usd = convert_minor(x, e, r, 2).unwrap();
                prop_assert!((0..=MAX_CONVERTED_MINOR).contains(&usd), "{x} at {r} gives {usd}");
            }
        }

        #[test]
        fn sums_of_many_figures_fit(
            amounts in proptest::collection::vec(amount(), 0..2_000),
            (e, r) in exponent().prop_flat_map(|e| (Just(e), rate(e))),
        ) {
            let exact: i128 = amounts.iter().map(|a| *a as i128).sum();
            prop_assert_eq!(checked_sum(amounts.iter().copied()).map(i128::from), Ok(exact));
            let usd: Vec<i64> = amounts.iter().map(|a| convert_minor(*a, e, r, 2).unwrap()).collect();
            prop_assert!(checked_sum(usd).is_ok());
        }

        #[test]
        fn amounts_round_trip_and_nothing_above_the_maximum_parses(a in 1..=MAX_AMOUNT_MINOR, e in exponent(), over in 1i64..=i64::MAX - MAX_AMOUNT_MINOR) {
            let c = Currency::parse(match e { 0 => "JPY", 2 => "EUR", _ => "KWD" }).unwrap();
            prop_assert_eq!(parse_amount(&format_minor(a, e), c), Ok(a));
            prop_assert!(matches!(parse_amount(&format_minor(MAX_AMOUNT_MINOR + over, e), c), Err(MoneyError::TooLarge(_))));
        }
    }

    #[test]
    fn the_largest_sums_fit_and_one_more_term_is_an_error_not_a_panic() {
        let terms = MAX_SUM_TERMS as usize;
        assert!(checked_sum(std::iter::repeat_n(MAX_CONVERTED_MINOR, terms)).is_ok());
        assert!(checked_sum(std::iter::repeat_n(MAX_AMOUNT_MINOR, terms * 100)).is_ok());
        assert_eq!(checked_sum([i64::MAX, 1]), Err(Overflow));
        assert_eq!(checked_add(i64::MAX, 1), Err(Overflow));
        assert_eq!(convert_minor(i64::MAX, 0, max_rate_e8(0), 2), None);
    }

    #[test]
    fn rates_are_positive_and_bounded() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(parse_rate("1.05", eur), Ok(105_000_000));
        assert_eq!(parse_rate("100", eur), Ok(max_rate_e8(2)));
        assert!(matches!(parse_rate("100.00000001", eur), Err(MoneyError::RateTooLarge { .. })));
        assert!(matches!(parse_rate("1.5", jpy), Err(MoneyError::RateTooLarge { .. })));
        for bad in ["0", "-1", "0.000000001", "1e2", "abc"] {
            assert!(parse_rate(bad, eur).is_err(), "{bad}");
        }
    }
}
