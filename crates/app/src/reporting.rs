//! Reporting for partners: one row per attributed payout (earning) with USD figures and
//! the seven-bucket summary whose totals are the sums of the rows. Until the revenue
//! lifecycle lands every earning is `Pending` and every USD figure an estimate.

use refshare_core::stage::RevenueStage;
use refshare_core::Instant;
use refshare_store::{CaseRecord, ClientRecord, DecisionRecord, EarningRecord, PartnerRecord, PaymentRecord, PayoutRecord};

use crate::fx::to_usd_minor;
use crate::{App, AppError};

/// One earning with everything the transactions endpoint shows.
#[derive(Debug, Clone)]
pub struct TransactionRow {
    pub earning: EarningRecord,
    pub payout: PayoutRecord,
    pub payment: PaymentRecord,
    pub decision: DecisionRecord,
    pub case: CaseRecord,
    pub client: ClientRecord,
    pub external_tenant_id: String,
    pub stage: RevenueStage,
    pub platform_fee_usd_minor: i64,
    pub referral_fee_usd_minor: i64,
    pub is_estimate: bool,
}

/// Filters of `GET /reporting/transactions`.
#[derive(Debug, Clone, Default)]
pub struct TransactionFilter {
    pub from: Option<Instant>,
    pub to: Option<Instant>,
    pub external_tenant_id: Option<String>,
    pub stages: Vec<RevenueStage>,
    pub search: Option<String>,
    pub has_recognized_revenue: Option<bool>,
    /// (`collectionDate` | `amount`, ascending)
    pub sort: (String, bool),
}

/// A bucket of the summary: US cents and count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bucket {
    pub usd_minor: i64,
    pub count: i64,
}

impl App {
    /// Every earning of the partner matching `filter`, plus the summary over all of them.
    pub async fn partner_transactions(
        &self,
        partner: &PartnerRecord,
        filter: &TransactionFilter,
    ) -> Result<(Vec<TransactionRow>, Vec<(RevenueStage, Bucket)>, i64), AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let mut rows = Vec::new();
        for earning in tx.earnings_of_partner(partner.id).await? {
            let payout = tx.payout(earning.payout_id).await?.ok_or_else(|| AppError::Internal("earning without payout".into()))?;
            let payment = tx.payment(payout.payment_id).await?.ok_or_else(|| AppError::Internal("payout without payment".into()))?;
            let decision = tx.decision_of_payout(payout.id).await?.ok_or_else(|| AppError::Internal("payout without decision".into()))?;
            let case = tx.case(earning.case_id).await?.ok_or_else(|| AppError::Internal("earning without case".into()))?;
            let client = tx.client(case.client_id).await?.ok_or_else(|| AppError::Internal("case without client".into()))?;
            let tenant = match decision.link_id {
                Some(l) => tx.link(l).await?.map(|l| l.external_tenant_id).unwrap_or_default(),
                None => String::new(),
            };
            let referral_usd = to_usd_minor(&mut tx, earning.amount_minor, earning.currency, now).await?;
            let platform_usd = to_usd_minor(&mut tx, payout.platform_fee_minor, payout.currency, now).await?;
            rows.push(TransactionRow {
                earning,
                payout,
                payment,
                decision,
                case,
                client,
                external_tenant_id: tenant,
                stage: RevenueStage::Pending,
                platform_fee_usd_minor: platform_usd,
                referral_fee_usd_minor: referral_usd,
                is_estimate: true,
            });
        }
        let mut summary: Vec<(RevenueStage, Bucket)> = RevenueStage::ALL.iter().map(|s| (*s, Bucket::default())).collect();
        let mut platform_total = 0;
        for r in &rows {
            let b = &mut summary.iter_mut().find(|(s, _)| *s == r.stage).expect("all stages").1;
            b.usd_minor += r.referral_fee_usd_minor;
            b.count += 1;
            platform_total += r.platform_fee_usd_minor;
        }
        rows.retain(|r| {
            filter.from.is_none_or(|f| r.payout.created_at >= f)
                && filter.to.is_none_or(|t| r.payout.created_at <= t)
                && filter.external_tenant_id.as_deref().is_none_or(|t| t == r.external_tenant_id)
                && (filter.stages.is_empty() || filter.stages.contains(&r.stage))
                && filter
                    .has_recognized_revenue
                    .is_none_or(|h| h == (r.stage != RevenueStage::Pending && r.stage != RevenueStage::Disputed))
                && filter.search.as_deref().filter(|s| s.chars().count() >= 2).is_none_or(|s| {
                    let s = s.to_lowercase();
                    r.case.reference.to_lowercase().contains(&s) || r.client.company_name.to_lowercase().contains(&s)
                })
        });
        let (field, asc) = &filter.sort;
        rows.sort_by_key(|r| {
            (if field == "amount" { r.referral_fee_usd_minor } else { r.payout.created_at.timestamp_millis() }, r.earning.id)
        });
        if !asc {
            rows.reverse();
        }
        Ok((rows, summary, platform_total))
    }
}
