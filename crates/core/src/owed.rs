//! What a case still owes (SPEC §2): its amount less the live payments, and whether a new
//! payment fits in it. A payment larger than the remainder is refused unless the operator
//! says it is an overpayment on purpose; then it is booked and flagged.

/// What is still owed: the case amount less the live (not reversed) payments, never below
/// zero. After an allowed overpayment nothing is owed; the excess is not a negative debt.
pub fn remainder_minor(amount_minor: i64, paid_minor: i64) -> i64 {
    amount_minor.saturating_sub(paid_minor).max(0)
}

/// How an accepted payment relates to the remainder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentFit {
    /// At most what is still owed.
    Within,
    /// More than what is still owed, booked because the operator allowed it.
    Overpayment { excess_minor: i64 },
}

impl PaymentFit {
    pub fn is_overpayment(&self) -> bool {
        matches!(self, PaymentFit::Overpayment { .. })
    }
}

/// A payment larger than what is still owed, without the operator's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a payment of {amount_minor} exceeds the remainder of {remainder_minor}")]
pub struct ExceedsRemainder {
    pub amount_minor: i64,
    pub remainder_minor: i64,
}

/// Decides whether a payment of `amount_minor` may be booked against `remainder_minor`.
pub fn fit_payment(amount_minor: i64, remainder_minor: i64, allow_overpayment: bool) -> Result<PaymentFit, ExceedsRemainder> {
    if amount_minor <= remainder_minor {
        return Ok(PaymentFit::Within);
    }
    if !allow_overpayment {
        return Err(ExceedsRemainder { amount_minor, remainder_minor });
    }
    Ok(PaymentFit::Overpayment { excess_minor: amount_minor - remainder_minor })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_outcome() {
        // (amount, remainder, allowOverpayment) → outcome
        let cases: [(i64, i64, bool, Result<PaymentFit, ExceedsRemainder>); 7] = [
            (50_000, 100_000, false, Ok(PaymentFit::Within)),
            (100_000, 100_000, false, Ok(PaymentFit::Within)),
            (50_000, 100_000, true, Ok(PaymentFit::Within)),
            (100_001, 100_000, false, Err(ExceedsRemainder { amount_minor: 100_001, remainder_minor: 100_000 })),
            (1_000_000_000, 100_000, true, Ok(PaymentFit::Overpayment { excess_minor: 999_900_000 })),
            (1, 0, false, Err(ExceedsRemainder { amount_minor: 1, remainder_minor: 0 })),
            (1, 0, true, Ok(PaymentFit::Overpayment { excess_minor: 1 })),
        ];
        for (amount, remainder, allow, want) in cases {
            assert_eq!(fit_payment(amount, remainder, allow), want, "{amount} against {remainder}, allow={allow}");
        }
    }

    #[test]
    fn remainder_goes_down_with_payments_and_stops_at_zero() {
        assert_eq!(remainder_minor(100_000, 0), 100_000);
        assert_eq!(remainder_minor(100_000, 40_000), 60_000);
        assert_eq!(remainder_minor(100_000, 100_000), 0);
        assert_eq!(remainder_minor(100_000, 250_000), 0, "an overpayment leaves nothing owed");
        assert_eq!(remainder_minor(i64::MAX, i64::MIN), i64::MAX, "saturates instead of overflowing");
    }

    proptest! {
        /// Payments booked without the overpayment flag never take more than the amount.
        #[test]
        fn unflagged_payments_never_exceed_the_amount(amount in 1i64..10_000_000_000_000, payments in proptest::collection::vec(1i64..10_000_000_000_000, 0..20)) {
            let mut paid = 0i64;
            for p in payments {
                if fit_payment(p, remainder_minor(amount, paid), false).is_ok() {
                    paid += p;
                }
                prop_assert!(paid <= amount);
                prop_assert_eq!(remainder_minor(amount, paid), amount - paid);
            }
        }
    }
}
