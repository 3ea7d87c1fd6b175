//! Hosted, partner-branded client pages: onboarding with SDCA signing and link-request
//! approval, whose forms only a signed-in user of the client may use (`consent`), the
//! agreement's download, and the platform's sign-in pages. Plain HTML forms that work
//! without JavaScript; every form carries a CSRF token bound to the session (or, before
//! sign-in, to the browser's pre-session cookie).

mod agreement;
mod approval;
mod consent;
mod dev_mail;
pub(crate) mod layout;
mod onboarding;
pub mod signin;

pub use layout::frame_platform_pages;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use refshare_app::{App, AppError};
use serde::de::DeserializeOwned;

use crate::extract::{check_form_text, check_path_text};

/// The one path parameter of a page, checked like every path parameter
/// (`extract::check_path_text`); a refusal is the HTML error page.
pub struct PagePath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for PagePath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        check_path_text(parts, state).await.map_err(layout::error_page)?;
        let axum::extract::Path(v) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| layout::error_page(AppError::bad_field("path", e.body_text())))?;
        Ok(PagePath(v))
    }
}

/// A page's URL-encoded form, its names and values checked for control characters
/// (`extract::check_form_text`, an HTML 400) before axum's `Form` reads it.
pub struct PageForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/x-www-form-urlencoded"));
        let (parts, body) = req.into_parts();
        let bytes = axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
            .await
            .map_err(|_| layout::error_page(AppError::bad_field("body", "could not be read")))?;
        if is_form {
            check_form_text(&bytes).map_err(layout::error_page)?;
        }
        let req = Request::from_parts(parts, axum::body::Body::from(bytes));
        let axum::Form(t) = axum::Form::<T>::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        Ok(PageForm(t))
    }
}

pub fn routes() -> Router<App> {
    Router::new()
        .route("/agreements/{version}", get(agreement::download))
        .route("/onboarding/{link_id}", get(onboarding::show).post(onboarding::sign))
        .route("/onboarding/{link_id}/sign-in", post(onboarding::sign_in))
        .route("/link-requests/{token}", get(approval::show).post(approval::decide))
        .route("/link-requests/{token}/sign-in", post(approval::sign_in))
        .route("/login", get(signin::show_login).post(signin::request_login))
        .route("/login/code", post(signin::code))
        .route("/login/{secret}", get(signin::confirm_page).post(signin::confirm))
        .route("/account", get(signin::account))
        .route("/account/choose", post(signin::choose))
        .route("/logout", post(signin::logout))
        .route("/dev/mail", get(dev_mail::show))
}
