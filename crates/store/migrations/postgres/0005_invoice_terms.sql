-- Payment terms: when an invoice is due (issue date plus the configured business days).
ALTER TABLE cp_invoices ADD COLUMN due_at BIGINT;
ALTER TABLE partner_invoices ADD COLUMN due_at BIGINT;
