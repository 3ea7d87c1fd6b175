//! What a reporting row shows beside its earning, read for a page of earnings in one
//! statement (issue 9): the parts of the earning's payout, payment, case, client and
//! decision that a row shows, and the external tenant id of the decision's link — not
//! their whole records, one `IN (…)` read per table (six to eight statements for a page,
//! each row converted whole by the driver).
//!
//! The decision a row shows is chosen in SQL as the app chose it from the records: the
//! earning's own, else the one of the earning it corrects (when that earning is the
//! partner's), else the latest of the partner's decisions on the payout (by decision time,
//! then id) — the month statement's `DECISION_OF_EARNING`; and only a decision of the
//! partner is ever joined. The partner filters are written `COALESCE(partner_id, '') = $1`
//! so that SQLite probes the payout's and the primary key's indexes rather than walking the
//! partner's (docs/PERFORMANCE.md, "Tried and reverted: a page of reporting rows in one
//! statement").

use std::sync::LazyLock;

use refshare_core::attribution::Reason;
use refshare_core::money::{Bps, Currency};
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus};
use refshare_core::Instant;
use uuid::Uuid;

use crate::in_list::sorted_unique;
use crate::invoices::cp_status;
use crate::statements::DECISION_OF_EARNING;
use crate::{at, currency, get, opt_uuid, uuid, Result, StoreError, Tx};

/// The payout's part of a row: the platform's revenue, its statuses and the locked rate.
#[derive(Debug, Clone, PartialEq)]
pub struct PayoutPart {
    pub platform_fee_minor: i64,
    pub currency: Currency,
    pub commission_status: CommissionStatus,
    /// The status of the platform's invoice that bills the payout (`NotInvoiced` without one).
    pub cp_invoice: CpInvoiceStatus,
    /// USD per unit (1e-8), locked when the commission was paid.
    pub fx_usd_per_unit_e8: Option<i64>,
}

/// The payment's part of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct PaymentPart {
    pub amount_minor: i64,
    pub currency: Currency,
    pub paid_at: Instant,
}

/// The case's part of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct CasePart {
    pub id: Uuid,
    pub reference: String,
    pub debtor_name: String,
    pub amount_minor: i64,
    pub currency: Currency,
}

/// The client's part of a row.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientPart {
    pub id: Uuid,
    pub company_name: String,
}

/// The part of the decision a row shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionPart {
    pub id: Uuid,
    pub reason: Reason,
    pub referral_fee_bps: Option<Bps>,
}

/// Everything a reporting row shows beside its earning.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportParts {
    pub earning_id: Uuid,
    pub payout: PayoutPart,
    pub payment: PaymentPart,
    pub case: CasePart,
    pub client: ClientPart,
    /// The partner's decision behind the earning, if any (see the module header).
    pub decision: Option<DecisionPart>,
    /// The external tenant id of the decision's link; empty without one.
    pub external_tenant_id: String,
}

/// The statement: `$1` the partner, the earnings' ids as `IN ({in})` (`Tx::rows_in_one`).
static PARTS_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT e.id AS earning_id, \
            p.platform_fee_minor, p.currency AS payout_currency, p.commission_status, p.fx_usd_per_unit_e8, \
            p.cp_invoice_id, ci.status AS cp_status, \
            pm.amount_minor AS payment_amount_minor, pm.currency AS payment_currency, pm.paid_at, \
            c.id AS case_id, c.reference, c.debtor_name, c.amount_minor AS case_amount_minor, c.currency AS case_currency, \
            cl.id AS client_id, cl.company_name, \
            d.id AS decision_id, d.reason, d.referral_fee_bps, \
            l.external_tenant_id \
     FROM (SELECT e.id, e.payout_id, e.case_id, {DECISION_OF_EARNING} AS shown_decision_id \
           FROM earnings e WHERE e.id IN ({{in}})) e \
     JOIN payouts p ON p.id = e.payout_id \
     JOIN payments pm ON pm.id = p.payment_id \
     JOIN cases c ON c.id = e.case_id \
     JOIN clients cl ON cl.id = c.client_id \
     LEFT JOIN cp_invoices ci ON ci.id = p.cp_invoice_id \
     LEFT JOIN attribution_decisions d ON d.id = e.shown_decision_id AND COALESCE(d.partner_id, '') = $1 \
     LEFT JOIN links l ON l.id = d.link_id"
    )
});

impl Tx {
    /// The parts of these earnings' rows as `partner_id` sees them, one entry per earning
    /// whose payout, payment, case and client exist, in no particular order; one statement
    /// whatever the number of earnings.
    pub async fn report_parts(&mut self, partner_id: Uuid, earning_ids: impl IntoIterator<Item = Uuid>) -> Result<Vec<ReportParts>> {
        let partner = partner_id.to_string();
        let rows = self.rows_in_one(&PARTS_SQL, Some(&partner), &sorted_unique(earning_ids)).await?;
        rows.iter()
            .map(|r| {
                let cp_invoice = match (opt_uuid(get(r, "cp_invoice_id")?)?, get::<Option<String>>(r, "cp_status")?) {
                    (None, _) => CpInvoiceStatus::NotInvoiced,
                    (Some(_), Some(s)) => cp_status(&s)?,
                    (Some(id), None) => return Err(StoreError::Corrupt(format!("payout's CP invoice {id} does not exist"))),
                };
                let decision = match opt_uuid(get(r, "decision_id")?)? {
                    None => None,
                    Some(id) => {
                        let reason: String = get(r, "reason")?;
                        Some(DecisionPart {
                            id,
                            reason: Reason::parse(&reason).ok_or_else(|| StoreError::Corrupt(format!("reason `{reason}`")))?,
                            referral_fee_bps: get::<Option<i64>>(r, "referral_fee_bps")?.map(|b| Bps(b as u32)),
                        })
                    }
                };
                Ok(ReportParts {
                    earning_id: uuid(&get::<String>(r, "earning_id")?)?,
                    payout: PayoutPart {
                        platform_fee_minor: get(r, "platform_fee_minor")?,
                        currency: currency(&get::<String>(r, "payout_currency")?)?,
                        commission_status: CommissionStatus::parse(&get::<String>(r, "commission_status")?)
                            .ok_or_else(|| StoreError::Corrupt("commission status".into()))?,
                        cp_invoice,
                        fx_usd_per_unit_e8: get(r, "fx_usd_per_unit_e8")?,
                    },
                    payment: PaymentPart {
                        amount_minor: get(r, "payment_amount_minor")?,
                        currency: currency(&get::<String>(r, "payment_currency")?)?,
                        paid_at: at(get(r, "paid_at")?),
                    },
                    case: CasePart {
                        id: uuid(&get::<String>(r, "case_id")?)?,
                        reference: get(r, "reference")?,
                        debtor_name: get(r, "debtor_name")?,
                        amount_minor: get(r, "case_amount_minor")?,
                        currency: currency(&get::<String>(r, "case_currency")?)?,
                    },
                    client: ClientPart { id: uuid(&get::<String>(r, "client_id")?)?, company_name: get(r, "company_name")? },
                    decision,
                    external_tenant_id: get::<Option<String>>(r, "external_tenant_id")?.unwrap_or_default(),
                })
            })
            .collect()
    }
}
