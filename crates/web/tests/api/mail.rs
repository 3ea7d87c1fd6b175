//! E-mail leaves the request path: a request only queues its mail (readable at once in
//! the operator's listing), and a failing SMTP server never fails the request; the mailer
//! retries with doubling waits by the Clock and gives up after the last attempt.

use axum::http::StatusCode;
use refshare_app::notify::{retry_delay_ms, MAX_ATTEMPTS};
use serde_json::Value;

use crate::harness::{client_body, TestApp};

crate::both_backends!(queued_mail_is_listed_at_once, failing_smtp_never_fails_the_request);

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
