//! Approving a link request replays the cases stored with it. A case that fails on replay
//! (here: a write the database refuses, which on PostgreSQL aborts the statement's
//! transaction, and a stored case today's rules refuse) is skipped with its reason, which
//! names the fact (the duplicate reference, the field errors); the approval and the other
//! cases stand.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{case_body, client_body, path_of, TestApp};

crate::both_backends!(a_case_failing_on_replay_does_not_sink_the_approval);

async fn a_case_failing_on_replay_does_not_sink_the_approval(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (client_id, client_key) = t.direct_client("Solvik Ltd", "siri@solvik.test").await;

    // The partner submits two cases; the first has no creditor reference, so on replay it
    // takes its generated case reference as one.
    let mut unnamed = case_body("unused", "700", "GBP", "GB");
    unnamed.as_object_mut().unwrap().remove("creditorReference");
    let r = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("sol-1", "Solvik Ltd", "siri@solvik.test", vec![unnamed, case_body("P-2", "900", "GBP", "GB")])),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let url = r.body["data"]["onboardingLinks"]["url"].as_str().unwrap().to_string();

    // A third stored case that the rules in force at approval refuse (stored before they
    // changed): its amount is not positive.
    let mut bad = case_body("P-3", "1", "GBP", "GB");
    bad["amountToRecover"] = json!(-5);
    let mut tx = t.app.store.begin().await.unwrap();
    let request = tx.link_requests_of_client(client_id.parse().unwrap()).await.unwrap().remove(0);
    let mut stored: Vec<serde_json::Value> = serde_json::from_str(&request.cases_json).unwrap();
    stored.push(bad);
    tx.set_link_request_cases(request.request.id, &serde_json::to_string(&stored).unwrap()).await.unwrap();
    tx.commit().await.unwrap();

    // Meanwhile the client creates cases directly; the second one's creditor reference is
    // the case reference the replayed first case is about to be given.
    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OWN-1", "100", "GBP", "GB"))).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let number: i64 = own.body["reference"].as_str().unwrap().trim_start_matches("DEB-").parse().unwrap();
    let taken = format!("DEB-{}", number + 2);
    let own2 = t.customer_key(&client_key, "POST", "/cases", Some(case_body(&taken, "100", "GBP", "GB"))).await;
    assert_eq!(own2.status, StatusCode::OK, "{}", own2.text);
    assert_eq!(own2.body["reference"], format!("DEB-{}", number + 1));

    let page = t.submit_form(&path_of(&url), &[("decision", "approve")]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Link approved"), "{}", page.text);

    // The partner sees the replayed second case, and only that.
    let cases = t.partner(&key, "GET", "/cases", None).await;
    assert_eq!(cases.status, StatusCode::OK, "{}", cases.text);
    let refs: Vec<&str> = cases.body["cases"].as_array().unwrap().iter().map(|c| c["creditorReference"].as_str().unwrap()).collect();
    assert_eq!(refs, vec!["P-2"], "{}", cases.text);

    // Why the first case was not created is recorded and told to the partner.
    let audit = t.admin("GET", "/audit?action=link_request.approved", None).await;
    let entry = &audit.body["entries"][0];
    assert_eq!(entry["detail"]["replayedCases"], 1, "{}", audit.text);
    let failed = entry["detail"]["failedCases"].as_array().unwrap();
    assert_eq!(failed.len(), 2, "{}", audit.text);
    let duplicate = failed[0].as_str().unwrap();
    assert!(duplicate.starts_with("case 0:"), "{}", audit.text);
    assert!(duplicate.contains(&format!("creditorReference `{taken}` already exists")), "names the duplicate: {duplicate}");
    let invalid = failed[1].as_str().unwrap();
    assert!(invalid.starts_with("case 2:"), "{}", audit.text);
    assert!(invalid.contains("cases[2].amountToRecover: must be greater than zero"), "names the field: {invalid}");
    let mail = t.admin("GET", "/notifications?to=ledgerly@partners.test&kind=link_approved", None).await;
    let body = mail.body["notifications"][0]["body"].as_str().unwrap().to_string();
    assert!(body.contains("1 submitted case(s) were created; 2 could not be replayed"), "{body}");
    assert_eq!(
        json!(t.admin("GET", "/notifications?kind=link_approved", None).await.body["notifications"].as_array().unwrap().len()),
        json!(1)
    );
}
