//! Request parsing shared by the JSON APIs: bodies with property names accepted in
//! camelCase or PascalCase, PascalCase query parameters matched case-insensitively with
//! repeated keys for arrays, and bounded pagination.

use std::collections::HashMap;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use refshare_app::{AppError, FieldError};
use refshare_store::PageReq;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Largest page a list endpoint returns.
pub const MAX_PAGE_SIZE: u32 = 100;

/// Lower-cases the first letter of every object key, recursively (`ExternalTenantId` →
/// `externalTenantId`), so .NET-style PascalCase bodies bind like camelCase ones.
pub fn camel_keys(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let mut c = k.chars();
                    let key = match c.next() {
                        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
                        None => k,
                    };
                    (key, camel_keys(v))
                })
                .collect(),
        ),
        serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(camel_keys).collect()),
        other => other,
    }
}

/// A JSON body: the normalised value and the raw bytes (for idempotency hashing).
pub struct JsonValue {
    pub value: serde_json::Value,
    pub raw: axum::body::Bytes,
}

impl<S: Send + Sync> FromRequest<S> for JsonValue {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::bad_field("body", "is larger than the 1 MiB limit")
            } else {
                AppError::bad_field("body", "could not be read")
            }
        })?;
        if bytes.is_empty() {
            return Err(AppError::bad_field("body", "a JSON body is required").into());
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| AppError::bad_field("body", format!("is not valid JSON: {e}")))?;
        Ok(JsonValue { value: camel_keys(value), raw: bytes })
    }
}

/// A typed JSON body (see [`camel_keys`]).
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let v = JsonValue::from_request(req, state).await?;
        parse_body(v.value).map(Body)
    }
}

/// Deserialises a normalised value, naming the offending field on failure.
pub fn parse_body<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| {
        let msg = e.to_string();
        let field = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"))
            .unwrap_or("body")
            .to_string();
        ApiError(AppError::Validation(vec![FieldError { field, message: msg }]))
    })
}

/// Query parameters, keys lower-cased, repeated keys kept in order.
#[derive(Debug, Default)]
pub struct Params(HashMap<String, Vec<String>>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(q) = parts.uri.query() {
            for (k, v) in url_decode_pairs(q) {
                map.entry(k.to_lowercase()).or_default().push(v);
            }
        }
        Ok(Params(map))
    }
}

fn url_decode_pairs(q: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(&name.to_lowercase()).and_then(|v| v.first()).map(String::as_str).filter(|s| !s.is_empty())
    }

    /// Every value of a repeated (or comma-separated) parameter.
    pub fn list(&self, name: &str) -> Vec<String> {
        self.0
            .get(&name.to_lowercase())
            .map(|vs| vs.iter().flat_map(|v| v.split(',')).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default()
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(AppError::bad_field(name, "must be true or false").into()),
        }
    }

    pub fn instant(&self, name: &str) -> Result<Option<refshare_core::Instant>, ApiError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => parse_instant(v).map(Some).ok_or_else(|| AppError::bad_field(name, "must be an ISO 8601 date or date-time").into()),
        }
    }

    /// `Page` and `PageSize`, refusing sizes above [`MAX_PAGE_SIZE`].
    pub fn page(&self, default_size: u32) -> Result<PageReq, ApiError> {
        let num = |name: &str, default: u32| -> Result<u32, ApiError> {
            match self.get(name) {
                None => Ok(default),
                Some(v) => {
                    v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| AppError::bad_field(name, "must be a positive integer").into())
                }
            }
        };
        let page = num("Page", 1)?;
        let size = num("PageSize", default_size)?;
        if size > MAX_PAGE_SIZE {
            return Err(AppError::bad_field("PageSize", format!("must be at most {MAX_PAGE_SIZE}")).into());
        }
        if page > 1_000_000 {
            return Err(AppError::bad_field("Page", "is too large").into());
        }
        Ok(PageReq { page, size })
    }

    /// `Sort=field:dir` → (field, ascending).
    pub fn sort(&self) -> Option<(String, bool)> {
        self.get("Sort").map(|s| match s.split_once(':') {
            Some((f, d)) => (f.to_string(), d.eq_ignore_ascii_case("asc")),
            None => (s.to_string(), false),
        })
    }
}

/// Parses `2026-01-31` or an RFC 3339 date-time.
pub fn parse_instant(s: &str) -> Option<refshare_core::Instant> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Some(t.and_utc());
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}

/// An optional JSON body: absent or empty is `None`.
pub struct MaybeJson(pub Option<JsonValue>);

impl<S: Send + Sync> FromRequest<S> for MaybeJson {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|_| AppError::bad_field("body", "could not be read"))?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(MaybeJson(None));
        }
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| AppError::bad_field("body", format!("is not valid JSON: {e}")))?;
        Ok(MaybeJson(Some(JsonValue { value: camel_keys(value), raw: bytes })))
    }
}

/// The optional `Idempotency-Key` header (API.md: 1 to 255 visible characters).
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let k = v.to_str().map_err(|_| AppError::bad_field("Idempotency-Key", "must be visible ASCII"))?.trim().to_string();
    if k.is_empty() || k.len() > 255 {
        return Err(AppError::bad_field("Idempotency-Key", "must be 1 to 255 characters").into());
    }
    Ok(Some(k))
}
