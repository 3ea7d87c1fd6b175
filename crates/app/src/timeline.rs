//! A client's timeline for the partner (issue 10): one view for
//! `/dashboard/clients/{externalTenantId}` and
//! `GET /referral-api/clients/{externalTenantId}/timeline`. In time order, each item with
//! its explanation: the partner's link requests and their approval, decline or expiry;
//! its links (attributed or not, the fee locked on them) and their archive / unarchive /
//! delete history; onboarding signed; the cases from the first link until now (or until
//! its links stopped being active) with their source and what a payout on them would be
//! decided today; the payouts with the partner's decision and reason.
//!
//! The tenant is the partner's own id for the client (any link or link request of the
//! partner, whatever its status); anything else, another partner's tenant included, is
//! "not found". With only a link request, the partner learns nothing about the company:
//! no name, no onboarding, no cases. Cases and payouts are capped at the newest
//! [`MAX_CASES`] and [`MAX_PAYOUTS`] (with their totals), so a client with thousands of
//! cases reads a bounded page (`cases_client`, `payouts_case_created`).

use refshare_core::attribution::{decide_for_partner, CaseFacts, ClientFacts, Reason};
use refshare_core::case::CaseSource;
use refshare_core::link::{Link, LinkRequest, LinkRequestStatus, LinkStatus};
use refshare_core::money::{format_minor, Bps, Currency};
use refshare_core::Instant;
use refshare_store::attention::DecisionOnCase;
use refshare_store::{CaseRecord, PartnerRecord};
use uuid::Uuid;

use crate::disputes::CORRECTION_ENGINE;
use crate::{App, AppError};

/// The most cases a timeline shows (the newest).
pub const MAX_CASES: u32 = 100;
/// The most payouts a timeline shows (the newest).
pub const MAX_PAYOUTS: u32 = 100;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimelineKind {
    LinkRequested,
    LinkRequestApproved,
    LinkRequestDeclined,
    LinkRequestExpired,
    Linked,
    LinkArchived,
    LinkUnarchived,
    LinkDeleted,
    OnboardingSigned,
    CaseCreated,
    Payout,
}

impl TimelineKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            TimelineKind::LinkRequested => "link_requested",
            TimelineKind::LinkRequestApproved => "link_request_approved",
            TimelineKind::LinkRequestDeclined => "link_request_declined",
            TimelineKind::LinkRequestExpired => "link_request_expired",
            TimelineKind::Linked => "linked",
            TimelineKind::LinkArchived => "link_archived",
            TimelineKind::LinkUnarchived => "link_unarchived",
            TimelineKind::LinkDeleted => "link_deleted",
            TimelineKind::OnboardingSigned => "onboarding_signed",
            TimelineKind::CaseCreated => "case_created",
            TimelineKind::Payout => "payout",
        }
    }

    pub fn label(&self) -> &'static str {
        match self {
            TimelineKind::LinkRequested => "Link request sent",
            TimelineKind::LinkRequestApproved => "Link request approved",
            TimelineKind::LinkRequestDeclined => "Link request declined",
            TimelineKind::LinkRequestExpired => "Link request expired",
            TimelineKind::Linked => "Linked",
            TimelineKind::LinkArchived => "Link archived",
            TimelineKind::LinkUnarchived => "Link unarchived",
            TimelineKind::LinkDeleted => "Link deleted",
            TimelineKind::OnboardingSigned => "Onboarding signed",
            TimelineKind::CaseCreated => "Case created",
            TimelineKind::Payout => "Payout",
        }
    }

    /// Order of items at the same instant: what makes a later item possible first.
    fn rank(&self) -> u8 {
        match self {
            TimelineKind::LinkRequested => 0,
            TimelineKind::LinkRequestApproved | TimelineKind::LinkRequestDeclined | TimelineKind::LinkRequestExpired => 1,
            TimelineKind::Linked => 2,
            TimelineKind::LinkArchived | TimelineKind::LinkUnarchived | TimelineKind::LinkDeleted => 3,
            TimelineKind::OnboardingSigned => 4,
            TimelineKind::CaseCreated => 5,
            TimelineKind::Payout => 6,
        }
    }
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineItem {
    pub at: Instant,
    pub kind: TimelineKind,
    pub explanation: String,
    pub case_reference: Option<String>,
    pub case_source: Option<CaseSource>,
    /// A link's attribution (linked) or a payout's decision (payout).
    pub attributed: Option<bool>,
    /// The fee percentage locked on the link, or used by the decision.
    pub referral_fee_bps: Option<Bps>,
    /// A payout's reason code.
    pub reason: Option<Reason>,
    /// A payout's referral fee.
    pub referral_fee_minor: Option<i64>,
    pub currency: Option<Currency>,
}

impl TimelineItem {
    fn new(at: Instant, kind: TimelineKind, explanation: String) -> TimelineItem {
        TimelineItem {
            at,
            kind,
            explanation,
            case_reference: None,
            case_source: None,
            attributed: None,
            referral_fee_bps: None,
            reason: None,
            referral_fee_minor: None,
            currency: None,
        }
    }
}

/// The timeline of one client.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub external_tenant_id: String,
    /// `None` while the partner only has a link request.
    pub company_name: Option<String>,
    /// Oldest first.
    pub items: Vec<TimelineItem>,
    pub cases_shown: usize,
    pub cases_total: i64,
    pub payouts_shown: usize,
    pub payouts_total: i64,
    pub as_of: Instant,
}

/// How a case came in, for people.
pub fn source_words(source: CaseSource) -> &'static str {
    match source {
        CaseSource::PartnerApi => "a partner integration (partner_api)",
        CaseSource::WebApp => "the client's web app (web_app)",
        CaseSource::CsvImport => "a CSV import in the client's web app (csv_import)",
        CaseSource::CustomerApi => "the client's own API key (customer_api)",
        CaseSource::Operator => "platform staff (operator)",
    }
}

fn day(t: Instant) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A percentage from basis points (`5000` → `50`, `1250` → `12.5`).
pub fn percent(bps: Bps) -> String {
    bps.percent_string().trim_end_matches(".0").to_string()
}

fn request_items(r: &LinkRequest, now: Instant, out: &mut Vec<TimelineItem>) {
    out.push(TimelineItem::new(
        r.created_at,
        TimelineKind::LinkRequested,
        format!("You asked to link this existing client; the client's approval was needed by {}.", day(r.expires_at)),
    ));
    match (r.status_at(now), r.decided_at) {
        (LinkRequestStatus::Approved, Some(d)) => out.push(TimelineItem::new(
            d,
            TimelineKind::LinkRequestApproved,
            "The client approved: a non-attributed link was created (only cases you submit earn).".into(),
        )),
        (LinkRequestStatus::Declined, Some(d)) => out.push(TimelineItem::new(
            d,
            TimelineKind::LinkRequestDeclined,
            format!("The client declined the link. {}", Reason::LinkRequestDeclined.resolution()),
        )),
        (LinkRequestStatus::Expired, _) => out.push(TimelineItem::new(
            r.expires_at,
            TimelineKind::LinkRequestExpired,
            format!("The client did not approve in time. {}", Reason::LinkRequestExpired.resolution()),
        )),
        _ => {}
    }
}

fn link_items(l: &Link, out: &mut Vec<TimelineItem>) {
    let fee = percent(l.referral_fee_bps);
    let mut linked = TimelineItem::new(
        l.linked_at,
        TimelineKind::Linked,
        if l.is_attributed {
            format!("Linked as an attributed client: every case from now on earns, at the {fee} % fee locked on the link.")
        } else {
            format!("Linked as a non-attributed client: only cases you submit through your integration earn, at the {fee} % fee locked on the link.")
        },
    );
    linked.attributed = Some(l.is_attributed);
    linked.referral_fee_bps = Some(l.referral_fee_bps);
    out.push(linked);
    // The first event is the link's creation; each later one a change of status.
    for (i, e) in l.history.iter().enumerate().skip(1) {
        let reason = e.reason.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(|r| format!(" Reason: {r}.")).unwrap_or_default();
        let (kind, text) = match e.status {
            LinkStatus::Archived => {
                (TimelineKind::LinkArchived, format!("The link was archived: payouts while it is archived do not earn.{reason}"))
            }
            LinkStatus::Deleted => (TimelineKind::LinkDeleted, format!("The link was deleted: nothing earns from now on.{reason}")),
            LinkStatus::Active if l.history.get(i - 1).is_some_and(|p| p.status == LinkStatus::Archived) => {
                (TimelineKind::LinkUnarchived, format!("The link was unarchived: payouts earn again under the same terms.{reason}"))
            }
            LinkStatus::Active => continue,
        };
        out.push(TimelineItem::new(e.at, kind, text));
    }
}

/// A case since the link: its channel, and what a payout on it would be decided today.
fn case_item(partner: Uuid, c: &CaseRecord, facts: ClientFacts<'_>, now: Instant) -> TimelineItem {
    let case_facts = CaseFacts { created_at: c.created_at, source: c.source, creating_partner: c.creating_partner_id };
    let today = decide_for_partner(partner, case_facts, facts, now);
    let channel = match (c.source, c.creating_partner_id) {
        (CaseSource::PartnerApi, Some(p)) if p == partner => "your partner integration (partner_api)",
        (CaseSource::PartnerApi, _) => "another partner's integration (partner_api)",
        (s, _) => source_words(s),
    };
    let outlook = if today.attributed {
        "A payout on it today would earn.".to_string()
    } else {
        format!("A payout on it today would not earn ({}): {}", today.reason.as_str(), today.reason.resolution())
    };
    let mut item = TimelineItem::new(c.created_at, TimelineKind::CaseCreated, format!("Created through {channel}. {outlook}"));
    item.case_reference = Some(c.reference.clone());
    item.case_source = Some(c.source);
    item
}

/// A payout with the partner's decision: what the reason means, and the fee or what to do.
fn payout_item(d: DecisionOnCase) -> TimelineItem {
    let DecisionOnCase { decision: x, case_reference } = d;
    let correction = if x.engine_version == CORRECTION_ENGINE { "Correction after a dispute. " } else { "" };
    let text = if x.attributed {
        let fee = format!("{} {}", format_minor(x.referral_fee_minor, x.currency.exponent()), x.currency.code());
        format!("{correction}{} Referral fee {fee}.", x.reason.summary())
    } else {
        format!("{correction}{} {}", x.reason.summary(), x.reason.resolution())
    };
    let mut item = TimelineItem::new(x.decided_at, TimelineKind::Payout, text);
    item.case_reference = Some(case_reference);
    item.case_source = Some(x.case_source);
    item.attributed = Some(x.attributed);
    item.referral_fee_bps = x.referral_fee_bps;
    item.reason = Some(x.reason);
    item.referral_fee_minor = Some(x.referral_fee_minor);
    item.currency = Some(x.currency);
    item
}

impl App {
    /// The timeline of the partner's client `external_tenant_id`.
    pub async fn client_timeline(&self, partner: &PartnerRecord, external_tenant_id: &str) -> Result<Timeline, AppError> {
        let now = self.now();
        let mut tx = self.store.read().await?;
        // The partner's links under this tenant id (newest first) and requests (oldest first).
        let links = tx.links_by_tenant(partner.id, external_tenant_id).await?;
        let requests = tx.link_requests_by_tenant(partner.id, external_tenant_id).await?;
        // The client: of the newest link, else of the newest request.
        let client_id: Uuid = match (links.first(), requests.last()) {
            (Some(l), _) => l.client_id,
            (None, Some(r)) => r.request.client_id,
            (None, None) => return Err(AppError::NotFound("client")),
        };
        let links: Vec<Link> = links.into_iter().filter(|l| l.client_id == client_id).rev().collect();
        let requests: Vec<LinkRequest> = requests.into_iter().map(|r| r.request).filter(|r| r.client_id == client_id).collect();

        let mut items = Vec::new();
        for r in &requests {
            request_items(r, now, &mut items);
        }
        for l in &links {
            link_items(l, &mut items);
        }
        let mut timeline = Timeline {
            external_tenant_id: external_tenant_id.to_string(),
            company_name: None,
            items: Vec::new(),
            cases_shown: 0,
            cases_total: 0,
            payouts_shown: 0,
            payouts_total: 0,
            as_of: now,
        };
        // With a link the partner may know the company, its onboarding and its cases.
        if let Some(first) = links.iter().map(|l| l.linked_at).min() {
            let client = tx.client(client_id).await?.ok_or(AppError::NotFound("client"))?;
            timeline.company_name = Some(client.company_name.clone());
            if let Some(done) = client.onboarding_completed_at {
                items.push(TimelineItem::new(
                    done,
                    TimelineKind::OnboardingSigned,
                    "The client signed the agreement: onboarding is complete, so its cases can become active and earn.".into(),
                ));
            }
            let facts = ClientFacts { links: &links, requests: &requests, onboarding_completed_at: client.onboarding_completed_at };
            // Cases from the first link until now, or until the last link stopped being
            // active: what the client did with another partner afterwards is not this
            // partner's to see.
            let until = if links.iter().any(|l| l.current_status() == LinkStatus::Active) {
                now
            } else {
                links.iter().map(|l| l.history.last().map_or(l.linked_at, |e| e.at)).max().unwrap_or(now)
            };
            let (cases, cases_total) = tx.client_cases_between(client_id, first, until, MAX_CASES).await?;
            timeline.cases_shown = cases.len();
            timeline.cases_total = cases_total;
            items.extend(cases.iter().map(|c| case_item(partner.id, c, facts, now)));
            let (decisions, payouts_total) = tx.partner_decisions_on_client(partner.id, client_id, MAX_PAYOUTS).await?;
            timeline.payouts_shown = decisions.len();
            timeline.payouts_total = payouts_total;
            items.extend(decisions.into_iter().map(payout_item));
        }
        drop(tx);
        items.retain(|i| i.at <= now);
        items.sort_by(|a, b| (a.at, a.kind.rank()).cmp(&(b.at, b.kind.rank())));
        timeline.items = items;
        Ok(timeline)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_drop_trailing_zeros() {
        assert_eq!(percent(Bps(5000)), "50");
        assert_eq!(percent(Bps(1250)), "12.5");
        assert_eq!(percent(Bps(1)), "0.01");
    }
}
