-- Consent only from the client (issue 8): who signed the agreement and how their address
-- was proven (`link` or `code`); which client user decided a link request; and where a
-- sign-in asked from a consent page (or mailed with an approval request or onboarding
-- invitation) returns to (a server-side path, never taken from the browser).
ALTER TABLE clients ADD COLUMN sdca_signer_user_id TEXT;
ALTER TABLE clients ADD COLUMN sdca_verified_by TEXT;
ALTER TABLE link_requests ADD COLUMN decided_by_user_id TEXT;
ALTER TABLE signin_tokens ADD COLUMN return_to TEXT;
