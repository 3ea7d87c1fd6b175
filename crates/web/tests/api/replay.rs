//! Approving a link request replays the cases stored with it. One case that fails on
//! replay (here: a write the database refuses, which on PostgreSQL aborts the statement's
//! transaction) is skipped with its reason; the approval and the other cases stand.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{case_body, client_body, path_of, TestApp};

crate::both_backends!(a_case_failing_on_replay_does_not_sink_the_approval);

async fn a_case_failing_on_replay_does_not_sink_the_approval(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (_, client_key) = t.direct_client("Solvik Ltd", "siri@solvik.test").await;

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
    assert_eq!(failed.len(), 1, "{}", audit.text);
    assert!(failed[0].as_str().unwrap().starts_with("case 0:"), "{}", audit.text);
    let mail = t.admin("GET", "/notifications?to=ledgerly@partners.test&kind=link_approved", None).await;
    let body = mail.body["notifications"][0]["body"].as_str().unwrap().to_string();
    assert!(body.contains("1 submitted case(s) were created; 1 could not be replayed"), "{body}");
    assert_eq!(
        json!(t.admin("GET", "/notifications?kind=link_approved", None).await.body["notifications"].as_array().unwrap().len()),
        json!(1)
    );
}
