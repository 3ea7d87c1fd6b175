//! Registering a debtor payment: the payout, its stored attribution decision and, when
//! attributed, the partner's earning with its first ledger entries, in one transaction.

use refshare_core::attribution::{decide, CaseFacts, ClientFacts, ENGINE_VERSION};
use refshare_core::case::Lifecycle;
use refshare_core::fees::{referral_fee, split_payment, FeeTerms};
use refshare_core::ledger::EarningKind;
use refshare_core::money::parse_amount;
use refshare_core::stage::CommissionStatus;
use refshare_core::Instant;
use refshare_store::{DecisionRecord, EarningRecord, PaymentRecord, PayoutRecord};
use serde::Deserialize;
use uuid::Uuid;

use crate::error::PaymentError;
use crate::ledger::{sync_earning, Cause};
use crate::{actor, audit, App, AppError};

/// `POST /cases/{caseIdOrReference}/payments` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentInput {
    pub amount: serde_json::Number,
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    pub external_id: Option<String>,
}

/// What registering a payment produced.
#[derive(Debug, Clone)]
pub struct PaymentOutcome {
    pub payment: PaymentRecord,
    pub payout: PayoutRecord,
    pub decision: DecisionRecord,
    /// True when `externalId` matched an earlier payment and nothing new was written.
    pub replayed: bool,
}

impl App {
    pub async fn register_payment(&self, case_key: &str, input: PaymentInput) -> Result<PaymentOutcome, AppError> {
        let case = self.case_by_id_or_reference(case_key).await?;
        let amount = parse_amount(&input.amount.to_string(), case.currency).map_err(|e| AppError::bad_field("amount", e.to_string()))?;
        if let Some(x) = &input.external_id {
            if x.trim().is_empty() || x.len() > 255 {
                return Err(AppError::bad_field("externalId", "must be 1 to 255 characters"));
            }
        }
        let now: Instant = self.now();
        let mut tx = self.store.begin().await?;
        if let Some(x) = &input.external_id {
            if let Some(payment) = tx.payment_by_external_id(case.id, x).await? {
                if payment.amount_minor != amount {
                    return Err(PaymentError::ExternalIdReused { external_id: x.clone() }.into());
                }
                let payout = tx.payout_by_payment(payment.id).await?.ok_or_else(|| AppError::internal("payment without payout"))?;
                let decision = tx.decision_of_payout(payout.id).await?.ok_or_else(|| AppError::internal("payout without decision"))?;
                return Ok(PaymentOutcome { payment, payout, decision, replayed: true });
            }
        }
        // Re-read inside the transaction: the lifecycle may have changed.
        let case = tx.case(case.id).await?.ok_or(AppError::NotFound("case"))?;
        if case.lifecycle != Lifecycle::Active {
            return Err(PaymentError::CaseNotActive { reference: case.reference.clone(), lifecycle: case.lifecycle.as_str() }.into());
        }
        let assignment = case.assignment.ok_or_else(|| AppError::internal("active case without collection partner"))?;
        let split = split_payment(
            amount,
            FeeTerms { success_fee_bps: assignment.success_fee_bps, platform_share_bps: assignment.platform_share_bps },
        )
        .map_err(|_| AppError::bad_field("amount", "is too large"))?;

        let client = tx.client(case.client_id).await?.ok_or(AppError::NotFound("client"))?;
        let links = tx.links_of_client(client.id).await?;
        let requests: Vec<_> = tx.link_requests_of_client(client.id).await?.into_iter().map(|r| r.request).collect();
        let facts = ClientFacts { links: &links, requests: &requests, onboarding_completed_at: client.onboarding_completed_at };
        let d =
            decide(CaseFacts { created_at: case.created_at, source: case.source, creating_partner: case.creating_partner_id }, facts, now);
        let fee = match d.referral_fee_bps {
            Some(bps) => referral_fee(split.platform_fee, bps).map_err(|_| AppError::bad_field("amount", "is too large"))?,
            None => 0,
        };

        let payment = PaymentRecord {
            id: Uuid::new_v4(),
            case_id: case.id,
            amount_minor: amount,
            currency: case.currency,
            paid_at: input.paid_at.unwrap_or(now),
            external_id: input.external_id.clone(),
            created_at: now,
        };
        let payout = PayoutRecord {
            id: Uuid::new_v4(),
            payment_id: payment.id,
            case_id: case.id,
            collection_partner_id: Some(assignment.collection_partner_id),
            success_fee_minor: split.success_fee,
            platform_fee_minor: split.platform_fee,
            currency: case.currency,
            created_at: now,
            commission_status: CommissionStatus::Unpaid,
            commission_paid_at: None,
            fx_usd_per_unit_e8: None,
            fx_rate_date: None,
            cp_invoice_id: None,
        };
        let decision = DecisionRecord {
            id: Uuid::new_v4(),
            payout_id: payout.id,
            supersedes_id: None,
            partner_id: d.partner_id,
            link_id: d.link_id,
            link_request_id: d.link_request_id,
            link_status: d.link_status,
            reason: d.reason,
            attributed: d.attributed,
            case_source: d.case_source,
            referral_fee_bps: d.referral_fee_bps,
            referral_fee_minor: fee,
            currency: case.currency,
            engine_version: ENGINE_VERSION.into(),
            decided_at: now,
        };
        tx.insert_payment(&payment).await?;
        tx.insert_payout(&payout).await?;
        tx.insert_decision(&decision).await?;
        if let (true, Some(partner_id), true) = (d.attributed, d.partner_id, fee > 0) {
            let earning = EarningRecord {
                decision_id: Some(decision.id),
                ..EarningRecord::new(Uuid::new_v4(), &payout, partner_id, EarningKind::Payout, fee, now)
            };
            tx.insert_earning(&earning).await?;
            sync_earning(&mut tx, earning.id, &Cause::new("earning.created", payout.id, now)).await?;
        }
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            "payment.registered",
            "case",
            &case.id.to_string(),
            serde_json::json!({
                "paymentId": payment.id, "payoutId": payout.id, "amountMinor": amount, "reason": d.reason.as_str(), "referralFeeMinor": fee,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(PaymentOutcome { payment, payout, decision, replayed: false })
    }
}
