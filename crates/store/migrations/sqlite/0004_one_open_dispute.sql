-- One open dispute per case and partner, enforced by the database so that two filings
-- racing each other cannot both succeed.
CREATE UNIQUE INDEX disputes_one_open ON disputes (case_id, partner_id) WHERE status = 'open';
