//! Tests of the attribution engine (SPEC §5).
//!
//! `every_reason_is_reached_by_its_scenario` is the table: one row per scenario, each naming
//! the `Reason` it must produce; together the rows reach all of `Reason::ALL`. The property
//! tests generate random client histories (links of two or three partners with archive /
//! unarchive / delete events in time order that respect `LinkStatus::can_become`, and link
//! requests in every state) and check what must hold for any history: the decision never
//! depends on load order, a case never earns through a link made after it, a fee exists
//! exactly when the payout is attributed, and a referral fee stays within the platform fee.

use std::collections::HashSet;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::Index;

use super::*;
use crate::case::CaseSource::{CsvImport, CustomerApi, Operator, PartnerApi, WebApp};
use crate::fees::{referral_fee, split_payment, FeeTerms};
use crate::link::LinkEvent;
use crate::link::LinkRequestStatus::{Approved, Declined, Expired, Pending};
use crate::link::LinkStatus::{Active, Archived, Deleted};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Referral partners.
const A: Uuid = Uuid::from_u128(0xA);
const B: Uuid = Uuid::from_u128(0xB);
const C: Uuid = Uuid::from_u128(0xC);
/// The one client every scenario is about.
const CLIENT: Uuid = Uuid::from_u128(0xC1);

/// Links and link requests of the scenarios.
const A_ATTRIBUTED: Uuid = Uuid::from_u128(0x1A);
const A_APPROVED: Uuid = Uuid::from_u128(0x2A);
const B_APPROVED: Uuid = Uuid::from_u128(0x2B);
const A_REQUEST: Uuid = Uuid::from_u128(0x3A);
const B_REQUEST: Uuid = Uuid::from_u128(0x3B);

/// Midnight UTC, `day` days after 2024-01-01.
fn t(day: i64) -> Instant {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::days(day)
}

/// One millisecond (the stored precision) before `at`.
fn just_before(at: Instant) -> Instant {
    at - Duration::milliseconds(1)
}

fn event(at: Instant, status: LinkStatus) -> LinkEvent {
    LinkEvent {
        at,
        status,
        actor: "operator".into(),
        reason: None,
    }
}

/// A link made on `day`, active from then on.
fn link(id: Uuid, partner: Uuid, day: i64, attributed: bool, fee_bps: u32) -> Link {
    Link {
        id,
        partner_id: partner,
        client_id: CLIENT,
        external_tenant_id: format!("tenant-of-{partner}"),
        is_attributed: attributed,
        referral_fee_bps: Bps(fee_bps),
        linked_at: t(day),
        history: vec![event(t(day), Active)],
    }
}

/// Status changes appended to a link's history, checked against `LinkStatus::can_become`.
trait History: Sized {
    fn becomes(self, status: LinkStatus, day: i64) -> Self;
    fn archived(self, day: i64) -> Self {
        self.becomes(Archived, day)
    }
    fn unarchived(self, day: i64) -> Self {
        self.becomes(Active, day)
    }
    fn deleted(self, day: i64) -> Self {
        self.becomes(Deleted, day)
    }
}

impl History for Link {
    fn becomes(mut self, status: LinkStatus, day: i64) -> Link {
        let last = self.history.last().expect("a link starts active");
        assert!(last.status.can_become(status), "{:?} cannot become {status:?}", last.status);
        assert!(last.at <= t(day), "history is in time order");
        self.history.push(event(t(day), status));
        self
    }
}

/// A link request made on `day`, with the default 7-day approval window.
fn request(id: Uuid, partner: Uuid, day: i64, status: LinkRequestStatus, decided: Option<i64>) -> LinkRequest {
    LinkRequest {
        id,
        partner_id: partner,
        client_id: CLIENT,
        external_tenant_id: format!("tenant-of-{partner}"),
        created_at: t(day),
        expires_at: t(day + 7),
        status,
        decided_at: decided.map(t),
    }
}

/// A case the client created itself (any non-partner source) on `day`.
fn case(day: i64, source: CaseSource) -> CaseFacts {
    CaseFacts {
        created_at: t(day),
        source,
        creating_partner: None,
    }
}

/// A case submitted on `day` through `partner`'s integration (bearer token).
fn api_case(day: i64, partner: Uuid) -> CaseFacts {
    CaseFacts {
        created_at: t(day),
        source: PartnerApi,
        creating_partner: Some(partner),
    }
}

/// What is known about the client, owned so scenarios can be built and kept.
#[derive(Debug, Clone, Default)]
struct World {
    links: Vec<Link>,
    requests: Vec<LinkRequest>,
    onboarded: Option<Instant>,
}

impl World {
    fn facts(&self) -> ClientFacts<'_> {
        ClientFacts {
            links: &self.links,
            requests: &self.requests,
            onboarding_completed_at: self.onboarded,
        }
    }

    fn onboarded(self, at: Option<Instant>) -> World {
        World {
            onboarded: at,
            ..self
        }
    }

    /// The same facts, loaded in the opposite order.
    fn reversed(&self) -> World {
        let mut w = self.clone();
        w.links.reverse();
        w.requests.reverse();
        w
    }

    fn link(&self, id: Uuid) -> &Link {
        self.links.iter().find(|l| l.id == id).expect("the link is in the world")
    }
}

// Scenario worlds.

/// A created the client through `POST /clients` on day 1 (attributed, 50 %); the client
/// finished onboarding on day 2.
fn created_by_a() -> World {
    World {
        links: vec![link(A_ATTRIBUTED, A, 1, true, 5000)],
        requests: vec![],
        onboarded: Some(t(2)),
    }
}

/// The client already existed (onboarded on day 0); A's link request of day 1 was approved
/// on day 3, which made a non-attributed link (40 %).
fn approved_for_a() -> World {
    World {
        links: vec![link(A_APPROVED, A, 3, false, 4000)],
        requests: vec![request(A_REQUEST, A, 1, Approved, Some(3))],
        onboarded: Some(t(0)),
    }
}

/// An onboarded client with only A's link request of day 1 (expires day 8).
fn requested_by_a(status: LinkRequestStatus, decided: Option<i64>) -> World {
    World {
        links: vec![],
        requests: vec![request(A_REQUEST, A, 1, status, decided)],
        onboarded: Some(t(0)),
    }
}

/// `created_by_a`, with the link archived on day 10 and unarchived on day 20.
fn archived_and_unarchived() -> World {
    World {
        links: vec![link(A_ATTRIBUTED, A, 1, true, 5000).archived(10).unarchived(20)],
        ..created_by_a()
    }
}

/// `created_by_a`, with the link deleted on day 10.
fn deleted() -> World {
    World {
        links: vec![link(A_ATTRIBUTED, A, 1, true, 5000).deleted(10)],
        ..created_by_a()
    }
}

/// `created_by_a`, with the link archived on day 10 and deleted on day 12.
fn archived_then_deleted() -> World {
    World {
        links: vec![link(A_ATTRIBUTED, A, 1, true, 5000).archived(10).deleted(12)],
        ..created_by_a()
    }
}

/// A created the client on day 1 (attributed, 50 %); the link was archived on day 10; B
/// asked to link it on day 14 and the client approved on day 20 (non-attributed, 30 %).
fn switched_from_a_to_b() -> World {
    World {
        links: vec![
            link(A_ATTRIBUTED, A, 1, true, 5000).archived(10),
            link(B_APPROVED, B, 20, false, 3000),
        ],
        requests: vec![request(B_REQUEST, B, 14, Approved, Some(20))],
        onboarded: Some(t(2)),
    }
}

/// A created the client on day 1; the link was deleted on day 10; A asked again on day 12
/// and the client approved on day 14 (a new, non-attributed link).
fn deleted_then_relinked_by_a() -> World {
    World {
        links: vec![
            link(A_ATTRIBUTED, A, 1, true, 5000).deleted(10),
            link(A_APPROVED, A, 14, false, 4000),
        ],
        requests: vec![request(A_REQUEST, A, 12, Approved, Some(14))],
        onboarded: Some(t(2)),
    }
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// Who the decision is asked for.
#[derive(Debug, Clone, Copy)]
enum Ask {
    /// `decide`: the engine picks the relevant partner.
    Relevant,
    /// `decide_for_partner` for this partner.
    Partner(Uuid),
}
use Ask::Relevant;

/// What the decision must point at.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// Neither a link nor a link request.
    Nothing,
    /// This link, in this status at `t`.
    Link(Uuid, LinkStatus),
    /// This link request (no link).
    Request(Uuid),
}

struct Row {
    name: &'static str,
    world: World,
    case: CaseFacts,
    at: Instant,
    ask: Ask,
    reason: Reason,
    partner: Option<Uuid>,
    via: Via,
}

fn rows() -> Vec<Row> {
    use Reason::*;
    let row = |name, world, case, at, ask, reason, partner, via| Row {
        name,
        world,
        case,
        at,
        ask,
        reason,
        partner,
        via,
    };
    let attributed_link = Via::Link(A_ATTRIBUTED, Active);
    let approved_link = Via::Link(A_APPROVED, Active);
    vec![
        // Rule 5: an attributed client earns on every source.
        row("attributed client, web_app case", created_by_a(), case(5, WebApp), t(10), Relevant, AttributedClient, Some(A), attributed_link),
        row("attributed client, csv_import case", created_by_a(), case(5, CsvImport), t(10), Relevant, AttributedClient, Some(A), attributed_link),
        row("attributed client, customer_api case", created_by_a(), case(5, CustomerApi), t(10), Relevant, AttributedClient, Some(A), attributed_link),
        row("attributed client, operator case", created_by_a(), case(5, Operator), t(10), Relevant, AttributedClient, Some(A), attributed_link),
        row("attributed client, own partner_api case", created_by_a(), api_case(5, A), t(10), Relevant, AttributedClient, Some(A), attributed_link),
        row("attributed client, another partner's partner_api case", created_by_a(), api_case(5, B), t(10), Relevant, AttributedClient, Some(A), attributed_link),
        row("case created exactly at linkedAt earns", created_by_a(), case(1, WebApp), t(10), Relevant, AttributedClient, Some(A), attributed_link),
        row("onboarding completed exactly at t counts", created_by_a().onboarded(Some(t(10))), case(5, WebApp), t(10), Relevant, AttributedClient, Some(A), attributed_link),
        // Rule 6: a non-attributed (approved) link earns only on the partner's own channel.
        row("non-attributed link, partner_api case by the same partner", approved_for_a(), api_case(5, A), t(10), Relevant, PartnerChannel, Some(A), approved_link),
        row("non-attributed link, partner_api case by another partner", approved_for_a(), api_case(5, B), t(10), Relevant, NonAttributedOtherChannel, Some(A), approved_link),
        row("non-attributed link, partner_api case with no creating partner", approved_for_a(), case(5, PartnerApi), t(10), Relevant, NonAttributedOtherChannel, Some(A), approved_link),
        row("non-attributed link, web_app case", approved_for_a(), case(5, WebApp), t(10), Relevant, NonAttributedOtherChannel, Some(A), approved_link),
        row("non-attributed link, csv_import case", approved_for_a(), case(5, CsvImport), t(10), Relevant, NonAttributedOtherChannel, Some(A), approved_link),
        row("non-attributed link, customer_api case", approved_for_a(), case(5, CustomerApi), t(10), Relevant, NonAttributedOtherChannel, Some(A), approved_link),
        row("non-attributed link, operator case", approved_for_a(), case(5, Operator), t(10), Relevant, NonAttributedOtherChannel, Some(A), approved_link),
        // Rule 1: a link request and no link.
        row("link request pending", requested_by_a(Pending, None), case(2, WebApp), t(5), Relevant, LinkPendingApproval, Some(A), Via::Request(A_REQUEST)),
        row("link request pending one ms before expiresAt", requested_by_a(Pending, None), case(2, WebApp), just_before(t(8)), Relevant, LinkPendingApproval, Some(A), Via::Request(A_REQUEST)),
        row("link request still stored pending, at expiresAt: expired", requested_by_a(Pending, None), case(2, WebApp), t(8), Relevant, LinkRequestExpired, Some(A), Via::Request(A_REQUEST)),
        row("link request still stored pending, long after expiresAt: expired", requested_by_a(Pending, None), case(2, WebApp), t(30), Relevant, LinkRequestExpired, Some(A), Via::Request(A_REQUEST)),
        row("link request stored expired", requested_by_a(Expired, None), case(2, WebApp), t(9), Relevant, LinkRequestExpired, Some(A), Via::Request(A_REQUEST)),
        row("link request declined", requested_by_a(Declined, Some(3)), case(2, WebApp), t(5), Relevant, LinkRequestDeclined, Some(A), Via::Request(A_REQUEST)),
        row("declined link request, before the decision: pending", requested_by_a(Declined, Some(3)), case(2, WebApp), t(2), Relevant, LinkPendingApproval, Some(A), Via::Request(A_REQUEST)),
        row("approved link request, before the approval: pending", approved_for_a(), case(2, WebApp), t(2), Relevant, LinkPendingApproval, Some(A), Via::Request(A_REQUEST)),
        row("approved link request whose link is missing", requested_by_a(Approved, Some(3)), case(2, WebApp), t(5), Relevant, NoLink, Some(A), Via::Request(A_REQUEST)),
        // Rule 2: the link was active at t.
        row("link archived at t", archived_and_unarchived(), case(5, WebApp), t(15), Relevant, LinkArchived, Some(A), Via::Link(A_ATTRIBUTED, Archived)),
        row("payout at the archive instant", archived_and_unarchived(), case(5, WebApp), t(10), Relevant, LinkArchived, Some(A), Via::Link(A_ATTRIBUTED, Archived)),
        row("payout one ms before the archive earns", archived_and_unarchived(), case(5, WebApp), just_before(t(10)), Relevant, AttributedClient, Some(A), attributed_link),
        row("archived then unarchived: earns again", archived_and_unarchived(), case(5, WebApp), t(25), Relevant, AttributedClient, Some(A), attributed_link),
        row("case created while archived, paid after unarchive", archived_and_unarchived(), case(15, WebApp), t(25), Relevant, AttributedClient, Some(A), attributed_link),
        row("link deleted at t", deleted(), case(5, WebApp), t(15), Relevant, LinkDeleted, Some(A), Via::Link(A_ATTRIBUTED, Deleted)),
        row("link archived then deleted", archived_then_deleted(), case(5, WebApp), t(15), Relevant, LinkDeleted, Some(A), Via::Link(A_ATTRIBUTED, Deleted)),
        row("link archived, not yet deleted", archived_then_deleted(), case(5, WebApp), t(11), Relevant, LinkArchived, Some(A), Via::Link(A_ATTRIBUTED, Archived)),
        row("archived beats onboarding incomplete", archived_and_unarchived().onboarded(None), case(5, WebApp), t(15), Relevant, LinkArchived, Some(A), Via::Link(A_ATTRIBUTED, Archived)),
        row("no link and no request at all", World::default().onboarded(Some(t(0))), case(5, WebApp), t(10), Relevant, NoLink, None, Via::Nothing),
        row("a partner never linked to the client", created_by_a(), case(5, WebApp), t(10), Ask::Partner(B), NoLink, Some(B), Via::Nothing),
        row("payout before the only link existed", created_by_a(), case(0, WebApp), just_before(t(1)), Relevant, NoLink, None, Via::Nothing),
        row("payout before the partner's link existed", created_by_a(), case(0, WebApp), just_before(t(1)), Ask::Partner(A), NoLink, Some(A), Via::Nothing),
        // Rule 3: onboarding complete at t.
        row("onboarding never completed", created_by_a().onboarded(None), case(5, WebApp), t(10), Relevant, OnboardingIncomplete, Some(A), attributed_link),
        row("onboarding completed after t", created_by_a().onboarded(Some(t(12))), case(5, WebApp), t(10), Relevant, OnboardingIncomplete, Some(A), attributed_link),
        row("onboarding completed one ms after t", created_by_a().onboarded(Some(t(10))), case(5, WebApp), just_before(t(10)), Relevant, OnboardingIncomplete, Some(A), attributed_link),
        row("onboarding incomplete beats case before link", created_by_a().onboarded(None), case(0, WebApp), t(10), Relevant, OnboardingIncomplete, Some(A), attributed_link),
        // Rule 4: forward-only.
        row("case created before linkedAt", created_by_a(), case(0, WebApp), t(10), Relevant, CaseBeforeLink, Some(A), attributed_link),
        row("case created one ms before linkedAt", created_by_a(), CaseFacts { created_at: just_before(t(1)), ..case(0, WebApp) }, t(10), Relevant, CaseBeforeLink, Some(A), attributed_link),
        row("own partner_api case created before an approved link", approved_for_a(), api_case(2, A), t(10), Relevant, CaseBeforeLink, Some(A), approved_link),
        // A linked, archived, then B linked (SPEC §5, second paragraph).
        row("A then B: case made under A, paid while A active", switched_from_a_to_b(), case(5, WebApp), t(8), Relevant, AttributedClient, Some(A), attributed_link),
        row("A then B: case made under A, paid after A's archive", switched_from_a_to_b(), case(5, WebApp), t(12), Relevant, LinkArchived, Some(A), Via::Link(A_ATTRIBUTED, Archived)),
        row("A then B: case made under A, paid while B's request is pending", switched_from_a_to_b(), case(5, WebApp), t(16), Relevant, LinkPendingApproval, Some(B), Via::Request(B_REQUEST)),
        row("A then B: case made under A, paid once B is linked", switched_from_a_to_b(), case(5, WebApp), t(25), Relevant, CaseBeforeLink, Some(B), Via::Link(B_APPROVED, Active)),
        row("A then B: A's own partner_api case, paid once B is linked", switched_from_a_to_b(), api_case(5, A), t(25), Relevant, CaseBeforeLink, Some(B), Via::Link(B_APPROVED, Active)),
        row("A then B: case made between the links, paid once B is linked", switched_from_a_to_b(), case(12, WebApp), t(25), Relevant, CaseBeforeLink, Some(B), Via::Link(B_APPROVED, Active)),
        row("A then B: B's own partner_api case made between the links", switched_from_a_to_b(), api_case(12, B), t(25), Ask::Partner(B), CaseBeforeLink, Some(B), Via::Link(B_APPROVED, Active)),
        row("A then B: case made between the links, asked for A", switched_from_a_to_b(), case(12, WebApp), t(25), Ask::Partner(A), LinkArchived, Some(A), Via::Link(A_ATTRIBUTED, Archived)),
        row("A then B: case made under A, asked for A once B is linked", switched_from_a_to_b(), case(5, WebApp), t(25), Ask::Partner(A), LinkArchived, Some(A), Via::Link(A_ATTRIBUTED, Archived)),
        row("A then B: case made under A, asked for B before B's link", switched_from_a_to_b(), case(5, WebApp), t(8), Ask::Partner(B), NoLink, Some(B), Via::Nothing),
        row("A then B: client's web_app case after B's link", switched_from_a_to_b(), case(22, WebApp), t(30), Relevant, NonAttributedOtherChannel, Some(B), Via::Link(B_APPROVED, Active)),
        row("A then B: B's own partner_api case after B's link", switched_from_a_to_b(), api_case(22, B), t(30), Relevant, PartnerChannel, Some(B), Via::Link(B_APPROVED, Active)),
        row("A then B: A's partner_api case after B's link", switched_from_a_to_b(), api_case(22, A), t(30), Relevant, NonAttributedOtherChannel, Some(B), Via::Link(B_APPROVED, Active)),
        row("A then B: B's partner_api case asked for A", switched_from_a_to_b(), api_case(22, B), t(30), Ask::Partner(A), LinkArchived, Some(A), Via::Link(A_ATTRIBUTED, Archived)),
        // A's link deleted, then A linked again through an approval.
        row("relinked: case made under the deleted link", deleted_then_relinked_by_a(), case(5, WebApp), t(20), Relevant, CaseBeforeLink, Some(A), Via::Link(A_APPROVED, Active)),
        row("relinked: paid while the old link was active", deleted_then_relinked_by_a(), case(5, WebApp), t(8), Relevant, AttributedClient, Some(A), attributed_link),
        row("relinked: paid between deletion and the new request", deleted_then_relinked_by_a(), case(5, WebApp), t(11), Relevant, LinkDeleted, Some(A), Via::Link(A_ATTRIBUTED, Deleted)),
        row("relinked: paid while the new request is pending", deleted_then_relinked_by_a(), case(5, WebApp), t(13), Relevant, LinkDeleted, Some(A), Via::Link(A_ATTRIBUTED, Deleted)),
        row("relinked: own partner_api case after the new link", deleted_then_relinked_by_a(), api_case(16, A), t(20), Relevant, PartnerChannel, Some(A), Via::Link(A_APPROVED, Active)),
        row("relinked: web_app case after the new link", deleted_then_relinked_by_a(), case(16, WebApp), t(20), Relevant, NonAttributedOtherChannel, Some(A), Via::Link(A_APPROVED, Active)),
    ]
}

fn ask(row: &Row) -> Decision {
    match row.ask {
        Ask::Relevant => decide(row.case, row.world.facts(), row.at),
        Ask::Partner(p) => decide_for_partner(p, row.case, row.world.facts(), row.at),
    }
}

#[test]
fn every_reason_is_reached_by_its_scenario() {
    let mut reached = HashSet::new();
    for row in rows() {
        let name = row.name;
        let d = ask(&row);
        assert_eq!(d.reason, row.reason, "{name}: reason");
        assert_eq!(d.partner_id, row.partner, "{name}: partner");
        match row.via {
            Via::Nothing => {
                assert_eq!((d.link_id, d.link_status, d.link_request_id), (None, None, None), "{name}: anchor");
            }
            Via::Link(id, status) => {
                assert_eq!((d.link_id, d.link_status, d.link_request_id), (Some(id), Some(status), None), "{name}: anchor");
            }
            Via::Request(id) => {
                assert_eq!((d.link_id, d.link_status, d.link_request_id), (None, None, Some(id)), "{name}: anchor");
            }
        }
        assert_eq!(d.attributed, row.reason.is_attributed(), "{name}: attributed flag");
        let fee = match (row.reason.is_attributed(), row.via) {
            (true, Via::Link(id, _)) => Some(row.world.link(id).referral_fee_bps),
            (true, _) => panic!("{name}: an attributed row must name its link"),
            (false, _) => None,
        };
        assert_eq!(d.referral_fee_bps, fee, "{name}: fee snapshot");
        assert_eq!(d.case_source, row.case.source, "{name}: case source");
        assert_eq!(d.evaluated_at, row.at, "{name}: evaluated_at");

        // `decide` is `decide_for_partner` for the partner it picks.
        if let (Ask::Relevant, Some(p)) = (row.ask, d.partner_id) {
            assert_eq!(decide_for_partner(p, row.case, row.world.facts(), row.at), d, "{name}: decide vs decide_for_partner");
            assert_eq!(relevant_partner(row.world.facts(), row.at), Some(p), "{name}: relevant partner");
        }
        // Load order never matters.
        let reversed = row.world.reversed();
        let again = match row.ask {
            Ask::Relevant => decide(row.case, reversed.facts(), row.at),
            Ask::Partner(p) => decide_for_partner(p, row.case, reversed.facts(), row.at),
        };
        assert_eq!(again, d, "{name}: reversed load order");
        reached.insert(d.reason);
    }
    let all: HashSet<Reason> = Reason::ALL.into_iter().collect();
    let missing: Vec<_> = all.difference(&reached).collect();
    assert!(missing.is_empty(), "reasons no scenario reaches: {missing:?}");
    assert_eq!(reached, all);
}

#[test]
fn reason_names_round_trip_and_only_two_reasons_earn() {
    let names: HashSet<&str> = Reason::ALL.iter().map(Reason::as_str).collect();
    assert_eq!(names.len(), Reason::ALL.len(), "wire names are distinct");
    for r in Reason::ALL {
        assert_eq!(Reason::parse(r.as_str()), Some(r));
        assert!(!r.resolution().is_empty());
    }
    let earning: Vec<Reason> = Reason::ALL.into_iter().filter(Reason::is_attributed).collect();
    assert_eq!(earning, vec![Reason::AttributedClient, Reason::PartnerChannel]);
    assert_eq!(Reason::parse("attributed"), None);
}

