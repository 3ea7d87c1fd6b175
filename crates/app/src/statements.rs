//! The partner's statement for one reporting period (SPEC §7, a calendar month in UTC):
//! attributed earnings created in the period with their stage, reversals (earnings voided
//! and clawbacks booked in the period), the payouts on the partner's linked clients that
//! did not earn with their reason code, and totals per stage and currency plus USD. A
//! missing rate leaves a line's USD empty and the USD totals partial, never the statement.
//!
//! Two reads over the same section queries (`store::statements`): [`App::statement`], every
//! line (the Referral API's JSON and CSV, the dashboard's CSV), its totals summed from its
//! lines; and [`App::statement_page`], the totals from the kept statement totals
//! (migration 0037; the aggregate over the month's rows when they cannot answer) and the
//! section counts from SQL counts, plus one keyset page of one section (the dashboard
//! page), so its work does not grow with the month. Each line comes with what it shows from one query per section; the
//! attribution engine's client facts are read only for the payouts no decision of the
//! partner explains, in batches of [`FACTS_BATCH`] lines.

use std::collections::{BTreeSet, HashMap};

use refshare_core::attribution::{decide_for_partner, CaseFacts, ClientFacts};
use refshare_core::link::{Link, LinkRequest};
use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use refshare_core::Instant;
use refshare_store::{EarningLine, LinkTenant, NotEarned, PartnerRecord, StatementCursor, StatementWindow, Tx};
use uuid::Uuid;

use crate::fx::{MissingRate, UsdRates};
use crate::revenue::Period;
use crate::{App, AppError};

/// "Did not earn" lines decided per batch: the client facts of one batch are read with
/// one query per table, so memory and statement size stay bounded whatever the month.
pub const FACTS_BATCH: usize = 2_000;

/// The most lines a statement page may ask for.
pub const MAX_PAGE_LINES: u32 = 500;

/// The section a statement line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Earning,
    Reversal,
    NotEarned,
}

impl Section {
    pub const ALL: [Section; 3] = [Section::Earning, Section::Reversal, Section::NotEarned];

    pub fn as_str(&self) -> &'static str {
        match self {
            Section::Earning => "earning",
            Section::Reversal => "reversal",
            Section::NotEarned => "not_earned",
        }
    }

    pub fn parse(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|x| x.as_str() == s)
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

impl StatementLine {
    /// Where the line stands in its section: the page after it starts after this.
    pub fn cursor(&self) -> StatementCursor {
        StatementCursor { date: self.date, payout_id: self.payout_id, earning_id: self.earning_id }
    }
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

/// The number of lines in each section. The payouts that did not earn are counted only
/// when their section is read: that count walks the month's payouts on every client of
/// the partner (`store::statements::not_earned_candidates_sql`), the one part of a
/// statement that grows with the partner's clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SectionCounts {
    pub earnings: i64,
    pub reversals: i64,
    pub not_earned: Option<i64>,
}

impl SectionCounts {
    pub fn of(&self, s: Section) -> Option<i64> {
        match s {
            Section::Earning => Some(self.earnings),
            Section::Reversal => Some(self.reversals),
            Section::NotEarned => self.not_earned,
        }
    }
}

/// What a statement page shows above its lines, from SQL aggregates: the same totals,
/// counts and missing rates as the whole [`Statement`] has.
#[derive(Debug, Clone)]
pub struct StatementSummary {
    pub period: Period,
    pub totals: Vec<StageTotal>,
    pub total_usd_minor: i64,
    pub usd_partial: bool,
    pub counts: SectionCounts,
    pub missing_fx_rates: Vec<MissingRate>,
}

/// One page of one section of a statement.
#[derive(Debug, Clone)]
pub struct SectionPage {
    pub section: Section,
    pub lines: Vec<StatementLine>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<StatementCursor>,
}

/// A statement's summary and a page of some of its sections.
#[derive(Debug, Clone)]
pub struct StatementPage {
    pub summary: StatementSummary,
    /// In the order asked for.
    pub sections: Vec<SectionPage>,
}

fn parse_period(period: &str) -> Result<Period, AppError> {
    Period::parse(period).ok_or_else(|| AppError::bad_field("period", "must be YYYY-MM"))
}

fn overflow() -> AppError {
    AppError::internal("statement total overflow")
}

impl App {
    /// The statement of `period` (`YYYY-MM`) for the partner, every line. Reads only the
    /// period's earnings (by creation and by void date) and the period's payouts on the
    /// partner's clients: one query per section, the attribution facts per batch.
    pub async fn statement(&self, partner: &PartnerRecord, period: &str) -> Result<Statement, AppError> {
        let p = parse_period(period)?;
        let (from, to) = (p.start(), p.end());
        // Every line of a month: the planner costs the line queries far above what they
        // take; PostgreSQL connections run without JIT (`store::POSTGRES_SESSION`).
        let mut tx = self.store.read().await?;
        let mut rates = UsdRates::at(self.now());
        rates.load_all(&mut tx).await?;
        let mut missing = BTreeSet::new();
        let all = StatementWindow::all();
        let rows = tx_lines(&mut tx, partner, Section::Earning, from, to, all).await?;
        let earnings = earning_lines(&mut tx, &mut rates, &mut missing, Section::Earning, rows).await?;
        let rows = tx_lines(&mut tx, partner, Section::Reversal, from, to, all).await?;
        let reversals = earning_lines(&mut tx, &mut rates, &mut missing, Section::Reversal, rows).await?;
        let candidates = tx.statement_not_earned_lines(partner.id, from, to, all).await?;
        let mut not_earned = Vec::with_capacity(candidates.len());
        let mut rest = candidates.into_iter();
        loop {
            let batch: Vec<NotEarned> = rest.by_ref().take(FACTS_BATCH).collect();
            if batch.is_empty() {
                break;
            }
            not_earned.extend(not_earned_lines(&mut tx, partner.id, batch).await?);
        }
        drop(tx);

        let mut totals: Vec<StageTotal> = Vec::new();
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
        let (totals, total_usd_minor, usd_partial) = finish_totals(totals)?;
        let missing_fx_rates = missing.into_iter().collect();
        Ok(Statement { period: p, earnings, reversals, not_earned, totals, total_usd_minor, usd_partial, missing_fx_rates })
    }

    /// The summary of `period` (`YYYY-MM`) and, for each `(section, after)` of `pages`, the
    /// page of that section after `after` (from its start when `None`), `limit` lines at
    /// most (1 to [`MAX_PAGE_LINES`]). The totals are the kept statement totals of the
    /// month (`store::statement_totals`, a few rows) when the estimates they hold are at
    /// the rates the page converts at, else one aggregate over the month's live earnings
    /// (each row's US cents rounded as the lines round them) — the same figures; the
    /// counts are counts (the payouts that did not earn only when their section is asked
    /// for), and only the pages' lines are read.
    pub async fn statement_page(
        &self,
        partner: &PartnerRecord,
        period: &str,
        pages: &[(Section, Option<StatementCursor>)],
        limit: u32,
    ) -> Result<StatementPage, AppError> {
        let p = parse_period(period)?;
        let (from, to) = (p.start(), p.end());
        let limit = limit.clamp(1, MAX_PAGE_LINES);
        let mut tx = self.store.read().await?;
        let mut rates = UsdRates::at(self.now());
        let current = rates.load_all(&mut tx).await?;

        let mut totals = Vec::new();
        let mut clawbacks = 0i64;
        let mut live = 0i64;
        let mut missing = BTreeSet::new();
        for t in tx.statement_totals_from_kept(partner.id, from, to, &current).await? {
            live = live.checked_add(t.count).ok_or_else(overflow)?;
            clawbacks = clawbacks.checked_add(t.clawbacks).ok_or_else(overflow)?;
            if t.usd_missing > 0 {
                missing.insert(rates.needed(t.currency));
            }
            totals.push(StageTotal {
                stage: t.stage,
                currency: t.currency,
                amount_minor: t.amount_minor,
                amount_usd_minor: t.usd_minor,
                usd_partial: t.usd_missing > 0,
                count: t.count,
            });
        }
        let (totals, total_usd_minor, usd_partial) = finish_totals(totals)?;
        let without_rate: Vec<Currency> = Currency::all().filter(|c| !current.iter().any(|(x, _)| x == c)).collect();
        for c in tx.statement_void_estimate_currencies(partner.id, from, to, &without_rate).await? {
            missing.insert(rates.needed(c));
        }
        let (voided_created, voided_here) = tx.statement_void_counts(partner.id, from, to).await?;
        let counts = SectionCounts {
            earnings: live - clawbacks + voided_created,
            reversals: clawbacks + voided_here,
            not_earned: match pages.iter().any(|(s, _)| *s == Section::NotEarned) {
                true => Some(tx.statement_not_earned_count(partner.id, from, to).await?),
                false => None,
            },
        };

        let mut sections = Vec::with_capacity(pages.len());
        for &(section, after) in pages {
            // One line more than the page shows tells whether there is a next page.
            let w = StatementWindow { after, limit: Some(i64::from(limit) + 1) };
            let mut lines = match section {
                _ if counts.of(section) == Some(0) => Vec::new(),
                Section::NotEarned => {
                    let candidates = tx.statement_not_earned_lines(partner.id, from, to, w).await?;
                    not_earned_lines(&mut tx, partner.id, candidates).await?
                }
                s => {
                    let rows = tx_lines(&mut tx, partner, s, from, to, w).await?;
                    // The summary's missing rates already name every one the month needs.
                    earning_lines(&mut tx, &mut rates, &mut BTreeSet::new(), s, rows).await?
                }
            };
            let next = if lines.len() > limit as usize {
                lines.truncate(limit as usize);
                lines.last().map(StatementLine::cursor)
            } else {
                None
            };
            sections.push(SectionPage { section, lines, next });
        }
        drop(tx);
        let missing_fx_rates = missing.into_iter().collect();
        let summary = StatementSummary { period: p, totals, total_usd_minor, usd_partial, counts, missing_fx_rates };
        Ok(StatementPage { summary, sections })
    }
}

/// Orders the totals by stage and currency and adds up the USD total, checked.
fn finish_totals(mut totals: Vec<StageTotal>) -> Result<(Vec<StageTotal>, i64, bool), AppError> {
    totals.sort_by_key(|t| (t.stage.code(), t.currency.code().to_string()));
    let total_usd_minor = totals.iter().try_fold(0i64, |a, t| a.checked_add(t.amount_usd_minor)).ok_or_else(overflow)?;
    let usd_partial = totals.iter().any(|t| t.usd_partial);
    Ok((totals, total_usd_minor, usd_partial))
}

/// The stored lines of the earnings or reversals section in `w`.
async fn tx_lines(
    tx: &mut Tx,
    partner: &PartnerRecord,
    section: Section,
    from: Instant,
    to: Instant,
    w: StatementWindow,
) -> Result<Vec<EarningLine>, AppError> {
    Ok(match section {
        Section::Reversal => tx.statement_reversal_lines(partner.id, from, to, w).await?,
        _ => tx.statement_earning_lines(partner.id, from, to, w).await?,
    })
}

/// The earnings or reversals section's lines of these stored rows: US cents at the line's
/// rate (locked, else current; a missing rate is remembered in `missing`), the reason and
/// the void's note.
async fn earning_lines(
    tx: &mut Tx,
    rates: &mut UsdRates,
    missing: &mut BTreeSet<MissingRate>,
    section: Section,
    rows: Vec<EarningLine>,
) -> Result<Vec<StatementLine>, AppError> {
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        let amount = if e.is_void { e.amount_minor.checked_neg().ok_or_else(overflow)? } else { e.amount_minor };
        let usd = rates.convert(tx, amount, e.currency, e.fx_usd_per_unit_e8).await?;
        missing.extend(usd.as_ref().err().cloned());
        let (kind, stage, reason) = match (e.is_void, e.voided_at) {
            // A void is a reversal line in the month of the void.
            (true, _) => ("void".to_string(), None, e.void_reason.clone().unwrap_or_default()),
            // A voided earning still belongs to the month it was booked in (so that
            // month's statement never changes afterwards).
            (false, Some(voided_at)) => (
                e.kind.as_str().to_string(),
                None,
                format!(
                    "{} (voided {}: {})",
                    e.reason.clone().unwrap_or_default(),
                    voided_at.format("%Y-%m-%d"),
                    e.void_reason.clone().unwrap_or_default()
                ),
            ),
            (false, None) => (e.kind.as_str().to_string(), e.stage, e.note.clone().or(e.reason.clone()).unwrap_or_default()),
        };
        let stage = match (stage, e.is_void || e.voided_at.is_some()) {
            (None, false) => return Err(AppError::internal("a live earning has no stage in its read model")),
            (s, _) => s,
        };
        out.push(StatementLine {
            section,
            date: e.date,
            case_reference: e.case_reference,
            external_tenant_id: e.external_tenant_id,
            kind,
            stage,
            amount_minor: Some(amount),
            currency: e.currency,
            amount_usd_minor: usd.ok(),
            reason,
            earning_id: Some(e.id),
            payout_id: e.payout_id,
            payment_amount_minor: None,
        });
    }
    Ok(out)
}

/// The "did not earn" lines of these payouts, in their order. Their reason is the stored
/// latest decision when it names this partner; otherwise `decide_for_partner` at the
/// payout instant, on the client's facts read for those payouts only (one query per
/// table), so no other partner's data is used. The tenant is the decision's link when it
/// is the partner's, else the partner's latest link to the client.
async fn not_earned_lines(tx: &mut Tx, partner_id: Uuid, candidates: Vec<NotEarned>) -> Result<Vec<StatementLine>, AppError> {
    let clients: Vec<Uuid> = candidates.iter().map(|n| n.client_id).collect::<BTreeSet<_>>().into_iter().collect();
    let partner_links = tx.partner_link_tenants_of_clients(partner_id, &clients).await?;
    // The partner's links by id, and per client its latest (by `linked_at`; on a tie the
    // last in id order).
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
    let mine = |n: &NotEarned| n.latest.filter(|d| d.partner_id == Some(partner_id));
    let unexplained: Vec<Uuid> =
        candidates.iter().filter(|n| mine(n).is_none()).map(|n| n.client_id).collect::<BTreeSet<_>>().into_iter().collect();
    let mut facts_of: HashMap<Uuid, (Option<Instant>, Vec<Link>, Vec<LinkRequest>)> = HashMap::new();
    if !unexplained.is_empty() {
        let clients = tx.clients_by_ids(&unexplained).await?;
        let mut links_of = tx.links_of_clients(&unexplained).await?;
        let mut requests_of = tx.link_requests_of_clients(&unexplained).await?;
        for id in &unexplained {
            let Some(client) = clients.get(id) else { continue };
            let links = links_of.remove(id).unwrap_or_default();
            let requests = requests_of.remove(id).unwrap_or_default().into_iter().map(|r| r.request).collect();
            facts_of.insert(*id, (client.onboarding_completed_at, links, requests));
        }
    }
    let mut out = Vec::with_capacity(candidates.len());
    for n in candidates {
        let (reason, link_id) = match mine(&n) {
            Some(d) => (d.reason, d.link_id),
            None => {
                // A payout on a client that no longer exists is left out.
                let Some((onboarded, links, requests)) = facts_of.get(&n.client_id) else { continue };
                let facts = ClientFacts { links, requests, onboarding_completed_at: *onboarded };
                let cf = CaseFacts { created_at: n.case_created_at, source: n.case_source, creating_partner: n.creating_partner_id };
                let d = decide_for_partner(partner_id, cf, facts, n.created_at);
                (d.reason, d.link_id)
            }
        };
        let tenant = link_id
            .and_then(|id| link_by_id.get(&id))
            .or_else(|| latest_link_of_client.get(&n.client_id))
            .map(|l| l.external_tenant_id.clone())
            .unwrap_or_default();
        out.push(StatementLine {
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
    Ok(out)
}
