-- Mail leaves the request path: a background job claims due rows with a lease
-- (next_attempt_at moved forward) and retries failed sends with backoff. `error` keeps
-- the last attempt's error.
ALTER TABLE notifications ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN next_attempt_at BIGINT;
UPDATE notifications SET next_attempt_at = created_at WHERE status = 'queued';
-- Outbox mail was never sent: it no longer claims a sending time.
UPDATE notifications SET sent_at = NULL WHERE status = 'outbox';
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
