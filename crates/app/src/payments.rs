//! Registering a debtor payment: the payout, its stored attribution decision and, when
//! attributed, the partner's earning with its first ledger entries, in one transaction.
//! A payment may not exceed what is still owed on the case (core `owed`) unless the
//! operator allows an overpayment; the check runs under the case's lock so concurrent
//! payments cannot both pass it. `externalId` de-duplicates per case; an `Idempotency-Key`
//! replays the first response exactly (API.md). Single payments are booked by the payment
//! writer, several to a transaction (group commit, `payments_group`).

use refshare_core::attribution::{decide, CaseFacts, ClientFacts, ENGINE_VERSION};
use refshare_core::case::Lifecycle;
use refshare_core::fees::{referral_fee, split_payment, FeeTerms};
use refshare_core::ledger::EarningKind;
use refshare_core::money::{format_minor, parse_amount};
use refshare_core::owed::fit_payment;
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, InvoicingTriggerMode};
use refshare_core::Instant;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Mutex;

use refshare_core::link::{Link, LinkRequest};
use refshare_store::{AuditRecord, CaseRecord, DecisionRecord, EarningRecord, PaymentRecord, PayoutRecord, Tx, WebhookSubscriptionRecord};
use serde::Deserialize;
use uuid::Uuid;

use crate::cases::Rendered;
use crate::error::PaymentError;
use crate::ledger::{create_earning, Cause, NewEarningFacts};
use crate::{actor, App, AppError};

/// `POST /cases/{caseIdOrReference}/payments` body.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentInput {
    pub amount: serde_json::Number,
    pub paid_at: Option<chrono::DateTime<chrono::Utc>>,
    pub external_id: Option<String>,
    /// Book the payment even if it exceeds what is still owed (it is then flagged).
    #[serde(default)]
    pub allow_overpayment: bool,
}

/// What registering a payment produced.
#[derive(Debug, Clone)]
pub struct PaymentOutcome {
    pub payment: PaymentRecord,
    pub payout: PayoutRecord,
    pub decision: DecisionRecord,
    /// True when `externalId` matched an earlier payment and nothing new was written.
    pub replayed: bool,
}

/// The scope of the operators' `Idempotency-Key`s on payments.
pub(crate) const PAYMENT_KEY_SCOPE: &str = "operator-payments";

/// A refusal by the payment rules is a keyed request's answer: stored and replayed as it was.
pub(crate) fn is_stored_refusal(e: &AppError) -> bool {
    matches!(e, AppError::Payment(PaymentError::ExceedsRemainder { .. }))
}

/// How a keyed payment's answer is rendered (what its `Idempotency-Key` stores).
pub(crate) type Render = Box<dyn Fn(Result<&PaymentOutcome, &AppError>) -> Rendered + Send + Sync>;

/// A single payment's `Idempotency-Key`: the key, the hash of the request it came with,
/// and how its answer is rendered (the rendered answer is what the key stores).
pub(crate) struct KeyedPayment {
    pub key: String,
    pub request_hash: String,
    pub render: Render,
}

/// A single payment's `Idempotency-Key` as the request brings it: the key, the request's
/// body and how its answer is rendered. Once its case is resolved it is a
/// [`KeyedPayment`] (the request hashed is the case and the body).
pub(crate) struct KeyedRequest {
    pub key: String,
    pub body: String,
    pub render: Render,
}

impl KeyedRequest {
    /// The key for a payment on `case_id`.
    pub(crate) fn on_case(self, case_id: Uuid) -> KeyedPayment {
        KeyedPayment { request_hash: crate::auth::hash_secret(&format!("{case_id}\n{}", self.body)), key: self.key, render: self.render }
    }
}

/// A validated payment request against one case.
pub(crate) struct Checked {
    pub(crate) case: CaseRecord,
    amount: i64,
}

/// What the payments of one shared transaction (a batch chunk or a group of single
/// payments, `payments_batch::book_together`) read once, after every lock of the
/// transaction is taken, instead of once per payment: their cases, the `externalId`s
/// already stored on those cases, the cases' clients with their links and link requests
/// (the facts of the attribution decision), and the partners those links, requests and
/// cases name with their webhook subscriptions. One statement per group
/// (`Tx::payment_group_rows`).
///
/// It is made for one transaction and dropped with it: nothing read here outlives the
/// group, so a later group reads afresh. A case is served from here only to the first
/// payment of the group on it; once a payment was attempted on a case, its payments and
/// what is still owed may have changed, so every later payment on it re-reads the case
/// and looks its `externalId` up, as a payment alone does. Clients, links and link
/// requests are not written by booking a payment, so they stay as read for the whole
/// transaction; each payment takes the facts of its own case's client. Neither are
/// partners nor webhook subscriptions: the invoicing mode and the subscriptions of the
/// partner an earning goes to serve the whole group as read with it (the group is booked
/// as of that read, as the clients' facts are); a partner the read did not cover is read
/// the first time a payment of the group needs it.
#[derive(Default)]
pub(crate) struct GroupReads {
    state: Mutex<GroupState>,
}

#[derive(Default)]
struct GroupState {
    /// Cases no payment of the group was attempted on yet.
    cases: HashMap<Uuid, CaseRecord>,
    /// `(case, externalId)` of the payments stored on those cases when they were read.
    stored_keys: HashSet<(Uuid, String)>,
    /// Per client read: when it completed onboarding, its links and its link requests.
    clients: HashMap<Uuid, ClientReads>,
    /// Per partner an earning of the group went to: its invoicing mode and webhook subscriptions.
    partners: HashMap<Uuid, PartnerReads>,
}

/// What the sync of a partner's new earning reads about the partner.
#[derive(Clone)]
struct PartnerReads {
    mode: InvoicingTriggerMode,
    subscriptions: Vec<WebhookSubscriptionRecord>,
}

#[derive(Clone)]
struct ClientReads {
    onboarding_completed_at: Option<Instant>,
    links: Vec<Link>,
    requests: Vec<LinkRequest>,
}

/// A case as [`GroupReads`] hands it to the first payment on it.
pub(crate) struct FreshCase {
    pub(crate) case: CaseRecord,
    /// Whether a payment with the payment's `externalId` was stored on the case.
    key_stored: bool,
}

impl GroupReads {
    /// Reads what the payments on `case_ids` need; `tx` must hold every case's lock.
    pub(crate) async fn load(tx: &mut Tx, case_ids: &BTreeSet<Uuid>) -> Result<GroupReads, AppError> {
        let ids: Vec<Uuid> = case_ids.iter().copied().collect();
        let read = tx.payment_group_rows(&ids).await?;
        let (mut links, mut requests, mut subscriptions) = (read.links, read.requests, read.subscriptions);
        let clients = read
            .clients
            .into_values()
            .map(|c| {
                let reads = ClientReads {
                    onboarding_completed_at: c.onboarding_completed_at,
                    links: links.remove(&c.id).unwrap_or_default(),
                    requests: requests.remove(&c.id).unwrap_or_default().into_iter().map(|r| r.request).collect(),
                };
                (c.id, reads)
            })
            .collect();
        let partners = read
            .partners
            .into_values()
            .map(|p| {
                let reads = PartnerReads { mode: p.invoicing_trigger_mode, subscriptions: subscriptions.remove(&p.id).unwrap_or_default() };
                (p.id, reads)
            })
            .collect();
        let cases = read.cases.into_iter().map(|c| (c.id, c)).collect();
        Ok(GroupReads { state: Mutex::new(GroupState { cases, stored_keys: read.stored_keys, clients, partners }) })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, GroupState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The case as read under the locks if no payment of the group was attempted on it
    /// yet, and from now on never again (later payments on it read it themselves).
    pub(crate) fn first_use_of(&self, case_id: Uuid, external_id: Option<&str>) -> Option<FreshCase> {
        let mut state = self.state();
        let case = state.cases.remove(&case_id)?;
        let key_stored = external_id.is_some_and(|x| state.stored_keys.contains(&(case_id, x.to_string())));
        Some(FreshCase { case, key_stored })
    }

    fn client(&self, client_id: Uuid) -> Option<ClientReads> {
        self.state().clients.get(&client_id).cloned()
    }

    /// The partner's invoicing mode and webhook subscriptions: as read with the group, or
    /// read in `tx` the first time the group needs them, then as read.
    async fn partner(&self, tx: &mut Tx, partner_id: Uuid) -> Result<PartnerReads, AppError> {
        if let Some(read) = self.state().partners.get(&partner_id).cloned() {
            return Ok(read);
        }
        let read = read_partner(tx, partner_id).await?;
        self.state().partners.insert(partner_id, read.clone());
        Ok(read)
    }
}

/// The partner's invoicing mode and webhook subscriptions, as the sync of its new earning reads them.
async fn read_partner(tx: &mut Tx, partner_id: Uuid) -> Result<PartnerReads, AppError> {
    let partner = tx.partner(partner_id).await?.ok_or_else(|| AppError::internal("an earning for a missing partner"))?;
    let subscriptions = tx.webhook_subscriptions_of(&[partner_id]).await?;
    Ok(PartnerReads { mode: partner.invoicing_trigger_mode, subscriptions })
}

/// Validates a payment body against its case (400s): the amount in the case's currency,
/// the `externalId`'s length. Shared by the single and the bulk path (`payments_batch`).
pub(crate) fn check_payment_on(case: CaseRecord, input: &PaymentInput) -> Result<Checked, AppError> {
    let amount = parse_amount(&input.amount.to_string(), case.currency).map_err(|e| AppError::bad_field("amount", e.to_string()))?;
    if let Some(x) = &input.external_id {
        if x.trim().is_empty() || x.len() > 255 {
            return Err(AppError::bad_field("externalId", "must be 1 to 255 characters"));
        }
    }
    Ok(Checked { case, amount })
}

/// The stored record of a payout's first attribution decision (corrections are new,
/// linked records). The seed builds the same record through this function.
pub(crate) fn decision_record(
    id: Uuid,
    payout_id: Uuid,
    d: &refshare_core::attribution::Decision,
    fee_minor: i64,
    currency: refshare_core::money::Currency,
    at: Instant,
) -> DecisionRecord {
    DecisionRecord {
        id,
        payout_id,
        supersedes_id: None,
        partner_id: d.partner_id,
        link_id: d.link_id,
        link_request_id: d.link_request_id,
        link_status: d.link_status,
        reason: d.reason,
        attributed: d.attributed,
        case_source: d.case_source,
        referral_fee_bps: d.referral_fee_bps,
        referral_fee_minor: fee_minor,
        currency,
        engine_version: ENGINE_VERSION.into(),
        decided_at: at,
    }
}

impl App {
    /// Registers a payment (no `Idempotency-Key`). It is booked by the payment writer
    /// together with the payments queued at the same time, and answered after that
    /// transaction committed (`payments_group`); the writer resolves the case (404) and
    /// checks the body against it (400s) first.
    pub async fn register_payment(&self, case_key: &str, input: PaymentInput) -> Result<PaymentOutcome, AppError> {
        self.book_grouped(case_key, input, None).await?.payment()
    }

    /// `POST /cases/{case}/payments` with an optional `Idempotency-Key` (API.md), like
    /// customer `POST /cases`: the same key and request replay the stored response (status
    /// and body); the same key with another request is a 422 `IdempotencyConflict`. Only
    /// successes and 422s are stored (a 400, 404 or 409 may succeed on retry). Keys are
    /// the operators' (one scope); the request is the case and the body. The payment (or
    /// the refusal) and its stored response are written in one transaction under the key's
    /// lock, so a concurrent retry waits and then replays (`idempotency`); that transaction
    /// is the group's the payment writer books it in (`payments_group`).
    pub async fn register_payment_idempotent(
        &self,
        case_key: &str,
        input: PaymentInput,
        body: &serde_json::Value,
        key: Option<&str>,
        render: impl Fn(Result<&PaymentOutcome, &AppError>) -> Rendered + Send + Sync + 'static,
    ) -> Result<Rendered, AppError> {
        let Some(key) = key else {
            let out = self.register_payment(case_key, input).await?;
            return Ok(render(Ok(&out)));
        };
        let keyed = KeyedRequest { key: key.to_string(), body: body.to_string(), render: Box::new(render) };
        self.book_grouped(case_key, input, Some(keyed)).await?.answer()
    }

    /// Books the payment inside `tx`, which holds the case's lock: replays an `externalId`
    /// already booked, then re-reads the case (lifecycle, what is still owed) and decides.
    /// The one booking of a payment, single (in a group) or in a batch (`payments_batch`).
    /// `reads` are the group's reads ([`GroupReads`]) when it books with others.
    pub(crate) async fn book_payment(
        &self,
        tx: &mut Tx,
        c: &Checked,
        input: &PaymentInput,
        reads: Option<&GroupReads>,
    ) -> Result<PaymentOutcome, AppError> {
        let amount = c.amount;
        let now: Instant = self.now();
        let fresh = reads.and_then(|r| r.first_use_of(c.case.id, input.external_id.as_deref()));
        if fresh.is_none() {
            // This case may have a payment of the group queued: what is read next sees it.
            tx.flush_deferred_writes().await?;
        }
        if let Some(x) = &input.external_id {
            // Read under the locks and not stored then: no payment of it exists.
            let maybe_stored = fresh.as_ref().is_none_or(|f| f.key_stored);
            if let Some(payment) = if maybe_stored { tx.payment_by_external_id(c.case.id, x).await? } else { None } {
                if payment.amount_minor != amount {
                    return Err(PaymentError::ExternalIdReused { external_id: x.clone() }.into());
                }
                let payout = tx.payout_by_payment(payment.id).await?.ok_or_else(|| AppError::internal("payment without payout"))?;
                let decision = tx.decision_of_payout(payout.id).await?.ok_or_else(|| AppError::internal("payout without decision"))?;
                return Ok(PaymentOutcome { payment, payout, decision, replayed: true });
            }
        }
        // Re-read under the lock: the lifecycle and the payments may have changed.
        let case = match fresh {
            Some(f) => f.case,
            None => tx.case(c.case.id).await?.ok_or(AppError::NotFound("case"))?,
        };
        if case.lifecycle != Lifecycle::Active {
            return Err(PaymentError::CaseNotActive { reference: case.reference.clone(), lifecycle: case.lifecycle.as_str() }.into());
        }
        let remainder = case.remainder_minor();
        let fit = fit_payment(amount, remainder, input.allow_overpayment).map_err(|e| PaymentError::ExceedsRemainder {
            case_reference: case.reference.clone(),
            amount: format!("{} {}", format_minor(e.amount_minor, case.currency.exponent()), case.currency.code()),
            remainder: format!("{} {}", format_minor(e.remainder_minor, case.currency.exponent()), case.currency.code()),
            remainder_minor: e.remainder_minor,
        })?;
        let assignment = case.assignment.ok_or_else(|| AppError::internal("active case without collection partner"))?;
        let split = split_payment(
            amount,
            FeeTerms { success_fee_bps: assignment.success_fee_bps, platform_share_bps: assignment.platform_share_bps },
        )
        .map_err(|_| AppError::bad_field("amount", "is too large"))?;

        let client = match reads.and_then(|r| r.client(case.client_id)) {
            Some(read) => read,
            None => {
                let client = tx.client(case.client_id).await?.ok_or(AppError::NotFound("client"))?;
                ClientReads {
                    onboarding_completed_at: client.onboarding_completed_at,
                    links: tx.links_of_client(client.id).await?,
                    requests: tx.link_requests_of_client(client.id).await?.into_iter().map(|r| r.request).collect(),
                }
            }
        };
        let facts =
            ClientFacts { links: &client.links, requests: &client.requests, onboarding_completed_at: client.onboarding_completed_at };
        let d =
            decide(CaseFacts { created_at: case.created_at, source: case.source, creating_partner: case.creating_partner_id }, facts, now);
        let fee = match d.referral_fee_bps {
            Some(bps) => referral_fee(split.platform_fee, bps).map_err(|_| AppError::bad_field("amount", "is too large"))?,
            None => 0,
        };

        let payment = PaymentRecord {
            id: Uuid::new_v4(),
            case_id: case.id,
            amount_minor: amount,
            currency: case.currency,
            paid_at: input.paid_at.unwrap_or(now),
            external_id: input.external_id.clone(),
            created_at: now,
            is_overpayment: fit.is_overpayment(),
        };
        let payout = PayoutRecord {
            id: Uuid::new_v4(),
            payment_id: payment.id,
            case_id: case.id,
            collection_partner_id: Some(assignment.collection_partner_id),
            success_fee_minor: split.success_fee,
            platform_fee_minor: split.platform_fee,
            currency: case.currency,
            created_at: now,
            commission_status: CommissionStatus::Unpaid,
            commission_paid_at: None,
            fx_usd_per_unit_e8: None,
            fx_rate_date: None,
            cp_invoice_id: None,
        };
        let decision = decision_record(Uuid::new_v4(), payout.id, &d, fee, case.currency, now);
        // Written with the group's other payments' rows (`Tx::defer_payment`).
        tx.defer_payment(payment.clone(), payout.clone(), decision.clone());
        if let (true, Some(partner_id), true) = (d.attributed, d.partner_id, fee > 0) {
            let earning = EarningRecord {
                decision_id: Some(decision.id),
                ..EarningRecord::new(Uuid::new_v4(), &payout, partner_id, EarningKind::Payout, fee, now)
            };
            let partner = match reads {
                Some(r) => r.partner(tx, partner_id).await?,
                None => read_partner(tx, partner_id).await?,
            };
            // The payout was just written: unpaid, billed by no CP invoice, no rate locked.
            let facts = NewEarningFacts {
                commission: payout.commission_status,
                cp_invoice: CpInvoiceStatus::NotInvoiced,
                mode: partner.mode,
                paid_at: payment.paid_at,
                fx_usd_per_unit_e8: payout.fx_usd_per_unit_e8,
                client_id: case.client_id,
            };
            let cause = Cause::new("earning.created", payout.id, now);
            create_earning(tx, &earning, facts, &cause, Some(&partner.subscriptions)).await?;
        }
        // Written with the transaction's commit (nothing in it reads the audit trail).
        tx.defer_audit(AuditRecord {
            id: Uuid::new_v4(),
            at: now,
            actor: actor::resolve(actor::OPERATOR),
            action: "payment.registered".into(),
            entity: "case".into(),
            entity_id: case.id.to_string(),
            detail: serde_json::json!({
                "paymentId": payment.id, "payoutId": payout.id, "amountMinor": amount, "reason": d.reason.as_str(), "referralFeeMinor": fee,
                "overpayment": fit.is_overpayment(), "remainderBeforeMinor": remainder,
            }),
        });
        Ok(PaymentOutcome { payment, payout, decision, replayed: false })
    }
}
