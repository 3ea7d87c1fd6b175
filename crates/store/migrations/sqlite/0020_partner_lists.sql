-- Bounded partner lists (issue 9).
--
-- cases_partner_list replaces cases_client (same leading columns): it holds every column
-- the visibility rule (search::PARTNER_VISIBLE_SQL), the case list's orderings and
-- keyset cursor, and the summary counts read, so the partner's case list, its total and
-- its summary are answered from the index alone, without a lookup per case row.
DROP INDEX cases_client;
CREATE INDEX cases_partner_list ON cases (client_id, created_at, id, source, creating_partner_id, lifecycle, amount_minor);

-- The partner's active links in the client list's default order (newest link first).
CREATE INDEX links_partner_active ON links (partner_id, linked_at, id) WHERE status = 'active';
