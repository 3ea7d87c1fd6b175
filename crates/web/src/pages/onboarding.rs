//! `GET/POST /onboarding/{linkId}`: company details, the SDCA text, and signing.

use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use refshare_app::agreement::Block;
use refshare_app::links::{OnboardingPage, Signing};
use refshare_app::{App, AppError};
use serde::Deserialize;
use uuid::Uuid;

use super::agreement::download_path;
use super::layout::{error_page, page};
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

fn form(app: &App, p: &OnboardingPage, errors: &[String], name: &str) -> Markup {
    let path = format!("/onboarding/{}", p.link.id);
    html! {
        h1 { "Complete your onboarding" }
        (intro(app, p))
        (details(p))
        (agreement(app))
        @if !errors.is_empty() {
            div.error role="alert" { ul { @for e in errors { li { (e) } } } }
        }
        form method="post" action=(path) {
            input type="hidden" name="csrf" value=(app.page_csrf_token(&path));
            label for="signer_name" { "Your full name" }
            input #signer_name type="text" name="signer_name" value=(name) required autocomplete="name" maxlength="200";
            label { input type="checkbox" name="accept" value="yes" required; " I have read and accept the agreement on behalf of " (p.client.company_name) "." }
            p { button.primary type="submit" { "Sign and complete onboarding" } }
        }
    }
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

pub async fn show(State(app): State<App>, PagePath(link_id): PagePath) -> Response {
    let Ok(id) = Uuid::parse_str(&link_id) else { return error_page(AppError::NotFound("onboarding link")) };
    match app.onboarding_page(id).await {
        Ok(p) => {
            let body = if p.client.onboarding_completed_at.is_some() { done(&app, &p) } else { form(&app, &p, &[], "") };
            page(app.platform(), "Onboarding", &p.partner, body).into_response()
        }
        Err(e) => error_page(e),
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

pub async fn sign(
    State(app): State<App>,
    PagePath(link_id): PagePath,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    PageForm(f): PageForm<SignForm>,
) -> Response {
    let Ok(id) = Uuid::parse_str(&link_id) else { return error_page(AppError::NotFound("onboarding link")) };
    let path = format!("/onboarding/{id}");
    if !app.check_page_csrf(&path, &f.csrf) {
        return error_page(AppError::Forbidden("The form expired. Reload the page and try again.".into()));
    }
    let user_agent = headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let signing = Signing { signer_name: f.signer_name.clone(), accepted: f.accept.is_some(), ip, user_agent };
    match app.sign_onboarding(id, signing).await {
        Ok(p) => page(app.platform(), "Onboarding complete", &p.partner, done(&app, &p)).into_response(),
        Err(AppError::Validation(errors)) => match app.onboarding_page(id).await {
            Ok(p) => {
                let msgs: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
                (StatusCode::BAD_REQUEST, page(app.platform(), "Onboarding", &p.partner, form(&app, &p, &msgs, &f.signer_name)))
                    .into_response()
            }
            Err(e) => error_page(e),
        },
        Err(e) => error_page(e),
    }
}
