-- The search indexes in one segment each (issue 9, SQLite).
--
-- FTS5 writes every transaction's rows as a new segment and merges segments level by
-- level (automerge), so an index filled row by row (the seed's bulk writer, the triggers
-- of 0018, 0023 and 0029 over time) holds a score of segments. A phrase whose trigrams are
-- common (a reference such as `deb-226271`: `deb`, `eb-` and `b-2` are in every case's
-- key) then seeks through the long doclists of each segment: 10–13 ms for one match in the
-- largest partner's part of partner_cases_fts at 1M (20 segments), 2.5–3.5 ms after this
-- merge (one segment; a word such as `silver`, 5,854 matches, about 1 ms either way). The
-- merge of partner_cases_fts took 5 s at 1M. `refshare seed` merges the same way after
-- its bulk load (store Tx::merge_search_indexes); on a database that grows by small
-- transactions the segments come back slowly, and the same statements restore them
-- (maintenance, like the CLUSTER of 0039 on PostgreSQL).
INSERT INTO partner_cases_fts (partner_cases_fts) VALUES ('optimize');
INSERT INTO partner_links_fts (partner_links_fts) VALUES ('optimize');
INSERT INTO cases_fts (cases_fts) VALUES ('optimize');
INSERT INTO clients_fts (clients_fts) VALUES ('optimize');
INSERT INTO links_fts (links_fts) VALUES ('optimize');
