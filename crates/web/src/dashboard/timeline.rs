//! `GET /dashboard/clients/{externalTenantId}` — a client's timeline: the app's
//! `Timeline` view (the same as `GET /referral-api/clients/{externalTenantId}/timeline`)
//! as a table in time order, each event with its explanation. Another partner's tenant,
//! or an unknown one, is the dashboard's 404 page, with no hint.

use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use refshare_app::timeline::TimelineKind;
use refshare_app::{App, AppError};
use refshare_core::parse::{check_controls, TextKind};

use super::attention::time;
use super::Staff;

const TAB: &str = "/dashboard/clients";

pub async fn show(State(app): State<App>, staff: Staff, Path(tenant): Path<String>) -> Response {
    if let Err(e) = check_controls(&tenant, TextKind::Line) {
        return staff.failure(&app, TAB, AppError::bad_field("externalTenantId", e.to_string()));
    }
    let t = match app.client_timeline(&staff.partner, &tenant).await {
        Ok(t) => t,
        Err(e) => return staff.failure(&app, TAB, e),
    };
    let title = t.company_name.clone().unwrap_or_else(|| t.external_tenant_id.clone());
    let body = html! {
        p { a href=(TAB) { "← Clients" } }
        h1 { (title) }
        p { "External tenant ID " code { (t.external_tenant_id) } " · as of " (time(t.as_of)) }
        @if t.company_name.is_none() {
            p.muted { "You have a link request with this client but no link: its company details, onboarding and cases are shown once it approves." }
        }
        @if (t.cases_shown as i64) < t.cases_total || (t.payouts_shown as i64) < t.payouts_total {
            p.muted { "Showing the newest " (t.cases_shown) " of " (t.cases_total) " cases and the newest " (t.payouts_shown) " of "
                (t.payouts_total) " payouts; the Cases and Earnings tabs list them all." }
        }
        h2 { "Timeline" }
        @if t.items.is_empty() {
            p { "Nothing has happened with this client yet." }
        } @else {
            table {
                caption.muted { "Oldest first" }
                thead { tr {
                    th scope="col" { "When" } th scope="col" { "What" } th scope="col" { "Case" } th scope="col" { "Explanation" }
                } }
                tbody {
                    @for i in &t.items {
                        tr data-kind=(i.kind.as_str()) {
                            td { time datetime=(crate::wire::ts(i.at)) { (i.at.format("%Y-%m-%d %H:%M")) } }
                            td {
                                (i.kind.label())
                                @if i.kind == TimelineKind::Linked {
                                    br; span.tag { @if i.attributed == Some(true) { "Attributed" } @else { "Non-attributed" } }
                                }
                                @if let (TimelineKind::Payout, Some(r)) = (i.kind, i.reason) {
                                    br; span.tag.warn[i.attributed != Some(true)] { code { (r.as_str()) } }
                                }
                            }
                            td {
                                @if let Some(r) = &i.case_reference { a href=(super::check::case_path(r)) { (r) } } @else { "—" }
                                @if let Some(s) = i.case_source { br; span.muted { (s.as_str()) } }
                            }
                            td { (i.explanation) }
                        }
                    }
                }
            }
        }
    };
    staff.page(&app, TAB, &title, body)
}
