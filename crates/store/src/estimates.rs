//! The estimate totals (issue 9, migration 0025): per (partner, stage, currency) the live
//! earnings whose USD rate is not locked, summed with each row converted at the
//! currency's estimate rate (`estimate_rates`) and rounded half to even as the summary's
//! aggregate rounds it, so the reporting summary of a large partner reads a few rows
//! instead of converting tens of thousands at today's rate.
//!
//! - **Deltas.** The totals' writers ([`crate::totals`]) queue every touched estimate row
//!   with its sign; [`Tx::commit`] converts them at the rate the cache holds for their
//!   currency and upserts the sums (keys sorted), after the earnings totals. On
//!   PostgreSQL the rate rows are read `FOR SHARE`, held until the commit.
//! - **Re-basing.** [`Tx::rebuild_estimates`] (a rate load, the app's start) sets a
//!   currency's rate and recomputes its sums with one `GROUP BY`. It first updates the
//!   rate rows (sorted): that waits for every writer that converted at the old rate to
//!   commit, and holds off the others until it commits, so no delta is lost or
//!   converted at the wrong rate.
//! - **Reading.** A summary uses a currency's sums only when the cache is built for it at
//!   the current rate; otherwise that currency's rows are aggregated as before.
//!   `reconcile` proves the sums against the rows.
//! - **By month.** The month estimates (migration 0033, [`crate::month_totals`]) are the
//!   same rows by payment month: converted in the same flush at the same rates, re-based
//!   in the same [`Tx::rebuild_estimates`]. So are the statement estimates (migration
//!   0037, [`crate::statement_totals`]): the same rows by creation month and stage.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use refshare_core::ledger::EarningKind;
use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::bulk::{ph, ph_list};
use crate::client_totals::{ClientSums, ClientTotalsKey};
use crate::month_totals::MonthEstimateKey;
use crate::monthly::UtcMonth;
use crate::reporting::{usd_divisor, usd_minor_sql};
use crate::statement_totals::{StatementEstimateKey, StatementSums};
use crate::totals::{usd_of, Totals};
use crate::{currency, get, uuid, Backend, Result, SqlValue, StoreError, Tx};

/// The key of an estimate totals row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EstimateKey {
    pub partner_id: Uuid,
    pub stage: RevenueStage,
    pub currency: Currency,
}

/// One estimate row's figures, queued for the flush: to the estimate totals of its stage
/// and the month estimates of its payment month, each when it has one, and to the
/// statement estimates of its creation month and stage when it has a stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EstimateRow {
    pub partner_id: Uuid,
    /// The client of its case: to the client estimates ([`crate::client_totals`]) when set.
    pub client_id: Option<Uuid>,
    pub currency: Currency,
    pub stage: Option<RevenueStage>,
    pub month: Option<UtcMonth>,
    /// The UTC month of its creation.
    pub created_month: UtcMonth,
    pub payout: bool,
    pub clawback: bool,
    pub amount_minor: i64,
    pub platform_fee_minor: i64,
}

/// What a currency's estimate totals hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EstimateRate {
    pub currency: Currency,
    /// The totals hold this currency's estimates.
    pub built: bool,
    /// The rate they are converted at; `None`: no rate (USD sums 0).
    pub rate_e8: Option<i64>,
}

/// A partner's estimate totals with every currency's rate state (one read).
#[derive(Debug, Clone, Default)]
pub struct EstimateCache {
    pub rates: Vec<EstimateRate>,
    /// Rows that count something, by key.
    pub rows: Vec<(EstimateKey, Totals)>,
}

/// The estimate totals recomputed from the rows for the currencies of `rates` at those
/// rates, restricted by `clause` (`e`): one aggregate, used to re-base and by `reconcile`.
pub fn estimates_sql(rates: &[(Currency, Option<i64>)], clause: &str) -> Result<String> {
    let mut table = Vec::new();
    for (c, r) in rates {
        let r = r.map_or("CAST(NULL AS BIGINT)".to_string(), |r| format!("CAST({r} AS BIGINT)"));
        // Codes are three ASCII letters and rates integers: nothing here is user input.
        table.push(format!("SELECT '{}' AS cur, CAST({} AS BIGINT) AS d, {r} AS r", c.code(), usd_divisor(*c)?));
    }
    if table.is_empty() {
        table.push("SELECT '' AS cur, CAST(1 AS BIGINT) AS d, CAST(NULL AS BIGINT) AS r".into());
    }
    let usd = usd_minor_sql("e.amount_minor", "fx.r", "fx.d");
    let pusd = usd_minor_sql("e.platform_fee_minor", "fx.r", "fx.d");
    let payout = EarningKind::Payout.as_str();
    Ok(format!(
        "SELECT e.partner_id AS partner_id, e.stage AS stage, e.currency AS currency, CAST(COUNT(*) AS BIGINT) AS n, \
         CAST(SUM(CASE WHEN e.kind = '{payout}' THEN 1 ELSE 0 END) AS BIGINT) AS payout_n, \
         CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM({usd}), 0) AS BIGINT) AS usd, \
         CAST(COALESCE(SUM(CASE WHEN e.kind = '{payout}' THEN {pusd} ELSE 0 END), 0) AS BIGINT) AS pusd \
         FROM earnings e JOIN ({}) fx ON fx.cur = e.currency \
         WHERE e.voided_at IS NULL AND e.fx_usd_per_unit_e8 IS NULL AND e.stage IS NOT NULL AND ({clause}) \
         GROUP BY e.partner_id, e.stage, e.currency",
        table.join(" UNION ALL ")
    ))
}

/// The read of a partner's (`$1`) estimate totals beside every currency's rate state, in
/// `stages` stages bound after it (all when 0).
pub(crate) fn partner_estimates_sql(backend: Backend, stages: usize) -> String {
    let stage_clause = if stages > 0 { format!(" AND t.stage IN ({})", ph_list(backend, 2, stages)) } else { String::new() };
    format!(
        "SELECT r.currency AS currency, r.built AS built, r.rate_e8 AS rate_e8, t.partner_id AS partner_id, t.stage AS stage, \
         t.n AS n, t.payout_n AS payout_n, t.amount_minor AS amount, t.usd_minor AS usd, t.platform_usd_minor AS pusd \
         FROM estimate_rates r LEFT JOIN estimate_totals t ON t.currency = r.currency AND t.partner_id = {}{stage_clause} \
         ORDER BY r.currency",
        ph(backend, 1)
    )
}

fn key_totals(r: &AnyRow) -> Result<(EstimateKey, Totals)> {
    let stage: String = get(r, "stage")?;
    let key = EstimateKey {
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        stage: RevenueStage::parse(&stage).ok_or_else(|| StoreError::Corrupt(format!("stage `{stage}`")))?,
        currency: currency(&get::<String>(r, "currency")?)?,
    };
    let t = Totals {
        count: get(r, "n")?,
        payout_count: get(r, "payout_n")?,
        amount_minor: get(r, "amount")?,
        usd_minor: get(r, "usd")?,
        platform_usd_minor: get(r, "pusd")?,
    };
    Ok((key, t))
}

fn rate_from(r: &AnyRow) -> Result<EstimateRate> {
    Ok(EstimateRate {
        currency: currency(&get::<String>(r, "currency")?)?,
        built: get::<i64>(r, "built")? != 0,
        rate_e8: get(r, "rate_e8")?,
    })
}

const UPSERT_COLS: &str = "partner_id, stage, currency, n, payout_n, amount_minor, usd_minor, platform_usd_minor";

impl Tx {
    /// Converts the queued estimate rows at the rates the cache holds for their currencies
    /// and adds them to the estimate totals, then to the month estimates, then to the
    /// statement estimates (keys sorted).
    /// Run by [`Tx::commit`] after the earnings and month totals; currencies the cache does
    /// not hold are skipped.
    pub(crate) async fn flush_estimates(&mut self) -> Result<()> {
        let rows = std::mem::take(&mut self.totals.estimates);
        if rows.is_empty() {
            return Ok(());
        }
        let currencies: Vec<Currency> = rows.iter().map(|(r, _)| r.currency).collect::<BTreeSet<_>>().into_iter().collect();
        // Shared locks on the rate rows, in currency order: a re-base of these currencies
        // waits for this commit, and this waits for a re-base under way.
        let lock = if self.backend == Backend::Postgres { " FOR SHARE" } else { "" };
        let sql = format!(
            "SELECT currency, built, rate_e8 FROM estimate_rates WHERE currency IN ({}) ORDER BY currency{lock}",
            ph_list(self.backend, 1, currencies.len())
        );
        let mut q = sqlx::query(&sql);
        for c in &currencies {
            q = q.bind(c.code());
        }
        let rates: HashMap<Currency, EstimateRate> =
            q.fetch_all(self.conn()).await?.iter().map(rate_from).map(|r| r.map(|r| (r.currency, r))).collect::<Result<_>>()?;
        let mut deltas: BTreeMap<EstimateKey, Totals> = BTreeMap::new();
        let mut month_deltas: BTreeMap<MonthEstimateKey, Totals> = BTreeMap::new();
        let mut statement_deltas: BTreeMap<StatementEstimateKey, StatementSums> = BTreeMap::new();
        let mut client_deltas: BTreeMap<ClientTotalsKey, ClientSums> = BTreeMap::new();
        for (row, sign) in rows {
            let Some(rate) = rates.get(&row.currency).filter(|r| r.built) else { continue };
            let (usd_minor, platform_usd_minor) = match rate.rate_e8 {
                Some(r) => (
                    usd_of(row.amount_minor, row.currency, r)?,
                    if row.payout { usd_of(row.platform_fee_minor, row.currency, r)? } else { 0 },
                ),
                None => (0, 0),
            };
            let t = Totals { count: 1, payout_count: i64::from(row.payout), amount_minor: row.amount_minor, usd_minor, platform_usd_minor };
            if let Some(stage) = row.stage {
                let e = deltas.entry(EstimateKey { partner_id: row.partner_id, stage, currency: row.currency }).or_default();
                *e = e.add(t, sign)?;
                let key = StatementEstimateKey { partner_id: row.partner_id, month: row.created_month, stage, currency: row.currency };
                let s = StatementSums { count: 1, clawback_count: i64::from(row.clawback), amount_minor: row.amount_minor, usd_minor };
                let e = statement_deltas.entry(key).or_default();
                *e = e.add(s, sign)?;
            }
            if let Some(client_id) = row.client_id {
                let key = ClientTotalsKey { partner_id: row.partner_id, client_id, currency: row.currency, locked: false };
                let e = client_deltas.entry(key).or_default();
                *e = e.add(ClientSums { count: 1, usd_minor }, sign)?;
            }
            if let Some(month) = row.month {
                let e = month_deltas.entry(MonthEstimateKey { partner_id: row.partner_id, month, currency: row.currency }).or_default();
                *e = e.add(t, sign)?;
            }
        }
        let deltas: Vec<(EstimateKey, Totals)> = deltas.into_iter().filter(|(_, t)| !t.is_zero()).collect();
        // Eight values per row; five hundred rows per statement.
        for chunk in deltas.chunks(500) {
            let mut sql = format!("INSERT INTO estimate_totals ({UPSERT_COLS}) VALUES ");
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                sql.push_str(&ph_list(self.backend, i * 8 + 1, 8));
                sql.push(')');
            }
            sql.push_str(
                " ON CONFLICT (partner_id, stage, currency) DO UPDATE SET n = estimate_totals.n + excluded.n, \
                 payout_n = estimate_totals.payout_n + excluded.payout_n, \
                 amount_minor = estimate_totals.amount_minor + excluded.amount_minor, \
                 usd_minor = estimate_totals.usd_minor + excluded.usd_minor, \
                 platform_usd_minor = estimate_totals.platform_usd_minor + excluded.platform_usd_minor",
            );
            let mut values = Vec::with_capacity(chunk.len() * 8);
            for (k, t) in chunk {
                values.extend([
                    SqlValue::Text(k.partner_id.to_string()),
                    SqlValue::Text(k.stage.as_str().to_string()),
                    SqlValue::Text(k.currency.code().to_string()),
                ]);
                values.extend([t.count, t.payout_count, t.amount_minor, t.usd_minor, t.platform_usd_minor].map(SqlValue::Int));
            }
            self.upsert(&sql, values).await?;
        }
        self.add_month_estimates(month_deltas).await?;
        self.add_statement_estimates(statement_deltas).await?;
        self.add_client_estimates(client_deltas).await
    }

    /// Builds or re-bases the estimate totals of these currencies at these rates: the
    /// rate rows first (sorted; on PostgreSQL this waits for the writers that hold them),
    /// then the currencies' sums recomputed with one aggregate, their month estimates
    /// with another and their statement estimates with a third. The estimate rows this transaction queued for them are dropped: the
    /// aggregates already see its writes.
    pub async fn rebuild_estimates(&mut self, rates: &[(Currency, Option<i64>)]) -> Result<()> {
        let mut rates = rates.to_vec();
        rates.sort_by_key(|(c, _)| *c);
        rates.dedup_by_key(|(c, _)| *c);
        if rates.is_empty() {
            return Ok(());
        }
        for (c, r) in &rates {
            sqlx::query("UPDATE estimate_rates SET built = 1, rate_e8 = $1 WHERE currency = $2")
                .bind(*r)
                .bind(c.code())
                .execute(self.conn())
                .await?;
        }
        let codes: Vec<String> = rates.iter().map(|(c, _)| format!("'{}'", c.code())).collect();
        let list = codes.join(", ");
        sqlx::query(&format!("DELETE FROM estimate_totals WHERE currency IN ({list})")).execute(self.conn()).await?;
        let sql = estimates_sql(&rates, &format!("e.currency IN ({list})"))?;
        sqlx::query(&format!(
            "INSERT INTO estimate_totals ({UPSERT_COLS}) SELECT partner_id, stage, currency, n, payout_n, amount, usd, pusd FROM ({sql}) t"
        ))
        .execute(self.conn())
        .await?;
        self.rebuild_month_estimates(&list).await?;
        self.rebuild_statement_estimates(&list).await?;
        self.rebuild_client_estimates(&list).await?;
        self.totals.estimates.retain(|(r, _)| !rates.iter().any(|(c, _)| *c == r.currency));
        Ok(())
    }

    /// Every currency's estimate rate state, by currency.
    pub async fn estimate_rates(&mut self) -> Result<Vec<EstimateRate>> {
        let rows = sqlx::query("SELECT currency, built, rate_e8 FROM estimate_rates ORDER BY currency").fetch_all(self.conn()).await?;
        rows.iter().map(rate_from).collect()
    }

    /// The partner's estimate totals in `stages` (all when empty) and every currency's rate
    /// state, in one read.
    pub async fn estimate_cache_of_partner(&mut self, partner_id: Uuid, stages: &[RevenueStage]) -> Result<EstimateCache> {
        let sql = partner_estimates_sql(self.backend, stages.len());
        let mut q = sqlx::query(&sql).bind(partner_id.to_string());
        for s in stages {
            q = q.bind(s.as_str());
        }
        let mut cache = EstimateCache::default();
        for r in q.fetch_all(self.conn()).await? {
            let rate = rate_from(&r)?;
            if cache.rates.last().map(|x| x.currency) != Some(rate.currency) {
                cache.rates.push(rate);
            }
            if get::<Option<String>>(&r, "stage")?.is_some() {
                let (k, t) = key_totals(&r)?;
                if !t.is_zero() {
                    cache.rows.push((k, t));
                }
            }
        }
        Ok(cache)
    }

    /// Every stored estimate totals row that counts something, by key (`reconcile`).
    pub async fn estimate_totals(&mut self) -> Result<Vec<(EstimateKey, Totals)>> {
        self.keyed_rows(
            "SELECT partner_id, stage, currency, n, payout_n, amount_minor AS amount, usd_minor AS usd, platform_usd_minor AS pusd \
             FROM estimate_totals WHERE n <> 0 OR payout_n <> 0 OR amount_minor <> 0 OR usd_minor <> 0 OR platform_usd_minor <> 0",
            key_totals,
        )
        .await
    }

    /// The estimate totals of the built currencies recomputed from the rows at the rates
    /// the cache holds, by key (`reconcile`).
    pub async fn estimate_totals_from_rows(&mut self) -> Result<Vec<(EstimateKey, Totals)>> {
        let built: Vec<(Currency, Option<i64>)> =
            self.estimate_rates().await?.into_iter().filter(|r| r.built).map(|r| (r.currency, r.rate_e8)).collect();
        if built.is_empty() {
            return Ok(Vec::new());
        }
        self.keyed_rows(&estimates_sql(&built, "1 = 1")?, key_totals).await
    }

    /// Overwrites (or adds) an estimate totals row (tests of `reconcile`).
    pub async fn corrupt_estimate_totals(&mut self, key: EstimateKey, t: Totals) -> Result<()> {
        sqlx::query("DELETE FROM estimate_totals WHERE partner_id = $1 AND stage = $2 AND currency = $3")
            .bind(key.partner_id.to_string())
            .bind(key.stage.as_str())
            .bind(key.currency.code())
            .execute(self.conn())
            .await?;
        sqlx::query(&format!("INSERT INTO estimate_totals ({UPSERT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(key.partner_id.to_string())
            .bind(key.stage.as_str())
            .bind(key.currency.code())
            .bind(t.count)
            .bind(t.payout_count)
            .bind(t.amount_minor)
            .bind(t.usd_minor)
            .bind(t.platform_usd_minor)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The first earning whose platform fee (read model, migration 0025) is not its
    /// payout's: (earning, stored, payout's), or `None` (`reconcile`).
    pub async fn platform_fee_mismatch(&mut self) -> Result<Option<(Uuid, Option<i64>, i64)>> {
        let row = sqlx::query(
            "SELECT e.id, e.platform_fee_minor AS stored, p.platform_fee_minor AS fee FROM earnings e JOIN payouts p ON p.id = e.payout_id \
             WHERE e.platform_fee_minor IS NULL OR e.platform_fee_minor <> p.platform_fee_minor ORDER BY e.id LIMIT 1",
        )
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| Ok((uuid(&get::<String>(&r, "id")?)?, get(&r, "stored")?, get(&r, "fee")?))).transpose()
    }

    /// Overwrites an earning's platform fee (tests of `reconcile`).
    pub async fn corrupt_earning_platform_fee(&mut self, earning_id: Uuid, fee: Option<i64>) -> Result<()> {
        sqlx::query("UPDATE earnings SET platform_fee_minor = $1 WHERE id = $2")
            .bind(fee)
            .bind(earning_id.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every known currency has its rate row from migration 0025 on: writers lock it, so a
    /// currency without one could never be built safely.
    #[test]
    fn migration_lists_every_currency() {
        for m in
            [include_str!("../migrations/sqlite/0025_estimate_totals.sql"), include_str!("../migrations/postgres/0025_estimate_totals.sql")]
        {
            for c in Currency::all() {
                assert!(m.contains(&format!("('{}', 0, NULL)", c.code())), "0025 has no estimate_rates row for {}", c.code());
            }
        }
    }
}
