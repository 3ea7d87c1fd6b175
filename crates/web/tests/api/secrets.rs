//! Secrets sealed at rest: the stored server secret and webhook secrets are not the
//! plaintext and nothing read from the database reproduces a token's or a delivery's
//! signature; an App with another key refuses to start, naming `REFSHARE_SECRET_KEY`;
//! plaintext secrets of an older database are sealed on start and keep working; a key
//! rotation (`REFSHARE_SECRET_KEY_OLD`) seals everything again under the new key.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use hmac::{Hmac, Mac};
use refshare_app::seal::{Keyring, SecretKey};
use serde_json::json;
use sha2::Sha256;

use crate::harness::{client_body, path_of, TestApp};

/// Records the signature header and body of every webhook it gets; answers 200.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(String, Bytes)>>>,
    url: String,
}

impl Receiver {
    async fn start() -> Receiver {
        let mut r = Receiver::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        r.url = format!("http://127.0.0.1:{}/hooks", listener.local_addr().unwrap().port());
        let got = r.got.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let got = got.clone();
            async move {
                let sig = headers.get("x-debitura-signature").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                got.lock().unwrap().push((sig, body));
                StatusCode::OK
            }
        });
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        r
    }

    fn last(&self) -> (String, Bytes) {
        self.got.lock().unwrap().last().cloned().expect("a delivery arrived")
    }
}

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(msg);
    hex::encode(mac.finalize().into_bytes())
}

/// The `v1=` signatures of a header, and whether one is HMAC(secret, "{t}.{body}").
fn signed_with(header: &str, secret: &[u8], body: &[u8]) -> bool {
    let t = header.split(',').find_map(|p| p.strip_prefix("t=")).expect("t=");
    let expected = hmac_hex(secret, format!("{t}.{}", String::from_utf8_lossy(body)).as_bytes());
    header.split(',').filter_map(|p| p.strip_prefix("v1=")).any(|v| v == expected)
}

/// Every key an attacker holding the stored text could try: the text, its hex and Base64
/// readings, and every 32-byte window of the decoded blob.
fn candidates(stored: &str) -> Vec<Vec<u8>> {
    let mut out = vec![stored.as_bytes().to_vec()];
    let body = stored.rsplit(':').next().unwrap_or(stored);
    for decoded in [
        hex::decode(stored).ok(),
        base64::engine::general_purpose::STANDARD_NO_PAD.decode(body.trim_end_matches('=')).ok(),
        base64::engine::general_purpose::STANDARD.decode(stored).ok(),
    ]
    .into_iter()
    .flatten()
    {
        for w in decoded.windows(32) {
            out.push(w.to_vec());
        }
        out.push(decoded);
    }
    out
}

/// Whether the token's signature is HMAC-SHA256 under `key` (how a forger would mint).
fn token_signed_with(token: &str, key: &[u8]) -> bool {
    let (signed, sig) = token.rsplit_once('.').unwrap();
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hex::decode(hmac_hex(key, signed.as_bytes())).unwrap());
    expected == sig
}

/// A partner, an onboarded client `acme` and a webhook on `client.linked` to `receiver`;
/// returns (partner key, webhook id, webhook secret as handed out).
async fn setup(t: &mut TestApp, receiver: &Receiver) -> (String, String, String) {
    let key = t.keys.current().clone();
    setup_with(t, receiver, key).await
}

/// [`setup`] on an App sealing with `key`.
async fn setup_with(t: &mut TestApp, receiver: &Receiver, key: SecretKey) -> (String, String, String) {
    t.restart_with_keys(Keyring::single(key)).await.expect("restart with loopback webhooks");
    let (_, key) = t.new_partner("Ledgerly").await;
    let hook = t.partner(&key, "POST", "/v1/Webhooks", Some(json!({"url": receiver.url, "events": ["client.linked"]}))).await;
    assert_eq!(hook.status, StatusCode::OK, "{}", hook.text);
    let created = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let signed = t.submit_form(&path_of(&url), &[("signer_name", "Ann Acme"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    (key, hook.body["id"].as_str().unwrap().to_string(), hook.body["secret"].as_str().unwrap().to_string())
}

async fn mint(t: &TestApp, key: &str) -> String {
    let r = t.partner(key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["accessToken"].as_str().unwrap().to_string()
}

async fn stored_server_secret(t: &TestApp) -> String {
    t.app.store.begin().await.unwrap().setting("secret").await.unwrap().expect("a server secret")
}

async fn stored_webhook(t: &TestApp, id: &str) -> refshare_store::WebhookSubscriptionRecord {
    t.app.store.begin().await.unwrap().webhook_subscription(id.parse().unwrap()).await.unwrap().expect("the webhook")
}

/// Queues a `client.linked` (a new client) and delivers it; returns what arrived.
async fn delivered(t: &TestApp, key: &str, receiver: &Receiver, tenant: &str) -> (String, Bytes) {
    let r =
        t.partner(key, "POST", "/clients", Some(client_body(tenant, &format!("{tenant} Ltd"), &format!("o@{tenant}.test"), vec![]))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let report = t.app.deliver_webhooks().await.expect("delivery runs");
    assert!(report.delivered >= 1, "{report:?}");
    receiver.last()
}

async fn secrets_are_sealed_and_useless_without_the_key(mut t: TestApp) {
    let receiver = Receiver::start().await;
    let (key, hook_id, hook_secret) = setup(&mut t, &receiver).await;
    let token = mint(&t, &key).await;

    // The server secret as stored is sealed, and nothing read from it signs the token.
    let server = stored_server_secret(&t).await;
    assert!(server.starts_with("sealed:v1:"), "{server}");
    for c in candidates(&server) {
        assert!(!token_signed_with(&token, &c), "the stored server secret signs tokens");
    }
    // The webhook secret as stored is sealed and does not contain the secret.
    let hook = stored_webhook(&t, &hook_id).await;
    assert!(hook.secret.starts_with("sealed:v1:") && !hook.secret.contains(&hook_secret), "{}", hook.secret);
    for c in candidates(&hook.secret) {
        assert_ne!(c, hook_secret.as_bytes(), "the stored webhook secret is the secret");
    }
    // ... and the service still signs with the secret it handed out.
    let (sig, body) = delivered(&t, &key, &receiver, "beta").await;
    assert!(signed_with(&sig, hook_secret.as_bytes(), &body), "{sig}");
    for c in candidates(&hook.secret) {
        assert!(!signed_with(&sig, &c, &body), "the stored webhook secret signs deliveries");
    }

    // Another key does not open the server secret: a clear error, the database untouched.
    let other = Keyring::single(SecretKey::generate());
    let err = t.restart_with_keys(other.clone()).await.expect_err("another key must not open the secrets");
    let message = err.to_string();
    assert!(message.contains("REFSHARE_SECRET_KEY") && message.contains("server secret"), "{message}");
    assert_eq!(stored_server_secret(&t).await, server, "a refused start writes nothing");

    // Nor the webhook secrets: with the server secret out of the way (a plaintext one, as
    // an older database has), the webhook's secret is what refuses the other key.
    let mut tx = t.app.store.begin().await.unwrap();
    tx.set_setting("secret", &hex::encode([7u8; 32])).await.unwrap();
    tx.commit().await.unwrap();
    let err = t.restart_with_keys(other).await.expect_err("another key must not open the webhook secret");
    let message = err.to_string();
    assert!(message.contains("REFSHARE_SECRET_KEY") && message.contains(&format!("webhook {hook_id}")), "{message}");
    assert_eq!(stored_webhook(&t, &hook_id).await.secret, hook.secret);
}

async fn plaintext_secrets_of_an_older_database_are_sealed_on_start(mut t: TestApp) {
    let receiver = Receiver::start().await;
    let (key, hook_id, hook_secret) = setup(&mut t, &receiver).await;
    // What an older version stored: the server secret in hex, the webhook secret as is.
    let legacy = [42u8; 32];
    let sealed_hook = stored_webhook(&t, &hook_id).await.secret;
    let mut tx = t.app.store.begin().await.unwrap();
    tx.set_setting("secret", &hex::encode(legacy)).await.unwrap();
    assert!(tx.replace_webhook_secret(hook_id.parse().unwrap(), &sealed_hook, &hook_secret).await.unwrap());
    tx.commit().await.unwrap();

    let keys = t.keys.clone();
    t.restart_with_keys(keys).await.expect("an older database starts");
    let server = stored_server_secret(&t).await;
    assert!(server.starts_with("sealed:v1:") && !server.contains(&hex::encode(legacy)), "{server}");
    let hook = stored_webhook(&t, &hook_id).await;
    assert!(hook.secret.starts_with("sealed:v1:") && !hook.secret.contains(&hook_secret), "{}", hook.secret);
    // The secrets are kept, not replaced: tokens are signed with the old server secret and
    // deliveries with the secret the partner has.
    assert!(token_signed_with(&mint(&t, &key).await, &legacy));
    let (sig, body) = delivered(&t, &key, &receiver, "beta").await;
    assert!(signed_with(&sig, hook_secret.as_bytes(), &body), "{sig}");
}

async fn rotating_the_secret_key_seals_everything_again(mut t: TestApp) {
    let receiver = Receiver::start().await;
    let (key, hook_id, first_secret) = setup(&mut t, &receiver).await;
    let old = t.keys.current().clone();
    // A webhook secret rotation in progress: the current and the previous secret are stored.
    let rotated = t.partner(&key, "PUT", &format!("/v1/Webhooks/{hook_id}"), Some(json!({"regenerateSecret": true}))).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let second_secret = rotated.body["secret"].as_str().unwrap().to_string();
    let token = mint(&t, &key).await;
    let (server_before, hook_before) = (stored_server_secret(&t).await, stored_webhook(&t, &hook_id).await);

    // Start with the new key and the old one beside it: everything is sealed again.
    let new = SecretKey::generate();
    t.restart_with_keys(Keyring::new(new.clone(), Some(old.clone()))).await.expect("rotation start");
    let (server_after, hook_after) = (stored_server_secret(&t).await, stored_webhook(&t, &hook_id).await);
    assert_ne!(server_after, server_before);
    assert_ne!(hook_after.secret, hook_before.secret);
    assert_ne!(hook_after.previous_secret, hook_before.previous_secret);

    // The old key alone no longer opens anything; the new key alone opens everything.
    let err = t.restart_with_keys(Keyring::single(old)).await.expect_err("the old key is retired");
    assert!(err.to_string().contains("REFSHARE_SECRET_KEY"), "{err}");
    t.restart_with_keys(Keyring::single(new)).await.expect("the new key alone");
    assert_eq!(t.customer_bearer(&token, "GET", "/cases", None).await.status, StatusCode::OK, "tokens survive a key rotation");
    let (sig, body) = delivered(&t, &key, &receiver, "beta").await;
    assert!(signed_with(&sig, second_secret.as_bytes(), &body), "{sig}");
    assert!(signed_with(&sig, first_secret.as_bytes(), &body), "the previous webhook secret still signs during its overlap: {sig}");
}

/// A webhook whose stored secret this process cannot open is skipped and logged; the
/// other deliveries of the same pass still go out.
async fn an_unopenable_secret_holds_up_no_other_delivery(mut t: TestApp) {
    let receiver = Receiver::start().await;
    let (key, hook_id, _) = setup(&mut t, &receiver).await;
    let other = Receiver::start().await;
    let (_, other_key) = t.new_partner("Bookwise").await;
    let hook = t.partner(&other_key, "POST", "/v1/Webhooks", Some(json!({"url": other.url, "events": ["client.linked"]}))).await;
    assert_eq!(hook.status, StatusCode::OK, "{}", hook.text);
    // Drain what setup queued, then damage the first webhook's sealed secret.
    t.app.deliver_webhooks().await.expect("delivery runs");
    let stored = stored_webhook(&t, &hook_id).await.secret;
    let mut tx = t.app.store.begin().await.unwrap();
    assert!(tx
        .replace_webhook_secret(hook_id.parse().unwrap(), &stored, "sealed:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await
        .unwrap());
    tx.commit().await.unwrap();
    // One event for each partner, in one pass: the damaged one first.
    for (k, tenant) in [(&key, "gamma"), (&other_key, "delta")] {
        let r = t
            .partner(k, "POST", "/clients", Some(client_body(tenant, &format!("{tenant} Ltd"), &format!("o@{tenant}.test"), vec![])))
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    }
    let report = t.app.deliver_webhooks().await.expect("the pass completes");
    assert_eq!((report.not_attempted, report.delivered), (1, 1), "{report:?}");
    assert_eq!(other.got.lock().unwrap().len(), 1, "the other partner's delivery went out");
}

crate::both_backends!(
    secrets_are_sealed_and_useless_without_the_key,
    plaintext_secrets_of_an_older_database_are_sealed_on_start,
    rotating_the_secret_key_seals_everything_again,
    an_unopenable_secret_holds_up_no_other_delivery
);
