//! Cases: parsing the wire input into a [`NewCase`], creating cases from every channel
//! (SPEC §3), activating pending cases when the client signs, and the Customer API reads.

use refshare_core::case::{close_code, CaseSource, DebtorType, Lifecycle};
use refshare_core::money::{parse_amount, Currency, MoneyError};
use refshare_core::parse::Country;
use refshare_store::{CaseAssignment, CaseFilter, CaseRecord, ClientRecord, PageReq, Tx};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::CustomerPrincipal;
use crate::error::CaseError;
use crate::error::FieldError;
use crate::idempotency::Keyed;
use crate::{actor, audit, App, AppError};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DebtorInput {
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub name: Option<String>,
    pub country_alpha2: Option<String>,
}

/// The case fields we read (others are kept verbatim in the case's details).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaseInput {
    pub currency_code: Option<String>,
    pub creditor_reference: Option<String>,
    pub amount_to_recover: Option<serde_json::Number>,
    pub debtor: Option<DebtorInput>,
    pub comments: Option<String>,
    pub claim_description: Option<String>,
    pub tag: Option<String>,
    pub return_url: Option<String>,
    pub allow_pending_contracts: Option<bool>,
}

/// A validated case, ready to be created.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub creditor_reference: Option<String>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub debtor_type: DebtorType,
    pub debtor_name: String,
    pub debtor_country: String,
    pub allow_pending_contracts: bool,
    /// The request object as given, echoed back in responses.
    pub details: serde_json::Value,
}

/// Why one case could not be created (for `caseResults.failedCases`).
#[derive(Debug, Clone)]
pub struct CaseFailure {
    pub index: usize,
    pub creditor_reference: Option<String>,
    pub error_type: String,
    pub message: String,
    pub field_errors: Vec<FieldError>,
}

fn text_limit(errors: &mut Vec<FieldError>, prefix: &str, field: &str, v: &Option<String>, max: usize) {
    if v.as_ref().is_some_and(|s| s.chars().count() > max) {
        errors.push(FieldError { field: format!("{prefix}{field}"), message: format!("must be at most {max} characters") });
    }
}

/// Parses one case object. `prefix` names its place in the request (`cases[2].`).
pub fn parse_case(value: &serde_json::Value, prefix: &str) -> Result<NewCase, Vec<FieldError>> {
    let input: CaseInput = serde_json::from_value(value.clone())
        .map_err(|e| vec![FieldError { field: prefix.trim_end_matches('.').to_string(), message: format!("invalid case: {e}") }])?;
    let mut errors = Vec::new();
    let mut err = |field: &str, message: String| errors.push(FieldError { field: format!("{prefix}{field}"), message });
    let currency = match input.currency_code.as_deref() {
        None | Some("") => {
            err("currencyCode", "is required".into());
            None
        }
        Some(c) => Currency::parse(c).map_err(|e| err("currencyCode", e.to_string())).ok(),
    };
    let amount = match (&input.amount_to_recover, currency) {
        (None, _) => {
            err("amountToRecover", "is required".into());
            None
        }
        (Some(n), Some(c)) => match parse_amount(&n.to_string(), c) {
            Ok(v) => Some(v),
            Err(MoneyError::NotPositive) => {
                err("amountToRecover", "must be greater than zero".into());
                None
            }
            Err(e) => {
                err("amountToRecover", e.to_string());
                None
            }
        },
        (Some(_), None) => None,
    };
    let debtor = input.debtor.clone().unwrap_or_default();
    let debtor_type = match debtor.kind.as_deref() {
        None => {
            err("debtor.type", "is required (Company or Private)".into());
            None
        }
        Some(t) => DebtorType::parse(t).or_else(|| {
            err("debtor.type", "must be Company or Private".into());
            None
        }),
    };
    let debtor_name = match debtor.name.as_deref().map(str::trim) {
        None | Some("") => {
            err("debtor.name", "is required".into());
            None
        }
        Some(n) if n.chars().count() > 200 => {
            err("debtor.name", "must be at most 200 characters".into());
            None
        }
        Some(n) => Some(n.to_string()),
    };
    let debtor_country = match debtor.country_alpha2.as_deref() {
        None => {
            err("debtor.countryAlpha2", "is required".into());
            None
        }
        Some(c) => Country::parse(c).map(|c| c.as_str().to_string()).map_err(|e| err("debtor.countryAlpha2", e.to_string())).ok(),
    };
    if let Some(r) = input.creditor_reference.as_deref() {
        if r.trim().is_empty() {
            err("creditorReference", "must not be empty when given".into());
        }
    }
    text_limit(&mut errors, prefix, "creditorReference", &input.creditor_reference, 50);
    text_limit(&mut errors, prefix, "comments", &input.comments, 4000);
    text_limit(&mut errors, prefix, "claimDescription", &input.claim_description, 4000);
    text_limit(&mut errors, prefix, "tag", &input.tag, 100);
    text_limit(&mut errors, prefix, "returnUrl", &input.return_url, 2048);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewCase {
        creditor_reference: input.creditor_reference.map(|r| r.trim().to_string()),
        amount_minor: amount.expect("checked"),
        currency: currency.expect("checked"),
        debtor_type: debtor_type.expect("checked"),
        debtor_name: debtor_name.expect("checked"),
        debtor_country: debtor_country.expect("checked"),
        allow_pending_contracts: input.allow_pending_contracts.unwrap_or(false),
        details: value.clone(),
    })
}

/// The channel a Customer API credential stands for (SPEC §3): the client's own key is
/// `customer_api`; a partner-minted token is that partner's `partner_api`.
fn origin_of(who: &CustomerPrincipal) -> Origin {
    match who {
        CustomerPrincipal::ClientKey { .. } => Origin { source: CaseSource::CustomerApi, partner: None },
        CustomerPrincipal::PartnerToken { partner_id, .. } => Origin { source: CaseSource::PartnerApi, partner: Some(*partner_id) },
    }
}

/// How a case is being created.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub source: CaseSource,
    pub partner: Option<Uuid>,
}

impl App {
    /// Assigns a collection partner covering the debtor's country, freezing its terms.
    async fn assign(&self, tx: &mut Tx, case: &mut CaseRecord) -> Result<bool, AppError> {
        match tx.collection_partner_for(&case.debtor_country).await? {
            Some(cp) => {
                case.assignment = Some(CaseAssignment {
                    collection_partner_id: cp.id,
                    success_fee_bps: cp.success_fee_bps,
                    platform_share_bps: cp.platform_share_bps,
                });
                case.lifecycle = Lifecycle::Active;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Creates one case inside `tx`. An onboarded client's case becomes Active with a
    /// collection partner (or fails with `NoPartnerAvailable`); otherwise it waits in
    /// `PendingContractSigning` when `pending_ok`.
    pub(crate) async fn insert_case(
        &self,
        tx: &mut Tx,
        client: &ClientRecord,
        nc: &NewCase,
        origin: Origin,
        pending_ok: bool,
    ) -> Result<CaseRecord, AppError> {
        let now = self.now();
        if let Some(r) = &nc.creditor_reference {
            if tx.case_by_creditor_reference(client.id, r).await?.is_some() {
                return Err(CaseError::DuplicateReference { creditor_reference: r.clone() }.into());
            }
        }
        let number = tx.next_case_number().await?;
        let reference = format!("{}{number}", self.config.case_prefix);
        let mut case = CaseRecord {
            id: Uuid::new_v4(),
            creditor_reference: nc.creditor_reference.clone().unwrap_or_else(|| reference.clone()),
            reference,
            client_id: client.id,
            source: origin.source,
            creating_partner_id: if origin.source == CaseSource::PartnerApi { origin.partner } else { None },
            created_at: now,
            updated_at: now,
            lifecycle: Lifecycle::PendingContractSigning,
            close_code: None,
            amount_minor: nc.amount_minor,
            currency: nc.currency,
            debtor_type: nc.debtor_type.as_str().to_string(),
            debtor_name: nc.debtor_name.clone(),
            debtor_country: nc.debtor_country.clone(),
            details: nc.details.clone(),
            assignment: None,
            paid_minor: 0,
        };
        if client.onboarding_completed_at.is_some() {
            if !self.assign(tx, &mut case).await? {
                return Err(CaseError::NoPartnerAvailable { country: case.debtor_country.clone() }.into());
            }
        } else if !pending_ok {
            return Err(CaseError::MissingContract.into());
        }
        // The uniqueness of creditor references is checked above, but a generated one (the
        // case's own reference) can equal a creditor reference the client already uses, and
        // a concurrent request can take it meanwhile: the database's refusal is the same fact.
        // On PostgreSQL it aborts the transaction; the caller drops it or rolls back to its
        // savepoint.
        tx.insert_case(&case).await.map_err(|e| match AppError::from(e) {
            AppError::WriteConflict { constraint } if constraint.contains("creditor_reference") => {
                AppError::from(CaseError::DuplicateReference { creditor_reference: case.creditor_reference.clone() })
            }
            other => other,
        })?;
        crate::webhooks::outbox::case_created(tx, now, &case).await?;
        Ok(case)
    }

    /// Activates the pending cases of a client that just completed onboarding.
    pub(crate) async fn activate_pending_cases(&self, tx: &mut Tx, client_id: Uuid) -> Result<(), AppError> {
        let partner = crate::webhooks::outbox::active_partner_of(tx, client_id).await?;
        for mut case in tx.cases_of_client(client_id).await? {
            if case.lifecycle != Lifecycle::PendingContractSigning {
                continue;
            }
            let old = case.lifecycle;
            if !self.assign(tx, &mut case).await? {
                case.lifecycle = Lifecycle::Closed;
                case.close_code = Some(close_code::NO_PARTNER_AVAILABLE.into());
            }
            case.updated_at = self.now();
            tx.update_case_state(&case).await?;
            if let Some((partner_id, tenant)) = &partner {
                crate::webhooks::outbox::case_changed(tx, case.updated_at, *partner_id, tenant, old, &case).await?;
            }
        }
        Ok(())
    }

    /// `POST /customer-api/cases` (and the operator's case creation): one case for the
    /// calling client, source decided by the credential.
    pub async fn create_customer_case(&self, who: &CustomerPrincipal, body: &serde_json::Value) -> Result<CaseRecord, AppError> {
        let nc = parse_case(body, "").map_err(AppError::Validation)?;
        let origin = origin_of(who);
        self.create_case_for(who.client().id, &nc, origin).await
    }

    /// Creates a case for a client through any channel, in its own transaction.
    pub async fn create_case_for(&self, client_id: Uuid, nc: &NewCase, origin: Origin) -> Result<CaseRecord, AppError> {
        let mut tx = self.store.begin().await?;
        let client = tx.client(client_id).await?.ok_or(AppError::NotFound("client"))?;
        let case = self.insert_case(&mut tx, &client, nc, origin, nc.allow_pending_contracts).await?;
        let who = match origin.partner {
            Some(p) => actor::partner(p),
            None if origin.source == CaseSource::Operator => actor::OPERATOR.into(),
            None => actor::client(client_id),
        };
        audit(
            &mut tx,
            case.created_at,
            &who,
            "case.created",
            "case",
            &case.id.to_string(),
            serde_json::json!({"reference": case.reference, "source": case.source.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(case)
    }

    /// Operator: creates a case on a client's behalf (source `operator`).
    pub async fn create_operator_case(&self, client_id: Uuid, body: &serde_json::Value) -> Result<CaseRecord, AppError> {
        let nc = parse_case(body, "").map_err(AppError::Validation)?;
        self.create_case_for(client_id, &nc, Origin { source: CaseSource::Operator, partner: None }).await
    }

    /// A case of the calling client by id, reference or creditor reference.
    pub async fn customer_case(&self, who: &CustomerPrincipal, key: CaseKey<'_>) -> Result<CaseRecord, AppError> {
        let mut tx = self.store.read().await?;
        let client_id = who.client().id;
        let found = match key {
            CaseKey::Id(id) => tx.case(id).await?,
            CaseKey::Reference(r) => tx.case_by_reference(r).await?,
            CaseKey::CreditorReference(r) => tx.case_by_creditor_reference(client_id, r).await?,
        };
        found.filter(|c| c.client_id == client_id).ok_or(AppError::NotFound("case"))
    }

    pub async fn customer_cases(
        &self,
        who: &CustomerPrincipal,
        filter: &CaseFilter,
        page: PageReq,
    ) -> Result<(Vec<CaseRecord>, i64), AppError> {
        Ok(self.store.read().await?.client_cases_page(who.client().id, filter, page).await?)
    }
}

/// How a case is looked up.
#[derive(Debug, Clone, Copy)]
pub enum CaseKey<'a> {
    Id(Uuid),
    Reference(&'a str),
    CreditorReference(&'a str),
}

/// A rendered response: status code and JSON body.
pub type Rendered = (u16, String);

impl App {
    /// `POST /customer-api/cases` with an optional `Idempotency-Key` (API.md): the same key
    /// and body replay the stored response; the same key with another body is a 422
    /// `IdempotencyConflict`; 400s are not stored. The case (or the refusal) and the stored
    /// response are written in one transaction (`idempotency`).
    pub async fn create_customer_case_idempotent(
        &self,
        who: &CustomerPrincipal,
        body: &serde_json::Value,
        key: Option<&str>,
        render: impl Fn(Result<&CaseRecord, &AppError>, &ClientRecord) -> Rendered,
    ) -> Result<Rendered, AppError> {
        let client = who.client().clone();
        let Some(key) = key else {
            let case = self.create_customer_case(who, body).await?;
            return Ok(render(Ok(&case), &client));
        };
        let scope = format!("customer-cases:{}", client.id);
        let req = Keyed { scope: &scope, key, request_hash: crate::auth::hash_secret(&body.to_string()) };
        let attempt = async |tx: &mut Tx| {
            let nc = parse_case(body, "").map_err(AppError::Validation)?;
            let origin = origin_of(who);
            let case = self.insert_case(tx, &client, &nc, origin, nc.allow_pending_contracts).await?;
            let who_actor = origin.partner.map(actor::partner).unwrap_or_else(|| actor::client(client.id));
            audit(
                tx,
                case.created_at,
                &who_actor,
                "case.created",
                "case",
                &case.id.to_string(),
                serde_json::json!({"reference": case.reference, "source": case.source.as_str()}),
            )
            .await?;
            Ok(case)
        };
        // A refusal by a case rule is the request's answer: replayed as it was.
        let refusal = |e: &AppError| matches!(e, AppError::Case(_));
        self.run_idempotent(req, attempt, refusal, |r| render(r, &client)).await
    }
}
