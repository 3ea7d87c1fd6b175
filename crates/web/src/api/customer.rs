//! The Customer API (`/customer-api`): the calling client's profile and cases. The source
//! of a created case follows the credential: `customer_api` for the client's key,
//! `partner_api` for a partner-minted token.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use refshare_app::cases::CaseKey;
use refshare_app::{App, AppError};
use refshare_store::CaseFilter;
use serde_json::{json, Value};

use crate::auth::Customer;
use crate::error::{body_of, status_of, ApiResult};
use crate::extract::{idempotency_key, JsonValue, Params, Path};
use crate::wire::{invoice_dto, page};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/me", get(me))
        .route("/cases", post(create_case).get(list_cases))
        .route("/cases/{id}", get(get_case))
        .route("/cases/case-reference/{reference}", get(by_reference))
        .route("/cases/by-creditor-reference/{creditor_reference}", get(by_creditor_reference))
}

async fn me(Customer(who): Customer) -> Json<Value> {
    let c = who.client();
    let d = |k: &str| c.details.get(k).cloned().unwrap_or(Value::Null);
    Json(json!({
        "id": c.id,
        "companyName": c.company_name,
        "companyRegistrationNumber": c.registration_number,
        "address": d("address"),
        "zipCode": d("zipCode"),
        "city": d("city"),
        "state": d("state"),
        "country": c.country,
        "officeEmail": c.support_email,
        "officePhone": d("supportPhone"),
    }))
}

async fn create_case(State(app): State<App>, Customer(who): Customer, headers: HeaderMap, body: JsonValue) -> ApiResult<Response> {
    let key = idempotency_key(&headers)?;
    let cps = app.collection_partners().await?;
    let render = |result: Result<&refshare_store::CaseRecord, &AppError>, client: &refshare_store::ClientRecord| match result {
        Ok(case) => (200u16, invoice_dto(case, Some(client), &cps).to_string()),
        Err(e) => {
            let mut body = body_of(e);
            body["signingHandoff"] = Value::Null;
            (status_of(e).as_u16(), body.to_string())
        }
    };
    let (status, body) = app.create_customer_case_idempotent(&who, &body.value, key.as_deref(), render).await?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    Ok((status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

async fn list_cases(State(app): State<App>, Customer(who): Customer, q: Params) -> ApiResult<Json<Value>> {
    let pg = q.page(10)?;
    let mut ids = Vec::new();
    for id in q.list("Ids") {
        ids.push(uuid::Uuid::parse_str(&id).map_err(|_| AppError::bad_field("Ids", format!("`{id}` is not a UUID")))?);
    }
    let mut lifecycles = Vec::new();
    for s in q.list("Statuses") {
        lifecycles.push(
            refshare_core::case::Lifecycle::parse(&s.replace(' ', ""))
                .ok_or_else(|| AppError::bad_field("Statuses", format!("unknown status `{s}`")))?,
        );
    }
    let sort =
        q.sort().map(|(f, asc)| (if f.eq_ignore_ascii_case("GrossAmount") { "amount_minor".into() } else { "created_at".into() }, asc));
    let filter = CaseFilter { ids, lifecycles, sort, ..CaseFilter::default() };
    let (cases, total) = app.customer_cases(&who, &filter, pg).await?;
    let cps = app.collection_partners().await?;
    Ok(Json(json!({
        "page": page(pg, total, cases.len()),
        "cases": cases.iter().map(|c| invoice_dto(c, Some(who.client()), &cps)).collect::<Vec<_>>(),
    })))
}

async fn one(app: &App, who: &refshare_app::auth::CustomerPrincipal, key: CaseKey<'_>) -> ApiResult<Json<Value>> {
    let case = app.customer_case(who, key).await?;
    let cps = app.collection_partners().await?;
    Ok(Json(invoice_dto(&case, Some(who.client()), &cps)))
}

async fn get_case(State(app): State<App>, Customer(who): Customer, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = uuid::Uuid::parse_str(&id).map_err(|_| AppError::bad_field("id", "must be a UUID"))?;
    one(&app, &who, CaseKey::Id(id)).await
}

async fn by_reference(State(app): State<App>, Customer(who): Customer, Path(r): Path<String>) -> ApiResult<Json<Value>> {
    one(&app, &who, CaseKey::Reference(&r)).await
}

async fn by_creditor_reference(State(app): State<App>, Customer(who): Customer, Path(r): Path<String>) -> ApiResult<Json<Value>> {
    one(&app, &who, CaseKey::CreditorReference(&r)).await
}
