-- The search indexes merged (issue 9): SQLite's 0043 merges its FTS5 indexes into one
-- segment each. PostgreSQL's twin moves the entries waiting in each trigram GIN index's
-- pending list (fastupdate) into the index proper, so a search does not scan them one by
-- one (VACUUM does the same), and clusters partner_case_keys again on its creation index
-- (0039): rows written after 0039 (a seed's whole bulk load) are in insertion order, so
-- a partner's matches lie on as many heap pages as matches (the case search's `silver`,
-- 4,479 matches: 3,857 heap pages read at 1M). `refshare seed` runs the same statements
-- after its bulk load (store Tx::merge_search_indexes).
SELECT gin_clean_pending_list('cases_search_trgm'::regclass);
SELECT gin_clean_pending_list('clients_name_trgm'::regclass);
SELECT gin_clean_pending_list('links_tenant_trgm'::regclass);
SELECT gin_clean_pending_list('partner_case_keys_trgm'::regclass);
SELECT gin_clean_pending_list('link_search_keys_trgm'::regclass);
SELECT gin_clean_pending_list('partner_cases_trgm_key'::regclass);
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM partner_case_keys) THEN
        CLUSTER partner_case_keys;
        ANALYZE partner_case_keys;
    END IF;
END
$$;
