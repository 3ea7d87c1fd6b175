//! Cases: reference numbers, uniqueness, state updates, and the two paged listings with
//! the partner visibility rule of SPEC §5 (last paragraph).

use refshare_core::case::CaseSource::{self, CsvImport, CustomerApi, WebApp};
use refshare_core::case::Lifecycle;
use refshare_core::link::LinkStatus;
use refshare_core::money::Bps;
use refshare_core::Instant;
use refshare_store::{CaseAssignment, CaseFilter, CaseRecord, ClientRecord, CollectionPartnerRecord, PageReq, Store};
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, on_postgres, TestResult};

fn refs(cases: &[CaseRecord]) -> Vec<&str> {
    cases.iter().map(|c| c.reference.as_str()).collect()
}

fn page(page: u32, size: u32) -> PageReq {
    PageReq { page, size }
}

/// A filter built by setting fields on the default one.
fn by(set: fn(&mut CaseFilter)) -> CaseFilter {
    let mut filter = CaseFilter::default();
    set(&mut filter);
    filter
}

const ALL: PageReq = PageReq { page: 1, size: 1_000 };

conformance!(case_numbers_and_unique_references);
async fn case_numbers_and_unique_references(store: Store) -> TestResult {
    let c = client("Client", t(0));
    let other = client("Other", t(0));
    let mut tx = store.begin().await?;
    assert_eq!(tx.next_case_number().await?, 10_001, "the counter starts after 10000");
    assert_eq!(tx.next_case_number().await?, 10_002);
    tx.insert_client(&c, &[]).await?;
    tx.insert_client(&other, &[]).await?;
    let first = case(&c, 10_001, CaseSource::WebApp, t(HOUR));
    tx.insert_case(&first).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.next_case_number().await?, 10_003, "committed numbers stay taken");
    assert_eq!(tx.case(first.id).await?, Some(first.clone()));
    assert_eq!(tx.case(Uuid::new_v4()).await?, None);
    assert_eq!(tx.case_by_reference("DEB-10001").await?, Some(first.clone()));
    assert_eq!(tx.case_by_reference("DEB-99999").await?, None);
    assert_eq!(tx.case_by_creditor_reference(c.id, "INV-10001").await?, Some(first.clone()));
    assert_eq!(tx.case_by_creditor_reference(other.id, "INV-10001").await?, None, "per client");
    let same_creditor_ref_elsewhere =
        CaseRecord { creditor_reference: "INV-10001".into(), ..case(&other, 10_002, CaseSource::Operator, t(HOUR)) };
    tx.insert_case(&same_creditor_ref_elsewhere).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let duplicate_creditor_ref = CaseRecord { creditor_reference: "INV-10001".into(), ..case(&c, 10_003, CaseSource::WebApp, t(DAY)) };
    assert_conflict(tx.insert_case(&duplicate_creditor_ref).await);
    drop(tx);
    let mut tx = store.begin().await?;
    let duplicate_reference = CaseRecord { creditor_reference: "INV-other".into(), ..case(&c, 10_001, CaseSource::WebApp, t(DAY)) };
    assert_conflict(tx.insert_case(&duplicate_reference).await);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(tx.cases_of_client(c.id).await?, vec![first]);
    assert_eq!(tx.cases_of_client(other.id).await?, vec![same_creditor_ref_elsewhere]);
    Ok(())
}

conformance!(case_state_updates_round_trip);
async fn case_state_updates_round_trip(store: Store) -> TestResult {
    let c = client("Client", t(0));
    let cp = collection_partner("Nordic Recovery", t(0));
    let p = partner("Partner", t(0));
    let original = CaseRecord {
        amount_minor: 9_007_199_254_740_993, // 2^53 + 1: not representable as f64
        currency: currency("JPY"),
        debtor_type: "Private".into(),
        debtor_name: "Jens Jensen".into(),
        ..partner_case(&c, 10_001, &p, t(HOUR))
    };
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_client(&c, &[]).await?;
    tx.insert_collection_partner(&cp).await?;
    tx.insert_case(&original).await?;
    tx.commit().await?;

    let activated = CaseRecord {
        lifecycle: Lifecycle::Active,
        assignment: Some(CaseAssignment { collection_partner_id: cp.id, success_fee_bps: Bps(1_500), platform_share_bps: Bps(0) }),
        updated_at: t(DAY),
        ..original.clone()
    };
    let closed = CaseRecord {
        lifecycle: Lifecycle::Closed,
        close_code: Some("NoPartnerAvailable".into()),
        assignment: None,
        updated_at: t(2 * DAY),
        ..original.clone()
    };
    for next in [activated, closed] {
        let mut tx = store.begin().await?;
        tx.update_case_state(&next).await?;
        tx.commit().await?;
        let mut tx = store.begin().await?;
        assert_eq!(tx.case(original.id).await?, Some(next));
    }
    Ok(())
}

conformance!(partner_cases_follow_the_visibility_rule);
/// What `partner_cases_page` must show: the client's link with this partner is active now,
/// the case was created at or after `linked_at`, and the link is attributed or the case
/// came through this partner's `partner_api`.
async fn partner_cases_follow_the_visibility_rule(store: Store) -> TestResult {
    let (p, q) = (partner("Viewer", t(0)), partner("Rival", t(0)));
    let [a, b, c, d, e, f] = ["Attributed", "Unattributed", "Moved", "Deleted", "Unlinked", "Unarchived"].map(|n| client(n, t(0)));
    let linked = t(DAY);
    let at = |days: i64, ms: i64| t(days * DAY + ms);
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&q).await?;
    for x in [&a, &b, &c, &d, &e, &f] {
        tx.insert_client(x, &[]).await?;
    }
    let mut to_c = link(&p, &c, "c", true, linked);
    let mut to_d = link(&p, &d, "d", true, linked);
    let mut to_f = link(&p, &f, "f", true, linked);
    tx.insert_link(&link(&p, &a, "a", true, linked), ACTOR, None).await?;
    tx.insert_link(&link(&p, &b, "b", false, linked), ACTOR, None).await?;
    for l in [&to_c, &to_d, &to_f] {
        tx.insert_link(l, ACTOR, None).await?;
    }
    change_status(&mut tx, &mut to_c, LinkStatus::Archived, at(3, 0)).await?;
    tx.insert_link(&link(&q, &c, "c", true, at(3, 0)), ACTOR, None).await?;
    change_status(&mut tx, &mut to_d, LinkStatus::Deleted, at(3, 0)).await?;
    change_status(&mut tx, &mut to_f, LinkStatus::Archived, at(3, 0)).await?;
    change_status(&mut tx, &mut to_f, LinkStatus::Active, at(3, 1)).await?;

    // (case, visible to the viewer, why)
    #[rustfmt::skip]
    let rows = [
        (case(&a, 1, WebApp, at(1, -1)), false, "created before linked_at"),
        (case(&a, 2, WebApp, at(1, 0)), true, "created exactly at linked_at"),
        (case(&a, 3, CsvImport, at(2, 3)), true, "attributed link: any source"),
        (partner_case(&a, 4, &q, at(2, 4)), true, "attributed link: even the rival's channel"),
        (case(&b, 5, WebApp, at(2, 5)), false, "unattributed link, other channel"),
        (partner_case(&b, 6, &p, at(2, 6)), true, "unattributed link, own channel"),
        (partner_case(&b, 7, &p, at(1, -7)), false, "own channel, before linked_at"),
        (partner_case(&b, 8, &q, at(2, 8)), false, "unattributed link, rival's channel"),
        (case(&b, 9, CustomerApi, at(2, 9)), false, "unattributed link, client's own API"),
        (case(&c, 10, WebApp, at(2, 10)), false, "link archived now"),
        (case(&c, 11, WebApp, at(4, 11)), false, "link archived now (the rival's case)"),
        (case(&d, 12, WebApp, at(2, 12)), false, "link deleted"),
        (partner_case(&e, 13, &p, at(2, 13)), false, "never linked"),
        (case(&f, 14, WebApp, at(2, 14)), true, "archived once, active again now"),
    ];
    // Filter options: countries and collection partners of visible cases only (DEB-5 and
    // DEB-12 are not visible to `p`).
    let cp_of = |name: &str| CollectionPartnerRecord {
        id: Uuid::new_v4(),
        name: name.into(),
        success_fee_bps: Bps(1_500),
        platform_share_bps: Bps(4_000),
        countries: vec!["DK".into()],
        created_at: t(0),
    };
    let (seen_cp, hidden_cp) = (cp_of("Seen Recovery"), cp_of("Hidden Recovery"));
    tx.insert_collection_partner(&seen_cp).await?;
    tx.insert_collection_partner(&hidden_cp).await?;
    let assign = |cp: &CollectionPartnerRecord| {
        Some(CaseAssignment { collection_partner_id: cp.id, success_fee_bps: Bps(1_500), platform_share_bps: Bps(4_000) })
    };
    for (x, _, _) in &rows {
        let lifecycle = match x.reference.as_str() {
            "DEB-3" | "DEB-6" => Lifecycle::Active,
            "DEB-14" => Lifecycle::Closed,
            _ => Lifecycle::PendingContractSigning,
        };
        let (debtor_country, assignment) = match x.reference.as_str() {
            "DEB-3" => ("SE".to_string(), assign(&seen_cp)),
            "DEB-6" => ("NO".to_string(), assign(&seen_cp)),
            "DEB-5" => ("FI".to_string(), assign(&hidden_cp)),
            "DEB-12" => ("DE".to_string(), None),
            _ => (x.debtor_country.clone(), None),
        };
        tx.insert_case(&CaseRecord { lifecycle, debtor_country, assignment, ..x.clone() }).await?;
    }
    tx.commit().await?;

    let mut tx = store.read().await?;
    let (countries, cps) = tx.partner_case_options(p.id).await?;
    assert_eq!(countries, vec!["DK", "NO", "SE"], "each once, sorted, visible cases only");
    assert_eq!(cps, vec![seen_cp.id], "each once, visible cases only");
    assert_eq!(tx.partner_case_options(Uuid::new_v4()).await?, (vec![], vec![]), "another partner sees none");
    drop(tx);

    let mut tx = store.begin().await?;
    let (shown, total) = tx.partner_cases_page(p.id, &CaseFilter::default(), ALL).await?;
    for (x, visible, why) in &rows {
        assert_eq!(shown.iter().any(|s| s.id == x.id), *visible, "{}: {why}", x.reference);
    }
    assert_eq!(refs(&shown), vec!["DEB-14", "DEB-6", "DEB-4", "DEB-3", "DEB-2"], "newest first");
    assert_eq!(total, 5);
    assert_eq!(shown[4], rows[1].0, "whole records");

    let (rival, total) = tx.partner_cases_page(q.id, &CaseFilter::default(), ALL).await?;
    assert_eq!((refs(&rival), total), (vec!["DEB-11"], 1), "the rival sees only cases since its own link");

    let (mut counts, recent) = tx.partner_case_counts(p.id, at(2, 0)).await?;
    counts.sort_by_key(|(l, _)| l.as_str());
    assert_eq!(counts, vec![(Lifecycle::Active, 2), (Lifecycle::Closed, 1), (Lifecycle::PendingContractSigning, 2)]);
    assert_eq!(recent, 5, "visible cases created since the start of the instant's month (March 2024)");
    assert_eq!(tx.partner_visible_case_count(p.id).await?, 5, "the total of the lifecycle counts");
    assert_eq!(tx.partner_case_counts(p.id, at(31, 0)).await?.1, 0, "none since the start of April");
    assert_eq!(tx.partner_case_counts(p.id, at(2, 0)).await?, tx.partner_case_counts_from_cases(p.id, at(2, 0)).await?, "tallies");

    let (own, total) = tx.client_cases_page(b.id, &CaseFilter::default(), ALL).await?;
    assert_eq!((refs(&own), total), (vec!["DEB-9", "DEB-8", "DEB-6", "DEB-5", "DEB-7"], 5), "a client sees all its cases");
    Ok(())
}

/// Six cases of one partner over two attributed links, one hour apart; cases 3 and 5 from
/// a CSV import and the client's API key, the others from the web app.
async fn seed_listing(store: &Store) -> TestResult<(Uuid, Uuid)> {
    let p = partner("Partner", t(0));
    let (a, b) = (client("A", t(0)), client("B", t(0)));
    #[rustfmt::skip]
    let rows: [(&ClientRecord, Lifecycle, i64, &str); 6] = [
        (&a, Lifecycle::Active, 5_000, "ACME Holdings"),
        (&a, Lifecycle::Paused, 3_000_000_000, "Beta GmbH"),
        (&a, Lifecycle::Closed, 10, "Gamma AB"),
        (&b, Lifecycle::PendingContractSigning, 700, "acme north"),
        (&b, Lifecycle::Active, 99_999, "Delta Oy"),
        (&b, Lifecycle::Active, 5_001, "Epsilon AS"),
    ];
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_client(&a, &[]).await?;
    tx.insert_client(&b, &[]).await?;
    tx.insert_link(&link(&p, &a, "t-a", true, t(0)), ACTOR, None).await?;
    tx.insert_link(&link(&p, &b, "t-b", true, t(0)), ACTOR, None).await?;
    for (i, (c, lifecycle, amount_minor, debtor)) in rows.into_iter().enumerate() {
        let n = 10_001 + i as i64;
        let created_at: Instant = t((i as i64 + 1) * HOUR);
        // Cases 3 and 5 came through other channels (the source filter).
        let source = match i + 1 {
            3 => CsvImport,
            5 => CustomerApi,
            _ => WebApp,
        };
        let x = CaseRecord { lifecycle, amount_minor, debtor_name: debtor.into(), ..case(c, n, source, created_at) };
        tx.insert_case(&x).await?;
    }
    tx.commit().await?;
    Ok((p.id, a.id))
}

/// Case `DEB-1000<n>` of [`seed_listing`].
fn deb(ns: &[u8]) -> Vec<String> {
    ns.iter().map(|n| format!("DEB-1000{n}")).collect()
}

conformance!(partner_cases_filters_sorting_and_paging);
async fn partner_cases_filters_sorting_and_paging(store: Store) -> TestResult {
    let (p, _) = seed_listing(&store).await?;
    let mut tx = store.begin().await?;
    let (everything, _) = tx.partner_cases_page(p, &CaseFilter::default(), ALL).await?;
    let id = |n: u8| everything.iter().find(|c| c.reference == format!("DEB-1000{n}")).expect("seeded").id;

    #[rustfmt::skip]
    let filters: Vec<(&str, CaseFilter, Vec<String>)> = vec![
        ("none: newest first", by(|_| {}), deb(&[6, 5, 4, 3, 2, 1])),
        ("tenant", by(|f| f.external_tenant_id = Some("t-b".into())), deb(&[6, 5, 4])),
        ("tenant is exact", by(|f| f.external_tenant_id = Some("T-B".into())), deb(&[])),
        ("created range, inclusive", by(|f| (f.created_from, f.created_to) = (Some(t(2 * HOUR)), Some(t(4 * HOUR)))), deb(&[4, 3, 2])),
        ("created from", by(|f| f.created_from = Some(t(5 * HOUR + 1))), deb(&[6])),
        ("created to", by(|f| f.created_to = Some(t(HOUR - 1))), deb(&[])),
        ("lifecycles", by(|f| f.lifecycles = vec![Lifecycle::Active, Lifecycle::Paused]), deb(&[6, 5, 2, 1])),
        ("sources", by(|f| f.sources = vec![CsvImport, CustomerApi]), deb(&[5, 3])),
        ("source and lifecycle", by(|f| (f.sources, f.lifecycles) = (vec![WebApp], vec![Lifecycle::Active])), deb(&[6, 1])),
        ("query on debtor name, any case", by(|f| f.query = Some("AcMe".into())), deb(&[4, 1])),
        ("query on reference", by(|f| f.query = Some("deb-10003".into())), deb(&[3])),
        ("query on creditor reference", by(|f| f.query = Some("INV-1000".into())), deb(&[6, 5, 4, 3, 2, 1])),
        ("query without match", by(|f| f.query = Some("zeta".into())), deb(&[])),
        ("ids", CaseFilter { ids: vec![id(1), id(5)], ..Default::default() }, deb(&[5, 1])),
        ("ids, unknown", CaseFilter { ids: vec![Uuid::new_v4()], ..Default::default() }, deb(&[])),
        ("combined", by(|f| {
            f.external_tenant_id = Some("t-a".into());
            f.lifecycles = vec![Lifecycle::Active, Lifecycle::Paused, Lifecycle::Closed];
            f.query = Some("a".into());
            f.created_from = Some(t(2 * HOUR));
        }), deb(&[3, 2])),
        ("amount ascending", by(|f| f.sort = Some(("amount_minor".into(), true))), deb(&[3, 4, 1, 6, 5, 2])),
        ("amount descending", by(|f| f.sort = Some(("amount_minor".into(), false))), deb(&[2, 5, 6, 1, 4, 3])),
        ("created ascending", by(|f| f.sort = Some(("created_at".into(), true))), deb(&[1, 2, 3, 4, 5, 6])),
        ("unknown sort column: created", by(|f| f.sort = Some(("debtor_name; --".into(), true))), deb(&[1, 2, 3, 4, 5, 6])),
    ];
    for (what, filter, expected) in filters {
        let (cases, total) = tx.partner_cases_page(p, &filter, ALL).await?;
        assert_eq!(refs(&cases), expected, "{what}");
        assert_eq!(total, expected.len() as i64, "{what}: total");
    }

    let none = CaseFilter::default();
    let active = CaseFilter { lifecycles: vec![Lifecycle::Active], ..Default::default() };
    let searched = by(|f| f.query = Some("INV-1000".into()));
    let cheapest = by(|f| (f.query, f.sort) = (Some("inv-1000".into()), Some(("amount_minor".into(), true))));
    #[rustfmt::skip]
    let pages: Vec<(&CaseFilter, PageReq, Vec<String>, i64)> = vec![
        (&none, page(1, 4), deb(&[6, 5, 4, 3]), 6),
        (&none, page(2, 4), deb(&[2, 1]), 6),
        (&none, page(3, 4), deb(&[]), 6),
        (&none, page(2, 1), deb(&[5]), 6),
        (&active, page(1, 2), deb(&[6, 5]), 3),
        (&active, page(2, 2), deb(&[1]), 3),
        // A search alone: the page chosen among the matches, the total of all of them.
        (&searched, page(1, 4), deb(&[6, 5, 4, 3]), 6),
        (&searched, page(2, 4), deb(&[2, 1]), 6),
        (&searched, page(2, 2), deb(&[4, 3]), 6),
        (&searched, page(3, 4), deb(&[]), 6),
        (&cheapest, page(1, 4), deb(&[3, 4, 1, 6]), 6),
        (&cheapest, page(2, 4), deb(&[5, 2]), 6),
    ];
    for (filter, req, expected, total) in pages {
        let got = tx.partner_cases_page(p, filter, req).await?;
        assert_eq!((refs(&got.0), got.1), (expected.iter().map(String::as_str).collect(), total), "{filter:?} {req:?}");
    }
    Ok(())
}

conformance!(client_cases_filters_and_paging);
async fn client_cases_filters_and_paging(store: Store) -> TestResult {
    let (_, a) = seed_listing(&store).await?;
    let mut tx = store.begin().await?;
    #[rustfmt::skip]
    let checks: Vec<(CaseFilter, PageReq, Vec<String>, i64)> = vec![
        (by(|_| {}), ALL, deb(&[3, 2, 1]), 3),
        (by(|_| {}), page(1, 2), deb(&[3, 2]), 3),
        (by(|_| {}), page(2, 2), deb(&[1]), 3),
        (by(|f| f.query = Some("acme".into())), ALL, deb(&[1]), 1),
        (by(|f| f.lifecycles = vec![Lifecycle::Paused, Lifecycle::Closed]), ALL, deb(&[3, 2]), 2),
        (by(|f| f.sort = Some(("amount_minor".into(), false))), ALL, deb(&[2, 1, 3]), 3),
        (by(|f| f.created_to = Some(t(2 * HOUR))), ALL, deb(&[2, 1]), 2),
        (by(|f| f.sources = vec![CsvImport]), ALL, deb(&[3]), 1),
    ];
    for (filter, req, expected, total) in checks {
        let (cases, n) = tx.client_cases_page(a, &filter, req).await?;
        assert_eq!((refs(&cases), n), (expected.iter().map(String::as_str).collect(), total), "{filter:?} {req:?}");
    }
    Ok(())
}

conformance!(case_search_folds_non_ascii_case,);
/// Debtor names are full of non-ASCII letters; the search is case-insensitive for them too.
async fn case_search_folds_non_ascii_case(store: Store) -> TestResult {
    let c = client("Client", t(0));
    let x = CaseRecord { debtor_name: "Østergaard ÆBLER ApS".into(), ..case(&c, 10_001, CaseSource::WebApp, t(HOUR)) };
    let mut tx = store.begin().await?;
    tx.insert_client(&c, &[]).await?;
    tx.insert_case(&x).await?;
    for q in ["østergaard", "ØSTERGAARD", "æbler"] {
        let filter = CaseFilter { query: Some(q.into()), ..Default::default() };
        assert_eq!(tx.client_cases_page(c.id, &filter, ALL).await?.1, 1, "query {q}");
    }
    Ok(())
}

conformance!(case_search_treats_wildcards_literally,);
/// A search for `INV_1` finds the creditor reference `INV_1`, not `INV-1` or `INVX1`.
async fn case_search_treats_wildcards_literally(store: Store) -> TestResult {
    let c = client("Client", t(0));
    let mut tx = store.begin().await?;
    tx.insert_client(&c, &[]).await?;
    for (n, creditor_reference) in [(1, "INV_1"), (2, "INV-1"), (3, "INVX1"), (4, "100% paid")] {
        tx.insert_case(&CaseRecord { creditor_reference: creditor_reference.into(), ..case(&c, n, CaseSource::WebApp, t(n * HOUR)) })
            .await?;
    }
    for (q, expected) in [("inv_1", vec!["DEB-1"]), ("%", vec!["DEB-4"])] {
        let filter = CaseFilter { query: Some(q.into()), ..Default::default() };
        assert_eq!(refs(&tx.client_cases_page(c.id, &filter, ALL).await?.0), expected, "query {q}");
    }
    Ok(())
}

conformance!(locking_cases_changes_nothing);
/// The payments' case locks (`lock_case`, `lock_cases`) change no row: the cases read back
/// as they were written; unknown ids and an empty set are no error.
async fn locking_cases_changes_nothing(store: Store) -> TestResult {
    let c = client("Locked", t(0));
    let cases: Vec<CaseRecord> = (1..=3).map(|n| case(&c, n, CaseSource::WebApp, t(n * HOUR))).collect();
    let mut tx = store.begin().await?;
    tx.insert_client(&c, &[]).await?;
    for x in &cases {
        tx.insert_case(x).await?;
    }
    tx.commit().await?;
    let mut tx = store.begin().await?;
    tx.lock_case(cases[0].id).await?;
    tx.lock_case(Uuid::new_v4()).await?;
    let mut ids: std::collections::BTreeSet<Uuid> = cases.iter().map(|x| x.id).collect();
    ids.insert(Uuid::new_v4());
    tx.lock_cases(&ids).await?;
    tx.lock_cases(&Default::default()).await?;
    for x in &cases {
        assert_eq!(tx.case(x.id).await?.as_ref(), Some(x));
    }
    tx.commit().await?;
    Ok(())
}

/// How long a lock that is waited for is watched; only a guard.
const WAIT_GUARD: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits until `n` statements of the database at `url` wait for a lock.
async fn until_waiting_for_locks(url: &str, n: i64) -> TestResult {
    use sqlx::{Connection, Row};
    let mut watch = sqlx::AnyConnection::connect(url).await?;
    let started = std::time::Instant::now();
    loop {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watch)
        .await?;
        if row.try_get::<i64, _>("n")? >= n {
            watch.close().await?;
            return Ok(());
        }
        if started.elapsed() > WAIT_GUARD {
            return Err(format!("fewer than {n} statements wait for a lock").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn locked_cases_hold_off_other_writers_in_id_order_postgres() {
    on_postgres(locked_cases_hold_off_other_writers_in_id_order).await;
}

/// PostgreSQL (SQLite has one writer): `lock_cases` takes the cases' row locks in id
/// order, one after the other, and holds them to the end of its transaction. While the
/// higher id is held elsewhere, it holds the lower one and waits; a third writer of the
/// lower one waits for it in turn, and each goes on when the one before it commits.
async fn locked_cases_hold_off_other_writers_in_id_order(store: Store, url: String) -> TestResult {
    let c = client("Contended", t(0));
    let mut cases: Vec<CaseRecord> = (1..=2).map(|n| case(&c, n, CaseSource::WebApp, t(n * HOUR))).collect();
    cases.sort_by_key(|x| x.id);
    let (low, high) = (cases[0].id, cases[1].id);
    let mut tx = store.begin().await?;
    tx.insert_client(&c, &[]).await?;
    for x in &cases {
        tx.insert_case(x).await?;
    }
    tx.commit().await?;

    let mut holder = store.begin().await?;
    holder.lock_case(high).await?;
    let s = store.clone();
    let both = tokio::spawn(async move {
        let mut tx = s.begin().await?;
        tx.lock_cases(&[high, low].into_iter().collect()).await?;
        Ok::<_, refshare_store::StoreError>(tx)
    });
    until_waiting_for_locks(&url, 1).await?;
    let s = store.clone();
    let third = tokio::spawn(async move {
        let mut tx = s.begin().await?;
        tx.lock_case(low).await?;
        tx.commit().await
    });
    until_waiting_for_locks(&url, 2).await?;
    assert!(!both.is_finished() && !third.is_finished(), "both wait");

    holder.commit().await?;
    let both = tokio::time::timeout(WAIT_GUARD, both).await.map_err(|_| "lock_cases still waits after the holder committed")???;
    until_waiting_for_locks(&url, 1).await?;
    assert!(!third.is_finished(), "the lower id stays locked until lock_cases' transaction ends");
    both.commit().await?;
    tokio::time::timeout(WAIT_GUARD, third).await.map_err(|_| "the third writer still waits")???;
    Ok(())
}
