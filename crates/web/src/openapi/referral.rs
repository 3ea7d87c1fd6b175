//! Operations of the Referral Partner API (`/referral-api`, `api::referral`).

use super::schemas::*;

#[utoipa::path(
    post,
    path = "/referral-api/clients",
    tag = "Referral Partner API",
    summary = "Create a client (with optional cases) and get its onboarding URL",
    description = "A new company gets an attributed link and an onboarding URL (202). Repeating an `externalTenantId` that is already linked answers the client as it is and creates nothing (201 once onboarding is done, 202 before); cases sent with a repeat are reported in `caseResults.failedCases`. A company that already has an account gets a link request instead (409 `ClientExistsNeedsLinking`, approval URL in `data.onboardingLinks.url`).",
    request_body = CreateClientRequest,
    responses(
        (status = 201, description = "The client exists and completed onboarding.", body = ClientCreatedResponse),
        (status = 202, description = "The client was created (or exists) and has not completed onboarding; send it `onboardingLinks.url`.", body = ClientCreatedResponse),
        (status = 400, description = "Invalid body; every offending field is listed.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 409, description = "`ClientExistsNeedsLinking` or `AlreadyLinkedToAnotherPartner`.", body = ClientConflictBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_create_client() {}

#[utoipa::path(
    get,
    path = "/referral-api/clients",
    tag = "Referral Partner API",
    summary = "List your linked clients",
    description = "Only clients with an active link to you.",
    params(
        ("Page" = Option<u32>, Query, minimum = 1, description = "1-based page (default 1)."),
        ("PageSize" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Default 50, at most 100."),
        ("Query" = Option<String>, Query, description = "Matches company name, support e-mail or registration number."),
        ("ExternalTenantId" = Option<String>, Query),
        ("IsAttributedClient" = Option<bool>, Query),
        ("OnboardingDone" = Option<bool>, Query),
        ("DateCreatedFrom" = Option<String>, Query, description = "ISO 8601 date or date-time; compares the link date."),
        ("DateCreatedTo" = Option<String>, Query, description = "ISO 8601 date or date-time; compares the link date."),
        ("Sort" = Option<String>, Query, description = "`field:dir` with field `dateCreated` or `name` and dir `asc` or `desc` (default `dateCreated:desc`)."),
    ),
    responses(
        (status = 200, description = "A page of clients.", body = ClientList),
        (status = 400, description = "Invalid query parameter.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_list_clients() {}

#[utoipa::path(
    get,
    path = "/referral-api/clients/{externalTenantId}",
    tag = "Referral Partner API",
    summary = "Get one linked client",
    params(("externalTenantId" = String, Path, description = "Your id for the client.")),
    responses(
        (status = 200, description = "The client.", body = ClientCreatedResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "No active link with this id.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_get_client() {}

#[utoipa::path(
    delete,
    path = "/referral-api/clients/{externalTenantId}",
    tag = "Referral Partner API",
    summary = "Delete a client and its data (test environment only)",
    params(("externalTenantId" = String, Path, description = "Your id for the client.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 403, description = "Production environment.", body = ErrorBody),
        (status = 404, description = "No active link with this id.", body = ErrorBody),
        (status = 409, description = "`NotDeletable`: the message lists the blockers.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_delete_client() {}

#[utoipa::path(
    post,
    path = "/referral-api/clients/{externalTenantId}/withdraw",
    tag = "Referral Partner API",
    summary = "Withdraw a client that never started",
    description = "Allowed for an attributed client that has not completed onboarding and whose cases are all still pending: the link is archived and the cases are closed.",
    params(("externalTenantId" = String, Path, description = "Your id for the client.")),
    responses(
        (status = 204, description = "Withdrawn."),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "No active link with this id.", body = ErrorBody),
        (status = 409, description = "`NotAttributed`, `OnboardingComplete` or `CasesStarted`.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_withdraw_client() {}

#[utoipa::path(
    get,
    path = "/referral-api/clients/{externalTenantId}/is-deletable",
    tag = "Referral Partner API",
    summary = "Whether a client can be deleted (test environment only)",
    params(("externalTenantId" = String, Path, description = "Your id for the client.")),
    responses(
        (status = 200, description = "The answer and its blockers.", body = DeletableResponse),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 403, description = "Production environment.", body = ErrorBody),
        (status = 404, description = "No active link with this id.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_is_deletable() {}

#[utoipa::path(
    post,
    path = "/referral-api/oauth/token",
    tag = "Referral Partner API",
    summary = "Mint a Customer API bearer token for a linked client",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "A token valid for 1800 seconds.", body = TokenResponse),
        (status = 400, description = "Invalid body.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "No active link with this `externalTenantId`.", body = ErrorBody),
        (status = 422, description = "`OnboardingIncomplete`: the client has not signed yet.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_token() {}

#[utoipa::path(
    get,
    path = "/referral-api/me",
    tag = "Referral Partner API",
    summary = "Your partner profile",
    responses(
        (status = 200, description = "The profile.", body = PartnerProfile),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_me() {}

#[utoipa::path(
    get,
    path = "/referral-api/cases",
    tag = "Referral Partner API",
    summary = "List the cases visible to you",
    params(
        ("Page" = Option<u32>, Query, minimum = 1, description = "1-based page (default 1)."),
        ("PageSize" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Default 10, at most 100."),
        ("ExternalTenantId" = Option<String>, Query),
        ("FromDate" = Option<String>, Query, description = "ISO 8601 date or date-time (case creation)."),
        ("ToDate" = Option<String>, Query, description = "ISO 8601 date or date-time (case creation)."),
        ("Statuses" = Option<Vec<Lifecycle>>, Query, style = Form, explode, description = "Lifecycles; repeat the key or separate with commas."),
        ("Query" = Option<String>, Query, description = "Free-text search."),
        ("Sort" = Option<String>, Query, description = "`field:dir` with field `GrossAmount` or `DateCreated` and dir `asc` or `desc`."),
    ),
    responses(
        (status = 200, description = "A page of cases with a summary.", body = PartnerCaseList),
        (status = 400, description = "Invalid query parameter.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_list_cases() {}

#[utoipa::path(
    get,
    path = "/referral-api/cases/{id}",
    tag = "Referral Partner API",
    summary = "Get one visible case with its potential revenue",
    params(("id" = Uuid, Path, description = "Case id.")),
    responses(
        (status = 200, description = "The case.", body = PartnerCaseDetail),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "Unknown or not visible to you (also for an id that is not a UUID).", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_get_case() {}

#[utoipa::path(
    get,
    path = "/referral-api/reporting/transactions",
    tag = "Referral Partner API",
    summary = "Your earnings: one row per earning, with the seven-stage summary over the filtered rows",
    params(
        ("Page" = Option<u32>, Query, minimum = 1, description = "1-based page (default 1)."),
        ("PageSize" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Default 10, at most 100."),
        ("FromDate" = Option<String>, Query, description = "ISO 8601 date or date-time (payment date, inclusive)."),
        ("ToDate" = Option<String>, Query, description = "ISO 8601 date or date-time (payment date, inclusive)."),
        ("ExternalTenantId" = Option<String>, Query),
        ("RevenueStages" = Option<Vec<RevenueStage>>, Query, style = Form, explode, description = "Stage names or their 0-based indexes; repeat the key or separate with commas."),
        ("CommissionPaymentStatuses" = Option<Vec<String>>, Query, style = Form, explode, description = "`Unpaid`=0, `Paid`=1, `Credited`=2 (names or codes)."),
        ("PlatformInvoicingStatuses" = Option<Vec<String>>, Query, style = Form, explode, description = "`NotInvoiced`=0, `InvoiceIssued`=1, `PaymentReceived`=2, `InvoiceCredited`=3 (names or codes)."),
        ("ReferralInvoicingStatuses" = Option<Vec<String>>, Query, style = Form, explode, description = "`Pending`=0, `Invoiced`=1, `Paid`=2, `Disputed`=3 (names or codes)."),
        ("CountryIds" = Option<Vec<u32>>, Query, style = Form, explode, description = "Debtor countries by the stable ids of `filter-options` (alpha-2 letters as base-26 digits, 1–676)."),
        ("CollectionPartnerIds" = Option<Vec<Uuid>>, Query, style = Form, explode, description = "Collection partners assigned to the cases."),
        ("Search" = Option<String>, Query, description = "Free-text search (at least 2 characters)."),
        ("HasRecognizedRevenue" = Option<bool>, Query),
        ("Sort" = Option<String>, Query, description = "`field:dir` with field `collectionDate` (default) or `amount` and dir `asc` or `desc`."),
    ),
    responses(
        (status = 200, description = "A page of transactions with the stage summary.", body = TransactionsReport),
        (status = 400, description = "Invalid query parameter.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_transactions() {}

#[utoipa::path(
    get,
    path = "/referral-api/referral-partner/filter-options",
    tag = "Referral Partner API",
    summary = "Countries and collection partners seen in your data",
    responses(
        (status = 200, description = "The options.", body = FilterOptions),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_filter_options() {}

#[utoipa::path(
    get,
    path = "/referral-api/attribution/cases/{reference}",
    tag = "Referral Partner API",
    summary = "Self-serve attribution check of one case",
    description = "Why a case's payouts earn (or do not earn) you a referral fee, check by check, with what to do about it.",
    params(("reference" = String, Path, description = "The case reference.")),
    responses(
        (status = 200, description = "The check.", body = AttributionCheck),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "Unknown case, or its client was never linked to you.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_attribution() {}
