//! Webhooks to partners (SPEC §9).
//!
//! - `outbox`: the event names, [`enqueue_event`] (the event and its deliveries are
//!   written in the caller's transaction) and the payloads of the events use cases emit.
//! - `subscriptions`: the partner's subscriptions (create, list, get, update with secret
//!   rotation, delete), test events, and the delivery log.
//! - `dispatch`: [`App::deliver_webhooks`](crate::App::deliver_webhooks): signed HTTP
//!   POSTs of due deliveries, retries with backoff, auto-disable.
//! - `url_guard`: the SSRF guard, at registration and at connection time.
//! - `signature`: `X-Debitura-Signature`.

pub mod dispatch;
pub mod outbox;
pub mod signature;
pub mod subscriptions;
pub mod url_guard;

pub use dispatch::{DeliveryReport, MAX_ATTEMPTS, RETRY_DELAYS_MS};
pub use outbox::{enqueue_event, enqueue_events, enqueue_events_for, event, EVENT_TYPES};
pub use subscriptions::{CreateWebhookInput, DeliveryLogEntry, TestWebhookInput, UpdateWebhookInput};
