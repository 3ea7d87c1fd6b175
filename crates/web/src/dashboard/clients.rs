//! `GET /dashboard/clients` — the Clients tab: the partner's actively linked clients,
//! newest link first, searchable by company name or external tenant id (`q`), with the
//! Onboarding Status (Pending with the onboarding URL to send again, or Complete) and the
//! Attribution Status; `GET /dashboard/clients.csv` gives every matching client.

use axum::extract::State;
use axum::response::Response;
use maud::{html, Markup};
use refshare_app::clients::ClientFilter;
use refshare_app::views::ClientState;
use refshare_app::{App, AppError};
use refshare_store::PageReq;
use serde::Deserialize;

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
    if s.link.is_attributed {
        "Attributed"
    } else {
        "Non-attributed"
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
                            td { code { (c.link.external_tenant_id) } }
                            td { (onboarding(c)) }
                            td { (attribution(c)) }
                            td { (c.link.current_status().as_str()) span.muted { " since " (day(c.link.linked_at)) } }
                            td.num { (c.cases_total) }
                        }
                    }
                }
            }
        }
        (pager(HERE, &links, page, listing.total))
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
                Field::Text(&s.link.external_tenant_id),
                Field::Plain(status),
                Field::Plain(s.onboarding_url.as_deref().unwrap_or("")),
                Field::Plain(attribution(s)),
                Field::Plain(s.link.current_status().as_str()),
                Field::Plain(&day(s.link.linked_at)),
                Field::Plain(&s.cases_total.to_string()),
            ]);
        }
        if (listing.items.len() as u32) < EXPORT_CHUNK {
            break;
        }
    }
    csv_response("clients.csv", c.finish())
}
