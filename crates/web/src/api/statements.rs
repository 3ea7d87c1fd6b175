//! The partner's statement of a reporting period (`GET /referral-api/statements/{period}`):
//! JSON by default, CSV with `?Format=csv` (one row per line, amounts as exact decimals;
//! `amount_usd` is empty where nothing was earned or the rate is missing).

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use refshare_app::statements::{Statement, StatementLine};
use refshare_app::{App, AppError};
use refshare_core::money::format_minor;
use serde_json::{json, Value};

use crate::auth::Partner;
use crate::error::ApiResult;
use crate::extract::{Params, Path};
use crate::wire::{num, ts};

/// Header row of the CSV form.
pub const CSV_HEADER: &str = "section,date,case_reference,external_tenant_id,kind,stage,amount,currency,amount_usd,reason";

pub fn routes() -> Router<App> {
    Router::new().route("/statements/{period}", get(statement))
}

async fn statement(State(app): State<App>, Partner(p): Partner, Path(period): Path<String>, q: Params) -> ApiResult<Response> {
    let csv = match q.get("Format") {
        None => false,
        Some(f) if f.eq_ignore_ascii_case("json") => false,
        Some(f) if f.eq_ignore_ascii_case("csv") => true,
        Some(_) => return Err(AppError::bad_field("Format", "must be json or csv").into()),
    };
    let s = app.statement(&p, &period).await?;
    if csv {
        let disposition = format!("attachment; filename=\"statement-{}.csv\"", s.period);
        return Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
            to_csv(&s),
        )
            .into_response());
    }
    Ok(Json(statement_json(&p.id, &s)).into_response())
}

fn line_json(l: &StatementLine) -> Value {
    let e = l.currency.exponent();
    json!({
        "section": l.section.as_str(),
        "date": ts(l.date),
        "caseReference": l.case_reference,
        "externalTenantId": l.external_tenant_id,
        "kind": l.kind,
        "stage": l.stage.map(|s| s.as_str()),
        "stageLabel": l.stage.map(|s| s.label()),
        "amount": l.amount_minor.map(|a| num(a, e)),
        "currency": l.currency.code(),
        "amountUsd": l.amount_usd_minor.map(|a| num(a, 2)),
        "reason": l.reason,
        "earningId": l.earning_id,
        "payoutId": l.payout_id,
        "paymentAmount": l.payment_amount_minor.map(|a| num(a, e)),
    })
}

fn statement_json(partner: &uuid::Uuid, s: &Statement) -> Value {
    json!({
        "period": s.period.to_string(),
        "partnerId": partner,
        "from": ts(s.period.start()),
        "to": ts(s.period.end()),
        "earnings": s.earnings.iter().map(line_json).collect::<Vec<_>>(),
        "reversals": s.reversals.iter().map(line_json).collect::<Vec<_>>(),
        "notEarned": s.not_earned.iter().map(line_json).collect::<Vec<_>>(),
        "totals": {
            "byStage": s.totals.iter().map(|t| json!({
                "stage": t.stage.as_str(),
                "stageLabel": t.stage.label(),
                "currency": t.currency.code(),
                "amount": num(t.amount_minor, t.currency.exponent()),
                "amountUsd": num(t.amount_usd_minor, 2),
                "usdPartial": t.usd_partial,
                "count": t.count,
            })).collect::<Vec<_>>(),
            "totalUsd": num(s.total_usd_minor, 2),
            "usdPartial": s.usd_partial,
        },
        "missingFxRates": crate::views::missing_json(&s.missing_fx_rates),
    })
}

/// One CSV field, quoted when it holds a comma, a quote or a line break.
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn to_csv(s: &Statement) -> String {
    let mut out = format!("{CSV_HEADER}\r\n");
    for l in s.lines() {
        let cells = [
            l.section.as_str().to_string(),
            ts(l.date),
            l.case_reference.clone(),
            l.external_tenant_id.clone(),
            l.kind.clone(),
            l.stage.map(|s| s.as_str().to_string()).unwrap_or_default(),
            l.amount_minor.map(|a| format_minor(a, l.currency.exponent())).unwrap_or_default(),
            l.currency.code().to_string(),
            l.amount_usd_minor.map(|a| format_minor(a, 2)).unwrap_or_default(),
            l.reason.clone(),
        ];
        out.push_str(&cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}
