//! The attribution engine (SPEC §5): for a payout at instant `t`, which partner is
//! concerned and whether it earns, with the reason. A "not attributed" outcome is a value,
//! not an error. The rules run in order; the first that fails decides.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::case::CaseSource;
use crate::link::{Link, LinkRequest, LinkRequestStatus, LinkStatus};
use crate::money::Bps;
use crate::Instant;

/// Version of the rules below; stored with every decision.
pub const ENGINE_VERSION: &str = "attribution-v1";

/// Why a payout did or did not earn (the wire names of API.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    AttributedClient,
    PartnerChannel,
    NonAttributedOtherChannel,
    LinkPendingApproval,
    LinkRequestDeclined,
    LinkRequestExpired,
    OnboardingIncomplete,
    LinkArchived,
    LinkDeleted,
    CaseBeforeLink,
    NoLink,
}

impl Reason {
    pub const ALL: [Reason; 11] = [
        Reason::AttributedClient,
        Reason::PartnerChannel,
        Reason::NonAttributedOtherChannel,
        Reason::LinkPendingApproval,
        Reason::LinkRequestDeclined,
        Reason::LinkRequestExpired,
        Reason::OnboardingIncomplete,
        Reason::LinkArchived,
        Reason::LinkDeleted,
        Reason::CaseBeforeLink,
        Reason::NoLink,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Reason::AttributedClient => "attributed_client",
            Reason::PartnerChannel => "partner_channel",
            Reason::NonAttributedOtherChannel => "non_attributed_other_channel",
            Reason::LinkPendingApproval => "link_pending_approval",
            Reason::LinkRequestDeclined => "link_request_declined",
            Reason::LinkRequestExpired => "link_request_expired",
            Reason::OnboardingIncomplete => "onboarding_incomplete",
            Reason::LinkArchived => "link_archived",
            Reason::LinkDeleted => "link_deleted",
            Reason::CaseBeforeLink => "case_before_link",
            Reason::NoLink => "no_link",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this reason means the partner earns.
    pub fn is_attributed(&self) -> bool {
        matches!(self, Reason::AttributedClient | Reason::PartnerChannel)
    }

    /// What the reason means, in one sentence (the timeline and statements explain
    /// decisions with it; [`Reason::resolution`] says what to do).
    pub fn summary(&self) -> &'static str {
        match self {
            Reason::AttributedClient => "Earns: the client is attributed to you, so every case earns.",
            Reason::PartnerChannel => "Earns: the case came through your partner integration.",
            Reason::NonAttributedOtherChannel => {
                "Did not earn: the client is not attributed to you and the case did not come through your integration."
            }
            Reason::LinkPendingApproval => "Did not earn: the client had not approved your link request.",
            Reason::LinkRequestDeclined => "Did not earn: the client declined your link request.",
            Reason::LinkRequestExpired => "Did not earn: your link request expired before the client approved it.",
            Reason::OnboardingIncomplete => "Did not earn: the client had not completed onboarding.",
            Reason::LinkArchived => "Did not earn: the link was archived.",
            Reason::LinkDeleted => "Did not earn: the link was deleted.",
            Reason::CaseBeforeLink => "Did not earn: the case was created before the link.",
            Reason::NoLink => "Did not earn: there was no link with the client.",
        }
    }

    /// What the partner can do about it, in one sentence.
    pub fn resolution(&self) -> &'static str {
        match self {
            Reason::AttributedClient | Reason::PartnerChannel => "Nothing to do: this payout earns.",
            Reason::NonAttributedOtherChannel => "The client is not attributed to you; submit its cases through your partner integration (bearer token from POST /oauth/token) so they earn.",
            Reason::LinkPendingApproval => "Ask the client to approve the link request (the approval e-mail or the approval URL).",
            Reason::LinkRequestDeclined => "The client declined the link; contact the client or platform support.",
            Reason::LinkRequestExpired => "The approval window passed; call POST /clients again to issue a fresh approval URL.",
            Reason::OnboardingIncomplete => "Ask the client to finish onboarding and sign the agreement (send the onboarding URL again).",
            Reason::LinkArchived => "The link was archived; ask platform support to unarchive it if that was a mistake.",
            Reason::LinkDeleted => "The link was deleted; a new link is needed for future cases.",
            Reason::CaseBeforeLink => "Cases created before the link never earn (forward-only attribution).",
            Reason::NoLink => "Create the client through POST /clients to link it.",
        }
    }
}

/// What the engine needs to know about the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts {
    pub created_at: Instant,
    pub source: CaseSource,
    /// The partner whose token created the case, when the source is `partner_api`.
    pub creating_partner: Option<Uuid>,
}

/// Everything known about the case's client that attribution looks at.
#[derive(Debug, Clone, Copy)]
pub struct ClientFacts<'a> {
    /// Every link of the client, with any partner, in any order.
    pub links: &'a [Link],
    /// Every link request for the client, in any order.
    pub requests: &'a [LinkRequest],
    /// When the client completed onboarding, if it has.
    pub onboarding_completed_at: Option<Instant>,
}

/// The engine's verdict for one partner at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub partner_id: Option<Uuid>,
    pub link_id: Option<Uuid>,
    pub link_request_id: Option<Uuid>,
    /// The link's status at `t`, if there was a link.
    pub link_status: Option<LinkStatus>,
    pub reason: Reason,
    pub attributed: bool,
    /// The link's snapshotted fee percentage, when the payout earns.
    pub referral_fee_bps: Option<Bps>,
    pub case_source: CaseSource,
    pub evaluated_at: Instant,
}

/// Something the client had with a partner at `t`: a link or a link request.
#[derive(Debug, Clone, Copy)]
enum Anchor<'a> {
    Link(&'a Link),
    Request(&'a LinkRequest),
}

impl Anchor<'_> {
    /// Sort key: most recent first, ties broken by id so load order never matters.
    fn key(&self) -> (Instant, u8, Uuid) {
        match self {
            Anchor::Link(l) => (l.linked_at, 1, l.id),
            Anchor::Request(r) => (r.created_at, 0, r.id),
        }
    }

    fn partner(&self) -> Uuid {
        match self {
            Anchor::Link(l) => l.partner_id,
            Anchor::Request(r) => r.partner_id,
        }
    }
}

/// The partner a payout at `t` concerns: the partner of the link active at `t`; if none,
/// of the most recent link or link request existing at `t`.
pub fn relevant_partner(client: ClientFacts<'_>, t: Instant) -> Option<Uuid> {
    let active = client.links.iter().filter(|l| l.status_at(t) == Some(LinkStatus::Active)).max_by_key(|l| (l.linked_at, l.id));
    if let Some(l) = active {
        return Some(l.partner_id);
    }
    let links = client.links.iter().filter(|l| l.linked_at <= t).map(Anchor::Link);
    let requests = client.requests.iter().filter(|r| r.created_at <= t).map(Anchor::Request);
    links.chain(requests).max_by_key(|a| a.key()).map(|a| a.partner())
}

/// Decides the payout at `t` for the relevant partner (see [`relevant_partner`]).
pub fn decide(case: CaseFacts, client: ClientFacts<'_>, t: Instant) -> Decision {
    match relevant_partner(client, t) {
        Some(p) => decide_for_partner(p, case, client, t),
        None => not_linked(None, case, t, Reason::NoLink, None),
    }
}

/// Evaluates the rules of SPEC §5 for `partner` at `t`.
pub fn decide_for_partner(partner: Uuid, case: CaseFacts, client: ClientFacts<'_>, t: Instant) -> Decision {
    let link = client
        .links
        .iter()
        .filter(|l| l.partner_id == partner && l.linked_at <= t)
        .max_by_key(|l| (l.status_at(t) == Some(LinkStatus::Active), l.linked_at, l.id));

    // Rule 1: a request exists but no link was ever approved for this partner.
    let Some(link) = link else {
        let request = client.requests.iter().filter(|r| r.partner_id == partner && r.created_at <= t).max_by_key(|r| (r.created_at, r.id));
        let (reason, request_id) = match request {
            Some(r) => (
                match r.status_at(t) {
                    LinkRequestStatus::Declined => Reason::LinkRequestDeclined,
                    LinkRequestStatus::Expired => Reason::LinkRequestExpired,
                    // Approved at `t` implies a link at `t`; if it is missing, the link
                    // was never made, which is still "no link".
                    LinkRequestStatus::Approved => Reason::NoLink,
                    LinkRequestStatus::Pending => Reason::LinkPendingApproval,
                },
                Some(r.id),
            ),
            None => (Reason::NoLink, None),
        };
        return not_linked(Some(partner), case, t, reason, request_id);
    };

    let status = link.status_at(t);
    let fail = |reason: Reason| Decision {
        partner_id: Some(partner),
        link_id: Some(link.id),
        link_request_id: None,
        link_status: status,
        reason,
        attributed: false,
        referral_fee_bps: None,
        case_source: case.source,
        evaluated_at: t,
    };

    // Rule 2: the link was active at `t`.
    match status {
        Some(LinkStatus::Active) => {}
        Some(LinkStatus::Archived) => return fail(Reason::LinkArchived),
        Some(LinkStatus::Deleted) => return fail(Reason::LinkDeleted),
        None => return fail(Reason::NoLink),
    }
    // Rule 3: onboarding complete at `t`.
    if !client.onboarding_completed_at.is_some_and(|done| done <= t) {
        return fail(Reason::OnboardingIncomplete);
    }
    // Rule 4: forward-only.
    if case.created_at < link.linked_at {
        return fail(Reason::CaseBeforeLink);
    }
    // Rules 5 and 6.
    let reason = if link.is_attributed {
        Reason::AttributedClient
    } else if case.source == CaseSource::PartnerApi && case.creating_partner == Some(partner) {
        Reason::PartnerChannel
    } else {
        return fail(Reason::NonAttributedOtherChannel);
    };
    Decision {
        partner_id: Some(partner),
        link_id: Some(link.id),
        link_request_id: None,
        link_status: status,
        reason,
        attributed: true,
        referral_fee_bps: Some(link.referral_fee_bps),
        case_source: case.source,
        evaluated_at: t,
    }
}

fn not_linked(partner: Option<Uuid>, case: CaseFacts, t: Instant, reason: Reason, request: Option<Uuid>) -> Decision {
    Decision {
        partner_id: partner,
        link_id: None,
        link_request_id: request,
        link_status: None,
        reason,
        attributed: false,
        referral_fee_bps: None,
        case_source: case.source,
        evaluated_at: t,
    }
}

#[cfg(test)]
mod tests;
