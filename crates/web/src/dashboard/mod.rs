//! The Partner Dashboard (issue 10): server-rendered pages under `/dashboard` for the
//! signed-in users of a referral partner, in the partner's branding. Every page reads
//! through an app use case (no rule lives here) and shows only the signed-in user's
//! partner: the partner comes from the session's chosen account, never from the URL.
//!
//! Access ([`Staff`]): no session → `/login`; a session acting as anything but a partner
//! user → `/account` (to choose one); a partner user whose role does not allow reading →
//! 403. Lists are paginated and read through the indexed read path of issue 9; each tab
//! has a CSV export with the same filters. Plain links and forms: everything works
//! without JavaScript. The Team, API keys and Settings pages change things through POST
//! forms carrying the session's CSRF token (`forms`), for admins only (403 for members,
//! who see those pages read-only).

mod attention;
mod cases;
mod chart;
mod check;
mod clients;
mod csv;
mod disputes;
mod earnings;
mod forms;
mod keys;
mod overview;
mod settings;
mod statements;
mod team;
mod timeline;
mod webhooks;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use refshare_app::signin::{Account, Session};
use refshare_app::{App, AppError};
use refshare_core::people::PartnerPermission;
use refshare_store::{PartnerRecord, PartnerUserAccount};

use crate::pages::layout::{nav_page, Nav};
use crate::pages::signin::current_session;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/dashboard", get(overview::show))
        .route("/dashboard/clients", get(clients::list))
        .route("/dashboard/clients.csv", get(clients::export))
        .route("/dashboard/cases", get(cases::list))
        .route("/dashboard/cases.csv", get(cases::export))
        .route("/dashboard/earnings", get(earnings::list))
        .route("/dashboard/earnings.csv", get(earnings::export))
        // The case check, disputes and statements.
        .route("/dashboard/check", get(check::lookup))
        .route("/dashboard/cases/{reference}", get(check::show))
        .route("/dashboard/disputes", get(disputes::list).post(disputes::file))
        .route("/dashboard/disputes/{id}", get(disputes::show))
        .route("/dashboard/statements", get(statements::pick))
        .route("/dashboard/statements/{period}", get(statements::show))
        .route("/dashboard/team", get(team::show).post(team::invite))
        .route("/dashboard/team/{user_id}/remove", post(team::remove))
        .route("/dashboard/api-keys", get(keys::show).post(keys::issue))
        .route("/dashboard/api-keys/{key_id}/revoke", post(keys::revoke))
        .route("/dashboard/settings", get(settings::show).post(settings::save))
        .route("/dashboard/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/dashboard/webhooks/test", post(webhooks::test))
        .route("/dashboard/webhooks/{id}", get(webhooks::log))
        .route("/dashboard/webhooks/{id}/delete", post(webhooks::delete))
        // Issue 10, second part: the client timeline (the Attention list is on the overview).
        .route("/dashboard/clients/{external_tenant_id}", get(timeline::show))
}

/// The tabs, in order.
const TABS: &[(&str, &str)] = &[
    ("/dashboard", "Overview"),
    ("/dashboard/clients", "Clients"),
    ("/dashboard/cases", "Cases"),
    ("/dashboard/earnings", "Earnings"),
    ("/dashboard/disputes", "Disputes"),
    ("/dashboard/statements", "Statements"),
    ("/dashboard/team", "Team"),
    ("/dashboard/webhooks", "Webhooks"),
    ("/dashboard/api-keys", "API keys"),
    ("/dashboard/settings", "Settings"),
];

/// Rows per page of every list.
const PAGE_SIZE: u32 = 50;

/// A signed-in user of a referral partner who may read its data, with the partner.
pub struct Staff {
    pub session: Session,
    pub user: PartnerUserAccount,
    pub partner: PartnerRecord,
}

impl FromRequestParts<App> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        Staff::of(app, &CookieJar::from_headers(&parts.headers)).await
    }
}

impl Staff {
    /// The signed-in partner user of the browser's cookies, or the page to go to instead
    /// (for handlers that check their form before the session).
    pub async fn of(app: &App, jar: &CookieJar) -> Result<Staff, Response> {
        let session = match current_session(app, jar).await {
            Ok(Some(s)) => s,
            Ok(None) => return Err(Redirect::to("/login").into_response()),
            Err(e) => return Err(bare_failure(app, e)),
        };
        let partner_id = match &session.chosen {
            Some(Account::PartnerUser(u)) => u.partner_id,
            _ => return Err(Redirect::to("/account").into_response()),
        };
        let user = app.require_partner_permission(&session, partner_id, PartnerPermission::Read).map_err(|e| bare_failure(app, e))?;
        let partner = app.partner(partner_id).await.map_err(|e| bare_failure(app, e))?;
        Ok(Staff { session, user, partner })
    }

    /// A dashboard page with the tabs, `active` marked as the current one.
    fn page(&self, app: &App, active: &str, title: &str, body: Markup) -> Response {
        let nav = Nav {
            tabs: TABS,
            active,
            user_name: &self.user.user_name,
            logout_csrf: app.form_token(self.session.csrf_binding(), "/logout"),
        };
        nav_page(app.platform(), title, &self.partner, &nav, body).into_response()
    }

    /// A refusal or failure as a dashboard page with its status (404 for what the partner
    /// may not see, 400 for bad input).
    fn failure(&self, app: &App, active: &str, e: AppError) -> Response {
        crate::error::log_internal(&e, "dashboard");
        let status = crate::error::status_of(&e);
        let mut res = self.page(app, active, heading(status), failure_body(status, &e));
        *res.status_mut() = status;
        res
    }
}

fn heading(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::BAD_REQUEST => "The request could not be read",
        _ => "Something went wrong",
    }
}

fn failure_body(status: StatusCode, e: &AppError) -> Markup {
    let message = match e {
        AppError::NotFound(_) => "There is nothing here, or it is not yours to see.".to_string(),
        AppError::Validation(fields) => fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        other => crate::error::message_of(other),
    };
    html! {
        h1 { (heading(status)) }
        p.error role="alert" { (message) }
        p { a href="/dashboard" { "Back to the overview" } }
    }
}

/// A failure before the partner is known: the platform's page.
fn bare_failure(_app: &App, e: AppError) -> Response {
    crate::error::log_internal(&e, "dashboard");
    let status = crate::error::status_of(&e);
    crate::pages::layout::platform_page(status, heading(status), failure_body(status, &e))
}

/// The query string, its names and values checked for control characters first
/// (`extract::check_form_text`: a 400 page naming the parameter, before the session is
/// looked at), then deserialised like axum's `Query`.
pub struct DashQuery<T>(pub T);

impl<T: serde::de::DeserializeOwned> FromRequestParts<App> for DashQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let raw = parts.uri.query().unwrap_or_default();
        crate::extract::check_form_text(raw.as_bytes()).map_err(|e| bare_failure(app, e))?;
        let axum::extract::Query(t) = axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map_err(|e| bare_failure(app, AppError::bad_field("query", e.body_text())))?;
        Ok(DashQuery(t))
    }
}

/// A 1-based page number from the query (`None`: the first); anything else is a 400.
fn page_number(raw: Option<&str>) -> Result<u32, AppError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(1),
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| AppError::bad_field("page", "must be a whole number from 1 to 100000")),
    }
}

/// The query text of a search box: trimmed, `None` when empty, at most 100 characters.
fn search_text(raw: Option<&str>) -> Result<Option<String>, AppError> {
    let q = raw.map(str::trim).filter(|s| !s.is_empty());
    match q {
        Some(s) if s.chars().count() > 100 => Err(AppError::bad_field("q", "must be at most 100 characters")),
        Some(s) if s.chars().any(char::is_control) => Err(AppError::bad_field("q", "must not contain control characters")),
        other => Ok(other.map(str::to_string)),
    }
}

/// `path?name=value&…` with the values URL-encoded; empty values are left out.
fn href(path: &str, params: &[(&str, String)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// "Page n of m" with previous and next links keeping the other parameters.
fn pager(path: &str, params: &[(&str, String)], page: u32, total: i64) -> Markup {
    let pages = ((total.max(0) as u64).div_ceil(PAGE_SIZE as u64)).max(1);
    let with_page = |n: u32| {
        let mut p = params.to_vec();
        p.push(("page", n.to_string()));
        href(path, &p)
    };
    html! {
        nav.pager aria-label="Pages" {
            @if page > 1 { a href=(with_page(page - 1)) rel="prev" { "← Previous" } }
            span.muted { "Page " (page) " of " (pages) " · " (total) " in all" }
            @if (page as u64) < pages { a href=(with_page(page + 1)) rel="next" { "Next →" } }
        }
    }
}

/// A CSV download named `name`.
fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

/// An amount in minor units as a decimal with its currency code.
fn money(amount_minor: i64, currency: refshare_core::money::Currency) -> String {
    format!("{} {}", refshare_core::money::format_minor(amount_minor, currency.exponent()), currency.code())
}

/// US cents as dollars, or a dash when there is no figure.
fn usd(usd_minor: Option<i64>) -> String {
    match usd_minor {
        Some(c) => format!("{} USD", refshare_core::money::format_minor(c, 2)),
        None => "—".to_string(),
    }
}

/// A day as `YYYY-MM-DD` (UTC).
fn day(t: refshare_core::Instant) -> String {
    t.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_checked() {
        assert_eq!(page_number(None).unwrap(), 1);
        assert_eq!(page_number(Some(" 3 ")).unwrap(), 3);
        for bad in ["0", "-1", "x", "100001", "1.5"] {
            assert!(page_number(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn links_keep_the_filters_encoded_and_drop_empty_ones() {
        assert_eq!(href("/d", &[("q", "a b&c".into()), ("stage", String::new())]), "/d?q=a+b%26c");
        assert_eq!(href("/d", &[]), "/d");
    }

    #[test]
    fn search_text_is_trimmed_and_bounded() {
        assert_eq!(search_text(Some("  ab ")).unwrap().as_deref(), Some("ab"));
        assert_eq!(search_text(Some("   ")).unwrap(), None);
        assert!(search_text(Some(&"x".repeat(101))).is_err());
        assert!(search_text(Some("a\u{7}b")).is_err());
    }
}
