-- Indexed, case-insensitive search (issue 9), kept up to date by the database itself, in
-- the writing transaction, so every writer (insert_case, bulk seeding) needs no change.
--
-- pg_trgm GIN indexes answer `LIKE '%…%'` (with the query lower-cased in Rust and `%`,
-- `_`, `\` escaped) for patterns of three characters or more:
--   cases.search_key (already lower-cased in Rust by the writer)
--   lower(clients.company_name), lower(links.external_tenant_id)
-- pg_trgm ships with PostgreSQL's contrib package (postgresql-contrib on some
-- distributions); it is a trusted extension, so a database owner may create it.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX cases_search_trgm ON cases USING gin (search_key gin_trgm_ops);
CREATE INDEX clients_name_trgm ON clients USING gin (lower(company_name) gin_trgm_ops);
CREATE INDEX links_tenant_trgm ON links USING gin (lower(external_tenant_id) gin_trgm_ops);
