//! E-mail leaves the request path: a request only queues its mail (readable at once in
//! the operator's listing), and a failing SMTP server never fails the request; the mailer
//! retries with doubling waits by the Clock and gives up after the last attempt.

use axum::http::StatusCode;
use refshare_app::notify::{retry_delay_ms, MAX_ATTEMPTS};
use serde_json::Value;

use refshare_app::Environment;

use crate::harness::{client_body, Jar, TestApp};

crate::both_backends!(queued_mail_is_listed_at_once, failing_smtp_never_fails_the_request, dev_mail_is_the_outbox_in_test_only);

/// The one onboarding invitation to `to`.
async fn invitation(t: &TestApp, to: &str) -> Value {
    let r = t.admin("GET", &format!("/notifications?to={to}&kind=onboarding_invitation"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let list = r.body["notifications"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{}", r.text);
    list[0].clone()
}

fn at(v: &Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("an instant: {v}"))).unwrap().into()
}

async fn queued_mail_is_listed_at_once(mut t: TestApp) {
    t.deliver_mail_after_requests = false;
    let (_, key) = t.new_partner("Ledgerly").await;
    let r = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let mail = invitation(&t, "ann@acme.test").await;
    assert_eq!(mail["status"], "queued", "{mail}");
    assert_eq!(mail["attempts"], 0);
    assert_eq!(mail["sentAt"], Value::Null);
    assert_eq!(mail["nextAttemptAt"], mail["createdAt"], "due at once");
    assert!(mail["body"].as_str().unwrap().contains("/onboarding/"), "readable before any delivery: {mail}");

    let report = t.app.deliver_due_mail().await.unwrap();
    assert_eq!((report.claimed, report.outbox), (1, 1));
    let mail = invitation(&t, "ann@acme.test").await;
    assert_eq!(mail["status"], "outbox");
    assert_eq!(mail["sentAt"], Value::Null, "outbox mail was never sent");
    assert_eq!(mail["nextAttemptAt"], Value::Null);
}

async fn failing_smtp_never_fails_the_request(mut t: TestApp) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    t.reconfigure(|c| c.smtp_url = Some(format!("smtp://127.0.0.1:{port}"))).await;
    t.deliver_mail_after_requests = false;
    let (_, key) = t.new_partner("Ledgerly").await;
    let r = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "the committed change stands: {}", r.text);
    assert_eq!(invitation(&t, "ann@acme.test").await["status"], "queued");

    for attempt in 1..=MAX_ATTEMPTS {
        let before = t.app.now();
        let report = t.app.deliver_due_mail().await.unwrap();
        assert_eq!(report.claimed, 1, "attempt {attempt}");
        let mail = invitation(&t, "ann@acme.test").await;
        assert_eq!(mail["attempts"], attempt, "{mail}");
        assert!(mail["error"].as_str().is_some_and(|e| !e.is_empty()), "{mail}");
        assert_eq!(mail["sentAt"], Value::Null);
        if attempt == MAX_ATTEMPTS {
            assert_eq!(mail["status"], "failed", "given up after the last attempt: {mail}");
            assert_eq!(mail["nextAttemptAt"], Value::Null);
            break;
        }
        assert_eq!(mail["status"], "queued", "{mail}");
        let wait = retry_delay_ms(attempt);
        let next = at(&mail["nextAttemptAt"]) - before;
        assert!(
            next.num_milliseconds() >= wait && next.num_milliseconds() < wait + 1000,
            "attempt {attempt}: next try after {next}, want {wait} ms"
        );
        t.app.advance_test_clock(wait - 1000).await.unwrap();
        assert_eq!(t.app.deliver_due_mail().await.unwrap().claimed, 0, "attempt {attempt}: not due before its time");
        t.app.advance_test_clock(2000).await.unwrap();
    }
    assert_eq!(t.app.deliver_due_mail().await.unwrap().claimed, 0, "a failed e-mail is not tried again");
}

/// `/dev/mail`: in `test` the outbox as a page, each mail's links clickable, `?to=` one
/// address's (any case); bad input a 400 page; in `production` no such page.
async fn dev_mail_is_the_outbox_in_test_only(mut t: TestApp) {
    t.deliver_mail_after_requests = false;
    let (_, key) = t.new_partner("Ledgerly").await;
    for (tenant, email) in [("acme", "ann@acme.test"), ("beta", "bo@beta.test")] {
        let r = t.partner(&key, "POST", "/clients", Some(client_body(tenant, "Some Ltd", email, vec![]))).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    }
    let mut jar = Jar::default();
    let all = t.browse(&mut jar, "/dev/mail", None, &[]).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert!(all.text.contains("ann@acme.test") && all.text.contains("bo@beta.test"), "{}", all.text);
    let onboarding = invitation(&t, "ann@acme.test").await;
    let url = onboarding["body"].as_str().unwrap().split_whitespace().find(|w| w.contains("/onboarding/")).unwrap().to_string();
    assert!(all.text.contains(&format!("<a href=\"{url}\">")), "the onboarding link is clickable: {}", all.text);

    let one = t.browse(&mut jar, "/dev/mail?to=ANN%40acme.test", None, &[]).await;
    assert_eq!(one.status, StatusCode::OK);
    assert!(one.text.contains("ann@acme.test") && !one.text.contains("bo@beta.test"), "{}", one.text);
    let bad = t.browse(&mut jar, "/dev/mail?to=a%00b", None, &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    let long = format!("/dev/mail?to={}", "a".repeat(300));
    assert_eq!(t.browse(&mut jar, &long, None, &[]).await.status, StatusCode::BAD_REQUEST);

    t.restart(Environment::Production, false).await;
    let prod = t.browse(&mut jar, "/dev/mail", None, &[]).await;
    assert_eq!(prod.status, StatusCode::NOT_FOUND, "{}", prod.text);
    assert!(!prod.text.contains("ann@acme.test"), "{}", prod.text);
}
