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
-- deletions. Rows may hold 0. 0026 refuses the updates that would change the set silently.
-- Case inserts and deletes per statement over the transition table (a bulk insert is one
-- grouped upsert, its keys in order), the rest per row.

CREATE TABLE partner_client_case_tallies (
    partner_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    lifecycle TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (partner_id, client_id, lifecycle)
);

INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
SELECT l.partner_id, c.client_id, c.lifecycle, COUNT(*)
FROM cases c JOIN links l ON l.client_id = c.client_id
WHERE l.status = 'active' AND c.created_at >= l.linked_at
  AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
GROUP BY 1, 2, 3;

CREATE FUNCTION partner_client_case_tallies_cases_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT l.partner_id, c.client_id, c.lifecycle, COUNT(*)
    FROM new_rows c JOIN links l ON l.client_id = c.client_id
    WHERE l.status = 'active' AND c.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = partner_client_case_tallies.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE FUNCTION partner_client_case_tallies_cases_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT l.partner_id, c.client_id, c.lifecycle, -COUNT(*)
    FROM old_rows c JOIN links l ON l.client_id = c.client_id
    WHERE l.status = 'active' AND c.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = partner_client_case_tallies.n + excluded.n;
    RETURN NULL;
END
$$;
-- A lifecycle change (per row, and only when the lifecycle changes): the case leaves its
-- old tally and joins the new one.
CREATE FUNCTION partner_client_case_tallies_case_lifecycle() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT l.partner_id, NEW.client_id, x.lifecycle, x.d
    FROM links l CROSS JOIN (VALUES (OLD.lifecycle, -1), (NEW.lifecycle, 1)) AS x (lifecycle, d)
    WHERE l.client_id = NEW.client_id AND l.status = 'active' AND NEW.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (NEW.source = 'partner_api' AND NEW.creating_partner_id = l.partner_id))
    ORDER BY 1, 2, 3
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = partner_client_case_tallies.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_client_case_tallies_case_insert AFTER INSERT ON cases
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION partner_client_case_tallies_cases_insert();
CREATE TRIGGER partner_client_case_tallies_case_delete AFTER DELETE ON cases
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION partner_client_case_tallies_cases_delete();
CREATE TRIGGER partner_client_case_tallies_case_lifecycle AFTER UPDATE OF lifecycle ON cases
    FOR EACH ROW WHEN (new.lifecycle IS DISTINCT FROM old.lifecycle) EXECUTE FUNCTION partner_client_case_tallies_case_lifecycle();

-- Links: the client's cases a link shows, counted while it is active.
CREATE FUNCTION partner_client_case_tallies_link() RETURNS trigger LANGUAGE plpgsql AS $$
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
    INSERT INTO partner_client_case_tallies (partner_id, client_id, lifecycle, n)
    SELECT l.partner_id, l.client_id, c.lifecycle, sign * COUNT(*)
    FROM cases c
    WHERE c.client_id = l.client_id AND c.created_at >= l.linked_at
      AND (l.is_attributed = 1 OR (c.source = 'partner_api' AND c.creating_partner_id = l.partner_id))
    GROUP BY 1, 2, 3
    ORDER BY 1, 2, 3
    ON CONFLICT (partner_id, client_id, lifecycle) DO UPDATE SET n = partner_client_case_tallies.n + excluded.n;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_client_case_tallies_link_insert AFTER INSERT ON links
    FOR EACH ROW WHEN (new.status = 'active') EXECUTE FUNCTION partner_client_case_tallies_link();
CREATE TRIGGER partner_client_case_tallies_link_delete AFTER DELETE ON links
    FOR EACH ROW WHEN (old.status = 'active') EXECUTE FUNCTION partner_client_case_tallies_link();
CREATE TRIGGER partner_client_case_tallies_link_status AFTER UPDATE OF status ON links
    FOR EACH ROW WHEN ((new.status = 'active') IS DISTINCT FROM (old.status = 'active')) EXECUTE FUNCTION partner_client_case_tallies_link();

-- Per-partner client totals (issue 9, the client list's summary): how many clients the
-- partner has an active link to, how many of those links are attributed, and how many of
-- those clients completed onboarding (store Tx::partner_client_totals; the count over the
-- links, Tx::partner_client_totals_from_links, is what the conformance tests compare it
-- with). Kept by the triggers below: a link inserted or deleted while active, a link's
-- status entering or leaving 'active', a client's onboarding completed (or undone). A
-- link's attribution, partner and client are never updated (0026 refuses it); a client is
-- deleted only after its links. Link writers of one partner wait for each other on its row.
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

CREATE FUNCTION partner_client_totals_link() RETURNS trigger LANGUAGE plpgsql AS $$
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
    INSERT INTO partner_client_totals (partner_id, clients, attributed, onboarded)
    SELECT l.partner_id, sign, sign * l.is_attributed, CASE WHEN cl.onboarding_completed_at IS NULL THEN 0 ELSE sign END
    FROM clients cl WHERE cl.id = l.client_id
    ON CONFLICT (partner_id) DO UPDATE SET clients = partner_client_totals.clients + excluded.clients,
        attributed = partner_client_totals.attributed + excluded.attributed, onboarded = partner_client_totals.onboarded + excluded.onboarded;
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_client_totals_link_insert AFTER INSERT ON links
    FOR EACH ROW WHEN (new.status = 'active') EXECUTE FUNCTION partner_client_totals_link();
CREATE TRIGGER partner_client_totals_link_delete AFTER DELETE ON links
    FOR EACH ROW WHEN (old.status = 'active') EXECUTE FUNCTION partner_client_totals_link();
CREATE TRIGGER partner_client_totals_link_status AFTER UPDATE OF status ON links
    FOR EACH ROW WHEN ((new.status = 'active') IS DISTINCT FROM (old.status = 'active')) EXECUTE FUNCTION partner_client_totals_link();

CREATE FUNCTION partner_client_totals_onboarding() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE partner_client_totals SET onboarded = onboarded + CASE WHEN NEW.onboarding_completed_at IS NULL THEN -1 ELSE 1 END
    WHERE partner_id IN (SELECT l.partner_id FROM links l WHERE l.client_id = NEW.id AND l.status = 'active');
    RETURN NULL;
END
$$;
CREATE TRIGGER partner_client_totals_onboarding AFTER UPDATE OF onboarding_completed_at ON clients
    FOR EACH ROW WHEN ((new.onboarding_completed_at IS NULL) IS DISTINCT FROM (old.onboarding_completed_at IS NULL))
    EXECUTE FUNCTION partner_client_totals_onboarding();
