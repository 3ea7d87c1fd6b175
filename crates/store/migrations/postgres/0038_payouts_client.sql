-- The month statement's "did not earn" payouts (issue 9, PostgreSQL; store statements):
-- payouts.client_id is the client of the payout's case (a case never changes client),
-- written with the payout (store payouts::insert_payout, seed::bulk_payouts) and proved
-- by `reconcile`. The month's payouts on the clients a partner has or had a link to are
-- one range of payouts_client_created per client (the date and id compared and returned
-- by the index), instead of a probe of payouts_case_created per case of those clients.
ALTER TABLE payouts ADD COLUMN client_id TEXT;
UPDATE payouts p SET client_id = c.client_id FROM cases c WHERE c.id = p.case_id;
CREATE INDEX payouts_client_created ON payouts (client_id, created_at, id);
