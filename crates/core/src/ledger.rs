//! The append-only ledger's rules (SPEC §6): which revenue stage an earning of each kind
//! sits in, and the signed entries that move an earning's holding from where the ledger
//! has it to where it belongs. A partner's balance in a stage is the sum of its entries
//! there, so an earning is never in two buckets once its moves are posted.

use serde::{Deserialize, Serialize};

use crate::stage::{CommissionStatus, CpInvoiceStatus, InvoicingTriggerMode, ReferralInvoiceStatus, RevenueStage};

/// What produced an earning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EarningKind {
    /// A payout's attribution decision.
    Payout,
    /// An upheld dispute: the missing earning, with its own corrected decision.
    Correction,
    /// An adjusted dispute: the difference to the corrected amount (may be negative).
    Adjustment,
    /// A reversed payment after the partner invoiced it: negative, settled through the
    /// partner's next invoice.
    Clawback,
}

impl EarningKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EarningKind::Payout => "payout",
            EarningKind::Correction => "correction",
            EarningKind::Adjustment => "adjustment",
            EarningKind::Clawback => "clawback",
        }
    }

    pub fn parse(s: &str) -> Option<EarningKind> {
        [EarningKind::Payout, EarningKind::Correction, EarningKind::Adjustment, EarningKind::Clawback].into_iter().find(|k| k.as_str() == s)
    }
}

/// The three statuses an earning's stage is derived from, with the partner's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarningStatuses {
    pub commission: CommissionStatus,
    pub cp_invoice: CpInvoiceStatus,
    pub referral: ReferralInvoiceStatus,
    pub mode: InvoicingTriggerMode,
}

/// The stage of a live earning. A clawback does not wait for the collection partner: it
/// is ready to be deducted from the partner's next invoice at once.
pub fn stage_of(kind: EarningKind, s: EarningStatuses) -> RevenueStage {
    match (kind, s.referral) {
        (EarningKind::Clawback, ReferralInvoiceStatus::Pending) => RevenueStage::ReadyToInvoiceDebitura,
        _ => RevenueStage::derive(s.commission, s.cp_invoice, s.referral, s.mode),
    }
}

/// The entries (stage, signed amount) that turn `held` — what the ledger currently holds
/// for one earning, per stage — into `target`: the earning's amount in its stage, or
/// nothing for a voided earning. Empty when the ledger already agrees.
pub fn moves(held: &[(RevenueStage, i64)], target: Option<(RevenueStage, i64)>) -> Vec<(RevenueStage, i64)> {
    let mut out = Vec::new();
    for stage in RevenueStage::ALL {
        let have: i64 = held.iter().filter(|(s, _)| *s == stage).map(|(_, a)| a).sum();
        let want = match target {
            Some((s, a)) if s == stage => a,
            _ => 0,
        };
        if have != want {
            out.push((stage, want - have));
        }
    }
    // Take out before putting in, so the log reads as a movement.
    out.sort_by_key(|(s, a)| (*a > 0, s.code()));
    out
}

/// Whether a live earning in `stage` may go on a partner invoice: only what is ready
/// (the ConfirmedPipeline fold is already part of the stage).
pub fn invoiceable(stage: RevenueStage) -> bool {
    stage == RevenueStage::ReadyToInvoiceDebitura
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use RevenueStage::*;

    #[test]
    fn a_new_earning_is_booked_into_its_stage() {
        assert_eq!(moves(&[], Some((Pending, 3000))), vec![(Pending, 3000)]);
    }

    #[test]
    fn a_stage_change_takes_out_and_puts_in() {
        assert_eq!(moves(&[(Pending, 3000)], Some((ConfirmedPendingInvoice, 3000))), vec![(Pending, -3000), (ConfirmedPendingInvoice, 3000)]);
    }

    #[test]
    fn a_void_empties_the_holding_and_an_agreeing_ledger_needs_nothing() {
        assert_eq!(moves(&[(Pending, 3000)], None), vec![(Pending, -3000)]);
        assert!(moves(&[(Paid, 10), (Pending, 5), (Pending, -5)], Some((Paid, 10))).is_empty());
    }

    #[test]
    fn clawbacks_are_ready_at_once_and_follow_the_invoice() {
        let s = |referral| EarningStatuses {
            commission: CommissionStatus::Credited,
            cp_invoice: CpInvoiceStatus::NotInvoiced,
            referral,
            mode: InvoicingTriggerMode::PayWhenPaid,
        };
        assert_eq!(stage_of(EarningKind::Clawback, s(ReferralInvoiceStatus::Pending)), ReadyToInvoiceDebitura);
        assert_eq!(stage_of(EarningKind::Clawback, s(ReferralInvoiceStatus::Invoiced)), AwaitingDebituraPayment);
        assert_eq!(stage_of(EarningKind::Payout, s(ReferralInvoiceStatus::Pending)), Pending);
    }

    fn stage() -> impl Strategy<Value = RevenueStage> {
        prop::sample::select(RevenueStage::ALL.to_vec())
    }

    proptest! {
        /// Whatever the ledger held, after the moves it holds exactly the target in one
        /// stage (never two buckets), and the moves sum to the change of the total.
        #[test]
        fn moves_reach_the_target(held in prop::collection::vec((stage(), -10_000i64..10_000), 0..8),
                                  target in prop::option::of((stage(), -10_000i64..10_000))) {
            let m = moves(&held, target);
            let mut after = held.clone();
            after.extend(m.iter().copied());
            for s in RevenueStage::ALL {
                let sum: i64 = after.iter().filter(|(x, _)| *x == s).map(|(_, a)| a).sum();
                let want = match target { Some((t, a)) if t == s => a, _ => 0 };
                prop_assert_eq!(sum, want);
            }
            let delta: i64 = m.iter().map(|(_, a)| a).sum();
            let before: i64 = held.iter().map(|(_, a)| a).sum();
            prop_assert_eq!(before + delta, target.map_or(0, |(_, a)| a));
        }
    }
}
