//! Operations and schemas of disputes and statements (SPEC §7): the partner's
//! `/referral-api/disputes` and `/referral-api/statements/{period}` (`api::disputes::partner`,
//! `api::statements`) and the operator's `/admin-api/v1/disputes` (`api::disputes::operator`).

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::schemas::{AttributionCheck, ErrorBody, MissingFxRate, RevenueStage};

/// `POST /referral-api/disputes` body. Every field is required.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct FileDisputeRequest {
    /// The case reference (`DEB-…`).
    #[schema(max_length = 64)]
    pub case_reference: String,
    /// Your id for the case's client.
    #[schema(max_length = 255)]
    pub external_tenant_id: String,
    /// How the case was created, according to you.
    #[schema(max_length = 500)]
    pub creation_method: String,
    /// What you expected to happen.
    #[schema(max_length = 2000)]
    pub expected_outcome: String,
    /// What you observed.
    #[schema(max_length = 4000)]
    pub observation: String,
}

/// The client as the dispute records it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DisputeClient {
    /// Null when you never had a link with the client (only a link request).
    #[schema(required = true)]
    pub company_name: Option<String>,
    pub external_tenant_id: String,
}

/// The operator's decision.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DisputeResolution {
    /// `upheld`, `rejected` or `adjusted`.
    pub outcome: String,
    #[schema(required = true)]
    pub reason: Option<String>,
    /// Upheld: the total booked as corrections; adjusted: the corrected total (case currency).
    #[schema(required = true)]
    pub amount: Option<f64>,
    pub currency: String,
    pub resolved_at: DateTime<Utc>,
}

/// A dispute.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Dispute {
    pub id: Uuid,
    pub case_reference: String,
    pub client: DisputeClient,
    pub creation_method: String,
    pub expected_outcome: String,
    pub observation: String,
    /// `open`, `upheld`, `rejected` or `adjusted`.
    pub status: String,
    /// Null while open.
    #[schema(required = true)]
    pub resolution: Option<DisputeResolution>,
    /// Disputes on the case were accepted until this instant.
    pub deadline: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// The attribution check as it stood at filing.
    pub check_at_filing: AttributionCheck,
}

/// A dispute as the operator sees it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OperatorDispute {
    #[serde(flatten)]
    pub dispute: Dispute,
    pub partner_id: Uuid,
}

#[derive(ToSchema)]
pub struct DisputeList {
    /// Newest first.
    pub disputes: Vec<Dispute>,
}

#[derive(ToSchema)]
pub struct OperatorDisputeList {
    /// Newest first.
    pub disputes: Vec<OperatorDispute>,
}

/// `POST /admin-api/v1/disputes/{id}/resolve` body.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ResolveDisputeRequest {
    /// `upheld`, `rejected` or `adjusted`.
    pub outcome: String,
    /// Required for `rejected` (shown to the partner) and `adjusted`.
    pub reason: Option<String>,
    /// Exact decimal in the case currency. Adjusted (required): the corrected total of the
    /// disputed earnings. Upheld (optional): the correction amount instead of the link's fee.
    pub amount: Option<f64>,
}

/// One statement line.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StatementLine {
    /// `earning`, `reversal` or `not_earned`.
    pub section: String,
    pub date: DateTime<Utc>,
    pub case_reference: String,
    pub external_tenant_id: String,
    /// `payout`, `correction`, `adjustment`, `clawback`, or `void` (a reversed earning).
    pub kind: String,
    #[schema(required = true)]
    pub stage: Option<RevenueStage>,
    #[schema(required = true)]
    pub stage_label: Option<String>,
    /// Exact decimal in `currency`; negative for reversals; null when nothing was earned.
    #[schema(required = true)]
    pub amount: Option<f64>,
    pub currency: String,
    /// Null when nothing was earned, or while the USD rate it needs is missing (listed in
    /// `missingFxRates`); empty in the CSV.
    #[schema(required = true)]
    pub amount_usd: Option<f64>,
    /// The reason code (e.g. `case_before_link`), or the dispute / reversal note.
    pub reason: String,
    #[schema(required = true)]
    pub earning_id: Option<Uuid>,
    pub payout_id: Uuid,
    /// For payouts that did not earn: the payment amount.
    #[schema(required = true)]
    pub payment_amount: Option<f64>,
}

/// Live earnings of one stage and currency.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StatementStageTotal {
    pub stage: RevenueStage,
    pub stage_label: String,
    pub currency: String,
    pub amount: f64,
    /// The lines that have a USD figure.
    pub amount_usd: f64,
    /// Some line of this total has no USD figure (a missing rate): `amountUsd` is partial.
    pub usd_partial: bool,
    pub count: i64,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StatementTotals {
    pub by_stage: Vec<StatementStageTotal>,
    pub total_usd: f64,
    /// `totalUsd` leaves out lines whose rate is missing.
    pub usd_partial: bool,
}

/// A partner's statement of one calendar month (UTC).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerStatement {
    /// `YYYY-MM`.
    pub period: String,
    pub partner_id: Uuid,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub earnings: Vec<StatementLine>,
    pub reversals: Vec<StatementLine>,
    pub not_earned: Vec<StatementLine>,
    pub totals: StatementTotals,
    /// The USD rates the statement needed and did not find.
    pub missing_fx_rates: Vec<MissingFxRate>,
}

#[utoipa::path(
    post,
    path = "/referral-api/disputes",
    tag = "Referral Partner API",
    summary = "Dispute a case's attribution or amount",
    description = "Accepted until 30 days (configurable) after the end of the reporting period (calendar month, UTC) of the case's latest payout. The attribution check is captured at filing; your pending earnings on the case move to `Disputed` until the operator resolves the dispute.",
    request_body = FileDisputeRequest,
    responses(
        (status = 201, description = "The dispute.", body = Dispute),
        (status = 400, description = "Invalid body, or `externalTenantId` is not yours for the case's client.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "Unknown case, or its client was never linked to you.", body = ErrorBody),
        (status = 409, description = "`DisputeAlreadyOpen`: you have an open dispute on this case.", body = ErrorBody),
        (status = 422, description = "`DisputeWindowClosed`: the message names the deadline.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_file_dispute() {}

#[utoipa::path(
    get,
    path = "/referral-api/disputes",
    tag = "Referral Partner API",
    summary = "Your disputes",
    responses(
        (status = 200, description = "Newest first.", body = DisputeList),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_list_disputes() {}

#[utoipa::path(
    get,
    path = "/referral-api/disputes/{id}",
    tag = "Referral Partner API",
    summary = "One of your disputes",
    params(("id" = String, Path, description = "The dispute id.")),
    responses(
        (status = 200, description = "The dispute with its resolution.", body = Dispute),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "No such dispute of yours.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_get_dispute() {}

#[utoipa::path(
    get,
    path = "/referral-api/statements/{period}",
    tag = "Referral Partner API",
    summary = "Your statement of a reporting period",
    description = "Earnings created in the month with their stage, reversals (voided earnings and clawbacks), the payouts on your linked clients that did not earn with their reason code, and totals per stage. `Format=csv` answers `text/csv` with the header `section,date,case_reference,external_tenant_id,kind,stage,amount,currency,amount_usd,reason`.",
    params(
        ("period" = String, Path, description = "`YYYY-MM` (UTC)."),
        ("Format" = Option<String>, Query, description = "`json` (default) or `csv`."),
    ),
    responses(
        (status = 200, description = "The statement.", content(
            (PartnerStatement = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "The period is not `YYYY-MM`, or an unknown format.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_statement() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/disputes",
    tag = "Operator API",
    summary = "Every dispute",
    params(("status" = Option<String>, Query, description = "`open`, `upheld`, `rejected` or `adjusted`.")),
    responses(
        (status = 200, description = "Newest first.", body = OperatorDisputeList),
        (status = 400, description = "Unknown status.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_list_disputes() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/disputes/{id}",
    tag = "Operator API",
    summary = "One dispute",
    params(("id" = String, Path, description = "The dispute id.")),
    responses(
        (status = 200, description = "The dispute.", body = OperatorDispute),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "No such dispute.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_get_dispute() {}

#[utoipa::path(
    post,
    path = "/admin-api/v1/disputes/{id}/resolve",
    tag = "Operator API",
    summary = "Resolve an open dispute",
    description = "`upheld`: an attribution correction (a new decision superseding the payout's, and a `correction` earning) for every payout of the case that did not earn for the partner. `rejected`: nothing is booked; the reason is shown to the partner. `adjusted`: an `adjustment` earning for the difference between `amount` and the disputed earnings. The disputed earnings return to their previous stage; the partner is notified.",
    params(("id" = String, Path, description = "The dispute id.")),
    request_body = ResolveDisputeRequest,
    responses(
        (status = 200, description = "The resolved dispute.", body = OperatorDispute),
        (status = 400, description = "Unknown outcome, missing reason or amount, or an amount with too many decimals.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
        (status = 404, description = "No such dispute.", body = ErrorBody),
        (status = 409, description = "`DisputeAlreadyResolved`.", body = ErrorBody),
        (status = 422, description = "`NothingToCorrect`, `NoLinkToCorrect` or `NothingToAdjust`.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_resolve_dispute() {}
