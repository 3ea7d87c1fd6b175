//! A case without a creditor reference takes its generated case reference as one. When
//! the client already uses that reference for another case, the database refuses the
//! insert; `POST /cases` answers 422 `DuplicateReference` naming it (not a 409 to retry),
//! stored and replayed under an `Idempotency-Key`, and the client can go on.

use axum::http::StatusCode;

use crate::harness::{case_body, Resp, TestApp};

async fn generated_reference_taken_is_a_duplicate_reference(t: TestApp) {
    t.collection_partners().await;
    let (_, client_key) = t.direct_client("Solvik Ltd", "siri@solvik.test").await;
    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OWN-1", "100", "GBP", "GB"))).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let number: i64 = own.body["reference"].as_str().unwrap().trim_start_matches("DEB-").parse().unwrap();
    // The next case takes the reference after its own as creditor reference.
    let taken = format!("DEB-{}", number + 2);
    let own2 = t.customer_key(&client_key, "POST", "/cases", Some(case_body(&taken, "100", "GBP", "GB"))).await;
    assert_eq!(own2.status, StatusCode::OK, "{}", own2.text);

    let mut unnamed = case_body("unused", "700", "GBP", "GB");
    unnamed.as_object_mut().unwrap().remove("creditorReference");
    let assert_duplicate = |r: &Resp| {
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
        assert_eq!(r.body["businessErrors"][0]["type"], "DuplicateReference", "{}", r.text);
        assert!(r.body["message"].as_str().unwrap().contains(&format!("`{taken}`")), "{}", r.text);
    };
    let direct = t.customer_key(&client_key, "POST", "/cases", Some(unnamed.clone())).await;
    assert_duplicate(&direct);

    // With an Idempotency-Key the refusal is stored (on PostgreSQL after the failed
    // INSERT aborted the statement) and replayed.
    let headers = [("XApiKey", client_key.as_str()), ("Idempotency-Key", "unnamed-1")];
    let keyed = t.call("POST", "/customer-api/cases", &headers, Some(unnamed.clone())).await;
    assert_duplicate(&keyed);
    let replayed = t.call("POST", "/customer-api/cases", &headers, Some(unnamed)).await;
    assert_eq!(replayed.text, keyed.text);

    // Nothing was half written: the client goes on.
    let next = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OWN-3", "100", "GBP", "GB"))).await;
    assert_eq!(next.status, StatusCode::OK, "{}", next.text);
    let list = t.customer_key(&client_key, "GET", "/cases", None).await;
    assert_eq!(list.body["page"]["totalResults"], 3, "{}", list.text);
}

crate::both_backends!(generated_reference_taken_is_a_duplicate_reference);
