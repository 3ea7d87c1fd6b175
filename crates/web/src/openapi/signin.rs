//! Sign-in by e-mail and the session pages (`pages::signin`). HTML pages; every form
//! carries the `csrf` token of its page, bound to the browser's pre-session cookie or,
//! in a session, to the session. The session is the `refshare_session` cookie
//! (`__Host-refshare_session` in `production`).

use utoipa::ToSchema;

/// The sign-in request form (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
pub struct LoginForm {
    /// The address to send the sign-in link to.
    #[schema(max_length = 254)]
    pub email: String,
    /// The token from the page's hidden input.
    pub csrf: String,
}

/// The sign-in code form (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
pub struct LoginCodeForm {
    pub email: String,
    /// The 8-digit code from the sign-in e-mail.
    pub code: String,
    /// The token from the page's hidden input.
    pub csrf: String,
}

/// "Continue as …" on `/account` (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
pub struct ChooseAccountForm {
    /// `client_user`, `partner_user` or `operator`.
    pub kind: String,
    /// The user's or operator's id.
    pub id: String,
    /// The token from the page's hidden input.
    pub csrf: String,
}

/// A form with only its CSRF token (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
pub struct CsrfForm {
    /// The token from the page's hidden input.
    pub csrf: String,
}

#[utoipa::path(
    get,
    path = "/login",
    tag = "Hosted pages",
    summary = "Sign-in page: one e-mail field",
    description = "Sets the pre-session cookie its form's CSRF token is bound to.",
    responses((status = 200, description = "The page.", body = String, content_type = "text/html"))
)]
pub(super) fn login_show() {}

#[utoipa::path(
    post,
    path = "/login",
    tag = "Hosted pages",
    summary = "Ask for a sign-in e-mail",
    description = "Always the same page, whether or not the address belongs to anyone. A mail (a link and an 8-digit code, one sign-in, 15 minutes) goes only to an address with an account, at most 5 per address per 15 minutes.",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "\"Check your e-mail\", with the code form.", body = String, content_type = "text/html"),
        (status = 400, description = "Not an e-mail address: the form again.", body = String, content_type = "text/html"),
        (status = 403, description = "CSRF token missing or not this browser's; nothing was done.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
        (status = 429, description = "More than `REFSHARE_SIGNIN_PER_IP_PER_MINUTE` requests from this IP in a minute.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn login_request() {}

#[utoipa::path(
    get,
    path = "/login/{secret}",
    tag = "Hosted pages",
    summary = "Sign-in link: a confirm button",
    description = "Uses nothing (mail scanners may fetch it); the button's POST signs in.",
    params(("secret" = String, Path, description = "From the sign-in e-mail.")),
    responses(
        (status = 200, description = "The confirm page.", body = String, content_type = "text/html"),
        (status = 410, description = "Unknown, used or expired.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn login_confirm_page() {}

#[utoipa::path(
    post,
    path = "/login/{secret}",
    tag = "Hosted pages",
    summary = "Sign in with the link",
    params(("secret" = String, Path, description = "From the sign-in e-mail.")),
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: the session cookie is set; back to the consent page the sign-in was asked from (or the personal link of an approval or invitation mail was minted for), else on to `/account`."),
        (status = 403, description = "CSRF token missing or not this browser's; nothing was done.", body = String, content_type = "text/html"),
        (status = 410, description = "Unknown, used or expired.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn login_confirm() {}

#[utoipa::path(
    post,
    path = "/login/code",
    tag = "Hosted pages",
    summary = "Sign in with the address and the code",
    request_body(content = LoginCodeForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed in: the session cookie is set; back to the consent page the mail was asked from, else on to `/account`."),
        (status = 403, description = "CSRF token missing or not this browser's; nothing was done.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
        (status = 422, description = "Wrong, used or expired code: the code form again.", body = String, content_type = "text/html"),
    )
)]
pub(super) fn login_code() {}

#[utoipa::path(
    get,
    path = "/account",
    tag = "Hosted pages",
    summary = "The signed-in person's page: their accounts and the current one",
    description = "Lists every account of the address (client user: the company; partner user: the partner and role; operator: the role), none disabled, and which one the session acts as. With exactly one it is chosen at sign-in; with several each has a \"Continue as …\" button. The choice is checked on every request: a disabled or removed account stops being chosen.",
    responses(
        (status = 200, description = "The page (needs the session cookie).", body = String, content_type = "text/html"),
        (status = 303, description = "No live session: on to `/login`."),
    )
)]
pub(super) fn account() {}

#[utoipa::path(
    post,
    path = "/account/choose",
    tag = "Hosted pages",
    summary = "Continue as one of the address's accounts",
    description = "Stores the account on the session; the Operator API accepts the session when it acts as an operator.",
    request_body(content = ChooseAccountForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Chosen; back to `/account` (or no live session: on to `/login`)."),
        (status = 403, description = "CSRF token missing or not the session's; nothing was done.", body = String, content_type = "text/html"),
        (status = 404, description = "Not an account of this address (or a disabled one).", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn account_choose() {}

#[utoipa::path(
    post,
    path = "/logout",
    tag = "Hosted pages",
    summary = "Sign out: the session is revoked on the server",
    request_body(content = CsrfForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 303, description = "Signed out; on to `/login`."),
        (status = 403, description = "CSRF token missing or not the session's; nothing was done.", body = String, content_type = "text/html"),
        (status = 415, description = "The body is not a URL-encoded form.", body = String, content_type = "text/plain"),
    )
)]
pub(super) fn logout() {}
