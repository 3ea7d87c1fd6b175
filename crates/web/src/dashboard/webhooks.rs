//! `/dashboard/webhooks` — the partner's webhook subscriptions (URL, events, state) with a
//! delivery log each (`/dashboard/webhooks/{id}`: every delivery, newest first, with its
//! attempts). Admins subscribe a URL to events (`POST /dashboard/webhooks`: the signing
//! secret is shown in that answer only), delete a subscription, and — in the test
//! environment — send a test event through the real outbox (`POST
//! /dashboard/webhooks/test`). Members read, get 403 for changes, and see no forms. The
//! rules (URL checks, private addresses refused, event names, limits) are the Referral
//! API's (`app::webhooks`).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use refshare_app::webhooks::{CreateWebhookInput, TestWebhookInput, EVENT_TYPES};
use refshare_app::{App, AppError, Environment};
use refshare_core::people::PartnerPermission;
use refshare_store::PageReq;
use serde::Deserialize;
use uuid::Uuid;

use super::forms::{csrf_field, form_error, poster};
use super::{day, page_number, pager, DashQuery, Staff, PAGE_SIZE};
use crate::pages::{PageForm, PagePath};

const HERE: &str = "/dashboard/webhooks";
const TEST: &str = "/dashboard/webhooks/test";

/// What the list page shows besides the subscriptions.
#[derive(Default)]
struct Extra {
    notice: Option<Markup>,
    error: Option<String>,
    url: String,
    events: Vec<String>,
}

pub async fn list(State(app): State<App>, staff: Staff) -> Response {
    render(&app, &staff, StatusCode::OK, Extra::default()).await
}

async fn render(app: &App, staff: &Staff, status: StatusCode, x: Extra) -> Response {
    let subs = match app.staff_webhooks(&staff.session, &staff.partner).await {
        Ok(s) => s,
        Err(e) => return staff.failure(app, HERE, e),
    };
    let admin = staff.user.role.may(PartnerPermission::ManageWebhooks);
    let body = html! {
        h1 { "Webhooks" }
        @if let Some(n) = &x.notice { (n) }
        @if let Some(e) = &x.error { p.error role="alert" { (e) } }
        @if subs.is_empty() { p { "No webhooks yet." } } @else {
            table {
                thead { tr {
                    th scope="col" { "URL" } th scope="col" { "Events" } th scope="col" { "State" } th scope="col" { "Created" }
                    th scope="col" { span.visually-hidden { "Actions" } }
                } }
                tbody {
                    @for s in &subs {
                        tr {
                            td { a href=(format!("{HERE}/{}", s.id)) { (s.url) } }
                            td { (s.events.join(", ")) }
                            td {
                                @if s.is_active { span.tag { "active" } } @else { span.tag.warn { "disabled" } }
                                @if s.is_test_mode { " " span.tag { "test mode" } }
                                @if let Some(r) = &s.disabled_reason { br; span.muted { (r) } }
                            }
                            td { (day(s.created_at)) }
                            td {
                                a href=(format!("{HERE}/{}", s.id)) { "Delivery log" }
                                @if admin {
                                    @let path = format!("{HERE}/{}/delete", s.id);
                                    form method="post" action=(path) {
                                        (csrf_field(app, staff, &path))
                                        button type="submit" aria-label=(format!("Delete the webhook to {}", s.url)) { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            h2 id="new-webhook" { "Add a webhook" }
            form method="post" action=(HERE) aria-labelledby="new-webhook" {
                (csrf_field(app, staff, HERE))
                label for="url" { "URL (https; private and local addresses are refused)" }
                input #url type="url" name="url" required maxlength="2048" value=(x.url);
                fieldset {
                    legend { "Events" }
                    @for e in EVENT_TYPES {
                        label { input type="checkbox" name=(format!("event:{e}")) value="on" checked[x.events.iter().any(|x| x == e)]; " " code { (e) } }
                    }
                }
                label { input type="checkbox" name="test_mode" value="on"; " Test mode (receives test events only)" }
                button.primary type="submit" { "Add the webhook" }
            }
            @if app.config.environment == Environment::Test {
                h2 id="test-event" { "Send a test event" }
                p.muted { "Test environment only: the event is built from your real case or client and goes through the delivery log." }
                form.filters method="post" action=(TEST) aria-labelledby="test-event" {
                    (csrf_field(app, staff, TEST))
                    div {
                        label for="event_type" { "Event" }
                        select #event_type name="event_type" { @for e in EVENT_TYPES { option value=(e) { (e) } } }
                    }
                    div { label for="case_id" { "Case id (case.* events)" } input #case_id type="text" name="case_id" maxlength="64"; }
                    div { label for="external_tenant_id" { "External tenant ID (client.* and link events)" } input #external_tenant_id type="text" name="external_tenant_id" maxlength="200"; }
                    div { button type="submit" { "Send" } }
                }
            }
        } @else {
            p.muted { "Only an admin of your team can add, delete or test webhooks." }
        }
    };
    let mut res = staff.page(app, HERE, "Webhooks", body);
    *res.status_mut() = status;
    res
}

/// `POST /dashboard/webhooks`: `url`, one `event:<name>` checkbox per event, `test_mode`.
pub async fn create(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<BTreeMap<String, String>>) -> Response {
    let csrf = f.get("csrf").cloned().unwrap_or_default();
    let staff = match poster(&app, &jar, HERE, HERE, &csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let url = f.get("url").cloned().unwrap_or_default();
    let events: Vec<String> = f.keys().filter_map(|k| k.strip_prefix("event:")).map(str::to_string).collect();
    let input =
        CreateWebhookInput { url: Some(url.clone()), events: Some(events.clone()), is_test_mode: Some(f.contains_key("test_mode")) };
    match app.staff_create_webhook(&staff.session, &staff.partner, input).await {
        Ok((sub, secret)) => {
            let notice = html! {
                section.notice role="status" aria-labelledby="secret" {
                    h2 id="secret" { "Webhook added: its signing secret" }
                    p { "Copy it now: it is shown only this once. Each delivery to " code { (sub.url) } " is signed with it." }
                    p { code.key { (secret) } }
                }
            };
            let mut res = render(&app, &staff, StatusCode::OK, Extra { notice: Some(notice), ..Extra::default() }).await;
            res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            res
        }
        Err(e @ AppError::Validation(_)) => {
            render(&app, &staff, crate::error::status_of(&e), Extra { error: Some(form_error(&e)), url, events, ..Extra::default() }).await
        }
        Err(e) => staff.failure(&app, HERE, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn delete(State(app): State<App>, jar: CookieJar, PagePath(id): PagePath, PageForm(f): PageForm<CsrfForm>) -> Response {
    let path = format!("{HERE}/{id}/delete");
    let staff = match poster(&app, &jar, HERE, &path, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(id) = Uuid::parse_str(&id) else { return staff.failure(&app, HERE, AppError::NotFound("webhook")) };
    match app.staff_delete_webhook(&staff.session, &staff.partner, id).await {
        Ok(()) => Redirect::to(HERE).into_response(),
        Err(e) => staff.failure(&app, HERE, e),
    }
}

#[derive(Debug, Deserialize)]
pub struct TestForm {
    #[serde(default)]
    csrf: String,
    event_type: Option<String>,
    case_id: Option<String>,
    external_tenant_id: Option<String>,
}

pub async fn test(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<TestForm>) -> Response {
    let staff = match poster(&app, &jar, HERE, TEST, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let blank = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let input = TestWebhookInput {
        event_type: f.event_type,
        case_id: blank(f.case_id),
        external_tenant_id: blank(f.external_tenant_id),
        ..TestWebhookInput::default()
    };
    match app.staff_test_webhook(&staff.session, &staff.partner, input).await {
        Ok((ty, n)) => {
            let notice =
                html! { p.notice role="status" { "Test event " code { (ty) } " queued for " (n) " webhook" @if n != 1 { "s" } "." } };
            render(&app, &staff, StatusCode::OK, Extra { notice: Some(notice), ..Extra::default() }).await
        }
        Err(e @ AppError::Validation(_)) => {
            render(&app, &staff, crate::error::status_of(&e), Extra { error: Some(form_error(&e)), ..Extra::default() }).await
        }
        Err(e) => staff.failure(&app, HERE, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LogParams {
    page: Option<String>,
}

/// `GET /dashboard/webhooks/{id}`: the subscription's delivery log, 50 a page.
pub async fn log(State(app): State<App>, PagePath(id): PagePath, DashQuery(p): DashQuery<LogParams>, staff: Staff) -> Response {
    let page = match page_number(p.page.as_deref()) {
        Ok(n) => n,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let Ok(id) = Uuid::parse_str(&id) else { return staff.failure(&app, HERE, AppError::NotFound("webhook")) };
    let (sub, log, total) = match app.staff_webhook_deliveries(&staff.session, &staff.partner, id, PageReq { page, size: PAGE_SIZE }).await
    {
        Ok(x) => x,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    let here = format!("{HERE}/{id}");
    let body = html! {
        p { a href=(HERE) { "← Webhooks" } }
        h1 { "Delivery log" }
        p { "To " code { (sub.url) } " · " (sub.events.join(", ")) }
        @if log.is_empty() { p { "No deliveries yet." } } @else {
            table {
                thead { tr {
                    th scope="col" { "Event" } th scope="col" { "Queued" } th scope="col" { "Status" } th scope="col" class="num" { "Attempts" }
                    th scope="col" { "Last answer" }
                } }
                tbody {
                    @for d in &log {
                        tr {
                            td { code { (d.event_type) } }
                            td { time datetime=(d.delivery.created_at.to_rfc3339()) { (d.delivery.created_at.format("%Y-%m-%d %H:%M")) } }
                            td { (d.delivery.status.as_str()) }
                            td.num { (d.delivery.attempts) }
                            td {
                                @if let Some(c) = d.delivery.last_status_code { "HTTP " (c) }
                                @if let Some(e) = &d.delivery.last_error { " " span.muted { (e) } }
                            }
                        }
                    }
                }
            }
        }
        (pager(&here, &[], page, total))
    };
    staff.page(&app, HERE, "Delivery log", body)
}
