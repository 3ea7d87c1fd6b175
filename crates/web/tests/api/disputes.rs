//! Disputes end to end (SPEC §7): filing with the check snapshotted, the three outcomes
//! and their ledger effects, the window, isolation and the audit trail.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::{case_body, client_body, dec, path_of, Resp, TestApp};

/// Links a directly signed-up client to the partner through the 409 + approval path.
pub async fn link_by_approval(t: &TestApp, key: &str, tenant: &str, company: &str, email: &str) {
    let r = t.partner(key, "POST", "/clients", Some(client_body(tenant, company, email, vec![]))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let url = r.body["data"]["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let page = t.submit_form(&path_of(&url), &[("decision", "approve")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
}

/// A non-attributed client with a case of its own channel, paid: no earning.
/// Returns (partner key, case reference, the payment's decision id).
pub async fn non_attributed_paid(t: &TestApp, key: &str) -> (String, String) {
    let (_, client_key) = t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    link_by_approval(t, key, "nw-1", "Nordwind ApS", "niels@nordwind.test").await;
    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OWN-1", "1000", "GBP", "GB"))).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let case_ref = own.body["reference"].as_str().unwrap().to_string();
    let paid = t.pay(&case_ref, "1000.00", "p-own").await;
    assert_eq!(paid.body["attribution"]["reason"], "non_attributed_other_channel", "{}", paid.text);
    (case_ref, paid.body["attribution"]["decisionId"].as_str().unwrap().to_string())
}

/// An attributed, onboarded client with one case paid GBP 1,000.00 (earning GBP 30.00).
/// Returns (case reference, payment id).
pub async fn attributed_paid(t: &TestApp, key: &str, tenant: &str) -> (String, String) {
    let email = format!("ann@{tenant}.test");
    let created = t
        .partner(
            key,
            "POST",
            "/clients",
            Some(client_body(tenant, "Acme Ltd", &email, vec![case_body(&format!("{tenant}-1"), "1000", "GBP", "GB")])),
        )
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let signed = t.submit_form(&path_of(&url), &[("signer_name", "Ann"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    let case_ref = created.body["caseResults"]["successfulCases"][0]["reference"].as_str().unwrap().to_string();
    let paid = t.pay(&case_ref, "1000.00", &format!("{tenant}-p1")).await;
    assert_eq!(paid.body["attribution"]["referralFee"], dec("30.00"), "{}", paid.text);
    (case_ref, paid.body["paymentId"].as_str().unwrap().to_string())
}

fn dispute_body(case_ref: &str, tenant: &str) -> Value {
    json!({
        "caseReference": case_ref,
        "externalTenantId": tenant,
        "creationMethod": "We submitted it through our integration",
        "expectedOutcome": "A referral fee on the payout",
        "observation": "The check says the case came from another channel",
    })
}

async fn file(t: &TestApp, key: &str, case_ref: &str, tenant: &str) -> Resp {
    t.partner(key, "POST", "/disputes", Some(dispute_body(case_ref, tenant))).await
}

async fn report(t: &TestApp, key: &str) -> Value {
    let r = t.partner(key, "GET", "/reporting/transactions?PageSize=100", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

async fn reconciles(t: &TestApp) {
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::OK, "ledger, earnings and reporting agree: {}", r.text);
}

async fn audit_actions(t: &TestApp, id: &str) -> Vec<String> {
    let audit = t.admin("GET", &format!("/audit?entity=dispute&id={id}"), None).await;
    assert_eq!(audit.status, StatusCode::OK, "{}", audit.text);
    audit.body["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

/// Upheld: the missing earning is booked as a correction with a superseding decision.
async fn dispute_upheld(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (case_ref, decision_id) = non_attributed_paid(&t, &key).await;
    assert_eq!(report(&t, &key).await["data"].as_array().unwrap().len(), 0);

    let filed = file(&t, &key, &case_ref, "nw-1").await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    assert_eq!(filed.body["status"], "open");
    assert_eq!(filed.body["resolution"], Value::Null);
    assert_eq!(filed.body["client"]["companyName"], "Nordwind ApS");
    assert_eq!(filed.body["checkAtFiling"]["reason"], "non_attributed_other_channel");
    assert!(filed.body["deadline"].as_str().unwrap().starts_with("2026-05-01T00:00"), "{}", filed.text);
    let id = filed.body["id"].as_str().unwrap().to_string();
    let open = t.admin("GET", "/disputes?status=open", None).await;
    assert_eq!(open.body["disputes"].as_array().unwrap().len(), 1, "{}", open.text);

    let resolved =
        t.admin("POST", &format!("/disputes/{id}/resolve"), Some(json!({"outcome": "upheld", "reason": "Integration logs confirm"}))).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    assert_eq!(resolved.body["status"], "upheld");
    assert_eq!(resolved.body["resolution"]["amount"], dec("30.00"));
    let rows = report(&t, &key).await;
    let data = rows["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{rows}");
    assert_eq!(data[0]["kind"], "correction");
    assert_eq!(data[0]["earnings"]["referralFeeAmount"], dec("30.00"));
    assert_eq!(data[0]["client"]["externalTenantId"], "nw-1");
    assert_eq!(rows["summary"]["revenue"]["pendingCount"], 1);

    let check = t.admin("GET", &format!("/cases/{case_ref}/attribution"), None).await;
    let correction = check.body["decisions"].as_array().unwrap().iter().find(|d| d["engineVersion"] == "operator-correction").cloned();
    let correction = correction.unwrap_or_else(|| panic!("no correction decision: {}", check.text));
    assert_eq!(correction["supersedesId"], decision_id.as_str());
    assert_eq!(correction["attributed"], true);
    assert_eq!(correction["reason"], "partner_channel");
    let mine = t.check(&key, &case_ref).await;
    let lines = mine.body["payouts"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "the superseded decision is not listed again: {}", mine.text);
    assert_eq!(lines[0]["decision"], "attributed");
    assert_eq!(lines[0]["stage"], "Pending");
    reconciles(&t).await;

    let again = t.admin("POST", &format!("/disputes/{id}/resolve"), Some(json!({"outcome": "rejected", "reason": "no"}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.body["businessErrors"][0]["type"], "DisputeAlreadyResolved");
    let actions = audit_actions(&t, &id).await;
    assert!(actions.contains(&"dispute.filed".to_string()) && actions.contains(&"dispute.resolved".to_string()), "{actions:?}");
    let mails = t.admin("GET", "/notifications?to=ledgerly@partners.test&kind=dispute_update", None).await;
    assert_eq!(mails.body["notifications"].as_array().unwrap().len(), 2, "{}", mails.text);
}

/// Rejected: the earning sits in Disputed while open, returns after; the reason is shown.
async fn dispute_rejected(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (case_ref, _) = attributed_paid(&t, &key, "acme").await;
    let filed = file(&t, &key, &case_ref, "acme").await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    let id = filed.body["id"].as_str().unwrap().to_string();
    let summary = report(&t, &key).await["summary"]["revenue"].clone();
    assert_eq!(summary["disputedCount"], 1, "{summary}");
    assert_eq!(summary["pendingCount"], 0);
    reconciles(&t).await;

    let twice = file(&t, &key, &case_ref, "acme").await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    assert_eq!(twice.body["businessErrors"][0]["type"], "DisputeAlreadyOpen");

    let no_reason = t.admin("POST", &format!("/disputes/{id}/resolve"), Some(json!({"outcome": "rejected"}))).await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST, "{}", no_reason.text);
    let bad = t.admin("POST", &format!("/disputes/{id}/resolve"), Some(json!({"outcome": "maybe", "reason": "x"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let reason = "The case was created by the client itself before your link";
    let resolved = t.admin("POST", &format!("/disputes/{id}/resolve"), Some(json!({"outcome": "rejected", "reason": reason}))).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);

    let mine = t.partner(&key, "GET", &format!("/disputes/{id}"), None).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    assert_eq!(mine.body["status"], "rejected");
    assert_eq!(mine.body["resolution"]["reason"], reason);
    let listed = t.partner(&key, "GET", "/disputes", None).await;
    assert_eq!(listed.body["disputes"][0]["id"], id.as_str());
    let summary = report(&t, &key).await["summary"]["revenue"].clone();
    assert_eq!(summary["disputedCount"], 0, "{summary}");
    assert_eq!(summary["pendingCount"], 1);
    reconciles(&t).await;
}

/// Adjusted: the corrected amount is reached by a new adjustment earning.
async fn dispute_adjusted(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (case_ref, _) = attributed_paid(&t, &key, "acme").await;
    let id = file(&t, &key, &case_ref, "acme").await.body["id"].as_str().unwrap().to_string();
    let path = format!("/disputes/{id}/resolve");
    let missing = t.admin("POST", &path, Some(json!({"outcome": "adjusted", "reason": "fee terms"}))).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.text);
    let precise = t.admin("POST", &path, Some(json!({"outcome": "adjusted", "reason": "fee terms", "amount": dec("25.555")}))).await;
    assert_eq!(precise.status, StatusCode::BAD_REQUEST, "{}", precise.text);
    let resolved = t.admin("POST", &path, Some(json!({"outcome": "adjusted", "reason": "fee terms", "amount": dec("25.50")}))).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    assert_eq!(resolved.body["resolution"]["amount"], dec("25.50"));
    let rows = report(&t, &key).await;
    let data = rows["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{rows}");
    let adj = data.iter().find(|r| r["kind"] == "adjustment").expect("an adjustment row");
    assert_eq!(adj["earnings"]["referralFeeAmount"], dec("-4.50"));
    assert_eq!(adj["reason"], "fee terms");
    // 25.50 GBP at 1.25 = 31.875 → 31.88 split over two rows: 37.50 - 5.62/5.63.
    assert_eq!(rows["summary"]["revenue"]["pendingCount"], 2);
    assert_eq!(rows["summary"]["revenue"]["disputedCount"], 0);
    reconciles(&t).await;
}

/// After the window: 422 naming the deadline.
async fn dispute_late(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (case_ref, _) = attributed_paid(&t, &key, "acme").await;
    t.advance_days(60).await;
    let late = file(&t, &key, &case_ref, "acme").await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", late.text);
    assert_eq!(late.body["businessErrors"][0]["type"], "DisputeWindowClosed");
    assert!(late.body["message"].as_str().unwrap().contains("2026-05-01 00:00 UTC"), "{}", late.text);
}

/// Another partner's dispute and case are 404; bad input is 400.
async fn dispute_isolation_and_input(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (_, other) = t.new_partner("Othercorp").await;
    let (case_ref, _) = attributed_paid(&t, &key, "acme").await;
    let id = file(&t, &key, &case_ref, "acme").await.body["id"].as_str().unwrap().to_string();
    assert_eq!(t.partner(&other, "GET", &format!("/disputes/{id}"), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.partner(&other, "GET", "/disputes", None).await.body["disputes"].as_array().unwrap().len(), 0);
    assert_eq!(t.partner(&other, "GET", "/disputes/not-a-uuid", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(file(&t, &other, &case_ref, "acme").await.status, StatusCode::NOT_FOUND);
    let unknown = file(&t, &key, "DEB-999999", "acme").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    let wrong_tenant = file(&t, &key, &case_ref, "someone-else").await;
    assert_eq!(wrong_tenant.status, StatusCode::BAD_REQUEST, "{}", wrong_tenant.text);
    let empty = t.partner(&key, "POST", "/disputes", Some(json!({"caseReference": case_ref}))).await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST, "{}", empty.text);
    assert_eq!(empty.body["businessErrors"].as_array().unwrap().len(), 4, "{}", empty.text);
    assert_eq!(t.admin("GET", "/disputes?status=whatever", None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(t.admin("GET", &format!("/disputes/{id}"), None).await.body["partnerId"].as_str().is_some(), true);
    assert!(audit_actions(&t, &id).await.contains(&"dispute.filed".to_string()));
}

crate::both_backends!(dispute_upheld, dispute_rejected, dispute_adjusted, dispute_late, dispute_isolation_and_input);

/// Two operators resolving the same dispute at once: one books the correction, the other
/// is refused; the correction exists once.
async fn racing_resolutions_book_once(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (case_ref, _) = non_attributed_paid(&t, &key).await;
    let filed = file(&t, &key, &case_ref, "nw-1").await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    let path = format!("/disputes/{}/resolve", filed.body["id"].as_str().unwrap());
    let body = json!({"outcome": "upheld", "reason": "Logs confirm"});
    let (x, y) = tokio::join!(t.admin("POST", &path, Some(body.clone())), t.admin("POST", &path, Some(body)));
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", x.text, y.text);
    let rows = report(&t, &key).await;
    assert_eq!(rows["data"].as_array().unwrap().len(), 1, "one correction: {rows}");
    reconciles(&t).await;
}

crate::both_backends!(racing_resolutions_book_once);
