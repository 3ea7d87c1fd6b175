//! Exchange rates to USD for reporting (SPEC §6). Rates are loaded by the operator; a
//! conversion without a rate is an explicit error, never a silent 1.0.

use std::collections::HashMap;

use refshare_core::money::{convert_minor, parse_decimal, Currency, RATE_SCALE};
use refshare_core::Instant;
use refshare_store::Tx;
use serde::Deserialize;

use crate::error::FieldError;
use crate::error::FxError;
use crate::{actor, audit, App, AppError};

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateInput {
    pub currency: String,
    pub usd_per_unit: serde_json::Number,
}

/// `POST /fx-rates` JSON body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RatesInput {
    pub date: String,
    pub rates: Vec<RateInput>,
}

/// The reporting currency.
pub fn usd() -> Currency {
    Currency::parse("USD").expect("USD is known")
}

/// The USD rate (per unit, 1e-8) for `currency` that applies on the day of `at`: the
/// latest one dated on or before it, with its date. A missing rate is an explicit error.
pub async fn usd_rate(tx: &mut Tx, currency: Currency, at: Instant) -> Result<(String, i64), AppError> {
    let date = at.format("%Y-%m-%d").to_string();
    if currency == usd() {
        return Ok((date, RATE_SCALE as i64));
    }
    tx.fx_rate_on_or_before(currency.code(), &date)
        .await?
        .ok_or_else(|| FxError::MissingRate { currency: currency.code().to_string(), date: date.clone() }.into())
}

/// Converts an amount to US cents at a given rate, rounding half to even.
pub fn usd_at(amount_minor: i64, currency: Currency, rate_e8: i64) -> Result<i64, AppError> {
    convert_minor(amount_minor, currency.exponent(), rate_e8, usd().exponent()).ok_or_else(|| AppError::internal("fx overflow"))
}

/// Converts an amount to US cents at the latest rate dated on or before `at`.
pub async fn to_usd_minor(tx: &mut Tx, amount_minor: i64, currency: Currency, at: Instant) -> Result<i64, AppError> {
    let (_, rate) = usd_rate(tx, currency, at).await?;
    usd_at(amount_minor, currency, rate)
}

/// A rate a figure needed and did not find: none for `currency` dated on or before `date`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MissingRate {
    pub currency: Currency,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// Converts the figures of one read to USD at the rates of one instant, reading each
/// currency's rate once. Reads never fail for want of a rate: a figure that needs a
/// missing one is `None`, and the missing (currency, date) pairs are remembered. Writes
/// that need a rate (locking a commission) use [`usd_rate`], which refuses instead.
#[derive(Debug, Clone)]
pub struct UsdRates {
    at: Instant,
    cache: HashMap<Currency, Option<i64>>,
}

impl UsdRates {
    /// Rates as they stand at `at` (estimates use the latest rate dated on or before it).
    pub fn at(at: Instant) -> UsdRates {
        UsdRates { at, cache: HashMap::new() }
    }

    /// The pair a conversion of `currency` at this instant needs.
    pub fn needed(&self, currency: Currency) -> MissingRate {
        MissingRate { currency, date: self.at.format("%Y-%m-%d").to_string() }
    }

    /// The current rate of `currency`, `None` when none is loaded.
    pub async fn rate(&mut self, tx: &mut Tx, currency: Currency) -> Result<Option<i64>, AppError> {
        if let Some(r) = self.cache.get(&currency) {
            return Ok(*r);
        }
        let r = if currency == usd() {
            Some(RATE_SCALE as i64)
        } else {
            tx.fx_rate_on_or_before(currency.code(), &self.needed(currency).date).await?.map(|(_, r)| r)
        };
        self.cache.insert(currency, r);
        Ok(r)
    }

    /// US cents of an amount: at the `locked` rate when there is one, else at the current
    /// rate; `Err(missing)` when that is not loaded.
    pub async fn convert(
        &mut self,
        tx: &mut Tx,
        amount_minor: i64,
        currency: Currency,
        locked: Option<i64>,
    ) -> Result<Result<i64, MissingRate>, AppError> {
        let rate = match locked {
            Some(r) => Some(r),
            None => self.rate(tx, currency).await?,
        };
        match rate {
            Some(r) => Ok(Ok(usd_at(amount_minor, currency, r)?)),
            None => Ok(Err(self.needed(currency))),
        }
    }
}

impl App {
    /// The rates that figures shown now need and that are not loaded (today's, per
    /// currency of [`Tx::currencies_needing_current_rate`]), in order. Reports show those
    /// figures as null until the operator loads them.
    pub async fn missing_fx_rates(&self) -> Result<Vec<MissingRate>, AppError> {
        let mut tx = self.store.begin().await?;
        let mut rates = UsdRates::at(self.now());
        let mut missing = Vec::new();
        for code in tx.currencies_needing_current_rate().await? {
            let currency = Currency::parse(&code).map_err(|_| AppError::internal(format!("stored currency `{code}` is unknown")))?;
            if rates.rate(&mut tx, currency).await?.is_none() {
                missing.push(rates.needed(currency));
            }
        }
        missing.sort();
        missing.dedup();
        Ok(missing)
    }
}

impl App {
    /// Loads a day's rates (JSON form).
    pub async fn load_fx_rates(&self, input: RatesInput) -> Result<usize, AppError> {
        let mut errors = Vec::new();
        if chrono::NaiveDate::parse_from_str(&input.date, "%Y-%m-%d").is_err() {
            errors.push(FieldError { field: "date".into(), message: "must be YYYY-MM-DD".into() });
        }
        let mut parsed = Vec::new();
        for (i, r) in input.rates.iter().enumerate() {
            match (Currency::parse(&r.currency), parse_decimal(&r.usd_per_unit.to_string(), 8)) {
                (Ok(c), Ok(v)) if v > 0 => parsed.push((c, v)),
                (Err(e), _) => errors.push(FieldError { field: format!("rates[{i}].currency"), message: e.to_string() }),
                _ => errors.push(FieldError {
                    field: format!("rates[{i}].usdPerUnit"),
                    message: "must be a positive number with at most 8 decimals".into(),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let mut tx = self.store.begin().await?;
        for (c, v) in &parsed {
            tx.put_fx_rate(c.code(), &input.date, *v).await?;
        }
        audit(&mut tx, self.now(), actor::OPERATOR, "fx_rates.loaded", "fx_rates", &input.date, serde_json::json!({"count": parsed.len()}))
            .await?;
        tx.commit().await?;
        Ok(parsed.len())
    }
}

/// One rate parsed from a central bank's CSV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRate {
    pub date: String,
    pub currency: Currency,
    pub usd_per_unit_e8: i64,
}

fn half_even_div(num: i128, den: i128) -> i128 {
    let (q, r) = (num.div_euclid(den), num.rem_euclid(den));
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

/// Parses the European Central Bank's reference-rate CSV (daily `eurofxref.csv` or the
/// historical file): a header `Date, USD, JPY, …` and rows of units per EUR. Each rate is
/// turned into USD per unit exactly (half-even at 1e-8): `usd_per_eur / ccy_per_eur`; EUR
/// itself gets `usd_per_eur`. `N/A` cells and unknown currencies are skipped.
pub fn parse_ecb_csv(text: &str) -> Result<Vec<ParsedRate>, AppError> {
    let bad = |line: usize, m: String| AppError::bad_field("body", format!("CSV line {line}: {m}"));
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let (_, header) = lines.next().ok_or_else(|| bad(1, "empty file".into()))?;
    let cols: Vec<&str> = header.split(',').map(str::trim).collect();
    if !cols.first().is_some_and(|c| c.eq_ignore_ascii_case("date")) {
        return Err(bad(1, "the first column must be `Date`".into()));
    }
    let usd_col = cols.iter().position(|c| *c == "USD").ok_or_else(|| bad(1, "no USD column: rates per EUR need it".into()))?;
    let mut out = Vec::new();
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let raw_date = cells.first().copied().unwrap_or_default();
        let date = chrono::NaiveDate::parse_from_str(raw_date, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(raw_date, "%d %B %Y"))
            .map_err(|_| bad(i + 1, format!("`{raw_date}` is not a date")))?
            .format("%Y-%m-%d")
            .to_string();
        let scaled = |s: &str| parse_decimal(s, 8).ok().filter(|v| *v > 0);
        let usd_per_eur = cells.get(usd_col).and_then(|s| scaled(s)).ok_or_else(|| bad(i + 1, "no USD rate".into()))?;
        out.push(ParsedRate { date: date.clone(), currency: Currency::parse("EUR").expect("known"), usd_per_unit_e8: usd_per_eur });
        for (j, code) in cols.iter().enumerate().skip(1) {
            if j == usd_col || code.is_empty() {
                continue;
            }
            let (Ok(currency), Some(per_eur)) = (Currency::parse(code), cells.get(j).and_then(|s| scaled(s))) else { continue };
            let e8 = half_even_div(usd_per_eur as i128 * RATE_SCALE, per_eur as i128);
            out.push(ParsedRate { date: date.clone(), currency, usd_per_unit_e8: e8 as i64 });
        }
    }
    if out.is_empty() {
        return Err(bad(2, "no rates".into()));
    }
    Ok(out)
}

impl App {
    /// Loads rates from the ECB CSV form.
    pub async fn load_ecb_csv(&self, text: &str) -> Result<usize, AppError> {
        let rates = parse_ecb_csv(text)?;
        let mut tx = self.store.begin().await?;
        for r in &rates {
            tx.put_fx_rate(r.currency.code(), &r.date, r.usd_per_unit_e8).await?;
        }
        audit(&mut tx, self.now(), actor::OPERATOR, "fx_rates.loaded", "fx_rates", "ecb-csv", serde_json::json!({"count": rates.len()}))
            .await?;
        tx.commit().await?;
        Ok(rates.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecb_daily_file_converts_to_usd_per_unit_exactly() {
        let csv = "Date, USD, JPY, GBP, XYZ, \n24 November 2026, 1.0500, 160.00, 0.8400, 1.0, \n";
        let rates = parse_ecb_csv(csv).unwrap();
        let get = |c: &str| rates.iter().find(|r| r.currency.code() == c).map(|r| r.usd_per_unit_e8);
        assert_eq!(get("EUR"), Some(105_000_000));
        assert_eq!(get("GBP"), Some(125_000_000), "1.05 / 0.84 = 1.25");
        assert_eq!(get("JPY"), Some(656_250), "1.05 / 160 = 0.0065625");
        assert_eq!(get("USD"), None);
        assert!(rates.iter().all(|r| r.date == "2026-11-24"));
    }

    #[test]
    fn historical_rows_and_na_cells() {
        let csv = "Date,USD,GBP,\n2026-11-24,1.05,N/A,\n2026-11-23,1.1,0.88,\n";
        let rates = parse_ecb_csv(csv).unwrap();
        assert_eq!(rates.len(), 3);
        assert!(rates.iter().any(|r| r.date == "2026-11-23" && r.currency.code() == "GBP" && r.usd_per_unit_e8 == 125_000_000));
    }

    #[test]
    fn bad_files_are_refused_with_the_line() {
        for (csv, needle) in
            [("", "empty"), ("Currency,USD\n", "Date"), ("Date,GBP\n2026-01-01,0.8\n", "USD"), ("Date,USD\nyesterday,1.1\n", "line 2")]
        {
            let e = parse_ecb_csv(csv).unwrap_err();
            assert!(format!("{e:?}").contains(needle), "{csv:?}: {e:?}");
        }
    }
}
