//! The dashboard's answers for integrators (issue 10), under `/referral-api` with the
//! partner's `XApiKey`: `GET /attention` (the Attention list) and
//! `GET /clients/{externalTenantId}/timeline` (a client's timeline). Both render the same
//! app views as the dashboard's pages (`app::attention`, `app::timeline`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use refshare_app::attention::{Attention, AttentionItem};
use refshare_app::timeline::{Timeline, TimelineItem};
use refshare_app::App;
use serde_json::{json, Value};

use crate::auth::Partner;
use crate::error::ApiResult;
use crate::extract::Path;
use crate::wire::{num, opt_ts, pct, ts};

pub fn routes() -> Router<App> {
    Router::new().route("/attention", get(attention)).route("/clients/{external_tenant_id}/timeline", get(timeline))
}

async fn attention(State(app): State<App>, Partner(p): Partner) -> ApiResult<Json<Value>> {
    Ok(Json(attention_json(&app.partner_attention(&p).await?)))
}

async fn timeline(State(app): State<App>, Partner(p): Partner, Path(tenant): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(timeline_json(&app.client_timeline(&p, &tenant).await?)))
}

fn attention_item(i: &AttentionItem) -> Value {
    json!({
        "kind": i.kind.as_str(),
        "title": i.kind.label(),
        "externalTenantId": i.external_tenant_id,
        "companyName": i.company_name,
        "caseReference": i.case_reference,
        "disputeId": i.dispute_id,
        "since": ts(i.since),
        "deadline": opt_ts(i.deadline),
        "explanation": i.explanation,
        "action": i.action,
        "url": i.url,
    })
}

pub fn attention_json(a: &Attention) -> Value {
    json!({
        "asOf": ts(a.as_of),
        "items": a.items.iter().map(attention_item).collect::<Vec<_>>(),
        "truncatedKinds": a.truncated.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
    })
}

fn timeline_item(i: &TimelineItem) -> Value {
    json!({
        "at": ts(i.at),
        "kind": i.kind.as_str(),
        "title": i.kind.label(),
        "explanation": i.explanation,
        "caseReference": i.case_reference,
        "caseSource": i.case_source.map(|s| s.as_str()),
        "attributed": i.attributed,
        "referralFeePercentage": i.referral_fee_bps.map(pct),
        "reason": i.reason.map(|r| r.as_str()),
        "referralFee": match (i.referral_fee_minor, i.currency) {
            (Some(m), Some(c)) => num(m, c.exponent()),
            _ => Value::Null,
        },
        "currency": i.currency.map(|c| c.code().to_string()),
    })
}

pub fn timeline_json(t: &Timeline) -> Value {
    json!({
        "externalTenantId": t.external_tenant_id,
        "companyName": t.company_name,
        "asOf": ts(t.as_of),
        "items": t.items.iter().map(timeline_item).collect::<Vec<_>>(),
        "cases": {"shown": t.cases_shown, "total": t.cases_total},
        "payouts": {"shown": t.payouts_shown, "total": t.payouts_total},
    })
}
