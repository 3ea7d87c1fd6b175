//! Tenant isolation: another partner's clients, cases, checks and tokens are 404, never a
//! hint that they exist.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{case_body, client_body, path_of, TestApp};

async fn partner_b_sees_nothing_of_partner_a(t: TestApp) {
    t.collection_partners().await;
    let (_, a) = t.new_partner("Alpha").await;
    let (_, b) = t.new_partner("Beta").await;
    let created = t
        .partner(
            &a,
            "POST",
            "/clients",
            Some(client_body("shared-id", "Acme Ltd", "ann@acme.test", vec![case_body("A-1", "100", "GBP", "GB")])),
        )
        .await;
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    t.submit_form(&path_of(&url), &[("signer_name", "Ann"), ("accept", "yes")]).await;
    let case = &created.body["caseResults"]["successfulCases"][0];
    let (case_id, case_ref) = (case["id"].as_str().unwrap().to_string(), case["reference"].as_str().unwrap().to_string());
    t.pay(&case_ref, "100", "p1").await;

    for (method, path, body) in [
        ("GET", "/clients/shared-id".to_string(), None),
        ("GET", format!("/cases/{case_id}"), None),
        ("GET", format!("/attribution/cases/{case_ref}"), None),
        ("POST", "/oauth/token".to_string(), Some(json!({"externalTenantId": "shared-id"}))),
        ("POST", "/clients/shared-id/withdraw".to_string(), None),
        ("GET", "/clients/shared-id/is-deletable".to_string(), None),
        ("DELETE", "/clients/shared-id".to_string(), None),
    ] {
        let r = t.partner(&b, method, &path, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}: {}", r.text);
        assert_eq!(r.body["error"], "NotFound", "{method} {path}");
        assert!(!r.text.contains("Acme"), "{method} {path} leaks: {}", r.text);
    }
    // An unknown reference answers exactly like A's reference.
    let unknown = t.partner(&b, "GET", "/attribution/cases/DEB-99999999", None).await;
    let known = t.partner(&b, "GET", &format!("/attribution/cases/{case_ref}"), None).await;
    assert_eq!((unknown.status, unknown.body.clone()), (known.status, known.body.clone()));
    for path in ["/clients", "/cases", "/reporting/transactions"] {
        let r = t.partner(&b, "GET", path, None).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(!r.text.contains("Acme") && !r.text.contains(&case_ref), "{path} leaks: {}", r.text);
    }
    // B using the same externalTenantId creates its own client (ids are per partner), but
    // the same company (same e-mail) is refused as linked elsewhere, without details.
    let conflict = t.partner(&b, "POST", "/clients", Some(client_body("shared-id", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(conflict.status, StatusCode::CONFLICT);
    assert_eq!(conflict.body["type"], "AlreadyLinkedToAnotherPartner");
    assert!(!conflict.text.contains("Alpha"), "{}", conflict.text);
    // A token minted by A cannot read cases of another client through the Customer API.
    let token = t.partner(&a, "POST", "/oauth/token", Some(json!({"externalTenantId": "shared-id"}))).await;
    let tok = token.body["accessToken"].as_str().unwrap();
    let (_, other_key) = t.direct_client("Other Ltd", "o@other.test").await;
    let other = t.customer_key(&other_key, "POST", "/cases", Some(case_body("O-1", "100", "GBP", "GB"))).await;
    let other_id = other.body["id"].as_str().unwrap();
    assert_eq!(t.customer_bearer(tok, "GET", &format!("/cases/{other_id}"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.customer_key(&other_key, "GET", &format!("/cases/{case_id}"), None).await.status, StatusCode::NOT_FOUND);
}

crate::both_backends!(partner_b_sees_nothing_of_partner_a);
