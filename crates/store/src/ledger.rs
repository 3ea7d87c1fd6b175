//! The append-only ledger: signed entries per earning and stage, and the balances that
//! are their sums. Nothing here updates or deletes an entry.

use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{at, currency, get, ms, uuid, LedgerEntryRecord, Result, StoreError, Tx};

fn stage(s: &str) -> Result<RevenueStage> {
    RevenueStage::parse(s).ok_or_else(|| StoreError::Corrupt(format!("stage `{s}`")))
}

fn entry_from(r: &AnyRow) -> Result<LedgerEntryRecord> {
    Ok(LedgerEntryRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        earning_id: uuid(&get::<String>(r, "earning_id")?)?,
        stage: stage(&get::<String>(r, "stage")?)?,
        amount_minor: get(r, "amount_minor")?,
        currency: currency(&get::<String>(r, "currency")?)?,
        cause: get(r, "cause")?,
        cause_id: get(r, "cause_id")?,
        created_at: at(get(r, "created_at")?),
    })
}

const COLS: &str = "id, partner_id, earning_id, stage, amount_minor, currency, cause, cause_id, created_at";

/// A sum of entries: a partner's balance in one stage and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub partner_id: Uuid,
    pub stage: RevenueStage,
    pub currency: Currency,
    pub amount_minor: i64,
}

impl Tx {
    pub async fn insert_ledger_entry(&mut self, e: &LedgerEntryRecord) -> Result<()> {
        sqlx::query(&format!("INSERT INTO ledger_entries ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(e.id.to_string())
            .bind(e.partner_id.to_string())
            .bind(e.earning_id.to_string())
            .bind(e.stage.as_str())
            .bind(e.amount_minor)
            .bind(e.currency.code())
            .bind(&e.cause)
            .bind(e.cause_id.clone())
            .bind(ms(e.created_at))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// What the ledger holds for one earning, per stage (zero sums omitted).
    pub async fn ledger_holding(&mut self, earning_id: Uuid) -> Result<Vec<(RevenueStage, i64)>> {
        let rows = sqlx::query(
            "SELECT stage, CAST(SUM(amount_minor) AS BIGINT) AS total FROM ledger_entries WHERE earning_id = $1 GROUP BY stage ORDER BY stage",
        )
        .bind(earning_id.to_string())
        .fetch_all(self.conn())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let total: i64 = get(r, "total")?;
            if total != 0 {
                out.push((stage(&get::<String>(r, "stage")?)?, total));
            }
        }
        Ok(out)
    }

    /// Every earning's holding per stage, for reconciliation: (earning, stage, sum).
    pub async fn ledger_holdings(&mut self) -> Result<Vec<(Uuid, RevenueStage, i64)>> {
        let rows = sqlx::query(
            "SELECT earning_id, stage, CAST(SUM(amount_minor) AS BIGINT) AS total FROM ledger_entries GROUP BY earning_id, stage ORDER BY earning_id, stage",
        )
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| Ok((uuid(&get::<String>(r, "earning_id")?)?, stage(&get::<String>(r, "stage")?)?, get::<i64>(r, "total")?)))
            .collect()
    }

    /// Balances per partner, stage and currency (zero sums included).
    pub async fn ledger_balances(&mut self, partner_id: Option<Uuid>) -> Result<Vec<Balance>> {
        let filter = if partner_id.is_some() { "WHERE partner_id = $1" } else { "" };
        let sql = format!(
            "SELECT partner_id, stage, currency, CAST(SUM(amount_minor) AS BIGINT) AS total FROM ledger_entries {filter} \
             GROUP BY partner_id, stage, currency ORDER BY partner_id, stage, currency"
        );
        let mut q = sqlx::query(&sql);
        if let Some(p) = partner_id {
            q = q.bind(p.to_string());
        }
        let rows = q.fetch_all(self.conn()).await?;
        rows.iter()
            .map(|r| {
                Ok(Balance {
                    partner_id: uuid(&get::<String>(r, "partner_id")?)?,
                    stage: stage(&get::<String>(r, "stage")?)?,
                    currency: currency(&get::<String>(r, "currency")?)?,
                    amount_minor: get(r, "total")?,
                })
            })
            .collect()
    }

    pub async fn ledger_entry_count(&mut self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM ledger_entries").fetch_one(self.conn()).await?;
        get(&row, "n")
    }

    /// Entries of one earning in the order they were written.
    pub async fn ledger_entries_of_earning(&mut self, earning_id: Uuid) -> Result<Vec<LedgerEntryRecord>> {
        let rows = sqlx::query(&format!("SELECT {COLS} FROM ledger_entries WHERE earning_id = $1 ORDER BY created_at, id"))
            .bind(earning_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(entry_from).collect()
    }
}
