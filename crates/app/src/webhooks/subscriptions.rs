//! A partner's webhook subscriptions (`/v1/Webhooks`): create (the secret is shown once),
//! list, get, update (URL, events, active, test mode, secret rotation with a 24 h overlap),
//! delete; test events through the real outbox; and the delivery log. Another partner's
//! subscription is "not found". Signing secrets are stored sealed (`crate::seal`), bound
//! to their subscription, and opened only to sign a delivery.

use refshare_core::Instant;
use refshare_store::{DeliveryFilter, PageReq, PartnerRecord, WebhookAttemptRecord, WebhookDeliveryRecord, WebhookSubscriptionRecord};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::outbox::{case_data, client_data, enqueue_counted, event, EVENT_TYPES};
use super::{signature, url_guard};
use crate::seal::{self, Keyring, SealError};
use crate::{actor, audit, App, AppError, FieldError};

/// How long the previous secret keeps signing after a rotation.
pub const SECRET_OVERLAP_MS: i64 = 24 * 3_600 * 1_000;
/// Most subscriptions one partner may have.
pub const MAX_SUBSCRIPTIONS: usize = 20;

/// `POST /v1/Webhooks`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub is_test_mode: Option<bool>,
}

/// `PUT /v1/Webhooks/{id}`: every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhookInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub is_active: Option<bool>,
    pub regenerate_secret: Option<bool>,
    pub is_test_mode: Option<bool>,
}

/// `POST /v1/Webhooks/test`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestWebhookInput {
    pub event_type: Option<String>,
    pub case_id: Option<String>,
    pub external_tenant_id: Option<String>,
    pub old_lifecycle: Option<String>,
    pub new_lifecycle: Option<String>,
    pub close_code: Option<String>,
    pub close_comment: Option<String>,
}

/// One delivery with its event type and every attempt.
#[derive(Debug, Clone)]
pub struct DeliveryLogEntry {
    pub delivery: WebhookDeliveryRecord,
    pub event_type: String,
    pub partner_id: Uuid,
    pub attempts: Vec<WebhookAttemptRecord>,
}

fn check_events(events: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    if events.is_empty() {
        errors.push(FieldError { field: "events".into(), message: "must name at least one event".into() });
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let e = e.trim();
        if !EVENT_TYPES.contains(&e) {
            errors.push(FieldError {
                field: format!("events[{i}]"),
                message: format!("`{e}` is not a known event; known events: {}", EVENT_TYPES.join(", ")),
            });
        } else if !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    out
}

impl App {
    /// Whether webhooks may reach loopback over http: the setting, honoured in `test` only.
    pub fn webhook_allow_loopback(&self) -> bool {
        self.config.webhook_allow_loopback && self.config.environment == crate::Environment::Test
    }

    async fn check_webhook_url(&self, raw: &str, errors: &mut Vec<FieldError>) -> String {
        let allow = self.webhook_allow_loopback();
        match url_guard::check_url(raw, allow) {
            Ok(u) => match url_guard::check_resolved(&u, allow).await {
                Ok(()) => u.to_string(),
                Err(m) => {
                    errors.push(FieldError { field: "url".into(), message: m });
                    String::new()
                }
            },
            Err(m) => {
                errors.push(FieldError { field: "url".into(), message: m });
                String::new()
            }
        }
    }

    /// Creates a subscription; returns it with its secret (shown only now).
    pub async fn create_webhook(
        &self,
        partner: &PartnerRecord,
        input: CreateWebhookInput,
    ) -> Result<(WebhookSubscriptionRecord, String), AppError> {
        let mut errors = Vec::new();
        let url = match input.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
            Some(u) => self.check_webhook_url(u, &mut errors).await,
            None => {
                errors.push(FieldError { field: "url".into(), message: "is required".into() });
                String::new()
            }
        };
        let events = match &input.events {
            Some(e) => check_events(e, &mut errors),
            None => {
                errors.push(FieldError { field: "events".into(), message: "is required".into() });
                vec![]
            }
        };
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if tx.webhook_subscriptions(Some(partner.id)).await?.len() >= MAX_SUBSCRIPTIONS {
            return Err(AppError::bad_field("url", format!("at most {MAX_SUBSCRIPTIONS} webhooks per partner")));
        }
        let secret = signature::new_secret();
        let id = Uuid::new_v4();
        let rec = WebhookSubscriptionRecord {
            id,
            partner_id: partner.id,
            url,
            events,
            is_active: true,
            is_test_mode: input.is_test_mode.unwrap_or(false),
            secret: self.keyring()?.seal(&secret_place(id), secret.as_bytes()),
            previous_secret: None,
            previous_secret_until: None,
            consecutive_failures: 0,
            disabled_reason: None,
            created_at: now,
            updated_at: now,
        };
        tx.insert_webhook_subscription(&rec).await?;
        audit(
            &mut tx,
            now,
            &actor::partner(partner.id),
            "webhook.created",
            "webhook",
            &rec.id.to_string(),
            json!({"url": rec.url, "events": rec.events}),
        )
        .await?;
        tx.commit().await?;
        Ok((rec, secret))
    }

    pub async fn webhooks(&self, partner: &PartnerRecord) -> Result<Vec<WebhookSubscriptionRecord>, AppError> {
        Ok(self.store.read().await?.webhook_subscriptions(Some(partner.id)).await?)
    }

    /// Operator: every subscription, or one partner's.
    pub async fn all_webhooks(&self, partner_id: Option<Uuid>) -> Result<Vec<WebhookSubscriptionRecord>, AppError> {
        Ok(self.store.read().await?.webhook_subscriptions(partner_id).await?)
    }

    pub async fn webhook(&self, partner: &PartnerRecord, id: Uuid) -> Result<WebhookSubscriptionRecord, AppError> {
        let mut tx = self.store.read().await?;
        owned(&mut tx, partner, id).await
    }

    /// Updates a subscription; returns it and, on `regenerateSecret`, the new secret. The
    /// previous secret keeps signing for [`SECRET_OVERLAP_MS`]. Re-activating clears the
    /// failure count and the disabled reason.
    pub async fn update_webhook(
        &self,
        partner: &PartnerRecord,
        id: Uuid,
        input: UpdateWebhookInput,
    ) -> Result<(WebhookSubscriptionRecord, Option<String>), AppError> {
        let mut errors = Vec::new();
        let url = match input.url.as_deref().map(str::trim) {
            Some(u) => Some(self.check_webhook_url(u, &mut errors).await),
            None => None,
        };
        let events = input.events.as_ref().map(|e| check_events(e, &mut errors));
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut rec = owned(&mut tx, partner, id).await?;
        if let Some(u) = url {
            rec.url = u;
        }
        if let Some(e) = events {
            rec.events = e;
        }
        if let Some(t) = input.is_test_mode {
            rec.is_test_mode = t;
        }
        let mut abandon = false;
        match input.is_active {
            Some(true) if !rec.is_active => {
                rec.is_active = true;
                rec.consecutive_failures = 0;
                rec.disabled_reason = None;
            }
            Some(false) if rec.is_active => {
                rec.is_active = false;
                abandon = true;
            }
            _ => {}
        }
        let mut secret = None;
        if input.regenerate_secret == Some(true) {
            let new = signature::new_secret();
            // Both columns are sealed for the same place, so the old value moves as it is.
            let sealed = self.keyring()?.seal(&secret_place(rec.id), new.as_bytes());
            rec.previous_secret = Some(std::mem::replace(&mut rec.secret, sealed));
            rec.previous_secret_until = Some(now + chrono::Duration::milliseconds(SECRET_OVERLAP_MS));
            secret = Some(new);
        }
        rec.updated_at = now;
        tx.update_webhook_subscription(&rec).await?;
        if abandon {
            tx.abandon_webhook_deliveries(rec.id, "the webhook was deactivated").await?;
        }
        audit(
            &mut tx,
            now,
            &actor::partner(partner.id),
            "webhook.updated",
            "webhook",
            &rec.id.to_string(),
            json!({"url": rec.url, "events": rec.events, "isActive": rec.is_active, "secretRotated": secret.is_some()}),
        )
        .await?;
        tx.commit().await?;
        Ok((rec, secret))
    }

    /// Deletes a subscription with its delivery history.
    pub async fn delete_webhook(&self, partner: &PartnerRecord, id: Uuid) -> Result<(), AppError> {
        let mut tx = self.store.begin().await?;
        owned(&mut tx, partner, id).await?;
        tx.delete_webhook_subscription(id).await?;
        audit(&mut tx, self.now(), &actor::partner(partner.id), "webhook.deleted", "webhook", &id.to_string(), json!({})).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `POST /v1/Webhooks/test` (test environment only): builds the event from the
    /// partner's real case or client and queues it through the outbox. Returns the event
    /// type and how many deliveries were queued.
    pub async fn trigger_test_webhook(&self, partner: &PartnerRecord, input: TestWebhookInput) -> Result<(String, usize), AppError> {
        self.require_test_env()?;
        let ty = input.event_type.as_deref().map(str::trim).unwrap_or_default().to_string();
        if ty.is_empty() {
            return Err(AppError::bad_field("eventType", "is required"));
        }
        if !EVENT_TYPES.contains(&ty.as_str()) {
            return Err(AppError::bad_field("eventType", format!("`{ty}` is not a known event; known events: {}", EVENT_TYPES.join(", "))));
        }
        let now = self.now();
        let data = if ty.starts_with("case.") {
            let raw = input.case_id.as_deref().ok_or_else(|| AppError::bad_field("caseId", format!("is required for {ty}")))?;
            let id = Uuid::parse_str(raw.trim()).map_err(|_| AppError::NotFound("case"))?;
            let item = self.partner_case(partner, id).await?;
            let extra = match ty.as_str() {
                event::CASE_UPDATED => json!({
                    "oldLifecycle": input.old_lifecycle.clone().unwrap_or_else(|| item.case.lifecycle.as_str().to_string()),
                    "newLifecycle": input.new_lifecycle.clone().unwrap_or_else(|| "Closed".into()),
                }),
                event::CASE_CLOSED => json!({
                    "closeCode": input.close_code.clone().unwrap_or_else(|| "Paid".into()),
                    "closeComment": input.close_comment,
                }),
                _ => json!({}),
            };
            case_data(&item.case, &item.link.external_tenant_id, extra)
        } else if ty.starts_with("client.") || ty == event::LINK_ARCHIVED || ty == event::CASES_REPLAY_FAILED {
            let tenant = input
                .external_tenant_id
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or_else(|| AppError::bad_field("externalTenantId", format!("is required for {ty}")))?;
            let mut tx = self.store.begin().await?;
            let link = tx.active_link_by_tenant(partner.id, tenant).await?.ok_or(AppError::NotFound("client link"))?;
            let extra = match ty.as_str() {
                event::LINK_ARCHIVED => json!({"linkId": link.id, "reason": "test event"}),
                event::CASES_REPLAY_FAILED => json!({"linkId": link.id, "failedCases": [{"index": 0, "message": "test event"}]}),
                _ => json!({"linkId": link.id, "isAttributedClient": link.is_attributed}),
            };
            client_data(tenant, link.client_id, extra)
        } else {
            return Err(AppError::bad_field(
                "eventType",
                format!("test events are available for client.*, case.*, cases.replay_failed and link.archived, not `{ty}`"),
            ));
        };
        let mut tx = self.store.begin().await?;
        let n = enqueue_counted(&mut tx, now, partner.id, &ty, data).await?;
        tx.commit().await?;
        Ok((ty, n))
    }

    /// The delivery log of one of the partner's subscriptions, newest first.
    pub async fn partner_webhook_deliveries(
        &self,
        partner: &PartnerRecord,
        id: Uuid,
        page: PageReq,
    ) -> Result<(Vec<DeliveryLogEntry>, i64), AppError> {
        {
            let mut tx = self.store.read().await?;
            owned(&mut tx, partner, id).await?;
        }
        self.webhook_deliveries(&DeliveryFilter { partner_id: Some(partner.id), subscription_id: Some(id) }, page).await
    }

    /// Operator: the delivery log, newest first.
    pub async fn webhook_deliveries(&self, filter: &DeliveryFilter, page: PageReq) -> Result<(Vec<DeliveryLogEntry>, i64), AppError> {
        let mut tx = self.store.read().await?;
        let (rows, total) = tx.webhook_deliveries(filter, page).await?;
        let mut out = Vec::new();
        for (d, event_type) in rows {
            let attempts = tx.webhook_attempts(d.id).await?;
            let partner_id = tx.webhook_event(d.event_id).await?.map(|e| e.partner_id).unwrap_or_default();
            out.push(DeliveryLogEntry { delivery: d, event_type, partner_id, attempts });
        }
        Ok((out, total))
    }
}

async fn owned(tx: &mut refshare_store::Tx, partner: &PartnerRecord, id: Uuid) -> Result<WebhookSubscriptionRecord, AppError> {
    tx.webhook_subscription(id).await?.filter(|s| s.partner_id == partner.id).ok_or(AppError::NotFound("webhook"))
}

/// Where a subscription's secrets live: the associated data they are sealed with.
fn secret_place(id: Uuid) -> String {
    format!("webhook-secret:{id}")
}

fn open_secret(keys: &Keyring, id: Uuid, stored: &str) -> Result<String, SealError> {
    let what = format!("signing secret of webhook {id}");
    let opened = keys.open(&secret_place(id), stored, &what)?;
    String::from_utf8(opened.plaintext).map_err(|_| SealError::Damaged { what, reason: "it is not text".into() })
}

/// The secrets that sign at `now`, opened: the current one, then the previous one during
/// the overlap.
pub fn signing_secrets(keys: &Keyring, s: &WebhookSubscriptionRecord, now: Instant) -> Result<Vec<String>, SealError> {
    let mut out = vec![open_secret(keys, s.id, &s.secret)?];
    if let (Some(prev), Some(until)) = (&s.previous_secret, s.previous_secret_until) {
        if now < until {
            out.push(open_secret(keys, s.id, prev)?);
        }
    }
    Ok(out)
}

/// At start: seals every webhook secret that is not sealed under the current key yet
/// (plaintext of an older database, or sealed under the previous key during a rotation),
/// and fails naming `REFSHARE_SECRET_KEY` if one does not open.
pub(crate) async fn seal_stored_secrets(tx: &mut refshare_store::Tx, keys: &Keyring) -> Result<(), AppError> {
    let resealed = |id: Uuid, stored: &str| -> Result<Option<String>, AppError> {
        let place = secret_place(id);
        if !seal::is_sealed(stored) {
            return Ok(Some(keys.seal(&place, stored.as_bytes())));
        }
        let opened =
            keys.open(&place, stored, &format!("signing secret of webhook {id}")).map_err(|e| AppError::internal(e.to_string()))?;
        Ok(opened.stale.then(|| keys.seal(&place, &opened.plaintext)))
    };
    for s in tx.webhook_subscriptions(None).await? {
        if let Some(new) = resealed(s.id, &s.secret)? {
            tx.replace_webhook_secret(s.id, &s.secret, &new).await?;
        }
        if let Some(prev) = &s.previous_secret {
            if let Some(new) = resealed(s.id, prev)? {
                tx.replace_webhook_previous_secret(s.id, prev, &new).await?;
            }
        }
    }
    Ok(())
}
