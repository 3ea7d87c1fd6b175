//! Bad input: documented error bodies for 400/401/403/404/409/422, refused oversized
//! bodies and page sizes, and nothing half-written when a request fails midway.

use axum::http::StatusCode;
use refshare_app::Environment;
use serde_json::json;

use crate::harness::{case_body, client_body, TestApp};

fn assert_error_body(r: &crate::harness::Resp) {
    assert!(r.body["error"].is_string() && r.body["message"].is_string(), "error body: {}", r.text);
    assert!(r.body["businessErrors"][0]["type"].is_string(), "businessErrors: {}", r.text);
}

/// The 413 of an oversized body, with the standard error body.
fn assert_too_large(r: &crate::harness::Resp) {
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(r.body["error"], "PayloadTooLarge", "{}", r.text);
    assert_error_body(r);
}

async fn credentials_are_required_everywhere(t: TestApp) {
    for (path, headers) in [
        ("/referral-api/clients", vec![]),
        ("/referral-api/clients", vec![("XApiKey", "rsp_wrong")]),
        ("/referral-api/me", vec![]),
        ("/customer-api/cases", vec![]),
        ("/customer-api/cases", vec![("authorization", "Bearer not-a-jwt")]),
        ("/customer-api/me", vec![("XApiKey", "rsc_wrong")]),
        ("/admin-api/v1/partners", vec![]),
        ("/admin-api/v1/partners", vec![("authorization", "Bearer wrong-token-wrong-token-wrong-token")]),
    ] {
        let r = t.call("GET", path, &headers, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path} {headers:?}");
        assert_error_body(&r);
    }
    // A revoked key stops working.
    let (pid, key) = t.new_partner("Ledgerly").await;
    assert_eq!(t.partner(&key, "GET", "/me", None).await.status, StatusCode::OK);
    let keys = t.admin("GET", &format!("/partners/{pid}/api-keys"), None).await;
    let key_id = keys.body["apiKeys"][0]["id"].as_str().unwrap().to_string();
    let rotated = t.admin("POST", &format!("/partners/{pid}/api-keys"), None).await;
    let new_key = rotated.body["apiKey"].as_str().unwrap().to_string();
    assert_eq!(t.admin("DELETE", &format!("/partners/{pid}/api-keys/{key_id}"), None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(t.partner(&key, "GET", "/me", None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.partner(&new_key, "GET", "/me", None).await.status, StatusCode::OK);
    assert!(!keys.text.contains(&key), "keys are never shown again");
}

async fn validation_and_limits(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    // Invalid JSON, missing fields, bad values: 400 with the documented body.
    let r = t.call("POST", "/referral-api/clients", &[("XApiKey", &key), ("content-type", "application/json")], None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_error_body(&r);
    let mut bad = client_body("acme", "Acme Ltd", "not-an-email", vec![case_body("A-1", "100", "GBP", "GB")]);
    bad["cases"][0]["amountToRecover"] = json!(10.001);
    let r = t.partner(&key, "POST", "/clients", Some(bad)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_error_body(&r);
    assert!(r.text.contains("client.supportEmail") && r.text.contains("cases[0].amountToRecover"), "{}", r.text);
    // PascalCase property names bind too.
    let pascal = json!({"ExternalTenantId": "pascal", "Client": {"Name": "Pascal Ltd", "Country": "GB", "SupportEmail": "p@pascal.test"}, "Users": [{"Name": "P", "Email": "p@pascal.test"}]});
    assert_eq!(t.partner(&key, "POST", "/clients", Some(pascal)).await.status, StatusCode::ACCEPTED);
    // Page sizes above 100 are refused.
    for path in ["/clients?PageSize=101", "/cases?PageSize=1000", "/reporting/transactions?PageSize=101", "/cases?Page=0"] {
        let r = t.partner(&key, "GET", path, None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert_error_body(&r);
    }
    // Oversized bodies are refused before parsing. Without a Content-Length (as a chunked
    // body comes) the limit is hit while reading: the same 413 with the error body as a
    // declared length gets (tests/api/edge.rs), for required and optional bodies alike.
    let huge = json!({"externalTenantId": "x".repeat(2 * 1024 * 1024)});
    let r = t.partner(&key, "POST", "/clients", Some(huge.clone())).await;
    assert_too_large(&r);
    let r = t.admin("POST", &format!("/links/{}/archive", uuid::Uuid::new_v4()), Some(huge)).await;
    assert_too_large(&r);
    // Unknown endpoint and unknown ids: 404 with the body.
    let r = t.partner(&key, "GET", "/cases/not-a-uuid", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_error_body(&r);
    let r = t.call("GET", "/referral-api/nope", &[("XApiKey", &key)], None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    // Business rule: withdraw a non-existing client 404; illegal link transition 409.
    assert_eq!(t.partner(&key, "POST", "/clients/none/withdraw", None).await.status, StatusCode::NOT_FOUND);
}

async fn nothing_half_written(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    // The second case is invalid: nothing is created, not even the client.
    let body = client_body(
        "acme",
        "Acme Ltd",
        "ann@acme.test",
        vec![case_body("A-1", "100", "GBP", "GB"), json!({"currencyCode": "GBP", "amountToRecover": 5})],
    );
    let r = t.partner(&key, "POST", "/clients", Some(body)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("cases[1].debtor"), "{}", r.text);
    assert_eq!(t.partner(&key, "GET", "/clients/acme", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.partner(&key, "GET", "/clients", None).await.body["summary"]["totalClients"], 0);
    // Duplicate creditor references in one request are refused as a whole.
    let dup =
        client_body("acme", "Acme Ltd", "ann@acme.test", vec![case_body("A-1", "100", "GBP", "GB"), case_body("A-1", "200", "GBP", "GB")]);
    assert_eq!(t.partner(&key, "POST", "/clients", Some(dup)).await.status, StatusCode::BAD_REQUEST);
    let ok = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![case_body("A-1", "100", "GBP", "GB")])),
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED, "{}", ok.text);
    assert_eq!(t.partner(&key, "GET", "/clients", None).await.body["summary"]["totalCases"], 1);
    // A case refused by a business rule leaves no case and no used reference behind.
    let (_, client_key) = t.direct_client("Other Ltd", "o@other.test").await;
    let refused = t.customer_key(&client_key, "POST", "/cases", Some(case_body("X-1", "100", "GBP", "US"))).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(t.customer_key(&client_key, "GET", "/cases", None).await.body["page"]["totalResults"], 0);
    let dupe = t.customer_key(&client_key, "POST", "/cases", Some(case_body("X-1", "100", "GBP", "GB"))).await;
    assert_eq!(dupe.status, StatusCode::OK, "the refused creditor reference stays free: {}", dupe.text);
    let again = t.customer_key(&client_key, "POST", "/cases", Some(case_body("X-1", "100", "GBP", "GB"))).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.body["businessErrors"][0]["type"], "DuplicateReference");
}

crate::both_backends!(credentials_are_required_everywhere, validation_and_limits, nothing_half_written);

#[tokio::test]
async fn test_only_endpoints_are_forbidden_in_production() {
    let t = TestApp::sqlite_in(Environment::Production).await.unwrap();
    let r = t.admin("POST", "/test-clock/advance", Some(json!({"days": 1}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_error_body(&r);
    assert_eq!(t.admin("GET", "/test-clock", None).await.status, StatusCode::FORBIDDEN);
    let (_, key) = t.new_partner("Ledgerly").await;
    t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(t.partner(&key, "DELETE", "/clients/acme", None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(t.partner(&key, "GET", "/clients/acme/is-deletable", None).await.status, StatusCode::FORBIDDEN);
}
