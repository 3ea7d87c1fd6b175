-- The month statement's "did not earn" query (issue 9) without a pass over the partner's
-- earnings or over the period's payouts (reporting::payouts_not_earned):
--   links_partner_client     the clients a partner has or had a link to (every status;
--                            links_partner_active holds the active ones only)
--   payouts_case_created     replaces payouts_case (same leading column): a case's payouts
--                            of a period compared in the index, with the id the next probe
--                            needs, so a payout row is read only for the lines returned
--   earnings_payout_partner  replaces earnings_payout (same leading column): whether the
--                            partner has an earning on a payout, answered from the index
CREATE INDEX links_partner_client ON links (partner_id, client_id);
DROP INDEX payouts_case;
CREATE INDEX payouts_case_created ON payouts (case_id, created_at, id);
DROP INDEX earnings_payout;
CREATE INDEX earnings_payout_partner ON earnings (payout_id, partner_id);
