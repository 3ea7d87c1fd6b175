//! Plain records the store reads and writes. Domain types from `refshare-core` are used
//! where the core owns the concept (links, link requests, money, sources).

use refshare_core::attribution::Reason;
use refshare_core::case::{CaseSource, Lifecycle};
use refshare_core::ledger::EarningKind;
use refshare_core::link::LinkRequest;
use refshare_core::link::LinkStatus;
use refshare_core::money::{Bps, Currency};
use refshare_core::people::{OperatorRole, PartnerRole, PersonStatus};
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, InvoicingTriggerMode, ReferralInvoiceStatus, RevenueStage};
use refshare_core::Instant;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct PartnerRecord {
    pub id: Uuid,
    pub company_name: String,
    pub contact_email: String,
    pub referral_fee_bps: Bps,
    pub approval_ttl_days: i64,
    pub invoicing_trigger_mode: InvoicingTriggerMode,
    /// `{logoUrl, backgroundColorCode, fontColor, fontFamily}`.
    pub branding: serde_json::Value,
    pub created_at: Instant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub key_hash: String,
    pub key_prefix: String,
    pub created_at: Instant,
    pub revoked_at: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CollectionPartnerRecord {
    pub id: Uuid,
    pub name: String,
    pub success_fee_bps: Bps,
    pub platform_share_bps: Bps,
    pub countries: Vec<String>,
    pub created_at: Instant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientRecord {
    pub id: Uuid,
    pub company_name: String,
    pub country: String,
    pub registration_number: Option<String>,
    pub support_email: Option<String>,
    /// Address, phone and the other free details, as given.
    pub details: serde_json::Value,
    pub api_key_hash: Option<String>,
    pub onboarding_completed_at: Option<Instant>,
    pub sdca: Option<SdcaSignature>,
    pub created_at: Instant,
}

/// Who signed the Standard Debt Collection Agreement, when and from where.
#[derive(Debug, Clone, PartialEq)]
pub struct SdcaSignature {
    pub signer_name: String,
    pub signed_at: Instant,
    pub ip: String,
    pub user_agent: String,
    pub version: String,
    /// The signed-in client user who signed (`None` for signatures from before sign-in).
    pub signer_user_id: Option<Uuid>,
    /// How that user's address was proven: `link` or `code`.
    pub verified_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientUserRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub is_onboarding_user: bool,
    pub status: PersonStatus,
    pub last_sign_in_at: Option<Instant>,
}

/// A person who works for a partner (issue 8). `email` is unique per partner, compared
/// case-insensitively.
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerUserRecord {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: PartnerRole,
    pub status: PersonStatus,
    pub last_sign_in_at: Option<Instant>,
    pub created_at: Instant,
}

/// Platform staff (issue 8). `email` is unique among operators, compared
/// case-insensitively.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorRecord {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: OperatorRole,
    pub status: PersonStatus,
    pub last_sign_in_at: Option<Instant>,
    pub created_at: Instant,
}

/// A link request with what it carries besides the core facts.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRequestRecord {
    pub request: LinkRequest,
    pub token_hash: String,
    /// The cases submitted with the request, replayed on approval (JSON array).
    pub cases_json: String,
    pub return_url: Option<String>,
    /// The client user who approved or declined it.
    pub decided_by_user_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub id: Uuid,
    pub reference: String,
    pub client_id: Uuid,
    pub creditor_reference: String,
    pub source: CaseSource,
    pub creating_partner_id: Option<Uuid>,
    pub created_at: Instant,
    pub updated_at: Instant,
    pub lifecycle: Lifecycle,
    pub close_code: Option<String>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub debtor_type: String,
    pub debtor_name: String,
    pub debtor_country: String,
    /// Debtor and case details as given (dates, comments, debtor address …).
    pub details: serde_json::Value,
    pub assignment: Option<CaseAssignment>,
    /// Sum of the case's live (not reversed) payments, derived when the case is read;
    /// never written. What is still owed is `owed::remainder_minor(amount_minor, paid_minor)`.
    pub paid_minor: i64,
}

impl CaseRecord {
    /// What is still owed on the case (never below zero).
    pub fn remainder_minor(&self) -> i64 {
        refshare_core::owed::remainder_minor(self.amount_minor, self.paid_minor)
    }
}

/// The collection partner assigned to a case, with its terms frozen at assignment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseAssignment {
    pub collection_partner_id: Uuid,
    pub success_fee_bps: Bps,
    pub platform_share_bps: Bps,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PaymentRecord {
    pub id: Uuid,
    pub case_id: Uuid,
    pub amount_minor: i64,
    pub currency: Currency,
    pub paid_at: Instant,
    pub external_id: Option<String>,
    pub created_at: Instant,
    /// Booked above what was still owed, on the operator's explicit `allowOverpayment`.
    pub is_overpayment: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PayoutRecord {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub case_id: Uuid,
    pub collection_partner_id: Option<Uuid>,
    pub success_fee_minor: i64,
    pub platform_fee_minor: i64,
    pub currency: Currency,
    pub created_at: Instant,
    pub commission_status: CommissionStatus,
    pub commission_paid_at: Option<Instant>,
    /// USD per unit (1e-8), locked when the commission was paid.
    pub fx_usd_per_unit_e8: Option<i64>,
    pub fx_rate_date: Option<String>,
    /// The platform's invoice to the collection partner that bills this payout.
    pub cp_invoice_id: Option<Uuid>,
}

/// A stored attribution decision. Never updated; corrections supersede.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    pub id: Uuid,
    pub payout_id: Uuid,
    pub supersedes_id: Option<Uuid>,
    pub partner_id: Option<Uuid>,
    pub link_id: Option<Uuid>,
    pub link_request_id: Option<Uuid>,
    pub link_status: Option<LinkStatus>,
    pub reason: Reason,
    pub attributed: bool,
    pub case_source: CaseSource,
    pub referral_fee_bps: Option<Bps>,
    pub referral_fee_minor: i64,
    pub currency: Currency,
    pub engine_version: String,
    pub decided_at: Instant,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EarningRecord {
    pub id: Uuid,
    pub payout_id: Uuid,
    /// The decision behind a `payout` or `correction` earning.
    pub decision_id: Option<Uuid>,
    pub partner_id: Uuid,
    pub case_id: Uuid,
    /// Never changes once written; negative for clawbacks and downward adjustments.
    pub amount_minor: i64,
    pub currency: Currency,
    pub referral_invoice_status: ReferralInvoiceStatus,
    pub created_at: Instant,
    pub kind: EarningKind,
    /// The earning an adjustment or clawback corrects.
    pub corrects_id: Option<Uuid>,
    /// Why a correction, adjustment or clawback exists.
    pub note: Option<String>,
    pub partner_invoice_id: Option<Uuid>,
    pub voided_at: Option<Instant>,
    pub void_reason: Option<String>,
    /// The open dispute holding this earning in `Disputed`, and the status it returns to.
    pub dispute_id: Option<Uuid>,
    pub status_before_dispute: Option<ReferralInvoiceStatus>,
}

/// The earnings read model: what reporting filters, sorts and sums an earning by (see
/// migration 0019). Derived, never a fact of its own: `ledger::sync_earning` writes it with
/// the ledger entries, and `reconcile` proves it against the stage rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarningReadModel {
    pub earning_id: Uuid,
    /// The stage of a live earning; `None` once voided.
    pub stage: Option<RevenueStage>,
    /// The payment's date.
    pub paid_at: Instant,
    /// The USD rate locked on the payout; `None` while USD figures are estimates.
    pub fx_usd_per_unit_e8: Option<i64>,
}

/// Everything an earning's stage and read model derive from, loaded for a set of
/// earnings in one query (the set-based ledger sync): the earning, its payout's
/// commission status and locked rate, the status of the CP invoice billing the payout,
/// the partner's invoicing mode, the payment's date, and the read model as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EarningSyncRow {
    pub earning: EarningRecord,
    pub commission: CommissionStatus,
    /// `NotInvoiced` when no CP invoice bills the payout.
    pub cp_invoice: CpInvoiceStatus,
    pub mode: InvoicingTriggerMode,
    /// The payment's date.
    pub paid_at: Instant,
    /// The USD rate locked on the payout.
    pub fx_usd_per_unit_e8: Option<i64>,
    /// The read model as stored; `None` when it was never written.
    pub stored: Option<EarningReadModel>,
}

impl EarningRecord {
    /// A new earning in `Pending`, with nothing settled yet.
    pub fn new(id: Uuid, payout: &PayoutRecord, partner_id: Uuid, kind: EarningKind, amount_minor: i64, at: Instant) -> EarningRecord {
        EarningRecord {
            id,
            payout_id: payout.id,
            decision_id: None,
            partner_id,
            case_id: payout.case_id,
            amount_minor,
            currency: payout.currency,
            referral_invoice_status: ReferralInvoiceStatus::Pending,
            created_at: at,
            kind,
            corrects_id: None,
            note: None,
            partner_invoice_id: None,
            voided_at: None,
            void_reason: None,
            dispute_id: None,
            status_before_dispute: None,
        }
    }

    pub fn is_live(&self) -> bool {
        self.voided_at.is_none()
    }
}

/// A reversed payment (the payment itself is never edited).
#[derive(Debug, Clone, PartialEq)]
pub struct ReversalRecord {
    pub id: Uuid,
    pub payment_id: Uuid,
    pub reason: String,
    pub created_at: Instant,
}

/// The platform's invoice to a collection partner for one period and currency.
#[derive(Debug, Clone, PartialEq)]
pub struct CpInvoiceRecord {
    pub id: Uuid,
    pub collection_partner_id: Uuid,
    /// `YYYY-MM`.
    pub period: String,
    pub currency: Currency,
    pub amount_minor: i64,
    /// `InvoiceIssued`, `PaymentReceived` or `InvoiceCredited` (never `NotInvoiced`).
    pub status: CpInvoiceStatus,
    pub created_at: Instant,
    pub paid_at: Option<Instant>,
    /// Issue date plus the payment terms.
    pub due_at: Option<Instant>,
}

/// A referral partner's invoice to the platform (USD at the locked rates).
#[derive(Debug, Clone, PartialEq)]
pub struct PartnerInvoiceRecord {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub currency: Currency,
    pub amount_minor: i64,
    /// `Invoiced` | `Paid`.
    pub status: String,
    pub created_at: Instant,
    pub paid_at: Option<Instant>,
    /// Issue date plus the payment terms.
    pub due_at: Option<Instant>,
}

/// One signed ledger entry: `amount_minor` of an earning entering (positive) or leaving
/// (negative) a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEntryRecord {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub earning_id: Uuid,
    pub stage: refshare_core::stage::RevenueStage,
    pub amount_minor: i64,
    pub currency: Currency,
    /// What moved it: `earning.created`, `commission.paid`, `payment.reversed`, …
    pub cause: String,
    pub cause_id: Option<String>,
    pub created_at: Instant,
}

/// A partner's dispute on a case (SPEC §7).
#[derive(Debug, Clone, PartialEq)]
pub struct DisputeRecord {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub case_id: Uuid,
    pub client_id: Uuid,
    pub external_tenant_id: String,
    pub company_name: String,
    pub creation_method: String,
    pub expected_outcome: String,
    pub observation: String,
    /// The attribution check as it stood at filing.
    pub check: serde_json::Value,
    pub deadline: Instant,
    /// `open` | `upheld` | `rejected` | `adjusted`.
    pub status: String,
    pub resolution_reason: Option<String>,
    pub resolved_amount_minor: Option<i64>,
    pub created_at: Instant,
    pub resolved_at: Option<Instant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyRecord {
    pub request_hash: String,
    pub status_code: u16,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRecord {
    pub id: Uuid,
    pub kind: String,
    pub to_addr: String,
    pub subject: String,
    pub body: String,
    pub related_id: Option<String>,
    /// `queued` (waiting, or claimed by a mailer until `next_attempt_at`), `sent`,
    /// `outbox` (no SMTP configured: kept readable, never sent) or `failed` (gave up).
    pub status: String,
    /// The last failed attempt's error.
    pub error: Option<String>,
    pub created_at: Instant,
    /// When the SMTP server accepted it; only for `sent`.
    pub sent_at: Option<Instant>,
    /// SMTP attempts made so far.
    pub attempts: i64,
    /// When a `queued` row is next due (or its claim's lease ends); `None` otherwise.
    pub next_attempt_at: Option<Instant>,
    /// The real text, sealed with the server key, of a mail whose `body` masks a secret
    /// (sign-in mail in `production`); cleared when the mailer settles it.
    pub sealed_body: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    pub id: Uuid,
    pub at: Instant,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub detail: serde_json::Value,
}

/// Filters of the audit trail (all optional, ANDed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
}

/// A page request: 1-based page number and page size (already bounded by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageReq {
    pub page: u32,
    pub size: u32,
}

impl PageReq {
    pub fn offset(&self) -> i64 {
        (self.page.saturating_sub(1) as i64) * self.size as i64
    }
}

/// A partner's webhook subscription (SPEC §9).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSubscriptionRecord {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub url: String,
    /// Event names subscribed to.
    pub events: Vec<String>,
    pub is_active: bool,
    pub is_test_mode: bool,
    /// The HMAC key as stored: sealed by the app (`app::seal`), because every delivery is
    /// signed with it and a copy of the database must not let anyone sign.
    pub secret: String,
    /// The secret before the last rotation (sealed too), still signed with until
    /// `previous_secret_until`.
    pub previous_secret: Option<String>,
    pub previous_secret_until: Option<Instant>,
    pub consecutive_failures: i64,
    pub disabled_reason: Option<String>,
    pub created_at: Instant,
    pub updated_at: Instant,
}

/// One event in the durable outbox; `id` is the event id partners see on every retry.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEventRecord {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub event_type: String,
    /// The `data` object of the envelope.
    pub payload: serde_json::Value,
    pub created_at: Instant,
}

/// Where one delivery (an event to a subscription) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Waiting for its next attempt at `next_attempt_at`.
    Pending,
    Delivered,
    /// Every attempt failed.
    Failed,
    /// The subscription was disabled or deleted before delivery.
    Abandoned,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "Pending",
            DeliveryStatus::Delivered => "Delivered",
            DeliveryStatus::Failed => "Failed",
            DeliveryStatus::Abandoned => "Abandoned",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [DeliveryStatus::Pending, DeliveryStatus::Delivered, DeliveryStatus::Failed, DeliveryStatus::Abandoned]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// One event's delivery to one subscription, with its retry state.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookDeliveryRecord {
    pub id: Uuid,
    pub event_id: Uuid,
    pub subscription_id: Uuid,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i64,
    pub next_attempt_at: Option<Instant>,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Instant>,
    pub created_at: Instant,
}

/// One HTTP attempt of a delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttemptRecord {
    pub id: Uuid,
    pub delivery_id: Uuid,
    /// 1-based.
    pub attempt: i64,
    pub at: Instant,
    pub status_code: Option<i64>,
    pub error: Option<String>,
    pub duration_ms: i64,
}
