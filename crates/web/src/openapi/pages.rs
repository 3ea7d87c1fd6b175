//! The hosted, partner-branded pages (`pages`) and the service endpoints of `lib.rs`. The
//! URL shows a page; consent (approve, decline, sign) needs a session of a user of the
//! client, which the page's sign-in form starts. Their errors are HTML pages too.

use super::schemas::*;

#[utoipa::path(
    get,
    path = "/onboarding/{linkId}",
    tag = "Hosted pages",
    summary = "Onboarding page: company details and the agreement to sign",
    description = "Shows the company details and the agreement to anyone with the URL. The signing form only in a session of a user of the client (the `refshare_session` cookie); otherwise a sign-in form (`email`, posting to `/onboarding/{linkId}/sign-in`), with a note when the session's address is no user of the client. The confirmation when the client already signed.",
    params(("linkId" = Uuid, Path, description = "From the onboarding URL.")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown link.", body = String, content_type = "text/html"),
        (status = 410, description = "The link is no longer active.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn onboarding_show() {}

#[utoipa::path(
    post,
    path = "/onboarding/{linkId}",
    tag = "Hosted pages",
    summary = "Sign the agreement and complete onboarding",
    description = "Only in a session of a user of the client, with the session's CSRF token from the page. Completes onboarding and activates the client's pending cases; the signature records the signed-in user, how the address was verified (`link` or `code`), time, IP address, user agent and agreement version. The confirmation links back to the partner when a `returnUrl` was given.",
    params(("linkId" = Uuid, Path, description = "From the onboarding URL.")),
    request_body(content = OnboardingForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The confirmation page.", body = String, content_type = "text/html"),
        (status = 400, description = "The form again, with what is missing (name or acceptance).", body = String, content_type = "text/html"),
        (status = 403, description = "No session, a token that is not the session's, or the session's address is no user of the client: nothing was signed.", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown link.", body = String, content_type = "text/html"),
        (status = 410, description = "The link is no longer active.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
        (status = 422, description = "The form could not be read.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn onboarding_sign() {}

#[utoipa::path(
    post,
    path = "/onboarding/{linkId}/sign-in",
    tag = "Hosted pages",
    summary = "Ask for a sign-in e-mail to sign the agreement",
    description = "Like `POST /login`, with the same limits and the same answer for every address, but the mail goes only to a (not disabled) user of the link's client, and its link and code return to the onboarding page. Nothing is sent once onboarding is complete.",
    params(("linkId" = Uuid, Path, description = "From the onboarding URL.")),
    request_body(content = super::signin::LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The page with \"if this address belongs to a user of …, we sent a link\" and the code form.", body = String, content_type = "text/html"),
        (status = 400, description = "Not an e-mail address: the form again.", body = String, content_type = "text/html"),
        (status = 403, description = "CSRF token missing or not this browser's; nothing was done.", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown link.", body = String, content_type = "text/html"),
        (status = 410, description = "The link is no longer active.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
        (status = 429, description = "More than `REFSHARE_SIGNIN_PER_IP_PER_MINUTE` requests from this IP in a minute.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn onboarding_signin() {}

#[utoipa::path(
    get,
    path = "/agreements/{version}",
    tag = "Hosted pages",
    summary = "Download an agreement version",
    description = "The Standard Debt Collection Agreement as a text file (`Content-Disposition: attachment; filename=\"{version}.txt\"`): the version clients sign now, or an earlier version the installation keeps. The onboarding page and its confirmation link here.",
    params(("version" = String, Path, description = "The agreement version, such as `SDCA-2026-01`.")),
    responses(
        (status = 200, description = "The agreement text, its first line `Version: {version}`.", body = String, content_type = "text/plain"),
        (status = 404, description = "No such version is kept.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn agreement_download() {}

#[utoipa::path(
    get,
    path = "/link-requests/{token}",
    tag = "Hosted pages",
    summary = "Link approval page",
    description = "Shows the requesting partner, what a non-attributed link means and when the request expires. The approve and decline buttons only in a session of a user of the client; otherwise a sign-in form (`email`, posting to `/link-requests/{token}/sign-in`), with a note when the session's address is no user of the client.",
    params(("token" = String, Path, description = "From the approval URL.")),
    responses(
        (status = 200, description = "The page.", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown token.", body = String, content_type = "text/html"),
        (status = 410, description = "Expired, declined or already approved: a page without the form.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn approval_show() {}

#[utoipa::path(
    post,
    path = "/link-requests/{token}",
    tag = "Hosted pages",
    summary = "Approve or decline a link request",
    description = "Only in a session of a user of the request's client, with the session's CSRF token from the page. The decision records that user (audit actor `client_user:{id}`). The answer says what happens next.",
    params(("token" = String, Path, description = "From the approval URL.")),
    request_body(content = ApprovalForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Approved (the account is linked) or declined.", body = String, content_type = "text/html"),
        (status = 400, description = "`decision` is neither `approve` nor `decline`.", body = String, content_type = "text/html"),
        (status = 403, description = "No session, a token that is not the session's, or the session's address is no user of the client: nothing changed.", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown token.", body = String, content_type = "text/html"),
        (status = 409, description = "A concurrent change linked the account or the partner's id first.", body = String, content_type = "text/html"),
        (status = 410, description = "Expired, already decided, or the account or the partner's id is linked elsewhere.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
        (status = 422, description = "The form could not be read.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn approval_decide() {}

#[utoipa::path(
    post,
    path = "/link-requests/{token}/sign-in",
    tag = "Hosted pages",
    summary = "Ask for a sign-in e-mail to answer a link request",
    description = "Like `POST /login`, with the same limits and the same answer for every address, but the mail goes only to a (not disabled) user of the request's client, and its link and code return to the approval page.",
    params(("token" = String, Path, description = "From the approval URL.")),
    request_body(content = super::signin::LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The page with \"if this address belongs to a user of …, we sent a link\" and the code form.", body = String, content_type = "text/html"),
        (status = 400, description = "Not an e-mail address: the form again.", body = String, content_type = "text/html"),
        (status = 403, description = "CSRF token missing or not this browser's; nothing was done.", body = String, content_type = "text/html"),
        (status = 404, description = "Unknown token.", body = String, content_type = "text/html"),
        (status = 410, description = "Expired, declined or already approved.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
        (status = 429, description = "More than `REFSHARE_SIGNIN_PER_IP_PER_MINUTE` requests from this IP in a minute.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn approval_signin() {}

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "Service",
    summary = "Health: the database answers",
    responses(
        (status = 200, description = "Healthy.", body = Health),
        (status = 503, description = "The database does not answer.", body = Health),
    )
)]
pub(super) fn healthz() {}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "Service",
    summary = "This OpenAPI document",
    responses(
        (status = 200, description = "The document (OpenAPI 3.1).", body = Object, content_type = "application/json"),
    )
)]
pub(super) fn openapi_json() {}

#[utoipa::path(
    get,
    path = "/metrics",
    tag = "Service",
    summary = "Prometheus metrics",
    description = "HTTP requests and latency per route template, ledger balances per stage and currency, webhook deliveries, e-mails and disputes by status, and `refshare_fx_rates_missing` (the USD rates figures need and that are not loaded). Requires `Authorization: Bearer <REFSHARE_METRICS_TOKEN>` when that setting is given.",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4.", body = String, content_type = "text/plain"),
        (status = 401, description = "`REFSHARE_METRICS_TOKEN` is set and the bearer token is missing or wrong.", body = ErrorBody),
    ),
    security((), ("MetricsBearer" = []))
)]
pub(super) fn metrics() {}

#[utoipa::path(
    get,
    path = "/dev/mail",
    tag = "Service",
    summary = "The outbox (test environment only)",
    description = "The newest 100 e-mails queued by the service (sign-in links, invitations, link approvals), newest first, with their links clickable: the flows work without an SMTP server. `to` shows one address's mail (ASCII case-insensitive). In `production` the page does not exist (404).",
    params(("to" = Option<String>, Query, description = "Only mail to this address (at most 254 characters).")),
    responses(
        (status = 200, description = "The outbox page.", body = String, content_type = "text/html"),
        (status = 400, description = "A control character or a too long `to`.", body = String, content_type = "text/html"),
        (status = 404, description = "Production: no such page.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn dev_mail() {}
