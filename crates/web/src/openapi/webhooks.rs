//! Operations and schemas of the webhooks (`api::webhooks` on the Referral API, the two
//! webhook listings of `api::admin`), SPEC §9.

use chrono::{DateTime, Utc};
use utoipa::ToSchema;
use uuid::Uuid;

use super::schemas::{ErrorBody, Page};

/// A webhook subscription. Field names follow the reference's `WebhookDto`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct WebhookDto {
    pub id: Uuid,
    /// The https URL deliveries are POSTed to.
    pub url: String,
    /// Subscribed event names.
    pub events: Vec<String>,
    /// False when deactivated by the partner or disabled after failures (see `disabledReason`).
    pub is_active: bool,
    pub created_utc: DateTime<Utc>,
    pub updated_utc: DateTime<Utc>,
    /// Why the webhook was disabled automatically (410 Gone, or 8 failures in a row).
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
    /// Base64 signing secret: only in the answers to creation and `regenerateSecret`.
    #[schema(required = true)]
    pub secret: Option<String>,
    pub is_test_mode: bool,
}

/// `POST /referral-api/v1/Webhooks`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CreateWebhookRequest {
    /// An https URL (at most 1024 characters) whose host is a public address.
    pub url: String,
    /// At least one of: `client.link_requested`, `client.linked`, `client.link_declined`,
    /// `client.link_expired`, `client.onboarding.contract_signed`, `case.created`,
    /// `case.updated`, `case.closed`, `cases.replay_failed`, `earning.created`,
    /// `earning.stage_changed`, `link.archived`, `dispute.updated`.
    pub events: Vec<String>,
    /// Stored and shown; default false.
    pub is_test_mode: Option<bool>,
}

/// `PUT /referral-api/v1/Webhooks/{id}`: only the fields given change.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpdateWebhookRequest {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `true` re-enables a disabled webhook and clears its failure count.
    pub is_active: Option<bool>,
    /// `true` issues a new secret (in the answer); the previous one keeps signing for 24 hours.
    pub regenerate_secret: Option<bool>,
    pub is_test_mode: Option<bool>,
}

/// `POST /referral-api/v1/Webhooks/test`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TriggerTestWebhookRequest {
    /// A `client.*`, `case.*`, `cases.replay_failed` or `link.archived` event.
    pub event_type: String,
    /// Required for `case.*`: one of your visible cases.
    pub case_id: Option<Uuid>,
    /// Required for the other events: one of your active client links.
    pub external_tenant_id: Option<String>,
    /// `case.updated`: defaults to the case's lifecycle.
    pub old_lifecycle: Option<String>,
    /// `case.updated`: defaults to `Closed`.
    pub new_lifecycle: Option<String>,
    /// `case.closed`: defaults to `Paid`.
    pub close_code: Option<String>,
    pub close_comment: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TriggerTestWebhookResponse {
    pub event_type: String,
    /// Deliveries queued (one per active webhook subscribed to the event).
    pub enqueued_count: i64,
    pub message: String,
}

/// One HTTP attempt of a delivery.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct WebhookAttempt {
    /// 1-based.
    pub attempt: i64,
    pub attempted_utc: DateTime<Utc>,
    /// Absent when no answer came (connection error, timeout, refused address).
    #[schema(required = true)]
    pub status_code: Option<i64>,
    #[schema(required = true)]
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// One event's delivery to one webhook.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct WebhookDelivery {
    pub id: Uuid,
    /// The stable event id (the `id` of the body and `X-Debitura-Event-Id`), the same on every retry.
    pub event_id: Uuid,
    pub event_type: String,
    pub webhook_id: Uuid,
    pub partner_id: Uuid,
    /// `Pending`, `Delivered`, `Failed` (attempts used up or 410) or `Abandoned` (webhook disabled).
    pub status: String,
    pub attempt_count: i64,
    #[schema(required = true)]
    pub next_attempt_utc: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub last_status_code: Option<i64>,
    #[schema(required = true)]
    pub last_error: Option<String>,
    #[schema(required = true)]
    pub delivered_utc: Option<DateTime<Utc>>,
    pub created_utc: DateTime<Utc>,
    pub attempts: Vec<WebhookAttempt>,
}

#[derive(ToSchema)]
pub struct WebhookDeliveryList {
    pub page: Page,
    pub deliveries: Vec<WebhookDelivery>,
}

/// A subscription as the operator sees it.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OperatorWebhook {
    pub id: Uuid,
    pub partner_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub is_active: bool,
    pub created_utc: DateTime<Utc>,
    pub updated_utc: DateTime<Utc>,
    #[schema(required = true)]
    pub disabled_reason: Option<String>,
    /// Always null here.
    #[schema(required = true)]
    pub secret: Option<String>,
    pub is_test_mode: bool,
    pub consecutive_failures: i64,
    /// End of the rotation overlap, while the previous secret still signs.
    #[schema(required = true)]
    pub previous_secret_valid_until: Option<DateTime<Utc>>,
}

#[derive(ToSchema)]
pub struct OperatorWebhookList {
    pub webhooks: Vec<OperatorWebhook>,
}

#[utoipa::path(
    get,
    path = "/referral-api/v1/Webhooks",
    tag = "Referral Partner API",
    summary = "List your webhooks",
    description = "Every subscription of the calling partner, oldest first. Secrets are never included.",
    responses(
        (status = 200, description = "The webhooks.", body = Vec<WebhookDto>),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_list_webhooks() {}

#[utoipa::path(
    post,
    path = "/referral-api/v1/Webhooks",
    tag = "Referral Partner API",
    summary = "Create a webhook",
    description = "Registers an https URL for the named events. The answer carries the Base64 signing secret, shown only here. Each delivery is a POST of `{id, type, createdUtc, data}` with `X-Debitura-Signature: t={unix seconds},v1={hex HMAC-SHA256(secret, \"{t}.{raw body}\")}` and `X-Debitura-Event-Id`; the HMAC key is the secret string as returned. Refuse a `t` more than 300 s from your clock. Deliveries are at-least-once: deduplicate on the event id. Failed deliveries are retried 7 times over about 90 minutes (1, 2, 4, 8, 16, 25, 34 minutes); 410 Gone or 8 failures in a row disable the webhook. URLs whose host is or resolves to a loopback, private, link-local or otherwise non-public address are refused.",
    request_body = CreateWebhookRequest,
    responses(
        (status = 200, description = "Created; `secret` is set.", body = WebhookDto),
        (status = 400, description = "Invalid URL (not https, not public) or events (empty or unknown names).", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_create_webhook() {}

#[utoipa::path(
    get,
    path = "/referral-api/v1/Webhooks/{id}",
    tag = "Referral Partner API",
    summary = "Get one webhook",
    params(("id" = Uuid, Path, description = "Webhook id.")),
    responses(
        (status = 200, description = "The webhook, with `disabledReason` when it was disabled automatically.", body = WebhookDto),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "No such webhook of yours.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_get_webhook() {}

#[utoipa::path(
    put,
    path = "/referral-api/v1/Webhooks/{id}",
    tag = "Referral Partner API",
    summary = "Update a webhook",
    description = "Changes the URL, events, active state or test mode. `regenerateSecret: true` returns a new secret; for 24 hours deliveries carry a `v1=` for the new and for the previous secret. `isActive: true` re-enables a disabled webhook; `isActive: false` abandons its pending deliveries.",
    params(("id" = Uuid, Path, description = "Webhook id.")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The updated webhook; `secret` only after `regenerateSecret`.", body = WebhookDto),
        (status = 400, description = "Invalid URL or events.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "No such webhook of yours.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_update_webhook() {}

#[utoipa::path(
    delete,
    path = "/referral-api/v1/Webhooks/{id}",
    tag = "Referral Partner API",
    summary = "Delete a webhook and its delivery history",
    params(("id" = Uuid, Path, description = "Webhook id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "No such webhook of yours.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_delete_webhook() {}

#[utoipa::path(
    post,
    path = "/referral-api/v1/Webhooks/test",
    tag = "Referral Partner API",
    summary = "Send a test event (test environment only)",
    description = "Builds the event from one of your real cases (`caseId`) or client links (`externalTenantId`) and queues it through the same outbox, signing and retries as real events.",
    request_body = TriggerTestWebhookRequest,
    responses(
        (status = 200, description = "Queued.", body = TriggerTestWebhookResponse),
        (status = 400, description = "Missing or unknown `eventType`, or a missing `caseId` / `externalTenantId`.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 403, description = "Production environment.", body = ErrorBody),
        (status = 404, description = "No such case or active client link of yours.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_test_webhook() {}

#[utoipa::path(
    get,
    path = "/referral-api/v1/Webhooks/{id}/deliveries",
    tag = "Referral Partner API",
    summary = "Delivery log of one webhook (ours)",
    description = "Deliveries newest first, each with its status and every attempt (time, status code, error, duration).",
    params(
        ("id" = Uuid, Path, description = "Webhook id."),
        ("Page" = Option<u32>, Query, minimum = 1, description = "1-based page (default 1)."),
        ("PageSize" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Default 20, at most 100."),
    ),
    responses(
        (status = 200, description = "A page of deliveries.", body = WebhookDeliveryList),
        (status = 400, description = "Invalid paging.", body = ErrorBody),
        (status = 401, description = "Missing or unknown API key.", body = ErrorBody),
        (status = 404, description = "No such webhook of yours.", body = ErrorBody),
    ),
    security(("XApiKey" = []))
)]
pub(super) fn referral_webhook_deliveries() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/webhooks",
    tag = "Operator API",
    summary = "Webhook subscriptions of every partner",
    params(("partnerId" = Option<Uuid>, Query, description = "Only this partner's.")),
    responses(
        (status = 200, description = "The subscriptions, without secrets.", body = OperatorWebhookList),
        (status = 400, description = "`partnerId` is not a UUID.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_webhooks() {}

#[utoipa::path(
    get,
    path = "/admin-api/v1/webhooks/deliveries",
    tag = "Operator API",
    summary = "The webhook delivery log",
    description = "Deliveries newest first with every attempt, to answer \"did the partner get the event?\".",
    params(
        ("partnerId" = Option<Uuid>, Query, description = "Only this partner's."),
        ("subscriptionId" = Option<Uuid>, Query, description = "Only this webhook's."),
        ("Page" = Option<u32>, Query, minimum = 1, description = "1-based page (default 1)."),
        ("PageSize" = Option<u32>, Query, minimum = 1, maximum = 100, description = "Default 50, at most 100."),
    ),
    responses(
        (status = 200, description = "A page of deliveries.", body = WebhookDeliveryList),
        (status = 400, description = "Invalid filter or paging.", body = ErrorBody),
        (status = 401, description = "Missing or wrong operator token.", body = ErrorBody),
    ),
    security(("OperatorBearer" = []))
)]
pub(super) fn admin_webhook_deliveries() {}
