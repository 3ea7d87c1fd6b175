//! Security headers. Every response says `X-Content-Type-Options: nosniff`; HTML pages
//! (hosted pages and their error pages) also forbid framing, send no referrer (their URLs
//! carry secrets), are never cached, and carry a Content-Security-Policy that allows no
//! script and only the page's own stylesheet (by hash), `https:` logos and forms posted
//! back to this origin.

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// The policy of an HTML page; `style_hash` (`sha256-…`) allows its inline stylesheet.
pub fn page_csp(style_hash: Option<&str>) -> String {
    let style = style_hash.map_or_else(|| "'none'".to_string(), |h| format!("'{h}'"));
    format!("default-src 'none'; style-src {style}; img-src https:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

/// Middleware for every route and the fallback.
pub async fn security(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let html = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| ct.starts_with("text/html"));
    let h = res.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if html {
        h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if !h.contains_key(CONTENT_SECURITY_POLICY) {
            h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_str(&page_csp(None)).expect("ASCII policy"));
        }
    }
    res
}
