//! `/dashboard/settings` — the branding the partner's hosted pages (onboarding, link
//! approval) are shown in: logo URL, background and text colours, font. Admins change it
//! (`POST /dashboard/settings`); members see it read-only and get 403 on a post. The rules
//! for each value are the operator's (`App::update_partner`), so a bad value is the same
//! field error, shown on the form.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use maud::html;
use refshare_app::partners::Branding;
use refshare_app::{App, AppError};
use refshare_core::people::PartnerPermission;
use serde::Deserialize;

use super::forms::{csrf_field, form_error, poster};
use super::{DashQuery, Staff};
use crate::pages::PageForm;

const HERE: &str = "/dashboard/settings";

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    saved: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct BrandingForm {
    #[serde(default)]
    csrf: String,
    logo_url: Option<String>,
    background_color_code: Option<String>,
    font_color: Option<String>,
    font_family: Option<String>,
}

/// A stored value as the read-only page shows it.
fn shown(v: &Option<String>) -> String {
    v.clone().filter(|s| !s.is_empty()).unwrap_or_else(|| "none".to_string())
}

/// A form value: trimmed, `None` when empty (the setting is cleared).
fn value(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

impl BrandingForm {
    fn branding(&self) -> Branding {
        Branding {
            logo_url: value(&self.logo_url),
            background_color_code: value(&self.background_color_code),
            font_color: value(&self.font_color),
            font_family: value(&self.font_family),
        }
    }
}

pub async fn show(State(app): State<App>, DashQuery(p): DashQuery<Params>, staff: Staff) -> Response {
    let b: Branding = serde_json::from_value(staff.partner.branding.clone()).unwrap_or_default();
    let form = BrandingForm {
        csrf: String::new(),
        logo_url: b.logo_url,
        background_color_code: b.background_color_code,
        font_color: b.font_color,
        font_family: b.font_family,
    };
    render(&app, &staff, StatusCode::OK, p.saved.is_some().then_some("Saved. The hosted pages show the new branding."), None, &form)
}

fn render(app: &App, staff: &Staff, status: StatusCode, notice: Option<&str>, error: Option<String>, f: &BrandingForm) -> Response {
    let admin = staff.user.role.may(PartnerPermission::ManageSettings);
    let field = |id: &str, label: &str, kind: &str, v: &Option<String>, hint: &str| {
        html! {
            div {
                label for=(id) { (label) }
                input id=(id) name=(id) type=(kind) value=(v.clone().unwrap_or_default()) maxlength="2048" aria-describedby=(format!("{id}-hint"));
                span.muted id=(format!("{id}-hint")) { (hint) }
            }
        }
    };
    let body = html! {
        h1 { "Settings" }
        @if let Some(n) = notice { p.notice role="status" { (n) } }
        @if let Some(e) = &error { p.error role="alert" { (e) } }
        h2 id="branding" { "Branding of your hosted pages" }
        p { "Your clients see it on the onboarding and link-approval pages, beside " (app.platform().name) "'s name." }
        @if admin {
            form method="post" action=(HERE) aria-labelledby="branding" {
                (csrf_field(app, staff, HERE))
                (field("logo_url", "Logo URL", "url", &f.logo_url, "An http(s) address of your logo; empty for none."))
                (field("background_color_code", "Background colour", "text", &f.background_color_code, "Such as #14532d."))
                (field("font_color", "Text colour", "text", &f.font_color, "Such as #ffffff."))
                (field("font_family", "Font", "text", &f.font_family, "A font name, such as Inter."))
                div { button.primary type="submit" { "Save" } }
            }
        } @else {
            dl {
                dt { "Logo URL" } dd { (shown(&f.logo_url)) }
                dt { "Background colour" } dd { (shown(&f.background_color_code)) }
                dt { "Text colour" } dd { (shown(&f.font_color)) }
                dt { "Font" } dd { (shown(&f.font_family)) }
            }
            p.muted { "Only an admin of your team can change the settings." }
        }
    };
    let mut res = staff.page(app, HERE, "Settings", body);
    *res.status_mut() = status;
    res
}

pub async fn save(State(app): State<App>, jar: CookieJar, PageForm(f): PageForm<BrandingForm>) -> Response {
    let staff = match poster(&app, &jar, HERE, HERE, &f.csrf).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match app.staff_set_branding(&staff.session, staff.partner.id, f.branding()).await {
        Ok(_) => Redirect::to(&format!("{HERE}?saved=1")).into_response(),
        Err(e @ AppError::Validation(_)) => render(&app, &staff, crate::error::status_of(&e), None, Some(form_error(&e)), &f),
        Err(e) => staff.failure(&app, HERE, e),
    }
}
