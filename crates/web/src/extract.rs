//! Request parsing shared by the JSON APIs: bodies with property names accepted in
//! camelCase or PascalCase, PascalCase query parameters matched case-insensitively with
//! repeated keys for arrays, path parameters, and bounded pagination.
//!
//! Text is checked here, once, for every surface: a C0 control character (U+0000 to
//! U+001F) in a JSON string or property name, a query parameter, a path parameter or a
//! page form field is a 400 naming the field. Tab and line breaks pass only in the
//! free-text properties of [`FREE_TEXT_PROPERTIES`]. Bodies of routers marked with
//! [`StrictProperties`] (the Operator API) also refuse properties their type does not
//! know; the partner- and client-facing APIs ignore them.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use refshare_app::{AppError, FieldError};
use refshare_core::parse::{check_controls, TextKind};
use refshare_store::PageReq;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// JSON properties holding free text, where tab and line breaks are allowed.
pub const FREE_TEXT_PROPERTIES: &[&str] = &[
    "reason",
    "comment",
    "comments",
    "claimDescription",
    "description",
    "note",
    "notes",
    "message",
    "observation",
    "expectedOutcome",
    "creationMethod",
    "closeComment",
];

/// Most problems listed in one 400.
const MAX_FIELD_ERRORS: usize = 20;

/// A router extension: JSON bodies on this router refuse unknown properties.
#[derive(Debug, Clone, Copy)]
pub struct StrictProperties;

/// One step of a JSON path.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// `cases[0].debtor.name`, or `body` for the root.
fn render_path(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Key(k) if out.is_empty() => out.push_str(k),
            Step::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    if out.is_empty() {
        "body".into()
    } else {
        out
    }
}

/// Refuses control characters anywhere in a (camel-cased) JSON value, naming each field
/// by its path (`cases[0].debtor.name`). The path is only rendered for an error.
pub fn check_json_text(v: &serde_json::Value) -> Result<(), AppError> {
    fn walk<'a>(v: &'a serde_json::Value, path: &mut Vec<Step<'a>>, free: bool, errors: &mut Vec<FieldError>) {
        match v {
            serde_json::Value::String(s) => {
                let kind = if free { TextKind::FreeText } else { TextKind::Line };
                if let Err(e) = check_controls(s, kind) {
                    errors.push(FieldError { field: render_path(path), message: e.to_string() });
                }
            }
            serde_json::Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    walk(x, path, free, errors);
                    path.pop();
                }
            }
            serde_json::Value::Object(map) => {
                for (k, x) in map {
                    if let Err(e) = check_controls(k, TextKind::Line) {
                        errors.push(FieldError { field: render_path(path), message: format!("a property name {e}") });
                        continue;
                    }
                    path.push(Step::Key(k));
                    walk(x, path, FREE_TEXT_PROPERTIES.contains(&k.as_str()), errors);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut errors = Vec::new();
    walk(v, &mut Vec::new(), false, &mut errors);
    errors.truncate(MAX_FIELD_ERRORS);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(errors))
    }
}

/// Parses a JSON body: valid JSON, PascalCase keys folded (see [`camel_keys`]), no control
/// characters (see [`check_json_text`]).
pub fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| AppError::bad_field("body", format!("is not valid JSON: {e}")))?;
    let value = camel_keys(value);
    check_json_text(&value)?;
    Ok(value)
}

/// `external_tenant_id` → `externalTenantId`: the router's parameter names as documented.
fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Refuses control characters in the request's path parameters, naming the parameter.
pub async fn check_path_text<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<(), AppError> {
    let raw = RawPathParams::from_request_parts(parts, state).await.map_err(|e| AppError::bad_field("path", e.body_text()))?;
    for (name, value) in &raw {
        check_controls(value, TextKind::Line).map_err(|e| AppError::bad_field(&camel(name), e.to_string()))?;
    }
    Ok(())
}

/// Refuses control characters in the names and values of a URL-encoded form; tab and
/// line breaks pass in the fields named in [`FREE_TEXT_PROPERTIES`] (a `textarea`).
pub fn check_form_text(body: &[u8]) -> Result<(), AppError> {
    for (k, v) in url::form_urlencoded::parse(body) {
        check_controls(&k, TextKind::Line).map_err(|e| AppError::bad_field("form", format!("a field name {e}")))?;
        let kind = if FREE_TEXT_PROPERTIES.contains(&k.as_ref()) { TextKind::FreeText } else { TextKind::Line };
        check_controls(&v, kind).map_err(|e| AppError::bad_field(&k, e.to_string()))?;
    }
    Ok(())
}

/// Path parameters, deserialised like axum's `Path`, after the control-character check.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        check_path_text(parts, state).await?;
        let axum::extract::Path(t) =
            axum::extract::Path::<T>::from_request_parts(parts, state).await.map_err(|e| AppError::bad_field("path", e.body_text()))?;
        Ok(Path(t))
    }
}

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
    pub raw: Bytes,
    /// Unknown properties are refused (see [`StrictProperties`]).
    pub strict: bool,
}

impl JsonValue {
    /// Deserialises the value: strictly on a [`StrictProperties`] router, else ignoring
    /// unknown properties.
    pub fn parse<T: DeserializeOwned>(self) -> Result<T, ApiError> {
        if self.strict {
            parse_strict(self.value)
        } else {
            parse_body(self.value)
        }
    }
}

impl JsonValue {
    fn from_bytes(raw: Bytes, strict: bool) -> Result<Self, ApiError> {
        Ok(JsonValue { value: parse_json(&raw)?, raw, strict })
    }
}

/// Why a JSON body was refused.
#[derive(Debug)]
pub enum BodyRejection {
    /// Over the 1 MiB limit while streaming (a chunked body; one of a declared length is
    /// refused by the body-limit layer before any extractor runs). A bare 413, which the
    /// edge (`edge::json_errors`) gives the standard error body, as it does the layer's.
    TooLarge,
    Invalid(ApiError),
}

impl<E: Into<ApiError>> From<E> for BodyRejection {
    fn from(e: E) -> Self {
        BodyRejection::Invalid(e.into())
    }
}

impl IntoResponse for BodyRejection {
    fn into_response(self) -> Response {
        match self {
            BodyRejection::TooLarge => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            BodyRejection::Invalid(e) => e.into_response(),
        }
    }
}

/// The whole body and whether the router is marked [`StrictProperties`]: the one body
/// reader of [`JsonValue`] and [`MaybeJson`].
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<(Bytes, bool), BodyRejection> {
    let strict = req.extensions().get::<StrictProperties>().is_some();
    let bytes = Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            BodyRejection::TooLarge
        } else {
            AppError::bad_field("body", "could not be read").into()
        }
    })?;
    Ok((bytes, strict))
}

impl<S: Send + Sync> FromRequest<S> for JsonValue {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (bytes, strict) = read_body(req, state).await?;
        if bytes.is_empty() {
            return Err(AppError::bad_field("body", "a JSON body is required").into());
        }
        Ok(JsonValue::from_bytes(bytes, strict)?)
    }
}

/// A typed JSON body (see [`camel_keys`]).
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Body(JsonValue::from_request(req, state).await?.parse()?))
    }
}

/// The field a serde error is about, with the error.
fn serde_field_error(e: serde_json::Error) -> FieldError {
    let msg = e.to_string();
    let field = msg
        .split('`')
        .nth(1)
        .filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"))
        .unwrap_or("body")
        .to_string();
    FieldError { field, message: msg }
}

/// Deserialises a normalised value, naming the offending field on failure. Unknown
/// properties are ignored.
///
/// The value is read back from its text: `serde_json::from_value` would turn a decimal
/// such as `0.00000001` into `1e-8` on its way into a `Number`, which the exact money
/// parser then refuses as exponent form.
pub fn parse_body<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_str(&v.to_string()).map_err(|e| ApiError(AppError::Validation(vec![serde_field_error(e)])))
}

/// `users[0].name` from serde_ignored's path.
fn ignored_path(p: &serde_ignored::Path) -> String {
    use serde_ignored::Path as P;
    match p {
        P::Root => String::new(),
        P::Seq { parent, index } => format!("{}[{index}]", ignored_path(parent)),
        P::Map { parent, key } => match ignored_path(parent) {
            s if s.is_empty() => key.clone(),
            s => format!("{s}.{key}"),
        },
        P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => ignored_path(parent),
    }
}

/// Deserialises a normalised value (from its text, as [`parse_body`]) and refuses every
/// property `T` does not know, naming each by its path.
pub fn parse_strict<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    let mut errors = Vec::new();
    let text = v.to_string();
    let parsed: Result<T, serde_json::Error> = serde_ignored::deserialize(&mut serde_json::Deserializer::from_str(&text), |path| {
        errors.push(FieldError { field: ignored_path(&path), message: "is not a known property".into() })
    });
    match parsed {
        Ok(t) if errors.is_empty() => Ok(t),
        Ok(_) => {
            errors.truncate(MAX_FIELD_ERRORS);
            Err(ApiError(AppError::Validation(errors)))
        }
        Err(e) => {
            errors.truncate(MAX_FIELD_ERRORS - 1);
            errors.push(serde_field_error(e));
            Err(ApiError(AppError::Validation(errors)))
        }
    }
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
                check_controls(&k, TextKind::Line).map_err(|e| AppError::bad_field("query", format!("a parameter name {e}")))?;
                check_controls(&v, TextKind::Line).map_err(|e| AppError::bad_field(&k, e.to_string()))?;
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
    type Rejection = BodyRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (bytes, strict) = read_body(req, state).await?;
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(MaybeJson(None));
        }
        Ok(MaybeJson(Some(JsonValue::from_bytes(bytes, strict)?)))
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
