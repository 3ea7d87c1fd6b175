//! Webhook subscriptions on the Referral API (`/referral-api/v1/Webhooks`, SPEC §9):
//! create, list, get, update, delete, test events, and (ours) the delivery log of one
//! subscription. The JSON of subscriptions and deliveries is shared with the operator's
//! listings in `api::admin`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use refshare_app::webhooks::{CreateWebhookInput, DeliveryLogEntry, TestWebhookInput, UpdateWebhookInput};
use refshare_app::{App, AppError};
use refshare_store::WebhookSubscriptionRecord;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Partner;
use crate::error::ApiResult;
use crate::extract::{Body, Params, Path};
use crate::wire::{opt_ts, page, ts};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/v1/Webhooks", get(list).post(create))
        .route("/v1/Webhooks/test", post(test_event))
        .route("/v1/Webhooks/{id}", get(one).put(update).delete(remove))
        .route("/v1/Webhooks/{id}/deliveries", get(deliveries))
}

fn webhook_id(s: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound("webhook"))
}

/// A subscription as partners see it (`WebhookDto`); `secret` only on creation and rotation.
pub fn webhook_json(w: &WebhookSubscriptionRecord, secret: Option<&str>) -> Value {
    json!({
        "id": w.id,
        "url": w.url,
        "events": w.events,
        "isActive": w.is_active,
        "createdUtc": ts(w.created_at),
        "updatedUtc": ts(w.updated_at),
        "disabledReason": w.disabled_reason,
        "secret": secret,
        "isTestMode": w.is_test_mode,
    })
}

/// One delivery with its attempts.
pub fn delivery_json(e: &DeliveryLogEntry) -> Value {
    let d = &e.delivery;
    json!({
        "id": d.id,
        "eventId": d.event_id,
        "eventType": e.event_type,
        "webhookId": d.subscription_id,
        "partnerId": e.partner_id,
        "status": d.status.as_str(),
        "attemptCount": d.attempts,
        "nextAttemptUtc": opt_ts(d.next_attempt_at),
        "lastStatusCode": d.last_status_code,
        "lastError": d.last_error,
        "deliveredUtc": opt_ts(d.delivered_at),
        "createdUtc": ts(d.created_at),
        "attempts": e.attempts.iter().map(|a| json!({
            "attempt": a.attempt,
            "attemptedUtc": ts(a.at),
            "statusCode": a.status_code,
            "error": a.error,
            "durationMs": a.duration_ms,
        })).collect::<Vec<_>>(),
    })
}

async fn list(State(app): State<App>, Partner(p): Partner) -> ApiResult<Json<Value>> {
    let hooks = app.webhooks(&p).await?;
    Ok(Json(Value::Array(hooks.iter().map(|w| webhook_json(w, None)).collect())))
}

async fn create(State(app): State<App>, Partner(p): Partner, Body(input): Body<CreateWebhookInput>) -> ApiResult<Json<Value>> {
    let (w, secret) = app.create_webhook(&p, input).await?;
    Ok(Json(webhook_json(&w, Some(&secret))))
}

async fn one(State(app): State<App>, Partner(p): Partner, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let w = app.webhook(&p, webhook_id(&id)?).await?;
    Ok(Json(webhook_json(&w, None)))
}

async fn update(
    State(app): State<App>,
    Partner(p): Partner,
    Path(id): Path<String>,
    Body(input): Body<UpdateWebhookInput>,
) -> ApiResult<Json<Value>> {
    let (w, secret) = app.update_webhook(&p, webhook_id(&id)?, input).await?;
    Ok(Json(webhook_json(&w, secret.as_deref())))
}

async fn remove(State(app): State<App>, Partner(p): Partner, Path(id): Path<String>) -> ApiResult<StatusCode> {
    app.delete_webhook(&p, webhook_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test_event(State(app): State<App>, Partner(p): Partner, Body(input): Body<TestWebhookInput>) -> ApiResult<Json<Value>> {
    let (event_type, n) = app.trigger_test_webhook(&p, input).await?;
    let message = if n == 0 {
        format!("No active webhook subscribes to {event_type}; nothing was queued.")
    } else {
        format!("Queued {event_type} for {n} webhook(s); it is delivered like any other event.")
    };
    Ok(Json(json!({"eventType": event_type, "enqueuedCount": n, "message": message})))
}

async fn deliveries(State(app): State<App>, Partner(p): Partner, Path(id): Path<String>, q: Params) -> ApiResult<Json<Value>> {
    let pg = q.page(20)?;
    let (items, total) = app.partner_webhook_deliveries(&p, webhook_id(&id)?, pg).await?;
    Ok(Json(json!({
        "page": page(pg, total, items.len()),
        "deliveries": items.iter().map(delivery_json).collect::<Vec<_>>(),
    })))
}
