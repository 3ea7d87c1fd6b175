//! The partner's disputes (SPEC §7): `GET /dashboard/disputes` (newest first, 50 a
//! page), `GET /dashboard/disputes/{id}` (status, outcome and reason, the check as it stood
//! at filing; another partner's id is the 404 page), and `POST /dashboard/disputes`, the
//! check page's "Raise a dispute" form, through `App::file_dispute`. The form is read and
//! checked for control characters first, then the session, then its CSRF token (bound to
//! the session; missing or wrong: 403), then the user's right to file
//! (`PartnerPermission::FileDisputes`: members 403); filed, it redirects (303) to the
//! dispute's page. A refused dispute (bad field, window closed, one already open) shows the
//! check page again with the reason and the values entered.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::html;
use refshare_app::disputes::{DisputeInput, DisputeView};
use refshare_app::{App, AppError};
use refshare_core::people::PartnerPermission;
use refshare_store::PageReq;
use serde::Deserialize;
use serde_json::Value;

use super::check::{case_path, render, time, Refused, DISPUTE_ACTION};
use super::{money, page_number, pager, DashQuery, Staff, PAGE_SIZE};
use crate::pages::{PageForm, PagePath};

const HERE: &str = "/dashboard/disputes";

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    page: Option<String>,
}

fn status_label(status: &str) -> &str {
    match status {
        "open" => "Open: waiting for the platform's answer",
        "upheld" => "Upheld",
        "rejected" => "Rejected",
        "adjusted" => "Adjusted",
        other => other,
    }
}

pub async fn list(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let page = match page_number(p.page.as_deref()) {
        Ok(n) => n,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let (items, total) = match app.partner_dispute_page(&staff.partner, PageReq { page, size: PAGE_SIZE }).await {
        Ok(x) => x,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let body = html! {
        h1 { "Disputes" }
        p.muted { "Raise a dispute from a case's check page (Cases tab, then the case's reference)." }
        @if items.is_empty() {
            p { "No disputes yet." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Filed" } th scope="col" { "Case" } th scope="col" { "Client" } th scope="col" { "Status" }
                    th scope="col" { "Deadline" } th scope="col" { "Resolved" }
                } }
                tbody {
                    @for v in &items {
                        tr {
                            td { a href={ (HERE) "/" (v.dispute.id) } { (time(v.dispute.created_at)) } }
                            td { a href=(case_path(&v.case_reference)) { (v.case_reference) } }
                            td { (v.dispute.external_tenant_id) }
                            td { (status_label(&v.dispute.status)) }
                            td { (time(v.dispute.deadline)) }
                            td { @if let Some(t) = v.dispute.resolved_at { (time(t)) } @else { "—" } }
                        }
                    }
                }
            }
        }
        (pager(HERE, &[], page, total))
    };
    staff.page(&app, HERE, "Disputes", body)
}

pub async fn show(State(app): State<App>, PagePath(id): PagePath, staff: Staff) -> Response {
    let found = match uuid::Uuid::parse_str(&id) {
        Ok(id) => app.partner_dispute(&staff.partner, id).await,
        Err(_) => Err(AppError::NotFound("dispute")),
    };
    match found {
        Ok(v) => detail(&app, &staff, &v),
        Err(e) => staff.failure(&app, HERE, e),
    }
}

fn detail(app: &App, staff: &Staff, v: &DisputeView) -> Response {
    let d = &v.dispute;
    let text = |x: &Value| x.as_str().unwrap_or_default().to_string();
    let checks: Vec<&Value> = d.check["checks"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    let body = html! {
        p { a href=(HERE) { "← Disputes" } }
        h1 { "Dispute on case " (v.case_reference) }
        dl {
            dt { "Status" } dd { strong { (status_label(&d.status)) } }
            dt { "Case" } dd { a href=(case_path(&v.case_reference)) { (v.case_reference) } }
            dt { "Client" } dd {
                @if !d.company_name.is_empty() { (d.company_name) " " }
                "(" (d.external_tenant_id) ")"
            }
            dt { "Filed" } dd { (time(d.created_at)) }
            dt { "Deadline" } dd { (time(d.deadline)) }
        }
        @if d.status == "open" {
            p.callout { "The platform has not answered yet. Your pending earnings on this case are held in the Disputed stage until it does." }
        } @else {
            h2 { "Outcome" }
            dl {
                dt { "Outcome" } dd { (status_label(&d.status)) }
                dt { "Reason" } dd { (d.resolution_reason.as_deref().filter(|r| !r.is_empty()).unwrap_or("—")) }
                @if let Some(a) = d.resolved_amount_minor { dt { "Amount" } dd { (money(a, v.currency)) } }
                @if let Some(t) = d.resolved_at { dt { "Resolved" } dd { (time(t)) } }
            }
        }
        h2 { "What you filed" }
        dl {
            dt { "How the case was created" } dd { (d.creation_method) }
            dt { "Expected outcome" } dd.pre { (d.expected_outcome) }
            dt { "What you observed" } dd.pre { (d.observation) }
        }
        h2 { "The check when you filed" }
        p { "Verdict: " strong { (text(&d.check["verdict"])) } " " span.tag { (text(&d.check["reason"])) } }
        @if !checks.is_empty() {
            table {
                thead { tr { th scope="col" { "Check" } th scope="col" { "Result" } th scope="col" { "What the system found" } } }
                tbody {
                    @for c in checks {
                        tr { th scope="row" { (text(&c["id"])) } td { (text(&c["status"])) } td { (text(&c["detail"])) } }
                    }
                }
            }
        }
    };
    staff.page(app, HERE, &format!("Dispute on {}", v.case_reference), body)
}

/// The "Raise a dispute" form of the check page.
#[derive(Debug, Default, Deserialize)]
pub struct DisputeForm {
    #[serde(default)]
    csrf: String,
    #[serde(rename = "caseReference")]
    case_reference: Option<String>,
    #[serde(rename = "externalTenantId")]
    external_tenant_id: Option<String>,
    #[serde(rename = "creationMethod")]
    creation_method: Option<String>,
    #[serde(rename = "expectedOutcome")]
    expected_outcome: Option<String>,
    observation: Option<String>,
}

pub async fn file(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<DisputeForm>) -> Response {
    let staff = match Staff::of(&app, &jar).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(e) = app.check_form_token(Some(staff.session.csrf_binding()), DISPUTE_ACTION, &f.csrf) {
        return staff.failure(&app, HERE, e);
    }
    if let Err(e) = app.require_partner_permission(&staff.session, staff.partner.id, PartnerPermission::FileDisputes) {
        return staff.failure(&app, HERE, e);
    }
    let input = DisputeInput {
        case_reference: f.case_reference,
        external_tenant_id: f.external_tenant_id,
        creation_method: f.creation_method,
        expected_outcome: f.expected_outcome,
        observation: f.observation,
    };
    let error = match app.file_dispute(&staff.partner, input.clone()).await {
        Ok(v) => return Redirect::to(&format!("{HERE}/{}", v.dispute.id)).into_response(),
        Err(e) => e,
    };
    // Refused: the check page again with the reason, when the case is one to show.
    let reference = input.case_reference.as_deref().map(str::trim).unwrap_or_default();
    let view = match &error {
        AppError::NotFound(_) => None,
        _ => app.partner_attribution_check(&staff.partner, reference).await.ok(),
    };
    match view {
        None => staff.failure(&app, HERE, error),
        Some(view) => {
            crate::error::log_internal(&error, "dashboard");
            let status = crate::error::status_of(&error);
            render(&app, &staff, &view, Some(Refused { entered: &input, error: &error }), status)
        }
    }
}
