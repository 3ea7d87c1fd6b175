//! Limits of what the service accepts: amounts up to 10^13 minor units (and every figure
//! derived from the largest one stays exact), exponent-form numbers refused, FX rates on
//! real days in range and within bounds, and the Operator API refusing properties it does
//! not know while the partner- and client-facing APIs keep ignoring them.

use axum::http::StatusCode;
use serde_json::json;

use crate::harness::{case_body, client_body, dec, path_of, Resp, TestApp};
use crate::text_input::{from_schema, path_value, sample_body, seed};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// A 400 whose body names `field` in `businessErrors[].field`.
fn assert_names(r: &Resp, field: &str, what: &str) {
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{what}: {}", r.text);
    let fields: Vec<&str> = r.body["businessErrors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
    assert!(fields.contains(&field), "{what}: `{field}` not named in {fields:?}: {}", r.text);
}

async fn amounts_are_bounded_and_the_largest_stays_exact(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;

    // The reproduction: accepted, then GET /cases/{id} answered 500.
    let huge = client_body("huge", "Huge Ltd", "h@huge.test", vec![case_body("H-1", "92233720368547758.07", "EUR", "GB")]);
    let r = t.partner(&key, "POST", "/clients", Some(huge)).await;
    assert_names(&r, "cases[0].amountToRecover", "an amount far above the maximum");
    assert!(r.text.contains("10000000000000 minor units"), "the message states the maximum: {}", r.text);
    let (_, client_key) = t.direct_client("Direct Ltd", "d@direct.test").await;
    let r = t.customer_key(&client_key, "POST", "/cases", Some(case_body("D-1", "100000000000.01", "GBP", "GB"))).await;
    assert_names(&r, "amountToRecover", "one minor unit above the maximum");
    // Exponent-form numbers are refused wherever money or a percentage is parsed.
    let r = t.customer_key(&client_key, "POST", "/cases", Some(case_body("D-2", "1E2", "GBP", "GB"))).await;
    assert_names(&r, "amountToRecover", "1E2");
    let r = t
        .admin(
            "POST",
            "/partners",
            Some(json!({"companyName": "Expo", "contactEmail": "e@expo.test", "referralFeePercentage": dec("2.5e1")})),
        )
        .await;
    assert_names(&r, "referralFeePercentage", "2.5e1");
    let r = t
        .admin("POST", "/fx-rates", Some(json!({"date": "2026-01-02", "rates": [{"currency": "GBP", "usdPerUnit": dec("1.25e0")}]})))
        .await;
    assert_names(&r, "rates[0].usdPerUnit", "1.25e0");
    let r = t
        .admin("POST", "/partners", Some(json!({"companyName": "Expo", "contactEmail": "e@expo.test", "approvalTtlDays": dec("1e1")})))
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "an integer in exponent form: {}", r.text);
    let r = t.admin("POST", "/test-clock/advance", Some(json!({"days": dec("1E0")}))).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "an integer in exponent form: {}", r.text);

    // Exactly the maximum is accepted, and everything derived from it is exact.
    let created = t
        .partner(
            &key,
            "POST",
            "/clients",
            Some(client_body("max", "Max Ltd", "m@max.test", vec![case_body("M-1", "100000000000.00", "GBP", "GB")])),
        )
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let signed = t.submit_form(&path_of(&url), &[("signer_name", "Max"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    let case = &created.body["caseResults"]["successfulCases"][0];
    let (case_id, case_ref) = (case["id"].as_str().unwrap().to_string(), case["reference"].as_str().unwrap().to_string());
    let detail = t.partner(&key, "GET", &format!("/cases/{case_id}"), None).await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    // GBP 100,000,000,000.00 at 1.25; 15 % of it, 40 % of that, 50 % of that.
    assert_eq!(detail.body["potentialRevenue"]["grossAmountUsd"], dec("125000000000.00"), "{}", detail.text);
    assert_eq!(detail.body["potentialRevenue"]["referralRevenueUsd"], dec("3750000000.00"), "{}", detail.text);

    let r = t.pay(&case_ref, "100000000000.01", "over").await;
    assert_names(&r, "amount", "a payment above the maximum");
    let r = t.pay(&case_ref, "1e3", "expo").await;
    assert_names(&r, "amount", "an exponent-form payment");
    let paid = t.pay(&case_ref, "100000000000.00", "max").await;
    assert_eq!(paid.status, StatusCode::CREATED, "{}", paid.text);
    assert_eq!(paid.body["payout"]["successFee"], dec("15000000000.00"));
    assert_eq!(paid.body["attribution"]["referralFee"], dec("3000000000.00"));
    let payout = paid.body["payout"]["id"].as_str().unwrap().to_string();
    let locked = t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await;
    assert_eq!(locked.status, StatusCode::OK, "{}", locked.text);

    let report = t.partner(&key, "GET", "/reporting/transactions", None).await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text);
    assert_eq!(report.body["data"][0]["earnings"]["referralFeeAmount"], dec("3000000000.00"), "{}", report.text);
    for path in ["/statements/2026-03", "/statements/2026-03?Format=csv", "/me"] {
        let r = t.partner(&key, "GET", path, None).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.text);
    }
    assert!(t.partner(&key, "GET", "/statements/2026-03", None).await.text.contains("3750000000.00"));
    let reconciled = t.admin("GET", "/reconcile", None).await;
    assert_eq!(reconciled.status, StatusCode::OK, "{}", reconciled.text);
    assert_eq!(t.call("GET", "/metrics", &[], None).await.status, StatusCode::OK);

    // A dispute's corrected total has the same bound.
    let filed = t
        .partner(
            &key,
            "POST",
            "/disputes",
            Some(json!({"caseReference": case_ref, "externalTenantId": "max", "creationMethod": "API", "expectedOutcome": "more", "observation": "see"})),
        )
        .await;
    assert_eq!(filed.status, StatusCode::CREATED, "{}", filed.text);
    let resolve = format!("/disputes/{}/resolve", filed.body["id"].as_str().unwrap());
    let r = t.admin("POST", &resolve, Some(json!({"outcome": "adjusted", "reason": "typo", "amount": dec("100000000000.01")}))).await;
    assert_names(&r, "amount", "a corrected total above the maximum");
    let r = t.admin("POST", &resolve, Some(json!({"outcome": "adjusted", "reason": "typo", "amount": dec("100000000000.00")}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(t.admin("GET", "/reconcile", None).await.status, StatusCode::OK);
}

async fn csv(t: &TestApp, text: &str) -> Resp {
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/admin-api/v1/fx-rates")
        .header("authorization", format!("Bearer {}", crate::harness::ADMIN_TOKEN))
        .header("content-type", "text/csv")
        .body(axum::body::Body::from(text.to_string()))
        .unwrap();
    t.send(req).await
}

async fn fx_rates_need_real_days_in_range_and_bounded_positive_rates(t: TestApp) {
    let load = |date: &str, currency: &str, rate: &str| json!({"date": date, "rates": [{"currency": currency, "usdPerUnit": dec(rate)}]});
    for date in ["-2026-01-01", "0000-01-01", "1998-12-31", "2101-01-01", "2026-02-30", "2026-1-5", "20260105"] {
        let r = t.admin("POST", "/fx-rates", Some(load(date, "GBP", "1.25"))).await;
        assert_names(&r, "date", date);
    }
    for (currency, rate) in [("GBP", "0"), ("GBP", "-1.25"), ("EUR", "100.00000001"), ("JPY", "1.5"), ("KWD", "1000.5")] {
        let r = t.admin("POST", "/fx-rates", Some(load("2026-01-05", currency, rate))).await;
        assert_names(&r, "rates[0].usdPerUnit", &format!("{currency} {rate}"));
    }
    for (currency, rate) in [("EUR", "100"), ("JPY", "1"), ("KWD", "1000"), ("GBP", "0.00000001")] {
        let r = t.admin("POST", "/fx-rates", Some(load("2026-01-05", currency, rate))).await;
        assert_eq!(r.status, StatusCode::OK, "{currency} {rate}: {}", r.text);
    }
    for bad in [
        "Date,USD\n0000-01-01,1.1\n",
        "Date,USD\n2026-02-30,1.1\n",
        "Date,USD,GBP\n2026-01-02,1.1,0\n",
        "Date,USD,GBP\n2026-01-02,1.1,-0.8\n",
    ] {
        let r = csv(&t, bad).await;
        assert_names(&r, "body", bad);
        assert!(r.text.contains("line 2"), "{bad}: {}", r.text);
    }
    let r = csv(&t, "Date,USD,GBP,\n2026-01-02,1.1,0.88,\n2026-01-01,1.1,N/A,\n").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["loaded"], 3, "{}", r.text);
}

async fn partner_count(t: &TestApp) -> usize {
    t.admin("GET", "/partners", None).await.body["partners"].as_array().map(Vec::len).unwrap_or(0)
}

async fn operator_api_refuses_unknown_properties(t: TestApp) {
    let s = seed(&t).await;
    let before = partner_count(&t).await;
    // The reproduction: a typo silently made a partner at the default 50 %.
    let typo = json!({"companyName": "Typo Ltd", "contactEmail": "ops@typo.test", "referralFeePercent": 25});
    let r = t.admin("POST", "/partners", Some(typo)).await;
    assert_names(&r, "referralFeePercent", "a misspelt property");
    assert!(r.text.contains("is not a known property"), "{}", r.text);
    assert_eq!(partner_count(&t).await, before, "nothing was created");
    // PascalCase still binds: the keys are folded before the check.
    let pascal = json!({"CompanyName": "Pascal Ltd", "ContactEmail": "ops@pascal.test", "ReferralFeePercentage": 25});
    let r = t.admin("POST", "/partners", Some(pascal)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["referralFeePercentage"], dec("25.0"), "{}", r.text);
    // Nested properties are named by their path, every one of them.
    let nested = json!({"companyName": "N", "contactEmail": "n@n.test", "branding": {"logoURL": "https://n.test/l.png"}, "colour": "red"});
    let r = t.admin("POST", "/partners", Some(nested)).await;
    assert_names(&r, "branding.logoURL", "nested");
    assert_names(&r, "colour", "second unknown property");
    let client = json!({"companyName": "D", "country": "GB", "supportEmail": "d@d.test", "users": [{"name": "D", "email": "d@d.test", "phone": "1"}]});
    let r = t.admin("POST", "/clients", Some(client)).await;
    assert_names(&r, "users[0].phone", "a property of a shared nested type");

    // Every JSON body of the Operator API, from the document.
    let doc = t.call("GET", "/openapi.json", &[], None).await.body;
    let mut checked = 0;
    for (template, item) in doc["paths"].as_object().unwrap() {
        if !template.starts_with("/admin-api/") {
            continue;
        }
        for m in METHODS {
            let Some(op) = item.get(m) else { continue };
            let Some(schema) = op["requestBody"]["content"]["application/json"].get("schema") else { continue };
            let method = m.to_uppercase();
            let mut body = sample_body(&method, template, &s).unwrap_or_else(|| from_schema(&doc, schema, 0));
            body["bogusProperty"] = json!(1);
            let path: Vec<String> = template
                .split('/')
                .map(|seg| match seg.strip_prefix('{').and_then(|x| x.strip_suffix('}')) {
                    Some(name) => path_value(template, name, &s),
                    None => seg.to_string(),
                })
                .collect();
            let r = t
                .call(&method, &path.join("/"), &[("authorization", &format!("Bearer {}", crate::harness::ADMIN_TOKEN))], Some(body))
                .await;
            assert_names(&r, "bogusProperty", &format!("{method} {template}"));
            checked += 1;
        }
    }
    assert!(checked >= 14, "only {checked} operator bodies checked");

    // The partner- and client-facing APIs keep ignoring what they do not know.
    let mut lenient = client_body("lenient", "Lenient Ltd", "l@lenient.test", vec![case_body("L-1", "100", "GBP", "GB")]);
    lenient["unknownThing"] = json!("ignored");
    lenient["client"]["fax"] = json!("ignored");
    let r = t.partner(&s.key, "POST", "/clients", Some(lenient)).await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text);
    let r = t.partner(&s.key, "POST", "/oauth/token", Some(json!({"externalTenantId": "acme", "scope": "all"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let mut case = case_body("L-2", "100", "GBP", "GB");
    case["invoiceNumber"] = json!("INV-7");
    let r = t.customer_bearer(&s.token, "POST", "/cases", Some(case)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);

    // Operator case creation: every unknown property named, nested ones by their path; the
    // documented ones (PascalCase too) bind.
    let cases = format!("/clients/{}/cases", s.client_id);
    let mut case = case_body("OP-1", "100", "GBP", "GB");
    case["invoiceNumber"] = json!("INV-8");
    case["debtor"]["vatId"] = json!("GB1");
    let r = t.admin("POST", &cases, Some(case)).await;
    assert_names(&r, "invoiceNumber", "an operator case");
    assert_names(&r, "debtor.vatId", "an operator case's debtor");
    // The same creditor reference is still free: the refused case was not created.
    let mut case = case_body("OP-1", "100", "GBP", "GB");
    case["DueDate"] = json!("2026-04-01");
    case["isTest"] = json!(false);
    case["debtor"]["Email"] = json!("debtor@op.test");
    let r = t.admin("POST", &cases, Some(case)).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
}

crate::both_backends!(
    amounts_are_bounded_and_the_largest_stays_exact,
    fx_rates_need_real_days_in_range_and_bounded_positive_rates,
    operator_api_refuses_unknown_properties,
);
