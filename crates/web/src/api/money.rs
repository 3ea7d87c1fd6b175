//! Operator money operations (`/admin-api/v1`): reversing a payment, the commission paid
//! on a payout, the monthly collection-partner invoicing run and its payment, partner
//! invoices and their payment, and reconciliation of the ledger.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use refshare_app::revenue::{CpInvoiceView, PartnerInvoiceView};
use refshare_app::{App, AppError, InternalError};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Operator;
use crate::error::ApiResult;
use crate::extract::{Body, MaybeJson, Path};
use crate::wire::{num, opt_ts, ts};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/payments/{id}", delete(reverse_payment))
        .route("/payouts/{id}/commission-paid", post(commission_paid))
        .route("/invoicing/collection-partners/run", post(run_cp_invoicing))
        .route("/cp-invoices/{id}/paid", post(cp_invoice_paid))
        .route("/partner-invoices", post(create_partner_invoice))
        .route("/partner-invoices/{id}/paid", post(partner_invoice_paid))
        .route("/reconcile", get(reconcile))
}

fn id(s: &str, what: &'static str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound(what))
}

fn cp_invoice_json(v: &CpInvoiceView) -> Value {
    let i = &v.invoice;
    json!({
        "id": i.id, "collectionPartnerId": i.collection_partner_id, "period": i.period,
        "amount": num(i.amount_minor, i.currency.exponent()), "currency": i.currency.code(),
        "status": i.status.as_str(), "createdAt": ts(i.created_at), "dueAt": opt_ts(i.due_at), "paidAt": opt_ts(i.paid_at), "payoutIds": v.payout_ids,
    })
}

fn partner_invoice_json(v: &PartnerInvoiceView) -> Value {
    let i = &v.invoice;
    json!({
        "id": i.id, "partnerId": i.partner_id, "amount": num(i.amount_minor, i.currency.exponent()), "currency": i.currency.code(),
        "status": i.status, "createdAt": ts(i.created_at), "dueAt": opt_ts(i.due_at), "paidAt": opt_ts(i.paid_at), "earningIds": v.earning_ids,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReasonBody {
    reason: Option<String>,
}

/// `DELETE /payments/{id}` with an optional `{reason}`.
async fn reverse_payment(
    State(app): State<App>,
    _: Operator,
    Path(payment): Path<String>,
    MaybeJson(body): MaybeJson,
) -> ApiResult<Json<Value>> {
    let reason = match body {
        Some(b) => b.parse::<ReasonBody>()?.reason,
        None => None,
    };
    let out = app.reverse_payment(id(&payment, "payment")?, reason).await?;
    let earning = |e: &refshare_store::EarningRecord| json!({"earningId": e.id, "partnerId": e.partner_id, "kind": e.kind.as_str(), "amount": num(e.amount_minor, e.currency.exponent()), "currency": e.currency.code()});
    Ok(Json(json!({
        "reversalId": out.reversal.id,
        "paymentId": out.reversal.payment_id,
        "payoutId": out.payout_id,
        "reason": out.reversal.reason,
        "reversedAt": ts(out.reversal.created_at),
        "voidedEarnings": out.voided.iter().map(earning).collect::<Vec<_>>(),
        "clawbacks": out.clawbacks.iter().map(earning).collect::<Vec<_>>(),
    })))
}

/// `POST /payouts/{id}/commission-paid`.
async fn commission_paid(State(app): State<App>, _: Operator, Path(payout): Path<String>) -> ApiResult<Json<Value>> {
    let p = app.commission_paid(id(&payout, "payout")?).await?;
    Ok(Json(json!({
        "payoutId": p.id,
        "commissionPaymentStatus": p.commission_status.as_str(),
        "commissionPaidAt": opt_ts(p.commission_paid_at),
        "fxRateDate": p.fx_rate_date,
        "usdPerUnit": p.fx_usd_per_unit_e8.map(|r| num(r, 8)),
    })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunBody {
    period: String,
}

/// `POST /invoicing/collection-partners/run {period}`.
async fn run_cp_invoicing(State(app): State<App>, _: Operator, Body(body): Body<RunBody>) -> ApiResult<Json<Value>> {
    let invoices = app.run_cp_invoicing(&body.period).await?;
    Ok(Json(json!({"period": body.period, "invoices": invoices.iter().map(cp_invoice_json).collect::<Vec<_>>()})))
}

/// `POST /cp-invoices/{id}/paid`.
async fn cp_invoice_paid(State(app): State<App>, _: Operator, Path(invoice): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(cp_invoice_json(&app.cp_invoice_paid(id(&invoice, "invoice")?).await?)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PartnerInvoiceBody {
    partner_id: Uuid,
    earning_ids: Option<Vec<Uuid>>,
}

/// `POST /partner-invoices {partnerId, earningIds?}`.
async fn create_partner_invoice(
    State(app): State<App>,
    _: Operator,
    Body(body): Body<PartnerInvoiceBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let v = app.create_partner_invoice(body.partner_id, body.earning_ids).await?;
    Ok((StatusCode::CREATED, Json(partner_invoice_json(&v))))
}

/// `POST /partner-invoices/{id}/paid`.
async fn partner_invoice_paid(State(app): State<App>, _: Operator, Path(invoice): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(partner_invoice_json(&app.partner_invoice_paid(id(&invoice, "invoice")?).await?)))
}

/// `GET /reconcile`: 200 when everything agrees, 409 naming the first discrepancy.
async fn reconcile(State(app): State<App>, _: Operator) -> ApiResult<Json<Value>> {
    Ok(Json(
        serde_json::to_value(app.reconcile().await?)
            .map_err(|e| AppError::Internal(InternalError::caused_by("encoding the reconciliation", e)))?,
    ))
}
