//! Schemas of the documented request and response bodies. They exist only to describe the
//! wire: the handlers build their JSON in `wire`, `views` and `api::*`, and these types
//! mirror those field names (camelCase) and nullability. A field that is always present
//! but may be `null` is `Option<_>` with `required = true`; a field that may be absent is
//! a plain `Option<_>`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use utoipa::{ToResponse, ToSchema};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------
// Errors and paging
// ---------------------------------------------------------------------------------------

/// The error body of every JSON endpoint.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ErrorBody {
    /// `ValidationError`, `Unauthorized`, `Forbidden`, `NotFound`, `Conflict`, `Gone`,
    /// `InternalError`, or the business error's type on a 422.
    pub error: String,
    pub message: String,
    pub business_errors: Vec<BusinessError>,
}

/// One problem with the request.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct BusinessError {
    /// Machine-readable kind, e.g. `ValidationError`, `NotFound`, `OnboardingIncomplete`,
    /// `NoPartnerAvailable`, `IdempotencyConflict`.
    #[schema(rename = "type")]
    pub kind: String,
    pub message: String,
    #[schema(required = true)]
    pub solution_url: Option<String>,
    /// On validation errors: the offending field (`client.country`, `cases[0].debtor.name`).
    pub field: Option<String>,
}

/// The 409 body of `POST /referral-api/clients`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientConflictBody {
    #[schema(rename = "type")]
    pub kind: ClientConflictType,
    pub message: String,
    pub data: ClientConflictData,
}

#[derive(ToSchema)]
pub enum ClientConflictType {
    /// The company already has an account: an approval request was sent to it and
    /// `data.onboardingLinks.url` is the approval URL.
    ClientExistsNeedsLinking,
    /// The company is already linked (to another partner, or to you under another id).
    AlreadyLinkedToAnotherPartner,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientConflictData {
    pub external_tenant_id: String,
    /// Only with `ClientExistsNeedsLinking`.
    pub onboarding_links: Option<ApprovalLinks>,
}

#[derive(ToSchema)]
pub struct ApprovalLinks {
    /// The approval URL to give the company.
    pub url: String,
}

/// Something went wrong on the server; the body says nothing more (the cause is logged).
#[derive(ToResponse)]
#[response(description = "Internal error; the body carries no detail.")]
pub struct InternalError(ErrorBody);

/// The body is over the limit, whether its length was declared or found while reading
/// it.
#[derive(ToResponse)]
#[response(description = "The body is larger than 1 MiB, or 4 MiB for `POST /admin-api/v1/payments/batch` (`PayloadTooLarge`).")]
pub struct PayloadTooLarge(ErrorBody);

/// The `page` object of list responses.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Page {
    pub total_results: i64,
    pub page_size: u32,
    pub current_page: u32,
    pub response_count: u32,
    pub total_pages: i64,
}

// ---------------------------------------------------------------------------------------
// Enumerations
// ---------------------------------------------------------------------------------------

/// Case lifecycle.
#[derive(ToSchema)]
pub enum Lifecycle {
    PendingContractSigning,
    Active,
    Paused,
    Closed,
}

/// The channel a case was created through.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CaseSource {
    PartnerApi,
    WebApp,
    CsvImport,
    CustomerApi,
    Operator,
}

#[derive(ToSchema)]
pub enum DebtorType {
    Company,
    Private,
}

/// Attribution reason code. The values come from the engine's own list
/// (`refshare_core::attribution::Reason::ALL`), so the document cannot drift from it.
pub struct ReasonCode;

impl utoipa::PartialSchema for ReasonCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("Attribution reason code (SPEC §5)."))
            .enum_values(Some(refshare_core::attribution::Reason::ALL.iter().map(|r| r.as_str())))
            .into()
    }
}

impl ToSchema for ReasonCode {}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum Verdict {
    Attributed,
    NotAttributed,
    NoPayoutYet,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum PayoutDecision {
    Attributed,
    NotAttributed,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CheckId {
    Link,
    Onboarding,
    AttributionType,
    CreationSource,
    CaseAfterLink,
    Payouts,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum CheckStatus {
    Pass,
    Fail,
    NotApplicable,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LinkStatus {
    Active,
    Archived,
    Deleted,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum LinkRequestStatus {
    Pending,
    Approved,
    Declined,
    Expired,
}

/// Revenue stage of a payout's referral fee.
#[derive(ToSchema)]
pub enum RevenueStage {
    Pending,
    ConfirmedPendingInvoice,
    AwaitingCollectionPartnerPayment,
    ReadyToInvoiceDebitura,
    AwaitingDebituraPayment,
    Paid,
    Disputed,
}

#[derive(ToSchema)]
pub enum InvoicingTriggerMode {
    PayWhenPaid,
    ConfirmedPipeline,
}

// ---------------------------------------------------------------------------------------
// Cases (Customer API `InvoiceDto`, case creation)
// ---------------------------------------------------------------------------------------

/// A case to create (`POST /customer-api/cases`, the items of `cases` in
/// `POST /referral-api/clients`, operator case creation). Property names are accepted in
/// camelCase or PascalCase. Unknown properties are kept with the case, except on operator
/// case creation, which refuses them (400 naming each).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateCaseRequest {
    /// ISO 4217 code, e.g. `EUR`.
    pub currency_code: String,
    /// Greater than zero and at most 10^13 minor units, with at most the currency's
    /// decimals.
    pub amount_to_recover: f64,
    pub debtor: DebtorInput,
    /// Your reference (unique per client, at most 50 characters); defaults to the case
    /// reference.
    #[schema(max_length = 50)]
    pub creditor_reference: Option<String>,
    #[schema(max_length = 4000)]
    pub comments: Option<String>,
    #[schema(max_length = 4000)]
    pub claim_description: Option<String>,
    #[schema(max_length = 100)]
    pub tag: Option<String>,
    #[schema(max_length = 2048)]
    pub return_url: Option<String>,
    /// Create the case as `PendingContractSigning` when the client has not signed yet.
    pub allow_pending_contracts: Option<bool>,
    /// Echoed back as `dueDate`.
    pub due_date: Option<String>,
    /// Echoed back as `date`.
    pub date: Option<String>,
    pub is_test: Option<bool>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DebtorInput {
    #[schema(rename = "type")]
    pub kind: DebtorType,
    #[schema(max_length = 200)]
    pub name: String,
    /// ISO 3166-1 alpha-2 country code.
    pub country_alpha2: String,
    pub contact_person: Option<String>,
    pub company_registration_number: Option<String>,
    pub address: Option<String>,
    pub zip_code: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub state_alpha2: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A case as the Customer API returns it (the reference's `InvoiceDto`; the fields this
/// service fills).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct InvoiceDto {
    pub id: Uuid,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
    /// Our case reference.
    pub reference: String,
    pub creditor_reference: String,
    #[schema(required = true)]
    pub creditor_comments: Option<String>,
    #[schema(required = true)]
    pub claim_description: Option<String>,
    pub gross_amount: f64,
    /// What is still owed: the gross amount less the live (not reversed) payments, never
    /// below zero.
    pub remainder: f64,
    pub interest_fees: f64,
    pub reminder_fees: f64,
    pub collection_fees: f64,
    pub total_added_fees: f64,
    pub currency: String,
    pub is_test_case: bool,
    pub lifecycle: Lifecycle,
    pub due_date: String,
    pub date: String,
    #[schema(required = true)]
    pub date_finished: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub date_collection_started: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub close_code: Option<String>,
    #[schema(required = true)]
    pub current_engagement_phase: Option<String>,
    pub claim_type: String,
    pub debtor: InvoiceDebtor,
    #[schema(required = true)]
    pub collection_partner: Option<InvoiceCollectionPartner>,
    /// The client; null on the operator's case creation.
    #[schema(required = true)]
    pub creditor: Option<InvoiceCreditor>,
    /// Success fee percentage of the assigned collection partner.
    #[schema(required = true)]
    pub pre_legal_success_fee: Option<f64>,
    pub validation: InvoiceValidation,
    pub allocation_outstanding: AllocationOutstanding,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct InvoiceDebtor {
    #[schema(rename = "type")]
    pub kind: DebtorType,
    pub name: String,
    pub country_alpha2: String,
    #[schema(required = true)]
    pub contact_person: Option<String>,
    #[schema(required = true)]
    pub company_registration_number: Option<String>,
    #[schema(required = true)]
    pub address: Option<String>,
    #[schema(required = true)]
    pub zip_code: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true)]
    pub state: Option<String>,
    #[schema(required = true)]
    pub state_alpha2: Option<String>,
    #[schema(required = true)]
    pub country: Option<String>,
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub phone: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct InvoiceCollectionPartner {
    pub name: String,
    #[schema(required = true)]
    pub office_email: Option<String>,
    #[schema(required = true)]
    pub office_phone: Option<String>,
    #[schema(required = true)]
    pub public_site: Option<String>,
    pub survey_cadence_mode: i32,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct InvoiceCreditor {
    pub id: Uuid,
    pub company_name: String,
    #[schema(required = true)]
    pub company_registration_number: Option<String>,
    #[schema(required = true)]
    pub office_email: Option<String>,
    #[schema(required = true)]
    pub office_phone: Option<String>,
    #[schema(required = true)]
    pub address: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true)]
    pub zip_code: Option<String>,
    #[schema(required = true)]
    pub state: Option<String>,
    pub country: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct InvoiceValidation {
    pub needs_info: bool,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AllocationOutstanding {
    /// Equal to `remainder`.
    pub principal: f64,
    pub interest: f64,
    pub reminder_fees: f64,
    pub collection_fees: f64,
}

/// `GET /customer-api/cases`.
#[derive(ToSchema)]
pub struct CustomerCaseList {
    pub page: Page,
    pub cases: Vec<InvoiceDto>,
}

/// `GET /customer-api/me`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CustomerProfile {
    pub id: Uuid,
    pub company_name: String,
    #[schema(required = true)]
    pub company_registration_number: Option<String>,
    #[schema(required = true)]
    pub address: Option<String>,
    #[schema(required = true)]
    pub zip_code: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true)]
    pub state: Option<String>,
    pub country: String,
    #[schema(required = true)]
    pub office_email: Option<String>,
    #[schema(required = true)]
    pub office_phone: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Referral API: clients
// ---------------------------------------------------------------------------------------

/// `POST /referral-api/clients`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateClientRequest {
    /// Your id for the client (1 to 255 characters); repeating it answers the existing
    /// client instead of creating another.
    #[schema(min_length = 1, max_length = 255)]
    pub external_tenant_id: String,
    pub client: ClientDetailsInput,
    /// 1 to 50 users; with more than one, exactly one has `isOnboardingUser = true`.
    pub users: Vec<UserInput>,
    /// At most 100 cases, created as `PendingContractSigning` until the client signs.
    pub cases: Option<Vec<CreateCaseRequest>>,
    /// Where the onboarding confirmation page links back to.
    #[schema(max_length = 2048)]
    pub return_url: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientDetailsInput {
    /// Company name.
    #[schema(max_length = 200)]
    pub name: String,
    pub country: String,
    pub support_email: String,
    #[schema(max_length = 100)]
    pub registration_number: Option<String>,
    #[schema(max_length = 500)]
    pub address: Option<String>,
    #[schema(max_length = 20)]
    pub zip_code: Option<String>,
    #[schema(max_length = 100)]
    pub city: Option<String>,
    #[schema(max_length = 100)]
    pub state: Option<String>,
    #[schema(max_length = 50)]
    pub support_phone: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UserInput {
    #[schema(max_length = 200)]
    pub name: String,
    pub email: String,
    pub is_onboarding_user: Option<bool>,
}

/// A client as a partner sees it (the reference's `ClientCreatedResponse`).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientCreatedResponse {
    pub external_tenant_id: String,
    pub onboarding_done: bool,
    pub onboarding_links: OnboardingLinks,
    pub client: ClientCompany,
    pub users: Vec<ClientUser>,
    pub is_attributed_client: bool,
    pub date_linked: DateTime<Utc>,
    /// Whole-number percent of the platform's fee, e.g. `50.0`.
    pub referral_fee_percentage: f64,
    pub case_stats: CaseStats,
    pub kyc_status: String,
    #[schema(required = true, value_type = Option<Object>)]
    pub kyc_verification: Option<serde_json::Value>,
    /// The cases submitted with this request (empty outside `POST /clients`).
    pub case_results: CaseResults,
}

#[derive(ToSchema)]
pub struct OnboardingLinks {
    /// The onboarding URL to send the client.
    #[schema(required = true)]
    pub url: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientCompany {
    pub id: Uuid,
    pub company_name: String,
    #[schema(required = true)]
    pub office_email: Option<String>,
    pub country: String,
    #[schema(required = true)]
    pub address: Option<String>,
    #[schema(required = true)]
    pub city: Option<String>,
    #[schema(required = true)]
    pub zip_code: Option<String>,
    #[schema(required = true)]
    pub company_registration_number: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientUser {
    pub id: i64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CaseStats {
    pub cases_total: i64,
    pub cases_closed: i64,
    /// Your live earnings on the client in USD (locked rate, else the latest); earnings
    /// whose rate is missing are left out (see `earningsUsdPartial`).
    pub earnings_usd: f64,
    /// An earning was left out of `earningsUsd` for want of a USD rate.
    pub earnings_usd_partial: bool,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CaseResults {
    pub successful_cases: Vec<InvoiceDto>,
    pub failed_cases: Vec<FailedCase>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct FailedCase {
    pub case_index: i64,
    #[schema(required = true)]
    pub creditor_reference: Option<String>,
    pub error_type: String,
    pub error_message: String,
    /// Field → messages.
    #[schema(required = true)]
    pub validation_errors: Option<BTreeMap<String, Vec<String>>>,
    #[schema(required = true, value_type = Option<Object>)]
    pub signing_handoff: Option<serde_json::Value>,
}

/// `GET /referral-api/clients`.
#[derive(ToSchema)]
pub struct ClientList {
    pub page: Page,
    pub summary: ClientsSummary,
    pub clients: Vec<ClientCreatedResponse>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientsSummary {
    pub total_clients: i64,
    pub attributed_clients: i64,
    pub onboarding_complete: i64,
    pub onboarding_pending: i64,
    pub total_cases: i64,
}

/// `GET /referral-api/clients/{externalTenantId}/is-deletable`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DeletableResponse {
    pub is_deletable: bool,
    /// Why the client cannot be deleted.
    pub blockers: Vec<String>,
}

/// `POST /referral-api/oauth/token`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TokenRequest {
    #[schema(min_length = 1, max_length = 255)]
    pub external_tenant_id: String,
}

/// A bearer token for the Customer API, acting for one linked client.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds (1800).
    pub expires_in: i64,
    /// The client's id.
    pub creditor_id: Uuid,
    pub external_tenant_id: String,
}

/// `GET /referral-api/me`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerProfile {
    pub id: Uuid,
    pub company_name: String,
    pub short_name: String,
    pub contact_email: String,
    #[schema(required = true)]
    pub external_system_id: Option<String>,
    /// Whole-number percent, e.g. `50.0`.
    pub referral_fee_percentage: f64,
    pub is_active: bool,
    pub is_public_demo: bool,
    #[schema(required = true)]
    pub logo_url: Option<String>,
    #[schema(required = true)]
    pub background_color_code: Option<String>,
    #[schema(required = true)]
    pub font_color: Option<String>,
    #[schema(required = true)]
    pub font_family: Option<String>,
    pub invoicing_trigger_mode: InvoicingTriggerMode,
    pub approval_ttl_days: i64,
}

// ---------------------------------------------------------------------------------------
// Referral API: cases, reporting, filter options
// ---------------------------------------------------------------------------------------

/// A case item of `GET /referral-api/cases`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerCase {
    pub id: Uuid,
    pub reference: String,
    pub creditor_reference: String,
    pub client: PartnerCaseClient,
    pub debtor: PartnerCaseDebtor,
    pub gross_amount: f64,
    /// What is still owed: the gross amount less the live (not reversed) payments, never
    /// below zero.
    pub remainder: f64,
    pub currency: String,
    pub lifecycle: Lifecycle,
    #[schema(required = true)]
    pub close_code: Option<String>,
    #[schema(required = true)]
    pub current_engagement_phase: Option<String>,
    pub date_created: DateTime<Utc>,
    pub due_date: String,
    #[schema(required = true)]
    pub date_collection_started: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub date_finished: Option<DateTime<Utc>>,
    pub validation: PartnerCaseValidation,
    /// Name of the assigned collection partner.
    #[schema(required = true)]
    pub collection_partner: Option<String>,
    pub expected_referral_rate_percentage: f64,
}

/// `GET /referral-api/cases/{id}`: the case item plus `potentialRevenue`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerCaseDetail {
    #[serde(flatten)]
    pub case: PartnerCase,
    /// In USD at the latest rate; null before a collection partner is assigned. While the
    /// rate is missing the USD figures are null and `missingFxRates` names it.
    #[schema(required = true)]
    pub potential_revenue: Option<PotentialRevenue>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerCaseClient {
    pub external_tenant_id: String,
    pub creditor_id: Uuid,
    pub company_name: String,
    pub contacts: ClientContacts,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientContacts {
    #[schema(required = true)]
    pub onboarding_user: Option<Contact>,
    #[schema(required = true)]
    pub office_email: Option<String>,
    pub other_users: Vec<Contact>,
}

#[derive(ToSchema)]
pub struct Contact {
    pub email: String,
    pub name: String,
}

#[derive(ToSchema)]
pub struct PartnerCaseDebtor {
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerCaseValidation {
    pub needs_info: bool,
    #[schema(required = true)]
    pub creditor_responded_at: Option<DateTime<Utc>>,
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<serde_json::Value>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PotentialRevenue {
    #[schema(required = true)]
    pub gross_amount_usd: Option<f64>,
    pub success_fee_percentage: f64,
    #[schema(required = true)]
    pub collection_partner_revenue_usd: Option<f64>,
    pub platform_revenue_share_percentage: f64,
    #[schema(required = true)]
    pub platform_revenue_usd: Option<f64>,
    pub referral_fee_percentage: f64,
    #[schema(required = true)]
    pub referral_revenue_usd: Option<f64>,
    /// The USD rate the figures need while it is not loaded (then they are null).
    pub missing_fx_rates: Vec<MissingFxRate>,
}

/// A USD rate a figure needed and did not find: none for `currency` dated on or before
/// `date`.
#[derive(ToSchema)]
pub struct MissingFxRate {
    /// ISO 4217 code.
    pub currency: String,
    /// `YYYY-MM-DD`.
    pub date: String,
}

/// `GET /admin-api/v1/fx-rates/missing`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct MissingFxRates {
    pub missing_fx_rates: Vec<MissingFxRate>,
}

/// `GET /referral-api/cases`.
#[derive(ToSchema)]
pub struct PartnerCaseList {
    pub page: Page,
    pub cases: Vec<PartnerCase>,
    pub summary: PartnerCaseSummary,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerCaseSummary {
    pub total_cases: i64,
    pub cases_this_month: i64,
    pub by_lifecycle: LifecycleCounts,
}

#[derive(ToSchema)]
pub struct LifecycleCounts {
    pub active: i64,
    pub pending: i64,
    pub closed: i64,
    pub paused: i64,
}

/// `GET /referral-api/reporting/transactions`: one row per live earning (attributed
/// payouts, dispute corrections and adjustments, clawbacks). A missing USD rate never
/// blanks the report: the rows that need it have null USD figures, the rate is listed in
/// `missingFxRates`, and the USD totals cover the other rows and say they are partial.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionsReport {
    pub data: Vec<Transaction>,
    pub page: Page,
    pub summary: TransactionsSummary,
    /// The USD rates the filtered rows needed and did not find, in order.
    pub missing_fx_rates: Vec<MissingFxRate>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Transaction {
    /// The earning's id (what `POST /admin-api/v1/partner-invoices` takes as `earningIds`).
    pub transaction_id: Uuid,
    /// When the earning was booked.
    pub date: DateTime<Utc>,
    /// `payout`, `correction`, `adjustment` or `clawback` (negative amounts).
    pub kind: String,
    pub client: TransactionClient,
    pub case: TransactionCase,
    pub payment: TransactionPayment,
    pub earnings: TransactionEarnings,
    pub recognition: TransactionRecognition,
    pub status: TransactionStatus,
    pub stage: RevenueStage,
    /// What partners see: `Unrecognized`, `Confirmed`, `Awaiting CP payment`, `Ready to invoice`, `Awaiting payment`, `Paid`, `Disputed`.
    pub stage_label: String,
    /// The attribution reason code, or for a clawback, correction or adjustment its note
    /// (the reversal or dispute reason).
    #[schema(required = true)]
    pub reason: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionClient {
    pub external_tenant_id: String,
    pub creditor_id: Uuid,
    pub company_name: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionCase {
    pub invoice_id: Uuid,
    pub case_reference: String,
    pub debtor_name: String,
    pub original_amount: f64,
    pub currency: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionPayment {
    pub amount: f64,
    pub currency: String,
    pub payment_date: DateTime<Utc>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionEarnings {
    pub currency: String,
    pub debitura_revenue: f64,
    /// Null while the USD rate it needs is missing.
    #[schema(required = true)]
    pub debitura_revenue_usd: Option<f64>,
    #[schema(required = true)]
    pub referral_fee_percentage: Option<f64>,
    pub referral_fee_amount: f64,
    /// Null while the USD rate it needs is missing.
    #[schema(required = true)]
    pub referral_fee_amount_usd: Option<f64>,
    pub is_estimate: bool,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionRecognition {
    pub is_recognized: bool,
    /// Null while the USD rate it needs is missing.
    #[schema(required = true)]
    pub referral_fee_recognized_usd: Option<f64>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionStatus {
    pub commission_payment_status: String,
    pub platform_invoicing_status: String,
    pub referral_invoicing_status: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TransactionsSummary {
    pub revenue: RevenueBuckets,
    /// The payout rows that have a USD figure.
    pub total_debitura_revenue_usd: f64,
    /// A payout row was left out of `totalDebituraRevenueUsd` for want of a rate.
    pub total_debitura_revenue_usd_partial: bool,
    /// Some USD figure of the report is missing: a total is partial.
    pub usd_partial: bool,
}

/// Referral fees in USD and row counts per revenue stage (all seven stages). The USD
/// total of a stage covers its rows that have a USD figure; `…UsdPartial` says a row was
/// left out for want of a rate (the count always covers every row).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct RevenueBuckets {
    pub pending_referral_fee_usd: f64,
    pub pending_count: i64,
    pub confirmed_pending_invoice_referral_fee_usd: f64,
    pub confirmed_pending_invoice_count: i64,
    pub awaiting_collection_partner_payment_referral_fee_usd: f64,
    pub awaiting_collection_partner_payment_count: i64,
    pub ready_to_invoice_debitura_referral_fee_usd: f64,
    pub ready_to_invoice_debitura_count: i64,
    pub awaiting_debitura_payment_referral_fee_usd: f64,
    pub awaiting_debitura_payment_count: i64,
    pub paid_referral_fee_usd: f64,
    pub paid_count: i64,
    pub disputed_referral_fee_usd: f64,
    pub disputed_count: i64,
    pub pending_usd_partial: bool,
    pub confirmed_pending_invoice_usd_partial: bool,
    pub awaiting_collection_partner_payment_usd_partial: bool,
    pub ready_to_invoice_debitura_usd_partial: bool,
    pub awaiting_debitura_payment_usd_partial: bool,
    pub paid_usd_partial: bool,
    pub disputed_usd_partial: bool,
}

/// `GET /referral-api/referral-partner/filter-options`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct FilterOptions {
    pub countries: Vec<CountryOption>,
    pub carveout_partners: Vec<CollectionPartnerOption>,
}

#[derive(ToSchema)]
pub struct CountryOption {
    pub id: i64,
    /// ISO 3166-1 alpha-2.
    pub name: String,
}

#[derive(ToSchema)]
pub struct CollectionPartnerOption {
    pub id: Uuid,
    pub name: String,
}

// ---------------------------------------------------------------------------------------
// The attribution check
// ---------------------------------------------------------------------------------------

/// The self-serve attribution check of one case.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttributionCheck {
    pub case_reference: String,
    pub verdict: Verdict,
    pub reason: ReasonCode,
    #[schema(required = true)]
    pub partner_id: Option<Uuid>,
    /// In the order link, onboarding, attribution_type, creation_source, case_after_link,
    /// payouts.
    pub checks: Vec<AttributionCheckItem>,
    #[schema(required = true)]
    pub link: Option<AttributionLink>,
    /// The latest link request, when there was never a link.
    #[schema(required = true)]
    pub link_request: Option<AttributionLinkRequest>,
    pub client: AttributionClient,
    pub case: AttributionCase,
    pub payouts: Vec<AttributionPayout>,
    pub dispute: DisputeWindow,
}

/// The operator's check: the partner's view plus every stored decision.
#[derive(ToSchema)]
pub struct OperatorAttributionCheck {
    #[serde(flatten)]
    pub check: AttributionCheck,
    pub decisions: Vec<AttributionDecision>,
}

#[derive(ToSchema)]
pub struct AttributionCheckItem {
    pub id: CheckId,
    pub status: CheckStatus,
    pub detail: String,
    #[schema(required = true)]
    pub resolution: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttributionLink {
    pub id: Uuid,
    #[schema(required = true)]
    pub status: Option<LinkStatus>,
    pub linked_at: DateTime<Utc>,
    pub is_attributed_client: bool,
    pub referral_fee_percentage: f64,
    pub history: Vec<AttributionLinkEvent>,
}

#[derive(ToSchema)]
pub struct AttributionLinkEvent {
    pub at: DateTime<Utc>,
    pub status: LinkStatus,
    #[schema(required = true)]
    pub reason: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttributionLinkRequest {
    pub id: Uuid,
    pub status: LinkRequestStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    #[schema(required = true)]
    pub decided_at: Option<DateTime<Utc>>,
}

/// Without a link, only `externalTenantId` (from the link request) may be set.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttributionClient {
    #[schema(required = true)]
    pub external_tenant_id: Option<String>,
    #[schema(required = true)]
    pub company_name: Option<String>,
    #[schema(required = true)]
    pub is_attributed_client: Option<bool>,
    #[schema(required = true)]
    pub onboarding_done: Option<bool>,
    #[schema(required = true)]
    pub onboarding_url: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttributionCase {
    pub source: CaseSource,
    pub date_created: DateTime<Utc>,
    pub lifecycle: Lifecycle,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttributionPayout {
    pub payout_id: Uuid,
    pub date: DateTime<Utc>,
    pub decision: PayoutDecision,
    pub reason: ReasonCode,
    pub referral_fee: f64,
    pub currency: String,
    #[schema(required = true)]
    pub stage: Option<RevenueStage>,
    #[schema(required = true)]
    pub stage_label: Option<String>,
    /// What to do when the payout does not earn.
    #[schema(required = true)]
    pub resolution: Option<String>,
}

#[derive(ToSchema)]
pub struct DisputeWindow {
    pub allowed: bool,
    #[schema(required = true)]
    pub deadline: Option<DateTime<Utc>>,
}

/// A stored attribution decision (operator view).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AttributionDecision {
    pub id: Uuid,
    pub payout_id: Uuid,
    #[schema(required = true)]
    pub supersedes_id: Option<Uuid>,
    #[schema(required = true)]
    pub partner_id: Option<Uuid>,
    #[schema(required = true)]
    pub link_id: Option<Uuid>,
    #[schema(required = true)]
    pub link_request_id: Option<Uuid>,
    #[schema(required = true)]
    pub link_status: Option<LinkStatus>,
    pub reason: ReasonCode,
    pub attributed: bool,
    pub case_source: CaseSource,
    #[schema(required = true)]
    pub referral_fee_percentage: Option<f64>,
    pub referral_fee: f64,
    pub currency: String,
    pub engine_version: String,
    pub decided_at: DateTime<Utc>,
}

// ---------------------------------------------------------------------------------------
// Operator API
// ---------------------------------------------------------------------------------------

/// Hosted-page branding.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Branding {
    /// http(s) URL.
    pub logo_url: Option<String>,
    /// A colour such as `#0a7cff`.
    pub background_color_code: Option<String>,
    pub font_color: Option<String>,
    pub font_family: Option<String>,
}

/// `POST /admin-api/v1/partners`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreatePartnerRequest {
    #[schema(max_length = 200)]
    pub company_name: String,
    pub contact_email: String,
    /// Percent of the platform's fee, 0 to 100, at most two decimals (default 50).
    pub referral_fee_percentage: Option<f64>,
    /// Days an approval URL stays valid, 1 to 30 (default 7).
    #[schema(minimum = 1, maximum = 30)]
    pub approval_ttl_days: Option<i64>,
    pub invoicing_trigger_mode: Option<InvoicingTriggerMode>,
    pub branding: Option<Branding>,
}

/// `PATCH /admin-api/v1/partners/{id}`: only the given fields change. A fee change affects
/// only links created afterwards.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdatePartnerRequest {
    #[schema(max_length = 200)]
    pub company_name: Option<String>,
    pub contact_email: Option<String>,
    pub referral_fee_percentage: Option<f64>,
    #[schema(minimum = 1, maximum = 30)]
    pub approval_ttl_days: Option<i64>,
    pub invoicing_trigger_mode: Option<InvoicingTriggerMode>,
    pub branding: Option<Branding>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Partner {
    pub id: Uuid,
    pub company_name: String,
    pub contact_email: String,
    pub referral_fee_percentage: f64,
    pub approval_ttl_days: i64,
    pub invoicing_trigger_mode: InvoicingTriggerMode,
    pub branding: Branding,
    pub created_at: DateTime<Utc>,
}

/// A new partner with its first API key (shown once).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerCreated {
    #[serde(flatten)]
    pub partner: Partner,
    pub api_key: String,
    pub api_key_id: Uuid,
}

#[derive(ToSchema)]
pub struct PartnerList {
    pub partners: Vec<Partner>,
}

/// A new API key (shown once).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct IssuedApiKey {
    pub id: Uuid,
    pub api_key: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ApiKeyInfo {
    pub id: Uuid,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ApiKeyList {
    pub api_keys: Vec<ApiKeyInfo>,
}

/// `POST /admin-api/v1/collection-partners`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CollectionPartnerRequest {
    #[schema(max_length = 200)]
    pub name: String,
    /// ISO 3166-1 alpha-2 codes; at least one.
    pub countries: Vec<String>,
    /// Percent of each payment, 0 to 100.
    pub success_fee_percentage: f64,
    /// Percent of the success fee kept by the platform (default 40).
    pub platform_share_percentage: Option<f64>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CollectionPartner {
    pub id: Uuid,
    pub name: String,
    pub countries: Vec<String>,
    pub success_fee_percentage: f64,
    pub platform_share_percentage: f64,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CollectionPartnerList {
    pub collection_partners: Vec<CollectionPartner>,
}

/// `POST /admin-api/v1/clients`: a client that signed up directly, not via a partner.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DirectClientRequest {
    #[schema(max_length = 200)]
    pub company_name: String,
    pub country: String,
    pub support_email: String,
    #[schema(max_length = 100)]
    pub registration_number: Option<String>,
    pub users: Vec<UserInput>,
    pub onboarding_done: Option<bool>,
}

/// A direct client with its API key (shown once).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct DirectClientCreated {
    pub id: Uuid,
    pub api_key: String,
    pub company_name: String,
    pub onboarding_done: bool,
}

/// A client's new API key (shown once).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ClientApiKey {
    /// The client id as given in the path.
    pub client_id: String,
    pub api_key: String,
}

/// `POST /admin-api/v1/cases/{caseIdOrReference}/payments`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PaymentRequest {
    /// In the case currency, greater than zero, at most 10^13 minor units.
    pub amount: f64,
    /// Defaults to now.
    pub paid_at: Option<DateTime<Utc>>,
    /// Your id for the payment (1 to 255 characters); repeating it answers the first
    /// result.
    #[schema(min_length = 1, max_length = 255)]
    pub external_id: Option<String>,
    /// Book the payment even though it exceeds what is still owed on the case (default
    /// false: such a payment is refused with `PaymentExceedsRemainder`).
    pub allow_overpayment: Option<bool>,
}

/// `POST /admin-api/v1/payments/batch` as JSON.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PaymentBatchRequest {
    /// At most 10,000 payments (more is a 400 naming `payments`), booked in this order.
    #[schema(max_items = 10000)]
    pub payments: Vec<PaymentBatchItem>,
}

/// One payment of a batch: the single endpoint's body with its case, and `externalId`
/// required. A property not listed here is a 400 for the whole batch.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PaymentBatchItem {
    /// Case id or case reference.
    pub case: String,
    /// In the case currency, greater than zero, at most 10^13 minor units.
    pub amount: f64,
    /// Your id for the payment (1 to 255 characters), unique per case: the item of a
    /// retried batch whose `externalId` was booked on the case is `replayed`.
    #[schema(min_length = 1, max_length = 255)]
    pub external_id: String,
    /// Defaults to now.
    pub paid_at: Option<DateTime<Utc>>,
    /// Book the payment even though it exceeds what is still owed on the case (default
    /// false: the item is rejected with `PaymentExceedsRemainder`).
    pub allow_overpayment: Option<bool>,
}

/// The answer to a batch: counts, and one result per item in the items' order.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PaymentBatchResult {
    /// Items booked now.
    pub created: u32,
    /// Items whose `externalId` was already booked on the case with the same amount
    /// (by an earlier request or earlier in this batch): nothing new was written.
    pub replayed: u32,
    /// Items refused; nothing of them was written.
    pub rejected: u32,
    pub results: Vec<PaymentBatchItemResult>,
}

/// What became of one item.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PaymentBatchItemResult {
    /// The item's position in `payments` (or among the CSV rows after the header), from 0.
    pub index: u32,
    pub status: PaymentBatchItemStatus,
    /// The payment booked (or replayed); absent on a rejected item.
    pub payment_id: Option<Uuid>,
    /// On a rejected item: the error body the single endpoint would have answered for it
    /// (`ValidationError` naming the field, `NotFound`, `CaseNotActive`,
    /// `ExternalIdReused`, `PaymentExceedsRemainder`, …).
    pub error: Option<ErrorBody>,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum PaymentBatchItemStatus {
    Created,
    Replayed,
    Rejected,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PaymentResult {
    pub payment_id: Uuid,
    /// In the case currency.
    pub amount: f64,
    pub currency: String,
    /// Booked above what was still owed, on `allowOverpayment`.
    pub is_overpayment: bool,
    pub payout: PayoutSummary,
    pub attribution: PaymentAttribution,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PayoutSummary {
    pub id: Uuid,
    pub success_fee: f64,
    pub platform_fee: f64,
    pub currency: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PaymentAttribution {
    pub decision_id: Uuid,
    #[schema(required = true)]
    pub partner_id: Option<Uuid>,
    pub decision: PayoutDecision,
    pub reason: ReasonCode,
    pub referral_fee: f64,
    #[schema(required = true)]
    pub referral_fee_percentage: Option<f64>,
    #[schema(required = true)]
    pub link_id: Option<Uuid>,
    pub engine_version: String,
}

/// A partner ↔ client link with its status history.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Link {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub client_id: Uuid,
    pub external_tenant_id: String,
    pub is_attributed_client: bool,
    pub referral_fee_percentage: f64,
    pub linked_at: DateTime<Utc>,
    pub status: LinkStatus,
    pub history: Vec<LinkEvent>,
}

#[derive(ToSchema)]
pub struct LinkEvent {
    pub at: DateTime<Utc>,
    pub status: LinkStatus,
    pub actor: String,
    #[schema(required = true)]
    pub reason: Option<String>,
}

#[derive(ToSchema)]
pub struct LinkList {
    pub links: Vec<Link>,
}

/// Optional body of the link status changes; the reason is audited.
#[derive(ToSchema)]
pub struct LinkChangeRequest {
    #[schema(max_length = 1000)]
    pub reason: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    #[schema(required = true)]
    pub related_id: Option<String>,
    /// `queued` (waiting for the mailer, or for a retry), `sent`, `outbox` (no SMTP
    /// configured: stored, never sent) or `failed` (given up).
    pub status: String,
    /// The last failed attempt's error.
    #[schema(required = true)]
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the SMTP server accepted it; `null` unless `sent`.
    #[schema(required = true)]
    pub sent_at: Option<DateTime<Utc>>,
    /// SMTP attempts so far.
    pub attempts: i64,
    /// When a `queued` e-mail is next tried; `null` otherwise.
    #[schema(required = true)]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

#[derive(ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
}

/// `POST /admin-api/v1/fx-rates`: a day's USD rates.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct FxRatesRequest {
    /// `YYYY-MM-DD`, a calendar day from 1999-01-01 to 2100-12-31.
    pub date: String,
    pub rates: Vec<FxRate>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct FxRate {
    /// ISO 4217 code.
    pub currency: String,
    /// USD per unit, positive, at most 8 decimals, at most one US dollar per minor unit
    /// (100 for EUR, 1 for JPY).
    pub usd_per_unit: f64,
}

#[derive(ToSchema)]
pub struct FxRatesLoaded {
    /// Number of rates stored.
    pub loaded: i64,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

#[derive(ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditEntry>,
    pub page: Page,
}

#[derive(ToSchema)]
pub struct ExpiredLinkRequests {
    /// Number of link requests expired by this run.
    pub expired: i64,
}

/// The service clock (test environment).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TestClock {
    pub now: DateTime<Utc>,
    pub offset_seconds: i64,
}

/// Moves the test clock forward (at most 3650 days in all).
#[derive(ToSchema)]
pub struct AdvanceClockRequest {
    #[schema(minimum = 0)]
    pub days: Option<i64>,
    #[schema(minimum = 0)]
    pub hours: Option<i64>,
    #[schema(minimum = 0)]
    pub seconds: Option<i64>,
}

// ---------------------------------------------------------------------------------------
// Hosted pages and service
// ---------------------------------------------------------------------------------------

/// The onboarding form (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
pub struct OnboardingForm {
    /// Full name of the person signing.
    #[schema(max_length = 200)]
    pub signer_name: String,
    /// Any value: the agreement is accepted.
    pub accept: String,
    /// The token from the page's hidden input.
    pub csrf: String,
}

/// The link-request approval form (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
pub struct ApprovalForm {
    pub decision: ApprovalDecision,
    /// The token from the page's hidden input.
    pub csrf: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approve,
    Decline,
}

#[derive(ToSchema)]
pub struct Health {
    pub status: HealthStatus,
}

#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

// ---------------------------------------------------------------------------------------
// People (issue 8)
// ---------------------------------------------------------------------------------------

/// A partner user's role: `admin` (team, keys, webhooks) or `member`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum PartnerUserRole {
    Admin,
    Member,
}

/// An operator's role: `admin`, or `viewer` (reads everything, changes nothing).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum OperatorRole {
    Admin,
    Viewer,
}

/// Where a person's account stands: `invited` (never signed in), `active`, `disabled`.
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum PersonStatus {
    Invited,
    Active,
    Disabled,
}

/// `status` a change may ask for: `disabled`, or `active` (re-enable).
#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum PersonStatusChange {
    Active,
    Disabled,
}

/// `PATCH` of a partner user or an operator: what is given changes. Other properties are
/// refused (400). `role` is a partner user's role (`admin` / `member`) or an operator's
/// (`admin` / `viewer`).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PersonChangeRequest {
    #[schema(example = "member")]
    pub role: Option<String>,
    pub status: Option<PersonStatusChange>,
}

/// `POST /admin-api/v1/partners/{id}/users`. Other properties are refused (400).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerUserRequest {
    /// Unique among the partner's users, compared case-insensitively.
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 200)]
    pub name: String,
    pub role: PartnerUserRole,
}

/// A partner's user.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PartnerUser {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: PartnerUserRole,
    pub status: PersonStatus,
    /// Null until the first sign-in.
    #[schema(required = true)]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct PartnerUserList {
    pub users: Vec<PartnerUser>,
    pub page: Page,
}

/// `POST /admin-api/v1/operators`. Other properties are refused (400).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OperatorRequest {
    /// Unique among operators, compared case-insensitively.
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(max_length = 200)]
    pub name: String,
    /// Default `viewer`.
    pub role: Option<OperatorRole>,
}

/// Platform staff.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OperatorPerson {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: OperatorRole,
    pub status: PersonStatus,
    /// Null until the first sign-in.
    #[schema(required = true)]
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

#[derive(ToSchema)]
pub struct OperatorList {
    pub operators: Vec<OperatorPerson>,
    pub page: Page,
}
