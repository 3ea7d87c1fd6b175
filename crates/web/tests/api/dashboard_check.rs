//! The Partner Dashboard's case check, disputes and statements (issue 10), on both
//! backends: the self-serve check of a listed case and of a linked case the Cases tab does
//! not list (the page says why), 404 for another partner's case; raising a dispute from
//! the check page (the session's CSRF token, admins only, inside the window) and its page;
//! the disputes list and detail kept to the partner; the monthly statement as a page and
//! as CSV, with the payouts that did not earn and their reasons; bad months are a 400 page
//! naming the parameter.

use axum::http::StatusCode;
use serde_json::json;

use crate::dashboard::{partner_user, signed_in};
use crate::disputes::{attributed_paid, non_attributed_paid};
use crate::harness::{case_body, client_body, form_csrf, Jar, Resp, TestApp};

crate::both_backends!(
    the_check_page_of_a_listed_case,
    a_linked_case_the_cases_tab_does_not_list_says_why,
    an_archived_link_or_a_pending_request_says_why_too,
    another_partners_case_is_not_found,
    a_dispute_needs_the_sessions_csrf_token,
    members_read_disputes_but_do_not_raise_them,
    no_dispute_after_the_window,
    disputes_are_the_partners_own,
    the_disputes_list_is_paged_newest_first,
    the_statement_shows_what_did_not_earn,
    bad_months_are_a_400_page,
);

const FORM: &str = "/dashboard/disputes";

/// Ledgerly with an attributed paid case (`acme`) and a non-attributed client's own paid
/// case (`nw-1`); Otherco with one attributed paid case (`zeta`).
struct World {
    ledgerly: String,
    key: String,
    other_key: String,
    listed: String,
    hidden: String,
    others: String,
}

async fn world(t: &TestApp) -> World {
    t.collection_partners().await;
    let (ledgerly, key) = t.new_partner("Ledgerly").await;
    let (_, other_key) = t.new_partner("Otherco").await;
    let (listed, _) = attributed_paid(t, &key, "acme").await;
    let (hidden, _) = non_attributed_paid(t, &key).await;
    let (others, _) = attributed_paid(t, &other_key, "zeta").await;
    World { ledgerly, key, other_key, listed, hidden, others }
}

/// A signed-in user of Ledgerly with `role`.
async fn user(t: &TestApp, w: &World, email: &str, role: &str) -> Jar {
    partner_user(t, &w.ledgerly, email, role).await;
    signed_in(t, email).await
}

async fn get(t: &TestApp, jar: &mut Jar, path: &str) -> Resp {
    t.browse(jar, path, None, &[]).await
}

/// The dispute form's fields as the page fills them, with `csrf`.
fn filled<'a>(case_ref: &'a str, tenant: &'a str, csrf: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("caseReference", case_ref),
        ("externalTenantId", tenant),
        ("creationMethod", "We sent it through our integration"),
        ("expectedOutcome", "A referral fee on the payout"),
        ("observation", "The client told us it used our app.\r\nSee ticket 42."),
    ]
}

/// The CSRF token a session's dispute form carries (for a session shown no form).
fn token_of(t: &TestApp, jar: &Jar) -> String {
    let cookie = jar.0.iter().find(|(k, _)| k.ends_with("refshare_session")).map(|(_, v)| v.clone()).expect("a session cookie");
    t.app.form_token(&refshare_app::auth::hash_secret(&cookie), FORM)
}

async fn disputes_of(t: &TestApp, key: &str) -> usize {
    let r = t.partner(key, "GET", "/disputes", None).await;
    r.body["disputes"].as_array().map_or(0, Vec::len)
}

async fn the_check_page_of_a_listed_case(t: TestApp) {
    let w = world(&t).await;
    let mut jar = user(&t, &w, "ada@ledgerly.test", "admin").await;
    // The Cases tab links the reference to its check, and has the lookup form.
    let cases = get(&t, &mut jar, "/dashboard/cases").await;
    assert!(cases.text.contains(&format!("href=\"/dashboard/cases/{}\"", w.listed)), "{}", cases.text);
    assert!(cases.text.contains("action=\"/dashboard/check\""), "{}", cases.text);
    let found = get(&t, &mut jar, &format!("/dashboard/check?reference=+{}+", w.listed)).await;
    assert_eq!((found.status, found.location()), (StatusCode::SEE_OTHER, Some(format!("/dashboard/cases/{}", w.listed).as_str())));

    let page = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.listed)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    for text in ["Client link", "Onboarding", "Attribution type", "Creation source", "Case created after the link", "Payouts"] {
        assert!(page.text.contains(text), "{text}: {}", page.text);
    }
    assert!(page.text.contains("Link active since"), "{}", page.text);
    assert!(
        page.text.contains("attributed_client") && page.text.contains("30.00 GBP") && page.text.contains("Unrecognized"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("Why this case is not in your Cases tab"), "{}", page.text);
    // The dispute form, with the deadline, prefilled from the check.
    assert!(page.text.contains("Disputes on this case are accepted until"), "{}", page.text);
    assert!(form_csrf(&page.text, FORM).is_some(), "{}", page.text);
    assert!(page.text.contains("value=\"acme\"") && page.text.contains("Created via partner_api"), "{}", page.text);
    assert!(page.text.contains("<time datetime="), "{}", page.text);
}

async fn a_linked_case_the_cases_tab_does_not_list_says_why(t: TestApp) {
    let w = world(&t).await;
    let mut jar = user(&t, &w, "ada@ledgerly.test", "admin").await;
    let cases = get(&t, &mut jar, "/dashboard/cases").await;
    assert!(cases.text.contains(&w.listed) && !cases.text.contains(&w.hidden), "{}", cases.text);
    let page = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.hidden)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Why this case is not in your Cases tab"), "{}", page.text);
    assert!(page.text.contains("non-attributed") && page.text.contains("via customer_api"), "{}", page.text);
    assert!(page.text.contains("non_attributed_other_channel") && page.text.contains("Not attributed"), "{}", page.text);
    // What to do, from the engine's resolution.
    assert!(page.text.contains("submit its cases through your partner integration"), "{}", page.text);
    // The form names the payout that did not earn.
    assert!(page.text.contains("should earn our referral fee") && page.text.contains("value=\"nw-1\""), "{}", page.text);
}

async fn an_archived_link_or_a_pending_request_says_why_too(t: TestApp) {
    let w = world(&t).await;
    let mut jar = user(&t, &w, "pat@ledgerly.test", "member").await;
    // The operator archives acme's link: its case leaves the Cases tab, the check says why.
    let links = t.admin("GET", &format!("/links?partnerId={}", w.ledgerly), None).await;
    let acme = links.body["links"].as_array().unwrap().iter().find(|l| l["externalTenantId"] == "acme").expect("acme's link");
    let r = t.admin("POST", &format!("/links/{}/archive", acme["id"].as_str().unwrap()), Some(json!({"reason": "client left"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(!get(&t, &mut jar, "/dashboard/cases").await.text.contains(&w.listed));
    let page = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.listed)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Your link to this client is archived"), "{}", page.text);
    // A client that never approved the partner's link request: checkable, says so, and
    // tells nothing about the company.
    let (_, client_key) = t.direct_client("Quiet Oy", "q@quiet.test").await;
    let r = t.partner(&w.key, "POST", "/clients", Some(client_body("quiet", "Quiet Oy", "q@quiet.test", vec![]))).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("Q-1", "500", "GBP", "GB"))).await;
    let quiet = own.body["reference"].as_str().unwrap().to_string();
    let page = get(&t, &mut jar, &format!("/dashboard/cases/{quiet}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("You have no link to this client yet") && page.text.contains("Link request pending since"), "{}", page.text);
    assert!(!page.text.contains("Quiet Oy"), "no company name without a link: {}", page.text);
}

async fn another_partners_case_is_not_found(t: TestApp) {
    let w = world(&t).await;
    let mut jar = user(&t, &w, "pat@ledgerly.test", "member").await;
    let theirs = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.others)).await;
    let unknown = get(&t, &mut jar, "/dashboard/cases/NO-SUCH-1").await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "{}", theirs.text);
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert!(!theirs.text.contains("zeta") && !theirs.text.contains("Otherco"), "no hint: {}", theirs.text);
    let main = |r: &Resp| r.text.split("<main").nth(1).unwrap_or_default().to_string();
    assert_eq!(main(&theirs), main(&unknown), "the same page");
    let r = get(&t, &mut jar, "/dashboard/check?reference=").await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("reference"), "{}", r.text);
}

async fn a_dispute_needs_the_sessions_csrf_token(t: TestApp) {
    let w = world(&t).await;
    let mut jar = user(&t, &w, "ada@ledgerly.test", "admin").await;
    let page = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.hidden)).await;
    let csrf = form_csrf(&page.text, FORM).expect("the dispute form");
    // Without a token, with another form's token, with another session's token: 403.
    let logout = form_csrf(&page.text, "/logout").expect("the sign-out form");
    let mut other = user(&t, &w, "bob@ledgerly.test", "admin").await;
    let others_token = form_csrf(&get(&t, &mut other, &format!("/dashboard/cases/{}", w.hidden)).await.text, FORM).unwrap();
    for bad in ["", "nope", logout.as_str(), others_token.as_str()] {
        let r = t.browse(&mut jar, FORM, Some(&filled(&w.hidden, "nw-1", bad)), &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{bad:?}: {}", r.text);
    }
    assert_eq!(disputes_of(&t, &w.key).await, 0, "nothing filed");
    // No session: to /login, nothing filed.
    let r = t.browse(&mut Jar::default(), FORM, Some(&filled(&w.hidden, "nw-1", &csrf)), &[]).await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/login")));
    assert_eq!(disputes_of(&t, &w.key).await, 0);
    // A missing field: the check page again, naming it, with what was typed.
    let mut missing = filled(&w.hidden, "nw-1", &csrf);
    missing.retain(|(k, _)| *k != "observation");
    let r = t.browse(&mut jar, FORM, Some(&missing), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert!(r.text.contains("observation: is required") && r.text.contains("We sent it through our integration"), "{}", r.text);

    // With the session's token: filed, then the dispute's page.
    let r = t.browse(&mut jar, FORM, Some(&filled(&w.hidden, "nw-1", &csrf)), &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let location = r.location().expect("to the dispute").to_string();
    assert!(location.starts_with("/dashboard/disputes/"), "{location}");
    let list = t.partner(&w.key, "GET", "/disputes", None).await;
    assert_eq!(list.body["disputes"][0]["caseReference"], w.hidden.as_str(), "{}", list.text);
    assert_eq!(list.body["disputes"][0]["observation"], "The client told us it used our app.\r\nSee ticket 42.", "line breaks kept");
    let shown = get(&t, &mut jar, &location).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.text);
    assert!(shown.text.contains("Open: waiting for the platform") && shown.text.contains(&w.hidden), "{}", shown.text);
    assert!(shown.text.contains("non_attributed_other_channel"), "the check at filing: {}", shown.text);
    // The check page now points to it instead of a second form; a second one is a 409.
    let page = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.hidden)).await;
    assert!(page.text.contains("You have an open dispute on this case") && form_csrf(&page.text, FORM).is_none(), "{}", page.text);
    let r = t.browse(&mut jar, FORM, Some(&filled(&w.hidden, "nw-1", &csrf)), &[]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(disputes_of(&t, &w.key).await, 1);
    // Resolved by the operator: the page shows the outcome and the reason.
    let id = location.rsplit('/').next().unwrap();
    let resolved = t
        .admin("POST", &format!("/disputes/{id}/resolve"), Some(json!({"outcome": "rejected", "reason": "Created in the client's app"})))
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    let shown = get(&t, &mut jar, &location).await;
    assert!(shown.text.contains("Rejected") && shown.text.contains("Created in the client's app"), "{}", shown.text);
}

async fn members_read_disputes_but_do_not_raise_them(t: TestApp) {
    let w = world(&t).await;
    let mut jar = user(&t, &w, "pat@ledgerly.test", "member").await;
    let page = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.hidden)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(form_csrf(&page.text, FORM).is_none(), "no form for a member: {}", page.text);
    assert!(page.text.contains("Only your partner's admins can raise a dispute"), "{}", page.text);
    // Even with the session's valid token: 403, nothing filed.
    let csrf = token_of(&t, &jar);
    let r = t.browse(&mut jar, FORM, Some(&filled(&w.hidden, "nw-1", &csrf)), &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert!(r.text.contains("raise disputes"), "{}", r.text);
    assert_eq!(disputes_of(&t, &w.key).await, 0);
    // A member reads the disputes an admin raised.
    let filed = t
        .partner(
            &w.key,
            "POST",
            "/disputes",
            Some(json!({"caseReference": w.hidden, "externalTenantId": "nw-1", "creationMethod": "api", "expectedOutcome": "a fee", "observation": "seen"})),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    let list = get(&t, &mut jar, "/dashboard/disputes").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains(&w.hidden), "{}", list.text);
    let id = filed.body["id"].as_str().unwrap();
    assert_eq!(get(&t, &mut jar, &format!("/dashboard/disputes/{id}")).await.status, StatusCode::OK);
}

async fn no_dispute_after_the_window(t: TestApp) {
    let w = world(&t).await;
    t.advance_days(80).await;
    let mut jar = user(&t, &w, "ada@ledgerly.test", "admin").await;
    let page = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.hidden)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("The dispute window closed"), "{}", page.text);
    assert!(form_csrf(&page.text, FORM).is_none(), "{}", page.text);
    let csrf = token_of(&t, &jar);
    let r = t.browse(&mut jar, FORM, Some(&filled(&w.hidden, "nw-1", &csrf)), &[]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.text.contains("role=\"alert\"") && r.text.contains("2026-05-01"), "names the deadline: {}", r.text);
    assert_eq!(disputes_of(&t, &w.key).await, 0);
}

async fn disputes_are_the_partners_own(t: TestApp) {
    let w = world(&t).await;
    let theirs = t
        .partner(
            &w.other_key,
            "POST",
            "/disputes",
            Some(json!({"caseReference": w.others, "externalTenantId": "zeta", "creationMethod": "api", "expectedOutcome": "more", "observation": "seen"})),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::CREATED, "{}", theirs.text);
    let mut jar = user(&t, &w, "ada@ledgerly.test", "admin").await;
    let list = get(&t, &mut jar, "/dashboard/disputes").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert!(list.text.contains("No disputes yet.") && !list.text.contains(&w.others), "{}", list.text);
    let id = theirs.body["id"].as_str().unwrap();
    for path in [
        format!("/dashboard/disputes/{id}"),
        "/dashboard/disputes/not-a-uuid".into(),
        format!("/dashboard/disputes/{}", uuid::Uuid::new_v4()),
    ] {
        let r = get(&t, &mut jar, &path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {}", r.text);
        assert!(!r.text.contains(&w.others), "{}", r.text);
    }
    // Filing on another partner's case through the form: the same 404 as an unknown one.
    let page = get(&t, &mut jar, &format!("/dashboard/cases/{}", w.listed)).await;
    let csrf = form_csrf(&page.text, FORM).unwrap();
    let r = t.browse(&mut jar, FORM, Some(&filled(&w.others, "zeta", &csrf)), &[]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert_eq!(get(&t, &mut jar, "/dashboard/disputes?page=0").await.status, StatusCode::BAD_REQUEST);
}

async fn the_disputes_list_is_paged_newest_first(t: TestApp) {
    t.collection_partners().await;
    let (ledgerly, key) = t.new_partner("Ledgerly").await;
    let cases: Vec<_> = (1..=51).map(|i| case_body(&format!("many-{i}"), "100", "GBP", "GB")).collect();
    let created = t.partner(&key, "POST", "/clients", Some(client_body("many", "Many Ltd", "m@many.test", cases))).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    let refs: Vec<String> = created.body["caseResults"]["successfulCases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(refs.len(), 51);
    for r in &refs {
        let body = json!({"caseReference": r, "externalTenantId": "many", "creationMethod": "api", "expectedOutcome": "a fee", "observation": "seen"});
        assert_eq!(t.partner(&key, "POST", "/disputes", Some(body)).await.status, StatusCode::CREATED);
    }
    let w = World { ledgerly, key, other_key: String::new(), listed: String::new(), hidden: String::new(), others: String::new() };
    let mut jar = user(&t, &w, "pat@ledgerly.test", "member").await;
    let rows = |r: &Resp| r.text.matches("<tr><td><a href=\"/dashboard/disputes/").count();
    let first = get(&t, &mut jar, "/dashboard/disputes").await;
    assert_eq!(rows(&first), 50, "{}", first.text);
    assert!(first.text.contains("Page 1 of 2 · 51 in all") && first.text.contains("href=\"/dashboard/disputes?page=2\""), "{}", first.text);
    assert!(first.text.contains(&format!(">{}</a>", refs[50])) && !first.text.contains(&format!(">{}</a>", refs[0])), "newest first");
    let second = get(&t, &mut jar, "/dashboard/disputes?page=2").await;
    assert_eq!(rows(&second), 1, "{}", second.text);
    assert!(second.text.contains(&format!(">{}</a>", refs[0])), "the oldest last: {}", second.text);
}

async fn the_statement_shows_what_did_not_earn(t: TestApp) {
    let w = world(&t).await;
    let mut jar = user(&t, &w, "pat@ledgerly.test", "member").await;
    let month = t.app.now().format("%Y-%m").to_string();
    let r = get(&t, &mut jar, "/dashboard/statements").await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some(format!("/dashboard/statements/{month}").as_str())));
    let r = get(&t, &mut jar, "/dashboard/statements?month=2026-01").await;
    assert_eq!(r.location(), Some("/dashboard/statements/2026-01"));

    let page = get(&t, &mut jar, &format!("/dashboard/statements/{month}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains(&format!("Statement {month}")) && page.text.contains("type=\"month\""), "{}", page.text);
    assert!(page.text.contains(&w.listed) && page.text.contains("30.00 GBP") && page.text.contains("Unrecognized"), "{}", page.text);
    assert!(!page.text.contains(&w.others), "{}", page.text);
    // The payouts that did not earn are on their section's page.
    assert!(page.text.contains(&format!("href=\"/dashboard/statements/{month}?section=not-earned\"")), "{}", page.text);
    let page = get(&t, &mut jar, &format!("/dashboard/statements/{month}?section=not-earned")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(page.text.contains("Payouts that did not earn (1)"), "{}", page.text);
    assert!(
        page.text.contains(&w.hidden) && page.text.contains("non_attributed_other_channel") && page.text.contains("1000.00 GBP"),
        "{}",
        page.text
    );
    assert!(!page.text.contains(&w.others), "{}", page.text);

    for path in [format!("/dashboard/statements/{month}.csv"), format!("/dashboard/statements/{month}?format=csv")] {
        let csv = get(&t, &mut jar, &path).await;
        assert_eq!(csv.status, StatusCode::OK, "{path}: {}", csv.text);
        assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
        let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert_eq!(lines[0], "section,date,case_reference,external_tenant_id,kind,stage,amount,currency,amount_usd,reason,payment_amount");
        assert_eq!(lines.len(), 3, "{}", csv.text);
        let earning = lines.iter().find(|l| l.starts_with("earning,")).expect("the earning");
        assert!(earning.contains(&format!(",{},acme,payout,Unrecognized,30.00,GBP,37.50,attributed_client,", w.listed)), "{earning}");
        let not_earned = lines.iter().find(|l| l.starts_with("not_earned,")).expect("the payout that did not earn");
        assert!(not_earned.contains(&format!(",{},nw-1,", w.hidden)), "{not_earned}");
        assert!(not_earned.ends_with(",GBP,,non_attributed_other_channel,1000.00"), "{not_earned}");
    }
    // Another month: empty but a page.
    let empty = get(&t, &mut jar, "/dashboard/statements/2001-01").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.text.contains("Nothing was earned this month."), "{}", empty.text);
}

async fn bad_months_are_a_400_page(t: TestApp) {
    let w = world(&t).await;
    let mut jar = user(&t, &w, "pat@ledgerly.test", "member").await;
    for (path, names) in [
        ("/dashboard/statements/2026-13", "period"),
        ("/dashboard/statements/26-01", "period"),
        ("/dashboard/statements/nope.csv", "period"),
        ("/dashboard/statements?month=2026-1", "month"),
        ("/dashboard/statements/2026-01?format=pdf", "format"),
    ] {
        let r = get(&t, &mut jar, path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}: {}", r.text);
        assert!(r.text.contains("The request could not be read") && r.text.contains(names), "{path}: {}", r.text);
    }
    let mut none = Jar::default();
    let r = get(&t, &mut none, "/dashboard/statements/2026-01").await;
    assert_eq!((r.status, r.location()), (StatusCode::SEE_OTHER, Some("/login")));
}
