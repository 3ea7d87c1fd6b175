//! Set-based reads and writes behind the ledger sync and the money runs: a fixed number of
//! statements per chunk of [`IDS_PER_STATEMENT`] ids, never one statement per earning or
//! payout. Id lists are sorted by the caller where order matters (locks).

use refshare_core::money::Currency;
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, InvoicingTriggerMode, ReferralInvoiceStatus, RevenueStage};
use refshare_core::Instant;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::bulk::{ph, ph_list};
use crate::payouts::{earning_from, parsed, EARNING_COLS};
use crate::{at, get, ms, uuid, Backend, Cols, EarningReadModel, EarningRecord, EarningSyncRow, Result, StoreError, Tx};

/// Most ids in one `IN (…)` list (far below either backend's bind limit).
pub const IDS_PER_STATEMENT: usize = 5_000;

/// One collection partner's and currency's share of a CP invoicing run, summed in SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpInvoicingGroup {
    pub collection_partner_id: Uuid,
    pub currency: Currency,
    /// The platform fees of the payouts, summed.
    pub amount_minor: i64,
    pub payouts: i64,
}

fn stage(s: &str) -> Result<RevenueStage> {
    RevenueStage::parse(s).ok_or_else(|| StoreError::Corrupt(format!("stage `{s}`")))
}

fn ids_from(rows: &[AnyRow], col: &str) -> Result<Vec<Uuid>> {
    rows.iter().map(|r| uuid(&get::<String>(r, col)?)).collect()
}

/// A sync row's columns beside the earning's own (`e.` + `EARNING_COLS`), over [`SYNC_FROM`].
pub(crate) const SYNC_EXTRA_COLS: &str = "p.commission_status AS s_commission, p.cp_invoice_id AS s_cp_invoice_id, \
     p.fx_usd_per_unit_e8 AS s_fx, ci.status AS s_cp_status, pa.invoicing_trigger_mode AS s_mode, \
     pay.paid_at AS s_paid_at, e.stage AS rm_stage, e.paid_at AS rm_paid_at, e.fx_usd_per_unit_e8 AS rm_fx";

/// The tables of a sync row: the earning `e` with its payout, payment, partner and CP invoice.
pub(crate) const SYNC_FROM: &str = "earnings e JOIN payouts p ON p.id = e.payout_id JOIN payments pay ON pay.id = p.payment_id \
     JOIN partners pa ON pa.id = e.partner_id LEFT JOIN cp_invoices ci ON ci.id = p.cp_invoice_id";

pub(crate) fn sync_row_from<R: Cols + ?Sized>(r: &R) -> Result<EarningSyncRow> {
    let earning = earning_from(r)?;
    let cp_invoice = match (r.value::<Option<String>>("s_cp_invoice_id")?, r.value::<Option<String>>("s_cp_status")?) {
        (None, _) => CpInvoiceStatus::NotInvoiced,
        (Some(_), Some(s)) => CpInvoiceStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("CP invoice status `{s}`")))?,
        (Some(id), None) => return Err(StoreError::Corrupt(format!("payout names a missing CP invoice {id}"))),
    };
    let stored = match r.value::<Option<i64>>("rm_paid_at")? {
        None => None,
        Some(paid_at) => Some(EarningReadModel {
            earning_id: earning.id,
            stage: r.value::<Option<String>>("rm_stage")?.as_deref().map(stage).transpose()?,
            paid_at: at(paid_at),
            fx_usd_per_unit_e8: r.value("rm_fx")?,
        }),
    };
    Ok(EarningSyncRow {
        commission: parsed(r, "s_commission", CommissionStatus::parse)?,
        cp_invoice,
        mode: parsed(r, "s_mode", InvoicingTriggerMode::parse)?,
        paid_at: at(r.value("s_paid_at")?),
        fx_usd_per_unit_e8: r.value("s_fx")?,
        stored,
        earning,
    })
}

impl Tx {
    /// Takes the row locks of the earnings in id order (PostgreSQL, `FOR NO KEY UPDATE`,
    /// as an `UPDATE` of the row would), so that concurrent syncs of one earning run one
    /// after the other; on SQLite the single writer already serializes them.
    pub async fn lock_earnings(&mut self, ids: &[Uuid]) -> Result<()> {
        if self.backend == Backend::Sqlite {
            return Ok(());
        }
        let mut sorted = ids.to_vec();
        sorted.sort();
        sorted.dedup();
        for chunk in sorted.chunks(IDS_PER_STATEMENT) {
            let sql =
                format!("SELECT id FROM earnings WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE", ph_list(self.backend, 1, chunk.len()));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            q.fetch_all(self.conn()).await?;
        }
        Ok(())
    }

    /// The sync rows of the earnings (any order; missing earnings are left out).
    pub async fn earning_sync_rows(&mut self, ids: &[Uuid]) -> Result<Vec<EarningSyncRow>> {
        let cols = EARNING_COLS.split(", ").map(|c| format!("e.{c}")).collect::<Vec<_>>().join(", ");
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql =
                format!("SELECT {cols}, {SYNC_EXTRA_COLS} FROM {SYNC_FROM} WHERE e.id IN ({})", ph_list(self.backend, 1, chunk.len()));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            for r in q.fetch_all(self.conn()).await? {
                out.push(sync_row_from(&r)?);
            }
        }
        Ok(out)
    }

    /// What the ledger holds for each of the earnings, per stage: (earning, stage, sum),
    /// zero sums included.
    pub async fn ledger_holdings_of(&mut self, ids: &[Uuid]) -> Result<Vec<(Uuid, RevenueStage, i64)>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT earning_id, stage, CAST(SUM(amount_minor) AS BIGINT) AS total FROM ledger_entries \
                 WHERE earning_id IN ({}) GROUP BY earning_id, stage",
                ph_list(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            for r in q.fetch_all(self.conn()).await? {
                out.push((uuid(&get::<String>(&r, "earning_id")?)?, stage(&get::<String>(&r, "stage")?)?, get::<i64>(&r, "total")?));
            }
        }
        Ok(out)
    }

    /// Writes many earnings' read models (migration 0019), a chunk per statement.
    /// The earnings totals (migration 0022) follow as deltas.
    pub async fn set_earning_read_models(&mut self, v: &[EarningReadModel]) -> Result<()> {
        if v.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = v.iter().map(|m| m.earning_id).collect();
        self.totals_before(&ids).await?;
        // Four values per row; a thousand rows per statement.
        for chunk in v.chunks(1_000) {
            let mut sql = String::from("WITH v (id, stage, paid_at, fx) AS (VALUES ");
            for (i, _) in chunk.iter().enumerate() {
                let n = i * 4;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "({}, CAST({} AS TEXT), CAST({} AS BIGINT), CAST({} AS BIGINT))",
                    ph(self.backend, n + 1),
                    ph(self.backend, n + 2),
                    ph(self.backend, n + 3),
                    ph(self.backend, n + 4)
                ));
            }
            sql.push_str(
                ") UPDATE earnings SET stage = v.stage, paid_at = v.paid_at, fx_usd_per_unit_e8 = v.fx FROM v WHERE earnings.id = v.id",
            );
            let mut q = sqlx::query(&sql);
            for m in chunk {
                q = q.bind(m.earning_id.to_string()).bind(m.stage.map(|s| s.as_str())).bind(ms(m.paid_at)).bind(m.fx_usd_per_unit_e8);
            }
            q.execute(self.conn()).await?;
        }
        self.totals_after(&ids).await
    }

    /// The earnings of the payouts.
    pub async fn earning_ids_of_payouts(&mut self, payout_ids: &[Uuid]) -> Result<Vec<Uuid>> {
        let mut out = Vec::new();
        for chunk in payout_ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!("SELECT id FROM earnings WHERE payout_id IN ({})", ph_list(self.backend, 1, chunk.len()));
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            out.extend(ids_from(&q.fetch_all(self.conn()).await?, "id")?);
        }
        Ok(out)
    }

    /// The payouts a CP invoice bills, oldest first (ids only).
    pub async fn payout_ids_of_cp_invoice(&mut self, invoice_id: Uuid) -> Result<Vec<Uuid>> {
        let rows = sqlx::query("SELECT id FROM payouts WHERE cp_invoice_id = $1 ORDER BY created_at, id")
            .bind(invoice_id.to_string())
            .fetch_all(self.conn())
            .await?;
        ids_from(&rows, "id")
    }

    /// The earnings of the payouts a CP invoice bills.
    pub async fn earning_ids_of_cp_invoice(&mut self, invoice_id: Uuid) -> Result<Vec<Uuid>> {
        let rows = sqlx::query("SELECT e.id FROM earnings e JOIN payouts p ON p.id = e.payout_id WHERE p.cp_invoice_id = $1")
            .bind(invoice_id.to_string())
            .fetch_all(self.conn())
            .await?;
        ids_from(&rows, "id")
    }

    /// Every earning of a partner (ids only).
    pub async fn earning_ids_of_partner(&mut self, partner_id: Uuid) -> Result<Vec<Uuid>> {
        let rows = sqlx::query("SELECT id FROM earnings WHERE partner_id = $1").bind(partner_id.to_string()).fetch_all(self.conn()).await?;
        ids_from(&rows, "id")
    }

    /// The earnings on a partner invoice, oldest first (ids only).
    pub async fn earning_ids_of_partner_invoice(&mut self, partner_id: Uuid, invoice_id: Uuid) -> Result<Vec<Uuid>> {
        let rows = sqlx::query("SELECT id FROM earnings WHERE partner_id = $1 AND partner_invoice_id = $2 ORDER BY created_at, id")
            .bind(partner_id.to_string())
            .bind(invoice_id.to_string())
            .fetch_all(self.conn())
            .await?;
        ids_from(&rows, "id")
    }

    /// What a CP invoicing run bills, per collection partner and currency: payouts whose
    /// commission was paid before `before` and that no CP invoice bills yet.
    pub async fn cp_invoicing_groups(&mut self, before: Instant) -> Result<Vec<CpInvoicingGroup>> {
        let rows = sqlx::query(
            "SELECT collection_partner_id, currency, CAST(SUM(platform_fee_minor) AS BIGINT) AS amount, COUNT(*) AS n FROM payouts \
             WHERE commission_status = $1 AND cp_invoice_id IS NULL AND commission_paid_at < $2 AND collection_partner_id IS NOT NULL \
             GROUP BY collection_partner_id, currency ORDER BY collection_partner_id, currency",
        )
        .bind(CommissionStatus::Paid.as_str())
        .bind(ms(before))
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CpInvoicingGroup {
                    collection_partner_id: uuid(&get::<String>(r, "collection_partner_id")?)?,
                    currency: crate::currency(&get::<String>(r, "currency")?)?,
                    amount_minor: get(r, "amount")?,
                    payouts: get(r, "n")?,
                })
            })
            .collect()
    }

    /// Puts every payout of `group`'s selection on the invoice in one statement; returns
    /// how many moved (fewer than the group counted means a concurrent change).
    pub async fn assign_payouts_to_cp_invoice(&mut self, invoice_id: Uuid, group: &CpInvoicingGroup, before: Instant) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE payouts SET cp_invoice_id = $1 WHERE commission_status = $2 AND cp_invoice_id IS NULL AND commission_paid_at < $3 \
             AND collection_partner_id = $4 AND currency = $5",
        )
        .bind(invoice_id.to_string())
        .bind(CommissionStatus::Paid.as_str())
        .bind(ms(before))
        .bind(group.collection_partner_id.to_string())
        .bind(group.currency.code())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected())
    }

    /// A partner's live earnings in `stage` by the read model that are pending and on no
    /// invoice, newest first, each with the rate locked on its payout.
    pub async fn pending_earnings_in_stage(&mut self, partner_id: Uuid, stage: RevenueStage) -> Result<Vec<(EarningRecord, Option<i64>)>> {
        let rows = sqlx::query(&format!(
            "SELECT {EARNING_COLS}, fx_usd_per_unit_e8 AS rm_fx FROM earnings WHERE partner_id = $1 AND stage = $2 \
             AND referral_invoice_status = $3 AND partner_invoice_id IS NULL AND voided_at IS NULL ORDER BY created_at DESC, id DESC"
        ))
        .bind(partner_id.to_string())
        .bind(stage.as_str())
        .bind(ReferralInvoiceStatus::Pending.as_str())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|r| Ok((earning_from(r)?, get(r, "rm_fx")?))).collect()
    }

    /// `Pending → Invoiced` on a partner invoice for each earning that is live, pending and
    /// on no invoice; returns how many moved (fewer than asked means a concurrent change).
    pub async fn invoice_earnings(&mut self, ids: &[Uuid], invoice_id: Uuid) -> Result<u64> {
        let mut moved = 0;
        for chunk in ids.chunks(IDS_PER_STATEMENT) {
            let sql = format!(
                "UPDATE earnings SET referral_invoice_status = {}, partner_invoice_id = {} WHERE referral_invoice_status = {} \
                 AND partner_invoice_id IS NULL AND voided_at IS NULL AND id IN ({})",
                ph(self.backend, 1),
                ph(self.backend, 2),
                ph(self.backend, 3),
                ph_list(self.backend, 4, chunk.len())
            );
            let mut q = sqlx::query(&sql)
                .bind(ReferralInvoiceStatus::Invoiced.as_str())
                .bind(invoice_id.to_string())
                .bind(ReferralInvoiceStatus::Pending.as_str());
            for id in chunk {
                q = q.bind(id.to_string());
            }
            moved += q.execute(self.conn()).await?.rows_affected();
        }
        Ok(moved)
    }

    /// `Invoiced → Paid` for every earning on the partner's invoice; returns how many moved.
    pub async fn settle_partner_invoice_earnings(&mut self, partner_id: Uuid, invoice_id: Uuid) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE earnings SET referral_invoice_status = $1 WHERE partner_id = $2 AND partner_invoice_id = $3 \
             AND referral_invoice_status = $4",
        )
        .bind(ReferralInvoiceStatus::Paid.as_str())
        .bind(partner_id.to_string())
        .bind(invoice_id.to_string())
        .bind(ReferralInvoiceStatus::Invoiced.as_str())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected())
    }
}
