-- Indexes for the set-based money runs (issue 9), so that no run scans all payouts or
-- earnings:
--   payouts_cp_invoice   the payouts of a CP invoice (paying it, its view)
--   payouts_to_invoice   the payouts a CP invoicing run bills (commission paid, on no CP
--                        invoice yet), by the date the period bound compares
--   earnings_partner_invoice  the earnings of a partner invoice (paying it, its view)
CREATE INDEX payouts_cp_invoice ON payouts (cp_invoice_id);
CREATE INDEX payouts_to_invoice ON payouts (commission_paid_at) WHERE commission_status = 'Paid' AND cp_invoice_id IS NULL;
CREATE INDEX earnings_partner_invoice ON earnings (partner_invoice_id);
