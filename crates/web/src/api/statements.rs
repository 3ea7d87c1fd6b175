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
use serde::Serialize;
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

/// A line as the JSON shows it, serialized straight from the line (a month has about
/// 20,000 of them: no map per line). The fields are in the order of their keys, as the
/// `serde_json::Value` objects of the rest of the API print theirs (sorted maps).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineJson<'a> {
    amount: Option<Value>,
    amount_usd: Option<Value>,
    case_reference: &'a str,
    currency: &'a str,
    date: String,
    earning_id: Option<uuid::Uuid>,
    external_tenant_id: &'a str,
    kind: &'a str,
    payment_amount: Option<Value>,
    payout_id: uuid::Uuid,
    reason: &'a str,
    section: &'static str,
    stage: Option<&'static str>,
    stage_label: Option<&'static str>,
}

impl<'a> LineJson<'a> {
    fn of(l: &'a StatementLine) -> LineJson<'a> {
        let e = l.currency.exponent();
        LineJson {
            amount: l.amount_minor.map(|a| num(a, e)),
            amount_usd: l.amount_usd_minor.map(|a| num(a, 2)),
            case_reference: &l.case_reference,
            currency: l.currency.code(),
            date: ts(l.date),
            earning_id: l.earning_id,
            external_tenant_id: &l.external_tenant_id,
            kind: &l.kind,
            payment_amount: l.payment_amount_minor.map(|a| num(a, e)),
            payout_id: l.payout_id,
            reason: &l.reason,
            section: l.section.as_str(),
            stage: l.stage.map(|s| s.as_str()),
            stage_label: l.stage.map(|s| s.label()),
        }
    }
}

/// A section's lines, serialized one by one as the array is written.
struct LinesJson<'a>(&'a [StatementLine]);

impl Serialize for LinesJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(LineJson::of))
    }
}

/// The statement's JSON, keys in order as for [`LineJson`].
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatementJson<'a> {
    earnings: LinesJson<'a>,
    from: String,
    missing_fx_rates: Value,
    not_earned: LinesJson<'a>,
    partner_id: &'a uuid::Uuid,
    period: String,
    reversals: LinesJson<'a>,
    to: String,
    totals: Value,
}

fn statement_json<'a>(partner: &'a uuid::Uuid, s: &'a Statement) -> StatementJson<'a> {
    StatementJson {
        earnings: LinesJson(&s.earnings),
        from: ts(s.period.start()),
        missing_fx_rates: crate::views::missing_json(&s.missing_fx_rates),
        not_earned: LinesJson(&s.not_earned),
        partner_id: partner,
        period: s.period.to_string(),
        reversals: LinesJson(&s.reversals),
        to: ts(s.period.end()),
        totals: json!({
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
        }),
    }
}

/// One CSV field onto `out`, quoted when it holds a comma, a quote or a line break.
fn field(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

fn to_csv(s: &Statement) -> String {
    let mut out = String::with_capacity(160 * (s.earnings.len() + s.reversals.len() + s.not_earned.len() + 1));
    out.push_str(CSV_HEADER);
    out.push_str("\r\n");
    for l in s.lines() {
        let e = l.currency.exponent();
        let cells: [&str; 10] = [
            l.section.as_str(),
            &ts(l.date),
            &l.case_reference,
            &l.external_tenant_id,
            &l.kind,
            l.stage.map(|s| s.as_str()).unwrap_or_default(),
            &l.amount_minor.map(|a| format_minor(a, e)).unwrap_or_default(),
            l.currency.code(),
            &l.amount_usd_minor.map(|a| format_minor(a, 2)).unwrap_or_default(),
            &l.reason,
        ];
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, c);
        }
        out.push_str("\r\n");
    }
    out
}
