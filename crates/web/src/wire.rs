//! Wire shapes shared by the APIs: exact decimal numbers from minor units, instants,
//! the `page` object, and the reference documents' case and client objects.

use chrono::SecondsFormat;
use refshare_app::cases::CaseFailure;
use refshare_app::views::{CaseResults, ClientState};
use refshare_core::Instant;
use refshare_store::{CaseRecord, ClientRecord, CollectionPartnerRecord, PageReq};
use serde_json::{json, Value};

/// An exact JSON number from minor units (`3000`, 2 → `30.00`).
pub fn num(minor: i64, exponent: u32) -> Value {
    let s = refshare_core::money::format_minor(minor, exponent);
    serde_json::from_str(&s).expect("formatted decimals are valid JSON numbers")
}

/// A percentage from basis points (`5000` → `50.0`).
pub fn pct(bps: refshare_core::money::Bps) -> Value {
    serde_json::from_str(&bps.percent_string()).expect("valid number")
}

pub fn ts(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn opt_ts(t: Option<Instant>) -> Value {
    t.map(|t| Value::String(ts(t))).unwrap_or(Value::Null)
}

/// The `page` object of list responses.
pub fn page(p: PageReq, total: i64, count: usize) -> Value {
    let total_pages = if total == 0 { 0 } else { (total + p.size as i64 - 1) / p.size as i64 };
    json!({"totalResults": total, "pageSize": p.size, "currentPage": p.page, "responseCount": count, "totalPages": total_pages})
}

/// Applies a page to an in-memory list.
pub fn slice<T: Clone>(items: &[T], p: PageReq) -> Vec<T> {
    items.iter().skip(p.offset() as usize).take(p.size as usize).cloned().collect()
}

fn detail<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

fn split_name(name: &str) -> (String, String) {
    match name.trim().split_once(' ') {
        Some((f, l)) => (f.to_string(), l.trim().to_string()),
        None => (name.trim().to_string(), String::new()),
    }
}

/// The reference's `ClientCreatedResponse`.
pub fn client_created(s: &ClientState, cases: Option<&CaseResults>, cps: &[CollectionPartnerRecord]) -> Value {
    let c = &s.client;
    json!({
        "externalTenantId": s.link.external_tenant_id,
        "onboardingDone": c.onboarding_completed_at.is_some(),
        "onboardingLinks": {"url": s.onboarding_url},
        "client": {
            "id": c.id,
            "companyName": c.company_name,
            "officeEmail": c.support_email,
            "country": c.country,
            "address": detail(&c.details, "address"),
            "city": detail(&c.details, "city"),
            "zipCode": detail(&c.details, "zipCode"),
            "companyRegistrationNumber": c.registration_number,
        },
        "users": s.users.iter().enumerate().map(|(i, u)| {
            let (first, last) = split_name(&u.name);
            json!({"id": i + 1, "email": u.email, "firstName": first, "lastName": last})
        }).collect::<Vec<_>>(),
        "isAttributedClient": s.link.is_attributed,
        "dateLinked": ts(s.link.linked_at),
        "referralFeePercentage": pct(s.link.referral_fee_bps),
        "caseStats": {
            "casesTotal": s.cases_total,
            "casesClosed": s.cases_closed,
            "earningsUsd": num(s.earnings_usd_minor, 2),
            "earningsUsdPartial": s.earnings_usd_partial,
        },
        "kycStatus": "NotRequired",
        "kycVerification": null,
        "caseResults": {
            "successfulCases": cases.map(|r| r.successful.iter().map(|k| invoice_dto(k, Some(c), cps)).collect::<Vec<_>>()).unwrap_or_default(),
            "failedCases": cases.map(|r| r.failed.iter().map(case_failure).collect::<Vec<_>>()).unwrap_or_default(),
        },
    })
}

fn case_failure(f: &CaseFailure) -> Value {
    let mut errors = serde_json::Map::new();
    for e in &f.field_errors {
        errors.entry(e.field.clone()).or_insert_with(|| json!([])).as_array_mut().expect("array").push(json!(e.message));
    }
    json!({
        "caseIndex": f.index,
        "creditorReference": f.creditor_reference,
        "errorType": f.error_type,
        "errorMessage": f.message,
        "validationErrors": if errors.is_empty() { Value::Null } else { Value::Object(errors) },
        "signingHandoff": null,
    })
}

/// The reference's `InvoiceDto` (Customer API case).
pub fn invoice_dto(k: &CaseRecord, client: Option<&ClientRecord>, cps: &[CollectionPartnerRecord]) -> Value {
    let e = k.currency.exponent();
    let cp = k.assignment.and_then(|a| cps.iter().find(|c| c.id == a.collection_partner_id));
    let d = &k.details;
    let debtor = detail(d, "debtor");
    json!({
        "id": k.id,
        "dateCreated": ts(k.created_at),
        "dateUpdated": ts(k.updated_at),
        "reference": k.reference,
        "creditorReference": k.creditor_reference,
        "creditorComments": detail(d, "comments"),
        "claimDescription": detail(d, "claimDescription"),
        "grossAmount": num(k.amount_minor, e),
        "remainder": num(k.remainder_minor(), e),
        "interestFees": 0, "reminderFees": 0, "collectionFees": 0, "totalAddedFees": 0,
        "currency": k.currency.code(),
        "isTestCase": detail(d, "isTest").as_bool().unwrap_or(false),
        "lifecycle": k.lifecycle.as_str(),
        "dueDate": detail(d, "dueDate").as_str().map(str::to_string).unwrap_or_else(|| ts(k.created_at)),
        "date": detail(d, "date").as_str().map(str::to_string).unwrap_or_else(|| ts(k.created_at)),
        "dateFinished": if k.lifecycle == refshare_core::case::Lifecycle::Closed { Value::String(ts(k.updated_at)) } else { Value::Null },
        "dateCollectionStarted": null,
        "closeCode": k.close_code,
        "currentEngagementPhase": if k.lifecycle == refshare_core::case::Lifecycle::Active { json!("Pre-legal") } else { Value::Null },
        "claimType": "Unpaid Invoice",
        "creditorDivisionId": null,
        "debtor": {
            "type": k.debtor_type,
            "name": k.debtor_name,
            "contactPerson": detail(debtor, "contactPerson"),
            "companyRegistrationNumber": detail(debtor, "companyRegistrationNumber"),
            "address": detail(debtor, "address"),
            "zipCode": detail(debtor, "zipCode"),
            "city": detail(debtor, "city"),
            "state": detail(debtor, "state"),
            "stateAlpha2": detail(debtor, "stateAlpha2"),
            "countryAlpha2": k.debtor_country,
            "country": detail(debtor, "country"),
            "email": detail(debtor, "email"),
            "phone": detail(debtor, "phone"),
        },
        "collectionPartner": cp.map(|c| json!({"name": c.name, "officeEmail": null, "officePhone": null, "publicSite": null, "surveyCadenceMode": 0})),
        "creditor": client.map(|c| json!({
            "id": c.id, "companyName": c.company_name, "companyRegistrationNumber": c.registration_number,
            "officeEmail": c.support_email, "officePhone": detail(&c.details, "supportPhone"), "address": detail(&c.details, "address"),
            "city": detail(&c.details, "city"), "zipCode": detail(&c.details, "zipCode"), "state": detail(&c.details, "state"),
            "country": c.country, "division": null,
        })),
        "bankAccount": null,
        "blendedAgeUpliftPoints": null,
        "preLegalSuccessFee": k.assignment.map(|a| pct(a.success_fee_bps)),
        "solutionUrl": null,
        "signingHandoff": null,
        "exclusivePeriodEndDate": null,
        "disputeStatus": null,
        "validation": {"needsInfo": false},
        "assignedUser": null,
        "allocationOutstanding": {"principal": num(k.remainder_minor(), e), "interest": 0, "reminderFees": 0, "collectionFees": 0},
    })
}
