//! Wire shapes shared by the APIs: exact decimal numbers from minor units, instants,
//! the `page` object, and the reference documents' case and client objects.

use chrono::SecondsFormat;
use refshare_app::cases::CaseFailure;
use refshare_app::views::{CaseResults, ClientState};
use refshare_core::Instant;
use refshare_store::{CaseRecord, ClientRecord, CollectionPartnerRecord, PageReq};
use serde::Serialize;
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

/// A user's name as the reference's first and last name: at the first space.
fn split_name(name: &str) -> (&str, &str) {
    match name.trim().split_once(' ') {
        Some((f, l)) => (f, l.trim()),
        None => (name.trim(), ""),
    }
}

/// The reference's client object: `ClientCreatedResponse`, and an item of
/// `GetClientsResponse` (without case results). Serialized as it stands, without a
/// `Value` tree.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientOut<'a> {
    external_tenant_id: &'a str,
    onboarding_done: bool,
    onboarding_links: OnboardingLinks<'a>,
    client: ClientDto<'a>,
    users: Vec<UserDto<'a>>,
    is_attributed_client: bool,
    date_linked: String,
    referral_fee_percentage: Value,
    case_stats: CaseStats,
    kyc_status: &'static str,
    kyc_verification: Option<()>,
    case_results: CaseResultsOut,
}

#[derive(Debug, Serialize)]
struct OnboardingLinks<'a> {
    url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ClientDto<'a> {
    id: uuid::Uuid,
    company_name: &'a str,
    office_email: Option<&'a str>,
    country: &'a str,
    address: Option<&'a str>,
    city: Option<&'a str>,
    zip_code: Option<&'a str>,
    company_registration_number: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UserDto<'a> {
    id: usize,
    email: &'a str,
    first_name: &'a str,
    last_name: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseStats {
    cases_total: i64,
    cases_closed: i64,
    earnings_usd: Value,
    earnings_usd_partial: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CaseResultsOut {
    successful_cases: Vec<Value>,
    failed_cases: Vec<Value>,
}

/// The reference's client object of `s`, without case results: an item of
/// `GetClientsResponse`, `GET /clients/{externalTenantId}`; `POST /clients` adds its cases
/// ([`ClientOut::with_cases`]).
pub fn client_out(s: &ClientState) -> ClientOut<'_> {
    let c = &s.client;
    ClientOut {
        external_tenant_id: &c.external_tenant_id,
        onboarding_done: c.onboarding_completed_at.is_some(),
        onboarding_links: OnboardingLinks { url: s.onboarding_url.as_deref() },
        client: ClientDto {
            id: c.client_id,
            company_name: &c.company_name,
            office_email: c.support_email.as_deref(),
            country: &c.country,
            address: c.details.address.as_deref(),
            city: c.details.city.as_deref(),
            zip_code: c.details.zip_code.as_deref(),
            company_registration_number: c.registration_number.as_deref(),
        },
        users: c
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let (first_name, last_name) = split_name(&u.name);
                UserDto { id: i + 1, email: &u.email, first_name, last_name }
            })
            .collect(),
        is_attributed_client: c.is_attributed,
        date_linked: ts(c.linked_at),
        referral_fee_percentage: pct(c.referral_fee_bps),
        case_stats: CaseStats {
            cases_total: s.cases_total,
            cases_closed: s.cases_closed,
            earnings_usd: num(s.earnings_usd_minor, 2),
            earnings_usd_partial: s.earnings_usd_partial,
        },
        kyc_status: "NotRequired",
        kyc_verification: None,
        case_results: CaseResultsOut { successful_cases: Vec::new(), failed_cases: Vec::new() },
    }
}

impl ClientOut<'_> {
    /// With the results of the cases submitted with the client (`POST /clients`), the
    /// created ones naming `creditor`.
    pub fn with_cases(self, cases: &CaseResults, creditor: Option<&ClientRecord>, cps: &[CollectionPartnerRecord]) -> Self {
        let case_results = CaseResultsOut {
            successful_cases: cases.successful.iter().map(|k| invoice_dto(k, creditor, cps)).collect(),
            failed_cases: cases.failed.iter().map(case_failure).collect(),
        };
        ClientOut { case_results, ..self }
    }
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
