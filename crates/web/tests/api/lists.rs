//! The partner's client and case lists (issue 9, bounded queries): pages, orders, filters
//! and the summary of `GET /clients` (each listed client as `GET /clients/{tenant}` shows
//! it); keyset pages of `GET /cases` (`After` = the previous page's `nextCursor`) that
//! neither skip nor repeat a case while cases are added; never another partner's rows.

use axum::http::StatusCode;
use serde_json::Value;

use crate::harness::{case_body, client_body, dec, TestApp};
use crate::money::attributed_client;

fn tenants(body: &Value) -> Vec<&str> {
    body["clients"].as_array().unwrap().iter().map(|c| c["externalTenantId"].as_str().unwrap()).collect()
}

async fn client_list_pages_orders_filters_and_sums(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Lister").await;
    let (_, rival) = t.new_partner("Rival").await;
    // Four clients, a day apart: two onboarded (attributed_client signs), two pending.
    let bravo =
        attributed_client(&t, &key, "bravo", vec![case_body("B-1", "1000", "GBP", "GB"), case_body("B-2", "50", "GBP", "GB")]).await;
    t.advance_days(1).await;
    for (tenant, company) in [("alpha", "alpha Ltd"), ("delta", "Delta Ltd")] {
        let mut body =
            client_body(tenant, company, &format!("ann@{tenant}.test"), vec![case_body(&format!("{tenant}-1"), "10", "GBP", "GB")]);
        if tenant == "delta" {
            // Every detail an item shows, and two users, the onboarding one named second.
            for (k, v) in [("address", "1 Bread Street"), ("city", "Leeds"), ("zipCode", "LS1 4AP"), ("registrationNumber", "GB-77")] {
                body["client"][k] = v.into();
            }
            body["users"] = serde_json::json!([
                {"name": "Bo Second User", "email": "bo@delta.test", "isOnboardingUser": false},
                {"name": "Ann Onboarding", "email": "ann@delta.test", "isOnboardingUser": true},
            ]);
        }
        let r = t.partner(&key, "POST", "/clients", Some(body)).await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
        t.advance_days(1).await;
    }
    attributed_client(&t, &key, "charlie", vec![]).await;
    let r = t.partner(&rival, "POST", "/clients", Some(client_body("zulu", "Alpha Rival Ltd", "z@zulu.test", vec![]))).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    // Earnings on bravo: GBP 1,000 paid → 15 % → 40 % → 50 % = GBP 30.00 = USD 37.50.
    assert_eq!(t.pay(&bravo[0], "1000.00", "p1").await.status, StatusCode::CREATED);

    let all = t.partner(&key, "GET", "/clients", None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(tenants(&all.body), vec!["charlie", "delta", "alpha", "bravo"], "newest link first");
    assert_eq!(all.body["page"]["totalResults"], 4);
    let summary = &all.body["summary"];
    assert_eq!(
        (
            &summary["totalClients"],
            &summary["attributedClients"],
            &summary["onboardingComplete"],
            &summary["onboardingPending"],
            &summary["totalCases"]
        ),
        (&4.into(), &4.into(), &2.into(), &2.into(), &4.into()),
        "{summary}"
    );
    // Every listed client is exactly what its own endpoint shows.
    for c in all.body["clients"].as_array().unwrap() {
        let one = t.partner(&key, "GET", &format!("/clients/{}", c["externalTenantId"].as_str().unwrap()), None).await;
        assert_eq!(&one.body, c);
    }
    let delta = &all.body["clients"][1];
    assert_eq!(
        delta["client"],
        serde_json::json!({"id": delta["client"]["id"], "companyName": "Delta Ltd", "officeEmail": "ann@delta.test", "country": "GB",
            "address": "1 Bread Street", "city": "Leeds", "zipCode": "LS1 4AP", "companyRegistrationNumber": "GB-77"}),
        "{delta}"
    );
    assert_eq!(
        delta["users"],
        serde_json::json!([{"id": 1, "email": "ann@delta.test", "firstName": "Ann", "lastName": "Onboarding"},
            {"id": 2, "email": "bo@delta.test", "firstName": "Bo", "lastName": "Second User"}]),
        "the onboarding user first"
    );
    assert_eq!(all.body["clients"][2]["client"]["city"], Value::Null, "no detail given");
    let bravo_item = &all.body["clients"][3];
    assert_eq!(bravo_item["caseStats"]["casesTotal"], 2);
    assert_eq!(bravo_item["caseStats"]["earningsUsd"], dec("37.50"), "{bravo_item}");
    assert_eq!(bravo_item["onboardingDone"], true);
    assert_eq!(all.body["clients"][1]["onboardingLinks"]["url"].as_str().map(|u| u.contains("/onboarding/")), Some(true));

    #[rustfmt::skip]
    let checks: [(&str, Vec<&str>, i64); 10] = [
        ("Sort=dateCreated:asc", vec!["bravo", "alpha", "delta", "charlie"], 4),
        ("Sort=name:asc", vec!["alpha", "bravo", "charlie", "delta"], 4),
        ("Sort=name:desc", vec!["delta", "charlie", "bravo", "alpha"], 4),
        ("PageSize=3&Page=2", vec!["bravo"], 4),
        ("Sort=name:asc&PageSize=2&Page=2", vec!["charlie", "delta"], 4),
        ("OnboardingDone=false", vec!["delta", "alpha"], 2),
        ("OnboardingDone=true&Sort=name:asc", vec!["bravo", "charlie"], 2),
        ("ExternalTenantId=alpha", vec!["alpha"], 1),
        ("Query=ALPHA", vec!["alpha"], 1),
        ("Query=zulu", vec![], 0),
    ];
    for (q, expected, total) in checks {
        let r = t.partner(&key, "GET", &format!("/clients?{q}"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.text);
        assert_eq!(tenants(&r.body), expected, "{q}");
        assert_eq!(r.body["page"]["totalResults"], total, "{q}");
        assert_eq!(r.body["summary"], all.body["summary"], "{q}: the summary is over every client");
    }
    let r = t.partner(&rival, "GET", "/clients", None).await;
    assert_eq!(tenants(&r.body), vec!["zulu"]);
    assert_eq!(r.body["summary"]["totalCases"], 0);
}

fn references(body: &Value) -> Vec<String> {
    body["cases"].as_array().unwrap().iter().map(|c| c["reference"].as_str().unwrap().to_string()).collect()
}

async fn case_list_keyset_pages_are_stable_while_cases_are_added(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Lister").await;
    let cases: Vec<_> = (1..=7).map(|i| case_body(&format!("K-{i}"), "100", "GBP", "GB")).collect();
    attributed_client(&t, &key, "kappa", cases).await;
    let client_id = t.partner(&key, "GET", "/clients/kappa", None).await.body["client"]["id"].as_str().unwrap().to_string();

    let first = t.partner(&key, "GET", "/cases?PageSize=100", None).await;
    let before = references(&first.body);
    assert_eq!(before.len(), 7);
    assert!(first.body["page"].get("nextCursor").is_none(), "a short page has no next page");

    let mut seen = Vec::new();
    let mut path = "/cases?PageSize=3".to_string();
    for n in 0.. {
        let r = t.partner(&key, "GET", &path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["page"]["totalResults"].as_i64().unwrap(), 7 + n, "the total counts every case, added ones too");
        seen.extend(references(&r.body));
        // A new case (newest of all) between pages: an offset would repeat a row.
        let added = t.admin("POST", &format!("/clients/{client_id}/cases"), Some(case_body(&format!("NEW-{n}"), "5", "GBP", "GB"))).await;
        assert_eq!(added.status, StatusCode::CREATED, "{}", added.text);
        match r.body["page"]["nextCursor"].as_str() {
            Some(cursor) => path = format!("/cases?PageSize=3&After={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, before, "every case once, in order, none of those added after page 1");

    for bad in ["nope", "12_x", "_"] {
        let r = t.partner(&key, "GET", &format!("/cases?After={bad}"), None).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text);
        assert!(r.text.contains("After"), "{}", r.text);
    }
    // Another partner's cursor walk shows none of these.
    let (_, rival) = t.new_partner("Rival").await;
    let r = t.partner(&rival, "GET", "/cases?PageSize=3", None).await;
    assert_eq!((references(&r.body).len(), &r.body["page"]["totalResults"]), (0, &0.into()));
}

crate::both_backends!(client_list_pages_orders_filters_and_sums, case_list_keyset_pages_are_stable_while_cases_are_added);
