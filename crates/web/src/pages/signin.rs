//! Sign-in by e-mail and the session pages, in the platform's neutral layout:
//! `GET/POST /login` (ask for a mail), `GET/POST /login/{secret}` (confirm button: the
//! POST signs in, so mail scanners fetching the link use nothing), `POST /login/code`
//! (address and code), `GET /account` (every account of the address; with more than one,
//! a "Continue as …" button each, `POST /account/choose`) and `POST /logout`.
//!
//! Cookies (axum-extra's jar): the session's random id, and before sign-in a random
//! pre-session value that binds the forms' CSRF tokens to this browser. Both `HttpOnly`,
//! `SameSite=Lax`, `Path=/`; in `production` also `Secure` with the `__Host-` prefix.
//! Every form carries a token from [`App::form_token`]; a POST without the right one is
//! 403 and changes nothing.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::{html, Markup};
use refshare_app::signin::{Account, Session, CODE_DIGITS, LINK_TTL_MINUTES};
use refshare_app::{App, AppError, Environment, SigninError};
use serde::Deserialize;

use super::layout::error_page;
use super::onboarding::ClientIp;
use super::{PageForm, PagePath};

fn production(app: &App) -> bool {
    app.config.environment == Environment::Production
}

/// The session cookie's name.
pub fn session_cookie(app: &App) -> &'static str {
    if production(app) {
        "__Host-refshare_session"
    } else {
        "refshare_session"
    }
}

/// The pre-session cookie's name.
pub fn pre_cookie(app: &App) -> &'static str {
    if production(app) {
        "__Host-refshare_pre"
    } else {
        "refshare_pre"
    }
}

fn cookie(app: &App, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value)).http_only(true).same_site(SameSite::Lax).path("/").secure(production(app)).build()
}

/// The browser's pre-session binding, set when missing.
pub(super) fn pre_binding(app: &App, jar: CookieJar) -> (CookieJar, String) {
    match jar.get(pre_cookie(app)).map(|c| c.value().to_string()).filter(|v| !v.is_empty()) {
        Some(v) => (jar, v),
        None => {
            let v = refshare_app::signin::random_id();
            (jar.add(cookie(app, pre_cookie(app), v.clone())), v)
        }
    }
}

/// The live session the browser's cookie names.
pub async fn current_session(app: &App, jar: &CookieJar) -> Result<Option<Session>, AppError> {
    match jar.get(session_cookie(app)) {
        Some(c) if !c.value().is_empty() => app.session(c.value()).await,
        _ => Ok(None),
    }
}

pub(super) fn csrf_field(app: &App, binding: &str, path: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(app.form_token(binding, path)); }
}

/// In the platform's layout, with its configured name (`layout::frame_platform_pages`).
pub(super) fn platform_page(status: StatusCode, title: &str, body: Markup) -> Response {
    super::layout::platform_page(status, title, body)
}

fn login_form(app: &App, binding: &str, error: Option<&str>) -> Markup {
    html! {
        h1 { "Sign in" }
        p { "Enter your e-mail address. We send you a link to sign in; no password needed." }
        @if let Some(e) = error { div.error role="alert" { (e) } }
        form method="post" action="/login" {
            (csrf_field(app, binding, "/login"))
            label for="email" { "E-mail address" }
            input #email type="email" name="email" required autocomplete="email" maxlength="254";
            p { button.primary type="submit" { "Send me a sign-in link" } }
        }
    }
}

pub(super) fn code_form(app: &App, binding: &str, error: Option<&str>) -> Markup {
    html! {
        h2 { "Have a code?" }
        p { "If you read your mail on another device, enter your address and the " (CODE_DIGITS) "-digit code from the e-mail." }
        @if let Some(e) = error { div.error role="alert" { (e) } }
        form method="post" action="/login/code" {
            (csrf_field(app, binding, "/login/code"))
            label for="code-email" { "E-mail address" }
            input #code-email type="email" name="email" required autocomplete="email" maxlength="254";
            label for="code" { "Code" }
            input #code type="text" name="code" required inputmode="numeric" autocomplete="one-time-code" maxlength="16";
            p { button.primary type="submit" { "Sign in" } }
        }
    }
}

/// The one answer to every accepted sign-in request.
fn sent_page(app: &App, binding: &str) -> Markup {
    html! {
        h1 { "Check your e-mail" }
        p { "If this address belongs to an account, we sent it a sign-in link. It works once, for " (LINK_TTL_MINUTES) " minutes." }
        (code_form(app, binding, None))
    }
}

/// A refusal as the platform's page (a refused CSRF check is 403).
fn refusal(e: AppError) -> Response {
    error_page(e)
}

pub async fn show_login(State(app): State<App>, jar: CookieJar) -> Response {
    let (jar, binding) = pre_binding(&app, jar);
    (jar, platform_page(StatusCode::OK, "Sign in", login_form(&app, &binding, None))).into_response()
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf: String,
}

pub async fn request_login(State(app): State<App>, jar: CookieJar, ClientIp(ip): ClientIp, PageForm(f): PageForm<LoginForm>) -> Response {
    let binding = jar.get(pre_cookie(&app)).map(|c| c.value().to_string());
    if let Err(e) = app.check_form_token(binding.as_deref(), "/login", &f.csrf) {
        return refusal(e);
    }
    let binding = binding.unwrap_or_default();
    match app.request_signin(&f.email, &ip).await {
        Ok(()) => platform_page(StatusCode::OK, "Check your e-mail", sent_page(&app, &binding)),
        Err(AppError::Validation(_)) => platform_page(
            StatusCode::BAD_REQUEST,
            "Sign in",
            login_form(&app, &binding, Some("Enter a valid e-mail address, such as name@company.com.")),
        ),
        Err(e @ AppError::Signin(SigninError::TooManyRequests)) => {
            platform_page(StatusCode::TOO_MANY_REQUESTS, "Sign in", html! { h1 { "Please wait a moment" } p.error { (e.to_string()) } })
        }
        Err(e) => error_page(e),
    }
}

pub async fn confirm_page(State(app): State<App>, jar: CookieJar, PagePath(secret): PagePath) -> Response {
    if let Err(e) = app.check_signin_link(&secret).await {
        return error_page(e);
    }
    let (jar, binding) = pre_binding(&app, jar);
    let path = format!("/login/{secret}");
    let body = html! {
        h1 { "Sign in" }
        p { "Press the button to finish signing in." }
        form method="post" action=(path) {
            (csrf_field(&app, &binding, &path))
            p { button.primary type="submit" { "Sign in" } }
        }
    };
    (jar, platform_page(StatusCode::OK, "Sign in", body)).into_response()
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

/// After sign-in: the session cookie, and on to the page the sign-in secret was minted
/// for (a consent page; a path stored by the server, never one from the browser), else
/// the account page.
fn signed_in(app: &App, jar: CookieJar, s: refshare_app::signin::NewSession) -> Response {
    let jar = jar.add(cookie(app, session_cookie(app), s.cookie_value));
    (jar, Redirect::to(s.return_to.as_deref().unwrap_or("/account"))).into_response()
}

pub async fn confirm(State(app): State<App>, jar: CookieJar, PagePath(secret): PagePath, PageForm(f): PageForm<CsrfOnly>) -> Response {
    let binding = jar.get(pre_cookie(&app)).map(|c| c.value().to_string());
    if let Err(e) = app.check_form_token(binding.as_deref(), &format!("/login/{secret}"), &f.csrf) {
        return refusal(e);
    }
    match app.signin_with_link(&secret).await {
        Ok(s) => signed_in(&app, jar, s),
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    csrf: String,
}

pub async fn code(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<CodeForm>) -> Response {
    let binding = jar.get(pre_cookie(&app)).map(|c| c.value().to_string());
    if let Err(e) = app.check_form_token(binding.as_deref(), "/login/code", &f.csrf) {
        return refusal(e);
    }
    match app.signin_with_code(&f.email, &f.code).await {
        Ok(s) => signed_in(&app, jar, s),
        Err(e @ AppError::Signin(SigninError::CodeInvalid)) => {
            let binding = binding.unwrap_or_default();
            platform_page(StatusCode::UNPROCESSABLE_ENTITY, "Sign in", code_form(&app, &binding, Some(&e.to_string())))
        }
        Err(e) => error_page(e),
    }
}

/// What an account is, in words: "Acme Ltd — client user Ann".
fn account_label(a: &Account) -> String {
    match a {
        Account::ClientUser(u) => format!("{} — client user {}", u.company_name, u.user_name),
        Account::PartnerUser(u) => format!("{} — partner {} {}", u.partner_name, u.role, u.user_name),
        Account::Operator(o) => format!("Platform operator ({}) {}", o.role, o.name),
    }
}

/// Where the chosen account works today. The client web app and the Partner Dashboard
/// come with later issues; the page says so rather than linking nowhere.
fn destination(a: &Account) -> Markup {
    match a {
        Account::ClientUser(_) => html! {
            p { "The client web app is not available yet. Agreements and link requests are answered from the links in your e-mails." }
        },
        Account::PartnerUser(_) => html! {
            p { a href="/dashboard" { "Open the Partner Dashboard" } }
        },
        Account::Operator(o) => html! {
            p {
                "The operator console is not available yet. In this browser session you can use the Operator API under "
                code { "/admin-api/v1" }
                @if o.role.may_change() { " (read and change)." } @else { " (read only: your role is " (o.role) ")." }
            }
        },
    }
}

fn account_item(app: &App, session: &Session, a: &Account, several: bool) -> Markup {
    let current = session.chosen.as_ref() == Some(a);
    html! {
        li {
            (account_label(a))
            @if current { " " strong { "(current)" } }
            @else if several {
                form method="post" action="/account/choose" {
                    (csrf_field(app, session.csrf_binding(), "/account/choose"))
                    input type="hidden" name="kind" value=(a.kind().as_str());
                    input type="hidden" name="id" value=(a.id().to_string());
                    button type="submit" { "Continue as " (account_label(a)) }
                }
            }
        }
    }
}

pub async fn account(State(app): State<App>, jar: CookieJar) -> Response {
    let session = match current_session(&app, &jar).await {
        Ok(Some(s)) => s,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return error_page(e),
    };
    let accounts = match app.session_accounts(&session).await {
        Ok(a) => a,
        Err(e) => return error_page(e),
    };
    let body = html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (session.email()) } "." }
        @if accounts.is_empty() {
            p { "This address has no access to any account right now." }
        } @else {
            @match &session.chosen {
                Some(a) => {
                    h2 { "Current account" }
                    p { "You act as " strong { (account_label(a)) } "." }
                    (destination(a))
                }
                None => {
                    h2 { "Choose an account" }
                    p { "This address has several accounts. Choose the one to continue as." }
                }
            }
            h2 { "Your accounts" }
            ul { @for a in &accounts { (account_item(&app, &session, a, accounts.len() > 1)) } }
        }
        form method="post" action="/logout" {
            (csrf_field(&app, session.csrf_binding(), "/logout"))
            button type="submit" { "Sign out" }
        }
    };
    platform_page(StatusCode::OK, "Your account", body)
}

#[derive(Deserialize)]
pub struct ChooseForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    csrf: String,
}

/// "Continue as …": the session acts as the chosen account; back to `/account`.
pub async fn choose(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<ChooseForm>) -> Response {
    let session = match current_session(&app, &jar).await {
        Ok(Some(s)) => s,
        Ok(None) => return Redirect::to("/login").into_response(),
        Err(e) => return error_page(e),
    };
    if let Err(e) = app.check_form_token(Some(session.csrf_binding()), "/account/choose", &f.csrf) {
        return refusal(e);
    }
    match app.choose_account(&session, &f.kind, &f.id).await {
        Ok(_) => Redirect::to("/account").into_response(),
        Err(e) => error_page(e),
    }
}

pub async fn logout(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<CsrfOnly>) -> Response {
    let session = match current_session(&app, &jar).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    // A session that already ended leaves nothing to change: its cookie is dropped.
    if let Some(s) = session {
        if let Err(e) = app.check_form_token(Some(s.csrf_binding()), "/logout", &f.csrf) {
            return refusal(e);
        }
        if let Err(e) = app.logout(&s).await {
            return error_page(e);
        }
    }
    let jar = jar.remove(cookie(&app, session_cookie(&app), String::new()));
    (jar, Redirect::to("/login")).into_response()
}
