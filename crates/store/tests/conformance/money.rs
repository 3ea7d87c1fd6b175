//! Payments, payouts, attribution decisions and earnings: append-only records whose i64
//! amounts must come back exactly (beyond 2^31 and 2^53, and negative for reversals).

use refshare_core::attribution::Reason;
use refshare_core::case::CaseSource;
use refshare_core::ledger::EarningKind;
use refshare_core::link::{Link, LinkRequest, LinkRequestStatus, LinkStatus};
use refshare_core::money::Bps;
use refshare_core::stage::{CommissionStatus, ReferralInvoiceStatus};
use refshare_core::Instant;
use refshare_store::{
    CaseRecord, ClientRecord, CollectionPartnerRecord, DecisionRecord, DisputeRecord, EarningRecord, LinkRequestRecord, PartnerRecord,
    PaymentRecord, PayoutRecord, Store,
};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

/// One partner, one client linked to it, one collection partner and one case.
struct World {
    partner: PartnerRecord,
    client: ClientRecord,
    link: Link,
    cp: CollectionPartnerRecord,
    case: CaseRecord,
}

async fn world(store: &Store, name: &str) -> TestResult<World> {
    let partner = partner(&format!("{name} Partner"), t(0));
    let client = client(name, t(0));
    let link = link(&partner, &client, name, true, t(HOUR));
    let cp = CollectionPartnerRecord {
        id: Uuid::new_v4(),
        name: format!("{name} Recovery"),
        success_fee_bps: Bps(1_500),
        platform_share_bps: Bps(4_000),
        countries: vec!["DK".into()],
        created_at: t(0),
    };
    let case = CaseRecord { amount_minor: i64::MAX, ..partner_case(&client, 10_001, &partner, t(2 * HOUR)) };
    let case = CaseRecord { reference: format!("DEB-{name}"), ..case };
    let mut tx = store.begin().await?;
    tx.insert_partner(&partner).await?;
    tx.insert_client(&client, &[]).await?;
    tx.insert_link(&link, ACTOR, None).await?;
    tx.insert_collection_partner(&cp).await?;
    tx.insert_case(&case).await?;
    tx.commit().await?;
    Ok(World { partner, client, link, cp, case })
}

fn payment(case: &CaseRecord, amount_minor: i64, external_id: Option<&str>, paid_at: Instant) -> PaymentRecord {
    PaymentRecord {
        id: Uuid::new_v4(),
        case_id: case.id,
        amount_minor,
        currency: case.currency,
        paid_at,
        external_id: external_id.map(str::to_string),
        created_at: paid_at + chrono::Duration::milliseconds(7),
        is_overpayment: false,
    }
}

fn payout(w: &World, p: &PaymentRecord, success_fee_minor: i64, platform_fee_minor: i64) -> PayoutRecord {
    PayoutRecord {
        id: Uuid::new_v4(),
        payment_id: p.id,
        case_id: w.case.id,
        collection_partner_id: Some(w.cp.id),
        success_fee_minor,
        platform_fee_minor,
        currency: p.currency,
        created_at: p.created_at,
        commission_status: CommissionStatus::Unpaid,
        commission_paid_at: None,
        fx_usd_per_unit_e8: None,
        fx_rate_date: None,
        cp_invoice_id: None,
    }
}

fn decision(w: &World, payout: &PayoutRecord, reason: Reason, referral_fee_minor: i64, decided_at: Instant) -> DecisionRecord {
    DecisionRecord {
        id: Uuid::new_v4(),
        payout_id: payout.id,
        supersedes_id: None,
        partner_id: Some(w.partner.id),
        link_id: Some(w.link.id),
        link_request_id: None,
        link_status: Some(LinkStatus::Active),
        reason,
        attributed: reason.is_attributed(),
        case_source: w.case.source,
        referral_fee_bps: Some(w.link.referral_fee_bps),
        referral_fee_minor,
        currency: payout.currency,
        engine_version: "attribution/1".into(),
        decided_at,
    }
}

fn earning(w: &World, d: &DecisionRecord, created_at: Instant) -> EarningRecord {
    EarningRecord {
        id: Uuid::new_v4(),
        payout_id: d.payout_id,
        decision_id: Some(d.id),
        partner_id: w.partner.id,
        case_id: w.case.id,
        amount_minor: d.referral_fee_minor,
        currency: d.currency,
        referral_invoice_status: ReferralInvoiceStatus::Pending,
        created_at,
        kind: EarningKind::Payout,
        corrects_id: None,
        note: None,
        partner_invoice_id: None,
        voided_at: None,
        void_reason: None,
        dispute_id: None,
        status_before_dispute: None,
    }
}

fn request_for(w: &World) -> LinkRequestRecord {
    LinkRequestRecord {
        request: LinkRequest {
            id: Uuid::new_v4(),
            partner_id: w.partner.id,
            client_id: w.client.id,
            external_tenant_id: "requested".into(),
            created_at: t(0),
            expires_at: t(7 * DAY),
            status: LinkRequestStatus::Pending,
            decided_at: None,
        },
        token_hash: format!("token-{}", w.client.id),
        cases_json: "[]".into(),
        return_url: None,
        decided_by_user_id: None,
    }
}

const BIG: i64 = 5_000_000_000; // > 2^32
const BEYOND_F64: i64 = 9_007_199_254_740_993; // 2^53 + 1

conformance!(payments_and_payouts_keep_exact_amounts);
async fn payments_and_payouts_keep_exact_amounts(store: Store) -> TestResult {
    let w = world(&store, "Acme").await?;
    let payments = [
        payment(&w.case, BIG, Some("ext-1"), t(DAY)),
        payment(&w.case, -BIG, Some("ext-1-reversal"), t(DAY + 1)),
        payment(&w.case, i64::MAX, None, t(DAY + 2)),
        payment(&w.case, i64::MIN, None, t(DAY + 3)), // two NULL external ids may coexist
        payment(&w.case, BEYOND_F64, Some("ext-2"), t(DAY + 4)),
    ];
    let payouts = [
        PayoutRecord { collection_partner_id: None, ..payout(&w, &payments[0], 750_000_000, 300_000_000) },
        payout(&w, &payments[1], -750_000_000, -300_000_000),
        payout(&w, &payments[2], i64::MAX, 3_689_348_814_741_910_323),
        payout(&w, &payments[3], i64::MIN, -3_689_348_814_741_910_323),
        PayoutRecord { commission_status: CommissionStatus::Paid, ..payout(&w, &payments[4], BEYOND_F64, -BEYOND_F64) },
    ];
    let mut tx = store.begin().await?;
    for (p, o) in payments.iter().zip(&payouts) {
        tx.insert_payment(p).await?;
        tx.insert_payout(o).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    for (p, o) in payments.iter().zip(&payouts) {
        assert_eq!(tx.payment(p.id).await?.as_ref(), Some(p));
        assert_eq!(tx.payout(o.id).await?.as_ref(), Some(o));
        assert_eq!(tx.payout_by_payment(p.id).await?.as_ref(), Some(o));
    }
    assert_eq!(tx.payment_by_external_id(w.case.id, "ext-1").await?.as_ref(), Some(&payments[0]));
    assert_eq!(tx.payment_by_external_id(w.case.id, "EXT-1").await?, None);
    assert_eq!(tx.payment_by_external_id(Uuid::new_v4(), "ext-1").await?, None);
    assert_eq!(tx.payment(Uuid::new_v4()).await?, None);
    assert_eq!(tx.payouts_of_case(w.case.id).await?, payouts.to_vec(), "oldest first");
    assert_eq!(tx.case(w.case.id).await?.map(|c| c.amount_minor), Some(i64::MAX));
    drop(tx);

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_payment(&payment(&w.case, 1, Some("ext-1"), t(2 * DAY))).await);
    drop(tx);
    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_payout(&payout(&w, &payments[0], 1, 1)).await);
    Ok(())
}

conformance!(decisions_and_earnings_round_trip);
async fn decisions_and_earnings_round_trip(store: Store) -> TestResult {
    let w = world(&store, "Acme").await?;
    let elsewhere = world(&store, "Beta").await?;
    let paid = payment(&w.case, 100_000, Some("p-1"), t(DAY));
    let reversed = payment(&w.case, -100_000, Some("p-1-rev"), t(2 * DAY));
    let (first, second) = (payout(&w, &paid, 15_000, 6_000), payout(&w, &reversed, -15_000, -6_000));
    let mut tx = store.begin().await?;
    for (p, o) in [(&paid, &first), (&reversed, &second)] {
        tx.insert_payment(p).await?;
        tx.insert_payout(o).await?;
    }

    // Every reason, source and link state once: stored codes must parse back.
    let states = [None, Some(LinkStatus::Active), Some(LinkStatus::Archived), Some(LinkStatus::Deleted)];
    let mut chain: Vec<DecisionRecord> = Vec::new();
    for (i, reason) in Reason::ALL.into_iter().enumerate() {
        let mut d = decision(&w, &first, reason, 3_000_000_000 + i as i64, t(DAY + i as i64));
        d.supersedes_id = chain.last().map(|prev| prev.id);
        d.case_source = CaseSource::ALL[i % CaseSource::ALL.len()];
        d.link_status = states[i % states.len()];
        if i % 3 == 0 {
            (d.partner_id, d.link_id, d.referral_fee_bps) = (None, None, None);
        }
        tx.insert_decision(&d).await?;
        chain.push(d);
    }
    let clawback = decision(&w, &second, Reason::AttributedClient, -3_000_000_000, t(2 * DAY));
    tx.insert_decision(&clawback).await?;
    let earned = earning(&w, chain.last().expect("decisions"), t(DAY + 20));
    let clawed = earning(&w, &clawback, t(2 * DAY));
    tx.insert_earning(&earned).await?;
    tx.insert_earning(&clawed).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let clawed_again = clawed.clone();
    let mut all = chain.clone();
    all.push(clawback.clone());
    assert_eq!(tx.decisions_of_case(w.case.id).await?, all, "oldest first");
    assert_eq!(tx.decision_of_payout(first.id).await?.as_ref(), chain.last(), "the latest supersedes");
    assert_eq!(tx.decision_of_payout(second.id).await?, Some(clawback.clone()));
    assert_eq!(tx.decision_of_payout(Uuid::new_v4()).await?, None);
    assert_eq!(tx.decisions_of_case(elsewhere.case.id).await?, vec![]);
    assert_eq!(tx.earnings_of_case(w.case.id).await?, vec![earned.clone(), clawed.clone()], "oldest first");
    assert_eq!(tx.earnings_of_partner(w.partner.id).await?, vec![clawed, earned.clone()], "newest first");
    assert_eq!(tx.earnings_of_partner(elsewhere.partner.id).await?, vec![]);
    let sum: i64 = tx.earnings_of_partner(w.partner.id).await?.iter().map(|e| e.amount_minor).sum();
    assert_eq!(sum, chain.last().expect("decisions").referral_fee_minor - 3_000_000_000);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_earning(&clawed_again).await);
    Ok(())
}

conformance!(deleting_a_client_removes_everything_hanging_off_it);
async fn deleting_a_client_removes_everything_hanging_off_it(store: Store) -> TestResult {
    let doomed = world(&store, "Doomed").await?;
    let kept = world(&store, "Kept").await?;
    let mut tx = store.begin().await?;
    for w in [&doomed, &kept] {
        let p = payment(&w.case, 1_000, Some("p"), t(DAY));
        let o = payout(w, &p, 150, 60);
        let request = request_for(w);
        let first = DecisionRecord { link_request_id: Some(request.request.id), ..decision(w, &o, Reason::LinkPendingApproval, 0, t(DAY)) };
        tx.insert_link_request(&request).await?;
        let second = DecisionRecord { supersedes_id: Some(first.id), ..decision(w, &o, Reason::AttributedClient, 30, t(DAY + 1)) };
        tx.insert_payment(&p).await?;
        tx.insert_payout(&o).await?;
        tx.insert_decision(&first).await?;
        tx.insert_decision(&second).await?;
        tx.insert_earning(&earning(w, &second, t(DAY + 1))).await?;
        let mut l = w.link.clone();
        change_status(&mut tx, &mut l, LinkStatus::Archived, t(2 * DAY)).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    tx.delete_client_cascade(doomed.client.id).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.client(doomed.client.id).await?, None);
    assert_eq!(tx.links_of_client(doomed.client.id).await?, vec![]);
    assert_eq!(tx.link_requests_of_client(doomed.client.id).await?, vec![]);
    assert_eq!(tx.cases_of_client(doomed.client.id).await?, vec![]);
    assert_eq!(tx.payouts_of_case(doomed.case.id).await?, vec![]);
    assert_eq!(tx.earnings_of_partner(doomed.partner.id).await?, vec![]);
    assert_eq!(tx.partner(doomed.partner.id).await?, Some(doomed.partner), "partners stay");
    assert!(tx.client(kept.client.id).await?.is_some());
    assert_eq!(tx.links_of_client(kept.client.id).await?.len(), 1);
    assert_eq!(tx.decisions_of_case(kept.case.id).await?.len(), 2);
    assert_eq!(tx.earnings_of_case(kept.case.id).await?.len(), 1);
    Ok(())
}

conformance!(one_open_dispute_per_case_and_partner);
async fn one_open_dispute_per_case_and_partner(store: Store) -> TestResult {
    let w = world(&store, "Disputed").await?;
    let dispute = |id: Uuid| open_dispute(&w, id, "non_attributed_other_channel", t(DAY));
    let first = dispute(Uuid::new_v4());
    let mut tx = store.begin().await?;
    tx.insert_dispute(&first).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_conflict(tx.insert_dispute(&dispute(Uuid::new_v4())).await);
    drop(tx);
    let mut tx = store.begin().await?;
    tx.resolve_dispute(first.id, "rejected", "correct as booked", None, t(2 * DAY)).await?;
    let second = dispute(Uuid::new_v4());
    tx.insert_dispute(&second).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let all = tx.disputes(Some(w.partner.id), None).await?;
    assert_eq!(all.len(), 2);
    assert_eq!(tx.dispute(first.id).await?.map(|d| d.status), Some("rejected".to_string()));
    assert_eq!(tx.disputes(Some(w.partner.id), Some("open")).await?.into_iter().map(|d| d.id).collect::<Vec<_>>(), vec![second.id]);
    Ok(())
}

conformance!(cases_read_the_sum_of_their_live_payments);
/// `paid_minor` is derived on every case read: the live payments, a reversed one no more;
/// the overpayment flag comes back as written.
async fn cases_read_the_sum_of_their_live_payments(store: Store) -> TestResult {
    let w = world(&store, "Owed").await?;
    let case = CaseRecord { amount_minor: 100_000, ..partner_case(&w.client, 20_001, &w.partner, t(2 * HOUR)) };
    let other = CaseRecord { amount_minor: 100_000, ..partner_case(&w.client, 20_002, &w.partner, t(2 * HOUR)) };
    let first = payment(&case, 30_000, Some("a"), t(DAY));
    let second = PaymentRecord { is_overpayment: true, ..payment(&case, 90_000, Some("b"), t(DAY + 1)) };
    let mut tx = store.begin().await?;
    tx.insert_case(&case).await?;
    tx.insert_case(&other).await?;
    tx.lock_case(case.id).await?;
    for p in [&first, &second, &payment(&other, 5_000, None, t(DAY))] {
        tx.insert_payment(p).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let read = tx.case(case.id).await?.expect("case");
    assert_eq!((read.paid_minor, read.remainder_minor()), (120_000, 0), "an overpaid case owes nothing");
    assert_eq!(tx.payment(second.id).await?.as_ref(), Some(&second), "the flag round-trips");
    assert!(!tx.payment(first.id).await?.expect("payment").is_overpayment);
    tx.insert_reversal(&refshare_store::ReversalRecord {
        id: Uuid::new_v4(),
        payment_id: second.id,
        reason: "recalled".into(),
        created_at: t(2 * DAY),
    })
    .await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let by_id = tx.case(case.id).await?.expect("case");
    assert_eq!((by_id.paid_minor, by_id.remainder_minor()), (30_000, 70_000), "the reversed payment no longer counts");
    assert_eq!(tx.case_by_reference(&case.reference).await?.map(|c| c.paid_minor), Some(30_000));
    let listed: Vec<(Uuid, i64)> = tx.cases_of_client(w.client.id).await?.into_iter().map(|c| (c.id, c.paid_minor)).collect();
    assert!(listed.contains(&(case.id, 30_000)) && listed.contains(&(other.id, 5_000)), "{listed:?}");
    assert!(listed.contains(&(w.case.id, 0)), "no payments, nothing paid: {listed:?}");
    let (page, _) = tx.partner_cases_page(w.partner.id, &Default::default(), refshare_store::PageReq { page: 1, size: 10 }).await?;
    assert_eq!(page.iter().find(|c| c.id == case.id).map(|c| c.paid_minor), Some(30_000));
    Ok(())
}

conformance!(the_partner_check_runs_a_kept_plan_from_its_first_use, with_url);
/// On PostgreSQL every new connection has the partner check's statement planned until the
/// server keeps a generic plan for it (`warm_partner_check_plan`): the first check on a
/// fresh connection already runs that plan, and still finds its case. SQLite keeps no
/// plans; the check finds its case all the same.
async fn the_partner_check_runs_a_kept_plan_from_its_first_use(store: Store, url: String) -> TestResult {
    use refshare_store::{Backend, FactsCase, OpenOptions};
    let w = world(&store, "Planned").await?;
    store.close().await;
    let one = Store::open_with(&url, &OpenOptions { pool_size: 1, sqlite_readers: 1, ..OpenOptions::existing() }).await?;
    let mut tx = one.read_statement().await?;
    let before = tx.partner_check_plans().await?;
    let facts = tx.attribution_facts(FactsCase::Reference(&w.case.reference), Some(w.partner.id)).await?.ok_or("the case")?;
    assert_eq!(facts.case.id, w.case.id);
    let after = tx.partner_check_plans().await?;
    match one.backend() {
        Backend::Postgres => {
            assert_eq!(before, Some((1, 5)), "five custom plans, then the generic one, when the connection opened");
            assert_eq!(after, Some((2, 5)), "the first check ran the kept generic plan");
        }
        Backend::Sqlite => assert_eq!((before, after), (None, None)),
    }
    drop(tx);
    one.close().await;
    Ok(())
}

conformance!(attribution_facts_are_the_one_part_reads_in_one_statement);
/// `Tx::attribution_facts` (one statement, through `Store::read_statement`) gives exactly
/// what the one-part reads give: a client with links of three partners in different states
/// (active, archived, deleted, each with its history), pending and declined requests, a
/// superseded decision, a live and a voided earning, the partner's open dispute (not
/// another partner's); a case of a client with no link at all; another client's case
/// leaks nothing; unknown references and ids are `None`.
async fn attribution_facts_are_the_one_part_reads_in_one_statement(store: Store) -> TestResult {
    use refshare_store::FactsCase;
    let w = world(&store, "Facts").await?;
    let other = world(&store, "Elsewhere").await?;
    let (archived_partner, deleted_partner, asking_partner) =
        (partner("Archived", t(0)), partner("Deleted", t(0)), partner("Asking", t(0)));
    let mut archived = link(&archived_partner, &w.client, "arch", false, t(3 * HOUR));
    let mut deleted = link(&deleted_partner, &w.client, "gone", true, t(30 * 60 * SECOND));
    let pending = LinkRequestRecord {
        request: LinkRequest { partner_id: asking_partner.id, external_tenant_id: "asked".into(), ..request_for(&w).request },
        token_hash: "token-asking".into(),
        ..request_for(&w)
    };
    let declined = LinkRequestRecord {
        request: LinkRequest {
            id: Uuid::new_v4(),
            status: LinkRequestStatus::Declined,
            created_at: t(DAY),
            decided_at: Some(t(DAY + 5)),
            ..request_for(&w).request
        },
        token_hash: "token-declined".into(),
        cases_json: r#"[{"reference":"x"}]"#.into(),
        return_url: Some("https://partner.example/back".into()),
        ..request_for(&w)
    };
    let lonely = client("No Links", t(0));
    let lonely_case = case(&lonely, 30_001, CaseSource::CustomerApi, t(HOUR));
    let paid = payment(&w.case, 100_000, Some("f-1"), t(DAY));
    let later = payment(&w.case, 50_000, Some("f-2"), t(2 * DAY));
    let (first, second) = (payout(&w, &paid, 15_000, 6_000), payout(&w, &later, 7_500, 3_000));
    let pending_first = decision(&w, &first, Reason::LinkPendingApproval, 0, t(DAY));
    let corrected =
        DecisionRecord { supersedes_id: Some(pending_first.id), ..decision(&w, &first, Reason::AttributedClient, 1_500, t(DAY + 1)) };
    let on_second = decision(&w, &second, Reason::AttributedClient, 750, t(2 * DAY));
    let (live, voided) = (earning(&w, &corrected, t(DAY + 1)), earning(&w, &on_second, t(2 * DAY)));
    let dispute = open_dispute(&w, Uuid::new_v4(), "attributed_client", t(3 * DAY));
    let mut tx = store.begin().await?;
    for p in [&archived_partner, &deleted_partner, &asking_partner] {
        tx.insert_partner(p).await?;
    }
    tx.insert_client(&lonely, &[]).await?;
    tx.insert_case(&lonely_case).await?;
    // One active link per client: the partner's is archived while the others come and go.
    let mut own = w.link.clone();
    change_status(&mut tx, &mut own, LinkStatus::Archived, t(2 * HOUR)).await?;
    tx.insert_link(&archived, ACTOR, None).await?;
    change_status(&mut tx, &mut archived, LinkStatus::Archived, t(4 * HOUR)).await?;
    tx.insert_link(&deleted, ACTOR, Some("https://partner.example/r")).await?;
    change_status(&mut tx, &mut deleted, LinkStatus::Archived, t(HOUR)).await?;
    change_status(&mut tx, &mut deleted, LinkStatus::Deleted, t(5 * HOUR)).await?;
    change_status(&mut tx, &mut own, LinkStatus::Active, t(6 * HOUR)).await?;
    tx.insert_link_request(&pending).await?;
    tx.insert_link_request(&declined).await?;
    for (p, o) in [(&paid, &first), (&later, &second)] {
        tx.insert_payment(p).await?;
        tx.insert_payout(o).await?;
    }
    for d in [&pending_first, &corrected, &on_second] {
        tx.insert_decision(d).await?;
    }
    tx.insert_earning(&live).await?;
    tx.insert_earning(&voided).await?;
    assert!(tx.void_earning(voided.id, t(3 * DAY), "payment reversed").await?);
    tx.insert_dispute(&dispute).await?;
    tx.commit().await?;

    // What the one-part reads give.
    let mut tx = store.read().await?;
    let case = tx.case_by_reference(&w.case.reference).await?.expect("case");
    let client = tx.client(w.client.id).await?;
    let links = tx.links_of_client(w.client.id).await?;
    let requests = tx.link_requests_of_client(w.client.id).await?;
    let decisions = tx.decisions_of_case(w.case.id).await?;
    let earnings = tx.earnings_of_case(w.case.id).await?;
    let mut sync_rows = tx.earning_sync_rows(&[live.id, voided.id]).await?;
    sync_rows.sort_by_key(|r| r.earning.id);
    let open = tx.open_dispute_of_case(w.case.id, w.partner.id).await?;
    drop(tx);
    assert_eq!(links.len(), 3, "three partners' links");
    assert_eq!(links.iter().map(|l| l.history.len()).collect::<Vec<_>>(), vec![3, 3, 2], "linked_at order, with histories");
    assert_eq!(requests.len(), 2);
    assert_eq!((decisions.len(), earnings.len(), sync_rows.len()), (3, 2, 2));
    assert_eq!(open, Some(dispute.id));

    let mut tx = store.read_statement().await?;
    let mut facts = tx.attribution_facts(FactsCase::Reference(&w.case.reference), Some(w.partner.id)).await?.expect("facts");
    facts.sync_rows.sort_by_key(|r| r.earning.id);
    assert_eq!(facts.case, case);
    assert_eq!(facts.client, client);
    assert_eq!(facts.links, links);
    assert_eq!(facts.requests, requests);
    assert_eq!(facts.decisions, decisions);
    assert_eq!(facts.earnings, earnings);
    assert_eq!(facts.sync_rows, sync_rows);
    assert_eq!(facts.open_dispute, Some(dispute.id));

    // By id, without a partner: the same facts, no dispute; another partner has none open.
    let mut by_id = tx.attribution_facts(FactsCase::Id(w.case.id), None).await?.expect("facts by id");
    by_id.sync_rows.sort_by_key(|r| r.earning.id);
    assert_eq!((by_id.case, by_id.links, by_id.requests, by_id.open_dispute), (case, links, requests, None));
    let theirs = tx.attribution_facts(FactsCase::Id(w.case.id), Some(archived_partner.id)).await?.expect("facts");
    assert_eq!(theirs.open_dispute, None);

    // A client without links or requests; another client's case sees only its own.
    let alone = tx.attribution_facts(FactsCase::Reference(&lonely_case.reference), Some(w.partner.id)).await?.expect("lonely");
    assert_eq!(alone.case.id, lonely_case.id);
    assert_eq!(alone.client.map(|c| c.id), Some(lonely.id));
    assert!(alone.links.is_empty() && alone.requests.is_empty() && alone.decisions.is_empty() && alone.earnings.is_empty());
    assert!(alone.sync_rows.is_empty() && alone.open_dispute.is_none());
    let elsewhere = tx.attribution_facts(FactsCase::Reference(&other.case.reference), Some(w.partner.id)).await?.expect("other");
    assert_eq!(elsewhere.links, vec![other.link.clone()]);
    assert!(elsewhere.decisions.is_empty() && elsewhere.earnings.is_empty() && elsewhere.requests.is_empty());

    assert!(tx.attribution_facts(FactsCase::Reference("DEB-NOPE"), Some(w.partner.id)).await?.is_none());
    assert!(tx.attribution_facts(FactsCase::Id(Uuid::new_v4()), None).await?.is_none());
    Ok(())
}

conformance!(payment_group_rows_are_the_one_part_reads_in_one_statement);
/// `Tx::payment_group_rows` (what a group of payments reads, in one statement) gives exactly
/// what the one-part reads give for the same cases: two cases of one client (links of two
/// partners with their histories, a pending request of a third partner, payments with and
/// without an `externalId`; one case created by a partner with no link), another world's
/// case, and the partners of those links, requests and cases with their webhook
/// subscriptions (oldest first). A world not asked for leaks nothing; no ids, nothing.
async fn payment_group_rows_are_the_one_part_reads_in_one_statement(store: Store) -> TestResult {
    let w = world(&store, "Group").await?;
    let other = world(&store, "Other").await?;
    let unasked = world(&store, "Unasked").await?;
    let (archived_partner, asking_partner, creator) = (partner("Archived", t(0)), partner("Asking", t(0)), partner("Creator", t(0)));
    let mut archived = link(&archived_partner, &w.client, "arch", false, t(3 * HOUR));
    let pending = LinkRequestRecord {
        request: LinkRequest { partner_id: asking_partner.id, external_tenant_id: "asked".into(), ..request_for(&w).request },
        token_hash: "token-asking".into(),
        ..request_for(&w)
    };
    let created = partner_case(&w.client, 40_001, &creator, t(HOUR));
    let keyed = payment(&w.case, 100_000, Some("g-1"), t(DAY));
    let unkeyed = payment(&w.case, 50_000, None, t(2 * DAY));
    let on_created = payment(&created, 1_000, Some("g-2"), t(DAY));
    let not_asked = payment(&unasked.case, 10_000, Some("u-1"), t(DAY));
    let subs = [
        subscription(w.partner.id, 2),
        subscription(w.partner.id, 1),
        subscription(asking_partner.id, 3),
        subscription(creator.id, 4),
        subscription(unasked.partner.id, 5),
    ];
    let mut tx = store.begin().await?;
    for p in [&archived_partner, &asking_partner, &creator] {
        tx.insert_partner(p).await?;
    }
    tx.insert_case(&created).await?;
    // One active link per client: the group's partner's is archived while the other's comes and goes.
    let mut own = w.link.clone();
    change_status(&mut tx, &mut own, LinkStatus::Archived, t(2 * HOUR)).await?;
    tx.insert_link(&archived, ACTOR, None).await?;
    change_status(&mut tx, &mut archived, LinkStatus::Archived, t(4 * HOUR)).await?;
    change_status(&mut tx, &mut own, LinkStatus::Active, t(6 * HOUR)).await?;
    tx.insert_link_request(&pending).await?;
    for p in [&keyed, &unkeyed, &on_created, &not_asked] {
        tx.insert_payment(p).await?;
    }
    for s in &subs {
        tx.insert_webhook_subscription(s).await?;
    }
    tx.commit().await?;

    let ids = [w.case.id, created.id, other.case.id];
    let mut tx = store.begin().await?;
    let rows = tx.payment_group_rows(&ids).await?;
    // What the one-part reads give.
    let mut cases = tx.cases_by_ids(ids).await?;
    let client_ids = [w.client.id, other.client.id];
    let links = tx.links_of_clients(&client_ids).await?;
    let requests = tx.link_requests_of_clients(&client_ids).await?;
    let named = [w.partner.id, archived_partner.id, asking_partner.id, creator.id, other.partner.id];
    let mut partners = std::collections::HashMap::new();
    let mut subscriptions = std::collections::HashMap::new();
    for id in named {
        partners.insert(id, tx.partner(id).await?.ok_or("partner")?);
        let of = tx.webhook_subscriptions_of(&[id]).await?;
        if !of.is_empty() {
            subscriptions.insert(id, of);
        }
    }
    assert_eq!(links.get(&w.client.id).map(|l| l.iter().map(|l| l.history.len()).collect::<Vec<_>>()), Some(vec![3, 2]));
    assert_eq!(subscriptions.get(&w.partner.id).map(|s| s.iter().map(|s| s.id).collect::<Vec<_>>()), Some(vec![subs[1].id, subs[0].id]));

    let mut got = rows.cases.clone();
    got.sort_by_key(|c| c.id);
    cases.sort_by_key(|c| c.id);
    assert_eq!(got, cases);
    assert_eq!(got.iter().find(|c| c.id == w.case.id).map(|c| c.paid_minor), Some(150_000));
    assert_eq!(rows.stored_keys, tx.payment_external_ids_of_cases(&ids).await?);
    assert_eq!(rows.stored_keys.len(), 2, "only keyed payments, only the cases asked for");
    assert_eq!(rows.clients, tx.clients_by_ids(&client_ids).await?);
    assert_eq!(rows.links, links);
    assert_eq!(rows.requests, requests);
    assert_eq!(rows.partners, partners, "the links', the request's and the creator's partners");
    assert_eq!(rows.subscriptions, subscriptions);
    assert!(!rows.partners.contains_key(&unasked.partner.id));

    assert_eq!(tx.payment_group_rows(&[]).await?, refshare_store::PaymentGroupRows::default());
    let none = tx.payment_group_rows(&[Uuid::new_v4()]).await?;
    assert!(none.cases.is_empty() && none.clients.is_empty() && none.partners.is_empty());
    Ok(())
}

/// Every kept total (earnings, month, statement, estimate and client totals) equals the
/// aggregate recomputed from the rows.
async fn assert_kept_totals_match_rows(tx: &mut refshare_store::Tx) -> TestResult {
    assert_eq!(tx.earning_totals().await?, tx.earning_totals_from_rows().await?, "earnings totals against the rows");
    assert_eq!(tx.month_totals().await?, tx.month_totals_from_rows().await?, "month totals against the rows");
    assert_eq!(tx.month_estimates().await?, tx.month_estimates_from_rows().await?, "month estimates against the rows");
    assert_eq!(tx.kept_statement_totals().await?, tx.kept_statement_totals_from_rows().await?, "statement totals against the rows");
    assert_eq!(tx.kept_statement_estimates().await?, tx.kept_statement_estimates_from_rows().await?, "statement estimates");
    assert_eq!(tx.estimate_totals().await?, tx.estimate_totals_from_rows().await?, "estimate totals against the rows");
    assert_eq!(tx.client_earnings_totals().await?, tx.client_earnings_totals_from_rows().await?, "client totals against the rows");
    Ok(())
}

conformance!(an_earning_inserted_with_its_read_model_is_the_synced_one);
/// `insert_earning_with_model` (a new earning of a single payment, issue 9) writes the
/// row and the kept totals' deltas that `insert_earning` followed by
/// `set_earning_read_models` write: a payout earning, a clawback and one whose rate is
/// locked, each inserted both ways; the rows agree, and every kept total equals the
/// aggregate recomputed from the rows. A model of another earning is refused.
async fn an_earning_inserted_with_its_read_model_is_the_synced_one(store: Store) -> TestResult {
    use refshare_core::stage::RevenueStage;
    use refshare_store::EarningReadModel;
    let w = world(&store, "Acme").await?;
    let cases = [
        (EarningKind::Payout, Some(RevenueStage::Pending), None),
        (EarningKind::Clawback, Some(RevenueStage::ReadyToInvoiceDebitura), None),
        (EarningKind::Payout, Some(RevenueStage::AwaitingCollectionPartnerPayment), Some(123_456_789)),
    ];
    let mut tx = store.begin().await?;
    let mut written = Vec::new();
    for (i, (kind, stage, fx)) in cases.into_iter().enumerate() {
        for way in 0..2 {
            let paid_at = t(DAY * (i as i64 * 40 + 1) + way);
            let p = payment(&w.case, 100_000, None, paid_at);
            let o = payout(&w, &p, 15_000, 6_000 + i as i64);
            let d = decision(&w, &o, Reason::AttributedClient, 2_400 + i as i64, paid_at);
            tx.insert_payment(&p).await?;
            tx.insert_payout(&o).await?;
            tx.insert_decision(&d).await?;
            let e = EarningRecord { kind, ..earning(&w, &d, paid_at + chrono::Duration::milliseconds(3)) };
            let m = EarningReadModel { earning_id: e.id, stage, paid_at, fx_usd_per_unit_e8: fx };
            if way == 0 {
                tx.insert_earning_with_model(&e, &m).await?;
            } else {
                tx.insert_earning(&e).await?;
                tx.set_earning_read_models(std::slice::from_ref(&m)).await?;
            }
            written.push((e, m));
        }
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let other = earning(&w, &decision(&w, &payout(&w, &payment(&w.case, 1, None, t(0)), 0, 0), Reason::AttributedClient, 1, t(0)), t(0));
    let model = EarningReadModel { earning_id: Uuid::new_v4(), stage: None, paid_at: t(0), fx_usd_per_unit_e8: None };
    assert!(tx.insert_earning_with_model(&other, &model).await.is_err(), "a model of another earning");
    drop(tx);

    let mut tx = store.read().await?;
    let earnings = tx.earnings_of_case(w.case.id).await?;
    let models = tx.earning_read_models().await?;
    for (e, m) in &written {
        assert!(earnings.contains(e), "the earning as given: {e:?}");
        assert!(models.contains(m), "its read model as given: {m:?}");
    }
    assert_eq!(models.len(), written.len());
    assert_kept_totals_match_rows(&mut tx).await?;
    let counted: i64 = tx.earning_totals().await?.iter().map(|(_, s)| s.count).sum();
    assert_eq!(counted, written.len() as i64, "each counted once");
    Ok(())
}

conformance!(deferred_payment_rows_are_the_inserted_ones_and_follow_the_savepoints);
/// A payment's rows queued in a transaction (`Tx::defer_payment`,
/// `Tx::defer_earning_with_model`, `Tx::defer_ledger_entries`; the groups of single
/// payments) are written as `insert_payment`, `insert_payout`, `insert_decision` and
/// `insert_earning_with_model` write them, with the same kept totals: by the commit (on
/// PostgreSQL in its one query with the totals, values written in, or bound when one
/// cannot be), or before a savepoint, or when flushed for a read. Rows queued after a savepoint rolled
/// back to are dropped, written ones undone; those before it are kept. An earning without
/// its queued payout, or with another earning's model, is refused; a transaction dropped
/// without its commit writes nothing.
async fn deferred_payment_rows_are_the_inserted_ones_and_follow_the_savepoints(store: Store) -> TestResult {
    use refshare_core::stage::RevenueStage;
    use refshare_store::{EarningReadModel, LedgerEntryRecord, Savepoint};
    let w = world(&store, "Deferred").await?;
    let rows = |n: i64, fx: Option<i64>| {
        let paid_at = t(DAY * (n * 35 + 1));
        // The last one's `externalId` cannot be written in as a literal (`inline_values`).
        let p = payment(&w.case, 10_000, Some(&format!("d-{n}{}", if n == 5 { "\\'x" } else { "" })), paid_at);
        let o = payout(&w, &p, 1_500, 600 + n);
        let d = decision(&w, &o, Reason::AttributedClient, 240 + n, paid_at);
        let e = earning(&w, &d, paid_at + chrono::Duration::milliseconds(3));
        let m = EarningReadModel { earning_id: e.id, stage: Some(RevenueStage::Pending), paid_at, fx_usd_per_unit_e8: fx };
        let entry = LedgerEntryRecord {
            id: Uuid::new_v4(),
            partner_id: w.partner.id,
            earning_id: e.id,
            stage: RevenueStage::Pending,
            amount_minor: e.amount_minor,
            currency: e.currency,
            cause: "earning.created".into(),
            cause_id: Some(o.id.to_string()),
            created_at: e.created_at,
        };
        (p, o, d, e, m, entry)
    };
    let all: Vec<_> = (0..6).map(|n| rows(n, (n % 2 == 1).then_some(123_456_789))).collect();
    let defer = |tx: &mut refshare_store::Tx, n: usize| -> TestResult {
        let (p, o, d, e, m, entry) = all[n].clone();
        tx.defer_payment(p, o, d);
        tx.defer_earning_with_model(&e, &m, w.client.id)?;
        tx.defer_ledger_entries(&[entry]);
        Ok(())
    };

    let mut tx = store.begin().await?;
    defer(&mut tx, 0)?;
    defer(&mut tx, 1)?;
    tx.flush_deferred_writes().await?;
    assert_eq!(tx.payment(all[1].0.id).await?, Some(all[1].0.clone()), "flushed for a read");
    defer(&mut tx, 2)?;
    tx.savepoint(Savepoint::SharedPayment).await?;
    assert!(tx.payment(all[2].0.id).await?.is_some(), "written before the savepoint");
    defer(&mut tx, 3)?;
    tx.flush_deferred_writes().await?;
    defer(&mut tx, 4)?;
    tx.rollback_to_savepoint(Savepoint::SharedPayment).await?;
    assert!(tx.payment(all[3].0.id).await?.is_none(), "written after the savepoint: undone");
    tx.savepoint(Savepoint::SharedPayment).await?;
    defer(&mut tx, 5)?;
    tx.release_savepoint(Savepoint::SharedPayment).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let (p, o, d, e, m, _) = rows(9, None);
    tx.defer_payment(p.clone(), o, d.clone());
    let stray = earning(&w, &decision(&w, &payout(&w, &p, 0, 0), Reason::AttributedClient, 1, t(0)), t(0));
    assert!(tx.defer_earning_with_model(&stray, &m, w.client.id).is_err(), "an earning without its queued payout");
    assert!(tx.defer_earning_with_model(&e, &EarningReadModel { earning_id: Uuid::new_v4(), ..m }, w.client.id).is_err());
    drop(tx);

    let kept = [0, 1, 2, 5];
    let mut tx = store.read().await?;
    let earnings = tx.earnings_of_case(w.case.id).await?;
    let models = tx.earning_read_models().await?;
    let payouts = tx.payouts_of_case(w.case.id).await?;
    let decisions = tx.decisions_of_case(w.case.id).await?;
    for (n, (p, o, d, e, m, entry)) in all.iter().enumerate() {
        let here = kept.contains(&n);
        assert_eq!(tx.payment(p.id).await?.as_ref() == Some(p), here, "payment {n}");
        assert_eq!(payouts.contains(o), here, "payout {n}");
        assert_eq!(decisions.contains(d), here, "decision {n}");
        assert_eq!(earnings.contains(e), here, "earning {n}");
        assert_eq!(models.contains(m), here, "read model {n}");
        assert_eq!(tx.ledger_entries_of_earning(e.id).await? == vec![entry.clone()], here, "ledger entry {n}");
    }
    assert_eq!((earnings.len(), models.len()), (kept.len(), kept.len()), "nothing else: {earnings:?}");
    assert_kept_totals_match_rows(&mut tx).await?;
    let counted: i64 = tx.earning_totals().await?.iter().map(|(_, s)| s.count).sum();
    assert_eq!(counted, kept.len() as i64, "each counted once");
    Ok(())
}

conformance!(deferred_audit_rows_are_written_by_the_commit_and_undone_with_their_savepoint);
/// Audit rows deferred in a transaction (`Tx::defer_audit`) are written by its commit,
/// all of them in one statement; those deferred after a savepoint rolled back to are
/// dropped with it, those before it or after a released one are kept; a transaction
/// dropped without its commit writes none.
async fn deferred_audit_rows_are_written_by_the_commit_and_undone_with_their_savepoint(store: Store) -> TestResult {
    use refshare_store::{AuditFilter, AuditRecord, PageReq, Savepoint};
    let row = |n: i64| AuditRecord {
        id: Uuid::new_v4(),
        at: t(n),
        actor: ACTOR.into(),
        action: "deferred.test".into(),
        entity: "case".into(),
        entity_id: format!("c-{n}"),
        detail: serde_json::json!({"n": n}),
    };
    let filter = AuditFilter { action: Some("deferred.test".into()), ..Default::default() };
    let page = PageReq { page: 1, size: 50 };

    let mut tx = store.begin().await?;
    tx.defer_audit(row(1));
    tx.savepoint(Savepoint::SharedPayment).await?;
    tx.defer_audit(row(2));
    tx.savepoint(Savepoint::IdempotentAttempt).await?;
    tx.defer_audit(row(3));
    tx.rollback_to_savepoint(Savepoint::IdempotentAttempt).await?;
    tx.release_savepoint(Savepoint::SharedPayment).await?;
    tx.savepoint(Savepoint::SharedPayment).await?;
    tx.defer_audit(row(4));
    tx.rollback_to_savepoint(Savepoint::SharedPayment).await?;
    tx.savepoint(Savepoint::SharedPayment).await?;
    tx.defer_audit(row(5));
    tx.release_savepoint(Savepoint::SharedPayment).await?;
    assert_eq!(tx.deferred_audit_rows(), 3);
    assert_eq!(tx.audit_page(&filter, page).await?.1, 0, "nothing written before the commit");
    tx.commit().await?;

    let mut tx = store.begin().await?;
    tx.defer_audit(row(6));
    drop(tx);

    let mut tx = store.read().await?;
    let (rows, total) = tx.audit_page(&filter, page).await?;
    assert_eq!(total, 3);
    let ids: Vec<&str> = rows.iter().map(|r| r.entity_id.as_str()).collect();
    assert_eq!(ids, ["c-1", "c-2", "c-5"], "oldest first");
    let want = row(5);
    assert_eq!((rows[2].at, &rows[2].actor, &rows[2].action, &rows[2].detail), (want.at, &want.actor, &want.action, &want.detail));
    Ok(())
}

/// An open dispute of the world's partner on its case, whose check gave `reason`.
fn open_dispute(w: &World, id: Uuid, reason: &str, created_at: chrono::DateTime<chrono::Utc>) -> DisputeRecord {
    DisputeRecord {
        id,
        partner_id: w.partner.id,
        case_id: w.case.id,
        client_id: w.client.id,
        external_tenant_id: w.link.external_tenant_id.clone(),
        company_name: w.client.company_name.clone(),
        creation_method: "API".into(),
        expected_outcome: "A fee".into(),
        observation: "None booked".into(),
        check: serde_json::json!({ "reason": reason }),
        deadline: t(40 * DAY),
        status: "open".into(),
        resolution_reason: None,
        resolved_amount_minor: None,
        created_at,
        resolved_at: None,
    }
}
