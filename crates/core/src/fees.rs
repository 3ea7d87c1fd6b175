//! The fee split of one payment (SPEC §6): success fee → platform fee → referral fee,
//! each rounded half-to-even at its own step.

use serde::{Deserialize, Serialize};

use crate::money::{apply_bps, Bps};

/// Fee terms of a collection partner, frozen on a case when it is assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeTerms {
    pub success_fee_bps: Bps,
    pub platform_share_bps: Bps,
}

/// The amounts one payment produces, in the case currency's minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeSplit {
    pub success_fee: i64,
    pub platform_fee: i64,
}

/// Errors of the split: only overflow, which a validated amount cannot reach.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fee computation overflowed")]
pub struct FeeOverflow;

/// Splits a payment into the success fee and the platform's fee.
pub fn split_payment(payment_minor: i64, terms: FeeTerms) -> Result<FeeSplit, FeeOverflow> {
    let success_fee = apply_bps(payment_minor, terms.success_fee_bps).ok_or(FeeOverflow)?;
    let platform_fee = apply_bps(success_fee, terms.platform_share_bps).ok_or(FeeOverflow)?;
    Ok(FeeSplit { success_fee, platform_fee })
}

/// The referral fee: the platform fee times the link's snapshotted percentage.
pub fn referral_fee(platform_fee_minor: i64, referral_fee_bps: Bps) -> Result<i64, FeeOverflow> {
    apply_bps(platform_fee_minor, referral_fee_bps).ok_or(FeeOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::money::{parse_amount, Currency};
    use proptest::prelude::*;

    #[test]
    fn spec_worked_example_gbp_1000_gives_30() {
        let gbp = Currency::parse("GBP").unwrap();
        let payment = parse_amount("1000.00", gbp).unwrap();
        let terms = FeeTerms { success_fee_bps: Bps(1500), platform_share_bps: Bps(4000) };
        let split = split_payment(payment, terms).unwrap();
        assert_eq!(split.success_fee, 15_000);
        assert_eq!(split.platform_fee, 6_000);
        assert_eq!(referral_fee(split.platform_fee, Bps(5000)).unwrap(), 3_000);
    }

    #[test]
    fn zero_platform_share_never_produces_referral_fees() {
        let terms = FeeTerms { success_fee_bps: Bps(2500), platform_share_bps: Bps(0) };
        let split = split_payment(123_456, terms).unwrap();
        assert_eq!(split.platform_fee, 0);
        assert_eq!(referral_fee(split.platform_fee, Bps(10_000)).unwrap(), 0);
    }

    proptest! {
        #[test]
        fn fees_are_never_negative_and_never_exceed_their_base(
            payment in 1i64..1_000_000_000_000,
            success in 0u32..=10_000,
            share in 0u32..=10_000,
            referral in 0u32..=10_000,
        ) {
            let split = split_payment(payment, FeeTerms { success_fee_bps: Bps(success), platform_share_bps: Bps(share) }).unwrap();
            let fee = referral_fee(split.platform_fee, Bps(referral)).unwrap();
            prop_assert!(split.success_fee >= 0 && split.success_fee <= payment);
            prop_assert!(split.platform_fee >= 0 && split.platform_fee <= split.success_fee);
            prop_assert!(fee >= 0 && fee <= split.platform_fee);
        }
    }
}
