//! `GET /dashboard`: the seven revenue buckets under their partner-facing names (count and
//! USD, from the report's summary) and the partner's earnings per month over the last
//! twelve months as a chart with its table; first, the Attention list (`attention`).

use axum::extract::State;
use axum::response::Response;
use maud::html;
use refshare_app::reporting::{ReportPage, TransactionFilter};
use refshare_app::App;
use refshare_store::PageReq;

use super::chart::{bars, Bar};
use super::{usd, Staff};

/// Months the chart shows.
const CHART_MONTHS: u32 = 12;

pub async fn show(State(app): State<App>, staff: Staff) -> Response {
    let here = "/dashboard";
    let report = match app
        .partner_transactions(&staff.partner, &TransactionFilter::default(), ReportPage::Offset(PageReq { page: 1, size: 1 }))
        .await
    {
        Ok(r) => r,
        Err(e) => return staff.failure(&app, here, e),
    };
    let months = match app.earnings_by_month(&staff.partner, CHART_MONTHS).await {
        Ok(m) => m,
        Err(e) => return staff.failure(&app, here, e),
    };
    let attention = match app.partner_attention(&staff.partner).await {
        Ok(a) => a,
        Err(e) => return staff.failure(&app, here, e),
    };
    let chart: Vec<Bar> = months
        .iter()
        .map(|m| Bar {
            label: m.month.get(2..).unwrap_or(&m.month).to_string(),
            value_minor: m.usd_minor,
            title: format!("{}: {} from {} earnings", m.month, usd(Some(m.usd_minor)), m.count),
        })
        .collect();
    let body = html! {
        h1 { "Overview" }
        p.muted { "Hello " (staff.user.user_name) ". These are " (staff.partner.company_name) "'s earnings on the platform, in US dollars." }
        (super::attention::section(&attention))
        h2 #buckets { "Where your fees stand" }
        ul.figures {
            @for (stage, b) in &report.summary {
                li {
                    span.n { (usd(Some(b.usd_minor))) @if b.usd_partial { "*" } }
                    span.l { a href=(super::href("/dashboard/earnings", &[("stage", stage.as_str().to_string())])) { (stage.label()) } " · " (b.count) }
                }
            }
        }
        @if report.usd_partial() {
            p.muted { "* Some amounts have no USD figure yet: the exchange rate for "
                @for (i, m) in report.missing_fx_rates.iter().enumerate() { @if i > 0 { ", " } (m.currency.code()) " on " (m.date) }
                " is not loaded." }
        }
        h2 #by-month { "Earnings per month" }
        (bars("Earnings per month, last 12 months, in US dollars", &chart))
        table {
            caption.muted { "Live earnings by payment month" }
            thead { tr { th scope="col" { "Month" } th.num scope="col" { "Earnings" } th.num scope="col" { "Fees (USD)" } } }
            tbody {
                @for m in &months {
                    tr {
                        td { a href=(super::href("/dashboard/earnings", &[("month", m.month.clone())])) { (m.month) } }
                        td.num { (m.count) }
                        td.num { (usd(Some(m.usd_minor))) @if m.usd_partial { "*" } }
                    }
                }
            }
        }
    };
    staff.page(&app, here, "Overview", body)
}
