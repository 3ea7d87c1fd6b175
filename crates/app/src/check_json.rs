//! The JSON of the self-serve attribution check (API.md `GET /attribution/cases/{reference}`).
//! It lives in the app because a dispute stores the check as it stood at filing; the web
//! layer renders the live check with the same function.

use chrono::SecondsFormat;
use refshare_core::check::CheckStatus;
use refshare_core::money::Bps;
use refshare_core::Instant;
use serde_json::{json, Value};

use crate::attribution::AttributionView;

/// An exact JSON number from minor units (`3000`, 2 → `30.00`).
pub fn num(minor: i64, exponent: u32) -> Value {
    let s = refshare_core::money::format_minor(minor, exponent);
    serde_json::from_str(&s).expect("formatted decimals are valid JSON numbers")
}

fn pct(bps: Bps) -> Value {
    serde_json::from_str(&bps.percent_string()).expect("valid number")
}

/// An instant as RFC 3339 with milliseconds, UTC.
pub fn ts(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn opt_ts(t: Option<Instant>) -> Value {
    t.map(|t| Value::String(ts(t))).unwrap_or(Value::Null)
}

fn check_status(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "pass",
        CheckStatus::Fail => "fail",
        CheckStatus::NotApplicable => "not_applicable",
    }
}

/// The self-serve check (API.md). With `operator`, every stored decision is added.
pub fn attribution_json(v: &AttributionView, now: Instant, operator: bool) -> Value {
    let report = v.report.as_ref();
    let verdict = report.map(|r| match r.verdict {
        refshare_core::check::Verdict::Attributed => "attributed",
        refshare_core::check::Verdict::NotAttributed => "not_attributed",
        refshare_core::check::Verdict::NoPayoutYet => "no_payout_yet",
    });
    let link = v.link.as_ref().map(|l| json!({
        "id": l.id,
        "status": l.status_at(now).map(|s| s.as_str()),
        "linkedAt": ts(l.linked_at),
        "isAttributedClient": l.is_attributed,
        "referralFeePercentage": pct(l.referral_fee_bps),
        "history": l.history.iter().map(|e| json!({"at": ts(e.at), "status": e.status.as_str(), "reason": e.reason})).collect::<Vec<_>>(),
    }));
    let request = v.request.as_ref().map(|r| {
        json!({
            "id": r.id,
            "status": r.status_at(now).as_str(),
            "createdAt": ts(r.created_at),
            "expiresAt": ts(r.expires_at),
            "decidedAt": opt_ts(r.decided_at),
        })
    });
    // Without a link, the partner learns nothing about the company beyond its own id for it.
    let client = match &v.link {
        Some(l) => json!({
            "externalTenantId": l.external_tenant_id,
            "companyName": v.client.company_name,
            "isAttributedClient": l.is_attributed,
            "onboardingDone": v.client.onboarding_completed_at.is_some(),
            "onboardingUrl": v.onboarding_url,
        }),
        None => json!({
            "externalTenantId": v.request.as_ref().map(|r| r.external_tenant_id.clone()),
            "companyName": null, "isAttributedClient": null, "onboardingDone": null, "onboardingUrl": null,
        }),
    };
    let mut out = json!({
        "caseReference": v.case.reference,
        "verdict": verdict.unwrap_or("not_attributed"),
        "reason": report.map(|r| r.reason.as_str()).unwrap_or("no_link"),
        "partnerId": v.partner_id,
        "checks": report.map(|r| r.checks.iter().map(|c| json!({"id": c.id, "status": check_status(c.status), "detail": c.detail, "resolution": c.resolution})).collect::<Vec<_>>()).unwrap_or_default(),
        "link": link,
        "linkRequest": request,
        "client": client,
        "case": {"source": v.case.source.as_str(), "dateCreated": ts(v.case.created_at), "lifecycle": v.case.lifecycle.as_str()},
        "payouts": v.payouts.iter().map(|p| json!({
            "payoutId": p.payout_id,
            "date": ts(p.date),
            "decision": if p.decision.attributed { "attributed" } else { "not_attributed" },
            "reason": p.decision.reason.as_str(),
            "referralFee": num(p.decision.referral_fee_minor, p.decision.currency.exponent()),
            "currency": p.decision.currency.code(),
            "stage": p.stage.map(|s| s.as_str()),
            "stageLabel": p.stage.map(|s| s.label()),
            "reversed": p.voided.as_ref().map(|reason| json!({"reason": reason})),
            "resolution": if p.decision.attributed { None } else { Some(p.decision.reason.resolution()) },
        })).collect::<Vec<_>>(),
        "dispute": {"allowed": v.dispute_allowed, "deadline": opt_ts(v.dispute_deadline)},
    });
    if operator {
        out["decisions"] = v
            .all_decisions
            .iter()
            .map(|d| {
                json!({
                    "id": d.id, "payoutId": d.payout_id, "supersedesId": d.supersedes_id, "partnerId": d.partner_id,
                    "linkId": d.link_id, "linkRequestId": d.link_request_id, "linkStatus": d.link_status.map(|s| s.as_str()),
                    "reason": d.reason.as_str(), "attributed": d.attributed, "caseSource": d.case_source.as_str(),
                    "referralFeePercentage": d.referral_fee_bps.map(pct), "referralFee": num(d.referral_fee_minor, d.currency.exponent()),
                    "currency": d.currency.code(), "engineVersion": d.engine_version, "decidedAt": ts(d.decided_at),
                })
            })
            .collect::<Vec<_>>()
            .into();
    }
    out
}
