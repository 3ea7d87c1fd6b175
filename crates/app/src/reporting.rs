//! Reporting for partners: one row per live earning (payout earnings, dispute corrections
//! and adjustments, clawbacks) with its three statuses, its stage and USD figures, the
//! filters of the reference API, and the seven-bucket summary computed over the filtered
//! rows so its totals always equal the sum of the rows. USD is an estimate at the latest
//! rate until the commission is paid, then the rate locked that day. A missing rate never
//! blanks the report: the row's USD figures are `None`, the pair is listed, and the USD
//! totals cover the convertible rows and say they are partial.

use std::collections::{BTreeSet, HashMap};

use refshare_core::ledger::{stage_of, EarningKind, EarningStatuses};
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, ReferralInvoiceStatus, RevenueStage};
use refshare_core::Instant;
use refshare_store::{CaseRecord, ClientRecord, DecisionRecord, EarningRecord, PartnerRecord, PaymentRecord, PayoutRecord};
use uuid::Uuid;

use crate::fx::{MissingRate, UsdRates};
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
    /// The platform's revenue on the payout in US cents, shown on the payout earning only
    /// so that it is counted once; `None` when the rate it needs is missing.
    pub platform_fee_usd_minor: Option<i64>,
    /// The earning in US cents; `None` when the rate it needs is missing.
    pub referral_fee_usd_minor: Option<i64>,
    pub is_estimate: bool,
    /// The rate this row's USD figures needed and did not find.
    pub missing_rate: Option<MissingRate>,
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

/// A bucket of the summary: US cents of the convertible rows, and the count of all rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    pub usd_minor: i64,
    pub count: i64,
    /// Some row of the bucket has no USD figure (a rate is missing): `usd_minor` is partial.
    pub usd_partial: bool,
}

/// Rows (filtered and sorted, all pages) and the summary over exactly those rows.
#[derive(Debug, Clone)]
pub struct TransactionReport {
    pub rows: Vec<TransactionRow>,
    pub summary: Vec<(RevenueStage, Bucket)>,
    pub platform_total_usd_minor: i64,
    /// Some payout row has no platform revenue in USD.
    pub platform_total_usd_partial: bool,
    /// The rates the rows needed and did not find, in order.
    pub missing_fx_rates: Vec<MissingRate>,
}

impl TransactionReport {
    /// Whether any USD total of the report leaves rows out.
    pub fn usd_partial(&self) -> bool {
        !self.missing_fx_rates.is_empty()
    }
}

/// The distinct missing rates of some rows, in order.
pub fn missing_of<'a>(rows: impl IntoIterator<Item = &'a TransactionRow>) -> Vec<MissingRate> {
    rows.into_iter().filter_map(|r| r.missing_rate.clone()).collect::<BTreeSet<_>>().into_iter().collect()
}

impl App {
    /// Every live earning of the partner as a reporting row (unfiltered, newest first).
    /// A fixed number of queries whatever the number of earnings: each table is read once
    /// for the partner and the rows are assembled in memory.
    pub async fn partner_rows(&self, partner: &PartnerRecord) -> Result<Vec<TransactionRow>, AppError> {
        let now = self.now();
        let mut tx = self.store.read().await?;
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
        let mut rates = UsdRates::at(now);
        let missing = |what: &str| AppError::internal(format!("earning without {what}"));
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
            let locked = payout.fx_usd_per_unit_e8;
            // The platform's revenue is shown on the payout earning only (0 elsewhere).
            let platform_usd = match earning.kind {
                EarningKind::Payout => rates.convert(&mut tx, payout.platform_fee_minor, payout.currency, locked).await?.ok(),
                _ => Some(0),
            };
            let referral_usd = rates.convert(&mut tx, earning.amount_minor, earning.currency, locked).await?;
            rows.push(TransactionRow {
                stage: stage_of(earning.kind, statuses),
                commission: statuses.commission,
                cp_invoice: statuses.cp_invoice,
                referral: statuses.referral,
                platform_fee_usd_minor: platform_usd,
                referral_fee_usd_minor: referral_usd.as_ref().ok().copied(),
                missing_rate: referral_usd.err(),
                is_estimate: locked.is_none(),
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
        // By amount: rows without a USD figure sort as the smallest.
        rows.sort_by_key(|r| {
            (
                if filter.sort_by_amount { r.referral_fee_usd_minor.map_or(i64::MIN, |u| u) } else { r.payment.paid_at.timestamp_millis() },
                r.earning.created_at,
                r.earning.id,
            )
        });
        if !filter.ascending {
            rows.reverse();
        }
        let mut summary: Vec<(RevenueStage, Bucket)> = RevenueStage::ALL.iter().map(|s| (*s, Bucket::default())).collect();
        let (mut platform_total, mut platform_partial) = (0i64, false);
        let overflow = || AppError::internal("USD total overflow");
        for r in &rows {
            let b = &mut summary.iter_mut().find(|(s, _)| *s == r.stage).expect("all stages").1;
            match r.referral_fee_usd_minor {
                Some(usd) => b.usd_minor = b.usd_minor.checked_add(usd).ok_or_else(overflow)?,
                None => b.usd_partial = true,
            }
            b.count += 1;
            match r.platform_fee_usd_minor {
                Some(usd) => platform_total = platform_total.checked_add(usd).ok_or_else(overflow)?,
                None => platform_partial = true,
            }
        }
        let missing_fx_rates = missing_of(&rows);
        Ok(TransactionReport {
            rows,
            summary,
            platform_total_usd_minor: platform_total,
            platform_total_usd_partial: platform_partial,
            missing_fx_rates,
        })
    }
}
