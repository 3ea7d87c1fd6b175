//! Kept statement totals (issue 10, migration 0037): what the statement page's totals
//! ([`Tx::statement_totals_from_kept`]) read instead of aggregating the month's rows
//! ([`Tx::statement_totals`], the reference, still read when a currency's estimates are
//! not built at the page's rates; the conformance suite holds the two equal).
//!
//! - `statement_totals`: per (partner, UTC month of the earning's *creation*, stage,
//!   currency, locked) over the live earnings with a stage: rows, clawback rows, amounts,
//!   and for the rows whose USD rate is locked their US cents, each row rounded as
//!   [`usd_minor_sql`] rounds it, then summed. The earnings totals ([`crate::totals`])
//!   with the creation month beside the stage.
//! - `statement_estimates`: per (partner, month, stage, currency) the same sums over the
//!   rows whose rate is not locked, converted at the currency's estimate rate
//!   (`estimate_rates`; USD sums 0 while it is NULL): the month estimates
//!   ([`crate::month_totals`]) by creation month and stage.
//!
//! Fed by the delta that feeds the earnings and month totals (each touched earning's
//! contribution carries its creation instant and kind): [`Tx::commit`] writes the
//! statement deltas after the month totals (keys sorted), and the statement estimates
//! after the month estimates, converted under the same rate locks;
//! [`Tx::rebuild_estimates`] re-bases them with the others; savepoints roll their deltas
//! back with the others'. `reconcile` proves both tables against the rows with
//! [`statement_totals_sql`] and [`statement_estimates_sql`], the aggregates migration
//! 0037 filled them with. The month's void counts are not kept: they stay two index-only
//! range counts ([`Tx::statement_void_counts`]).

use std::collections::{BTreeMap, BTreeSet};

use refshare_core::ledger::EarningKind;
use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use refshare_core::Instant;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::month_totals::{month_sql, KeyValue};
use crate::monthly::{current_rate, UtcMonth};
use crate::reporting::{usd_minor_sql, CurrentRates};
use crate::statements::StatementTotal;
use crate::totals::divisor_table_sql;
use crate::{currency, get, uuid, Backend, Result, StoreError, Tx};

/// The key of a `statement_totals` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementKey {
    pub partner_id: Uuid,
    /// The UTC month of the earnings' creation (`created_at`).
    pub month: UtcMonth,
    pub stage: RevenueStage,
    pub currency: Currency,
    /// The earnings' USD rate is locked (`earnings.fx_usd_per_unit_e8` is set).
    pub locked: bool,
}

/// The key of a `statement_estimates` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatementEstimateKey {
    pub partner_id: Uuid,
    pub month: UtcMonth,
    pub stage: RevenueStage,
    pub currency: Currency,
}

/// The sums of one kept statement row (or a delta of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatementSums {
    pub count: i64,
    /// Rows of kind `clawback` (the reversals section).
    pub clawback_count: i64,
    pub amount_minor: i64,
    /// US cents of the rows: at their locked rate (`statement_totals`, 0 when not locked),
    /// at the estimate rate (`statement_estimates`, 0 without one).
    pub usd_minor: i64,
}

impl StatementSums {
    /// `self + sign · other`, checked.
    pub(crate) fn add(self, other: StatementSums, sign: i64) -> Result<StatementSums> {
        let f = |a: i64, b: i64| {
            b.checked_mul(sign).and_then(|b| a.checked_add(b)).ok_or_else(|| StoreError::Corrupt("statement totals overflow".into()))
        };
        Ok(StatementSums {
            count: f(self.count, other.count)?,
            clawback_count: f(self.clawback_count, other.clawback_count)?,
            amount_minor: f(self.amount_minor, other.amount_minor)?,
            usd_minor: f(self.usd_minor, other.usd_minor)?,
        })
    }

    fn values(&self) -> Vec<i64> {
        vec![self.count, self.clawback_count, self.amount_minor, self.usd_minor]
    }
}

const SUM_COLS: [&str; 4] = ["n", "clawback_n", "amount_minor", "usd_minor"];

/// The kept statement totals of the live earnings `e` with a stage that `clause` selects,
/// grouped by key: the fill of migration 0037 and `reconcile`'s reference.
pub fn statement_totals_sql(backend: Backend, clause: &str) -> Result<String> {
    let month = month_sql(backend, "e.created_at");
    let usd = usd_minor_sql("e.amount_minor", "e.fx_usd_per_unit_e8", "c.d");
    let clawback = EarningKind::Clawback.as_str();
    let locked = "CAST(CASE WHEN e.fx_usd_per_unit_e8 IS NULL THEN 0 ELSE 1 END AS BIGINT)";
    Ok(format!(
        "SELECT e.partner_id AS partner_id, {month} AS month, e.stage AS stage, e.currency AS currency, {locked} AS locked, \
         CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(CASE WHEN e.kind = '{clawback}' THEN 1 ELSE 0 END) AS BIGINT) AS clawback_n, \
         CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM({usd}), 0) AS BIGINT) AS usd \
         FROM earnings e LEFT JOIN {} c ON c.cur = e.currency \
         WHERE e.voided_at IS NULL AND e.stage IS NOT NULL AND ({clause}) \
         GROUP BY e.partner_id, {month}, e.stage, e.currency, {locked}",
        divisor_table_sql()?
    ))
}

/// The kept statement estimates of the live earnings `e` with a stage and no locked rate
/// that `clause` selects, in the currencies `estimate_rates` holds as built, each row
/// converted at that rate (USD sums 0 when it is NULL): the aggregate of the re-basing,
/// the fill of migration 0037 and `reconcile`.
pub fn statement_estimates_sql(backend: Backend, clause: &str) -> Result<String> {
    let month = month_sql(backend, "e.created_at");
    let usd = usd_minor_sql("e.amount_minor", "fx.r", "fx.d");
    let clawback = EarningKind::Clawback.as_str();
    Ok(format!(
        "SELECT e.partner_id AS partner_id, {month} AS month, e.stage AS stage, e.currency AS currency, CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(SUM(CASE WHEN e.kind = '{clawback}' THEN 1 ELSE 0 END) AS BIGINT) AS clawback_n, \
         CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM({usd}), 0) AS BIGINT) AS usd \
         FROM earnings e JOIN (SELECT r.currency AS cur, c.d AS d, r.rate_e8 AS r FROM estimate_rates r \
         JOIN {} c ON c.cur = r.currency WHERE r.built = 1) fx ON fx.cur = e.currency \
         WHERE e.voided_at IS NULL AND e.fx_usd_per_unit_e8 IS NULL AND e.stage IS NOT NULL AND ({clause}) \
         GROUP BY e.partner_id, {month}, e.stage, e.currency",
        divisor_table_sql()?
    ))
}

fn month_of(r: &AnyRow) -> Result<UtcMonth> {
    let m: String = get(r, "month")?;
    UtcMonth::parse(&m).ok_or_else(|| StoreError::Corrupt(format!("month `{m}`")))
}

fn stage_of(r: &AnyRow) -> Result<RevenueStage> {
    let s: String = get(r, "stage")?;
    RevenueStage::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("stage `{s}`")))
}

fn sums_of(r: &AnyRow) -> Result<StatementSums> {
    Ok(StatementSums {
        count: get(r, "n")?,
        clawback_count: get(r, "clawback_n")?,
        amount_minor: get(r, "amount")?,
        usd_minor: get(r, "usd")?,
    })
}

fn totals_row(r: &AnyRow) -> Result<(StatementKey, StatementSums)> {
    let key = StatementKey {
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        month: month_of(r)?,
        stage: stage_of(r)?,
        currency: currency(&get::<String>(r, "currency")?)?,
        locked: get::<i64>(r, "locked")? != 0,
    };
    Ok((key, sums_of(r)?))
}

fn estimates_row(r: &AnyRow) -> Result<(StatementEstimateKey, StatementSums)> {
    let key = StatementEstimateKey {
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        month: month_of(r)?,
        stage: stage_of(r)?,
        currency: currency(&get::<String>(r, "currency")?)?,
    };
    Ok((key, sums_of(r)?))
}

fn totals_key(k: &StatementKey) -> Vec<KeyValue> {
    vec![
        KeyValue::Text(k.partner_id.to_string()),
        KeyValue::Text(k.month.key()),
        KeyValue::Text(k.stage.as_str().to_string()),
        KeyValue::Text(k.currency.code().to_string()),
        KeyValue::Int(i64::from(k.locked)),
    ]
}

fn estimates_key(k: &StatementEstimateKey) -> Vec<KeyValue> {
    vec![
        KeyValue::Text(k.partner_id.to_string()),
        KeyValue::Text(k.month.key()),
        KeyValue::Text(k.stage.as_str().to_string()),
        KeyValue::Text(k.currency.code().to_string()),
    ]
}

const TOTALS_KEY_COLS: [&str; 5] = ["partner_id", "month", "stage", "currency", "locked"];
const ESTIMATES_KEY_COLS: [&str; 4] = ["partner_id", "month", "stage", "currency"];
const STORED_FILTER: &str = "n <> 0 OR clawback_n <> 0 OR amount_minor <> 0 OR usd_minor <> 0";

/// One (stage, currency) of the page being summed, checked.
fn add_to(total: &mut StatementTotal, count: i64, clawbacks: i64, amount_minor: i64, usd_minor: i64, usd_missing: i64) -> Result<()> {
    let overflow = || StoreError::Corrupt("statement totals overflow".into());
    total.count = total.count.checked_add(count).ok_or_else(overflow)?;
    total.clawbacks = total.clawbacks.checked_add(clawbacks).ok_or_else(overflow)?;
    total.amount_minor = total.amount_minor.checked_add(amount_minor).ok_or_else(overflow)?;
    total.usd_minor = total.usd_minor.checked_add(usd_minor).ok_or_else(overflow)?;
    total.usd_missing = total.usd_missing.checked_add(usd_missing).ok_or_else(overflow)?;
    Ok(())
}

impl Tx {
    /// Writes the pending statement totals deltas, keys sorted, and clears them. Run by
    /// [`Tx::commit`] after the month totals.
    pub(crate) async fn flush_statement_totals(&mut self) -> Result<()> {
        let deltas = std::mem::take(&mut self.totals.statements);
        let rows = deltas.iter().map(|(k, t)| (totals_key(k), t.values())).collect();
        self.upsert_sums("statement_totals", &TOTALS_KEY_COLS, &SUM_COLS, rows).await
    }

    /// Adds converted statement estimate deltas (keys sorted by the caller's map); run by
    /// [`Tx::commit`] after the month estimates, under the same rate locks.
    pub(crate) async fn add_statement_estimates(&mut self, deltas: BTreeMap<StatementEstimateKey, StatementSums>) -> Result<()> {
        let rows = deltas.iter().map(|(k, t)| (estimates_key(k), t.values())).collect();
        self.upsert_sums("statement_estimates", &ESTIMATES_KEY_COLS, &SUM_COLS, rows).await
    }

    /// Recomputes the statement estimates of the currencies in `list` (quoted codes, comma
    /// separated) from the rows at the rates `estimate_rates` now holds; part of
    /// [`Tx::rebuild_estimates`], after the rate rows are updated.
    pub(crate) async fn rebuild_statement_estimates(&mut self, list: &str) -> Result<()> {
        sqlx::query(&format!("DELETE FROM statement_estimates WHERE currency IN ({list})")).execute(self.conn()).await?;
        let sql = statement_estimates_sql(self.backend, &format!("e.currency IN ({list})"))?;
        sqlx::query(&format!(
            "INSERT INTO statement_estimates (partner_id, month, stage, currency, {}) \
             SELECT partner_id, month, stage, currency, n, clawback_n, amount, usd FROM ({sql}) t",
            SUM_COLS.join(", ")
        ))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The partner's live earnings created in `[from, to)` per stage and currency, from the
    /// kept statement totals and estimates (migration 0037) when they can answer
    /// ([`Tx::kept_statement_totals_of_month`]), else aggregated from the month's rows
    /// ([`Tx::statement_totals`], the reference): the same figures either way.
    pub async fn statement_totals_from_kept(
        &mut self,
        partner_id: Uuid,
        from: Instant,
        to: Instant,
        rates: &CurrentRates,
    ) -> Result<Vec<StatementTotal>> {
        match self.kept_statement_totals_of_month(partner_id, from, to, rates).await? {
            Some(totals) => Ok(totals),
            None => self.statement_totals(partner_id, from, to, rates).await,
        }
    }

    /// [`Tx::statement_totals`] from the kept statement totals and estimates: one read of
    /// a (partner, month) range of each, and the rate states. The estimates of a currency are read from
    /// `statement_estimates` when they are built at its rate in `rates` (the check of the
    /// reporting summary and the chart); `None` when a currency with estimates in the
    /// month is not, or `[from, to)` is not one UTC month.
    pub async fn kept_statement_totals_of_month(
        &mut self,
        partner_id: Uuid,
        from: Instant,
        to: Instant,
        rates: &CurrentRates,
    ) -> Result<Option<Vec<StatementTotal>>> {
        let month = UtcMonth::containing(from);
        if month.start() != from || month.end() != to {
            return Ok(None);
        }
        // One statement, so one snapshot on PostgreSQL's READ COMMITTED too: the totals
        // rows (part 0), then every currency's rate state with its estimate rows (part 1).
        let rows = sqlx::query(
            "SELECT CAST(0 AS BIGINT) AS part, t.stage AS stage, t.currency AS currency, t.locked AS locked, \
             CAST(NULL AS BIGINT) AS built, CAST(NULL AS BIGINT) AS rate_e8, t.n AS n, t.clawback_n AS clawback_n, \
             t.amount_minor AS amount, t.usd_minor AS usd FROM statement_totals t WHERE t.partner_id = $1 AND t.month = $2 \
             UNION ALL SELECT CAST(1 AS BIGINT) AS part, s.stage AS stage, r.currency AS currency, CAST(NULL AS BIGINT) AS locked, \
             r.built AS built, r.rate_e8 AS rate_e8, s.n AS n, s.clawback_n AS clawback_n, s.amount_minor AS amount, s.usd_minor AS usd \
             FROM estimate_rates r LEFT JOIN statement_estimates s ON s.currency = r.currency AND s.partner_id = $1 AND s.month = $2",
        )
        .bind(partner_id.to_string())
        .bind(month.key())
        .fetch_all(self.conn())
        .await?;
        let (mut totals, mut estimates) = (Vec::new(), Vec::new());
        for r in &rows {
            match get::<i64>(r, "part")? {
                0 => totals.push(r),
                _ => estimates.push(r),
            }
        }
        // Keyed as the reference orders its groups: stage, then currency (as text).
        let mut groups: BTreeMap<(String, String), StatementTotal> = BTreeMap::new();
        // Counts and amounts of every row, US cents of the locked ones; the currencies
        // with estimates.
        let mut with_estimates: BTreeSet<Currency> = BTreeSet::new();
        for r in totals {
            let stage = stage_of(r)?;
            let c = currency(&get::<String>(r, "currency")?)?;
            let locked = get::<i64>(r, "locked")? != 0;
            let n: i64 = get(r, "n")?;
            let usd = if locked { get::<i64>(r, "usd")? } else { 0 };
            if !locked && n != 0 {
                with_estimates.insert(c);
            }
            let t = groups.entry((stage.as_str().to_string(), c.code().to_string())).or_insert_with(|| empty_total(stage, c));
            add_to(t, n, get(r, "clawback_n")?, get(r, "amount")?, usd, 0)?;
        }
        // Estimates of the currencies built at the page's rate: their kept US cents, or
        // missing when that rate is none.
        let mut usable: BTreeSet<Currency> = BTreeSet::new();
        for r in estimates {
            let c = currency(&get::<String>(r, "currency")?)?;
            let rate: Option<i64> = get(r, "rate_e8")?;
            if get::<i64>(r, "built")? == 0 || rate != current_rate(rates, c) {
                continue;
            }
            usable.insert(c);
            let Some(stage) = get::<Option<String>>(r, "stage")? else { continue };
            let stage = RevenueStage::parse(&stage).ok_or_else(|| StoreError::Corrupt(format!("stage `{stage}`")))?;
            let (n, usd): (i64, i64) = (get(r, "n")?, get(r, "usd")?);
            if n == 0 && usd == 0 {
                continue;
            }
            let t = groups.entry((stage.as_str().to_string(), c.code().to_string())).or_insert_with(|| empty_total(stage, c));
            match rate {
                Some(_) => add_to(t, 0, 0, 0, usd, 0)?,
                None => add_to(t, 0, 0, 0, 0, n)?,
            }
        }
        if !with_estimates.is_subset(&usable) {
            return Ok(None);
        }
        Ok(Some(groups.into_values().filter(|t| t.count != 0).collect()))
    }

    /// Every stored statement totals row that counts something, by key (`reconcile`).
    pub async fn kept_statement_totals(&mut self) -> Result<Vec<(StatementKey, StatementSums)>> {
        self.keyed_rows(
            &format!(
                "SELECT partner_id, month, stage, currency, locked, n, clawback_n, amount_minor AS amount, usd_minor AS usd \
                 FROM statement_totals WHERE {STORED_FILTER}"
            ),
            totals_row,
        )
        .await
    }

    /// The statement totals recomputed from the rows, by key (`reconcile`).
    pub async fn kept_statement_totals_from_rows(&mut self) -> Result<Vec<(StatementKey, StatementSums)>> {
        self.keyed_rows(&statement_totals_sql(self.backend, "1 = 1")?, totals_row).await
    }

    /// Every stored statement estimates row that counts something, by key (`reconcile`).
    pub async fn kept_statement_estimates(&mut self) -> Result<Vec<(StatementEstimateKey, StatementSums)>> {
        self.keyed_rows(
            &format!(
                "SELECT partner_id, month, stage, currency, n, clawback_n, amount_minor AS amount, usd_minor AS usd \
                 FROM statement_estimates WHERE {STORED_FILTER}"
            ),
            estimates_row,
        )
        .await
    }

    /// The statement estimates of the built currencies recomputed from the rows at the
    /// rates `estimate_rates` holds, by key (`reconcile`).
    pub async fn kept_statement_estimates_from_rows(&mut self) -> Result<Vec<(StatementEstimateKey, StatementSums)>> {
        self.keyed_rows(&statement_estimates_sql(self.backend, "1 = 1")?, estimates_row).await
    }

    /// Overwrites (or adds) a statement totals row (tests of `reconcile`: a wrong row must
    /// be found).
    pub async fn corrupt_statement_totals(&mut self, key: StatementKey, t: StatementSums) -> Result<()> {
        sqlx::query("DELETE FROM statement_totals WHERE partner_id = $1 AND month = $2 AND stage = $3 AND currency = $4 AND locked = $5")
            .bind(key.partner_id.to_string())
            .bind(key.month.key())
            .bind(key.stage.as_str())
            .bind(key.currency.code())
            .bind(i64::from(key.locked))
            .execute(self.conn())
            .await?;
        self.upsert_sums("statement_totals", &TOTALS_KEY_COLS, &SUM_COLS, vec![(totals_key(&key), t.values())]).await
    }

    /// Overwrites (or adds) a statement estimates row (tests of `reconcile`).
    pub async fn corrupt_statement_estimates(&mut self, key: StatementEstimateKey, t: StatementSums) -> Result<()> {
        sqlx::query("DELETE FROM statement_estimates WHERE partner_id = $1 AND month = $2 AND stage = $3 AND currency = $4")
            .bind(key.partner_id.to_string())
            .bind(key.month.key())
            .bind(key.stage.as_str())
            .bind(key.currency.code())
            .execute(self.conn())
            .await?;
        self.upsert_sums("statement_estimates", &ESTIMATES_KEY_COLS, &SUM_COLS, vec![(estimates_key(&key), t.values())]).await
    }
}

fn empty_total(stage: RevenueStage, currency: Currency) -> StatementTotal {
    StatementTotal { stage, currency, count: 0, amount_minor: 0, usd_minor: 0, usd_missing: 0, clawbacks: 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fills of migration 0037 are the aggregates `reconcile` proves the tables
    /// against, on each backend.
    #[test]
    fn migration_fills_with_the_reconciled_aggregates() {
        let migrations = [
            (Backend::Sqlite, include_str!("../migrations/sqlite/0037_statement_totals.sql")),
            (Backend::Postgres, include_str!("../migrations/postgres/0037_statement_totals.sql")),
        ];
        if std::env::var("PRINT_STATEMENT_SQL").is_ok() {
            for (backend, _) in migrations {
                let (totals, estimates) =
                    (statement_totals_sql(backend, "1 = 1").unwrap(), statement_estimates_sql(backend, "1 = 1").unwrap());
                println!("{backend:?}\n{totals}\n{estimates}\n");
            }
        }
        for (backend, m) in migrations {
            let totals = statement_totals_sql(backend, "1 = 1").unwrap();
            let estimates = statement_estimates_sql(backend, "1 = 1").unwrap();
            assert!(m.contains(&totals), "{backend:?}: the statement totals fill is not statement_totals_sql(\"1 = 1\")");
            assert!(m.contains(&estimates), "{backend:?}: the statement estimates fill is not statement_estimates_sql(\"1 = 1\")");
        }
    }
}
