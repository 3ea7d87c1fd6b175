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
use crate::visibility::visible_to_partner;

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
    LinkEvent { at, status, actor: "operator".into(), reason: None }
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
    CaseFacts { created_at: t(day), source, creating_partner: None }
}

/// A case submitted on `day` through `partner`'s integration (bearer token).
fn api_case(day: i64, partner: Uuid) -> CaseFacts {
    CaseFacts { created_at: t(day), source: PartnerApi, creating_partner: Some(partner) }
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
        ClientFacts { links: &self.links, requests: &self.requests, onboarding_completed_at: self.onboarded }
    }

    fn onboarded(self, at: Option<Instant>) -> World {
        World { onboarded: at, ..self }
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
    World { links: vec![link(A_ATTRIBUTED, A, 1, true, 5000)], requests: vec![], onboarded: Some(t(2)) }
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
    World { links: vec![], requests: vec![request(A_REQUEST, A, 1, status, decided)], onboarded: Some(t(0)) }
}

/// `created_by_a`, with the link archived on day 10 and unarchived on day 20.
fn archived_and_unarchived() -> World {
    World { links: vec![link(A_ATTRIBUTED, A, 1, true, 5000).archived(10).unarchived(20)], ..created_by_a() }
}

/// `created_by_a`, with the link deleted on day 10.
fn deleted() -> World {
    World { links: vec![link(A_ATTRIBUTED, A, 1, true, 5000).deleted(10)], ..created_by_a() }
}

/// `created_by_a`, with the link archived on day 10 and deleted on day 12.
fn archived_then_deleted() -> World {
    World { links: vec![link(A_ATTRIBUTED, A, 1, true, 5000).archived(10).deleted(12)], ..created_by_a() }
}

/// A created the client on day 1 (attributed, 50 %); the link was archived on day 10; B
/// asked to link it on day 14 and the client approved on day 20 (non-attributed, 30 %).
fn switched_from_a_to_b() -> World {
    World {
        links: vec![link(A_ATTRIBUTED, A, 1, true, 5000).archived(10), link(B_APPROVED, B, 20, false, 3000)],
        requests: vec![request(B_REQUEST, B, 14, Approved, Some(20))],
        onboarded: Some(t(2)),
    }
}

/// A created the client on day 1; the link was deleted on day 10; A asked again on day 12
/// and the client approved on day 14 (a new, non-attributed link).
fn deleted_then_relinked_by_a() -> World {
    World {
        links: vec![link(A_ATTRIBUTED, A, 1, true, 5000).deleted(10), link(A_APPROVED, A, 14, false, 4000)],
        requests: vec![request(A_REQUEST, A, 12, Approved, Some(14))],
        onboarded: Some(t(2)),
    }
}

/// A's attributed link and B's link request, both made on day 5; A's link was deleted on
/// day 10 and B's request expired on day 12.
fn same_instant_link_and_request() -> World {
    World {
        links: vec![link(A_ATTRIBUTED, A, 5, true, 5000).deleted(10)],
        requests: vec![request(B_REQUEST, B, 5, Pending, None)],
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

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use Reason::*;
    let row = |name, world, case, at, ask, reason, partner, via| {
        Row { name, world, case, at, ask, reason, partner, via }
    };
    let a_active = Via::Link(A_ATTRIBUTED, Active);
    let a_archived = Via::Link(A_ATTRIBUTED, Archived);
    let a_deleted = Via::Link(A_ATTRIBUTED, Deleted);
    let a_approved = Via::Link(A_APPROVED, Active);
    let b_approved = Via::Link(B_APPROVED, Active);
    let a_request = Via::Request(A_REQUEST);
    let b_request = Via::Request(B_REQUEST);
    let for_a = Ask::Partner(A);
    let for_b = Ask::Partner(B);
    // row(name,
    //     client facts, case, payout instant t, asked for, expected reason, partner, link or request),
    vec![
        // Rule 5: an attributed client earns on every source.
        row("attributed client, web_app case",
            created_by_a(), case(5, WebApp), t(10), Relevant, AttributedClient, Some(A), a_active),
        row("attributed client, csv_import case",
            created_by_a(), case(5, CsvImport), t(10), Relevant, AttributedClient, Some(A), a_active),
        row("attributed client, customer_api case",
            created_by_a(), case(5, CustomerApi), t(10), Relevant, AttributedClient, Some(A), a_active),
        row("attributed client, operator case",
            created_by_a(), case(5, Operator), t(10), Relevant, AttributedClient, Some(A), a_active),
        row("attributed client, own partner_api case",
            created_by_a(), api_case(5, A), t(10), Relevant, AttributedClient, Some(A), a_active),
        row("attributed client, another partner's partner_api case",
            created_by_a(), api_case(5, B), t(10), Relevant, AttributedClient, Some(A), a_active),
        row("case created exactly at linkedAt earns",
            created_by_a(), case(1, WebApp), t(10), Relevant, AttributedClient, Some(A), a_active),
        row("onboarding completed exactly at t counts",
            created_by_a().onboarded(Some(t(10))), case(5, WebApp), t(10), Relevant, AttributedClient, Some(A), a_active),
        // Rule 6: a non-attributed (approved) link earns only on the partner's own channel.
        row("non-attributed link, partner_api case by the same partner",
            approved_for_a(), api_case(5, A), t(10), Relevant, PartnerChannel, Some(A), a_approved),
        row("non-attributed link, partner_api case by another partner",
            approved_for_a(), api_case(5, B), t(10), Relevant, NonAttributedOtherChannel, Some(A), a_approved),
        row("non-attributed link, partner_api case with no creating partner",
            approved_for_a(), case(5, PartnerApi), t(10), Relevant, NonAttributedOtherChannel, Some(A), a_approved),
        row("non-attributed link, web_app case",
            approved_for_a(), case(5, WebApp), t(10), Relevant, NonAttributedOtherChannel, Some(A), a_approved),
        row("non-attributed link, csv_import case",
            approved_for_a(), case(5, CsvImport), t(10), Relevant, NonAttributedOtherChannel, Some(A), a_approved),
        row("non-attributed link, customer_api case",
            approved_for_a(), case(5, CustomerApi), t(10), Relevant, NonAttributedOtherChannel, Some(A), a_approved),
        row("non-attributed link, web_app case with a creating partner recorded",
            approved_for_a(), CaseFacts { creating_partner: Some(A), ..case(5, WebApp) }, t(10), Relevant, NonAttributedOtherChannel, Some(A), a_approved),
        row("non-attributed link, operator case",
            approved_for_a(), case(5, Operator), t(10), Relevant, NonAttributedOtherChannel, Some(A), a_approved),
        // Rule 1: a link request and no link.
        row("link request pending",
            requested_by_a(Pending, None), case(2, WebApp), t(5), Relevant, LinkPendingApproval, Some(A), a_request),
        row("link request pending one ms before expiresAt",
            requested_by_a(Pending, None), case(2, WebApp), just_before(t(8)), Relevant, LinkPendingApproval, Some(A), a_request),
        row("link request still stored pending, at expiresAt: expired",
            requested_by_a(Pending, None), case(2, WebApp), t(8), Relevant, LinkRequestExpired, Some(A), a_request),
        row("link request still stored pending, long after expiresAt: expired",
            requested_by_a(Pending, None), case(2, WebApp), t(30), Relevant, LinkRequestExpired, Some(A), a_request),
        row("link request stored expired",
            requested_by_a(Expired, None), case(2, WebApp), t(9), Relevant, LinkRequestExpired, Some(A), a_request),
        row("link request declined",
            requested_by_a(Declined, Some(3)), case(2, WebApp), t(5), Relevant, LinkRequestDeclined, Some(A), a_request),
        row("declined link request, before the decision: pending",
            requested_by_a(Declined, Some(3)), case(2, WebApp), t(2), Relevant, LinkPendingApproval, Some(A), a_request),
        row("approved link request, before the approval: pending",
            approved_for_a(), case(2, WebApp), t(2), Relevant, LinkPendingApproval, Some(A), a_request),
        row("approved link request whose link is missing",
            requested_by_a(Approved, Some(3)), case(2, WebApp), t(5), Relevant, NoLink, Some(A), a_request),
        // Rule 2: the link was active at t.
        row("link archived at t",
            archived_and_unarchived(), case(5, WebApp), t(15), Relevant, LinkArchived, Some(A), a_archived),
        row("payout at the archive instant",
            archived_and_unarchived(), case(5, WebApp), t(10), Relevant, LinkArchived, Some(A), a_archived),
        row("payout one ms before the archive earns",
            archived_and_unarchived(), case(5, WebApp), just_before(t(10)), Relevant, AttributedClient, Some(A), a_active),
        row("archived then unarchived: earns again",
            archived_and_unarchived(), case(5, WebApp), t(25), Relevant, AttributedClient, Some(A), a_active),
        row("case created while archived, paid after unarchive",
            archived_and_unarchived(), case(15, WebApp), t(25), Relevant, AttributedClient, Some(A), a_active),
        row("link deleted at t",
            deleted(), case(5, WebApp), t(15), Relevant, LinkDeleted, Some(A), a_deleted),
        row("link archived then deleted",
            archived_then_deleted(), case(5, WebApp), t(15), Relevant, LinkDeleted, Some(A), a_deleted),
        row("link archived, not yet deleted",
            archived_then_deleted(), case(5, WebApp), t(11), Relevant, LinkArchived, Some(A), a_archived),
        row("archived beats onboarding incomplete",
            archived_and_unarchived().onboarded(None), case(5, WebApp), t(15), Relevant, LinkArchived, Some(A), a_archived),
        row("no link and no request at all",
            World::default().onboarded(Some(t(0))), case(5, WebApp), t(10), Relevant, NoLink, None, Via::Nothing),
        row("a partner never linked to the client",
            created_by_a(), case(5, WebApp), t(10), for_b, NoLink, Some(B), Via::Nothing),
        row("payout before the only link existed",
            created_by_a(), case(0, WebApp), just_before(t(1)), Relevant, NoLink, None, Via::Nothing),
        row("payout before the partner's link existed",
            created_by_a(), case(0, WebApp), just_before(t(1)), for_a, NoLink, Some(A), Via::Nothing),
        row("a link and a request made at the same instant: the link concerns the payout",
            same_instant_link_and_request(), case(6, WebApp), t(12), Relevant, LinkDeleted, Some(A), a_deleted),
        row("... and the request concerns its own partner",
            same_instant_link_and_request(), case(6, WebApp), t(12), for_b, LinkRequestExpired, Some(B), b_request),
        // Rule 3: onboarding complete at t.
        row("onboarding never completed",
            created_by_a().onboarded(None), case(5, WebApp), t(10), Relevant, OnboardingIncomplete, Some(A), a_active),
        row("onboarding completed after t",
            created_by_a().onboarded(Some(t(12))), case(5, WebApp), t(10), Relevant, OnboardingIncomplete, Some(A), a_active),
        row("onboarding completed one ms after t",
            created_by_a().onboarded(Some(t(10))), case(5, WebApp), just_before(t(10)), Relevant, OnboardingIncomplete, Some(A), a_active),
        row("onboarding incomplete beats case before link",
            created_by_a().onboarded(None), case(0, WebApp), t(10), Relevant, OnboardingIncomplete, Some(A), a_active),
        // Rule 4: forward-only.
        row("case created before linkedAt",
            created_by_a(), case(0, WebApp), t(10), Relevant, CaseBeforeLink, Some(A), a_active),
        row("case created one ms before linkedAt",
            created_by_a(), CaseFacts { created_at: just_before(t(1)), ..case(0, WebApp) }, t(10), Relevant, CaseBeforeLink, Some(A), a_active),
        row("own partner_api case created before an approved link",
            approved_for_a(), api_case(2, A), t(10), Relevant, CaseBeforeLink, Some(A), a_approved),
        // A linked, archived, then B linked (SPEC §5, second paragraph).
        row("A then B: case made under A, paid while A active",
            switched_from_a_to_b(), case(5, WebApp), t(8), Relevant, AttributedClient, Some(A), a_active),
        row("A then B: case made under A, paid after A's archive",
            switched_from_a_to_b(), case(5, WebApp), t(12), Relevant, LinkArchived, Some(A), a_archived),
        row("A then B: case made under A, paid while B's request is pending",
            switched_from_a_to_b(), case(5, WebApp), t(16), Relevant, LinkPendingApproval, Some(B), b_request),
        row("A then B: case made under A, paid once B is linked",
            switched_from_a_to_b(), case(5, WebApp), t(25), Relevant, CaseBeforeLink, Some(B), b_approved),
        row("A then B: A's own partner_api case, paid once B is linked",
            switched_from_a_to_b(), api_case(5, A), t(25), Relevant, CaseBeforeLink, Some(B), b_approved),
        row("A then B: case made between the links, paid once B is linked",
            switched_from_a_to_b(), case(12, WebApp), t(25), Relevant, CaseBeforeLink, Some(B), b_approved),
        row("A then B: B's own partner_api case made between the links",
            switched_from_a_to_b(), api_case(12, B), t(25), for_b, CaseBeforeLink, Some(B), b_approved),
        row("A then B: case made between the links, asked for A",
            switched_from_a_to_b(), case(12, WebApp), t(25), for_a, LinkArchived, Some(A), a_archived),
        row("A then B: case made under A, asked for A once B is linked",
            switched_from_a_to_b(), case(5, WebApp), t(25), for_a, LinkArchived, Some(A), a_archived),
        row("A then B: case made under A, asked for B before B's link",
            switched_from_a_to_b(), case(5, WebApp), t(8), for_b, NoLink, Some(B), Via::Nothing),
        row("A then B: client's web_app case after B's link",
            switched_from_a_to_b(), case(22, WebApp), t(30), Relevant, NonAttributedOtherChannel, Some(B), b_approved),
        row("A then B: B's own partner_api case after B's link",
            switched_from_a_to_b(), api_case(22, B), t(30), Relevant, PartnerChannel, Some(B), b_approved),
        row("A then B: A's partner_api case after B's link",
            switched_from_a_to_b(), api_case(22, A), t(30), Relevant, NonAttributedOtherChannel, Some(B), b_approved),
        row("A then B: B's partner_api case asked for A",
            switched_from_a_to_b(), api_case(22, B), t(30), for_a, LinkArchived, Some(A), a_archived),
        // A's link deleted, then A linked again through an approval.
        row("relinked: case made under the deleted link",
            deleted_then_relinked_by_a(), case(5, WebApp), t(20), Relevant, CaseBeforeLink, Some(A), a_approved),
        row("relinked: paid while the old link was active",
            deleted_then_relinked_by_a(), case(5, WebApp), t(8), Relevant, AttributedClient, Some(A), a_active),
        row("relinked: paid between deletion and the new request",
            deleted_then_relinked_by_a(), case(5, WebApp), t(11), Relevant, LinkDeleted, Some(A), a_deleted),
        row("relinked: paid while the new request is pending",
            deleted_then_relinked_by_a(), case(5, WebApp), t(13), Relevant, LinkDeleted, Some(A), a_deleted),
        row("relinked: own partner_api case after the new link",
            deleted_then_relinked_by_a(), api_case(16, A), t(20), Relevant, PartnerChannel, Some(A), a_approved),
        row("relinked: web_app case after the new link",
            deleted_then_relinked_by_a(), case(16, WebApp), t(20), Relevant, NonAttributedOtherChannel, Some(A), a_approved),
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

#[test]
fn each_reason_has_its_own_summary_that_says_whether_it_earns() {
    let summaries: HashSet<&str> = Reason::ALL.iter().map(Reason::summary).collect();
    assert_eq!(summaries.len(), Reason::ALL.len(), "summaries are distinct");
    for r in Reason::ALL {
        let earns = r.summary().starts_with("Earns:");
        assert_eq!(earns, r.is_attributed(), "{r:?}: {}", r.summary());
        assert!(earns || r.summary().starts_with("Did not earn:"), "{r:?}");
    }
}

#[test]
fn spec_worked_example_through_a_decision() {
    // GBP 1,000.00 at 15 % success fee and 40 % platform share; the attributed link's 50 %
    // snapshot gives exactly 30.00; the approved link's 40 % gives 24.00.
    let terms = FeeTerms { success_fee_bps: Bps(1500), platform_share_bps: Bps(4000) };
    let split = split_payment(100_000, terms).unwrap();
    assert_eq!(split.platform_fee, 6_000);

    let d = decide(case(5, WebApp), created_by_a().facts(), t(10));
    let bps = d.referral_fee_bps.expect("attributed");
    assert_eq!(referral_fee(split.platform_fee, bps).unwrap(), 3_000);

    let d = decide(api_case(5, A), approved_for_a().facts(), t(10));
    let bps = d.referral_fee_bps.expect("partner channel");
    assert_eq!(referral_fee(split.platform_fee, bps).unwrap(), 2_400);
}

#[test]
fn case_visibility_follows_the_link_active_now() {
    let attributed = created_by_a();
    let approved = approved_for_a();
    let archived = archived_and_unarchived();
    let a_link = attributed.link(A_ATTRIBUTED);
    let approved_link = approved.link(A_APPROVED);
    let archived_link = archived.link(A_ATTRIBUTED);

    assert!(visible_to_partner(A, case(5, WebApp), a_link, t(10)));
    assert!(!visible_to_partner(B, case(5, WebApp), a_link, t(10)), "another partner's link");
    assert!(!visible_to_partner(A, case(0, WebApp), a_link, t(10)), "created before the link");
    assert!(!visible_to_partner(A, case(5, WebApp), a_link, just_before(t(1))), "link not made yet");
    assert!(visible_to_partner(A, api_case(5, A), approved_link, t(10)));
    assert!(!visible_to_partner(A, api_case(5, B), approved_link, t(10)));
    assert!(!visible_to_partner(A, case(5, WebApp), approved_link, t(10)));
    assert!(!visible_to_partner(A, case(5, WebApp), archived_link, t(15)), "archived now");
    assert!(visible_to_partner(A, case(5, WebApp), archived_link, t(25)), "unarchived");
}

// ---------------------------------------------------------------------------------------
// Property tests over random histories
// ---------------------------------------------------------------------------------------

const PARTNERS: [Uuid; 3] = [A, B, C];

/// Every instant worth evaluating: generated events all fall on midnights of days 0..45,
/// so each midnight and the millisecond before it cover every boundary.
fn instants() -> impl Iterator<Item = Instant> {
    (0..=45).flat_map(|day| [just_before(t(day)), t(day)])
}

/// A link of one of the partners, with 0–4 status changes: each waits 0–4 days (0: two
/// changes at the same instant) and goes to a status `can_become` allows; deleted is final.
/// Its id is set by `arb_world`.
fn arb_link() -> impl Strategy<Value = Link> {
    let steps = prop::collection::vec((0..=4i64, any::<Index>()), 0..5);
    (0..PARTNERS.len(), 0..20i64, any::<bool>(), 0..=10_000u32, steps).prop_map(|(p, day, attributed, fee, steps)| {
        let mut l = link(Uuid::nil(), PARTNERS[p], day, attributed, fee);
        let mut at = day;
        for (gap, pick) in steps {
            let from = l.current_status();
            let next: Vec<LinkStatus> = [Active, Archived, Deleted].into_iter().filter(|s| from.can_become(*s)).collect();
            if next.is_empty() {
                break;
            }
            at += gap;
            l = l.becomes(*pick.get(&next), at);
        }
        l
    })
}

/// A link request in any stored status, with an approval window of 1–30 days; approved and
/// declined requests usually carry their decision instant. Its id is set by `arb_world`.
fn arb_request() -> impl Strategy<Value = LinkRequest> {
    let status = prop::sample::select(vec![Pending, Approved, Declined, Expired]);
    (0..PARTNERS.len(), 0..25i64, 1..=30i64, status, prop::option::of(0..10i64)).prop_map(|(p, day, ttl, status, decided)| {
        let decided = match status {
            Approved | Declined => decided.map(|gap| day + gap),
            Pending | Expired => None,
        };
        LinkRequest { expires_at: t(day + ttl), ..request(Uuid::nil(), PARTNERS[p], day, status, decided) }
    })
}

/// A random client history. Ids are distinct but in an order unrelated to generation
/// order, so tie-breaks by id are exercised too.
fn arb_world() -> impl Strategy<Value = World> {
    let links = prop::collection::vec(arb_link(), 0..5);
    let requests = prop::collection::vec(arb_request(), 0..4);
    (links, requests, prop::option::of(0..30i64), any::<u128>()).prop_map(|(mut links, mut requests, onboarded, salt)| {
        // Multiplying by an odd constant is a bijection on u128: distinct inputs, distinct ids.
        let id = |n: u128| Uuid::from_u128(salt.wrapping_add(n).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835));
        for (i, l) in links.iter_mut().enumerate() {
            l.id = id(i as u128);
        }
        for (i, r) in requests.iter_mut().enumerate() {
            r.id = id(100 + i as u128);
        }
        World { links, requests, onboarded: onboarded.map(t) }
    })
}

/// A world and the same facts with links and requests in a random order.
fn arb_world_and_shuffled() -> impl Strategy<Value = (World, World)> {
    arb_world().prop_flat_map(|w| {
        let links = Just(w.links.clone()).prop_shuffle();
        let requests = Just(w.requests.clone()).prop_shuffle();
        (Just(w), links, requests).prop_map(|(w, links, requests)| {
            let shuffled = World { links, requests, onboarded: w.onboarded };
            (w, shuffled)
        })
    })
}

fn arb_case() -> impl Strategy<Value = CaseFacts> {
    let source = prop::sample::select(CaseSource::ALL.to_vec());
    // Mostly consistent facts (a creating partner exactly on partner_api cases), with the
    // odd inconsistent one: a recorded partner alone never makes a partner-channel case.
    let consistent = prop::bool::weighted(0.9);
    (0..30i64, source, 0..PARTNERS.len(), consistent).prop_map(|(day, source, p, consistent)| CaseFacts {
        created_at: t(day),
        source,
        creating_partner: (consistent == (source == PartnerApi)).then_some(PARTNERS[p]),
    })
}

/// `decide` and `decide_for_partner` for every partner, at every instant of `instants`,
/// with the partner asked for (`None` for `decide`).
fn all_decisions(world: &World, case: CaseFacts) -> Vec<(Option<Uuid>, Instant, Decision)> {
    let mut out = Vec::new();
    for at in instants() {
        out.push((None, at, decide(case, world.facts(), at)));
        for p in PARTNERS {
            out.push((Some(p), at, decide_for_partner(p, case, world.facts(), at)));
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// (a) Links and requests come from storage in no particular order.
    #[test]
    fn decision_never_depends_on_load_order((world, shuffled) in arb_world_and_shuffled(), case in arb_case()) {
        let reversed = world.reversed();
        for at in instants() {
            let expected = decide(case, world.facts(), at);
            prop_assert_eq!(&decide(case, shuffled.facts(), at), &expected, "decide, shuffled, at {}", at);
            prop_assert_eq!(&decide(case, reversed.facts(), at), &expected, "decide, reversed, at {}", at);
            prop_assert_eq!(relevant_partner(shuffled.facts(), at), relevant_partner(world.facts(), at));
            for p in PARTNERS {
                let expected = decide_for_partner(p, case, world.facts(), at);
                prop_assert_eq!(&decide_for_partner(p, case, shuffled.facts(), at), &expected, "for {}, shuffled, at {}", p, at);
                prop_assert_eq!(&decide_for_partner(p, case, reversed.facts(), at), &expected, "for {}, reversed, at {}", p, at);
            }
        }
    }

    /// (b) Forward-only: a case created before a link's `linked_at` never earns through it.
    #[test]
    fn a_case_never_earns_through_a_link_made_after_it(world in arb_world(), case in arb_case()) {
        for (asked, at, d) in all_decisions(&world, case) {
            let Some(link_id) = d.link_id else { continue };
            let l = world.link(link_id);
            if case.created_at < l.linked_at {
                prop_assert!(!d.attributed, "{:?} at {} earned through {:?} made after the case", asked, at, l);
                let rules_1_to_3_pass = d.link_status == Some(Active) && world.onboarded.is_some_and(|o| o <= at);
                if rules_1_to_3_pass {
                    prop_assert_eq!(d.reason, Reason::CaseBeforeLink);
                }
            }
        }
        // A case older than every link earns for nobody, ever.
        if let Some(first) = world.links.iter().map(|l| l.linked_at).min() {
            let older = CaseFacts { created_at: just_before(first), ..case };
            for (asked, at, d) in all_decisions(&world, older) {
                prop_assert!(!d.attributed, "{:?} at {}: {:?}", asked, at, d);
            }
        }
    }

    /// (c) The flag, the reason and the fee snapshot agree; an earning decision satisfies
    /// every rule of SPEC §5 for the link it names.
    #[test]
    fn fee_snapshot_exactly_when_attributed(world in arb_world(), case in arb_case()) {
        for (asked, at, d) in all_decisions(&world, case) {
            prop_assert_eq!(d.attributed, d.reason.is_attributed(), "{:?}", d);
            prop_assert_eq!(d.referral_fee_bps.is_some(), d.attributed, "{:?}", d);
            prop_assert_eq!(d.case_source, case.source);
            prop_assert_eq!(d.evaluated_at, at);
            prop_assert!(d.link_id.is_none() || d.link_request_id.is_none(), "{:?}", d);
            if let Some(p) = asked {
                prop_assert_eq!(d.partner_id, Some(p));
            }
            if d.link_id.is_none() {
                prop_assert!(d.link_status.is_none());
            }
            if let Some(link_id) = d.link_id {
                let l = world.link(link_id);
                prop_assert_eq!(d.partner_id, Some(l.partner_id));
                prop_assert_eq!(d.link_status, l.status_at(at));
            }
            if let Some(request_id) = d.link_request_id {
                let r = world.requests.iter().find(|r| r.id == request_id).expect("a known request");
                prop_assert_eq!(d.partner_id, Some(r.partner_id));
                prop_assert!(r.created_at <= at);
            }
            if d.attributed {
                let l = world.link(d.link_id.expect("an earning names its link"));
                prop_assert_eq!(d.referral_fee_bps, Some(l.referral_fee_bps));
                prop_assert_eq!(l.status_at(at), Some(Active));
                prop_assert!(world.onboarded.is_some_and(|o| o <= at));
                prop_assert!(case.created_at >= l.linked_at);
                let own_channel = case.source == PartnerApi && case.creating_partner == Some(l.partner_id);
                let expected = if l.is_attributed { Reason::AttributedClient } else { Reason::PartnerChannel };
                prop_assert_eq!(d.reason, expected);
                prop_assert!(l.is_attributed || own_channel);
            }
        }
    }

    /// Completeness: when exactly one link is active at `t` and every rule passes for it,
    /// `decide` picks its partner and the payout earns through it.
    #[test]
    fn the_active_link_earns_when_every_rule_passes(world in arb_world(), case in arb_case()) {
        for at in instants() {
            let active: Vec<&Link> = world.links.iter().filter(|l| l.status_at(at) == Some(Active)).collect();
            let [l] = active[..] else { continue };
            let d = decide(case, world.facts(), at);
            prop_assert_eq!(d.partner_id, Some(l.partner_id));
            let own_channel = case.source == PartnerApi && case.creating_partner == Some(l.partner_id);
            let earns = world.onboarded.is_some_and(|o| o <= at)
                && case.created_at >= l.linked_at
                && (l.is_attributed || own_channel);
            prop_assert_eq!(d.attributed, earns, "at {}: {:?}", at, d);
            if earns {
                prop_assert_eq!(d.link_id, Some(l.id));
            }
        }
    }

    /// (d) With the fee split: a referral fee is never negative and never exceeds the
    /// platform fee, and is zero when the payout does not earn.
    #[test]
    fn referral_fee_stays_within_the_platform_fee(
        world in arb_world(),
        case in arb_case(),
        day in 0..=45i64,
        payment in 1i64..1_000_000_000_000,
        success in 0u32..=10_000,
        share in 0u32..=10_000,
    ) {
        let terms = FeeTerms { success_fee_bps: Bps(success), platform_share_bps: Bps(share) };
        let split = split_payment(payment, terms).unwrap();
        let at = t(day);
        let decisions = std::iter::once(decide(case, world.facts(), at))
            .chain(PARTNERS.map(|p| decide_for_partner(p, case, world.facts(), at)));
        for d in decisions {
            let fee = match d.referral_fee_bps {
                Some(bps) => referral_fee(split.platform_fee, bps).unwrap(),
                None => 0,
            };
            prop_assert!(fee >= 0, "negative fee {} for {:?}", fee, d);
            prop_assert!(fee <= split.platform_fee, "fee {} above platform fee {}", fee, split.platform_fee);
            prop_assert!(d.attributed || fee == 0);
        }
    }

    /// The Cases view shows exactly the cases that would earn for the link's partner now
    /// (a client with a single link, onboarded long ago).
    #[test]
    fn visibility_matches_an_earning_decision(l in arb_link(), case in arb_case()) {
        let world = World { links: vec![l.clone()], requests: vec![], onboarded: Some(t(-1)) };
        for now in instants() {
            let d = decide_for_partner(l.partner_id, case, world.facts(), now);
            prop_assert_eq!(visible_to_partner(l.partner_id, case, &l, now), d.attributed, "at {}: {:?}", now, d);
            for other in PARTNERS.into_iter().filter(|p| *p != l.partner_id) {
                prop_assert!(!visible_to_partner(other, case, &l, now));
            }
        }
    }
}
