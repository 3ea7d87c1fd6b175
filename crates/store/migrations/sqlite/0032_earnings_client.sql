-- The client list's earnings per client (issue 9/10, SQLite): earnings.client_id is the
-- client of the earning's case (a case never changes client), written with the earning
-- (store payouts::insert_earning, seed::bulk_earnings). A page's live earnings per
-- (partner, client) are one range of earnings_partner_client_live each, read from the
-- index alone (store clients::partner_client_earnings_usd), instead of a probe per case.
-- It replaces earnings_case_live of 0029, which only that read used.
ALTER TABLE earnings ADD COLUMN client_id TEXT;
UPDATE earnings SET client_id = (SELECT c.client_id FROM cases c WHERE c.id = earnings.case_id);
CREATE INDEX earnings_partner_client_live ON earnings (partner_id, client_id, currency, amount_minor, fx_usd_per_unit_e8, voided_at)
    WHERE voided_at IS NULL;
DROP INDEX earnings_case_live;
