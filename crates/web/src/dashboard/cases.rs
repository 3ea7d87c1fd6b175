//! `GET /dashboard/cases` — the Cases tab: the cases the partner sees (SPEC §5), newest
//! first, searchable by reference, debtor name or client name (`q`) and filtered by
//! lifecycle and creation source; `GET /dashboard/cases.csv` gives every matching case
//! (keyset pages).

use axum::extract::State;
use axum::response::Response;
use maud::html;
use refshare_app::partner_cases::PartnerCase;
use refshare_app::{App, AppError};
use refshare_core::case::{CaseSource, Lifecycle};
use refshare_store::{CaseFilter, PageReq};
use serde::Deserialize;

use super::csv::{Csv, Field};
use super::{csv_response, day, href, money, page_number, pager, search_text, DashQuery, Staff, PAGE_SIZE};

const HERE: &str = "/dashboard/cases";

/// Cases per keyset page of the export, and the most pages it reads.
const EXPORT_CHUNK: u32 = 1_000;
const EXPORT_MAX_PAGES: u32 = 500;

const LIFECYCLES: [Lifecycle; 4] = [Lifecycle::PendingContractSigning, Lifecycle::Active, Lifecycle::Paused, Lifecycle::Closed];

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    q: Option<String>,
    lifecycle: Option<String>,
    source: Option<String>,
    page: Option<String>,
}

fn filter(p: &Params) -> Result<(CaseFilter, Vec<(&'static str, String)>), AppError> {
    let mut f = CaseFilter::default();
    let mut links = Vec::new();
    if let Some(q) = search_text(p.q.as_deref())? {
        links.push(("q", q.clone()));
        f.query = Some(q);
    }
    if let Some(l) = p.lifecycle.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let lifecycle =
            LIFECYCLES.into_iter().find(|x| x.as_str() == l).ok_or_else(|| AppError::bad_field("lifecycle", "is not a lifecycle"))?;
        f.lifecycles = vec![lifecycle];
        links.push(("lifecycle", lifecycle.as_str().to_string()));
    }
    if let Some(v) = p.source.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let source = CaseSource::parse(v).ok_or_else(|| AppError::bad_field("source", "is not a case source"))?;
        f.sources = vec![source];
        links.push(("source", source.as_str().to_string()));
    }
    Ok((f, links))
}

fn csv_line(c: &mut Csv, pc: &PartnerCase) {
    let amount = refshare_core::money::format_minor(pc.case.amount_minor, pc.case.currency.exponent());
    c.line(&[
        Field::Text(&pc.case.reference),
        Field::Text(&pc.client.company_name),
        Field::Text(&pc.link.external_tenant_id),
        Field::Text(&pc.case.debtor_name),
        Field::Plain(&amount),
        Field::Plain(pc.case.currency.code()),
        Field::Plain(pc.case.lifecycle.as_str()),
        Field::Plain(pc.case.source.as_str()),
        Field::Plain(&day(pc.case.created_at)),
    ]);
}

pub async fn list(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let ((f, links), page) = match filter(&p).and_then(|f| Ok((f, page_number(p.page.as_deref())?))) {
        Ok(x) => x,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let listing = match app.partner_case_list(&staff.partner, &f, PageReq { page, size: PAGE_SIZE }).await {
        Ok(l) => l,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let chosen = f.lifecycles.first().copied();
    let chosen_source = f.sources.first().copied();
    let s = &listing.summary;
    let body = html! {
        h1 { "Cases" }
        ul.figures {
            li { span.n { (s.total) } span.l { "cases you see" } }
            li { span.n { (s.this_month) } span.l { "created this month" } }
            li { span.n { (s.active) } span.l { "active" } }
            li { span.n { (s.pending) } span.l { "awaiting the agreement" } }
        }
        form.filters method="get" action=(HERE) role="search" {
            div { label for="q" { "Reference, debtor or client" } input #q type="text" name="q" value=(f.query.clone().unwrap_or_default()) maxlength="100"; }
            div {
                label for="lifecycle" { "Lifecycle" }
                select #lifecycle name="lifecycle" {
                    option value="" { "All" }
                    @for l in LIFECYCLES { option value=(l.as_str()) selected[chosen == Some(l)] { (l.as_str()) } }
                }
            }
            div {
                label for="source" { "Source" }
                select #source name="source" {
                    option value="" { "All" }
                    @for c in CaseSource::ALL { option value=(c.as_str()) selected[chosen_source == Some(c)] { (c.as_str()) } }
                }
            }
            div { button.primary type="submit" { "Search" } }
        }
        p { a href=(href("/dashboard/cases.csv", &links)) download { "Download these cases as CSV" } }
        (super::check::lookup_form())
        @if listing.items.is_empty() {
            p { "No cases match." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Reference" } th scope="col" { "Client" } th scope="col" { "Debtor" } th.num scope="col" { "Amount" }
                    th scope="col" { "Lifecycle" } th scope="col" { "Source" } th scope="col" { "Created" }
                } }
                tbody {
                    @for pc in &listing.items {
                        tr {
                            td { a href=(super::check::case_path(&pc.case.reference)) { (pc.case.reference) } }
                            td { (pc.client.company_name) }
                            td { (pc.case.debtor_name) }
                            td.num { (money(pc.case.amount_minor, pc.case.currency)) }
                            td { (pc.case.lifecycle.as_str()) }
                            td { (pc.case.source.as_str()) }
                            td { (day(pc.case.created_at)) }
                        }
                    }
                }
            }
        }
        (pager(HERE, &links, page, listing.total))
    };
    staff.page(&app, HERE, "Cases", body)
}

pub async fn export(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let (mut f, _) = match filter(&p) {
        Ok(x) => x,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let mut c = Csv::default();
    c.line(
        &["reference", "client", "external_tenant_id", "debtor", "amount", "currency", "lifecycle", "source", "created_date"]
            .map(Field::Plain),
    );
    for _ in 0..EXPORT_MAX_PAGES {
        let listing = match app.partner_case_list(&staff.partner, &f, PageReq { page: 1, size: EXPORT_CHUNK }).await {
            Ok(l) => l,
            Err(e) => return staff.failure(&app, HERE, e),
        };
        for pc in &listing.items {
            csv_line(&mut c, pc);
        }
        match listing.items.last() {
            Some(last) if listing.items.len() == EXPORT_CHUNK as usize => f.after = Some(f.cursor_of(&last.case)),
            _ => break,
        }
    }
    csv_response("cases.csv", c.finish())
}
