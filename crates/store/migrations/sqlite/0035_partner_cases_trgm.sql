-- Partner-partitioned search over every case of every client a partner has or had a link
-- to (issue 9). SQLite has it since its migration 0023 (partner_cases_fts), and its Cases
-- tab reads partner_visible_cases (0029); PostgreSQL gets its twin, partner_cases_trgm,
-- here. The number is kept so both backends share the same migration numbering.
SELECT 1;
