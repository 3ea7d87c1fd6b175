//! The month statement by section (`store::statements`, issues 9 and 10): each section in
//! its order, read whole or by keyset pages of any size with no line lost or repeated,
//! ties on the date broken by payout and earning; another partner's rows never in it; and
//! the totals aggregate equal to the sum of the live lines converted one by one by
//! `convert_minor` (locked rate, else the current one, else counted as missing), with the
//! section counts equal to the lines. The "did not earn" payouts are read on the client
//! each payout carries (migration 0038): written one by one and in bulk, each payout once
//! however many links the partner has to its client, on every partner's statement that
//! has or had a link to the client, never on another's; a wrong client is found. Each
//! earning line's reason and tenant are its decision's (its own, the corrected earning's,
//! the payout's latest naming the partner), and each "did not earn" line carries its
//! payment, case and latest decision, whatever the number of lines.

use refshare_core::attribution::Reason;
use refshare_core::ledger::EarningKind;
use refshare_core::link::{Link, LinkStatus};
use refshare_core::money::{convert_minor, Currency};
use refshare_core::stage::{CommissionStatus, RevenueStage};
use refshare_core::Instant;
use refshare_store::{
    CaseRecord, DecisionRecord, EarningLine, EarningReadModel, EarningRecord, PaymentRecord, PayoutRecord, StatementCursor,
    StatementWindow, Store, Tx,
};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};
use crate::reporting::{book, payout_only};

const STAGES: [RevenueStage; 3] = [RevenueStage::Pending, RevenueStage::ConfirmedPendingInvoice, RevenueStage::Paid];

/// P's month `[t(DAY), t(30 DAY))` and the expected ids of each section in order.
struct Month {
    p: Uuid,
    q: Uuid,
    earnings: Vec<Uuid>,
    reversals: Vec<Uuid>,
    not_earned: Vec<Uuid>,
}

fn from() -> Instant {
    t(DAY)
}

fn to() -> Instant {
    t(30 * DAY)
}

async fn month(store: &Store) -> TestResult<Month> {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    let (pc, qc) = (client("Pc", t(0)), client("Qc", t(0)));
    let (pl, ql) = (link(&p, &pc, "tenant-p", true, t(0)), link(&q, &qc, "tenant-q", true, t(0)));
    let mut tx = store.begin().await?;
    insert_linked(&mut tx, &p, &pc, &pl).await?;
    insert_linked(&mut tx, &q, &qc, &ql).await?;
    let eur = partner_case(&pc, 7001, &p, t(0));
    let jpy = CaseRecord { currency: currency("JPY"), ..partner_case(&pc, 7002, &p, t(0)) };
    let theirs = partner_case(&qc, 7003, &q, t(0));
    for c in [&eur, &jpy, &theirs] {
        tx.insert_case(c).await?;
    }
    // (earning, date) of each line, sorted below.
    let mut earnings: Vec<(Instant, Uuid, Uuid)> = Vec::new();
    let mut reversals: Vec<(Instant, Uuid, Uuid)> = Vec::new();
    for i in 0..14i64 {
        // Groups of four share their creation instant: the order falls to payout and id.
        let created = t(2 * DAY + (i / 4) * HOUR);
        let case = if i % 3 == 2 { &jpy } else { &eur };
        let locked = (i % 4 == 0).then_some(123_456_789 + i);
        let b = book(&mut tx, &p, &pl, case, 1_000 + 37 * i, created, created, STAGES[(i % 3) as usize], locked).await?;
        earnings.push((created, b.earning.payout_id, b.earning.id));
    }
    // A live clawback (reversals), and one booked before the month (in no section).
    for (at, n) in [(t(5 * DAY), 1), (t(DAY - 1), 2)] {
        let b = book(&mut tx, &p, &pl, &eur, 500 * n, at, at, RevenueStage::Paid, None).await?;
        let claw = EarningRecord {
            id: Uuid::new_v4(),
            kind: EarningKind::Clawback,
            amount_minor: -300 * n,
            decision_id: None,
            ..b.earning.clone()
        };
        tx.insert_earning(&claw).await?;
        tx.set_earning_read_model(&EarningReadModel {
            earning_id: claw.id,
            stage: Some(RevenueStage::Paid),
            paid_at: at,
            fx_usd_per_unit_e8: None,
        })
        .await?;
        if n == 1 {
            earnings.push((at, b.earning.payout_id, b.earning.id));
            reversals.push((at, claw.payout_id, claw.id));
        }
    }
    // Booked in the month and voided in it: an earning line (no stage) and a void line;
    // booked before the month and voided in it: a void line only.
    for (created, n) in [(t(6 * DAY), 1), (t(0), 2)] {
        let b = book(&mut tx, &p, &pl, &eur, 700 * n, created, created, RevenueStage::Pending, None).await?;
        let voided = t(7 * DAY);
        assert!(tx.void_earning(b.earning.id, voided, "chargeback").await?);
        tx.set_earning_read_model(&EarningReadModel { earning_id: b.earning.id, stage: None, paid_at: created, fx_usd_per_unit_e8: None })
            .await?;
        if n == 1 {
            earnings.push((created, b.earning.payout_id, b.earning.id));
        }
        reversals.push((voided, b.earning.payout_id, b.earning.id));
    }
    // Payouts without P's earning (two at one instant), and Q's own in the month.
    let mut not_earned: Vec<(Instant, Uuid)> = Vec::new();
    for at in [t(8 * DAY), t(8 * DAY), t(9 * DAY)] {
        not_earned.push((at, payout_only(&mut tx, &eur, at).await?.id));
    }
    payout_only(&mut tx, &theirs, t(8 * DAY)).await?;
    book(&mut tx, &q, &ql, &theirs, 4_000, t(3 * DAY), t(3 * DAY), RevenueStage::Pending, None).await?;
    tx.commit().await?;
    earnings.sort();
    reversals.sort();
    not_earned.sort();
    Ok(Month {
        p: p.id,
        q: q.id,
        earnings: earnings.into_iter().map(|(_, _, id)| id).collect(),
        reversals: reversals.into_iter().map(|(_, _, id)| id).collect(),
        not_earned: not_earned.into_iter().map(|(_, id)| id).collect(),
    })
}

#[derive(Clone, Copy)]
enum Which {
    Earnings,
    Reversals,
    NotEarned,
}

/// The ids (earning, or payout when none) and cursors of a section's lines in `w`.
async fn read(tx: &mut Tx, partner: Uuid, which: Which, w: StatementWindow) -> TestResult<Vec<(Uuid, StatementCursor)>> {
    let of = |l: &EarningLine| (l.id, StatementCursor { date: l.date, payout_id: l.payout_id, earning_id: Some(l.id) });
    Ok(match which {
        Which::Earnings => tx.statement_earning_lines(partner, from(), to(), w).await?.iter().map(of).collect(),
        Which::Reversals => tx.statement_reversal_lines(partner, from(), to(), w).await?.iter().map(of).collect(),
        Which::NotEarned => tx
            .statement_not_earned_lines(partner, from(), to(), w)
            .await?
            .iter()
            .map(|n| (n.payout_id, StatementCursor { date: n.created_at, payout_id: n.payout_id, earning_id: None }))
            .collect(),
    })
}

conformance!(statement_sections_page_by_keyset_without_losing_or_repeating_a_line);
async fn statement_sections_page_by_keyset_without_losing_or_repeating_a_line(store: Store) -> TestResult {
    let m = month(&store).await?;
    let mut tx = store.read().await?;
    for (which, expected) in [(Which::Earnings, &m.earnings), (Which::Reversals, &m.reversals), (Which::NotEarned, &m.not_earned)] {
        let all: Vec<Uuid> = read(&mut tx, m.p, which, StatementWindow::all()).await?.into_iter().map(|(id, _)| id).collect();
        assert_eq!(&all, expected);
        for size in 1..=5i64 {
            let (mut paged, mut after) = (Vec::new(), None);
            loop {
                let page = read(&mut tx, m.p, which, StatementWindow { after, limit: Some(size) }).await?;
                assert!(page.len() as i64 <= size);
                paged.extend(page.iter().map(|(id, _)| *id));
                match page.last() {
                    Some((_, c)) if page.len() as i64 == size => after = Some(*c),
                    _ => break,
                }
                // A cursor survives its text form.
                assert_eq!(after.map(|c| StatementCursor::decode(&c.encode())), Some(after));
            }
            assert_eq!(&paged, expected, "pages of {size}");
        }
    }
    // Q's month has its own earning and its own client's payout, none of P's lines.
    let q_lines = read(&mut tx, m.q, Which::Earnings, StatementWindow::all()).await?;
    assert_eq!(q_lines.len(), 1);
    assert!(!m.earnings.contains(&q_lines[0].0));
    let q_not_earned: Vec<Uuid> =
        read(&mut tx, m.q, Which::NotEarned, StatementWindow::all()).await?.into_iter().map(|(id, _)| id).collect();
    assert_eq!(q_not_earned.len(), 1);
    assert!(!m.not_earned.contains(&q_not_earned[0]));
    assert_eq!(tx.statement_not_earned_count(m.p, from(), to()).await?, m.not_earned.len() as i64);
    assert_eq!(tx.statement_void_counts(m.p, from(), to()).await?, (1, 2));
    Ok(())
}

conformance!(statement_totals_are_the_sum_of_the_live_lines);
async fn statement_totals_are_the_sum_of_the_live_lines(store: Store) -> TestResult {
    let m = month(&store).await?;
    // JPY has no current rate: its estimated lines have no figure; locked ones do.
    let rates = [(currency("EUR"), 108_123_457), (currency("USD"), 100_000_000)];
    let rate_of = |c: Currency| rates.iter().find(|(x, _)| *x == c).map(|(_, r)| *r);
    let mut tx = store.read().await?;
    let totals = tx.statement_totals(m.p, from(), to(), &rates).await?;
    let mut lines = tx.statement_earning_lines(m.p, from(), to(), StatementWindow::all()).await?;
    lines.extend(tx.statement_reversal_lines(m.p, from(), to(), StatementWindow::all()).await?);
    let live: Vec<&EarningLine> = lines.iter().filter(|l| l.voided_at.is_none()).collect();
    let mut seen = 0;
    for t in &totals {
        let rows: Vec<&&EarningLine> = live.iter().filter(|l| l.stage == Some(t.stage) && l.currency == t.currency).collect();
        let usd: Vec<Option<i64>> = rows
            .iter()
            .map(|l| {
                l.fx_usd_per_unit_e8.or(rate_of(l.currency)).map(|r| convert_minor(l.amount_minor, l.currency.exponent(), r, 2).unwrap())
            })
            .collect();
        assert_eq!(t.count, rows.len() as i64, "{:?} {}", t.stage, t.currency.code());
        assert_eq!(t.amount_minor, rows.iter().map(|l| l.amount_minor).sum::<i64>());
        assert_eq!(t.usd_minor, usd.iter().flatten().sum::<i64>());
        assert_eq!(t.usd_missing, usd.iter().filter(|u| u.is_none()).count() as i64);
        assert_eq!(t.clawbacks, rows.iter().filter(|l| l.kind == EarningKind::Clawback).count() as i64);
        seen += rows.len();
    }
    assert_eq!(seen, live.len(), "every live line is in a total");
    assert!(totals.iter().any(|t| t.currency.code() == "JPY" && t.usd_missing > 0), "JPY estimates have no figure");
    assert!(totals.iter().any(|t| t.currency.code() == "JPY" && t.usd_minor > 0), "locked JPY lines convert");
    assert_eq!(totals.iter().map(|t| t.clawbacks).sum::<i64>(), 1, "the clawback of the month");
    // The voided lines convert at their payout's rate: none locked here, so only JPY would be missing.
    assert!(tx.statement_void_estimate_currencies(m.p, from(), to(), &[currency("JPY")]).await?.is_empty());
    assert_eq!(tx.statement_void_estimate_currencies(m.p, from(), to(), &[currency("EUR")]).await?, vec![currency("EUR")]);
    Ok(())
}

/// A payout without any earning on `case` at `created_at`, written by the bulk writer (the
/// seed's and the bench's path) instead of `insert_payout`.
async fn bulk_payout_only(tx: &mut Tx, case: &CaseRecord, created_at: Instant) -> TestResult<PayoutRecord> {
    let payment = PaymentRecord {
        id: Uuid::new_v4(),
        case_id: case.id,
        amount_minor: 6_000,
        currency: case.currency,
        paid_at: created_at,
        external_id: None,
        created_at,
        is_overpayment: false,
    };
    tx.bulk_payments(std::slice::from_ref(&payment)).await?;
    let payout = PayoutRecord {
        id: Uuid::new_v4(),
        payment_id: payment.id,
        case_id: case.id,
        collection_partner_id: None,
        success_fee_minor: 1_800,
        platform_fee_minor: 1_200,
        currency: case.currency,
        created_at,
        commission_status: CommissionStatus::Unpaid,
        commission_paid_at: None,
        fx_usd_per_unit_e8: None,
        fx_rate_date: None,
        cp_invoice_id: None,
    };
    tx.bulk_payouts(std::slice::from_ref(&payout)).await?;
    Ok(payout)
}

/// The payout ids of the partner's "did not earn" lines of the month, whole and by pages
/// of two (the same), checked against its count.
async fn not_earned_ids(tx: &mut Tx, partner: Uuid) -> TestResult<Vec<Uuid>> {
    let all: Vec<Uuid> = read(tx, partner, Which::NotEarned, StatementWindow::all()).await?.into_iter().map(|(id, _)| id).collect();
    let (mut paged, mut after) = (Vec::new(), None);
    loop {
        let page = read(tx, partner, Which::NotEarned, StatementWindow { after, limit: Some(2) }).await?;
        paged.extend(page.iter().map(|(id, _)| *id));
        match page.last() {
            Some((_, c)) if page.len() == 2 => after = Some(*c),
            _ => break,
        }
    }
    assert_eq!(paged, all, "pages of two");
    assert_eq!(tx.statement_not_earned_count(partner, from(), to()).await?, all.len() as i64);
    Ok(all)
}

conformance!(not_earned_reads_the_client_each_payout_carries);
async fn not_earned_reads_the_client_each_payout_carries(store: Store) -> TestResult {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    // One active link per client: `shared` was Q's (archived) and is P's now;
    // `relinked` P's twice (archived, then linked again); `past` was P's (archived) and
    // is Q's now; `theirs` is Q's only.
    let (shared, relinked, past, theirs) = (client("Shared", t(0)), client("Relinked", t(0)), client("Past", t(0)), client("Theirs", t(0)));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&q).await?;
    for c in [&shared, &relinked, &past, &theirs] {
        tx.insert_client(c, &[]).await?;
    }
    let mut q_shared = link(&q, &shared, "q-shared", true, t(0));
    let p_shared = link(&p, &shared, "p-shared", true, t(2 * HOUR));
    let mut p_relinked = link(&p, &relinked, "p-relinked-1", true, t(0));
    let p_relinked2 = link(&p, &relinked, "p-relinked-2", true, t(2 * HOUR));
    let mut p_past = link(&p, &past, "p-past", true, t(0));
    let q_past = link(&q, &past, "q-past", true, t(2 * HOUR));
    let q_theirs = link(&q, &theirs, "q-theirs", true, t(0));
    for l in [&q_shared, &p_relinked, &p_past, &q_theirs] {
        tx.insert_link(l, ACTOR, None).await?;
    }
    for l in [&mut q_shared, &mut p_relinked, &mut p_past] {
        change_status(&mut tx, l, LinkStatus::Archived, t(HOUR)).await?;
    }
    for l in [&p_shared, &p_relinked2, &q_past] {
        tx.insert_link(l, ACTOR, None).await?;
    }
    let shared_case = partner_case(&shared, 8001, &p, t(0));
    let relinked_case = partner_case(&relinked, 8002, &p, t(0));
    let past_case = partner_case(&past, 8003, &p, t(0));
    let theirs_case = partner_case(&theirs, 8004, &q, t(0));
    for c in [&shared_case, &relinked_case, &past_case, &theirs_case] {
        tx.insert_case(c).await?;
    }
    // Payouts without any earning, one at a time and in bulk; one earned by P on the
    // shared client (Q did not earn it); one before the month on each writer.
    let a = payout_only(&mut tx, &shared_case, t(3 * DAY)).await?;
    let b = bulk_payout_only(&mut tx, &relinked_case, t(4 * DAY)).await?;
    let c = payout_only(&mut tx, &past_case, t(4 * DAY)).await?;
    let d = bulk_payout_only(&mut tx, &theirs_case, t(5 * DAY)).await?;
    let e = bulk_payout_only(&mut tx, &shared_case, t(5 * DAY)).await?;
    let earned = book(&mut tx, &p, &p_shared, &shared_case, 1_000, t(6 * DAY), t(6 * DAY), RevenueStage::Pending, None).await?;
    payout_only(&mut tx, &shared_case, t(0)).await?;
    bulk_payout_only(&mut tx, &relinked_case, t(0)).await?;
    tx.commit().await?;

    let by_date = |mut v: Vec<(Instant, Uuid)>| {
        v.sort();
        v.into_iter().map(|(_, id)| id).collect::<Vec<_>>()
    };
    let mut tx = store.read().await?;
    assert_eq!(tx.payout_client_mismatch().await?, None, "every payout carries its case's client");
    let p_lines = not_earned_ids(&mut tx, p.id).await?;
    assert_eq!(p_lines, by_date(vec![(a.created_at, a.id), (b.created_at, b.id), (c.created_at, c.id), (e.created_at, e.id)]));
    let q_lines = not_earned_ids(&mut tx, q.id).await?;
    let earned_payout = earned.earning.payout_id;
    assert_eq!(
        q_lines,
        by_date(vec![(a.created_at, a.id), (c.created_at, c.id), (d.created_at, d.id), (e.created_at, e.id), (t(6 * DAY), earned_payout)])
    );
    // Each line's case and client are its payout's.
    let lines = tx.statement_not_earned_lines(p.id, from(), to(), StatementWindow::all()).await?;
    let of = |id: Uuid| lines.iter().find(|n| n.payout_id == id).map(|n| (n.case_id, n.client_id, n.case_reference.clone()));
    assert_eq!(of(b.id), Some((relinked_case.id, relinked.id, relinked_case.reference.clone())));
    assert_eq!(of(e.id), Some((shared_case.id, shared.id, shared_case.reference.clone())));
    drop(tx);

    // A payout whose client is not its case's is found (and `reconcile` reports it).
    let mut tx = store.begin().await?;
    tx.corrupt_payout_client(b.id, None).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_eq!(tx.payout_client_mismatch().await?, Some((b.id, None, relinked.id)));
    drop(tx);
    let mut tx = store.begin().await?;
    tx.corrupt_payout_client(b.id, Some(theirs.id)).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_eq!(tx.payout_client_mismatch().await?, Some((b.id, Some(theirs.id), relinked.id)));
    Ok(())
}

/// A decision on `payout` for `partner` (none: no partner) through `link`, with `reason`,
/// decided at `at`.
async fn decide(
    tx: &mut Tx,
    payout: Uuid,
    partner: Option<Uuid>,
    link: Option<&Link>,
    reason: Reason,
    case: &CaseRecord,
    at: Instant,
) -> TestResult<DecisionRecord> {
    let d = DecisionRecord {
        id: Uuid::new_v4(),
        payout_id: payout,
        supersedes_id: None,
        partner_id: partner,
        link_id: link.map(|l| l.id),
        link_request_id: None,
        link_status: link.map(|_| LinkStatus::Active),
        reason,
        attributed: partner.is_some(),
        case_source: case.source,
        referral_fee_bps: link.map(|l| l.referral_fee_bps),
        referral_fee_minor: 100,
        currency: case.currency,
        engine_version: "attribution/1".into(),
        decided_at: at,
    };
    tx.insert_decision(&d).await?;
    Ok(d)
}

conformance!(earning_lines_carry_their_decisions_reason_and_tenant);
/// Each earning line's reason and tenant come from its decision: a live earning's own; a
/// correction without one from the earning it corrects; a clawback without one from its
/// payout's latest decision naming the partner (not a later one of another partner, nor an
/// earlier one of its own); a voided earning's own (its line and its void line), a voided
/// clawback none (not a live clawback: an earnings line and a void line); the
/// payouts that did not earn carry their latest decision, whoever's. Enough lines that the
/// reads by id span several chunks on SQLite (500 ids) and one statement on PostgreSQL.
async fn earning_lines_carry_their_decisions_reason_and_tenant(store: Store) -> TestResult {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    let (c1, c2, c3) = (client("One", t(0)), client("Two", t(0)), client("Three", t(0)));
    let (l1, l2) = (link(&p, &c1, "tenant-1", true, t(0)), link(&p, &c2, "tenant-2", true, t(0)));
    // Q's link (one active link per client: to another client) names Q's decisions.
    let lq = link(&q, &c3, "tenant-q", true, t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&q).await?;
    for c in [&c1, &c2, &c3] {
        tx.insert_client(c, &[]).await?;
    }
    for l in [&l1, &l2, &lq] {
        tx.insert_link(l, ACTOR, None).await?;
    }
    let (k1, k2) = (partner_case(&c1, 9101, &p, t(0)), partner_case(&c2, 9102, &p, t(0)));
    tx.insert_case(&k1).await?;
    tx.insert_case(&k2).await?;
    // (earning, reason, tenant) of each earnings line, and of each reversals line.
    let mut want: Vec<(Uuid, Option<String>, String)> = Vec::new();
    let mut want_reversals: Vec<(Uuid, Option<String>, String)> = Vec::new();
    let reason = |r: Reason| Some(r.as_str().to_string());
    // Many plain lines on both clients (their own decisions).
    for i in 0..600i64 {
        let (l, k, tenant) = if i % 2 == 0 { (&l1, &k1, "tenant-1") } else { (&l2, &k2, "tenant-2") };
        let at = t(2 * DAY + i * 60_000);
        let b = book(&mut tx, &p, l, k, 1_000 + i, at, at, RevenueStage::Pending, None).await?;
        want.push((b.earning.id, reason(Reason::AttributedClient), tenant.into()));
    }
    // A correction without a decision: its corrected earning's.
    let base = book(&mut tx, &p, &l1, &k1, 2_000, t(3 * DAY), t(3 * DAY), RevenueStage::Pending, None).await?;
    want.push((base.earning.id, reason(Reason::AttributedClient), "tenant-1".into()));
    let fix = EarningRecord {
        id: Uuid::new_v4(),
        kind: EarningKind::Correction,
        amount_minor: 150,
        decision_id: None,
        corrects_id: Some(base.earning.id),
        created_at: t(3 * DAY + HOUR),
        ..base.earning.clone()
    };
    tx.insert_earning(&fix).await?;
    tx.set_earning_read_model(&EarningReadModel {
        earning_id: fix.id,
        stage: Some(RevenueStage::Pending),
        paid_at: fix.created_at,
        fx_usd_per_unit_e8: None,
    })
    .await?;
    want.push((fix.id, reason(Reason::AttributedClient), "tenant-1".into()));
    // A clawback without a decision on a payout decided three more times: P's latest
    // (through the other link, another reason) is the one, not Q's later one.
    let clawed = book(&mut tx, &p, &l2, &k2, 3_000, t(4 * DAY), t(4 * DAY), RevenueStage::Paid, None).await?;
    want.push((clawed.earning.id, reason(Reason::AttributedClient), "tenant-2".into()));
    let payout = clawed.earning.payout_id;
    decide(&mut tx, payout, Some(p.id), Some(&l2), Reason::LinkArchived, &k2, t(4 * DAY + HOUR)).await?;
    decide(&mut tx, payout, Some(p.id), Some(&l1), Reason::PartnerChannel, &k2, t(4 * DAY + 2 * HOUR)).await?;
    decide(&mut tx, payout, Some(q.id), Some(&lq), Reason::NoLink, &k2, t(4 * DAY + 3 * HOUR)).await?;
    let claw = EarningRecord {
        id: Uuid::new_v4(),
        kind: EarningKind::Clawback,
        amount_minor: -1_000,
        decision_id: None,
        created_at: t(5 * DAY),
        ..clawed.earning.clone()
    };
    tx.insert_earning(&claw).await?;
    tx.set_earning_read_model(&EarningReadModel {
        earning_id: claw.id,
        stage: Some(RevenueStage::Paid),
        paid_at: claw.created_at,
        fx_usd_per_unit_e8: None,
    })
    .await?;
    want_reversals.push((claw.id, reason(Reason::PartnerChannel), "tenant-1".into()));
    // A clawback booked and voided in the month: no live clawback (reversals has its void
    // line), an earnings line; no decision of its own, so no reason, and the tenant of
    // the payout's latest decision naming P.
    let claw2 = EarningRecord { id: Uuid::new_v4(), created_at: t(5 * DAY + HOUR), ..claw.clone() };
    tx.insert_earning(&claw2).await?;
    assert!(tx.void_earning(claw2.id, t(7 * DAY), "reversed").await?);
    tx.set_earning_read_model(&EarningReadModel { earning_id: claw2.id, stage: None, paid_at: claw2.created_at, fx_usd_per_unit_e8: None })
        .await?;
    want.push((claw2.id, None, "tenant-1".into()));
    want_reversals.push((claw2.id, None, "tenant-1".into()));
    // A voided earning: its line (its own decision's reason) and its void line.
    let gone = book(&mut tx, &p, &l2, &k2, 4_000, t(6 * DAY), t(6 * DAY), RevenueStage::Pending, None).await?;
    decide(&mut tx, gone.earning.payout_id, Some(p.id), Some(&l1), Reason::LinkDeleted, &k2, t(6 * DAY + HOUR)).await?;
    assert!(tx.void_earning(gone.earning.id, t(7 * DAY), "chargeback").await?);
    want.push((gone.earning.id, reason(Reason::AttributedClient), "tenant-2".into()));
    want_reversals.push((gone.earning.id, reason(Reason::AttributedClient), "tenant-2".into()));
    // Payouts that did not earn: one decided for Q (then for nobody), one never decided.
    let decided = payout_only(&mut tx, &k2, t(8 * DAY)).await?;
    decide(&mut tx, decided.id, Some(q.id), Some(&lq), Reason::AttributedClient, &k2, t(8 * DAY)).await?;
    decide(&mut tx, decided.id, None, None, Reason::NonAttributedOtherChannel, &k2, t(8 * DAY + HOUR)).await?;
    let plain = payout_only(&mut tx, &k1, t(9 * DAY)).await?;
    tx.commit().await?;

    let mut tx = store.read().await?;
    let got = |lines: Vec<EarningLine>| lines.into_iter().map(|l| (l.id, l.reason, l.external_tenant_id)).collect::<Vec<_>>();
    let mut lines = got(tx.statement_earning_lines(p.id, from(), to(), StatementWindow::all()).await?);
    lines.sort();
    want.sort();
    assert_eq!(lines.len(), want.len());
    assert_eq!(lines, want);
    let mut reversals = got(tx.statement_reversal_lines(p.id, from(), to(), StatementWindow::all()).await?);
    reversals.sort();
    want_reversals.sort();
    assert_eq!(reversals, want_reversals);
    // A page reads the same.
    let page = got(tx.statement_reversal_lines(p.id, from(), to(), StatementWindow { after: None, limit: Some(1) }).await?);
    assert_eq!(page.len(), 1);
    assert!(want_reversals.contains(&page[0]));
    let not_earned = tx.statement_not_earned_lines(p.id, from(), to(), StatementWindow::all()).await?;
    let of = |id: Uuid| not_earned.iter().find(|n| n.payout_id == id).expect("listed");
    let d = of(decided.id);
    assert_eq!(d.latest.map(|x| (x.partner_id, x.reason, x.link_id)), Some((None, Reason::NonAttributedOtherChannel, None)));
    assert_eq!((d.case_id, d.client_id, d.case_reference.as_str(), d.payment_amount_minor), (k2.id, c2.id, k2.reference.as_str(), 5_000));
    assert_eq!(
        (d.currency, d.case_created_at, d.case_source, d.creating_partner_id),
        (k2.currency, k2.created_at, k2.source, k2.creating_partner_id)
    );
    let n = of(plain.id);
    assert!(n.latest.is_none());
    assert_eq!((n.case_id, n.client_id, n.created_at), (k1.id, c1.id, t(9 * DAY)));
    assert_eq!(not_earned.len(), 2);
    Ok(())
}
