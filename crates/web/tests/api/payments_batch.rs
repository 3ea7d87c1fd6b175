//! Bulk payments (`POST /admin-api/v1/payments/batch`, issue 9): each item is decided as
//! a single payment would be (decision, earning, ledger, webhook events, audit), bad items
//! are rejected alone with the single endpoint's error, a retried batch replays, CSV
//! bodies, chunks of 1,000 per transaction, and the request-level 400s.

use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use refshare_app::Environment;
use serde_json::{json, Value};

use crate::harness::{case_body, dec, Resp, TestApp, ADMIN_TOKEN};
use crate::money::attributed_client;

async fn batch(t: &TestApp, body: Value) -> Resp {
    t.admin("POST", "/payments/batch", Some(body)).await
}

async fn batch_csv(t: &TestApp, csv: &str) -> Resp {
    let req = Request::builder()
        .method("POST")
        .uri("/admin-api/v1/payments/batch")
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("content-type", "text/csv; charset=utf-8")
        .body(Body::from(csv.to_string()))
        .expect("request");
    t.send(req).await
}

/// The statuses of the results, in order.
fn statuses(r: &Resp) -> Vec<String> {
    r.body["results"].as_array().expect("results").iter().map(|x| x["status"].as_str().unwrap().to_string()).collect()
}

fn counts(r: &Resp) -> (u64, u64, u64) {
    (r.body["created"].as_u64().unwrap(), r.body["replayed"].as_u64().unwrap(), r.body["rejected"].as_u64().unwrap())
}

/// The `businessErrors[0].type` (and field, on a validation error) of item `i`.
fn rejection(r: &Resp, i: usize) -> (String, Option<String>) {
    let item = &r.body["results"][i];
    assert_eq!(item["status"], "rejected", "item {i}: {item}");
    assert_eq!(item["index"], i, "{item}");
    assert!(item.get("paymentId").is_none(), "{item}");
    let e = &item["error"]["businessErrors"][0];
    (e["type"].as_str().unwrap().to_string(), e["field"].as_str().map(String::from))
}

pub async fn case_id(t: &TestApp, key: &str, reference: &str) -> String {
    let list = t.partner(key, "GET", "/cases?PageSize=100", None).await;
    let case = list.body["cases"].as_array().unwrap().iter().find(|c| c["reference"] == reference).expect("the case is listed");
    case["id"].as_str().unwrap().to_string()
}

pub async fn assert_reconciled(t: &TestApp) {
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["ok"], true, "{}", r.text);
}

/// The `payment.registered` audit details of a case, oldest first.
pub async fn registered(t: &TestApp, case_id: &str) -> Vec<Value> {
    let r = t.admin("GET", &format!("/audit?entity=case&id={case_id}&action=payment.registered"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["entries"].as_array().unwrap().iter().map(|e| e["detail"].clone()).collect()
}

async fn total_audit(t: &TestApp, action: &str) -> i64 {
    let r = t.admin("GET", &format!("/audit?action={action}&pageSize=1"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["page"]["totalResults"].as_i64().unwrap()
}

/// A case paid by a batch ends up exactly as one paid singly: the same decision, the same
/// earning in the same stage, the same audit detail, the same webhook event; the ledger
/// reconciles. A case works by reference and by id.
async fn a_batch_books_what_single_payments_book(mut t: TestApp) {
    t.restart(Environment::Test, true).await;
    t.collection_partners().await;
    let (pid, key) = t.new_partner("Ledgerly").await;
    let hook =
        t.partner(&key, "POST", "/v1/Webhooks", Some(json!({"url": "http://127.0.0.1:9/hook", "events": ["earning.created"]}))).await;
    assert_eq!(hook.status, StatusCode::OK, "{}", hook.text);
    let refs = attributed_client(
        &t,
        &key,
        "acme",
        vec![case_body("S-1", "1000", "GBP", "GB"), case_body("B-1", "1000", "GBP", "GB"), case_body("B-2", "1000", "GBP", "GB")],
    )
    .await;
    let single = t.pay(&refs[0], "400.00", "s-1").await;
    assert_eq!(single.status, StatusCode::CREATED, "{}", single.text);
    let b2 = case_id(&t, &key, &refs[2]).await;
    let r = batch(
        &t,
        json!({"payments": [
            {"case": refs[1], "amount": dec("400.00"), "externalId": "b-1"},
            {"case": b2, "amount": 400, "externalId": "b-2", "paidAt": "2026-03-01T09:00:00Z"},
        ]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(counts(&r), (2, 0, 0), "{}", r.text);
    assert_eq!(statuses(&r), ["created", "created"]);
    assert_eq!(r.body["results"][1]["index"], 1);

    let check = |reference: String| {
        let t = &t;
        async move {
            let a = t.admin("GET", &format!("/cases/{reference}/attribution"), None).await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.text);
            a.body
        }
    };
    let want = check(refs[0].clone()).await;
    assert_eq!(want["payouts"][0]["referralFee"], dec("12.00"), "400 → 60 → 24 → 12: {want}");
    for reference in [&refs[1], &refs[2]] {
        let got = check(reference.clone()).await;
        let (d, w) = (&got["decisions"][0], &want["decisions"][0]);
        for field in ["reason", "attributed", "caseSource", "partnerId", "linkId", "referralFee", "referralFeePercentage", "engineVersion"]
        {
            assert_eq!(d[field], w[field], "{reference}: decision {field}");
        }
        for field in ["decision", "reason", "referralFee", "currency", "stage"] {
            assert_eq!(got["payouts"][0][field], want["payouts"][0][field], "{reference}: payout {field}");
        }
    }
    let single_case = case_id(&t, &key, &refs[0]).await;
    let w = registered(&t, &single_case).await;
    for id in [case_id(&t, &key, &refs[1]).await, b2] {
        let got = registered(&t, &id).await;
        assert_eq!(got.len(), 1);
        for field in ["amountMinor", "reason", "referralFeeMinor", "overpayment", "remainderBeforeMinor"] {
            assert_eq!(got[0][field], w[0][field], "audit {field}");
        }
    }
    // One `earning.created` event per earning, queued the same way.
    let d = t.admin("GET", &format!("/webhooks/deliveries?partnerId={pid}&pageSize=100"), None).await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.text);
    assert_eq!(d.body["deliveries"].as_array().unwrap().len(), 3, "{}", d.text);
    let report = t.partner(&key, "GET", "/reporting/transactions?PageSize=100", None).await;
    assert_eq!(report.body["summary"]["revenue"]["pendingCount"], 3, "{}", report.text);
    assert_eq!(report.body["summary"]["revenue"]["pendingReferralFeeUsd"], dec("45.00"), "3 × 12.00 GBP at 1.25");
    assert_reconciled(&t).await;
}

/// Every kind of bad item is rejected with the single endpoint's error, alone: the good
/// items around it are booked.
async fn a_mixed_batch_rejects_bad_items_alone(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("M-1", "1000", "GBP", "GB"), case_body("M-2", "100", "GBP", "GB")]).await;
    let (m1, m2) = (refs[0].clone(), refs[1].clone());
    let m2_id = case_id(&t, &key, &m2).await;
    let r = batch(
        &t,
        json!({"payments": [
            {"case": m1, "amount": 100, "externalId": "g-1"},
            {"case": "NOPE-404", "amount": 1, "externalId": "u-1"},
            {"case": m2, "amount": 150, "externalId": "o-1"},
            {"case": m1, "amount": 1},
            {"case": m1, "amount": dec("1.234"), "externalId": "b-1"},
            {"case": m1, "amount": "12", "externalId": "b-2"},
            {"case": m2_id, "amount": 50, "externalId": "g-2"},
            {"case": m2, "amount": 80, "externalId": "o-2", "allowOverpayment": true},
            {"case": m1, "amount": dec("100.00"), "externalId": "g-1"},
            {"case": m1, "amount": 101, "externalId": "g-1"},
            {"case": m1, "amount": 0, "externalId": "z-1"},
            {"case": m1, "amount": 5, "externalId": "p-1", "paidAt": "last Tuesday"},
            "not an object",
        ]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(counts(&r), (3, 1, 9), "{}", r.text);
    let s = statuses(&r);
    assert_eq!((s[0].as_str(), s[6].as_str(), s[7].as_str(), s[8].as_str()), ("created", "created", "created", "replayed"), "{}", r.text);
    assert_eq!(r.body["results"][8]["paymentId"], r.body["results"][0]["paymentId"], "the repeat answers the first payment");
    assert_eq!(rejection(&r, 1), ("NotFound".into(), None));
    assert_eq!(rejection(&r, 2), ("PaymentExceedsRemainder".into(), None));
    assert!(r.body["results"][2]["error"]["message"].as_str().unwrap().contains("100.00 GBP"), "names the remainder: {}", r.text);
    assert_eq!(rejection(&r, 3), ("ValidationError".into(), Some("externalId".into())));
    assert_eq!(rejection(&r, 4), ("ValidationError".into(), Some("amount".into())));
    assert_eq!(rejection(&r, 5), ("ValidationError".into(), Some("amount".into())));
    assert_eq!(rejection(&r, 9), ("ExternalIdReused".into(), None));
    assert_eq!(rejection(&r, 10), ("ValidationError".into(), Some("amount".into())));
    assert_eq!(rejection(&r, 11), ("ValidationError".into(), Some("paidAt".into())));
    assert_eq!(rejection(&r, 12).0, "ValidationError");

    // The error is the one the single endpoint answers for the same payment.
    let single = t.pay(&m1, "101", "g-1").await;
    assert_eq!(single.status, StatusCode::CONFLICT, "{}", single.text);
    assert_eq!(r.body["results"][9]["error"], single.body);
    let single = t.pay(&m1, "1.234", "b-1").await;
    assert_eq!(single.status, StatusCode::BAD_REQUEST, "{}", single.text);
    assert_eq!(r.body["results"][4]["error"], single.body);

    // Booked: 100 on M-1; 50, then 80 flagged as an overpayment, on M-2.
    let m1_id = case_id(&t, &key, &m1).await;
    assert_eq!(registered(&t, &m1_id).await.len(), 1);
    let on_m2 = registered(&t, &m2_id).await;
    assert_eq!(
        on_m2.iter().map(|d| (d["amountMinor"].as_i64().unwrap(), d["overpayment"].as_bool().unwrap())).collect::<Vec<_>>(),
        [(5000, false), (8000, true)]
    );
    let detail = t.partner(&key, "GET", &format!("/cases/{m2_id}"), None).await;
    assert_eq!(detail.body["remainder"], dec("0.00"), "{}", detail.text);
    assert_reconciled(&t).await;
}

/// A retried batch books nothing twice; 1,001 items span two transactions. The time of
/// each request is printed, not asserted (the benchmark is `docs/PERFORMANCE.md`'s).
async fn a_retried_batch_replays_everything(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("R-1", "100000", "GBP", "GB")]).await;
    let mut payments: Vec<Value> =
        (0..1000).map(|i| json!({"case": refs[0], "amount": dec("1.00"), "externalId": format!("r-{i}")})).collect();
    // The last item, alone in the second transaction, is rejected there.
    payments.push(json!({"case": "NOPE-404", "amount": 1, "externalId": "r-x"}));
    let body = json!({"payments": payments});

    let started = Instant::now();
    let first = batch(&t, body.clone()).await;
    eprintln!("payments batch: 1,001 items booked in {:?} ({:?})", started.elapsed(), t.app.store.backend());
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(counts(&first), (1000, 0, 1));
    assert_eq!(rejection(&first, 1000).0, "NotFound");

    let started = Instant::now();
    let again = batch(&t, body).await;
    eprintln!("payments batch: 1,001 items replayed in {:?} ({:?})", started.elapsed(), t.app.store.backend());
    assert_eq!(again.status, StatusCode::OK, "{}", again.text);
    assert_eq!(counts(&again), (0, 1000, 1));
    for i in [0, 499, 999] {
        assert_eq!(again.body["results"][i]["status"], "replayed");
        assert_eq!(again.body["results"][i]["paymentId"], first.body["results"][i]["paymentId"], "item {i}");
    }
    assert_eq!(total_audit(&t, "payment.registered").await, 1000, "booked once");
    let id = case_id(&t, &key, &refs[0]).await;
    let detail = t.partner(&key, "GET", &format!("/cases/{id}"), None).await;
    assert_eq!(detail.body["remainder"], dec("99000.00"), "{}", detail.text);
    assert_reconciled(&t).await;
}

/// `text/csv`: the header, rows as items (a malformed row rejects its item), and the
/// same payments as JSON replay.
async fn a_csv_batch(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("C-1", "1000", "GBP", "GB")]).await;
    let id = case_id(&t, &key, &refs[0]).await;
    let c1 = &refs[0];
    let csv = format!(
        "case,amount,externalId,paidAt\r\n{c1},12.34,c-1,2026-03-01T10:00:00Z\r\n\r\n{id},5,\"c-2, second\",\r\nNOPE-404,1,c-3,\r\n{c1},abc,c-4,\r\n{c1},1,c-5\r\n"
    );
    let r = batch_csv(&t, &csv).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(statuses(&r), ["created", "created", "rejected", "rejected", "rejected"], "{}", r.text);
    assert_eq!(rejection(&r, 2).0, "NotFound");
    assert_eq!(rejection(&r, 3), ("ValidationError".into(), Some("amount".into())));
    assert_eq!(rejection(&r, 4), ("ValidationError".into(), Some("row".into())));
    assert_eq!(registered(&t, &id).await.iter().map(|d| d["amountMinor"].as_i64().unwrap()).collect::<Vec<_>>(), [1234, 500]);

    let again = batch_csv(&t, &csv).await;
    assert_eq!(counts(&again), (0, 2, 3), "{}", again.text);
    let json = batch(&t, json!({"payments": [{"case": id, "amount": dec("12.340"), "externalId": "c-1"}, {"case": c1, "amount": 5, "externalId": "c-2, second"}]})).await;
    assert_eq!(statuses(&json), ["replayed", "replayed"], "{}", json.text);
    let with_flag = batch_csv(&t, &format!("Case,Amount,ExternalId,PaidAt,AllowOverpayment\n{c1},2000,c-6,,true\n")).await;
    assert_eq!(statuses(&with_flag), ["created"], "{}", with_flag.text);

    let nul = batch_csv(&t, &format!("case,amount,externalId,paidAt\n{c1},1,c-\u{0}8,\n")).await;
    assert_eq!((nul.status, &nul.body["businessErrors"][0]["field"]), (StatusCode::BAD_REQUEST, &json!("body")), "{}", nul.text);
    let tab = batch_csv(&t, &format!("case,amount,externalId,paidAt\n{c1},1,c-\t8,\n")).await;
    assert_eq!(rejection(&tab, 0), ("ValidationError".into(), Some("externalId".into())), "{}", tab.text);
    for header in ["case,amount,paidAt,externalId\n", "externalId\n", ""] {
        let bad = batch_csv(&t, &format!("{header}{c1},1,c-7,\n")).await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{header:?}: {}", bad.text);
        assert_eq!(bad.body["businessErrors"][0]["field"], "header", "{}", bad.text);
    }
    assert_reconciled(&t).await;
}

/// What makes the request itself invalid is a 400 and books nothing; a batch may be
/// larger than the service's 1 MiB body limit.
async fn a_batch_that_is_not_one_is_a_400(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("L-1", "1000", "GBP", "GB")]).await;
    let good = json!({"case": refs[0], "amount": 1, "externalId": "l-1"});

    let too_many = batch(&t, json!({"payments": vec![good.clone(); 10_001]})).await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST, "{}", too_many.text);
    assert_eq!(too_many.body["businessErrors"][0]["field"], "payments");
    let csv = format!("case,amount,externalId,paidAt\n{}", format!("{},1,l-1,\n", refs[0]).repeat(10_001));
    let too_many = batch_csv(&t, &csv).await;
    assert_eq!(too_many.status, StatusCode::BAD_REQUEST, "{}", too_many.text);
    assert_eq!(too_many.body["businessErrors"][0]["field"], "payments");

    let unknown = batch(&t, json!({"payments": [good.clone(), {"case": refs[0], "amout": 1, "externalId": "l-2"}]})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    assert_eq!(unknown.body["businessErrors"][0]["field"], "payments[1].amout", "{}", unknown.text);
    let unknown = batch(&t, json!({"payments": [good.clone()], "dryRun": true})).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.text);
    assert_eq!(unknown.body["businessErrors"][0]["field"], "dryRun", "{}", unknown.text);
    for body in [json!({}), json!({"payments": {"case": refs[0]}}), json!([good.clone()])] {
        let r = batch(&t, body.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
    }
    let req = Request::builder()
        .method("POST")
        .uri("/admin-api/v1/payments/batch")
        .header("authorization", format!("Bearer {ADMIN_TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from("{\"payments\": ["))
        .unwrap();
    assert_eq!(t.send(req).await.status, StatusCode::BAD_REQUEST);
    let anonymous = t.call("POST", "/admin-api/v1/payments/batch", &[], Some(json!({"payments": [good.clone()]}))).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "{}", anonymous.text);
    let id = case_id(&t, &key, &refs[0]).await;
    assert!(registered(&t, &id).await.is_empty(), "nothing was booked");

    // PascalCase binds, as everywhere; an empty batch is answered.
    let pascal = batch(&t, json!({"Payments": [{"Case": refs[0], "Amount": 1, "ExternalId": "l-1"}]})).await;
    assert_eq!(statuses(&pascal), ["created"], "{}", pascal.text);
    let empty = batch(&t, json!({"payments": []})).await;
    assert_eq!((empty.status, counts(&empty)), (StatusCode::OK, (0, 0, 0)), "{}", empty.text);

    // 10,000 payments with case ids and paidAt are over 1 MiB; the batch takes them.
    let missing = uuid::Uuid::new_v4();
    let payments: Vec<Value> = (0..10_000)
        .map(|i| json!({"case": missing, "amount": dec("12.34"), "externalId": format!("bank-{i:06}"), "paidAt": "2026-03-01T10:00:00Z"}))
        .collect();
    let body = json!({"payments": payments});
    assert!(body.to_string().len() > 1024 * 1024, "the body is larger than the general limit");
    let big = batch(&t, body).await;
    assert_eq!(big.status, StatusCode::OK, "{}", big.text.chars().take(500).collect::<String>());
    assert_eq!(counts(&big), (0, 0, 10_000));
    assert_eq!(rejection(&big, 9_999).0, "NotFound");
}

/// Batches naming the same cases in opposite orders, and single payments on those cases,
/// run at once (on PostgreSQL on separate connections): none deadlocks or fails, and
/// what is booked on a case never exceeds what was owed.
async fn concurrent_batches_and_single_payments(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("X-1", "100", "GBP", "GB"), case_body("X-2", "100", "GBP", "GB")]).await;
    let (a, b) = (refs[0].clone(), refs[1].clone());
    let items = |first: &str, second: &str, tag: &str| {
        let payments: Vec<Value> = (0..6)
            .flat_map(|i| {
                [
                    json!({"case": first, "amount": 10, "externalId": format!("{tag}-{i}-1")}),
                    json!({"case": second, "amount": 10, "externalId": format!("{tag}-{i}-2")}),
                ]
            })
            .collect();
        json!({"payments": payments})
    };
    let (one, two, s1, s2) = tokio::join!(
        batch(&t, items(&a, &b, "ab")),
        batch(&t, items(&b, &a, "ba")),
        t.pay(&a, "35", "single-a"),
        t.pay(&b, "35", "single-b"),
    );
    for r in [&one, &two] {
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        for (i, item) in r.body["results"].as_array().unwrap().iter().enumerate() {
            if item["status"] == "rejected" {
                assert_eq!(rejection(r, i).0, "PaymentExceedsRemainder", "{}", r.text);
            }
        }
    }
    for s in [&s1, &s2] {
        assert!([StatusCode::CREATED, StatusCode::UNPROCESSABLE_ENTITY].contains(&s.status), "{}", s.text);
    }
    for reference in [&a, &b] {
        let id = case_id(&t, &key, reference).await;
        let booked: i64 = registered(&t, &id).await.iter().map(|d| d["amountMinor"].as_i64().unwrap()).sum();
        assert!((9500..=10_000).contains(&booked), "{reference}: {booked} booked on 100.00 owed");
    }
    assert_reconciled(&t).await;
}

crate::both_backends!(
    a_batch_books_what_single_payments_book,
    a_mixed_batch_rejects_bad_items_alone,
    a_retried_batch_replays_everything,
    a_csv_batch,
    a_batch_that_is_not_one_is_a_400,
    concurrent_batches_and_single_payments,
);
