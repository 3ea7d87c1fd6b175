//! One test per seed situation; each ends in the attribution check's reason code and the
//! presence or absence of the earning.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{case_body, client_body, dec, path_of, TestApp};

/// Number of rows in the partner's transactions report.
async fn earnings(t: &TestApp, key: &str) -> usize {
    let r = t.partner(key, "GET", "/reporting/transactions?PageSize=100", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["data"].as_array().unwrap().len()
}

/// Links a directly signed-up client to the partner through the 409 + approval path.
async fn link_by_approval(t: &TestApp, key: &str, tenant: &str, company: &str, email: &str) {
    let r = t.partner(key, "POST", "/clients", Some(client_body(tenant, company, email, vec![]))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["type"], "ClientExistsNeedsLinking");
    let url = r.body["data"]["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let page = t.submit_form(&path_of(&url), &[("decision", "approve")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Link approved"));
}

/// Seed 1: non-attributed client. Its own channel does not earn; the partner's does.
async fn non_attributed_client(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (_, client_key) = t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    link_by_approval(&t, &key, "nw-1", "Nordwind ApS", "NIELS@nordwind.test").await;

    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OWN-1", "1000", "GBP", "GB"))).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let own_ref = own.body["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&own_ref, "1000.00", "p1").await.body["attribution"]["reason"], "non_attributed_other_channel");
    let check = t.check(&key, &own_ref).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.text);
    assert_eq!(check.body["reason"], "non_attributed_other_channel");
    assert_eq!(check.body["verdict"], "not_attributed");
    assert_eq!(check.body["case"]["source"], "customer_api");
    assert_eq!(earnings(&t, &key).await, 0);

    let token = t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "nw-1"}))).await;
    assert_eq!(token.status, StatusCode::OK, "{}", token.text);
    assert_eq!(token.body["tokenType"], "Bearer");
    assert_eq!(token.body["expiresIn"], 1800);
    let tok = token.body["accessToken"].as_str().unwrap();
    let via_partner = t.customer_bearer(tok, "POST", "/cases", Some(case_body("PARTNER-1", "1000", "GBP", "GB"))).await;
    assert_eq!(via_partner.status, StatusCode::OK, "{}", via_partner.text);
    let partner_ref = via_partner.body["reference"].as_str().unwrap().to_string();
    let paid = t.pay(&partner_ref, "1000.00", "p2").await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    assert_eq!(paid.body["attribution"]["reason"], "partner_channel");
    assert_eq!(paid.body["attribution"]["referralFee"], dec("30.00"));
    let check = t.check(&key, &partner_ref).await;
    assert_eq!(check.body["reason"], "partner_channel");
    assert_eq!(check.body["verdict"], "attributed");
    assert_eq!(check.body["case"]["source"], "partner_api");
    assert_eq!(earnings(&t, &key).await, 1);

    // The partner sees only the case it submitted.
    let cases = t.partner(&key, "GET", "/cases", None).await;
    let refs: Vec<&str> = cases.body["cases"].as_array().unwrap().iter().map(|c| c["reference"].as_str().unwrap()).collect();
    assert_eq!(refs, vec![partner_ref.as_str()]);
}

/// Seed 2: a link request never approved: pending, then expired after 7 test-clock days;
/// a new `POST /clients` issues a fresh approval URL.
async fn link_request_pending_then_expired(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (_, client_key) = t.direct_client("Solvik Ltd", "siri@solvik.test").await;
    let first = t.partner(&key, "POST", "/clients", Some(client_body("sol-1", "Solvik Ltd", "siri@solvik.test", vec![]))).await;
    assert_eq!(first.status, StatusCode::CONFLICT, "{}", first.text);
    assert_eq!(first.body["type"], "ClientExistsNeedsLinking");
    assert_eq!(first.body["data"]["externalTenantId"], "sol-1");
    assert!(first.body["data"].get("client").is_none(), "no client data leaks on 409");
    let first_url = first.body["data"]["onboardingLinks"]["url"].as_str().unwrap().to_string();
    // Asking again while pending re-uses the request.
    let again = t.partner(&key, "POST", "/clients", Some(client_body("sol-1", "Solvik Ltd", "siri@solvik.test", vec![]))).await;
    assert_eq!(again.body["data"]["onboardingLinks"]["url"], first_url.as_str());

    let sent = t.admin("GET", "/notifications?to=siri@solvik.test&kind=link_approval_request", None).await;
    assert_eq!(sent.body["notifications"].as_array().unwrap().len(), 1, "{}", sent.text);
    assert_eq!(sent.body["notifications"][0]["status"], "outbox");
    assert!(sent.body["notifications"][0]["body"].as_str().unwrap().contains(&first_url));

    let case = t.customer_key(&client_key, "POST", "/cases", Some(case_body("S-1", "500", "GBP", "GB"))).await;
    let case_ref = case.body["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&case_ref, "100", "p1").await.body["attribution"]["reason"], "link_pending_approval");
    let check = t.check(&key, &case_ref).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.text);
    assert_eq!(check.body["reason"], "link_pending_approval");
    assert_eq!(check.body["client"]["companyName"], serde_json::Value::Null, "no company data without a link");
    assert_eq!(earnings(&t, &key).await, 0);

    t.advance_days(7).await;
    let page = t.call("GET", &path_of(&first_url), &[], None).await;
    assert_eq!(page.status, StatusCode::GONE);
    assert!(!page.text.contains("<form"), "an expired request shows no form");
    assert_eq!(t.pay(&case_ref, "100", "p2").await.body["attribution"]["reason"], "link_request_expired");
    let check = t.check(&key, &case_ref).await;
    assert_eq!(check.body["reason"], "link_request_expired");
    assert_eq!(earnings(&t, &key).await, 0);
    let expired_mail = t.admin("GET", "/notifications?kind=link_expired", None).await;
    assert_eq!(expired_mail.body["notifications"].as_array().unwrap().len(), 1, "{}", expired_mail.text);

    let fresh = t.partner(&key, "POST", "/clients", Some(client_body("sol-1", "Solvik Ltd", "siri@solvik.test", vec![]))).await;
    assert_eq!(fresh.status, StatusCode::CONFLICT);
    let fresh_url = fresh.body["data"]["onboardingLinks"]["url"].as_str().unwrap().to_string();
    assert_ne!(fresh_url, first_url);
    assert_eq!(t.call("GET", &path_of(&fresh_url), &[], None).await.status, StatusCode::OK);
}

/// Seed 3: a 202 client that never signed: no token, cases stay pending; after signing,
/// cases become Active and earn.
async fn onboarding_incomplete(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let created = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![case_body("A-1", "1000.00", "GBP", "GB")])),
        )
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    assert_eq!(created.body["onboardingDone"], false);
    assert_eq!(created.body["isAttributedClient"], true);
    let case = &created.body["caseResults"]["successfulCases"][0];
    assert_eq!(case["lifecycle"], "PendingContractSigning");
    let case_ref = case["reference"].as_str().unwrap().to_string();
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();

    let token = t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await;
    assert_eq!(token.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", token.text);
    assert_eq!(token.body["businessErrors"][0]["type"], "OnboardingIncomplete");
    assert_eq!(t.pay(&case_ref, "10", "p0").await.status, StatusCode::CONFLICT, "no payment on a pending case");
    let check = t.check(&key, &case_ref).await;
    assert_eq!(check.body["reason"], "onboarding_incomplete");
    assert_eq!(check.body["verdict"], "no_payout_yet");
    assert_eq!(check.body["client"]["onboardingUrl"], url.as_str());

    // Signing needs a name and the acceptance.
    let refused = t.submit_form(&path_of(&url), &[("signer_name", "Ann Acme")]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let signed = t.submit_form(&path_of(&url), &[("signer_name", "Ann Acme"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    assert!(signed.text.contains("Onboarding complete"));

    let cases = t.partner(&key, "GET", "/cases", None).await;
    assert_eq!(cases.body["cases"][0]["lifecycle"], "Active", "{}", cases.text);
    assert_eq!(cases.body["cases"][0]["collectionPartner"], "Britannia Collect");
    assert_eq!(t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await.status, StatusCode::OK);
    let paid = t.pay(&case_ref, "1000.00", "p1").await;
    assert_eq!(paid.body["attribution"]["reason"], "attributed_client");
    // SPEC §6 worked example: GBP 1,000 → 150.00 → 60.00 → 30.00.
    assert_eq!(paid.body["payout"]["successFee"], dec("150.00"));
    assert_eq!(paid.body["payout"]["platformFee"], dec("60.00"));
    assert_eq!(paid.body["attribution"]["referralFee"], dec("30.00"));
    assert_eq!(earnings(&t, &key).await, 1);
}

/// Seed 4: link archived after the case was created and before the payment; unarchive
/// and the next payment earns again.
async fn archived_link(t: TestApp) {
    t.collection_partners().await;
    let (partner_id, key) = t.new_partner("Ledgerly").await;
    let created = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("dub", "Dublin Ltd", "dara@dublin.test", vec![case_body("D-1", "900", "GBP", "IE")])),
        )
        .await;
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    t.submit_form(&path_of(&url), &[("signer_name", "Dara"), ("accept", "yes")]).await;
    let case_ref = created.body["caseResults"]["successfulCases"][0]["reference"].as_str().unwrap().to_string();
    let links = t.admin("GET", &format!("/links?partnerId={partner_id}"), None).await;
    let link_id = links.body["links"][0]["id"].as_str().unwrap().to_string();

    let archived = t.admin("POST", &format!("/links/{link_id}/archive"), Some(json!({"reason": "customer left"}))).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    assert_eq!(archived.body["status"], "archived");
    assert_eq!(t.pay(&case_ref, "100", "p1").await.body["attribution"]["reason"], "link_archived");
    let check = t.check(&key, &case_ref).await;
    assert_eq!(check.body["reason"], "link_archived");
    assert_eq!(earnings(&t, &key).await, 0);
    // Archived: gone from the partner's lists, no token.
    assert_eq!(t.partner(&key, "GET", "/clients/dub", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "dub"}))).await.status, StatusCode::NOT_FOUND);

    let unarchived = t.admin("POST", &format!("/links/{link_id}/unarchive"), Some(json!({"reason": "mistake"}))).await;
    assert_eq!(unarchived.status, StatusCode::OK, "{}", unarchived.text);
    assert_eq!(unarchived.body["history"].as_array().unwrap().len(), 3);
    assert_eq!(t.pay(&case_ref, "100", "p2").await.body["attribution"]["reason"], "attributed_client");
    let check = t.check(&key, &case_ref).await;
    assert_eq!(check.body["reason"], "attributed_client");
    assert_eq!(check.body["payouts"].as_array().unwrap().len(), 2);
    assert_eq!(earnings(&t, &key).await, 1);
    let audit = t.admin("GET", &format!("/audit?entity=link&id={link_id}"), None).await;
    let actions: Vec<&str> = audit.body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"link.archived") && actions.contains(&"link.active"), "{actions:?}");
    // Deleted is terminal.
    assert_eq!(t.admin("DELETE", &format!("/links/{link_id}"), None).await.status, StatusCode::OK);
    assert_eq!(t.admin("POST", &format!("/links/{link_id}/unarchive"), None).await.status, StatusCode::CONFLICT);
    assert_eq!(t.pay(&case_ref, "100", "p3").await.body["attribution"]["reason"], "link_deleted");
}

/// Seed 5: a case the client created before the link never earns through it.
async fn case_before_link(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (_, client_key) = t.direct_client("Amber AB", "bjorn@amber.test").await;
    let old = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OLD-1", "3000", "DKK", "DK"))).await;
    let old_ref = old.body["reference"].as_str().unwrap().to_string();
    link_by_approval(&t, &key, "amber", "Amber AB", "bjorn@amber.test").await;
    assert_eq!(t.pay(&old_ref, "1000", "p1").await.body["attribution"]["reason"], "case_before_link");
    let check = t.check(&key, &old_ref).await;
    assert_eq!(check.body["reason"], "case_before_link");
    let failing: Vec<&str> =
        check.body["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "fail").map(|c| c["id"].as_str().unwrap()).collect();
    assert!(failing.contains(&"case_after_link"), "{failing:?}");
    assert_eq!(earnings(&t, &key).await, 0);
}

/// The attributed client: cases from the partner, the client's own API and the operator
/// all earn.
async fn attributed_client_every_source_earns(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let created = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![case_body("A-1", "1000", "GBP", "GB")])),
        )
        .await;
    let client_id = created.body["client"]["id"].as_str().unwrap().to_string();
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    t.submit_form(&path_of(&url), &[("signer_name", "Ann"), ("accept", "yes")]).await;
    let partner_ref = created.body["caseResults"]["successfulCases"][0]["reference"].as_str().unwrap().to_string();

    let client_key = t.admin("POST", &format!("/clients/{client_id}/api-key"), None).await.body["apiKey"].as_str().unwrap().to_string();
    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("A-2", "1000", "GBP", "GB"))).await;
    let own_ref = own.body["reference"].as_str().unwrap().to_string();
    let op = t.admin("POST", &format!("/clients/{client_id}/cases"), Some(case_body("A-3", "1000", "GBP", "GB"))).await;
    assert_eq!(op.status, StatusCode::CREATED, "{}", op.text);
    let op_ref = op.body["reference"].as_str().unwrap().to_string();

    for (i, (r, source)) in [(&partner_ref, "partner_api"), (&own_ref, "customer_api"), (&op_ref, "operator")].into_iter().enumerate() {
        let paid = t.pay(r, "1000.00", &format!("p{i}")).await;
        assert_eq!(paid.body["attribution"]["reason"], "attributed_client", "{}", paid.text);
        let check = t.check(&key, r).await;
        assert_eq!(check.body["reason"], "attributed_client");
        assert_eq!(check.body["case"]["source"], source);
    }
    assert_eq!(earnings(&t, &key).await, 3);
    let report = t.partner(&key, "GET", "/reporting/transactions", None).await;
    // 3 × GBP 30.00 at 1.25 USD = USD 112.50, all still Unrecognized (Pending).
    assert_eq!(report.body["summary"]["revenue"]["pendingCount"], 3);
    assert_eq!(report.body["summary"]["revenue"]["pendingReferralFeeUsd"], dec("112.50"));
    assert_eq!(report.body["summary"]["revenue"]["paidCount"], 0);
    let cases = t.partner(&key, "GET", "/cases", None).await;
    assert_eq!(cases.body["page"]["totalResults"], 3);
}

crate::both_backends!(
    non_attributed_client,
    link_request_pending_then_expired,
    onboarding_incomplete,
    archived_link,
    case_before_link,
    attributed_client_every_source_earns,
);
