//! The Attention list, the client timeline, the Clients tab's link requests and the Cases
//! tab's source filter (issue 10), on both backends: each Attention kind appears when its
//! situation exists and goes once it is resolved; another partner's items never appear;
//! `GET /referral-api/attention` and the overview show the same items in the same order;
//! the timeline tells a client's story in time order and is a 404 for another partner's
//! or an unknown tenant, in the API and on the page.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::dashboard::{partner_user, signed_in};
use crate::disputes::{attributed_paid, link_by_approval};
use crate::harness::{case_body, client_body, path_of, Jar, TestApp};

crate::both_backends!(
    each_attention_kind_comes_and_goes,
    the_timeline_tells_the_clients_story,
    link_requests_show_on_the_clients_tab,
    the_cases_tab_filters_by_source,
);

async fn attention(t: &TestApp, key: &str) -> Vec<Value> {
    let r = t.partner(key, "GET", "/attention", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["truncatedKinds"], json!([]), "{}", r.text);
    r.body["items"].as_array().expect("items").clone()
}

fn kinds_of<'a>(items: &'a [Value], tenant: &str) -> Vec<&'a str> {
    items.iter().filter(|i| i["externalTenantId"] == tenant).map(|i| i["kind"].as_str().unwrap()).collect()
}

fn item<'a>(items: &'a [Value], kind: &str) -> &'a Value {
    items.iter().find(|i| i["kind"] == kind).unwrap_or_else(|| panic!("no {kind} in {items:#?}"))
}

/// The `data-kind` of each row of a page's tables, in order.
fn row_kinds(html: &str) -> Vec<String> {
    html.split("<tr data-kind=\"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

/// The overview's Attention rows are the JSON items, in the same order, naming the same
/// clients and cases.
async fn page_matches_json(t: &TestApp, jar: &mut Jar, key: &str) {
    let items = attention(t, key).await;
    let page = t.browse(jar, "/dashboard", None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{:?} {}", page.location(), page.text);
    let kinds: Vec<String> = items.iter().map(|i| i["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(row_kinds(&page.text), kinds, "{}", page.text);
    for i in &items {
        let href = format!("href=\"/dashboard/clients/{}\"", i["externalTenantId"].as_str().unwrap());
        assert!(page.text.contains(&href), "{href}: {}", page.text);
        if let Some(r) = i["caseReference"].as_str() {
            assert!(page.text.contains(r), "{r}: {}", page.text);
        }
        if let Some(d) = i["deadline"].as_str() {
            assert!(page.text.contains(&format!("<time datetime=\"{d}\">{}</time>", &d[..10])), "{d}: {}", page.text);
        }
    }
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap_or_else(|| panic!("not an instant: {v}")).parse().expect("RFC 3339")
}

async fn link_id(t: &TestApp, partner_id: &str, tenant: &str) -> String {
    let links = t.admin("GET", &format!("/links?partnerId={partner_id}"), None).await;
    let l = links.body["links"].as_array().unwrap().iter().find(|l| l["externalTenantId"] == tenant).expect("the link");
    l["id"].as_str().unwrap().to_string()
}

async fn each_attention_kind_comes_and_goes(t: TestApp) {
    t.collection_partners().await;
    let (ledgerly, key) = t.new_partner("Ledgerly").await;
    let (_, other_key) = t.new_partner("Otherco").await;
    partner_user(&t, &ledgerly, "pat@ledgerly.test", "member").await;
    let mut jar = signed_in(&t, "pat@ledgerly.test").await;
    assert!(attention(&t, &key).await.is_empty());
    let calm = t.browse(&mut jar, "/dashboard", None, &[]).await;
    assert_eq!(calm.status, StatusCode::OK, "{:?} {}", calm.location(), calm.text);
    assert!(calm.text.contains("Nothing needs your attention"), "{}", calm.text);

    // Another partner's client waits for onboarding: never in Ledgerly's list.
    let zeta = t.partner(&other_key, "POST", "/clients", Some(client_body("zeta", "Zeta Ltd", "zed@zeta.test", vec![]))).await;
    assert_eq!(zeta.status, StatusCode::ACCEPTED, "{}", zeta.text);

    // 1. Onboarding pending, with the URL to send again; gone once signed.
    let created = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("acme", "Acme Ltd", "ann@acme.test", vec![case_body("acme-1", "1000", "GBP", "GB")])),
        )
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let items = attention(&t, &key).await;
    assert_eq!(kinds_of(&items, "acme"), ["onboarding_pending"]);
    assert!(kinds_of(&items, "zeta").is_empty(), "{items:#?}");
    let pending = item(&items, "onboarding_pending");
    assert_eq!((pending["url"].as_str(), pending["companyName"].as_str()), (Some(url.as_str()), Some("Acme Ltd")));
    assert_eq!(pending["deadline"], Value::Null);
    assert_eq!(kinds_of(&attention(&t, &other_key).await, "zeta"), ["onboarding_pending"]);
    page_matches_json(&t, &mut jar, &key).await;
    let signed = t.submit_form(&path_of(&url), &[("signer_name", "Ann"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    assert!(kinds_of(&attention(&t, &key).await, "acme").is_empty());

    // 2. A link request awaiting the client's approval, with its expiry and no company
    //    name; gone once approved.
    let (_, client_key) = t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    let asked = t.partner(&key, "POST", "/clients", Some(client_body("nw-1", "Nordwind ApS", "niels@nordwind.test", vec![]))).await;
    assert_eq!(asked.status, StatusCode::CONFLICT, "{}", asked.text);
    let items = attention(&t, &key).await;
    assert_eq!(kinds_of(&items, "nw-1"), ["link_request_pending"]);
    let request = item(&items, "link_request_pending");
    assert_eq!(request["companyName"], Value::Null);
    assert!(instant(&request["deadline"]) > instant(&request["since"]), "{request}");
    page_matches_json(&t, &mut jar, &key).await;
    let approval = asked.body["data"]["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let approved = t.submit_form(&path_of(&approval), &[("decision", "approve")]).await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text);
    assert!(kinds_of(&attention(&t, &key).await, "nw-1").is_empty());

    // 3. The now non-attributed client creates a case itself: it will not earn.
    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OWN-1", "1000", "GBP", "GB"))).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let own_ref = own.body["reference"].as_str().unwrap().to_string();
    let items = attention(&t, &key).await;
    assert_eq!(kinds_of(&items, "nw-1"), ["case_outside_integration"]);
    assert_eq!(item(&items, "case_outside_integration")["caseReference"], own_ref.as_str());
    assert!(kinds_of(&attention(&t, &other_key).await, "nw-1").is_empty());

    // 4. An archived link, with its reason; gone once unarchived.
    let acme_link = link_id(&t, &ledgerly, "acme").await;
    let archived = t.admin("POST", &format!("/links/{acme_link}/archive"), Some(json!({"reason": "customer left"}))).await;
    assert_eq!(archived.status, StatusCode::OK, "{}", archived.text);
    let items = attention(&t, &key).await;
    assert_eq!(kinds_of(&items, "acme"), ["link_archived"]);
    assert!(item(&items, "link_archived")["explanation"].as_str().unwrap().contains("customer left"));
    page_matches_json(&t, &mut jar, &key).await;
    let back = t.admin("POST", &format!("/links/{acme_link}/unarchive"), Some(json!({"reason": "by mistake"}))).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.text);
    assert!(kinds_of(&attention(&t, &key).await, "acme").is_empty());

    // 5. The case is paid and does not earn: nothing about disputes while the window is
    //    far off; five days before the deadline it is close. The case is no longer
    //    recent by then.
    let paid = t.pay(&own_ref, "1000.00", "p-own").await;
    assert_eq!(paid.body["attribution"]["reason"], "non_attributed_other_channel", "{}", paid.text);
    assert_eq!(kinds_of(&attention(&t, &key).await, "nw-1"), ["case_outside_integration"]);
    let check = t.check(&key, &own_ref).await;
    let deadline = instant(&check.body["dispute"]["deadline"]);
    let now = instant(&t.admin("GET", "/test-clock", None).await.body["now"]);
    t.advance_days((deadline - now).num_days() - 5).await;
    let mut jar = signed_in(&t, "pat@ledgerly.test").await; // the old session went idle
    let items = attention(&t, &key).await;
    assert_eq!(kinds_of(&items, "nw-1"), ["dispute_deadline"]);
    let closing = item(&items, "dispute_deadline");
    assert_eq!((closing["caseReference"].as_str(), instant(&closing["deadline"])), (Some(own_ref.as_str()), deadline));
    page_matches_json(&t, &mut jar, &key).await;

    // 6. Disputed: the window item goes and the dispute waits for the answer, which
    //    ends it.
    let filed = t
        .partner(
            &key,
            "POST",
            "/disputes",
            Some(json!({
                "caseReference": own_ref,
                "externalTenantId": "nw-1",
                "creationMethod": "Through our integration",
                "expectedOutcome": "A referral fee",
                "observation": "The check says another channel",
            })),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    let items = attention(&t, &key).await;
    assert_eq!(kinds_of(&items, "nw-1"), ["dispute_open"]);
    assert_eq!(item(&items, "dispute_open")["disputeId"], filed.body["id"]);
    page_matches_json(&t, &mut jar, &key).await;
    let id = filed.body["id"].as_str().unwrap();
    let resolved =
        t.admin("POST", &format!("/disputes/{id}/resolve"), Some(json!({"outcome": "rejected", "reason": "Created in the web app"}))).await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.text);
    assert!(kinds_of(&attention(&t, &key).await, "nw-1").is_empty());

    // Otherco saw only its own client throughout.
    assert!(attention(&t, &other_key).await.iter().all(|i| i["externalTenantId"] == "zeta"));
}

/// Whether `want` appears in `kinds` in this order (other kinds may come between).
fn in_order(kinds: &[&str], want: &[&str]) -> bool {
    let mut it = kinds.iter();
    want.iter().all(|w| it.any(|k| k == w))
}

async fn the_timeline_tells_the_clients_story(t: TestApp) {
    t.collection_partners().await;
    let (ledgerly, key) = t.new_partner("Ledgerly").await;
    let (_, other_key) = t.new_partner("Otherco").await;
    partner_user(&t, &ledgerly, "pat@ledgerly.test", "member").await;
    let mut jar = signed_in(&t, "pat@ledgerly.test").await;

    // A non-attributed client linked by approval: its own case and one of ours, each paid,
    // then the link archived and unarchived.
    let (_, client_key) = t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    link_by_approval(&t, &key, "nw-1", "Nordwind ApS", "niels@nordwind.test").await;
    let own = t.customer_key(&client_key, "POST", "/cases", Some(case_body("OWN-1", "1000", "GBP", "GB"))).await;
    let own_ref = own.body["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&own_ref, "1000.00", "p-own").await.body["attribution"]["reason"], "non_attributed_other_channel");
    let minted = t.partner(&key, "POST", "/oauth/token", Some(json!({"externalTenantId": "nw-1"}))).await;
    let token = minted.body["accessToken"].as_str().unwrap().to_string();
    let ours = t.customer_bearer(&token, "POST", "/cases", Some(case_body("OURS-1", "1000", "GBP", "GB"))).await;
    assert_eq!(ours.status, StatusCode::OK, "{}", ours.text);
    let ours_ref = ours.body["reference"].as_str().unwrap().to_string();
    assert_eq!(t.pay(&ours_ref, "1000.00", "p-ours").await.body["attribution"]["reason"], "partner_channel");
    let link = link_id(&t, &ledgerly, "nw-1").await;
    assert_eq!(t.admin("POST", &format!("/links/{link}/archive"), Some(json!({"reason": "paused"}))).await.status, StatusCode::OK);
    assert_eq!(t.admin("POST", &format!("/links/{link}/unarchive"), Some(json!({"reason": "resumed"}))).await.status, StatusCode::OK);

    let tl = t.partner(&key, "GET", "/clients/nw-1/timeline", None).await;
    assert_eq!(tl.status, StatusCode::OK, "{}", tl.text);
    assert_eq!(tl.body["companyName"], "Nordwind ApS");
    assert_eq!((tl.body["cases"].clone(), tl.body["payouts"].clone()), (json!({"shown": 2, "total": 2}), json!({"shown": 2, "total": 2})));
    let items = tl.body["items"].as_array().unwrap();
    let ats: Vec<DateTime<Utc>> = items.iter().map(|i| instant(&i["at"])).collect();
    assert!(ats.windows(2).all(|w| w[0] <= w[1]), "time order: {items:#?}");
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    let story = [
        "link_requested",
        "link_request_approved",
        "linked",
        "case_created",
        "payout",
        "case_created",
        "payout",
        "link_archived",
        "link_unarchived",
    ];
    assert!(in_order(&kinds, &story), "{kinds:?}");
    let linked = item(items, "linked");
    assert_eq!(linked["attributed"], false);
    assert!(linked["referralFeePercentage"].is_number(), "{linked}");
    let case_of = |r: &str| items.iter().find(|i| i["kind"] == "case_created" && i["caseReference"] == r).expect("the case").clone();
    let payout_of = |r: &str| items.iter().find(|i| i["kind"] == "payout" && i["caseReference"] == r).expect("the payout").clone();
    let own_case = case_of(&own_ref);
    assert_eq!(own_case["caseSource"], "customer_api");
    assert!(own_case["explanation"].as_str().unwrap().contains("would not earn (non_attributed_other_channel)"), "{own_case}");
    let our_case = case_of(&ours_ref);
    assert_eq!(our_case["caseSource"], "partner_api");
    assert!(our_case["explanation"].as_str().unwrap().contains("your partner integration"), "{our_case}");
    let own_payout = payout_of(&own_ref);
    assert_eq!((own_payout["reason"].as_str(), own_payout["attributed"].as_bool()), (Some("non_attributed_other_channel"), Some(false)));
    let our_payout = payout_of(&ours_ref);
    assert_eq!((our_payout["reason"].as_str(), our_payout["attributed"].as_bool()), (Some("partner_channel"), Some(true)));
    assert_eq!(our_payout["referralFee"], crate::harness::dec("30.00"));
    assert!(item(items, "link_archived")["explanation"].as_str().unwrap().contains("paused"));

    // The page shows the same items, and the Clients tab links to it.
    let page = t.browse(&mut jar, "/dashboard/clients/nw-1", None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert_eq!(row_kinds(&page.text), kinds, "{}", page.text);
    assert!(page.text.contains("Nordwind ApS") && page.text.contains(&own_ref) && page.text.contains("<time datetime="));
    let clients = t.browse(&mut jar, "/dashboard/clients", None, &[]).await;
    assert!(clients.text.contains("href=\"/dashboard/clients/nw-1\""), "{}", clients.text);

    // Another partner's tenant and an unknown one: the same 404, no hint.
    let zeta = t.partner(&other_key, "POST", "/clients", Some(client_body("zeta", "Zeta Ltd", "zed@zeta.test", vec![]))).await;
    assert_eq!(zeta.status, StatusCode::ACCEPTED, "{}", zeta.text);
    let theirs = t.partner(&key, "GET", "/clients/zeta/timeline", None).await;
    let unknown = t.partner(&key, "GET", "/clients/nobody/timeline", None).await;
    assert_eq!((theirs.status, unknown.status), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND));
    assert_eq!(theirs.body, unknown.body);
    assert_eq!(t.partner(&other_key, "GET", "/clients/nw-1/timeline", None).await.status, StatusCode::NOT_FOUND);
    let page = t.browse(&mut jar, "/dashboard/clients/zeta", None, &[]).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.text.contains("Zeta"), "{}", page.text);
    assert_eq!(t.browse(&mut jar, "/dashboard/clients/nobody", None, &[]).await.status, StatusCode::NOT_FOUND);

    // Archived again, the client goes on without the partner: its later cases are not the
    // partner's to see.
    assert_eq!(t.admin("POST", &format!("/links/{link}/archive"), Some(json!({"reason": "left"}))).await.status, StatusCode::OK);
    let later = t.customer_key(&client_key, "POST", "/cases", Some(case_body("LATER-1", "1000", "GBP", "GB"))).await;
    let later_ref = later.body["reference"].as_str().unwrap().to_string();
    let tl = t.partner(&key, "GET", "/clients/nw-1/timeline", None).await;
    assert_eq!(tl.body["cases"], json!({"shown": 2, "total": 2}), "{}", tl.text);
    assert!(!tl.text.contains(&later_ref), "{}", tl.text);

    // With only a link request, nothing about the company.
    t.direct_client("Solvik AS", "siri@solvik.test").await;
    let asked = t.partner(&key, "POST", "/clients", Some(client_body("sol", "Solvik AS", "siri@solvik.test", vec![]))).await;
    assert_eq!(asked.status, StatusCode::CONFLICT, "{}", asked.text);
    let sol = t.partner(&key, "GET", "/clients/sol/timeline", None).await;
    assert_eq!(sol.status, StatusCode::OK, "{}", sol.text);
    assert_eq!(sol.body["companyName"], Value::Null);
    let kinds: Vec<&str> = sol.body["items"].as_array().unwrap().iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["link_requested"]);
    assert!(!sol.text.contains("Solvik"), "{}", sol.text);
    let page = t.browse(&mut jar, "/dashboard/clients/sol", None, &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text);
    assert!(!page.text.contains("Solvik"), "{}", page.text);
}

/// The part of the Clients tab below its "Link requests" heading.
fn requests_section(html: &str) -> &str {
    html.split("id=\"link-requests\"").nth(1).expect("the link requests section")
}

async fn link_requests_show_on_the_clients_tab(t: TestApp) {
    t.collection_partners().await;
    let (ledgerly, key) = t.new_partner("Ledgerly").await;
    let (_, other_key) = t.new_partner("Otherco").await;
    partner_user(&t, &ledgerly, "pat@ledgerly.test", "member").await;
    let mut jar = signed_in(&t, "pat@ledgerly.test").await;
    let page = t.browse(&mut jar, "/dashboard/clients", None, &[]).await;
    assert!(requests_section(&page.text).contains("No link request"), "{}", page.text);

    t.direct_client("Solvik AS", "siri@solvik.test").await;
    t.direct_client("Nordwind ApS", "niels@nordwind.test").await;
    t.direct_client("Fjord AS", "frida@fjord.test").await;
    let sol = t.partner(&key, "POST", "/clients", Some(client_body("sol", "Solvik AS", "siri@solvik.test", vec![]))).await;
    assert_eq!(sol.status, StatusCode::CONFLICT, "{}", sol.text);
    let nw = t.partner(&key, "POST", "/clients", Some(client_body("nw", "Nordwind ApS", "niels@nordwind.test", vec![]))).await;
    assert_eq!(nw.status, StatusCode::CONFLICT, "{}", nw.text);
    let theirs = t.partner(&other_key, "POST", "/clients", Some(client_body("fjord", "Fjord AS", "frida@fjord.test", vec![]))).await;
    assert_eq!(theirs.status, StatusCode::CONFLICT, "{}", theirs.text);

    let expiry = item(&attention(&t, &key).await, "link_request_pending")["deadline"].as_str().unwrap().to_string();
    let page = t.browse(&mut jar, "/dashboard/clients", None, &[]).await;
    let section = requests_section(&page.text);
    for tenant in ["sol", "nw"] {
        assert!(section.contains(&format!("href=\"/dashboard/clients/{tenant}\"")), "{tenant}: {section}");
    }
    assert_eq!(section.matches("Awaiting approval").count(), 2, "{section}");
    assert!(section.contains(&format!("<time datetime=\"{expiry}\">")), "{section}");
    assert!(!section.contains("fjord"), "{section}");

    // Approved: a client now, no longer a request.
    let approval = nw.body["data"]["onboardingLinks"]["url"].as_str().unwrap().to_string();
    assert_eq!(t.submit_form(&path_of(&approval), &[("decision", "approve")]).await.status, StatusCode::OK);
    let page = t.browse(&mut jar, "/dashboard/clients", None, &[]).await;
    let section = requests_section(&page.text);
    assert!(!section.contains("/dashboard/clients/nw\""), "{section}");
    assert!(page.text.split("id=\"link-requests\"").next().unwrap().contains("href=\"/dashboard/clients/nw\""), "{}", page.text);

    // Past its expiry the other one is listed as expired, and leaves the Attention list.
    let now = instant(&t.admin("GET", "/test-clock", None).await.body["now"]);
    let expires = instant(&json!(expiry));
    t.advance_days((expires - now).num_days() + 1).await;
    let mut jar = signed_in(&t, "pat@ledgerly.test").await; // the old session went idle
    let page = t.browse(&mut jar, "/dashboard/clients", None, &[]).await;
    let section = requests_section(&page.text);
    assert!(section.contains("Expired") && !section.contains("Awaiting approval"), "{section}");
    assert!(kinds_of(&attention(&t, &key).await, "sol").is_empty());
}

async fn the_cases_tab_filters_by_source(t: TestApp) {
    t.collection_partners().await;
    let (ledgerly, key) = t.new_partner("Ledgerly").await;
    partner_user(&t, &ledgerly, "pat@ledgerly.test", "member").await;
    let mut jar = signed_in(&t, "pat@ledgerly.test").await;
    let (api_ref, _) = attributed_paid(&t, &key, "acme").await;
    let links = t.admin("GET", &format!("/links?partnerId={ledgerly}"), None).await;
    let client_id = links.body["links"][0]["clientId"].as_str().unwrap().to_string();
    let op = t.admin("POST", &format!("/clients/{client_id}/cases"), Some(case_body("op-1", "500", "GBP", "GB"))).await;
    assert_eq!(op.status, StatusCode::CREATED, "{}", op.text);
    let op_ref = op.body["reference"].as_str().unwrap().to_string();

    let all = t.browse(&mut jar, "/dashboard/cases", None, &[]).await;
    assert!(all.text.contains(&api_ref) && all.text.contains(&op_ref), "{}", all.text);
    let only_op = t.browse(&mut jar, "/dashboard/cases?source=operator", None, &[]).await;
    assert_eq!(only_op.status, StatusCode::OK, "{}", only_op.text);
    assert!(only_op.text.contains(&op_ref) && !only_op.text.contains(&api_ref), "{}", only_op.text);
    assert!(only_op.text.contains("<option value=\"operator\" selected>"), "{}", only_op.text);
    assert!(only_op.text.contains("href=\"/dashboard/cases.csv?source=operator\""), "{}", only_op.text);
    let only_api = t.browse(&mut jar, "/dashboard/cases?source=partner_api&lifecycle=Active", None, &[]).await;
    assert!(only_api.text.contains(&api_ref) && !only_api.text.contains(&op_ref), "{}", only_api.text);
    // Kept in the pager's links and the export.
    let second = t.browse(&mut jar, "/dashboard/cases?source=operator&page=2", None, &[]).await;
    assert!(second.text.contains("href=\"/dashboard/cases?source=operator&amp;page=1\""), "{}", second.text);
    let csv = t.browse(&mut jar, "/dashboard/cases.csv?source=operator", None, &[]).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    assert!(csv.text.contains(&op_ref) && !csv.text.contains(&api_ref), "{}", csv.text);
    let bad = t.browse(&mut jar, "/dashboard/cases?source=fax", None, &[]).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert!(bad.text.contains("source"), "{}", bad.text);
}
