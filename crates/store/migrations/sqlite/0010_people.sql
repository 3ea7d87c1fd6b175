-- People (issue 8, first slice): partner users, operators, and a status and last sign-in
-- for the existing client users. E-mail is unique per kind and tenant, compared through
-- `email_key` (lower-cased in Rust, Unicode-aware). Status: invited | active | disabled.

CREATE TABLE partner_users (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    last_sign_in_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX partner_users_email ON partner_users (partner_id, email_key);
CREATE INDEX partner_users_email_key ON partner_users (email_key);

CREATE TABLE operators (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    status TEXT NOT NULL,
    last_sign_in_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX operators_email ON operators (email_key);

-- Client users: nobody has signed in yet, so every existing one is `invited`.
ALTER TABLE client_users ADD COLUMN status TEXT NOT NULL DEFAULT 'invited';
ALTER TABLE client_users ADD COLUMN last_sign_in_at BIGINT;
-- One user per address and client: POST /clients used to accept the same address twice in
-- one request. Such repeats are removed, keeping the onboarding user, else the lowest id
-- (nothing refers to a client user yet).
DELETE FROM client_users WHERE id IN (
    SELECT u.id FROM client_users u WHERE EXISTS (
        SELECT 1 FROM client_users o
        WHERE o.client_id = u.client_id AND o.email_key = u.email_key AND o.id <> u.id
          AND (o.is_onboarding_user > u.is_onboarding_user
               OR (o.is_onboarding_user = u.is_onboarding_user AND o.id < u.id))
    )
);
CREATE UNIQUE INDEX client_users_one_per_email ON client_users (client_id, email_key);
