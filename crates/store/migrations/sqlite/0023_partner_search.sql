-- Partner-scoped search (issue 9): a search index partitioned by partner, so that a
-- partner's case or earnings search reads only that partner's part of the index.
--
-- partner_cases_fts is a contentless FTS5 table (trigram tokenizer, case folded) with one
-- row per (partner, case) for every case of a client the partner has a link to, in any
-- status (active or archived): the candidate set of both case search (the SPEC §5
-- visibility rule is applied to the matched rows by join) and earnings search (a
-- partner's earnings stay its own after the link is archived). Its rowid encodes both:
--     partners.rowid * 2^40 + cases.rowid
-- so `MATCH … AND rowid BETWEEN p * 2^40 AND p * 2^40 + 2^40 - 1` reads only the partner's
-- part of every doclist (FTS5 seeks inside doclists by rowid). Columns:
--     search_key    cases.search_key (reference \n creditor reference \n debtor name)
--     company_name  the client's company name
-- A phrase never spans two columns, so a match is exactly "the case's search key or its
-- client's name contains the query", as `cases_fts` OR `clients_fts` answered it.
--
-- Kept by the triggers below in the writing transaction, so every writer (insert_case,
-- link writes, renames, the seed's bulk writer) needs no change. A contentless table
-- forgets its text: a row is removed with the 'delete' command and the exact values it
-- was written with, which the triggers read from the rows being changed (old.*) or from
-- the unchanged ones. Links never change partner or client, cases never change client
-- (both refused below), so membership changes only when a link is the first (or last)
-- of its partner for its client.
-- As for 0018: VACUUM may renumber implicit rowids; after one, rebuild this table
-- ('delete-all', then the INSERT … SELECT below).

CREATE VIRTUAL TABLE partner_cases_fts USING fts5(search_key, company_name, content = '', tokenize = 'trigram case_sensitive 0');

INSERT INTO partner_cases_fts (rowid, search_key, company_name)
SELECT p.rowid * 1099511627776 + c.rowid, c.search_key, cl.company_name
FROM (SELECT DISTINCT partner_id, client_id FROM links) pl
JOIN partners p ON p.id = pl.partner_id
JOIN clients cl ON cl.id = pl.client_id
JOIN cases c ON c.client_id = pl.client_id;
INSERT INTO partner_cases_fts (partner_cases_fts) VALUES ('optimize');

-- A new case: into the part of every partner linked to its client.
CREATE TRIGGER partner_cases_fts_case_insert AFTER INSERT ON cases BEGIN
    INSERT INTO partner_cases_fts (rowid, search_key, company_name)
    SELECT p.rowid * 1099511627776 + new.rowid, new.search_key, cl.company_name
    FROM (SELECT DISTINCT partner_id FROM links WHERE client_id = new.client_id) pl
    JOIN partners p ON p.id = pl.partner_id
    JOIN clients cl ON cl.id = new.client_id;
END;
CREATE TRIGGER partner_cases_fts_case_delete AFTER DELETE ON cases BEGIN
    INSERT INTO partner_cases_fts (partner_cases_fts, rowid, search_key, company_name)
    SELECT 'delete', p.rowid * 1099511627776 + old.rowid, old.search_key, cl.company_name
    FROM (SELECT DISTINCT partner_id FROM links WHERE client_id = old.client_id) pl
    JOIN partners p ON p.id = pl.partner_id
    JOIN clients cl ON cl.id = old.client_id;
END;
CREATE TRIGGER partner_cases_fts_case_update AFTER UPDATE OF search_key ON cases WHEN new.search_key IS NOT old.search_key BEGIN
    INSERT INTO partner_cases_fts (partner_cases_fts, rowid, search_key, company_name)
    SELECT 'delete', p.rowid * 1099511627776 + old.rowid, old.search_key, cl.company_name
    FROM (SELECT DISTINCT partner_id FROM links WHERE client_id = old.client_id) pl
    JOIN partners p ON p.id = pl.partner_id
    JOIN clients cl ON cl.id = old.client_id;
    INSERT INTO partner_cases_fts (rowid, search_key, company_name)
    SELECT p.rowid * 1099511627776 + new.rowid, new.search_key, cl.company_name
    FROM (SELECT DISTINCT partner_id FROM links WHERE client_id = new.client_id) pl
    JOIN partners p ON p.id = pl.partner_id
    JOIN clients cl ON cl.id = new.client_id;
END;
CREATE TRIGGER partner_cases_fts_case_keeps_client BEFORE UPDATE OF client_id ON cases WHEN new.client_id IS NOT old.client_id BEGIN
    SELECT RAISE(ABORT, 'a case keeps its client (partner_cases_fts)');
END;

-- The first link of a partner to a client: the client's cases join the partner's part.
CREATE TRIGGER partner_cases_fts_link_insert AFTER INSERT ON links
WHEN NOT EXISTS (SELECT 1 FROM links x WHERE x.client_id = new.client_id AND x.partner_id = new.partner_id AND x.rowid <> new.rowid) BEGIN
    INSERT INTO partner_cases_fts (rowid, search_key, company_name)
    SELECT p.rowid * 1099511627776 + c.rowid, c.search_key, cl.company_name
    FROM partners p JOIN clients cl ON cl.id = new.client_id JOIN cases c ON c.client_id = new.client_id
    WHERE p.id = new.partner_id;
END;
-- The last one removed: they leave it.
CREATE TRIGGER partner_cases_fts_link_delete AFTER DELETE ON links
WHEN NOT EXISTS (SELECT 1 FROM links x WHERE x.client_id = old.client_id AND x.partner_id = old.partner_id) BEGIN
    INSERT INTO partner_cases_fts (partner_cases_fts, rowid, search_key, company_name)
    SELECT 'delete', p.rowid * 1099511627776 + c.rowid, c.search_key, cl.company_name
    FROM partners p JOIN clients cl ON cl.id = old.client_id JOIN cases c ON c.client_id = old.client_id
    WHERE p.id = old.partner_id;
END;
CREATE TRIGGER partner_cases_fts_link_keeps_ends BEFORE UPDATE OF partner_id, client_id ON links
WHEN new.partner_id IS NOT old.partner_id OR new.client_id IS NOT old.client_id BEGIN
    SELECT RAISE(ABORT, 'a link keeps its partner and client (partner_cases_fts)');
END;

-- A renamed client: its cases' rows in every partner's part take the new name.
CREATE TRIGGER partner_cases_fts_client_rename AFTER UPDATE OF company_name ON clients WHEN new.company_name IS NOT old.company_name BEGIN
    INSERT INTO partner_cases_fts (partner_cases_fts, rowid, search_key, company_name)
    SELECT 'delete', p.rowid * 1099511627776 + c.rowid, c.search_key, old.company_name
    FROM (SELECT DISTINCT partner_id FROM links WHERE client_id = old.id) pl
    JOIN partners p ON p.id = pl.partner_id
    JOIN cases c ON c.client_id = old.id;
    INSERT INTO partner_cases_fts (rowid, search_key, company_name)
    SELECT p.rowid * 1099511627776 + c.rowid, c.search_key, new.company_name
    FROM (SELECT DISTINCT partner_id FROM links WHERE client_id = new.id) pl
    JOIN partners p ON p.id = pl.partner_id
    JOIN cases c ON c.client_id = new.id;
END;
