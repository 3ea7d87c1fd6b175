//! Benchmark (prints figures, asserts nothing about time): single payments from 16
//! concurrent clients through the real router (in process, no TCP), with group commit
//! (`REFSHARE_PAYMENT_GROUP_MAX` 64, the default) and with one transaction per payment
//! (group max 1, how single payments were booked before group commit). Each payment is
//! attributed, so it writes what a real one writes: payment, payout, decision, earning,
//! ledger entry, two audit rows.
//!
//! Run: `cargo bench -p refshare-web --bench single_payments` (`REFSHARE_BENCH_N=3200`
//! payments per run by default; on PostgreSQL too when `REFSHARE_BENCH_PG_ADMIN_URL` names
//! a server where the bench may create and drop its databases).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use refshare_app::{App, AppConfig, Environment, SystemClock};
use refshare_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "bench-operator-token-0123456789abcdefgh";
const CLIENTS: usize = 16;
const CASES: usize = 100;

async fn call(router: &axum::Router, method: &str, path: &str, auth: (&str, &str), body: Option<Value>) -> (StatusCode, Value) {
    let b = Request::builder().method(method).uri(path).header(auth.0, auth.1);
    let req = match body {
        Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())),
        None => b.body(Body::empty()),
    }
    .unwrap();
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

async fn admin(router: &axum::Router, method: &str, path: &str, body: Option<Value>) -> Value {
    let auth = format!("Bearer {TOKEN}");
    let (s, v) = call(router, method, &format!("/admin-api/v1{path}"), ("authorization", &auth), body).await;
    assert!(s.is_success(), "{method} {path}: {s} {v}");
    v
}

/// A partner with one onboarded client holding [`CASES`] cases: every payment is attributed.
async fn setup(app: &App, router: &axum::Router) -> Vec<String> {
    admin(
        router,
        "POST",
        "/collection-partners",
        Some(json!({"name": "CP", "countries": ["GB"], "successFeePercentage": 15, "platformSharePercentage": 40})),
    )
    .await;
    admin(router, "POST", "/fx-rates", Some(json!({"date": "2020-01-01", "rates": [{"currency": "GBP", "usdPerUnit": 1.25}]}))).await;
    let partner = admin(router, "POST", "/partners", Some(json!({"companyName": "Bench", "contactEmail": "b@bench.test"}))).await;
    let key = partner["apiKey"].as_str().unwrap().to_string();
    let cases: Vec<Value> = (0..CASES)
        .map(|i| json!({"currencyCode": "GBP", "amountToRecover": 10_000_000, "creditorReference": format!("C-{i}"), "debtor": {"type": "Company", "name": format!("Debtor {i}"), "countryAlpha2": "GB"}}))
        .collect();
    let (s, created) = call(
        router,
        "POST",
        "/referral-api/clients",
        ("XApiKey", &key),
        Some(json!({"externalTenantId": "t1", "client": {"name": "Client", "country": "GB", "supportEmail": "c@client.test"}, "users": [{"name": "U", "email": "c@client.test", "isOnboardingUser": true}], "cases": cases})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{created}");
    let client_id = created["client"]["id"].as_str().unwrap().to_string();
    let link = admin(router, "GET", &format!("/links?clientId={client_id}"), None).await;
    let link_id: uuid::Uuid = link["links"][0]["id"].as_str().unwrap().parse().unwrap();
    app.request_signin("c@client.test", "127.0.0.1").await.expect("sign-in mail");
    let mail = app.store.read().await.unwrap().notifications(Some("c@client.test"), Some("sign_in"), 1).await.unwrap();
    let secret = mail[0].body.split("/login/").nth(1).and_then(|r| r.split_whitespace().next()).expect("a sign-in link").to_string();
    let session = app.signin_with_link(&secret).await.expect("sign in").session;
    let signing = refshare_app::links::Signing {
        signer_name: "Bench Signer".into(),
        accepted: true,
        ip: "127.0.0.1".into(),
        user_agent: "bench".into(),
    };
    app.sign_onboarding(link_id, signing, &session).await.expect("sign");
    created["caseResults"]["successfulCases"].as_array().unwrap().iter().map(|c| c["reference"].as_str().unwrap().to_string()).collect()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

async fn run(label: &str, url: &str, group_max: usize, n: usize) {
    let store = Store::open(url).await.expect("store");
    let config = AppConfig {
        secret_keys: Some(refshare_app::seal::Keyring::single(refshare_app::seal::SecretKey::generate())),
        payment_group_max: group_max,
        ..AppConfig::new("http://bench.test", Environment::Test, refshare_app::auth::hash_secret(TOKEN))
    };
    let app = App::new(store.clone(), config, Arc::new(SystemClock)).await.expect("app");
    let router = refshare_web::router(app.clone());
    let refs = Arc::new(setup(&app, &router).await);
    // Warm up: one payment per case.
    for (i, r) in refs.iter().enumerate() {
        admin(&router, "POST", &format!("/cases/{r}/payments"), Some(json!({"amount": 10, "externalId": format!("w{i}")}))).await;
    }
    let before = app.payment_group_stats();
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..CLIENTS {
        let (router, refs) = (router.clone(), refs.clone());
        clients.spawn(async move {
            let auth = format!("Bearer {TOKEN}");
            let mut times = Vec::new();
            for i in (c..n).step_by(CLIENTS) {
                let path = format!("/admin-api/v1/cases/{}/payments", refs[i % refs.len()]);
                let t = Instant::now();
                let (s, v) = call(
                    &router,
                    "POST",
                    &path,
                    ("authorization", &auth),
                    Some(json!({"amount": 10 + (i % 90), "externalId": format!("p{i}")})),
                )
                .await;
                assert_eq!(s, StatusCode::CREATED, "{v}");
                times.push(t.elapsed());
            }
            times
        });
    }
    let mut times: Vec<Duration> = clients.join_all().await.into_iter().flatten().collect();
    let elapsed = started.elapsed();
    times.sort();
    let after = app.payment_group_stats();
    let groups = after.groups - before.groups;
    println!(
        "[{label}] group max {group_max:>2}: {n} payments from {CLIENTS} clients in {elapsed:.2?} = {:.0}/s; latency p50 {:.1?}, p99 {:.1?}; {groups} transactions (mean {:.1} payments, largest {})",
        n as f64 / elapsed.as_secs_f64(),
        pct(&times, 0.50),
        pct(&times, 0.99),
        (after.payments - before.payments) as f64 / groups.max(1) as f64,
        after.largest,
    );
    let r = admin(&router, "GET", "/reconcile", None).await;
    assert_eq!(r["ok"], true, "{r}");
    store.close().await;
}

fn main() {
    let n: usize = std::env::var("REFSHARE_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(3200);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        for group_max in [1, 64] {
            let path = std::env::temp_dir().join(format!("refshare-bench-{}.db", uuid::Uuid::new_v4().simple()));
            run("sqlite", &format!("sqlite://{}?mode=rwc", path.display()), group_max, n).await;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
        }
        if let Ok(admin_url) = std::env::var("REFSHARE_BENCH_PG_ADMIN_URL") {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let base = admin_url.rsplit_once('/').map(|(b, _)| b.to_string()).expect("the admin URL names a database");
            for group_max in [1, 64] {
                let name = format!("refshare_bench_{}", uuid::Uuid::new_v4().simple());
                let mut c = sqlx::AnyConnection::connect(&admin_url).await.expect("admin connection");
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut c).await.expect("create database");
                run("postgres", &format!("{base}/{name}"), group_max, n).await;
                sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut c).await.expect("drop database");
            }
        }
    });
}
