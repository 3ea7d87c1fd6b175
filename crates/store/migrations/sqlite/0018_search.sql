-- Indexed, case-insensitive search (issue 9), kept up to date by the database itself, in
-- the writing transaction, so every writer (insert_case, bulk seeding) needs no change.
--
-- FTS5 tables with the trigram tokenizer over the searched text, as external-content
-- tables keyed by the source table's rowid (the text is not stored twice):
--   cases_fts    cases.search_key (reference \n creditor reference \n debtor name,
--                lower-cased in Rust by the writer)
--   clients_fts  clients.company_name
--   links_fts    links.external_tenant_id
-- `case_sensitive 0` folds case inside the index as well. A quoted phrase of at least
-- three characters is answered from the index (`MATCH`); shorter queries use `LIKE`.
-- Note: VACUUM may renumber implicit rowids; after one, run
--   INSERT INTO cases_fts(cases_fts) VALUES ('rebuild');  (and the same for the others)

CREATE VIRTUAL TABLE cases_fts USING fts5(search_key, content = 'cases', content_rowid = 'rowid', tokenize = 'trigram case_sensitive 0');
INSERT INTO cases_fts (cases_fts) VALUES ('rebuild');
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_fts (rowid, search_key) VALUES (new.rowid, new.search_key);
END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, search_key) VALUES ('delete', old.rowid, old.search_key);
END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF search_key ON cases BEGIN
    INSERT INTO cases_fts (cases_fts, rowid, search_key) VALUES ('delete', old.rowid, old.search_key);
    INSERT INTO cases_fts (rowid, search_key) VALUES (new.rowid, new.search_key);
END;

CREATE VIRTUAL TABLE clients_fts USING fts5(company_name, content = 'clients', content_rowid = 'rowid', tokenize = 'trigram case_sensitive 0');
INSERT INTO clients_fts (clients_fts) VALUES ('rebuild');
CREATE TRIGGER clients_fts_insert AFTER INSERT ON clients BEGIN
    INSERT INTO clients_fts (rowid, company_name) VALUES (new.rowid, new.company_name);
END;
CREATE TRIGGER clients_fts_delete AFTER DELETE ON clients BEGIN
    INSERT INTO clients_fts (clients_fts, rowid, company_name) VALUES ('delete', old.rowid, old.company_name);
END;
CREATE TRIGGER clients_fts_update AFTER UPDATE OF company_name ON clients BEGIN
    INSERT INTO clients_fts (clients_fts, rowid, company_name) VALUES ('delete', old.rowid, old.company_name);
    INSERT INTO clients_fts (rowid, company_name) VALUES (new.rowid, new.company_name);
END;

CREATE VIRTUAL TABLE links_fts USING fts5(external_tenant_id, content = 'links', content_rowid = 'rowid', tokenize = 'trigram case_sensitive 0');
INSERT INTO links_fts (links_fts) VALUES ('rebuild');
CREATE TRIGGER links_fts_insert AFTER INSERT ON links BEGIN
    INSERT INTO links_fts (rowid, external_tenant_id) VALUES (new.rowid, new.external_tenant_id);
END;
CREATE TRIGGER links_fts_delete AFTER DELETE ON links BEGIN
    INSERT INTO links_fts (links_fts, rowid, external_tenant_id) VALUES ('delete', old.rowid, old.external_tenant_id);
END;
CREATE TRIGGER links_fts_update AFTER UPDATE OF external_tenant_id ON links BEGIN
    INSERT INTO links_fts (links_fts, rowid, external_tenant_id) VALUES ('delete', old.rowid, old.external_tenant_id);
    INSERT INTO links_fts (rowid, external_tenant_id) VALUES (new.rowid, new.external_tenant_id);
END;

