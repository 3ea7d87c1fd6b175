//! The Partner Dashboard's case check, disputes and statements (`web::dashboard::check`,
//! `disputes`, `statements`). Same credential as the other dashboard pages: the session
//! cookie of a partner user.

use utoipa::ToSchema;

const NO_SESSION: &str = "No session: to `/login`; a session that acts as no partner user: to `/account`.";

/// The "Raise a dispute" form of the case check page (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[allow(non_snake_case)]
pub struct DashboardDisputeForm {
    /// The token from the page's hidden input (bound to the session).
    pub csrf: String,
    #[schema(max_length = 64)]
    pub caseReference: String,
    /// The partner's id for the case's client.
    #[schema(max_length = 255)]
    pub externalTenantId: String,
    /// How the case was created, according to the partner.
    #[schema(max_length = 500)]
    pub creationMethod: String,
    #[schema(max_length = 2000)]
    pub expectedOutcome: String,
    /// What the partner observed.
    #[schema(max_length = 4000)]
    pub observation: String,
}

#[utoipa::path(
    get,
    path = "/dashboard/check",
    tag = "Partner Dashboard",
    summary = "Check a case by reference (the Cases tab's form)",
    description = "Redirects (303) to `/dashboard/cases/{reference}`.",
    params(("reference" = String, Query, description = "A case reference, at most 64 characters.")),
    responses(
        (status = 303, description = "To the case's check page; without a session to `/login`."),
        (status = 400, description = "No reference, or a bad one: the page says which.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dashboard_check_lookup() {}

#[utoipa::path(
    get,
    path = "/dashboard/cases/{reference}",
    tag = "Partner Dashboard",
    summary = "The self-serve check of one case (SPEC §8)",
    description = "The answer of `GET /referral-api/attribution/cases/{reference}` as a page: each check (pass / fail / not applicable) with what the system found and what to do, the payouts with decision, reason, fee and stage, why the case is not in the Cases tab when it is not, and while the dispute window is open the \"Raise a dispute\" form (partner admins) with the deadline. Any case of a client that is or was linked to the partner, or that has its link request.",
    params(("reference" = String, Path, description = "The case reference.")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter.", body = String, content_type = "text/html"),
        (status = 404, description = "No such case, or one of a client never linked to the partner: the same page.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dashboard_case_check() {}

#[utoipa::path(
    get,
    path = "/dashboard/disputes",
    tag = "Partner Dashboard",
    summary = "Disputes tab",
    description = "The partner's disputes, newest first, 50 a page: filed, case, client, status, deadline, resolved.",
    params(("page" = Option<u32>, Query, description = "1 to 100000.")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter: the page says which.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dashboard_disputes() {}

#[utoipa::path(
    post,
    path = "/dashboard/disputes",
    tag = "Partner Dashboard",
    summary = "Raise a dispute (the case check page's form)",
    description = "Files the dispute through the same use case as `POST /referral-api/disputes` and redirects (303) to its page. Partner admins only. A refused dispute (a missing field, the window closed, one already open) is the check page again with the reason and the values entered, with the refusal's status.",
    request_body(content = DashboardDisputeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "To `/dashboard/disputes/{id}`; without a session to `/login`."),
        (status = 400, description = "A field is missing, too long or holds a control character: the page names it.", body = String, content_type = "text/html"),
        (status = 403, description = "The CSRF token is missing or not this session's, or the user is a member: nothing was filed.", body = String, content_type = "text/html"),
        (status = 404, description = "No such case, or not one of the partner's clients.", body = String, content_type = "text/html"),
        (status = 409, description = "A dispute on this case is already open.", body = String, content_type = "text/html"),
        (status = 422, description = "The dispute window has closed: the page names the deadline.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dashboard_dispute_file() {}

#[utoipa::path(
    get,
    path = "/dashboard/disputes/{id}",
    tag = "Partner Dashboard",
    summary = "One dispute",
    description = "Status, outcome, reason and amount, what was filed, and the check as it stood at filing.",
    params(("id" = String, Path, description = "The dispute's id.")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "A bad parameter.", body = String, content_type = "text/html"),
        (status = 404, description = "No such dispute, or another partner's.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dashboard_dispute() {}

#[utoipa::path(
    get,
    path = "/dashboard/statements",
    tag = "Partner Dashboard",
    summary = "Statements tab: the month picker",
    description = "Redirects (303) to `/dashboard/statements/{month}`, the current month (UTC) without one.",
    params(("month" = Option<String>, Query, description = "`YYYY-MM`.")),
    responses(
        (status = 303, description = "To the month's statement; without a session to `/login`."),
        (status = 400, description = "Not a month: the page names `month`.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dashboard_statements() {}

#[utoipa::path(
    get,
    path = "/dashboard/statements/{period}",
    tag = "Partner Dashboard",
    summary = "A monthly statement (SPEC §7)",
    description = "The statement of `GET /referral-api/statements/{period}` as a page: totals per stage and currency with USD and the number of lines of each section, then the first 50 earnings and the first 50 reversals. `section` shows one section, 50 lines a page, `after` the page after a line (the \"Next\" link's cursor); the payouts on the partner's clients that did not earn, each with its reason, are on `section=not-earned`. `{period}.csv` (or `format=csv`) is the CSV of every line: header `section,date,case_reference,external_tenant_id,kind,stage,amount,currency,amount_usd,reason,payment_amount`.",
    params(
        ("period" = String, Path, description = "`YYYY-MM`, optionally followed by `.csv`."),
        ("format" = Option<String>, Query, description = "`html` (default) or `csv`."),
        ("section" = Option<String>, Query, description = "`earnings`, `reversals` or `not-earned`: that section alone, a page at a time."),
        ("after" = Option<String>, Query, description = "With `section`: the page after this line (a cursor from the page's \"Next\" link)."),
    ),
    responses(
        (status = 200, description = "The page, or the CSV.", body = String, content_type = "text/html"),
        (status = 303, description = NO_SESSION),
        (status = 400, description = "Not a month, a bad format, section or cursor: the page names the parameter.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dashboard_statement() {}
