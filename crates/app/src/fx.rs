//! Exchange rates to USD for reporting (SPEC §6). Rates are loaded by the operator; a
//! conversion without a rate is an explicit error, never a silent 1.0.

use refshare_core::money::{convert_minor, parse_decimal, Currency, RATE_SCALE};
use refshare_core::Instant;
use refshare_store::Tx;
use serde::Deserialize;

use crate::error::FieldError;
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

fn usd() -> Currency {
    Currency::parse("USD").expect("USD is known")
}

/// The USD rate (per unit, 1e-8) for `currency` that applies on the day of `at`: the
/// latest one dated on or before it, with its date. A missing rate is an explicit error.
pub async fn usd_rate(tx: &mut Tx, currency: Currency, at: Instant) -> Result<(String, i64), AppError> {
    let date = at.format("%Y-%m-%d").to_string();
    if currency == usd() {
        return Ok((date, RATE_SCALE as i64));
    }
    tx.fx_rate_on_or_before(currency.code(), &date).await?.ok_or_else(|| {
        AppError::business(
            "MissingFxRate",
            format!("No USD exchange rate for {} on or before {date}; load one through POST /admin-api/v1/fx-rates.", currency.code()),
        )
    })
}

/// Converts an amount to US cents at a given rate, rounding half to even.
pub fn usd_at(amount_minor: i64, currency: Currency, rate_e8: i64) -> Result<i64, AppError> {
    convert_minor(amount_minor, currency.exponent(), rate_e8, usd().exponent()).ok_or_else(|| AppError::Internal("fx overflow".into()))
}

/// Converts an amount to US cents at the latest rate dated on or before `at`.
pub async fn to_usd_minor(tx: &mut Tx, amount_minor: i64, currency: Currency, at: Instant) -> Result<i64, AppError> {
    let (_, rate) = usd_rate(tx, currency, at).await?;
    usd_at(amount_minor, currency, rate)
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
