//! The Operator API (`/admin-api/v1`, ours): partners and keys, collection partners,
//! partner users and operators (issue 8), direct clients, operator cases, payments, link archive / unarchive / delete, the
//! attribution check for any case, notifications, FX rates (JSON or ECB CSV), audit, the
//! test clock, and the money operations of `api::money`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use axum::{Json, Router};
use refshare_app::clients::DirectClientInput;
use refshare_app::fx::RatesInput;
use refshare_app::partners::{CollectionPartnerInput, PartnerInput};
use refshare_app::payments::{PaymentInput, PaymentOutcome};
use refshare_app::people::{OperatorInput, PartnerUserInput, PersonChange};
use refshare_app::{App, AppError};
use refshare_core::link::{Link, LinkStatus};
use refshare_store::{AuditFilter, CollectionPartnerRecord, OperatorRecord, PartnerRecord, PartnerUserRecord};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::Operator;
use crate::error::{body_of, status_of, ApiResult};
use crate::extract::{idempotency_key, parse_json, parse_strict, Body, JsonValue, MaybeJson, Params, Path, StrictProperties};
use crate::views::attribution_json;
use crate::wire::{num, opt_ts, pct, ts};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/partners", post(create_partner).get(list_partners))
        .route("/partners/{id}", get(get_partner).patch(update_partner))
        .route("/partners/{id}/api-keys", post(rotate_key).get(list_keys))
        .route("/partners/{id}/api-keys/{key_id}", delete(revoke_key))
        .route("/partners/{id}/users", post(add_partner_user).get(list_partner_users))
        .route("/partners/{id}/users/{user_id}", delete(remove_partner_user).patch(change_partner_user))
        .route("/operators", post(add_operator).get(list_operators))
        .route("/operators/{operator_id}", patch(change_operator))
        .route("/collection-partners", post(create_cp).get(list_cps))
        .route("/clients", post(create_client))
        .route("/clients/{client_id}/cases", post(create_case))
        .route("/clients/{client_id}/api-key", post(issue_client_key))
        .route("/cases/{case}/payments", post(register_payment))
        .route("/cases/{case}/attribution", get(attribution))
        .route("/links", get(list_links))
        .route("/links/{id}", get(get_link).delete(delete_link))
        .route("/links/{id}/archive", post(archive_link))
        .route("/links/{id}/unarchive", post(unarchive_link))
        .route("/notifications", get(notifications))
        .route("/webhooks", get(webhooks))
        .route("/webhooks/deliveries", get(webhook_deliveries))
        .route("/fx-rates", post(load_rates))
        .route("/fx-rates/missing", get(missing_rates))
        .route("/audit", get(audit))
        .route("/jobs/expire-link-requests", post(expire_requests))
        .route("/test-clock", get(clock))
        .route("/test-clock/advance", post(advance_clock))
        .merge(crate::api::money::routes())
        .merge(crate::api::disputes::operator::routes())
        // Every route: the operator token or an operator's session, checked first.
        .route_layer(axum::middleware::from_fn(crate::auth::operator_gate))
        // Ours: a property we do not know is a mistake worth a 400, not silence.
        .layer(axum::Extension(StrictProperties))
}

fn id(s: &str, what: &'static str) -> Result<Uuid, AppError> {
    Uuid::parse_str(s).map_err(|_| AppError::NotFound(what))
}

fn partner_json(p: &PartnerRecord) -> Value {
    json!({
        "id": p.id,
        "companyName": p.company_name,
        "contactEmail": p.contact_email,
        "referralFeePercentage": pct(p.referral_fee_bps),
        "approvalTtlDays": p.approval_ttl_days,
        "invoicingTriggerMode": p.invoicing_trigger_mode.as_str(),
        "branding": p.branding,
        "createdAt": ts(p.created_at),
    })
}

fn partner_user_json(u: &PartnerUserRecord) -> Value {
    json!({
        "id": u.id, "partnerId": u.partner_id, "email": u.email, "name": u.name, "role": u.role.as_str(),
        "status": u.status.as_str(), "lastSignInAt": opt_ts(u.last_sign_in_at), "createdAt": ts(u.created_at),
    })
}

fn operator_json(o: &OperatorRecord) -> Value {
    json!({
        "id": o.id, "email": o.email, "name": o.name, "role": o.role.as_str(),
        "status": o.status.as_str(), "lastSignInAt": opt_ts(o.last_sign_in_at), "createdAt": ts(o.created_at),
    })
}

async fn add_partner_user(
    State(app): State<App>,
    _: Operator,
    Path(p): Path<String>,
    Body(input): Body<PartnerUserInput>,
) -> ApiResult<Response> {
    let user = app.add_partner_user(id(&p, "partner")?, input).await?;
    Ok((StatusCode::CREATED, Json(partner_user_json(&user))).into_response())
}

async fn list_partner_users(State(app): State<App>, _: Operator, Path(p): Path<String>, q: Params) -> ApiResult<Json<Value>> {
    let pg = q.page(100)?;
    let (users, total) = app.partner_users(id(&p, "partner")?, pg).await?;
    Ok(Json(json!({"users": users.iter().map(partner_user_json).collect::<Vec<_>>(), "page": crate::wire::page(pg, total, users.len())})))
}

async fn remove_partner_user(State(app): State<App>, _: Operator, Path((p, u)): Path<(String, String)>) -> ApiResult<StatusCode> {
    app.remove_partner_user(id(&p, "partner")?, id(&u, "user")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn change_partner_user(
    State(app): State<App>,
    _: Operator,
    Path((p, u)): Path<(String, String)>,
    Body(change): Body<PersonChange>,
) -> ApiResult<Json<Value>> {
    Ok(Json(partner_user_json(&app.change_partner_user(id(&p, "partner")?, id(&u, "user")?, change).await?)))
}

async fn change_operator(
    State(app): State<App>,
    _: Operator,
    Path(o): Path<String>,
    Body(change): Body<PersonChange>,
) -> ApiResult<Json<Value>> {
    Ok(Json(operator_json(&app.change_operator(id(&o, "operator")?, change).await?)))
}

async fn add_operator(State(app): State<App>, _: Operator, Body(input): Body<OperatorInput>) -> ApiResult<Response> {
    let op = app.add_operator(input).await?;
    Ok((StatusCode::CREATED, Json(operator_json(&op))).into_response())
}

async fn list_operators(State(app): State<App>, _: Operator, q: Params) -> ApiResult<Json<Value>> {
    let pg = q.page(100)?;
    let (ops, total) = app.operators(pg).await?;
    Ok(Json(json!({"operators": ops.iter().map(operator_json).collect::<Vec<_>>(), "page": crate::wire::page(pg, total, ops.len())})))
}

fn cp_json(c: &CollectionPartnerRecord) -> Value {
    json!({
        "id": c.id, "name": c.name, "countries": c.countries,
        "successFeePercentage": pct(c.success_fee_bps), "platformSharePercentage": pct(c.platform_share_bps),
    })
}

pub fn link_json(l: &Link) -> Value {
    json!({
        "id": l.id,
        "partnerId": l.partner_id,
        "clientId": l.client_id,
        "externalTenantId": l.external_tenant_id,
        "isAttributedClient": l.is_attributed,
        "referralFeePercentage": pct(l.referral_fee_bps),
        "linkedAt": ts(l.linked_at),
        "status": l.current_status().as_str(),
        "history": l.history.iter().map(|e| json!({"at": ts(e.at), "status": e.status.as_str(), "actor": e.actor, "reason": e.reason})).collect::<Vec<_>>(),
    })
}

async fn create_partner(State(app): State<App>, _: Operator, Body(input): Body<PartnerInput>) -> ApiResult<Response> {
    let (p, key) = app.create_partner(input).await?;
    let mut v = partner_json(&p);
    v["apiKey"] = json!(key.key);
    v["apiKeyId"] = json!(key.record.id);
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

async fn list_partners(State(app): State<App>, _: Operator) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"partners": app.partners().await?.iter().map(partner_json).collect::<Vec<_>>()})))
}

async fn get_partner(State(app): State<App>, _: Operator, Path(p): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(partner_json(&app.partner(id(&p, "partner")?).await?)))
}

async fn update_partner(
    State(app): State<App>,
    _: Operator,
    Path(p): Path<String>,
    Body(input): Body<PartnerInput>,
) -> ApiResult<Json<Value>> {
    Ok(Json(partner_json(&app.update_partner(id(&p, "partner")?, input).await?)))
}

async fn rotate_key(State(app): State<App>, _: Operator, Path(p): Path<String>) -> ApiResult<Response> {
    let key = app.rotate_partner_key(id(&p, "partner")?).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": key.record.id, "apiKey": key.key, "prefix": key.record.key_prefix, "createdAt": ts(key.record.created_at)})),
    )
        .into_response())
}

async fn list_keys(State(app): State<App>, _: Operator, Path(p): Path<String>) -> ApiResult<Json<Value>> {
    let pid = id(&p, "partner")?;
    app.partner(pid).await?;
    let keys = app.partner_keys(pid).await?;
    Ok(Json(
        json!({"apiKeys": keys.iter().map(|k| json!({"id": k.id, "prefix": k.key_prefix, "createdAt": ts(k.created_at), "revokedAt": opt_ts(k.revoked_at)})).collect::<Vec<_>>()}),
    ))
}

async fn revoke_key(State(app): State<App>, _: Operator, Path((p, k)): Path<(String, String)>) -> ApiResult<StatusCode> {
    app.revoke_partner_key(id(&p, "partner")?, id(&k, "api key")?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_cp(State(app): State<App>, _: Operator, Body(input): Body<CollectionPartnerInput>) -> ApiResult<Response> {
    Ok((StatusCode::CREATED, Json(cp_json(&app.create_collection_partner(input).await?))).into_response())
}

async fn list_cps(State(app): State<App>, _: Operator) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"collectionPartners": app.collection_partners().await?.iter().map(cp_json).collect::<Vec<_>>()})))
}

async fn create_client(State(app): State<App>, _: Operator, Body(input): Body<DirectClientInput>) -> ApiResult<Response> {
    let (c, key) = app.create_direct_client(input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": c.id, "apiKey": key, "companyName": c.company_name, "onboardingDone": c.onboarding_completed_at.is_some()})),
    )
        .into_response())
}

async fn issue_client_key(State(app): State<App>, _: Operator, Path(c): Path<String>) -> ApiResult<Response> {
    let key = app.issue_client_key(id(&c, "client")?).await?;
    Ok((StatusCode::CREATED, Json(json!({"clientId": c, "apiKey": key}))).into_response())
}

/// The properties of a case object, as the document's `CreateCaseRequest` and
/// `DebtorInput` list them (a test keeps the two equal). Operator case creation refuses
/// any other, naming each; the partner- and client-facing case creations keep unknown
/// properties with the case. Only names are checked here: the values are left to
/// `parse_case`, which lists every problem with them.
#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(serde::Serialize))]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct CaseProperties {
    currency_code: Option<Value>,
    amount_to_recover: Option<Value>,
    debtor: Option<DebtorProperties>,
    creditor_reference: Option<Value>,
    comments: Option<Value>,
    claim_description: Option<Value>,
    tag: Option<Value>,
    return_url: Option<Value>,
    allow_pending_contracts: Option<Value>,
    due_date: Option<Value>,
    date: Option<Value>,
    is_test: Option<Value>,
}

/// The properties of a case's `debtor` (see [`CaseProperties`]).
#[derive(Deserialize, Default)]
#[cfg_attr(test, derive(serde::Serialize))]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct DebtorProperties {
    #[serde(rename = "type")]
    kind: Option<Value>,
    name: Option<Value>,
    country_alpha2: Option<Value>,
    contact_person: Option<Value>,
    company_registration_number: Option<Value>,
    address: Option<Value>,
    zip_code: Option<Value>,
    city: Option<Value>,
    state: Option<Value>,
    state_alpha2: Option<Value>,
    country: Option<Value>,
    email: Option<Value>,
    phone: Option<Value>,
}

async fn create_case(State(app): State<App>, _: Operator, Path(c): Path<String>, body: JsonValue) -> ApiResult<Response> {
    let _: CaseProperties = parse_strict(body.value.clone())?;
    let case = app.create_operator_case(id(&c, "client")?, &body.value).await?;
    let cps = app.collection_partners().await?;
    Ok((StatusCode::CREATED, Json(crate::wire::invoice_dto(&case, None, &cps))).into_response())
}

/// `POST /cases/{case}/payments`, with an optional `Idempotency-Key`.
async fn register_payment(
    State(app): State<App>,
    _: Operator,
    Path(case): Path<String>,
    headers: HeaderMap,
    body: JsonValue,
) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let input: PaymentInput = parse_strict(body.value.clone())?;
    let render = |result: Result<&PaymentOutcome, &AppError>| match result {
        Ok(out) => (if out.replayed { 200u16 } else { 201 }, payment_json(out).to_string()),
        Err(e) => (status_of(e).as_u16(), body_of(e).to_string()),
    };
    let (status, body) = app.register_payment_idempotent(&case, input, &body.value, key.as_deref(), render).await?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    Ok((status, [(CONTENT_TYPE, "application/json")], body).into_response())
}

/// The answer to a registered (or replayed) payment.
fn payment_json(out: &PaymentOutcome) -> Value {
    let e = out.payout.currency.exponent();
    let d = &out.decision;
    json!({
        "paymentId": out.payment.id,
        "amount": num(out.payment.amount_minor, e),
        "currency": out.payment.currency.code(),
        "isOverpayment": out.payment.is_overpayment,
        "payout": {"id": out.payout.id, "successFee": num(out.payout.success_fee_minor, e), "platformFee": num(out.payout.platform_fee_minor, e), "currency": out.payout.currency.code()},
        "attribution": {
            "decisionId": d.id,
            "partnerId": d.partner_id,
            "decision": if d.attributed { "attributed" } else { "not_attributed" },
            "reason": d.reason.as_str(),
            "referralFee": num(d.referral_fee_minor, e),
            "referralFeePercentage": d.referral_fee_bps.map(pct),
            "linkId": d.link_id,
            "engineVersion": d.engine_version,
        },
    })
}

async fn attribution(State(app): State<App>, _: Operator, Path(case): Path<String>) -> ApiResult<Json<Value>> {
    let view = app.operator_attribution_check(&case).await?;
    Ok(Json(attribution_json(&app, &view, true)))
}

async fn list_links(State(app): State<App>, _: Operator, q: Params) -> ApiResult<Json<Value>> {
    let parse = |name: &str| -> Result<Option<Uuid>, AppError> {
        q.get(name).map(|v| Uuid::parse_str(v).map_err(|_| AppError::bad_field(name, "must be a UUID"))).transpose()
    };
    let links = app.links(parse("partnerId")?, parse("clientId")?).await?;
    Ok(Json(json!({"links": links.iter().map(link_json).collect::<Vec<_>>()})))
}

async fn get_link(State(app): State<App>, _: Operator, Path(l): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(link_json(&app.link(id(&l, "link")?).await?)))
}

#[derive(Deserialize, Default)]
struct ReasonBody {
    reason: Option<String>,
}

async fn reason(body: Option<JsonValue>) -> Result<Option<String>, crate::error::ApiError> {
    match body {
        None => Ok(None),
        Some(v) => {
            let r: ReasonBody = v.parse()?;
            if r.reason.as_deref().is_some_and(|r| r.len() > 1000) {
                return Err(AppError::bad_field("reason", "must be at most 1000 characters").into());
            }
            Ok(r.reason)
        }
    }
}

async fn change(app: &App, l: &str, to: LinkStatus, body: Option<JsonValue>) -> ApiResult<Json<Value>> {
    let r = reason(body).await?;
    Ok(Json(link_json(&app.change_link(id(l, "link")?, to, r).await?)))
}

async fn archive_link(State(app): State<App>, _: Operator, Path(l): Path<String>, MaybeJson(body): MaybeJson) -> ApiResult<Json<Value>> {
    change(&app, &l, LinkStatus::Archived, body).await
}

async fn unarchive_link(State(app): State<App>, _: Operator, Path(l): Path<String>, MaybeJson(body): MaybeJson) -> ApiResult<Json<Value>> {
    change(&app, &l, LinkStatus::Active, body).await
}

async fn delete_link(State(app): State<App>, _: Operator, Path(l): Path<String>, MaybeJson(body): MaybeJson) -> ApiResult<Json<Value>> {
    change(&app, &l, LinkStatus::Deleted, body).await
}

async fn notifications(State(app): State<App>, _: Operator, q: Params) -> ApiResult<Json<Value>> {
    let mut tx = app.store.read().await.map_err(AppError::from)?;
    let list = tx.notifications(q.get("to"), q.get("kind"), 200).await.map_err(AppError::from)?;
    Ok(Json(json!({"notifications": list.iter().map(|n| json!({
        "id": n.id, "kind": n.kind, "to": n.to_addr, "subject": n.subject, "body": n.body, "relatedId": n.related_id,
        "status": n.status, "error": n.error, "createdAt": ts(n.created_at), "sentAt": opt_ts(n.sent_at),
        "attempts": n.attempts, "nextAttemptAt": opt_ts(n.next_attempt_at),
    })).collect::<Vec<_>>()})))
}

/// JSON rates, or `text/csv` in the ECB reference-rate layout.
async fn load_rates(State(app): State<App>, _: Operator, headers: HeaderMap, body: Bytes) -> ApiResult<Json<Value>> {
    let is_csv = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")));
    let loaded = if is_csv {
        let text = std::str::from_utf8(&body).map_err(|_| AppError::bad_field("body", "is not UTF-8 text"))?;
        app.load_ecb_csv(text).await?
    } else {
        app.load_fx_rates(parse_strict::<RatesInput>(parse_json(&body)?)?).await?
    };
    Ok(Json(json!({"loaded": loaded})))
}

/// `GET /fx-rates/missing`: the (currency, date) pairs that figures shown now need and
/// that are not loaded (reports show those figures as null until they are).
async fn missing_rates(State(app): State<App>, _: Operator) -> ApiResult<Json<Value>> {
    let missing = app.missing_fx_rates().await?;
    Ok(Json(json!({"missingFxRates": crate::views::missing_json(&missing)})))
}

/// `GET /audit?entity=&id=&actor=&action=&page=&pageSize=`: oldest first, paged.
async fn audit(State(app): State<App>, _: Operator, q: Params) -> ApiResult<Json<Value>> {
    let pg = q.page(100)?;
    let filter = AuditFilter {
        entity: q.get("entity").map(str::to_string),
        entity_id: q.get("id").map(str::to_string),
        actor: q.get("actor").map(str::to_string),
        action: q.get("action").map(str::to_string),
    };
    let mut tx = app.store.read().await.map_err(AppError::from)?;
    let (entries, total) = tx.audit_page(&filter, pg).await.map_err(AppError::from)?;
    Ok(Json(json!({
        "entries": entries.iter().map(|a| json!({
            "id": a.id, "at": ts(a.at), "actor": a.actor, "action": a.action, "entity": a.entity, "entityId": a.entity_id, "detail": a.detail,
        })).collect::<Vec<_>>(),
        "page": crate::wire::page(pg, total, entries.len()),
    })))
}

async fn expire_requests(State(app): State<App>, _: Operator) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"expired": app.expire_link_requests().await?})))
}

async fn clock(State(app): State<App>, _: Operator) -> ApiResult<Json<Value>> {
    app.require_test_env()?;
    let offset = app.test_clock.as_ref().map(|c| c.offset_ms()).unwrap_or(0);
    Ok(Json(json!({"now": ts(app.now()), "offsetSeconds": offset / 1000})))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Advance {
    days: Option<i64>,
    hours: Option<i64>,
    seconds: Option<i64>,
}

async fn advance_clock(State(app): State<App>, _: Operator, Body(a): Body<Advance>) -> ApiResult<Json<Value>> {
    app.require_test_env()?;
    let ms = a
        .days
        .unwrap_or(0)
        .checked_mul(86_400_000)
        .and_then(|d| a.hours.unwrap_or(0).checked_mul(3_600_000).and_then(|h| d.checked_add(h)))
        .and_then(|x| a.seconds.unwrap_or(0).checked_mul(1000).and_then(|s| x.checked_add(s)))
        .filter(|ms| (0..=3650 * 86_400_000).contains(ms))
        .ok_or_else(|| AppError::bad_field("days", "the clock moves forward by at most 3650 days"))?;
    let now = app.advance_test_clock(ms).await?;
    // Expiry is derived from the clock anyway; recording it now sends the e-mails.
    app.expire_link_requests().await?;
    let offset = app.test_clock.as_ref().map(|c| c.offset_ms()).unwrap_or(0);
    Ok(Json(json!({"now": ts(now), "offsetSeconds": offset / 1000})))
}

fn opt_id(q: &Params, name: &str) -> Result<Option<Uuid>, AppError> {
    q.get(name).map(|v| Uuid::parse_str(v).map_err(|_| AppError::bad_field(name, "must be a UUID"))).transpose()
}

async fn webhooks(State(app): State<App>, _: Operator, q: Params) -> ApiResult<Json<Value>> {
    let hooks = app.all_webhooks(opt_id(&q, "partnerId")?).await?;
    Ok(Json(json!({
        "webhooks": hooks.iter().map(|w| {
            let mut v = crate::api::webhooks::webhook_json(w, None);
            v["partnerId"] = json!(w.partner_id);
            v["consecutiveFailures"] = json!(w.consecutive_failures);
            v["previousSecretValidUntil"] = opt_ts(w.previous_secret_until);
            v
        }).collect::<Vec<_>>(),
    })))
}

async fn webhook_deliveries(State(app): State<App>, _: Operator, q: Params) -> ApiResult<Json<Value>> {
    let pg = q.page(50)?;
    let filter = refshare_store::DeliveryFilter { partner_id: opt_id(&q, "partnerId")?, subscription_id: opt_id(&q, "subscriptionId")? };
    let (items, total) = app.webhook_deliveries(&filter, pg).await?;
    Ok(Json(json!({
        "page": crate::wire::page(pg, total, items.len()),
        "deliveries": items.iter().map(crate::api::webhooks::delivery_json).collect::<Vec<_>>(),
    })))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(v: &Value) -> BTreeSet<String> {
        v.as_object().expect("an object").keys().cloned().collect()
    }

    #[test]
    fn case_properties_are_the_documented_ones() {
        let schemas = &crate::openapi::spec()["components"]["schemas"];
        let case = serde_json::to_value(CaseProperties::default()).unwrap();
        assert_eq!(keys(&case), keys(&schemas["CreateCaseRequest"]["properties"]));
        let debtor = serde_json::to_value(DebtorProperties::default()).unwrap();
        assert_eq!(keys(&debtor), keys(&schemas["DebtorInput"]["properties"]));
    }
}
