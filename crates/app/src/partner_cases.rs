//! The partner's case views (SPEC §5 visibility): the Cases list with its summary, one
//! case with its potential revenue (USD figures `None` while a rate is missing), and the
//! filter options.

use chrono::{Datelike, TimeZone};
use refshare_core::case::Lifecycle;
use refshare_core::fees::{referral_fee, split_payment, FeeTerms};
use std::collections::HashMap;

use refshare_core::link::{Link, LinkStatus};
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
    /// The partner's views of `cases` (visible to it), in their order, with a fixed number
    /// of queries whatever their number: the partner's active links to their clients, the
    /// clients, their users, the collection partners. A case whose client has no active
    /// link of the partner is left out.
    async fn enrich(&self, tx: &mut refshare_store::Tx, partner_id: Uuid, cases: Vec<CaseRecord>) -> Result<Vec<PartnerCase>, AppError> {
        let mut client_ids: Vec<Uuid> = cases.iter().map(|c| c.client_id).collect();
        client_ids.sort();
        client_ids.dedup();
        let links: HashMap<Uuid, Link> =
            tx.active_links_to_clients(partner_id, &client_ids).await?.into_iter().map(|l| (l.client_id, l)).collect();
        let clients = tx.clients_by_ids(&client_ids).await?;
        let users = tx.client_users_of(&client_ids).await?;
        let cps = tx.collection_partners().await?;
        let mut out = Vec::with_capacity(cases.len());
        for case in cases {
            let Some(link) = links.get(&case.client_id).filter(|l| l.current_status() == LinkStatus::Active) else { continue };
            let client = clients.get(&case.client_id).cloned().ok_or(AppError::NotFound("case"))?;
            let collection_partner = case.assignment.and_then(|a| cps.iter().find(|c| c.id == a.collection_partner_id).cloned());
            out.push(PartnerCase {
                users: users.get(&client.id).cloned().unwrap_or_default(),
                client,
                link: link.clone(),
                collection_partner,
                case,
            });
        }
        Ok(out)
    }

    /// One page of the partner's visible cases with the total that match and the summary.
    /// The summary reads the partner's tallies (migration 0026); without filters its total
    /// is the page's total too, so no second count runs.
    pub async fn partner_case_list(&self, partner: &PartnerRecord, filter: &CaseFilter, page: PageReq) -> Result<CaseListing, AppError> {
        let mut tx = self.store.read().await?;
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
        // Filtered: the page and its total in one statement; else the summary's total.
        let (cases, total) = if filter.narrows() {
            tx.partner_cases_page(partner.id, filter, page).await?
        } else {
            (tx.partner_cases(partner.id, filter, page).await?, summary.total)
        };
        let items = self.enrich(&mut tx, partner.id, cases).await?;
        Ok(CaseListing { items, total, summary })
    }

    /// One case, if the partner may see it now; otherwise "not found".
    pub async fn partner_case(&self, partner: &PartnerRecord, id: Uuid) -> Result<PartnerCase, AppError> {
        let mut tx = self.store.read().await?;
        let filter = CaseFilter { ids: vec![id], ..CaseFilter::default() };
        let cases = tx.partner_cases(partner.id, &filter, PageReq { page: 1, size: 1 }).await?;
        self.enrich(&mut tx, partner.id, cases).await?.pop().ok_or(AppError::NotFound("case"))
    }

    /// Countries and collection partners present in the partner's visible cases.
    pub async fn partner_filter_options(&self, partner: &PartnerRecord) -> Result<(Vec<String>, Vec<CollectionPartnerRecord>), AppError> {
        let mut tx = self.store.read().await?;
        let (mut countries, used) = tx.partner_case_options(partner.id).await?;
        // Sorted here (byte order), whatever the database's collation.
        countries.sort();
        let cps = tx.collection_partners().await?;
        Ok((countries, cps.into_iter().filter(|cp| used.contains(&cp.id)).collect()))
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
