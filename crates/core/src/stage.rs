//! Revenue stages of an earning (SPEC §6), derived from three statuses, and the
//! transitions of those statuses that operator events may make.

use serde::{Deserialize, Serialize};

/// The collection partner's commission to the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CommissionStatus {
    Unpaid,
    Paid,
    Credited,
}

/// The platform's invoicing of the collection partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CpInvoiceStatus {
    NotInvoiced,
    InvoiceIssued,
    PaymentReceived,
    InvoiceCredited,
}

/// Invoicing between the referral partner and the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReferralInvoiceStatus {
    Pending,
    Invoiced,
    Paid,
    Disputed,
}

/// `as_str`/`parse`/`ALL` for a status enum whose wire names are its variant names.
macro_rules! wire_names {
    ($t:ident { $($v:ident),+ $(,)? }) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$($t::$v),+];
            pub fn as_str(&self) -> &'static str {
                match self { $($t::$v => stringify!($v)),+ }
            }
            pub fn parse(s: &str) -> Option<$t> {
                match s { $(stringify!($v) => Some($t::$v),)+ _ => None }
            }
            /// The reference API's integer code: the position in declaration order.
            pub fn code(&self) -> usize {
                Self::ALL.iter().position(|x| x == self).expect("listed")
            }
        }
    };
}

wire_names!(CommissionStatus { Unpaid, Paid, Credited });
wire_names!(CpInvoiceStatus { NotInvoiced, InvoiceIssued, PaymentReceived, InvoiceCredited });
wire_names!(ReferralInvoiceStatus { Pending, Invoiced, Paid, Disputed });

/// How a partner may invoice (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvoicingTriggerMode {
    PayWhenPaid,
    ConfirmedPipeline,
}

impl InvoicingTriggerMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            InvoicingTriggerMode::PayWhenPaid => "PayWhenPaid",
            InvoicingTriggerMode::ConfirmedPipeline => "ConfirmedPipeline",
        }
    }

    pub fn parse(s: &str) -> Option<InvoicingTriggerMode> {
        match s {
            "PayWhenPaid" => Some(InvoicingTriggerMode::PayWhenPaid),
            "ConfirmedPipeline" => Some(InvoicingTriggerMode::ConfirmedPipeline),
            _ => None,
        }
    }
}

/// The seven buckets of the reporting summary, in display order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RevenueStage {
    Pending,
    ConfirmedPendingInvoice,
    AwaitingCollectionPartnerPayment,
    ReadyToInvoiceDebitura,
    AwaitingDebituraPayment,
    Paid,
    Disputed,
}

impl RevenueStage {
    pub const ALL: [RevenueStage; 7] = [
        RevenueStage::Pending,
        RevenueStage::ConfirmedPendingInvoice,
        RevenueStage::AwaitingCollectionPartnerPayment,
        RevenueStage::ReadyToInvoiceDebitura,
        RevenueStage::AwaitingDebituraPayment,
        RevenueStage::Paid,
        RevenueStage::Disputed,
    ];

    pub fn parse(s: &str) -> Option<RevenueStage> {
        RevenueStage::ALL.iter().copied().find(|x| x.as_str() == s)
    }

    /// The reference API's integer code (`TransactionRevenueStage`): display order.
    pub fn code(&self) -> usize {
        RevenueStage::ALL.iter().position(|x| x == self).expect("listed")
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            RevenueStage::Pending => "Pending",
            RevenueStage::ConfirmedPendingInvoice => "ConfirmedPendingInvoice",
            RevenueStage::AwaitingCollectionPartnerPayment => "AwaitingCollectionPartnerPayment",
            RevenueStage::ReadyToInvoiceDebitura => "ReadyToInvoiceDebitura",
            RevenueStage::AwaitingDebituraPayment => "AwaitingDebituraPayment",
            RevenueStage::Paid => "Paid",
            RevenueStage::Disputed => "Disputed",
        }
    }

    /// The label partners see.
    pub fn label(&self) -> &'static str {
        match self {
            RevenueStage::Pending => "Unrecognized",
            RevenueStage::ConfirmedPendingInvoice => "Confirmed",
            RevenueStage::AwaitingCollectionPartnerPayment => "Awaiting CP payment",
            RevenueStage::ReadyToInvoiceDebitura => "Ready to invoice",
            RevenueStage::AwaitingDebituraPayment => "Awaiting payment",
            RevenueStage::Paid => "Paid",
            RevenueStage::Disputed => "Disputed",
        }
    }

    /// Derives the stage from the three statuses and the partner's trigger mode.
    pub fn derive(
        commission: CommissionStatus,
        cp_invoice: CpInvoiceStatus,
        referral: ReferralInvoiceStatus,
        mode: InvoicingTriggerMode,
    ) -> RevenueStage {
        match referral {
            ReferralInvoiceStatus::Disputed => return RevenueStage::Disputed,
            ReferralInvoiceStatus::Paid => return RevenueStage::Paid,
            ReferralInvoiceStatus::Invoiced => return RevenueStage::AwaitingDebituraPayment,
            ReferralInvoiceStatus::Pending => {}
        }
        let stage = match (commission, cp_invoice) {
            (CommissionStatus::Unpaid | CommissionStatus::Credited, _) => RevenueStage::Pending,
            (CommissionStatus::Paid, CpInvoiceStatus::NotInvoiced | CpInvoiceStatus::InvoiceCredited) => {
                RevenueStage::ConfirmedPendingInvoice
            }
            (CommissionStatus::Paid, CpInvoiceStatus::InvoiceIssued) => RevenueStage::AwaitingCollectionPartnerPayment,
            (CommissionStatus::Paid, CpInvoiceStatus::PaymentReceived) => RevenueStage::ReadyToInvoiceDebitura,
        };
        match (mode, stage) {
            (
                InvoicingTriggerMode::ConfirmedPipeline,
                RevenueStage::ConfirmedPendingInvoice | RevenueStage::AwaitingCollectionPartnerPayment,
            ) => RevenueStage::ReadyToInvoiceDebitura,
            _ => stage,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_the_statuses() {
        use CommissionStatus as C;
        use CpInvoiceStatus as I;
        use InvoicingTriggerMode as M;
        use ReferralInvoiceStatus as R;
        let d = RevenueStage::derive;
        assert_eq!(d(C::Unpaid, I::NotInvoiced, R::Pending, M::PayWhenPaid), RevenueStage::Pending);
        assert_eq!(d(C::Paid, I::NotInvoiced, R::Pending, M::PayWhenPaid), RevenueStage::ConfirmedPendingInvoice);
        assert_eq!(d(C::Paid, I::InvoiceIssued, R::Pending, M::PayWhenPaid), RevenueStage::AwaitingCollectionPartnerPayment);
        assert_eq!(d(C::Paid, I::PaymentReceived, R::Pending, M::PayWhenPaid), RevenueStage::ReadyToInvoiceDebitura);
        assert_eq!(d(C::Paid, I::PaymentReceived, R::Invoiced, M::PayWhenPaid), RevenueStage::AwaitingDebituraPayment);
        assert_eq!(d(C::Paid, I::PaymentReceived, R::Paid, M::PayWhenPaid), RevenueStage::Paid);
        assert_eq!(d(C::Paid, I::PaymentReceived, R::Disputed, M::PayWhenPaid), RevenueStage::Disputed);
        assert_eq!(d(C::Paid, I::NotInvoiced, R::Pending, M::ConfirmedPipeline), RevenueStage::ReadyToInvoiceDebitura);
        assert_eq!(d(C::Unpaid, I::NotInvoiced, R::Pending, M::ConfirmedPipeline), RevenueStage::Pending);
    }
}
