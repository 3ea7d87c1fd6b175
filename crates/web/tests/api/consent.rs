//! Consent only from the client (issue 8, SPEC §11), end to end on both backends: a
//! partner holding the approval or onboarding URL can neither approve, decline nor sign
//! (with the tokens it can see, forged fields, with or without a session of another
//! client's user), so the request stays pending, onboarding incomplete, and its client
//! token is still refused; the page's sign-in mail goes only to that client's users,
//! with one answer for every address; the client's user decides or signs after signing
//! in from the page (mailed link or code) or with the personal link of the approval or
//! invitation mail, and the signature records who, how, from where and which version.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use refshare_app::agreement::Agreement;
use refshare_app::auth::hash_secret;
use refshare_app::Environment;
use refshare_core::link::LinkRequestStatus;
use serde_json::json;
use uuid::Uuid;

use crate::harness::{client_body, form_csrf, path_of, Jar, Resp, TestApp};

crate::both_backends!(
    partner_cannot_approve_or_decline_holding_the_url,
    partner_cannot_sign_the_agreement_holding_the_url,
    page_signin_mail_goes_only_to_that_clients_users,
    client_user_approves_after_signing_in_from_the_page,
    client_user_signs_with_the_code_and_the_signature_records_it,
    personal_link_in_the_approval_mail_signs_in_and_lands_on_the_request,
    personal_link_in_the_invitation_mail_lands_on_the_onboarding_page,
    page_signin_has_the_login_limits,
);

/// A partner, a signed-up client Acme (user ann@acme.test) and another client Other
/// (user olga@other.test); the partner's `POST /clients` for Acme gets the 409 with the
/// approval URL. Returns (partner key, Acme's id, approval path).
async fn link_request(t: &TestApp) -> (String, Uuid, String) {
    let (_, key) = t.new_partner("Ledgerly").await;
    let (acme, _) = t.direct_client("Acme Ltd", "ann@acme.test").await;
    t.direct_client("Other Ltd", "olga@other.test").await;
    let r = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let path = path_of(r.body["data"]["onboardingLinks"]["url"].as_str().unwrap());
    (key, acme.parse().unwrap(), path)
}

/// A partner's new client Acme (onboarding user ann@acme.test), plus another signed-up
/// client Other (olga@other.test). Returns (partner key, Acme's id, onboarding path).
async fn onboarding(t: &TestApp) -> (String, Uuid, String) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    t.direct_client("Other Ltd", "olga@other.test").await;
    let r = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let id = r.body["client"]["id"].as_str().unwrap().parse().unwrap();
    (key, id, path_of(r.body["onboardingLinks"]["url"].as_str().unwrap()))
}

async fn token_status(t: &TestApp, key: &str) -> StatusCode {
    t.partner(key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme"}))).await.status
}

async fn request_status(t: &TestApp, client: Uuid) -> (LinkRequestStatus, Option<Uuid>) {
    let r = t.app.store.begin().await.unwrap().link_requests_of_client(client).await.unwrap().remove(0);
    (r.request.status, r.decided_by_user_id)
}

async fn user_id(t: &TestApp, client: Uuid) -> Uuid {
    t.app.store.begin().await.unwrap().client_users(client).await.unwrap().remove(0).id
}

async fn signin_mails(t: &TestApp, to: &str) -> usize {
    let r = t.admin("GET", &format!("/notifications?to={to}&kind=sign_in"), None).await;
    r.body["notifications"].as_array().unwrap().len()
}

/// Signs the jar in as `email` through `/login` and the mailed link.
async fn sign_in_at_login(t: &TestApp, jar: &mut Jar, email: &str) {
    let login = t.browse(jar, "/login", None, &[]).await;
    let csrf = form_csrf(&login.text, "/login").unwrap();
    assert_eq!(t.browse(jar, "/login", Some(&[("csrf", &csrf), ("email", email)]), &[]).await.status, StatusCode::OK);
    let (link, _) = t.latest_signin_mail(email).await;
    let confirm = t.browse(jar, &link, None, &[]).await;
    let done = t.browse(jar, &link, Some(&[("csrf", &form_csrf(&confirm.text, &link).unwrap())]), &[]).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, Some("/account")), "{}", done.text);
}

/// Every way the partner's browser can post `fields` to the consent form at `path`:
/// no token, the page's sign-in form token (bound to its pre-session cookie), a token
/// forged for `path` with that pre-session binding, and, signed in as another client's
/// user, that session's valid token for `path`. Each answer is 403.
async fn every_forgery_is_refused(t: &TestApp, path: &str, fields: &[(&str, &str)]) {
    let mut partner = Jar::default();
    let page = t.browse(&mut partner, path, None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(form_csrf(&page.text, path), None, "no consent form without a session: {}", page.text);
    let visible = form_csrf(&page.text, &format!("{path}/sign-in")).expect("the sign-in form");
    let pre = partner.0.get("refshare_pre").cloned().expect("a pre-session cookie");
    let forged = t.app.form_token(&pre, path);
    for csrf in [None, Some(visible.as_str()), Some(forged.as_str())] {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        if let Some(c) = csrf {
            all.push(("csrf", c));
        }
        let r = t.browse(&mut partner, path, Some(&all), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "csrf {csrf:?}: {}", r.text);
    }

    // Signed in as a user of another client: told so, offered the sign-in form, and the
    // app refuses even a valid token of that session.
    sign_in_at_login(t, &mut partner, "olga@other.test").await;
    let page = t.browse(&mut partner, path, None, &[]).await;
    assert!(page.text.contains("olga@other.test") && page.text.contains("which is not a user of Acme Ltd"), "{}", page.text);
    assert_eq!(form_csrf(&page.text, path), None, "{}", page.text);
    assert!(form_csrf(&page.text, &format!("{path}/sign-in")).is_some());
    let session = partner.0.get("refshare_session").cloned().expect("a session");
    let token = t.app.form_token(&hash_secret(&session), path);
    let mut all: Vec<(&str, &str)> = fields.to_vec();
    all.push(("csrf", &token));
    let r = t.browse(&mut partner, path, Some(&all), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("Only a signed-in user of Acme Ltd"), "{}", r.text);
}

async fn partner_cannot_approve_or_decline_holding_the_url(t: TestApp) {
    let (key, acme, path) = link_request(&t).await;
    let page = t.call("GET", &path, &[], None).await;
    assert!(page.text.contains("Ledgerly asks to link your account") && page.text.contains("non-attributed"), "{}", page.text);
    assert!(page.text.contains("Cases you create yourself stay yours"), "{}", page.text);
    for decision in ["approve", "decline"] {
        every_forgery_is_refused(&t, &path, &[("decision", decision)]).await;
    }
    assert_eq!(request_status(&t, acme).await, (LinkRequestStatus::Pending, None), "still pending");
    assert_eq!(t.partner(&key, "GET", "/clients/acme", None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(token_status(&t, &key).await, StatusCode::NOT_FOUND, "no link, no client token");
    let audit = t.admin("GET", "/audit?action=link_request.approved", None).await;
    assert!(audit.body["entries"].as_array().unwrap().is_empty(), "{}", audit.text);
}

async fn partner_cannot_sign_the_agreement_holding_the_url(t: TestApp) {
    let (key, acme, path) = onboarding(&t).await;
    let page = t.call("GET", &path, &[], None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("Standard Debt Collection Agreement") && page.text.contains("Acme Ltd"), "details and agreement are shown");
    every_forgery_is_refused(&t, &path, &[("signer_name", "Ann Acme"), ("accept", "yes")]).await;
    let client = t.app.store.begin().await.unwrap().client(acme).await.unwrap().unwrap();
    assert_eq!((client.onboarding_completed_at, client.sdca), (None, None), "not signed");
    assert_eq!(token_status(&t, &key).await, StatusCode::UNPROCESSABLE_ENTITY, "onboarding incomplete");
}

async fn page_signin_mail_goes_only_to_that_clients_users(t: TestApp) {
    let (_, _, approval) = link_request(&t).await;
    let mut b = Jar::default();
    let page = t.browse(&mut b, &approval, None, &[]).await;
    let action = format!("{approval}/sign-in");
    let csrf = form_csrf(&page.text, &action).unwrap();
    let mut answers = Vec::new();
    for email in ["ann@acme.test", "olga@other.test", "nobody@acme.test"] {
        let r = t.browse(&mut b, &action, Some(&[("csrf", &csrf), ("email", email)]), &[]).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        answers.push(r.text);
    }
    assert!(answers[0].contains("If this address belongs to a user of Acme Ltd, we sent it a sign-in link"), "{}", answers[0]);
    assert_eq!(answers[0], answers[1], "another client's user: the identical answer");
    assert_eq!(answers[0], answers[2], "an unknown address: the identical answer");
    assert_eq!(signin_mails(&t, "ann@acme.test").await, 1);
    assert_eq!(signin_mails(&t, "olga@other.test").await, 0, "not a user of Acme");
    assert_eq!(signin_mails(&t, "nobody@acme.test").await, 0);

    // Without this browser's token: 403, nothing sent.
    let r = t.browse(&mut Jar::default(), &action, Some(&[("csrf", &csrf), ("email", "ann@acme.test")]), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(signin_mails(&t, "ann@acme.test").await, 1);

    // The onboarding page of another client: only its onboarding user gets mail.
    let (_, key) = t.new_partner("Bookwise").await;
    let created = t.partner(&key, "POST", "/clients", Some(client_body("new", "New Ltd", "nina@new.test", vec![]))).await;
    let path = path_of(created.body["onboardingLinks"]["url"].as_str().unwrap());
    let page = t.browse(&mut b, &path, None, &[]).await;
    let action = format!("{path}/sign-in");
    let csrf = form_csrf(&page.text, &action).unwrap();
    let nina = t.browse(&mut b, &action, Some(&[("csrf", &csrf), ("email", "nina@new.test")]), &[]).await;
    let ann = t.browse(&mut b, &action, Some(&[("csrf", &csrf), ("email", "ann@acme.test")]), &[]).await;
    assert_eq!((nina.status, &nina.text), (StatusCode::OK, &ann.text), "identical answers");
    assert_eq!(signin_mails(&t, "nina@new.test").await, 1);
    assert_eq!(signin_mails(&t, "ann@acme.test").await, 1, "ann is no user of New Ltd");
}

async fn client_user_approves_after_signing_in_from_the_page(t: TestApp) {
    let (key, acme, path) = link_request(&t).await;
    let mut ann = Jar::default();
    t.sign_in_from_page(&mut ann, &path, "ann@acme.test").await;
    let page = t.browse(&mut ann, &path, None, &[]).await;
    let csrf = form_csrf(&page.text, &path).expect("the decision form, in ann's session");
    assert!(page.text.contains("Signed in as"), "{}", page.text);
    let done = t.browse(&mut ann, &path, Some(&[("csrf", &csrf), ("decision", "approve")]), &[]).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.text);
    assert!(done.text.contains("Link approved") && done.text.contains("can now submit cases for you"), "what happens next: {}", done.text);
    let ann_id = user_id(&t, acme).await;
    assert_eq!(request_status(&t, acme).await, (LinkRequestStatus::Approved, Some(ann_id)));
    let audit = t.admin("GET", "/audit?action=link_request.approved", None).await;
    assert_eq!(audit.body["entries"][0]["actor"], format!("client_user:{ann_id}"), "{}", audit.text);
    assert_eq!(t.partner(&key, "GET", "/clients/acme", None).await.body["isAttributedClient"], false);
    assert_eq!(token_status(&t, &key).await, StatusCode::OK);
}

/// Posts a form from `ip` with `user_agent`, as a browser behind that address.
async fn post_from(t: &TestApp, jar: &mut Jar, path: &str, fields: &[(&str, &str)], ip: &str, user_agent: &str) -> Resp {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        form.append_pair(k, v);
    }
    let mut req = Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", user_agent)
        .header("cookie", jar.header().unwrap_or_default())
        .body(Body::from(form.finish()))
        .unwrap();
    req.extensions_mut().insert(ConnectInfo(SocketAddr::new(ip.parse().unwrap(), 50_000)));
    let r = t.send(req).await;
    jar.take(&r.headers);
    r
}

async fn client_user_signs_with_the_code_and_the_signature_records_it(t: TestApp) {
    let (key, acme, path) = onboarding(&t).await;
    let mut ann = Jar::default();
    let page = t.browse(&mut ann, &path, None, &[]).await;
    let action = format!("{path}/sign-in");
    let sent =
        t.browse(&mut ann, &action, Some(&[("csrf", &form_csrf(&page.text, &action).unwrap()), ("email", "ann@acme.test")]), &[]).await;
    let (_, code) = t.latest_signin_mail("ann@acme.test").await;
    let csrf = form_csrf(&sent.text, "/login/code").expect("the code form");
    let done = t.browse(&mut ann, "/login/code", Some(&[("csrf", &csrf), ("email", "ann@acme.test"), ("code", &code)]), &[]).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, Some(path.as_str())), "back to the page: {}", done.text);

    let page = t.browse(&mut ann, &path, None, &[]).await;
    let csrf = form_csrf(&page.text, &path).expect("the signing form");
    let fields = [("csrf", csrf.as_str()), ("signer_name", "Ann Acme"), ("accept", "yes")];
    let signed = post_from(&t, &mut ann, &path, &fields, "203.0.113.9", "ConsentTest/1.0").await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    let sig = t.app.store.begin().await.unwrap().client(acme).await.unwrap().unwrap().sdca.expect("signed");
    assert_eq!(sig.signer_name, "Ann Acme");
    assert_eq!(sig.signer_user_id, Some(user_id(&t, acme).await));
    assert_eq!(sig.verified_by.as_deref(), Some("code"));
    assert_eq!(
        (sig.ip.as_str(), sig.user_agent.as_str(), sig.version.as_str()),
        ("203.0.113.9", "ConsentTest/1.0", Agreement::sample().version())
    );
    assert_eq!(token_status(&t, &key).await, StatusCode::OK);
}

/// The personal sign-in link in the newest `kind` mail to `to`.
async fn personal_link(t: &TestApp, to: &str, kind: &str) -> String {
    let r = t.admin("GET", &format!("/notifications?to={to}&kind={kind}"), None).await;
    let body = r.body["notifications"][0]["body"].as_str().unwrap_or_else(|| panic!("no {kind} mail to {to}")).to_string();
    body.split_whitespace()
        .find_map(|w| w.strip_prefix("http://refshare.test").filter(|p| p.starts_with("/login/")))
        .expect("a sign-in link")
        .to_string()
}

/// Follows a personal link: its confirm page and button.
async fn follow(t: &TestApp, jar: &mut Jar, link: &str) -> Resp {
    let confirm = t.browse(jar, link, None, &[]).await;
    if confirm.status != StatusCode::OK {
        return confirm;
    }
    t.browse(jar, link, Some(&[("csrf", &form_csrf(&confirm.text, link).unwrap())]), &[]).await
}

async fn personal_link_in_the_approval_mail_signs_in_and_lands_on_the_request(t: TestApp) {
    let (key, acme, path) = link_request(&t).await;
    let link = personal_link(&t, "ann@acme.test", "link_approval_request").await;
    let mut ann = Jar::default();
    let done = follow(&t, &mut ann, &link).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, Some(path.as_str())), "{}", done.text);
    let again = follow(&t, &mut Jar::default(), &link).await;
    assert_eq!(again.status, StatusCode::GONE, "single use");

    let page = t.browse(&mut ann, &path, None, &[]).await;
    let csrf = form_csrf(&page.text, &path).expect("the decision form");
    let declined = t.browse(&mut ann, &path, Some(&[("csrf", &csrf), ("decision", "decline")]), &[]).await;
    assert_eq!(declined.status, StatusCode::OK, "{}", declined.text);
    assert!(declined.text.contains("Link declined") && declined.text.contains("Nothing is linked"), "{}", declined.text);
    assert_eq!(request_status(&t, acme).await, (LinkRequestStatus::Declined, Some(user_id(&t, acme).await)));
    assert_eq!(token_status(&t, &key).await, StatusCode::NOT_FOUND);
}

async fn personal_link_in_the_invitation_mail_lands_on_the_onboarding_page(t: TestApp) {
    let (key, acme, path) = onboarding(&t).await;
    let link = personal_link(&t, "ann@acme.test", "onboarding_invitation").await;
    let mut ann = Jar::default();
    let done = follow(&t, &mut ann, &link).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, Some(path.as_str())), "{}", done.text);
    let page = t.browse(&mut ann, &path, None, &[]).await;
    let csrf = form_csrf(&page.text, &path).expect("the signing form");
    let missing = t.browse(&mut ann, &path, Some(&[("csrf", &csrf), ("signer_name", "Ann Acme")]), &[]).await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "acceptance is required: {}", missing.text);
    let csrf = form_csrf(&missing.text, &path).expect("the form again");
    let signed = t.browse(&mut ann, &path, Some(&[("csrf", &csrf), ("signer_name", "Ann Acme"), ("accept", "yes")]), &[]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    let sig = t.app.store.begin().await.unwrap().client(acme).await.unwrap().unwrap().sdca.expect("signed");
    assert_eq!((sig.signer_user_id, sig.verified_by.as_deref()), (Some(user_id(&t, acme).await), Some("link")));
    assert_eq!(token_status(&t, &key).await, StatusCode::OK);
}

async fn page_signin_has_the_login_limits(mut t: TestApp) {
    t.reconfigure(|c| c.signin_per_ip_per_minute = 2).await;
    let (_, _, path) = link_request(&t).await;
    let mut b = Jar::default();
    let page = t.browse(&mut b, &path, None, &[]).await;
    let action = format!("{path}/sign-in");
    let csrf = form_csrf(&page.text, &action).unwrap();
    for email in ["x@acme.test", "y@acme.test"] {
        assert_eq!(t.browse(&mut b, &action, Some(&[("csrf", &csrf), ("email", email)]), &[]).await.status, StatusCode::OK);
    }
    let refused = t.browse(&mut b, &action, Some(&[("csrf", &csrf), ("email", "ann@acme.test")]), &[]).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.text);
    assert_eq!(signin_mails(&t, "ann@acme.test").await, 0, "no mail beyond the per-IP limit");
    let bad = t.browse(&mut Jar::default(), &path, None, &[]).await;
    assert_eq!(bad.status, StatusCode::OK, "the page itself is not limited");
}

#[tokio::test]
async fn production_masks_the_personal_links_of_consent_mails() {
    let Some(t) = TestApp::sqlite_in(Environment::Production).await else { return };
    let (_, key) = t.new_partner("Ledgerly").await;
    t.direct_client("Acme Ltd", "ann@acme.test").await;
    let r = t.partner(&key, "POST", "/clients", Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let created = t.partner(&key, "POST", "/clients", Some(client_body("new", "New Ltd", "nina@new.test", vec![]))).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    for (to, kind, page) in [
        ("ann@acme.test", "link_approval_request", r.body["data"]["onboardingLinks"]["url"].as_str().unwrap()),
        ("nina@new.test", "onboarding_invitation", created.body["onboardingLinks"]["url"].as_str().unwrap()),
    ] {
        let mut tx = t.app.store.begin().await.unwrap();
        let stored = tx.notifications(Some(to), Some(kind), 10).await.unwrap();
        assert_eq!(stored.len(), 1, "{kind}");
        assert!(stored[0].body.contains("/login/********") && stored[0].body.contains(page), "{}", stored[0].body);
        assert!(!stored[0].body.split("/login/").skip(1).any(|s| !s.starts_with("********")), "no secret stored: {}", stored[0].body);
        assert_eq!(stored[0].sealed_body, None, "settled: the sealed text is gone");
    }
}
