-- The partner's case search on PostgreSQL (issue 9/10: `GET /referral-api/cases?Query=`,
-- the dashboard's Cases tab `q`) reads every match of the query in the partner's part of
-- partner_case_keys (0029) to count them exactly, and rechecks each match on the heap
-- (a trigram index answers `LIKE '%…%'` with candidates only). The table was filled in
-- insertion order, so a partner's rows are spread over the whole table: at 1M cases a
-- common word of the largest partner (4,479 matches of its 62,762 visible cases) touched
-- 3,780 heap pages. Stored in (partner_id, created_at, id) order, the same matches lie on
-- 1,343 pages (the partner's ~1,400 pages at most).
--
-- A one-time rewrite: rows written later are appended in insertion order again (the
-- triggers of 0029 are unchanged), so the table drifts back slowly; `CLUSTER
-- partner_case_keys` (it remembers the index) restores the order during maintenance.
--
-- An empty table (a new database) is only marked: rewriting it would record it as analysed
-- and empty, and the planner would then plan its first rows from that instead of its usual
-- assumption for a table never analysed.
ALTER TABLE partner_case_keys CLUSTER ON partner_case_keys_created;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM partner_case_keys) THEN
        CLUSTER partner_case_keys;
        ANALYZE partner_case_keys;
    END IF;
END
$$;
