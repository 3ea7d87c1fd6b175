//! The revenue lifecycle (SPEC §6), driven by operator events: the collection partner
//! pays the commission on a payout (the USD rate is locked that day), the monthly CP
//! invoicing run, the CP paying that invoice, the partner invoicing the platform, and the
//! platform paying the partner. Each event checks its transition is legal, changes the
//! statuses and lets the ledger follow, in one transaction.

use chrono::{Datelike, TimeZone};
use refshare_core::calendar::add_business_days;
use refshare_core::ledger::EarningKind;
use refshare_core::money::checked_add;
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, RevenueStage};
use refshare_core::Instant;
use refshare_store::{CpInvoiceRecord, EarningRecord, PartnerInvoiceRecord, PayoutRecord};
use uuid::Uuid;

use crate::error::RevenueError;
use crate::fx::{overflow, usd, usd_at, usd_rate};
use crate::ledger::{stage_now, sync_earnings, sync_payout, Cause};
use crate::{actor, audit, App, AppError};

/// Day of the month on which the previous month's CP invoicing runs by default.
pub const DEFAULT_CP_INVOICING_DAY: u32 = 8;

/// A reporting/invoicing period: a calendar month (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    pub month: u32,
}

impl Period {
    pub fn parse(s: &str) -> Option<Period> {
        let (y, m) = s.split_once('-')?;
        if y.len() != 4 || m.len() != 2 {
            return None;
        }
        let p = Period { year: y.parse().ok()?, month: m.parse().ok()? };
        (1..=12).contains(&p.month).then_some(p)
    }

    pub fn of(t: Instant) -> Period {
        Period { year: t.year(), month: t.month() }
    }

    pub fn start(&self) -> Instant {
        chrono::Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0).single().expect("valid month")
    }

    pub fn next(&self) -> Period {
        if self.month == 12 {
            Period { year: self.year + 1, month: 1 }
        } else {
            Period { year: self.year, month: self.month + 1 }
        }
    }

    pub fn previous(&self) -> Period {
        if self.month == 1 {
            Period { year: self.year - 1, month: 12 }
        } else {
            Period { year: self.year, month: self.month - 1 }
        }
    }

    /// The first instant after the period.
    pub fn end(&self) -> Instant {
        self.next().start()
    }

    pub fn contains(&self, t: Instant) -> bool {
        self.start() <= t && t < self.end()
    }
}

impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// A CP invoice with the payouts it bills.
#[derive(Debug, Clone)]
pub struct CpInvoiceView {
    pub invoice: CpInvoiceRecord,
    pub payout_ids: Vec<Uuid>,
}

/// A partner invoice with its earnings (clawbacks included, negative).
#[derive(Debug, Clone)]
pub struct PartnerInvoiceView {
    pub invoice: PartnerInvoiceRecord,
    pub earning_ids: Vec<Uuid>,
}

impl App {
    /// The collection partner paid the platform's commission on a payout: `Unpaid → Paid`,
    /// and the USD rate of that day is locked for every earning of the payout.
    pub async fn commission_paid(&self, payout_id: Uuid) -> Result<PayoutRecord, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let payout = tx.payout(payout_id).await?.ok_or(AppError::NotFound("payout"))?;
        match payout.commission_status {
            CommissionStatus::Unpaid => {}
            CommissionStatus::Paid => return Err(RevenueError::CommissionAlreadyPaid { payout_id }.into()),
            CommissionStatus::Credited => return Err(RevenueError::PaymentReversed { payout_id }.into()),
        }
        let rate = usd_rate(&mut tx, payout.currency, now).await?;
        if !tx.set_commission_paid(payout.id, now, Some((rate.1, rate.0.clone()))).await? {
            return Err(AppError::concurrent(format!("payout {payout_id}")));
        }
        let cause = Cause::new("commission.paid", payout.id, now);
        sync_payout(&mut tx, payout.id, &cause).await?;
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            "commission.paid",
            "payout",
            &payout.id.to_string(),
            serde_json::json!({"fxRateDate": rate.0, "usdPerUnitE8": rate.1}),
        )
        .await?;
        let payout = tx.payout(payout.id).await?.ok_or(AppError::NotFound("payout"))?;
        tx.commit().await?;
        Ok(payout)
    }

    /// The monthly run for `period`: one invoice per collection partner and currency for
    /// every payout whose commission was paid before the period ended and that no invoice
    /// bills yet. A period runs once; running it again returns the same invoices.
    pub async fn run_cp_invoicing(&self, period: &str) -> Result<Vec<CpInvoiceView>, AppError> {
        let p = Period::parse(period).ok_or_else(|| AppError::bad_field("period", "must be YYYY-MM"))?;
        let now = self.now();
        if now < p.end() {
            return Err(RevenueError::PeriodNotEnded { period: p.to_string(), ends_at: p.end() }.into());
        }
        let mut tx = self.store.begin().await?;
        let key = self.cp_invoicing_in(&mut tx, p, now).await?;
        let mut out = Vec::new();
        for invoice in tx.cp_invoices_of_period(&key).await? {
            let payout_ids = tx.payout_ids_of_cp_invoice(invoice.id).await?;
            out.push(CpInvoiceView { invoice, payout_ids });
        }
        tx.commit().await?;
        Ok(out)
    }

    /// The run of period `p` inside `tx`, unless it ran already; returns the period key.
    /// Set-based: the payouts to bill are summed per collection partner and currency in
    /// SQL, each group is put on its invoice with one `UPDATE`, and the earnings of the
    /// billed payouts are synced as one set.
    async fn cp_invoicing_in(&self, tx: &mut refshare_store::Tx, p: Period, now: Instant) -> Result<String, AppError> {
        let key = p.to_string();
        if tx.cp_invoicing_run(&key).await?.is_some() {
            return Ok(key);
        }
        for group in tx.cp_invoicing_groups(p.end()).await? {
            let invoice = CpInvoiceRecord {
                id: Uuid::new_v4(),
                collection_partner_id: group.collection_partner_id,
                period: key.clone(),
                currency: group.currency,
                amount_minor: group.amount_minor,
                status: CpInvoiceStatus::InvoiceIssued,
                created_at: now,
                paid_at: None,
                due_at: Some(add_business_days(now, self.config.payment_terms_business_days)),
            };
            tx.insert_cp_invoice(&invoice).await?;
            let moved = tx.assign_payouts_to_cp_invoice(invoice.id, &group, p.end()).await?;
            if moved != group.payouts as u64 {
                return Err(AppError::concurrent(format!("payouts of collection partner {}", group.collection_partner_id)));
            }
            let cause = Cause::new("cp_invoice.issued", invoice.id, now);
            let earnings = tx.earning_ids_of_cp_invoice(invoice.id).await?;
            sync_earnings(tx, &earnings, &cause).await?;
            audit(
                tx,
                now,
                actor::OPERATOR,
                "cp_invoice.issued",
                "cp_invoice",
                &invoice.id.to_string(),
                serde_json::json!({"period": key, "amountMinor": invoice.amount_minor, "currency": group.currency.code(), "payouts": group.payouts}),
            )
            .await?;
        }
        tx.insert_cp_invoicing_run(&key, now).await?;
        Ok(key)
    }

    /// Runs the previous month's CP invoicing once the invoicing day has come, unless it
    /// already ran. Called by the scheduler; returns the period it ran, if any.
    pub async fn run_due_cp_invoicing(&self) -> Result<Option<String>, AppError> {
        let now = self.now();
        if now.day() < self.config.cp_invoicing_day {
            return Ok(None);
        }
        let period = Period::of(now).previous();
        // A cheap check on a reader first: once the period ran, nothing else is read.
        if self.store.read().await?.cp_invoicing_run(&period.to_string()).await?.is_some() {
            return Ok(None);
        }
        let mut tx = self.store.begin().await?;
        let key = self.cp_invoicing_in(&mut tx, period, now).await?;
        tx.commit().await?;
        Ok(Some(key))
    }

    /// The collection partner paid a CP invoice: `InvoiceIssued → PaymentReceived`.
    pub async fn cp_invoice_paid(&self, invoice_id: Uuid) -> Result<CpInvoiceView, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let invoice = tx.cp_invoice(invoice_id).await?.ok_or(AppError::NotFound("invoice"))?;
        if invoice.status != CpInvoiceStatus::InvoiceIssued {
            return Err(RevenueError::CpInvoiceNotOpen { invoice_id, status: invoice.status.as_str() }.into());
        }
        if !tx.set_cp_invoice_paid(invoice.id, now).await? {
            return Err(AppError::concurrent(format!("CP invoice {invoice_id}")));
        }
        let cause = Cause::new("cp_invoice.paid", invoice.id, now);
        let earnings = tx.earning_ids_of_cp_invoice(invoice.id).await?;
        sync_earnings(&mut tx, &earnings, &cause).await?;
        let payout_ids = tx.payout_ids_of_cp_invoice(invoice.id).await?;
        audit(&mut tx, now, actor::OPERATOR, "cp_invoice.paid", "cp_invoice", &invoice.id.to_string(), serde_json::json!({})).await?;
        let invoice = tx.cp_invoice(invoice.id).await?.ok_or(AppError::NotFound("invoice"))?;
        tx.commit().await?;
        Ok(CpInvoiceView { invoice, payout_ids })
    }

    /// The partner invoices the platform for what is ready: the chosen earnings, or all of
    /// them, plus every pending clawback (deducted). The amount is in USD at the rates
    /// locked when the commissions were paid.
    pub async fn create_partner_invoice(&self, partner_id: Uuid, earning_ids: Option<Vec<Uuid>>) -> Result<PartnerInvoiceView, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        tx.partner(partner_id).await?.ok_or(AppError::NotFound("partner"))?;
        // What is ready, by the earnings read model (kept by every sync): live, pending,
        // on no invoice and in the one invoiceable stage (core `ledger::invoiceable`);
        // with the rate locked on its payout.
        let ready = tx.pending_earnings_in_stage(partner_id, RevenueStage::ReadyToInvoiceDebitura).await?;
        let (clawbacks, mut chosen): (Vec<_>, Vec<_>) = ready.into_iter().partition(|(e, _)| e.kind == EarningKind::Clawback);
        if let Some(ids) = earning_ids {
            let mut picked: Vec<(EarningRecord, Option<i64>)> = Vec::new();
            for id in ids {
                if picked.iter().any(|(e, _)| e.id == id) {
                    continue;
                }
                match chosen.iter().find(|(e, _)| e.id == id) {
                    Some(x) => picked.push(x.clone()),
                    None => {
                        let e = tx.earning(id).await?.filter(|e| e.partner_id == partner_id).ok_or(AppError::NotFound("earning"))?;
                        let stage = stage_now(&mut tx, &e).await?;
                        return Err(RevenueError::EarningNotReady { earning_id: id, stage: stage.map(|s| s.as_str()) }.into());
                    }
                }
            }
            chosen = picked;
        }
        if chosen.is_empty() && clawbacks.is_empty() {
            return Err(RevenueError::NothingToInvoice.into());
        }
        let items: Vec<(EarningRecord, Option<i64>)> = chosen.into_iter().chain(clawbacks).collect();
        let mut amount = 0i64;
        for (e, rate) in &items {
            let rate = rate.ok_or_else(|| AppError::internal(format!("earning {} is ready without a locked rate", e.id)))?;
            amount = checked_add(amount, usd_at(e.amount_minor, e.currency, rate)?).map_err(overflow)?;
        }
        if amount <= 0 {
            return Err(RevenueError::NetNotPositive { net_usd_minor: amount }.into());
        }
        let invoice = PartnerInvoiceRecord {
            id: Uuid::new_v4(),
            partner_id,
            currency: usd(),
            amount_minor: amount,
            status: "Invoiced".into(),
            created_at: now,
            paid_at: None,
            due_at: Some(add_business_days(now, self.config.payment_terms_business_days)),
        };
        tx.insert_partner_invoice(&invoice).await?;
        let cause = Cause::new("partner_invoice.created", invoice.id, now);
        let ids: Vec<Uuid> = items.iter().map(|(e, _)| e.id).collect();
        // One statement per chunk; each earning must still be live, pending and on no
        // invoice (a concurrent reversal, dispute or invoice got there first otherwise).
        if tx.invoice_earnings(&ids, invoice.id).await? != ids.len() as u64 {
            return Err(AppError::concurrent(format!("earnings of partner {partner_id}")));
        }
        sync_earnings(&mut tx, &ids, &cause).await?;
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            "partner_invoice.created",
            "partner_invoice",
            &invoice.id.to_string(),
            serde_json::json!({"partnerId": partner_id, "amountMinor": amount, "currency": "USD", "earnings": items.len()}),
        )
        .await?;
        tx.commit().await?;
        Ok(PartnerInvoiceView { invoice, earning_ids: ids })
    }

    /// The platform paid the partner's invoice: its earnings become `Paid`.
    pub async fn partner_invoice_paid(&self, invoice_id: Uuid) -> Result<PartnerInvoiceView, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let invoice = tx.partner_invoice(invoice_id).await?.ok_or(AppError::NotFound("invoice"))?;
        if invoice.status != "Invoiced" {
            return Err(RevenueError::PartnerInvoiceNotOpen { invoice_id, status: invoice.status.to_string() }.into());
        }
        if !tx.set_partner_invoice_paid(invoice.id, now).await? {
            return Err(AppError::concurrent(format!("partner invoice {invoice_id}")));
        }
        let earnings = tx.earning_ids_of_partner_invoice(invoice.partner_id, invoice.id).await?;
        let cause = Cause::new("partner_invoice.paid", invoice.id, now);
        if tx.settle_partner_invoice_earnings(invoice.partner_id, invoice.id).await? != earnings.len() as u64 {
            return Err(AppError::concurrent(format!("earnings of partner invoice {invoice_id}")));
        }
        sync_earnings(&mut tx, &earnings, &cause).await?;
        audit(&mut tx, now, actor::OPERATOR, "partner_invoice.paid", "partner_invoice", &invoice.id.to_string(), serde_json::json!({}))
            .await?;
        let invoice = tx.partner_invoice(invoice.id).await?.ok_or(AppError::NotFound("invoice"))?;
        tx.commit().await?;
        Ok(PartnerInvoiceView { invoice, earning_ids: earnings })
    }
}

#[cfg(test)]
mod tests {
    use super::Period;

    #[test]
    fn periods_parse_and_roll_over() {
        let p = Period::parse("2026-12").unwrap();
        assert_eq!(p.next().to_string(), "2027-01");
        assert_eq!(Period::parse("2027-01").unwrap().previous(), p);
        assert_eq!(p.end().to_rfc3339(), "2027-01-01T00:00:00+00:00");
        for bad in ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", ""] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }
}
