//! Credential extractors: `XApiKey` for partners and clients, `Authorization: Bearer` for
//! partner-minted client tokens and the operator token. Missing or unknown credentials
//! are a 401 with the error body on every endpoint.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use refshare_app::auth::CustomerPrincipal;
use refshare_app::{App, AppError};
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

/// The platform operator.
pub struct Operator;

impl FromRequestParts<App> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        app.authenticate_operator(bearer(parts).ok_or(AppError::Unauthorized)?)?;
        Ok(Operator)
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
