//! `/metrics` label values stay bounded whatever clients send, and who sees what: in
//! `production` only with `REFSHARE_METRICS_TOKEN` (else 404), per-partner series only
//! for that token's bearer.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use refshare_app::{App, AppConfig, Environment, SystemClock};
use tower::ServiceExt;

use crate::harness::{case_body, Resp, TestApp};
use crate::money::attributed_client;

const TOKEN: &str = "metrics-token-0123456789abcdef-0123456789";

async fn scrape(router: &Router, auth: Option<&str>) -> Resp {
    let mut b = Request::builder().uri("/metrics");
    if let Some(a) = auth {
        b = b.header("authorization", a);
    }
    let res = router.clone().oneshot(b.body(Body::empty()).unwrap()).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let text = String::from_utf8(axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
    Resp { status, body: serde_json::from_str(&text).unwrap_or_default(), text, headers }
}

/// The same database behind another configuration.
async fn router_with(t: &TestApp, environment: Environment, token: Option<&str>) -> Router {
    let config = AppConfig { environment, metrics_token_hash: token.map(refshare_app::auth::hash_secret), ..(*t.app.config).clone() };
    refshare_web::router(App::new(t.app.store.clone(), config, Arc::new(SystemClock)).await.unwrap())
}

#[tokio::test]
async fn made_up_methods_and_unknown_paths_add_no_label_values() {
    let t = TestApp::sqlite().await.unwrap();
    let before = scrape(&t.router, None).await;
    assert_eq!(before.status, StatusCode::OK);
    for i in 0..40 {
        let method = format!("MADEUP{i}");
        let r = t.call(&method, "/referral-api/me", &[], None).await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
        t.call(&method, &format!("/unknown-{i}/x"), &[], None).await;
        t.call("GET", &format!("/referral-api/unknown-{i}"), &[], None).await;
    }
    let after = scrape(&t.router, None).await;
    assert!(!after.text.contains("MADEUP") && !after.text.contains("unknown-"), "{}", after.text);
    assert!(
        after.text.contains("refshare_http_requests_total{method=\"other\",route=\"/referral-api/me\",status=\"405\"}"),
        "{}",
        after.text
    );
    assert!(after.text.contains("method=\"other\",route=\"unmatched\""), "{}", after.text);
    // 120 odd requests: a bounded number of new series (other × {me, unmatched} ×
    // statuses, 14 lines each at most), not 14 per made-up method.
    let series = |text: &str| text.lines().filter(|l| l.contains("method=\"other\"")).count();
    assert!(series(&after.text) - series(&before.text) <= 4 * 14, "{}", after.text);
}

async fn who_sees_what(t: TestApp) {
    t.collection_partners().await;
    let (partner, key) = t.new_partner("Ledgerly").await;
    let refs = attributed_client(&t, &key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    assert_eq!(t.pay(&refs[0], "1000.00", "p1").await.status, StatusCode::CREATED);
    let per_partner = format!("refshare_partner_ledger_balance{{partner=\"{partner}\",stage=\"Pending\",currency=\"GBP\"}} 30.00\n");
    let bearer = format!("Bearer {TOKEN}");

    // `test` without a token: open, totals only.
    let r = scrape(&t.router, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text.contains("refshare_ledger_balance{stage=\"Pending\",currency=\"GBP\"} 30.00\n"), "{}", r.text);
    assert!(!r.text.contains("refshare_partner_") && !r.text.contains(&partner), "no per-tenant series: {}", r.text);

    // `production` without a token: not there at all.
    let prod_open = router_with(&t, Environment::Production, None).await;
    let r = scrape(&prod_open, None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.body["error"], "NotFound", "{}", r.text);
    assert!(!r.text.contains("refshare_"), "{}", r.text);

    // With a token (either environment): only its bearer, who also sees each partner.
    for env in [Environment::Production, Environment::Test] {
        let router = router_with(&t, env, Some(TOKEN)).await;
        assert_eq!(scrape(&router, None).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(scrape(&router, Some("Bearer wrong")).await.status, StatusCode::UNAUTHORIZED);
        let r = scrape(&router, Some(&bearer)).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(r.text.contains(&per_partner), "{env:?}: {}", r.text);
        assert!(r.text.contains("refshare_ledger_balance{stage=\"Pending\",currency=\"GBP\"} 30.00\n"), "{}", r.text);
    }
}

crate::both_backends!(who_sees_what);
