//! Client bearer tokens die for good: archiving the link kills the tokens minted before,
//! and unarchiving does not revive them; revoking a partner API key kills the tokens
//! minted with that key and no other.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{client_body, path_of, TestApp};

/// A partner with one onboarded client `acme`; returns (partner id, partner key).
async fn onboarded(t: &TestApp) -> (String, String) {
    let (partner_id, key) = t.new_partner("Ledgerly").await;
    let created = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let signed = t.submit_form(&path_of(&url), &[("signer_name", "Ann Acme"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    (partner_id, key)
}

async fn mint(t: &TestApp, key: &str) -> String {
    let r = t.partner(key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["accessToken"].as_str().unwrap().to_string()
}

async fn status_with(t: &TestApp, token: &str) -> StatusCode {
    t.customer_bearer(token, "GET", "/cases", None).await.status
}

async fn archived_token_stays_dead_after_unarchive(t: TestApp) {
    let (partner_id, key) = onboarded(&t).await;
    let before = mint(&t, &key).await;
    assert_eq!(status_with(&t, &before).await, StatusCode::OK);

    let links = t.admin("GET", &format!("/links?partnerId={partner_id}"), None).await;
    let link_id = links.body["links"][0]["id"].as_str().unwrap().to_string();
    let archived = t.admin("POST", &format!("/links/{link_id}/archive"), Some(json!({"reason": "customer left"}))).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    assert_eq!(status_with(&t, &before).await, StatusCode::UNAUTHORIZED, "archived: the token is dead");

    let unarchived = t.admin("POST", &format!("/links/{link_id}/unarchive"), Some(json!({"reason": "mistake"}))).await;
    assert_eq!(unarchived.status, StatusCode::OK, "{}", unarchived.text);
    let dead = t.customer_bearer(&before, "GET", "/cases", None).await;
    assert_eq!(dead.status, StatusCode::UNAUTHORIZED, "unarchiving must not revive a token minted before the archive");
    assert_eq!(dead.body["error"], "Unauthorized", "{}", dead.text);

    // A token minted after the unarchive works, and the link's next archive kills it too.
    let after = mint(&t, &key).await;
    assert_eq!(status_with(&t, &after).await, StatusCode::OK);
    assert_eq!(status_with(&t, &before).await, StatusCode::UNAUTHORIZED);
    t.admin("POST", &format!("/links/{link_id}/archive"), Some(json!({"reason": "again"}))).await;
    t.admin("POST", &format!("/links/{link_id}/unarchive"), Some(json!({"reason": "again"}))).await;
    assert_eq!(status_with(&t, &after).await, StatusCode::UNAUTHORIZED);
}

async fn revoked_key_kills_the_tokens_minted_with_it(t: TestApp) {
    let (partner_id, old_key) = onboarded(&t).await;
    let issued = t.admin("POST", &format!("/partners/{partner_id}/api-keys"), None).await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.text);
    let new_key = issued.body["apiKey"].as_str().unwrap().to_string();
    let new_key_id = issued.body["id"].as_str().unwrap().to_string();
    let keys = t.admin("GET", &format!("/partners/{partner_id}/api-keys"), None).await;
    let old_key_id = keys.body["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["id"].as_str().unwrap().to_string())
        .find(|id| *id != new_key_id)
        .expect("the first key");

    let with_old = mint(&t, &old_key).await;
    let with_new = mint(&t, &new_key).await;
    assert_eq!(status_with(&t, &with_old).await, StatusCode::OK);
    assert_eq!(status_with(&t, &with_new).await, StatusCode::OK);

    let revoked = t.admin("DELETE", &format!("/partners/{partner_id}/api-keys/{old_key_id}"), None).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.text);
    assert_eq!(status_with(&t, &with_old).await, StatusCode::UNAUTHORIZED, "the revoked key's token is dead");
    assert_eq!(status_with(&t, &with_new).await, StatusCode::OK, "the other key's token lives on");
    assert_eq!(
        t.partner(&old_key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await.status,
        StatusCode::UNAUTHORIZED
    );
}

crate::both_backends!(archived_token_stays_dead_after_unarchive, revoked_key_kills_the_tokens_minted_with_it);
