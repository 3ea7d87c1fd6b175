-- The month statement by section and page (issues 9 and 10, PostgreSQL; store statements):
-- earnings_partner_statement holds a partner's earnings by creation in the statement's
-- line order (creation, payout, id) with every column the month's totals and a page's
-- filter read, so the totals per stage and currency are one index-only range and a page of
-- the earnings section stops after its rows. It replaces earnings_partner (its prefix).
CREATE INDEX earnings_partner_statement ON earnings (partner_id, created_at, payout_id, id)
    INCLUDE (kind, voided_at, stage, currency, amount_minor, fx_usd_per_unit_e8);
DROP INDEX earnings_partner;
