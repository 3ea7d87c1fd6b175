//! The Partner Dashboard (issue 10), end to end on both backends: a partner user signs in
//! by the mailed link and reads the overview, Clients, Cases and Earnings tabs and their
//! CSV exports; each tab shows only the user's own partner; searches match what they
//! should; no session goes to `/login`, another kind of account to `/account`; bad
//! parameters are a 400 page, never a 5xx.

use axum::http::StatusCode;
use serde_json::json;

use crate::disputes::attributed_paid;
use crate::harness::{form_csrf, Jar, TestApp};

crate::both_backends!(
    the_tabs_need_a_partner_user_session,
    a_partner_user_reads_its_own_partner_only,
    searches_and_filters_narrow_each_tab,
    exports_carry_the_filtered_rows,
    bad_parameters_are_a_400_page,
);

/// Adds a user to the partner (by the operator token).
pub async fn partner_user(t: &TestApp, partner_id: &str, email: &str, role: &str) {
    let r =
        t.admin("POST", &format!("/partners/{partner_id}/users"), Some(json!({"email": email, "name": "Pat Partner", "role": role}))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

/// Signs a browser in as `email` through `/login` and the mailed link.
pub async fn signed_in(t: &TestApp, email: &str) -> Jar {
    let mut jar = Jar::default();
    let login = t.browse(&mut jar, "/login", None, &[]).await;
    let csrf = form_csrf(&login.text, "/login").expect("the login form");
    let sent = t.browse(&mut jar, "/login", Some(&[("csrf", &csrf), ("email", email)]), &[]).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text);
    let (link, _) = t.latest_signin_mail(email).await;
    let confirm = t.browse(&mut jar, &link, None, &[]).await;
    let csrf = form_csrf(&confirm.text, &link).expect("the confirm form");
    let done = t.browse(&mut jar, &link, Some(&[("csrf", &csrf)]), &[]).await;
    assert_eq!((done.status, done.location()), (StatusCode::SEE_OTHER, Some("/account")), "{}", done.text);
    jar
}

async fn get(t: &TestApp, jar: &mut Jar, path: &str) -> crate::harness::Resp {
    t.browse(jar, path, None, &[]).await
}

/// Two partners with one attributed, paid client each; a user of the first.
async fn two_partners(t: &TestApp) -> (String, String, Jar) {
    t.collection_partners().await;
    let (ledgerly, key) = t.new_partner("Ledgerly").await;
    let (_, other_key) = t.new_partner("Otherco").await;
    let (case_ref, _) = attributed_paid(t, &key, "acme").await;
    let (other_ref, _) = attributed_paid(t, &other_key, "zeta").await;
    assert_ne!(case_ref, other_ref);
    partner_user(t, &ledgerly, "pat@ledgerly.test", "member").await;
    let jar = signed_in(t, "pat@ledgerly.test").await;
    (case_ref, key, jar)
}

async fn the_tabs_need_a_partner_user_session(t: TestApp) {
    let mut none = Jar::default();
    for path in ["/dashboard", "/dashboard/clients", "/dashboard/cases", "/dashboard/earnings", "/dashboard/earnings.csv"] {
        let r = get(&t, &mut none, path).await;
        assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/login")), "{path}");
    }
    // A client user is signed in but is no partner user: off to choose an account.
    t.direct_client("Acme Ltd", "ann@acme.test").await;
    let mut client = signed_in(&t, "ann@acme.test").await;
    let r = get(&t, &mut client, "/dashboard").await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/account")), "{}", r.text);
    // The account page of a partner user links to the dashboard.
    let (pid, _) = t.new_partner("Ledgerly").await;
    partner_user(&t, &pid, "pat@ledgerly.test", "member").await;
    let mut pat = signed_in(&t, "pat@ledgerly.test").await;
    let account = get(&t, &mut pat, "/account").await;
    assert!(account.text.contains("href=\"/dashboard\""), "{}", account.text);
    let overview = get(&t, &mut pat, "/dashboard").await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.text);
    assert!(overview.text.contains("Ledgerly") && overview.text.contains("Sign out"), "{}", overview.text);
    // Signed out, the dashboard is gone again.
    let csrf = form_csrf(&overview.text, "/logout").expect("the sign-out form");
    let out = t.browse(&mut pat, "/logout", Some(&[("csrf", &csrf)]), &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.text);
    let r = get(&t, &mut pat, "/dashboard").await;
    assert_eq!(r.location(), Some("/login"));
}

async fn a_partner_user_reads_its_own_partner_only(t: TestApp) {
    let (case_ref, _, mut jar) = two_partners(&t).await;
    let overview = get(&t, &mut jar, "/dashboard").await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.text);
    // The seven buckets under their partner-facing names; the one earning is Unrecognized.
    for label in ["Unrecognized", "Confirmed", "Awaiting CP payment", "Ready to invoice", "Awaiting payment", "Paid", "Disputed"] {
        assert!(overview.text.contains(label), "{label}: {}", overview.text);
    }
    assert!(overview.text.contains("37.50 USD"), "GBP 30.00 at 1.25: {}", overview.text);
    assert!(overview.text.contains("<svg") && overview.text.contains("Earnings per month"), "{}", overview.text);
    let clients = get(&t, &mut jar, "/dashboard/clients").await;
    assert_eq!(clients.status, StatusCode::OK, "{}", clients.text);
    assert!(clients.text.contains("acme") && clients.text.contains("Attributed") && clients.text.contains("Complete"), "{}", clients.text);
    assert!(!clients.text.contains("zeta"), "another partner's client: {}", clients.text);
    let cases = get(&t, &mut jar, "/dashboard/cases").await;
    assert!(cases.text.contains(&case_ref), "{}", cases.text);
    assert!(!cases.text.contains("zeta"), "{}", cases.text);
    let earnings = get(&t, &mut jar, "/dashboard/earnings").await;
    assert!(
        earnings.text.contains(&case_ref) && earnings.text.contains("30.00 GBP") && earnings.text.contains(">Estimate</span>"),
        "{}",
        earnings.text
    );
    assert!(!earnings.text.contains("zeta"), "{}", earnings.text);
    // Another partner's case reference finds nothing.
    let r = get(&t, &mut jar, "/dashboard/earnings?q=zeta").await;
    assert!(r.text.contains("No earnings match."), "{}", r.text);
    let r = get(&t, &mut jar, "/dashboard/cases?q=zeta").await;
    assert!(r.text.contains("No cases match."), "{}", r.text);
}

async fn searches_and_filters_narrow_each_tab(t: TestApp) {
    let (case_ref, key, mut jar) = two_partners(&t).await;
    attributed_paid(&t, &key, "bravo").await;
    let all = get(&t, &mut jar, "/dashboard/clients").await;
    assert!(all.text.contains("acme") && all.text.contains("bravo"), "{}", all.text);
    let one = get(&t, &mut jar, "/dashboard/clients?q=BRAV").await;
    assert!(one.text.contains("bravo") && !one.text.contains(">acme<"), "case-insensitive tenant search: {}", one.text);
    let cases = get(&t, &mut jar, &format!("/dashboard/cases?q={}", case_ref.to_lowercase())).await;
    assert!(cases.text.contains(&case_ref) && !cases.text.contains("bravo-1"), "{}", cases.text);
    let closed = get(&t, &mut jar, "/dashboard/cases?lifecycle=Closed").await;
    assert!(closed.text.contains("No cases match."), "{}", closed.text);
    let paid = get(&t, &mut jar, "/dashboard/earnings?stage=Paid").await;
    assert!(paid.text.contains("No earnings match."), "{}", paid.text);
    let pending = get(&t, &mut jar, "/dashboard/earnings?stage=Pending").await;
    assert!(pending.text.contains(&case_ref), "{}", pending.text);
    let month = t.app.now().format("%Y-%m").to_string();
    let this = get(&t, &mut jar, &format!("/dashboard/earnings?month={month}")).await;
    assert!(this.text.contains(&case_ref), "{}", this.text);
    let before = get(&t, &mut jar, "/dashboard/earnings?month=2001-01").await;
    assert!(before.text.contains("No earnings match."), "{}", before.text);
}

async fn exports_carry_the_filtered_rows(t: TestApp) {
    let (case_ref, _, mut jar) = two_partners(&t).await;
    let csv = get(&t, &mut jar, "/dashboard/earnings.csv").await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "case_reference,client,external_tenant_id,paid_date,kind,fee,currency,fee_usd,stage,estimate");
    assert_eq!(lines.len(), 2, "{}", csv.text);
    assert!(
        lines[1].starts_with(&format!("{case_ref},Acme Ltd,acme,")) && lines[1].ends_with(",payout,30.00,GBP,37.50,Unrecognized,true"),
        "{}",
        lines[1]
    );
    let none = get(&t, &mut jar, "/dashboard/earnings.csv?stage=Paid").await;
    assert_eq!(none.text.split("\r\n").filter(|l| !l.is_empty()).count(), 1, "the header only: {}", none.text);
    let clients = get(&t, &mut jar, "/dashboard/clients.csv").await;
    let rows: Vec<&str> = clients.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 2, "{}", clients.text);
    assert!(rows[1].starts_with("Acme Ltd,acme,Complete,,Attributed,active,"), "{}", rows[1]);
    let cases = get(&t, &mut jar, "/dashboard/cases.csv").await;
    let rows: Vec<&str> = cases.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows.len(), 2, "{}", cases.text);
    assert!(rows[1].starts_with(&format!("{case_ref},Acme Ltd,acme,")), "{}", rows[1]);
}

async fn bad_parameters_are_a_400_page(t: TestApp) {
    let (_, _, mut jar) = two_partners(&t).await;
    for path in [
        "/dashboard/earnings?page=0",
        "/dashboard/earnings?page=abc",
        "/dashboard/earnings?stage=Nope",
        "/dashboard/earnings?month=2026-13",
        "/dashboard/earnings.csv?month=26-01",
        "/dashboard/cases?lifecycle=Open",
        "/dashboard/clients?page=-1",
    ] {
        let r = get(&t, &mut jar, path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        assert!(r.text.contains("The request could not be read"), "{path}: {}", r.text);
    }
    let long = format!("/dashboard/cases?q={}", "x".repeat(101));
    assert_eq!(get(&t, &mut jar, &long).await.status, StatusCode::BAD_REQUEST);
}
