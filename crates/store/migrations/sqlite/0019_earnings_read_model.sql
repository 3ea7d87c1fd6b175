-- The earnings read model (issue 9): what reporting filters, sorts and sums by, kept on the
-- earning so a partner's report is answered from one indexed table instead of loading the
-- partner's whole history.
--   stage               the stage the ledger holds a live earning in (core's `stage_of`);
--                       NULL once voided. Written by `ledger::sync_earning` in the same
--                       transaction as the ledger entries; `reconcile` proves it.
--   paid_at             the payment's date (reporting's "collection date").
--   fx_usd_per_unit_e8  the USD rate locked on the payout when its commission was paid;
--                       NULL while the USD figure is an estimate.
-- Earnings written before this migration are filled in by the app at start
-- (`App::new` → `ledger::fill_read_models`), because the stage rule lives in core.
ALTER TABLE earnings ADD COLUMN stage TEXT;
ALTER TABLE earnings ADD COLUMN paid_at BIGINT;
ALTER TABLE earnings ADD COLUMN fx_usd_per_unit_e8 BIGINT;
CREATE INDEX earnings_partner_paid ON earnings (partner_id, paid_at, created_at, id);
CREATE INDEX earnings_partner_stage ON earnings (partner_id, stage);
CREATE INDEX earnings_unfilled ON earnings (id) WHERE stage IS NULL AND voided_at IS NULL;
