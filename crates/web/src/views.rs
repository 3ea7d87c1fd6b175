//! JSON renderings of the partner-facing read models: case items, potential revenue, the
//! transactions report, and the attribution check.

use refshare_app::attribution::AttributionView;
use refshare_app::fx::MissingRate;
use refshare_app::partner_cases::PartnerCase;
use refshare_app::reporting::{ReportPage, TransactionFilter, TransactionRow};
use refshare_app::{App, AppError};
use refshare_core::ledger::EarningKind;
use refshare_core::parse::Country;
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, ReferralInvoiceStatus, RevenueStage};
use refshare_store::PartnerRecord;
use serde_json::{json, Value};

use crate::error::ApiError;
use crate::extract::Params;
use crate::wire::{num, page, pct, ts};

/// The reference's case item of `GET /cases`.
pub fn case_item(pc: &PartnerCase) -> Value {
    let k = &pc.case;
    let onboarding = pc.users.iter().find(|u| u.is_onboarding_user);
    json!({
        "id": k.id,
        "reference": k.reference,
        "creditorReference": k.creditor_reference,
        "client": {
            "externalTenantId": pc.link.external_tenant_id,
            "creditorId": pc.client.id,
            "companyName": pc.client.company_name,
            "contacts": {
                "onboardingUser": onboarding.map(|u| json!({"email": u.email, "name": u.name})),
                "officeEmail": pc.client.support_email,
                "otherUsers": pc.users.iter().filter(|u| !u.is_onboarding_user).map(|u| json!({"email": u.email, "name": u.name})).collect::<Vec<_>>(),
            },
        },
        "debtor": {"name": k.debtor_name, "country": k.debtor_country},
        "grossAmount": num(k.amount_minor, k.currency.exponent()),
        "remainder": num(k.remainder_minor(), k.currency.exponent()),
        "currency": k.currency.code(),
        "lifecycle": k.lifecycle.as_str(),
        "closeCode": k.close_code,
        "currentEngagementPhase": if k.lifecycle == refshare_core::case::Lifecycle::Active { json!("Pre-legal") } else { Value::Null },
        "dateCreated": ts(k.created_at),
        "dueDate": k.details.get("dueDate").and_then(|v| v.as_str()).map(str::to_string).unwrap_or_else(|| ts(k.created_at)),
        "dateCollectionStarted": null,
        "dateFinished": null,
        "validation": {"needsInfo": false, "creditorRespondedAt": null, "items": []},
        "collectionPartner": pc.collection_partner.as_ref().map(|c| c.name.clone()),
        "expectedReferralRatePercentage": pct(pc.link.referral_fee_bps),
    })
}

/// `potentialRevenue` of the case detail, in USD at the latest rate; null before a
/// collection partner is assigned. While a rate is missing the USD figures are null and
/// `missingFxRates` names it.
pub async fn potential_revenue(app: &App, pc: &PartnerCase) -> Result<Value, ApiError> {
    let Some(p) = app.potential_revenue(pc).await? else { return Ok(Value::Null) };
    let a = pc.case.assignment.expect("potential revenue needs an assignment");
    let usd = |v: Option<i64>| v.map_or(Value::Null, |m| num(m, 2));
    Ok(json!({
        "grossAmountUsd": usd(p.gross_usd_minor),
        "successFeePercentage": pct(a.success_fee_bps),
        "collectionPartnerRevenueUsd": usd(p.success_fee_usd_minor),
        "platformRevenueSharePercentage": pct(a.platform_share_bps),
        "platformRevenueUsd": usd(p.platform_fee_usd_minor),
        "referralFeePercentage": pct(pc.link.referral_fee_bps),
        "referralRevenueUsd": usd(p.referral_fee_usd_minor),
        "missingFxRates": missing_json(&p.missing_fx_rates),
    }))
}

/// The `missingFxRates` list: `[{currency, date}]`.
pub fn missing_json(missing: &[MissingRate]) -> Value {
    Value::Array(missing.iter().map(|m| json!({"currency": m.currency.code(), "date": m.date})).collect())
}

/// Wire keys of the summary buckets.
fn bucket_key(s: RevenueStage) -> &'static str {
    match s {
        RevenueStage::Pending => "pending",
        RevenueStage::ConfirmedPendingInvoice => "confirmedPendingInvoice",
        RevenueStage::AwaitingCollectionPartnerPayment => "awaitingCollectionPartnerPayment",
        RevenueStage::ReadyToInvoiceDebitura => "readyToInvoiceDebitura",
        RevenueStage::AwaitingDebituraPayment => "awaitingDebituraPayment",
        RevenueStage::Paid => "paid",
        RevenueStage::Disputed => "disputed",
    }
}

/// `GET /reporting/transactions`.
pub async fn transactions(app: &App, p: &PartnerRecord, q: &Params) -> Result<Value, ApiError> {
    let pg = q.page(10)?;
    let sort = q.sort();
    let filter = TransactionFilter {
        from: q.instant("FromDate")?,
        to: q.instant("ToDate")?,
        external_tenant_id: q.get("ExternalTenantId").map(str::to_string),
        stages: enum_list(q, "RevenueStages", RevenueStage::ALL.as_slice(), RevenueStage::as_str)?,
        commission_statuses: enum_list(q, "CommissionPaymentStatuses", CommissionStatus::ALL, CommissionStatus::as_str)?,
        platform_statuses: enum_list(q, "PlatformInvoicingStatuses", CpInvoiceStatus::ALL, CpInvoiceStatus::as_str)?,
        referral_statuses: enum_list(q, "ReferralInvoicingStatuses", ReferralInvoiceStatus::ALL, ReferralInvoiceStatus::as_str)?,
        countries: q
            .list("CountryIds")
            .iter()
            .map(|s| {
                s.parse::<u32>()
                    .ok()
                    .and_then(Country::from_id)
                    .map(|c| c.as_str().to_string())
                    .ok_or_else(|| AppError::bad_field("CountryIds", format!("unknown country id `{s}`")))
            })
            .collect::<Result<_, _>>()?,
        collection_partner_ids: q
            .list("CollectionPartnerIds")
            .iter()
            .map(|s| s.parse().map_err(|_| AppError::bad_field("CollectionPartnerIds", format!("`{s}` is not a UUID"))))
            .collect::<Result<_, _>>()?,
        search: q.get("Search").map(str::to_string),
        has_recognized_revenue: q.bool("HasRecognizedRevenue")?,
        sort_by_amount: sort.as_ref().is_some_and(|(f, _)| f.eq_ignore_ascii_case("amount")),
        ascending: sort.as_ref().is_some_and(|(_, asc)| *asc),
    };
    if let Some((f, _)) = &sort {
        if !f.eq_ignore_ascii_case("amount") && !f.eq_ignore_ascii_case("collectionDate") {
            return Err(AppError::bad_field("Sort", "supported fields: collectionDate, amount").into());
        }
    }
    let report = app.partner_transactions(p, &filter, ReportPage::Offset(pg)).await?;
    let items = &report.rows;
    let mut revenue = serde_json::Map::new();
    for (stage, b) in &report.summary {
        revenue.insert(format!("{}ReferralFeeUsd", bucket_key(*stage)), num(b.usd_minor, 2));
        revenue.insert(format!("{}Count", bucket_key(*stage)), json!(b.count));
        revenue.insert(format!("{}UsdPartial", bucket_key(*stage)), json!(b.usd_partial));
    }
    Ok(json!({
        "data": items.iter().map(transaction_item).collect::<Vec<_>>(),
        "page": page(pg, report.total, items.len()),
        "summary": {
            "revenue": Value::Object(revenue),
            "totalDebituraRevenueUsd": num(report.platform_total_usd_minor, 2),
            "totalDebituraRevenueUsdPartial": report.platform_total_usd_partial,
            "usdPartial": report.usd_partial(),
        },
        "missingFxRates": missing_json(&report.missing_fx_rates),
    }))
}

/// One reporting row on the wire (reference `TransactionItem`, plus `kind`, `stage`,
/// `stageLabel` and `reason`).
pub fn transaction_item(r: &TransactionRow) -> Value {
    let e = r.case.currency.exponent();
    let recognized = r.is_recognized();
    // A figure whose rate is missing is null (the report lists the rate).
    let usd = |v: Option<i64>| v.map_or(Value::Null, |m| num(m, 2));
    json!({
        "transactionId": r.earning.id,
        "date": ts(r.earning.created_at),
        "kind": r.earning.kind.as_str(),
        "client": {"externalTenantId": r.external_tenant_id, "creditorId": r.client.id, "companyName": r.client.company_name},
        "case": {"invoiceId": r.case.id, "caseReference": r.case.reference, "debtorName": r.case.debtor_name, "originalAmount": num(r.case.amount_minor, e), "currency": r.case.currency.code()},
        "payment": {"amount": num(r.payment.amount_minor, e), "currency": r.payment.currency.code(), "paymentDate": ts(r.payment.paid_at)},
        "earnings": {
            "currency": r.earning.currency.code(),
            "debituraRevenue": num(if r.earning.kind == EarningKind::Payout { r.payout.platform_fee_minor } else { 0 }, e),
            "debituraRevenueUsd": usd(r.platform_fee_usd_minor),
            "referralFeePercentage": r.decision.as_ref().and_then(|d| d.referral_fee_bps).map(pct),
            "referralFeeAmount": num(r.earning.amount_minor, e),
            "referralFeeAmountUsd": usd(r.referral_fee_usd_minor),
            "isEstimate": r.is_estimate,
        },
        "recognition": {"isRecognized": recognized, "referralFeeRecognizedUsd": if recognized { usd(r.referral_fee_usd_minor) } else { num(0, 2) }},
        "status": {"commissionPaymentStatus": r.commission.as_str(), "platformInvoicingStatus": r.cp_invoice.as_str(), "referralInvoicingStatus": r.referral.as_str()},
        "stage": r.stage.as_str(),
        "stageLabel": r.stage.label(),
        "reason": r.earning.note.clone().or_else(|| r.decision.as_ref().map(|d| d.reason.as_str().to_string())),
    })
}

/// A repeated query parameter of enum values, each given by integer code or by name.
fn enum_list<T: Copy>(q: &Params, name: &str, all: &[T], as_str: fn(&T) -> &'static str) -> Result<Vec<T>, ApiError> {
    q.list(name)
        .iter()
        .map(|s| {
            s.parse::<usize>()
                .ok()
                .and_then(|i| all.get(i).copied())
                .or_else(|| all.iter().copied().find(|x| as_str(x).eq_ignore_ascii_case(s)))
                .ok_or_else(|| AppError::bad_field(name, format!("unknown value `{s}`")).into())
        })
        .collect()
}

/// The self-serve check (API.md). With `operator`, every stored decision is added. The
/// rendering lives in the app (`check_json`) because disputes snapshot it at filing.
pub fn attribution_json(app: &App, v: &AttributionView, operator: bool) -> Value {
    refshare_app::check_json::attribution_json(v, app.now(), operator)
}
