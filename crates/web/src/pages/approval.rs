//! `GET/POST /link-requests/{token}`: the client approves or declines a partner's link
//! request. Used, declined or expired tokens show a 410 page without a form.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use refshare_app::links::{ApprovalPage, Decision};
use refshare_app::{App, AppError, LinkError};
use refshare_core::link::LinkRequestStatus;
use serde::Deserialize;

use super::layout::{error_page, page};
use super::{PageForm, PagePath};

fn form(app: &App, p: &ApprovalPage, token: &str) -> Markup {
    let path = format!("/link-requests/{token}");
    html! {
        h1 { (p.partner.company_name) " asks to link your account" }
        p { (p.partner.company_name) " would like to connect to the account of " strong { (p.client.company_name) } "." }
        p { "If you approve, " (p.partner.company_name) " can submit cases for you and earns a share of " (app.platform().name) "'s fee on the cases it submits. Cases you create yourself stay yours: the partner does not earn on them." }
        p { "This request expires on " (p.request.request.expires_at.format("%Y-%m-%d %H:%M UTC")) "." }
        form method="post" action=(path) {
            input type="hidden" name="csrf" value=(app.page_csrf_token(&path));
            button.primary type="submit" name="decision" value="approve" { "Approve" }
            button type="submit" name="decision" value="decline" { "Decline" }
        }
    }
}

fn outcome(p: &ApprovalPage) -> (StatusCode, Markup) {
    match p.status {
        LinkRequestStatus::Approved => {
            (StatusCode::OK, html! { h1 { "Link approved" } p { "Your account is now linked to " (p.partner.company_name) "." } })
        }
        LinkRequestStatus::Declined => {
            (StatusCode::OK, html! { h1 { "Link declined" } p { (p.partner.company_name) " has been told that you declined." } })
        }
        _ => (StatusCode::GONE, html! { h1 { "This request has expired" } }),
    }
}

pub async fn show(State(app): State<App>, PagePath(token): PagePath) -> Response {
    match app.approval_page(&token).await {
        Ok(p) => match p.status {
            LinkRequestStatus::Pending => page(app.platform(), "Link request", &p.partner, form(&app, &p, &token)).into_response(),
            LinkRequestStatus::Expired => error_page(LinkError::RequestExpired.into()),
            LinkRequestStatus::Approved => error_page(LinkError::RequestApproved.into()),
            LinkRequestStatus::Declined => error_page(LinkError::RequestDeclined.into()),
        },
        Err(e) => error_page(e),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    csrf: String,
}

pub async fn decide(State(app): State<App>, PagePath(token): PagePath, PageForm(f): PageForm<DecisionForm>) -> Response {
    if !app.check_page_csrf(&format!("/link-requests/{token}"), &f.csrf) {
        return error_page(AppError::Forbidden("The form expired. Reload the page and try again.".into()));
    }
    let decision = match f.decision.as_str() {
        "approve" => Decision::Approve,
        "decline" => Decision::Decline,
        _ => return error_page(AppError::bad_field("decision", "Choose approve or decline.")),
    };
    match app.decide_link_request(&token, decision).await {
        Ok(p) => {
            let (status, body) = outcome(&p);
            (status, page(app.platform(), "Link request", &p.partner, body)).into_response()
        }
        Err(e) => error_page(e),
    }
}
