//! A partner's live earnings per calendar month (UTC; the Partner Dashboard's chart).
//!
//! - [`Tx::earnings_per_month_from_totals`], what the dashboard reads: the month totals
//!   (migration 0033, [`crate::month_totals`]) for the counts and the rows whose rate is
//!   locked, the month estimates for the rest at the current rates: two reads of a few
//!   rows each, whatever the partner's size. Only the estimates of a currency whose
//!   month estimates are not at the current rate are aggregated from the rows.
//! - [`Tx::earnings_per_month`], the reference: one aggregate over the earnings read
//!   model, bounded by the months asked for (the `earnings_partner_paid` index), with each
//!   earning's US cents rounded exactly as the report rounds them
//!   ([`crate::reporting::usd_minor_sql`]) before they are summed. The conformance suite
//!   holds the two equal.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use refshare_core::money::Currency;
use refshare_core::Instant;
use uuid::Uuid;

use crate::bulk::{ph, ph_list};
use crate::cases::{bind_all, Arg};
use crate::reporting::{rate_table_sql, usd_minor_sql, CurrentRates};
use crate::{currency, get, ms, Result, StoreError, Tx};

/// A calendar month in UTC. Its key, `YYYY-MM`, is how the month totals store it; keys
/// sort as the months do for the years 0 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcMonth {
    year: i32,
    /// 1 to 12.
    month: u32,
}

impl UtcMonth {
    /// The month `month` (1 to 12) of `year`.
    pub fn new(year: i32, month: u32) -> Option<UtcMonth> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| UtcMonth { year, month })
    }

    /// The month holding the instant.
    pub fn containing(t: Instant) -> UtcMonth {
        UtcMonth { year: t.year(), month: t.month() }
    }

    /// The month holding the instant `ms` milliseconds after the epoch (what the month
    /// totals key an earning's payment date by; [`crate::month_totals::month_sql`] is the
    /// same in SQL).
    pub fn of_ms(ms: i64) -> UtcMonth {
        UtcMonth::containing(crate::at(ms))
    }

    /// `YYYY-MM` back into a month.
    pub fn parse(key: &str) -> Option<UtcMonth> {
        let (y, m) = key.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        UtcMonth::new(y.parse().ok()?, m.parse().ok()?)
    }

    /// `YYYY-MM`.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }

    /// Its first instant: the first day at midnight UTC.
    pub fn start(self) -> Instant {
        let day = NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a month's first day exists");
        Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
    }

    /// The first instant after it: the start of the next month.
    pub fn end(self) -> Instant {
        let next = if self.month == 12 { UtcMonth { year: self.year + 1, month: 1 } } else { UtcMonth { month: self.month + 1, ..self } };
        next.start()
    }
}

impl std::fmt::Display for UtcMonth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.key())
    }
}

/// One month of a partner's live earnings by payment date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonthTotal {
    pub count: i64,
    /// US cents of the earnings that have a figure (locked rate, else the current one).
    pub usd_minor: i64,
    /// Earnings left out of `usd_minor` for want of a rate.
    pub usd_missing: i64,
}

impl MonthTotal {
    fn add(&mut self, count: i64, usd_minor: i64, usd_missing: i64) -> Result<()> {
        let overflow = || StoreError::Corrupt("month totals overflow".into());
        self.count = self.count.checked_add(count).ok_or_else(overflow)?;
        self.usd_minor = self.usd_minor.checked_add(usd_minor).ok_or_else(overflow)?;
        self.usd_missing = self.usd_missing.checked_add(usd_missing).ok_or_else(overflow)?;
        Ok(())
    }
}

/// The current rate of `c` as [`rate_table_sql`] puts it in a report (USD at 1).
pub(crate) fn current_rate(rates: &CurrentRates, c: Currency) -> Option<i64> {
    if c.code() == "USD" {
        Some(100_000_000)
    } else {
        rates.iter().find(|(x, _)| *x == c).map(|(_, r)| *r)
    }
}

impl Tx {
    /// Per month `[start, end)` in `months` (in their order), the partner's live earnings
    /// paid in it, aggregated from the rows: the reference the month totals are held to.
    /// Months without earnings are zero.
    pub async fn earnings_per_month(
        &mut self,
        partner_id: Uuid,
        months: &[(Instant, Instant)],
        rates: &CurrentRates,
    ) -> Result<Vec<MonthTotal>> {
        self.aggregate_per_month(partner_id, months, rates, &[]).await
    }

    /// [`Tx::earnings_per_month`], restricted to the estimates (rate not locked) in
    /// `estimates_in` when it is not empty.
    async fn aggregate_per_month(
        &mut self,
        partner_id: Uuid,
        months: &[(Instant, Instant)],
        rates: &CurrentRates,
        estimates_in: &[Currency],
    ) -> Result<Vec<MonthTotal>> {
        let mut out = vec![MonthTotal::default(); months.len()];
        let (Some(first), Some(last)) = (months.iter().map(|m| m.0).min(), months.iter().map(|m| m.1).max()) else {
            return Ok(out);
        };
        let mut args = vec![Arg::Text(partner_id.to_string()), Arg::Int(ms(first)), Arg::Int(ms(last))];
        let mut bounds = Vec::with_capacity(months.len());
        for (i, (start, end)) in months.iter().enumerate() {
            args.push(Arg::Int(ms(*start)));
            args.push(Arg::Int(ms(*end)));
            let n = args.len();
            bounds.push(format!("SELECT CAST({i} AS BIGINT) AS k, CAST(${} AS BIGINT) AS lo, CAST(${n} AS BIGINT) AS hi", n - 1));
        }
        let mut only = String::new();
        if !estimates_in.is_empty() {
            // Codes are three ASCII letters: nothing here is user input.
            let codes: Vec<String> = estimates_in.iter().map(|c| format!("'{}'", c.code())).collect();
            only = format!(" AND e.fx_usd_per_unit_e8 IS NULL AND e.currency IN ({})", codes.join(", "));
        }
        let usd = usd_minor_sql("e.amount_minor", "COALESCE(e.fx_usd_per_unit_e8, fx.r)", "fx.d");
        let sql = format!(
            "SELECT k, COUNT(*) AS n, CAST(COALESCE(SUM(usd), 0) AS BIGINT) AS usd, \
             CAST(SUM(CASE WHEN usd IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS missing \
             FROM (SELECT m.k AS k, {usd} AS usd FROM earnings e \
                   JOIN ({}) m ON e.paid_at >= m.lo AND e.paid_at < m.hi \
                   LEFT JOIN {} fx ON fx.cur = e.currency \
                   WHERE e.partner_id = $1 AND e.voided_at IS NULL AND e.paid_at >= $2 AND e.paid_at < $3{only}) x \
             GROUP BY k ORDER BY k",
            bounds.join(" UNION ALL "),
            rate_table_sql(rates)?
        );
        let rows = bind_all(sqlx::query(&sql), &args).fetch_all(self.conn()).await?;
        for r in &rows {
            let k: i64 = get(r, "k")?;
            if let Some(slot) = usize::try_from(k).ok().and_then(|k| out.get_mut(k)) {
                *slot = MonthTotal { count: get(r, "n")?, usd_minor: get(r, "usd")?, usd_missing: get(r, "missing")? };
            }
        }
        Ok(out)
    }

    /// Per month in `months` (in their order), the partner's live earnings paid in it,
    /// from the month totals and the month estimates (migration 0033): the same figures as
    /// [`Tx::earnings_per_month`] over those months' bounds. The estimates of a currency
    /// whose month estimates are not built at its rate in `rates` are aggregated from the
    /// rows (only those months, only those currencies).
    pub async fn earnings_per_month_from_totals(
        &mut self,
        partner_id: Uuid,
        months: &[UtcMonth],
        rates: &CurrentRates,
    ) -> Result<Vec<MonthTotal>> {
        let mut out = vec![MonthTotal::default(); months.len()];
        let keys: Vec<String> = months.iter().map(|m| m.key()).collect::<BTreeSet<_>>().into_iter().collect();
        if keys.is_empty() {
            return Ok(out);
        }
        let slots = |key: &str| -> Vec<usize> { months.iter().enumerate().filter(|(_, m)| m.key() == key).map(|(i, _)| i).collect() };
        let totals_sql = format!(
            "SELECT month, currency, locked, n, usd_minor FROM month_totals WHERE partner_id = {} AND month IN ({})",
            ph(self.backend, 1),
            ph_list(self.backend, 2, keys.len())
        );
        let estimates_sql = format!(
            "SELECT r.currency AS currency, r.built AS built, r.rate_e8 AS rate_e8, t.month AS month, t.n AS n, t.usd_minor AS usd \
             FROM estimate_rates r LEFT JOIN month_estimates t ON t.currency = r.currency AND t.partner_id = {} AND t.month IN ({}) \
             ORDER BY r.currency",
            ph(self.backend, 1),
            ph_list(self.backend, 2, keys.len())
        );
        let (totals, estimates) = {
            let mut q = sqlx::query(&totals_sql).bind(partner_id.to_string());
            for k in &keys {
                q = q.bind(k.clone());
            }
            let totals = q.fetch_all(self.conn()).await?;
            let mut q = sqlx::query(&estimates_sql).bind(partner_id.to_string());
            for k in &keys {
                q = q.bind(k.clone());
            }
            (totals, q.fetch_all(self.conn()).await?)
        };
        // Counts of every row, US cents of the locked ones; the currencies with estimates.
        let mut with_estimates: BTreeSet<Currency> = BTreeSet::new();
        for r in &totals {
            let month: String = get(r, "month")?;
            let c = currency(&get::<String>(r, "currency")?)?;
            let n: i64 = get(r, "n")?;
            let locked = get::<i64>(r, "locked")? != 0;
            let usd = if locked { get::<i64>(r, "usd_minor")? } else { 0 };
            if !locked && n != 0 {
                with_estimates.insert(c);
            }
            for i in slots(&month) {
                out[i].add(n, usd, 0)?;
            }
        }
        // Estimates of currencies built at today's rate: their cached US cents, or missing.
        let mut usable: BTreeSet<Currency> = BTreeSet::new();
        for r in &estimates {
            let c = currency(&get::<String>(r, "currency")?)?;
            let rate: Option<i64> = get(r, "rate_e8")?;
            if get::<i64>(r, "built")? == 0 || rate != current_rate(rates, c) {
                continue;
            }
            usable.insert(c);
            let Some(month) = get::<Option<String>>(r, "month")? else { continue };
            let (n, usd): (i64, i64) = (get(r, "n")?, get(r, "usd")?);
            for i in slots(&month) {
                match rate {
                    Some(_) => out[i].add(0, usd, 0)?,
                    None => out[i].add(0, 0, n)?,
                }
            }
        }
        // The other currencies' estimates, from the rows.
        let rest: Vec<Currency> = with_estimates.difference(&usable).copied().collect();
        if !rest.is_empty() {
            let bounds: Vec<(Instant, Instant)> = months.iter().map(|m| (m.start(), m.end())).collect();
            let rows = self.aggregate_per_month(partner_id, &bounds, rates, &rest).await?;
            for (slot, t) in out.iter_mut().zip(rows) {
                slot.add(0, t.usd_minor, t.usd_missing)?;
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_round_trip_their_keys_and_bounds() {
        let m = UtcMonth::new(2025, 12).unwrap();
        assert_eq!(m.key(), "2025-12");
        assert_eq!(UtcMonth::parse("2025-12"), Some(m));
        assert_eq!(UtcMonth::parse("2025-13"), None);
        assert_eq!(UtcMonth::parse("25-12"), None);
        assert_eq!(m.start(), Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(m.end(), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
        assert_eq!(UtcMonth::of_ms(ms(m.end()) - 1), m, "the last millisecond is in the month");
        assert_eq!(UtcMonth::of_ms(ms(m.end())).key(), "2026-01");
        assert_eq!(UtcMonth::of_ms(-1).key(), "1969-12", "before 1970 the month is the floor's");
        assert!(UtcMonth::new(2026, 1).unwrap() > m, "months order as their keys");
    }
}
