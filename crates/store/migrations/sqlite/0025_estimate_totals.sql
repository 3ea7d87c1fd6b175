-- The estimates of the reporting summary without a pass over a partner's rows (issue 9).
--
-- earnings.platform_fee_minor: the platform fee of the earning's payout (payouts never
-- change it), written with the earning (store payouts::insert_earning, seed::bulk_earnings)
-- so the summary and the totals read it without joining payouts. `reconcile` proves it.
-- earnings_estimates: the rows whose rate is not locked, now covering what their summary
-- needs (the platform fee instead of the payout id).
--
-- estimate_totals: per (partner, stage, currency), over the live earnings with a stored
-- stage whose USD rate is not locked (estimates): rows, payout rows, amount, and the US
-- cents of the earnings and of the platform fee on the payout rows, each row converted at
-- the currency's estimate rate and rounded half to even, then summed (the same figures the
-- summary's aggregate computes per row). Kept by deltas at commit (store estimates.rs).
-- estimate_rates: per currency, whether estimate_totals holds it (`built`) and the rate
-- its sums were computed at (NULL: no rate, USD sums 0). Built and re-based by the app
-- when rates are loaded and at start, one GROUP BY per currency; a summary whose current
-- rate differs from `rate_e8` aggregates that currency's rows instead. Every known
-- currency has its row from here on (writers lock it; a unit test checks the list).
ALTER TABLE earnings ADD COLUMN platform_fee_minor BIGINT;
UPDATE earnings SET platform_fee_minor = (SELECT p.platform_fee_minor FROM payouts p WHERE p.id = earnings.payout_id);
DROP INDEX earnings_estimates;
CREATE INDEX earnings_estimates ON earnings (partner_id, stage, currency, kind, amount_minor, platform_fee_minor)
    WHERE voided_at IS NULL AND fx_usd_per_unit_e8 IS NULL;
CREATE TABLE estimate_totals (
    partner_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    n BIGINT NOT NULL,
    payout_n BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    usd_minor BIGINT NOT NULL,
    platform_usd_minor BIGINT NOT NULL,
    PRIMARY KEY (partner_id, stage, currency)
);
CREATE TABLE estimate_rates (
    currency TEXT PRIMARY KEY,
    built BIGINT NOT NULL,
    rate_e8 BIGINT
);
INSERT INTO estimate_rates (currency, built, rate_e8) VALUES ('AUD', 0, NULL), ('BGN', 0, NULL), ('BRL', 0, NULL), ('CAD', 0, NULL), ('CHF', 0, NULL), ('CNY', 0, NULL), ('CZK', 0, NULL), ('DKK', 0, NULL), ('EUR', 0, NULL), ('GBP', 0, NULL), ('HKD', 0, NULL), ('HUF', 0, NULL), ('IDR', 0, NULL), ('ILS', 0, NULL), ('INR', 0, NULL), ('ISK', 0, NULL), ('JPY', 0, NULL), ('KRW', 0, NULL), ('MXN', 0, NULL), ('MYR', 0, NULL), ('NOK', 0, NULL), ('NZD', 0, NULL), ('PHP', 0, NULL), ('PLN', 0, NULL), ('RON', 0, NULL), ('SEK', 0, NULL), ('SGD', 0, NULL), ('THB', 0, NULL), ('TRY', 0, NULL), ('USD', 0, NULL), ('ZAR', 0, NULL), ('AED', 0, NULL), ('BHD', 0, NULL), ('KWD', 0, NULL), ('OMR', 0, NULL);
