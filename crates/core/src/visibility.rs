//! The one visibility rule of SPEC §5 (last paragraph): which cases a partner sees in its
//! Cases views, and ([`not_listed_because`]) why a case of a client linked to the partner
//! is not among them. The store's SQL twin is `refshare_store::PARTNER_VISIBLE_SQL`; a
//! conformance test checks on generated data that both agree for every (case, partner).

use uuid::Uuid;

use crate::attribution::CaseFacts;
use crate::case::CaseSource;
use crate::link::{Link, LinkStatus};
use crate::Instant;

fn fmt_t(t: Instant) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Whether `partner` sees the case at `now` through `link` (a link of the case's client):
/// the link is this partner's and active now, the case was created at or after the link's
/// `linkedAt`, and the link is attributed or the case came in through this partner's own
/// partner API.
pub fn visible_to_partner(partner: Uuid, case: CaseFacts, link: &Link, now: Instant) -> bool {
    link.partner_id == partner
        && link.status_at(now) == Some(LinkStatus::Active)
        && case.created_at >= link.linked_at
        && (link.is_attributed || (case.source == CaseSource::PartnerApi && case.creating_partner == Some(partner)))
}

/// Why a case is not in a partner's Cases views: the part of [`visible_to_partner`] that
/// fails, told from the partner's own links only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotListed {
    /// No link of the partner to the client is active now: `status` is the latest link's
    /// status (`Archived`, `Deleted`), or `None` when no link was ever made (a request only).
    NoActiveLink { status: Option<LinkStatus> },
    /// The case was created before the active link's `linkedAt`.
    CaseBeforeLink { created_at: Instant, linked_at: Instant },
    /// The active link is non-attributed and the case did not come in through the
    /// partner's own partner API.
    OtherChannel { source: CaseSource },
}

impl NotListed {
    /// A stable code for the reason.
    pub fn code(&self) -> &'static str {
        match self {
            NotListed::NoActiveLink { .. } => "no_active_link",
            NotListed::CaseBeforeLink { .. } => "case_before_link",
            NotListed::OtherChannel { .. } => "other_channel",
        }
    }

    /// The reason in a sentence for the partner's staff.
    pub fn explanation(&self) -> String {
        match self {
            NotListed::NoActiveLink { status: None } => {
                "You have no link to this client yet (your link request was not approved), and the Cases tab lists only the cases of clients linked to you now.".into()
            }
            NotListed::NoActiveLink { status: Some(s) } => format!(
                "Your link to this client is {}, and the Cases tab lists only the cases of clients linked to you now.",
                s.as_str()
            ),
            NotListed::CaseBeforeLink { created_at, linked_at } => format!(
                "The case was created {}, before your link to the client ({}), and the Cases tab lists only cases created after the link.",
                fmt_t(*created_at),
                fmt_t(*linked_at)
            ),
            NotListed::OtherChannel { source } => format!(
                "Your link to this client is non-attributed (made through the client's approval) and the case came in via {}, not through your partner integration: for such a client the Cases tab lists only the cases you submitted.",
                source.as_str()
            ),
        }
    }
}

/// `None` when `partner` sees the case at `now` through one of `links` (the case's
/// client's links, any partner's); otherwise why not, from the partner's links alone.
pub fn not_listed_because(partner: Uuid, case: CaseFacts, links: &[Link], now: Instant) -> Option<NotListed> {
    if links.iter().any(|l| visible_to_partner(partner, case, l, now)) {
        return None;
    }
    let mine = links.iter().filter(|l| l.partner_id == partner);
    let active = mine.clone().filter(|l| l.status_at(now) == Some(LinkStatus::Active)).max_by_key(|l| (l.linked_at, l.id));
    Some(match active {
        Some(l) if case.created_at < l.linked_at => NotListed::CaseBeforeLink { created_at: case.created_at, linked_at: l.linked_at },
        Some(_) => NotListed::OtherChannel { source: case.source },
        None => NotListed::NoActiveLink { status: mine.max_by_key(|l| (l.linked_at, l.id)).and_then(|l| l.status_at(now)) },
    })
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::link::LinkEvent;
    use crate::money::Bps;

    const A: Uuid = Uuid::from_u128(0xA);
    const B: Uuid = Uuid::from_u128(0xB);

    fn t(day: i64) -> Instant {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::days(day)
    }

    fn link(id: u128, partner: Uuid, day: i64, attributed: bool, later: &[(i64, LinkStatus)]) -> Link {
        let mut history = vec![LinkEvent { at: t(day), status: LinkStatus::Active, actor: "t".into(), reason: None }];
        history.extend(later.iter().map(|(d, s)| LinkEvent { at: t(*d), status: *s, actor: "t".into(), reason: None }));
        Link {
            id: Uuid::from_u128(id),
            partner_id: partner,
            client_id: Uuid::from_u128(0xC1),
            external_tenant_id: "acme".into(),
            is_attributed: attributed,
            referral_fee_bps: Bps(5000),
            linked_at: t(day),
            history,
        }
    }

    fn case(day: i64, source: CaseSource, by: Option<Uuid>) -> CaseFacts {
        CaseFacts { created_at: t(day), source, creating_partner: by }
    }

    #[test]
    fn every_reason_a_case_is_not_listed() {
        use CaseSource::*;
        let attributed = [link(1, A, 1, true, &[])];
        let approved = [link(2, A, 1, false, &[])];
        let archived = [link(3, A, 1, true, &[(5, LinkStatus::Archived)])];
        let deleted = [link(4, A, 1, true, &[(5, LinkStatus::Deleted)])];
        let others = [link(5, B, 1, true, &[])];
        let rows: Vec<(&str, &[Link], CaseFacts, Option<NotListed>)> = vec![
            ("attributed, after the link", &attributed[..], case(2, WebApp, None), None),
            ("own channel on an approved link", &approved[..], case(2, PartnerApi, Some(A)), None),
            (
                "before the link",
                &attributed[..],
                case(0, WebApp, None),
                Some(NotListed::CaseBeforeLink { created_at: t(0), linked_at: t(1) }),
            ),
            ("web app on an approved link", &approved[..], case(2, WebApp, None), Some(NotListed::OtherChannel { source: WebApp })),
            ("another partner's API", &approved[..], case(2, PartnerApi, Some(B)), Some(NotListed::OtherChannel { source: PartnerApi })),
            ("archived", &archived[..], case(2, WebApp, None), Some(NotListed::NoActiveLink { status: Some(LinkStatus::Archived) })),
            ("deleted", &deleted[..], case(2, WebApp, None), Some(NotListed::NoActiveLink { status: Some(LinkStatus::Deleted) })),
            ("another partner's link only", &others[..], case(2, WebApp, None), Some(NotListed::NoActiveLink { status: None })),
        ];
        for (name, links, c, want) in rows {
            let got = not_listed_because(A, c, links, t(10));
            assert_eq!(got, want, "{name}");
            assert_eq!(got.is_none(), links.iter().any(|l| visible_to_partner(A, c, l, t(10))), "{name}: agrees with the rule");
            if let Some(r) = got {
                assert!(!r.explanation().is_empty() && !r.code().is_empty());
            }
        }
    }

    #[test]
    fn the_explanation_names_only_the_partners_own_facts() {
        let others = [link(5, B, 1, true, &[])];
        let why = not_listed_because(A, case(2, CaseSource::WebApp, None), &others, t(10)).unwrap();
        assert!(!why.explanation().contains("2024-01-02"), "nothing about B's link: {}", why.explanation());
    }
}
