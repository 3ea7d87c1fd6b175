//! Reads never wait for writes (issue 9, "Connections"): while a write transaction is
//! open and uncommitted, the read-only requests of partners and operators answer; and a
//! write through a read transaction is an internal error, not a panic.

use std::time::Duration;

use axum::http::StatusCode;
use refshare_app::AppError;
use refshare_store::IdempotencyRecord;

use crate::harness::{case_body, TestApp};
use crate::money::attributed_client;

/// Only a deadlock guard: without the reader pool a SQLite read waits for the writer
/// until the pool's acquire timeout (10 s) and then fails.
const GUARD: Duration = Duration::from_secs(30);

async fn reads_answer_while_a_write_is_open(mut t: TestApp) {
    t.collection_partners().await;
    let (partner_id, key) = t.new_partner("Readers").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    assert_eq!(t.pay(&refs[0], "1000.00", "p1").await.status, StatusCode::CREATED);
    // Mail delivery after each request writes; this test holds the writer.
    t.deliver_mail_after_requests = false;

    let mut write = t.app.store.begin().await.unwrap();
    let record = IdempotencyRecord { request_hash: "sha256:open".into(), status_code: 201, body: String::new() };
    write.save_idempotency("read-pool-test", "open-write", &record, t.app.now()).await.unwrap();

    let partner_reads = [
        "/me",
        "/cases",
        "/cases?Query=A-1",
        "/clients",
        "/clients/acme",
        "/reporting/transactions",
        "/statements/2026-03",
        "/disputes",
        "/v1/Webhooks",
    ];
    for path in partner_reads {
        let r = tokio::time::timeout(GUARD, t.partner(&key, "GET", path, None))
            .await
            .unwrap_or_else(|_| panic!("GET {path} waited for the open write"));
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.text);
    }
    let check = tokio::time::timeout(GUARD, t.check(&key, &refs[0])).await.expect("the attribution check waited for the open write");
    assert_eq!(check.status, StatusCode::OK, "{}", check.text);
    let operator_reads = [
        "/partners".to_string(),
        format!("/partners/{partner_id}"),
        format!("/partners/{partner_id}/api-keys"),
        format!("/partners/{partner_id}/users"),
        "/webhooks".into(),
        "/notifications".into(),
        "/audit".into(),
        "/disputes".into(),
        "/links".into(),
        "/operators".into(),
        "/fx-rates/missing".into(),
        "/reconcile".into(),
        format!("/cases/{}/attribution", refs[0]),
    ];
    for path in &operator_reads {
        let r = tokio::time::timeout(GUARD, t.admin("GET", path, None))
            .await
            .unwrap_or_else(|_| panic!("GET {path} waited for the open write"));
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.text);
    }
    let metrics = tokio::time::timeout(GUARD, t.call("GET", "/metrics", &[], None)).await.expect("/metrics waited for the open write");
    assert_eq!(metrics.status, StatusCode::OK, "{}", metrics.text);
    // None of those reads saw the uncommitted row; after the commit a read does.
    assert_eq!(t.app.store.read().await.unwrap().idempotency("read-pool-test", "open-write").await.unwrap(), None);
    write.commit().await.unwrap();
    assert_eq!(t.app.store.read().await.unwrap().idempotency("read-pool-test", "open-write").await.unwrap(), Some(record));
}

async fn a_write_through_a_read_is_an_internal_error(t: TestApp) {
    let mut read = t.app.store.read().await.unwrap();
    let record = IdempotencyRecord { request_hash: "sha256:x".into(), status_code: 201, body: String::new() };
    let err =
        read.save_idempotency("read-pool-test", "refused", &record, t.app.now()).await.expect_err("a read transaction must refuse writes");
    let err = AppError::from(err);
    assert!(matches!(err, AppError::Internal(_)), "{err:?}");
    assert_eq!(refshare_web::error::classify(&err), (StatusCode::INTERNAL_SERVER_ERROR, "InternalError"));
    drop(read);
    assert_eq!(t.app.store.begin().await.unwrap().idempotency("read-pool-test", "refused").await.unwrap(), None);
}

crate::both_backends!(reads_answer_while_a_write_is_open, a_write_through_a_read_is_an_internal_error);
