//! The edge of the JSON APIs (`/referral-api`, `/customer-api`, `/admin-api`): one error
//! shape for every 4xx and 5xx, also those no handler wrote. Responses of the router
//! (404, 405), of the body limit (413) and of axum's extractors (plain-text rejections)
//! are rewritten into `{error, message, businessErrors}`; over-long URIs (414), bodies
//! that are not JSON (415) and reference paths we do not offer (404) are refused here
//! before a handler runs.
//!
//! URIs longer than the HTTP parser's own limit (64 KiB) are refused by hyper itself, with
//! an empty 414, before any of this code runs.

use axum::body::HttpBody;
use axum::extract::{MatchedPath, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::error_body;

/// Path prefixes of the JSON APIs.
pub const API_PREFIXES: [&str; 3] = ["/referral-api", "/customer-api", "/admin-api"];

/// Longest request URI (path and query) the APIs accept.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Reference paths we do not offer that a route template of ours would otherwise match
/// (`/cases/{id}` answering 405 to `POST /cases/preview`): the JSON 404 of any unknown path.
const NOT_OFFERED: [&str; 1] = ["/customer-api/cases/preview"];

/// Longest plain-text rejection kept as the message of a rewritten 4xx.
const MAX_DETAIL_BYTES: usize = 4 * 1024;

/// Whether `path` belongs to one of the JSON APIs.
pub fn is_api(path: &str) -> bool {
    API_PREFIXES.iter().any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// Middleware for every route and the fallback: see the module header.
pub async fn json_errors(req: Request, next: Next) -> Response {
    if !is_api(req.uri().path()) {
        return next.run(req).await;
    }
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > MAX_URI_BYTES {
        let message = format!("The request URI is {uri_len} bytes long; the limit is {MAX_URI_BYTES} bytes.");
        return (StatusCode::URI_TOO_LONG, Json(error_body("UriTooLong", &message, "UriTooLong"))).into_response();
    }
    if NOT_OFFERED.contains(&req.uri().path().trim_end_matches('/')) {
        return (StatusCode::NOT_FOUND, Json(error_body("NotFound", "No such endpoint.", "NotFound"))).into_response();
    }
    // Only where a route matched: an unknown path stays a 404 whatever its body.
    if req.extensions().get::<MatchedPath>().is_some() {
        // A body of a known length of zero is no body; an unknown length (chunked) is one.
        let has_body = req.body().size_hint().upper() != Some(0);
        if let Some(media) = unsupported_body(req.headers()).filter(|_| has_body) {
            let message = format!("The body is `{media}`; send it as `application/json`.");
            return (StatusCode::UNSUPPORTED_MEDIA_TYPE, Json(error_body("UnsupportedMediaType", &message, "UnsupportedMediaType")))
                .into_response();
        }
    }
    let method = req.method().clone();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(res.headers()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let detail = axum::body::to_bytes(body, MAX_DETAIL_BYTES)
        .await
        .ok()
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .filter(|s| !s.is_empty());
    let (error, fixed) = describe(status);
    let message = match (status, detail) {
        (s, Some(detail)) if s.is_server_error() => {
            tracing::error!(status = s.as_u16(), %detail, "plain-text server error rewritten at the edge");
            fixed.to_string()
        }
        // Extractor rejections say what was wrong with the request.
        (StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY, Some(detail)) => detail,
        // The router adds the `Allow` header after this layer has run.
        (StatusCode::METHOD_NOT_ALLOWED, _) => format!("{method} is not allowed on this endpoint; the Allow header lists those that are."),
        _ => fixed.to_string(),
    };
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.remove(CONTENT_TYPE);
    (parts, Json(error_body(error, &message, error))).into_response()
}

fn is_json(headers: &HeaderMap) -> bool {
    headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| media_type(ct).ends_with("json"))
}

fn media_type(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// The media type of a request body the APIs do not read: anything but JSON, and CSV
/// (FX rates). A body without a `Content-Type` is read as JSON.
fn unsupported_body(headers: &HeaderMap) -> Option<String> {
    let media = media_type(headers.get(CONTENT_TYPE)?.to_str().unwrap_or("unreadable"));
    let json = media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"));
    (!json && media != "text/csv").then_some(media)
}

/// The `error` name and the message of a status no handler described.
fn describe(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::BAD_REQUEST => ("ValidationError", "The request is invalid."),
        StatusCode::UNAUTHORIZED => ("Unauthorized", "Missing or invalid credentials."),
        StatusCode::FORBIDDEN => ("Forbidden", "This request is not allowed."),
        StatusCode::NOT_FOUND => ("NotFound", "No such endpoint."),
        StatusCode::METHOD_NOT_ALLOWED => ("MethodNotAllowed", "This method is not allowed on this endpoint."),
        StatusCode::PAYLOAD_TOO_LARGE => {
            ("PayloadTooLarge", "The request body is larger than the limit (1 MiB; 4 MiB for POST /admin-api/v1/payments/batch).")
        }
        StatusCode::URI_TOO_LONG => ("UriTooLong", "The request URI is too long."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("UnsupportedMediaType", "Send the body as application/json."),
        StatusCode::UNPROCESSABLE_ENTITY => ("UnprocessableEntity", "The request could not be processed."),
        StatusCode::TOO_MANY_REQUESTS => ("TooManyRequests", "Too many requests. Please retry later."),
        s if s.is_client_error() => ("BadRequest", "The request could not be handled."),
        StatusCode::SERVICE_UNAVAILABLE => ("ServiceUnavailable", "The service is unavailable. Please retry later."),
        _ => ("InternalError", "Something went wrong on our side. Please retry later."),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use axum::Router;
    use tower::ServiceExt;

    async fn answer(status: StatusCode, body: &'static str, json: bool, path: &str) -> (StatusCode, String) {
        let handler = move || async move {
            let ct = if json { "application/json" } else { "text/plain" };
            (status, [(axum::http::header::CONTENT_TYPE, ct)], body)
        };
        // A fallback, not a route: the OpenAPI test counts every `route` in the sources.
        let router = Router::new().fallback(handler).layer(axum::middleware::from_fn(super::json_errors));
        let res = router.oneshot(Request::builder().uri(path).body(Body::empty()).unwrap()).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_plain_text_5xx_becomes_the_error_body_and_says_nothing() {
        let (status, body) = answer(StatusCode::INTERNAL_SERVER_ERROR, "db password is hunter2", false, "/admin-api/v1/x").await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"], "InternalError");
        assert!(!body.contains("hunter2"), "{body}");
        let (status, body) = answer(StatusCode::SERVICE_UNAVAILABLE, "", false, "/referral-api/x").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("\"ServiceUnavailable\""), "{body}");
    }

    #[tokio::test]
    async fn json_errors_and_other_paths_are_left_alone() {
        let conflict = r#"{"type":"ClientExistsNeedsLinking","message":"m","data":{}}"#;
        assert_eq!(answer(StatusCode::CONFLICT, conflict, true, "/referral-api/x").await.1, conflict);
        assert_eq!(answer(StatusCode::NOT_FOUND, "gone", false, "/onboarding/x").await.1, "gone");
        assert_eq!(answer(StatusCode::NOT_FOUND, "gone", false, "/referral-apix").await.1, "gone");
    }
}
