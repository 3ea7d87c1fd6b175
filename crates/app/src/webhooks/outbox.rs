//! The durable webhook outbox. A use case calls [`enqueue_event`] inside its own
//! transaction: the event row and one `Pending` delivery per matching subscription are
//! committed (or rolled back) with the change they announce. Delivery happens later, in
//! `dispatch`. This module also builds the `data` of the events the use cases emit.

use refshare_core::Instant;
use refshare_store::{CaseRecord, DeliveryStatus, Tx, WebhookDeliveryRecord, WebhookEventRecord, WebhookSubscriptionRecord};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::AppError;

/// Event names (SPEC §9).
pub mod event {
    pub const CLIENT_LINK_REQUESTED: &str = "client.link_requested";
    pub const CLIENT_LINKED: &str = "client.linked";
    pub const CLIENT_LINK_DECLINED: &str = "client.link_declined";
    pub const CLIENT_LINK_EXPIRED: &str = "client.link_expired";
    pub const CLIENT_CONTRACT_SIGNED: &str = "client.onboarding.contract_signed";
    pub const CASE_CREATED: &str = "case.created";
    pub const CASE_UPDATED: &str = "case.updated";
    pub const CASE_CLOSED: &str = "case.closed";
    pub const CASES_REPLAY_FAILED: &str = "cases.replay_failed";
    pub const EARNING_CREATED: &str = "earning.created";
    pub const EARNING_STAGE_CHANGED: &str = "earning.stage_changed";
    pub const LINK_ARCHIVED: &str = "link.archived";
    pub const DISPUTE_UPDATED: &str = "dispute.updated";
}

/// Every event a subscription may name.
pub const EVENT_TYPES: [&str; 13] = [
    event::CLIENT_LINK_REQUESTED,
    event::CLIENT_LINKED,
    event::CLIENT_LINK_DECLINED,
    event::CLIENT_LINK_EXPIRED,
    event::CLIENT_CONTRACT_SIGNED,
    event::CASE_CREATED,
    event::CASE_UPDATED,
    event::CASE_CLOSED,
    event::CASES_REPLAY_FAILED,
    event::EARNING_CREATED,
    event::EARNING_STAGE_CHANGED,
    event::LINK_ARCHIVED,
    event::DISPUTE_UPDATED,
];

/// Writes the event `event_type` for `partner_id` and one pending delivery, due at
/// `now`, per active subscription of that partner that names the event, all inside
/// `tx`. With no such subscription nothing is written.
pub async fn enqueue_event(tx: &mut Tx, now: Instant, partner_id: Uuid, event_type: &str, data: Value) -> Result<(), AppError> {
    enqueue_counted(tx, now, partner_id, event_type, data).await.map(|_| ())
}

/// [`enqueue_event`], returning how many deliveries were queued.
pub(crate) async fn enqueue_counted(tx: &mut Tx, now: Instant, partner_id: Uuid, event_type: &str, data: Value) -> Result<usize, AppError> {
    enqueue_events(tx, now, vec![(partner_id, event_type, data)]).await
}

/// [`enqueue_event`] for many events at once (a set-based run): the subscriptions of
/// their partners are read in one query and the events and deliveries written with
/// multi-row inserts, the same rows one call per event writes. Returns how many
/// deliveries were queued.
pub async fn enqueue_events(tx: &mut Tx, now: Instant, events: Vec<(Uuid, &str, Value)>) -> Result<usize, AppError> {
    if let Some((_, bad, _)) = events.iter().find(|(_, t, _)| !EVENT_TYPES.contains(t)) {
        return Err(AppError::internal(format!("unknown webhook event `{bad}`")));
    }
    if events.is_empty() {
        return Ok(0);
    }
    let mut partners: Vec<Uuid> = events.iter().map(|(p, _, _)| *p).collect();
    partners.sort();
    partners.dedup();
    let subs = tx.webhook_subscriptions_of(&partners).await?;
    enqueue_events_for(tx, now, events, &subs).await
}

/// [`enqueue_events`] with the subscriptions of the events' partners already read (e.g.
/// once for a group of payments, `payments_group`); inactive ones are skipped, as
/// [`enqueue_events`] skips them.
pub async fn enqueue_events_for(
    tx: &mut Tx,
    now: Instant,
    events: Vec<(Uuid, &str, Value)>,
    subs: &[WebhookSubscriptionRecord],
) -> Result<usize, AppError> {
    if let Some((_, bad, _)) = events.iter().find(|(_, t, _)| !EVENT_TYPES.contains(t)) {
        return Err(AppError::internal(format!("unknown webhook event `{bad}`")));
    }
    let (mut rows, mut deliveries) = (Vec::new(), Vec::new());
    for (partner_id, event_type, data) in events {
        let mut matching =
            subs.iter().filter(|s| s.is_active && s.partner_id == partner_id && s.events.iter().any(|e| e == event_type)).peekable();
        if matching.peek().is_none() {
            continue;
        }
        let ev = WebhookEventRecord { id: Uuid::new_v4(), partner_id, event_type: event_type.into(), payload: data, created_at: now };
        deliveries.extend(matching.map(|s| WebhookDeliveryRecord {
            id: Uuid::new_v4(),
            event_id: ev.id,
            subscription_id: s.id,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            last_status_code: None,
            last_error: None,
            delivered_at: None,
            created_at: now,
        }));
        rows.push(ev);
    }
    tx.bulk_webhook_events(&rows).await?;
    tx.bulk_webhook_deliveries(&deliveries).await?;
    Ok(deliveries.len())
}

/// The JSON body partners receive: `{id, type, createdUtc, data}`.
pub fn envelope(ev: &WebhookEventRecord) -> Value {
    json!({
        "id": ev.id,
        "type": ev.event_type,
        "createdUtc": ev.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": ev.payload,
    })
}

fn ts(t: Instant) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `data` of the client events: who the client is to the partner, plus `extra`.
pub fn client_data(tenant: &str, client_id: Uuid, extra: Value) -> Value {
    let mut v = json!({"externalTenantId": tenant, "creditorId": client_id});
    merge(&mut v, extra);
    v
}

/// `data` of the case events.
pub fn case_data(case: &CaseRecord, tenant: &str, extra: Value) -> Value {
    let mut v = json!({
        "caseId": case.id,
        "reference": case.reference,
        "creditorReference": case.creditor_reference,
        "externalTenantId": tenant,
        "creditorId": case.client_id,
        "lifecycle": case.lifecycle.as_str(),
        "closeCode": case.close_code,
        "source": case.source.as_str(),
        "currencyCode": case.currency.code(),
        "debtorCountry": case.debtor_country,
        "createdUtc": ts(case.created_at),
        "updatedUtc": ts(case.updated_at),
    });
    merge(&mut v, extra);
    v
}

fn merge(v: &mut Value, extra: Value) {
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
}

/// The partner with the client's active link, and its id for the client.
pub(crate) async fn active_partner_of(tx: &mut Tx, client_id: Uuid) -> Result<Option<(Uuid, String)>, AppError> {
    Ok(tx
        .links_of_client(client_id)
        .await?
        .into_iter()
        .find(|l| l.current_status() == refshare_core::link::LinkStatus::Active)
        .map(|l| (l.partner_id, l.external_tenant_id)))
}

/// `case.created` to the partner linked to the case's client, if any.
pub(crate) async fn case_created(tx: &mut Tx, now: Instant, case: &CaseRecord) -> Result<(), AppError> {
    if let Some((partner, tenant)) = active_partner_of(tx, case.client_id).await? {
        enqueue_event(tx, now, partner, event::CASE_CREATED, case_data(case, &tenant, json!({}))).await?;
    }
    Ok(())
}

/// `case.updated` for a lifecycle change, and `case.closed` when it closed, to `partner`.
pub(crate) async fn case_changed(
    tx: &mut Tx,
    now: Instant,
    partner: Uuid,
    tenant: &str,
    old: refshare_core::case::Lifecycle,
    case: &CaseRecord,
) -> Result<(), AppError> {
    if old == case.lifecycle {
        return Ok(());
    }
    let extra = json!({"oldLifecycle": old.as_str(), "newLifecycle": case.lifecycle.as_str()});
    enqueue_event(tx, now, partner, event::CASE_UPDATED, case_data(case, tenant, extra)).await?;
    if case.lifecycle == refshare_core::case::Lifecycle::Closed {
        enqueue_event(tx, now, partner, event::CASE_CLOSED, case_data(case, tenant, json!({"closeComment": null}))).await?;
    }
    Ok(())
}
