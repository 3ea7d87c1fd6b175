//! Exchange rates to USD for reporting (SPEC §6). Rates are loaded by the operator; a
//! conversion without a rate is an explicit error, never a silent 1.0.
//!
//! A rate is dated by a real calendar day from [`FIRST_RATE_DAY`] to [`LAST_RATE_DAY`]
//! (stored as `YYYY-MM-DD`, so dates compare as text), and is positive and at most one
//! US dollar per minor unit (`core::money::max_rate_e8`), whichever loader brings it.

use std::collections::HashMap;

use chrono::NaiveDate;
use refshare_core::money::{check_rate, convert_minor, parse_decimal, parse_rate, Currency, MoneyError, Overflow, RATE_SCALE};
use refshare_core::Instant;
use refshare_store::Tx;
use serde::Deserialize;

use crate::error::{FieldError, FxError};
use crate::{actor, audit, App, AppError, InternalError};

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

/// The first day a rate may be dated (the euro's first reference rates were published
/// in January 1999).
pub const FIRST_RATE_DAY: &str = "1999-01-01";
/// The last day a rate may be dated.
pub const LAST_RATE_DAY: &str = "2100-12-31";

/// Parses a rate's day: `YYYY-MM-DD` exactly, a real calendar day, within
/// [`FIRST_RATE_DAY`] ..= [`LAST_RATE_DAY`]. The error says which.
pub fn parse_rate_day(s: &str) -> Result<NaiveDate, String> {
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m-%d").to_string() == s)
        .ok_or_else(|| format!("`{s}` is not a calendar day written YYYY-MM-DD"))?;
    let in_range = |bound: &str| NaiveDate::parse_from_str(bound, "%Y-%m-%d").expect("valid bound");
    if day < in_range(FIRST_RATE_DAY) || day > in_range(LAST_RATE_DAY) {
        return Err(format!("`{s}` is outside {FIRST_RATE_DAY} to {LAST_RATE_DAY}"));
    }
    Ok(day)
}

/// A money computation left the `i64` range: unreachable from inputs within the bounds of
/// `core::money`, so an internal error, logged.
pub fn overflow(e: Overflow) -> AppError {
    AppError::Internal(InternalError::caused_by("a money figure", e))
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
    convert_minor(amount_minor, currency.exponent(), rate_e8, usd().exponent()).ok_or(Overflow).map_err(overflow)
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

    /// Reads the current rate of every currency in one query (each remembered, `None`
    /// where none is loaded) and returns the loaded ones, USD included, for reports that
    /// convert in SQL (`store::reporting`).
    pub async fn load_all(&mut self, tx: &mut Tx) -> Result<Vec<(Currency, i64)>, AppError> {
        let date = self.at.format("%Y-%m-%d").to_string();
        let loaded = tx.fx_rates_on_or_before(&date).await?;
        Ok(self.from_loaded(&loaded))
    }

    /// What [`UsdRates::load_all`] returns, from the rows `Tx::fx_rates_on_or_before` gave
    /// for this instant's day (read by another statement: the client page's).
    pub fn from_loaded(&mut self, loaded: &[(String, i64)]) -> Vec<(Currency, i64)> {
        let mut out = Vec::new();
        for c in Currency::all() {
            let r = if c == usd() { Some(RATE_SCALE as i64) } else { loaded.iter().find(|(code, _)| code == c.code()).map(|(_, r)| *r) };
            self.cache.insert(c, r);
            out.extend(r.map(|r| (c, r)));
        }
        out
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
        let mut tx = self.store.read().await?;
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

/// Brings the estimate totals (`store::estimates`) to the rates current at `now`: every
/// currency not built yet, or built at another rate than today's, is re-based with one
/// aggregate in `tx`. Runs in the transaction of every rate load (so the rates and the
/// totals change together) and at start; a no-op when nothing changed.
pub async fn refresh_estimates(tx: &mut Tx, now: Instant) -> Result<usize, AppError> {
    let current = UsdRates::at(now).load_all(tx).await?;
    let stale: Vec<(Currency, Option<i64>)> = tx
        .estimate_rates()
        .await?
        .into_iter()
        .map(|r| (r, current.iter().find(|(c, _)| *c == r.currency).map(|(_, v)| *v)))
        .filter(|(r, now)| !r.built || r.rate_e8 != *now)
        .map(|(r, now)| (r.currency, now))
        .collect();
    tx.rebuild_estimates(&stale).await?;
    Ok(stale.len())
}

impl App {
    /// Re-bases the estimate totals at today's rates if they are not (at start, and when
    /// a day begins: a rate dated ahead becomes current without a load).
    pub async fn refresh_estimates(&self) -> Result<usize, AppError> {
        let mut tx = self.store.begin().await?;
        let n = refresh_estimates(&mut tx, self.now()).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Loads a day's rates (JSON form).
    pub async fn load_fx_rates(&self, input: RatesInput) -> Result<usize, AppError> {
        let mut errors = Vec::new();
        if let Err(message) = parse_rate_day(&input.date) {
            errors.push(FieldError { field: "date".into(), message });
        }
        let mut parsed = Vec::new();
        for (i, r) in input.rates.iter().enumerate() {
            let c = match Currency::parse(&r.currency) {
                Ok(c) => c,
                Err(e) => {
                    errors.push(FieldError { field: format!("rates[{i}].currency"), message: e.to_string() });
                    continue;
                }
            };
            match parse_rate(&r.usd_per_unit.to_string(), c) {
                Ok(v) => parsed.push((c, v)),
                Err(e @ MoneyError::RateTooLarge { .. }) => {
                    errors.push(FieldError { field: format!("rates[{i}].usdPerUnit"), message: e.to_string() })
                }
                Err(_) => errors.push(FieldError {
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
        refresh_estimates(&mut tx, self.now()).await?;
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
/// itself gets `usd_per_eur`. Empty and `N/A` cells and unknown currencies are skipped;
/// any other cell must be a positive rate, and every resulting USD rate within the bound
/// of `core::money::check_rate`. Days must pass [`parse_rate_day`].
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
        let date = NaiveDate::parse_from_str(raw_date, "%Y-%m-%d")
            .ok()
            .filter(|d| d.format("%Y-%m-%d").to_string() == raw_date)
            .or_else(|| NaiveDate::parse_from_str(raw_date, "%d %B %Y").ok())
            .ok_or_else(|| bad(i + 1, format!("`{raw_date}` is not a date")))?
            .format("%Y-%m-%d")
            .to_string();
        parse_rate_day(&date).map_err(|m| bad(i + 1, m))?;
        // A cell: skipped when empty or N/A, else a positive rate per EUR.
        let cell = |j: usize, code: &str| -> Result<Option<i64>, AppError> {
            match cells.get(j).copied().unwrap_or_default() {
                "" => Ok(None),
                na if na.eq_ignore_ascii_case("N/A") => Ok(None),
                s => match parse_decimal(s, 8) {
                    Ok(v) if v > 0 => Ok(Some(v)),
                    _ => Err(bad(i + 1, format!("{code} `{s}` is not a positive rate with at most 8 decimals"))),
                },
            }
        };
        let eur = Currency::parse("EUR").expect("known");
        let usd_per_eur = cell(usd_col, "USD")?.ok_or_else(|| bad(i + 1, "no USD rate".into()))?;
        let within = |e8: i64, c: Currency| {
            check_rate(e8, c).map_err(|e| match e {
                MoneyError::NotPositive => bad(i + 1, format!("the USD rate of {c} rounds to zero at 8 decimals")),
                other => bad(i + 1, other.to_string()),
            })
        };
        out.push(ParsedRate { date: date.clone(), currency: eur, usd_per_unit_e8: within(usd_per_eur, eur)? });
        for (j, code) in cols.iter().enumerate().skip(1) {
            if j == usd_col || code.is_empty() {
                continue;
            }
            let Ok(currency) = Currency::parse(code) else { continue };
            let Some(per_eur) = cell(j, code)? else { continue };
            let e8 = i64::try_from(half_even_div(usd_per_eur as i128 * RATE_SCALE, per_eur as i128)).unwrap_or(i64::MAX);
            out.push(ParsedRate { date: date.clone(), currency, usd_per_unit_e8: within(e8, currency)? });
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
        refresh_estimates(&mut tx, self.now()).await?;
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
    fn days_must_be_real_and_within_the_range() {
        for ok in ["1999-01-01", "2026-02-28", "2024-02-29", "2100-12-31"] {
            assert!(parse_rate_day(ok).is_ok(), "{ok}");
        }
        for bad in
            ["-2026-01-01", "0000-01-01", "1998-12-31", "2101-01-01", "2026-02-30", "2025-02-29", "2026-1-5", " 2026-01-01", "+2026-01-01"]
        {
            assert!(parse_rate_day(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_days_and_rates_are_checked_like_json_ones() {
        for (csv, needle) in [
            ("Date,USD\n0000-01-01,1.1\n", "outside"),
            ("Date,USD\n-2026-01-01,1.1\n", "outside"),
            ("Date,USD\n2026-02-30,1.1\n", "not a date"),
            ("Date,USD,GBP\n2026-01-02,1.1,0\n", "GBP `0`"),
            ("Date,USD,GBP\n2026-01-02,1.1,-0.84\n", "GBP `-0.84`"),
            ("Date,USD,GBP\n2026-01-02,1.1,abc\n", "GBP `abc`"),
            ("Date,USD\n2026-01-02,0\n", "USD `0`"),
            ("Date,USD\n2026-01-02,100.5\n", "at most 100.00000000"),
            ("Date,USD,JPY\n2026-01-02,1.1,0.5\n", "JPY must be at most 1.00000000"),
            ("Date,USD,JPY\n2026-01-02,1.1,9999999999\n", "rounds to zero"),
        ] {
            let e = parse_ecb_csv(csv).unwrap_err();
            assert!(format!("{e:?}").contains(needle), "{csv:?}: {e:?}");
            assert!(format!("{e:?}").contains("line 2"), "{csv:?}: {e:?}");
        }
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
