-- The Partner Dashboard's Attention list and client timeline (issue 10), each source a
-- bounded, indexed read (store::attention):
--   link_requests_partner_pending  a partner's pending link requests, soonest expiry first
--   link_requests_partner_tenant   a partner's link requests under one externalTenantId
--                                  (the timeline; links have links_one_active_per_tenant
--                                  and links_partner_client)
--   disputes_case_partner          whether the partner already disputed a case (the
--                                  closing-window source skips those)
--   attribution_decisions_partner_unearned
--                                  the partner's payouts that did not earn, by instant, with
--                                  the payout id (covering: the closing dispute windows read
--                                  a period's in index order and stop early)
CREATE INDEX link_requests_partner_pending ON link_requests (partner_id, expires_at) WHERE status = 'pending';
CREATE INDEX link_requests_partner_tenant ON link_requests (partner_id, external_tenant_id);
CREATE INDEX disputes_case_partner ON disputes (case_id, partner_id);
CREATE INDEX attribution_decisions_partner_unearned ON attribution_decisions (partner_id, decided_at, payout_id, attributed) WHERE attributed = 0;
