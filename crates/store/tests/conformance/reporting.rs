//! Partner reporting in SQL (issue 9): the exact USD rounding expression against
//! `core::money::convert_minor`; filters, order and paging (offset and keyset) of a
//! partner's earnings; search that never finds another partner's rows; and the summary
//! aggregate against the sum of its rows' own conversions (locked, estimated, missing); the
//! parts a page's rows show beside their earnings, read in one statement.

use refshare_core::attribution::Reason;
use refshare_core::ledger::EarningKind;
use refshare_core::link::{Link, LinkStatus};
use refshare_core::money::{convert_minor, max_rate_e8, Bps, Currency, MAX_AMOUNT_MINOR};
use refshare_core::stage::{CommissionStatus, CpInvoiceStatus, ReferralInvoiceStatus, RevenueStage};
use refshare_core::Instant;
use refshare_store::{
    CasePart, CaseRecord, ClientPart, CpInvoiceRecord, DecisionPart, DecisionRecord, EarningReadModel, EarningRecord, PartnerRecord,
    PaymentPart, PaymentRecord, PayoutPart, PayoutRecord, ReportCursor, ReportFilter, ReportOrder, ReportParts, ReportWindow, Store,
    SummaryGroup, Tx, UtcMonth,
};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

conformance!(usd_sql_rounds_exactly_like_convert_minor);
async fn usd_sql_rounds_exactly_like_convert_minor(store: Store) -> TestResult {
    let mut cases: Vec<(i64, i64, Currency)> = Vec::new();
    let mut g = Lcg(42);
    for code in ["JPY", "EUR", "KWD"] {
        let c = currency(code);
        let e = c.exponent();
        let max_rate = max_rate_e8(e);
        let d = 10i64.pow(e) * 1_000_000;
        // The extremes: the largest amount at the largest rate, both signs.
        for a in [MAX_AMOUNT_MINOR, -MAX_AMOUNT_MINOR, MAX_AMOUNT_MINOR - 1, 1, -1, 0] {
            for r in [max_rate, max_rate - 1, 1, d, d - 1, d + 1, d / 2] {
                cases.push((a, r, c));
            }
        }
        // Exact ties (amount·rate = (k + ½)·d), half to even both ways, both signs.
        for k in 0..6i64 {
            let num = (2 * k + 1) * (d / 2); // amount = 1: rate = (k + ½)·d
            cases.push((1, num, c));
            cases.push((-1, num, c));
            cases.push((2, num, c)); // 2·(k+½)·d is a whole number of cents: no tie
            cases.push((3, (2 * k + 1) * (d / 2), c));
        }
        // Random amounts and rates over the whole range, small and large.
        for _ in 0..150 {
            let a = match g.below(3) {
                0 => g.below(1_000),
                1 => g.below(100_000_000),
                _ => g.below(MAX_AMOUNT_MINOR + 1),
            };
            let a = if g.below(4) == 0 { -a } else { a };
            let r = 1 + g.below(max_rate);
            cases.push((a, r, c));
        }
    }
    let mut tx = store.read().await?;
    for (a, r, c) in cases {
        let want = convert_minor(a, c.exponent(), r, 2).expect("within bounds");
        let got = tx.eval_usd_minor_sql(a, r, c).await?;
        assert_eq!(got, Some(want), "{a} minor {} at {r}e-8", c.code());
    }
    Ok(())
}

/// Partner P with one client and `n` cases, each paid once and earning once; partner Q with
/// a client of the same name prefix and its own earnings.
struct World {
    p: PartnerRecord,
    q: PartnerRecord,
    /// P's earnings, in creation order.
    mine: Vec<EarningRecord>,
    /// Payment date of each of P's earnings.
    paid: Vec<Instant>,
    /// Q's earnings.
    theirs: Vec<EarningRecord>,
    p_case: CaseRecord,
}

pub(crate) struct Booked {
    pub(crate) earning: EarningRecord,
    pub(crate) paid_at: Instant,
}

/// Books a payment, payout, decision and earning of `amount_minor` on `case` for `partner`
/// through `link`, with its read model (`stage`, locked rate).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn book(
    tx: &mut Tx,
    partner: &PartnerRecord,
    link: &Link,
    case: &CaseRecord,
    amount_minor: i64,
    paid_at: Instant,
    created_at: Instant,
    stage: RevenueStage,
    locked: Option<i64>,
) -> TestResult<Booked> {
    let payment = PaymentRecord {
        id: Uuid::new_v4(),
        case_id: case.id,
        amount_minor: amount_minor * 10,
        currency: case.currency,
        paid_at,
        external_id: None,
        created_at,
        is_overpayment: false,
    };
    tx.insert_payment(&payment).await?;
    let payout = PayoutRecord {
        id: Uuid::new_v4(),
        payment_id: payment.id,
        case_id: case.id,
        collection_partner_id: None,
        success_fee_minor: amount_minor * 3,
        platform_fee_minor: amount_minor * 2 + 1,
        currency: case.currency,
        created_at,
        commission_status: if locked.is_some() { CommissionStatus::Paid } else { CommissionStatus::Unpaid },
        commission_paid_at: locked.map(|_| created_at),
        fx_usd_per_unit_e8: locked,
        fx_rate_date: locked.map(|_| "2024-03-01".to_string()),
        cp_invoice_id: None,
    };
    tx.insert_payout(&payout).await?;
    let decision = DecisionRecord {
        id: Uuid::new_v4(),
        payout_id: payout.id,
        supersedes_id: None,
        partner_id: Some(partner.id),
        link_id: Some(link.id),
        link_request_id: None,
        link_status: Some(LinkStatus::Active),
        reason: Reason::AttributedClient,
        attributed: true,
        case_source: case.source,
        referral_fee_bps: Some(link.referral_fee_bps),
        referral_fee_minor: amount_minor,
        currency: case.currency,
        engine_version: "attribution/1".into(),
        decided_at: created_at,
    };
    tx.insert_decision(&decision).await?;
    let earning = EarningRecord {
        id: Uuid::new_v4(),
        payout_id: payout.id,
        decision_id: Some(decision.id),
        partner_id: partner.id,
        case_id: case.id,
        amount_minor,
        currency: case.currency,
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
    };
    tx.insert_earning(&earning).await?;
    tx.set_earning_read_model(&EarningReadModel { earning_id: earning.id, stage: Some(stage), paid_at, fx_usd_per_unit_e8: locked })
        .await?;
    Ok(Booked { earning, paid_at })
}

/// One partner linked to one client with one case (number `case_number`) and two EUR
/// earnings created at `t(0)`: one locked at 1.10 (10.00 EUR, 1,100 US cents), one not
/// (20.00 EUR), with the estimate rate built at 1.08 (2,160 US cents). The setup of the
/// kept-totals corruption tests; returns the partner, the month and the rates to read at.
pub(crate) async fn one_locked_one_estimate(
    store: &Store,
    case_number: i64,
) -> Result<(PartnerRecord, UtcMonth, [(Currency, i64); 1]), Box<dyn std::error::Error + Send + Sync>> {
    let p = partner("P", t(0));
    let pc = client("Nordlys", t(0));
    let pl = link(&p, &pc, "tenant-p", true, t(0));
    let eur = currency("EUR");
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_client(&pc, &[]).await?;
    tx.insert_link(&pl, ACTOR, None).await?;
    let case = partner_case(&pc, case_number, &p, t(0));
    tx.insert_case(&case).await?;
    book(&mut tx, &p, &pl, &case, 1_000, t(0), t(0), RevenueStage::Pending, Some(110_000_000)).await?;
    book(&mut tx, &p, &pl, &case, 2_000, t(0), t(1), RevenueStage::Pending, None).await?;
    tx.rebuild_estimates(&[(eur, Some(108_000_000))]).await?;
    tx.commit().await?;
    Ok((p, UtcMonth::containing(t(0)), [(eur, 108_000_000)]))
}

const STAGES: [RevenueStage; 3] = [RevenueStage::Pending, RevenueStage::ConfirmedPendingInvoice, RevenueStage::Paid];

async fn world(store: &Store) -> TestResult<World> {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    let (pc, qc) = (client("Nordlys Fiskeri", t(0)), client("Nordic Trawl", t(0)));
    let (pl, ql) = (link(&p, &pc, "tenant-p", true, t(0)), link(&q, &qc, "tenant-q", true, t(0)));
    let mut tx = store.begin().await?;
    insert_linked(&mut tx, &p, &pc, &pl).await?;
    insert_linked(&mut tx, &q, &qc, &ql).await?;
    let p_case = CaseRecord { debtor_country: "DK".into(), ..partner_case(&pc, 7001, &p, t(HOUR)) };
    // Q's case shares the text "DEB-700" with P's references, and is in SEK.
    let q_case = CaseRecord { currency: currency("SEK"), debtor_country: "SE".into(), ..partner_case(&qc, 7002, &q, t(HOUR)) };
    let j_case = CaseRecord { currency: currency("JPY"), debtor_country: "JP".into(), ..partner_case(&pc, 8001, &p, t(HOUR)) };
    for c in [&p_case, &q_case, &j_case] {
        tx.insert_case(c).await?;
    }
    let (mut mine, mut paid, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..23i64 {
        // Groups of three share a payment date, so the order falls to created_at and id.
        let paid_at = t(DAY + (i / 3) * HOUR);
        let created = t(2 * DAY + i * SECOND);
        let stage = STAGES[(i % 3) as usize];
        let locked = (i % 4 == 0).then_some(123_456_789 + i);
        let case = if i % 5 == 4 { &j_case } else { &p_case };
        let b = book(&mut tx, &p, &pl, case, 1_000 + 37 * i, paid_at, created, stage, locked).await?;
        mine.push(b.earning);
        paid.push(b.paid_at);
    }
    for i in 0..5i64 {
        let b = book(&mut tx, &q, &ql, &q_case, 500 + i, t(DAY), t(2 * DAY + i), RevenueStage::Pending, None).await?;
        theirs.push(b.earning);
    }
    // A voided earning of P never shows.
    let v = book(&mut tx, &p, &pl, &p_case, 9_999, t(DAY), t(3 * DAY), RevenueStage::Pending, None).await?;
    assert!(tx.void_earning(v.earning.id, t(4 * DAY), "test").await?);
    tx.set_earning_read_model(&EarningReadModel { earning_id: v.earning.id, stage: None, paid_at: v.paid_at, fx_usd_per_unit_e8: None })
        .await?;
    tx.commit().await?;
    Ok(World { p, q, mine, paid, theirs, p_case })
}

fn window(limit: i64, offset: i64, ascending: bool) -> ReportWindow {
    ReportWindow { order: ReportOrder::PaidAt, ascending, limit, offset, after: None }
}

/// P's ids in the report's order by payment date, computed in Rust.
fn expected_order(w: &World, ascending: bool) -> Vec<Uuid> {
    let mut keyed: Vec<_> = w.mine.iter().zip(&w.paid).map(|(e, p)| (*p, e.created_at, e.id)).collect();
    keyed.sort();
    if !ascending {
        keyed.reverse();
    }
    keyed.into_iter().map(|(_, _, id)| id).collect()
}

conformance!(report_pages_in_sql_in_a_stable_order);
async fn report_pages_in_sql_in_a_stable_order(store: Store) -> TestResult {
    let w = world(&store).await?;
    let rates = [(currency("EUR"), 108_000_000), (currency("JPY"), 670_000)];
    let f = ReportFilter::default();
    let mut tx = store.read().await?;
    for ascending in [false, true] {
        let want = expected_order(&w, ascending);
        // Pages of 5 cover every row once, in order, across the page boundaries.
        let mut got = Vec::new();
        for page in 0..6 {
            let rows = tx.report_page(w.p.id, &f, &rates, window(5, page * 5, ascending)).await?;
            assert!(rows.len() <= 5);
            got.extend(rows.into_iter().map(|e| e.id));
        }
        assert_eq!(got, want, "ascending = {ascending}");
        // Keyset pages give the same sequence.
        let mut keyset = Vec::new();
        let mut after: Option<ReportCursor> = None;
        loop {
            let rows = tx.report_page(w.p.id, &f, &rates, ReportWindow { after, ..window(4, 0, ascending) }).await?;
            let Some(last) = rows.last() else { break };
            let i = w.mine.iter().position(|e| e.id == last.id).expect("P's row");
            after = Some(ReportCursor { paid_at: w.paid[i], created_at: last.created_at, id: last.id });
            keyset.extend(rows.iter().map(|e| e.id));
        }
        assert_eq!(keyset, want, "keyset, ascending = {ascending}");
    }
    // Stage and country filters, in SQL.
    let paid_only = ReportFilter { stages: vec![RevenueStage::Paid], ..Default::default() };
    let rows = tx.report_page(w.p.id, &paid_only, &rates, window(100, 0, false)).await?;
    assert_eq!(rows.len(), w.mine.iter().enumerate().filter(|(i, _)| i % 3 == 2).count());
    let jp = ReportFilter { countries: vec!["JP".into()], ..Default::default() };
    let rows = tx.report_page(w.p.id, &jp, &rates, window(100, 0, false)).await?;
    assert_eq!(rows.len(), 4, "cases 4, 9, 14, 19 are in Japan");
    let tenant = ReportFilter { external_tenant_id: Some("tenant-p".into()), ..Default::default() };
    assert_eq!(tx.report_page(w.p.id, &tenant, &rates, window(100, 0, false)).await?.len(), w.mine.len());
    let other_tenant = ReportFilter { external_tenant_id: Some("tenant-q".into()), ..Default::default() };
    assert!(tx.report_page(w.p.id, &other_tenant, &rates, window(100, 0, false)).await?.is_empty());
    drop(tx);

    // A keyset cursor is stable under inserts: rows booked meanwhile before the cursor
    // (newer, in the descending order) do not shift the next page.
    let mut tx = store.read().await?;
    let first = tx.report_page(w.p.id, &f, &rates, window(5, 0, false)).await?;
    drop(tx);
    let last = first.last().expect("a page");
    let i = w.mine.iter().position(|e| e.id == last.id).expect("P's row");
    let cursor = ReportCursor { paid_at: w.paid[i], created_at: last.created_at, id: last.id };
    let mut wtx = store.begin().await?;
    let pl = wtx.links_of_partner(w.p.id).await?.remove(0);
    for k in 0..3 {
        book(&mut wtx, &w.p, &pl, &w.p_case, 5, t(30 * DAY + k), t(31 * DAY + k), RevenueStage::Pending, None).await?;
    }
    wtx.commit().await?;
    let mut tx = store.read().await?;
    let next = tx.report_page(w.p.id, &f, &rates, ReportWindow { after: Some(cursor), ..window(5, 0, false) }).await?;
    let want: Vec<Uuid> = expected_order(&w, false)[5..10].to_vec();
    assert_eq!(next.iter().map(|e| e.id).collect::<Vec<_>>(), want);
    Ok(())
}

conformance!(report_search_finds_the_partners_rows_only);
async fn report_search_finds_the_partners_rows_only(store: Store) -> TestResult {
    let w = world(&store).await?;
    let rates = [(currency("EUR"), 108_000_000)];
    let mut tx = store.read().await?;
    let search = |s: &str| ReportFilter { search: Some(s.into()), ..Default::default() };
    let ids = |rows: Vec<EarningRecord>| rows.into_iter().map(|e| e.id).collect::<Vec<_>>();
    // "deb-70" matches P's DEB-7001 and Q's DEB-7002: P sees only its own.
    for q in ["deb-70", "DEB-7001", "eb-700", "70"] {
        let rows = ids(tx.report_page(w.p.id, &search(q), &rates, window(100, 0, false)).await?);
        let want: Vec<Uuid> = w.mine.iter().enumerate().filter(|(i, _)| i % 5 != 4).map(|(_, e)| e.id).collect();
        assert_eq!(rows.len(), want.len(), "{q}");
        assert!(rows.iter().all(|id| want.contains(id)), "{q}");
        let theirs = ids(tx.report_page(w.q.id, &search(q), &rates, window(100, 0, false)).await?);
        let expected = if q == "DEB-7001" { 0 } else { w.theirs.len() };
        assert_eq!(theirs.len(), expected, "{q}: Q finds its own");
        assert!(theirs.iter().all(|id| w.theirs.iter().any(|e| e.id == *id)), "{q}");
    }
    // By the client's name (case-insensitive): Q's client "Nordic Trawl" is not P's.
    assert_eq!(tx.report_page(w.p.id, &search("NORDLYS"), &rates, window(100, 0, false)).await?.len(), w.mine.len());
    assert!(tx.report_page(w.p.id, &search("trawl"), &rates, window(100, 0, false)).await?.is_empty());
    assert!(tx.report_page(w.p.id, &search("DEB-7002"), &rates, window(100, 0, false)).await?.is_empty());
    // The summary follows the same filter.
    let groups = tx.report_summary(w.p.id, &search("trawl"), &rates).await?;
    assert!(groups.is_empty(), "{groups:?}");
    Ok(())
}

conformance!(report_search_keeps_the_partners_earnings_after_the_link_is_archived);
/// Earnings stay the partner's after its link is archived and the client moves to another
/// partner: the partner's search still finds them, the new partner's does not.
async fn report_search_keeps_the_partners_earnings_after_the_link_is_archived(store: Store) -> TestResult {
    let w = world(&store).await?;
    let rates = [(currency("EUR"), 108_000_000)];
    let mut tx = store.begin().await?;
    let mut pl = tx.links_of_partner(w.p.id).await?.remove(0);
    change_status(&mut tx, &mut pl, LinkStatus::Archived, t(40 * DAY)).await?;
    let pc = tx.client(pl.client_id).await?.expect("P's client");
    tx.insert_link(&link(&w.q, &pc, "tenant-q-2", true, t(41 * DAY)), ACTOR, None).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    let search = |s: &str| ReportFilter { search: Some(s.into()), ..Default::default() };
    for q in ["NORDLYS", "deb-7001", "DEB-", "fiskeri"] {
        let mine = tx.report_page(w.p.id, &search(q), &rates, window(100, 0, false)).await?;
        let want = match q {
            "deb-7001" => w.mine.iter().enumerate().filter(|(i, _)| i % 5 != 4).count(),
            _ => w.mine.len(),
        };
        assert_eq!(mine.len(), want, "P searches {q:?}");
        let theirs = tx.report_page(w.q.id, &search(q), &rates, window(100, 0, false)).await?;
        assert!(theirs.iter().all(|e| w.theirs.iter().any(|x| x.id == e.id)), "Q never finds P's earnings ({q:?})");
    }
    Ok(())
}

conformance!(report_summary_is_the_sum_of_its_rows);
async fn report_summary_is_the_sum_of_its_rows(store: Store) -> TestResult {
    let w = world(&store).await?;
    // JPY has no current rate: its estimated rows have no figure; locked ones do.
    let rates = [(currency("EUR"), 108_123_457)];
    let rate_of = |c: Currency| rates.iter().find(|(x, _)| *x == c).map(|(_, r)| *r);
    let mut tx = store.read().await?;
    let groups = tx.report_summary(w.p.id, &ReportFilter::default(), &rates).await?;
    let models: Vec<EarningReadModel> = {
        let mut v = Vec::new();
        for e in &w.mine {
            v.push(tx.earning_read_model(e.id).await?.expect("stored"));
        }
        v
    };
    let mut jpy_missing = 0;
    for stage in STAGES {
        for c in [currency("EUR"), currency("JPY")] {
            let rows: Vec<(&EarningRecord, &EarningReadModel)> =
                w.mine.iter().zip(&models).filter(|(e, m)| m.stage == Some(stage) && e.currency == c).collect();
            let group = groups.iter().find(|g| g.stage == stage && g.currency == c);
            if rows.is_empty() {
                assert!(group.is_none());
                continue;
            }
            let g = group.expect("a group per stage and currency");
            let usd: Vec<Option<i64>> = rows
                .iter()
                .map(|(e, m)| m.fx_usd_per_unit_e8.or(rate_of(c)).map(|r| convert_minor(e.amount_minor, c.exponent(), r, 2).unwrap()))
                .collect();
            assert_eq!(g.count, rows.len() as i64);
            assert_eq!(g.amount_minor, rows.iter().map(|(e, _)| e.amount_minor).sum::<i64>());
            assert_eq!(g.usd_minor, usd.iter().flatten().sum::<i64>(), "{stage:?} {}", c.code());
            assert_eq!(g.usd_missing, usd.iter().filter(|u| u.is_none()).count() as i64);
            let platform: i64 = rows
                .iter()
                .filter_map(|(e, m)| {
                    m.fx_usd_per_unit_e8.or(rate_of(c)).map(|r| convert_minor(e.amount_minor * 2 + 1, c.exponent(), r, 2).unwrap())
                })
                .sum();
            assert_eq!(g.platform_usd_minor, platform);
            if c.code() == "JPY" {
                jpy_missing += g.usd_missing;
            }
        }
    }
    assert!(jpy_missing > 0, "some JPY rows are estimates without a rate");
    assert!(groups.iter().any(|g| g.currency.code() == "JPY" && g.usd_minor > 0), "locked JPY rows convert");
    // The voided earning is in no group; Q's rows are not P's.
    assert_eq!(groups.iter().map(|g| g.count).sum::<i64>(), w.mine.len() as i64);
    assert!(!groups.iter().any(|g| g.currency.code() == "SEK"));
    Ok(())
}

conformance!(client_earnings_usd_are_the_sum_of_the_partners_rows_per_client);
/// The client list's earnings per client (`partner_client_earnings_usd`): each live earning
/// of the partner at its locked rate, else the current one, rounded on its own, summed per
/// client; rows without a rate counted apart; voided rows and another partner's not at all.
async fn client_earnings_usd_are_the_sum_of_the_partners_rows_per_client(store: Store) -> TestResult {
    let w = world(&store).await?;
    let mut tx = store.read().await?;
    let q_client = tx.case(w.theirs[0].case_id).await?.expect("Q's case").client_id;
    let p_client = w.p_case.client_id;
    let unknown = Uuid::new_v4();
    let mut models = Vec::new();
    for e in &w.mine {
        models.push(tx.earning_read_model(e.id).await?.expect("stored"));
    }
    for rates in [vec![(currency("EUR"), 108_123_457)], vec![(currency("EUR"), 99_999_999), (currency("JPY"), 678_901)], vec![]] {
        let rate_of = |c: Currency| rates.iter().find(|(x, _)| *x == c).map(|(_, r)| *r);
        let usd: Vec<Option<i64>> = w
            .mine
            .iter()
            .zip(&models)
            .map(|(e, m)| {
                m.fx_usd_per_unit_e8.or(rate_of(e.currency)).map(|r| convert_minor(e.amount_minor, e.currency.exponent(), r, 2).unwrap())
            })
            .collect();
        let got = tx.partner_client_earnings_usd(w.p.id, &[p_client, q_client, unknown], &rates).await?;
        assert_eq!(got.len(), 1, "only P's client has P's earnings");
        let mine = got[&p_client];
        assert_eq!(mine.usd_minor, usd.iter().flatten().sum::<i64>());
        assert_eq!(mine.usd_missing, usd.iter().filter(|u| u.is_none()).count() as i64);
        // Q sees its own client's rows only.
        let theirs = tx.partner_client_earnings_usd(w.q.id, &[p_client, q_client], &rates).await?;
        assert_eq!(theirs.keys().collect::<Vec<_>>(), vec![&q_client]);
        assert_eq!(theirs[&q_client].usd_missing, w.theirs.len() as i64, "no SEK rate is loaded");
    }
    // Some JPY rows lack a rate without one, and locked rows convert anyway.
    let none = tx.partner_client_earnings_usd(w.p.id, &[p_client], &[]).await?;
    assert!(none[&p_client].usd_missing > 0 && none[&p_client].usd_minor > 0);
    assert!(tx.partner_client_earnings_usd(w.p.id, &[], &[]).await?.is_empty());
    drop(tx);
    // The seed's bulk writer records the case's client too (migration 0032).
    let rates = [(currency("EUR"), 108_123_457)];
    let before = store.read().await?.partner_client_earnings_usd(w.p.id, &[p_client], &rates).await?[&p_client];
    let mut tx = store.begin().await?;
    let payout = payout_only(&mut tx, &w.p_case, t(5 * DAY)).await?;
    let earning = EarningRecord {
        id: Uuid::new_v4(),
        payout_id: payout.id,
        decision_id: None,
        partner_id: w.p.id,
        case_id: w.p_case.id,
        amount_minor: 777,
        currency: w.p_case.currency,
        referral_invoice_status: ReferralInvoiceStatus::Pending,
        created_at: t(5 * DAY),
        kind: EarningKind::Payout,
        corrects_id: None,
        note: None,
        partner_invoice_id: None,
        voided_at: None,
        void_reason: None,
        dispute_id: None,
        status_before_dispute: None,
    };
    let model =
        EarningReadModel { earning_id: earning.id, stage: Some(RevenueStage::Pending), paid_at: t(5 * DAY), fx_usd_per_unit_e8: None };
    tx.bulk_earnings(&[(earning, model)]).await?;
    tx.commit().await?;
    let after = store.read().await?.partner_client_earnings_usd(w.p.id, &[p_client], &rates).await?[&p_client];
    let added = convert_minor(777, w.p_case.currency.exponent(), rate_of_eur(&rates), 2).unwrap();
    assert_eq!((after.usd_minor, after.usd_missing), (before.usd_minor + added, before.usd_missing));
    Ok(())
}

conformance!(client_earnings_read_from_the_kept_totals_are_the_rows_and_a_corrupted_row_is_found);
/// The client list's earnings per client read from `client_earnings_totals` (migration
/// 0040) equal the rows' aggregate: estimates not built (the rows), built at the rates read
/// (the kept rows), after writes at that rate (new earnings, a void, a rate locked, a
/// savepoint rolled back), a client's cascade delete, a re-base; a read at other rates
/// aggregates the stale currencies' rows. A corrupted row is found by the reads
/// `reconcile` compares, and shows in the answer only where it is read.
async fn client_earnings_read_from_the_kept_totals_are_the_rows_and_a_corrupted_row_is_found(store: Store) -> TestResult {
    let w = world(&store).await?;
    let (eur, jpy) = (currency("EUR"), currency("JPY"));
    let p_client = w.p_case.client_id;
    let q_client = store.read().await?.case(w.theirs[0].case_id).await?.expect("Q's case").client_id;
    let clients = [p_client, q_client, Uuid::new_v4()];
    let check = |rates: Vec<(Currency, i64)>| {
        let store = store.clone();
        let pid = w.p.id;
        let qid = w.q.id;
        async move {
            let mut tx = store.read().await?;
            for partner in [pid, qid] {
                let got = tx.partner_client_earnings_usd(partner, &clients, &rates).await?;
                let want = tx.partner_client_earnings_usd_from_rows(partner, &clients, &rates).await?;
                assert_eq!(got, want, "partner {partner}, rates {rates:?}");
            }
            TestResult::Ok(())
        }
    };
    let r1 = vec![(eur, 108_123_457)];
    check(r1.clone()).await?;
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(eur, Some(108_123_457)), (jpy, None), (currency("USD"), Some(100_000_000))]).await?;
    tx.commit().await?;
    assert_estimates_prove(&store).await?;
    check(r1.clone()).await?;
    let mut tx = store.read().await?;
    let kept = tx.client_earnings_totals().await?;
    assert!(kept.iter().any(|(k, _)| k.client_id == p_client && k.locked), "{kept:?}");
    assert!(kept.iter().any(|(k, _)| k.client_id == p_client && !k.locked && k.currency == jpy), "{kept:?}");
    drop(tx);

    // Writes at that rate.
    let mut tx = store.begin().await?;
    let pl = tx.links_of_partner(w.p.id).await?.remove(0);
    for k in 0..3 {
        book(&mut tx, &w.p, &pl, &w.p_case, 7_777 + k, t(50 * DAY), t(50 * DAY + k), RevenueStage::Pending, None).await?;
    }
    tx.savepoint(refshare_store::Savepoint::SharedPayment).await?;
    book(&mut tx, &w.p, &pl, &w.p_case, 1_234_567, t(51 * DAY), t(51 * DAY), RevenueStage::Paid, None).await?;
    tx.rollback_to_savepoint(refshare_store::Savepoint::SharedPayment).await?;
    assert!(tx.void_earning(w.mine[1].id, t(52 * DAY), "test").await?);
    let m = tx.earning_read_model(w.mine[1].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { stage: None, ..m }).await?;
    let m = tx.earning_read_model(w.mine[2].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { fx_usd_per_unit_e8: Some(111_000_000), ..m }).await?;
    tx.commit().await?;
    assert_estimates_prove(&store).await?;
    check(r1.clone()).await?;
    // Other rates: the stale currencies' rows are aggregated.
    check(vec![(eur, 109_000_001)]).await?;
    check(vec![(eur, 108_123_457), (jpy, 671_234)]).await?;
    check(vec![]).await?;
    // A re-base, then a write at the new rate.
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(eur, Some(109_000_001)), (jpy, Some(671_234))]).await?;
    book(&mut tx, &w.p, &pl, &w.p_case, 4_321, t(53 * DAY), t(53 * DAY), RevenueStage::Pending, None).await?;
    tx.commit().await?;
    assert_estimates_prove(&store).await?;
    check(vec![(eur, 109_000_001), (jpy, 671_234)]).await?;
    check(r1.clone()).await?;

    // A corrupted kept row is found, and read where it is used.
    let mut tx = store.read().await?;
    let (key, sums) = tx.client_earnings_totals().await?.into_iter().find(|(k, _)| k.client_id == p_client && k.locked).expect("kept");
    drop(tx);
    let mut tx = store.begin().await?;
    tx.corrupt_client_earnings_totals(key, refshare_store::client_totals::ClientSums { usd_minor: sums.usd_minor + 1, ..sums }).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_ne!(tx.client_earnings_totals().await?, tx.client_earnings_totals_from_rows().await?, "a corrupted row is found");
    let rates = vec![(eur, 109_000_001), (jpy, 671_234)];
    let got = tx.partner_client_earnings_usd(w.p.id, &[p_client], &rates).await?[&p_client];
    let want = tx.partner_client_earnings_usd_from_rows(w.p.id, &[p_client], &rates).await?[&p_client];
    assert_eq!(got.usd_minor, want.usd_minor + 1);
    drop(tx);

    // The client's cascade delete takes its rows away.
    let mut tx = store.begin().await?;
    tx.corrupt_client_earnings_totals(key, sums).await?;
    tx.delete_client_cascade(q_client).await?;
    tx.commit().await?;
    assert_estimates_prove(&store).await?;
    let mut tx = store.read().await?;
    assert!(!tx.client_earnings_totals().await?.iter().any(|(k, _)| k.client_id == q_client));
    Ok(())
}

fn rate_of_eur(rates: &[(Currency, i64)]) -> i64 {
    rates.iter().find(|(c, _)| c.code() == "EUR").map(|(_, r)| *r).expect("EUR rate")
}

/// A payment and its payout on `case`, created at `created_at`, with no decision or earning.
pub(crate) async fn payout_only(tx: &mut Tx, case: &CaseRecord, created_at: Instant) -> TestResult<PayoutRecord> {
    let payment = PaymentRecord {
        id: Uuid::new_v4(),
        case_id: case.id,
        amount_minor: 5_000,
        currency: case.currency,
        paid_at: created_at,
        external_id: None,
        created_at,
        is_overpayment: false,
    };
    tx.insert_payment(&payment).await?;
    let payout = PayoutRecord {
        id: Uuid::new_v4(),
        payment_id: payment.id,
        case_id: case.id,
        collection_partner_id: None,
        success_fee_minor: 1_500,
        platform_fee_minor: 1_000,
        currency: case.currency,
        created_at,
        commission_status: CommissionStatus::Unpaid,
        commission_paid_at: None,
        fx_usd_per_unit_e8: None,
        fx_rate_date: None,
        cp_invoice_id: None,
    };
    tx.insert_payout(&payout).await?;
    Ok(payout)
}

conformance!(payouts_not_earned_are_the_periods_payouts_on_the_partners_clients_without_its_earning);
async fn payouts_not_earned_are_the_periods_payouts_on_the_partners_clients_without_its_earning(store: Store) -> TestResult {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    // `now` links P, `past` was linked to P (archived since, then linked to Q), `theirs` is Q's only.
    let (now, past, theirs) = (client("Now", t(0)), client("Past", t(0)), client("Theirs", t(0)));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&q).await?;
    for c in [&now, &past, &theirs] {
        tx.insert_client(c, &[]).await?;
    }
    let now_link = link(&p, &now, "now", true, t(0));
    let mut past_link = link(&p, &past, "past", true, t(0));
    let q_past = link(&q, &past, "q-past", true, t(2 * HOUR));
    let q_theirs = link(&q, &theirs, "q-theirs", true, t(0));
    tx.insert_link(&now_link, ACTOR, None).await?;
    tx.insert_link(&past_link, ACTOR, None).await?;
    change_status(&mut tx, &mut past_link, LinkStatus::Archived, t(HOUR)).await?;
    tx.insert_link(&q_past, ACTOR, None).await?;
    tx.insert_link(&q_theirs, ACTOR, None).await?;
    let (now_case, now_case2) = (case(&now, 9001, refshare_core::case::CaseSource::WebApp, t(0)), partner_case(&now, 9002, &p, t(0)));
    let past_case = case(&past, 9003, refshare_core::case::CaseSource::WebApp, t(0));
    let theirs_case = partner_case(&theirs, 9004, &q, t(0));
    for c in [&now_case, &now_case2, &past_case, &theirs_case] {
        tx.insert_case(c).await?;
    }
    let (from, to) = (t(10 * DAY), t(20 * DAY));
    // Earned by P in the period: not listed.
    book(&mut tx, &p, &now_link, &now_case, 1_000, from, from, RevenueStage::Pending, None).await?;
    // Earned by Q only (on the client P had): listed for P.
    let q_earned = book(&mut tx, &q, &q_past, &past_case, 2_000, t(11 * DAY), t(11 * DAY), RevenueStage::Pending, None).await?;
    // Earned by P, then voided: P has an earning on it, so it is not a "did not earn" line.
    let voided = book(&mut tx, &p, &now_link, &now_case2, 3_000, t(12 * DAY), t(12 * DAY), RevenueStage::Pending, None).await?;
    assert!(tx.void_earning(voided.earning.id, t(13 * DAY), "test").await?);
    // Without any earning, in the period (the first at its start), on both of P's clients.
    let at_start = payout_only(&mut tx, &now_case2, from).await?;
    let later = payout_only(&mut tx, &past_case, t(15 * DAY)).await?;
    let same_instant = payout_only(&mut tx, &now_case, t(15 * DAY)).await?;
    // Outside the period (the end is exclusive), or on a client P never had: not listed.
    payout_only(&mut tx, &now_case, from - chrono::Duration::milliseconds(1)).await?;
    payout_only(&mut tx, &now_case, to).await?;
    payout_only(&mut tx, &theirs_case, t(15 * DAY)).await?;
    tx.commit().await?;

    let mut tx = store.read().await?;
    let lines = tx.payouts_not_earned(p.id, from, to).await?;
    let got: Vec<(Uuid, Uuid)> = lines.iter().map(|n| (n.payout_id, n.case_id)).collect();
    let q_payout = q_earned.earning.payout_id;
    let mut tail = vec![(later.id, past_case.id), (same_instant.id, now_case.id)];
    tail.sort(); // same creation instant: by payout id
    let mut expected = vec![(at_start.id, now_case2.id), (q_payout, past_case.id)];
    expected.extend(tail);
    assert_eq!(got, expected);
    // Each line carries its payment's amount, its case and the payout's latest decision
    // (the one Q's earning came from; none on the payouts without a decision).
    let q_line = lines.iter().find(|n| n.payout_id == q_payout).expect("Q's payout");
    assert_eq!((q_line.payment_amount_minor, q_line.case_reference.as_str()), (20_000, past_case.reference.as_str()));
    assert_eq!(q_line.latest.map(|d| (d.partner_id, d.reason)), Some((Some(q.id), Reason::AttributedClient)));
    let plain = lines.iter().find(|n| n.payout_id == at_start.id).expect("a payout without a decision");
    assert_eq!((plain.payment_amount_minor, plain.client_id, plain.case_source), (5_000, now.id, now_case2.source));
    assert!(plain.latest.is_none());
    // Q sees its own client's payout, and not the one it earned.
    let got_q: Vec<Uuid> = tx.payouts_not_earned(q.id, from, to).await?.into_iter().map(|n| n.payout_id).collect();
    assert!(!got_q.contains(&q_payout), "{got_q:?}");
    assert_eq!(got_q.len(), 2, "Q's own client and the client it has now: {got_q:?}");
    Ok(())
}

/// The summary of `ids` (a partner's earnings, live or not) computed in Rust from the rows
/// as stored: per stage and currency the count, the amounts, each row's US cents at its
/// locked rate or else at `rates` (rounded by `convert_minor`), and the platform fee of
/// the payout earnings from their payouts. In the order of `report_summary`.
async fn summary_from_rows(tx: &mut Tx, ids: &[Uuid], rates: &[(Currency, i64)], stages: &[RevenueStage]) -> TestResult<Vec<SummaryGroup>> {
    let rate_of = |c: Currency| if c.code() == "USD" { Some(100_000_000) } else { rates.iter().find(|(x, _)| *x == c).map(|(_, r)| *r) };
    let earnings = tx.earnings_by_ids(ids.iter().copied()).await?;
    let payouts = tx.payouts_by_ids(earnings.iter().map(|e| e.payout_id)).await?;
    let mut groups: Vec<SummaryGroup> = Vec::new();
    for e in earnings.iter().filter(|e| e.voided_at.is_none()) {
        let m = tx.earning_read_model(e.id).await?.expect("stored");
        let Some(stage) = m.stage else { continue };
        if !stages.is_empty() && !stages.contains(&stage) {
            continue;
        }
        let fee = payouts.iter().find(|p| p.id == e.payout_id).expect("payout").platform_fee_minor;
        let rate = m.fx_usd_per_unit_e8.or(rate_of(e.currency));
        let usd = rate.map(|r| convert_minor(e.amount_minor, e.currency.exponent(), r, 2).unwrap());
        let pusd = match e.kind {
            EarningKind::Payout => rate.map(|r| convert_minor(fee, e.currency.exponent(), r, 2).unwrap()),
            _ => Some(0),
        };
        let g = SummaryGroup::of(&mut groups, stage, e.currency);
        g.count += 1;
        g.amount_minor += e.amount_minor;
        g.usd_minor += usd.unwrap_or(0);
        g.usd_missing += i64::from(usd.is_none());
        g.platform_usd_minor += pusd.unwrap_or(0);
        g.platform_usd_missing += i64::from(pusd.is_none());
    }
    groups.sort_by(|a, b| (a.stage.as_str(), a.currency.code()).cmp(&(b.stage.as_str(), b.currency.code())));
    Ok(groups)
}

/// The stored estimate totals (and month estimates, migration 0033) equal the rows
/// converted at the rates they hold (what `reconcile` proves).
async fn assert_estimates_prove(store: &Store) -> TestResult {
    let mut tx = store.read().await?;
    assert_eq!(tx.estimate_totals().await?, tx.estimate_totals_from_rows().await?, "estimate totals against the rows");
    assert_eq!(tx.month_estimates().await?, tx.month_estimates_from_rows().await?, "month estimates against the rows");
    assert_eq!(tx.month_totals().await?, tx.month_totals_from_rows().await?, "month totals against the rows");
    assert_eq!(tx.client_earnings_totals().await?, tx.client_earnings_totals_from_rows().await?, "client totals against the rows");
    Ok(())
}

conformance!(estimate_totals_answer_the_summary_exactly_across_writes_and_rate_loads);
/// With the estimate totals built (migration 0025), the unfiltered summary reads them for
/// the estimates and still equals the per-row sum at the current rate: after writes at the
/// rate they were built at (new estimates, a void, a rate locked), savepoints rolled back,
/// a re-base at a new rate and writes after it; a read at other rates falls back to the
/// rows and is exact too.
async fn estimate_totals_answer_the_summary_exactly_across_writes_and_rate_loads(store: Store) -> TestResult {
    let w = world(&store).await?;
    let (eur, jpy, sek) = (currency("EUR"), currency("JPY"), currency("SEK"));
    // JPY has no rate: its estimates count as missing figures.
    let r1 = [(eur, 108_123_457)];
    let mut ids: Vec<Uuid> = w.mine.iter().map(|e| e.id).collect();
    let all = ReportFilter::default();
    let check = |ids: Vec<Uuid>, rates: Vec<(Currency, i64)>, stages: Vec<RevenueStage>| {
        let store = store.clone();
        let pid = w.p.id;
        async move {
            let mut tx = store.read().await?;
            let f = ReportFilter { stages: stages.clone(), ..Default::default() };
            let got = tx.report_summary(pid, &f, &rates).await?;
            let want = summary_from_rows(&mut tx, &ids, &rates, &stages).await?;
            assert_eq!(got, want, "rates {rates:?}, stages {stages:?}");
            // The client list's earnings per client (kept, migration 0040) too.
            let clients = tx.clients_of_partner_earnings(pid).await?.iter().map(|c| c.id).collect::<Vec<_>>();
            let got = tx.partner_client_earnings_usd(pid, &clients, &rates).await?;
            assert_eq!(got, tx.partner_client_earnings_usd_from_rows(pid, &clients, &rates).await?, "client earnings at {rates:?}");
            TestResult::Ok(())
        }
    };
    // Not built yet: the rows are aggregated.
    let mut tx = store.read().await?;
    assert!(tx.estimate_rates().await?.iter().all(|r| !r.built));
    drop(tx);
    check(ids.clone(), r1.to_vec(), vec![]).await?;

    // Built for EUR and JPY at today's rates (SEK, Q's currency, is left unbuilt).
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(eur, Some(108_123_457)), (jpy, None)]).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    let cache = tx.estimate_cache_of_partner(w.p.id, &[]).await?;
    assert!(cache.rows.iter().any(|(k, _)| k.currency == eur) && cache.rows.iter().any(|(k, _)| k.currency == jpy), "{cache:?}");
    assert!(cache.rates.iter().any(|r| r.currency == sek && !r.built));
    drop(tx);
    check(ids.clone(), r1.to_vec(), vec![]).await?;
    check(ids.clone(), r1.to_vec(), vec![RevenueStage::Pending, RevenueStage::Paid]).await?;
    assert_estimates_prove(&store).await?;

    // Writes at that rate: new estimates in both currencies, one voided, one locked, and a
    // payment undone by a savepoint.
    let mut tx = store.begin().await?;
    let pl = tx.links_of_partner(w.p.id).await?.remove(0);
    let eur_case = w.p_case.clone();
    for k in 0..3 {
        let b = book(&mut tx, &w.p, &pl, &eur_case, 7_777 + k, t(50 * DAY), t(50 * DAY + k), RevenueStage::Pending, None).await?;
        ids.push(b.earning.id);
    }
    tx.savepoint(refshare_store::Savepoint::SharedPayment).await?;
    book(&mut tx, &w.p, &pl, &eur_case, 1_234_567, t(51 * DAY), t(51 * DAY), RevenueStage::Paid, None).await?;
    tx.rollback_to_savepoint(refshare_store::Savepoint::SharedPayment).await?;
    let estimate = w.mine.iter().enumerate().find(|(i, _)| i % 4 != 0 && i % 5 != 4).map(|(_, e)| e.clone()).expect("an EUR estimate");
    assert!(tx.void_earning(estimate.id, t(52 * DAY), "test").await?);
    let m = tx.earning_read_model(estimate.id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { stage: None, ..m }).await?;
    let to_lock =
        w.mine.iter().enumerate().find(|(i, e)| i % 4 != 0 && e.id != estimate.id).map(|(_, e)| e.clone()).expect("another estimate");
    let m = tx.earning_read_model(to_lock.id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { fx_usd_per_unit_e8: Some(111_000_000), ..m }).await?;
    tx.commit().await?;
    check(ids.clone(), r1.to_vec(), vec![]).await?;
    assert_estimates_prove(&store).await?;

    // The locked earning's rate must be its payout's for reconcile, but the summary only
    // reads the read model; a new rate is loaded for EUR and JPY: re-based in one
    // transaction, then writes at the new rate.
    let r2 = vec![(eur, 109_000_001), (jpy, 671_234)];
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(eur, Some(109_000_001)), (jpy, Some(671_234))]).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let b = book(&mut tx, &w.p, &pl, &eur_case, 4_321, t(53 * DAY), t(53 * DAY), RevenueStage::ConfirmedPendingInvoice, None).await?;
    ids.push(b.earning.id);
    tx.commit().await?;
    check(ids.clone(), r2.clone(), vec![]).await?;
    check(ids.clone(), r2.clone(), vec![RevenueStage::ConfirmedPendingInvoice]).await?;
    assert_estimates_prove(&store).await?;
    // A read at other rates (a stale or a newer day) aggregates the rows instead: exact.
    check(ids.clone(), r1.to_vec(), vec![]).await?;
    check(ids.clone(), vec![(eur, 109_000_001)], vec![]).await?;
    // Q's summary (SEK, never built) is the rows too; nothing of P's shows there.
    let mut tx = store.read().await?;
    let q = tx.report_summary(w.q.id, &all, &r2).await?;
    let want = summary_from_rows(&mut tx, &w.theirs.iter().map(|e| e.id).collect::<Vec<_>>(), &r2, &[]).await?;
    assert_eq!(q, want);
    Ok(())
}

conformance!(earnings_carry_their_payouts_platform_fee_and_a_corrupted_estimate_row_is_found);
/// Every earning written by the store carries its payout's platform fee (migration 0025);
/// the reads `reconcile` compares find a wrong fee and a corrupted estimate totals row.
async fn earnings_carry_their_payouts_platform_fee_and_a_corrupted_estimate_row_is_found(store: Store) -> TestResult {
    let w = world(&store).await?;
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(currency("EUR"), Some(108_000_000)), (currency("JPY"), None), (currency("SEK"), Some(9_500_000))]).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_eq!(tx.platform_fee_mismatch().await?, None);
    let earnings = tx.earnings_by_ids(w.mine.iter().map(|e| e.id)).await?;
    let payouts = tx.payouts_by_ids(earnings.iter().map(|e| e.payout_id)).await?;
    assert_eq!(payouts.len(), w.mine.len());
    drop(tx);
    assert_estimates_prove(&store).await?;

    let mut tx = store.begin().await?;
    tx.corrupt_earning_platform_fee(w.mine[3].id, Some(1)).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    let got = tx.platform_fee_mismatch().await?;
    assert_eq!(got.map(|(id, stored, _)| (id, stored)), Some((w.mine[3].id, Some(1))));
    drop(tx);
    let fee = payouts.iter().find(|p| p.id == w.mine[3].payout_id).expect("its payout").platform_fee_minor;
    let mut tx = store.begin().await?;
    tx.corrupt_earning_platform_fee(w.mine[3].id, Some(fee)).await?;
    tx.commit().await?;

    let mut tx = store.read().await?;
    let (key, totals) = tx.estimate_totals().await?.into_iter().find(|(k, _)| k.partner_id == w.p.id).expect("P has estimates");
    drop(tx);
    let mut tx = store.begin().await?;
    tx.corrupt_estimate_totals(key, refshare_store::Totals { usd_minor: totals.usd_minor + 1, ..totals }).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_ne!(tx.estimate_totals().await?, tx.estimate_totals_from_rows().await?, "a corrupted row is found");
    // The summary at the rates the totals hold reads them (the corruption shows); at
    // another rate it reads the rows.
    let ids: Vec<Uuid> = w.mine.iter().map(|e| e.id).collect();
    let built = [(currency("EUR"), 108_000_000), (currency("SEK"), 9_500_000)];
    let got = tx.report_summary(w.p.id, &ReportFilter::default(), &built).await?;
    let want = summary_from_rows(&mut tx, &ids, &built, &[]).await?;
    let g = |v: &[SummaryGroup]| v.iter().find(|g| g.stage == key.stage && g.currency == key.currency).map(|g| g.usd_minor);
    assert_eq!(g(&got), g(&want).map(|u| u + 1), "read from the estimate totals");
    let other = [(currency("EUR"), 108_000_001), (currency("SEK"), 9_500_000), (currency("JPY"), 670_000)];
    assert_eq!(tx.report_summary(w.p.id, &ReportFilter::default(), &other).await?, summary_from_rows(&mut tx, &ids, &other, &[]).await?);
    Ok(())
}

conformance!(
    a_writer_converts_its_estimates_at_the_rate_a_concurrent_rebase_sets,
    sqlite: #[ignore = "one writer connection: a write and a re-base never overlap on SQLite"]
);
/// PostgreSQL: a writer whose estimate is queued when a re-base of its currency runs waits
/// for the re-base at its commit (the rate row is locked) and converts at the new rate, so
/// the estimate totals stay the rows at the rate they name.
async fn a_writer_converts_its_estimates_at_the_rate_a_concurrent_rebase_sets(store: Store) -> TestResult {
    let w = world(&store).await?;
    let eur = currency("EUR");
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(eur, Some(108_000_000))]).await?;
    tx.commit().await?;
    // A writer books an estimate and has not committed.
    let mut a = store.begin().await?;
    let pl = a.links_of_partner(w.p.id).await?.remove(0);
    book(&mut a, &w.p, &pl, &w.p_case, 3_333, t(60 * DAY), t(60 * DAY), RevenueStage::Pending, None).await?;
    // A rate load re-bases EUR and has not committed.
    let mut b = store.begin().await?;
    b.rebuild_estimates(&[(eur, Some(109_999_999))]).await?;
    let a_commit = tokio::spawn(async move { a.commit().await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!a_commit.is_finished(), "the writer's commit waits for the re-base");
    b.commit().await?;
    a_commit.await??;
    let mut tx = store.read().await?;
    let rates = tx.estimate_rates().await?;
    assert_eq!(rates.iter().find(|r| r.currency == eur).map(|r| (r.built, r.rate_e8)), Some((true, Some(109_999_999))));
    drop(tx);
    assert_estimates_prove(&store).await?;
    Ok(())
}

conformance!(report_parts_show_the_partners_decision_its_link_and_the_cp_invoice);
/// `Tx::report_parts` (the row parts of a reporting page in one statement): each part is
/// its record's; the decision shown is the earning's own, else the one of the earning it
/// corrects, else the partner's latest on the payout — never another partner's, not even
/// one decided later on the same payout, nor another partner's own — with its link's
/// external tenant id (empty without a link); the payout's CP invoice status, or
/// `NotInvoiced` without one.
async fn report_parts_show_the_partners_decision_its_link_and_the_cp_invoice(store: Store) -> TestResult {
    let (p, q) = (partner("P", t(0)), partner("Q", t(0)));
    let (pc, qc) = (client("Nordlys Fiskeri", t(0)), client("Nordic Trawl", t(0)));
    let (pl, ql) = (link(&p, &pc, "tenant-p", true, t(0)), link(&q, &qc, "tenant-q", true, t(0)));
    let cp = collection_partner("Nordic Recovery", t(0));
    let mut tx = store.begin().await?;
    insert_linked(&mut tx, &p, &pc, &pl).await?;
    insert_linked(&mut tx, &q, &qc, &ql).await?;
    tx.insert_collection_partner(&cp).await?;
    let case = CaseRecord { debtor_name: "Jens Jensen".into(), ..partner_case(&pc, 9001, &p, t(HOUR)) };
    let q_case = partner_case(&qc, 9002, &q, t(HOUR));
    tx.insert_case(&case).await?;
    tx.insert_case(&q_case).await?;

    // `own`: its own decision, on a payout the platform invoiced (paid).
    let own = book(&mut tx, &p, &pl, &case, 1_000, t(DAY), t(DAY), RevenueStage::Paid, Some(110_000_000)).await?.earning;
    let payout = tx.payouts_by_ids([own.payout_id]).await?.remove(0);
    let invoice = CpInvoiceRecord {
        id: Uuid::new_v4(),
        collection_partner_id: cp.id,
        period: "2024-03".into(),
        currency: case.currency,
        amount_minor: 100,
        status: CpInvoiceStatus::PaymentReceived,
        created_at: t(DAY),
        paid_at: Some(t(DAY)),
        due_at: Some(t(2 * DAY)),
    };
    tx.insert_cp_invoice(&invoice).await?;
    assert!(tx.set_payout_cp_invoice(payout.id, invoice.id).await?);
    // `adjusted`: no decision of its own; it corrects `own`.
    let adjusted = EarningRecord {
        id: Uuid::new_v4(),
        decision_id: None,
        kind: EarningKind::Adjustment,
        corrects_id: Some(own.id),
        amount_minor: -250,
        created_at: t(2 * DAY),
        note: Some("fee terms".into()),
        ..own.clone()
    };
    tx.insert_earning(&adjusted).await?;

    // `later`: booked with a decision; then P decides again on the payout (without a
    // link), and after that Q does. `clawback` has no decision and corrects nothing.
    let later = book(&mut tx, &p, &pl, &case, 2_000, t(3 * DAY), t(3 * DAY), RevenueStage::Pending, None).await?.earning;
    let first = tx.decision_of_payout(later.payout_id).await?.expect("the booked decision");
    let again = DecisionRecord {
        id: Uuid::new_v4(),
        supersedes_id: Some(first.id),
        link_id: None,
        link_status: None,
        reason: Reason::PartnerChannel,
        referral_fee_bps: Some(Bps(777)),
        decided_at: t(4 * DAY),
        ..first.clone()
    };
    tx.insert_decision(&again).await?;
    let theirs = DecisionRecord {
        id: Uuid::new_v4(),
        supersedes_id: Some(again.id),
        partner_id: Some(q.id),
        link_id: Some(ql.id),
        reason: Reason::NonAttributedOtherChannel,
        referral_fee_bps: None,
        decided_at: t(5 * DAY),
        ..first.clone()
    };
    tx.insert_decision(&theirs).await?;
    let clawback = EarningRecord {
        id: Uuid::new_v4(),
        decision_id: None,
        kind: EarningKind::Clawback,
        corrects_id: None,
        amount_minor: -2_000,
        created_at: t(6 * DAY),
        ..later.clone()
    };
    tx.insert_earning(&clawback).await?;
    // Q's own earning with Q's own decision.
    let q_earning = book(&mut tx, &q, &ql, &q_case, 500, t(DAY), t(DAY), RevenueStage::Pending, None).await?.earning;
    tx.commit().await?;

    let mut tx = store.read().await?;
    let ids = [own.id, adjusted.id, later.id, clawback.id, q_earning.id, Uuid::new_v4()];
    let parts: std::collections::HashMap<Uuid, ReportParts> =
        tx.report_parts(p.id, ids).await?.into_iter().map(|x| (x.earning_id, x)).collect();
    assert_eq!(parts.len(), 5, "one entry per existing earning, none for an unknown id");
    let own_decision =
        DecisionPart { id: own.decision_id.unwrap(), reason: Reason::AttributedClient, referral_fee_bps: Some(pl.referral_fee_bps) };
    let shown = |id: Uuid| (parts[&id].decision.clone(), parts[&id].external_tenant_id.clone(), parts[&id].payout.cp_invoice);
    assert_eq!(shown(own.id), (Some(own_decision.clone()), "tenant-p".to_string(), CpInvoiceStatus::PaymentReceived));
    assert_eq!(shown(adjusted.id), (Some(own_decision), "tenant-p".to_string(), CpInvoiceStatus::PaymentReceived));
    let later_decision =
        DecisionPart { id: later.decision_id.unwrap(), reason: Reason::AttributedClient, referral_fee_bps: Some(pl.referral_fee_bps) };
    assert_eq!(shown(later.id), (Some(later_decision), "tenant-p".to_string(), CpInvoiceStatus::NotInvoiced));
    let again_part = DecisionPart { id: again.id, reason: Reason::PartnerChannel, referral_fee_bps: Some(Bps(777)) };
    assert_eq!(shown(clawback.id), (Some(again_part), String::new(), CpInvoiceStatus::NotInvoiced), "P's latest, not Q's later one");
    assert_eq!(shown(q_earning.id), (None, String::new(), CpInvoiceStatus::NotInvoiced), "Q's decision never shows to P");

    // The other parts are their records'.
    let paid = tx.payouts_by_ids([own.payout_id]).await?.remove(0);
    let x = &parts[&own.id];
    assert_eq!(
        x.payout,
        PayoutPart {
            platform_fee_minor: paid.platform_fee_minor,
            currency: paid.currency,
            commission_status: paid.commission_status,
            cp_invoice: CpInvoiceStatus::PaymentReceived,
            fx_usd_per_unit_e8: Some(110_000_000),
        }
    );
    assert_eq!(x.payment, PaymentPart { amount_minor: 10_000, currency: case.currency, paid_at: t(DAY) });
    assert_eq!(
        x.case,
        CasePart {
            id: case.id,
            reference: case.reference.clone(),
            debtor_name: "Jens Jensen".into(),
            amount_minor: case.amount_minor,
            currency: case.currency
        }
    );
    assert_eq!(x.client, ClientPart { id: pc.id, company_name: "Nordlys Fiskeri".into() });
    assert_eq!(parts[&q_earning.id].client, ClientPart { id: qc.id, company_name: "Nordic Trawl".into() });
    Ok(())
}
