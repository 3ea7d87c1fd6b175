//! The partner's case views (SPEC §5 visibility): the Cases list with its summary, one
//! case with its potential revenue (USD figures `None` while a rate is missing), and the
//! filter options.

use chrono::{Datelike, TimeZone};
use refshare_core::case::Lifecycle;
use refshare_core::fees::{referral_fee, split_payment, FeeTerms};
use refshare_core::link::Link;
use refshare_store::{CaseFilter, CaseRecord, ClientRecord, ClientUserRecord, CollectionPartnerRecord, PageReq, PartnerRecord};
use uuid::Uuid;

use crate::fx::{MissingRate, UsdRates};
use crate::{App, AppError};

/// A case with what the partner's views show around it.
#[derive(Debug, Clone)]
pub struct PartnerCase {
    pub case: CaseRecord,
    pub client: ClientRecord,
    pub users: Vec<ClientUserRecord>,
    pub link: Link,
    pub collection_partner: Option<CollectionPartnerRecord>,
}

/// What the partner would earn if the whole case amount were collected, in USD at the
/// current rate. The USD figures are `None` (and the rate is named) while it is missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PotentialRevenue {
    pub gross_usd_minor: Option<i64>,
    pub success_fee_usd_minor: Option<i64>,
    pub platform_fee_usd_minor: Option<i64>,
    pub referral_fee_usd_minor: Option<i64>,
    pub missing_fx_rates: Vec<MissingRate>,
}

#[derive(Debug, Clone, Default)]
pub struct CaseSummary {
    pub total: i64,
    pub this_month: i64,
    pub active: i64,
    pub pending: i64,
    pub closed: i64,
    pub paused: i64,
}

/// One page of the partner's cases.
#[derive(Debug, Clone)]
pub struct CaseListing {
    pub items: Vec<PartnerCase>,
    pub total: i64,
    pub summary: CaseSummary,
}

impl App {
    async fn enrich(
        &self,
        tx: &mut refshare_store::Tx,
        partner_id: Uuid,
        case: CaseRecord,
        cps: &[CollectionPartnerRecord],
    ) -> Result<Option<PartnerCase>, AppError> {
        let links = tx.links_of_client(case.client_id).await?;
        let Some(link) =
            links.into_iter().find(|l| l.partner_id == partner_id && l.current_status() == refshare_core::link::LinkStatus::Active)
        else {
            return Ok(None);
        };
        let client = tx.client(case.client_id).await?.ok_or(AppError::NotFound("case"))?;
        let users = tx.client_users(client.id).await?;
        let collection_partner = case.assignment.and_then(|a| cps.iter().find(|c| c.id == a.collection_partner_id).cloned());
        Ok(Some(PartnerCase { case, client, users, link, collection_partner }))
    }

    pub async fn partner_case_list(&self, partner: &PartnerRecord, filter: &CaseFilter, page: PageReq) -> Result<CaseListing, AppError> {
        let mut tx = self.store.read().await?;
        let (cases, total) = tx.partner_cases_page(partner.id, filter, page).await?;
        let cps = tx.collection_partners().await?;
        let mut items = Vec::with_capacity(cases.len());
        for c in cases {
            items.extend(self.enrich(&mut tx, partner.id, c, &cps).await?);
        }
        let now = self.now();
        let month_start = chrono::Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().expect("valid");
        let (by, this_month) = tx.partner_case_counts(partner.id, month_start).await?;
        let count = |l: Lifecycle| by.iter().filter(|(x, _)| *x == l).map(|(_, n)| n).sum::<i64>();
        let summary = CaseSummary {
            total: by.iter().map(|(_, n)| n).sum(),
            this_month,
            active: count(Lifecycle::Active),
            pending: count(Lifecycle::PendingContractSigning),
            closed: count(Lifecycle::Closed),
            paused: count(Lifecycle::Paused),
        };
        Ok(CaseListing { items, total, summary })
    }

    /// One case, if the partner may see it now; otherwise "not found".
    pub async fn partner_case(&self, partner: &PartnerRecord, id: Uuid) -> Result<PartnerCase, AppError> {
        let mut tx = self.store.read().await?;
        let filter = CaseFilter { ids: vec![id], ..CaseFilter::default() };
        let (cases, _) = tx.partner_cases_page(partner.id, &filter, PageReq { page: 1, size: 1 }).await?;
        let case = cases.into_iter().next().ok_or(AppError::NotFound("case"))?;
        let cps = tx.collection_partners().await?;
        self.enrich(&mut tx, partner.id, case, &cps).await?.ok_or(AppError::NotFound("case"))
    }

    /// Countries and collection partners present in the partner's visible cases.
    pub async fn partner_filter_options(&self, partner: &PartnerRecord) -> Result<(Vec<String>, Vec<CollectionPartnerRecord>), AppError> {
        let mut tx = self.store.read().await?;
        let (cases, _) = tx.partner_cases_page(partner.id, &CaseFilter::default(), PageReq { page: 1, size: 10_000 }).await?;
        let cps = tx.collection_partners().await?;
        let mut countries: Vec<String> = cases.iter().map(|c| c.debtor_country.clone()).collect();
        countries.sort();
        countries.dedup();
        let used: Vec<CollectionPartnerRecord> =
            cps.into_iter().filter(|cp| cases.iter().any(|c| c.assignment.is_some_and(|a| a.collection_partner_id == cp.id))).collect();
        Ok((countries, used))
    }

    /// The case's potential revenue; `None` before a collection partner is assigned.
    pub async fn potential_revenue(&self, pc: &PartnerCase) -> Result<Option<PotentialRevenue>, AppError> {
        let k = &pc.case;
        let Some(a) = k.assignment else { return Ok(None) };
        let overflow = |_| AppError::internal("potential revenue overflow");
        let split =
            split_payment(k.amount_minor, FeeTerms { success_fee_bps: a.success_fee_bps, platform_share_bps: a.platform_share_bps })
                .map_err(overflow)?;
        let referral = referral_fee(split.platform_fee, pc.link.referral_fee_bps).map_err(overflow)?;
        let mut tx = self.store.read().await?;
        let mut rates = UsdRates::at(self.now());
        let mut usd = Vec::with_capacity(4);
        let mut missing = Vec::new();
        for amount in [k.amount_minor, split.success_fee, split.platform_fee, referral] {
            match rates.convert(&mut tx, amount, k.currency, None).await? {
                Ok(v) => usd.push(Some(v)),
                Err(m) => {
                    usd.push(None);
                    if !missing.contains(&m) {
                        missing.push(m);
                    }
                }
            }
        }
        Ok(Some(PotentialRevenue {
            gross_usd_minor: usd[0],
            success_fee_usd_minor: usd[1],
            platform_fee_usd_minor: usd[2],
            referral_fee_usd_minor: usd[3],
            missing_fx_rates: missing,
        }))
    }
}
