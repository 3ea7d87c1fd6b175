-- Sign-in for everyone (issue 8): the account a session acts as, chosen on /account
-- (`client_user`, `partner_user` or `operator`, and its id). Both NULL until chosen; the
-- app checks on each use that the account still exists and is not disabled.
ALTER TABLE sessions ADD COLUMN account_kind TEXT;
ALTER TABLE sessions ADD COLUMN account_id TEXT;
