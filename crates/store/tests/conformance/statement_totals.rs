//! The kept statement totals and estimates (migration 0037) behind the statement page:
//! read through `kept_statement_totals_of_month`, they equal the reference aggregate over
//! the month's rows (`statement_totals`) month by month, on generated earnings (currencies
//! with exponents 0, 2 and 3, one without a rate, locked and estimated, clawbacks and
//! other negative amounts, months' first and last milliseconds, before 1970) across voids,
//! stage moves, rate locks, savepoints, a client's deletion and rate loads; they answer
//! whenever the estimates are built at the page's rates, and not otherwise; and the stored
//! rows equal the aggregates `reconcile` proves them against, which find a corrupted row.

use refshare_core::ledger::EarningKind;
use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use refshare_core::Instant;
use refshare_store::{EarningReadModel, EarningRecord, Savepoint, StatementSums, StatementTotal, Store, UtcMonth};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};
use crate::reporting::{book, one_locked_one_estimate};

/// The fourteen months from 2024-01 (the generated creation instants fall in them), and
/// the months around the epoch.
fn months() -> Vec<UtcMonth> {
    let mut out: Vec<UtcMonth> = (0..14).map(|i| UtcMonth::new(2024 + i / 12, (i % 12 + 1) as u32).expect("a month")).collect();
    for (y, m) in [(1969, 11), (1969, 12), (1970, 1)] {
        out.push(UtcMonth::new(y, m).expect("a month"));
    }
    out
}

fn ms_of(t: Instant) -> i64 {
    t.timestamp_millis()
}

fn at(ms: i64) -> Instant {
    chrono::DateTime::from_timestamp_millis(ms).expect("in range")
}

/// Every month's totals from the kept rows equal the reference aggregate at `rates`; the
/// kept rows answer (`Some`) exactly when `kept` says; the stored rows prove. Returns the
/// months' totals.
async fn assert_statements(store: &Store, partner: Uuid, rates: &[(Currency, i64)], kept: bool) -> TestResult<Vec<Vec<StatementTotal>>> {
    let mut tx = store.read().await?;
    let mut out = Vec::new();
    for m in months() {
        let want = tx.statement_totals(partner, m.start(), m.end(), rates).await?;
        let got = tx.kept_statement_totals_of_month(partner, m.start(), m.end(), rates).await?;
        if kept {
            assert_eq!(got.as_ref(), Some(&want), "month {m} at {rates:?}");
        } else if let Some(got) = &got {
            // Months without estimates of an unbuilt currency still answer, exactly.
            assert_eq!(got, &want, "month {m} at {rates:?}");
        }
        assert_eq!(tx.statement_totals_from_kept(partner, m.start(), m.end(), rates).await?, want, "month {m} at {rates:?}");
        out.push(want);
    }
    // Not one month: the rows.
    let (from, to) = (months()[0].start(), months()[2].end());
    assert_eq!(tx.kept_statement_totals_of_month(partner, from, to, rates).await?, None);
    assert_eq!(tx.statement_totals_from_kept(partner, from, to, rates).await?, tx.statement_totals(partner, from, to, rates).await?);
    assert_eq!(tx.kept_statement_totals().await?, tx.kept_statement_totals_from_rows().await?, "statement totals against the rows");
    assert_eq!(
        tx.kept_statement_estimates().await?,
        tx.kept_statement_estimates_from_rows().await?,
        "statement estimates against the rows"
    );
    Ok(out)
}

/// A live clawback of `amount_minor` on `of`'s payout, created at `created`, in `stage`.
async fn clawback(
    tx: &mut refshare_store::Tx,
    of: &EarningRecord,
    amount_minor: i64,
    created: Instant,
    stage: RevenueStage,
) -> TestResult<EarningRecord> {
    let claw = EarningRecord {
        id: Uuid::new_v4(),
        kind: EarningKind::Clawback,
        amount_minor,
        decision_id: None,
        created_at: created,
        ..of.clone()
    };
    tx.insert_earning(&claw).await?;
    let m = tx.earning_read_model(of.id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { earning_id: claw.id, stage: Some(stage), ..m }).await?;
    Ok(claw)
}

conformance!(kept_statement_totals_answer_the_statement_exactly_across_writes_and_rate_loads);
async fn kept_statement_totals_answer_the_statement_exactly_across_writes_and_rate_loads(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    let TwoPartners { p, q, qc, pl, ql, p_cases, q_case } = two_partners_with_cases(&mut tx, 9400).await?;
    // Creation instants: random ones over the fourteen months, plus months' first and last
    // milliseconds, and around the epoch (the last millisecond of 1969 and before).
    let mut g = Lcg(11);
    let mut dates = month_dates(&mut g, 80, &months());
    dates.extend([-1, 0, -1_500, -20 * DAY - 7, ms_of(months()[15].start())]);
    let stages = [RevenueStage::Pending, RevenueStage::ConfirmedPendingInvoice, RevenueStage::Paid];
    let mut mine: Vec<EarningRecord> = Vec::new();
    for (i, created) in dates.iter().enumerate() {
        let case = &p_cases[g.below(p_cases.len() as i64) as usize];
        let amount = match g.below(3) {
            0 => 1 + g.below(1_000),
            1 => 1 + g.below(10_000_000),
            _ => 1 + g.below(1_000_000_000_000),
        };
        let locked = (g.below(3) == 0).then(|| 1 + g.below(100_000_000));
        let created = at(*created);
        let b = book(&mut tx, &p, &pl, case, amount, created, created, stages[i % 3], locked).await?;
        mine.push(b.earning);
    }
    // Clawbacks (negative, rounded half to even on the other side): on the same instant as
    // their earning, and in a later month; one in a month of its own before 1970.
    for (k, i) in [0usize, 5, 11, 17, 23].into_iter().enumerate() {
        let e = mine[i].clone();
        let created = if k % 2 == 0 { e.created_at } else { at(ms_of(e.created_at) + 40 * DAY) };
        clawback(&mut tx, &e, -(e.amount_minor / 3 + 1), created, RevenueStage::Paid).await?;
    }
    let pre = mine.iter().find(|e| ms_of(e.created_at) == -1).expect("the last millisecond of 1969").clone();
    clawback(&mut tx, &pre, -12_345, at(-1), RevenueStage::ConfirmedPendingInvoice).await?;
    // A negative adjustment.
    let adj = EarningRecord {
        id: Uuid::new_v4(),
        amount_minor: -12_345,
        kind: EarningKind::Adjustment,
        corrects_id: Some(mine[1].id),
        created_at: at(ms_of(mine[1].created_at) + 1),
        ..mine[1].clone()
    };
    tx.insert_earning(&adj).await?;
    let m1 = tx.earning_read_model(mine[1].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { earning_id: adj.id, ..m1 }).await?;
    for i in 0..6 {
        let created = months()[i as usize].start();
        book(&mut tx, &q, &ql, &q_case, 500 + i, created, created, RevenueStage::Pending, None).await?;
    }
    tx.commit().await?;

    let (eur, jpy, sek, usd, kwd) = (currency("EUR"), currency("JPY"), currency("SEK"), currency("USD"), currency("KWD"));
    // Nothing built: the rows answer every month with estimates. SEK has no rate.
    let r1 = vec![(eur, 108_123_457), (jpy, 671_234), (kwd, 325_000_001)];
    let before = assert_statements(&store, p.id, &r1, false).await?;
    assert!(before.iter().filter(|m| !m.is_empty()).count() >= 14, "the months have earnings: {before:?}");
    assert!(before.iter().flatten().any(|t| t.usd_missing > 0), "some SEK estimate is missing its rate");
    assert!(before.iter().flatten().any(|t| t.clawbacks > 0), "some clawbacks");
    assert!(!before[15].is_empty(), "1969-12 has earnings");

    // Built at r1, SEK without a rate: the kept rows answer every month.
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[
        (eur, Some(108_123_457)),
        (jpy, Some(671_234)),
        (kwd, Some(325_000_001)),
        (sek, None),
        (usd, Some(100_000_000)),
    ])
    .await?;
    tx.commit().await?;
    assert_eq!(assert_statements(&store, p.id, &r1, true).await?, before);
    // Read at other rates than the built ones: the rows, exact too.
    assert_statements(&store, p.id, &[(eur, 108_123_458), (jpy, 671_234), (sek, 9_512_345)], false).await?;

    // Writes: new estimates, one undone by a savepoint (and a clawback with it), a void, a
    // stage move, a rate locked, and Q's client deleted.
    let mut tx = store.begin().await?;
    for k in 0..3 {
        let created = at(ms_of(months()[k + 2].start()) + 77);
        book(&mut tx, &p, &pl, &p_cases[k], 7_777 + k as i64, created, created, RevenueStage::Pending, None).await?;
    }
    tx.savepoint(Savepoint::SharedPayment).await?;
    let gone = book(&mut tx, &p, &pl, &p_cases[0], 1_234_567, months()[4].start(), months()[4].start(), RevenueStage::Paid, None).await?;
    clawback(&mut tx, &gone.earning, -1_000, months()[4].start(), RevenueStage::Paid).await?;
    let m = tx.earning_read_model(mine[3].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { stage: Some(RevenueStage::Paid), ..m }).await?;
    tx.rollback_to_savepoint(Savepoint::SharedPayment).await?;
    let mut estimates: Vec<&EarningRecord> = Vec::new();
    for e in &mine {
        if tx.earning_read_model(e.id).await?.expect("stored").fx_usd_per_unit_e8.is_none() {
            estimates.push(e);
        }
    }
    assert!(estimates.len() > 4, "the generator made estimates");
    assert!(tx.void_earning(estimates[0].id, t(4_000), "test").await?);
    let m = tx.earning_read_model(estimates[0].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { stage: None, ..m }).await?;
    let m = tx.earning_read_model(estimates[1].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { fx_usd_per_unit_e8: Some(111_000_000), ..m }).await?;
    let m = tx.earning_read_model(estimates[2].id).await?.expect("stored");
    let moved = if m.stage == Some(RevenueStage::Paid) { RevenueStage::Pending } else { RevenueStage::Paid };
    tx.set_earning_read_model(&EarningReadModel { stage: Some(moved), ..m }).await?;
    tx.delete_client_cascade(qc.id).await?;
    tx.commit().await?;
    let after = assert_statements(&store, p.id, &r1, true).await?;
    assert_ne!(after, before, "the writes show");
    let q_months = assert_statements(&store, q.id, &r1, true).await?;
    assert!(q_months.iter().all(|m| m.is_empty()), "Q's earnings are gone");

    // A rate load re-bases (SEK gets a rate, EUR a new one, JPY left as built), then
    // writes at the new rates, including in a month before 1970.
    let r2 = vec![(eur, 109_000_001), (jpy, 671_234), (sek, 9_400_000), (kwd, 325_000_001)];
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(eur, Some(109_000_001)), (sek, Some(9_400_000))]).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    book(&mut tx, &p, &pl, &p_cases[1], 4_321, months()[13].start(), months()[13].start(), RevenueStage::Pending, None).await?;
    book(&mut tx, &p, &pl, &p_cases[2], 999_999, at(-2 * DAY), at(-2 * DAY), RevenueStage::Paid, None).await?;
    tx.commit().await?;
    let now = assert_statements(&store, p.id, &r2, true).await?;
    assert!(now.iter().flatten().all(|t| t.usd_missing == 0), "every currency has a rate");
    assert_statements(&store, p.id, &r1, false).await?;
    Ok(())
}

conformance!(a_corrupted_statement_row_is_found);
/// `reconcile`'s reads tell a wrong statement totals row and a wrong statement estimates
/// row, and the page's read uses them (the corruption shows).
async fn a_corrupted_statement_row_is_found(store: Store) -> TestResult {
    let (p, month, rates) = one_locked_one_estimate(&store, 9600).await?;
    let mut tx = store.read().await?;
    let want = tx.statement_totals(p.id, month.start(), month.end(), &rates).await?;
    assert_eq!(want.len(), 1);
    assert_eq!((want[0].count, want[0].usd_minor), (2, 1_100 + 2_160));
    assert_eq!(tx.kept_statement_totals_of_month(p.id, month.start(), month.end(), &rates).await?, Some(want.clone()));
    let (key, totals) = tx.kept_statement_totals().await?.into_iter().find(|(k, _)| k.locked).expect("the locked row");
    assert_eq!((key.month, totals.count, totals.usd_minor), (month, 1, 1_100));
    let (ekey, etotals) = tx.kept_statement_estimates().await?.into_iter().next().expect("the estimate row");
    assert_eq!((ekey.month, etotals.count, etotals.usd_minor), (month, 1, 2_160));
    drop(tx);

    let mut tx = store.begin().await?;
    tx.corrupt_statement_totals(key, StatementSums { usd_minor: totals.usd_minor + 1, ..totals }).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_ne!(tx.kept_statement_totals().await?, tx.kept_statement_totals_from_rows().await?, "a corrupted statement totals row is found");
    let got = tx.statement_totals_from_kept(p.id, month.start(), month.end(), &rates).await?;
    assert_eq!(got[0].usd_minor, want[0].usd_minor + 1, "the page reads the kept totals");
    drop(tx);
    let mut tx = store.begin().await?;
    tx.corrupt_statement_totals(key, totals).await?;
    tx.corrupt_statement_estimates(ekey, StatementSums { usd_minor: etotals.usd_minor - 1, ..etotals }).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_eq!(tx.kept_statement_totals().await?, tx.kept_statement_totals_from_rows().await?);
    assert_ne!(
        tx.kept_statement_estimates().await?,
        tx.kept_statement_estimates_from_rows().await?,
        "a corrupted statement estimates row is found"
    );
    let got = tx.statement_totals_from_kept(p.id, month.start(), month.end(), &rates).await?;
    assert_eq!(got[0].usd_minor, want[0].usd_minor - 1, "the page reads the kept estimates");
    Ok(())
}
