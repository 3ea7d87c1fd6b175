-- Rates loaded before days and rates were checked (issue 7): a day that is not written
-- YYYY-MM-DD within 1999-01-01..2100-12-31, or a rate that is not positive, is removed.
-- (Lookups ignore such rows too; this keeps the table honest for listings.)
DELETE FROM fx_rates
WHERE rate_date !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'
   OR rate_date < '1999-01-01'
   OR rate_date > '2100-12-31'
   OR usd_per_unit_e8 <= 0;
