//! `/dashboard/team` — the partner's users: everyone who may read sees the list; admins
//! invite a teammate by e-mail with a role (`POST /dashboard/team`, the invitation mail
//! tells them to sign in at `/login`) and remove one (`POST
//! /dashboard/team/{userId}/remove`). Members get 403 for both and see no forms.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::{html, Markup};
use refshare_app::people::PartnerUserInput;
use refshare_app::{App, AppError, PeopleError};
use refshare_core::people::PartnerPermission;
use serde::Deserialize;
use uuid::Uuid;

use super::forms::{csrf_field, form_error, poster};
use super::{day, DashQuery, Staff};
use crate::pages::{PageForm, PagePath};

const HERE: &str = "/dashboard/team";

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    invited: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf: String,
    name: Option<String>,
    email: Option<String>,
    role: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

pub async fn show(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let notice = p.invited.filter(|e| !e.trim().is_empty()).map(|e| format!("Invitation sent to {e}."));
    render(&app, &staff, StatusCode::OK, notice, None, &InviteForm::default()).await
}

/// The page, with a notice, or the invitation form's error and values.
async fn render(
    app: &App,
    staff: &Staff,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
    form: &InviteForm,
) -> Response {
    let (users, total) = match app.staff_team(&staff.session, staff.partner.id).await {
        Ok(x) => x,
        Err(e) => return staff.failure(app, HERE, e),
    };
    let admin = staff.user.role.may(PartnerPermission::ManageTeam);
    let body = html! {
        h1 { "Team" }
        @if let Some(n) = &notice { p.notice role="status" { (n) } }
        p { (total) " people can sign in to this dashboard for " (staff.partner.company_name) "." }
        table {
            thead { tr {
                th scope="col" { "Name" } th scope="col" { "E-mail" } th scope="col" { "Role" } th scope="col" { "Status" }
                th scope="col" { "Last sign-in" } th scope="col" { "Added" }
                @if admin { th scope="col" { span.visually-hidden { "Actions" } } }
            } }
            tbody {
                @for u in &users {
                    tr {
                        td { (u.name) @if u.id == staff.user.user_id { " " span.muted { "(you)" } } }
                        td { (u.email) } td { (u.role.as_str()) } td { (u.status.as_str()) }
                        td { @if let Some(t) = u.last_sign_in_at { (day(t)) } @else { "never" } }
                        td { (day(u.created_at)) }
                        @if admin {
                            td {
                                @if u.id != staff.user.user_id {
                                    @let path = format!("{HERE}/{}/remove", u.id);
                                    form method="post" action=(path) {
                                        (csrf_field(app, staff, &path))
                                        button type="submit" aria-label=(format!("Remove {}", u.name)) { "Remove" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if admin { (invite_form(app, staff, error.as_deref(), form)) }
        @else { p.muted { "Only an admin of your team can invite or remove people." } }
    };
    let mut res = staff.page(app, HERE, "Team", body);
    *res.status_mut() = status;
    res
}

fn invite_form(app: &App, staff: &Staff, error: Option<&str>, f: &InviteForm) -> Markup {
    let role = f.role.as_deref().unwrap_or("member");
    html! {
        h2 id="invite" { "Invite a teammate" }
        @if let Some(e) = error { p.error role="alert" { (e) } }
        form.filters method="post" action=(HERE) aria-labelledby="invite" {
            (csrf_field(app, staff, HERE))
            div { label for="name" { "Name" } input #name type="text" name="name" required maxlength="200" value=(f.name.clone().unwrap_or_default()); }
            div { label for="email" { "E-mail" } input #email type="email" name="email" required maxlength="254" value=(f.email.clone().unwrap_or_default()); }
            div {
                label for="role" { "Role" }
                select #role name="role" {
                    option value="member" selected[role == "member"] { "member — reads everything" }
                    option value="admin" selected[role == "admin"] { "admin — also raises disputes and manages the team, keys, webhooks and settings" }
                }
            }
            div { button.primary type="submit" { "Send the invitation" } }
        }
    }
}

pub async fn invite(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<InviteForm>) -> Response {
    let staff = match poster(&app, &jar, HERE, HERE, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let input = PartnerUserInput { email: f.email.clone(), name: f.name.clone(), role: f.role.clone() };
    match app.staff_invite(&staff.session, staff.partner.id, input).await {
        Ok(u) => {
            let to = url::form_urlencoded::byte_serialize(u.email.as_bytes()).collect::<String>();
            Redirect::to(&format!("{HERE}?invited={to}")).into_response()
        }
        Err(e @ (AppError::Validation(_) | AppError::People(PeopleError::PartnerUserExists { .. }))) => {
            render(&app, &staff, crate::error::status_of(&e), None, Some(form_error(&e)), &f).await
        }
        Err(e) => staff.failure(&app, HERE, e),
    }
}

pub async fn remove(State(app): State<App>, jar: CookieJar, PagePath(id): PagePath, PageForm(f): PageForm<CsrfForm>) -> Response {
    let path = format!("{HERE}/{id}/remove");
    let staff = match poster(&app, &jar, HERE, &path, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Ok(user_id) = Uuid::parse_str(&id) else {
        return staff.failure(&app, HERE, AppError::NotFound("user"));
    };
    match app.staff_remove(&staff.session, staff.partner.id, user_id).await {
        Ok(()) => Redirect::to(HERE).into_response(),
        Err(e) => staff.failure(&app, HERE, e),
    }
}
