-- Partner-scoped search (issue 9). SQLite gets a search index partitioned by partner in
-- its migration 0023 (partner_cases_fts). PostgreSQL keeps 0018's pg_trgm GIN indexes
-- for now: the planner combines their bitmap with the partner's visible rows, and the
-- number is kept so both backends share the same migration numbering.
SELECT 1;
