//! A partner's live earnings per calendar month (the Partner Dashboard's chart): one
//! aggregate over the earnings read model, bounded by the months asked for (the
//! `earnings_partner_paid` index), with each earning's US cents rounded exactly as the
//! report rounds them ([`crate::reporting::usd_minor_sql`]) before they are summed.

use refshare_core::Instant;
use uuid::Uuid;

use crate::cases::{bind_all, Arg};
use crate::reporting::{rate_table_sql, usd_minor_sql, CurrentRates};
use crate::{get, ms, Result, Tx};

/// One month of a partner's live earnings by payment date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MonthTotal {
    pub count: i64,
    /// US cents of the earnings that have a figure (locked rate, else the current one).
    pub usd_minor: i64,
    /// Earnings left out of `usd_minor` for want of a rate.
    pub usd_missing: i64,
}

impl Tx {
    /// Per month `[start, end)` in `months` (in their order), the partner's live earnings
    /// paid in it. Months without earnings are zero.
    pub async fn earnings_per_month(
        &mut self,
        partner_id: Uuid,
        months: &[(Instant, Instant)],
        rates: &CurrentRates,
    ) -> Result<Vec<MonthTotal>> {
        let mut out = vec![MonthTotal::default(); months.len()];
        let (Some(first), Some(last)) = (months.iter().map(|m| m.0).min(), months.iter().map(|m| m.1).max()) else {
            return Ok(out);
        };
        let mut args = vec![Arg::Text(partner_id.to_string()), Arg::Int(ms(first)), Arg::Int(ms(last))];
        let mut bounds = Vec::with_capacity(months.len());
        for (i, (start, end)) in months.iter().enumerate() {
            args.push(Arg::Int(ms(*start)));
            args.push(Arg::Int(ms(*end)));
            let n = args.len();
            bounds.push(format!("SELECT CAST({i} AS BIGINT) AS k, CAST(${} AS BIGINT) AS lo, CAST(${n} AS BIGINT) AS hi", n - 1));
        }
        let usd = usd_minor_sql("e.amount_minor", "COALESCE(e.fx_usd_per_unit_e8, fx.r)", "fx.d");
        let sql = format!(
            "SELECT k, COUNT(*) AS n, CAST(COALESCE(SUM(usd), 0) AS BIGINT) AS usd, \
             CAST(SUM(CASE WHEN usd IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS missing \
             FROM (SELECT m.k AS k, {usd} AS usd FROM earnings e \
                   JOIN ({}) m ON e.paid_at >= m.lo AND e.paid_at < m.hi \
                   LEFT JOIN {} fx ON fx.cur = e.currency \
                   WHERE e.partner_id = $1 AND e.voided_at IS NULL AND e.paid_at >= $2 AND e.paid_at < $3) x \
             GROUP BY k ORDER BY k",
            bounds.join(" UNION ALL "),
            rate_table_sql(rates)?
        );
        let rows = bind_all(sqlx::query(&sql), &args).fetch_all(self.conn()).await?;
        for r in &rows {
            let k: i64 = get(r, "k")?;
            if let Some(slot) = usize::try_from(k).ok().and_then(|k| out.get_mut(k)) {
                *slot = MonthTotal { count: get(r, "n")?, usd_minor: get(r, "usd")?, usd_missing: get(r, "missing")? };
            }
        }
        Ok(out)
    }
}
