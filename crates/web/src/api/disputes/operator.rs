//! The operator's dispute routes (`/admin-api/v1/disputes`): list by status, read one,
//! resolve.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use refshare_app::disputes::{DisputeView, ResolveInput};
use refshare_app::{App, AppError};
use serde_json::{json, Value};

use super::dispute_json;
use crate::auth::Operator;
use crate::error::ApiResult;
use crate::extract::{Body, Params, Path};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/disputes", get(list_disputes))
        .route("/disputes/{id}", get(get_dispute))
        .route("/disputes/{id}/resolve", post(resolve_dispute))
}

/// The partner's rendering plus the partner's id.
fn operator_json(v: &DisputeView) -> Value {
    let mut out = dispute_json(v);
    out["partnerId"] = json!(v.dispute.partner_id);
    out
}

fn id(s: &str) -> Result<uuid::Uuid, AppError> {
    uuid::Uuid::parse_str(s).map_err(|_| AppError::NotFound("dispute"))
}

async fn list_disputes(State(app): State<App>, _: Operator, q: Params) -> ApiResult<Json<Value>> {
    let list = app.all_disputes(q.get("status")).await?;
    Ok(Json(json!({"disputes": list.iter().map(operator_json).collect::<Vec<_>>()})))
}

async fn get_dispute(State(app): State<App>, _: Operator, Path(d): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(operator_json(&app.dispute(id(&d)?).await?)))
}

async fn resolve_dispute(
    State(app): State<App>,
    _: Operator,
    Path(d): Path<String>,
    Body(input): Body<ResolveInput>,
) -> ApiResult<Json<Value>> {
    Ok(Json(operator_json(&app.resolve_dispute(id(&d)?, input).await?)))
}
