//! Bulk payments on the Operator API (issue 9): `POST /admin-api/v1/payments/batch`, a
//! JSON `{"payments":[…]}` or a `text/csv` body of up to 10,000 payments, each decided
//! exactly as `POST /cases/{case}/payments` would (`refshare_app::payments_batch`). The
//! answer is always 200 with one result per item, in order; a rejected item carries the
//! error body the single endpoint would have answered.
//!
//! The route has its own router, merged outside the service's 1 MiB body limit, because
//! 10,000 payments take more than that: its limit is [`MAX_BATCH_BODY_BYTES`]. It sits
//! behind the same operator gate and strict properties as the rest of `/admin-api/v1`.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::{Json, Router};
use refshare_app::payments_batch::{batch_from_csv, batch_from_json, BatchResult};
use refshare_app::{App, AppError};
use refshare_core::parse::{check_controls, TextKind};
use serde::Deserialize;
use serde_json::{json, Value};
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::Operator;
use crate::error::{body_of, log_internal, ApiResult};
use crate::extract::{parse_json, parse_strict, StrictProperties};

/// Largest body of a batch: 10,000 JSON payments with case ids, `paidAt` and long
/// `externalId`s fit.
pub const MAX_BATCH_BODY_BYTES: usize = 4 * 1024 * 1024;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/admin-api/v1/payments/batch", post(register_payment_batch))
        .route_layer(axum::middleware::from_fn(crate::auth::operator_gate))
        .layer(axum::Extension(StrictProperties))
        .layer(DefaultBodyLimit::max(MAX_BATCH_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BATCH_BODY_BYTES))
}

/// The JSON body; the items are read by `batch_from_json`, which names unknown item
/// properties itself.
#[derive(Deserialize)]
struct BatchBody {
    #[serde(default)]
    payments: Value,
}

fn is_csv(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv")))
}

/// `POST /payments/batch`.
async fn register_payment_batch(State(app): State<App>, _: Operator, headers: HeaderMap, body: Bytes) -> ApiResult<Json<Value>> {
    let items = if is_csv(&headers) {
        let text = std::str::from_utf8(&body).map_err(|_| AppError::bad_field("body", "is not UTF-8 text"))?;
        // Text is checked at the edge of every surface: a control character other than
        // the line breaks (and tab, which the row refuses) is the request's fault.
        check_controls(text, TextKind::FreeText).map_err(|e| AppError::bad_field("body", e.to_string()))?;
        batch_from_csv(text)?
    } else {
        if body.is_empty() {
            return Err(AppError::bad_field("body", "a JSON body is required").into());
        }
        let batch: BatchBody = parse_strict(parse_json(&body)?)?;
        batch_from_json(&batch.payments)?
    };
    let results = app.register_payment_batch(items).await?;
    Ok(Json(batch_json(&results)))
}

/// The answer: counts, and one result per item in order.
fn batch_json(results: &[BatchResult]) -> Value {
    let (mut created, mut replayed, mut rejected) = (0, 0, 0);
    let items: Vec<Value> = results
        .iter()
        .enumerate()
        .map(|(index, r)| match r {
            Ok(out) if out.replayed => {
                replayed += 1;
                json!({"index": index, "status": "replayed", "paymentId": out.payment.id})
            }
            Ok(out) => {
                created += 1;
                json!({"index": index, "status": "created", "paymentId": out.payment.id})
            }
            Err(e) => {
                rejected += 1;
                log_internal(e, "payments batch item");
                json!({"index": index, "status": "rejected", "error": body_of(e)})
            }
        })
        .collect();
    json!({"created": created, "replayed": replayed, "rejected": rejected, "results": items})
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use refshare_app::payments_batch::{BATCH_ITEM_PROPERTIES, CSV_COLUMNS};

    #[test]
    fn item_properties_are_the_documented_ones() {
        let schemas = &crate::openapi::spec()["components"]["schemas"];
        let documented: BTreeSet<&str> =
            schemas["PaymentBatchItem"]["properties"].as_object().expect("an object").keys().map(String::as_str).collect();
        assert_eq!(documented, BATCH_ITEM_PROPERTIES.into_iter().collect::<BTreeSet<_>>());
        assert!(CSV_COLUMNS.iter().all(|c| documented.contains(c)));
    }
}
