-- PostgreSQL stores partner_case_keys in (partner_id, created_at, id) order here (its case
-- search rechecks each match on the heap). SQLite's partner search reads the FTS5 part of
-- the partner and partner_visible_cases by rowid (0023, 0029) and needs nothing; the
-- number is kept so both backends share the same migration numbering.
SELECT 1;
