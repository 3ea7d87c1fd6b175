//! The self-serve attribution check (SPEC §8) for partners and operators: loads the facts
//! the engine used (`Tx::attribution_facts`: one statement, no transaction), runs the core
//! check, and adds payouts and the dispute window.

use chrono::{Datelike, TimeZone};
use refshare_core::attribution::{relevant_partner, CaseFacts, ClientFacts};
use refshare_core::check::{self_serve_check, CheckReport, PayoutFacts};
use refshare_core::link::{Link, LinkRequest};
use refshare_core::stage::RevenueStage;
use refshare_core::visibility::{not_listed_because, NotListed};
use refshare_core::Instant;
use refshare_store::{AttributionFacts, CaseRecord, ClientRecord, DecisionRecord, EarningRecord, FactsCase, PartnerRecord};
use uuid::Uuid;

use crate::ledger::stages_from;
use crate::{App, AppError};

/// One payout as the check shows it.
#[derive(Debug, Clone)]
pub struct PayoutLine {
    pub payout_id: Uuid,
    pub date: Instant,
    pub decision: DecisionRecord,
    /// The earning's current stage; `None` when there is no earning or it was voided.
    pub stage: Option<RevenueStage>,
    /// Why the earning was voided (the payment was reversed), if it was.
    pub voided: Option<String>,
}

/// The complete check for one partner and one case.
#[derive(Debug, Clone)]
pub struct AttributionView {
    pub partner_id: Option<Uuid>,
    pub case: CaseRecord,
    pub client: ClientRecord,
    /// This partner's most relevant link, if it ever had one.
    pub link: Option<Link>,
    /// This partner's latest link request, when there was never a link.
    pub request: Option<LinkRequest>,
    pub onboarding_url: Option<String>,
    pub report: Option<CheckReport>,
    pub payouts: Vec<PayoutLine>,
    /// Deadline for disputes on the latest payout, and whether it is still open.
    pub dispute_deadline: Option<Instant>,
    pub dispute_allowed: bool,
    /// Every stored decision on the case (operator view only).
    pub all_decisions: Vec<DecisionRecord>,
    /// Partner view: why the case is not in the partner's Cases views (SPEC §5), `None`
    /// when it is listed (and always in the operator view).
    pub not_listed: Option<NotListed>,
    /// Partner view: the partner's open dispute on the case, if any.
    pub open_dispute: Option<Uuid>,
}

/// End of the calendar month (UTC) containing `t`, plus `days`.
pub fn dispute_deadline(t: Instant, days: i64) -> Instant {
    let (y, m) = if t.month() == 12 { (t.year() + 1, 1) } else { (t.year(), t.month() + 1) };
    chrono::Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single().expect("valid date") + chrono::Duration::days(days)
}

impl App {
    /// The view of the case of `facts` (read in one statement, with the open dispute of
    /// `partner` when given).
    fn build_view(&self, facts: AttributionFacts, partner: Option<Uuid>, operator: bool) -> Result<AttributionView, AppError> {
        let now = self.now();
        let partner_view = partner;
        let AttributionFacts { case, client, links, requests, decisions, earnings, sync_rows, open_dispute } = facts;
        let client = client.ok_or(AppError::NotFound("case"))?;
        let requests: Vec<LinkRequest> = requests.into_iter().map(|r| r.request).collect();
        let facts = ClientFacts { links: &links, requests: &requests, onboarding_completed_at: client.onboarding_completed_at };
        let case_facts = CaseFacts { created_at: case.created_at, source: case.source, creating_partner: case.creating_partner_id };
        let partner = partner.or_else(|| relevant_partner(facts, now));
        // This partner's decisions, without those a later decision (a dispute's
        // correction) superseded: one line per payout.
        let superseded: Vec<Uuid> = decisions.iter().filter_map(|d| d.supersedes_id).collect();
        let mine: Vec<&DecisionRecord> =
            decisions.iter().filter(|d| partner.is_some() && d.partner_id == partner && !superseded.contains(&d.id)).collect();
        let mut payouts = Vec::new();
        let shown: Vec<&EarningRecord> = mine.iter().filter_map(|d| earnings.iter().find(|e| e.decision_id == Some(d.id))).collect();
        let stages = stages_from(&shown, &sync_rows)?;
        for d in &mine {
            let earning = earnings.iter().find(|e| e.decision_id == Some(d.id));
            let stage = earning.and_then(|e| stages.get(&e.id).copied().flatten());
            payouts.push(PayoutLine {
                payout_id: d.payout_id,
                date: d.decided_at,
                decision: (*d).clone(),
                stage,
                voided: earning.and_then(|e| e.void_reason.clone()),
            });
        }
        let report = partner.map(|p| {
            let facts_payouts: Vec<PayoutFacts> = mine
                .iter()
                .map(|d| PayoutFacts { payout_id: d.payout_id, at: d.decided_at, partner_id: d.partner_id, reason: d.reason })
                .collect();
            self_serve_check(p, case_facts, facts, &facts_payouts, now)
        });
        let link = partner.and_then(|p| {
            links
                .iter()
                .filter(|l| l.partner_id == p)
                .max_by_key(|l| (l.status_at(now) == Some(refshare_core::link::LinkStatus::Active), l.linked_at, l.id))
                .cloned()
        });
        let request = match (&link, partner) {
            (None, Some(p)) => requests.iter().filter(|r| r.partner_id == p).max_by_key(|r| (r.created_at, r.id)).cloned(),
            _ => None,
        };
        let deadline = payouts.iter().map(|p| p.date).max().map(|t| dispute_deadline(t, self.config.dispute_window_days));
        let not_listed = partner_view.and_then(|p| not_listed_because(p, case_facts, &links, now));
        Ok(AttributionView {
            not_listed,
            open_dispute,
            partner_id: partner,
            onboarding_url: match (&link, client.onboarding_completed_at) {
                (Some(l), None) => Some(self.onboarding_url(l.id)),
                _ => None,
            },
            dispute_allowed: deadline.is_some_and(|d| now < d),
            dispute_deadline: deadline,
            payouts,
            report,
            link,
            request,
            all_decisions: if operator { decisions } else { Vec::new() },
            case,
            client,
        })
    }

    /// The partner's check for a case reference. A case whose client never had a link or
    /// link request with this partner is "not found", exactly like an unknown reference.
    /// One statement (`Store::read_statement`).
    pub async fn partner_attribution_check(&self, partner: &PartnerRecord, reference: &str) -> Result<AttributionView, AppError> {
        let mut tx = self.store.read_statement().await?;
        let facts = tx.attribution_facts(FactsCase::Reference(reference), Some(partner.id)).await?.ok_or(AppError::NotFound("case"))?;
        drop(tx);
        let linked =
            facts.links.iter().any(|l| l.partner_id == partner.id) || facts.requests.iter().any(|r| r.request.partner_id == partner.id);
        if !linked {
            return Err(AppError::NotFound("case"));
        }
        self.build_view(facts, Some(partner.id), false)
    }

    /// The operator's check for any case (by id, or by reference when the key is not a
    /// UUID): the relevant partner's view plus every decision.
    pub async fn operator_attribution_check(&self, case_key: &str) -> Result<AttributionView, AppError> {
        let key = match Uuid::parse_str(case_key) {
            Ok(id) => FactsCase::Id(id),
            Err(_) => FactsCase::Reference(case_key),
        };
        let mut tx = self.store.read_statement().await?;
        let facts = tx.attribution_facts(key, None).await?.ok_or(AppError::NotFound("case"))?;
        drop(tx);
        self.build_view(facts, None, true)
    }
}
