//! `GET /metrics`: Prometheus text with HTTP counts per route template and the business
//! gauges (ledger balances, deliveries, e-mails, disputes); behind a bearer token when
//! `REFSHARE_METRICS_TOKEN` is set.

use std::sync::Arc;

use axum::http::StatusCode;
use refshare_app::{App, AppConfig, Environment, SystemClock};
use refshare_store::Store;

use crate::harness::{case_body, TestApp};
use crate::money::attributed_client;

async fn open_metrics(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    assert_eq!(t.pay(&refs[0], "1000.00", "p1").await.status, StatusCode::CREATED);
    let r = t.call("GET", "/metrics", &[], None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let text = &r.text;
    assert!(text.contains("refshare_ledger_balance{stage=\"Pending\",currency=\"GBP\"} 30.00\n"), "{text}");
    assert!(
        text.contains("refshare_http_requests_total{method=\"POST\",route=\"/admin-api/v1/cases/{case}/payments\",status=\"201\"}"),
        "counted under the route template, not the raw path: {text}"
    );
    assert!(!text.contains(&refs[0]), "no case reference in labels");
    assert!(
        text.contains("refshare_http_request_duration_seconds_bucket{method=\"POST\",route=\"/referral-api/clients\",le=\"+Inf\"}"),
        "{text}"
    );
    assert!(text.contains("refshare_notifications{status=\"outbox\"}"), "{text}");
}

crate::both_backends!(open_metrics);

#[tokio::test]
async fn metrics_token_is_required_when_configured() {
    let path = std::env::temp_dir().join(format!("refshare-metrics-{}.db", uuid::Uuid::new_v4().simple()));
    let store = Store::open(&format!("sqlite://{}?mode=rwc", path.display())).await.unwrap();
    let token = "metrics-token-0123456789abcdef-0123456789";
    let config = AppConfig {
        metrics_token_hash: Some(refshare_app::auth::hash_secret(token)),
        secret_keys: Some(refshare_app::seal::Keyring::single(refshare_app::seal::SecretKey::generate())),
        ..AppConfig::new("http://refshare.test", Environment::Production, refshare_app::auth::hash_secret(crate::harness::ADMIN_TOKEN))
    };
    let app = App::new(store, config, Arc::new(SystemClock)).await.unwrap();
    let router = refshare_web::router(app);
    let get = |auth: Option<String>| {
        let router = router.clone();
        async move {
            use tower::ServiceExt;
            let mut b = axum::http::Request::builder().uri("/metrics");
            if let Some(a) = auth {
                b = b.header("authorization", a);
            }
            router.oneshot(b.body(axum::body::Body::empty()).unwrap()).await.unwrap().status()
        }
    };
    assert_eq!(get(None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get(Some("Bearer wrong-token".into())).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get(Some(format!("Bearer {token}"))).await, StatusCode::OK);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
