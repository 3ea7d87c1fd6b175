//! Reporting for partners: one row per live earning (payout earnings, dispute corrections
//! and adjustments, clawbacks) with its three statuses, its stage and USD figures, the
//! filters of the reference API, and the seven-bucket summary computed over the filtered
//! rows so its totals always equal the sum of the rows. USD is an estimate at the latest
//! rate until the commission is paid, then the rate locked that day.

use refshare_core::ledger::{stage_of, EarningKind};
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, ReferralInvoiceStatus, RevenueStage};
use refshare_core::Instant;
use refshare_store::{CaseRecord, ClientRecord, DecisionRecord, EarningRecord, PartnerRecord, PaymentRecord, PayoutRecord};
use uuid::Uuid;

use crate::fx::{to_usd_minor, usd_at};
use crate::ledger::statuses_of;
use crate::{App, AppError};

/// One earning with everything the transactions endpoint and statements show.
#[derive(Debug, Clone)]
pub struct TransactionRow {
    pub earning: EarningRecord,
    pub payout: PayoutRecord,
    pub payment: PaymentRecord,
    /// The decision behind the earning (for adjustments and clawbacks: the one behind the
    /// earning they correct, or the payout's latest).
    pub decision: Option<DecisionRecord>,
    pub case: CaseRecord,
    pub client: ClientRecord,
    pub external_tenant_id: String,
    pub commission: CommissionStatus,
    pub cp_invoice: CpInvoiceStatus,
    pub referral: ReferralInvoiceStatus,
    pub stage: RevenueStage,
    /// The platform's revenue on the payout, shown on the payout earning only so that it
    /// is counted once.
    pub platform_fee_usd_minor: i64,
    pub referral_fee_usd_minor: i64,
    pub is_estimate: bool,
}

impl TransactionRow {
    /// Revenue is recognized once the collection partner paid the platform's invoice.
    pub fn is_recognized(&self) -> bool {
        self.cp_invoice == CpInvoiceStatus::PaymentReceived
    }
}

/// Filters of `GET /reporting/transactions`; lists are "any of", filters are ANDed.
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    pub from: Option<Instant>,
    pub to: Option<Instant>,
    pub external_tenant_id: Option<String>,
    pub stages: Vec<RevenueStage>,
    pub commission_statuses: Vec<CommissionStatus>,
    pub platform_statuses: Vec<CpInvoiceStatus>,
    pub referral_statuses: Vec<ReferralInvoiceStatus>,
    /// Debtor countries, alpha-2.
    pub countries: Vec<String>,
    pub collection_partner_ids: Vec<Uuid>,
    pub search: Option<String>,
    pub has_recognized_revenue: Option<bool>,
    /// Sort by amount (else collection date), ascending?
    pub sort_by_amount: bool,
    pub ascending: bool,
}

impl TransactionFilter {
    fn matches(&self, r: &TransactionRow) -> bool {
        let any = |list: &[_], v| list.is_empty() || list.contains(&v);
        self.from.is_none_or(|f| r.payment.paid_at >= f)
            && self.to.is_none_or(|t| r.payment.paid_at <= t)
            && self.external_tenant_id.as_deref().is_none_or(|t| t == r.external_tenant_id)
            && any(&self.stages, r.stage)
            && (self.commission_statuses.is_empty() || self.commission_statuses.contains(&r.commission))
            && (self.platform_statuses.is_empty() || self.platform_statuses.contains(&r.cp_invoice))
            && (self.referral_statuses.is_empty() || self.referral_statuses.contains(&r.referral))
            && (self.countries.is_empty() || self.countries.iter().any(|c| c == &r.case.debtor_country))
            && (self.collection_partner_ids.is_empty() || r.payout.collection_partner_id.is_some_and(|c| self.collection_partner_ids.contains(&c)))
            && self.has_recognized_revenue.is_none_or(|h| h == r.is_recognized())
            && self.search.as_deref().filter(|s| s.chars().count() >= 2).is_none_or(|s| {
                let s = s.to_lowercase();
                r.case.reference.to_lowercase().contains(&s) || r.client.company_name.to_lowercase().contains(&s)
            })
    }
}

/// A bucket of the summary: US cents and count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    pub usd_minor: i64,
    pub count: i64,
}

/// Rows (filtered and sorted, all pages) and the summary over exactly those rows.
#[derive(Debug, Clone)]
pub struct TransactionReport {
    pub rows: Vec<TransactionRow>,
    pub summary: Vec<(RevenueStage, Bucket)>,
    pub platform_total_usd_minor: i64,
}

impl App {
    /// Every live earning of the partner as a reporting row (unfiltered, newest first).
    pub async fn partner_rows(&self, partner: &PartnerRecord) -> Result<Vec<TransactionRow>, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut rows = Vec::new();
        let missing = |what: &str| AppError::Internal(format!("earning without {what}"));
        for earning in tx.earnings_of_partner(partner.id).await? {
            if !earning.is_live() {
                continue;
            }
            let payout = tx.payout(earning.payout_id).await?.ok_or_else(|| missing("payout"))?;
            let payment = tx.payment(payout.payment_id).await?.ok_or_else(|| missing("payment"))?;
            let decision = match earning.decision_id {
                Some(_) => tx.decisions_of_case(earning.case_id).await?.into_iter().find(|d| Some(d.id) == earning.decision_id),
                None => tx.decision_of_payout(payout.id).await?,
            };
            let case = tx.case(earning.case_id).await?.ok_or_else(|| missing("case"))?;
            let client = tx.client(case.client_id).await?.ok_or_else(|| missing("client"))?;
            let tenant = match decision.as_ref().and_then(|d| d.link_id) {
                Some(l) => tx.link(l).await?.map(|l| l.external_tenant_id).unwrap_or_default(),
                None => String::new(),
            };
            let statuses = statuses_of(&mut tx, &earning).await?;
            let (referral_usd, platform_usd, is_estimate) = match payout.fx_usd_per_unit_e8 {
                Some(rate) => (usd_at(earning.amount_minor, earning.currency, rate)?, usd_at(payout.platform_fee_minor, payout.currency, rate)?, false),
                None => (
                    to_usd_minor(&mut tx, earning.amount_minor, earning.currency, now).await?,
                    to_usd_minor(&mut tx, payout.platform_fee_minor, payout.currency, now).await?,
                    true,
                ),
            };
            rows.push(TransactionRow {
                stage: stage_of(earning.kind, statuses),
                commission: statuses.commission,
                cp_invoice: statuses.cp_invoice,
                referral: statuses.referral,
                platform_fee_usd_minor: if earning.kind == EarningKind::Payout { platform_usd } else { 0 },
                referral_fee_usd_minor: referral_usd,
                is_estimate,
                earning,
                payout,
                payment,
                decision,
                case,
                client,
                external_tenant_id: tenant,
            });
        }
        Ok(rows)
    }

    /// The transactions report: filtered, sorted rows and their summary.
    pub async fn partner_transactions(&self, partner: &PartnerRecord, filter: &TransactionFilter) -> Result<TransactionReport, AppError> {
        let mut rows = self.partner_rows(partner).await?;
        rows.retain(|r| filter.matches(r));
        rows.sort_by_key(|r| {
            (if filter.sort_by_amount { r.referral_fee_usd_minor } else { r.payment.paid_at.timestamp_millis() }, r.earning.created_at, r.earning.id)
        });
        if !filter.ascending {
            rows.reverse();
        }
        let mut summary: Vec<(RevenueStage, Bucket)> = RevenueStage::ALL.iter().map(|s| (*s, Bucket::default())).collect();
        let mut platform_total = 0;
        for r in &rows {
            let b = &mut summary.iter_mut().find(|(s, _)| *s == r.stage).expect("all stages").1;
            b.usd_minor += r.referral_fee_usd_minor;
            b.count += 1;
            platform_total += r.platform_fee_usd_minor;
        }
        Ok(TransactionReport { rows, summary, platform_total_usd_minor: platform_total })
    }
}
