//! Calendar arithmetic for payment terms: business days skip Saturdays and Sundays (no
//! public-holiday calendar is kept).

use chrono::{Datelike, Duration, Weekday};

use crate::Instant;

/// `t` plus `days` business days, at the same time of day. Starting on a weekend counts
/// from the following Monday's first business day.
pub fn add_business_days(t: Instant, days: u32) -> Instant {
    let mut d = t;
    let mut left = days;
    while left > 0 {
        d += Duration::days(1);
        if !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().into()
    }

    #[test]
    fn ten_business_days_are_two_calendar_weeks() {
        // Tuesday 2026-11-24 + 10 business days = Tuesday 2026-12-08.
        assert_eq!(add_business_days(at("2026-11-24T09:30:00Z"), 10), at("2026-12-08T09:30:00Z"));
        // Friday + 1 = Monday; Saturday + 1 = Monday; 0 days = the same instant.
        assert_eq!(add_business_days(at("2026-11-27T12:00:00Z"), 1), at("2026-11-30T12:00:00Z"));
        assert_eq!(add_business_days(at("2026-11-28T12:00:00Z"), 1), at("2026-11-30T12:00:00Z"));
        assert_eq!(add_business_days(at("2026-11-28T12:00:00Z"), 0), at("2026-11-28T12:00:00Z"));
    }
}
