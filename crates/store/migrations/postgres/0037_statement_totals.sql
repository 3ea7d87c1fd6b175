-- The statement page's totals without a pass over the month's rows (issue 10).
--
-- statement_totals: per (partner, month, stage, currency, locked) over the live earnings
-- with a stage (voided_at IS NULL, stage NOT NULL), where month is the UTC calendar month
-- of the earning's creation (created_at) as 'YYYY-MM' (the month whose statement lists
-- it):
--   locked        1 when the earning's USD rate is locked (fx_usd_per_unit_e8 set)
--   n, clawback_n rows, and rows of kind 'clawback' (the statement's reversals)
--   amount_minor  the sum of the amounts, in the currency
--   usd_minor     locked rows: the sum of each row's US cents at its rate, rounded half
--                 to even per row (store reporting::usd_minor_sql); else 0
-- statement_estimates: per (partner, month, stage, currency) over those rows whose rate is
-- not locked, the same sums with each row converted at the currency's estimate rate
-- (estimate_rates, built currencies only; USD sums 0 while its rate is NULL).
-- Kept by the deltas that keep earning_totals, month_totals and their estimates, in the
-- same transaction, flushed at commit with the keys sorted after them, and re-based with
-- the estimate totals when rates load (store statement_totals.rs); `reconcile` proves
-- both against the rows. Filled here with the aggregates reconcile uses (store
-- statement_totals::statement_totals_sql / statement_estimates_sql; a unit test keeps
-- them identical). The page reads one (partner, month) range of each primary key.
CREATE TABLE statement_totals (
    partner_id TEXT NOT NULL,
    month TEXT NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    locked BIGINT NOT NULL,
    n BIGINT NOT NULL,
    clawback_n BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    usd_minor BIGINT NOT NULL,
    PRIMARY KEY (partner_id, month, stage, currency, locked)
);
CREATE TABLE statement_estimates (
    partner_id TEXT NOT NULL,
    month TEXT NOT NULL,
    stage TEXT NOT NULL,
    currency TEXT NOT NULL,
    n BIGINT NOT NULL,
    clawback_n BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    usd_minor BIGINT NOT NULL,
    PRIMARY KEY (partner_id, month, stage, currency)
);
INSERT INTO statement_totals (partner_id, month, stage, currency, locked, n, clawback_n, amount_minor, usd_minor)
SELECT partner_id, month, stage, currency, locked, n, clawback_n, amount, usd FROM (
SELECT e.partner_id AS partner_id, to_char(to_timestamp(((e.created_at - (((e.created_at % 1000) + 1000) % 1000)) / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM') AS month, e.stage AS stage, e.currency AS currency, CAST(CASE WHEN e.fx_usd_per_unit_e8 IS NULL THEN 0 ELSE 1 END AS BIGINT) AS locked, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(CASE WHEN e.kind = 'clawback' THEN 1 ELSE 0 END) AS BIGINT) AS clawback_n, CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM((CASE WHEN e.fx_usd_per_unit_e8 IS NULL OR c.d IS NULL THEN NULL ELSE (CASE WHEN e.amount_minor < 0 THEN -1 ELSE 1 END) * ((ABS(e.amount_minor) * (e.fx_usd_per_unit_e8 / c.d) + (ABS(e.amount_minor) / c.d) * (e.fx_usd_per_unit_e8 % c.d) + ((ABS(e.amount_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) / c.d) + CASE WHEN (2 * (((ABS(e.amount_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) % c.d)) > c.d THEN 1 WHEN (2 * (((ABS(e.amount_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) % c.d)) = c.d THEN (ABS(e.amount_minor) * (e.fx_usd_per_unit_e8 / c.d) + (ABS(e.amount_minor) / c.d) * (e.fx_usd_per_unit_e8 % c.d) + ((ABS(e.amount_minor) % c.d) * (e.fx_usd_per_unit_e8 % c.d)) / c.d) % 2 ELSE 0 END) END)), 0) AS BIGINT) AS usd FROM earnings e LEFT JOIN (SELECT 'AUD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BGN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BRL' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CAD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CHF' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CNY' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CZK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'DKK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'EUR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'GBP' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'HKD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'HUF' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'IDR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ILS' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'INR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ISK' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'JPY' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'KRW' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'MXN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'MYR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'NOK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'NZD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'PHP' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'PLN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'RON' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'SEK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'SGD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'THB' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'TRY' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'USD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ZAR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'AED' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BHD' AS cur, CAST(1000000000 AS BIGINT) AS d UNION ALL SELECT 'KWD' AS cur, CAST(1000000000 AS BIGINT) AS d UNION ALL SELECT 'OMR' AS cur, CAST(1000000000 AS BIGINT) AS d) c ON c.cur = e.currency WHERE e.voided_at IS NULL AND e.stage IS NOT NULL AND (1 = 1) GROUP BY e.partner_id, to_char(to_timestamp(((e.created_at - (((e.created_at % 1000) + 1000) % 1000)) / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM'), e.stage, e.currency, CAST(CASE WHEN e.fx_usd_per_unit_e8 IS NULL THEN 0 ELSE 1 END AS BIGINT)
) t;
INSERT INTO statement_estimates (partner_id, month, stage, currency, n, clawback_n, amount_minor, usd_minor)
SELECT partner_id, month, stage, currency, n, clawback_n, amount, usd FROM (
SELECT e.partner_id AS partner_id, to_char(to_timestamp(((e.created_at - (((e.created_at % 1000) + 1000) % 1000)) / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM') AS month, e.stage AS stage, e.currency AS currency, CAST(COUNT(*) AS BIGINT) AS n, CAST(SUM(CASE WHEN e.kind = 'clawback' THEN 1 ELSE 0 END) AS BIGINT) AS clawback_n, CAST(SUM(e.amount_minor) AS BIGINT) AS amount, CAST(COALESCE(SUM((CASE WHEN fx.r IS NULL OR fx.d IS NULL THEN NULL ELSE (CASE WHEN e.amount_minor < 0 THEN -1 ELSE 1 END) * ((ABS(e.amount_minor) * (fx.r / fx.d) + (ABS(e.amount_minor) / fx.d) * (fx.r % fx.d) + ((ABS(e.amount_minor) % fx.d) * (fx.r % fx.d)) / fx.d) + CASE WHEN (2 * (((ABS(e.amount_minor) % fx.d) * (fx.r % fx.d)) % fx.d)) > fx.d THEN 1 WHEN (2 * (((ABS(e.amount_minor) % fx.d) * (fx.r % fx.d)) % fx.d)) = fx.d THEN (ABS(e.amount_minor) * (fx.r / fx.d) + (ABS(e.amount_minor) / fx.d) * (fx.r % fx.d) + ((ABS(e.amount_minor) % fx.d) * (fx.r % fx.d)) / fx.d) % 2 ELSE 0 END) END)), 0) AS BIGINT) AS usd FROM earnings e JOIN (SELECT r.currency AS cur, c.d AS d, r.rate_e8 AS r FROM estimate_rates r JOIN (SELECT 'AUD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BGN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BRL' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CAD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CHF' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CNY' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'CZK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'DKK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'EUR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'GBP' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'HKD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'HUF' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'IDR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ILS' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'INR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ISK' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'JPY' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'KRW' AS cur, CAST(1000000 AS BIGINT) AS d UNION ALL SELECT 'MXN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'MYR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'NOK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'NZD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'PHP' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'PLN' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'RON' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'SEK' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'SGD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'THB' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'TRY' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'USD' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'ZAR' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'AED' AS cur, CAST(100000000 AS BIGINT) AS d UNION ALL SELECT 'BHD' AS cur, CAST(1000000000 AS BIGINT) AS d UNION ALL SELECT 'KWD' AS cur, CAST(1000000000 AS BIGINT) AS d UNION ALL SELECT 'OMR' AS cur, CAST(1000000000 AS BIGINT) AS d) c ON c.cur = r.currency WHERE r.built = 1) fx ON fx.cur = e.currency WHERE e.voided_at IS NULL AND e.fx_usd_per_unit_e8 IS NULL AND e.stage IS NOT NULL AND (1 = 1) GROUP BY e.partner_id, to_char(to_timestamp(((e.created_at - (((e.created_at % 1000) + 1000) % 1000)) / 1000)) AT TIME ZONE 'UTC', 'YYYY-MM'), e.stage, e.currency
) t;
