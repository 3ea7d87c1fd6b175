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

-- Per-partner client totals (issue 9, the client list's summary): how many clients the
-- partner has an active link to, how many of those links are attributed, and how many of
-- those clients completed onboarding (store Tx::partner_client_totals; the count over the
-- links, Tx::partner_client_totals_from_links, is what the conformance tests compare it
-- with). Kept by the triggers below: a link inserted or deleted while active, a link's
-- status entering or leaving 'active', a client's onboarding completed (or undone). A
-- link's attribution, partner and client are never updated (0026 and 0023 refuse it); a
-- client is deleted only after its links.
CREATE TABLE partner_client_totals (
    partner_id TEXT PRIMARY KEY,
    clients BIGINT NOT NULL,
    attributed BIGINT NOT NULL,
    onboarded BIGINT NOT NULL
);

INSERT INTO partner_client_totals (partner_id, clients, attributed, onboarded)
SELECT l.partner_id, COUNT(*), SUM(l.is_attributed), SUM(CASE WHEN cl.onboarding_completed_at IS NULL THEN 0 ELSE 1 END)
FROM links l JOIN clients cl ON cl.id = l.client_id
WHERE l.status = 'active'
GROUP BY l.partner_id;

CREATE TRIGGER partner_client_totals_link_insert AFTER INSERT ON links WHEN new.status = 'active' BEGIN
    INSERT INTO partner_client_totals (partner_id, clients, attributed, onboarded)
    SELECT new.partner_id, 1, new.is_attributed, CASE WHEN cl.onboarding_completed_at IS NULL THEN 0 ELSE 1 END
    FROM clients cl WHERE cl.id = new.client_id
    ON CONFLICT (partner_id) DO UPDATE SET clients = clients + excluded.clients, attributed = attributed + excluded.attributed,
        onboarded = onboarded + excluded.onboarded;
END;
CREATE TRIGGER partner_client_totals_link_delete AFTER DELETE ON links WHEN old.status = 'active' BEGIN
    INSERT INTO partner_client_totals (partner_id, clients, attributed, onboarded)
    SELECT old.partner_id, -1, -old.is_attributed, CASE WHEN cl.onboarding_completed_at IS NULL THEN 0 ELSE -1 END
    FROM clients cl WHERE cl.id = old.client_id
    ON CONFLICT (partner_id) DO UPDATE SET clients = clients + excluded.clients, attributed = attributed + excluded.attributed,
        onboarded = onboarded + excluded.onboarded;
END;
CREATE TRIGGER partner_client_totals_link_status AFTER UPDATE OF status ON links
WHEN (new.status = 'active') <> (old.status = 'active') BEGIN
    INSERT INTO partner_client_totals (partner_id, clients, attributed, onboarded)
    SELECT new.partner_id, x.d, x.d * new.is_attributed, CASE WHEN cl.onboarding_completed_at IS NULL THEN 0 ELSE x.d END
    FROM clients cl CROSS JOIN (SELECT CASE WHEN new.status = 'active' THEN 1 ELSE -1 END AS d) x
    WHERE cl.id = new.client_id
    ON CONFLICT (partner_id) DO UPDATE SET clients = clients + excluded.clients, attributed = attributed + excluded.attributed,
        onboarded = onboarded + excluded.onboarded;
END;
CREATE TRIGGER partner_client_totals_onboarding AFTER UPDATE OF onboarding_completed_at ON clients
WHEN (new.onboarding_completed_at IS NULL) <> (old.onboarding_completed_at IS NULL) BEGIN
    UPDATE partner_client_totals SET onboarded = onboarded + CASE WHEN new.onboarding_completed_at IS NULL THEN -1 ELSE 1 END
    WHERE partner_id IN (SELECT l.partner_id FROM links l WHERE l.client_id = new.id AND l.status = 'active');
END;
