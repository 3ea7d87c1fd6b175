//! What the Partner Dashboard's overview shows beyond the reference API's views: the
//! partner's live earnings per calendar month (UTC) for the chart, in US cents at the
//! locked rate, else the current one, as the report converts them; read from the month
//! totals (migration 0033, `store::month_totals`), a few rows whatever the partner's size.

use chrono::{Datelike, Months, NaiveDate, TimeZone, Utc};
use refshare_core::Instant;
use refshare_store::{PartnerRecord, UtcMonth};

use crate::fx::UsdRates;
use crate::{App, AppError};

/// The most months the chart may ask for.
pub const MAX_CHART_MONTHS: u32 = 36;

/// One month of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthFigure {
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
    /// US cents of the month's earnings that have a figure.
    pub usd_minor: i64,
    /// Some earning of the month has no USD figure (a rate is missing).
    pub usd_partial: bool,
}

/// The `[start, end)` bounds and names of the `n` calendar months ending with the one
/// holding `now`, oldest first.
pub fn last_months(now: Instant, n: u32) -> Vec<(String, Instant, Instant)> {
    let this = NaiveDate::from_ymd_opt(now.year(), now.month(), 1).expect("the first of a month exists");
    let start_of = |d: NaiveDate| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"));
    (0..n)
        .rev()
        .filter_map(|back| {
            let first = this.checked_sub_months(Months::new(back))?;
            let next = first.checked_add_months(Months::new(1))?;
            Some((first.format("%Y-%m").to_string(), start_of(first), start_of(next)))
        })
        .collect()
}

impl App {
    /// The partner's live earnings per month over the last `months` months (this one
    /// included, at most [`MAX_CHART_MONTHS`]), oldest first: from the month totals.
    pub async fn earnings_by_month(&self, partner: &PartnerRecord, months: u32) -> Result<Vec<MonthFigure>, AppError> {
        let bounds = last_months(self.now(), months.clamp(1, MAX_CHART_MONTHS));
        let mut tx = self.store.read().await?;
        let current = UsdRates::at(self.now()).load_all(&mut tx).await?;
        let keys: Vec<UtcMonth> = bounds.iter().map(|(_, start, _)| UtcMonth::containing(*start)).collect();
        let totals = tx.earnings_per_month_from_totals(partner.id, &keys, &current).await?;
        Ok(bounds
            .into_iter()
            .zip(totals)
            .map(|((month, _, _), t)| MonthFigure { month, count: t.count, usd_minor: t.usd_minor, usd_partial: t.usd_missing > 0 })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_months_end_with_this_one_and_cross_years() {
        let now = Utc.with_ymd_and_hms(2026, 2, 14, 9, 30, 0).unwrap();
        let m = last_months(now, 3);
        let names: Vec<&str> = m.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, ["2025-12", "2026-01", "2026-02"]);
        assert_eq!(m[0].1, Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(m[0].2, m[1].1, "months are contiguous");
        assert_eq!(m[2].2, Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
    }
}
