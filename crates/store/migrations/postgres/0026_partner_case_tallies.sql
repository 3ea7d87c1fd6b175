-- Per-partner tallies of the visible cases (issue 9): what the Cases list's summary and the
-- client list's case total read instead of counting a partner's visible cases (about 100k
-- for the largest partner of the 1M seed) on every request.
--
-- partner_case_tallies holds, per (partner, UTC month of created_at, lifecycle), how many
-- cases the partner sees now under SPEC §5 (store search::PARTNER_VISIBLE_SQL; the rule is
-- restated below with the link's partner in place of $1; the conformance test
-- `visibility_sql_agrees_with_the_core_rule_on_generated_data` checks that both agree
-- with the core rule after link churn, lifecycle changes and deletions):
--     the case's client has a link to the partner that is active now, the case was created
--     at or after linked_at, and the link is attributed or the case is the partner's own
--     partner_api case.
-- month_ms is the first millisecond of the UTC calendar month of created_at. A partner
-- has a few rows per month of history (one per lifecycle), so its summary reads tens of
-- rows, not its cases. Rows may hold 0.
--
-- Kept by the triggers below in the writing transaction (every writer, the seed's bulk
-- writers included, needs no change): case inserts and deletes per statement over the
-- transition table (a bulk insert is one grouped upsert, its keys in order), the rest per
-- row. What changes visibility: a case inserted or deleted, a case's lifecycle, a link
-- inserted or deleted while active, a link's status entering or leaving 'active'. What
-- would change it silently is refused: a case's created_at, source, creating partner or
-- client, a link's partner, client, linked_at or is_attributed (none of them is ever
-- updated by the store). Concurrent writers of one partner's cases in one month and
-- lifecycle wait for each other on the tally row.

CREATE TABLE partner_case_tallies (
    partner_id TEXT NOT NULL,
    month_ms BIGINT NOT NULL,
    lifecycle TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (partner_id, month_ms, lifecycle)
);

-- The first millisecond of the UTC month of an epoch-milliseconds instant.
CREATE FUNCTION refshare_month_ms(at_ms BIGINT) RETURNS BIGINT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (extract(epoch FROM date_trunc('month', to_timestamp(at_ms / 1000) AT TIME ZONE 'UTC')) * 1000)::BIGINT
$$;

INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
SELECT l.partner_id, refshare_month_ms(c.created_at), c.lifecycle, COUNT(*)
FROM cases c JOIN links l ON l.client_id = c.client_id
WHERE l.status = 'active' AND c.created_at >= l.linked_at
  AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
GROUP BY 1, 2, 3;

-- Cases: each statement's rows (its transition table), counted for the active link that
-- shows each (at most one: one active link per client).
CREATE FUNCTION partner_case_tallies_cases_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT l.partner_id, refshare_month_ms(c.created_at), c.lifecycle, COUNT(*)
    FROM new_rows c JOIN links l ON l.client_id = c.client_id
    WHERE l.status = 'active' AND c.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = partner_case_tallies.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE FUNCTION partner_case_tallies_cases_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT l.partner_id, refshare_month_ms(c.created_at), c.lifecycle, -COUNT(*)
    FROM old_rows c JOIN links l ON l.client_id = c.client_id
    WHERE l.status = 'active' AND c.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = partner_case_tallies.n + excluded.n;
    RETURN NULL;
END
$$;
-- A lifecycle change (per row, and only when the lifecycle changes: the payments' row
-- locks `SET lifecycle = lifecycle` fire nothing): the case leaves its old tally and joins
-- the new one.
CREATE FUNCTION partner_case_tallies_case_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT l.partner_id, refshare_month_ms(NEW.created_at), x.lifecycle, x.d
    FROM links l CROSS JOIN (VALUES (OLD.lifecycle, -1), (NEW.lifecycle, 1)) AS x (lifecycle, d)
    WHERE l.client_id = NEW.client_id AND l.status = 'active' AND NEW.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (NEW.source = 'partner_api' AND NEW.creating_partner_id = l.partner_id))
    ORDER BY 1, 2, 3
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = partner_case_tallies.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_case_tallies_case_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION partner_case_tallies_cases_insert();
CREATE TRIGGER partner_case_tallies_case_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION partner_case_tallies_cases_delete();
CREATE TRIGGER partner_case_tallies_case_lifecycle AFTER UPDATE OF lifecycle ON cases
    FOR EACH ROW WHEN (new.lifecycle IS DISTINCT FROM old.lifecycle) EXECUTE FUNCTION partner_case_tallies_case_lifecycle();

CREATE FUNCTION partner_case_tallies_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%', TG_ARGV[0];
END
$$;
CREATE TRIGGER partner_case_tallies_case_keeps_facts BEFORE UPDATE OF created_at, source, creating_partner_id, client_id ON cases
    FOR EACH ROW WHEN (new.created_at IS DISTINCT FROM old.created_at OR new.source IS DISTINCT FROM old.source
        OR new.creating_partner_id IS DISTINCT FROM old.creating_partner_id OR new.client_id IS DISTINCT FROM old.client_id)
    EXECUTE FUNCTION partner_case_tallies_refuse('a case keeps its creation instant, source, creating partner and client (partner_case_tallies)');

-- Links: the client's cases a link shows, counted while it is active.
CREATE FUNCTION partner_case_tallies_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    l links%ROWTYPE;
    sign BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        l := OLD; sign := -1;
    ELSIF TG_OP = 'INSERT' THEN
        l := NEW; sign := 1;
    ELSIF NEW.status = 'active' THEN
        l := NEW; sign := 1;
    ELSE
        l := NEW; sign := -1;
    END IF;
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT l.partner_id, refshare_month_ms(c.created_at), c.lifecycle, sign * COUNT(*)
    FROM cases c
    WHERE c.client_id = l.client_id AND c.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = partner_case_tallies.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_case_tallies_link_insert AFTER INSERT ON links
    FOR EACH ROW WHEN (new.status = 'active') EXECUTE FUNCTION partner_case_tallies_link();
CREATE TRIGGER partner_case_tallies_link_delete AFTER DELETE ON links
    FOR EACH ROW WHEN (old.status = 'active') EXECUTE FUNCTION partner_case_tallies_link();
CREATE TRIGGER partner_case_tallies_link_status AFTER UPDATE OF status ON links
    FOR EACH ROW WHEN ((new.status = 'active') IS DISTINCT FROM (old.status = 'active')) EXECUTE FUNCTION partner_case_tallies_link();
CREATE TRIGGER partner_case_tallies_link_keeps_terms BEFORE UPDATE OF partner_id, client_id, linked_at, is_attributed ON links
    FOR EACH ROW WHEN (new.partner_id IS DISTINCT FROM old.partner_id OR new.client_id IS DISTINCT FROM old.client_id
        OR new.linked_at IS DISTINCT FROM old.linked_at OR new.is_attributed IS DISTINCT FROM old.is_attributed)
    EXECUTE FUNCTION partner_case_tallies_refuse('a link keeps its partner, client, linked_at and attribution (partner_case_tallies)');
