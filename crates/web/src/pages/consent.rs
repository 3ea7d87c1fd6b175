//! The consent gate shared by the approval and onboarding pages (SPEC §11): who the
//! browser is for a client (a signed-in user of it, someone else signed in, or nobody),
//! the sign-in form those pages show instead of their decision or signing form, and the
//! neutral answer to it.
//!
//! The sign-in form posts to the page's own `…/sign-in` path with a CSRF token bound to
//! the browser's pre-session cookie, like `/login`. Whether a mail goes out (only to a
//! user of the client) and where its link returns to is decided in the app
//! (`App::request_approval_signin`, `App::request_onboarding_signin`); the answer is
//! the same for every address.

use axum::http::StatusCode;
use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use refshare_app::signin::{Session, LINK_TTL_MINUTES};
use refshare_app::{App, AppError, SigninError};
use refshare_store::ClientUserAccount;
use serde::Deserialize;
use uuid::Uuid;

use super::layout::error_page;
use super::signin::{code_form, csrf_field, current_session, platform_page, pre_cookie};

/// Who the browser is for one client.
pub enum Visitor {
    /// Signed in as a user of the client: may decide or sign.
    ClientUser(Session, ClientUserAccount),
    /// Signed in, but the address is no user of the client.
    Other(Session),
    /// No live session.
    Anonymous,
}

/// The browser's standing for `client_id`, from its session cookie.
pub async fn visitor(app: &App, jar: &CookieJar, client_id: Uuid) -> Result<Visitor, AppError> {
    let Some(session) = current_session(app, jar).await? else { return Ok(Visitor::Anonymous) };
    Ok(match app.session_client_user(&session, client_id).await? {
        Some(user) => Visitor::ClientUser(session, user),
        None => Visitor::Other(session),
    })
}

/// The live session the form came with, after its CSRF token was checked against that
/// session for `path`. Without a session (or with a pre-session token) the answer is 403
/// and nothing happens.
pub async fn session_for_post(app: &App, jar: &CookieJar, path: &str, csrf: &str) -> Result<Session, AppError> {
    let session = current_session(app, jar).await?;
    app.check_form_token(session.as_ref().map(Session::csrf_binding), path, csrf)?;
    session.ok_or_else(|| SigninError::CsrfRefused.into())
}

/// The page's sign-in form.
#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub csrf: String,
}

/// The pre-session binding the sign-in form came with, after its CSRF check for `action`.
pub fn check_signin_post(app: &App, jar: &CookieJar, action: &str, csrf: &str) -> Result<String, AppError> {
    let binding = jar.get(pre_cookie(app)).map(|c| c.value().to_string());
    app.check_form_token(binding.as_deref(), action, csrf)?;
    Ok(binding.unwrap_or_default())
}

/// "Signed in as …" above a decision or signing form.
pub fn signed_in_as(session: &Session, user: &ClientUserAccount) -> Markup {
    html! {
        p { "Signed in as " strong { (user.user_name) } " (" (session.email()) "), a user of " (user.company_name) "." }
    }
}

/// The sign-in form in place of the decision or signing form: `what` says what the
/// visitor signs in for ("to approve or decline", "to sign").
pub fn signin_form(
    app: &App,
    binding: &str,
    action: &str,
    company: &str,
    what: &str,
    other: Option<&Session>,
    error: Option<&str>,
) -> Markup {
    html! {
        h2 { "Sign in as a user of " (company) }
        @if let Some(s) = other {
            div.error role="alert" {
                "You are signed in as " (s.email()) ", which is not a user of " (company) ". Only its users can do this; sign in with the address of one of them."
            }
        }
        p { "Only a user of " (company) " can " (what) ". Enter your e-mail address: if it belongs to a user of " (company) ", we send you a link that signs you in and brings you back to this page. No password needed." }
        @if let Some(e) = error { div.error role="alert" { (e) } }
        form method="post" action=(action) {
            (csrf_field(app, binding, action))
            label for="email" { "E-mail address" }
            input #email type="email" name="email" required autocomplete="email" maxlength="254";
            p { button.primary type="submit" { "Send me a sign-in link" } }
        }
    }
}

/// The one answer to every accepted sign-in request from a consent page.
pub fn sent(app: &App, binding: &str, company: &str) -> Markup {
    html! {
        h2 { "Check your e-mail" }
        p { "If this address belongs to a user of " (company) ", we sent it a sign-in link. It works once, for " (LINK_TTL_MINUTES) " minutes, and brings you back to this page." }
        (code_form(app, binding, None))
    }
}

/// What a refused sign-in request shows (a malformed address is the caller's: the form
/// again): 429 beyond the per-IP limit, else the error page.
pub fn signin_refusal(e: AppError) -> Response {
    match e {
        e @ AppError::Signin(SigninError::TooManyRequests) => {
            platform_page(StatusCode::TOO_MANY_REQUESTS, "Sign in", html! { h1 { "Please wait a moment" } p.error { (e.to_string()) } })
        }
        e => error_page(e),
    }
}

/// The message of a malformed address in the sign-in form.
pub const BAD_ADDRESS: &str = "Enter a valid e-mail address, such as name@company.com.";
