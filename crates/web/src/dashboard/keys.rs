//! `/dashboard/api-keys` — the partner's Referral API keys by prefix (the keys themselves
//! are stored hashed). Admins issue a new key (`POST /dashboard/api-keys`: the answer is
//! the only place the key is ever shown, not cached) and revoke one (`POST
//! /dashboard/api-keys/{keyId}/revoke`). Members see the list, get 403 for both, and see
//! no forms.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use refshare_app::{App, AppError};
use refshare_core::people::PartnerPermission;
use serde::Deserialize;
use uuid::Uuid;

use super::forms::{csrf_field, poster};
use super::{day, Staff};
use crate::pages::{PageForm, PagePath};

const HERE: &str = "/dashboard/api-keys";

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn show(State(app): State<App>, staff: Staff) -> Response {
    match body(&app, &staff, None).await {
        Ok(b) => staff.page(&app, HERE, "API keys", b),
        Err(e) => staff.failure(&app, HERE, e),
    }
}

/// The page; with `new_key`, the key just issued is shown at the top, once.
async fn body(app: &App, staff: &Staff, new_key: Option<&str>) -> Result<Markup, AppError> {
    let keys = app.staff_keys(&staff.session, staff.partner.id).await?;
    let admin = staff.user.role.may(PartnerPermission::ManageKeys);
    let active = keys.iter().filter(|k| k.revoked_at.is_none()).count();
    Ok(html! {
        h1 { "API keys" }
        @if let Some(k) = new_key {
            section.notice role="status" aria-labelledby="new-key" {
                h2 id="new-key" { "Your new key" }
                p { "Copy it now: it is shown only this once. Send it in the " code { "XApiKey" } " header." }
                p { code.key { (k) } }
                p { "Deploy it, then revoke the key it replaces." }
            }
        }
        p { (active) " active key" @if active != 1 { "s" } " for the Referral API. Keys are stored hashed: only their first characters are shown." }
        table {
            thead { tr {
                th scope="col" { "Key" } th scope="col" { "Created" } th scope="col" { "Status" }
                @if admin { th scope="col" { span.visually-hidden { "Actions" } } }
            } }
            tbody {
                @for k in &keys {
                    tr {
                        td { code { (k.key_prefix) "…" } }
                        td { (day(k.created_at)) }
                        td { @if let Some(t) = k.revoked_at { "revoked " (day(t)) } @else { span.tag { "active" } } }
                        @if admin {
                            td {
                                @if k.revoked_at.is_none() {
                                    @let path = format!("{HERE}/{}/revoke", k.id);
                                    form method="post" action=(path) {
                                        (csrf_field(app, staff, &path))
                                        button type="submit" aria-label=(format!("Revoke the key {}…", k.key_prefix)) { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            form method="post" action=(HERE) {
                (csrf_field(app, staff, HERE))
                button.primary type="submit" { "Issue a new key" }
            }
        } @else {
            p.muted { "Only an admin of your team can issue or revoke keys." }
        }
    })
}

pub async fn issue(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<CsrfForm>) -> Response {
    let staff = match poster(&app, &jar, HERE, HERE, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let issued = match app.staff_issue_key(&staff.session, staff.partner.id).await {
        Ok(k) => k,
        Err(e) => return staff.failure(&app, HERE, e),
    };
    match body(&app, &staff, Some(&issued.key)).await {
        Ok(b) => {
            let mut res = staff.page(&app, HERE, "API keys", b);
            res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => staff.failure(&app, HERE, e),
    }
}

pub async fn revoke(State(app): State<App>, jar: CookieJar, PagePath(id): PagePath, PageForm(f): PageForm<CsrfForm>) -> Response {
    let path = format!("{HERE}/{id}/revoke");
    let staff = match poster(&app, &jar, HERE, &path, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(key_id) = Uuid::parse_str(&id) else {
        return staff.failure(&app, HERE, AppError::NotFound("api key"));
    };
    match app.staff_revoke_key(&staff.session, staff.partner.id, key_id).await {
        Ok(()) => Redirect::to(HERE).into_response(),
        Err(e) => staff.failure(&app, HERE, e),
    }
}
