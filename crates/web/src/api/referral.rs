//! The Referral Partner API (`/referral-api`), wire-compatible with the reference document,
//! plus our self-serve attribution check.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use refshare_app::clients::{ClientFilter, CreateClientInput};
use refshare_app::App;
use refshare_core::case::Lifecycle;
use refshare_store::{CaseCursor, CaseFilter};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::auth::{Partner, PartnerKey};
use crate::error::ApiResult;
use crate::extract::{Body, JsonValue, Params, Path};
use crate::views::{attribution_json, case_item, potential_revenue, transactions};
use crate::wire::{client_out, page, ClientOut};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/clients", post(create_client).get(list_clients))
        .route("/clients/{external_tenant_id}", get(get_client).delete(delete_client))
        .route("/clients/{external_tenant_id}/withdraw", post(withdraw))
        .route("/clients/{external_tenant_id}/is-deletable", get(is_deletable))
        .route("/oauth/token", post(token))
        .route("/me", get(me))
        .route("/cases", get(list_cases))
        .route("/cases/{id}", get(get_case))
        .route("/reporting/transactions", get(reporting))
        .route("/referral-partner/filter-options", get(filter_options))
        .route("/attribution/cases/{reference}", get(attribution))
        .merge(crate::api::disputes::partner::routes())
        .merge(crate::api::statements::routes())
        .merge(crate::api::webhooks::routes())
        .merge(crate::api::attention::routes())
}

async fn create_client(State(app): State<App>, Partner(p): Partner, body: JsonValue) -> ApiResult<Response> {
    let input: CreateClientInput = body.parse()?;
    let created = app.create_client(&p, input).await?;
    let cps = app.collection_partners().await?;
    let status = if created.onboarding_done { StatusCode::CREATED } else { StatusCode::ACCEPTED };
    Ok((status, Json(client_out(&created.state).with_cases(&created.cases, created.creditor.as_ref(), &cps))).into_response())
}

async fn list_clients(State(app): State<App>, Partner(p): Partner, q: Params) -> ApiResult<Response> {
    let pg = q.page(50)?;
    let sort = match q.get("Sort").map(|s| s.to_string()) {
        None => "dateCreated:desc".to_string(),
        Some(s) => {
            let (f, d) = s.split_once(':').unwrap_or((s.as_str(), "desc"));
            let f = if f.eq_ignore_ascii_case("name") { "name" } else { "dateCreated" };
            format!("{f}:{}", if d.eq_ignore_ascii_case("asc") { "asc" } else { "desc" })
        }
    };
    let filter = ClientFilter {
        query: q.get("Query").map(str::to_string),
        external_tenant_id: q.get("ExternalTenantId").map(str::to_string),
        is_attributed: q.bool("IsAttributedClient")?,
        onboarding_done: q.bool("OnboardingDone")?,
        created_from: q.instant("DateCreatedFrom")?,
        created_to: q.instant("DateCreatedTo")?,
        sort,
    };
    let listing = app.partner_clients(&p, &filter, pg).await?;
    let summary = &listing.summary;
    Ok(Json(ClientsOut {
        page: page(pg, listing.total, listing.items.len()),
        summary: SummaryOut {
            total_clients: summary.total_clients,
            attributed_clients: summary.attributed_clients,
            onboarding_complete: summary.onboarding_complete,
            onboarding_pending: summary.onboarding_pending,
            total_cases: summary.total_cases,
        },
        clients: listing.items.iter().map(client_out).collect(),
    })
    .into_response())
}

/// The reference's `GetClientsResponse`, serialized as it stands.
#[derive(Serialize)]
struct ClientsOut<'a> {
    page: Value,
    summary: SummaryOut,
    clients: Vec<ClientOut<'a>>,
}

/// The reference's `ClientsSummary`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SummaryOut {
    total_clients: i64,
    attributed_clients: i64,
    onboarding_complete: i64,
    onboarding_pending: i64,
    total_cases: i64,
}

async fn get_client(State(app): State<App>, Partner(p): Partner, Path(tenant): Path<String>) -> ApiResult<Response> {
    let state = app.partner_client(&p, &tenant).await?;
    Ok(Json(client_out(&state)).into_response())
}

async fn withdraw(State(app): State<App>, Partner(p): Partner, Path(tenant): Path<String>) -> ApiResult<StatusCode> {
    app.withdraw_client(&p, &tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_client(State(app): State<App>, Partner(p): Partner, Path(tenant): Path<String>) -> ApiResult<StatusCode> {
    app.delete_client(&p, &tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn is_deletable(State(app): State<App>, Partner(p): Partner, Path(tenant): Path<String>) -> ApiResult<Json<Value>> {
    let blockers = app.client_delete_blockers(&p, &tenant).await?;
    Ok(Json(json!({"isDeletable": blockers.is_empty(), "blockers": blockers})))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenRequest {
    external_tenant_id: String,
}

async fn token(State(app): State<App>, PartnerKey(p, key_id): PartnerKey, Body(req): Body<TokenRequest>) -> ApiResult<Json<Value>> {
    let tenant = req.external_tenant_id.trim();
    if tenant.is_empty() || tenant.len() > 255 {
        return Err(refshare_app::AppError::bad_field("externalTenantId", "must be 1 to 255 characters").into());
    }
    let (token, client_id) = app.mint_client_token(&p, key_id, tenant).await?;
    Ok(Json(json!({
        "accessToken": token,
        "tokenType": "Bearer",
        "expiresIn": refshare_app::auth::TOKEN_TTL_SECONDS,
        "creditorId": client_id,
        "externalTenantId": tenant,
    })))
}

async fn me(Partner(p): Partner) -> Json<Value> {
    let b = &p.branding;
    Json(json!({
        "id": p.id,
        "companyName": p.company_name,
        "shortName": p.company_name,
        "contactEmail": p.contact_email,
        "externalSystemId": null,
        "referralFeePercentage": crate::wire::pct(p.referral_fee_bps),
        "isActive": true,
        "isPublicDemo": false,
        "logoUrl": b.get("logoUrl"),
        "backgroundColorCode": b.get("backgroundColorCode"),
        "fontColor": b.get("fontColor"),
        "fontFamily": b.get("fontFamily"),
        "invoicingTriggerMode": p.invoicing_trigger_mode.as_str(),
        "approvalTtlDays": p.approval_ttl_days,
    }))
}

/// Case lifecycle filter values: enum names or the reference's descriptions.
fn lifecycles(values: &[String]) -> Result<Vec<Lifecycle>, crate::error::ApiError> {
    values
        .iter()
        .map(|v| {
            let norm = v.replace(' ', "");
            Lifecycle::parse(&norm)
                .or_else(
                    || if norm.eq_ignore_ascii_case("Pendingcontractsigning") { Some(Lifecycle::PendingContractSigning) } else { None },
                )
                .ok_or_else(|| refshare_app::AppError::bad_field("Statuses", format!("unknown lifecycle `{v}`")).into())
        })
        .collect()
}

async fn list_cases(State(app): State<App>, Partner(p): Partner, q: Params) -> ApiResult<Json<Value>> {
    let pg = q.page(10)?;
    let sort = q.sort().map(|(f, asc)| {
        let col = if f.eq_ignore_ascii_case("GrossAmount") { "amount_minor" } else { "created_at" };
        (col.to_string(), asc)
    });
    let filter = CaseFilter {
        external_tenant_id: q.get("ExternalTenantId").map(str::to_string),
        created_from: q.instant("FromDate")?,
        created_to: q.instant("ToDate")?,
        lifecycles: lifecycles(&q.list("Statuses"))?,
        sources: vec![],
        query: q.get("Query").map(str::to_string),
        ids: vec![],
        sort,
        after: match q.get("After") {
            None => None,
            Some(c) => {
                Some(CaseCursor::decode(c).ok_or_else(|| refshare_app::AppError::bad_field("After", "is not a cursor of this list"))?)
            }
        },
    };
    let listing = app.partner_case_list(&p, &filter, pg).await?;
    let mut paging = page(pg, listing.total, listing.items.len());
    // Ours: keyset pagination. `After=<nextCursor>` asks for the page after the last case
    // of this one, stable while cases are added (see API-DEVIATIONS.md).
    if listing.items.len() == pg.size as usize {
        if let Some(last) = listing.items.last() {
            paging["nextCursor"] = json!(filter.cursor_of(&last.case).encode());
        }
    }
    Ok(Json(json!({
        "page": paging,
        "cases": listing.items.iter().map(case_item).collect::<Vec<_>>(),
        "summary": {
            "totalCases": listing.summary.total,
            "casesThisMonth": listing.summary.this_month,
            "byLifecycle": {
                "active": listing.summary.active,
                "pending": listing.summary.pending,
                "closed": listing.summary.closed,
                "paused": listing.summary.paused,
            },
        },
    })))
}

async fn get_case(State(app): State<App>, Partner(p): Partner, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| refshare_app::AppError::NotFound("case"))?;
    let item = app.partner_case(&p, id).await?;
    let mut v = case_item(&item);
    v["potentialRevenue"] = potential_revenue(&app, &item).await?;
    Ok(Json(v))
}

async fn reporting(State(app): State<App>, Partner(p): Partner, q: Params) -> ApiResult<Json<Value>> {
    Ok(Json(transactions(&app, &p, &q).await?))
}

async fn filter_options(State(app): State<App>, Partner(p): Partner) -> ApiResult<Json<Value>> {
    let (countries, cps) = app.partner_filter_options(&p).await?;
    Ok(Json(json!({
        "countries": countries
            .iter()
            .filter_map(|c| refshare_core::parse::Country::parse(c).ok())
            .map(|c| json!({"id": c.id(), "name": c.as_str()}))
            .collect::<Vec<_>>(),
        "carveoutPartners": cps.iter().map(|c| json!({"id": c.id, "name": c.name})).collect::<Vec<_>>(),
    })))
}

async fn attribution(State(app): State<App>, Partner(p): Partner, Path(reference): Path<String>) -> ApiResult<Json<Value>> {
    let view = app.partner_attribution_check(&p, &reference).await?;
    Ok(Json(attribution_json(&app, &view, false)))
}
