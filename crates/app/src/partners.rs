//! Operator use cases for referral partners (profile, fee, keys) and collection partners.

use refshare_core::money::Bps;
use refshare_core::parse::{required_text, Country, Email};
use refshare_core::stage::InvoicingTriggerMode;
use refshare_store::{ApiKeyRecord, CollectionPartnerRecord, PartnerRecord};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::{hash_secret, new_api_key};
use crate::error::FieldError;
use crate::{actor, audit, App, AppError};

/// Hosted-page branding of a partner.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Branding {
    pub logo_url: Option<String>,
    pub background_color_code: Option<String>,
    pub font_color: Option<String>,
    pub font_family: Option<String>,
}

/// `POST /partners` and `PATCH /partners/{id}` bodies (every field optional on PATCH).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerInput {
    pub company_name: Option<String>,
    pub contact_email: Option<String>,
    pub referral_fee_percentage: Option<serde_json::Number>,
    pub approval_ttl_days: Option<i64>,
    pub invoicing_trigger_mode: Option<String>,
    pub branding: Option<Branding>,
}

/// `POST /collection-partners` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionPartnerInput {
    pub name: String,
    pub countries: Vec<String>,
    pub success_fee_percentage: serde_json::Number,
    pub platform_share_percentage: Option<serde_json::Number>,
}

/// A new key, shown once.
pub struct IssuedKey {
    pub record: ApiKeyRecord,
    pub key: String,
}

fn check_branding(b: &Branding, errors: &mut Vec<FieldError>) {
    let colour_ok =
        |c: &Option<String>| c.as_deref().is_none_or(|c| c.len() <= 32 && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '#'));
    if !colour_ok(&b.background_color_code) {
        errors.push(FieldError { field: "branding.backgroundColorCode".into(), message: "must be a colour such as #0a7cff".into() });
    }
    if !colour_ok(&b.font_color) {
        errors.push(FieldError { field: "branding.fontColor".into(), message: "must be a colour such as #ffffff".into() });
    }
    if b.logo_url.as_deref().is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://")) || u.len() > 2048) {
        errors.push(FieldError { field: "branding.logoUrl".into(), message: "must be an http(s) URL".into() });
    }
    if b.font_family.as_deref().is_some_and(|f| f.len() > 100 || f.contains(['<', '>', ';', '{', '}'])) {
        errors.push(FieldError { field: "branding.fontFamily".into(), message: "must be a plain font name".into() });
    }
}

/// Applies the given fields of `input` to `p`, collecting field errors.
fn apply(p: &mut PartnerRecord, input: &PartnerInput, errors: &mut Vec<FieldError>) {
    let mut err = |field: &str, message: String| errors.push(FieldError { field: field.into(), message });
    if let Some(n) = &input.company_name {
        match required_text(n, 200) {
            Ok(v) => p.company_name = v,
            Err(e) => err("companyName", e.to_string()),
        }
    }
    if let Some(e) = &input.contact_email {
        match Email::parse(e) {
            Ok(v) => p.contact_email = v.to_string(),
            Err(e) => err("contactEmail", e.to_string()),
        }
    }
    if let Some(f) = &input.referral_fee_percentage {
        match Bps::from_percent_str(&f.to_string()) {
            Ok(b) => p.referral_fee_bps = b,
            Err(_) => err("referralFeePercentage", "must be a percentage between 0 and 100 with at most two decimals".into()),
        }
    }
    if let Some(d) = input.approval_ttl_days {
        if (1..=30).contains(&d) {
            p.approval_ttl_days = d;
        } else {
            err("approvalTtlDays", "must be between 1 and 30".into());
        }
    }
    if let Some(m) = &input.invoicing_trigger_mode {
        match InvoicingTriggerMode::parse(m) {
            Some(m) => p.invoicing_trigger_mode = m,
            None => err("invoicingTriggerMode", "must be PayWhenPaid or ConfirmedPipeline".into()),
        }
    }
    if let Some(b) = &input.branding {
        check_branding(b, errors);
        p.branding = serde_json::to_value(b).unwrap_or_default();
    }
}

impl App {
    /// Creates a partner with its first API key.
    pub async fn create_partner(&self, input: PartnerInput) -> Result<(PartnerRecord, IssuedKey), AppError> {
        let now = self.now();
        let mut errors = Vec::new();
        if input.company_name.is_none() {
            errors.push(FieldError { field: "companyName".into(), message: "is required".into() });
        }
        if input.contact_email.is_none() {
            errors.push(FieldError { field: "contactEmail".into(), message: "is required".into() });
        }
        let mut p = PartnerRecord {
            id: Uuid::new_v4(),
            company_name: String::new(),
            contact_email: String::new(),
            referral_fee_bps: Bps(5000),
            approval_ttl_days: 7,
            invoicing_trigger_mode: InvoicingTriggerMode::PayWhenPaid,
            branding: serde_json::to_value(Branding::default()).unwrap_or_default(),
            created_at: now,
        };
        apply(&mut p, &input, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let mut tx = self.store.begin().await?;
        tx.insert_partner(&p).await?;
        let key = self.issue_key(&mut tx, p.id).await?;
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            "partner.created",
            "partner",
            &p.id.to_string(),
            serde_json::json!({"companyName": p.company_name, "referralFeeBps": p.referral_fee_bps.0}),
        )
        .await?;
        tx.commit().await?;
        Ok((p, key))
    }

    async fn issue_key(&self, tx: &mut refshare_store::Tx, partner_id: Uuid) -> Result<IssuedKey, AppError> {
        let key = new_api_key("rsp");
        let record = ApiKeyRecord {
            id: Uuid::new_v4(),
            partner_id,
            key_hash: hash_secret(&key),
            key_prefix: key[..10].to_string(),
            created_at: self.now(),
            revoked_at: None,
        };
        tx.insert_api_key(&record).await?;
        Ok(IssuedKey { record, key })
    }

    /// Changes a partner. A fee change only affects links created afterwards (the old
    /// links keep their snapshot).
    pub async fn update_partner(&self, id: Uuid, input: PartnerInput) -> Result<PartnerRecord, AppError> {
        let mut tx = self.store.begin().await?;
        let mut p = tx.partner(id).await?.ok_or(AppError::NotFound("partner"))?;
        let before = p.referral_fee_bps;
        let mode_before = p.invoicing_trigger_mode;
        let mut errors = Vec::new();
        apply(&mut p, &input, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        tx.update_partner(&p).await?;
        if p.invoicing_trigger_mode != mode_before {
            // The mode is part of every earning's stage: move the ledger with it.
            let cause = crate::ledger::Cause::new("partner.invoicing_mode_changed", id, self.now());
            let earnings = tx.earning_ids_of_partner(id).await?;
            crate::ledger::sync_earnings(&mut tx, &earnings, &cause).await?;
        }
        audit(
            &mut tx,
            self.now(),
            actor::OPERATOR,
            "partner.updated",
            "partner",
            &id.to_string(),
            serde_json::json!({
                "referralFeeBpsBefore": before.0, "referralFeeBps": p.referral_fee_bps.0,
                "invoicingTriggerModeBefore": mode_before.as_str(), "invoicingTriggerMode": p.invoicing_trigger_mode.as_str(),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(p)
    }

    pub async fn partner(&self, id: Uuid) -> Result<PartnerRecord, AppError> {
        self.store.read().await?.partner(id).await?.ok_or(AppError::NotFound("partner"))
    }

    pub async fn partners(&self) -> Result<Vec<PartnerRecord>, AppError> {
        Ok(self.store.read().await?.partners().await?)
    }

    pub async fn partner_keys(&self, id: Uuid) -> Result<Vec<ApiKeyRecord>, AppError> {
        Ok(self.store.read().await?.api_keys(id).await?)
    }

    /// Issues an additional key (rotation: issue, deploy, then revoke the old one).
    pub async fn rotate_partner_key(&self, partner_id: Uuid) -> Result<IssuedKey, AppError> {
        let mut tx = self.store.begin().await?;
        tx.partner(partner_id).await?.ok_or(AppError::NotFound("partner"))?;
        let key = self.issue_key(&mut tx, partner_id).await?;
        audit(
            &mut tx,
            self.now(),
            actor::OPERATOR,
            "partner.api_key_issued",
            "partner",
            &partner_id.to_string(),
            serde_json::json!({"keyId": key.record.id}),
        )
        .await?;
        tx.commit().await?;
        Ok(key)
    }

    pub async fn revoke_partner_key(&self, partner_id: Uuid, key_id: Uuid) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        if !tx.revoke_api_key(partner_id, key_id, self.now()).await? {
            return Err(AppError::NotFound("api key"));
        }
        audit(
            &mut tx,
            self.now(),
            actor::OPERATOR,
            "partner.api_key_revoked",
            "partner",
            &partner_id.to_string(),
            serde_json::json!({"keyId": key_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_collection_partner(&self, input: CollectionPartnerInput) -> Result<CollectionPartnerRecord, AppError> {
        let mut errors = Vec::new();
        let name = required_text(&input.name, 200).unwrap_or_else(|e| {
            errors.push(FieldError { field: "name".into(), message: e.to_string() });
            String::new()
        });
        let mut countries = Vec::new();
        for (i, c) in input.countries.iter().enumerate() {
            match Country::parse(c) {
                Ok(c) => countries.push(c.as_str().to_string()),
                Err(e) => errors.push(FieldError { field: format!("countries[{i}]"), message: e.to_string() }),
            }
        }
        countries.sort();
        countries.dedup();
        if countries.is_empty() && errors.is_empty() {
            errors.push(FieldError { field: "countries".into(), message: "at least one country is required".into() });
        }
        let pct = |n: &serde_json::Number, field: &str, errors: &mut Vec<FieldError>| {
            Bps::from_percent_str(&n.to_string()).unwrap_or_else(|_| {
                errors.push(FieldError {
                    field: field.into(),
                    message: "must be a percentage between 0 and 100 with at most two decimals".into(),
                });
                Bps(0)
            })
        };
        let success = pct(&input.success_fee_percentage, "successFeePercentage", &mut errors);
        let share = match &input.platform_share_percentage {
            Some(n) => pct(n, "platformSharePercentage", &mut errors),
            None => Bps(4000),
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let cp = CollectionPartnerRecord {
            id: Uuid::new_v4(),
            name,
            success_fee_bps: success,
            platform_share_bps: share,
            countries,
            created_at: self.now(),
        };
        let mut tx = self.store.begin().await?;
        tx.insert_collection_partner(&cp).await?;
        audit(
            &mut tx,
            self.now(),
            actor::OPERATOR,
            "collection_partner.created",
            "collection_partner",
            &cp.id.to_string(),
            serde_json::json!({"name": cp.name, "countries": cp.countries}),
        )
        .await?;
        tx.commit().await?;
        Ok(cp)
    }

    pub async fn collection_partners(&self) -> Result<Vec<CollectionPartnerRecord>, AppError> {
        Ok(self.store.read().await?.collection_partners().await?)
    }
}
