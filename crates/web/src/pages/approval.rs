//! `GET/POST /link-requests/{token}`: a user of the client approves or declines a
//! partner's link request. The page explains the request to anyone holding the URL; the
//! decision form is shown and accepted only in a session of a user of that client
//! (`consent`), and everyone else gets the sign-in form (`POST …/sign-in`). Used,
//! declined or expired tokens show a 410 page without a form.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use refshare_app::links::{ApprovalPage, Decided, Decision};
use refshare_app::{App, AppError, LinkError};
use refshare_core::link::LinkRequestStatus;
use serde::Deserialize;

use super::consent::{self, Visitor};
use super::layout::{error_page, page};
use super::onboarding::ClientIp;
use super::signin::pre_binding;
use super::{PageForm, PagePath};

fn page_path(token: &str) -> String {
    format!("/link-requests/{token}")
}

fn signin_path(token: &str) -> String {
    format!("/link-requests/{token}/sign-in")
}

/// What the request is and what approving means (SPEC §4.5, §5 rule 6).
fn explanation(app: &App, p: &ApprovalPage) -> Markup {
    let partner = &p.partner.company_name;
    html! {
        h1 { (partner) " asks to link your account" }
        p { (partner) " would like to connect to the account of " strong { (p.client.company_name) } "." }
        p {
            "If you approve, the link is " strong { "non-attributed" } ": " (partner)
            " may submit cases for you through its integration and earns a share of " (app.platform().name) "'s fee only on the cases it submits that way. "
            "Cases you create yourself stay yours: " (partner) " does not earn on them."
        }
        p { "If you decline, or do not answer, nothing is linked. This request expires on " (p.request.request.expires_at.format("%Y-%m-%d %H:%M UTC")) "." }
    }
}

fn decision_form(app: &App, binding: &str, token: &str) -> Markup {
    let path = page_path(token);
    html! {
        form method="post" action=(path) {
            input type="hidden" name="csrf" value=(app.form_token(binding, &path));
            button.primary type="submit" name="decision" value="approve" { "Approve" }
            button type="submit" name="decision" value="decline" { "Decline" }
        }
    }
}

/// The confirmation: what happens next.
fn outcome(d: &Decided) -> (StatusCode, Markup) {
    let p = &d.page;
    let partner = &p.partner.company_name;
    match p.status {
        LinkRequestStatus::Approved => (
            StatusCode::OK,
            html! {
                h1 { "Link approved" }
                p { "Your account " (p.client.company_name) " is now linked to " (partner) ". What happens next:" }
                ul {
                    li { "We notify " (partner) " that you approved." }
                    li { (partner) " can now submit cases for you through its integration." }
                    @if d.replayed_cases > 0 {
                        li { "The " (d.replayed_cases) " case(s) " (partner) " sent with its request were created in your account." }
                    }
                    @if d.failed_cases > 0 {
                        li { (d.failed_cases) " case(s) sent with the request could not be created; " (partner) " is told which and why." }
                    }
                    li { "Cases you create yourself stay yours: " (partner) " does not earn on them." }
                }
            },
        ),
        LinkRequestStatus::Declined => (
            StatusCode::OK,
            html! {
                h1 { "Link declined" }
                p { "We tell " (partner) " that you declined. Nothing is linked: " (partner) " cannot submit cases for you or see your account." }
            },
        ),
        _ => (StatusCode::GONE, html! { h1 { "This request has expired" } }),
    }
}

/// The page of a pending request for this browser: the decision form for a user of the
/// client, else the sign-in form.
async fn pending_page(app: &App, jar: CookieJar, p: &ApprovalPage, token: &str) -> Response {
    let visitor = match consent::visitor(app, &jar, p.client.id).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let company = &p.client.company_name;
    let (jar, body) = match &visitor {
        Visitor::ClientUser(session, user) => (
            jar,
            html! {
                (explanation(app, p))
                (consent::signed_in_as(session, user))
                (decision_form(app, session.csrf_binding(), token))
            },
        ),
        Visitor::Other(_) | Visitor::Anonymous => {
            let other = match &visitor {
                Visitor::Other(s) => Some(s),
                _ => None,
            };
            let (jar, binding) = pre_binding(app, jar);
            let form = consent::signin_form(app, &binding, &signin_path(token), company, "approve or decline this request", other, None);
            (jar, html! { (explanation(app, p)) (form) })
        }
    };
    (jar, page(app.platform(), "Link request", &p.partner, body)).into_response()
}

fn unavailable(status: LinkRequestStatus) -> Option<Response> {
    match status {
        LinkRequestStatus::Pending => None,
        LinkRequestStatus::Expired => Some(error_page(LinkError::RequestExpired.into())),
        LinkRequestStatus::Approved => Some(error_page(LinkError::RequestApproved.into())),
        LinkRequestStatus::Declined => Some(error_page(LinkError::RequestDeclined.into())),
    }
}

pub async fn show(State(app): State<App>, jar: CookieJar, PagePath(token): PagePath) -> Response {
    match app.approval_page(&token).await {
        Ok(p) => match unavailable(p.status) {
            Some(r) => r,
            None => pending_page(&app, jar, &p, &token).await,
        },
        Err(e) => error_page(e),
    }
}

/// `POST /link-requests/{token}/sign-in`: a mail only to a user of the request's client;
/// the same answer for every address.
pub async fn sign_in(
    State(app): State<App>,
    jar: CookieJar,
    PagePath(token): PagePath,
    ClientIp(ip): ClientIp,
    PageForm(f): PageForm<consent::EmailForm>,
) -> Response {
    let action = signin_path(&token);
    let binding = match consent::check_signin_post(&app, &jar, &action, &f.csrf) {
        Ok(b) => b,
        Err(e) => return error_page(e),
    };
    match app.request_approval_signin(&token, &f.email, &ip).await {
        Ok(p) => {
            let body = html! { (explanation(&app, &p)) (consent::sent(&app, &binding, &p.client.company_name)) };
            page(app.platform(), "Link request", &p.partner, body).into_response()
        }
        Err(AppError::Validation(_)) => match app.approval_page(&token).await {
            Ok(p) => {
                let form = consent::signin_form(
                    &app,
                    &binding,
                    &action,
                    &p.client.company_name,
                    "approve or decline this request",
                    None,
                    Some(consent::BAD_ADDRESS),
                );
                let body = html! { (explanation(&app, &p)) (form) };
                (StatusCode::BAD_REQUEST, page(app.platform(), "Link request", &p.partner, body)).into_response()
            }
            Err(e) => error_page(e),
        },
        Err(e) => consent::signin_refusal(e),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /link-requests/{token}`: only in a session of a user of the request's client,
/// with that session's CSRF token; anything else is 403 and changes nothing.
pub async fn decide(State(app): State<App>, jar: CookieJar, PagePath(token): PagePath, PageForm(f): PageForm<DecisionForm>) -> Response {
    let session = match consent::session_for_post(&app, &jar, &page_path(&token), &f.csrf).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let decision = match f.decision.as_str() {
        "approve" => Decision::Approve,
        "decline" => Decision::Decline,
        _ => return error_page(AppError::bad_field("decision", "Choose approve or decline.")),
    };
    match app.decide_link_request(&token, decision, &session).await {
        Ok(d) => {
            let (status, body) = outcome(&d);
            (status, page(app.platform(), "Link request", &d.page.partner, body)).into_response()
        }
        Err(e) => error_page(e),
    }
}
