-- The client list's earnings per client (issue 9/10, PostgreSQL): earnings.client_id is
-- the client of the earning's case (a case never changes client), written with the
-- earning (store payouts::insert_earning, seed::bulk_earnings). A page's live earnings per
-- (partner, client) are one range of earnings_partner_client_live each, read from the
-- index (store clients::partner_client_earnings_usd), instead of a probe per case.
-- It replaces earnings_case_live of 0029, which only that read used.
ALTER TABLE earnings ADD COLUMN client_id TEXT;
UPDATE earnings e SET client_id = c.client_id FROM cases c WHERE c.id = e.case_id;
CREATE INDEX earnings_partner_client_live ON earnings (partner_id, client_id) INCLUDE (currency, amount_minor, fx_usd_per_unit_e8)
    WHERE voided_at IS NULL;
DROP INDEX earnings_case_live;
