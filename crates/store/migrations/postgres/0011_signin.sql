-- Passwordless sign-in (issue 8): every sign-in request (for the per-address and per-IP
-- rate limits), the single-use sign-in secrets (the link secret's SHA-256 and the code's
-- HMAC only), and server-side sessions (only the SHA-256 of the cookie's random id).
-- Rows past any use are pruned (`Tx::prune_signin`), hence the time indexes.
CREATE TABLE signin_requests (
    id TEXT PRIMARY KEY,
    email_key TEXT NOT NULL,
    ip TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX signin_requests_email ON signin_requests (email_key, at);
CREATE INDEX signin_requests_ip ON signin_requests (ip, at);
CREATE INDEX signin_requests_at ON signin_requests (at);

CREATE TABLE signin_tokens (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    failed_codes BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX signin_tokens_email ON signin_tokens (email_key, expires_at);
CREATE INDEX signin_tokens_expiry ON signin_tokens (expires_at);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    verified_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX sessions_created ON sessions (created_at);

-- A mail whose secret is masked in `body` (production) keeps the real text here, sealed
-- with the server key, until the mailer settles it.
ALTER TABLE notifications ADD COLUMN sealed_body TEXT;
