-- Partner-partitioned search keys (issue 9, PostgreSQL): a partner's case search and client
-- search read only that partner's part of one trigram index, not the platform's matches.
--
-- partner_case_keys: one row per case a partner sees now (SPEC §5, the rule of
-- store search::PARTNER_VISIBLE_SQL restated with the link's partner in place of $1, as in
-- 0026; the conformance test `visibility_sql_agrees_with_the_core_rule_on_generated_data`
-- checks the set after link churn). Columns named as on cases, so the store reads it as
-- `c` for a search without other filters: the page (newest first) and the count come from
-- it alone.
--     id          the case's id
--     created_at  the case's created_at (the list's order and keyset cursor; deliberately
--                 not indexed: the count reads every match anyway, so the matches come
--                 from the GIN and a top-N sort orders them, never a walk of the
--                 partner's whole list)
--     search_key  cases.search_key, a line break, the client's company name lower-cased:
--                 a pattern without a line break never spans the two, so a match is "key or
--                 client name contains the query"
-- link_search_keys: one row per link (any status), for the client list:
--     search_key  lower(external_tenant_id), a line break, lower(company_name)
-- Both indexed with a GIN over (partner_id, search_key gin_trgm_ops) (btree_gin, a trusted
-- extension like pg_trgm), so one index scan is bounded to the partner's part.
--
-- Kept by triggers in the writing transaction: case inserts and deletes per statement
-- (transition tables), the rest per row. What changes the case set: a case inserted or
-- deleted, a link inserted or deleted while active, a link's status entering or leaving
-- 'active'; what changes a key: a case's search_key, a client's company name, a link's
-- tenant id. 0026 refuses the updates that would change visibility silently.

CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE TABLE partner_case_keys (
    partner_id TEXT NOT NULL,
    id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    search_key TEXT NOT NULL,
    PRIMARY KEY (partner_id, id)
);
CREATE INDEX partner_case_keys_case ON partner_case_keys (id);

INSERT INTO partner_case_keys (partner_id, id, created_at, search_key)
SELECT l.partner_id, c.id, c.created_at, c.search_key || E'\n' || lower(cl.company_name)
FROM cases c JOIN links l ON l.client_id = c.client_id JOIN clients cl ON cl.id = c.client_id
WHERE l.status = 'active' AND c.created_at >= l.linked_at
  AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
ORDER BY l.partner_id, c.created_at; -- a partner's rows together on disk, to begin with
CREATE INDEX partner_case_keys_trgm ON partner_case_keys USING gin (partner_id, search_key gin_trgm_ops);

CREATE TABLE link_search_keys (
    link_id TEXT PRIMARY KEY,
    partner_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    search_key TEXT NOT NULL
);
CREATE INDEX link_search_keys_client ON link_search_keys (client_id);
INSERT INTO link_search_keys (link_id, partner_id, client_id, search_key)
SELECT l.id, l.partner_id, l.client_id, lower(l.external_tenant_id) || E'\n' || lower(cl.company_name)
FROM links l JOIN clients cl ON cl.id = l.client_id;
CREATE INDEX link_search_keys_trgm ON link_search_keys USING gin (partner_id, search_key gin_trgm_ops);

-- Cases.
CREATE FUNCTION partner_case_keys_cases_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partner_case_keys (partner_id, id, created_at, search_key)
    SELECT l.partner_id, c.id, c.created_at, c.search_key || E'\n' || lower(cl.company_name)
    FROM new_rows c JOIN links l ON l.client_id = c.client_id JOIN clients cl ON cl.id = c.client_id
    WHERE l.status = 'active' AND c.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id));
    RETURN NULL;
END
$$;
CREATE FUNCTION partner_case_keys_cases_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM partner_case_keys k USING old_rows o WHERE k.id = o.id;
    RETURN NULL;
END
$$;
-- A changed search key (per row, only when it changes).
CREATE FUNCTION partner_case_keys_case_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE partner_case_keys k SET search_key = NEW.search_key || E'\n' || lower(cl.company_name)
    FROM clients cl WHERE k.id = NEW.id AND cl.id = NEW.client_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_case_keys_case_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION partner_case_keys_cases_insert();
CREATE TRIGGER partner_case_keys_case_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION partner_case_keys_cases_delete();
CREATE TRIGGER partner_case_keys_case_key AFTER UPDATE OF search_key ON cases
    FOR EACH ROW WHEN (new.search_key IS DISTINCT FROM old.search_key) EXECUTE FUNCTION partner_case_keys_case_key();

-- Links: the client's cases a link shows are in the partner's set while it is active; every
-- link has its own key.
CREATE FUNCTION partner_case_keys_link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM link_search_keys WHERE link_id = OLD.id;
        IF OLD.status = 'active' THEN
            DELETE FROM partner_case_keys k USING cases c
            WHERE k.partner_id = OLD.partner_id AND k.id = c.id AND c.client_id = OLD.client_id;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO link_search_keys (link_id, partner_id, client_id, search_key)
        SELECT NEW.id, NEW.partner_id, NEW.client_id, lower(NEW.external_tenant_id) || E'\n' || lower(cl.company_name)
        FROM clients cl WHERE cl.id = NEW.client_id;
    ELSIF NEW.external_tenant_id IS DISTINCT FROM OLD.external_tenant_id THEN
        UPDATE link_search_keys k SET search_key = lower(NEW.external_tenant_id) || E'\n' || lower(cl.company_name)
        FROM clients cl WHERE k.link_id = NEW.id AND cl.id = NEW.client_id;
    END IF;
    IF NEW.status = 'active' AND (TG_OP = 'INSERT' OR OLD.status <> 'active') THEN
        INSERT INTO partner_case_keys (partner_id, id, created_at, search_key)
        SELECT NEW.partner_id, c.id, c.created_at, c.search_key || E'\n' || lower(cl.company_name)
        FROM cases c JOIN clients cl ON cl.id = c.client_id
        WHERE c.client_id = NEW.client_id AND c.created_at >= NEW.linked_at
          AND (NEW.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = NEW.partner_id));
    ELSIF TG_OP = 'UPDATE' AND OLD.status = 'active' AND NEW.status <> 'active' THEN
        DELETE FROM partner_case_keys k USING cases c
        WHERE k.partner_id = OLD.partner_id AND k.id = c.id AND c.client_id = OLD.client_id;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_case_keys_link AFTER INSERT OR DELETE OR UPDATE OF status, external_tenant_id ON links
    FOR EACH ROW EXECUTE FUNCTION partner_case_keys_link();

-- A renamed client: its keys in every partner's part take the new name.
CREATE FUNCTION partner_case_keys_client_rename() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE partner_case_keys k SET search_key = c.search_key || E'\n' || lower(NEW.company_name)
    FROM cases c WHERE c.client_id = NEW.id AND k.id = c.id;
    UPDATE link_search_keys k SET search_key = lower(l.external_tenant_id) || E'\n' || lower(NEW.company_name)
    FROM links l WHERE k.client_id = NEW.id AND l.id = k.link_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_case_keys_client_rename AFTER UPDATE OF company_name ON clients
    FOR EACH ROW WHEN (new.company_name IS DISTINCT FROM old.company_name) EXECUTE FUNCTION partner_case_keys_client_rename();

-- The client list's earnings per client (App::client_states, store
-- partner_live_earnings_of_clients): from the page's clients' cases to their live
-- earnings, read from this index alone (about 40 cases a client, 50 clients a page).
CREATE INDEX earnings_case_live ON earnings (case_id) INCLUDE (partner_id, currency, amount_minor, fx_usd_per_unit_e8, created_at, id)
    WHERE voided_at IS NULL;
