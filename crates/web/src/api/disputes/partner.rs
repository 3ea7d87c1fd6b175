//! The partner's dispute routes (`/referral-api/disputes`): file, list, read one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use refshare_app::disputes::DisputeInput;
use refshare_app::{App, AppError};
use serde_json::{json, Value};

use super::dispute_json;
use crate::auth::Partner;
use crate::error::ApiResult;
use crate::extract::{Body, Path};

pub fn routes() -> Router<App> {
    Router::new().route("/disputes", post(file_dispute).get(list_disputes)).route("/disputes/{id}", get(get_dispute))
}

async fn file_dispute(State(app): State<App>, Partner(p): Partner, Body(input): Body<DisputeInput>) -> ApiResult<Response> {
    let v = app.file_dispute(&p, input).await?;
    Ok((StatusCode::CREATED, Json(dispute_json(&v))).into_response())
}

async fn list_disputes(State(app): State<App>, Partner(p): Partner) -> ApiResult<Json<Value>> {
    let list = app.partner_disputes(&p).await?;
    Ok(Json(json!({"disputes": list.iter().map(dispute_json).collect::<Vec<_>>()})))
}

async fn get_dispute(State(app): State<App>, Partner(p): Partner, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::NotFound("dispute"))?;
    Ok(Json(dispute_json(&app.partner_dispute(&p, id).await?)))
}
