//! Benchmark harness (prints figures, asserts nothing about time): seeds one partner with
//! N attributed payments through the real router on SQLite (and PostgreSQL when
//! `REFSHARE_BENCH_PG_URL` names an empty database), then times the reporting endpoint
//! and reconciliation, and the money month over all N: commission paid, the CP invoicing
//! run, CP paid, the partner invoice and its payment, and reconciliation again.
//!
//! Run: `cargo bench -p refshare-web --bench reporting` (`REFSHARE_BENCH_N=2000` by default).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use refshare_app::{App, AppConfig, Environment, SystemClock};
use refshare_store::Store;
use serde_json::{json, Value};
use tower::ServiceExt;

const TOKEN: &str = "bench-operator-token-0123456789abcdefgh";

struct Bench {
    router: axum::Router,
}

impl Bench {
    async fn call(&self, method: &str, path: &str, auth: (&str, &str), body: Option<Value>) -> (StatusCode, Value) {
        let b = Request::builder().method(method).uri(path).header(auth.0, auth.1);
        let req = match body {
            Some(v) => b.header("content-type", "application/json").body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .unwrap();
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let auth = format!("Bearer {TOKEN}");
        let (s, v) = self.call(method, &format!("/admin-api/v1{path}"), ("authorization", &auth), body).await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }
}

async fn run(label: &str, url: &str, n: usize) {
    let store = Store::open(url).await.expect("store");
    let config = AppConfig {
        secret_keys: Some(refshare_app::seal::Keyring::single(refshare_app::seal::SecretKey::generate())),
        ..AppConfig::new("http://bench.test", Environment::Test, refshare_app::auth::hash_secret(TOKEN))
    };
    let app = App::new(store, config, Arc::new(SystemClock)).await.expect("app");
    let b = Bench { router: refshare_web::router(app.clone()) };
    b.admin(
        "POST",
        "/collection-partners",
        Some(json!({"name": "CP", "countries": ["GB"], "successFeePercentage": 15, "platformSharePercentage": 40})),
    )
    .await;
    b.admin("POST", "/fx-rates", Some(json!({"date": "2020-01-01", "rates": [{"currency": "GBP", "usdPerUnit": 1.25}]}))).await;
    let partner = b.admin("POST", "/partners", Some(json!({"companyName": "Bench", "contactEmail": "b@bench.test"}))).await;
    let key = partner["apiKey"].as_str().unwrap().to_string();
    let cases: Vec<Value> = (0..n.min(100))
        .map(|i| json!({"currencyCode": "GBP", "amountToRecover": 100000, "creditorReference": format!("C-{i}"), "debtor": {"type": "Company", "name": format!("Debtor {i}"), "countryAlpha2": "GB"}}))
        .collect();
    let (s, created) = b
        .call(
            "POST",
            "/referral-api/clients",
            ("XApiKey", &key),
            Some(json!({"externalTenantId": "t1", "client": {"name": "Client", "country": "GB", "supportEmail": "c@client.test"}, "users": [{"name": "U", "email": "c@client.test", "isOnboardingUser": true}], "cases": cases})),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{created}");
    let client_id = created["client"]["id"].as_str().unwrap().to_string();
    // Sign onboarding through the app (the hosted form needs a browser-like round trip),
    // as the client's user signed in with a sign-in mail read from the notification log.
    let link = b.admin("GET", &format!("/links?clientId={client_id}"), None).await;
    let link_id: uuid::Uuid = link["links"][0]["id"].as_str().unwrap().parse().unwrap();
    app.request_signin("c@client.test", "127.0.0.1").await.expect("sign-in mail");
    let mail = app.store.begin().await.unwrap().notifications(Some("c@client.test"), Some("sign_in"), 1).await.unwrap();
    let secret = mail[0].body.split("/login/").nth(1).and_then(|r| r.split_whitespace().next()).expect("a sign-in link").to_string();
    let session = app.signin_with_link(&secret).await.expect("sign in").session;
    app.sign_onboarding(
        link_id,
        refshare_app::links::Signing {
            signer_name: "Bench Signer".into(),
            accepted: true,
            ip: "127.0.0.1".into(),
            user_agent: "bench".into(),
        },
        &session,
    )
    .await
    .expect("sign");
    let refs: Vec<String> = created["caseResults"]["successfulCases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap().to_string())
        .collect();

    let t0 = Instant::now();
    let mut payouts = Vec::with_capacity(n);
    for i in 0..n {
        let path = format!("/cases/{}/payments", refs[i % refs.len()]);
        let r = b.admin("POST", &path, Some(json!({"amount": 10 + (i % 90), "externalId": format!("p{i}")}))).await;
        payouts.push(r["payout"]["id"].as_str().unwrap().to_string());
    }
    let seed = t0.elapsed();
    println!("[{label}] seeded {n} payments in {:.2?} ({:.2} ms each)", seed, seed.as_secs_f64() * 1000.0 / n as f64);

    for (what, path) in [
        ("transactions page 1 (100 rows)", "/referral-api/reporting/transactions?PageSize=100"),
        ("transactions filtered by search", "/referral-api/reporting/transactions?PageSize=100&Search=Debtor%201"),
    ] {
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let (s, _) = b.call("GET", path, ("XApiKey", &key), None).await;
            assert_eq!(s, StatusCode::OK);
            times.push(t.elapsed());
        }
        times.sort();
        println!("[{label}] {what}: median {:.2?}, min {:.2?}, max {:.2?}", times[2], times[0], times[4]);
    }
    let t = Instant::now();
    let r = b.admin("GET", "/reconcile", None).await;
    println!("[{label}] reconcile ({} entries, {} earnings): {:.2?}", r["entries"], r["earnings"], t.elapsed());

    // The money month over all of them.
    let t = Instant::now();
    for p in &payouts {
        b.admin("POST", &format!("/payouts/{p}/commission-paid"), None).await;
    }
    let e = t.elapsed();
    println!("[{label}] commission paid on {n} payouts: {e:.2?} ({:.2} ms each)", e.as_secs_f64() * 1000.0 / n as f64);
    let period = app.now().format("%Y-%m").to_string();
    b.admin("POST", "/test-clock/advance", Some(json!({"days": 40}))).await;
    let t = Instant::now();
    let run = b.admin("POST", "/invoicing/collection-partners/run", Some(json!({"period": period}))).await;
    println!(
        "[{label}] CP invoicing run ({} invoices over {n} payouts): {:.2?}",
        run["invoices"].as_array().map_or(0, |v| v.len()),
        t.elapsed()
    );
    let t = Instant::now();
    for inv in run["invoices"].as_array().unwrap() {
        b.admin("POST", &format!("/cp-invoices/{}/paid", inv["id"].as_str().unwrap()), None).await;
    }
    println!("[{label}] CP invoice paid (moves {n} earnings): {:.2?}", t.elapsed());
    let t = Instant::now();
    let inv = b.admin("POST", "/partner-invoices", Some(json!({"partnerId": partner["id"]}))).await;
    println!("[{label}] partner invoice over {} earnings: {:.2?}", inv["earningIds"].as_array().map_or(0, |v| v.len()), t.elapsed());
    let t = Instant::now();
    b.admin("POST", &format!("/partner-invoices/{}/paid", inv["id"].as_str().unwrap()), None).await;
    println!("[{label}] partner invoice paid: {:.2?}", t.elapsed());
    let t = Instant::now();
    let r = b.admin("GET", "/reconcile", None).await;
    println!("[{label}] reconcile after the month ({} entries): {:.2?}", r["entries"], t.elapsed());
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("REFSHARE_BENCH_N").ok().and_then(|s| s.parse().ok()).unwrap_or(2000);
    let path = std::env::temp_dir().join(format!("refshare-bench-{}.db", uuid::Uuid::new_v4().simple()));
    run("sqlite", &format!("sqlite://{}?mode=rwc", path.display()), n).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    if let Ok(url) = std::env::var("REFSHARE_BENCH_PG_URL") {
        run("postgres", &url, n).await;
    }
}
