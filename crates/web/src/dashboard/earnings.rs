//! `GET /dashboard/earnings` — the Earnings tab: the partner's live earnings, newest
//! payment first, searchable by case reference (`q`), filtered by stage and payment month,
//! with the seven-bucket summary of the filtered rows; `GET /dashboard/earnings.csv` gives
//! every filtered row (read in keyset pages).

use axum::extract::State;
use axum::response::Response;
use chrono::{Months, NaiveDate, TimeZone, Utc};
use maud::html;
use refshare_app::reporting::{ReportPage, TransactionFilter, TransactionRow};
use refshare_app::{App, AppError};
use refshare_core::stage::RevenueStage;
use refshare_store::PageReq;
use serde::Deserialize;

use super::csv::{Csv, Field};
use super::{csv_response, day, href, money, page_number, pager, search_text, usd, DashQuery, Staff, PAGE_SIZE};

const HERE: &str = "/dashboard/earnings";

/// Rows per keyset page of the export, and the most rows it writes.
const EXPORT_CHUNK: u32 = 1_000;
const EXPORT_MAX_ROWS: usize = 500_000;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    q: Option<String>,
    stage: Option<String>,
    month: Option<String>,
    page: Option<String>,
}

/// The filters as the report takes them, and as they go back into links.
struct Filters {
    report: TransactionFilter,
    links: Vec<(&'static str, String)>,
}

fn filters(p: &Params) -> Result<Filters, AppError> {
    let mut report = TransactionFilter::default();
    let mut links = Vec::new();
    if let Some(q) = search_text(p.q.as_deref())? {
        links.push(("q", q.clone()));
        report.search = Some(q);
    }
    if let Some(s) = p.stage.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let stage = RevenueStage::parse(s).ok_or_else(|| AppError::bad_field("stage", "is not one of the seven stages"))?;
        report.stages = vec![stage];
        links.push(("stage", stage.as_str().to_string()));
    }
    if let Some(m) = p.month.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let first = NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .ok()
            .filter(|d| d.format("%Y-%m").to_string() == m)
            .ok_or_else(|| AppError::bad_field("month", "must be a month written YYYY-MM"))?;
        let next = first.checked_add_months(Months::new(1)).ok_or_else(|| AppError::bad_field("month", "is out of range"))?;
        let at = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"));
        report.from = Some(at(first));
        // The report's bounds are inclusive.
        report.to = Some(at(next) - chrono::Duration::milliseconds(1));
        links.push(("month", m.to_string()));
    }
    Ok(Filters { report, links })
}

pub async fn list(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let (f, page) = match filters(&p).and_then(|f| Ok((f, page_number(p.page.as_deref())?))) {
        Ok(x) => x,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let report = match app.partner_transactions(&staff.partner, &f.report, ReportPage::Offset(PageReq { page, size: PAGE_SIZE })).await {
        Ok(r) => r,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let q = p.q.clone().unwrap_or_default();
    let chosen_stage = f.report.stages.first().copied();
    let month = f.links.iter().find(|(k, _)| *k == "month").map(|(_, v)| v.clone()).unwrap_or_default();
    let body = html! {
        h1 { "Earnings" }
        form.filters method="get" action=(HERE) role="search" {
            div { label for="q" { "Case reference" } input #q type="text" name="q" value=(q) maxlength="100"; }
            div {
                label for="stage" { "Stage" }
                select #stage name="stage" {
                    option value="" { "All stages" }
                    @for s in RevenueStage::ALL {
                        option value=(s.as_str()) selected[chosen_stage == Some(s)] { (s.label()) }
                    }
                }
            }
            div { label for="month" { "Payment month" } input #month type="text" name="month" value=(month) placeholder="YYYY-MM" maxlength="7"; }
            div { button.primary type="submit" { "Show" } }
        }
        h2 { "Summary of these earnings" }
        ul.figures {
            @for (stage, b) in &report.summary {
                li { span.n { (usd(Some(b.usd_minor))) @if b.usd_partial { "*" } } span.l { (stage.label()) " · " (b.count) } }
            }
        }
        p { a href=(href("/dashboard/earnings.csv", &f.links)) download { "Download these earnings as CSV" } }
        @if report.rows.is_empty() {
            p { "No earnings match." }
        } @else {
            table {
                thead { tr {
                    th scope="col" { "Case" } th scope="col" { "Client" } th scope="col" { "Paid" }
                    th.num scope="col" { "Fee" } th.num scope="col" { "Fee (USD)" } th scope="col" { "Stage" } th scope="col" { "Estimate" }
                } }
                tbody {
                    @for r in &report.rows {
                        tr {
                            td { (r.case.reference) }
                            td { (r.client.company_name) }
                            td { (day(r.payment.paid_at)) }
                            td.num { (money(r.earning.amount_minor, r.earning.currency)) }
                            td.num { (usd(r.referral_fee_usd_minor)) }
                            td { span.tag { (r.stage.label()) } }
                            td { @if r.is_estimate { span.tag.warn title="The exchange rate is locked when the collection partner pays its commission" { "Estimate" } } }
                        }
                    }
                }
            }
        }
        (pager(HERE, &f.links, page, report.total))
    };
    staff.page(&app, HERE, "Earnings", body)
}

fn csv_line(c: &mut Csv, r: &TransactionRow) {
    let amount = refshare_core::money::format_minor(r.earning.amount_minor, r.earning.currency.exponent());
    let usd = r.referral_fee_usd_minor.map(|u| refshare_core::money::format_minor(u, 2)).unwrap_or_default();
    c.line(&[
        Field::Text(&r.case.reference),
        Field::Text(&r.client.company_name),
        Field::Text(&r.external_tenant_id),
        Field::Plain(&day(r.payment.paid_at)),
        Field::Plain(r.earning.kind.as_str()),
        Field::Plain(&amount),
        Field::Plain(r.earning.currency.code()),
        Field::Plain(&usd),
        Field::Plain(r.stage.label()),
        Field::Plain(if r.is_estimate { "true" } else { "false" }),
    ]);
}

pub async fn export(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let f = match filters(&p) {
        Ok(f) => f,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let mut c = Csv::default();
    c.line(
        &["case_reference", "client", "external_tenant_id", "paid_date", "kind", "fee", "currency", "fee_usd", "stage", "estimate"]
            .map(Field::Plain),
    );
    let mut after = None;
    let mut written = 0usize;
    loop {
        let report = match app.partner_transactions(&staff.partner, &f.report, ReportPage::After { after, limit: EXPORT_CHUNK }).await {
            Ok(r) => r,
            Err(e) => return staff.failure(&app, HERE, e),
        };
        for r in &report.rows {
            csv_line(&mut c, r);
        }
        written += report.rows.len();
        match report.rows.last() {
            Some(last) if report.rows.len() == EXPORT_CHUNK as usize && written < EXPORT_MAX_ROWS => after = Some(last.cursor()),
            _ => break,
        }
    }
    csv_response("earnings.csv", c.finish())
}
