//! Group commit of single payments (issue 9): concurrent `POST /cases/{case}/payments`
//! share one transaction, each is booked exactly once and answered as if alone; a refused
//! payment in a group gets its own error and its neighbours are booked; an
//! `Idempotency-Key` replays inside a group; two processes' groups over the same cases in
//! opposite orders neither deadlock nor fail.
//!
//! The writer is held while a burst queues ([`App::hold_payment_groups`]), so the burst is
//! booked as one group, and the tests check the writer's counters that it was.

use std::collections::HashSet;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use refshare_app::payments_group::PaymentGroupHold;
use refshare_app::App;
use serde_json::{json, Value};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::harness::{case_body, dec, TestApp, ADMIN_TOKEN};
use crate::money::attributed_client;
use crate::payments_batch::{assert_reconciled, case_id, registered};

/// One payment request, as a client would send it: status and JSON body.
async fn pay_on(router: Router, case: String, amount: &str, external_id: String, key: Option<String>) -> (StatusCode, Value) {
    let amount: Value = serde_json::from_str(amount).expect("a JSON number");
    let mut b = Request::builder()
        .method("POST")
        .uri(format!("/admin-api/v1/cases/{case}/payments"))
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    let req = b.body(Body::from(json!({"amount": amount, "externalId": external_id}).to_string())).expect("request");
    let res = router.oneshot(req).await.expect("infallible");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

/// A payment of a burst: (router, case, amount, externalId, Idempotency-Key).
type Req = (Router, String, &'static str, String, Option<String>);

/// Sends every request at once, each in its own task; the answers in request order.
async fn burst(requests: Vec<Req>) -> Vec<(StatusCode, Value)> {
    let mut set = JoinSet::new();
    for (i, (router, case, amount, ext, key)) in requests.into_iter().enumerate() {
        set.spawn(async move { (i, pay_on(router, case, amount, ext, key).await) });
    }
    let mut answers: Vec<(usize, (StatusCode, Value))> = set.join_all().await;
    answers.sort_by_key(|(i, _)| *i);
    answers.into_iter().map(|(_, a)| a).collect()
}

/// Waits until each App's writer has `n` payments queued, then lets them all go at once.
async fn release_when_queued(holds: Vec<(&App, PaymentGroupHold, usize)>) {
    for (app, _, n) in &holds {
        // Not a timing assertion: a guard so that a missing request fails instead of hanging.
        for _ in 0..30_000 {
            if app.payments_waiting() >= *n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(app.payments_waiting(), *n, "payments queued while the writer was held");
    }
    drop(holds);
}

/// Sends `requests` while the writer(s) are held, and releases them once `queued` payments wait.
async fn held_burst(holds: Vec<(&App, usize)>, requests: Vec<Req>) -> Vec<(StatusCode, Value)> {
    let mut held = Vec::new();
    for (app, n) in holds {
        held.push((app, app.hold_payment_groups().await, n));
    }
    let (answers, ()) = tokio::join!(burst(requests), release_when_queued(held));
    answers
}

/// 32 payments at once on 4 cases: one group, one transaction; each payment booked once
/// with its own answer; retries replay; the ledger reconciles.
async fn a_burst_of_single_payments_shares_one_commit(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let cases: Vec<Value> = (1..=4).map(|i| case_body(&format!("G-{i}"), "1000", "GBP", "GB")).collect();
    let refs = attributed_client(&t, &key, "acme", cases).await;
    assert_eq!(t.app.payment_group_stats().groups, 0);
    let requests: Vec<Req> = (0..32).map(|i| (t.router.clone(), refs[i % 4].clone(), "10.00", format!("g-{i}"), None)).collect();
    let answers = held_burst(vec![(&t.app, 32)], requests).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::CREATED, "payment {i}: {body}");
        assert_eq!(body["amount"], dec("10.00"), "{body}");
        assert_eq!(body["attribution"]["decision"], "attributed", "{body}");
        assert_eq!(body["attribution"]["referralFee"], dec("0.30"), "10 → 1.50 → 0.60 → 0.30: {body}");
    }
    let ids: HashSet<&str> = answers.iter().map(|(_, b)| b["paymentId"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 32, "32 distinct payments");
    let stats = t.app.payment_group_stats();
    assert_eq!((stats.groups, stats.payments, stats.largest, stats.retried_alone, stats.rebooked), (1, 32, 32, 0, 0), "{stats:?}");

    for reference in &refs {
        let id = case_id(&t, &key, reference).await;
        let booked = registered(&t, &id).await;
        assert_eq!(booked.len(), 8, "{reference}: each payment booked exactly once");
        let mut before: Vec<i64> = booked.iter().map(|d| d["remainderBeforeMinor"].as_i64().unwrap()).collect();
        before.sort_unstable();
        let want: Vec<i64> = (0..8).map(|k| 100_000 - 1_000 * (7 - k)).collect();
        assert_eq!(before, want, "{reference}: each saw the one before it (one lock, one order)");
    }
    // A retry of any of them replays it, alone.
    for (i, (_, first)) in answers.iter().enumerate().step_by(5) {
        let again = t.pay(&refs[i % 4], "10.00", &format!("g-{i}")).await;
        assert_eq!(again.status, StatusCode::OK, "{}", again.text);
        assert_eq!(again.body["paymentId"], first["paymentId"]);
    }
    let metrics = t.call("GET", "/metrics", &[], None).await;
    assert!(metrics.text.contains("\nrefshare_payment_group_largest 32\n"), "{}", metrics.text);
    assert_reconciled(&t).await;
}

/// One group holding good payments, a refused overpayment, an `externalId` replayed and
/// one reused with another amount, the same `externalId` twice, and `Idempotency-Key`s
/// (twice the same request, and a stored refusal): each gets its own answer, the good
/// ones are booked. A payment on an unknown case is answered by the writer and not booked.
async fn a_refused_payment_does_not_take_its_group_down(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("A-1", "1000", "GBP", "GB"), case_body("B-1", "100", "GBP", "GB")]).await;
    let (a, b) = (refs[0].clone(), refs[1].clone());
    let first = t.pay(&a, "10.00", "a-0").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);

    let r = |case: &str, amount: &'static str, ext: &str, key: Option<&str>| -> Req {
        (t.router.clone(), case.to_string(), amount, ext.to_string(), key.map(str::to_string))
    };
    let requests = vec![
        r(&a, "10.00", "a-1", None),        // 0: booked
        r(&b, "150", "b-1", None),          // 1: more than the 100.00 owed
        r(&a, "10.00", "a-0", None),        // 2: booked before the group: replayed
        r(&a, "99.00", "a-0", None),        // 3: the same externalId with another amount
        r(&a, "10.00", "a-2", None),        // 4 and 5: the same externalId twice in the group
        r(&a, "10.00", "a-2", None),        //
        r(&b, "50", "b-2", None),           // 6: booked (the refused one left room)
        r(&a, "10.00", "a-3", Some("k-1")), // 7 and 8: one key, one request, twice
        r(&a, "10.00", "a-3", Some("k-1")), //
        r(&b, "500", "b-3", Some("k-2")),   // 9: a refusal, stored under its key
        r("DEB-NOPE-1", "10", "x-1", None), // 10: unknown case, answered by the writer, not booked
    ];
    let answers = held_burst(vec![(&t.app, 11)], requests).await;
    let status = |i: usize| answers[i].0;
    let error = |i: usize| answers[i].1["businessErrors"][0]["type"].as_str().unwrap_or_default().to_string();
    assert_eq!(status(0), StatusCode::CREATED, "{}", answers[0].1);
    assert_eq!((status(1), error(1).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "PaymentExceedsRemainder"), "{}", answers[1].1);
    assert_eq!(status(2), StatusCode::OK, "{}", answers[2].1);
    assert_eq!(answers[2].1["paymentId"], first.body["paymentId"]);
    assert_eq!((status(3), error(3).as_str()), (StatusCode::CONFLICT, "ExternalIdReused"), "{}", answers[3].1);
    let mut twice = [status(4), status(5)];
    twice.sort();
    assert_eq!(twice, [StatusCode::OK, StatusCode::CREATED], "one books a-2, the other replays it");
    assert_eq!(answers[4].1["paymentId"], answers[5].1["paymentId"]);
    assert_eq!(status(6), StatusCode::CREATED, "{}", answers[6].1);
    assert_eq!(status(7), StatusCode::CREATED, "{}", answers[7].1);
    assert_eq!(answers[8], answers[7], "the key's second request replays the first's answer");
    assert_eq!((status(9), error(9).as_str()), (StatusCode::UNPROCESSABLE_ENTITY, "PaymentExceedsRemainder"), "{}", answers[9].1);
    assert_eq!((status(10), error(10).as_str()), (StatusCode::NOT_FOUND, "NotFound"), "{}", answers[10].1);
    let stats = t.app.payment_group_stats();
    assert_eq!(
        (stats.groups, stats.largest, stats.retried_alone, stats.rebooked),
        (2, 11, 0, 1),
        "a-0 alone, then the burst as one group, booked again with savepoints for its refusals: {stats:?}"
    );

    let a_id = case_id(&t, &key, &a).await;
    let booked: Vec<i64> = registered(&t, &a_id).await.iter().map(|d| d["amountMinor"].as_i64().unwrap()).collect();
    assert_eq!(booked, [1000; 4], "a-0, a-1, a-2, a-3 once each");
    let b_id = case_id(&t, &key, &b).await;
    let booked: Vec<i64> = registered(&t, &b_id).await.iter().map(|d| d["amountMinor"].as_i64().unwrap()).collect();
    assert_eq!(booked, [5000], "only b-2");

    // The stored refusal replays; the key with another request conflicts.
    let again = pay_on(t.router.clone(), b.clone(), "500", "b-3".into(), Some("k-2".into())).await;
    assert_eq!(again, answers[9]);
    let other = pay_on(t.router.clone(), a.clone(), "20.00", "a-4".into(), Some("k-1".into())).await;
    assert_eq!(other.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.1);
    assert_eq!(other.1["businessErrors"][0]["type"], "IdempotencyConflict");
    assert_reconciled(&t).await;
}

/// Two processes each book a group over the same two cases and keys, in opposite orders,
/// committed at once: every group takes its locks in one order, so neither deadlocks (no
/// group had to be retried payment by payment) and each payment is booked once.
async fn two_processes_groups_do_not_deadlock(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs =
        attributed_client(&t, &key, "acme", vec![case_body("X-1", "1000", "GBP", "GB"), case_body("Y-1", "1000", "GBP", "GB")]).await;
    let (other, other_router) = t.another_process().await;
    let (x, y) = (refs[0].clone(), refs[1].clone());
    let mut requests: Vec<Req> = Vec::new();
    for i in 0..6 {
        requests.push((t.router.clone(), x.clone(), "10.00", format!("one-x-{i}"), None));
        requests.push((other_router.clone(), y.clone(), "10.00", format!("two-y-{i}"), None));
    }
    for i in 0..6 {
        requests.push((t.router.clone(), y.clone(), "10.00", format!("one-y-{i}"), None));
        requests.push((other_router.clone(), x.clone(), "10.00", format!("two-x-{i}"), None));
    }
    // The same keyed requests through both: one books, the other replays its answer.
    requests.push((t.router.clone(), y.clone(), "5.00", "k-y".into(), Some("k-y".into())));
    requests.push((other_router.clone(), y.clone(), "5.00", "k-y".into(), Some("k-y".into())));
    requests.push((other_router.clone(), x.clone(), "5.00", "k-x".into(), Some("k-x".into())));
    requests.push((t.router.clone(), x.clone(), "5.00", "k-x".into(), Some("k-x".into())));
    let answers = held_burst(vec![(&t.app, 14), (&other, 14)], requests).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::CREATED, "payment {i}: {body}");
    }
    assert_eq!(answers[24], answers[25]);
    assert_eq!(answers[26], answers[27]);
    for app in [&t.app, &other] {
        let stats = app.payment_group_stats();
        assert_eq!((stats.groups, stats.largest, stats.retried_alone), (1, 14, 0), "{stats:?}");
    }
    for reference in [&x, &y] {
        let id = case_id(&t, &key, reference).await;
        let booked: i64 = registered(&t, &id).await.iter().map(|d| d["amountMinor"].as_i64().unwrap()).sum();
        assert_eq!(booked, 12 * 1000 + 500, "{reference}");
    }
    other.store.close().await;
    assert_reconciled(&t).await;
}

/// Two processes each book a group over two partners' cases, in opposite orders,
/// committed at once: both groups change both partners' earnings totals (migration 0022),
/// which every commit writes with its keys sorted, so neither deadlocks on them (no group
/// retried payment by payment, every payment booked) and the totals still equal the rows.
async fn two_processes_booking_for_two_partners_do_not_deadlock_on_the_totals(t: TestApp) {
    t.collection_partners().await;
    let (_, key_a) = t.new_partner("Alphaco").await;
    let (_, key_b) = t.new_partner("Betaco").await;
    let a = attributed_client(&t, &key_a, "alpha", vec![case_body("A-1", "100000", "GBP", "GB")]).await.remove(0);
    let b = attributed_client(&t, &key_b, "beta", vec![case_body("B-1", "100000", "GBP", "GB")]).await.remove(0);
    let (other, other_router) = t.another_process().await;
    let mut requests: Vec<Req> = Vec::new();
    for i in 0..6 {
        requests.push((t.router.clone(), a.clone(), "10.00", format!("one-a-{i}"), None));
        requests.push((other_router.clone(), b.clone(), "10.00", format!("two-b-{i}"), None));
    }
    for i in 0..6 {
        requests.push((t.router.clone(), b.clone(), "10.00", format!("one-b-{i}"), None));
        requests.push((other_router.clone(), a.clone(), "10.00", format!("two-a-{i}"), None));
    }
    let answers = held_burst(vec![(&t.app, 12), (&other, 12)], requests).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::CREATED, "payment {i}: {body}");
    }
    for app in [&t.app, &other] {
        let stats = app.payment_group_stats();
        assert_eq!((stats.groups, stats.largest, stats.retried_alone), (1, 12, 0), "{stats:?}");
    }
    other.store.close().await;
    let mut tx = t.app.store.read().await.unwrap();
    let totals = tx.earning_totals().await.unwrap();
    assert_eq!(totals, tx.earning_totals_from_rows().await.unwrap());
    assert_eq!(totals.iter().map(|(_, s)| s.count).sum::<i64>(), 24, "{totals:?}");
    drop(tx);
    assert_reconciled(&t).await;
}

/// The facts a group reads once (cases, clients, links, link requests) are its own: in
/// one group, payments on two partners' clients are each decided on their own client's
/// link, and a link archived between two groups is seen by the next group (nothing read
/// by a group serves another). A case paid twice in a group is read again for the second
/// payment, so each sees what the one before it left owed.
async fn group_reads_are_per_group_and_per_client(t: TestApp) {
    t.collection_partners().await;
    let (p1, key1) = t.new_partner("Ledgerly").await;
    let (p2, key2) = t.new_partner("Otherly").await;
    let a = attributed_client(&t, &key1, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await.remove(0);
    let b = attributed_client(&t, &key2, "beta", vec![case_body("B-1", "1000", "GBP", "GB")]).await.remove(0);
    let r = |case: &str, ext: String| -> Req { (t.router.clone(), case.to_string(), "10.00", ext, None) };
    let decided = |answers: &[(StatusCode, Value)]| -> Vec<(String, String)> {
        answers
            .iter()
            .map(|(status, body)| {
                assert!(status.is_success(), "{body}");
                (
                    body["attribution"]["reason"].as_str().unwrap().to_string(),
                    body["attribution"]["partnerId"].as_str().unwrap_or("-").to_string(),
                )
            })
            .collect()
    };
    let attributed = |p: &str| ("attributed_client".to_string(), p.to_string());

    let one =
        held_burst(vec![(&t.app, 4)], vec![r(&a, "g1-a1".into()), r(&b, "g1-b1".into()), r(&a, "g1-a2".into()), r(&b, "g1-b2".into())])
            .await;
    assert_eq!(decided(&one), [attributed(&p1), attributed(&p2), attributed(&p1), attributed(&p2)]);
    let a_id = case_id(&t, &key1, &a).await;
    let mut before: Vec<i64> = registered(&t, &a_id).await.iter().map(|d| d["remainderBeforeMinor"].as_i64().unwrap()).collect();
    before.sort_unstable();
    assert_eq!(before, [99_000, 100_000], "the second payment on a case in the group saw the first");

    let links = t.admin("GET", &format!("/links?partnerId={p1}"), None).await;
    let link_id = links.body["links"][0]["id"].as_str().unwrap().to_string();
    let archived = t.admin("POST", &format!("/links/{link_id}/archive"), Some(json!({"reason": "customer left"}))).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    let two = held_burst(vec![(&t.app, 2)], vec![r(&a, "g2-a".into()), r(&b, "g2-b".into())]).await;
    let two_decided = decided(&two);
    assert_eq!(two_decided[0].0, "link_archived", "the next group read the archived link: {}", two[0].1);
    assert_eq!(two[0].1["attribution"]["decision"], "not_attributed", "{}", two[0].1);
    assert_eq!(two_decided[1], attributed(&p2), "the other partner's client is unaffected");

    let unarchived = t.admin("POST", &format!("/links/{link_id}/unarchive"), Some(json!({"reason": "mistake"}))).await;
    assert_eq!(unarchived.status, StatusCode::OK, "{}", unarchived.text);
    let three = held_burst(vec![(&t.app, 2)], vec![r(&b, "g3-b".into()), r(&a, "g3-a".into())]).await;
    assert_eq!(decided(&three), [attributed(&p2), attributed(&p1)]);
    let stats = t.app.payment_group_stats();
    assert_eq!((stats.groups, stats.largest, stats.retried_alone), (3, 4, 0), "{stats:?}");
    assert_reconciled(&t).await;
}

/// Payments sent all at once, without holding the writers: on PostgreSQL four writers
/// book groups side by side (one on SQLite). Every payment is answered, booked exactly
/// once, each payment on a case saw the one before it, no group failed and had to be
/// booked again alone (the writers take their locks in one order), and the ledger reconciles.
async fn writers_side_by_side_book_each_payment_once(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let want_writers = match t.app.store.backend() {
        refshare_store::Backend::Postgres => refshare_app::payments_group::PG_PAYMENT_WRITERS,
        refshare_store::Backend::Sqlite => 1,
    };
    assert_eq!(t.app.payment_writers(), want_writers);
    let cases: Vec<Value> = (1..=3).map(|i| case_body(&format!("W-{i}"), "1000", "GBP", "GB")).collect();
    let refs = attributed_client(&t, &key, "acme", cases).await;
    let requests: Vec<Req> = (0..60).map(|i| (t.router.clone(), refs[i % 3].clone(), "10.00", format!("w-{i}"), None)).collect();
    let answers = burst(requests).await;
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(*status, StatusCode::CREATED, "payment {i}: {body}");
    }
    let stats = t.app.payment_group_stats();
    assert_eq!((stats.payments, stats.retried_alone), (60, 0), "{stats:?}");
    for reference in &refs {
        let id = case_id(&t, &key, reference).await;
        let mut before: Vec<i64> = registered(&t, &id).await.iter().map(|d| d["remainderBeforeMinor"].as_i64().unwrap()).collect();
        before.sort_unstable();
        let want: Vec<i64> = (0..20).map(|k| 100_000 - 1_000 * (19 - k)).collect();
        assert_eq!(before, want, "{reference}: each booked once, each saw the one before it");
    }
    assert_reconciled(&t).await;
}

crate::both_backends!(
    writers_side_by_side_book_each_payment_once,
    a_burst_of_single_payments_shares_one_commit,
    a_refused_payment_does_not_take_its_group_down,
    two_processes_groups_do_not_deadlock,
    two_processes_booking_for_two_partners_do_not_deadlock_on_the_totals,
    group_reads_are_per_group_and_per_client,
);
