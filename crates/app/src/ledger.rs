//! Keeping the append-only ledger in step with earnings: after any status change, each
//! touched earning's stage is derived again and the ledger gets the entries that move it
//! there (core `ledger::moves`). Reconciliation proves entries, earnings and the reporting
//! summary agree to the cent.

use std::collections::{BTreeMap, HashMap};

use refshare_core::ledger::{moves, stage_of, EarningStatuses};
use refshare_core::money::{checked_add, format_minor, Currency};
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, InvoicingTriggerMode, RevenueStage};
use refshare_core::Instant;
use refshare_store::{
    AuditRecord, EarningReadModel, EarningRecord, EarningSyncRow, LedgerEntryRecord, PayoutFacts, StatementSums, Store, Totals, Tx,
    WebhookSubscriptionRecord,
};
use serde::Serialize;
use uuid::Uuid;

use crate::error::LedgerError;
use crate::fx::{overflow, usd_at, UsdRates};
use crate::reporting::summary_of;
use crate::webhooks::{enqueue_events, enqueue_events_for, event};
use crate::{App, AppError};

/// Why entries were posted, and the record that caused them.
#[derive(Debug, Clone)]
pub struct Cause<'a> {
    pub name: &'a str,
    pub id: Option<String>,
    pub at: Instant,
}

impl<'a> Cause<'a> {
    pub fn new(name: &'a str, id: impl ToString, at: Instant) -> Cause<'a> {
        Cause { name, id: Some(id.to_string()), at }
    }
}

/// Most earnings one round of [`sync_earnings`] handles (locked, loaded and written with
/// a fixed number of statements); a larger set goes round by round in id order.
const SYNC_CHUNK: usize = refshare_store::earning_sets::IDS_PER_STATEMENT;

/// The stage an earning belongs in by its sync row; `None` once voided.
fn target_stage(e: &EarningRecord, row: &EarningSyncRow) -> Option<RevenueStage> {
    e.is_live().then(|| {
        stage_of(
            e.kind,
            EarningStatuses { commission: row.commission, cp_invoice: row.cp_invoice, referral: e.referral_invoice_status, mode: row.mode },
        )
    })
}

/// The read model an earning should carry (migration 0019): its stage, its payment's
/// date and the rate locked on its payout.
fn read_model(row: &EarningSyncRow, stage: Option<RevenueStage>) -> EarningReadModel {
    EarningReadModel { earning_id: row.earning.id, stage, paid_at: row.paid_at, fx_usd_per_unit_e8: row.fx_usd_per_unit_e8 }
}

/// The stage an earning belongs in now; `None` once voided.
pub async fn stage_now(tx: &mut Tx, e: &EarningRecord) -> Result<Option<RevenueStage>, AppError> {
    if !e.is_live() {
        return Ok(None);
    }
    let row = tx.earning_sync_rows(&[e.id]).await?.pop().ok_or_else(|| AppError::internal("earning without payout or partner"))?;
    Ok(target_stage(e, &row))
}

/// The stage each of `earnings` belongs in now (`None` once voided), by id, from the sync
/// rows read with them (`Tx::attribution_facts`; any order, others ignored).
pub fn stages_from(earnings: &[&EarningRecord], rows: &[EarningSyncRow]) -> Result<HashMap<Uuid, Option<RevenueStage>>, AppError> {
    let rows: HashMap<Uuid, &EarningSyncRow> = rows.iter().map(|r| (r.earning.id, r)).collect();
    let mut out = HashMap::with_capacity(earnings.len());
    for e in earnings {
        let stage = match e.is_live() {
            true => target_stage(e, rows.get(&e.id).ok_or_else(|| AppError::internal("earning without payout or partner"))?),
            false => None,
        };
        out.insert(e.id, stage);
    }
    Ok(out)
}

/// Fills in the read model of earnings written before it existed (migration 0019), a
/// thousand per transaction; the ledger is not touched. Runs at start; a no-op once done.
pub async fn fill_read_models(store: &Store) -> Result<u64, AppError> {
    let mut filled = 0u64;
    loop {
        let mut tx = store.begin().await?;
        let ids = tx.earnings_without_read_model(1000).await?;
        if ids.is_empty() {
            return Ok(filled);
        }
        let rows = tx.earning_sync_rows(&ids).await?;
        if rows.len() != ids.len() {
            return Err(AppError::internal("listed earning is missing"));
        }
        let models: Vec<EarningReadModel> = rows.iter().map(|r| read_model(r, target_stage(&r.earning, r))).collect();
        tx.set_earning_read_models(&models).await?;
        tx.commit().await?;
        filled += ids.len() as u64;
    }
}

/// A stage change the ledger recorded for one earning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageChange {
    pub earning_id: Uuid,
    pub partner_id: Uuid,
    pub from: Option<RevenueStage>,
    pub to: Option<RevenueStage>,
}

/// Re-reads the earning and posts the entries that bring its ledger holding to its
/// current stage. Returns the change, if there was one. The one-element case of
/// [`sync_earnings`].
pub async fn sync_earning(tx: &mut Tx, earning_id: Uuid, cause: &Cause<'_>) -> Result<Option<StageChange>, AppError> {
    Ok(sync_earnings(tx, &[earning_id], cause).await?.pop())
}

/// Re-reads a set of earnings and posts, for each, the entries that bring its ledger
/// holding to its current stage, with its read model, its webhook event and its audit
/// row: the rows one sync per earning would write, written set-based. Per round of up to
/// [`SYNC_CHUNK`] earnings (in id order): one statement locks them, one loads them with
/// their payouts, CP invoice statuses, partner modes and payment dates, one loads their
/// ledger holdings; stages and moves are computed in Rust (core), then multi-row
/// statements write the read models, entries, outbox events and audit rows. Returns the
/// changes, in earning id order.
pub async fn sync_earnings(tx: &mut Tx, earning_ids: &[Uuid], cause: &Cause<'_>) -> Result<Vec<StageChange>, AppError> {
    let mut ids = earning_ids.to_vec();
    ids.sort();
    ids.dedup();
    let mut changes = Vec::new();
    for chunk in ids.chunks(SYNC_CHUNK) {
        // One sync of an earning at a time: a second waits here and then reads the first's entries.
        tx.lock_earnings(chunk).await?;
        let mut rows = tx.earning_sync_rows(chunk).await?;
        if rows.len() != chunk.len() {
            return Err(AppError::internal("syncing a missing earning"));
        }
        rows.sort_by_key(|r| r.earning.id);
        let mut holdings: HashMap<Uuid, Vec<(RevenueStage, i64)>> = HashMap::new();
        for (id, stage, sum) in tx.ledger_holdings_of(chunk).await? {
            if sum != 0 {
                holdings.entry(id).or_default().push((stage, sum));
            }
        }
        let (mut models, mut entries, mut events, mut audits) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            let step = sync_step(row, holdings.remove(&row.earning.id).unwrap_or_default(), cause);
            models.extend(step.model);
            entries.extend(step.entries);
            if let Some((event, audit, change)) = step.moved {
                events.push(event);
                audits.push(audit);
                changes.push(change);
            }
        }
        tx.set_earning_read_models(&models).await?;
        tx.bulk_ledger_entries(&entries).await?;
        enqueue_events(tx, cause.at, events).await?;
        tx.bulk_audit(&audits).await?;
    }
    Ok(changes)
}

/// What one earning's sync writes: its read model if the stored one differs, the ledger
/// entries that move its holding `held` to its stage and, when they move it, its webhook
/// event, its audit row and the change.
struct SyncStep {
    model: Option<EarningReadModel>,
    entries: Vec<LedgerEntryRecord>,
    moved: Option<((Uuid, &'static str, serde_json::Value), AuditRecord, StageChange)>,
}

/// The sync of one earning, computed from its sync row and ledger holding (no I/O): the
/// rows [`sync_earnings`] and [`create_earning`] write.
fn sync_step(row: &EarningSyncRow, mut held: Vec<(RevenueStage, i64)>, cause: &Cause<'_>) -> SyncStep {
    let e = &row.earning;
    let target = target_stage(e, row);
    let model = read_model(row, target);
    let model = (row.stored.as_ref() != Some(&model)).then_some(model);
    held.sort_by_key(|(s, _)| s.as_str());
    let m = moves(&held, target.map(|s| (s, e.amount_minor)));
    if m.is_empty() {
        return SyncStep { model, entries: Vec::new(), moved: None };
    }
    let entries = m
        .iter()
        .map(|(stage, amount)| LedgerEntryRecord {
            id: Uuid::new_v4(),
            partner_id: e.partner_id,
            earning_id: e.id,
            stage: *stage,
            amount_minor: *amount,
            currency: e.currency,
            cause: cause.name.to_string(),
            cause_id: cause.id.clone(),
            created_at: cause.at,
        })
        .collect();
    let from = held.iter().find(|(_, a)| *a != 0).map(|(s, _)| *s);
    // Announce it to the partner's webhooks in the same transaction (the outbox).
    let event = match (from, target) {
        (None, Some(_)) => event::EARNING_CREATED,
        _ => event::EARNING_STAGE_CHANGED,
    };
    let audit = AuditRecord {
        id: Uuid::new_v4(),
        at: cause.at,
        actor: crate::actor::resolve(crate::actor::SYSTEM),
        action: "earning.stage_changed".into(),
        entity: "earning".into(),
        entity_id: e.id.to_string(),
        detail: serde_json::json!({"from": from.map(|s| s.as_str()), "to": target.map(|s| s.as_str()), "cause": cause.name, "causeId": cause.id}),
    };
    let change = StageChange { earning_id: e.id, partner_id: e.partner_id, from, to: target };
    SyncStep { model, entries, moved: Some(((e.partner_id, event, earning_event_data(e, from, target, cause)), audit, change)) }
}

/// What the sync of a new earning reads about its payout, payment and partner, given by
/// the caller that just wrote them (or read them once for several earnings).
#[derive(Debug, Clone, Copy)]
pub struct NewEarningFacts {
    pub commission: CommissionStatus,
    /// `NotInvoiced`: a payout created with its earning is billed by no CP invoice yet.
    pub cp_invoice: CpInvoiceStatus,
    pub mode: InvoicingTriggerMode,
    /// The payment's date.
    pub paid_at: Instant,
    /// The USD rate locked on the payout.
    pub fx_usd_per_unit_e8: Option<i64>,
    /// The client of the earning's case.
    pub client_id: Uuid,
}

/// Inserts a new earning and syncs it: the rows [`Tx::insert_earning`] followed by
/// [`sync_earning`] write (the read model, the entries, the outbox event and the audit
/// row, computed by the same [`sync_step`]), without reading back what the transaction
/// just wrote. The earning is new, so the ledger holds nothing of it, no read model is
/// stored and no other transaction can see (or sync) it before the commit; its payout's,
/// payment's and partner's facts come from the caller. The earning and its entries are
/// queued with its payout, which the caller queued with [`Tx::defer_payment`]
/// ([`Tx::defer_earning_with_model`]: its read model goes in with it, its totals' delta
/// computed from it; written with the group's other payments' rows); the active webhook
/// subscriptions of its partner may come from the caller too (read once for a group of
/// payments, `subs`), else they are read here; the audit row is deferred to the commit
/// ([`Tx::defer_audit`]: nothing in the transaction reads the audit trail).
pub async fn create_earning(
    tx: &mut Tx,
    e: &EarningRecord,
    facts: NewEarningFacts,
    cause: &Cause<'_>,
    subs: Option<&[WebhookSubscriptionRecord]>,
) -> Result<Option<StageChange>, AppError> {
    let row = EarningSyncRow {
        earning: e.clone(),
        commission: facts.commission,
        cp_invoice: facts.cp_invoice,
        mode: facts.mode,
        paid_at: facts.paid_at,
        fx_usd_per_unit_e8: facts.fx_usd_per_unit_e8,
        stored: None,
    };
    let step = sync_step(&row, Vec::new(), cause);
    let model = step.model.unwrap_or_else(|| read_model(&row, target_stage(e, &row)));
    tx.defer_earning_with_model(e, &model, facts.client_id)?;
    tx.defer_ledger_entries(&step.entries);
    let Some((event, audit, change)) = step.moved else { return Ok(None) };
    match subs {
        Some(subs) => enqueue_events_for(tx, cause.at, vec![event], subs).await?,
        None => enqueue_events(tx, cause.at, vec![event]).await?,
    };
    tx.defer_audit(audit);
    Ok(Some(change))
}

/// The `data` of `earning.created` / `earning.stage_changed`: the earning, where it was
/// and where it is now (`null` once voided), and what moved it.
fn earning_event_data(e: &EarningRecord, from: Option<RevenueStage>, to: Option<RevenueStage>, cause: &Cause<'_>) -> serde_json::Value {
    serde_json::json!({
        "earningId": e.id,
        "kind": e.kind.as_str(),
        "caseId": e.case_id,
        "payoutId": e.payout_id,
        "amount": format_minor(e.amount_minor, e.currency.exponent()),
        "currency": e.currency.code(),
        "previousStage": from.map(|s| s.as_str()),
        "stage": to.map(|s| s.as_str()),
        "stageLabel": to.map(|s| s.label()),
        "voidReason": e.void_reason,
        "note": e.note,
        "cause": cause.name,
    })
}

/// Syncs every earning of a payout.
pub async fn sync_payout(tx: &mut Tx, payout_id: Uuid, cause: &Cause<'_>) -> Result<Vec<StageChange>, AppError> {
    sync_payouts(tx, &[payout_id], cause).await
}

/// Syncs every earning of the payouts, set-based.
pub async fn sync_payouts(tx: &mut Tx, payout_ids: &[Uuid], cause: &Cause<'_>) -> Result<Vec<StageChange>, AppError> {
    let ids = tx.earning_ids_of_payouts(payout_ids).await?;
    sync_earnings(tx, &ids, cause).await
}

/// The outcome of a clean reconciliation.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reconciliation {
    pub ok: bool,
    pub entries: i64,
    pub earnings: usize,
    pub partners: usize,
}

fn fmt_totals(t: &Totals) -> String {
    format!(
        "{} rows ({} payout), {} minor units, {} US cents, {} US cents of platform revenue",
        t.count, t.payout_count, t.amount_minor, t.usd_minor, t.platform_usd_minor
    )
}

fn fmt_statement_sums(t: &StatementSums) -> String {
    format!("{} rows ({} clawbacks), {} minor units, {} US cents", t.count, t.clawback_count, t.amount_minor, t.usd_minor)
}

fn fmt_holding(h: &[(RevenueStage, i64)]) -> String {
    if h.is_empty() {
        return "nothing".into();
    }
    h.iter().map(|(s, a)| format!("{a} in {}", s.as_str())).collect::<Vec<_>>().join(", ")
}

/// A partner's summary as recomputed from its rows in memory: per stage the count, the
/// US cents of the convertible rows and whether some row had no figure.
type RowBuckets = BTreeMap<RevenueStage, (i64, i64, bool)>;

impl App {
    /// Proves that (1) every earning's ledger holding is exactly its amount in its current
    /// stage, and nothing else, and its read model carries that stage, its payment's date
    /// and its payout's locked rate; (2) per partner, stage and currency the ledger balance
    /// equals the SQL sum of the live earnings by their stored stage; (3) the
    /// earnings totals (migration 0022) equal the aggregate recomputed from the rows, key
    /// by key, every earning carries its payout's platform fee, every payout its case's
    /// client, and the estimate totals
    /// (migration 0025) equal the rows converted at the rates they hold, and so do the month
    /// totals and month estimates (migration 0033) and the kept statement totals and
    /// estimates (migration 0037), and the client totals (migration 0040); (4) per partner the SQL summary of the report (counts and USD per stage)
    /// equals the sum over its rows, each converted as the report's rows are. Set-based: a handful of full-table reads
    /// and one summary aggregate per partner, never a partner's report in memory. The first
    /// discrepancy is returned as a 409 `LedgerDiscrepancy`.
    pub async fn reconcile(&self) -> Result<Reconciliation, AppError> {
        let discrepancy = |detail: String| AppError::from(LedgerError::Discrepancy { detail });
        let mut tx = self.store.read().await?;
        let earnings = tx.all_earnings().await?;
        let holdings = tx.ledger_holdings().await?;
        let entries = tx.ledger_entry_count().await?;
        let balances = tx.ledger_balances(None).await?;
        let partners = tx.partners().await?;
        let models = tx.earning_read_models().await?;
        let payouts: HashMap<Uuid, PayoutFacts> = tx.payout_facts().await?.into_iter().map(|p| (p.id, p)).collect();
        let sums = tx.live_earning_sums().await?;
        let mut rates = UsdRates::at(self.now());
        let current = rates.load_all(&mut tx).await?;
        let rate_of = |c: Currency| current.iter().find(|(x, _)| *x == c).map(|(_, r)| *r);
        let models: BTreeMap<Uuid, EarningReadModel> = models.into_iter().map(|m| (m.earning_id, m)).collect();
        let mode_of: HashMap<Uuid, InvoicingTriggerMode> = partners.iter().map(|p| (p.id, p.invoicing_trigger_mode)).collect();
        let mut held: BTreeMap<Uuid, Vec<(RevenueStage, i64)>> = BTreeMap::new();
        for (id, stage, sum) in holdings {
            if sum != 0 {
                held.entry(id).or_default().push((stage, sum));
            }
        }
        let mut from_rows: HashMap<Uuid, RowBuckets> = HashMap::new();
        for e in &earnings {
            let have = held.remove(&e.id).unwrap_or_default();
            let stage = if e.is_live() {
                let payout = payouts.get(&e.payout_id).ok_or_else(|| discrepancy(format!("live earning {} has no payout", e.id)))?;
                let mode = *mode_of.get(&e.partner_id).ok_or_else(|| discrepancy(format!("live earning {} has no partner", e.id)))?;
                let statuses = EarningStatuses {
                    commission: payout.commission,
                    cp_invoice: payout.cp_invoice,
                    referral: e.referral_invoice_status,
                    mode,
                };
                let stage = stage_of(e.kind, statuses);
                // The row's USD figure as the report converts it (locked, else current rate).
                let usd = match payout.fx_usd_per_unit_e8.or_else(|| rate_of(e.currency)) {
                    Some(rate) => Some(usd_at(e.amount_minor, e.currency, rate)?),
                    None => None,
                };
                let b = from_rows.entry(e.partner_id).or_default().entry(stage).or_default();
                b.0 += 1;
                match usd {
                    Some(u) => b.1 = checked_add(b.1, u).map_err(overflow)?,
                    None => b.2 = true,
                }
                let stored = models.get(&e.id);
                if let Some(m) = stored.filter(|m| m.fx_usd_per_unit_e8 != payout.fx_usd_per_unit_e8 || m.paid_at != payout.paid_at) {
                    return Err(discrepancy(format!(
                        "earning {}: the read model says paid {} at rate {:?}, the payout says paid {} at rate {:?}",
                        e.id, m.paid_at, m.fx_usd_per_unit_e8, payout.paid_at, payout.fx_usd_per_unit_e8
                    )));
                }
                Some(stage)
            } else {
                None
            };
            // The read model reporting sums by carries the same stage (voided: none).
            let stored = models.get(&e.id);
            if stored.and_then(|m| m.stage) != stage || (e.is_live() && stored.is_none()) {
                return Err(discrepancy(format!(
                    "earning {}: the read model says {}, the stage rule says {}",
                    e.id,
                    stored.and_then(|m| m.stage).map_or("no stage", |s| s.as_str()),
                    stage.map_or("no stage", |s| s.as_str())
                )));
            }
            let want: Vec<(RevenueStage, i64)> =
                stage.map(|s| vec![(s, e.amount_minor)]).unwrap_or_default().into_iter().filter(|(_, a)| *a != 0).collect();
            if have != want {
                return Err(discrepancy(format!(
                    "earning {} ({} {}): the ledger holds {}, the earning says {}",
                    e.id,
                    e.kind.as_str(),
                    e.currency.code(),
                    fmt_holding(&have),
                    fmt_holding(&want)
                )));
            }
        }
        if let Some((id, h)) = held.into_iter().next() {
            return Err(discrepancy(format!("ledger entries for unknown earning {id}: {}", fmt_holding(&h))));
        }
        // (2) Balances against the live earnings summed by their stored stage, in SQL.
        let mut by_stage: BTreeMap<(Uuid, RevenueStage, Currency), i64> = BTreeMap::new();
        for (partner, stage, currency, sum) in sums {
            let stage =
                stage.ok_or_else(|| discrepancy(format!("partner {partner}: live earnings in {} have no stage", currency.code())))?;
            by_stage.insert((partner, stage, currency), sum);
        }
        for b in &balances {
            let rows = by_stage.remove(&(b.partner_id, b.stage, b.currency)).unwrap_or(0);
            if rows != b.amount_minor {
                return Err(discrepancy(format!(
                    "partner {}: ledger balance in {} is {} {} but the reporting rows sum to {}",
                    b.partner_id,
                    b.stage.as_str(),
                    b.amount_minor,
                    b.currency.code(),
                    rows
                )));
            }
        }
        if let Some(((partner, stage, currency), sum)) = by_stage.into_iter().find(|(_, s)| *s != 0) {
            return Err(discrepancy(format!(
                "partner {partner}: reporting rows hold {sum} {} in {} but the ledger has no entries there",
                currency.code(),
                stage.as_str()
            )));
        }
        // (3) The earnings totals (migration 0022) against the aggregate recomputed from
        // the rows, key by key.
        if let Some((key, have, want)) = first_mismatch(tx.earning_totals().await?, tx.earning_totals_from_rows().await?) {
            return Err(discrepancy(format!(
                "partner {}: the earnings totals in {} {} ({}) say {}, the rows say {}",
                key.partner_id,
                key.stage.as_str(),
                key.currency.code(),
                if key.locked { "locked rate" } else { "estimates" },
                fmt_totals(&have),
                fmt_totals(&want)
            )));
        }
        // (3b) Every earning's platform fee (read model, migration 0025) is its payout's.
        if let Some((id, stored, fee)) = tx.platform_fee_mismatch().await? {
            return Err(discrepancy(format!(
                "earning {id}: the read model says platform fee {}, the payout says {fee}",
                stored.map_or("none".to_string(), |f| f.to_string())
            )));
        }
        // (3b') Every payout's client (migration 0038, the statement's "did not earn"
        // read) is its case's.
        if let Some((id, stored, client)) = tx.payout_client_mismatch().await? {
            return Err(discrepancy(format!(
                "payout {id}: it says client {}, its case's client is {client}",
                stored.map_or("none".to_string(), |c| c.to_string())
            )));
        }
        // (3c) The estimate totals (migration 0025) against the rows at the rates they
        // hold, key by key.
        if let Some((key, have, want)) = first_mismatch(tx.estimate_totals().await?, tx.estimate_totals_from_rows().await?) {
            return Err(discrepancy(format!(
                "partner {}: the estimate totals in {} {} say {}, the rows say {}",
                key.partner_id,
                key.stage.as_str(),
                key.currency.code(),
                fmt_totals(&have),
                fmt_totals(&want)
            )));
        }
        // (3d) The month totals and month estimates (migration 0033, the dashboard's chart)
        // against the rows, key by key (the estimates at the rates they hold).
        if let Some((key, have, want)) = first_mismatch(tx.month_totals().await?, tx.month_totals_from_rows().await?) {
            return Err(discrepancy(format!(
                "partner {}: the month totals of {} in {} ({}) say {}, the rows say {}",
                key.partner_id,
                key.month,
                key.currency.code(),
                if key.locked { "locked rate" } else { "estimates" },
                fmt_totals(&have),
                fmt_totals(&want)
            )));
        }
        if let Some((key, have, want)) = first_mismatch(tx.month_estimates().await?, tx.month_estimates_from_rows().await?) {
            return Err(discrepancy(format!(
                "partner {}: the month estimates of {} in {} say {}, the rows say {}",
                key.partner_id,
                key.month,
                key.currency.code(),
                fmt_totals(&have),
                fmt_totals(&want)
            )));
        }
        // (3e) The kept statement totals and estimates (migration 0037, the statement
        // page) against the rows, key by key (the estimates at the rates they hold).
        if let Some((key, have, want)) = first_mismatch(tx.kept_statement_totals().await?, tx.kept_statement_totals_from_rows().await?) {
            return Err(discrepancy(format!(
                "partner {}: the statement totals of {} in {} {} ({}) say {}, the rows say {}",
                key.partner_id,
                key.month,
                key.stage.as_str(),
                key.currency.code(),
                if key.locked { "locked rate" } else { "estimates" },
                fmt_statement_sums(&have),
                fmt_statement_sums(&want)
            )));
        }
        if let Some((key, have, want)) =
            first_mismatch(tx.kept_statement_estimates().await?, tx.kept_statement_estimates_from_rows().await?)
        {
            return Err(discrepancy(format!(
                "partner {}: the statement estimates of {} in {} {} say {}, the rows say {}",
                key.partner_id,
                key.month,
                key.stage.as_str(),
                key.currency.code(),
                fmt_statement_sums(&have),
                fmt_statement_sums(&want)
            )));
        }
        // (3f) The client totals (migration 0040, the client list's earnings) against the
        // rows, key by key (the estimate rows at the rates they hold).
        if let Some((key, have, want)) = first_mismatch(tx.client_earnings_totals().await?, tx.client_earnings_totals_from_rows().await?) {
            return Err(discrepancy(format!(
                "partner {}: the client totals of client {} in {} ({}) say {} rows / {} US cents, the rows say {} / {}",
                key.partner_id,
                key.client_id,
                key.currency.code(),
                if key.locked { "locked rate" } else { "estimates" },
                have.count,
                have.usd_minor,
                want.count,
                want.usd_minor
            )));
        }
        // (4) The SQL summary against the rows, per partner.
        for partner in &partners {
            let groups = tx.report_summary(partner.id, &Default::default(), &current).await?;
            let summary = summary_of(&groups, &rates)?;
            let rows = from_rows.remove(&partner.id).unwrap_or_default();
            for (stage, bucket) in &summary.buckets {
                let (count, usd, partial) = rows.get(stage).copied().unwrap_or_default();
                if bucket.count != count || bucket.usd_minor != usd || bucket.usd_partial != partial {
                    return Err(discrepancy(format!(
                        "partner {}: summary bucket {} says {} rows / {} US cents{}, rows say {} / {}{}",
                        partner.id,
                        stage.as_str(),
                        bucket.count,
                        bucket.usd_minor,
                        if bucket.usd_partial { " (partial)" } else { "" },
                        count,
                        usd,
                        if partial { " (partial)" } else { "" },
                    )));
                }
            }
        }
        Ok(Reconciliation { ok: true, entries, earnings: earnings.len(), partners: partners.len() })
    }
}

/// The first key (kept keys first, then recomputed ones, each in order) whose kept figures
/// differ from those recomputed from the rows, a key missing on one side counting as
/// zero: `(key, kept, recomputed)`. `reconcile`'s check of every kept total.
fn first_mismatch<K: Ord + Clone, V: PartialEq + Default + Copy>(kept: Vec<(K, V)>, rows: Vec<(K, V)>) -> Option<(K, V, V)> {
    let kept: BTreeMap<K, V> = kept.into_iter().collect();
    let rows: BTreeMap<K, V> = rows.into_iter().collect();
    kept.keys().chain(rows.keys()).find_map(|key| {
        let (have, want) = (kept.get(key).copied().unwrap_or_default(), rows.get(key).copied().unwrap_or_default());
        (have != want).then(|| (key.clone(), have, want))
    })
}
