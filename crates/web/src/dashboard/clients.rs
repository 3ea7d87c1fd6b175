//! `GET /dashboard/clients` — the Clients tab: the partner's actively linked clients,
//! newest link first, searchable by company name or external tenant id (`q`), with the
//! Onboarding Status (Pending with the onboarding URL to send again, or Complete) and the
//! Attribution Status; `GET /dashboard/clients.csv` gives every matching client. Each
//! client links to its timeline (`timeline`). Below, the link requests that have not led to
//! a link yet: awaiting approval (with their expiry), or lately declined or expired.

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use refshare_app::attention::RequestList;
use refshare_app::clients::ClientFilter;
use refshare_app::views::ClientState;
use refshare_app::{App, AppError};
use refshare_core::link::LinkRequestStatus;
use refshare_store::PageReq;
use serde::Deserialize;

use super::attention::{time, timeline_href};
use super::csv::{Csv, Field};
use super::{csv_response, day, href, page_number, pager, search_text, DashQuery, Staff, PAGE_SIZE};

const HERE: &str = "/dashboard/clients";

/// Clients per page of the export, and the most pages it reads.
const EXPORT_CHUNK: u32 = 500;
const EXPORT_MAX_PAGES: u32 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    q: Option<String>,
    page: Option<String>,
}

fn filter(p: &Params) -> Result<(ClientFilter, Vec<(&'static str, String)>), AppError> {
    let q = search_text(p.q.as_deref())?;
    let links = q.iter().map(|q| ("q", q.clone())).collect();
    Ok((ClientFilter { query: q, sort: "dateCreated:desc".into(), ..ClientFilter::default() }, links))
}

fn onboarding(s: &ClientState) -> Markup {
    match (&s.client.onboarding_completed_at, &s.onboarding_url) {
        (Some(at), _) => html! { "Complete" span.muted { " since " (day(*at)) } },
        (None, Some(url)) => html! { span.tag.warn { "Pending" } br; a href=(url) { "Onboarding link" } },
        (None, None) => html! { span.tag.warn { "Pending" } },
    }
}

fn attribution(s: &ClientState) -> &'static str {
    if s.client.is_attributed {
        "Attributed"
    } else {
        "Non-attributed"
    }
}

/// The link requests that have not led to a link: existing clients you asked to link.
fn link_requests(r: &RequestList) -> Markup {
    html! {
        h2 #link-requests { "Link requests" }
        @if r.items.is_empty() {
            p.muted { "No link request is awaiting approval, and none was declined or expired in the last 30 days." }
        } @else {
            p.muted { "Existing clients you asked to link. Nothing they do earns for you until they approve; their details show once they do." }
            table {
                thead { tr {
                    th scope="col" { "External tenant ID" } th scope="col" { "State" } th scope="col" { "Requested" } th scope="col" { "Expires" }
                } }
                tbody {
                    @for s in &r.items {
                        tr {
                            td { a href=(timeline_href(&s.request.external_tenant_id)) { code { (s.request.external_tenant_id) } } }
                            td {
                                @match s.state {
                                    LinkRequestStatus::Pending => span.tag.warn { "Awaiting approval" },
                                    LinkRequestStatus::Declined => span.tag { "Declined" },
                                    LinkRequestStatus::Expired => span.tag { "Expired" },
                                    LinkRequestStatus::Approved => span.tag { "Approved" },
                                }
                            }
                            td { (time(s.request.created_at)) }
                            td { (time(s.request.expires_at)) }
                        }
                    }
                }
            }
            @if r.truncated { p.muted { "Only the first 25 are shown." } }
        }
    }
}

pub async fn list(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let ((f, links), page) = match filter(&p).and_then(|f| Ok((f, page_number(p.page.as_deref())?))) {
        Ok(x) => x,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let listing = match app.partner_clients(&staff.partner, &f, PageReq { page, size: PAGE_SIZE }).await {
        Ok(l) => l,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let requests = match app.partner_open_link_requests(&staff.partner).await {
        Ok(r) => r,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let s = &listing.summary;
    let body = html! {
        h1 { "Clients" }
        ul.figures {
            li { span.n { (s.total_clients) } span.l { "linked clients" } }
            li { span.n { (s.attributed_clients) } span.l { "attributed" } }
            li { span.n { (s.onboarding_pending) } span.l { "onboarding pending" } }
            li { span.n { (s.total_cases) } span.l { "cases you see" } }
        }
        form.filters method="get" action=(HERE) role="search" {
            div { label for="q" { "Company name or external tenant ID" } input #q type="text" name="q" value=(f.query.clone().unwrap_or_default()) maxlength="100"; }
            div { button.primary type="submit" { "Search" } }
        }
        p { a href=(href("/dashboard/clients.csv", &links)) download { "Download these clients as CSV" } }
        @if listing.items.is_empty() {
            p { "No clients match." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Company" } th scope="col" { "External tenant ID" } th scope="col" { "Onboarding Status" }
                    th scope="col" { "Attribution Status" } th scope="col" { "Link" } th.num scope="col" { "Cases" }
                } }
                tbody {
                    @for c in &listing.items {
                        tr {
                            td { (c.client.company_name) }
                            td { a href=(timeline_href(&c.client.external_tenant_id)) { code { (c.client.external_tenant_id) } } }
                            td { (onboarding(c)) }
                            td { (attribution(c)) }
                            td { (c.client.status.as_str()) span.muted { " since " (day(c.client.linked_at)) } }
                            td.num { (c.cases_total) }
                        }
                    }
                }
            }
        }
        (pager(HERE, &links, page, listing.total))
        (link_requests(&requests))
    };
    staff.page(&app, HERE, "Clients", body)
}

pub async fn export(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let (f, _) = match filter(&p) {
        Ok(x) => x,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let mut c = Csv::default();
    c.line(
        &[
            "company_name",
            "external_tenant_id",
            "onboarding_status",
            "onboarding_url",
            "attribution_status",
            "link_status",
            "linked_date",
            "cases",
        ]
        .map(Field::Plain),
    );
    for page in 1..=EXPORT_MAX_PAGES {
        let listing = match app.partner_clients(&staff.partner, &f, PageReq { page, size: EXPORT_CHUNK }).await {
            Ok(l) => l,
            Err(e) => return staff.failure(&app, HERE, e),
        };
        for s in &listing.items {
            let status = if s.client.onboarding_completed_at.is_some() { "Complete" } else { "Pending" };
            c.line(&[
                Field::Text(&s.client.company_name),
                Field::Text(&s.client.external_tenant_id),
                Field::Plain(status),
                Field::Plain(s.onboarding_url.as_deref().unwrap_or("")),
                Field::Plain(attribution(s)),
                Field::Plain(s.client.status.as_str()),
                Field::Plain(&day(s.client.linked_at)),
                Field::Plain(&s.cases_total.to_string()),
            ]);
        }
        if (listing.items.len() as u32) < EXPORT_CHUNK {
            break;
        }
    }
    csv_response("clients.csv", c.finish())
}
