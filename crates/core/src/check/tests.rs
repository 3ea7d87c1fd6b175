//! Tests of the self-serve attribution check (SPEC §8).
//!
//! `each_scenario_gives_its_checks_and_verdict` is the table: one row per situation a partner
//! asks about, with the expected status of each of the six checks (always present once, in
//! the order link, onboarding, attribution_type, creation_source, case_after_link, payouts)
//! and the verdict. Every failing check must say what to do about it; passing and
//! not-applicable ones must not. The verdict follows the latest stored payout, whatever the
//! order the payouts are passed in.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::attribution::decide_for_partner;
use crate::case::CaseSource::{PartnerApi, WebApp};
use crate::link::{LinkEvent, LinkRequest, LinkRequestStatus};
use crate::money::Bps;
use CheckStatus::{Fail, NotApplicable as Na, Pass};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

const A: Uuid = Uuid::from_u128(0xA);
const B: Uuid = Uuid::from_u128(0xB);
const CLIENT: Uuid = Uuid::from_u128(0xC1);
const A_LINK: Uuid = Uuid::from_u128(0x1A);
const B_LINK: Uuid = Uuid::from_u128(0x1B);

/// The check ids, in the order every report lists them.
const IDS: [&str; 6] = ["link", "onboarding", "attribution_type", "creation_source", "case_after_link", "payouts"];

/// Midnight UTC, `day` days after 2024-01-01.
fn t(day: i64) -> Instant {
    Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap() + Duration::days(day)
}

/// A link made on `day`, then moved through `changes` (status, day) in order.
fn link(id: Uuid, partner: Uuid, day: i64, attributed: bool, changes: &[(LinkStatus, i64)]) -> Link {
    let event = |at: i64, status| LinkEvent { at: t(at), status, actor: "operator".into(), reason: None };
    let mut history = vec![event(day, LinkStatus::Active)];
    for &(status, at) in changes {
        assert!(history.last().unwrap().status.can_become(status));
        history.push(event(at, status));
    }
    Link {
        id,
        partner_id: partner,
        client_id: CLIENT,
        external_tenant_id: "tenant-1".into(),
        is_attributed: attributed,
        referral_fee_bps: Bps(5000),
        linked_at: t(day),
        history,
    }
}

/// A's link request made on day 1, expiring on day 8.
fn request(status: LinkRequestStatus, decided: Option<i64>) -> LinkRequest {
    LinkRequest {
        id: Uuid::from_u128(0x3A),
        partner_id: A,
        client_id: CLIENT,
        external_tenant_id: "tenant-1".into(),
        created_at: t(1),
        expires_at: t(8),
        status,
        decided_at: decided.map(t),
    }
}

fn case(day: i64) -> CaseFacts {
    CaseFacts { created_at: t(day), source: WebApp, creating_partner: None }
}

fn api_case(day: i64, partner: Uuid) -> CaseFacts {
    CaseFacts { created_at: t(day), source: PartnerApi, creating_partner: Some(partner) }
}

/// A stored payout decision made on `day` for `partner`.
fn payout(n: u128, day: i64, partner: Uuid, reason: Reason) -> PayoutFacts {
    PayoutFacts { payout_id: Uuid::from_u128(0x100 + n), at: t(day), partner_id: Some(partner), reason }
}

#[derive(Debug, Clone)]
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
}

/// A created the client on day 1 (attributed link, then `changes`); onboarded on day 2.
fn created_by_a(changes: &[(LinkStatus, i64)]) -> World {
    World { links: vec![link(A_LINK, A, 1, true, changes)], requests: vec![], onboarded: Some(t(2)) }
}

/// The client existed (onboarded on day 0); A's request was approved on day 3.
fn approved_for_a() -> World {
    World {
        links: vec![link(A_LINK, A, 3, false, &[])],
        requests: vec![request(LinkRequestStatus::Approved, Some(3))],
        onboarded: Some(t(0)),
    }
}

/// A client that has not finished onboarding, with only A's link request.
fn requested_by_a(status: LinkRequestStatus, decided: Option<i64>) -> World {
    World { links: vec![], requests: vec![request(status, decided)], onboarded: None }
}

/// A's attributed link of day 1 archived on day 10; B linked (approved) on day 20.
fn switched_from_a_to_b() -> World {
    World {
        links: vec![link(A_LINK, A, 1, true, &[(LinkStatus::Archived, 10)]), link(B_LINK, B, 20, false, &[])],
        requests: vec![],
        onboarded: Some(t(2)),
    }
}

fn statuses(report: &CheckReport) -> Vec<CheckStatus> {
    report.checks.iter().map(|c| c.status).collect()
}

fn check<'a>(report: &'a CheckReport, id: &str) -> &'a CheckItem {
    report.checks.iter().find(|c| c.id == id).expect("every check is present")
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

struct Row {
    name: &'static str,
    world: World,
    case: CaseFacts,
    partner: Uuid,
    payouts: Vec<PayoutFacts>,
    now: Instant,
    checks: [CheckStatus; 6],
    verdict: Verdict,
    reason: Reason,
}

#[rustfmt::skip]
fn rows() -> Vec<Row> {
    use LinkStatus::{Archived, Active, Deleted};
    use LinkRequestStatus::{Declined, Expired, Pending};
    use Reason::*;
    use Verdict::*;
    let row = |name, world, case, partner, payouts, now, checks, verdict, reason| {
        Row { name, world, case, partner, payouts, now, checks, verdict, reason }
    };
    // row(name,
    //     client facts, case, asking partner, its stored payouts, now,
    //     [link, onboarding, attribution_type, creation_source, case_after_link, payouts], verdict, reason),
    vec![
        row("attributed client, earned",
            created_by_a(&[]), case(5), A, vec![payout(1, 10, A, AttributedClient)], t(30),
            [Pass, Pass, Pass, Pass, Pass, Pass], Attributed, AttributedClient),
        row("attributed client, no payment yet",
            created_by_a(&[]), case(5), A, vec![], t(30),
            [Pass, Pass, Pass, Pass, Pass, Na], NoPayoutYet, AttributedClient),
        row("approved link, own partner_api case, earned",
            approved_for_a(), api_case(5, A), A, vec![payout(1, 10, A, PartnerChannel)], t(30),
            [Pass, Pass, Na, Pass, Pass, Pass], Attributed, PartnerChannel),
        row("approved link, web_app case",
            approved_for_a(), case(5), A, vec![payout(1, 10, A, NonAttributedOtherChannel)], t(30),
            [Pass, Pass, Na, Fail, Pass, Fail], NotAttributed, NonAttributedOtherChannel),
        row("approved link, another partner's partner_api case, no payment yet",
            approved_for_a(), api_case(5, B), A, vec![], t(30),
            [Pass, Pass, Na, Fail, Pass, Na], NoPayoutYet, NonAttributedOtherChannel),
        row("link request pending",
            requested_by_a(Pending, None), case(0), A, vec![], t(5),
            [Fail, Na, Na, Na, Na, Na], NoPayoutYet, LinkPendingApproval),
        row("link request declined, paid",
            requested_by_a(Declined, Some(3)), case(0), A, vec![payout(1, 5, A, LinkRequestDeclined)], t(10),
            [Fail, Na, Na, Na, Na, Fail], NotAttributed, LinkRequestDeclined),
        row("link request stored pending, past expiresAt",
            requested_by_a(Pending, None), case(0), A, vec![], t(20),
            [Fail, Na, Na, Na, Na, Na], NoPayoutYet, LinkRequestExpired),
        row("link request stored expired",
            requested_by_a(Expired, None), case(0), A, vec![], t(20),
            [Fail, Na, Na, Na, Na, Na], NoPayoutYet, LinkRequestExpired),
        row("link archived",
            created_by_a(&[(Archived, 10)]), case(5), A, vec![payout(1, 12, A, LinkArchived)], t(15),
            [Fail, Pass, Pass, Pass, Pass, Fail], NotAttributed, LinkArchived),
        row("link archived, then unarchived: earns again",
            created_by_a(&[(Archived, 10), (Active, 20)]), case(5), A,
            vec![payout(1, 12, A, LinkArchived), payout(2, 25, A, AttributedClient)], t(30),
            [Pass, Pass, Pass, Pass, Pass, Pass], Attributed, AttributedClient),
        row("link deleted",
            created_by_a(&[(Deleted, 10)]), case(5), A, vec![payout(1, 12, A, LinkDeleted)], t(15),
            [Fail, Pass, Pass, Pass, Pass, Fail], NotAttributed, LinkDeleted),
        row("link deleted, no payment yet",
            created_by_a(&[(Archived, 8), (Deleted, 10)]), case(5), A, vec![], t(15),
            [Fail, Pass, Pass, Pass, Pass, Na], NoPayoutYet, LinkDeleted),
        row("onboarding incomplete",
            created_by_a(&[]).onboarded(None), case(5), A, vec![payout(1, 10, A, OnboardingIncomplete)], t(15),
            [Pass, Fail, Pass, Pass, Pass, Fail], NotAttributed, OnboardingIncomplete),
        row("onboarding completed after the payout, before now",
            created_by_a(&[]).onboarded(Some(t(12))), case(5), A, vec![payout(1, 10, A, OnboardingIncomplete)], t(15),
            [Pass, Pass, Pass, Pass, Pass, Fail], NotAttributed, OnboardingIncomplete),
        row("onboarding recorded as completed after now",
            created_by_a(&[]).onboarded(Some(t(20))), case(5), A, vec![], t(15),
            [Pass, Fail, Pass, Pass, Pass, Na], NoPayoutYet, OnboardingIncomplete),
        row("replayed partner_api case, created at the approval instant",
            approved_for_a(), api_case(3, A), A, vec![payout(1, 10, A, PartnerChannel)], t(30),
            [Pass, Pass, Na, Pass, Pass, Pass], Attributed, PartnerChannel),
        row("case created before the link",
            created_by_a(&[]), case(0), A, vec![payout(1, 10, A, CaseBeforeLink)], t(15),
            [Pass, Pass, Pass, Pass, Fail, Fail], NotAttributed, CaseBeforeLink),
        row("never linked, no request",
            created_by_a(&[]).onboarded(None), case(5), B, vec![], t(15),
            [Fail, Na, Na, Na, Na, Na], NoPayoutYet, NoLink),
        row("A then B, asked by A: earned while A's link was active",
            switched_from_a_to_b(), case(5), A, vec![payout(1, 8, A, AttributedClient)], t(30),
            [Fail, Pass, Pass, Pass, Pass, Pass], Attributed, AttributedClient),
        row("A then B, asked by B: case made before B's link",
            switched_from_a_to_b(), case(5), B, vec![payout(2, 25, B, CaseBeforeLink)], t(30),
            [Pass, Pass, Na, Fail, Fail, Fail], NotAttributed, CaseBeforeLink),
        row("A then B, asked by B: own partner_api case after the link",
            switched_from_a_to_b(), api_case(22, B), B, vec![payout(3, 25, B, PartnerChannel)], t(30),
            [Pass, Pass, Na, Pass, Pass, Pass], Attributed, PartnerChannel),
    ]
}

fn run(row: &Row) -> CheckReport {
    self_serve_check(row.partner, row.case, row.world.facts(), &row.payouts, row.now)
}

#[test]
fn each_scenario_gives_its_checks_and_verdict() {
    let mut verdicts = Vec::new();
    for row in rows() {
        let name = row.name;
        let report = run(&row);
        let ids: Vec<&str> = report.checks.iter().map(|c| c.id).collect();
        assert_eq!(ids, IDS, "{name}: each check once, in order");
        assert_eq!(statuses(&report), row.checks, "{name}: statuses {:#?}", report.checks);
        assert_eq!(report.verdict, row.verdict, "{name}: verdict");
        assert_eq!(report.reason, row.reason, "{name}: reason");
        verdicts.push(report.verdict);

        let now = decide_for_partner(row.partner, row.case, row.world.facts(), row.now);
        if report.verdict == Verdict::NoPayoutYet {
            assert_eq!(report.reason, now.reason, "{name}: without payouts, the decision as of now");
        }
        for c in &report.checks {
            match (c.status, &c.resolution) {
                (Fail, Some(r)) => {
                    assert!(!r.is_empty(), "{name}: {} has an empty resolution", c.id)
                }
                (Fail, None) => panic!("{name}: failing check {} has no resolution", c.id),
                (_, Some(r)) => panic!("{name}: {} does not fail but resolves with {r:?}", c.id),
                (_, None) => {}
            }
            assert!(!c.detail.is_empty(), "{name}: {} has no detail", c.id);
        }
        // Each failing check says the resolution of the rule it stands for.
        let resolution = |id| check(&report, id).resolution.as_deref();
        if check(&report, "link").status == Fail {
            assert_eq!(resolution("link"), Some(now.reason.resolution()), "{name}: link");
        }
        if check(&report, "onboarding").status == Fail {
            assert_eq!(resolution("onboarding"), Some(Reason::OnboardingIncomplete.resolution()));
        }
        if check(&report, "creation_source").status == Fail {
            assert_eq!(resolution("creation_source"), Some(Reason::NonAttributedOtherChannel.resolution()));
        }
        if check(&report, "case_after_link").status == Fail {
            assert_eq!(resolution("case_after_link"), Some(Reason::CaseBeforeLink.resolution()));
        }
        if check(&report, "payouts").status == Fail {
            assert_eq!(resolution("payouts"), Some(report.reason.resolution()), "{name}: payouts");
        }
    }
    for v in [Verdict::Attributed, Verdict::NotAttributed, Verdict::NoPayoutYet] {
        assert!(verdicts.contains(&v), "no scenario gives {v:?}");
    }
}

#[test]
fn verdict_follows_the_latest_payout_whatever_the_order_given() {
    let world = created_by_a(&[(LinkStatus::Archived, 12), (LinkStatus::Active, 20)]);
    let earned = payout(1, 10, A, Reason::AttributedClient);
    let archived = payout(2, 15, A, Reason::LinkArchived);
    let earned_again = payout(3, 25, A, Reason::AttributedClient);

    for payouts in [vec![earned.clone(), archived.clone()], vec![archived.clone(), earned.clone()]] {
        let report = self_serve_check(A, case(5), world.facts(), &payouts, t(16));
        assert_eq!((report.verdict, report.reason), (Verdict::NotAttributed, Reason::LinkArchived));
        let payouts_check = check(&report, "payouts");
        assert_eq!(payouts_check.status, Fail);
        assert_eq!(payouts_check.detail, "2 payout(s), 1 earning.");
        assert_eq!(payouts_check.resolution.as_deref(), Some(Reason::LinkArchived.resolution()));
    }

    let all = [earned_again, archived, earned];
    let forward = self_serve_check(A, case(5), world.facts(), &all, t(30));
    let mut backward_payouts = all.to_vec();
    backward_payouts.reverse();
    let backward = self_serve_check(A, case(5), world.facts(), &backward_payouts, t(30));
    assert_eq!(forward, backward);
    assert_eq!((forward.verdict, forward.reason), (Verdict::Attributed, Reason::AttributedClient));
    let payouts_check = check(&forward, "payouts");
    assert_eq!(payouts_check.status, Pass);
    assert_eq!(payouts_check.detail, "3 payout(s), 2 earning.");
    assert_eq!(payouts_check.resolution, None);
}

#[test]
fn payouts_at_the_same_instant_are_ordered_by_id_not_by_position() {
    let world = created_by_a(&[]);
    let a = payout(1, 10, A, Reason::AttributedClient);
    let b = payout(2, 10, A, Reason::OnboardingIncomplete);
    let one = self_serve_check(A, case(5), world.facts(), &[a.clone(), b.clone()], t(30));
    let other = self_serve_check(A, case(5), world.facts(), &[b, a], t(30));
    assert_eq!(one, other);
}

#[test]
fn details_name_the_dates_a_partner_needs() {
    let detail = |world: &World, case: CaseFacts, now: Instant, id: &str| {
        let report = self_serve_check(A, case, world.facts(), &[], now);
        check(&report, id).detail.clone()
    };
    let archived = created_by_a(&[(LinkStatus::Archived, 10)]);
    let d = detail(&archived, case(5), t(15), "link");
    assert!(d.contains("2024-01-02 00:00 UTC") && d.contains("archived since 2024-01-11 00:00 UTC"), "{d}");

    let unarchived = created_by_a(&[(LinkStatus::Archived, 10), (LinkStatus::Active, 12), (LinkStatus::Archived, 14)]);
    let d = detail(&unarchived, case(5), t(15), "link");
    assert!(d.contains("archived since 2024-01-15 00:00 UTC"), "the latest archive: {d}");

    let deleted = created_by_a(&[(LinkStatus::Deleted, 10)]);
    let d = detail(&deleted, case(5), t(15), "link");
    assert!(d.contains("deleted since 2024-01-11 00:00 UTC"), "{d}");

    let pending = requested_by_a(LinkRequestStatus::Pending, None);
    let d = detail(&pending, case(0), t(5), "link");
    assert!(d.contains("pending since 2024-01-02 00:00 UTC") && d.contains("expires 2024-01-09 00:00 UTC"), "{d}");
    let d = detail(&pending, case(0), t(8), "link");
    assert!(d.contains("expired 2024-01-09 00:00 UTC"), "{d}");

    let declined = requested_by_a(LinkRequestStatus::Declined, Some(3));
    let d = detail(&declined, case(0), t(5), "link");
    assert!(d.contains("declined 2024-01-04 00:00 UTC"), "{d}");

    let d = detail(&created_by_a(&[]), case(0), t(15), "case_after_link");
    assert!(d.contains("2024-01-01 00:00 UTC") && d.contains("before the link (2024-01-02 00:00 UTC)"), "{d}");

    let d = detail(&created_by_a(&[]), case(5), t(15), "onboarding");
    assert!(d.contains("2024-01-03 00:00 UTC"), "{d}");
}

/// Up to six stored payouts of A with random instants (ties included) and reasons, and
/// the same payouts in a random order.
fn arb_payouts() -> impl Strategy<Value = (Vec<PayoutFacts>, Vec<PayoutFacts>)> {
    let reason = prop::sample::select(Reason::ALL.to_vec());
    prop::collection::vec((0..40i64, reason), 0..6)
        .prop_map(|raw| raw.into_iter().enumerate().map(|(i, (day, reason))| payout(i as u128, day, A, reason)).collect::<Vec<_>>())
        .prop_flat_map(|payouts| (Just(payouts.clone()), Just(payouts).prop_shuffle()))
}

proptest! {
    /// Whatever payouts are stored and in whatever order they are given, the report is the
    /// same, lists every check once in order, and its verdict is that of the latest payout.
    #[test]
    fn report_is_independent_of_payout_order(
        world in prop::sample::select(vec![
            created_by_a(&[]),
            approved_for_a(),
            switched_from_a_to_b(),
            requested_by_a(LinkRequestStatus::Pending, None),
        ]),
        (payouts, shuffled) in arb_payouts(),
    ) {
        let report = self_serve_check(A, case(5), world.facts(), &payouts, t(40));
        prop_assert_eq!(&self_serve_check(A, case(5), world.facts(), &shuffled, t(40)), &report);

        let ids: Vec<&str> = report.checks.iter().map(|c| c.id).collect();
        prop_assert_eq!(ids, IDS.to_vec());
        for c in &report.checks {
            prop_assert_eq!(c.resolution.is_some(), c.status == Fail, "{:?}", c);
        }
        let latest = payouts.iter().max_by_key(|p| (p.at, p.payout_id));
        match latest {
            None => prop_assert_eq!(report.verdict, Verdict::NoPayoutYet),
            Some(p) if p.reason.is_attributed() => {
                prop_assert_eq!((report.verdict, report.reason), (Verdict::Attributed, p.reason))
            }
            Some(p) => prop_assert_eq!((report.verdict, report.reason), (Verdict::NotAttributed, p.reason)),
        }
    }
}

/// SPEC §4.3 and §8: a partner without a link (only a request, or nothing) must not read
/// when an onboarded client signed the agreement.
#[test]
fn onboarding_of_an_unlinked_client_is_not_revealed() {
    let onboarded_client = requested_by_a(LinkRequestStatus::Pending, None).onboarded(Some(t(0)));
    for (partner, now) in [(A, t(5)), (A, t(20)), (B, t(5))] {
        let report = self_serve_check(partner, case(0), onboarded_client.facts(), &[], now);
        let onboarding = check(&report, "onboarding");
        assert_eq!(onboarding.status, Na, "{partner} at {now}: {onboarding:?}");
        assert!(!onboarding.detail.contains("2024-01-01"), "{partner} at {now}: {onboarding:?}");
    }
}
