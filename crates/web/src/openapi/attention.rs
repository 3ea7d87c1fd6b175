//! Operations and schemas of the Attention list and the client timeline (issue 10): the
//! partner's `GET /referral-api/attention` and
//! `GET /referral-api/clients/{externalTenantId}/timeline` (`api::attention`), and the
//! dashboard's timeline page (`dashboard::timeline`).

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::schemas::ErrorBody;

/// One thing that will cost you money unless someone acts.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttentionItem {
    /// `link_request_pending` (awaiting the client's approval), `onboarding_pending`,
    /// `link_archived`, `case_outside_integration` (a recent case of a non-attributed
    /// client created outside your integration: it will not earn), `dispute_open` (waiting
    /// for the platform's answer) or `dispute_deadline` (a payout that did not earn, whose
    /// dispute window closes within 14 days).
    pub kind: String,
    /// The kind for people.
    pub title: String,
    /// Your id for the client concerned.
    pub external_tenant_id: String,
    /// Null for a link request (nothing is told about a company before it approves) and a
    /// closing dispute window.
    #[schema(required = true)]
    pub company_name: Option<String>,
    #[schema(required = true)]
    pub case_reference: Option<String>,
    #[schema(required = true)]
    pub dispute_id: Option<Uuid>,
    /// When the situation began.
    pub since: DateTime<Utc>,
    /// When acting stops helping: the link request's expiry, the dispute deadline; null
    /// for the other kinds.
    #[schema(required = true)]
    pub deadline: Option<DateTime<Utc>>,
    pub explanation: String,
    /// What to do.
    pub action: String,
    /// The onboarding URL to send again (`onboarding_pending`), else null.
    #[schema(required = true)]
    pub url: Option<String>,
}

/// The Attention list: deadlines first (soonest first), then onboarding, archived links,
/// cases that will not earn (last 30 days, newest first) and open disputes.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttentionList {
    pub as_of: DateTime<Utc>,
    pub items: Vec<AttentionItem>,
    /// Kinds with more than 25 items: only 25 of them are listed.
    pub truncated_kinds: Vec<String>,
}

/// One event of a client's timeline.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `link_requested`, `link_request_approved`, `link_request_declined`,
    /// `link_request_expired`, `linked`, `link_archived`, `link_unarchived`, `link_deleted`,
    /// `onboarding_signed`, `case_created` or `payout`.
    pub kind: String,
    /// The kind for people.
    pub title: String,
    /// What it means for your fees (for a case: what a payout on it would be decided today).
    pub explanation: String,
    #[schema(required = true)]
    pub case_reference: Option<String>,
    /// `partner_api`, `web_app`, `csv_import`, `customer_api` or `operator` (cases, payouts).
    #[schema(required = true)]
    pub case_source: Option<String>,
    /// The link's attribution (`linked`) or whether the payout earned (`payout`).
    #[schema(required = true)]
    pub attributed: Option<bool>,
    /// The fee percentage locked on the link (`linked`) or used by the decision (`payout`).
    #[schema(required = true)]
    pub referral_fee_percentage: Option<f64>,
    /// The decision's reason code (`payout`).
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The referral fee of the payout, exact decimal in `currency`.
    #[schema(required = true)]
    pub referral_fee: Option<f64>,
    #[schema(required = true)]
    pub currency: Option<String>,
}

/// How many of a kind the timeline shows, of how many.
#[derive(ToSchema)]
pub struct TimelineCount {
    pub shown: u32,
    pub total: u32,
}

/// A client's timeline, oldest first. Cases and payouts are the newest 100 of each.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientTimeline {
    pub external_tenant_id: String,
    /// Null while you only have a link request with the client.
    #[schema(required = true)]
    pub company_name: Option<String>,
    pub as_of: DateTime<Utc>,
    pub items: Vec<TimelineEntry>,
    pub cases: TimelineCount,
    pub payouts: TimelineCount,
}

#[utoipa::path(
    get,
    path = "/referral-api/attention",
    tag = "Referral Partner API",
    summary = "What needs your attention (ours)",
    description = "The Partner Dashboard's Attention list: link requests awaiting approval, pending onboarding, archived links, recent cases that will not earn, disputes awaiting an answer and dispute windows about to close; each with its kind, the client or case, the deadline and the action to take.",
    responses(
        (status = 200, description = "The list.", body = AttentionList),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_attention() {}

#[utoipa::path(
    get,
    path = "/referral-api/clients/{externalTenantId}/timeline",
    tag = "Referral Partner API",
    summary = "A client's timeline (ours)",
    description = "In time order: your link requests and their approval, decline or expiry; the link (attributed or not, the fee locked on it) and its archive / unarchive history; onboarding; the cases since the link with their source; the payouts with your decision and reason. The newest 100 cases and 100 payouts.",
    params(("externalTenantId" = String, Path, description = "Your id for the client (any of your links or link requests, whatever its status).")),
    responses(
        (status = 200, description = "The timeline.", body = ClientTimeline),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "You never had a link or link request with this id.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_client_timeline() {}

#[utoipa::path(
    get,
    path = "/dashboard/clients/{externalTenantId}",
    tag = "Partner Dashboard",
    summary = "A client's timeline",
    description = "The page of `GET /referral-api/clients/{externalTenantId}/timeline`.",
    params(("externalTenantId" = String, Path, description = "Your id for the client.")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to `/login`; a session that acts as no partner user: to `/account`."),
        (status = 400, description = "A control character in the id.", body = String, content_type = "text/html"),
        (status = 404, description = "Not your client: a page that says nothing more.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dashboard_client_timeline() {}
