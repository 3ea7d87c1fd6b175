-- Partner-partitioned search (issue 9, SQLite): a partner's client search reads only that
-- partner's part of one index, not the platform's matches, and its case search reads no
-- case row for the visibility rule (PostgreSQL's 0029 does the same with pg_trgm).
--
-- partner_links_fts is a contentless FTS5 trigram table (case folded) with one row per
-- link (any status), rowid partners.rowid * 2^40 + links.rowid (as partner_cases_fts of
-- 0023, search::PART_WIDTH), so `MATCH … AND rowid BETWEEN` reads only the partner's part
-- of each doclist. Columns:
--     external_tenant_id  the link's tenant id
--     company_name        the client's company name
-- A phrase never spans two columns: a match is "tenant id or client name contains the
-- query". Kept by the triggers below in the writing transaction; a contentless row is
-- removed with the exact values it was written with (old.* or the unchanged rows). 0023
-- refuses a link's change of partner or client. After a VACUUM, rebuild it like 0023's.

CREATE VIRTUAL TABLE partner_links_fts USING fts5(external_tenant_id, company_name, content = '', tokenize = 'trigram case_sensitive 0');

INSERT INTO partner_links_fts (rowid, external_tenant_id, company_name)
SELECT p.rowid * 1099511627776 + l.rowid, l.external_tenant_id, cl.company_name
FROM links l JOIN partners p ON p.id = l.partner_id JOIN clients cl ON cl.id = l.client_id;
INSERT INTO partner_links_fts (partner_links_fts) VALUES ('optimize');

CREATE TRIGGER partner_links_fts_insert AFTER INSERT ON links BEGIN
    INSERT INTO partner_links_fts (rowid, external_tenant_id, company_name)
    SELECT p.rowid * 1099511627776 + new.rowid, new.external_tenant_id, cl.company_name
    FROM partners p JOIN clients cl ON cl.id = new.client_id WHERE p.id = new.partner_id;
END;
CREATE TRIGGER partner_links_fts_delete AFTER DELETE ON links BEGIN
    INSERT INTO partner_links_fts (partner_links_fts, rowid, external_tenant_id, company_name)
    SELECT 'delete', p.rowid * 1099511627776 + old.rowid, old.external_tenant_id, cl.company_name
    FROM partners p JOIN clients cl ON cl.id = old.client_id WHERE p.id = old.partner_id;
END;
CREATE TRIGGER partner_links_fts_tenant AFTER UPDATE OF external_tenant_id ON links WHEN new.external_tenant_id IS NOT old.external_tenant_id BEGIN
    INSERT INTO partner_links_fts (partner_links_fts, rowid, external_tenant_id, company_name)
    SELECT 'delete', p.rowid * 1099511627776 + old.rowid, old.external_tenant_id, cl.company_name
    FROM partners p JOIN clients cl ON cl.id = old.client_id WHERE p.id = old.partner_id;
    INSERT INTO partner_links_fts (rowid, external_tenant_id, company_name)
    SELECT p.rowid * 1099511627776 + new.rowid, new.external_tenant_id, cl.company_name
    FROM partners p JOIN clients cl ON cl.id = new.client_id WHERE p.id = new.partner_id;
END;
CREATE TRIGGER partner_links_fts_client_rename AFTER UPDATE OF company_name ON clients WHEN new.company_name IS NOT old.company_name BEGIN
    INSERT INTO partner_links_fts (partner_links_fts, rowid, external_tenant_id, company_name)
    SELECT 'delete', p.rowid * 1099511627776 + l.rowid, l.external_tenant_id, old.company_name
    FROM links l JOIN partners p ON p.id = l.partner_id WHERE l.client_id = old.id;
    INSERT INTO partner_links_fts (rowid, external_tenant_id, company_name)
    SELECT p.rowid * 1099511627776 + l.rowid, l.external_tenant_id, new.company_name
    FROM links l JOIN partners p ON p.id = l.partner_id WHERE l.client_id = new.id;
END;

-- Partner's visible cases (issue 9, SQLite): one narrow row per case a partner sees now
-- (SPEC §5, the rule of store search::PARTNER_VISIBLE_SQL restated with the link's
-- partner in place of $1, as in 0026; the conformance test
-- `visibility_sql_agrees_with_the_core_rule_on_generated_data` checks the set after link
-- churn). A case search without other filters joins the matches of the partner's part of
-- partner_cases_fts (0023) with this table by (partner, case rowid), read as cases `c`
-- (its `id` and `created_at` are the case's): the newest-first page and the count read
-- no case row and no link. Kept by the triggers below; what changes the set: a case
-- inserted or deleted, a link inserted or deleted while active, a link's status entering
-- or leaving 'active' (0026 refuses the updates that would change it silently). After a
-- VACUUM, fill it again like partner_cases_fts (case rowids).
CREATE TABLE partner_visible_cases (
    partner_rowid INTEGER NOT NULL,
    case_rowid INTEGER NOT NULL,
    created_at BIGINT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (partner_rowid, case_rowid)
) WITHOUT ROWID;

INSERT INTO partner_visible_cases (partner_rowid, case_rowid, created_at, id)
SELECT p.rowid, c.rowid, c.created_at, c.id
FROM cases c JOIN links l ON l.client_id = c.client_id JOIN partners p ON p.id = l.partner_id
WHERE l.status = 'active' AND c.created_at >= l.linked_at
  AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id));

CREATE TRIGGER partner_visible_cases_case_insert AFTER INSERT ON cases BEGIN
    INSERT INTO partner_visible_cases (partner_rowid, case_rowid, created_at, id)
    SELECT p.rowid, new.rowid, new.created_at, new.id
    FROM links l JOIN partners p ON p.id = l.partner_id
    WHERE l.client_id = new.client_id AND l.status = 'active' AND new.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (new.source = 'partner_api' AND new.creating_partner_id = l.partner_id));
END;
CREATE TRIGGER partner_visible_cases_case_delete AFTER DELETE ON cases BEGIN
    DELETE FROM partner_visible_cases
    WHERE partner_rowid IN (SELECT p.rowid FROM links l JOIN partners p ON p.id = l.partner_id WHERE l.client_id = old.client_id)
      AND case_rowid = old.rowid;
END;
CREATE TRIGGER partner_visible_cases_link_insert AFTER INSERT ON links WHEN new.status = 'active' BEGIN
    INSERT INTO partner_visible_cases (partner_rowid, case_rowid, created_at, id)
    SELECT p.rowid, c.rowid, c.created_at, c.id
    FROM partners p JOIN cases c ON c.client_id = new.client_id
    WHERE p.id = new.partner_id AND c.created_at >= new.linked_at
      AND (new.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = new.partner_id));
END;
CREATE TRIGGER partner_visible_cases_link_delete AFTER DELETE ON links WHEN old.status = 'active' BEGIN
    DELETE FROM partner_visible_cases
    WHERE partner_rowid = (SELECT p.rowid FROM partners p WHERE p.id = old.partner_id)
      AND case_rowid IN (SELECT c.rowid FROM cases c WHERE c.client_id = old.client_id);
END;
CREATE TRIGGER partner_visible_cases_link_status AFTER UPDATE OF status ON links
WHEN (new.status = 'active') <> (old.status = 'active') BEGIN
    DELETE FROM partner_visible_cases
    WHERE old.status = 'active'
      AND partner_rowid = (SELECT p.rowid FROM partners p WHERE p.id = old.partner_id)
      AND case_rowid IN (SELECT c.rowid FROM cases c WHERE c.client_id = old.client_id);
    INSERT INTO partner_visible_cases (partner_rowid, case_rowid, created_at, id)
    SELECT p.rowid, c.rowid, c.created_at, c.id
    FROM partners p JOIN cases c ON c.client_id = new.client_id
    WHERE new.status = 'active' AND p.id = new.partner_id AND c.created_at >= new.linked_at
      AND (new.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = new.partner_id));
END;

-- The client list's earnings per client (App::client_states, store
-- partner_live_earnings_of_clients): from the page's clients' cases to their live
-- earnings, read from this index alone (about 40 cases a client, 50 clients a page).
CREATE INDEX earnings_case_live ON earnings (case_id, partner_id, currency, amount_minor, fx_usd_per_unit_e8, created_at, id, voided_at)
    WHERE voided_at IS NULL;
