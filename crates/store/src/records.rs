//! Plain records the store reads and writes. Domain types from `refshare-core` are used
//! where the core owns the concept (links, link requests, money, sources).

use refshare_core::attribution::Reason;
use refshare_core::case::{CaseSource, Lifecycle};
use refshare_core::link::LinkRequest;
use refshare_core::link::LinkStatus;
use refshare_core::money::{Bps, Currency};
use refshare_core::stage::InvoicingTriggerMode;
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
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientUserRecord {
    pub id: Uuid,
    pub client_id: Uuid,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub is_onboarding_user: bool,
}

/// A link request with what it carries besides the core facts.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRequestRecord {
    pub request: LinkRequest,
    pub token_hash: String,
    /// The cases submitted with the request, replayed on approval (JSON array).
    pub cases_json: String,
    pub return_url: Option<String>,
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
    pub commission_status: String,
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
    pub decision_id: Uuid,
    pub partner_id: Uuid,
    pub case_id: Uuid,
    pub amount_minor: i64,
    pub currency: Currency,
    pub referral_invoice_status: String,
    pub created_at: Instant,
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
    pub status: String,
    pub error: Option<String>,
    pub created_at: Instant,
    pub sent_at: Option<Instant>,
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
