//! The wording of the Attention list: one pure function per kind turns what the store
//! read into an item with its explanation and action (the reasons' resolutions are the
//! core's, `Reason::resolution`).

use refshare_core::attribution::Reason;
use refshare_core::link::{Link, LinkRequest};
use refshare_core::Instant;
use refshare_store::attention::{LinkWithClient, OutsideCase};
use refshare_store::{CaseRecord, DisputeRecord};

use super::{AttentionItem, AttentionKind};
use crate::timeline::source_words;

fn day(t: Instant) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// "n days", whole days from `a` to `b` (never negative).
fn days_since(a: Instant, b: Instant) -> String {
    let n = (b - a).num_days().max(0);
    format!("{n} day{}", if n == 1 { "" } else { "s" })
}

fn item(kind: AttentionKind, external_tenant_id: String, since: Instant, explanation: String, action: String) -> AttentionItem {
    AttentionItem {
        kind,
        external_tenant_id,
        company_name: None,
        case_reference: None,
        dispute_id: None,
        since,
        deadline: None,
        explanation,
        action,
        url: None,
    }
}

/// A link request awaiting the client's approval; nothing about the company.
pub fn link_request(r: LinkRequest) -> AttentionItem {
    let explanation = format!(
        "The client has not approved your link request of {} yet; until it does, nothing it does earns for you.",
        day(r.created_at)
    );
    let action = format!(
        "{} It expires on {}; after that, call POST /clients again for a fresh approval URL.",
        Reason::LinkPendingApproval.resolution(),
        day(r.expires_at)
    );
    AttentionItem {
        deadline: Some(r.expires_at),
        ..item(AttentionKind::LinkRequestPending, r.external_tenant_id, r.created_at, explanation, action)
    }
}

/// A linked client that has not signed the agreement, with the URL to send again.
pub fn onboarding(p: LinkWithClient, url: String, now: Instant) -> AttentionItem {
    let since = p.link.linked_at;
    let explanation = format!(
        "Onboarding has been pending for {} (since {}): its cases wait for the agreement and payouts do not earn.",
        days_since(since, now),
        day(since)
    );
    let action = Reason::OnboardingIncomplete.resolution().to_string();
    AttentionItem {
        company_name: Some(p.company_name),
        url: Some(url),
        ..item(AttentionKind::OnboardingPending, p.link.external_tenant_id, since, explanation, action)
    }
}

/// An archived link, with the reason of its last change.
pub fn archived(a: LinkWithClient) -> AttentionItem {
    let Link { external_tenant_id, linked_at, history, .. } = a.link;
    let event = history.last();
    let since = event.map(|e| e.at).unwrap_or(linked_at);
    let why = event.and_then(|e| e.reason.as_deref()).map(str::trim).filter(|r| !r.is_empty());
    let explanation = match why {
        Some(r) => format!("The link was archived on {} ({r}): payouts from then on do not earn.", day(since)),
        None => format!("The link was archived on {}: payouts from then on do not earn.", day(since)),
    };
    let action = Reason::LinkArchived.resolution().to_string();
    AttentionItem {
        company_name: Some(a.company_name),
        ..item(AttentionKind::LinkArchived, external_tenant_id, since, explanation, action)
    }
}

/// A recent case of a non-attributed client that did not come through the integration.
pub fn outside_case(o: OutsideCase) -> AttentionItem {
    let c = o.case;
    let explanation = format!(
        "Created on {} through {} for a non-attributed client: only cases submitted through your integration earn.",
        day(c.created_at),
        source_words(c.source)
    );
    let action = Reason::NonAttributedOtherChannel.resolution().to_string();
    AttentionItem {
        company_name: Some(o.company_name),
        case_reference: Some(c.reference),
        ..item(AttentionKind::CaseOutsideIntegration, o.external_tenant_id, c.created_at, explanation, action)
    }
}

/// A dispute waiting for the platform's answer.
pub fn open_dispute(d: DisputeRecord, case_reference: Option<String>, now: Instant) -> AttentionItem {
    let explanation = format!(
        "Your dispute of {} has waited {} for the platform's answer; its earnings stay Disputed until then.",
        day(d.created_at),
        days_since(d.created_at, now)
    );
    let action = "Nothing is needed from you: you get an e-mail and a dispute.updated webhook when it is resolved. \
                  Add anything new through platform support."
        .to_string();
    AttentionItem {
        company_name: Some(d.company_name).filter(|n| !n.is_empty()),
        case_reference,
        dispute_id: Some(d.id),
        ..item(AttentionKind::DisputeOpen, d.external_tenant_id, d.created_at, explanation, action)
    }
}

/// A case with a payout that did not earn, whose dispute window closes at `deadline`.
pub fn closing_window(case: CaseRecord, external_tenant_id: String, last_payout_at: Instant, deadline: Instant) -> AttentionItem {
    let explanation = format!(
        "A payout of {} on this case did not earn for you; disputes on it are accepted until {}.",
        day(last_payout_at),
        deadline.format("%Y-%m-%d %H:%M UTC")
    );
    let action = "Run the case's attribution check; if the decision is wrong, raise a dispute before the deadline.".to_string();
    AttentionItem {
        case_reference: Some(case.reference),
        deadline: Some(deadline),
        ..item(AttentionKind::DisputeDeadline, external_tenant_id, last_payout_at, explanation, action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use refshare_core::link::LinkRequestStatus;
    use uuid::Uuid;

    #[test]
    fn a_link_request_says_nothing_of_the_company_and_carries_its_expiry() {
        let t = Utc.with_ymd_and_hms(2026, 4, 1, 9, 0, 0).unwrap();
        let r = LinkRequest {
            id: Uuid::new_v4(),
            partner_id: Uuid::new_v4(),
            client_id: Uuid::new_v4(),
            external_tenant_id: "sol".into(),
            created_at: t,
            expires_at: t + Duration::days(7),
            status: LinkRequestStatus::Pending,
            decided_at: None,
        };
        let i = link_request(r);
        assert_eq!((i.company_name, i.deadline, i.since), (None, Some(t + Duration::days(7)), t));
        assert!(i.action.contains("2026-04-08"), "{}", i.action);
        assert_eq!(days_since(t, t + Duration::hours(36)), "1 day");
        assert_eq!(days_since(t + Duration::days(1), t), "0 days");
    }
}
