//! The Partner Dashboard's Team, API keys and Settings pages (issue 10) on both backends:
//! admins invite and remove teammates, issue (shown once) and revoke keys, and set the
//! hosted pages' branding, add, test and delete webhooks (with their delivery log), each through a POST form whose CSRF token is bound to the
//! session; members read those pages and get 403 for every change; another partner's
//! users and keys are 404; the audit names the partner user who acted.

use crate::dashboard::{partner_user, signed_in};
use crate::harness::{form_csrf, Jar, Resp, TestApp};
use axum::http::StatusCode;
use refshare_app::Environment;

crate::both_backends!(
    admins_manage_the_team,
    admins_issue_and_revoke_keys,
    admins_set_the_branding,
    members_read_and_are_refused_changes,
    admins_manage_webhooks_and_read_their_log,
);

async fn get(t: &TestApp, jar: &mut Jar, path: &str) -> Resp {
    t.browse(jar, path, None, &[]).await
}

/// Posts the form of `page` that posts to `action`, with its CSRF token and `fields`.
async fn post_form(t: &TestApp, jar: &mut Jar, page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
    let html = get(t, jar, page).await.text;
    let csrf = form_csrf(&html, action).unwrap_or_else(|| panic!("a form posting to {action} on {page}: {html}"));
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    t.browse(jar, action, Some(&all), &[]).await
}

/// A partner with an admin signed in; its id and API key.
async fn admin_of(t: &TestApp, name: &str, email: &str) -> (String, String, Jar) {
    let (id, key) = t.new_partner(name).await;
    partner_user(t, &id, email, "admin").await;
    let jar = signed_in(t, email).await;
    (id, key, jar)
}

/// The id in `/dashboard/<what>/{id}/<verb>` of the form whose button names `label`.
fn action_for(html: &str, label: &str) -> String {
    let before = html.split(&format!("aria-label=\"{label}\"")).next().expect("the button");
    let action = before.rsplit("action=\"").next().and_then(|s| s.split('"').next()).expect("its form");
    action.to_string()
}

async fn admins_manage_the_team(mut t: TestApp) {
    t.deliver_mail_after_requests = false;
    let (id, _, mut ada) = admin_of(&t, "Ledgerly", "ada@ledgerly.test").await;
    let page = get(&t, &mut ada, "/dashboard/team").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("ada@ledgerly.test") && page.text.contains("(you)"), "{}", page.text);
    assert!(!page.text.contains("aria-label=\"Remove Pat Partner\""), "no Remove button for yourself");

    // Invite: 303 with a notice, the invitation mail is queued.
    let r = post_form(
        &t,
        &mut ada,
        "/dashboard/team",
        "/dashboard/team",
        &[("name", "Mo Member"), ("email", "mo@ledgerly.test"), ("role", "member")],
    )
    .await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/dashboard/team?invited=mo%40ledgerly.test")), "{}", r.text);
    let shown = get(&t, &mut ada, "/dashboard/team?invited=mo%40ledgerly.test").await;
    assert!(shown.text.contains("Invitation sent to mo@ledgerly.test") && shown.text.contains("Mo Member"), "{}", shown.text);
    let mail = t.admin("GET", "/notifications?to=mo@ledgerly.test&kind=partner_user_invitation", None).await;
    assert_eq!(mail.body["notifications"].as_array().map(Vec::len), Some(1), "{}", mail.text);

    // The same address again: 409, the form again with the message and the values.
    let again =
        post_form(&t, &mut ada, "/dashboard/team", "/dashboard/team", &[("name", "Mo"), ("email", "MO@ledgerly.test"), ("role", "member")])
            .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert!(again.text.contains("already has a user") && again.text.contains("value=\"MO@ledgerly.test\""), "{}", again.text);
    let bad =
        post_form(&t, &mut ada, "/dashboard/team", "/dashboard/team", &[("name", "X"), ("email", "not-an-address"), ("role", "owner")])
            .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.text.contains("email") && bad.text.contains("role"), "{}", bad.text);

    // A forged or missing token changes nothing.
    let forged = t
        .browse(&mut ada, "/dashboard/team", Some(&[("csrf", "0123"), ("name", "Eve"), ("email", "eve@x.test"), ("role", "admin")]), &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.text);
    let missing = t.browse(&mut ada, "/dashboard/team", Some(&[("name", "Eve"), ("email", "eve@x.test"), ("role", "admin")]), &[]).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN, "{}", missing.text);
    assert!(!get(&t, &mut ada, "/dashboard/team").await.text.contains("eve@x.test"));

    // Remove Mo; the audit names Ada.
    let page = get(&t, &mut ada, "/dashboard/team").await.text;
    let remove = action_for(&page, "Remove Mo Member");
    let r = post_form(&t, &mut ada, "/dashboard/team", &remove, &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/dashboard/team")), "{}", r.text);
    assert!(!get(&t, &mut ada, "/dashboard/team").await.text.contains("mo@ledgerly.test"));
    let audit = t.admin("GET", "/audit?action=partner.user_removed", None).await;
    let actor = audit.body["entries"][0]["actor"].as_str().unwrap_or_default().to_string();
    assert!(actor.starts_with("partner_user:") && actor.ends_with(":ada@ledgerly.test"), "{}", audit.text);

    // Removing yourself is refused (409); another partner's user is 404.
    let users = t.admin("GET", &format!("/partners/{id}/users"), None).await;
    let ada_id = users.body["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["email"] == "ada@ledgerly.test"))
        .map(|u| u["id"].as_str().unwrap().to_string());
    let ada_id = ada_id.unwrap_or_else(|| panic!("ada in {}", users.text));
    let self_path = format!("/dashboard/team/{ada_id}/remove");
    let token = t.app.form_token(&binding(&t, &ada).await, &self_path);
    let me = t.browse(&mut ada, &self_path, Some(&[("csrf", &token)]), &[]).await;
    assert_eq!(me.status, StatusCode::CONFLICT, "{}", me.text);
    let (other, _) = t.new_partner("Otherco").await;
    partner_user(&t, &other, "olga@otherco.test", "admin").await;
    let users = t.admin("GET", &format!("/partners/{other}/users"), None).await;
    let olga = users.body["users"][0]["id"].as_str().unwrap().to_string();
    let path = format!("/dashboard/team/{olga}/remove");
    let token = t.app.form_token(&binding(&t, &ada).await, &path);
    let theirs = t.browse(&mut ada, &path, Some(&[("csrf", &token)]), &[]).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    assert!(!theirs.text.contains("olga"), "no hint: {}", theirs.text);
}

/// The CSRF binding of the browser's session (to forge a valid token for a form the page
/// does not show).
async fn binding(t: &TestApp, jar: &Jar) -> String {
    let cookie = jar.0.get("refshare_session").expect("a session cookie");
    t.app.session(cookie).await.unwrap().expect("a live session").csrf_binding().to_string()
}

async fn admins_issue_and_revoke_keys(t: TestApp) {
    let (id, old_key, mut ada) = admin_of(&t, "Ledgerly", "ada@ledgerly.test").await;
    let page = get(&t, &mut ada, "/dashboard/api-keys").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("1 active key "), "{}", page.text);
    assert!(!page.text.contains(&old_key), "never the key itself");

    let issued = post_form(&t, &mut ada, "/dashboard/api-keys", "/dashboard/api-keys", &[]).await;
    assert_eq!(issued.status, StatusCode::OK, "{}", issued.text);
    assert_eq!(issued.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let new_key = issued.text.split("<code class=\"key\">").nth(1).and_then(|s| s.split('<').next()).expect("the new key").to_string();
    assert_eq!(t.partner(&new_key, "GET", "/clients", None).await.status, StatusCode::OK, "the new key works");
    let again = get(&t, &mut ada, "/dashboard/api-keys").await;
    assert!(again.text.contains("2 active keys") && !again.text.contains(&new_key), "shown once: {}", again.text);

    // Revoke the old key: it stops working, the new one goes on.
    let listed = t.admin("GET", &format!("/partners/{id}/api-keys"), None).await;
    let old = listed.body["apiKeys"]
        .as_array()
        .and_then(|ks| ks.iter().find(|k| old_key.starts_with(k["prefix"].as_str().unwrap_or("-"))).cloned());
    let old = old.unwrap_or_else(|| panic!("the old key's prefix in {}", listed.text));
    let page = get(&t, &mut ada, "/dashboard/api-keys").await.text;
    let revoke = action_for(&page, &format!("Revoke the key {}…", old["prefix"].as_str().unwrap()));
    assert_eq!(revoke, format!("/dashboard/api-keys/{}/revoke", old["id"].as_str().unwrap()));
    let r = post_form(&t, &mut ada, "/dashboard/api-keys", &revoke, &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/dashboard/api-keys")), "{}", r.text);
    let statuses = (t.partner(&old_key, "GET", "/clients", None).await.status, t.partner(&new_key, "GET", "/clients", None).await.status);
    assert_eq!(statuses, (StatusCode::UNAUTHORIZED, StatusCode::OK));

    // Another partner's key: 404, and it keeps working.
    let (other_id, other_key) = t.new_partner("Otherco").await;
    let their_keys = t.admin("GET", &format!("/partners/{other_id}/api-keys"), None).await;
    let their_key_id =
        their_keys.body["apiKeys"][0]["id"].as_str().unwrap_or_else(|| panic!("a key of Otherco: {}", their_keys.text)).to_string();
    let path = format!("/dashboard/api-keys/{their_key_id}/revoke");
    let token = t.app.form_token(&binding(&t, &ada).await, &path);
    let r = t.browse(&mut ada, &path, Some(&[("csrf", &token)]), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(t.partner(&other_key, "GET", "/clients", None).await.status, StatusCode::OK);
}

async fn admins_set_the_branding(t: TestApp) {
    let (id, _, mut ada) = admin_of(&t, "Ledgerly", "ada@ledgerly.test").await;
    let fields = [
        ("logo_url", "https://ledgerly.test/logo.png"),
        ("background_color_code", "#14532d"),
        ("font_color", "#ffffff"),
        ("font_family", "Inter"),
    ];
    let r = post_form(&t, &mut ada, "/dashboard/settings", "/dashboard/settings", &fields).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/dashboard/settings?saved=1")), "{}", r.text);
    let p = t.admin("GET", &format!("/partners/{id}"), None).await;
    assert_eq!(p.body["branding"]["backgroundColorCode"], "#14532d", "{}", p.text);
    assert_eq!(p.body["branding"]["fontFamily"], "Inter", "{}", p.text);
    let page = get(&t, &mut ada, "/dashboard/settings?saved=1").await;
    assert!(page.text.contains("Saved.") && page.text.contains("value=\"#14532d\""), "{}", page.text);

    let bad =
        post_form(&t, &mut ada, "/dashboard/settings", "/dashboard/settings", &[("background_color_code", "red; x: url(evil)")]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.text.contains("backgroundColorCode"), "{}", bad.text);
    let p = t.admin("GET", &format!("/partners/{id}"), None).await;
    assert_eq!(p.body["branding"]["backgroundColorCode"], "#14532d", "unchanged after the refusal");
}

async fn members_read_and_are_refused_changes(t: TestApp) {
    let (id, key) = t.new_partner("Ledgerly").await;
    partner_user(&t, &id, "mo@ledgerly.test", "member").await;
    let mut mo = signed_in(&t, "mo@ledgerly.test").await;
    for path in ["/dashboard/team", "/dashboard/api-keys", "/dashboard/settings"] {
        let page = get(&t, &mut mo, path).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
        assert!(!page.text.contains("method=\"post\" action=\"/dashboard/"), "{path}: no change forms for a member: {}", page.text);
        assert!(page.text.contains("Only an admin"), "{path}");
    }
    // Even with a valid token, every change is 403 and nothing happens.
    let b = binding(&t, &mo).await;
    let keys_before = t.admin("GET", &format!("/partners/{id}/api-keys"), None).await.text;
    for (path, fields) in [
        ("/dashboard/team", vec![("name", "Eve"), ("email", "eve@ledgerly.test"), ("role", "admin")]),
        ("/dashboard/api-keys", vec![]),
        ("/dashboard/settings", vec![("background_color_code", "#000000")]),
    ] {
        let token = t.app.form_token(&b, path);
        let mut all = vec![("csrf", token.as_str())];
        all.extend(fields);
        let r = t.browse(&mut mo, path, Some(&all), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {}", r.text);
    }
    assert_eq!(t.admin("GET", &format!("/partners/{id}/api-keys"), None).await.text, keys_before, "no key issued");
    assert!(!get(&t, &mut mo, "/dashboard/team").await.text.contains("eve@ledgerly.test"));
    assert_eq!(t.partner(&key, "GET", "/clients", None).await.status, StatusCode::OK);
}

async fn admins_manage_webhooks_and_read_their_log(mut t: TestApp) {
    t.restart(Environment::Test, true).await;
    let (id, key, mut ada) = admin_of(&t, "Ledgerly", "ada@ledgerly.test").await;
    let r = t.partner(&key, "POST", "/clients", Some(crate::harness::client_body("acme", "Acme Ltd", "ann@acme.test", vec![]))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let empty = get(&t, &mut ada, "/dashboard/webhooks").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.text);
    assert!(empty.text.contains("No webhooks yet") && empty.text.contains("name=\"event:client.linked\""), "{}", empty.text);

    // A private address is refused with the API's message, the values kept.
    let bad = post_form(
        &t,
        &mut ada,
        "/dashboard/webhooks",
        "/dashboard/webhooks",
        &[("url", "https://10.1.2.3/hook"), ("event:client.linked", "on")],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.text.contains("url") && bad.text.contains("value=\"https://10.1.2.3/hook\""), "{}", bad.text);
    let none = post_form(&t, &mut ada, "/dashboard/webhooks", "/dashboard/webhooks", &[("url", "http://127.0.0.1:9/hook")]).await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST, "no event: {}", none.text);

    // Added: the secret once, no-store; listed without it.
    let added = post_form(
        &t,
        &mut ada,
        "/dashboard/webhooks",
        "/dashboard/webhooks",
        &[("url", "http://127.0.0.1:9/hook"), ("event:client.linked", "on"), ("event:case.created", "on")],
    )
    .await;
    assert_eq!(added.status, StatusCode::OK, "{}", added.text);
    assert_eq!(added.headers.get("cache-control").and_then(|v| v.to_str().ok()), Some("no-store"));
    let secret = added.text.split("<code class=\"key\">").nth(1).and_then(|s| s.split('<').next()).expect("the secret").to_string();
    let listed = get(&t, &mut ada, "/dashboard/webhooks").await;
    assert!(listed.text.contains("http://127.0.0.1:9/hook") && !listed.text.contains(&secret), "{}", listed.text);
    let subs = t.partner(&key, "GET", "/v1/Webhooks", None).await;
    let sub_id = subs
        .body
        .as_array()
        .or(subs.body["webhooks"].as_array())
        .or(subs.body["items"].as_array())
        .and_then(|a| a.first())
        .and_then(|w| w["id"].as_str())
        .map(str::to_string);
    let sub_id = sub_id.unwrap_or_else(|| panic!("the webhook through the API: {}", subs.text));

    // A test event lands in the delivery log.
    let sent = post_form(
        &t,
        &mut ada,
        "/dashboard/webhooks",
        "/dashboard/webhooks/test",
        &[("event_type", "client.linked"), ("external_tenant_id", "acme")],
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    assert!(sent.text.contains("queued for 1 webhook."), "{}", sent.text);
    let log = get(&t, &mut ada, &format!("/dashboard/webhooks/{sub_id}")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.text);
    assert!(log.text.contains("client.linked") && log.text.contains("1 in all"), "{}", log.text);

    // Another partner cannot read or delete it; a member reads but cannot delete.
    let (_, _, mut olga) = admin_of(&t, "Otherco", "olga@otherco.test").await;
    assert_eq!(get(&t, &mut olga, &format!("/dashboard/webhooks/{sub_id}")).await.status, StatusCode::NOT_FOUND);
    let path = format!("/dashboard/webhooks/{sub_id}/delete");
    let token = t.app.form_token(&binding(&t, &olga).await, &path);
    assert_eq!(t.browse(&mut olga, &path, Some(&[("csrf", &token)]), &[]).await.status, StatusCode::NOT_FOUND);
    partner_user(&t, &id, "mo@ledgerly.test", "member").await;
    let mut mo = signed_in(&t, "mo@ledgerly.test").await;
    let page = get(&t, &mut mo, "/dashboard/webhooks").await;
    assert!(
        page.text.contains("http://127.0.0.1:9/hook") && !page.text.contains("method=\"post\" action=\"/dashboard/webhooks"),
        "{}",
        page.text
    );
    let token = t.app.form_token(&binding(&t, &mo).await, &path);
    assert_eq!(t.browse(&mut mo, &path, Some(&[("csrf", &token)]), &[]).await.status, StatusCode::FORBIDDEN);

    // The admin deletes it.
    let page = get(&t, &mut ada, "/dashboard/webhooks").await.text;
    let delete = action_for(&page, "Delete the webhook to http://127.0.0.1:9/hook");
    let r = post_form(&t, &mut ada, "/dashboard/webhooks", &delete, &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/dashboard/webhooks")), "{}", r.text);
    assert!(get(&t, &mut ada, "/dashboard/webhooks").await.text.contains("No webhooks yet"));
}
