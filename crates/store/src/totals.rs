//! Per-partner earnings totals (issue 9, migration 0022): per (partner, stage, currency,
//! locked) the count, the payout earnings' count, the amount and, for rows whose USD rate
//! is locked, the US cents of the earnings and of the platform's revenue (each row
//! rounded as [`usd_minor_sql`] does, then summed). Only live earnings with a stored stage
//! count. The reporting summary reads them instead of aggregating a partner's rows.
//!
//! Kept up to date by deltas, never by recounts: every store write that changes what an
//! earning contributes (its read model, its void, its insert with a read model, its
//! deletion) reads the touched earnings' figures before and after (one query each,
//! [`contribution_sql`]) and adds the difference to the pending deltas of its [`Tx`],
//! converted in Rust exactly as [`usd_minor_sql`] converts in SQL (`reconcile` recomputes
//! them in SQL); an earning inserted with its read model by one statement
//! ([`Tx::insert_earning_with_model`]) contributes nothing before and, after, exactly
//! the row it wrote, so its delta is taken from that row without reading it back. Rows
//! whose rate is not locked also go to the estimate totals as they are
//! ([`crate::estimates`]: converted at flush time, at the rate the cache holds).
//! [`Tx::commit`] flushes
//! them as one upsert per chunk with the keys sorted, the transaction's last statement:
//! every writer takes the totals rows' locks in the same order and holds nothing else it
//! waits for afterwards, so concurrent writers on PostgreSQL never deadlock on them.
//! Savepoints snapshot the pending deltas; rolling back to one restores them.
//!
//! The same read feeds the month totals (migration 0033, [`crate::month_totals`]): each
//! touched earning's contribution carries its payment date, so the delta of its month
//! (and, for an estimate, of its month estimate) is taken from the same figures. The
//! month totals count every live earning with a payment date (the chart's rows), the
//! earnings totals every live earning with a stage; the read model writes both together.
//! And the kept statement totals (migration 0037, [`crate::statement_totals`]): each
//! contribution also carries its creation instant and kind, so the delta of its statement
//! month (creation month, stage) is taken from the same figures too.

use std::collections::BTreeMap;

use refshare_core::ledger::EarningKind;
use refshare_core::money::{convert_minor, Currency};
use refshare_core::stage::RevenueStage;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::bulk::{ph, ph_list};
use crate::client_totals::{ClientSums, ClientTotalsKey};
use crate::earning_sets::IDS_PER_STATEMENT;
use crate::estimates::EstimateRow;
use crate::month_totals::MonthKey;
use crate::monthly::UtcMonth;
use crate::reporting::{usd_divisor, usd_minor_sql};
use crate::statement_totals::{StatementKey, StatementSums};
use crate::{currency, get, uuid, Backend, EarningReadModel, EarningRecord, Result, Savepoint, SqlValue, StoreError, Tx};

/// The key of a totals row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TotalsKey {
    pub partner_id: Uuid,
    pub stage: RevenueStage,
    pub currency: Currency,
    /// The earnings' USD rate is locked (`earnings.fx_usd_per_unit_e8` is set).
    pub locked: bool,
}

/// The sums of one totals row (or a delta of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub count: i64,
    /// Rows of kind `payout` (the ones with platform revenue).
    pub payout_count: i64,
    pub amount_minor: i64,
    /// US cents of the rows at their locked rate (0 when not locked).
    pub usd_minor: i64,
    /// US cents of the platform's revenue on the payout rows at their locked rate (0 when
    /// not locked).
    pub platform_usd_minor: i64,
}

impl Totals {
    /// `self + sign · other`, checked.
    pub(crate) fn add(self, other: Totals, sign: i64) -> Result<Totals> {
        let f = |a: i64, b: i64| {
            b.checked_mul(sign).and_then(|b| a.checked_add(b)).ok_or_else(|| StoreError::Corrupt("earnings totals overflow".into()))
        };
        Ok(Totals {
            count: f(self.count, other.count)?,
            payout_count: f(self.payout_count, other.payout_count)?,
            amount_minor: f(self.amount_minor, other.amount_minor)?,
            usd_minor: f(self.usd_minor, other.usd_minor)?,
            platform_usd_minor: f(self.platform_usd_minor, other.platform_usd_minor)?,
        })
    }

    pub(crate) fn is_zero(&self) -> bool {
        *self == Totals::default()
    }
}

/// A snapshot of the pending deltas at a savepoint: the earnings, month, statement and
/// client deltas, and the length of the estimate queue.
type Snapshot = (
    Savepoint,
    BTreeMap<TotalsKey, Totals>,
    BTreeMap<MonthKey, Totals>,
    BTreeMap<StatementKey, StatementSums>,
    BTreeMap<ClientTotalsKey, ClientSums>,
    usize,
);

/// The deltas a transaction has not written yet, and their snapshots at its savepoints.
#[derive(Debug, Default)]
pub(crate) struct PendingTotals {
    deltas: BTreeMap<TotalsKey, Totals>,
    /// The month totals' deltas ([`crate::month_totals`]).
    pub(crate) months: BTreeMap<MonthKey, Totals>,
    /// The kept statement totals' deltas ([`crate::statement_totals`]).
    pub(crate) statements: BTreeMap<StatementKey, StatementSums>,
    /// The client totals' deltas of locked rows ([`crate::client_totals`]).
    pub(crate) clients: BTreeMap<ClientTotalsKey, ClientSums>,
    /// Estimate rows (rate not locked) with their sign, converted when flushed
    /// ([`crate::estimates`]); only appended to, so a savepoint keeps its length.
    pub(crate) estimates: Vec<(EstimateRow, i64)>,
    saved: Vec<Snapshot>,
}

impl PendingTotals {
    pub(crate) fn savepoint(&mut self, name: Savepoint) {
        self.saved.push((
            name,
            self.deltas.clone(),
            self.months.clone(),
            self.statements.clone(),
            self.clients.clone(),
            self.estimates.len(),
        ));
    }

    /// Back to the deltas at the latest savepoint `name`, which is forgotten.
    pub(crate) fn rollback_to(&mut self, name: Savepoint) {
        if let Some(i) = self.saved.iter().rposition(|(n, ..)| *n == name) {
            if let Some((_, deltas, months, statements, clients, estimates)) = self.saved.drain(i..).next() {
                self.deltas = deltas;
                self.months = months;
                self.statements = statements;
                self.clients = clients;
                self.estimates.truncate(estimates);
            }
        }
    }

    /// Forgets the latest savepoint `name` (and any set after it), keeping the deltas.
    pub(crate) fn release(&mut self, name: Savepoint) {
        if let Some(i) = self.saved.iter().rposition(|(n, ..)| *n == name) {
            self.saved.truncate(i);
        }
    }

    /// Adds `sign` times the contribution of these rows: locked rows converted at their
    /// rate, estimates counted here (no USD) and kept for the estimate totals; to the
    /// earnings totals by stage, to the month totals by payment month, to the statement
    /// totals by creation month and stage.
    fn add(&mut self, rows: Vec<Contribution>, sign: i64) -> Result<()> {
        for c in rows {
            let locked = c.fx_usd_per_unit_e8.is_some();
            let (usd_minor, platform_usd_minor) = match c.fx_usd_per_unit_e8 {
                Some(rate) => {
                    (usd_of(c.amount_minor, c.currency, rate)?, if c.payout { usd_of(c.platform_fee_minor, c.currency, rate)? } else { 0 })
                }
                None => (0, 0),
            };
            let t = Totals { count: 1, payout_count: i64::from(c.payout), amount_minor: c.amount_minor, usd_minor, platform_usd_minor };
            let created_month = UtcMonth::of_ms(c.created_at_ms);
            if let Some(stage) = c.stage {
                let e = self.deltas.entry(TotalsKey { partner_id: c.partner_id, stage, currency: c.currency, locked }).or_default();
                *e = e.add(t, sign)?;
                let s = StatementSums { count: 1, clawback_count: i64::from(c.clawback), amount_minor: c.amount_minor, usd_minor };
                let key = StatementKey { partner_id: c.partner_id, month: created_month, stage, currency: c.currency, locked };
                let e = self.statements.entry(key).or_default();
                *e = e.add(s, sign)?;
            }
            let month = c.paid_at_ms.map(UtcMonth::of_ms);
            if let Some(month) = month {
                let e = self.months.entry(MonthKey { partner_id: c.partner_id, month, currency: c.currency, locked }).or_default();
                *e = e.add(t, sign)?;
            }
            if let (true, Some(client_id)) = (locked, c.client_id) {
                let e =
                    self.clients.entry(ClientTotalsKey { partner_id: c.partner_id, client_id, currency: c.currency, locked }).or_default();
                *e = e.add(ClientSums { count: 1, usd_minor }, sign)?;
            }
            if !locked {
                self.estimates.push((
                    EstimateRow {
                        partner_id: c.partner_id,
                        client_id: c.client_id,
                        currency: c.currency,
                        stage: c.stage,
                        month,
                        created_month,
                        payout: c.payout,
                        clawback: c.clawback,
                        amount_minor: c.amount_minor,
                        platform_fee_minor: c.platform_fee_minor,
                    },
                    sign,
                ));
            }
        }
        Ok(())
    }
}

impl PendingTotals {
    /// Adds the contribution of an earning as one statement just wrote it, with its read
    /// model and the platform fee and client the insert stored: what [`Tx::totals_after`]
    /// would read back ([`contribution_sql`] selects the same rows, [`contribution_from`]
    /// checks the same fee).
    pub(crate) fn add_written(
        &mut self,
        e: &EarningRecord,
        m: &EarningReadModel,
        stored_fee: Option<i64>,
        client_id: Option<Uuid>,
    ) -> Result<()> {
        // Only live earnings count; a read model always carries a payment date.
        if e.voided_at.is_some() {
            return Ok(());
        }
        let payout = e.kind == EarningKind::Payout;
        let platform_fee_minor = match (payout, stored_fee) {
            (false, _) => 0,
            (true, Some(f)) => f,
            (true, None) => return Err(StoreError::Corrupt("a payout earning without its platform fee (migration 0025)".into())),
        };
        let c = Contribution {
            partner_id: e.partner_id,
            client_id,
            stage: m.stage,
            paid_at_ms: Some(crate::ms(m.paid_at)),
            created_at_ms: crate::ms(e.created_at),
            currency: e.currency,
            payout,
            clawback: e.kind == EarningKind::Clawback,
            amount_minor: e.amount_minor,
            platform_fee_minor,
            fx_usd_per_unit_e8: m.fx_usd_per_unit_e8,
        };
        self.add(vec![c], 1)
    }
}

/// US cents of `amount_minor` at `rate_e8`, rounded half to even: `core`'s
/// `convert_minor`, which [`usd_minor_sql`] computes in SQL (the conformance suite checks
/// the two agree).
pub(crate) fn usd_of(amount_minor: i64, currency: Currency, rate_e8: i64) -> Result<i64> {
    convert_minor(amount_minor, currency.exponent(), rate_e8, 2).ok_or_else(|| StoreError::Corrupt("USD figure overflow".into()))
}

/// One live earning with a stored stage or payment date, as the totals count it.
struct Contribution {
    partner_id: Uuid,
    /// The client of its case (migration 0032): counted in the client totals when set.
    client_id: Option<Uuid>,
    /// Counted in the earnings totals when set.
    stage: Option<RevenueStage>,
    /// Counted in the month totals of its month when set.
    paid_at_ms: Option<i64>,
    /// Its creation: the statement totals count it in that month (with its stage).
    created_at_ms: i64,
    currency: Currency,
    /// Of kind `payout` (the ones with platform revenue).
    payout: bool,
    /// Of kind `clawback` (the statement's reversals).
    clawback: bool,
    amount_minor: i64,
    /// The payout's platform fee (read model, migration 0025); 0 on other kinds.
    platform_fee_minor: i64,
    fx_usd_per_unit_e8: Option<i64>,
}

/// The figures of the live earnings `e` with a stored stage or payment date that
/// `clause` selects.
fn contribution_sql(clause: &str) -> String {
    format!(
        "SELECT e.partner_id, e.client_id, e.stage, e.paid_at, e.created_at, e.currency, e.kind, e.amount_minor, e.platform_fee_minor, e.fx_usd_per_unit_e8 \
         FROM earnings e WHERE e.voided_at IS NULL AND (e.stage IS NOT NULL OR e.paid_at IS NOT NULL) AND ({clause})"
    )
}

fn contribution_from(r: &AnyRow) -> Result<Contribution> {
    let stage: Option<String> = get(r, "stage")?;
    let kind: String = get(r, "kind")?;
    let payout = kind == EarningKind::Payout.as_str();
    let fee: Option<i64> = get(r, "platform_fee_minor")?;
    let platform_fee_minor = match (payout, fee) {
        (false, _) => 0,
        (true, Some(f)) => f,
        (true, None) => return Err(StoreError::Corrupt("a payout earning without its platform fee (migration 0025)".into())),
    };
    Ok(Contribution {
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        client_id: get::<Option<String>>(r, "client_id")?.as_deref().map(uuid).transpose()?,
        stage: stage.map(|s| RevenueStage::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("stage `{s}`")))).transpose()?,
        paid_at_ms: get(r, "paid_at")?,
        created_at_ms: get(r, "created_at")?,
        currency: currency(&get::<String>(r, "currency")?)?,
        payout,
        clawback: kind == EarningKind::Clawback.as_str(),
        amount_minor: get(r, "amount_minor")?,
        platform_fee_minor,
        fx_usd_per_unit_e8: get(r, "fx_usd_per_unit_e8")?,
    })
}

/// A derived table `(cur, d)`: every known currency with its divisor for [`usd_minor_sql`].
pub(crate) fn divisor_table_sql() -> Result<String> {
    let rows = Currency::all()
        .map(|c| Ok(format!("SELECT '{}' AS cur, CAST({} AS BIGINT) AS d", c.code(), usd_divisor(c)?)))
        .collect::<Result<Vec<_>>>()?;
    Ok(format!("({})", rows.join(" UNION ALL ")))
}

/// The totals of the live earnings `e` that `clause` selects, grouped by key: the one
/// aggregate behind the deltas, the fill of migration 0022 and `reconcile`. The platform's
/// revenue of a locked row converts at the earning's stored rate, which is its payout's
/// locked rate (`reconcile` proves the read model).
pub fn totals_sql(clause: &str) -> Result<String> {
    let usd = usd_minor_sql("e.amount_minor", "e.fx_usd_per_unit_e8", "c.d");
    let pusd = usd_minor_sql("p.platform_fee_minor", "e.fx_usd_per_unit_e8", "c.d");
    let payout = EarningKind::Payout.as_str();
    let locked = "CAST(CASE WHEN e.fx_usd_per_unit_e8 IS NULL THEN 0 ELSE 1 END AS BIGINT)";
    Ok(format!(
        "SELECT e.partner_id AS partner_id, e.stage AS stage, e.currency AS currency, {locked} AS locked, \
         CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(CASE WHEN e.kind = '{payout}' THEN 1 ELSE 0 END) AS BIGINT) AS payout_n, \
         CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM({usd}), 0) AS BIGINT) AS usd, \
         CAST(COALESCE(SUM(CASE WHEN e.kind = '{payout}' THEN {pusd} ELSE 0 END), 0) AS BIGINT) AS pusd \
         FROM earnings e JOIN payouts p ON p.id = e.payout_id LEFT JOIN {} c ON c.cur = e.currency \
         WHERE e.voided_at IS NULL AND e.stage IS NOT NULL AND ({clause}) \
         GROUP BY e.partner_id, e.stage, e.currency, {locked}",
        divisor_table_sql()?
    ))
}

fn totals_row(r: &AnyRow) -> Result<(TotalsKey, Totals)> {
    let stage: String = get(r, "stage")?;
    let key = TotalsKey {
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        stage: RevenueStage::parse(&stage).ok_or_else(|| StoreError::Corrupt(format!("stage `{stage}`")))?,
        currency: currency(&get::<String>(r, "currency")?)?,
        locked: get::<i64>(r, "locked")? != 0,
    };
    let totals = Totals {
        count: get(r, "n")?,
        payout_count: get(r, "payout_n")?,
        amount_minor: get(r, "amount")?,
        usd_minor: get(r, "usd")?,
        platform_usd_minor: get(r, "pusd")?,
    };
    Ok((key, totals))
}

/// A partner's totals rows that count something (`$1` the partner), in `stages` stages
/// bound after it (all stages when 0).
pub(crate) fn partner_totals_sql(backend: Backend, stages: usize) -> String {
    let mut sql = format!("SELECT {TOTALS_COLS} FROM earning_totals WHERE partner_id = {} AND n <> 0", ph(backend, 1));
    if stages > 0 {
        sql.push_str(&format!(" AND stage IN ({})", ph_list(backend, 2, stages)));
    }
    sql
}

const TOTALS_COLS: &str =
    "partner_id, stage, currency, locked, n, payout_n, amount_minor AS amount, usd_minor AS usd, platform_usd_minor AS pusd";

impl Tx {
    /// The contribution of these earnings to the totals, as stored now.
    async fn totals_of_earnings(&mut self, ids: &[Uuid]) -> Result<Vec<Contribution>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = contribution_sql(&format!("e.id IN ({})", ph_list(self.backend, 1, chunk.len())));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            for r in q.fetch_all(self.conn()).await? {
                out.push(contribution_from(&r)?);
            }
        }
        Ok(out)
    }

    /// Before a write that may change what these earnings contribute: takes their
    /// contribution away from the pending deltas ([`Tx::totals_after`] adds it back).
    pub(crate) async fn totals_before(&mut self, ids: &[Uuid]) -> Result<()> {
        let rows = self.totals_of_earnings(ids).await?;
        self.totals.add(rows, -1)
    }

    /// After the write: adds these earnings' contribution to the pending deltas.
    pub(crate) async fn totals_after(&mut self, ids: &[Uuid]) -> Result<()> {
        let rows = self.totals_of_earnings(ids).await?;
        self.totals.add(rows, 1)
    }

    /// Takes away the contribution of the earnings `clause` selects (`$1` bound to
    /// `bind`), before they are deleted.
    pub(crate) async fn totals_before_delete(&mut self, clause: &str, bind: &str) -> Result<()> {
        let sql = contribution_sql(clause);
        let rows = sqlx::query(&sql).bind(bind).fetch_all(self.conn()).await?;
        let rows = rows.iter().map(contribution_from).collect::<Result<Vec<_>>>()?;
        self.totals.add(rows, -1)
    }

    /// Writes the pending deltas (non-zero ones), keys sorted, and clears them.
    pub(crate) async fn flush_totals(&mut self) -> Result<()> {
        let deltas: Vec<(TotalsKey, Totals)> = std::mem::take(&mut self.totals.deltas).into_iter().filter(|(_, t)| !t.is_zero()).collect();
        // Nine values per row; five hundred rows per statement.
        for chunk in deltas.chunks(500) {
            let mut sql = String::from(
                "INSERT INTO earning_totals (partner_id, stage, currency, locked, n, payout_n, amount_minor, usd_minor, platform_usd_minor) VALUES ",
            );
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                sql.push_str(&ph_list(self.backend, i * 9 + 1, 9));
                sql.push(')');
            }
            sql.push_str(
                " ON CONFLICT (partner_id, stage, currency, locked) DO UPDATE SET n = earning_totals.n + excluded.n, \
                 payout_n = earning_totals.payout_n + excluded.payout_n, \
                 amount_minor = earning_totals.amount_minor + excluded.amount_minor, \
                 usd_minor = earning_totals.usd_minor + excluded.usd_minor, \
                 platform_usd_minor = earning_totals.platform_usd_minor + excluded.platform_usd_minor",
            );
            let mut values = Vec::with_capacity(chunk.len() * 9);
            for (k, t) in chunk {
                values.extend([
                    SqlValue::Text(k.partner_id.to_string()),
                    SqlValue::Text(k.stage.as_str().to_string()),
                    SqlValue::Text(k.currency.code().to_string()),
                    SqlValue::Int(i64::from(k.locked)),
                ]);
                values.extend([t.count, t.payout_count, t.amount_minor, t.usd_minor, t.platform_usd_minor].map(SqlValue::Int));
            }
            self.upsert(&sql, values).await?;
        }
        Ok(())
    }

    /// The partner's totals rows that count something, in the stages given (all when
    /// empty), by key.
    pub async fn earning_totals_of_partner(&mut self, partner_id: Uuid, stages: &[RevenueStage]) -> Result<Vec<(TotalsKey, Totals)>> {
        let sql = partner_totals_sql(self.backend, stages.len());
        let mut q = sqlx::query(&sql).bind(partner_id.to_string());
        for s in stages {
            q = q.bind(s.as_str());
        }
        let mut out = q.fetch_all(self.conn()).await?.iter().map(totals_row).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|(k, _)| *k);
        Ok(out)
    }

    /// Every stored totals row that counts something, by key (`reconcile`).
    pub async fn earning_totals(&mut self) -> Result<Vec<(TotalsKey, Totals)>> {
        let sql = format!(
            "SELECT {TOTALS_COLS} FROM earning_totals WHERE n <> 0 OR amount_minor <> 0 OR usd_minor <> 0 OR platform_usd_minor <> 0 OR payout_n <> 0"
        );
        self.keyed_rows(&sql, totals_row).await
    }

    /// The totals recomputed from the rows, by key (`reconcile`).
    pub async fn earning_totals_from_rows(&mut self) -> Result<Vec<(TotalsKey, Totals)>> {
        self.keyed_rows(&totals_sql("1 = 1")?, totals_row).await
    }

    /// Overwrites a totals row (tests of `reconcile`: a wrong row must be found).
    pub async fn corrupt_earning_totals(&mut self, key: TotalsKey, t: Totals) -> Result<()> {
        sqlx::query(
            "UPDATE earning_totals SET n = $1, payout_n = $2, amount_minor = $3, usd_minor = $4, platform_usd_minor = $5 \
             WHERE partner_id = $6 AND stage = $7 AND currency = $8 AND locked = $9",
        )
        .bind(t.count)
        .bind(t.payout_count)
        .bind(t.amount_minor)
        .bind(t.usd_minor)
        .bind(t.platform_usd_minor)
        .bind(key.partner_id.to_string())
        .bind(key.stage.as_str())
        .bind(key.currency.code())
        .bind(i64::from(key.locked))
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fill of migration 0022 is [`totals_sql`] over every row, on both backends: the
    /// migration and the deltas compute the same thing.
    #[test]
    fn migration_fills_with_the_delta_aggregate() {
        let sql = totals_sql("1 = 1").unwrap();
        if std::env::var("PRINT_TOTALS_SQL").is_ok() {
            println!("{sql}");
        }
        for m in
            [include_str!("../migrations/sqlite/0022_earning_totals.sql"), include_str!("../migrations/postgres/0022_earning_totals.sql")]
        {
            assert!(m.contains(&sql), "the migration's fill is not totals_sql(\"1 = 1\")");
        }
    }
}
