//! Reporting for partners: one row per live earning (payout earnings, dispute corrections
//! and adjustments, clawbacks) with its three statuses, its stage and USD figures, the
//! filters of the reference API, and the seven-bucket summary computed over the filtered
//! rows so its totals always equal the sum of the rows. USD is an estimate at the latest
//! rate until the commission is paid, then the rate locked that day.

use std::collections::HashMap;

use refshare_core::ledger::{stage_of, EarningKind, EarningStatuses};
use refshare_core::money::{checked_add, Currency};
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, ReferralInvoiceStatus, RevenueStage};
use refshare_core::Instant;
use refshare_store::{CaseRecord, ClientRecord, DecisionRecord, EarningRecord, PartnerRecord, PaymentRecord, PayoutRecord};
use uuid::Uuid;

use crate::fx::{overflow, usd_at, usd_rate};
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
            && (self.collection_partner_ids.is_empty()
                || r.payout.collection_partner_id.is_some_and(|c| self.collection_partner_ids.contains(&c)))
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
    /// A fixed number of queries whatever the number of earnings: each table is read once
    /// for the partner and the rows are assembled in memory.
    pub async fn partner_rows(&self, partner: &PartnerRecord) -> Result<Vec<TransactionRow>, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let earnings = tx.earnings_of_partner(partner.id).await?;
        let payouts: HashMap<Uuid, PayoutRecord> =
            tx.payouts_of_partner_earnings(partner.id).await?.into_iter().map(|p| (p.id, p)).collect();
        let payments: HashMap<Uuid, PaymentRecord> =
            tx.payments_of_partner_earnings(partner.id).await?.into_iter().map(|p| (p.id, p)).collect();
        let mut by_id: HashMap<Uuid, DecisionRecord> = HashMap::new();
        let mut latest_of_payout: HashMap<Uuid, Uuid> = HashMap::new();
        for d in tx.decisions_of_partner_earnings(partner.id).await? {
            // Only this partner's decisions: another partner's must never show here.
            if d.partner_id == Some(partner.id) {
                latest_of_payout.insert(d.payout_id, d.id); // oldest first: the last one wins
                by_id.insert(d.id, d);
            }
        }
        let decision_of_earning: HashMap<Uuid, Uuid> = earnings.iter().filter_map(|e| e.decision_id.map(|d| (e.id, d))).collect();
        let cases: HashMap<Uuid, CaseRecord> = tx.cases_of_partner_earnings(partner.id).await?.into_iter().map(|c| (c.id, c)).collect();
        let clients: HashMap<Uuid, ClientRecord> =
            tx.clients_of_partner_earnings(partner.id).await?.into_iter().map(|c| (c.id, c)).collect();
        let cp_invoices: HashMap<Uuid, CpInvoiceStatus> = tx.cp_invoice_statuses_of_partner(partner.id).await?.into_iter().collect();
        let tenants: HashMap<Uuid, String> =
            tx.links_of_partner(partner.id).await?.into_iter().map(|l| (l.id, l.external_tenant_id)).collect();
        let mut rates: HashMap<Currency, i64> = HashMap::new();
        let missing = |what: &str| AppError::Internal(format!("earning without {what}"));
        let mut rows = Vec::with_capacity(earnings.len());
        for earning in earnings.into_iter().filter(|e| e.is_live()) {
            let payout = payouts.get(&earning.payout_id).cloned().ok_or_else(|| missing("payout"))?;
            let payment = payments.get(&payout.payment_id).cloned().ok_or_else(|| missing("payment"))?;
            // An adjustment or clawback shows the decision of the earning it corrects.
            let decision = earning
                .decision_id
                .or_else(|| earning.corrects_id.and_then(|c| decision_of_earning.get(&c).copied()))
                .or_else(|| latest_of_payout.get(&payout.id).copied())
                .and_then(|id| by_id.get(&id))
                .cloned();
            let case = cases.get(&earning.case_id).cloned().ok_or_else(|| missing("case"))?;
            let client = clients.get(&case.client_id).cloned().ok_or_else(|| missing("client"))?;
            let tenant = decision.as_ref().and_then(|d| d.link_id).and_then(|l| tenants.get(&l).cloned()).unwrap_or_default();
            let cp_invoice = match payout.cp_invoice_id {
                Some(id) => *cp_invoices.get(&id).ok_or_else(|| missing("CP invoice"))?,
                None => CpInvoiceStatus::NotInvoiced,
            };
            let statuses = EarningStatuses {
                commission: payout.commission_status,
                cp_invoice,
                referral: earning.referral_invoice_status,
                mode: partner.invoicing_trigger_mode,
            };
            let (rate, is_estimate) = match payout.fx_usd_per_unit_e8 {
                Some(rate) => (rate, false),
                None => match rates.get(&payout.currency) {
                    Some(r) => (*r, true),
                    None => {
                        let (_, r) = usd_rate(&mut tx, payout.currency, now).await?;
                        rates.insert(payout.currency, r);
                        (r, true)
                    }
                },
            };
            rows.push(TransactionRow {
                stage: stage_of(earning.kind, statuses),
                commission: statuses.commission,
                cp_invoice: statuses.cp_invoice,
                referral: statuses.referral,
                platform_fee_usd_minor: if earning.kind == EarningKind::Payout {
                    usd_at(payout.platform_fee_minor, payout.currency, rate)?
                } else {
                    0
                },
                referral_fee_usd_minor: usd_at(earning.amount_minor, earning.currency, rate)?,
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
            (
                if filter.sort_by_amount { r.referral_fee_usd_minor } else { r.payment.paid_at.timestamp_millis() },
                r.earning.created_at,
                r.earning.id,
            )
        });
        if !filter.ascending {
            rows.reverse();
        }
        let mut summary: Vec<(RevenueStage, Bucket)> = RevenueStage::ALL.iter().map(|s| (*s, Bucket::default())).collect();
        let mut platform_total = 0;
        for r in &rows {
            let b = &mut summary.iter_mut().find(|(s, _)| *s == r.stage).expect("all stages").1;
            b.usd_minor = checked_add(b.usd_minor, r.referral_fee_usd_minor).map_err(overflow)?;
            b.count += 1;
            platform_total = checked_add(platform_total, r.platform_fee_usd_minor).map_err(overflow)?;
        }
        Ok(TransactionReport { rows, summary, platform_total_usd_minor: platform_total })
    }
}
