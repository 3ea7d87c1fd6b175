//! A refusal stored under an `Idempotency-Key` is the request's one answer, even for a
//! retry racing the original: both concurrent requests answer the same stored 422 (never a
//! 409), on payments and on customer cases; a refused case burns no case reference.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::{case_body, Resp, TestApp, ADMIN_TOKEN};

/// Rounds of two racing requests (on PostgreSQL each runs on its own connection).
const ROUNDS: usize = 6;

async fn pay_with_key(t: &TestApp, case_ref: &str, body: Value, key: &str) -> Resp {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    t.call("POST", &format!("/admin-api/v1/cases/{case_ref}/payments"), &[("authorization", &auth), ("Idempotency-Key", key)], Some(body))
        .await
}

async fn case_with_key(t: &TestApp, client_key: &str, body: Value, key: &str) -> Resp {
    t.call("POST", "/customer-api/cases", &[("XApiKey", client_key), ("Idempotency-Key", key)], Some(body)).await
}

/// Both answers are the one stored refusal, byte for byte.
fn assert_same_refusal(x: &Resp, y: &Resp, kind: &str) {
    assert_eq!((x.status, y.status), (StatusCode::UNPROCESSABLE_ENTITY, StatusCode::UNPROCESSABLE_ENTITY), "{} / {}", x.text, y.text);
    assert_eq!(x.body["businessErrors"][0]["type"], kind, "{}", x.text);
    assert_eq!(x.text, y.text);
}

async fn racing_refused_payments_replay_one_answer(t: TestApp) {
    t.collection_partners().await;
    let (_, client_key) = t.direct_client("Acme Ltd", "ann@acme.test").await;
    let case = t.customer_key(&client_key, "POST", "/cases", Some(case_body("C-1", "100", "GBP", "GB"))).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.text);
    let case_ref = case.body["reference"].as_str().unwrap().to_string();
    for round in 0..ROUNDS {
        let key = format!("too-much-{round}");
        let (x, y) = tokio::join!(
            pay_with_key(&t, &case_ref, json!({"amount": 500}), &key),
            pay_with_key(&t, &case_ref, json!({"amount": 500}), &key),
        );
        assert_same_refusal(&x, &y, "PaymentExceedsRemainder");
        let again = pay_with_key(&t, &case_ref, json!({"amount": 500}), &key).await;
        assert_eq!(again.text, x.text, "a later retry replays it too");
    }
}

async fn racing_refused_cases_replay_one_answer(t: TestApp) {
    t.collection_partners().await;
    let (_, client_key) = t.direct_client("Acme Ltd", "ann@acme.test").await;
    for round in 0..ROUNDS {
        // No collection partner covers the US: a refusal after the reference was drawn.
        let key = format!("uncovered-{round}");
        let body = case_body(&format!("US-{round}"), "100", "GBP", "US");
        let (x, y) = tokio::join!(case_with_key(&t, &client_key, body.clone(), &key), case_with_key(&t, &client_key, body.clone(), &key));
        assert_same_refusal(&x, &y, "NoPartnerAvailable");
        assert_eq!(case_with_key(&t, &client_key, body, &key).await.text, x.text, "a later retry replays it too");
    }
    // The refusals left no case and used up no case reference.
    let first = t.customer_key(&client_key, "POST", "/cases", Some(case_body("GB-1", "100", "GBP", "GB"))).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let refused = case_with_key(&t, &client_key, case_body("US-X", "100", "GBP", "US"), "uncovered-x").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    let second = t.customer_key(&client_key, "POST", "/cases", Some(case_body("GB-2", "100", "GBP", "GB"))).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    let number = |r: &Resp| r.body["reference"].as_str().unwrap().trim_start_matches("DEB-").parse::<i64>().unwrap();
    assert_eq!(number(&second), number(&first) + 1, "{} then {}", first.text, second.text);
    let list = t.customer_key(&client_key, "GET", "/cases", None).await;
    assert_eq!(list.body["page"]["totalResults"], 2, "{}", list.text);
}

crate::both_backends!(racing_refused_payments_replay_one_answer, racing_refused_cases_replay_one_answer);
