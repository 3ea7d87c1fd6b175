//! The partner's statement for one reporting period (SPEC §7, a calendar month in UTC):
//! attributed earnings created in the period with their stage, reversals (earnings voided
//! and clawbacks booked in the period), the payouts on the partner's linked clients that
//! did not earn with their reason code, and totals per stage and currency plus USD. A
//! missing rate leaves a line's USD empty and the USD totals partial, never the statement.

use refshare_core::attribution::{decide_for_partner, CaseFacts, ClientFacts};
use refshare_core::ledger::EarningKind;
use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use refshare_core::Instant;
use refshare_store::{EarningRecord, PartnerRecord, Tx};
use uuid::Uuid;

use crate::fx::{MissingRate, UsdRates};
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

/// The partner's `externalTenantId` for the earning's client, from the link of its decision.
/// Only decisions that name the earning's partner are read, so another partner's link
/// never shows.
async fn tenant_of(tx: &mut Tx, e: &EarningRecord) -> Result<String, AppError> {
    let mine: Vec<_> = tx.decisions_of_case(e.case_id).await?.into_iter().filter(|d| d.partner_id == Some(e.partner_id)).collect();
    let decision = match e.decision_id {
        Some(id) => mine.into_iter().find(|d| d.id == id),
        None => mine.into_iter().filter(|d| d.payout_id == e.payout_id).next_back(),
    };
    Ok(match decision.and_then(|d| d.link_id) {
        Some(l) => tx.link(l).await?.map(|l| l.external_tenant_id).unwrap_or_default(),
        None => String::new(),
    })
}

impl App {
    /// The statement of `period` (`YYYY-MM`) for the partner.
    pub async fn statement(&self, partner: &PartnerRecord, period: &str) -> Result<Statement, AppError> {
        let p = Period::parse(period).ok_or_else(|| AppError::bad_field("period", "must be YYYY-MM"))?;
        let rows = self.partner_rows(partner).await?;
        let mut rates = UsdRates::at(self.now());
        let mut missing = std::collections::BTreeSet::new();
        let mut earnings = Vec::new();
        let mut reversals = Vec::new();
        for r in &rows {
            if !p.contains(r.earning.created_at) {
                continue;
            }
            missing.extend(r.missing_rate.clone());
            let clawback = r.earning.kind == EarningKind::Clawback;
            let line = StatementLine {
                section: if clawback { Section::Reversal } else { Section::Earning },
                date: r.earning.created_at,
                case_reference: r.case.reference.clone(),
                external_tenant_id: r.external_tenant_id.clone(),
                kind: r.earning.kind.as_str().into(),
                stage: Some(r.stage),
                amount_minor: Some(r.earning.amount_minor),
                currency: r.earning.currency,
                amount_usd_minor: r.referral_fee_usd_minor,
                reason: r.earning.note.clone().or_else(|| r.decision.as_ref().map(|d| d.reason.as_str().to_string())).unwrap_or_default(),
                earning_id: Some(r.earning.id),
                payout_id: r.payout.id,
                payment_amount_minor: None,
            };
            if clawback {
                reversals.push(line);
            } else {
                earnings.push(line);
            }
        }

        let mut tx = self.store.read().await?;
        let all = tx.earnings_of_partner(partner.id).await?;
        // A voided earning still belongs to the month it was booked in (so that month's
        // statement never changes afterwards); its void is a reversal line in the month of
        // the void.
        for e in all.iter().filter(|e| e.voided_at.is_some() && p.contains(e.created_at)) {
            let payout = tx.payout(e.payout_id).await?.ok_or_else(|| AppError::internal("earning without payout"))?;
            let case = tx.case(e.case_id).await?.ok_or_else(|| AppError::internal("earning without case"))?;
            let usd = rates.convert(&mut tx, e.amount_minor, e.currency, payout.fx_usd_per_unit_e8).await?;
            missing.extend(usd.as_ref().err().cloned());
            let decision = tx.decisions_of_case(e.case_id).await?.into_iter().find(|d| Some(d.id) == e.decision_id);
            earnings.push(StatementLine {
                section: Section::Earning,
                date: e.created_at,
                case_reference: case.reference,
                external_tenant_id: tenant_of(&mut tx, e).await?,
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
        for e in all.iter().filter(|e| e.voided_at.is_some_and(|t| p.contains(t))) {
            let payout = tx.payout(e.payout_id).await?.ok_or_else(|| AppError::internal("earning without payout"))?;
            let case = tx.case(e.case_id).await?.ok_or_else(|| AppError::internal("earning without case"))?;
            let usd = rates.convert(&mut tx, -e.amount_minor, e.currency, payout.fx_usd_per_unit_e8).await?;
            missing.extend(usd.as_ref().err().cloned());
            reversals.push(StatementLine {
                section: Section::Reversal,
                date: e.voided_at.expect("filtered"),
                case_reference: case.reference,
                external_tenant_id: tenant_of(&mut tx, e).await?,
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

        // Payouts on clients that have or had a link to this partner and did not earn.
        let mut not_earned = Vec::new();
        let links = tx.links_of_partner(partner.id).await?;
        let mut clients: Vec<Uuid> = links.iter().map(|l| l.client_id).collect();
        clients.sort();
        clients.dedup();
        for client_id in clients {
            let Some(client) = tx.client(client_id).await? else { continue };
            let client_links = tx.links_of_client(client_id).await?;
            let requests: Vec<_> = tx.link_requests_of_client(client_id).await?.into_iter().map(|r| r.request).collect();
            let facts = ClientFacts { links: &client_links, requests: &requests, onboarding_completed_at: client.onboarding_completed_at };
            for case in tx.cases_of_client(client_id).await? {
                for payout in tx.payouts_of_case(case.id).await? {
                    if !p.contains(payout.created_at) || all.iter().any(|e| e.payout_id == payout.id) {
                        continue;
                    }
                    let decision = tx.decision_of_payout(payout.id).await?.filter(|d| d.partner_id == Some(partner.id));
                    let (reason, link_id) = match decision {
                        Some(d) => (d.reason, d.link_id),
                        None => {
                            let cf =
                                CaseFacts { created_at: case.created_at, source: case.source, creating_partner: case.creating_partner_id };
                            let d = decide_for_partner(partner.id, cf, facts, payout.created_at);
                            (d.reason, d.link_id)
                        }
                    };
                    let tenant = link_id
                        .and_then(|id| client_links.iter().find(|l| l.id == id))
                        .or_else(|| client_links.iter().filter(|l| l.partner_id == partner.id).max_by_key(|l| l.linked_at))
                        .map(|l| l.external_tenant_id.clone())
                        .unwrap_or_default();
                    let payment = tx.payment(payout.payment_id).await?.ok_or_else(|| AppError::internal("payout without payment"))?;
                    not_earned.push(StatementLine {
                        section: Section::NotEarned,
                        date: payout.created_at,
                        case_reference: case.reference.clone(),
                        external_tenant_id: tenant,
                        kind: "payout".into(),
                        stage: None,
                        amount_minor: None,
                        currency: payout.currency,
                        amount_usd_minor: None,
                        reason: reason.as_str().into(),
                        earning_id: None,
                        payout_id: payout.id,
                        payment_amount_minor: Some(payment.amount_minor),
                    });
                }
            }
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
