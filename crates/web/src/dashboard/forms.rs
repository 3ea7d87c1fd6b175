//! The POST forms of the dashboard: each carries a CSRF token bound to the session and to
//! the path it posts to (`App::form_token`), checked before anything is read or changed
//! (a missing or wrong token is a 403 page, and nothing happens).

use axum::response::Response;
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use refshare_app::{App, AppError};

use super::Staff;

/// The hidden CSRF field of a form posting to `path`.
pub(super) fn csrf_field(app: &App, staff: &Staff, path: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(app.form_token(staff.session.csrf_binding(), path)); }
}

/// The staff member behind a form posted to `path`, once its text has been checked (the
/// handler's `PageForm`): the session (else `/login` or `/account`), then its CSRF token
/// for that path (else a 403 page shown under the tab `tab`).
pub(super) async fn poster(app: &App, jar: &CookieJar, tab: &str, path: &str, submitted: &str) -> Result<Staff, Response> {
    let staff = Staff::of(app, jar).await?;
    match app.check_form_token(Some(staff.session.csrf_binding()), path, submitted) {
        Ok(()) => Ok(staff),
        Err(e) => Err(staff.failure(app, tab, e)),
    }
}

/// What a refused form shows above its fields: each field's message, or the refusal.
pub(super) fn form_error(e: &AppError) -> String {
    match e {
        AppError::Validation(fields) => fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        other => crate::error::message_of(other),
    }
}
