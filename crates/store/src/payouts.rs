//! Payments, payouts, stored attribution decisions and earnings. Amounts and decisions
//! are append-only; only the settlement statuses of payouts and earnings move.

use refshare_core::attribution::Reason;
use refshare_core::case::CaseSource;
use refshare_core::ledger::EarningKind;
use refshare_core::link::LinkStatus;
use refshare_core::money::Bps;
use refshare_core::stage::{CommissionStatus, ReferralInvoiceStatus, RevenueStage};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{
    at, currency, get, ms, opt_at, opt_uuid, uuid, Cols, DecisionRecord, EarningReadModel, EarningRecord, PaymentRecord, PayoutRecord,
    Result, ReversalRecord, StoreError, Tx,
};

pub(crate) fn parsed<T, R: Cols + ?Sized>(r: &R, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
    let v: String = r.value(col)?;
    parse(&v).ok_or_else(|| StoreError::Corrupt(format!("{col} `{v}`")))
}

pub(crate) fn payment_from(r: &AnyRow) -> Result<PaymentRecord> {
    Ok(PaymentRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        case_id: uuid(&get::<String>(r, "case_id")?)?,
        amount_minor: get(r, "amount_minor")?,
        currency: currency(&get::<String>(r, "currency")?)?,
        paid_at: at(get(r, "paid_at")?),
        external_id: get(r, "external_id")?,
        created_at: at(get(r, "created_at")?),
        is_overpayment: get::<i64>(r, "is_overpayment")? != 0,
    })
}

pub(crate) fn payout_from(r: &AnyRow) -> Result<PayoutRecord> {
    Ok(PayoutRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        payment_id: uuid(&get::<String>(r, "payment_id")?)?,
        case_id: uuid(&get::<String>(r, "case_id")?)?,
        collection_partner_id: opt_uuid(get(r, "collection_partner_id")?)?,
        success_fee_minor: get(r, "success_fee_minor")?,
        platform_fee_minor: get(r, "platform_fee_minor")?,
        currency: currency(&get::<String>(r, "currency")?)?,
        created_at: at(get(r, "created_at")?),
        commission_status: parsed(r, "commission_status", CommissionStatus::parse)?,
        commission_paid_at: opt_at(get(r, "commission_paid_at")?),
        fx_usd_per_unit_e8: get(r, "fx_usd_per_unit_e8")?,
        fx_rate_date: get(r, "fx_rate_date")?,
        cp_invoice_id: opt_uuid(get(r, "cp_invoice_id")?)?,
    })
}

pub(crate) fn decision_from<R: Cols + ?Sized>(r: &R) -> Result<DecisionRecord> {
    let reason: String = r.value("reason")?;
    let source: String = r.value("case_source")?;
    let link_status: Option<String> = r.value("link_status")?;
    Ok(DecisionRecord {
        id: uuid(&r.value::<String>("id")?)?,
        payout_id: uuid(&r.value::<String>("payout_id")?)?,
        supersedes_id: opt_uuid(r.value("supersedes_id")?)?,
        partner_id: opt_uuid(r.value("partner_id")?)?,
        link_id: opt_uuid(r.value("link_id")?)?,
        link_request_id: opt_uuid(r.value("link_request_id")?)?,
        link_status: link_status.as_deref().and_then(LinkStatus::parse),
        reason: Reason::parse(&reason).ok_or_else(|| StoreError::Corrupt(format!("reason `{reason}`")))?,
        attributed: r.value::<i64>("attributed")? != 0,
        case_source: CaseSource::parse(&source).ok_or_else(|| StoreError::Corrupt(format!("source `{source}`")))?,
        referral_fee_bps: r.value::<Option<i64>>("referral_fee_bps")?.map(|b| Bps(b as u32)),
        referral_fee_minor: r.value("referral_fee_minor")?,
        currency: currency(&r.value::<String>("currency")?)?,
        engine_version: r.value("engine_version")?,
        decided_at: at(r.value("decided_at")?),
    })
}

fn read_model_from(r: &AnyRow) -> Result<EarningReadModel> {
    let stage: Option<String> = get(r, "stage")?;
    Ok(EarningReadModel {
        earning_id: uuid(&get::<String>(r, "id")?)?,
        stage: stage.map(|s| RevenueStage::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("stage `{s}`")))).transpose()?,
        paid_at: at(get::<Option<i64>>(r, "paid_at")?.unwrap_or(0)),
        fx_usd_per_unit_e8: get(r, "fx_usd_per_unit_e8")?,
    })
}

pub(crate) fn earning_from<R: Cols + ?Sized>(r: &R) -> Result<EarningRecord> {
    Ok(EarningRecord {
        id: uuid(&r.value::<String>("id")?)?,
        payout_id: uuid(&r.value::<String>("payout_id")?)?,
        decision_id: opt_uuid(r.value("decision_id")?)?,
        partner_id: uuid(&r.value::<String>("partner_id")?)?,
        case_id: uuid(&r.value::<String>("case_id")?)?,
        amount_minor: r.value("amount_minor")?,
        currency: currency(&r.value::<String>("currency")?)?,
        referral_invoice_status: parsed(r, "referral_invoice_status", ReferralInvoiceStatus::parse)?,
        created_at: at(r.value("created_at")?),
        kind: parsed(r, "kind", EarningKind::parse)?,
        corrects_id: opt_uuid(r.value("corrects_id")?)?,
        note: r.value("note")?,
        partner_invoice_id: opt_uuid(r.value("partner_invoice_id")?)?,
        voided_at: opt_at(r.value("voided_at")?),
        void_reason: r.value("void_reason")?,
        dispute_id: opt_uuid(r.value("dispute_id")?)?,
        status_before_dispute: r.value::<Option<String>>("status_before_dispute")?.as_deref().and_then(ReferralInvoiceStatus::parse),
    })
}

pub(crate) const PAYMENT_COLS: &str = "id, case_id, amount_minor, currency, paid_at, external_id, created_at, is_overpayment";
pub(crate) const PAYOUT_COLS: &str = "id, payment_id, case_id, collection_partner_id, success_fee_minor, platform_fee_minor, currency, created_at, commission_status, commission_paid_at, fx_usd_per_unit_e8, fx_rate_date, cp_invoice_id";
pub(crate) const DECISION_COLS: &str = "id, payout_id, supersedes_id, partner_id, link_id, link_request_id, link_status, reason, attributed, case_source, referral_fee_bps, referral_fee_minor, currency, engine_version, decided_at";
pub(crate) const EARNING_COLS: &str = "id, payout_id, decision_id, partner_id, case_id, amount_minor, currency, referral_invoice_status, created_at, kind, corrects_id, note, partner_invoice_id, voided_at, void_reason, dispute_id, status_before_dispute";

impl Tx {
    pub async fn insert_payment(&mut self, p: &PaymentRecord) -> Result<()> {
        sqlx::query(&format!("INSERT INTO payments ({PAYMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"))
            .bind(p.id.to_string())
            .bind(p.case_id.to_string())
            .bind(p.amount_minor)
            .bind(p.currency.code())
            .bind(ms(p.paid_at))
            .bind(p.external_id.clone())
            .bind(ms(p.created_at))
            .bind(p.is_overpayment as i64)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn payment_by_external_id(&mut self, case_id: Uuid, external_id: &str) -> Result<Option<PaymentRecord>> {
        let row = sqlx::query(&format!("SELECT {PAYMENT_COLS} FROM payments WHERE case_id = $1 AND external_id = $2"))
            .bind(case_id.to_string())
            .bind(external_id)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(payment_from).transpose()
    }

    /// The `(case, externalId)` pairs of the payments stored on these cases that carry an
    /// `externalId`: which keys [`Tx::payment_by_external_id`] would find.
    pub async fn payment_external_ids_of_cases(&mut self, case_ids: &[Uuid]) -> Result<std::collections::HashSet<(Uuid, String)>> {
        let sql = "SELECT case_id, external_id FROM payments WHERE case_id IN ({in}) AND external_id IS NOT NULL";
        let ids = crate::in_list::sorted_unique(case_ids.iter().copied());
        self.rows_in_one(sql, None, &ids)
            .await?
            .iter()
            .map(|r| Ok((uuid(&get::<String>(r, "case_id")?)?, get::<String>(r, "external_id")?)))
            .collect()
    }

    pub async fn payment(&mut self, id: Uuid) -> Result<Option<PaymentRecord>> {
        let row = sqlx::query(&format!("SELECT {PAYMENT_COLS} FROM payments WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(payment_from).transpose()
    }

    pub async fn insert_payout(&mut self, p: &PayoutRecord) -> Result<()> {
        // The case's client (migration 0038) is written with the payout.
        sqlx::query(&format!(
            "INSERT INTO payouts ({PAYOUT_COLS}, client_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
             (SELECT c.client_id FROM cases c WHERE c.id = $3))"
        ))
        .bind(p.id.to_string())
        .bind(p.payment_id.to_string())
        .bind(p.case_id.to_string())
        .bind(p.collection_partner_id.map(|c| c.to_string()))
        .bind(p.success_fee_minor)
        .bind(p.platform_fee_minor)
        .bind(p.currency.code())
        .bind(ms(p.created_at))
        .bind(p.commission_status.as_str())
        .bind(p.commission_paid_at.map(ms))
        .bind(p.fx_usd_per_unit_e8)
        .bind(p.fx_rate_date.clone())
        .bind(p.cp_invoice_id.map(|x| x.to_string()))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn payout_by_payment(&mut self, payment_id: Uuid) -> Result<Option<PayoutRecord>> {
        let row = sqlx::query(&format!("SELECT {PAYOUT_COLS} FROM payouts WHERE payment_id = $1"))
            .bind(payment_id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(payout_from).transpose()
    }

    pub async fn payouts_of_case(&mut self, case_id: Uuid) -> Result<Vec<PayoutRecord>> {
        let rows = sqlx::query(&format!("SELECT {PAYOUT_COLS} FROM payouts WHERE case_id = $1 ORDER BY created_at, id"))
            .bind(case_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(payout_from).collect()
    }

    pub async fn insert_decision(&mut self, d: &DecisionRecord) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO attribution_decisions ({DECISION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(d.id.to_string())
        .bind(d.payout_id.to_string())
        .bind(d.supersedes_id.map(|x| x.to_string()))
        .bind(d.partner_id.map(|x| x.to_string()))
        .bind(d.link_id.map(|x| x.to_string()))
        .bind(d.link_request_id.map(|x| x.to_string()))
        .bind(d.link_status.map(|s| s.as_str().to_string()))
        .bind(d.reason.as_str())
        .bind(d.attributed as i64)
        .bind(d.case_source.as_str())
        .bind(d.referral_fee_bps.map(|b| b.0 as i64))
        .bind(d.referral_fee_minor)
        .bind(d.currency.code())
        .bind(&d.engine_version)
        .bind(ms(d.decided_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Every decision stored for the payouts of a case, oldest first.
    pub async fn decisions_of_case(&mut self, case_id: Uuid) -> Result<Vec<DecisionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM attribution_decisions d JOIN payouts p ON p.id = d.payout_id WHERE p.case_id = $1 ORDER BY d.decided_at, d.id",
            DECISION_COLS.split(", ").map(|c| format!("d.{c}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(case_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(decision_from).collect()
    }

    pub async fn decision_of_payout(&mut self, payout_id: Uuid) -> Result<Option<DecisionRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {DECISION_COLS} FROM attribution_decisions WHERE payout_id = $1 ORDER BY decided_at DESC, id DESC LIMIT 1"
        ))
        .bind(payout_id.to_string())
        .fetch_optional(self.conn())
        .await?;
        row.as_ref().map(decision_from).transpose()
    }

    /// Inserts an earning with the platform fee of its payout (read model, migration 0025)
    /// and the client of its case (migration 0032).
    pub async fn insert_earning(&mut self, e: &EarningRecord) -> Result<()> {
        let sql = format!(
            "INSERT INTO earnings ({EARNING_COLS}, platform_fee_minor, client_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             (SELECT p.platform_fee_minor FROM payouts p WHERE p.id = $2), (SELECT c.client_id FROM cases c WHERE c.id = $5))"
        );
        bind_earning_cols(sqlx::query(&sql), e).execute(self.conn()).await?;
        Ok(())
    }

    /// Inserts a new earning with its read model (migration 0019) in the one statement,
    /// and adds its contribution to the pending totals from the row as written (the
    /// platform fee the statement stored is returned by it): the rows and deltas that
    /// [`Tx::insert_earning`] followed by [`Tx::set_earning_read_models`] produce, without
    /// reading the earning back. For an earning created in this transaction.
    pub async fn insert_earning_with_model(&mut self, e: &EarningRecord, m: &EarningReadModel) -> Result<()> {
        if m.earning_id != e.id {
            return Err(StoreError::Corrupt("a read model of another earning".into()));
        }
        let sql = format!(
            "INSERT INTO earnings ({EARNING_COLS}, stage, paid_at, fx_usd_per_unit_e8, platform_fee_minor, client_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, \
             (SELECT p.platform_fee_minor FROM payouts p WHERE p.id = $2), (SELECT c.client_id FROM cases c WHERE c.id = $5)) \
             RETURNING platform_fee_minor, client_id"
        );
        let row = bind_earning_cols(sqlx::query(&sql), e)
            .bind(m.stage.map(|s| s.as_str()))
            .bind(ms(m.paid_at))
            .bind(m.fx_usd_per_unit_e8)
            .fetch_one(self.conn())
            .await?;
        let fee: Option<i64> = get(&row, "platform_fee_minor")?;
        let client_id = get::<Option<String>>(&row, "client_id")?.as_deref().map(uuid).transpose()?;
        self.totals.add_written(e, m, fee, client_id)
    }

    pub async fn earnings_of_case(&mut self, case_id: Uuid) -> Result<Vec<EarningRecord>> {
        let rows = sqlx::query(&format!("SELECT {EARNING_COLS} FROM earnings WHERE case_id = $1 ORDER BY created_at, id"))
            .bind(case_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(earning_from).collect()
    }

    /// All earnings of a partner, newest first.
    pub async fn earnings_of_partner(&mut self, partner_id: Uuid) -> Result<Vec<EarningRecord>> {
        let rows = sqlx::query(&format!("SELECT {EARNING_COLS} FROM earnings WHERE partner_id = $1 ORDER BY created_at DESC, id DESC"))
            .bind(partner_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(earning_from).collect()
    }

    pub async fn payout(&mut self, id: Uuid) -> Result<Option<PayoutRecord>> {
        let row = sqlx::query(&format!("SELECT {PAYOUT_COLS} FROM payouts WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(payout_from).transpose()
    }

    /// The commission on a payout was paid: its status and the USD rate locked that day.
    /// Only an `Unpaid` payout moves; `false` when it was not (a concurrent change).
    pub async fn set_commission_paid(&mut self, payout_id: Uuid, at: refshare_core::Instant, rate: Option<(i64, String)>) -> Result<bool> {
        let (e8, date) = rate.map_or((None, None), |(e8, d)| (Some(e8), Some(d)));
        let r = sqlx::query(
            "UPDATE payouts SET commission_status = $1, commission_paid_at = $2, fx_usd_per_unit_e8 = $3, fx_rate_date = $4 \
             WHERE id = $5 AND commission_status = $6",
        )
        .bind(CommissionStatus::Paid.as_str())
        .bind(ms(at))
        .bind(e8)
        .bind(date)
        .bind(payout_id.to_string())
        .bind(CommissionStatus::Unpaid.as_str())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn set_commission_status(&mut self, payout_id: Uuid, status: CommissionStatus) -> Result<()> {
        sqlx::query("UPDATE payouts SET commission_status = $1 WHERE id = $2")
            .bind(status.as_str())
            .bind(payout_id.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Puts a payout on a CP invoice; `false` if another invoice already bills it.
    pub async fn set_payout_cp_invoice(&mut self, payout_id: Uuid, invoice_id: Uuid) -> Result<bool> {
        let r = sqlx::query("UPDATE payouts SET cp_invoice_id = $1 WHERE id = $2 AND cp_invoice_id IS NULL")
            .bind(invoice_id.to_string())
            .bind(payout_id.to_string())
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Payouts whose commission was paid before `before` and that no CP invoice bills yet.
    pub async fn payouts_to_invoice(&mut self, before: refshare_core::Instant) -> Result<Vec<PayoutRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYOUT_COLS} FROM payouts WHERE commission_status = $1 AND cp_invoice_id IS NULL AND commission_paid_at < $2 \
             ORDER BY created_at, id"
        ))
        .bind(CommissionStatus::Paid.as_str())
        .bind(ms(before))
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(payout_from).collect()
    }

    pub async fn payouts_of_cp_invoice(&mut self, invoice_id: Uuid) -> Result<Vec<PayoutRecord>> {
        let rows = sqlx::query(&format!("SELECT {PAYOUT_COLS} FROM payouts WHERE cp_invoice_id = $1 ORDER BY created_at, id"))
            .bind(invoice_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(payout_from).collect()
    }

    pub async fn earning(&mut self, id: Uuid) -> Result<Option<EarningRecord>> {
        let row = sqlx::query(&format!("SELECT {EARNING_COLS} FROM earnings WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(earning_from).transpose()
    }

    pub async fn earnings_of_payout(&mut self, payout_id: Uuid) -> Result<Vec<EarningRecord>> {
        let rows = sqlx::query(&format!("SELECT {EARNING_COLS} FROM earnings WHERE payout_id = $1 ORDER BY created_at, id"))
            .bind(payout_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(earning_from).collect()
    }

    pub async fn earnings_of_partner_invoice(&mut self, invoice_id: Uuid) -> Result<Vec<EarningRecord>> {
        let rows = sqlx::query(&format!("SELECT {EARNING_COLS} FROM earnings WHERE partner_invoice_id = $1 ORDER BY created_at, id"))
            .bind(invoice_id.to_string())
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(earning_from).collect()
    }

    /// Every earning, oldest first (reconciliation).
    pub async fn all_earnings(&mut self) -> Result<Vec<EarningRecord>> {
        let rows = sqlx::query(&format!("SELECT {EARNING_COLS} FROM earnings ORDER BY created_at, id")).fetch_all(self.conn()).await?;
        rows.iter().map(earning_from).collect()
    }

    /// Takes the earning's row lock (PostgreSQL) so that concurrent ledger syncs of one
    /// earning run one after the other and each sees the other's entries.
    pub async fn lock_earning(&mut self, id: Uuid) -> Result<()> {
        sqlx::query("UPDATE earnings SET kind = kind WHERE id = $1").bind(id.to_string()).execute(self.conn()).await?;
        Ok(())
    }

    /// Writes an earning's read model (migration 0019).
    pub async fn set_earning_read_model(&mut self, m: &EarningReadModel) -> Result<()> {
        self.totals_before(&[m.earning_id]).await?;
        sqlx::query("UPDATE earnings SET stage = $1, paid_at = $2, fx_usd_per_unit_e8 = $3 WHERE id = $4")
            .bind(m.stage.map(|s| s.as_str()))
            .bind(ms(m.paid_at))
            .bind(m.fx_usd_per_unit_e8)
            .bind(m.earning_id.to_string())
            .execute(self.conn())
            .await?;
        self.totals_after(&[m.earning_id]).await
    }

    /// Up to `limit` live earnings whose read model was never written (earnings from
    /// before migration 0019).
    pub async fn earnings_without_read_model(&mut self, limit: i64) -> Result<Vec<Uuid>> {
        let rows = sqlx::query(&format!("SELECT id FROM earnings WHERE stage IS NULL AND voided_at IS NULL ORDER BY id LIMIT {limit}"))
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(|r| uuid(&get::<String>(r, "id")?)).collect()
    }

    /// An earning's read model as stored (`None` for a missing earning).
    pub async fn earning_read_model(&mut self, id: Uuid) -> Result<Option<EarningReadModel>> {
        let row = sqlx::query("SELECT id, stage, paid_at, fx_usd_per_unit_e8 FROM earnings WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(read_model_from).transpose()
    }

    /// Every earning's stored read model whose paid date is set, oldest first; for
    /// `reconcile`, which proves them against the stage rule.
    pub async fn earning_read_models(&mut self) -> Result<Vec<EarningReadModel>> {
        let rows = sqlx::query("SELECT id, stage, paid_at, fx_usd_per_unit_e8 FROM earnings WHERE paid_at IS NOT NULL ORDER BY id")
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(read_model_from).collect()
    }

    /// `Pending → Invoiced` on a partner invoice; `false` unless the earning was live,
    /// pending and on no invoice (a concurrent reversal, dispute or invoice got there first).
    pub async fn invoice_earning(&mut self, id: Uuid, invoice: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE earnings SET referral_invoice_status = $1, partner_invoice_id = $2 \
             WHERE id = $3 AND referral_invoice_status = $4 AND partner_invoice_id IS NULL AND voided_at IS NULL",
        )
        .bind(ReferralInvoiceStatus::Invoiced.as_str())
        .bind(invoice.to_string())
        .bind(id.to_string())
        .bind(ReferralInvoiceStatus::Pending.as_str())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// `Invoiced → Paid` for an earning on `invoice`; `false` if it was not invoiced there.
    pub async fn settle_earning(&mut self, id: Uuid, invoice: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE earnings SET referral_invoice_status = $1 WHERE id = $2 AND partner_invoice_id = $3 AND referral_invoice_status = $4",
        )
        .bind(ReferralInvoiceStatus::Paid.as_str())
        .bind(id.to_string())
        .bind(invoice.to_string())
        .bind(ReferralInvoiceStatus::Invoiced.as_str())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Holds a live, pending, uninvoiced earning in `Disputed` under `dispute`; `false`
    /// when it no longer qualifies.
    pub async fn hold_earning(&mut self, id: Uuid, dispute: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE earnings SET dispute_id = $1, referral_invoice_status = $2, status_before_dispute = $3 \
             WHERE id = $4 AND referral_invoice_status = $5 AND partner_invoice_id IS NULL AND voided_at IS NULL AND dispute_id IS NULL",
        )
        .bind(dispute.to_string())
        .bind(ReferralInvoiceStatus::Disputed.as_str())
        .bind(ReferralInvoiceStatus::Pending.as_str())
        .bind(id.to_string())
        .bind(ReferralInvoiceStatus::Pending.as_str())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Releases an earning held by `dispute` back to the status it had.
    pub async fn release_earning(&mut self, id: Uuid, dispute: Uuid) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE earnings SET referral_invoice_status = COALESCE(status_before_dispute, $1), dispute_id = NULL, status_before_dispute = NULL \
             WHERE id = $2 AND dispute_id = $3",
        )
        .bind(ReferralInvoiceStatus::Pending.as_str())
        .bind(id.to_string())
        .bind(dispute.to_string())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Voids an earning that is on no partner invoice; `false` if it is voided or
    /// invoiced already.
    pub async fn void_earning(&mut self, id: Uuid, at: refshare_core::Instant, reason: &str) -> Result<bool> {
        self.totals_before(&[id]).await?;
        let r = sqlx::query(
            "UPDATE earnings SET voided_at = $1, void_reason = $2 WHERE id = $3 AND voided_at IS NULL AND partner_invoice_id IS NULL",
        )
        .bind(ms(at))
        .bind(reason)
        .bind(id.to_string())
        .execute(self.conn())
        .await?;
        self.totals_after(&[id]).await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn insert_reversal(&mut self, r: &ReversalRecord) -> Result<()> {
        sqlx::query("INSERT INTO payment_reversals (id, payment_id, reason, created_at) VALUES ($1, $2, $3, $4)")
            .bind(r.id.to_string())
            .bind(r.payment_id.to_string())
            .bind(&r.reason)
            .bind(ms(r.created_at))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn reversal_of_payment(&mut self, payment_id: Uuid) -> Result<Option<ReversalRecord>> {
        let row = sqlx::query("SELECT id, payment_id, reason, created_at FROM payment_reversals WHERE payment_id = $1")
            .bind(payment_id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.map(|r| {
            Ok(ReversalRecord {
                id: uuid(&get::<String>(&r, "id")?)?,
                payment_id: uuid(&get::<String>(&r, "payment_id")?)?,
                reason: get(&r, "reason")?,
                created_at: at(get(&r, "created_at")?),
            })
        })
        .transpose()
    }

    /// Payouts behind any of the partner's earnings (one query for reporting).
    pub async fn payouts_of_partner_earnings(&mut self, partner_id: Uuid) -> Result<Vec<PayoutRecord>> {
        let rows =
            sqlx::query(&format!("SELECT {PAYOUT_COLS} FROM payouts WHERE id IN (SELECT payout_id FROM earnings WHERE partner_id = $1)"))
                .bind(partner_id.to_string())
                .fetch_all(self.conn())
                .await?;
        rows.iter().map(payout_from).collect()
    }

    /// Payments behind any of the partner's earnings.
    pub async fn payments_of_partner_earnings(&mut self, partner_id: Uuid) -> Result<Vec<PaymentRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE id IN \
             (SELECT p.payment_id FROM payouts p JOIN earnings e ON e.payout_id = p.id WHERE e.partner_id = $1)"
        ))
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(payment_from).collect()
    }

    /// Every decision on the payouts behind the partner's earnings, oldest first.
    pub async fn decisions_of_partner_earnings(&mut self, partner_id: Uuid) -> Result<Vec<DecisionRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {DECISION_COLS} FROM attribution_decisions WHERE payout_id IN (SELECT payout_id FROM earnings WHERE partner_id = $1) \
             ORDER BY decided_at, id"
        ))
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(decision_from).collect()
    }

    /// The first payout (by id) whose client (migration 0038) is not its case's:
    /// (payout, stored client, case's client), or `None` (`reconcile`).
    pub async fn payout_client_mismatch(&mut self) -> Result<Option<(Uuid, Option<Uuid>, Uuid)>> {
        let row = sqlx::query(
            "SELECT p.id AS id, p.client_id AS stored, c.client_id AS client FROM payouts p JOIN cases c ON c.id = p.case_id \
             WHERE p.client_id IS NULL OR p.client_id <> c.client_id ORDER BY p.id LIMIT 1",
        )
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| Ok((uuid(&get::<String>(&r, "id")?)?, opt_uuid(get(&r, "stored")?)?, uuid(&get::<String>(&r, "client")?)?))).transpose()
    }

    /// Overwrites a payout's client (tests of `reconcile`).
    pub async fn corrupt_payout_client(&mut self, payout_id: Uuid, client_id: Option<Uuid>) -> Result<()> {
        sqlx::query("UPDATE payouts SET client_id = $1 WHERE id = $2")
            .bind(client_id.map(|c| c.to_string()))
            .bind(payout_id.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// How many payouts the client's cases have.
    pub async fn payout_count_of_client(&mut self, client_id: Uuid) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM payouts p JOIN cases c ON c.id = p.case_id WHERE c.client_id = $1")
            .bind(client_id.to_string())
            .fetch_one(self.conn())
            .await?;
        get(&row, "n")
    }
}

/// Binds an earning's `EARNING_COLS` as `$1..$17`, in their order.
fn bind_earning_cols<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    e: &'q EarningRecord,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(e.id.to_string())
        .bind(e.payout_id.to_string())
        .bind(e.decision_id.map(|x| x.to_string()))
        .bind(e.partner_id.to_string())
        .bind(e.case_id.to_string())
        .bind(e.amount_minor)
        .bind(e.currency.code())
        .bind(e.referral_invoice_status.as_str())
        .bind(ms(e.created_at))
        .bind(e.kind.as_str())
        .bind(e.corrects_id.map(|x| x.to_string()))
        .bind(e.note.clone())
        .bind(e.partner_invoice_id.map(|x| x.to_string()))
        .bind(e.voided_at.map(ms))
        .bind(e.void_reason.clone())
        .bind(e.dispute_id.map(|x| x.to_string()))
        .bind(e.status_before_dispute.map(|s| s.as_str()))
}
