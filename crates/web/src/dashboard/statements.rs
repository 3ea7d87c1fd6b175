//! The partner's monthly statement (SPEC §7): `GET /dashboard/statements/{YYYY-MM}` (HTML,
//! from `App::statement_page`: the totals per stage and currency and the counts from SQL
//! aggregates, then the first [`PAGE_SIZE`] lines of the earnings and of the reversals);
//! `?section=earnings|reversals|not-earned&after=<cursor>` pages through one section by
//! keyset. The payouts on the partner's clients that did not earn, each with its reason
//! and what to do, are on their section's pages only: counting them walks the month's
//! payouts on every client of the partner. Every line is in the CSV, `{YYYY-MM}.csv` or
//! `?format=csv` (`App::statement`). `GET /dashboard/statements` is the month picker's
//! target: to the chosen month (`?month=`), or to the current one. A month that is not
//! `YYYY-MM` is a 400 page naming the parameter (`period` in the path, `month` in the
//! picker), as are a bad `section` or `after`.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use refshare_app::revenue::Period;
use refshare_app::statements::{Section, SectionPage, Statement, StatementLine, StatementPage};
use refshare_app::{App, AppError};
use refshare_core::attribution::Reason;
use refshare_core::money::format_minor;
use refshare_store::StatementCursor;
use serde::Deserialize;

use super::check::{case_path, time};
use super::csv::{Csv, Field};
use super::{csv_response, day, href, money, usd, DashQuery, Staff, PAGE_SIZE};
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
    section: Option<String>,
    after: Option<String>,
}

/// A section's name in the page's links.
fn section_param(s: Section) -> &'static str {
    match s {
        Section::Earning => "earnings",
        Section::Reversal => "reversals",
        Section::NotEarned => "not-earned",
    }
}

/// The sections and where their pages start: all three from their start, or the one named
/// by `section` after `after`.
fn pages_of(q: &ShowParams) -> Result<Vec<(Section, Option<StatementCursor>)>, AppError> {
    let section = match q.section.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => Some(
            Section::ALL
                .into_iter()
                .find(|s| section_param(*s) == name)
                .ok_or_else(|| AppError::bad_field("section", "must be earnings, reversals or not-earned"))?,
        ),
    };
    let after = match q.after.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(StatementCursor::decode(raw).ok_or_else(|| AppError::bad_field("after", "is not a position in this statement"))?),
    };
    match (section, after) {
        // The payouts that did not earn have a page of their own (see `SectionCounts`).
        (None, None) => Ok(vec![(Section::Earning, None), (Section::Reversal, None)]),
        (None, Some(_)) => Err(AppError::bad_field("after", "needs a section")),
        (Some(s), after) => Ok(vec![(s, after)]),
    }
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
    if csv {
        return match app.statement(&staff.partner, &period).await {
            Ok(s) => csv_response(&format!("statement-{}.csv", s.period), to_csv(&s)),
            Err(e) => staff.failure(&app, HERE, e),
        };
    }
    let pages = match pages_of(&q) {
        Ok(p) => p,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    match app.statement_page(&staff.partner, &period, &pages, PAGE_SIZE).await {
        Ok(s) => page(&app, &staff, &s, pages.len() == 1),
        Err(e) => staff.failure(&app, HERE, e),
    }
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

/// The title of a section's table.
fn title(s: Section) -> &'static str {
    match s {
        Section::Earning => "Earnings",
        Section::Reversal => "Reversals",
        Section::NotEarned => "Payouts that did not earn",
    }
}

/// One section's page: its heading with the count, its lines, and the link to the next
/// page (and back to its first page when `paging` through it alone).
fn section(path: &str, p: &SectionPage, count: Option<i64>, paging: bool) -> Markup {
    let name = section_param(p.section);
    html! {
        section aria-labelledby=(name) {
            h2 id=(name) { (title(p.section)) @if let Some(n) = count { " (" (n) ")" } }
            @if p.lines.is_empty() {
                p { @match p.section {
                    Section::Earning => "No earnings were booked this month.",
                    Section::Reversal => "No reversals this month.",
                    Section::NotEarned => "None this month.",
                } }
            } @else {
                @if p.section == Section::NotEarned {
                    p { "Payments on your linked clients' cases that earned you nothing, each with the reason." }
                }
                (lines(&p.lines, p.section == Section::NotEarned))
            }
            nav.pager aria-label={ (title(p.section)) " pages" } {
                @if paging { a href=(href(path, &[("section", name.to_string())])) { "First page" } }
                @if let Some(next) = p.next {
                    a href=(href(path, &[("section", name.to_string()), ("after", next.encode())])) rel="next" {
                        "Next " (PAGE_SIZE) " " (title(p.section).to_lowercase()) " →"
                    }
                }
                @if paging { a href=(path) { "All sections" } }
            }
        }
    }
}

fn page(app: &App, staff: &Staff, p: &StatementPage, paging: bool) -> Response {
    let s = &p.summary;
    let period = s.period.to_string();
    let path = format!("{HERE}/{period}");
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
            a href={ (path) ".csv" } download { "Download this statement as CSV (every line)" }
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
        nav.pager aria-label="Sections" {
            @for x in Section::ALL {
                a href=(href(&path, &[("section", section_param(x).to_string())])) {
                    (title(x)) @if let Some(n) = s.counts.of(x) { " (" (n) ")" }
                }
            }
        }
        @if !p.sections.iter().any(|x| x.section == Section::NotEarned) {
            p {
                "The payments on your linked clients' cases that earned you nothing, each with the reason, are on "
                a href=(href(&path, &[("section", section_param(Section::NotEarned).to_string())])) { "their own page" }
                " and in the CSV."
            }
        }
        @for sp in &p.sections { (section(&path, sp, s.counts.of(sp.section), paging)) }
    };
    staff.page(app, HERE, &format!("Statement {period}"), body)
}
