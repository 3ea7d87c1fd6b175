-- refshare core schema. Instants are BIGINT milliseconds since the epoch (UTC); money is
-- BIGINT minor units; percentages are BIGINT basis points; booleans are BIGINT 0/1.

CREATE TABLE partners (
    id TEXT PRIMARY KEY,
    company_name TEXT NOT NULL,
    contact_email TEXT NOT NULL,
    referral_fee_bps BIGINT NOT NULL,
    approval_ttl_days BIGINT NOT NULL,
    invoicing_trigger_mode TEXT NOT NULL,
    branding_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE partner_api_keys (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    key_hash TEXT NOT NULL UNIQUE,
    key_prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE collection_partners (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    success_fee_bps BIGINT NOT NULL,
    platform_share_bps BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE collection_partner_countries (
    collection_partner_id TEXT NOT NULL REFERENCES collection_partners(id),
    country TEXT NOT NULL,
    PRIMARY KEY (collection_partner_id, country)
);

CREATE TABLE clients (
    id TEXT PRIMARY KEY,
    company_name TEXT NOT NULL,
    country TEXT NOT NULL,
    registration_number TEXT,
    support_email TEXT,
    -- lower-cased in Rust (Unicode-aware): SQLite's lower() folds ASCII only
    support_email_key TEXT,
    details_json TEXT NOT NULL,
    api_key_hash TEXT UNIQUE,
    onboarding_completed_at BIGINT,
    sdca_signer_name TEXT,
    sdca_signer_ip TEXT,
    sdca_signer_user_agent TEXT,
    sdca_version TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX clients_registration ON clients (country, registration_number);
CREATE INDEX clients_support_email ON clients (support_email_key);

CREATE TABLE client_users (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients(id),
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    phone TEXT,
    is_onboarding_user BIGINT NOT NULL
);
CREATE INDEX client_users_email ON client_users (email_key);
CREATE INDEX client_users_client ON client_users (client_id);

CREATE TABLE links (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    external_tenant_id TEXT NOT NULL,
    is_attributed BIGINT NOT NULL,
    referral_fee_bps BIGINT NOT NULL,
    linked_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    return_url TEXT
);
CREATE UNIQUE INDEX links_one_active_per_tenant ON links (partner_id, external_tenant_id) WHERE status = 'active';
CREATE UNIQUE INDEX links_one_active_per_client ON links (client_id) WHERE status = 'active';
CREATE INDEX links_client ON links (client_id);

CREATE TABLE link_events (
    id TEXT PRIMARY KEY,
    link_id TEXT NOT NULL REFERENCES links(id),
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    status TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    UNIQUE (link_id, seq)
);

CREATE TABLE link_requests (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    external_tenant_id TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    decided_at BIGINT,
    cases_json TEXT NOT NULL,
    return_url TEXT
);
CREATE INDEX link_requests_client ON link_requests (client_id);

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('case_reference', 10000);

CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    reference TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL REFERENCES clients(id),
    creditor_reference TEXT NOT NULL,
    source TEXT NOT NULL,
    creating_partner_id TEXT REFERENCES partners(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    lifecycle TEXT NOT NULL,
    close_code TEXT,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    debtor_type TEXT NOT NULL,
    debtor_name TEXT NOT NULL,
    debtor_country TEXT NOT NULL,
    details_json TEXT NOT NULL,
    -- reference, creditor reference and debtor name, lower-cased in Rust, for search
    search_key TEXT NOT NULL,
    collection_partner_id TEXT REFERENCES collection_partners(id),
    success_fee_bps BIGINT,
    platform_share_bps BIGINT,
    UNIQUE (client_id, creditor_reference)
);
CREATE INDEX cases_client ON cases (client_id, created_at);

CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    paid_at BIGINT NOT NULL,
    external_id TEXT,
    created_at BIGINT NOT NULL,
    UNIQUE (case_id, external_id)
);

CREATE TABLE payouts (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    collection_partner_id TEXT REFERENCES collection_partners(id),
    success_fee_minor BIGINT NOT NULL,
    platform_fee_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    commission_status TEXT NOT NULL
);
CREATE INDEX payouts_case ON payouts (case_id);

CREATE TABLE attribution_decisions (
    id TEXT PRIMARY KEY,
    payout_id TEXT NOT NULL REFERENCES payouts(id),
    supersedes_id TEXT REFERENCES attribution_decisions(id),
    partner_id TEXT REFERENCES partners(id),
    link_id TEXT REFERENCES links(id),
    link_request_id TEXT REFERENCES link_requests(id),
    link_status TEXT,
    reason TEXT NOT NULL,
    attributed BIGINT NOT NULL,
    case_source TEXT NOT NULL,
    referral_fee_bps BIGINT,
    referral_fee_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    engine_version TEXT NOT NULL,
    decided_at BIGINT NOT NULL
);
CREATE INDEX attribution_decisions_payout ON attribution_decisions (payout_id);
CREATE INDEX attribution_decisions_partner ON attribution_decisions (partner_id);

CREATE TABLE earnings (
    id TEXT PRIMARY KEY,
    payout_id TEXT NOT NULL REFERENCES payouts(id),
    decision_id TEXT NOT NULL UNIQUE REFERENCES attribution_decisions(id),
    partner_id TEXT NOT NULL REFERENCES partners(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    referral_invoice_status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX earnings_partner ON earnings (partner_id, created_at);

CREATE TABLE idempotency_keys (
    scope TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status_code BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (scope, idem_key)
);

CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    related_id TEXT,
    status TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX notifications_to ON notifications (to_addr);

CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail_json TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE fx_rates (
    currency TEXT NOT NULL,
    rate_date TEXT NOT NULL,
    usd_per_unit_e8 BIGINT NOT NULL,
    PRIMARY KEY (currency, rate_date)
);
