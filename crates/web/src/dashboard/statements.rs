//! The partner's monthly statement (SPEC §7) from `App::statement`:
//! `GET /dashboard/statements/{YYYY-MM}` (HTML: totals per stage and currency, the
//! earnings, the reversals and the payouts on the partner's clients that did not earn,
//! each with its reason and what to do), the same as CSV with `{YYYY-MM}.csv` or
//! `?format=csv`. `GET /dashboard/statements` is the month picker's target: to the chosen
//! month (`?month=`), or to the current one. A month that is not `YYYY-MM` is a 400 page
//! naming the parameter (`period` in the path, `month` in the picker).

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use refshare_app::revenue::Period;
use refshare_app::statements::{Statement, StatementLine};
use refshare_app::{App, AppError};
use refshare_core::attribution::Reason;
use refshare_core::money::format_minor;
use serde::Deserialize;

use super::check::{case_path, time};
use super::csv::{Csv, Field};
use super::{csv_response, day, money, usd, DashQuery, Staff};
use crate::pages::PagePath;

const HERE: &str = "/dashboard/statements";

#[derive(Debug, Default, Deserialize)]
pub struct PickParams {
    month: Option<String>,
}

/// The month picker: to `/dashboard/statements/{month}`; without one, the current month.
pub async fn pick(State(app): State<App>, DashQuery(p): DashQuery<PickParams>, staff: Staff) -> Response {
    let period = match p.month.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        None => Period::of(app.now()),
        Some(m) => match Period::parse(m) {
            Some(p) => p,
            None => return staff.failure(&app, HERE, AppError::bad_field("month", "must be a month, YYYY-MM")),
        },
    };
    Redirect::to(&format!("{HERE}/{period}")).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ShowParams {
    format: Option<String>,
}

pub async fn show(State(app): State<App>, PagePath(raw): PagePath, DashQuery(q): DashQuery<ShowParams>, staff: Staff) -> Response {
    let (period, mut csv) = match raw.strip_suffix(".csv") {
        Some(p) => (p.to_string(), true),
        None => (raw, false),
    };
    match q.format.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        None => {}
        Some(f) if f.eq_ignore_ascii_case("csv") => csv = true,
        Some(f) if f.eq_ignore_ascii_case("html") => {}
        Some(_) => return staff.failure(&app, HERE, AppError::bad_field("format", "must be html or csv")),
    }
    let s = match app.statement(&staff.partner, &period).await {
        Ok(s) => s,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    if csv {
        return csv_response(&format!("statement-{}.csv", s.period), to_csv(&s));
    }
    page(&app, &staff, &s)
}

/// Header of the CSV: the Referral API's columns plus the payment amount.
const CSV_HEADER: [&str; 11] = [
    "section",
    "date",
    "case_reference",
    "external_tenant_id",
    "kind",
    "stage",
    "amount",
    "currency",
    "amount_usd",
    "reason",
    "payment_amount",
];

fn to_csv(s: &Statement) -> String {
    let mut c = Csv::default();
    c.line(&CSV_HEADER.map(Field::Plain));
    for l in s.lines() {
        let e = l.currency.exponent();
        let date = crate::wire::ts(l.date);
        let amount = l.amount_minor.map(|a| format_minor(a, e)).unwrap_or_default();
        let amount_usd = l.amount_usd_minor.map(|a| format_minor(a, 2)).unwrap_or_default();
        let payment = l.payment_amount_minor.map(|a| format_minor(a, e)).unwrap_or_default();
        c.line(&[
            Field::Plain(l.section.as_str()),
            Field::Plain(&date),
            Field::Text(&l.case_reference),
            Field::Text(&l.external_tenant_id),
            Field::Plain(&l.kind),
            Field::Plain(l.stage.map(|s| s.label()).unwrap_or_default()),
            Field::Plain(&amount),
            Field::Plain(l.currency.code()),
            Field::Plain(&amount_usd),
            Field::Text(&l.reason),
            Field::Plain(&payment),
        ]);
    }
    c.finish()
}

/// The lines of one section as a table (the fee columns for earnings and reversals, the
/// payment and what to do for payouts that did not earn).
fn lines(items: &[StatementLine], not_earned: bool) -> Markup {
    html! {
        table {
            thead { tr {
                th scope="col" { "Date" } th scope="col" { "Case" } th scope="col" { "Client" }
                @if not_earned {
                    th.num scope="col" { "Payment" } th scope="col" { "Reason" } th scope="col" { "What to do" }
                } @else {
                    th scope="col" { "Kind" } th scope="col" { "Stage" } th.num scope="col" { "Fee" } th.num scope="col" { "USD" } th scope="col" { "Reason" }
                }
            } }
            tbody {
                @for l in items {
                    tr {
                        td { (time(l.date)) }
                        td { a href=(case_path(&l.case_reference)) { (l.case_reference) } }
                        td { (l.external_tenant_id) }
                        @if not_earned {
                            td.num { @if let Some(a) = l.payment_amount_minor { (money(a, l.currency)) } @else { "—" } }
                            td { span.tag { (l.reason) } }
                            td { (Reason::parse(&l.reason).map(|r| r.resolution()).unwrap_or("—")) }
                        } @else {
                            td { (l.kind) }
                            td { (l.stage.map(|s| s.label()).unwrap_or("—")) }
                            td.num { @if let Some(a) = l.amount_minor { (money(a, l.currency)) } @else { "—" } }
                            td.num { (usd(l.amount_usd_minor)) }
                            td { (l.reason) }
                        }
                    }
                }
            }
        }
    }
}

fn page(app: &App, staff: &Staff, s: &Statement) -> Response {
    let period = s.period.to_string();
    let prev = format!("{HERE}/{}", s.period.previous());
    let next = format!("{HERE}/{}", s.period.next());
    let body = html! {
        h1 { "Statement " (period) }
        p.muted { "Calendar month in UTC, from " (day(s.period.start())) " to the end of the month." }
        form.filters method="get" action=(HERE) {
            div { label for="month" { "Month" } input #month type="month" name="month" value=(period) required; }
            div { button.primary type="submit" { "Show" } }
        }
        nav.pager aria-label="Months" {
            a href=(prev) rel="prev" { "← Previous month" }
            a href=(next) rel="next" { "Next month →" }
            a href={ (HERE) "/" (period) ".csv" } download { "Download this statement as CSV" }
        }
        h2 { "Totals" }
        @if s.totals.is_empty() {
            p { "Nothing was earned this month." }
        } @else {
            table {
                thead { tr { th scope="col" { "Stage" } th.num scope="col" { "Earnings" } th.num scope="col" { "Amount" } th.num scope="col" { "USD" } } }
                tbody {
                    @for t in &s.totals {
                        tr {
                            td { (t.stage.label()) }
                            td.num { (t.count) }
                            td.num { (money(t.amount_minor, t.currency)) }
                            td.num { (usd(Some(t.amount_usd_minor))) @if t.usd_partial { " (partial)" } }
                        }
                    }
                }
            }
            p { "Total: " strong { (usd(Some(s.total_usd_minor))) } @if s.usd_partial { " (partial: an exchange rate is missing)" } }
        }
        @if !s.missing_fx_rates.is_empty() {
            p.callout {
                "Exchange rates missing: "
                @for (i, m) in s.missing_fx_rates.iter().enumerate() { @if i > 0 { ", " } (m.currency.code()) " on " (m.date) }
                ". Those lines have no USD figure yet."
            }
        }
        h2 { "Earnings (" (s.earnings.len()) ")" }
        @if s.earnings.is_empty() { p { "No earnings were booked this month." } } @else { (lines(&s.earnings, false)) }
        h2 { "Reversals (" (s.reversals.len()) ")" }
        @if s.reversals.is_empty() { p { "No reversals this month." } } @else { (lines(&s.reversals, false)) }
        h2 { "Payouts that did not earn (" (s.not_earned.len()) ")" }
        @if s.not_earned.is_empty() {
            p { "None this month." }
        } @else {
            p { "Payments on your linked clients' cases that earned you nothing, each with the reason." }
            (lines(&s.not_earned, true))
        }
    };
    staff.page(app, HERE, &format!("Statement {period}"), body)
}
