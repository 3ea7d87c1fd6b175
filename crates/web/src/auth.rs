//! Credential extractors: `XApiKey` for partners and clients, `Authorization: Bearer` for
//! partner-minted client tokens and the operator token. Missing or unknown credentials
//! are a 401 with the error body on every endpoint.
//!
//! The Operator API passes [`operator_gate`] first: the operator token (every right), or
//! without an `Authorization` header the session cookie of a signed-in operator (its
//! chosen account). A session's `viewer` may only GET/HEAD (403 `RoleForbids`); a session's
//! change must come as `application/json` (or `text/csv`), which no cross-site form or
//! CORS-simple request can send, so the `SameSite=Lax` cookie cannot be ridden cross-site
//! (403 `CsrfRefused`). What a session changes is audited under its operator.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum_extra::extract::cookie::CookieJar;
use refshare_app::auth::{CustomerPrincipal, OperatorPrincipal};
use refshare_app::{actor, App, AppError, SigninError};
use refshare_store::PartnerRecord;

use crate::error::ApiError;

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty())
}

fn bearer(parts: &Parts) -> Option<&str> {
    header(parts, "authorization").and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
}

/// A referral partner authenticated by its API key.
pub struct Partner(pub PartnerRecord);

impl FromRequestParts<App> for Partner {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let key = header(parts, "xapikey").ok_or(AppError::Unauthorized)?;
        Ok(Partner(app.authenticate_partner(key).await?))
    }
}

/// A referral partner with the id of the API key it called with (token minting names it).
pub struct PartnerKey(pub PartnerRecord, pub uuid::Uuid);

impl FromRequestParts<App> for PartnerKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let key = header(parts, "xapikey").ok_or(AppError::Unauthorized)?;
        let (partner, key_id) = app.authenticate_partner_key(key).await?;
        Ok(PartnerKey(partner, key_id))
    }
}

/// The caller of the Customer API: a client key or a partner-minted token.
pub struct Customer(pub CustomerPrincipal);

impl FromRequestParts<App> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        Ok(Customer(app.authenticate_customer(header(parts, "xapikey"), bearer(parts)).await?))
    }
}

/// The platform operator, as [`operator_gate`] let it in. On a route without the gate it
/// is always 401.
pub struct Operator(pub OperatorPrincipal);

impl FromRequestParts<App> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &App) -> Result<Self, Self::Rejection> {
        Ok(Operator(parts.extensions.get::<OperatorPrincipal>().cloned().ok_or(AppError::Unauthorized)?))
    }
}

/// Content types a cross-site page cannot send without a CORS preflight (which this
/// server never grants): the ones a session may change something with.
const SESSION_CHANGE_TYPES: [&str; 2] = ["application/json", "text/csv"];

fn sends_json(parts: &Parts) -> bool {
    let Some(ct) = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    SESSION_CHANGE_TYPES.contains(&essence.as_str())
}

/// Who calls the Operator API, and whether they may make this request.
async fn operator_principal(app: &App, parts: &Parts) -> Result<OperatorPrincipal, AppError> {
    if parts.headers.contains_key(header::AUTHORIZATION) {
        app.authenticate_operator(bearer(parts).ok_or(AppError::Unauthorized)?)?;
        return Ok(OperatorPrincipal::Token);
    }
    let jar = CookieJar::from_headers(&parts.headers);
    let cookie = jar.get(crate::pages::signin::session_cookie(app)).filter(|c| !c.value().is_empty()).ok_or(AppError::Unauthorized)?;
    let who = app.authenticate_operator_session(cookie.value()).await?;
    let changes = !matches!(parts.method, Method::GET | Method::HEAD);
    app.authorize_operator(&who, changes)?;
    if changes && !sends_json(parts) {
        return Err(SigninError::SessionNeedsJson.into());
    }
    Ok(who)
}

/// The Operator API's gate (a route layer on `/admin-api/v1`; the app comes as the
/// router's `Extension`): authenticates and
/// authorizes the caller before anything is read or changed, hands it to the [`Operator`]
/// extractor, and runs a session's request as its operator for the audit log.
pub async fn operator_gate(Extension(app): Extension<App>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let who = match operator_principal(&app, &parts).await {
        Ok(who) => who,
        Err(e) => return ApiError(e).into_response(),
    };
    let mut req = Request::from_parts(parts, body);
    req.extensions_mut().insert(who.clone());
    match who {
        OperatorPrincipal::Token => next.run(req).await,
        OperatorPrincipal::Session(_) => actor::as_operator(who.actor(), next.run(req)).await,
    }
}

/// Whoever may read `/metrics`, and what they may see (see `App::authenticate_metrics`).
pub struct Scraper(pub refshare_app::auth::MetricsAccess);

impl FromRequestParts<App> for Scraper {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        Ok(Scraper(app.authenticate_metrics(bearer(parts))?))
    }
}
