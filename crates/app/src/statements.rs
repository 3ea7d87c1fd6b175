//! The partner's statement for one reporting period (SPEC §7, a calendar month in UTC):
//! attributed earnings created in the period with their stage, reversals (earnings voided
//! and clawbacks booked in the period), the payouts on the partner's linked clients that
//! did not earn with their reason code, and totals per stage and currency plus USD. A
//! missing rate leaves a line's USD empty and the USD totals partial, never the statement.
//! Only the period's rows are read: earnings by creation and void date, payouts by creation.

use std::collections::HashMap;

use refshare_core::attribution::{decide_for_partner, CaseFacts, ClientFacts};
use refshare_core::ledger::EarningKind;
use refshare_core::link::{Link, LinkRequest};
use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use refshare_core::Instant;
use refshare_store::{EarningRecord, LinkTenant, NotEarned, PartnerRecord};
use uuid::Uuid;

use crate::fx::{MissingRate, UsdRates};
use crate::reporting::Related;
use crate::revenue::Period;
use crate::{App, AppError};

/// The section a statement line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Earning,
    Reversal,
    NotEarned,
}

impl Section {
    pub fn as_str(&self) -> &'static str {
        match self {
            Section::Earning => "earning",
            Section::Reversal => "reversal",
            Section::NotEarned => "not_earned",
        }
    }
}

/// One line of a statement.
#[derive(Debug, Clone)]
pub struct StatementLine {
    pub section: Section,
    pub date: Instant,
    pub case_reference: String,
    pub external_tenant_id: String,
    /// `payout`, `correction`, `adjustment`, `clawback`; `void` for a voided earning.
    pub kind: String,
    /// The live earning's stage; `None` for voided earnings and payouts that did not earn.
    pub stage: Option<RevenueStage>,
    /// The earning's amount (negative for a reversal); `None` when nothing was earned.
    pub amount_minor: Option<i64>,
    pub currency: Currency,
    /// `None` when nothing was earned, or when the rate it needs is missing.
    pub amount_usd_minor: Option<i64>,
    /// The reason code, the dispute or reversal note, or the void reason.
    pub reason: String,
    pub earning_id: Option<Uuid>,
    pub payout_id: Uuid,
    /// For payouts that did not earn: the payment's amount.
    pub payment_amount_minor: Option<i64>,
}

/// Totals of the live lines (earnings and clawbacks) in one stage and currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageTotal {
    pub stage: RevenueStage,
    pub currency: Currency,
    pub amount_minor: i64,
    /// US cents of the lines that have a USD figure.
    pub amount_usd_minor: i64,
    /// Some line has no USD figure (a rate is missing).
    pub usd_partial: bool,
    pub count: i64,
}

/// A partner's statement for one period.
#[derive(Debug, Clone)]
pub struct Statement {
    pub period: Period,
    pub earnings: Vec<StatementLine>,
    pub reversals: Vec<StatementLine>,
    pub not_earned: Vec<StatementLine>,
    pub totals: Vec<StageTotal>,
    pub total_usd_minor: i64,
    /// `total_usd_minor` leaves out lines whose rate is missing.
    pub usd_partial: bool,
    /// The rates the statement needed and did not find, in order.
    pub missing_fx_rates: Vec<MissingRate>,
}

impl Statement {
    /// Every line in section order (earnings, reversals, not earned).
    pub fn lines(&self) -> impl Iterator<Item = &StatementLine> {
        self.earnings.iter().chain(&self.reversals).chain(&self.not_earned)
    }
}

impl App {
    /// The statement of `period` (`YYYY-MM`) for the partner. Reads only the period's
    /// earnings (by creation and by void date) and the period's payouts on the partner's
    /// clients, each set completed with one query per table.
    pub async fn statement(&self, partner: &PartnerRecord, period: &str) -> Result<Statement, AppError> {
        let p = Period::parse(period).ok_or_else(|| AppError::bad_field("period", "must be YYYY-MM"))?;
        let (from, to) = (p.start(), p.end());
        let mut tx = self.store.read().await?;
        let mut rates = UsdRates::at(self.now());
        rates.load_all(&mut tx).await?;
        let mut missing = std::collections::BTreeSet::new();
        let mut earnings = Vec::new();
        let mut reversals = Vec::new();

        // The period's live earnings and clawbacks: one query with what a line shows (the
        // read model's stage and rate, which `reconcile` proves against the statuses).
        for e in tx.statement_earnings(partner.id, from, to).await? {
            let usd = rates.convert(&mut tx, e.amount_minor, e.currency, e.fx_usd_per_unit_e8).await?;
            missing.extend(usd.as_ref().err().cloned());
            let clawback = e.kind == EarningKind::Clawback;
            let line = StatementLine {
                section: if clawback { Section::Reversal } else { Section::Earning },
                date: e.created_at,
                case_reference: e.case_reference,
                external_tenant_id: e.external_tenant_id,
                kind: e.kind.as_str().into(),
                stage: Some(e.stage),
                amount_minor: Some(e.amount_minor),
                currency: e.currency,
                amount_usd_minor: usd.ok(),
                reason: e.note.or(e.reason).unwrap_or_default(),
                earning_id: Some(e.id),
                payout_id: e.payout_id,
                payment_amount_minor: None,
            };
            if clawback {
                reversals.push(line);
            } else {
                earnings.push(line);
            }
        }

        // A voided earning still belongs to the month it was booked in (so that month's
        // statement never changes afterwards); its void is a reversal line in the month of
        // the void.
        let voided_created = tx.voided_earnings_of_partner_created(partner.id, from, to).await?;
        let voided_here = tx.earnings_of_partner_voided(partner.id, from, to).await?;
        let all_voided: Vec<EarningRecord> = voided_created.iter().chain(&voided_here).cloned().collect();
        let related = Related::load(&mut tx, partner.id, &all_voided).await?;
        let no = |what: &str| AppError::internal(format!("earning without {what}"));
        // The tenant of a voided earning: the link of its own decision (the partner's), else
        // of the payout's latest decision naming the partner.
        let tenant = |e: &EarningRecord| {
            let d = match e.decision_id {
                Some(id) => related.decisions.get(&id),
                None => related.latest_of_payout.get(&e.payout_id).and_then(|id| related.decisions.get(id)),
            };
            related.tenant_of(d)
        };
        for e in &voided_created {
            let payout = related.payouts.get(&e.payout_id).ok_or_else(|| no("payout"))?;
            let case = related.cases.get(&e.case_id).ok_or_else(|| no("case"))?;
            let usd = rates.convert(&mut tx, e.amount_minor, e.currency, payout.fx_usd_per_unit_e8).await?;
            missing.extend(usd.as_ref().err().cloned());
            let decision = e.decision_id.and_then(|id| related.decisions.get(&id));
            earnings.push(StatementLine {
                section: Section::Earning,
                date: e.created_at,
                case_reference: case.reference.clone(),
                external_tenant_id: tenant(e),
                kind: e.kind.as_str().into(),
                stage: None,
                amount_minor: Some(e.amount_minor),
                currency: e.currency,
                amount_usd_minor: usd.ok(),
                reason: format!(
                    "{} (voided {}: {})",
                    decision.map(|d| d.reason.as_str().to_string()).unwrap_or_default(),
                    e.voided_at.expect("filtered").format("%Y-%m-%d"),
                    e.void_reason.clone().unwrap_or_default()
                ),
                earning_id: Some(e.id),
                payout_id: payout.id,
                payment_amount_minor: None,
            });
        }
        for e in &voided_here {
            let payout = related.payouts.get(&e.payout_id).ok_or_else(|| no("payout"))?;
            let case = related.cases.get(&e.case_id).ok_or_else(|| no("case"))?;
            let usd = rates.convert(&mut tx, -e.amount_minor, e.currency, payout.fx_usd_per_unit_e8).await?;
            missing.extend(usd.as_ref().err().cloned());
            reversals.push(StatementLine {
                section: Section::Reversal,
                date: e.voided_at.expect("filtered"),
                case_reference: case.reference.clone(),
                external_tenant_id: tenant(e),
                kind: "void".into(),
                stage: None,
                amount_minor: Some(-e.amount_minor),
                currency: e.currency,
                amount_usd_minor: usd.ok(),
                reason: e.void_reason.clone().unwrap_or_default(),
                earning_id: Some(e.id),
                payout_id: payout.id,
                payment_amount_minor: None,
            });
        }

        // Payouts of the period on clients that have or had a link to this partner and did
        // not earn, each with its payment's amount, case and latest decision (one query).
        let mut not_earned = Vec::new();
        let candidates = tx.payouts_not_earned(partner.id, from, to).await?;
        let partner_links = tx.link_tenants_of_partner(partner.id).await?;
        // The partner's links by id, and per client its latest (by `linked_at`; on a tie
        // the last in id order, as `max_by_key` over the oldest-first list picks it).
        let link_by_id: HashMap<Uuid, &LinkTenant> = partner_links.iter().map(|l| (l.id, l)).collect();
        let mut latest_link_of_client: HashMap<Uuid, &LinkTenant> = HashMap::new();
        for l in &partner_links {
            match latest_link_of_client.get(&l.client_id) {
                Some(seen) if seen.linked_at > l.linked_at => {}
                _ => {
                    latest_link_of_client.insert(l.client_id, l);
                }
            }
        }
        // The facts the attribution engine needs, read only for the clients of payouts no
        // decision of this partner explains: one query per table (per chunk of clients).
        let mine = |n: &NotEarned| n.latest.filter(|d| d.partner_id == Some(partner.id));
        let unexplained: Vec<Uuid> = candidates
            .iter()
            .filter(|n| mine(n).is_none())
            .map(|n| n.client_id)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let clients = tx.clients_by_ids(&unexplained).await?;
        let mut links_of = tx.links_of_clients(&unexplained).await?;
        let mut requests_of = tx.link_requests_of_clients(&unexplained).await?;
        let mut facts_of: HashMap<Uuid, (Option<Instant>, Vec<Link>, Vec<LinkRequest>)> = HashMap::new();
        for id in &unexplained {
            let Some(client) = clients.get(id) else { continue };
            let links = links_of.remove(id).unwrap_or_default();
            let requests = requests_of.remove(id).unwrap_or_default().into_iter().map(|r| r.request).collect();
            facts_of.insert(*id, (client.onboarding_completed_at, links, requests));
        }
        for n in candidates {
            let (reason, link_id) = match mine(&n) {
                Some(d) => (d.reason, d.link_id),
                None => {
                    // A payout on a client that no longer exists is left out.
                    let Some((onboarded, links, requests)) = facts_of.get(&n.client_id) else { continue };
                    let facts = ClientFacts { links, requests, onboarding_completed_at: *onboarded };
                    let cf = CaseFacts { created_at: n.case_created_at, source: n.case_source, creating_partner: n.creating_partner_id };
                    let d = decide_for_partner(partner.id, cf, facts, n.created_at);
                    (d.reason, d.link_id)
                }
            };
            let tenant = link_id
                .and_then(|id| link_by_id.get(&id))
                .or_else(|| latest_link_of_client.get(&n.client_id))
                .map(|l| l.external_tenant_id.clone())
                .unwrap_or_default();
            not_earned.push(StatementLine {
                section: Section::NotEarned,
                date: n.created_at,
                case_reference: n.case_reference,
                external_tenant_id: tenant,
                kind: "payout".into(),
                stage: None,
                amount_minor: None,
                currency: n.currency,
                amount_usd_minor: None,
                reason: reason.as_str().into(),
                earning_id: None,
                payout_id: n.payout_id,
                payment_amount_minor: Some(n.payment_amount_minor),
            });
        }
        drop(tx);

        for list in [&mut earnings, &mut reversals, &mut not_earned] {
            list.sort_by_key(|l| (l.date, l.payout_id, l.earning_id));
        }
        let mut totals: Vec<StageTotal> = Vec::new();
        let overflow = || AppError::internal("statement total overflow");
        for l in earnings.iter().chain(&reversals) {
            let (Some(stage), Some(amount)) = (l.stage, l.amount_minor) else { continue };
            let i = match totals.iter().position(|t| t.stage == stage && t.currency == l.currency) {
                Some(i) => i,
                None => {
                    totals.push(StageTotal {
                        stage,
                        currency: l.currency,
                        amount_minor: 0,
                        amount_usd_minor: 0,
                        usd_partial: false,
                        count: 0,
                    });
                    totals.len() - 1
                }
            };
            let t = &mut totals[i];
            t.amount_minor = t.amount_minor.checked_add(amount).ok_or_else(overflow)?;
            match l.amount_usd_minor {
                Some(usd) => t.amount_usd_minor = t.amount_usd_minor.checked_add(usd).ok_or_else(overflow)?,
                None => t.usd_partial = true,
            }
            t.count += 1;
        }
        totals.sort_by_key(|t| (t.stage.code(), t.currency.code().to_string()));
        let total_usd_minor = totals.iter().try_fold(0i64, |a, t| a.checked_add(t.amount_usd_minor)).ok_or_else(overflow)?;
        let usd_partial = totals.iter().any(|t| t.usd_partial);
        let missing_fx_rates = missing.into_iter().collect();
        Ok(Statement { period: p, earnings, reversals, not_earned, totals, total_usd_minor, usd_partial, missing_fx_rates })
    }
}
