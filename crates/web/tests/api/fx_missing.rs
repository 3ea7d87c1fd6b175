//! A missing FX rate never blanks a partner's figures: the transactions report, the
//! statement (JSON and CSV), `caseStats.earningsUsd` and `potentialRevenue` answer with
//! every row, null USD where the rate is missing, partial USD totals and the missing
//! (currency, date) pairs. Operators see them (`GET /fx-rates/missing`, a metrics gauge);
//! a lock still needs the rate; reconciliation keeps working.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::{case_body, dec, TestApp};
use crate::money::attributed_client;

fn row<'a>(body: &'a Value, case_ref: &str) -> &'a Value {
    body["data"].as_array().unwrap().iter().find(|r| r["case"]["caseReference"] == case_ref).expect("row for the case")
}

async fn missing_rate_leaves_usd_null_not_the_report(t: TestApp) {
    t.collection_partners().await; // GBP and DKK rates, no SEK
    let (_, key) = t.new_partner("Ledgerly").await;
    let refs =
        attributed_client(&t, &key, "acme", vec![case_body("A-GB", "1000", "GBP", "GB"), case_body("A-SE", "1000", "SEK", "SE")]).await;
    let (gb, se) = (&refs[0], &refs[1]);
    assert_eq!(t.pay(gb, "1000.00", "g1").await.status, StatusCode::CREATED);
    let se_paid = t.pay(se, "1000.00", "s1").await; // SEK 1,000 → 200 → 40 → 20.00
    assert_eq!(se_paid.status, StatusCode::CREATED, "{}", se_paid.text);
    let missing = json!([{"currency": "SEK", "date": "2026-03-10"}]);

    // The report: every row, null USD where the rate is missing, partial totals.
    let r = t.partner(&key, "GET", "/reporting/transactions", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    let sek = row(&r.body, se);
    assert_eq!(sek["earnings"]["referralFeeAmount"], dec("20.00"), "the amount in its currency is still there");
    assert_eq!(sek["earnings"]["referralFeeAmountUsd"], Value::Null, "{sek}");
    assert_eq!(sek["earnings"]["debituraRevenueUsd"], Value::Null, "{sek}");
    assert_eq!(row(&r.body, gb)["earnings"]["referralFeeAmountUsd"], dec("37.50"));
    assert_eq!(r.body["missingFxRates"], missing, "{}", r.text);
    let summary = &r.body["summary"];
    assert_eq!(summary["revenue"]["pendingCount"], 2, "{summary}");
    assert_eq!(summary["revenue"]["pendingReferralFeeUsd"], dec("37.50"), "the convertible rows: {summary}");
    assert_eq!(summary["revenue"]["pendingUsdPartial"], true, "{summary}");
    assert_eq!(summary["revenue"]["paidUsdPartial"], false, "{summary}");
    assert_eq!(summary["totalDebituraRevenueUsd"], dec("75.00"), "{summary}");
    assert_eq!(summary["totalDebituraRevenueUsdPartial"], true, "{summary}");
    assert_eq!(summary["usdPartial"], true, "{summary}");
    // A filter without the SEK row is whole again.
    let gb_only = t.partner(&key, "GET", &format!("/reporting/transactions?Search={gb}"), None).await;
    assert_eq!(gb_only.body["missingFxRates"], json!([]), "{}", gb_only.text);
    assert_eq!(gb_only.body["summary"]["usdPartial"], false);

    // The statement, JSON and CSV.
    let s = t.partner(&key, "GET", "/statements/2026-03", None).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let line = s.body["earnings"].as_array().unwrap().iter().find(|l| l["caseReference"] == se.as_str()).expect("SEK line");
    assert_eq!(line["amount"], dec("20.00"));
    assert_eq!(line["amountUsd"], Value::Null, "{line}");
    let by_stage = s.body["totals"]["byStage"].as_array().unwrap();
    let sek_total = by_stage.iter().find(|t| t["currency"] == "SEK").expect("SEK total");
    assert_eq!((&sek_total["amount"], &sek_total["count"], &sek_total["usdPartial"]), (&dec("20.00"), &json!(1), &json!(true)));
    assert_eq!(s.body["totals"]["totalUsd"], dec("37.50"));
    assert_eq!(s.body["totals"]["usdPartial"], true);
    assert_eq!(s.body["missingFxRates"], missing);
    let csv = t.partner(&key, "GET", "/statements/2026-03?Format=csv", None).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text);
    let sek_line = csv.text.lines().find(|l| l.contains(se.as_str())).expect("SEK line in the CSV");
    assert!(sek_line.contains(",20.00,SEK,,"), "amount kept, amount_usd empty: {sek_line}");

    // caseStats and potentialRevenue.
    let client = t.partner(&key, "GET", "/clients/acme", None).await;
    assert_eq!(client.status, StatusCode::OK, "{}", client.text);
    assert_eq!(client.body["caseStats"]["earningsUsd"], dec("37.50"), "{}", client.text);
    assert_eq!(client.body["caseStats"]["earningsUsdPartial"], true);
    let cases = t.partner(&key, "GET", "/cases", None).await;
    let id_of = |r: &str| cases.body["cases"].as_array().unwrap().iter().find(|c| c["reference"] == r).unwrap()["id"].clone();
    let se_case = t.partner(&key, "GET", &format!("/cases/{}", id_of(se).as_str().unwrap()), None).await;
    let potential = &se_case.body["potentialRevenue"];
    assert_eq!(potential["referralFeePercentage"], dec("50.0"), "{potential}");
    assert_eq!(potential["referralRevenueUsd"], Value::Null, "{potential}");
    assert_eq!(potential["grossAmountUsd"], Value::Null, "{potential}");
    assert_eq!(potential["missingFxRates"], missing);
    let gb_case = t.partner(&key, "GET", &format!("/cases/{}", id_of(gb).as_str().unwrap()), None).await;
    assert_eq!(gb_case.body["potentialRevenue"]["referralRevenueUsd"], dec("37.50"), "{}", gb_case.text);
    assert_eq!(gb_case.body["potentialRevenue"]["missingFxRates"], json!([]));

    // Operators see it; a lock still needs the rate; the ledger still reconciles.
    let listed = t.admin("GET", "/fx-rates/missing", None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    assert_eq!(listed.body["missingFxRates"], missing);
    let metrics = t.call("GET", "/metrics", &[], None).await;
    assert!(metrics.text.contains("\nrefshare_fx_rates_missing 1\n"), "{}", metrics.text);
    let payout = se_paid.body["payout"]["id"].as_str().unwrap();
    let lock = t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await;
    assert_eq!(lock.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", lock.text);
    assert_eq!(lock.body["businessErrors"][0]["type"], "MissingFxRate");
    let reconcile = t.admin("GET", "/reconcile", None).await;
    assert_eq!(reconcile.status, StatusCode::OK, "{}", reconcile.text);

    // Loading the rate fills every figure in.
    let loaded = t.admin("POST", "/fx-rates", Some(json!({"date": "2026-03-09", "rates": [{"currency": "SEK", "usdPerUnit": 0.1}]}))).await;
    assert_eq!(loaded.status, StatusCode::OK, "{}", loaded.text);
    assert_eq!(t.admin("GET", "/fx-rates/missing", None).await.body["missingFxRates"], json!([]));
    assert!(t.call("GET", "/metrics", &[], None).await.text.contains("\nrefshare_fx_rates_missing 0\n"));
    let r = t.partner(&key, "GET", "/reporting/transactions", None).await;
    assert_eq!(row(&r.body, se)["earnings"]["referralFeeAmountUsd"], dec("2.00"));
    assert_eq!(r.body["summary"]["revenue"]["pendingReferralFeeUsd"], dec("39.50"));
    assert_eq!(r.body["summary"]["usdPartial"], false);
    assert_eq!(r.body["missingFxRates"], json!([]));
    let client = t.partner(&key, "GET", "/clients/acme", None).await;
    assert_eq!(client.body["caseStats"]["earningsUsd"], dec("39.50"));
    assert_eq!(client.body["caseStats"]["earningsUsdPartial"], false);
}

/// The operator's list covers what is needed before any payment: a case's potential revenue.
async fn missing_rates_of_cases_before_payments(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    assert_eq!(t.admin("GET", "/fx-rates/missing", None).await.body["missingFxRates"], json!([]));
    attributed_client(&t, &key, "acme", vec![case_body("A-SE", "1000", "SEK", "SE"), case_body("A-DK", "1000", "DKK", "DK")]).await;
    let listed = t.admin("GET", "/fx-rates/missing", None).await;
    assert_eq!(listed.body["missingFxRates"], json!([{"currency": "SEK", "date": "2026-03-10"}]), "{}", listed.text);
    let anonymous = t.call("GET", "/admin-api/v1/fx-rates/missing", &[], None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED, "operators only: {}", anonymous.text);
}

crate::both_backends!(missing_rate_leaves_usd_null_not_the_report, missing_rates_of_cases_before_payments);
