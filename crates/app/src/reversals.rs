//! Reversing a debtor payment (SPEC §2, §6): a new reversal record, never an edit. Each
//! earning of the payout is voided if the partner has not invoiced it yet; if it has, a
//! clawback is booked into the partner's next invoice. The partner sees both with the
//! reason (statements, the attribution check).

use refshare_core::ledger::EarningKind;
use refshare_core::stage::CommissionStatus;
use refshare_store::{EarningRecord, ReversalRecord};
use uuid::Uuid;

use crate::error::PaymentError;
use crate::ledger::{sync_earnings, Cause};
use crate::{actor, audit, App, AppError};

/// What a reversal did.
#[derive(Debug, Clone)]
pub struct ReversalOutcome {
    pub reversal: ReversalRecord,
    pub payout_id: Uuid,
    /// Earnings voided (not yet invoiced).
    pub voided: Vec<EarningRecord>,
    /// Clawbacks booked for earnings already invoiced.
    pub clawbacks: Vec<EarningRecord>,
}

impl App {
    pub async fn reverse_payment(&self, payment_id: Uuid, reason: Option<String>) -> Result<ReversalOutcome, AppError> {
        let reason = reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()).unwrap_or_else(|| "payment reversed".into());
        if reason.chars().count() > 500 {
            return Err(AppError::bad_field("reason", "must be at most 500 characters"));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let payment = tx.payment(payment_id).await?.ok_or(AppError::NotFound("payment"))?;
        if let Some(r) = tx.reversal_of_payment(payment.id).await? {
            return Err(PaymentError::AlreadyReversed { payment_id, at: r.created_at }.into());
        }
        let payout = tx.payout_by_payment(payment.id).await?.ok_or_else(|| AppError::internal("payment without payout"))?;
        let reversal = ReversalRecord { id: Uuid::new_v4(), payment_id: payment.id, reason: reason.clone(), created_at: now };
        tx.insert_reversal(&reversal).await?;
        tx.set_commission_status(payout.id, CommissionStatus::Credited).await?;
        let cause = Cause::new("payment.reversed", reversal.id, now);
        let (mut voided, mut clawbacks) = (Vec::new(), Vec::new());
        for e in tx.earnings_of_payout(payout.id).await? {
            if !e.is_live() || e.kind == EarningKind::Clawback {
                continue;
            }
            if e.partner_invoice_id.is_none() {
                if !tx.void_earning(e.id, now, &reason).await? {
                    return Err(AppError::concurrent(format!("Earning {}", e.id)));
                }
                voided.push(tx.earning(e.id).await?.ok_or(AppError::NotFound("earning"))?);
            } else {
                let clawback = EarningRecord {
                    decision_id: None,
                    corrects_id: Some(e.id),
                    note: Some(reason.clone()),
                    ..EarningRecord::new(Uuid::new_v4(), &payout, e.partner_id, EarningKind::Clawback, -e.amount_minor, now)
                };
                tx.insert_earning(&clawback).await?;
                clawbacks.push(clawback);
            }
        }
        let touched: Vec<Uuid> = voided.iter().chain(&clawbacks).map(|e| e.id).collect();
        sync_earnings(&mut tx, &touched, &cause).await?;
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            "payment.reversed",
            "payment",
            &payment.id.to_string(),
            serde_json::json!({
                "reason": reason,
                "voided": voided.iter().map(|e| e.id).collect::<Vec<_>>(),
                "clawbacks": clawbacks.iter().map(|e| e.id).collect::<Vec<_>>(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(ReversalOutcome { reversal, payout_id: payout.id, voided, clawbacks })
    }
}
