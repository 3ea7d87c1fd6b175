//! The Attention list (issue 10): what will cost the partner money unless someone acts,
//! one view for the dashboard's overview and `GET /referral-api/attention`. Six sources,
//! each a bounded, indexed read (`store::attention`), at most [`PER_KIND`] items each:
//!
//! - link requests awaiting the client's approval (deadline: their expiry);
//! - clients whose onboarding is pending (since the link; the URL to send again);
//! - archived links (to clients the partner has no active link with now);
//! - cases of the last [`RECENT_DAYS`] days of non-attributed clients created outside the
//!   partner's integration (they will not earn), newest first;
//! - disputes waiting for the operator's answer;
//! - cases with a payout that did not earn whose dispute window closes within
//!   [`DISPUTE_CLOSE_DAYS`] days (deadline: `attribution::dispute_deadline`).
//!
//! Ordered by urgency: items with a deadline first, soonest first; then the others in the
//! order of the list above. The wording of each item is in `items`; the Clients tab's
//! link requests in `requests`.

mod items;
mod requests;

pub use requests::{RequestList, RequestState};

use std::collections::HashMap;

use chrono::Duration;
use refshare_core::Instant;
use refshare_store::{PartnerRecord, Tx};
use uuid::Uuid;

use crate::attribution::dispute_deadline;
use crate::dashboard::last_months;
use crate::{App, AppError};

/// The most items of one kind.
pub const PER_KIND: u32 = 25;

/// How far back "recent" cases of non-attributed clients go.
pub const RECENT_DAYS: i64 = 30;

/// A dispute deadline is "close" when it passes within this many days.
pub const DISPUTE_CLOSE_DAYS: i64 = 14;

/// What an item is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttentionKind {
    LinkRequestPending,
    OnboardingPending,
    LinkArchived,
    CaseOutsideIntegration,
    DisputeOpen,
    DisputeDeadline,
}

impl AttentionKind {
    pub const ALL: [AttentionKind; 6] = [
        AttentionKind::LinkRequestPending,
        AttentionKind::OnboardingPending,
        AttentionKind::LinkArchived,
        AttentionKind::CaseOutsideIntegration,
        AttentionKind::DisputeOpen,
        AttentionKind::DisputeDeadline,
    ];

    /// The wire name.
    pub fn as_str(&self) -> &'static str {
        match self {
            AttentionKind::LinkRequestPending => "link_request_pending",
            AttentionKind::OnboardingPending => "onboarding_pending",
            AttentionKind::LinkArchived => "link_archived",
            AttentionKind::CaseOutsideIntegration => "case_outside_integration",
            AttentionKind::DisputeOpen => "dispute_open",
            AttentionKind::DisputeDeadline => "dispute_deadline",
        }
    }

    /// A short title for people.
    pub fn label(&self) -> &'static str {
        match self {
            AttentionKind::LinkRequestPending => "Link request awaiting approval",
            AttentionKind::OnboardingPending => "Onboarding pending",
            AttentionKind::LinkArchived => "Link archived",
            AttentionKind::CaseOutsideIntegration => "Case that will not earn",
            AttentionKind::DisputeOpen => "Dispute awaiting an answer",
            AttentionKind::DisputeDeadline => "Dispute window closing",
        }
    }

    fn rank(&self) -> usize {
        AttentionKind::ALL.iter().position(|k| k == self).unwrap_or(usize::MAX)
    }
}

/// One thing to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttentionItem {
    pub kind: AttentionKind,
    /// The partner's id for the client concerned.
    pub external_tenant_id: String,
    /// The client's name; `None` for a link request (the partner learns nothing about a
    /// company before it approves).
    pub company_name: Option<String>,
    /// The case concerned, if any.
    pub case_reference: Option<String>,
    /// The dispute concerned, if any.
    pub dispute_id: Option<Uuid>,
    /// When the situation began (request sent, link created, archived, case created,
    /// dispute filed, latest payout).
    pub since: Instant,
    /// When acting stops helping, if ever.
    pub deadline: Option<Instant>,
    /// What the situation is, in one sentence.
    pub explanation: String,
    /// What to do, in one sentence.
    pub action: String,
    /// A URL that helps (the onboarding URL to send again).
    pub url: Option<String>,
}

/// The Attention list.
#[derive(Debug, Clone)]
pub struct Attention {
    pub as_of: Instant,
    pub items: Vec<AttentionItem>,
    /// Kinds that had more than [`PER_KIND`] items (the rest are left out).
    pub truncated: Vec<AttentionKind>,
}

/// The `[from, to)` payout instants whose dispute deadline passes in `(now, now + close]`
/// (deadlines grow with the payout's month, so they form one run of months), if any.
pub fn closing_window(now: Instant, window_days: i64, close_days: i64) -> Option<(Instant, Instant)> {
    let months = ((window_days.max(0) / 28) + 2).clamp(2, 36) as u32;
    let closing: Vec<(Instant, Instant)> = last_months(now, months)
        .into_iter()
        .map(|(_, start, end)| (start, end))
        .filter(|(start, _)| {
            let d = dispute_deadline(*start, window_days);
            d > now && d <= now + Duration::days(close_days)
        })
        .collect();
    Some((closing.first()?.0, closing.last()?.1))
}

/// Keeps at most [`PER_KIND`] rows (the read asked for one more) and notes the cut.
fn capped<T>(mut rows: Vec<T>, kind: AttentionKind, truncated: &mut Vec<AttentionKind>) -> Vec<T> {
    if rows.len() > PER_KIND as usize {
        rows.truncate(PER_KIND as usize);
        truncated.push(kind);
    }
    rows
}

/// Urgency order: deadlines first (soonest first), then by kind, each kind in the order
/// its read returned.
pub fn by_urgency(items: &mut [AttentionItem]) {
    items.sort_by_key(|i| (i.deadline.is_none(), i.deadline, i.kind.rank()));
}

impl App {
    /// The partner's Attention list now: one read per source, then the urgency order.
    pub async fn partner_attention(&self, partner: &PartnerRecord) -> Result<Attention, AppError> {
        let now = self.now();
        let limit = PER_KIND + 1;
        let mut cut = Vec::new();
        let mut items = Vec::new();
        let mut tx = self.store.read().await?;
        tx.without_parallel_workers().await?;

        let requests = tx.pending_link_requests_of_partner(partner.id, now, limit).await?;
        items.extend(capped(requests, AttentionKind::LinkRequestPending, &mut cut).into_iter().map(|r| items::link_request(r.request)));

        let pending = tx.onboarding_pending_links(partner.id, limit).await?;
        for p in capped(pending, AttentionKind::OnboardingPending, &mut cut) {
            let url = self.onboarding_url(p.link.id);
            items.push(items::onboarding(p, url, now));
        }

        let archived = tx.archived_links_of_partner(partner.id, limit).await?;
        items.extend(capped(archived, AttentionKind::LinkArchived, &mut cut).into_iter().map(items::archived));

        let outside = tx.recent_outside_cases(partner.id, now - Duration::days(RECENT_DAYS), limit).await?;
        items.extend(capped(outside, AttentionKind::CaseOutsideIntegration, &mut cut).into_iter().map(items::outside_case));

        let disputes = capped(tx.open_disputes_of_partner(partner.id, limit).await?, AttentionKind::DisputeOpen, &mut cut);
        let mut refs: HashMap<Uuid, String> =
            tx.cases_by_ids(disputes.iter().map(|d| d.case_id)).await?.into_iter().map(|c| (c.id, c.reference)).collect();
        for d in disputes {
            let reference = refs.remove(&d.case_id);
            items.push(items::open_dispute(d, reference, now));
        }

        let window_days = self.config.dispute_window_days;
        if let Some((from, to)) = closing_window(now, window_days, DISPUTE_CLOSE_DAYS) {
            let cases = capped(tx.disputable_cases(partner.id, from, to, limit).await?, AttentionKind::DisputeDeadline, &mut cut);
            let tenants = partner_tenants(&mut tx, partner.id, cases.iter().map(|c| c.case.client_id).collect()).await?;
            for c in cases {
                let tenant = tenants.get(&c.case.client_id).cloned().unwrap_or_default();
                let deadline = dispute_deadline(c.last_payout_at, window_days);
                items.push(items::closing_window(c.case, tenant, c.last_payout_at, deadline));
            }
        }
        drop(tx);
        by_urgency(&mut items);
        Ok(Attention { as_of: now, items, truncated: cut })
    }
}

/// The partner's own id for each of these clients: of its newest link, else of its newest
/// link request (a few clients: one query each for their links and requests).
async fn partner_tenants(tx: &mut Tx, partner_id: Uuid, client_ids: Vec<Uuid>) -> Result<HashMap<Uuid, String>, AppError> {
    let links = tx.links_of_clients(&client_ids).await?;
    let requests = tx.link_requests_of_clients(&client_ids).await?;
    let mut out = HashMap::new();
    for id in client_ids {
        let link = links.get(&id).and_then(|ls| ls.iter().filter(|l| l.partner_id == partner_id).last());
        let tenant = match link {
            Some(l) => Some(l.external_tenant_id.clone()),
            None => requests
                .get(&id)
                .and_then(|rs| rs.iter().filter(|r| r.request.partner_id == partner_id).last())
                .map(|r| r.request.external_tenant_id.clone()),
        };
        if let Some(t) = tenant {
            out.insert(id, t);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    #[test]
    fn the_closing_window_is_the_months_whose_deadline_is_near() {
        // Deadline of a March payout: 1 April + 30 days = 1 May.
        let now = Utc.with_ymd_and_hms(2026, 4, 20, 12, 0, 0).unwrap();
        let (from, to) = closing_window(now, 30, 14).expect("March closes on 1 May");
        assert_eq!((from, to), (Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(), Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap()));
        // Early in April the March window is still far off and February's has passed.
        let early = Utc.with_ymd_and_hms(2026, 4, 5, 0, 0, 0).unwrap();
        assert_eq!(closing_window(early, 30, 14), None);
        // A deadline exactly now has passed; exactly `close` days away is close.
        let at = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        assert_eq!(closing_window(at, 30, 14), None);
        assert!(closing_window(at - Duration::days(14), 30, 14).is_some());
    }

    #[test]
    fn deadlines_come_first_then_the_kinds_in_order() {
        let t = Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap();
        let item = |kind, deadline: Option<i64>| AttentionItem {
            kind,
            external_tenant_id: String::new(),
            company_name: None,
            case_reference: None,
            dispute_id: None,
            since: t,
            deadline: deadline.map(|d| t + Duration::days(d)),
            explanation: String::new(),
            action: String::new(),
            url: None,
        };
        let mut v = vec![
            item(AttentionKind::DisputeOpen, None),
            item(AttentionKind::OnboardingPending, None),
            item(AttentionKind::DisputeDeadline, Some(9)),
            item(AttentionKind::LinkRequestPending, Some(3)),
        ];
        by_urgency(&mut v);
        let kinds: Vec<_> = v.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            [
                AttentionKind::LinkRequestPending,
                AttentionKind::DisputeDeadline,
                AttentionKind::OnboardingPending,
                AttentionKind::DisputeOpen
            ]
        );
    }
}
