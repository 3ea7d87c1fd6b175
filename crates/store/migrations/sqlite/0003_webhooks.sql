-- Webhooks (SPEC §9): partner subscriptions, the durable event outbox, one delivery per
-- (event, subscription) with its retry state, and a log of every HTTP attempt.
-- Instants are BIGINT milliseconds (UTC); booleans are BIGINT 0/1.

CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    url TEXT NOT NULL,
    events_json TEXT NOT NULL,
    is_active BIGINT NOT NULL,
    is_test_mode BIGINT NOT NULL,
    -- Stored, not hashed: it is the HMAC key every delivery is signed with.
    secret TEXT NOT NULL,
    previous_secret TEXT,
    previous_secret_until BIGINT,
    consecutive_failures BIGINT NOT NULL,
    disabled_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_partner ON webhook_subscriptions (partner_id);

CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    event_type TEXT NOT NULL,
    payload_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_partner ON webhook_events (partner_id, created_at);

CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES webhook_events(id),
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id),
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT,
    last_status_code BIGINT,
    last_error TEXT,
    delivered_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (event_id, subscription_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_subscription ON webhook_deliveries (subscription_id, created_at);

CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id),
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status_code BIGINT,
    error TEXT,
    duration_ms BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
