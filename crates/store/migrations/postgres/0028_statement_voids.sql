-- The month statement's reversal reads without a pass over the partner's earnings (issue 9,
-- store reporting::voided_earnings_of_partner_created / earnings_of_partner_voided): voided
-- earnings are few, so two partial indexes over them only.
--   earnings_partner_voided          the partner's earnings voided in a period
--   earnings_partner_voided_created  the partner's voided earnings created in a period
CREATE INDEX earnings_partner_voided ON earnings (partner_id, voided_at, id) WHERE voided_at IS NOT NULL;
CREATE INDEX earnings_partner_voided_created ON earnings (partner_id, created_at, id) WHERE voided_at IS NOT NULL;
