-- Per-client tallies of a partner's visible cases (issue 9, client search): what the client
-- list reads for each client of its page ("casesTotal", "casesClosed") instead of counting
-- the page's visible cases (thousands for a page of the largest partner's busiest clients).
--
-- partner_client_case_tallies holds, per (partner, client, lifecycle), how many of the
-- client's cases the partner sees now under SPEC §5: the rule of 0026's
-- partner_case_tallies (store search::PARTNER_VISIBLE_SQL restated with the link's partner
-- in place of $1), kept by the same events, with the client in place of the month. The
-- conformance tests compare it with the count over the cases (store
-- Tx::partner_case_counts_by_client_from_cases) after link churn, lifecycle changes and
-- deletions. Rows may hold 0. 0026 refuses the updates that would change the set silently
-- (a case's created_at, source, creating partner or client; a link's linked_at or
-- attribution; 0023 a link's partner or client).

CREATE TABLE partner_client_case_tallies (
    partner_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (partner_id, client_id, lifecycle)
) WITHOUT ROWID;

INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
SELECT l.partner_id, c.client_id, c.lifecycle, COUNT(*)
FROM cases c JOIN links l ON l.client_id = c.client_id
WHERE l.status = 'active' AND c.created_at >= l.linked_at
  AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
GROUP BY 1, 2, 3;

-- A case: counted for the active link that shows it (at most one: one active link per client).
CREATE TRIGGER partner_client_case_tallies_case_insert AFTER INSERT ON cases BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT l.partner_id, new.client_id, new.lifecycle, 1
    FROM links l
    WHERE l.client_id = new.client_id AND l.status = 'active' AND new.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (new.source = 'partner_api' AND new.creating_partner_id = l.partner_id))
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_client_case_tallies_case_delete AFTER DELETE ON cases BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT l.partner_id, old.client_id, old.lifecycle, -1
    FROM links l
    WHERE l.client_id = old.client_id AND l.status = 'active' AND old.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (old.source = 'partner_api' AND old.creating_partner_id = l.partner_id))
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_client_case_tallies_case_lifecycle AFTER UPDATE OF lifecycle ON cases WHEN new.lifecycle IS NOT old.lifecycle BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT l.partner_id, old.client_id, old.lifecycle, -1
    FROM links l
    WHERE l.client_id = old.client_id AND l.status = 'active' AND old.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (old.source = 'partner_api' AND old.creating_partner_id = l.partner_id))
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = n + excluded.n;
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT l.partner_id, new.client_id, new.lifecycle, 1
    FROM links l
    WHERE l.client_id = new.client_id AND l.status = 'active' AND new.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (new.source = 'partner_api' AND new.creating_partner_id = l.partner_id))
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = n + excluded.n;
END;

-- A link: the client's cases it shows are counted while it is active.
CREATE TRIGGER partner_client_case_tallies_link_insert AFTER INSERT ON links WHEN new.status = 'active' BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT new.partner_id, new.client_id, c.lifecycle, COUNT(*)
    FROM cases c
    WHERE c.client_id = new.client_id AND c.created_at >= new.linked_at
      AND (new.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = new.partner_id))
    GROUP BY c.lifecycle
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_client_case_tallies_link_delete AFTER DELETE ON links WHEN old.status = 'active' BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT old.partner_id, old.client_id, c.lifecycle, -COUNT(*)
    FROM cases c
    WHERE c.client_id = old.client_id AND c.created_at >= old.linked_at
      AND (old.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = old.partner_id))
    GROUP BY c.lifecycle
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
CREATE TRIGGER partner_client_case_tallies_link_status AFTER UPDATE OF status ON links
WHEN (new.status = 'active') <> (old.status = 'active') BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT new.partner_id, new.client_id, c.lifecycle, CASE WHEN new.status = 'active' THEN COUNT(*) ELSE -COUNT(*) END
    FROM cases c
    WHERE c.client_id = new.client_id AND c.created_at >= new.linked_at
      AND (new.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = new.partner_id))
    GROUP BY c.lifecycle
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = n + excluded.n;
END;
