//! Per-partner month totals (issue 10, migration 0033): what the Partner Dashboard's chart
//! reads instead of a partner's rows ([`crate::monthly`]).
//!
//! - `month_totals`: per (partner, UTC month of the payment date, currency, locked) over
//!   the live earnings with a payment date: rows, payout rows, amounts, and for the rows
//!   whose USD rate is locked the US cents of the earnings and of the platform fee, each
//!   row rounded as [`usd_minor_sql`] rounds it, then summed. The earnings totals
//!   ([`crate::totals`]) with the month in place of the stage.
//! - `month_estimates`: per (partner, month, currency) the same sums over the rows whose
//!   rate is not locked, converted at the currency's estimate rate (`estimate_rates`):
//!   the estimate totals ([`crate::estimates`]) by month.
//!
//! One delta feeds all four tables: a write that changes what an earning contributes
//! reads its figures before and after once, payment date included ([`crate::totals`]).
//! [`Tx::commit`] writes the month deltas after the earnings totals (keys sorted), and the
//! month estimates with the estimate totals, converted at the rate those hold (rate rows
//! `FOR SHARE` on PostgreSQL); [`Tx::rebuild_estimates`] re-bases both at a new rate.
//! `reconcile` proves both tables against the rows with [`month_totals_sql`] and
//! [`month_estimates_sql`], the aggregates migration 0033 filled them with.

use std::collections::BTreeMap;

use refshare_core::ledger::EarningKind;
use refshare_core::money::Currency;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::bulk::ph_list;
use crate::monthly::UtcMonth;
use crate::reporting::usd_minor_sql;
use crate::totals::{divisor_table_sql, Totals};
use crate::{currency, get, uuid, Backend, Result, SqlValue, StoreError, Tx};

/// The key of a `month_totals` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthKey {
    pub partner_id: Uuid,
    /// The UTC month of the earnings' payment date (read model).
    pub month: UtcMonth,
    pub currency: Currency,
    /// The earnings' USD rate is locked (`earnings.fx_usd_per_unit_e8` is set).
    pub locked: bool,
}

/// The key of a `month_estimates` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthEstimateKey {
    pub partner_id: Uuid,
    pub month: UtcMonth,
    pub currency: Currency,
}

/// The SQL of the UTC month (`YYYY-MM`) of the instant `ms` (milliseconds after the
/// epoch; an SQL expression, repeated), as [`UtcMonth::of_ms`] computes it: the seconds
/// floored, so that an instant before 1970 falls in its own month, then the backend's
/// calendar.
pub fn month_sql(backend: Backend, ms: &str) -> String {
    let secs = format!("(({ms} - ((({ms} % 1000) + 1000) % 1000)) / 1000)");
    match backend {
        Backend::Sqlite => format!("strftime('%Y-%m', {secs}, 'unixepoch')"),
        Backend::Postgres => format!("to_char(to_timestamp({secs}) AT TIME ZONE 'UTC', 'YYYY-MM')"),
    }
}

/// The month totals of the live earnings `e` with a payment date that `clause` selects,
/// grouped by key: the aggregate behind the deltas, the fill of migration 0033 and
/// `reconcile`. The platform fee is the earning's copy of its payout's (migration 0025,
/// proved by `reconcile`).
pub fn month_totals_sql(backend: Backend, clause: &str) -> Result<String> {
    let month = month_sql(backend, "e.paid_at");
    let usd = usd_minor_sql("e.amount_minor", "e.fx_usd_per_unit_e8", "c.d");
    let pusd = usd_minor_sql("e.platform_fee_minor", "e.fx_usd_per_unit_e8", "c.d");
    let payout = EarningKind::Payout.as_str();
    let locked = "CAST(CASE WHEN e.fx_usd_per_unit_e8 IS NULL THEN 0 ELSE 1 END AS BIGINT)";
    Ok(format!(
        "SELECT e.partner_id AS partner_id, {month} AS month, e.currency AS currency, {locked} AS locked, \
         CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(CASE WHEN e.kind = '{payout}' THEN 1 ELSE 0 END) AS BIGINT) AS payout_n, \
         CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM({usd}), 0) AS BIGINT) AS usd, \
         CAST(COALESCE(SUM(CASE WHEN e.kind = '{payout}' THEN {pusd} ELSE 0 END), 0) AS BIGINT) AS pusd \
         FROM earnings e LEFT JOIN {} c ON c.cur = e.currency \
         WHERE e.voided_at IS NULL AND e.paid_at IS NOT NULL AND ({clause}) \
         GROUP BY e.partner_id, {month}, e.currency, {locked}",
        divisor_table_sql()?
    ))
}

/// The month estimates of the live earnings `e` with a payment date and no locked rate
/// that `clause` selects, in the currencies `estimate_rates` holds as built, each row
/// converted at that rate (USD sums 0 when it is NULL): the aggregate of the re-basing,
/// the fill of migration 0033 and `reconcile`.
pub fn month_estimates_sql(backend: Backend, clause: &str) -> Result<String> {
    let month = month_sql(backend, "e.paid_at");
    let usd = usd_minor_sql("e.amount_minor", "fx.r", "fx.d");
    let pusd = usd_minor_sql("e.platform_fee_minor", "fx.r", "fx.d");
    let payout = EarningKind::Payout.as_str();
    Ok(format!(
        "SELECT e.partner_id AS partner_id, {month} AS month, e.currency AS currency, CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(SUM(CASE WHEN e.kind = '{payout}' THEN 1 ELSE 0 END) AS BIGINT) AS payout_n, \
         CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM({usd}), 0) AS BIGINT) AS usd, \
         CAST(COALESCE(SUM(CASE WHEN e.kind = '{payout}' THEN {pusd} ELSE 0 END), 0) AS BIGINT) AS pusd \
         FROM earnings e JOIN (SELECT r.currency AS cur, c.d AS d, r.rate_e8 AS r FROM estimate_rates r \
         JOIN {} c ON c.cur = r.currency WHERE r.built = 1) fx ON fx.cur = e.currency \
         WHERE e.voided_at IS NULL AND e.fx_usd_per_unit_e8 IS NULL AND e.paid_at IS NOT NULL AND ({clause}) \
         GROUP BY e.partner_id, {month}, e.currency",
        divisor_table_sql()?
    ))
}

fn month_of(r: &AnyRow) -> Result<UtcMonth> {
    let m: String = get(r, "month")?;
    UtcMonth::parse(&m).ok_or_else(|| StoreError::Corrupt(format!("month `{m}`")))
}

fn sums_of(r: &AnyRow) -> Result<Totals> {
    Ok(Totals {
        count: get(r, "n")?,
        payout_count: get(r, "payout_n")?,
        amount_minor: get(r, "amount")?,
        usd_minor: get(r, "usd")?,
        platform_usd_minor: get(r, "pusd")?,
    })
}

fn month_totals_row(r: &AnyRow) -> Result<(MonthKey, Totals)> {
    let key = MonthKey {
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        month: month_of(r)?,
        currency: currency(&get::<String>(r, "currency")?)?,
        locked: get::<i64>(r, "locked")? != 0,
    };
    Ok((key, sums_of(r)?))
}

fn month_estimates_row(r: &AnyRow) -> Result<(MonthEstimateKey, Totals)> {
    let key = MonthEstimateKey {
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        month: month_of(r)?,
        currency: currency(&get::<String>(r, "currency")?)?,
    };
    Ok((key, sums_of(r)?))
}

/// One key column's value in an upsert.
pub(crate) enum KeyValue {
    Text(String),
    Int(i64),
}

const SUM_COLS: [&str; 5] = ["n", "payout_n", "amount_minor", "usd_minor", "platform_usd_minor"];

impl Tx {
    /// Adds the sums to the rows of `table` with these keys (`key_cols`), in the order
    /// given, five hundred rows a statement; zero sums are skipped.
    async fn add_sums(&mut self, table: &str, key_cols: &[&str], rows: Vec<(Vec<KeyValue>, Totals)>) -> Result<()> {
        let rows =
            rows.into_iter().map(|(k, t)| (k, vec![t.count, t.payout_count, t.amount_minor, t.usd_minor, t.platform_usd_minor])).collect();
        self.upsert_sums(table, key_cols, &SUM_COLS, rows).await
    }

    /// Adds the values of `sum_cols` to the rows of `table` with these keys (`key_cols`),
    /// in the order given, five hundred rows a statement; rows whose values are all zero
    /// are skipped. Also the kept statement totals' ([`crate::statement_totals`]).
    pub(crate) async fn upsert_sums(
        &mut self,
        table: &str,
        key_cols: &[&str],
        sum_cols: &[&str],
        rows: Vec<(Vec<KeyValue>, Vec<i64>)>,
    ) -> Result<()> {
        let rows: Vec<_> = rows.into_iter().filter(|(_, t)| t.iter().any(|v| *v != 0)).collect();
        let width = key_cols.len() + sum_cols.len();
        let cols = key_cols.iter().chain(sum_cols.iter()).copied().collect::<Vec<_>>().join(", ");
        let set = sum_cols.iter().map(|c| format!("{c} = {table}.{c} + excluded.{c}")).collect::<Vec<_>>().join(", ");
        for chunk in rows.chunks(500) {
            let values: Vec<String> = (0..chunk.len()).map(|i| format!("({})", ph_list(self.backend, i * width + 1, width))).collect();
            let sql = format!(
                "INSERT INTO {table} ({cols}) VALUES {} ON CONFLICT ({}) DO UPDATE SET {set}",
                values.join(", "),
                key_cols.join(", ")
            );
            let mut values = Vec::with_capacity(chunk.len() * width);
            for (key, sums) in chunk {
                values.extend(key.iter().map(|v| match v {
                    KeyValue::Text(s) => SqlValue::Text(s.clone()),
                    KeyValue::Int(i) => SqlValue::Int(*i),
                }));
                values.extend(sums.iter().copied().map(SqlValue::Int));
            }
            self.upsert(&sql, values).await?;
        }
        Ok(())
    }

    /// Writes the pending month totals deltas, keys sorted, and clears them. Run by
    /// [`Tx::commit`] after the earnings totals.
    pub(crate) async fn flush_month_totals(&mut self) -> Result<()> {
        let deltas = std::mem::take(&mut self.totals.months);
        let rows = deltas
            .into_iter()
            .map(|(k, t)| {
                let key = vec![
                    KeyValue::Text(k.partner_id.to_string()),
                    KeyValue::Text(k.month.key()),
                    KeyValue::Text(k.currency.code().to_string()),
                    KeyValue::Int(i64::from(k.locked)),
                ];
                (key, t)
            })
            .collect();
        self.add_sums("month_totals", &["partner_id", "month", "currency", "locked"], rows).await
    }

    /// Adds converted month estimate deltas (keys sorted by the caller's map); run by
    /// [`Tx::commit`] with the estimate totals, under the same rate locks.
    pub(crate) async fn add_month_estimates(&mut self, deltas: BTreeMap<MonthEstimateKey, Totals>) -> Result<()> {
        let rows = deltas
            .into_iter()
            .map(|(k, t)| {
                let key = vec![
                    KeyValue::Text(k.partner_id.to_string()),
                    KeyValue::Text(k.month.key()),
                    KeyValue::Text(k.currency.code().to_string()),
                ];
                (key, t)
            })
            .collect();
        self.add_sums("month_estimates", &["partner_id", "month", "currency"], rows).await
    }

    /// Recomputes the month estimates of the currencies in `list` (quoted codes, comma
    /// separated) from the rows at the rates `estimate_rates` now holds; part of
    /// [`Tx::rebuild_estimates`], after the rate rows are updated.
    pub(crate) async fn rebuild_month_estimates(&mut self, list: &str) -> Result<()> {
        sqlx::query(&format!("DELETE FROM month_estimates WHERE currency IN ({list})")).execute(self.conn()).await?;
        let sql = month_estimates_sql(self.backend, &format!("e.currency IN ({list})"))?;
        sqlx::query(&format!(
            "INSERT INTO month_estimates (partner_id, month, currency, {}) \
             SELECT partner_id, month, currency, n, payout_n, amount, usd, pusd FROM ({sql}) t",
            SUM_COLS.join(", ")
        ))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Every stored month totals row that counts something, by key (`reconcile`).
    pub async fn month_totals(&mut self) -> Result<Vec<(MonthKey, Totals)>> {
        self.keyed_rows(
            "SELECT partner_id, month, currency, locked, n, payout_n, amount_minor AS amount, usd_minor AS usd, platform_usd_minor AS pusd \
             FROM month_totals WHERE n <> 0 OR payout_n <> 0 OR amount_minor <> 0 OR usd_minor <> 0 OR platform_usd_minor <> 0",
            month_totals_row,
        )
        .await
    }

    /// The month totals recomputed from the rows, by key (`reconcile`).
    pub async fn month_totals_from_rows(&mut self) -> Result<Vec<(MonthKey, Totals)>> {
        self.keyed_rows(&month_totals_sql(self.backend, "1 = 1")?, month_totals_row).await
    }

    /// Every stored month estimates row that counts something, by key (`reconcile`).
    pub async fn month_estimates(&mut self) -> Result<Vec<(MonthEstimateKey, Totals)>> {
        self.keyed_rows(
            "SELECT partner_id, month, currency, n, payout_n, amount_minor AS amount, usd_minor AS usd, platform_usd_minor AS pusd \
             FROM month_estimates WHERE n <> 0 OR payout_n <> 0 OR amount_minor <> 0 OR usd_minor <> 0 OR platform_usd_minor <> 0",
            month_estimates_row,
        )
        .await
    }

    /// The month estimates of the built currencies recomputed from the rows at the rates
    /// `estimate_rates` holds, by key (`reconcile`).
    pub async fn month_estimates_from_rows(&mut self) -> Result<Vec<(MonthEstimateKey, Totals)>> {
        self.keyed_rows(&month_estimates_sql(self.backend, "1 = 1")?, month_estimates_row).await
    }

    /// Overwrites (or adds) a month totals row (tests of `reconcile`: a wrong row must be
    /// found).
    pub async fn corrupt_month_totals(&mut self, key: MonthKey, t: Totals) -> Result<()> {
        sqlx::query("DELETE FROM month_totals WHERE partner_id = $1 AND month = $2 AND currency = $3 AND locked = $4")
            .bind(key.partner_id.to_string())
            .bind(key.month.key())
            .bind(key.currency.code())
            .bind(i64::from(key.locked))
            .execute(self.conn())
            .await?;
        let key = vec![
            KeyValue::Text(key.partner_id.to_string()),
            KeyValue::Text(key.month.key()),
            KeyValue::Text(key.currency.code().to_string()),
            KeyValue::Int(i64::from(key.locked)),
        ];
        self.add_sums("month_totals", &["partner_id", "month", "currency", "locked"], vec![(key, t)]).await
    }

    /// Overwrites (or adds) a month estimates row (tests of `reconcile`).
    pub async fn corrupt_month_estimates(&mut self, key: MonthEstimateKey, t: Totals) -> Result<()> {
        sqlx::query("DELETE FROM month_estimates WHERE partner_id = $1 AND month = $2 AND currency = $3")
            .bind(key.partner_id.to_string())
            .bind(key.month.key())
            .bind(key.currency.code())
            .execute(self.conn())
            .await?;
        let key = vec![
            KeyValue::Text(key.partner_id.to_string()),
            KeyValue::Text(key.month.key()),
            KeyValue::Text(key.currency.code().to_string()),
        ];
        self.add_sums("month_estimates", &["partner_id", "month", "currency"], vec![(key, t)]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fills of migration 0033 are the aggregates `reconcile` proves the tables
    /// against, on each backend.
    #[test]
    fn migration_fills_with_the_reconciled_aggregates() {
        let migrations = [
            (Backend::Sqlite, include_str!("../migrations/sqlite/0033_month_totals.sql")),
            (Backend::Postgres, include_str!("../migrations/postgres/0033_month_totals.sql")),
        ];
        if std::env::var("PRINT_MONTH_SQL").is_ok() {
            for (backend, _) in migrations {
                let (totals, estimates) = (month_totals_sql(backend, "1 = 1").unwrap(), month_estimates_sql(backend, "1 = 1").unwrap());
                println!("{backend:?}\n{totals}\n{estimates}\n");
            }
        }
        for (backend, m) in migrations {
            let totals = month_totals_sql(backend, "1 = 1").unwrap();
            let estimates = month_estimates_sql(backend, "1 = 1").unwrap();
            assert!(m.contains(&totals), "{backend:?}: the month totals fill is not month_totals_sql(\"1 = 1\")");
            assert!(m.contains(&estimates), "{backend:?}: the month estimates fill is not month_estimates_sql(\"1 = 1\")");
        }
    }
}
