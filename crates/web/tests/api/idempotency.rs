//! Idempotency: `Idempotency-Key` replay and conflict on `POST /cases`, `POST /clients`
//! idempotent on `externalTenantId`, payment `externalId` de-duplicated.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{case_body, client_body, TestApp};

async fn idempotency_key_on_cases(t: TestApp) {
    t.collection_partners().await;
    let (_, client_key) = t.direct_client("Acme Ltd", "ann@acme.test").await;
    let key_hdr = |k: &'static str| [("XApiKey", client_key.clone()), ("Idempotency-Key", k.to_string())];
    let post = |hdrs: [(&'static str, String); 2], body: serde_json::Value| {
        let t = &t;
        async move {
            let h: Vec<(&str, &str)> = hdrs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            t.call("POST", "/customer-api/cases", &h, Some(body)).await
        }
    };
    let first = post(key_hdr("k-1"), case_body("C-1", "100", "GBP", "GB")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let replay = post(key_hdr("k-1"), case_body("C-1", "100", "GBP", "GB")).await;
    assert_eq!(replay.status, StatusCode::OK);
    assert_eq!(replay.body, first.body, "the stored response is replayed verbatim");
    let conflict = post(key_hdr("k-1"), case_body("C-2", "200", "GBP", "GB")).await;
    assert_eq!(conflict.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", conflict.text);
    assert_eq!(conflict.body["businessErrors"][0]["type"], "IdempotencyConflict");
    // A 400 is not stored: the same key works once the body is fixed.
    let bad = post(key_hdr("k-2"), json!({"currencyCode": "GBP"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let fixed = post(key_hdr("k-2"), case_body("C-3", "100", "GBP", "GB")).await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text);
    // A business refusal (no collection partner covers the country) is stored and replayed.
    let refused = post(key_hdr("k-3"), case_body("C-4", "100", "GBP", "US")).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.text);
    assert_eq!(refused.body["businessErrors"][0]["type"], "NoPartnerAvailable");
    assert_eq!(refused.body["error"], "NoPartnerAvailable", "the stored 422 carries the full error body");
    assert_eq!(post(key_hdr("k-3"), case_body("C-4", "100", "GBP", "US")).await.body, refused.body);
    let over_long = "x".repeat(256);
    let r = t
        .call(
            "POST",
            "/customer-api/cases",
            &[("XApiKey", &client_key), ("Idempotency-Key", &over_long)],
            Some(case_body("C-5", "1", "GBP", "GB")),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let list = t.customer_key(&client_key, "GET", "/cases", None).await;
    assert_eq!(list.body["page"]["totalResults"], 2, "exactly C-1 and C-3 exist: {}", list.text);
}

async fn clients_idempotent_on_external_tenant_id(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let body = client_body("acme", "Acme Ltd", "ann@acme.test", vec![case_body("A-1", "100", "GBP", "GB")]);
    let first = t.partner(&key, "POST", "/clients", Some(body.clone())).await;
    assert_eq!(first.status, StatusCode::ACCEPTED);
    let second = t.partner(&key, "POST", "/clients", Some(body)).await;
    assert_eq!(second.status, StatusCode::ACCEPTED, "{}", second.text);
    assert_eq!(second.body["client"]["id"], first.body["client"]["id"]);
    assert_eq!(second.body["caseResults"]["successfulCases"].as_array().unwrap().len(), 0);
    assert_eq!(second.body["caseResults"]["failedCases"][0]["errorType"], "IdempotencyViolation");
    let list = t.partner(&key, "GET", "/clients", None).await;
    assert_eq!(list.body["summary"]["totalClients"], 1);
    assert_eq!(list.body["summary"]["totalCases"], 1);
    // After onboarding, a repeat answers 201.
    let url = first.body["onboardingLinks"]["url"].as_str().unwrap();
    t.submit_form(&crate::harness::path_of(url), &[("signer_name", "Ann"), ("accept", "yes")]).await;
    let third = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(third.status, StatusCode::CREATED, "{}", third.text);
    assert_eq!(third.body["onboardingDone"], true);
}

async fn payment_external_id_deduplicated(t: TestApp) {
    t.collection_partners().await;
    let (_, client_key) = t.direct_client("Acme Ltd", "ann@acme.test").await;
    let case = t.customer_key(&client_key, "POST", "/cases", Some(case_body("C-1", "100", "GBP", "GB"))).await;
    let r = case.body["reference"].as_str().unwrap().to_string();
    let first = t.pay(&r, "50", "bank-123").await;
    assert_eq!(first.status, StatusCode::CREATED);
    let second = t.pay(&r, "50", "bank-123").await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body["paymentId"], first.body["paymentId"]);
    assert_eq!(second.body["payout"]["id"], first.body["payout"]["id"]);
    let check = t.admin("GET", &format!("/cases/{r}/attribution"), None).await;
    assert_eq!(check.body["decisions"].as_array().unwrap().len(), 1, "{}", check.text);
}

crate::both_backends!(idempotency_key_on_cases, clients_idempotent_on_external_tenant_id, payment_external_id_deduplicated);

async fn payment_external_id_with_another_amount_is_refused(t: TestApp) {
    t.collection_partners().await;
    let (_, client_key) = t.direct_client("Acme Ltd", "ann@acme.test").await;
    let case = t.customer_key(&client_key, "POST", "/cases", Some(case_body("C-1", "100", "GBP", "GB"))).await;
    let r = case.body["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&r, "50", "bank-1").await.status, StatusCode::CREATED);
    let other = t.pay(&r, "60", "bank-1").await;
    assert_eq!(other.status, StatusCode::CONFLICT, "{}", other.text);
    assert_eq!(other.body["businessErrors"][0]["type"], "ExternalIdReused");
}

crate::both_backends!(payment_external_id_with_another_amount_is_refused);
