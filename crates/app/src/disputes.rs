//! Disputes (SPEC §7): a partner disputes a case within the window after the reporting
//! period of its latest payout; the attribution check is snapshotted at filing and the
//! partner's pending earnings on the case sit in `Disputed` until an operator resolves it
//! as `upheld` (attribution correction: the missing earnings as new `correction` entries),
//! `rejected` (reason shown to the partner) or `adjusted` (a new `adjustment` entry for the
//! difference). Every step is audited and announced to the partner.

use refshare_core::attribution::Reason;
use refshare_core::fees::referral_fee;
use refshare_core::ledger::EarningKind;
use refshare_core::link::{Link, LinkStatus};
use refshare_core::money::{checked_add, checked_sum, parse_amount, parse_amount_or_zero, Currency, MoneyError, Overflow};
use refshare_core::stage::CommissionStatus;
use refshare_core::Instant;
use refshare_store::{DecisionRecord, DisputeRecord, EarningRecord, PageReq, PartnerRecord, Tx};
use serde::Deserialize;
use uuid::Uuid;

use crate::attribution::{dispute_deadline, AttributionView, PayoutLine};
use crate::error::DisputeError;
use crate::fx::overflow;
use crate::ledger::{sync_earning, sync_earnings, Cause};
use crate::{actor, audit, notify, App, AppError, FieldError};

/// Notification kind of every dispute e-mail.
pub const DISPUTE_UPDATE: &str = "dispute_update";

/// Engine version recorded on decisions written by an upheld dispute.
pub const CORRECTION_ENGINE: &str = "operator-correction";

/// The dispute statuses; `open` until resolved with one of the three outcomes.
pub const STATUSES: [&str; 4] = ["open", "upheld", "rejected", "adjusted"];

/// `POST /referral-api/disputes` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeInput {
    pub case_reference: Option<String>,
    pub external_tenant_id: Option<String>,
    pub creation_method: Option<String>,
    pub expected_outcome: Option<String>,
    pub observation: Option<String>,
}

/// `POST /admin-api/v1/disputes/{id}/resolve` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolveInput {
    pub outcome: Option<String>,
    pub reason: Option<String>,
    pub amount: Option<serde_json::Number>,
}

/// A dispute with what rendering it needs.
#[derive(Debug, Clone)]
pub struct DisputeView {
    pub dispute: DisputeRecord,
    pub case_reference: String,
    pub currency: Currency,
}

/// A trimmed required text of at most `max` characters; problems go to `errors`.
fn text(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>, max: usize) -> String {
    let t = v.as_deref().map(str::trim).unwrap_or_default();
    if t.is_empty() {
        errors.push(FieldError { field: field.into(), message: "is required".into() });
    } else if t.chars().count() > max {
        errors.push(FieldError { field: field.into(), message: format!("must be at most {max} characters") });
    }
    t.to_string()
}

/// The starting values of a dispute form, taken from the partner's check.
#[derive(Debug, Clone)]
pub struct DisputeDraft {
    pub input: DisputeInput,
    /// The payout disputed: the latest that did not earn, else the latest.
    pub payout: Option<PayoutLine>,
}

/// A dispute prefilled from the check: the case and the partner's tenant id, the recorded
/// creation source, the payout disputed and what the failing checks say. Every field
/// stays editable; [`App::file_dispute`] checks them as it checks the API's.
pub fn draft(view: &AttributionView) -> DisputeDraft {
    let tenant =
        view.link.as_ref().map(|l| l.external_tenant_id.clone()).or_else(|| view.request.as_ref().map(|r| r.external_tenant_id.clone()));
    let latest = |earning: bool| view.payouts.iter().filter(|p| p.decision.attributed == earning).max_by_key(|p| (p.date, p.payout_id));
    let payout = latest(false).or_else(|| latest(true)).cloned();
    let expected = match &payout {
        Some(p) if !p.decision.attributed => format!(
            "Payout {} of {} should earn our referral fee (it was decided {}).",
            p.payout_id,
            p.date.format("%Y-%m-%d"),
            p.decision.reason.as_str()
        ),
        Some(p) => format!(
            "Payout {} of {} earned {} {}; we expect ",
            p.payout_id,
            p.date.format("%Y-%m-%d"),
            refshare_core::money::format_minor(p.decision.referral_fee_minor, p.decision.currency.exponent()),
            p.decision.currency.code()
        ),
        None => "This case should be attributed to us.".to_string(),
    };
    let failing: Vec<String> = view
        .report
        .iter()
        .flat_map(|r| &r.checks)
        .filter(|c| c.status == refshare_core::check::CheckStatus::Fail)
        .map(|c| format!("The check says: {}", c.detail))
        .collect();
    DisputeDraft {
        input: DisputeInput {
            case_reference: Some(view.case.reference.clone()),
            external_tenant_id: tenant,
            creation_method: Some(format!("Created via {}", view.case.source.as_str())),
            expected_outcome: Some(expected),
            observation: Some(failing.join("\n")),
        },
        payout,
    }
}

fn fmt_deadline(t: Instant) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The partner's most relevant link with the client: active now first, then the latest.
fn partner_link(links: &[Link], partner: Uuid, now: Instant) -> Option<&Link> {
    links.iter().filter(|l| l.partner_id == partner).max_by_key(|l| (l.status_at(now) == Some(LinkStatus::Active), l.linked_at, l.id))
}

/// Queues the partner's e-mail and the `dispute.updated` webhook about a dispute change,
/// inside `tx`.
pub async fn announce_dispute(tx: &mut Tx, app: &App, partner: &PartnerRecord, v: &DisputeView, what: &str) -> Result<(), AppError> {
    let d = &v.dispute;
    let mut body = format!("Your dispute {} on case {} was {what}.\n\nStatus: {}\n", d.id, v.case_reference, d.status);
    if let Some(r) = d.resolution_reason.as_deref().filter(|r| !r.is_empty()) {
        body.push_str(&format!("Reason: {r}\n"));
    }
    if d.status == "open" {
        body.push_str(&format!("Disputes on this case were accepted until {}.\n", fmt_deadline(d.deadline)));
    }
    let subject = format!("Dispute on case {}: {}", v.case_reference, d.status);
    notify::enqueue(tx, app, DISPUTE_UPDATE, &partner.contact_email, &subject, body, Some(d.id.to_string())).await?;
    let data = serde_json::json!({
        "disputeId": d.id,
        "caseId": d.case_id,
        "caseReference": v.case_reference,
        "externalTenantId": d.external_tenant_id,
        "status": d.status,
        "change": what,
        "resolutionReason": d.resolution_reason,
        "deadline": d.deadline.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    });
    crate::webhooks::enqueue_event(tx, app.now(), partner.id, crate::webhooks::event::DISPUTE_UPDATED, data).await
}

async fn view_of(tx: &mut Tx, dispute: DisputeRecord) -> Result<DisputeView, AppError> {
    let case = tx.case(dispute.case_id).await?.ok_or_else(|| AppError::internal("dispute without case"))?;
    Ok(DisputeView { dispute, case_reference: case.reference, currency: case.currency })
}

impl App {
    /// A partner files a dispute on a case its self-serve check shows.
    pub async fn file_dispute(&self, partner: &PartnerRecord, input: DisputeInput) -> Result<DisputeView, AppError> {
        let mut errors = Vec::new();
        let reference = text(&mut errors, "caseReference", &input.case_reference, 64);
        let tenant = text(&mut errors, "externalTenantId", &input.external_tenant_id, 255);
        let creation_method = text(&mut errors, "creationMethod", &input.creation_method, 500);
        let expected_outcome = text(&mut errors, "expectedOutcome", &input.expected_outcome, 2000);
        let observation = text(&mut errors, "observation", &input.observation, 4000);
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        // Unknown, and never linked to this partner, are the same 404.
        let view = self.partner_attribution_check(partner, &reference).await?;
        let now = self.now();
        let check = crate::check_json::attribution_json(&view, now, false);
        let mut tx = self.store.begin().await?;
        let case = tx.case(view.case.id).await?.ok_or(AppError::NotFound("case"))?;
        let links = tx.links_of_client(case.client_id).await?;
        let requests = tx.link_requests_of_client(case.client_id).await?;
        let known_tenant = links.iter().any(|l| l.partner_id == partner.id && l.external_tenant_id == tenant)
            || requests.iter().any(|r| r.request.partner_id == partner.id && r.request.external_tenant_id == tenant);
        if !known_tenant {
            return Err(AppError::bad_field(
                "externalTenantId",
                format!("`{tenant}` is not your externalTenantId for the client of case {}", case.reference),
            ));
        }
        // The same deadline the partner's check shows: from this partner's latest payout.
        let latest_payout = view.payouts.iter().map(|p| p.date).max();
        let deadline = dispute_deadline(latest_payout.unwrap_or(case.created_at), self.config.dispute_window_days);
        if now >= deadline {
            return Err(DisputeError::WindowClosed {
                case_reference: case.reference.clone(),
                deadline,
                window_days: self.config.dispute_window_days,
                payout: if latest_payout.is_some() { "latest payout" } else { "creation" }.to_string(),
            }
            .into());
        }
        if tx.disputes(Some(partner.id), Some("open")).await?.iter().any(|d| d.case_id == case.id) {
            return Err(DisputeError::AlreadyOpen { case_reference: case.reference.clone() }.into());
        }
        let link = partner_link(&links, partner.id, now);
        let dispute = DisputeRecord {
            id: Uuid::new_v4(),
            partner_id: partner.id,
            case_id: case.id,
            client_id: case.client_id,
            external_tenant_id: tenant,
            // Without a link the partner learns nothing about the company (as in the check).
            company_name: if link.is_some() { view.client.company_name.clone() } else { String::new() },
            creation_method,
            expected_outcome,
            observation,
            check,
            deadline,
            status: "open".into(),
            resolution_reason: None,
            resolved_amount_minor: None,
            created_at: now,
            resolved_at: None,
        };
        tx.insert_dispute(&dispute).await.map_err(|e| match AppError::from(e) {
            AppError::WriteConflict { .. } => DisputeError::AlreadyOpen { case_reference: case.reference.clone() }.into(),
            other => other,
        })?;
        let cause = Cause::new("dispute.filed", dispute.id, now);
        let mut held = Vec::new();
        for e in tx.earnings_of_case(case.id).await? {
            // Only a live, pending, uninvoiced earning can be held (checked in the update).
            if e.partner_id == partner.id && tx.hold_earning(e.id, dispute.id).await? {
                held.push(e.id);
            }
        }
        sync_earnings(&mut tx, &held, &cause).await?;
        audit(
            &mut tx,
            now,
            &actor::partner(partner.id),
            "dispute.filed",
            "dispute",
            &dispute.id.to_string(),
            serde_json::json!({"caseId": case.id, "caseReference": case.reference, "deadline": crate::check_json::ts(deadline), "disputedEarnings": held}),
        )
        .await?;
        let v = DisputeView { dispute, case_reference: case.reference, currency: case.currency };
        announce_dispute(&mut tx, self, partner, &v, "received").await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(v)
    }

    /// The partner's disputes, newest first.
    pub async fn partner_disputes(&self, partner: &PartnerRecord) -> Result<Vec<DisputeView>, AppError> {
        let mut tx = self.store.read().await?;
        let mut out = Vec::new();
        for d in tx.disputes(Some(partner.id), None).await? {
            out.push(view_of(&mut tx, d).await?);
        }
        Ok(out)
    }

    /// One page of the partner's disputes, newest first, and how many there are in all.
    pub async fn partner_dispute_page(&self, partner: &PartnerRecord, page: PageReq) -> Result<(Vec<DisputeView>, i64), AppError> {
        let mut tx = self.store.read().await?;
        let total = tx.partner_dispute_count(partner.id).await?;
        let rows = tx.partner_dispute_page(partner.id, page).await?;
        let items = rows.into_iter().map(|(dispute, case_reference, currency)| DisputeView { dispute, case_reference, currency }).collect();
        Ok((items, total))
    }

    /// One of the partner's disputes; another partner's is 404.
    pub async fn partner_dispute(&self, partner: &PartnerRecord, id: Uuid) -> Result<DisputeView, AppError> {
        let mut tx = self.store.read().await?;
        let d = tx.dispute(id).await?.filter(|d| d.partner_id == partner.id).ok_or(AppError::NotFound("dispute"))?;
        view_of(&mut tx, d).await
    }

    /// Every dispute (operator), optionally of one status, newest first.
    pub async fn all_disputes(&self, status: Option<&str>) -> Result<Vec<DisputeView>, AppError> {
        if let Some(s) = status {
            if !STATUSES.contains(&s) {
                return Err(AppError::bad_field("status", "must be open, upheld, rejected or adjusted"));
            }
        }
        let mut tx = self.store.read().await?;
        let mut out = Vec::new();
        for d in tx.disputes(None, status).await? {
            out.push(view_of(&mut tx, d).await?);
        }
        Ok(out)
    }

    /// One dispute (operator).
    pub async fn dispute(&self, id: Uuid) -> Result<DisputeView, AppError> {
        let mut tx = self.store.read().await?;
        let d = tx.dispute(id).await?.ok_or(AppError::NotFound("dispute"))?;
        view_of(&mut tx, d).await
    }

    /// The operator resolves an open dispute (see the module notes).
    pub async fn resolve_dispute(&self, id: Uuid, input: ResolveInput) -> Result<DisputeView, AppError> {
        let outcome = input.outcome.as_deref().map(str::trim).unwrap_or_default().to_string();
        if !["upheld", "rejected", "adjusted"].contains(&outcome.as_str()) {
            return Err(AppError::bad_field("outcome", "must be upheld, rejected or adjusted"));
        }
        let reason = input.reason.as_deref().map(str::trim).unwrap_or_default().to_string();
        if reason.is_empty() && outcome != "upheld" {
            return Err(AppError::bad_field("reason", format!("is required when the outcome is {outcome}")));
        }
        if reason.chars().count() > 2000 {
            return Err(AppError::bad_field("reason", "must be at most 2000 characters"));
        }
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let dispute = tx.dispute(id).await?.ok_or(AppError::NotFound("dispute"))?;
        // Claim it first: a second resolution waits here and then finds it resolved.
        let claimed = dispute.status == "open" && tx.claim_open_dispute(id).await?;
        let dispute = tx.dispute(id).await?.ok_or(AppError::NotFound("dispute"))?;
        if !claimed || dispute.status != "open" {
            return Err(DisputeError::AlreadyResolved { dispute_id: id, status: dispute.status.to_string() }.into());
        }
        let case = tx.case(dispute.case_id).await?.ok_or_else(|| AppError::internal("dispute without case"))?;
        let amount = match (&input.amount, outcome.as_str()) {
            (None, "adjusted") => return Err(AppError::bad_field("amount", "is required when the outcome is adjusted")),
            (None, _) => None,
            (Some(_), "rejected") => return Err(AppError::bad_field("amount", "is not used when the outcome is rejected")),
            (Some(n), "upheld") => {
                Some(parse_amount(&n.to_string(), case.currency).map_err(|e| AppError::bad_field("amount", e.to_string()))?)
            }
            (Some(n), _) => Some(parse_amount_or_zero(&n.to_string(), case.currency).map_err(|e| match e {
                MoneyError::NotPositive => AppError::bad_field("amount", "the corrected total cannot be negative"),
                other => AppError::bad_field("amount", other.to_string()),
            })?),
        };
        let partner = tx.partner(dispute.partner_id).await?.ok_or_else(|| AppError::internal("dispute without partner"))?;
        let cause = Cause::new("dispute.resolved", dispute.id, now);
        let held: Vec<EarningRecord> =
            tx.earnings_of_case(case.id).await?.into_iter().filter(|e| e.dispute_id == Some(dispute.id)).collect();
        // Earnings voided by a reversal while the dispute was open are not adjusted.
        let disputed: Vec<&EarningRecord> = held.iter().filter(|e| e.is_live()).collect();
        let note = if reason.is_empty() { format!("dispute {} {outcome}", dispute.id) } else { reason.clone() };
        let mut booked: Vec<Uuid> = Vec::new();
        let mut resolved_amount = None;
        match outcome.as_str() {
            "upheld" => {
                let (ids, total) = self.book_corrections(&mut tx, &dispute, &partner, amount, &note, &cause).await?;
                booked = ids;
                resolved_amount = Some(total);
            }
            "adjusted" => {
                let corrected = amount.expect("checked above");
                let Some(target) = disputed.iter().max_by_key(|e| (e.created_at, e.id)) else {
                    return Err(DisputeError::NothingToAdjust.into());
                };
                let current = checked_sum(disputed.iter().map(|e| e.amount_minor)).map_err(overflow)?;
                let delta = corrected.checked_sub(current).ok_or(Overflow).map_err(overflow)?;
                let payout = tx.payout(target.payout_id).await?.ok_or_else(|| AppError::internal("earning without payout"))?;
                if payout.commission_status == CommissionStatus::Credited {
                    return Err(DisputeError::PaymentReversed.into());
                }
                if delta != 0 {
                    let adj = EarningRecord {
                        corrects_id: Some(target.id),
                        note: Some(note.clone()),
                        ..EarningRecord::new(Uuid::new_v4(), &payout, partner.id, EarningKind::Adjustment, delta, now)
                    };
                    tx.insert_earning(&adj).await?;
                    sync_earning(&mut tx, adj.id, &cause).await?;
                    booked.push(adj.id);
                }
                resolved_amount = Some(corrected);
            }
            _ => {}
        }
        for e in &held {
            tx.release_earning(e.id, dispute.id).await?;
        }
        sync_earnings(&mut tx, &held.iter().map(|e| e.id).collect::<Vec<_>>(), &cause).await?;
        if !tx.resolve_dispute(dispute.id, &outcome, &reason, resolved_amount, now).await? {
            return Err(DisputeError::ResolvedConcurrently { dispute_id: id }.into());
        }
        audit(
            &mut tx,
            now,
            actor::OPERATOR,
            "dispute.resolved",
            "dispute",
            &dispute.id.to_string(),
            serde_json::json!({
                "outcome": outcome, "reason": reason, "amountMinor": resolved_amount, "currency": case.currency.code(),
                "released": disputed.iter().map(|e| e.id).collect::<Vec<_>>(), "booked": booked,
            }),
        )
        .await?;
        let resolved = tx.dispute(dispute.id).await?.ok_or(AppError::NotFound("dispute"))?;
        let v = DisputeView { dispute: resolved, case_reference: case.reference, currency: case.currency };
        announce_dispute(&mut tx, self, &partner, &v, &format!("resolved: {outcome}")).await?;
        tx.commit().await?;
        self.wake_mailer();
        Ok(v)
    }

    /// An upheld dispute's attribution correction: for every payout of the case that does
    /// not earn for the partner (and was not reversed), a new decision superseding the
    /// payout's latest one and a `correction` earning with the link's fee. With `amount`,
    /// one correction of that amount on the latest such payout instead. Returns the new
    /// earnings and their total.
    async fn book_corrections(
        &self,
        tx: &mut Tx,
        dispute: &DisputeRecord,
        partner: &PartnerRecord,
        amount: Option<i64>,
        note: &str,
        cause: &Cause<'_>,
    ) -> Result<(Vec<Uuid>, i64), AppError> {
        let now = cause.at;
        let case = tx.case(dispute.case_id).await?.ok_or_else(|| AppError::internal("dispute without case"))?;
        let links = tx.links_of_client(case.client_id).await?;
        let link = partner_link(&links, partner.id, now).cloned().ok_or_else(|| AppError::from(DisputeError::NoLinkToCorrect))?;
        let earnings = tx.earnings_of_case(case.id).await?;
        let mut missing = Vec::new();
        for p in tx.payouts_of_case(case.id).await? {
            // A payout earns for one partner at most: one that earns for another stays theirs.
            if earnings.iter().any(|e| e.payout_id == p.id && e.partner_id != partner.id && e.is_live()) {
                continue;
            }
            let earns = earnings.iter().any(|e| e.payout_id == p.id && e.partner_id == partner.id && e.is_live());
            if !earns && p.commission_status != CommissionStatus::Credited {
                missing.push(p);
            }
        }
        if amount.is_some() {
            missing = missing.into_iter().max_by_key(|p| (p.created_at, p.id)).into_iter().collect();
        }
        if missing.is_empty() {
            return Err(DisputeError::NothingToCorrect.into());
        }
        let (mut ids, mut total) = (Vec::new(), 0);
        for p in missing {
            let fee = match amount {
                Some(a) => a,
                None => referral_fee(p.platform_fee_minor, link.referral_fee_bps).map_err(|_| AppError::internal("fee overflow"))?,
            };
            let latest = tx.decision_of_payout(p.id).await?;
            let decision = DecisionRecord {
                id: Uuid::new_v4(),
                payout_id: p.id,
                supersedes_id: latest.as_ref().map(|d| d.id),
                partner_id: Some(partner.id),
                link_id: Some(link.id),
                link_request_id: None,
                link_status: link.status_at(p.created_at),
                reason: if link.is_attributed { Reason::AttributedClient } else { Reason::PartnerChannel },
                attributed: true,
                case_source: case.source,
                referral_fee_bps: Some(link.referral_fee_bps),
                referral_fee_minor: fee,
                currency: p.currency,
                engine_version: CORRECTION_ENGINE.into(),
                decided_at: now,
            };
            tx.insert_decision(&decision).await?;
            if fee == 0 {
                continue;
            }
            let earning = EarningRecord {
                decision_id: Some(decision.id),
                note: Some(note.to_string()),
                ..EarningRecord::new(Uuid::new_v4(), &p, partner.id, EarningKind::Correction, fee, now)
            };
            tx.insert_earning(&earning).await?;
            sync_earning(tx, earning.id, cause).await?;
            ids.push(earning.id);
            total = checked_add(total, fee).map_err(overflow)?;
        }
        Ok((ids, total))
    }
}
