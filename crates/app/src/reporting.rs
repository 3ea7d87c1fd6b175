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
use refshare_store::{
    CasePart, ClientPart, DecisionPart, EarningRecord, PageReq, PartnerRecord, PaymentPart, PayoutPart, ReportCursor, ReportFilter,
    ReportOrder, ReportParts, ReportWindow, SummaryGroup, Tx,
};
use uuid::Uuid;

use crate::fx::{MissingRate, UsdRates};
use crate::{App, AppError};

/// One earning with everything the transactions endpoint and statements show.
#[derive(Debug, Clone)]
pub struct TransactionRow {
    pub earning: EarningRecord,
    pub payout: PayoutPart,
    pub payment: PaymentPart,
    /// The partner's decision behind the earning (for adjustments and clawbacks: the one
    /// behind the earning they correct, or the payout's latest).
    pub decision: Option<DecisionPart>,
    pub case: CasePart,
    pub client: ClientPart,
    /// The external tenant id of the decision's link; empty without one.
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
    /// The filter in SQL terms; a search of fewer than two characters is ignored.
    pub fn to_store(&self) -> ReportFilter {
        ReportFilter {
            paid_from: self.from,
            paid_to: self.to,
            external_tenant_id: self.external_tenant_id.clone(),
            stages: self.stages.clone(),
            commission_statuses: self.commission_statuses.clone(),
            cp_invoice_statuses: self.platform_statuses.clone(),
            referral_statuses: self.referral_statuses.clone(),
            countries: self.countries.clone(),
            collection_partner_ids: self.collection_partner_ids.clone(),
            search: self.search.clone().filter(|s| s.chars().count() >= 2),
            recognized: self.has_recognized_revenue,
        }
    }

    fn window(&self, limit: i64, offset: i64, after: Option<ReportCursor>) -> ReportWindow {
        ReportWindow {
            order: if self.sort_by_amount { ReportOrder::UsdAmount } else { ReportOrder::PaidAt },
            ascending: self.ascending,
            limit,
            offset,
            after,
        }
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

/// One page of the filtered, sorted rows, and the summary over all the filtered rows.
#[derive(Debug, Clone)]
pub struct TransactionReport {
    /// The requested page.
    pub rows: Vec<TransactionRow>,
    /// How many rows the filter selects (all pages).
    pub total: i64,
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

impl TransactionRow {
    /// The keyset cursor after this row (order by payment date).
    pub fn cursor(&self) -> ReportCursor {
        ReportCursor { paid_at: self.payment.paid_at, created_at: self.earning.created_at, id: self.earning.id }
    }
}

/// Which rows of the filtered report to return.
#[derive(Debug, Clone, Copy)]
pub enum ReportPage {
    /// The reference API's `Page`/`PageSize`.
    Offset(PageReq),
    /// Keyset paging for the order by payment date: the `limit` rows after `after`
    /// (from the start when `None`), stable while rows are inserted.
    After { after: Option<ReportCursor>, limit: u32 },
}

/// The reporting rows of some live earnings of `partner`, in the given order; the parts
/// each row shows beside its earning are one read (`Tx::report_parts`) whatever their
/// number.
pub(crate) async fn rows_of(
    tx: &mut Tx,
    partner: &PartnerRecord,
    earnings: Vec<EarningRecord>,
    rates: &mut UsdRates,
) -> Result<Vec<TransactionRow>, AppError> {
    let earnings: Vec<EarningRecord> = earnings.into_iter().filter(|e| e.is_live()).collect();
    let mut parts: HashMap<Uuid, ReportParts> =
        tx.report_parts(partner.id, earnings.iter().map(|e| e.id)).await?.into_iter().map(|p| (p.earning_id, p)).collect();
    let mut rows = Vec::with_capacity(earnings.len());
    for earning in earnings {
        let ReportParts { payout, payment, case, client, decision, external_tenant_id, .. } =
            parts.remove(&earning.id).ok_or_else(|| AppError::internal("earning without its payout, payment, case or client"))?;
        let statuses = EarningStatuses {
            commission: payout.commission_status,
            cp_invoice: payout.cp_invoice,
            referral: earning.referral_invoice_status,
            mode: partner.invoicing_trigger_mode,
        };
        let locked = payout.fx_usd_per_unit_e8;
        // The platform's revenue is shown on the payout earning only (0 elsewhere).
        let platform_usd = match earning.kind {
            EarningKind::Payout => rates.convert(tx, payout.platform_fee_minor, payout.currency, locked).await?.ok(),
            _ => Some(0),
        };
        let referral_usd = rates.convert(tx, earning.amount_minor, earning.currency, locked).await?;
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
            external_tenant_id,
        });
    }
    Ok(rows)
}

/// The summary of the filtered rows from the SQL aggregate.
pub(crate) fn summary_of(groups: &[SummaryGroup], rates: &UsdRates) -> Result<Summary, AppError> {
    let mut s = Summary {
        buckets: RevenueStage::ALL.iter().map(|s| (*s, Bucket::default())).collect(),
        total: 0,
        platform_total_usd_minor: 0,
        platform_total_usd_partial: false,
        missing_fx_rates: Vec::new(),
    };
    let overflow = || AppError::internal("USD total overflow");
    let mut missing = BTreeSet::new();
    for g in groups {
        let b = &mut s.buckets.iter_mut().find(|(st, _)| *st == g.stage).expect("all stages").1;
        b.count = b.count.checked_add(g.count).ok_or_else(overflow)?;
        b.usd_minor = b.usd_minor.checked_add(g.usd_minor).ok_or_else(overflow)?;
        b.usd_partial |= g.usd_missing > 0;
        s.total = s.total.checked_add(g.count).ok_or_else(overflow)?;
        s.platform_total_usd_minor = s.platform_total_usd_minor.checked_add(g.platform_usd_minor).ok_or_else(overflow)?;
        s.platform_total_usd_partial |= g.platform_usd_missing > 0;
        if g.usd_missing > 0 {
            missing.insert(rates.needed(g.currency));
        }
    }
    s.missing_fx_rates = missing.into_iter().collect();
    Ok(s)
}

/// The summary groups of some rows, as the SQL aggregate computes them over the same
/// earnings: per stage and currency the count, the amounts, the rows' USD figures and
/// the platform's revenue (the read model's stage, rate and fee are the ones the rows are
/// completed with; `reconcile` proves it).
pub(crate) fn groups_of_rows(rows: &[TransactionRow]) -> Result<Vec<SummaryGroup>, AppError> {
    let overflow = || AppError::internal("summary overflow");
    let mut groups: Vec<SummaryGroup> = Vec::new();
    for r in rows {
        let g = SummaryGroup::of(&mut groups, r.stage, r.earning.currency);
        g.count += 1;
        g.amount_minor = g.amount_minor.checked_add(r.earning.amount_minor).ok_or_else(overflow)?;
        match r.referral_fee_usd_minor {
            Some(u) => g.usd_minor = g.usd_minor.checked_add(u).ok_or_else(overflow)?,
            None => g.usd_missing += 1,
        }
        match r.platform_fee_usd_minor {
            Some(u) => g.platform_usd_minor = g.platform_usd_minor.checked_add(u).ok_or_else(overflow)?,
            None => g.platform_usd_missing += 1,
        }
    }
    Ok(groups)
}

/// The SQL summary in the report's terms.
pub(crate) struct Summary {
    pub buckets: Vec<(RevenueStage, Bucket)>,
    pub total: i64,
    pub platform_total_usd_minor: i64,
    pub platform_total_usd_partial: bool,
    pub missing_fx_rates: Vec<MissingRate>,
}

impl App {
    /// The transactions report: one page of the filtered, sorted rows, and the summary over
    /// every filtered row. Filters, order and paging run in SQL over the earnings read
    /// model; the page's rows are then completed with one read of their parts; the summary is
    /// one aggregate. Nothing reads the partner's whole history.
    pub async fn partner_transactions(
        &self,
        partner: &PartnerRecord,
        filter: &TransactionFilter,
        page: ReportPage,
    ) -> Result<TransactionReport, AppError> {
        let mut tx = self.store.read().await?;
        let mut rates = UsdRates::at(self.now());
        let current = rates.load_all(&mut tx).await?;
        let f = filter.to_store();
        let window = match page {
            ReportPage::Offset(p) => filter.window(p.size as i64, p.offset(), None),
            ReportPage::After { after, limit } => {
                if filter.sort_by_amount {
                    return Err(AppError::bad_field("Sort", "a cursor pages the order by collection date only"));
                }
                filter.window(limit as i64, 0, after)
            }
        };
        let earnings = tx.report_page(partner.id, &f, &current, window).await?;
        // A first page shorter than its limit holds every filtered row: the summary is
        // the sum of those rows (a search would otherwise run twice).
        let complete = window.offset == 0 && window.after.is_none() && (earnings.len() as i64) < window.limit;
        let rows = rows_of(&mut tx, partner, earnings, &mut rates).await?;
        let groups = if complete { groups_of_rows(&rows)? } else { tx.report_summary(partner.id, &f, &current).await? };
        let s = summary_of(&groups, &rates)?;
        Ok(TransactionReport {
            rows,
            total: s.total,
            summary: s.buckets,
            platform_total_usd_minor: s.platform_total_usd_minor,
            platform_total_usd_partial: s.platform_total_usd_partial,
            missing_fx_rates: s.missing_fx_rates,
        })
    }
}
