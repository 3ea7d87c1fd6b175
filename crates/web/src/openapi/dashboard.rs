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

/// `POST /dashboard/team`: invite a teammate.
#[derive(utoipa::ToSchema)]
pub struct InviteForm {
    /// The token from the page's hidden input.
    pub csrf: String,
    pub name: String,
    pub email: String,
    /// `member` (reads everything) or `admin` (also manages the team, keys, webhooks and settings).
    pub role: String,
}

/// `POST /dashboard/settings`: the hosted pages' branding; an empty value clears it.
#[derive(utoipa::ToSchema)]
pub struct BrandingForm {
    /// The token from the page's hidden input.
    pub csrf: String,
    /// An http(s) URL.
    pub logo_url: Option<String>,
    /// Such as `#14532d`.
    pub background_color_code: Option<String>,
    pub font_color: Option<String>,
    pub font_family: Option<String>,
}

const CSRF_403: &str = "CSRF token missing or not the session's for this form, or the user's role is `member`: nothing was done.";

#[utoipa::path(
    get,
    path = "/dashboard/team",
    tag = "Partner Dashboard",
    summary = "Team: the partner's users",
    description = "Everyone who can sign in for the partner (name, e-mail, role, status, last sign-in). Admins also see the invitation form and a Remove button per teammate (not for themselves).",
    params(("invited" = Option<String>, Query, description = "After an invitation: the address it went to, shown as a notice.")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
    )
)]
pub(super) fn team() {}

#[utoipa::path(
    post,
    path = "/dashboard/team",
    tag = "Partner Dashboard",
    summary = "Invite a teammate by e-mail with a role (admins)",
    description = "The invitation e-mail tells them to sign in at `/login` with that address.",
    request_body(content = InviteForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Invited: back to `/dashboard/team?invited=…`; or no session: to `/login`."),
        (status = 403, description = CSRF_403, body = String, content_type = "text/html"),
        (status = 409, description = "The partner already has a user with this e-mail: the form again with the message.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
        (status = 400, description = "A bad name, e-mail or role: the form again with the messages.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn team_invite() {}

#[utoipa::path(
    post,
    path = "/dashboard/team/{userId}/remove",
    tag = "Partner Dashboard",
    summary = "Remove a teammate (admins; not yourself)",
    params(("userId" = String, Path, description = "The user's id.")),
    request_body(content = super::signin::CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Removed: back to `/dashboard/team`; or no session: to `/login`."),
        (status = 403, description = CSRF_403, body = String, content_type = "text/html"),
        (status = 404, description = "No such user of this partner.", body = String, content_type = "text/html"),
        (status = 409, description = "It is your own account.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn team_remove() {}

#[utoipa::path(
    get,
    path = "/dashboard/api-keys",
    tag = "Partner Dashboard",
    summary = "API keys: the partner's Referral API keys by prefix",
    description = "Keys are stored hashed; only their first characters are shown, with creation and revocation days. Admins also see Issue and Revoke buttons.",
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
    )
)]
pub(super) fn api_keys() {}

#[utoipa::path(
    post,
    path = "/dashboard/api-keys",
    tag = "Partner Dashboard",
    summary = "Issue a new API key (admins): shown once, in this answer",
    request_body(content = super::signin::CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The page with the new key at the top (`Cache-Control: no-store`); it is never shown again.", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to `/login`."),
        (status = 403, description = CSRF_403, body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn api_keys_issue() {}

#[utoipa::path(
    post,
    path = "/dashboard/api-keys/{keyId}/revoke",
    tag = "Partner Dashboard",
    summary = "Revoke an API key (admins)",
    params(("keyId" = String, Path, description = "The key's id.")),
    request_body(content = super::signin::CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Revoked: back to `/dashboard/api-keys`; or no session: to `/login`."),
        (status = 403, description = CSRF_403, body = String, content_type = "text/html"),
        (status = 404, description = "No such key of this partner.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn api_keys_revoke() {}

#[utoipa::path(
    get,
    path = "/dashboard/settings",
    tag = "Partner Dashboard",
    summary = "Settings: the branding of the partner's hosted pages",
    description = "Logo URL, background and text colours, font. Read-only for members.",
    params(("saved" = Option<String>, Query, description = "After a save: shows a notice.")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
    )
)]
pub(super) fn settings() {}

#[utoipa::path(
    post,
    path = "/dashboard/settings",
    tag = "Partner Dashboard",
    summary = "Save the branding (admins)",
    request_body(content = BrandingForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Saved: back to `/dashboard/settings?saved=1`; or no session: to `/login`."),
        (status = 403, description = CSRF_403, body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
        (status = 400, description = "A bad value: the form again with the field's message.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn settings_save() {}

/// `POST /dashboard/webhooks`: subscribe a URL to events.
#[derive(utoipa::ToSchema)]
pub struct WebhookForm {
    /// The token from the page's hidden input.
    pub csrf: String,
    /// The https URL deliveries go to.
    pub url: String,
    /// One checkbox per event, named `event:<event name>` (e.g. `event:case.created`), value `on`.
    #[schema(rename = "event:case.created")]
    pub event: Option<String>,
    /// `on`: the subscription receives test events only.
    pub test_mode: Option<String>,
}

/// `POST /dashboard/webhooks/test`: a test event (test environment only).
#[derive(utoipa::ToSchema)]
pub struct WebhookTestForm {
    /// The token from the page's hidden input.
    pub csrf: String,
    pub event_type: String,
    /// For `case.*` events: one of the partner's case ids.
    pub case_id: Option<String>,
    /// For `client.*` and link events: the client's external tenant id.
    pub external_tenant_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/dashboard/webhooks",
    tag = "Partner Dashboard",
    summary = "Webhooks: the partner's subscriptions",
    description = "URL, events, state (active, disabled with the reason, test mode), created; a link to each delivery log. Admins also see the forms to add, delete and (in `test`) send a test event.",
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
    )
)]
pub(super) fn webhooks() {}

#[utoipa::path(
    post,
    path = "/dashboard/webhooks",
    tag = "Partner Dashboard",
    summary = "Add a webhook (admins): the signing secret is shown once, in this answer",
    description = "The Referral API's rules: an https URL that does not resolve to a private or local address, at least one known event, at most 20 webhooks.",
    request_body(content = WebhookForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Added: the page with the secret at the top (`Cache-Control: no-store`).", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to `/login`."),
        (status = 400, description = "A bad URL or events: the form again with the messages.", body = String, content_type = "text/html"),
        (status = 403, description = CSRF_403, body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn webhooks_create() {}

#[utoipa::path(
    post,
    path = "/dashboard/webhooks/test",
    tag = "Partner Dashboard",
    summary = "Send a test event (admins, test environment only)",
    request_body(content = WebhookTestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Queued: the page says for how many webhooks.", body = String, content_type = "text/html"),
        (status = 303, description = "No session: to `/login`."),
        (status = 400, description = "A bad event or a missing case id / tenant.", body = String, content_type = "text/html"),
        (status = 403, description = "As for the other forms; also in `production`.", body = String, content_type = "text/html"),
        (status = 404, description = "No such case or client of this partner.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn webhooks_test() {}

#[utoipa::path(
    get,
    path = "/dashboard/webhooks/{id}",
    tag = "Partner Dashboard",
    summary = "A webhook's delivery log",
    description = "Every delivery, newest first, 50 a page: event, queued, status, attempts, the last answer (HTTP status or error).",
    params(
        ("id" = String, Path, description = "The subscription's id."),
        ("page" = Option<u32>, Query, description = "1 to 100000."),
    ),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter.", body = String, content_type = "text/html"),
        (status = 404, description = "No such webhook of this partner.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn webhook_log() {}

#[utoipa::path(
    post,
    path = "/dashboard/webhooks/{id}/delete",
    tag = "Partner Dashboard",
    summary = "Delete a webhook (admins)",
    params(("id" = String, Path, description = "The subscription's id.")),
    request_body(content = super::signin::CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Deleted: back to `/dashboard/webhooks`; or no session: to `/login`."),
        (status = 403, description = CSRF_403, body = String, content_type = "text/html"),
        (status = 404, description = "No such webhook of this partner.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn webhook_delete() {}
