//! The POST forms of the dashboard: each carries a CSRF token bound to the session and to
//! the path it posts to (`App::form_token`), checked before anything is read or changed
//! (a missing or wrong token is a 403 page, and nothing happens).

use maud::{html, Markup};
use refshare_app::{App, AppError};

use super::Staff;

/// The hidden CSRF field of a form posting to `path`.
pub(super) fn csrf_field(app: &App, staff: &Staff, path: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(app.form_token(staff.session.csrf_binding(), path)); }
}

/// Refuses a form posted to `path` whose token is not the session's for that path.
pub(super) fn check_csrf(app: &App, staff: &Staff, path: &str, submitted: &str) -> Result<(), AppError> {
    app.check_form_token(Some(staff.session.csrf_binding()), path, submitted)
}

/// What a refused form shows above its fields: each field's message, or the refusal.
pub(super) fn form_error(e: &AppError) -> String {
    match e {
        AppError::Validation(fields) => fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
        other => crate::error::message_of(other),
    }
}
