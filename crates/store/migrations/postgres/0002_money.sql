-- refshare money lifecycle: revenue stages, invoices, reversals, the ledger, disputes.
-- Earnings become kinds: `payout` (from an attribution decision), `correction` (an upheld
-- dispute, with its own decision), `adjustment` and `clawback` (no decision; they name the
-- earning they correct).
ALTER TABLE earnings ALTER COLUMN decision_id DROP NOT NULL;
ALTER TABLE earnings DROP CONSTRAINT earnings_decision_id_key;
ALTER TABLE earnings ADD COLUMN kind TEXT NOT NULL DEFAULT 'payout';
ALTER TABLE earnings ADD COLUMN corrects_id TEXT REFERENCES earnings(id);
ALTER TABLE earnings ADD COLUMN note TEXT;
ALTER TABLE earnings ADD COLUMN partner_invoice_id TEXT;
ALTER TABLE earnings ADD COLUMN voided_at BIGINT;
ALTER TABLE earnings ADD COLUMN void_reason TEXT;
ALTER TABLE earnings ADD COLUMN dispute_id TEXT;
ALTER TABLE earnings ADD COLUMN status_before_dispute TEXT;
CREATE INDEX earnings_payout ON earnings (payout_id);
CREATE INDEX earnings_case ON earnings (case_id);

-- Payout money state: when the collection partner paid the platform's commission, the
-- USD rate locked on that day, and the platform's invoice to the collection partner.
ALTER TABLE payouts ADD COLUMN commission_paid_at BIGINT;
ALTER TABLE payouts ADD COLUMN fx_usd_per_unit_e8 BIGINT;
ALTER TABLE payouts ADD COLUMN fx_rate_date TEXT;
ALTER TABLE payouts ADD COLUMN cp_invoice_id TEXT;

-- A reversal is a new record; the payment it reverses is never edited.
CREATE TABLE payment_reversals (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL UNIQUE REFERENCES payments(id),
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- One invoice per collection partner, period and currency (the monthly run).
CREATE TABLE cp_invoices (
    id TEXT PRIMARY KEY,
    collection_partner_id TEXT NOT NULL REFERENCES collection_partners(id),
    period TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    paid_at BIGINT,
    UNIQUE (collection_partner_id, period, currency)
);

-- A period's collection-partner invoicing run happened (re-runs create nothing new).
CREATE TABLE cp_invoicing_runs (
    period TEXT PRIMARY KEY,
    run_at BIGINT NOT NULL
);

-- The partner's invoice to the platform, in USD at the rates locked on its earnings.
CREATE TABLE partner_invoices (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    paid_at BIGINT
);
CREATE INDEX partner_invoices_partner ON partner_invoices (partner_id, created_at);

-- The append-only ledger: every money movement of an earning between revenue stages is a
-- pair of signed entries; a partner's balance in a stage is the sum of its entries there.
CREATE TABLE ledger_entries (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    earning_id TEXT NOT NULL REFERENCES earnings(id),
    stage TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    cause TEXT NOT NULL,
    cause_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX ledger_entries_partner ON ledger_entries (partner_id, stage, currency);
CREATE INDEX ledger_entries_earning ON ledger_entries (earning_id);

-- Disputes (SPEC §7) with the attribution check snapshotted at filing.
CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL REFERENCES partners(id),
    case_id TEXT NOT NULL REFERENCES cases(id),
    client_id TEXT NOT NULL REFERENCES clients(id),
    external_tenant_id TEXT NOT NULL,
    company_name TEXT NOT NULL,
    creation_method TEXT NOT NULL,
    expected_outcome TEXT NOT NULL,
    observation TEXT NOT NULL,
    check_json TEXT NOT NULL,
    deadline BIGINT NOT NULL,
    status TEXT NOT NULL,
    resolution_reason TEXT,
    resolved_amount_minor BIGINT,
    created_at BIGINT NOT NULL,
    resolved_at BIGINT
);
CREATE INDEX disputes_partner ON disputes (partner_id, created_at);
