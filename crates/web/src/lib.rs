//! refshare-web: the HTTP surface. One axum router serves the Referral API, the Customer
//! API, the Operator API, the hosted pages, health, metrics and the OpenAPI document. Handlers
//! parse, call one use case, and render; errors go through the one table in `error`, and
//! whatever no handler answered still leaves the JSON APIs in that shape (`edge`). Every
//! response passes `headers` (security headers; the full set on HTML pages).

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod edge;
pub mod error;
pub mod extract;
pub mod headers;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod views;
pub mod wire;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use refshare_app::App;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

/// Largest request body accepted on any endpoint but bulk payments
/// ([`api::payments_batch::MAX_BATCH_BODY_BYTES`]).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The whole service.
pub fn router(app: App) -> Router {
    Router::new()
        .nest("/referral-api", api::referral::routes())
        .nest("/customer-api", api::customer::routes())
        .nest("/admin-api/v1", api::admin::routes())
        .merge(pages::routes())
        .merge(dashboard::routes())
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(openapi::document))
        .route("/metrics", get(metrics::metrics))
        .fallback(not_found)
        // Inside `headers::security`: the framed pages get the HTML headers.
        .layer(axum::middleware::from_fn_with_state(app.clone(), pages::frame_platform_pages))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        // Bulk payments take larger bodies: merged after the limit, with its own.
        .merge(api::payments_batch::routes())
        .layer(axum::middleware::from_fn(edge::json_errors))
        .layer(axum::middleware::from_fn(headers::security))
        // Outside the limits and the edge, so their refusals are counted too.
        .layer(axum::middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        // For middleware that needs the app (the Operator API's `auth::operator_gate`).
        .layer(axum::Extension(app.clone()))
        .with_state(app)
}

async fn healthz(axum::extract::State(app): axum::extract::State<App>) -> impl IntoResponse {
    match app.store.read().await {
        Ok(_) => (StatusCode::OK, Json(serde_json::json!({"status": "ok"}))),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable"})))
        }
    }
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, Json(error::error_body("NotFound", "No such endpoint.", "NotFound")))
}
