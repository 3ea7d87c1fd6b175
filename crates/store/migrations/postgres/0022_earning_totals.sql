-- Per-partner earnings totals (issue 9): what the reporting summary reads instead of
-- aggregating a partner's rows. Per (partner, stage, currency, locked) over the live
-- earnings with a stored stage (voided_at IS NULL, stage NOT NULL):
--   locked              1 when the earning's USD rate is locked (fx_usd_per_unit_e8 set)
--   n, payout_n         rows, and rows of kind 'payout'
--   amount_minor        the sum of the amounts, in the currency
--   usd_minor           locked rows: the sum of each row's US cents at its rate, rounded
--                       half to even per row (store reporting::usd_minor_sql); else 0
--   platform_usd_minor  locked payout rows: the same for the payout's platform fee
-- Kept up to date by deltas in the transaction of every write that changes an earning's
-- contribution, flushed at commit with the keys sorted (store totals.rs); `reconcile`
-- proves them against the rows. Filled here from the rows, with the same aggregate the
-- deltas use (store totals::totals_sql; a unit test keeps the two identical).
-- earnings_estimates: the rows whose rate is not locked, which the summary still
-- aggregates (they convert at today's rate), read from the index alone.
CREATE TABLE earning_totals (
    partner_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    locked BIGINT NOT NULL,
    n BIGINT NOT NULL,
    payout_n BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    usd_minor BIGINT NOT NULL,
    platform_usd_minor BIGINT NOT NULL,
    PRIMARY KEY (partner_id, stage, currency, locked)
);
CREATE INDEX earnings_estimates ON earnings (partner_id, stage, currency, kind, amount_minor, payout_id)
    WHERE voided_at IS NULL AND fx_usd_per_unit_e8 IS NULL;
INSERT INTO earning_totals (partner_id, stage, currency, locked, n, payout_n, amount_minor, usd_minor, platform_usd_minor)
SELECT partner_id, stage, currency, locked, n, payout_n, amount, usd, pusd FROM (
SELECT e.partner_id AS partner_id, e.stage AS stage, e.currency AS currency, CAST(CASE WHEN e.fx_usd_per_unit_e8 IS NULL THEN 0 ELSE 1 END AS BIGINT) AS locked, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(CASE WHEN e.kind = 'payout' THEN 1 ELSE 0 END) AS BIGINT) AS payout_n, CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM((CASE WHEN e.fx_usd_per_unit_e8 IS NULL OR c.d IS NULL THEN NULL ELSE (CASE WHEN e.amount_minor < 0 THEN -1 ELSE 1 END) * ((ABS(e.amount_minor) * (e.fx_usd_per_unit_e8 / c.d) + (ABS(e.amount_minor) / c.d) * (e.fx_usd_per_unit_e8 % c.d) + ((ABS(e.amount_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) / c.d) + CASE WHEN (2 * (((ABS(e.amount_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) % c.d)) > c.d THEN 1 WHEN (2 * (((ABS(e.amount_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) % c.d)) = c.d THEN (ABS(e.amount_minor) * (e.fx_usd_per_unit_e8 / c.d) + (ABS(e.amount_minor) / c.d) * (e.fx_usd_per_unit_e8 % c.d) + ((ABS(e.amount_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) / c.d) % 2 ELSE 0 END) END)), 0) AS BIGINT) AS usd, CAST(COALESCE(SUM(CASE WHEN e.kind = 'payout' THEN (CASE WHEN e.fx_usd_per_unit_e8 IS NULL OR c.d IS NULL THEN NULL ELSE (CASE WHEN p.platform_fee_minor < 0 THEN -1 ELSE 1 END) * ((ABS(p.platform_fee_minor) * (e.fx_usd_per_unit_e8 / c.d) + (ABS(p.platform_fee_minor) / c.d) * (e.fx_usd_per_unit_e8 % c.d) + ((ABS(p.platform_fee_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) / c.d) + CASE WHEN (2 * (((ABS(p.platform_fee_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) % c.d)) > c.d THEN 1 WHEN (2 * (((ABS(p.platform_fee_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) % c.d)) = c.d THEN (ABS(p.platform_fee_minor) * (e.fx_usd_per_unit_e8 / c.d) + (ABS(p.platform_fee_minor) / c.d) * (e.fx_usd_per_unit_e8 % c.d) + ((ABS(p.platform_fee_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) / c.d) % 2 ELSE 0 END) END) ELSE 0 END), 0) AS BIGINT) AS pusd FROM earnings e JOIN payouts p ON p.id = e.payout_id LEFT JOIN (SELECT 'AUD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BGN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BRL' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CAD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CHF' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CNY' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CZK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'DKK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'EUR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'GBP' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'HKD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'HUF' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'IDR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ILS' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'INR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ISK' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'JPY' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'KRW' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'MXN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'MYR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'NOK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'NZD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'PHP' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'PLN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'RON' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'SEK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'SGD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'THB' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'TRY' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'USD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ZAR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'AED' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BHD' AS cur, CAST(1000000000 AS BIGINT) AS d UNION ALL SELECT 'KWD' AS cur, CAST(1000000000 AS BIGINT) AS d UNION ALL SELECT 'OMR' AS cur, CAST(1000000000 AS BIGINT) AS d) c ON c.cur = e.currency WHERE e.voided_at IS NULL AND e.stage IS NOT NULL AND (1 = 1) GROUP BY e.partner_id, e.stage, e.currency, CAST(CASE WHEN e.fx_usd_per_unit_e8 IS NULL THEN 0 ELSE 1 END AS BIGINT)
) t;
