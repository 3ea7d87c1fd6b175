//! `GET/POST /onboarding/{linkId}`: company details, the SDCA text, and signing. The
//! details and the agreement are shown to anyone holding the URL (the partner entered
//! the details itself); the signing form is shown and accepted only in a session of a
//! user of the client (`consent`), everyone else gets the sign-in form
//! (`POST …/sign-in`).

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use refshare_app::agreement::Block;
use refshare_app::links::{OnboardingPage, Signing};
use refshare_app::{App, AppError};
use serde::Deserialize;
use uuid::Uuid;

use super::agreement::download_path;
use super::consent::{self, Visitor};
use super::layout::{error_page, page};
use super::signin::pre_binding;
use super::{PageForm, PagePath};

/// The company details that are present: no row for a missing value.
fn details(p: &OnboardingPage) -> Markup {
    let c = &p.client;
    let d = |k: &str| c.details.get(k).and_then(|v| v.as_str()).map(str::trim).filter(|v| !v.is_empty());
    let present = |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let town = [d("zipCode"), d("city")].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let address =
        [d("address"), Some(town.as_str()).filter(|t| !t.is_empty()), d("state")].into_iter().flatten().collect::<Vec<_>>().join(", ");
    let rows = [
        ("Company", Some(c.company_name.clone())),
        ("Country", Some(c.country.clone())),
        ("Registration number", present(&c.registration_number)),
        ("Address", Some(address).filter(|a| !a.is_empty())),
        ("Support e-mail", present(&c.support_email)),
        ("Support phone", d("supportPhone").map(str::to_string)),
    ];
    html! {
        dl {
            @for (label, value) in rows {
                @if let Some(v) = value { dt { (label) } dd { (v) } }
            }
        }
    }
}

/// What the page is about, naming the partner and the platform.
fn intro(app: &App, p: &OnboardingPage) -> Markup {
    html! {
        p {
            (p.partner.company_name) " works with " (app.platform().name) " to recover unpaid invoices for " (p.client.company_name)
            ". Review your company details and sign the Standard Debt Collection Agreement to start."
        }
    }
}

/// A version and its download link (none when that version is no longer kept).
fn version_line(app: &App, version: &str) -> Markup {
    html! {
        "Agreement version " strong { (version) }
        @if app.agreement_version(version).is_some() {
            " · " a href=(download_path(version)) download { "Download the agreement (" (version) ".txt)" }
        }
    }
}

/// The full text of the agreement clients sign now, with its version and download link.
fn agreement(app: &App) -> Markup {
    let a = app.agreement();
    html! {
        h2 #agreement-title { "The agreement" }
        p { (version_line(app, a.version())) }
        div.agreement role="region" aria-labelledby="agreement-title" tabindex="0" {
            @for block in a.blocks() {
                @match block {
                    Block::Heading(h) => h3 { (h) },
                    Block::Paragraph(t) => p { (t) },
                }
            }
        }
    }
}

/// The page: details, the agreement, and `signing` (the signing form, or the sign-in
/// form in its place).
fn form(app: &App, p: &OnboardingPage, errors: &[String], signing: Markup) -> Markup {
    html! {
        h1 { "Complete your onboarding" }
        (intro(app, p))
        (details(p))
        (agreement(app))
        @if !errors.is_empty() {
            div.error role="alert" { ul { @for e in errors { li { (e) } } } }
        }
        (signing)
    }
}

fn page_path(p: &OnboardingPage) -> String {
    format!("/onboarding/{}", p.link.id)
}

fn signin_path(p: &OnboardingPage) -> String {
    format!("/onboarding/{}/sign-in", p.link.id)
}

/// The signing form, in a session of a user of the client (`binding`: its CSRF binding).
fn signing_form(app: &App, binding: &str, p: &OnboardingPage, name: &str) -> Markup {
    let path = page_path(p);
    html! {
        form method="post" action=(path) {
            input type="hidden" name="csrf" value=(app.form_token(binding, &path));
            label for="signer_name" { "Your full name" }
            input #signer_name type="text" name="signer_name" value=(name) required autocomplete="name" maxlength="200";
            label { input type="checkbox" name="accept" value="yes" required; " I have read and accept the agreement on behalf of " (p.client.company_name) "." }
            p { button.primary type="submit" { "Sign and complete onboarding" } }
        }
    }
}

const SIGN_WHAT: &str = "sign the agreement";

/// The page of an incomplete onboarding for this browser: the signing form for a user of
/// the client, else the sign-in form.
async fn signing_page(app: &App, jar: CookieJar, p: &OnboardingPage) -> Response {
    let visitor = match consent::visitor(app, &jar, p.client.id).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let (jar, gate) = match &visitor {
        Visitor::ClientUser(session, user) => {
            (jar, html! { (consent::signed_in_as(session, user)) (signing_form(app, session.csrf_binding(), p, "")) })
        }
        Visitor::Other(_) | Visitor::Anonymous => {
            let other = match &visitor {
                Visitor::Other(s) => Some(s),
                _ => None,
            };
            let (jar, binding) = pre_binding(app, jar);
            (jar, consent::signin_form(app, &binding, &signin_path(p), &p.client.company_name, SIGN_WHAT, other, None))
        }
    };
    (jar, page(app.platform(), "Onboarding", &p.partner, form(app, p, &[], gate))).into_response()
}

/// The confirmation: who signed when, which version, and what happens next.
fn done(app: &App, p: &OnboardingPage) -> Markup {
    let platform = app.platform();
    html! {
        h1 { "Onboarding complete" }
        @if let Some(sig) = &p.client.sdca {
            p {
                (sig.signer_name) " signed the Standard Debt Collection Agreement for " (p.client.company_name)
                " on " (sig.signed_at.format("%Y-%m-%d at %H:%M UTC")) "."
            }
            p { (version_line(app, &sig.version)) }
        }
        h2 { "What happens next" }
        ul {
            li { "Cases that were waiting for the agreement are now active. Each goes to a collection partner of " (platform.name) " that covers the debtor's country; a case that no collection partner covers is closed." }
            li { (p.partner.company_name) " has been told that you signed, and can submit new cases for you." }
            @if let Some(email) = &platform.support_email {
                li { "Questions about your cases or the agreement: write to " a href={ "mailto:" (email) } { (email) } "." }
            }
        }
        @if let Some(url) = p.return_url.as_deref().filter(|u| u.starts_with("https://") || u.starts_with("http://")) {
            p { a href=(url) { "Back to " (p.partner.company_name) } }
        }
    }
}

pub async fn show(State(app): State<App>, jar: CookieJar, PagePath(link_id): PagePath) -> Response {
    let Ok(id) = Uuid::parse_str(&link_id) else { return error_page(AppError::NotFound("onboarding link")) };
    match app.onboarding_page(id).await {
        Ok(p) if p.client.onboarding_completed_at.is_some() => {
            page(app.platform(), "Onboarding", &p.partner, done(&app, &p)).into_response()
        }
        Ok(p) => signing_page(&app, jar, &p).await,
        Err(e) => error_page(e),
    }
}

/// `POST /onboarding/{linkId}/sign-in`: a mail only to a user of the link's client; the
/// same answer for every address.
pub async fn sign_in(
    State(app): State<App>,
    jar: CookieJar,
    PagePath(link_id): PagePath,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<consent::EmailForm>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&link_id) else { return error_page(AppError::NotFound("onboarding link")) };
    let binding = match consent::check_signin_post(&app, &jar, &format!("/onboarding/{id}/sign-in"), &f.csrf) {
        Ok(b) => b,
        Err(e) => return error_page(e),
    };
    match app.request_onboarding_signin(id, &f.email, &ip).await {
        Ok(p) if p.client.onboarding_completed_at.is_some() => {
            page(app.platform(), "Onboarding", &p.partner, done(&app, &p)).into_response()
        }
        Ok(p) => {
            let body = form(&app, &p, &[], consent::sent(&app, &binding, &p.client.company_name));
            page(app.platform(), "Onboarding", &p.partner, body).into_response()
        }
        Err(AppError::Validation(_)) => match app.onboarding_page(id).await {
            Ok(p) => {
                let gate = consent::signin_form(
                    &app,
                    &binding,
                    &signin_path(&p),
                    &p.client.company_name,
                    SIGN_WHAT,
                    None,
                    Some(consent::BAD_ADDRESS),
                );
                (StatusCode::BAD_REQUEST, page(app.platform(), "Onboarding", &p.partner, form(&app, &p, &[], gate))).into_response()
            }
            Err(e) => error_page(e),
        },
        Err(e) => consent::signin_refusal(e),
    }
}

/// The peer address, when the server was started with connection info.
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string());
        Ok(ClientIp(ip.unwrap_or_else(|| "unknown".into())))
    }
}

#[derive(Deserialize)]
pub struct SignForm {
    #[serde(default)]
    signer_name: String,
    accept: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// `POST /onboarding/{linkId}`: only in a session of a user of the link's client, with
/// that session's CSRF token; anything else is 403 and changes nothing.
pub async fn sign(
    State(app): State<App>,
    jar: CookieJar,
    PagePath(link_id): PagePath,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    PageForm(f): PageForm<SignForm>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&link_id) else { return error_page(AppError::NotFound("onboarding link")) };
    let session = match consent::session_for_post(&app, &jar, &format!("/onboarding/{id}"), &f.csrf).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let signing = Signing { signer_name: f.signer_name.clone(), accepted: f.accept.is_some(), ip, user_agent };
    match app.sign_onboarding(id, signing, &session).await {
        Ok(p) => page(app.platform(), "Onboarding complete", &p.partner, done(&app, &p)).into_response(),
        Err(AppError::Validation(errors)) => match app.onboarding_page(id).await {
            Ok(p) => {
                let msgs: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
                let gate = signing_form(&app, session.csrf_binding(), &p, &f.signer_name);
                (StatusCode::BAD_REQUEST, page(app.platform(), "Onboarding", &p.partner, form(&app, &p, &msgs, gate))).into_response()
            }
            Err(e) => error_page(e),
        },
        Err(e) => error_page(e),
    }
}
