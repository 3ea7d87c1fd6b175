//! The month totals and month estimates (migration 0033) behind the dashboard's chart:
//! read through `earnings_per_month_from_totals`, they equal the reference aggregate over
//! the rows (`earnings_per_month`) month by month, on generated earnings (several
//! currencies and exponents, locked and estimated, negative amounts, months' first and
//! last milliseconds, before 1970) across voids, rate locks, savepoints, a client's
//! deletion and rate loads; and the stored rows equal the aggregates `reconcile` proves them
//! against, which find a corrupted row.

use refshare_core::ledger::EarningKind;
use refshare_core::money::Currency;
use refshare_core::stage::RevenueStage;
use refshare_core::Instant;
use refshare_store::{EarningReadModel, EarningRecord, MonthTotal, Savepoint, Store, Totals, UtcMonth};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};
use crate::reporting::{book, one_locked_one_estimate};

/// The fourteen months from 2024-01 (the generated payment dates fall in them).
fn months() -> Vec<UtcMonth> {
    (0..14).map(|i| UtcMonth::new(2024 + i / 12, (i % 12 + 1) as u32).expect("a month")).collect()
}

/// The chart from the month totals equals the reference aggregate at `rates`, for the
/// fourteen months and for a few of them out of order, and the stored rows prove.
async fn assert_chart(store: &Store, partner: Uuid, rates: &[(Currency, i64)]) -> TestResult<Vec<MonthTotal>> {
    let mut tx = store.read().await?;
    let all = months();
    let picked = vec![all[5], all[0], all[13], UtcMonth::new(1969, 12).expect("a month"), all[5]];
    let mut first = Vec::new();
    for ms in [all, picked] {
        let bounds: Vec<(Instant, Instant)> = ms.iter().map(|m| (m.start(), m.end())).collect();
        let got = tx.earnings_per_month_from_totals(partner, &ms, rates).await?;
        let want = tx.earnings_per_month(partner, &bounds, rates).await?;
        assert_eq!(got, want, "months {ms:?} at {rates:?}");
        if first.is_empty() {
            first = got;
        }
    }
    assert_eq!(tx.month_totals().await?, tx.month_totals_from_rows().await?, "month totals against the rows");
    assert_eq!(tx.month_estimates().await?, tx.month_estimates_from_rows().await?, "month estimates against the rows");
    Ok(first)
}

conformance!(month_totals_answer_the_chart_exactly_across_writes_and_rate_loads);
async fn month_totals_answer_the_chart_exactly_across_writes_and_rate_loads(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    let TwoPartners { p, q, qc, pl, ql, p_cases, q_case } = two_partners_with_cases(&mut tx, 9100).await?;
    // Payment dates: random ones over the fourteen months, plus months' first and last
    // milliseconds and the last one before 1970.
    let mut g = Lcg(7);
    let mut dates = month_dates(&mut g, 70, &months());
    dates.push(-1);
    dates.push(0);
    let stages = [RevenueStage::Pending, RevenueStage::ConfirmedPendingInvoice, RevenueStage::Paid];
    let mut mine: Vec<EarningRecord> = Vec::new();
    for (i, paid) in dates.iter().enumerate() {
        let case = &p_cases[g.below(p_cases.len() as i64) as usize];
        let amount = match g.below(3) {
            0 => 1 + g.below(1_000),
            1 => 1 + g.below(10_000_000),
            _ => 1 + g.below(1_000_000_000_000),
        };
        let locked = (g.below(3) == 0).then(|| 1 + g.below(100_000_000));
        let paid = chrono::DateTime::from_timestamp_millis(*paid).expect("in range");
        let b = book(&mut tx, &p, &pl, case, amount, paid, t(i as i64), stages[i % 3], locked).await?;
        mine.push(b.earning);
    }
    // A negative adjustment on the first payout (rounded half to even on the other side).
    let adj = EarningRecord {
        id: Uuid::new_v4(),
        amount_minor: -12_345,
        kind: EarningKind::Adjustment,
        corrects_id: Some(mine[0].id),
        created_at: t(1_000),
        ..mine[0].clone()
    };
    tx.insert_earning(&adj).await?;
    let m0 = tx.earning_read_model(mine[0].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { earning_id: adj.id, ..m0 }).await?;
    for i in 0..6 {
        book(&mut tx, &q, &ql, &q_case, 500 + i, months()[i as usize].start(), t(i), RevenueStage::Pending, None).await?;
    }
    tx.commit().await?;

    let (eur, jpy, sek, kwd) = (currency("EUR"), currency("JPY"), currency("SEK"), currency("KWD"));
    // Not built: every estimate from the rows. JPY has no rate: its estimates are missing.
    let r1 = vec![(eur, 108_123_457), (sek, 9_512_345), (kwd, 325_000_001)];
    let chart = assert_chart(&store, p.id, &r1).await?;
    assert!(chart.iter().all(|m| m.count > 0), "every month has earnings: {chart:?}");
    assert!(chart.iter().any(|m| m.usd_missing > 0), "some JPY estimate is missing its rate: {chart:?}");

    // Built at r1 (JPY without a rate, SEK left unbuilt): cached, and the rows for SEK.
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(eur, Some(108_123_457)), (jpy, None), (kwd, Some(325_000_001)), (currency("USD"), Some(100_000_000))]).await?;
    tx.commit().await?;
    assert_eq!(assert_chart(&store, p.id, &r1).await?, chart);
    // Read at other rates than the built ones: the rows, exact too.
    assert_chart(&store, p.id, &[(eur, 108_123_458), (jpy, 671_234)]).await?;

    // Writes: new estimates, one undone by a savepoint, a void, a rate locked, a payment
    // date moved to another month, and Q's client deleted.
    let mut tx = store.begin().await?;
    for k in 0..3 {
        book(&mut tx, &p, &pl, &p_cases[k], 7_777 + k as i64, months()[k + 2].start(), t(2_000 + k as i64), RevenueStage::Pending, None)
            .await?;
    }
    tx.savepoint(Savepoint::SharedPayment).await?;
    book(&mut tx, &p, &pl, &p_cases[0], 1_234_567, months()[4].start(), t(3_000), RevenueStage::Paid, None).await?;
    tx.rollback_to_savepoint(Savepoint::SharedPayment).await?;
    let estimates: Vec<&EarningRecord> = {
        let mut v = Vec::new();
        for e in &mine {
            if tx.earning_read_model(e.id).await?.expect("stored").fx_usd_per_unit_e8.is_none() {
                v.push(e);
            }
        }
        v
    };
    assert!(estimates.len() > 3, "the generator made estimates");
    assert!(tx.void_earning(estimates[0].id, t(4_000), "test").await?);
    let m = tx.earning_read_model(estimates[0].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { stage: None, ..m }).await?;
    let m = tx.earning_read_model(estimates[1].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { fx_usd_per_unit_e8: Some(111_000_000), ..m }).await?;
    let m = tx.earning_read_model(estimates[2].id).await?.expect("stored");
    tx.set_earning_read_model(&EarningReadModel { paid_at: months()[9].start(), ..m }).await?;
    tx.delete_client_cascade(qc.id).await?;
    tx.commit().await?;
    assert_chart(&store, p.id, &r1).await?;
    assert_eq!(assert_chart(&store, q.id, &r1).await?, vec![MonthTotal::default(); 14], "Q's earnings are gone");

    // A rate load re-bases (JPY gets a rate, SEK is built), then writes at the new rates.
    let r2 = vec![(eur, 109_000_001), (jpy, 671_234), (sek, 9_400_000), (kwd, 325_000_001)];
    let mut tx = store.begin().await?;
    tx.rebuild_estimates(&[(eur, Some(109_000_001)), (jpy, Some(671_234)), (sek, Some(9_400_000))]).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    book(&mut tx, &p, &pl, &p_cases[1], 4_321, months()[13].start(), t(5_000), RevenueStage::Pending, None).await?;
    tx.commit().await?;
    let chart = assert_chart(&store, p.id, &r2).await?;
    assert!(chart.iter().all(|m| m.usd_missing == 0), "every currency has a rate: {chart:?}");
    assert_chart(&store, p.id, &r1).await?;
    Ok(())
}

conformance!(a_corrupted_month_row_is_found);
/// `reconcile`'s reads tell a wrong month totals row and a wrong month estimates row, and
/// the chart reads them (the corruption shows).
async fn a_corrupted_month_row_is_found(store: Store) -> TestResult {
    let (p, month, rates) = one_locked_one_estimate(&store, 9300).await?;
    assert_chart(&store, p.id, &rates).await?;
    let mut tx = store.read().await?;
    let want = tx.earnings_per_month(p.id, &[(month.start(), month.end())], &rates).await?;
    assert_eq!(want[0].count, 2);
    let (key, totals) = tx.month_totals().await?.into_iter().find(|(k, _)| k.locked).expect("the locked row");
    assert_eq!((key.month, totals.count, totals.usd_minor), (month, 1, 1_100));
    let (ekey, etotals) = tx.month_estimates().await?.into_iter().next().expect("the estimate row");
    assert_eq!((ekey.month, etotals.count, etotals.usd_minor), (month, 1, 2_160));
    drop(tx);

    let mut tx = store.begin().await?;
    tx.corrupt_month_totals(key, Totals { usd_minor: totals.usd_minor + 1, ..totals }).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_ne!(tx.month_totals().await?, tx.month_totals_from_rows().await?, "a corrupted month totals row is found");
    let got = tx.earnings_per_month_from_totals(p.id, &[month], &rates).await?;
    assert_eq!(got[0].usd_minor, want[0].usd_minor + 1, "the chart reads the month totals");
    drop(tx);
    let mut tx = store.begin().await?;
    tx.corrupt_month_totals(key, totals).await?;
    tx.corrupt_month_estimates(ekey, Totals { count: 2, ..etotals }).await?;
    tx.commit().await?;
    let mut tx = store.read().await?;
    assert_eq!(tx.month_totals().await?, tx.month_totals_from_rows().await?);
    assert_ne!(tx.month_estimates().await?, tx.month_estimates_from_rows().await?, "a corrupted month estimates row is found");
    Ok(())
}
