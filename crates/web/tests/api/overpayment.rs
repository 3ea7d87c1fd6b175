//! Money guarded against typos and retries: a payment above what is still owed is refused
//! unless the operator allows an overpayment (then flagged on the payment and in the
//! audit); the remainder goes down with each payment and back up on reversal wherever a
//! case is shown; concurrent payments cannot both pass the check; `Idempotency-Key` on
//! payments replays the first response.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::{case_body, dec, TestApp, ADMIN_TOKEN};
use crate::money::attributed_client;

/// A partner with one attributed, onboarded client "acme" and its GBP 1,000 case; returns
/// (partner key, case reference, case id).
async fn one_case(t: &TestApp) -> (String, String, String) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(t, &key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    let list = t.partner(&key, "GET", "/cases", None).await;
    let id = list.body["cases"][0]["id"].as_str().unwrap().to_string();
    (key, refs[0].clone(), id)
}

async fn pay_with(t: &TestApp, case_ref: &str, body: Value, headers: &[(&str, &str)]) -> crate::harness::Resp {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let mut all = vec![("authorization", auth.as_str())];
    all.extend_from_slice(headers);
    t.call("POST", &format!("/admin-api/v1/cases/{case_ref}/payments"), &all, Some(body)).await
}

/// Every place a partner or the client sees the case shows the same remainder.
async fn assert_remainder(t: &TestApp, key: &str, case_id: &str, want: &str) {
    let detail = t.partner(key, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    assert_eq!(detail.body["remainder"], dec(want), "referral case detail: {}", detail.text);
    assert_eq!(detail.body["grossAmount"], dec("1000.00"), "the gross amount never moves");
    let list = t.partner(key, "GET", "/cases", None).await;
    let item = list.body["cases"].as_array().unwrap().iter().find(|c| c["id"] == case_id).expect("listed");
    assert_eq!(item["remainder"], dec(want), "referral case list: {}", list.text);
    let token = t.partner(key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await;
    let tok = token.body["accessToken"].as_str().unwrap();
    let case = t.customer_bearer(tok, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.text);
    assert_eq!(case.body["remainder"], dec(want), "customer case: {}", case.text);
    assert_eq!(case.body["allocationOutstanding"]["principal"], dec(want), "customer case: {}", case.text);
    let cases = t.customer_bearer(tok, "GET", "/cases", None).await;
    assert_eq!(cases.body["cases"][0]["remainder"], dec(want), "customer case list: {}", cases.text);
}

async fn earnings_count(t: &TestApp, key: &str) -> usize {
    let r = t.partner(key, "GET", "/reporting/transactions?PageSize=100", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"].as_array().unwrap().len()
}

async fn overpayment_refused_unless_allowed(t: TestApp) {
    let (key, case_ref, case_id) = one_case(&t).await;
    assert_remainder(&t, &key, &case_id, "1000.00").await;

    // The typo of the issue: 10,000,000 on a 1,000 GBP case books nothing.
    let typo = t.pay(&case_ref, "10000000.00", "typo").await;
    assert_eq!(typo.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", typo.text);
    assert_eq!(typo.body["businessErrors"][0]["type"], "PaymentExceedsRemainder");
    assert!(typo.body["message"].as_str().unwrap().contains("1000.00 GBP"), "names the remainder: {}", typo.text);
    assert_eq!(earnings_count(&t, &key).await, 0, "nothing was booked");
    assert_remainder(&t, &key, &case_id, "1000.00").await;

    let first = t.pay(&case_ref, "400.00", "p1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["isOverpayment"], false);
    assert_remainder(&t, &key, &case_id, "600.00").await;
    let over = t.pay(&case_ref, "600.01", "p2").await;
    assert_eq!(over.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", over.text);
    assert!(over.body["message"].as_str().unwrap().contains("600.00 GBP"), "{}", over.text);

    // On the operator's word it is booked, and flagged on the payment and in the audit.
    let allowed = pay_with(&t, &case_ref, json!({"amount": 700, "externalId": "p3", "allowOverpayment": true}), &[]).await;
    assert_eq!(allowed.status, StatusCode::CREATED, "{}", allowed.text);
    assert_eq!(allowed.body["isOverpayment"], true);
    assert_eq!(allowed.body["attribution"]["referralFee"], dec("21.00"), "700 → 105 → 42 → 21");
    assert_remainder(&t, &key, &case_id, "0.00").await;
    let audit = t.admin("GET", &format!("/audit?entity=case&id={case_id}&action=payment.registered"), None).await;
    let details: Vec<&Value> = audit.body["entries"].as_array().unwrap().iter().map(|e| &e["detail"]).collect();
    assert_eq!(details.len(), 2, "{}", audit.text);
    assert_eq!(details[0]["overpayment"], false);
    assert_eq!(details[1]["overpayment"], true, "{}", audit.text);
    assert_eq!(details[1]["remainderBeforeMinor"], 60000);
    // Replaying the flagged payment by its externalId answers the first result.
    let replay = pay_with(&t, &case_ref, json!({"amount": 700, "externalId": "p3"}), &[]).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.text);
    assert_eq!(replay.body["paymentId"], allowed.body["paymentId"]);
    assert_eq!(replay.body["isOverpayment"], true);
    // A flag on a payment that fits is not an overpayment.
    let other_ref = attributed_client(&t, &key, "beta", vec![case_body("B-1", "50", "GBP", "GB")]).await;
    let fits = pay_with(&t, &other_ref[0], json!({"amount": 50, "allowOverpayment": true}), &[]).await;
    assert_eq!(fits.status, StatusCode::CREATED, "{}", fits.text);
    assert_eq!(fits.body["isOverpayment"], false);

    // Reversals give back what they took.
    let path = |r: &crate::harness::Resp| format!("/payments/{}", r.body["paymentId"].as_str().unwrap());
    assert_eq!(t.admin("DELETE", &path(&allowed), None).await.status, StatusCode::OK);
    assert_remainder(&t, &key, &case_id, "600.00").await;
    assert_eq!(t.admin("DELETE", &path(&first), None).await.status, StatusCode::OK);
    assert_remainder(&t, &key, &case_id, "1000.00").await;
    let full = t.pay(&case_ref, "1000.00", "p4").await;
    assert_eq!(full.status, StatusCode::CREATED, "the whole amount fits again: {}", full.text);
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// Racing payments on one case: however they interleave, what is booked never exceeds the
/// case amount (PostgreSQL runs them on separate connections).
async fn concurrent_payments_cannot_both_pass(t: TestApp) {
    let (key, case_ref, case_id) = one_case(&t).await;
    let (a, b, c, d) = tokio::join!(
        t.pay(&case_ref, "600.00", "r1"),
        t.pay(&case_ref, "600.00", "r2"),
        t.pay(&case_ref, "600.00", "r3"),
        t.pay(&case_ref, "600.00", "r4"),
    );
    let all = [&a, &b, &c, &d];
    let created = all.iter().filter(|r| r.status == StatusCode::CREATED).count();
    assert_eq!(created, 1, "{:?}", all.iter().map(|r| &r.text).collect::<Vec<_>>());
    for r in all.iter().filter(|r| r.status != StatusCode::CREATED) {
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.body["businessErrors"][0]["type"], "PaymentExceedsRemainder");
    }
    assert_remainder(&t, &key, &case_id, "400.00").await;
}

async fn idempotency_key_replays_payments(t: TestApp) {
    let (key, case_ref, case_id) = one_case(&t).await;
    let body = json!({"amount": 100});
    let first = pay_with(&t, &case_ref, body.clone(), &[("Idempotency-Key", "pay-1")]).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    let again = pay_with(&t, &case_ref, body.clone(), &[("Idempotency-Key", "pay-1")]).await;
    assert_eq!(again.status, StatusCode::CREATED, "the first status: {}", again.text);
    assert_eq!(again.text, first.text, "the first body, byte for byte");
    // The same case by its id is the same request.
    let by_id = pay_with(&t, &case_id, body.clone(), &[("Idempotency-Key", "pay-1")]).await;
    assert_eq!(by_id.text, first.text);
    assert_eq!(earnings_count(&t, &key).await, 1, "booked once");
    assert_remainder(&t, &key, &case_id, "900.00").await;

    // The same key with another body, or on another case, is a conflict.
    let other = pay_with(&t, &case_ref, json!({"amount": 200}), &[("Idempotency-Key", "pay-1")]).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", other.text);
    assert_eq!(other.body["businessErrors"][0]["type"], "IdempotencyConflict");
    let beta = attributed_client(&t, &key, "beta", vec![case_body("B-1", "1000", "GBP", "GB")]).await;
    let elsewhere = pay_with(&t, &beta[0], body.clone(), &[("Idempotency-Key", "pay-1")]).await;
    assert_eq!(elsewhere.body["businessErrors"][0]["type"], "IdempotencyConflict", "{}", elsewhere.text);

    // A refusal is the first response too; a 400 is not stored.
    let too_much = json!({"amount": 5000});
    let refused = pay_with(&t, &case_ref, too_much.clone(), &[("Idempotency-Key", "pay-2")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    assert_eq!(refused.body["businessErrors"][0]["type"], "PaymentExceedsRemainder");
    let refused_again = pay_with(&t, &case_ref, too_much, &[("Idempotency-Key", "pay-2")]).await;
    assert_eq!((refused_again.status, &refused_again.text), (refused.status, &refused.text));
    let bad = pay_with(&t, &case_ref, json!({"amount": "lots"}), &[("Idempotency-Key", "pay-3")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let good = pay_with(&t, &case_ref, json!({"amount": 50}), &[("Idempotency-Key", "pay-3")]).await;
    assert_eq!(good.status, StatusCode::CREATED, "the 400 was not stored: {}", good.text);
    let long = "k".repeat(256);
    let too_long = pay_with(&t, &case_ref, json!({"amount": 1}), &[("Idempotency-Key", &long)]).await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST, "{}", too_long.text);

    // A retry racing the original waits for it and replays it.
    let (x, y) = tokio::join!(
        pay_with(&t, &case_ref, json!({"amount": 10}), &[("Idempotency-Key", "pay-4")]),
        pay_with(&t, &case_ref, json!({"amount": 10}), &[("Idempotency-Key", "pay-4")]),
    );
    assert_eq!((x.status, y.status), (StatusCode::CREATED, StatusCode::CREATED), "{} / {}", x.text, y.text);
    assert_eq!(x.text, y.text);
    assert_remainder(&t, &key, &case_id, "840.00").await;

    // externalId keeps working without a key.
    let e1 = pay_with(&t, &case_ref, json!({"amount": 5, "externalId": "bank-77"}), &[]).await;
    assert_eq!(e1.status, StatusCode::CREATED, "{}", e1.text);
    let e2 = pay_with(&t, &case_ref, json!({"amount": 5, "externalId": "bank-77"}), &[]).await;
    assert_eq!(e2.status, StatusCode::OK, "{}", e2.text);
    assert_eq!(e2.body["paymentId"], e1.body["paymentId"]);
    assert_remainder(&t, &key, &case_id, "835.00").await;
}

crate::both_backends!(overpayment_refused_unless_allowed, concurrent_payments_cannot_both_pass, idempotency_key_replays_payments);
