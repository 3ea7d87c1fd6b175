-- Partner-partitioned search over every case of every client a partner has or had a link
-- to (issue 9, PostgreSQL), and the Cases tab's first page in creation order.
--
-- partner_cases_trgm: the PostgreSQL twin of SQLite's partner_cases_fts (0023). One row per
-- (partner, case) for every case of a client the partner has a link to, in any status
-- (active, archived, deleted): the candidate set of a partner's earnings search (reporting
-- `Search`, the dashboard's Earnings tab), because a partner's earnings stay its own after
-- the link is archived (every earning needs a decision through one of the partner's
-- links, so its case is in the set). partner_case_keys (0029) holds the cases the partner
-- sees now and cannot answer it. Columns:
--     partner_id  the link's partner
--     case_id     the case's id
--     search_key  cases.search_key, a line break, the client's company name lower-cased:
--                 a pattern without a line break never spans the two, so a match is "key or
--                 client name contains the query" (as in 0029)
-- GIN (partner_id, search_key gin_trgm_ops) through btree_gin (0029), so one index scan
-- intersects the partner's entries with the query's trigrams.
--
-- Kept by triggers in the writing transaction, so no writer changes: case inserts and
-- deletes per statement (transition tables), the rest per row. What changes the set: a case
-- inserted or deleted, the first link of a partner to a client inserted, the last one
-- deleted (a link's status does not matter); what changes a key: a case's search_key, a
-- client's company name. Links never change partner or client, cases never change client
-- (0026 refuses both).

CREATE TABLE partner_cases_trgm (
    partner_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    search_key TEXT NOT NULL
);

INSERT INTO partner_cases_trgm (partner_id, case_id, search_key)
SELECT pl.partner_id, c.id, c.search_key || E'\n' || lower(cl.company_name)
FROM (SELECT DISTINCT partner_id, client_id FROM links) pl
JOIN clients cl ON cl.id = pl.client_id
JOIN cases c ON c.client_id = pl.client_id
ORDER BY pl.partner_id; -- a partner's rows together on disk, to begin with

-- By case (the triggers' lookups, and one row per partner and case).
CREATE UNIQUE INDEX partner_cases_trgm_case ON partner_cases_trgm (case_id, partner_id);
CREATE INDEX partner_cases_trgm_key ON partner_cases_trgm USING gin (partner_id, search_key gin_trgm_ops);

-- Cases.
CREATE FUNCTION partner_cases_trgm_cases_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partner_cases_trgm (partner_id, case_id, search_key)
    SELECT DISTINCT l.partner_id, c.id, c.search_key || E'\n' || lower(cl.company_name)
    FROM new_rows c JOIN links l ON l.client_id = c.client_id JOIN clients cl ON cl.id = c.client_id
    ON CONFLICT (case_id, partner_id) DO NOTHING; -- a link of the pair inserted meanwhile
    RETURN NULL;
END
$$;
CREATE FUNCTION partner_cases_trgm_cases_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM partner_cases_trgm k USING old_rows o WHERE k.case_id = o.id;
    RETURN NULL;
END
$$;
CREATE FUNCTION partner_cases_trgm_case_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE partner_cases_trgm k SET search_key = NEW.search_key || E'\n' || lower(cl.company_name)
    FROM clients cl WHERE k.case_id = NEW.id AND cl.id = NEW.client_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_cases_trgm_case_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION partner_cases_trgm_cases_insert();
CREATE TRIGGER partner_cases_trgm_case_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION partner_cases_trgm_cases_delete();
CREATE TRIGGER partner_cases_trgm_case_key AFTER UPDATE OF search_key ON cases
    FOR EACH ROW WHEN (new.search_key IS DISTINCT FROM old.search_key) EXECUTE FUNCTION partner_cases_trgm_case_key();

-- Links: a link adds its client's cases to its partner's part unless they are there (an
-- earlier link of the pair; ON CONFLICT rather than a check for another link, because row
-- triggers run after the whole statement, when a multi-row insert's links all exist), the
-- last one of the pair deleted removes them. Archiving or unarchiving changes nothing here.
CREATE FUNCTION partner_cases_trgm_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO partner_cases_trgm (partner_id, case_id, search_key)
        SELECT NEW.partner_id, c.id, c.search_key || E'\n' || lower(cl.company_name)
        FROM cases c JOIN clients cl ON cl.id = c.client_id
        WHERE c.client_id = NEW.client_id
        ON CONFLICT (case_id, partner_id) DO NOTHING;
    ELSIF NOT EXISTS (SELECT 1 FROM links x WHERE x.partner_id = OLD.partner_id AND x.client_id = OLD.client_id) THEN
        DELETE FROM partner_cases_trgm k USING cases c
        WHERE c.client_id = OLD.client_id AND k.case_id = c.id AND k.partner_id = OLD.partner_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_cases_trgm_link AFTER INSERT OR DELETE ON links
    FOR EACH ROW EXECUTE FUNCTION partner_cases_trgm_link();

-- A renamed client: its cases' keys in every partner's part take the new name.
CREATE FUNCTION partner_cases_trgm_client_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE partner_cases_trgm k SET search_key = c.search_key || E'\n' || lower(NEW.company_name)
    FROM cases c WHERE c.client_id = NEW.id AND k.case_id = c.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_cases_trgm_client_rename AFTER UPDATE OF company_name ON clients
    FOR EACH ROW WHEN (new.company_name IS DISTINCT FROM old.company_name) EXECUTE FUNCTION partner_cases_trgm_client_rename();

-- The Cases tab without filters (App::partner_case_list): the partner's newest visible
-- cases read in index order from partner_case_keys (0029), which 0029 left unindexed by
-- creation because its searches count every match anyway; the unfiltered page counts
-- nothing (its total is the tallies', 0026).
CREATE INDEX partner_case_keys_created ON partner_case_keys (partner_id, created_at, id);
