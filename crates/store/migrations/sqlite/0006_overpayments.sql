-- A payment booked above what was still owed on its case, because the operator said so
-- (`allowOverpayment`). What is still owed is never stored: it is the case amount less the
-- live payments, derived at read.
ALTER TABLE payments ADD COLUMN is_overpayment BIGINT NOT NULL DEFAULT 0;
