//! The write limits of `refshare bench`: a plain loop that writes, per payment, the same
//! seven rows an attributed single payment writes (payment, payout, decision, earning with
//! its read model, one ledger entry, two audit rows), one row per statement through the
//! store's bulk writers (`Tx::bulk_*` with one row), committing every payment or every
//! 1,000. No reads, no rules: what the database costs for those rows.
//!
//! The rows are consistent (fees from core's split, the earning's stage from core's
//! `stage_of`, the ledger holding the earning in that stage), so `reconcile` still agrees
//! after a bench run; they are real rows in the benchmarked database.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use refshare_app::App;
use refshare_core::attribution::{Reason, ENGINE_VERSION};
use refshare_core::case::CaseSource;
use refshare_core::fees::{referral_fee, split_payment, FeeTerms};
use refshare_core::ledger::{stage_of, EarningKind, EarningStatuses};
use refshare_core::money::{Bps, Currency};
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, ReferralInvoiceStatus};
use refshare_store::{
    AuditRecord, DecisionRecord, EarningReadModel, EarningRecord, LedgerEntryRecord, PartnerRecord, PaymentRecord, PayoutRecord, Tx,
};
use uuid::Uuid;

/// A case the bench pays on: visible to and attributed to the benchmarked partner,
/// `Active`, with a collection partner and at least [`PAYMENT_MINOR`] still owed per slot.
#[derive(Debug, Clone)]
pub struct Target {
    pub case_id: Uuid,
    pub reference: String,
    pub currency: Currency,
    pub source: CaseSource,
    pub collection_partner_id: Uuid,
    pub success_fee_bps: Bps,
    pub platform_share_bps: Bps,
}

/// Every payment of the bench: 10.00 in the case's currency (all targets have two decimals).
pub const PAYMENT_MINOR: i64 = 1_000;
/// The same amount on the wire.
pub const PAYMENT_WIRE: &str = "10.00";

/// Hands out payment slots (a case may appear several times, once per 10.00 owed) to
/// every writer of the bench, each slot once.
pub struct Slots {
    targets: Vec<Target>,
    next: AtomicUsize,
}

impl Slots {
    pub fn new(targets: Vec<Target>) -> Arc<Slots> {
        Arc::new(Slots { targets, next: AtomicUsize::new(0) })
    }

    /// The next unused slot, `None` when all are used.
    pub fn take(&self) -> Option<&Target> {
        self.targets.get(self.next.fetch_add(1, Ordering::Relaxed))
    }
}

/// The seven rows of one attributed payment of [`PAYMENT_MINOR`] on `t`.
pub struct Rows {
    payment: PaymentRecord,
    payout: PayoutRecord,
    decision: DecisionRecord,
    earning: (EarningRecord, EarningReadModel),
    entry: LedgerEntryRecord,
    audits: [AuditRecord; 2],
}

pub fn rows(app: &App, partner: &PartnerRecord, t: &Target, external_id: String) -> Rows {
    let now = app.now();
    let split = split_payment(PAYMENT_MINOR, FeeTerms { success_fee_bps: t.success_fee_bps, platform_share_bps: t.platform_share_bps })
        .expect("a small amount");
    let fee = referral_fee(split.platform_fee, partner.referral_fee_bps).expect("a small amount");
    let payment = PaymentRecord {
        id: Uuid::new_v4(),
        case_id: t.case_id,
        amount_minor: PAYMENT_MINOR,
        currency: t.currency,
        paid_at: now,
        external_id: Some(external_id),
        created_at: now,
        is_overpayment: false,
    };
    let payout = PayoutRecord {
        id: Uuid::new_v4(),
        payment_id: payment.id,
        case_id: t.case_id,
        collection_partner_id: Some(t.collection_partner_id),
        success_fee_minor: split.success_fee,
        platform_fee_minor: split.platform_fee,
        currency: t.currency,
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
        partner_id: Some(partner.id),
        link_id: None,
        link_request_id: None,
        link_status: None,
        reason: Reason::AttributedClient,
        attributed: true,
        case_source: t.source,
        referral_fee_bps: Some(partner.referral_fee_bps),
        referral_fee_minor: fee,
        currency: t.currency,
        engine_version: ENGINE_VERSION.into(),
        decided_at: now,
    };
    let earning = EarningRecord {
        decision_id: Some(decision.id),
        ..EarningRecord::new(Uuid::new_v4(), &payout, partner.id, EarningKind::Payout, fee, now)
    };
    let stage = stage_of(
        EarningKind::Payout,
        EarningStatuses {
            commission: CommissionStatus::Unpaid,
            cp_invoice: CpInvoiceStatus::NotInvoiced,
            referral: ReferralInvoiceStatus::Pending,
            mode: partner.invoicing_trigger_mode,
        },
    );
    let model = EarningReadModel { earning_id: earning.id, stage: Some(stage), paid_at: now, fx_usd_per_unit_e8: None };
    let entry = LedgerEntryRecord {
        id: Uuid::new_v4(),
        partner_id: partner.id,
        earning_id: earning.id,
        stage,
        amount_minor: fee,
        currency: t.currency,
        cause: "earning.created".into(),
        cause_id: Some(payout.id.to_string()),
        created_at: now,
    };
    let audits = [
        AuditRecord {
            id: Uuid::new_v4(),
            at: now,
            actor: refshare_app::actor::OPERATOR.into(),
            action: "payment.registered".into(),
            entity: "case".into(),
            entity_id: t.case_id.to_string(),
            detail: serde_json::json!({"paymentId": payment.id, "payoutId": payout.id, "amountMinor": PAYMENT_MINOR, "reason": "attributed_client", "referralFeeMinor": fee}),
        },
        AuditRecord {
            id: Uuid::new_v4(),
            at: now,
            actor: refshare_app::actor::SYSTEM.into(),
            action: "earning.stage_changed".into(),
            entity: "earning".into(),
            entity_id: earning.id.to_string(),
            detail: serde_json::json!({"from": null, "to": stage.as_str(), "cause": "earning.created", "causeId": payout.id.to_string()}),
        },
    ];
    Rows { payment, payout, decision, earning: (earning, model), entry, audits }
}

/// Writes one payment's rows, one statement per row (the earning's fee is never zero on
/// the bench's targets, so all seven are written).
pub async fn write(tx: &mut Tx, r: &Rows) -> refshare_store::Result<()> {
    tx.bulk_payments(std::slice::from_ref(&r.payment)).await?;
    tx.bulk_payouts(std::slice::from_ref(&r.payout)).await?;
    tx.bulk_decisions(std::slice::from_ref(&r.decision)).await?;
    if r.earning.0.amount_minor != 0 {
        tx.bulk_earnings(std::slice::from_ref(&r.earning)).await?;
        tx.bulk_ledger_entries(std::slice::from_ref(&r.entry)).await?;
    }
    tx.bulk_audit(&r.audits[..1]).await?;
    tx.bulk_audit(&r.audits[1..]).await?;
    Ok(())
}
