//! Webhooks end to end (SPEC §9): a receiver started in the test on 127.0.0.1 records what
//! it gets and answers programmable statuses; the app runs with the test-only
//! allow-loopback setting. Delivery is driven by calling `deliver_webhooks` and moving
//! the test clock, so nothing here waits on real time.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use refshare_app::Environment;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::both_backends;
use crate::harness::{case_body, client_body, TestApp};

const MINUTE: i64 = 60_000;
/// The documented retry waits (minutes) after attempts 1‥7.
const SCHEDULE_MIN: [i64; 7] = [1, 2, 4, 8, 16, 25, 34];

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
    }
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer, in order; when empty, `fallback`.
    script: Arc<Mutex<VecDeque<u16>>>,
    fallback: Arc<Mutex<u16>>,
    url: String,
}

impl Receiver {
    async fn start(fallback: u16) -> Receiver {
        let mut r = Receiver { fallback: Arc::new(Mutex::new(fallback)), ..Receiver::default() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        r.url = format!("http://127.0.0.1:{}/hooks/refshare", listener.local_addr().unwrap().port());
        let state = r.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                state.got.lock().unwrap().push(Received { headers, body });
                let code = state.script.lock().unwrap().pop_front().unwrap_or(*state.fallback.lock().unwrap());
                StatusCode::from_u16(code).unwrap()
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }
    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
    fn count(&self) -> usize {
        self.got.lock().unwrap().len()
    }
    fn answer(&self, codes: &[u16]) {
        self.script.lock().unwrap().extend(codes);
    }
}

/// The receiver's check, written independently of the service: `t` within 300 s of
/// `now_unix`, and some `v1=` equal to hex HMAC-SHA256(secret, "{t}.{body}").
fn verify(header: &str, secret: &str, body: &[u8], now_unix: i64) -> bool {
    let mut t = None;
    let mut sigs = vec![];
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(v.to_string()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now_unix - t).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    let expected = hex::encode(mac.finalize().into_bytes());
    sigs.contains(&expected)
}

/// A partner and a receiver, on an app that may reach loopback.
async fn setup(t: &mut TestApp, fallback: u16) -> (String, Receiver) {
    t.restart(Environment::Test, true).await;
    let (_, key) = t.new_partner("Hookers").await;
    t.collection_partners().await;
    (key, Receiver::start(fallback).await)
}

async fn create_hook(t: &TestApp, key: &str, url: &str, events: &[&str]) -> Value {
    let r = t.partner(key, "POST", "/v1/Webhooks", Some(json!({"url": url, "events": events}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// A new client (one case) through `POST /clients`: emits `client.linked` and `case.created`.
async fn new_client(t: &TestApp, key: &str, tenant: &str) {
    let body = client_body(
        tenant,
        &format!("Company {tenant}"),
        &format!("owner@{tenant}.example"),
        vec![case_body("INV-1", "100.00", "GBP", "GB")],
    );
    let r = t.partner(key, "POST", "/clients", Some(body)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
}

async fn deliver(t: &TestApp) -> refshare_app::webhooks::DeliveryReport {
    t.app.deliver_webhooks().await.expect("delivery runs")
}

async fn advance(t: &TestApp, ms: i64) {
    t.app.advance_test_clock(ms).await.expect("advance");
}

async fn log(t: &TestApp, key: &str, hook_id: &str) -> Vec<Value> {
    let r = t.partner(key, "GET", &format!("/v1/Webhooks/{hook_id}/deliveries?PageSize=100"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["deliveries"].as_array().unwrap().clone()
}

fn ms_of(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a timestamp")).unwrap().timestamp_millis()
}

both_backends!(
    signature_round_trip,
    retry_schedule_under_the_test_clock,
    auto_disable_after_eight_consecutive_failures,
    gone_disables_at_once,
    ssrf_refused_at_registration_and_delivery,
    same_event_id_after_a_restart,
    both_secrets_sign_during_rotation,
    crud_and_tenant_isolation,
);

async fn signature_round_trip(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 200).await;
    let hook = create_hook(&t, &key, &rx.url, &["client.linked", "case.created"]).await;
    let secret = hook["secret"].as_str().expect("secret shown at creation").to_string();
    new_client(&t, &key, "tenant-sig").await;
    let report = deliver(&t).await;
    assert_eq!((report.attempted, report.delivered), (2, 2), "{report:?}");

    let got = rx.got();
    let now = t.app.wall_now().timestamp();
    let mut types = vec![];
    for g in &got {
        assert_eq!(g.header("content-type"), "application/json");
        let sig = g.header("x-debitura-signature");
        assert!(verify(&sig, &secret, &g.body, now), "signature verifies: {sig}");
        let mut tampered = g.body.to_vec();
        let at = tampered.iter().position(|b| *b == b'"').unwrap();
        tampered.insert(at, b' ');
        tampered.push(b' ');
        assert!(!verify(&sig, &secret, &tampered, now), "a tampered body is refused");
        assert!(!verify(&sig, &secret, &g.body, now + 301), "outside the tolerance");
        let body = g.json();
        assert_eq!(g.header("x-debitura-event-id"), body["id"].as_str().unwrap());
        assert!(body["createdUtc"].is_string());
        assert_eq!(body["data"]["externalTenantId"], "tenant-sig");
        types.push(body["type"].as_str().unwrap().to_string());
        if body["type"] == "case.created" {
            assert!(body["data"]["caseId"].is_string() && body["data"]["reference"].is_string(), "{body}");
        }
    }
    types.sort();
    assert_eq!(types, ["case.created", "client.linked"]);
    assert_eq!(deliver(&t).await.attempted, 0, "delivered once");
    let entries = log(&t, &key, hook["id"].as_str().unwrap()).await;
    assert!(entries.iter().all(|e| e["status"] == "Delivered" && e["attempts"][0]["statusCode"] == 200), "{entries:?}");
}

async fn retry_schedule_under_the_test_clock(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 500).await;
    let hook = create_hook(&t, &key, &rx.url, &["client.linked"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    new_client(&t, &key, "tenant-retry").await;
    assert_eq!(deliver(&t).await.attempted, 1);
    for (i, wait_min) in SCHEDULE_MIN.iter().enumerate() {
        let attempts_so_far = i + 1;
        let entry = log(&t, &key, &id).await.remove(0);
        assert_eq!(entry["status"], "Pending");
        assert_eq!(entry["attemptCount"], attempts_so_far as i64);
        let last_at = ms_of(&entry["attempts"][i]["attemptedUtc"]);
        assert_eq!(ms_of(&entry["nextAttemptUtc"]) - last_at, wait_min * MINUTE, "wait after attempt {attempts_so_far}");
        // Not before it is due…
        assert_eq!(deliver(&t).await.attempted, 0);
        advance(&t, wait_min * MINUTE - 1_000).await;
        assert_eq!(deliver(&t).await.attempted, 0, "nothing is sent before attempt {} is due", attempts_so_far + 1);
        assert_eq!(rx.count(), attempts_so_far);
        // …and once it is.
        advance(&t, 1_000).await;
        assert_eq!(deliver(&t).await.attempted, 1);
        assert_eq!(rx.count(), attempts_so_far + 1);
    }
    let entry = log(&t, &key, &id).await.remove(0);
    assert_eq!(entry["status"], "Failed", "8 attempts in total");
    assert_eq!(entry["attemptCount"], 8);
    assert!(entry["nextAttemptUtc"].is_null());
    let span = ms_of(&entry["attempts"][7]["attemptedUtc"]) - ms_of(&entry["attempts"][0]["attemptedUtc"]);
    assert!((90 * MINUTE..91 * MINUTE).contains(&span), "about 1.5 h: {span} ms");
    advance(&t, 24 * 60 * MINUTE).await;
    assert_eq!(deliver(&t).await.attempted, 0);
    let ids: Vec<String> = rx.got().iter().map(|g| g.json()["id"].as_str().unwrap().to_string()).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "one event id across retries");
}

async fn auto_disable_after_eight_consecutive_failures(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 503).await;
    let hook = create_hook(&t, &key, &rx.url, &["client.linked", "case.created"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    new_client(&t, &key, "tenant-disable").await;
    let mut disabled = 0;
    for wait in [0].iter().chain(SCHEDULE_MIN.iter()) {
        advance(&t, wait * MINUTE + 1).await;
        disabled += deliver(&t).await.subscriptions_disabled;
        if disabled > 0 {
            break;
        }
    }
    assert_eq!(disabled, 1);
    assert_eq!(rx.count(), 8, "two events, four failed attempts each, make eight in a row");
    let r = t.partner(&key, "GET", &format!("/v1/Webhooks/{id}"), None).await;
    assert_eq!(r.body["isActive"], false, "{}", r.text);
    assert!(r.body["disabledReason"].as_str().unwrap().contains("8 consecutive"), "{}", r.text);
    assert!(r.body["secret"].is_null());
    let entries = log(&t, &key, &id).await;
    assert!(entries.iter().all(|e| e["status"] == "Abandoned" || e["status"] == "Failed"), "{entries:?}");
    // Nothing more goes out, and new events are not queued for a disabled webhook.
    advance(&t, 120 * MINUTE).await;
    new_client(&t, &key, "tenant-disable-2").await;
    assert_eq!(deliver(&t).await.attempted, 0);
    // Re-enabling clears the reason; new events flow again.
    *rx.fallback.lock().unwrap() = 204;
    let r = t.partner(&key, "PUT", &format!("/v1/Webhooks/{id}"), Some(json!({"isActive": true}))).await;
    assert_eq!((r.body["isActive"].clone(), r.body["disabledReason"].clone()), (json!(true), Value::Null), "{}", r.text);
    new_client(&t, &key, "tenant-disable-3").await;
    assert_eq!(deliver(&t).await.delivered, 2);
}

async fn gone_disables_at_once(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 410).await;
    let hook = create_hook(&t, &key, &rx.url, &["client.linked", "case.created"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    new_client(&t, &key, "tenant-gone").await;
    let report = deliver(&t).await;
    assert_eq!(
        (report.attempted, report.subscriptions_disabled),
        (1, 1),
        "the first 410 disables; the other delivery is abandoned: {report:?}"
    );
    let r = t.partner(&key, "GET", &format!("/v1/Webhooks/{id}"), None).await;
    assert_eq!(r.body["isActive"], false);
    assert!(r.body["disabledReason"].as_str().unwrap().contains("410"), "{}", r.text);
    let mut statuses: Vec<String> = log(&t, &key, &id).await.iter().map(|e| e["status"].as_str().unwrap().to_string()).collect();
    statuses.sort();
    assert_eq!(statuses, ["Abandoned", "Failed"]);
    advance(&t, 120 * MINUTE).await;
    assert_eq!(deliver(&t).await.attempted, 0);
    assert_eq!(rx.count(), 1);
}

async fn ssrf_refused_at_registration_and_delivery(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 200).await;
    // Registered while loopback is allowed (test setting) …
    let hook = create_hook(&t, &key, &rx.url, &["client.linked"]).await;
    let id = hook["id"].as_str().unwrap().to_string();
    for url in ["https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "https://192.168.1.1/", "http://example.com/hook"] {
        let r = t.partner(&key, "POST", "/v1/Webhooks", Some(json!({"url": url, "events": ["client.linked"]}))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url} with loopback allowed: {}", r.text);
    }
    new_client(&t, &key, "tenant-ssrf").await;

    // … then the setting is off: registration refuses loopback and private hosts …
    t.restart(Environment::Test, false).await;
    for url in [
        rx.url.as_str(),
        "http://127.0.0.1/hook",
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "https://192.168.1.1/hook",
        "https://100.64.0.1/hook",
        "https://[fd00::1]/hook",
    ] {
        let r = t.partner(&key, "POST", "/v1/Webhooks", Some(json!({"url": url, "events": ["client.linked"]}))).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{url}: {}", r.text);
        assert_eq!(r.body["businessErrors"][0]["field"], "url", "{url}: {}", r.text);
        assert!(!r.body["message"].as_str().unwrap().is_empty());
    }
    let r = t.partner(&key, "PUT", &format!("/v1/Webhooks/{id}"), Some(json!({"url": "https://10.1.2.3/x"}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "updates are checked too: {}", r.text);

    // … and delivery to the already registered loopback URL is refused and logged.
    let report = deliver(&t).await;
    assert_eq!((report.attempted, report.delivered), (1, 0), "{report:?}");
    assert_eq!(rx.count(), 0, "nothing reached the loopback receiver");
    let entry = log(&t, &key, &id).await.remove(0);
    assert_eq!(entry["status"], "Pending");
    let error = entry["attempts"][0]["error"].as_str().unwrap();
    assert!(error.contains("not allowed") && !error.contains("127.0.0.1"), "a generic reason, never the address: {error}");
    assert!(entry["attempts"][0]["statusCode"].is_null());
}

async fn same_event_id_after_a_restart(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 200).await;
    rx.answer(&[500]);
    create_hook(&t, &key, &rx.url, &["client.linked"]).await;
    new_client(&t, &key, "tenant-restart").await;
    assert_eq!(deliver(&t).await.retrying, 1);

    // A new process over the same database: nothing about the delivery was in memory.
    t.restart(Environment::Test, true).await;
    assert_eq!(deliver(&t).await.attempted, 0, "the retry is not due yet");
    advance(&t, MINUTE).await;
    assert_eq!(deliver(&t).await.delivered, 1);
    let got = rx.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].json()["id"], got[1].json()["id"], "the same event id");
    assert_eq!(got[0].header("x-debitura-event-id"), got[1].header("x-debitura-event-id"));
    assert_eq!(got[0].body, got[1].body, "the same body");
}

async fn both_secrets_sign_during_rotation(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 200).await;
    let hook = create_hook(&t, &key, &rx.url, &["client.linked"]).await;
    let id = hook["id"].as_str().unwrap();
    let old = hook["secret"].as_str().unwrap().to_string();
    let r = t.partner(&key, "PUT", &format!("/v1/Webhooks/{id}"), Some(json!({"regenerateSecret": true}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let new = r.body["secret"].as_str().expect("new secret returned").to_string();
    assert_ne!(new, old);
    assert!(t.partner(&key, "GET", &format!("/v1/Webhooks/{id}"), None).await.body["secret"].is_null());

    new_client(&t, &key, "tenant-rot-1").await;
    deliver(&t).await;
    let g = rx.got().remove(0);
    let sig = g.header("x-debitura-signature");
    assert_eq!(sig.matches("v1=").count(), 2, "{sig}");
    let now = t.app.wall_now().timestamp();
    assert!(verify(&sig, &new, &g.body, now), "new secret verifies");
    assert!(verify(&sig, &old, &g.body, now), "old secret verifies during the overlap");

    advance(&t, 24 * 60 * MINUTE + 1).await;
    new_client(&t, &key, "tenant-rot-2").await;
    deliver(&t).await;
    let g = rx.got().remove(1);
    let sig = g.header("x-debitura-signature");
    let now = t.app.wall_now().timestamp();
    assert_eq!(sig.matches("v1=").count(), 1, "{sig}");
    assert!(verify(&sig, &new, &g.body, now));
    assert!(!verify(&sig, &old, &g.body, now), "the old secret stops after 24 h");
}

async fn crud_and_tenant_isolation(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 200).await;
    let (_, other) = t.new_partner("Other").await;
    let created = create_hook(&t, &key, "https://hooks.partner.example/refshare", &["case.created", "client.linked"]).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["isActive"], true);
    assert_eq!(created["isTestMode"], false);
    assert!(created["disabledReason"].is_null());
    assert!(created["secret"].as_str().unwrap().len() >= 40, "32 bytes in Base64");

    let list = t.partner(&key, "GET", "/v1/Webhooks", None).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    assert!(list.body[0]["secret"].is_null(), "no secret in listings");
    let one = t.partner(&key, "GET", &format!("/v1/Webhooks/{id}"), None).await;
    assert_eq!(one.body["url"], "https://hooks.partner.example/refshare");

    let r = t
        .partner(&key, "PUT", &format!("/v1/Webhooks/{id}"), Some(json!({"url": rx.url, "events": ["client.linked"], "isTestMode": true})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["events"].clone(), r.body["isTestMode"].clone()), (json!(["client.linked"]), json!(true)));
    assert!(r.body["secret"].is_null());

    for (body, field) in [
        (json!({"url": "https://h.example/x", "events": ["client.linked", "client.teleported"]}), "events[1]"),
        (json!({"url": "https://h.example/x", "events": []}), "events"),
        (json!({"url": "https://h.example/x"}), "events"),
        (json!({"events": ["client.linked"]}), "url"),
        (json!({"url": "not a url", "events": ["client.linked"]}), "url"),
    ] {
        let r = t.partner(&key, "POST", "/v1/Webhooks", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.text);
        assert_eq!(r.body["businessErrors"][0]["field"], field, "{body}: {}", r.text);
    }
    let r = t.partner(&key, "PUT", &format!("/v1/Webhooks/{id}"), Some(json!({"events": ["nope"]}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Another partner's webhook does not exist for them.
    for (m, path, body) in [
        ("GET", format!("/v1/Webhooks/{id}"), None),
        ("PUT", format!("/v1/Webhooks/{id}"), Some(json!({"isActive": false}))),
        ("DELETE", format!("/v1/Webhooks/{id}"), None),
        ("GET", format!("/v1/Webhooks/{id}/deliveries"), None),
        ("GET", "/v1/Webhooks/not-a-uuid".to_string(), None),
    ] {
        let r = t.partner(&other, m, &path, body).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{m} {path}: {}", r.text);
    }
    assert!(t.partner(&other, "GET", "/v1/Webhooks", None).await.body.as_array().unwrap().is_empty());
    assert_eq!(t.call("GET", "/referral-api/v1/Webhooks", &[], None).await.status, StatusCode::UNAUTHORIZED);

    // Test events go through the same outbox.
    new_client(&t, &key, "tenant-crud").await;
    deliver(&t).await;
    let r =
        t.partner(&key, "POST", "/v1/Webhooks/test", Some(json!({"eventType": "client.linked", "externalTenantId": "tenant-crud"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!((r.body["eventType"].clone(), r.body["enqueuedCount"].clone()), (json!("client.linked"), json!(1)));
    assert!(r.body["message"].is_string());
    assert_eq!(deliver(&t).await.delivered, 1);
    assert_eq!(rx.got().last().unwrap().json()["data"]["externalTenantId"], "tenant-crud");
    for (body, status) in [
        (json!({"eventType": "client.linked", "externalTenantId": "nobody"}), StatusCode::NOT_FOUND),
        (json!({"eventType": "case.created", "caseId": uuid::Uuid::new_v4()}), StatusCode::NOT_FOUND),
        (json!({"eventType": "case.created"}), StatusCode::BAD_REQUEST),
        (json!({"eventType": "client.teleported"}), StatusCode::BAD_REQUEST),
    ] {
        let r = t.partner(&key, "POST", "/v1/Webhooks/test", Some(body.clone())).await;
        assert_eq!(r.status, status, "{body}: {}", r.text);
    }
    let r = t
        .partner(&other, "POST", "/v1/Webhooks/test", Some(json!({"eventType": "client.linked", "externalTenantId": "tenant-crud"})))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another partner's client");

    // The operator sees every webhook and the log.
    let r = t.admin("GET", "/webhooks", None).await;
    assert_eq!(r.body["webhooks"].as_array().unwrap().len(), 1, "{}", r.text);
    assert!(r.body["webhooks"][0]["secret"].is_null());
    let r = t.admin("GET", &format!("/webhooks/deliveries?subscriptionId={id}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["page"]["totalResults"], 2);

    let r = t.partner(&key, "DELETE", &format!("/v1/Webhooks/{id}"), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    assert_eq!(t.partner(&key, "GET", &format!("/v1/Webhooks/{id}"), None).await.status, StatusCode::NOT_FOUND);

    // Production refuses test events.
    t.restart(Environment::Production, false).await;
    let r =
        t.partner(&key, "POST", "/v1/Webhooks/test", Some(json!({"eventType": "client.linked", "externalTenantId": "tenant-crud"}))).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
}

/// Money and disputes announce themselves: `earning.created` when a payment earns,
/// `earning.stage_changed` on the commission and on a reversal, `dispute.updated` on filing
/// and resolution — each written in the transaction of the change.
async fn money_and_dispute_events(mut t: TestApp) {
    let (key, rx) = setup(&mut t, 200).await;
    let hook = create_hook(&t, &key, &rx.url, &["earning.created", "earning.stage_changed", "dispute.updated"]).await;
    let secret = hook["secret"].as_str().unwrap().to_string();
    let refs = crate::money::attributed_client(&t, &key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    let paid = t.pay(&refs[0], "1000.00", "p1").await;
    let payout = paid.body["payout"]["id"].as_str().unwrap().to_string();
    assert_eq!(t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await.status, StatusCode::OK);
    let filed = t
        .partner(
            &key,
            "POST",
            "/disputes",
            Some(json!({"caseReference": refs[0], "externalTenantId": "acme", "creationMethod": "API", "expectedOutcome": "More", "observation": "Too little"})),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    let id = filed.body["id"].as_str().unwrap();
    let resolved =
        t.admin("POST", &format!("/disputes/{id}/resolve"), Some(json!({"outcome": "rejected", "reason": "Fee is correct"}))).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    // Integrators advance the test clock; signatures still carry the real time, which is
    // what their receivers compare against.
    advance(&t, 8 * 24 * 60 * MINUTE).await;
    deliver(&t).await;
    let wall = t.app.wall_now().timestamp();
    assert!(t.app.now().timestamp() - wall >= 8 * 24 * 3600, "the test clock is ahead");
    for g in rx.got() {
        assert!(verify(&g.header("x-debitura-signature"), &secret, &g.body, wall), "signed with the wall clock");
    }
    let events: Vec<Value> = rx.got().iter().map(|g| g.json()).collect();
    let summary: Vec<(String, Value, Value)> =
        events.iter().map(|e| (e["type"].as_str().unwrap().to_string(), e["data"]["stage"].clone(), e["data"]["status"].clone())).collect();
    let find = |ty: &str, stage: Value| summary.iter().any(|(t, s, _)| t == ty && *s == stage);
    assert!(find("earning.created", json!("Pending")), "{summary:?}");
    assert!(find("earning.stage_changed", json!("ConfirmedPendingInvoice")), "{summary:?}");
    assert!(find("earning.stage_changed", json!("Disputed")), "{summary:?}");
    let disputes: Vec<&Value> = events.iter().filter(|e| e["type"] == "dispute.updated").map(|e| &e["data"]).collect();
    assert_eq!(disputes.len(), 2, "{disputes:?}");
    assert_eq!(disputes[1]["status"], "rejected");
    assert_eq!(disputes[1]["resolutionReason"], "Fee is correct");
    let created = events.iter().find(|e| e["type"] == "earning.created").unwrap();
    assert_eq!(created["data"]["amount"], "30.00");
    assert_eq!(created["data"]["currency"], "GBP");
}

both_backends!(money_and_dispute_events);
