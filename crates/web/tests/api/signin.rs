//! Sign-in by e-mail (issue 8), end to end on both backends: the mailed link (read from
//! the notification log, as an integrator does in `test`) signs in once, within 15
//! minutes by the test clock; the code does the same; the answer never tells whether an
//! address belongs to anyone; the per-address and per-IP limits; CSRF refusals change
//! nothing; sessions end when idle, when too old, and at logout.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use refshare_app::Environment;
use serde_json::json;
use tower::ServiceExt;

use crate::harness::TestApp;

crate::both_backends!(
    session_use_is_recorded_once_a_minute,
    signin_by_mailed_link_opens_a_session,
    a_link_signs_in_once,
    a_link_expires_after_fifteen_minutes,
    signin_by_code,
    five_wrong_codes_disable_the_mail,
    at_most_five_mails_per_address_per_window,
    unknown_address_gets_the_identical_answer,
    per_ip_limit_answers_429,
    forms_without_csrf_are_refused_and_change_nothing,
    session_ends_when_idle,
    session_ends_after_twelve_hours,
    logout_revokes_the_session,
    a_partner_user_signs_in_and_sees_its_partner_and_role,
    an_operator_signs_in_and_reaches_the_operator_api,
    a_person_with_three_accounts_chooses_one,
    a_disabled_partner_user_gets_no_mail,
    a_disabled_chosen_account_loses_access,
    a_viewer_session_reads_and_changes_nothing,
    an_admin_session_changes_and_is_audited_by_name,
    the_operator_api_without_an_operator_session_is_401,
    the_partner_permission_guard_follows_the_role,
);

const MINUTE: i64 = 60_000;

/// A browser: keeps cookies, reads forms' CSRF tokens.
#[derive(Default, Clone)]
struct Browser {
    cookies: BTreeMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    set_cookies: Vec<String>,
    text: String,
}

impl Page {
    /// The CSRF token of the form posting to `action`.
    fn csrf(&self, action: &str) -> String {
        let form = self.text.split(&format!("action=\"{action}\"")).nth(1).unwrap_or_else(|| panic!("no form to {action}: {}", self.text));
        form.split("name=\"csrf\" value=\"").nth(1).and_then(|s| s.split('"').next()).expect("the form has a csrf token").to_string()
    }
}

impl Browser {
    async fn send(&mut self, t: &TestApp, req: axum::http::request::Builder, body: Body) -> Page {
        let cookie = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
        let req = if cookie.is_empty() { req } else { req.header("cookie", cookie) };
        let res = t.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
        t.app.deliver_due_mail().await.unwrap();
        let status = res.status();
        let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_string());
        let set_cookies: Vec<String> = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect();
        for c in &set_cookies {
            let (pair, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').unwrap();
            if v.is_empty() || c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        Page { status, location, set_cookies, text: String::from_utf8_lossy(&bytes).into_owned() }
    }

    async fn get(&mut self, t: &TestApp, path: &str) -> Page {
        self.send(t, Request::builder().uri(path), Body::empty()).await
    }

    async fn post(&mut self, t: &TestApp, path: &str, fields: &[(&str, &str)]) -> Page {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            form.append_pair(k, v);
        }
        let req = Request::builder().method("POST").uri(path).header("content-type", "application/x-www-form-urlencoded");
        self.send(t, req, Body::from(form.finish())).await
    }

    /// Opens `/login` and asks for a sign-in mail to `email`.
    async fn ask(&mut self, t: &TestApp, email: &str) -> Page {
        let login = self.get(t, "/login").await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.text);
        let csrf = login.csrf("/login");
        self.post(t, "/login", &[("csrf", &csrf), ("email", email)]).await
    }

    /// Follows a mailed link: the confirm page, then its button.
    async fn follow(&mut self, t: &TestApp, link_path: &str) -> Page {
        let confirm = self.get(t, link_path).await;
        if confirm.status != StatusCode::OK {
            return confirm;
        }
        let csrf = confirm.csrf(link_path);
        self.post(t, link_path, &[("csrf", &csrf)]).await
    }

    /// `/account`: its page, or where it redirects.
    async fn account(&mut self, t: &TestApp) -> Page {
        self.get(t, "/account").await
    }

    /// An Operator API request with this browser's cookies (no token); a body is sent as
    /// JSON.
    async fn api(&mut self, t: &TestApp, method: &str, path: &str, body: Option<serde_json::Value>) -> (StatusCode, serde_json::Value) {
        let req = Request::builder().method(method).uri(format!("/admin-api/v1{path}"));
        let page = match body {
            Some(v) => self.send(t, req.header("content-type", "application/json"), Body::from(v.to_string())).await,
            None => self.send(t, req, Body::empty()).await,
        };
        (page.status, serde_json::from_str(&page.text).unwrap_or(serde_json::Value::Null))
    }

    /// Presses "Continue as …" for the account whose hidden `id` is `id`.
    async fn choose(&mut self, t: &TestApp, kind: &str, id: &str) -> Page {
        let account = self.account(t).await;
        let csrf = account.csrf("/account/choose");
        self.post(t, "/account/choose", &[("csrf", &csrf), ("kind", kind), ("id", id)]).await
    }
}

/// The sign-in mails to `to`, newest first.
async fn mails(t: &TestApp, to: &str) -> Vec<String> {
    let r = t.admin("GET", &format!("/notifications?to={to}&kind=sign_in"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["notifications"].as_array().unwrap().iter().map(|n| n["body"].as_str().unwrap().to_string()).collect()
}

/// The link path and the code of the newest sign-in mail to `to`.
async fn latest(t: &TestApp, to: &str) -> (String, String) {
    let all = mails(t, to).await;
    let body = all.first().unwrap_or_else(|| panic!("no sign-in mail to {to}"));
    let link = body.split("http://refshare.test").nth(1).and_then(|s| s.split_whitespace().next()).expect("a link").to_string();
    let code = body.split("code on the sign-in page: ").nth(1).and_then(|s| s.split_whitespace().next()).expect("a code").to_string();
    (link, code)
}

/// A signed-up client whose user is ann@acme.test; returns the client's id.
async fn client_with_user(t: &TestApp) -> uuid::Uuid {
    t.direct_client("Acme Ltd", "ann@acme.test").await.0.parse().unwrap()
}

/// Signs `b` in as ann@acme.test through the mailed link.
async fn sign_in(t: &TestApp, b: &mut Browser) {
    sign_in_as(t, b, "ann@acme.test").await
}

/// Signs `b` in as `email` through the mailed link.
async fn sign_in_as(t: &TestApp, b: &mut Browser, email: &str) {
    let sent = b.ask(t, email).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let (link, _) = latest(t, email).await;
    let done = b.follow(t, &link).await;
    assert_eq!((done.status, done.location.as_deref()), (StatusCode::SEE_OTHER, Some("/account")), "{}", done.text);
}

/// Adds a user to the partner (by the operator token); returns its id.
async fn partner_user(t: &TestApp, partner_id: &str, email: &str, role: &str) -> String {
    let r =
        t.admin("POST", &format!("/partners/{partner_id}/users"), Some(json!({"email": email, "name": "Ann Person", "role": role}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// Adds an operator (by the operator token); returns its id.
async fn operator(t: &TestApp, email: &str, role: &str) -> String {
    let r = t.admin("POST", "/operators", Some(json!({"email": email, "name": "Ann Operator", "role": role}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    r.body["id"].as_str().unwrap().to_string()
}

/// The audit entries with this action.
async fn audit_entries(t: &TestApp, action: &str) -> Vec<serde_json::Value> {
    let r = t.admin("GET", &format!("/audit?action={action}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body["entries"].as_array().unwrap().clone()
}

async fn signin_by_mailed_link_opens_a_session(t: TestApp) {
    let client_id = client_with_user(&t).await;
    let mut b = Browser::default();
    assert_eq!(b.account(&t).await.location.as_deref(), Some("/login"), "no session yet");
    let sent = b.ask(&t, "Ann@Acme.test").await;
    assert_eq!(sent.status, StatusCode::OK);
    assert!(sent.text.contains("Check your e-mail"), "{}", sent.text);
    let (link, code) = latest(&t, "ann@acme.test").await;
    assert!(link.starts_with("/login/") && link.len() > 40, "{link}");
    assert!(code.len() >= 6 && code.len() <= 8 && code.chars().all(|c| c.is_ascii_digit()), "{code}");

    // A mail scanner fetching the link uses nothing.
    let mut scanner = Browser::default();
    assert_eq!(scanner.get(&t, &link).await.status, StatusCode::OK);
    let confirm = b.get(&t, &link).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let done = b.post(&t, &link, &[("csrf", &confirm.csrf(&link))]).await;
    assert_eq!((done.status, done.location.as_deref()), (StatusCode::SEE_OTHER, Some("/account")), "{}", done.text);
    let cookie = done.set_cookies.iter().find(|c| c.starts_with("refshare_session=")).expect("a session cookie");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain http in test: {cookie}");

    let account = b.account(&t).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.text);
    assert!(account.text.contains("Acme Ltd") && account.text.to_lowercase().contains("ann@acme.test"), "{}", account.text);

    // The user is active now, with the time of this sign-in.
    let ann = t.app.store.begin().await.unwrap().client_users(client_id).await.unwrap().remove(0);
    assert_eq!(ann.status, refshare_core::people::PersonStatus::Active);
    assert!(ann.last_sign_in_at.is_some());
}

async fn a_link_signs_in_once(t: TestApp) {
    client_with_user(&t).await;
    let mut first = Browser::default();
    sign_in(&t, &mut first).await;
    let (link, code) = latest(&t, "ann@acme.test").await;
    let mut second = Browser::default();
    let again = second.follow(&t, &link).await;
    assert_eq!(again.status, StatusCode::GONE, "{}", again.text);
    // Its code was the same sign-in: used too.
    let page = second.ask(&t, "nobody@else.test").await;
    let by_code = second.post(&t, "/login/code", &[("csrf", &page.csrf("/login/code")), ("email", "ann@acme.test"), ("code", &code)]).await;
    assert_eq!(by_code.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", by_code.text);
    assert_eq!(second.account(&t).await.location.as_deref(), Some("/login"));
}

async fn a_link_expires_after_fifteen_minutes(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    b.ask(&t, "ann@acme.test").await;
    let (link, _) = latest(&t, "ann@acme.test").await;
    t.app.advance_test_clock(14 * MINUTE).await.unwrap();
    assert_eq!(b.get(&t, &link).await.status, StatusCode::OK, "still valid after 14 minutes");
    let confirm = b.get(&t, &link).await;
    t.app.advance_test_clock(2 * MINUTE).await.unwrap();
    assert_eq!(b.get(&t, &link).await.status, StatusCode::GONE, "expired after 16 minutes");
    let late = b.post(&t, &link, &[("csrf", &confirm.csrf(&link))]).await;
    assert_eq!(late.status, StatusCode::GONE, "{}", late.text);
    assert!(late.set_cookies.iter().all(|c| !c.starts_with("refshare_session=")), "{:?}", late.set_cookies);
    assert_eq!(b.account(&t).await.location.as_deref(), Some("/login"));
}

async fn signin_by_code(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    let sent = b.ask(&t, "ann@acme.test").await;
    let (_, code) = latest(&t, "ann@acme.test").await;
    let csrf = sent.csrf("/login/code");
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    let bad = b.post(&t, "/login/code", &[("csrf", &csrf), ("email", "ann@acme.test"), ("code", wrong)]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.text);
    let other = b.post(&t, "/login/code", &[("csrf", &csrf), ("email", "bob@acme.test"), ("code", &code)]).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY, "a code works only with its address");
    let ok = b.post(&t, "/login/code", &[("csrf", &csrf), ("email", "ann@acme.test"), ("code", &code)]).await;
    assert_eq!((ok.status, ok.location.as_deref()), (StatusCode::SEE_OTHER, Some("/account")), "{}", ok.text);
    assert_eq!(b.account(&t).await.status, StatusCode::OK);
    let mut c = Browser::default();
    let page = c.ask(&t, "x@y.test").await;
    let again = c.post(&t, "/login/code", &[("csrf", &page.csrf("/login/code")), ("email", "ann@acme.test"), ("code", &code)]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "single use");
}

async fn five_wrong_codes_disable_the_mail(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    let sent = b.ask(&t, "ann@acme.test").await;
    let (link, code) = latest(&t, "ann@acme.test").await;
    let csrf = sent.csrf("/login/code");
    let wrong = if code == "00000000" { "11111111" } else { "00000000" };
    for _ in 0..refshare_app::signin::MAX_FAILED_CODES {
        let r = b.post(&t, "/login/code", &[("csrf", &csrf), ("email", "ann@acme.test"), ("code", wrong)]).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let right = b.post(&t, "/login/code", &[("csrf", &csrf), ("email", "ANN@acme.test"), ("code", &code)]).await;
    assert_eq!(right.status, StatusCode::UNPROCESSABLE_ENTITY, "guessing stops after five wrong codes");
    assert_eq!(b.follow(&t, &link).await.status, StatusCode::GONE, "the link of that mail is dead too");
    // A new mail works again.
    b.ask(&t, "ann@acme.test").await;
    let (link, _) = latest(&t, "ann@acme.test").await;
    assert_eq!(b.follow(&t, &link).await.status, StatusCode::SEE_OTHER);
}

async fn at_most_five_mails_per_address_per_window(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    let first = b.ask(&t, "ann@acme.test").await;
    for _ in 0..5 {
        let r = b.ask(&t, "ann@acme.test").await;
        assert_eq!((r.status, &r.text), (StatusCode::OK, &first.text), "the same neutral page");
    }
    assert_eq!(mails(&t, "ann@acme.test").await.len(), 5, "at most five mails per 15 minutes");
    t.app.advance_test_clock(15 * MINUTE + 1000).await.unwrap();
    b.ask(&t, "ann@acme.test").await;
    assert_eq!(mails(&t, "ann@acme.test").await.len(), 6, "a new window allows mail again");
}

async fn unknown_address_gets_the_identical_answer(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    let known = b.ask(&t, "ann@acme.test").await;
    let unknown = b.ask(&t, "nobody@acme.test").await;
    assert_eq!(known.status, unknown.status);
    assert_eq!(known.text, unknown.text, "identical bodies");
    assert_eq!(mails(&t, "ann@acme.test").await.len(), 1);
    assert!(mails(&t, "nobody@acme.test").await.is_empty(), "nothing sent to an unknown address");
}

async fn per_ip_limit_answers_429(mut t: TestApp) {
    t.reconfigure(|c| c.signin_per_ip_per_minute = 3).await;
    client_with_user(&t).await;
    let mut b = Browser::default();
    for i in 0..3 {
        assert_eq!(b.ask(&t, &format!("p{i}@acme.test")).await.status, StatusCode::OK);
    }
    let refused = b.ask(&t, "ann@acme.test").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text);
    assert!(mails(&t, "ann@acme.test").await.is_empty(), "no mail beyond the limit");
    t.app.advance_test_clock(MINUTE + 1000).await.unwrap();
    assert_eq!(b.ask(&t, "ann@acme.test").await.status, StatusCode::OK);
    assert_eq!(mails(&t, "ann@acme.test").await.len(), 1);
}

async fn forms_without_csrf_are_refused_and_change_nothing(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    let login = b.get(&t, "/login").await;
    let r = b.post(&t, "/login", &[("email", "ann@acme.test")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("The form expired"), "{}", r.text);
    // Another browser's token is not this one's.
    let mut other = Browser::default();
    let r = other.post(&t, "/login", &[("csrf", &login.csrf("/login")), ("email", "ann@acme.test")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(mails(&t, "ann@acme.test").await.is_empty(), "no mail was queued");

    b.ask(&t, "ann@acme.test").await;
    let (link, code) = latest(&t, "ann@acme.test").await;
    let r = b.post(&t, &link, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = b.post(&t, "/login/code", &[("email", "ann@acme.test"), ("code", &code)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(b.account(&t).await.location.as_deref(), Some("/login"), "no session");
    let done = b.follow(&t, &link).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "the link was not used up: {}", done.text);

    let r = b.post(&t, "/logout", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = b.post(&t, "/logout", &[("csrf", &login.csrf("/login"))]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "a pre-session token is not the session's");
    assert_eq!(b.account(&t).await.status, StatusCode::OK, "still signed in");
}

async fn session_ends_when_idle(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    sign_in(&t, &mut b).await;
    for _ in 0..3 {
        t.app.advance_test_clock(29 * MINUTE).await.unwrap();
        assert_eq!(b.account(&t).await.status, StatusCode::OK, "each use restarts the idle timeout");
    }
    t.app.advance_test_clock(31 * MINUTE).await.unwrap();
    assert_eq!(b.account(&t).await.location.as_deref(), Some("/login"), "idle for 31 minutes");
}

/// A use is recorded at most once a minute: views within a minute of the last recorded
/// use do not move it (they are reads), so the idle timeout counts from the recorded one;
/// a view a minute later records it again.
async fn session_use_is_recorded_once_a_minute(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    sign_in(&t, &mut b).await;
    let id_hash = refshare_app::auth::hash_secret(&b.cookies["refshare_session"]);
    let last_seen = || async {
        let mut tx = t.app.store.read().await.unwrap();
        tx.session(&id_hash).await.unwrap().expect("the session").last_seen_at.timestamp_millis()
    };
    let signed_in = last_seen().await;
    t.app.advance_test_clock(59 * 1000).await.unwrap();
    assert_eq!(b.account(&t).await.status, StatusCode::OK);
    assert_eq!(last_seen().await, signed_in, "59 s after the last recorded use: not recorded again");
    t.app.advance_test_clock(2 * 1000).await.unwrap();
    assert_eq!(b.account(&t).await.status, StatusCode::OK);
    let moved = last_seen().await;
    assert!(moved >= signed_in + 61_000, "61 s after: recorded ({signed_in} → {moved})");
    t.app.advance_test_clock(29 * MINUTE + 30 * 1000).await.unwrap();
    assert_eq!(b.account(&t).await.status, StatusCode::OK, "29.5 minutes after the recorded use");
    t.app.advance_test_clock(31 * MINUTE).await.unwrap();
    assert_eq!(b.account(&t).await.location.as_deref(), Some("/login"), "idle for 31 minutes");
}

async fn session_ends_after_twelve_hours(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    sign_in(&t, &mut b).await;
    let mut elapsed = 0;
    while elapsed + 25 <= 12 * 60 {
        t.app.advance_test_clock(25 * MINUTE).await.unwrap();
        elapsed += 25;
        assert_eq!(b.account(&t).await.status, StatusCode::OK, "in use, {elapsed} minutes after sign-in");
    }
    t.app.advance_test_clock(25 * MINUTE).await.unwrap();
    assert_eq!(b.account(&t).await.location.as_deref(), Some("/login"), "over 12 hours after sign-in");
}

async fn logout_revokes_the_session(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    sign_in(&t, &mut b).await;
    let stolen = b.clone();
    let account = b.account(&t).await;
    let r = b.post(&t, "/logout", &[("csrf", &account.csrf("/logout"))]).await;
    assert_eq!((r.status, r.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    assert!(!b.cookies.contains_key("refshare_session"), "the cookie is removed");
    for action in ["session.created", "session.revoked"] {
        let audit = t.admin("GET", &format!("/audit?action={action}"), None).await;
        let entries = audit.body["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1, "{}", audit.text);
        assert_eq!(entries[0]["actor"], "email:ann@acme.test", "{}", audit.text);
    }
    let mut stolen = stolen;
    assert_eq!(stolen.account(&t).await.location.as_deref(), Some("/login"), "revoked on the server, not only in the browser");
    // Signing out of a session that already ended only drops the cookie.
    let r = stolen.post(&t, "/logout", &[]).await;
    assert_eq!((r.status, r.location.as_deref()), (StatusCode::SEE_OTHER, Some("/login")));
    assert!(!stolen.cookies.contains_key("refshare_session"));
}

#[tokio::test]
async fn production_masks_the_secret_and_uses_host_cookies() {
    let Some(t) = TestApp::sqlite_in(Environment::Production).await else { return };
    client_with_user(&t).await;
    let mut b = Browser::default();
    let login = b.get(&t, "/login").await;
    let pre = login.set_cookies.iter().find(|c| c.starts_with("__Host-refshare_pre=")).expect("a __Host- cookie");
    assert!(pre.contains("Secure") && pre.contains("HttpOnly") && pre.contains("Path=/"), "{pre}");
    let sent = b.post(&t, "/login", &[("csrf", &login.csrf("/login")), ("email", "ann@acme.test")]).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let all = mails(&t, "ann@acme.test").await;
    assert_eq!(all.len(), 1);
    assert!(all[0].contains("/login/********") && all[0].contains("code on the sign-in page: ********"), "{}", all[0]);
    let mut tx = t.app.store.begin().await.unwrap();
    let stored = tx.notifications(Some("ann@acme.test"), Some("sign_in"), 10).await.unwrap();
    assert_eq!(stored[0].status, "outbox");
    assert_eq!(stored[0].sealed_body, None, "the sealed text is dropped once the mail is settled");
}

async fn a_partner_user_signs_in_and_sees_its_partner_and_role(t: TestApp) {
    let (pid, _) = t.new_partner("Ledgerly").await;
    let uid = partner_user(&t, &pid, "Ann@Ledgerly.test", "admin").await;
    let mut b = Browser::default();
    sign_in_as(&t, &mut b, "ann@ledgerly.test").await;
    let page = b.account(&t).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Ledgerly — partner admin Ann Person"), "the partner and the role: {}", page.text);
    assert!(page.text.contains("(current)"), "the only account is chosen: {}", page.text);
    assert!(!page.text.contains("Continue as"), "nothing to choose: {}", page.text);
    assert!(page.text.contains("href=\"/dashboard\""), "{}", page.text);
    // Signing in made the user active, with the time.
    let r = t.admin("GET", &format!("/partners/{pid}/users"), None).await;
    let me = r.body["users"].as_array().unwrap().iter().find(|u| u["id"] == uid.as_str()).unwrap().clone();
    assert_eq!(me["status"], "active", "{me}");
    assert!(me["lastSignInAt"].is_string(), "{me}");
    // A partner user is no operator.
    assert_eq!(b.api(&t, "GET", "/partners", None).await.0, StatusCode::UNAUTHORIZED);
}

async fn an_operator_signs_in_and_reaches_the_operator_api(t: TestApp) {
    let oid = operator(&t, "ada@platform.test", "admin").await;
    let mut b = Browser::default();
    assert_eq!(b.api(&t, "GET", "/operators", None).await.0, StatusCode::UNAUTHORIZED, "not signed in yet");
    sign_in_as(&t, &mut b, "ada@platform.test").await;
    let page = b.account(&t).await;
    assert!(page.text.contains("Platform operator (admin) Ann Operator") && page.text.contains("(current)"), "{}", page.text);
    let (status, body) = b.api(&t, "GET", "/operators", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me = body["operators"].as_array().unwrap().iter().find(|o| o["id"] == oid.as_str()).unwrap().clone();
    assert_eq!(me["status"], "active", "{me}");
    assert!(me["lastSignInAt"].is_string(), "{me}");
}

async fn a_person_with_three_accounts_chooses_one(t: TestApp) {
    let (client_id, _) = t.direct_client("Acme Ltd", "ann@acme.test").await;
    let (pid, _) = t.new_partner("Ledgerly").await;
    let uid = partner_user(&t, &pid, "ann@acme.test", "member").await;
    let oid = operator(&t, "ANN@acme.test", "admin").await;
    let mut b = Browser::default();
    sign_in(&t, &mut b).await;
    let page = b.account(&t).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for line in ["Acme Ltd — client user Owner Person", "Ledgerly — partner member Ann Person", "Platform operator (admin) Ann Operator"]
    {
        assert!(page.text.contains(line), "{line}: {}", page.text);
    }
    assert_eq!(page.text.matches("Continue as").count(), 3, "{}", page.text);
    assert!(!page.text.contains("(current)") && page.text.contains("Choose an account"), "{}", page.text);
    assert_eq!(b.api(&t, "GET", "/operators", None).await.0, StatusCode::UNAUTHORIZED, "the operator is not chosen yet");

    // A choice without the session's CSRF token, or of an account the address does not
    // have, changes nothing.
    let r = b.post(&t, "/account/choose", &[("kind", "operator"), ("id", &oid)]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let stranger = operator(&t, "eve@platform.test", "admin").await;
    let r = b.choose(&t, "operator", &stranger).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = b.choose(&t, "partner_user", &oid).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "kind and id must match: {}", r.text);
    assert_eq!(b.api(&t, "GET", "/operators", None).await.0, StatusCode::UNAUTHORIZED);

    let r = b.choose(&t, "operator", &oid).await;
    assert_eq!((r.status, r.location.as_deref()), (StatusCode::SEE_OTHER, Some("/account")), "{}", r.text);
    let page = b.account(&t).await;
    assert!(page.text.contains("You act as <strong>Platform operator (admin) Ann Operator</strong>"), "{}", page.text);
    assert_eq!(page.text.matches("Continue as").count(), 2, "the other two: {}", page.text);
    assert_eq!(b.api(&t, "GET", "/operators", None).await.0, StatusCode::OK);

    let r = b.choose(&t, "partner_user", &uid).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(b.account(&t).await.text.contains("You act as <strong>Ledgerly — partner member Ann Person</strong>"));
    assert_eq!(b.api(&t, "GET", "/operators", None).await.0, StatusCode::UNAUTHORIZED, "a partner user is no operator");
    let r = b.choose(&t, "client_user", &client_user_id(&t, &client_id).await).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(b.account(&t).await.text.contains("client web app is not available yet"));

    let chosen = audit_entries(&t, "session.account_chosen").await;
    assert_eq!(
        chosen.iter().map(|e| e["detail"]["accountKind"].as_str().unwrap()).collect::<Vec<_>>(),
        ["operator", "partner_user", "client_user"],
        "{chosen:?}"
    );
    assert_eq!(chosen[0]["actor"], "email:ann@acme.test");
}

/// The id of the client's first user.
async fn client_user_id(t: &TestApp, client_id: &str) -> String {
    let mut tx = t.app.store.begin().await.unwrap();
    tx.client_users(client_id.parse().unwrap()).await.unwrap().remove(0).id.to_string()
}

async fn a_disabled_partner_user_gets_no_mail(t: TestApp) {
    let (pid, _) = t.new_partner("Ledgerly").await;
    let uid = partner_user(&t, &pid, "ann@ledgerly.test", "member").await;
    let r = t.admin("PATCH", &format!("/partners/{pid}/users/{uid}"), Some(json!({"status": "disabled"}))).await;
    assert_eq!((r.status, &r.body["status"]), (StatusCode::OK, &json!("disabled")), "{}", r.text);
    let mut b = Browser::default();
    let disabled = b.ask(&t, "ann@ledgerly.test").await;
    let unknown = b.ask(&t, "nobody@ledgerly.test").await;
    assert_eq!((disabled.status, &disabled.text), (unknown.status, &unknown.text), "the same neutral answer");
    assert!(mails(&t, "ann@ledgerly.test").await.is_empty(), "no mail to a disabled user");
    // Re-enabled: never signed in, so `invited` again, and mail flows.
    let r = t.admin("PATCH", &format!("/partners/{pid}/users/{uid}"), Some(json!({"status": "active"}))).await;
    assert_eq!((r.status, &r.body["status"]), (StatusCode::OK, &json!("invited")), "{}", r.text);
    b.ask(&t, "ann@ledgerly.test").await;
    assert_eq!(mails(&t, "ann@ledgerly.test").await.len(), 1);
}

async fn a_disabled_chosen_account_loses_access(t: TestApp) {
    client_with_user(&t).await;
    let oid = operator(&t, "ann@acme.test", "admin").await;
    let mut b = Browser::default();
    sign_in(&t, &mut b).await;
    assert_eq!(b.choose(&t, "operator", &oid).await.status, StatusCode::SEE_OTHER);
    assert_eq!(b.api(&t, "GET", "/partners", None).await.0, StatusCode::OK);

    let r = t.admin("PATCH", &format!("/operators/{oid}"), Some(json!({"status": "disabled"}))).await;
    assert_eq!((r.status, &r.body["status"]), (StatusCode::OK, &json!("disabled")), "{}", r.text);
    let (status, body) = b.api(&t, "GET", "/partners", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "disabled at once, in a live session: {body}");
    let (status, _) = b.api(&t, "POST", "/partners", Some(json!({"companyName": "Nope", "contactEmail": "n@nope.test"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let page = b.account(&t).await;
    assert!(!page.text.contains("Platform operator"), "the disabled account is gone: {}", page.text);
    assert!(page.text.contains("You act as <strong>Acme Ltd — client user"), "the one left is current: {}", page.text);

    // Re-enabled: it signed in before, so `active`; the stored choice counts again.
    let r = t.admin("PATCH", &format!("/operators/{oid}"), Some(json!({"status": "active"}))).await;
    assert_eq!((r.status, &r.body["status"]), (StatusCode::OK, &json!("active")), "{}", r.text);
    assert_eq!(b.api(&t, "GET", "/partners", None).await.0, StatusCode::OK);
}

async fn a_viewer_session_reads_and_changes_nothing(t: TestApp) {
    let (pid, _) = t.new_partner("Ledgerly").await;
    let uid = partner_user(&t, &pid, "bob@ledgerly.test", "member").await;
    let oid = operator(&t, "vera@platform.test", "viewer").await;
    let mut b = Browser::default();
    sign_in_as(&t, &mut b, "vera@platform.test").await;
    assert!(b.account(&t).await.text.contains("read only"));
    let (status, body) = b.api(&t, "GET", "/partners", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["partners"].as_array().unwrap().len(), 1);
    assert_eq!(b.api(&t, "GET", &format!("/partners/{pid}/users"), None).await.0, StatusCode::OK);

    let (status, body) = b.api(&t, "POST", "/partners", Some(json!({"companyName": "Bookwise", "contactEmail": "b@bookwise.test"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!((&body["error"], &body["businessErrors"][0]["type"]), (&json!("RoleForbids"), &json!("RoleForbids")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("viewer"), "{body}");
    let (status, body) = b.api(&t, "DELETE", &format!("/partners/{pid}/users/{uid}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _) = b.api(&t, "PATCH", &format!("/operators/{oid}"), Some(json!({"role": "admin"}))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer cannot promote itself");

    let partners = t.admin("GET", "/partners", None).await;
    assert_eq!(partners.body["partners"].as_array().unwrap().len(), 1, "no partner was created");
    let users = t.admin("GET", &format!("/partners/{pid}/users"), None).await;
    assert_eq!(users.body["users"].as_array().unwrap().len(), 1, "the user is still there");
    let ops = t.admin("GET", "/operators", None).await;
    assert_eq!(ops.body["operators"][0]["role"], "viewer");
}

async fn an_admin_session_changes_and_is_audited_by_name(t: TestApp) {
    let oid = operator(&t, "ada@platform.test", "admin").await;
    let mut b = Browser::default();
    sign_in_as(&t, &mut b, "ada@platform.test").await;
    let (status, body) = b.api(&t, "POST", "/partners", Some(json!({"companyName": "Ledgerly", "contactEmail": "l@ledgerly.test"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let pid = body["id"].as_str().unwrap().to_string();

    // A change with the cookie but without a JSON content type (what a cross-site form
    // or a body-less simple request would send) is refused and changes nothing.
    let form = Request::builder().method("POST").uri(format!("/admin-api/v1/partners/{pid}/api-keys"));
    let r = b.send(&t, form.header("content-type", "application/x-www-form-urlencoded"), Body::empty()).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("CsrfRefused"), "{}", r.text);
    let bare = Request::builder().method("DELETE").uri(format!("/admin-api/v1/partners/{pid}/api-keys/{}", uuid::Uuid::new_v4()));
    assert_eq!(b.send(&t, bare, Body::empty()).await.status, StatusCode::FORBIDDEN);
    let keys = t.admin("GET", &format!("/partners/{pid}/api-keys"), None).await;
    assert_eq!(keys.body["apiKeys"].as_array().unwrap().len(), 1, "only the first key: {}", keys.text);
    let json_post =
        Request::builder().method("POST").uri(format!("/admin-api/v1/partners/{pid}/api-keys")).header("content-type", "application/json");
    assert_eq!(b.send(&t, json_post, Body::empty()).await.status, StatusCode::CREATED, "a JSON request may");

    let created = audit_entries(&t, "partner.created").await;
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0]["actor"], format!("operator:{oid}:ada@platform.test"), "the session's operator is named");
    // The token stays `operator`.
    t.new_partner("Bookwise").await;
    let created = audit_entries(&t, "partner.created").await;
    assert_eq!(created[1]["actor"], "operator");
}

async fn the_operator_api_without_an_operator_session_is_401(t: TestApp) {
    client_with_user(&t).await;
    let mut b = Browser::default();
    let (status, body) = b.api(&t, "GET", "/partners", None).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("Unauthorized")), "{body}");
    sign_in(&t, &mut b).await;
    assert_eq!(b.api(&t, "GET", "/partners", None).await.0, StatusCode::UNAUTHORIZED, "a client user's session");
    let (status, _) = b.api(&t, "POST", "/partners", Some(json!({"companyName": "X", "contactEmail": "x@x.test"}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // An operator's session that ended.
    operator(&t, "ada@platform.test", "admin").await;
    let mut ada = Browser::default();
    sign_in_as(&t, &mut ada, "ada@platform.test").await;
    assert_eq!(ada.api(&t, "GET", "/partners", None).await.0, StatusCode::OK);
    t.app.advance_test_clock(31 * MINUTE).await.unwrap();
    assert_eq!(ada.api(&t, "GET", "/partners", None).await.0, StatusCode::UNAUTHORIZED, "idle too long");
    // A wrong token is 401 even with a good cookie: the token, when sent, decides.
    let mut ada = Browser::default();
    sign_in_as(&t, &mut ada, "ada@platform.test").await;
    let req = Request::builder().uri("/admin-api/v1/partners").header("authorization", "Bearer wrong");
    assert_eq!(ada.send(&t, req, Body::empty()).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(t.admin("GET", "/partners", None).await.status, StatusCode::OK, "the token is unchanged");
}

async fn the_partner_permission_guard_follows_the_role(t: TestApp) {
    use refshare_core::people::PartnerPermission;
    let (p1, _) = t.new_partner("Ledgerly").await;
    let (p2, _) = t.new_partner("Bookwise").await;
    let (p1, p2): (uuid::Uuid, uuid::Uuid) = (p1.parse().unwrap(), p2.parse().unwrap());
    let mut sessions = Vec::new();
    for (email, role) in [("mia@ledgerly.test", "member"), ("ann@ledgerly.test", "admin")] {
        partner_user(&t, &p1.to_string(), email, role).await;
        let mut b = Browser::default();
        sign_in_as(&t, &mut b, email).await;
        let cookie = b.cookies["refshare_session"].clone();
        sessions.push(t.app.session(&cookie).await.unwrap().expect("a live session"));
    }
    let (member, admin) = (&sessions[0], &sessions[1]);
    assert!(t.app.require_partner_permission(member, p1, PartnerPermission::Read).is_ok());
    let refused = t.app.require_partner_permission(member, p1, PartnerPermission::ManageTeam).unwrap_err();
    assert_eq!(refshare_web::error::classify(&refused), (StatusCode::FORBIDDEN, "RoleForbids"), "{refused}");
    for p in [PartnerPermission::ManageTeam, PartnerPermission::ManageKeys, PartnerPermission::ManageWebhooks] {
        assert!(t.app.require_partner_permission(admin, p1, p).is_ok(), "{p:?}");
    }
    let elsewhere = t.app.require_partner_permission(admin, p2, PartnerPermission::Read).unwrap_err();
    assert_eq!(refshare_web::error::status_of(&elsewhere), StatusCode::NOT_FOUND, "another partner is invisible");
}
