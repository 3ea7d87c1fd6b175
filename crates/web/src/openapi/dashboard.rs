//! The Partner Dashboard (`web::dashboard`): HTML pages and CSV exports for the signed-in
//! users of a referral partner. The credential is the session cookie of a partner user
//! (see `/login`); without a session they redirect to `/login`, with a session acting as
//! another kind of account to `/account`. Only the user's own partner is shown.

const NO_SESSION: &str = "No session: to `/login`; a session that acts as no partner user: to `/account`.";

#[utoipa::path(
    get,
    path = "/dashboard",
    tag = "Partner Dashboard",
    summary = "Overview: the Attention list, the seven revenue buckets and earnings per month",
    description = "The Attention list (the items of `GET /referral-api/attention`, most urgent first), the buckets (count and USD) under their partner-facing names, and the last 12 months of live earnings by payment month as an SVG chart and a table.",
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
    )
)]
pub(super) fn overview() {}

#[utoipa::path(
    get,
    path = "/dashboard/clients",
    tag = "Partner Dashboard",
    summary = "Clients tab",
    description = "The partner's actively linked clients, newest link first, 50 a page: company name, external tenant id, Onboarding Status (Pending with the onboarding URL, or Complete), Attribution Status, link status and since when; each client links to its timeline. Below, the link requests that have not led to a link: awaiting approval (with their expiry), or declined or expired in the last 30 days.",
    params(
        ("q" = Option<String>, Query, description = "Company name or external tenant id contains it (case-insensitive), at most 100 characters."),
        ("page" = Option<u32>, Query, description = "1 to 100000."),
    ),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter: the page says which.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn clients() {}

#[utoipa::path(
    get,
    path = "/dashboard/clients.csv",
    tag = "Partner Dashboard",
    summary = "Clients tab as CSV",
    description = "Every client the filter selects; header `company_name,external_tenant_id,onboarding_status,onboarding_url,attribution_status,link_status,linked_date,cases`. Text cells a spreadsheet would run as a formula are prefixed with `'`.",
    params(("q" = Option<String>, Query, description = "As on the page.")),
    responses(
        (status = 200, description = "The rows.", body = String, content_type = "text/csv"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn clients_csv() {}

#[utoipa::path(
    get,
    path = "/dashboard/cases",
    tag = "Partner Dashboard",
    summary = "Cases tab",
    description = "The cases the partner sees (SPEC §5), newest first, 50 a page: reference, client, debtor, amount, lifecycle, source, created.",
    params(
        ("q" = Option<String>, Query, description = "Reference, creditor reference, debtor name or client name contains it (case-insensitive), at most 100 characters."),
        ("lifecycle" = Option<String>, Query, description = "`PendingContractSigning`, `Active`, `Paused` or `Closed`."),
        ("source" = Option<String>, Query, description = "`partner_api`, `web_app`, `csv_import`, `customer_api` or `operator`."),
        ("page" = Option<u32>, Query, description = "1 to 100000."),
    ),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter: the page says which.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn cases() {}

#[utoipa::path(
    get,
    path = "/dashboard/cases.csv",
    tag = "Partner Dashboard",
    summary = "Cases tab as CSV",
    description = "Every case the filter selects; header `reference,client,external_tenant_id,debtor,amount,currency,lifecycle,source,created_date`.",
    params(
        ("q" = Option<String>, Query, description = "As on the page."),
        ("lifecycle" = Option<String>, Query, description = "As on the page."),
        ("source" = Option<String>, Query, description = "As on the page."),
    ),
    responses(
        (status = 200, description = "The rows.", body = String, content_type = "text/csv"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn cases_csv() {}

#[utoipa::path(
    get,
    path = "/dashboard/earnings",
    tag = "Partner Dashboard",
    summary = "Earnings tab",
    description = "The partner's live earnings, newest payment first, 50 a page: case reference, client, payment date, fee (currency and USD), stage by its partner-facing name, estimate flag; and the seven-bucket summary of the filtered rows.",
    params(
        ("q" = Option<String>, Query, description = "The case reference (or debtor or client name) contains it; from 2 characters."),
        ("stage" = Option<String>, Query, description = "One of the seven stages (`Pending`, `ConfirmedPendingInvoice`, …)."),
        ("month" = Option<String>, Query, description = "Payment month, `YYYY-MM`."),
        ("page" = Option<u32>, Query, description = "1 to 100000."),
    ),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter: the page says which.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn earnings() {}

#[utoipa::path(
    get,
    path = "/dashboard/earnings.csv",
    tag = "Partner Dashboard",
    summary = "Earnings tab as CSV",
    description = "Every earning the filter selects (read in keyset pages); header `case_reference,client,external_tenant_id,paid_date,kind,fee,currency,fee_usd,stage,estimate`.",
    params(
        ("q" = Option<String>, Query, description = "As on the page."),
        ("stage" = Option<String>, Query, description = "As on the page."),
        ("month" = Option<String>, Query, description = "As on the page."),
    ),
    responses(
        (status = 200, description = "The rows.", body = String, content_type = "text/csv"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn earnings_csv() {}
