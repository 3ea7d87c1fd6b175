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
-- writers included, needs no change). What changes visibility: a case inserted or deleted,
-- a case's lifecycle, a link inserted or deleted while active, a link's status entering or
-- leaving 'active'. What would change it silently is refused: a case's created_at, source,
-- creating partner or client, a link's partner, client, linked_at or is_attributed (none
-- of them is ever updated by the store).

CREATE TABLE partner_case_tallies (
    partner_id TEXT NOT NULL,
    month_ms BIGINT NOT NULL,
    lifecycle TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (partner_id, month_ms, lifecycle)
);

INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
SELECT l.partner_id, CAST(strftime('%s', c.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000, c.lifecycle, COUNT(*)
FROM cases c JOIN links l ON l.client_id = c.client_id
WHERE l.status = 'active' AND c.created_at >= l.linked_at
  AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
GROUP BY 1, 2, 3;

-- A case: counted for the active link that shows it (at most one: one active link per client).
CREATE TRIGGER partner_case_tallies_case_insert AFTER INSERT ON cases BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT l.partner_id, CAST(strftime('%s', new.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000, new.lifecycle, 1
    FROM links l
    WHERE l.client_id = new.client_id AND l.status = 'active' AND new.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (new.source = 'partner_api' AND new.creating_partner_id = l.partner_id))
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_case_tallies_case_delete AFTER DELETE ON cases BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT l.partner_id, CAST(strftime('%s', old.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000, old.lifecycle, -1
    FROM links l
    WHERE l.client_id = old.client_id AND l.status = 'active' AND old.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (old.source = 'partner_api' AND old.creating_partner_id = l.partner_id))
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_case_tallies_case_lifecycle AFTER UPDATE OF lifecycle ON cases WHEN new.lifecycle IS NOT old.lifecycle BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT l.partner_id, CAST(strftime('%s', old.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000, old.lifecycle, -1
    FROM links l
    WHERE l.client_id = old.client_id AND l.status = 'active' AND old.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (old.source = 'partner_api' AND old.creating_partner_id = l.partner_id))
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = n + excluded.n;
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT l.partner_id, CAST(strftime('%s', new.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000, new.lifecycle, 1
    FROM links l
    WHERE l.client_id = new.client_id AND l.status = 'active' AND new.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (new.source = 'partner_api' AND new.creating_partner_id = l.partner_id))
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_case_tallies_case_keeps_facts BEFORE UPDATE OF created_at, source, creating_partner_id ON cases
WHEN new.created_at IS NOT old.created_at OR new.source IS NOT old.source OR new.creating_partner_id IS NOT old.creating_partner_id BEGIN
    SELECT RAISE(ABORT, 'a case keeps its creation instant, source and creating partner (partner_case_tallies)');
END;

-- A link: the client's cases it shows are counted while it is active.
CREATE TRIGGER partner_case_tallies_link_insert AFTER INSERT ON links WHEN new.status = 'active' BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT new.partner_id, CAST(strftime('%s', c.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000 AS m, c.lifecycle, COUNT(*)
    FROM cases c
    WHERE c.client_id = new.client_id AND c.created_at >= new.linked_at
      AND (new.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = new.partner_id))
    GROUP BY m, c.lifecycle
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_case_tallies_link_delete AFTER DELETE ON links WHEN old.status = 'active' BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT old.partner_id, CAST(strftime('%s', c.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000 AS m, c.lifecycle, -COUNT(*)
    FROM cases c
    WHERE c.client_id = old.client_id AND c.created_at >= old.linked_at
      AND (old.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = old.partner_id))
    GROUP BY m, c.lifecycle
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_case_tallies_link_status AFTER UPDATE OF status ON links
WHEN (new.status = 'active') <> (old.status = 'active') BEGIN
    INSERT INTO partner_case_tallies (partner_id, month_ms, lifecycle, n)
    SELECT new.partner_id, CAST(strftime('%s', c.created_at / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000 AS m, c.lifecycle,
           CASE WHEN new.status = 'active' THEN COUNT(*) ELSE -COUNT(*) END
    FROM cases c
    WHERE c.client_id = new.client_id AND c.created_at >= new.linked_at
      AND (new.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = new.partner_id))
    GROUP BY m, c.lifecycle
    ON CONFLICT (partner_id, month_ms, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_case_tallies_link_keeps_terms BEFORE UPDATE OF linked_at, is_attributed ON links
WHEN new.linked_at IS NOT old.linked_at OR new.is_attributed IS NOT old.is_attributed BEGIN
    SELECT RAISE(ABORT, 'a link keeps its linked_at and attribution (partner_case_tallies)');
END;
