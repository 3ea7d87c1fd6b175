//! The money side end to end: a full month across partners and currencies through every
//! revenue stage, with the seven-bucket summary and the ledger reconciled after each step;
//! reversals before and after invoicing; FX estimates, locks and missing rates; illegal
//! transitions refused.

use axum::http::StatusCode;
use serde_json::{json, Value};

use crate::harness::{case_body, client_body, dec, path_of, TestApp};

/// Creates an attributed client with the given cases, signs its onboarding; returns the
/// case references.
pub async fn attributed_client(t: &TestApp, key: &str, tenant: &str, cases: Vec<Value>) -> Vec<String> {
    let email = format!("owner@{tenant}.test");
    let created = t.partner(key, "POST", "/clients", Some(client_body(tenant, &format!("{tenant} Ltd"), &email, cases))).await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    let url = created.body["onboardingLinks"]["url"].as_str().unwrap().to_string();
    let signed = t.submit_form(&path_of(&url), &[("signer_name", "Owner"), ("accept", "yes")]).await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text);
    created.body["caseResults"]["successfulCases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["reference"].as_str().unwrap().to_string())
        .collect()
}

/// Registers a payment and returns (payment id, payout id).
async fn pay(t: &TestApp, case_ref: &str, amount: &str, ext: &str) -> (String, String) {
    let r = t.pay(case_ref, amount, ext).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (r.body["paymentId"].as_str().unwrap().into(), r.body["payout"]["id"].as_str().unwrap().into())
}

async fn report(t: &TestApp, key: &str, query: &str) -> Value {
    let r = t.partner(key, "GET", &format!("/reporting/transactions?PageSize=100{query}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    r.body
}

/// Asserts the summary's non-empty buckets are exactly `expected` (key prefix, count, USD),
/// that bucket totals equal the rows, and that the ledger reconciles.
async fn assert_buckets(t: &TestApp, key: &str, expected: &[(&str, i64, &str)]) {
    let body = report(t, key, "").await;
    let revenue = &body["summary"]["revenue"];
    for bucket in [
        "pending",
        "confirmedPendingInvoice",
        "awaitingCollectionPartnerPayment",
        "readyToInvoiceDebitura",
        "awaitingDebituraPayment",
        "paid",
        "disputed",
    ] {
        let (count, usd) = expected.iter().find(|(b, _, _)| *b == bucket).map(|(_, c, u)| (*c, dec(u))).unwrap_or((0, dec("0.00")));
        assert_eq!(revenue[format!("{bucket}Count")], count, "{bucket} count in {revenue}");
        assert_eq!(revenue[format!("{bucket}ReferralFeeUsd")], usd, "{bucket} USD in {revenue}");
    }
    let rows = body["data"].as_array().unwrap();
    let total: i64 = expected.iter().map(|(_, c, _)| c).sum();
    assert_eq!(rows.len() as i64, total, "every row is in exactly one bucket");
    assert_reconciled(t).await;
}

async fn assert_reconciled(t: &TestApp) {
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["ok"], true);
}

fn row_for<'a>(body: &'a Value, case_ref: &str) -> &'a Value {
    body["data"].as_array().unwrap().iter().find(|r| r["case"]["caseReference"] == case_ref).expect("row for the case")
}

async fn setup_two_partners(t: &TestApp) -> (String, String, String, String) {
    t.collection_partners().await;
    let (a_id, a_key) = t.new_partner("Ledgerly").await;
    let r = t
        .admin(
            "POST",
            "/partners",
            Some(json!({"companyName": "Pipeworks", "contactEmail": "ops@pipeworks.test", "invoicingTriggerMode": "ConfirmedPipeline"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    (a_id, a_key, r.body["id"].as_str().unwrap().into(), r.body["apiKey"].as_str().unwrap().into())
}

/// March: GBP and DKK payments for a PayWhenPaid partner, GBP for a ConfirmedPipeline one,
/// then every operator event of the month after, checking buckets and ledger each time.
async fn a_full_month(t: TestApp) {
    let (a_id, a_key, b_id, b_key) = setup_two_partners(&t).await;
    let a_refs =
        attributed_client(&t, &a_key, "acme", vec![case_body("A-GB", "1000", "GBP", "GB"), case_body("A-DK", "10000", "DKK", "DK")]).await;
    let b_refs = attributed_client(&t, &b_key, "beta", vec![case_body("B-GB", "500", "GBP", "GB")]).await;

    // GBP 1,000 → 30.00; DKK 10,000 → 2,000 → 400 → 200.00; GBP 500 → 75 → 30 → 15.00.
    let (_, a_gb) = pay(&t, &a_refs[0], "1000.00", "a1").await;
    let (_, a_dk) = pay(&t, &a_refs[1], "10000.00", "a2").await;
    let (_, b_gb) = pay(&t, &b_refs[0], "500.00", "b1").await;
    // Estimates at the latest rates: GBP 1.25, DKK 0.15.
    assert_buckets(&t, &a_key, &[("pending", 2, "67.50")]).await;
    assert_buckets(&t, &b_key, &[("pending", 1, "18.75")]).await;

    // A newer GBP rate moves the estimate; paying the commission locks that day's rate.
    let r = t.admin("POST", "/fx-rates", Some(json!({"date": "2026-03-10", "rates": [{"currency": "GBP", "usdPerUnit": 1.30}]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let row = report(&t, &a_key, "").await;
    assert_eq!(row_for(&row, &a_refs[0])["earnings"]["referralFeeAmountUsd"], dec("39.00"));
    assert_eq!(row_for(&row, &a_refs[0])["earnings"]["isEstimate"], true);
    for payout in [&a_gb, &a_dk, &b_gb] {
        let r = t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["commissionPaymentStatus"], "Paid");
    }
    let again = t.admin("POST", &format!("/payouts/{a_gb}/commission-paid"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.body["businessErrors"][0]["type"], "CommissionAlreadyPaid");
    let r = t.admin("POST", "/fx-rates", Some(json!({"date": "2026-03-11", "rates": [{"currency": "GBP", "usdPerUnit": 1.50}]}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    t.advance_days(1).await;
    let locked = report(&t, &a_key, "").await;
    assert_eq!(row_for(&locked, &a_refs[0])["earnings"]["referralFeeAmountUsd"], dec("39.00"), "locked at the 2026-03-10 rate");
    assert_eq!(row_for(&locked, &a_refs[0])["earnings"]["isEstimate"], false);
    assert_eq!(row_for(&locked, &a_refs[0])["status"]["commissionPaymentStatus"], "Paid");
    // A: 39.00 + 30.00; B (ConfirmedPipeline) folds into Ready to invoice: 15 × 1.30.
    assert_buckets(&t, &a_key, &[("confirmedPendingInvoice", 2, "69.00")]).await;
    assert_buckets(&t, &b_key, &[("readyToInvoiceDebitura", 1, "19.50")]).await;

    // The CP invoicing run for March cannot happen before March ends.
    let early = t.admin("POST", "/invoicing/collection-partners/run", Some(json!({"period": "2026-03"}))).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", early.text);
    assert_eq!(early.body["businessErrors"][0]["type"], "PeriodNotEnded");
    t.advance_days(28).await; // 2026-04-08
    let run = t.admin("POST", "/invoicing/collection-partners/run", Some(json!({"period": "2026-03"}))).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let invoices = run.body["invoices"].as_array().unwrap().clone();
    assert_eq!(invoices.len(), 2, "one per collection partner: {}", run.text);
    let gbp = invoices.iter().find(|i| i["currency"] == "GBP").unwrap();
    assert_eq!(gbp["amount"], dec("90.00"), "platform fees 60.00 + 30.00");
    assert_eq!(gbp["payoutIds"].as_array().unwrap().len(), 2);
    let dkk = invoices.iter().find(|i| i["currency"] == "DKK").unwrap();
    assert_eq!(dkk["amount"], dec("400.00"));
    // Issued Wednesday 2026-04-08; 10 business days later.
    assert!(dkk["dueAt"].as_str().unwrap().starts_with("2026-04-22T"), "{dkk}");
    let rerun = t.admin("POST", "/invoicing/collection-partners/run", Some(json!({"period": "2026-03"}))).await;
    assert_eq!(rerun.body["invoices"], run.body["invoices"], "re-running creates nothing new");
    assert_buckets(&t, &a_key, &[("awaitingCollectionPartnerPayment", 2, "69.00")]).await;
    assert_buckets(&t, &b_key, &[("readyToInvoiceDebitura", 1, "19.50")]).await;

    // The CPs pay; paying twice is refused.
    for inv in &invoices {
        let r = t.admin("POST", &format!("/cp-invoices/{}/paid", inv["id"].as_str().unwrap()), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], "PaymentReceived");
    }
    let twice = t.admin("POST", &format!("/cp-invoices/{}/paid", gbp["id"].as_str().unwrap()), None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    assert_buckets(&t, &a_key, &[("readyToInvoiceDebitura", 2, "69.00")]).await;
    let recognized = report(&t, &a_key, "&HasRecognizedRevenue=true").await;
    assert_eq!(recognized["data"].as_array().unwrap().len(), 2);

    // Partners invoice the platform: A for everything ready, B for a chosen earning.
    let inv_a = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": a_id}))).await;
    assert_eq!(inv_a.status, StatusCode::CREATED, "{}", inv_a.text);
    assert_eq!(inv_a.body["amount"], dec("69.00"));
    assert_eq!(inv_a.body["currency"], "USD");
    assert!(inv_a.body["dueAt"].as_str().unwrap().starts_with("2026-04-22T"), "{}", inv_a.text);
    assert_eq!(inv_a.body["earningIds"].as_array().unwrap().len(), 2);
    let nothing = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": a_id}))).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nothing.text);
    assert_eq!(nothing.body["businessErrors"][0]["type"], "NothingToInvoice");
    let b_earning = report(&t, &b_key, "").await["data"][0]["transactionId"].as_str().unwrap().to_string();
    let inv_b = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": b_id, "earningIds": [b_earning]}))).await;
    assert_eq!(inv_b.status, StatusCode::CREATED, "{}", inv_b.text);
    assert_eq!(inv_b.body["amount"], dec("19.50"));
    assert_buckets(&t, &a_key, &[("awaitingDebituraPayment", 2, "69.00")]).await;
    assert_buckets(&t, &b_key, &[("awaitingDebituraPayment", 1, "19.50")]).await;

    // The platform pays.
    for inv in [&inv_a, &inv_b] {
        let r = t.admin("POST", &format!("/partner-invoices/{}/paid", inv.body["id"].as_str().unwrap()), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        assert_eq!(r.body["status"], "Paid");
    }
    let twice = t.admin("POST", &format!("/partner-invoices/{}/paid", inv_a.body["id"].as_str().unwrap()), None).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text);
    assert_buckets(&t, &a_key, &[("paid", 2, "69.00")]).await;
    assert_buckets(&t, &b_key, &[("paid", 1, "19.50")]).await;

    // Filters on the reference's integer codes and our names agree.
    assert_eq!(report(&t, &a_key, "&RevenueStages=5").await["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        report(&t, &a_key, "&ReferralInvoicingStatuses=Paid&CommissionPaymentStatuses=1").await["data"].as_array().unwrap().len(),
        2
    );
    assert_eq!(report(&t, &a_key, "&RevenueStages=Pending").await["data"].as_array().unwrap().len(), 0);
    let dk_id = 3 * 26 + 10 + 1; // D=3, K=10
    let dk_only = report(&t, &a_key, &format!("&CountryIds={dk_id}")).await;
    assert_eq!(dk_only["data"].as_array().unwrap().len(), 1);
    assert_eq!(dk_only["summary"]["revenue"]["paidReferralFeeUsd"], dec("30.00"), "summary follows the filter");
    let audit = t.admin("GET", "/audit?entity=partner_invoice", None).await;
    assert_eq!(audit.body["entries"].as_array().unwrap().len(), 4, "2 created + 2 paid: {}", audit.text);
    // Every stage change of every earning is in the trail, filterable and paged.
    let moves = t.admin("GET", "/audit?action=earning.stage_changed&pageSize=5&page=2", None).await;
    assert_eq!(moves.status, StatusCode::OK, "{}", moves.text);
    assert_eq!(moves.body["entries"].as_array().unwrap().len(), 5, "{}", moves.text);
    // A's two earnings: booked + 5 moves each; B's (ConfirmedPipeline skips two stages): booked + 3.
    assert_eq!(moves.body["page"]["totalResults"], 2 * 6 + 4, "{}", moves.text);
    assert!(moves.body["entries"].as_array().unwrap().iter().all(|e| e["action"] == "earning.stage_changed" && e["actor"] == "system"));
}

/// A reversal before the partner invoiced voids the earning; the check shows why.
async fn reversal_before_invoicing(t: TestApp) {
    let (_, a_key, _, _) = setup_two_partners(&t).await;
    let refs = attributed_client(&t, &a_key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    let (payment, payout) = pay(&t, &refs[0], "1000.00", "a1").await;
    assert_buckets(&t, &a_key, &[("pending", 1, "37.50")]).await;
    let r = t
        .call(
            "DELETE",
            &format!("/admin-api/v1/payments/{payment}"),
            &[("authorization", &format!("Bearer {}", crate::harness::ADMIN_TOKEN))],
            Some(json!({"reason": "debtor's bank recalled the transfer"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["voidedEarnings"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["clawbacks"].as_array().unwrap().len(), 0);
    assert_buckets(&t, &a_key, &[]).await;
    let check = t.check(&a_key, &refs[0]).await;
    assert_eq!(check.body["payouts"][0]["reversed"]["reason"], "debtor's bank recalled the transfer", "{}", check.text);
    let again = t.admin("DELETE", &format!("/payments/{payment}"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    let paid = t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await;
    assert_eq!(paid.status, StatusCode::CONFLICT, "{}", paid.text);
    assert_eq!(paid.body["businessErrors"][0]["type"], "PaymentReversed");
    assert_eq!(t.admin("DELETE", &format!("/payments/{}", uuid::Uuid::new_v4()), None).await.status, StatusCode::NOT_FOUND);
}

/// A reversal after the partner invoiced books a clawback, deducted from the next invoice.
async fn reversal_after_invoicing(t: TestApp) {
    let (_, _, b_id, b_key) = setup_two_partners(&t).await;
    let refs =
        attributed_client(&t, &b_key, "beta", vec![case_body("B-1", "1000", "GBP", "GB"), case_body("B-2", "2000", "GBP", "GB")]).await;
    let (payment, payout) = pay(&t, &refs[0], "1000.00", "b1").await;
    assert_eq!(t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await.status, StatusCode::OK);
    let first = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": b_id}))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(first.body["amount"], dec("37.50"));
    let r = t.admin("DELETE", &format!("/payments/{payment}"), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["clawbacks"][0]["amount"], dec("-30.00"));
    // The invoiced earning stays where it is; the clawback waits for the next invoice.
    assert_buckets(&t, &b_key, &[("awaitingDebituraPayment", 1, "37.50"), ("readyToInvoiceDebitura", 1, "-37.50")]).await;
    let body = report(&t, &b_key, "&RevenueStages=ReadyToInvoiceDebitura").await;
    assert_eq!(body["data"][0]["kind"], "clawback");
    assert_eq!(body["data"][0]["reason"], "payment reversed");

    // A new earning (GBP 2,000 → 60.00) nets against the clawback on the next invoice.
    let (_, payout2) = pay(&t, &refs[1], "2000.00", "b2").await;
    assert_eq!(t.admin("POST", &format!("/payouts/{payout2}/commission-paid"), None).await.status, StatusCode::OK);
    let next = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": b_id}))).await;
    assert_eq!(next.status, StatusCode::CREATED, "{}", next.text);
    assert_eq!(next.body["amount"], dec("37.50"), "75.00 − 37.50");
    assert_eq!(next.body["earningIds"].as_array().unwrap().len(), 2);
    assert_buckets(&t, &b_key, &[("awaitingDebituraPayment", 3, "75.00")]).await;
}

/// FX: a missing rate leaves the report's USD figures null (`fx_missing` has the rest) and
/// refuses a lock; a central bank's CSV supplies it.
async fn missing_rate_then_csv(t: TestApp) {
    let (_, a_key, _, _) = setup_two_partners(&t).await;
    let refs = attributed_client(&t, &a_key, "sven", vec![case_body("S-1", "1000", "SEK", "SE")]).await;
    let (_, payout) = pay(&t, &refs[0], "1000.00", "s1").await;
    let r = t.partner(&a_key, "GET", "/reporting/transactions", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["data"][0]["earnings"]["referralFeeAmountUsd"], Value::Null, "{}", r.text);
    assert_eq!(r.body["missingFxRates"], json!([{"currency": "SEK", "date": "2026-03-10"}]), "{}", r.text);
    let locked = t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await;
    assert_eq!(locked.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", locked.text);
    assert_eq!(locked.body["businessErrors"][0]["type"], "MissingFxRate");

    let csv = "Date, USD, JPY, SEK, \n10 March 2026, 1.0800, 160.00, 11.2500, \n";
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/admin-api/v1/fx-rates")
        .header("authorization", format!("Bearer {}", crate::harness::ADMIN_TOKEN))
        .header("content-type", "text/csv")
        .body(axum::body::Body::from(csv))
        .unwrap();
    let loaded = t.send(req).await;
    assert_eq!(loaded.status, StatusCode::OK, "{}", loaded.text);
    assert_eq!(loaded.body["loaded"], 3, "EUR, JPY, SEK");
    // SEK 1,000 → 200 → 40 → 20.00 SEK at 1.08 / 11.25 = 0.096 USD → USD 1.92.
    assert_buckets(&t, &a_key, &[("pending", 1, "1.92")]).await;
    let locked = t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await;
    assert_eq!(locked.status, StatusCode::OK, "{}", locked.text);
    assert_eq!(locked.body["usdPerUnit"], dec("0.09600000"));
    assert_eq!(locked.body["fxRateDate"], "2026-03-10");
}

/// Illegal transitions are refused and change nothing.
async fn illegal_transitions(t: TestApp) {
    let (a_id, a_key, _, _) = setup_two_partners(&t).await;
    let refs = attributed_client(&t, &a_key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    pay(&t, &refs[0], "1000.00", "a1").await;
    let earning = report(&t, &a_key, "").await["data"][0]["transactionId"].as_str().unwrap().to_string();
    let r = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": a_id, "earningIds": [earning]}))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert_eq!(r.body["businessErrors"][0]["type"], "EarningNotReady");
    assert!(r.text.contains("Pending"), "{}", r.text);
    let bad = t.admin("POST", "/invoicing/collection-partners/run", Some(json!({"period": "March"}))).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text);
    assert_eq!(t.admin("POST", &format!("/cp-invoices/{}/paid", uuid::Uuid::new_v4()), None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(t.admin("POST", &format!("/payouts/{}/commission-paid", uuid::Uuid::new_v4()), None).await.status, StatusCode::NOT_FOUND);
    let other = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": uuid::Uuid::new_v4()}))).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.text);
    assert_buckets(&t, &a_key, &[("pending", 1, "37.50")]).await;
}

crate::both_backends!(a_full_month, reversal_before_invoicing, reversal_after_invoicing, missing_rate_then_csv, illegal_transitions);

/// Reconciliation is not a rubber stamp: an entry written behind the ledger's back, or an
/// earning whose amount was edited, is named as the first discrepancy.
async fn reconcile_names_the_first_discrepancy(t: TestApp) {
    let (_, a_key, _, _) = setup_two_partners(&t).await;
    let refs = attributed_client(&t, &a_key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    pay(&t, &refs[0], "1000.00", "a1").await;
    assert_reconciled(&t).await;
    let earning: uuid::Uuid = report(&t, &a_key, "").await["data"][0]["transactionId"].as_str().unwrap().parse().unwrap();
    let mut tx = t.app.store.begin().await.unwrap();
    let entry = tx.ledger_entries_of_earning(earning).await.unwrap().remove(0);
    tx.insert_ledger_entry(&refshare_store::LedgerEntryRecord { id: uuid::Uuid::new_v4(), amount_minor: 1, ..entry }).await.unwrap();
    tx.commit().await.unwrap();
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["businessErrors"][0]["type"], "LedgerDiscrepancy");
    assert!(r.body["message"].as_str().unwrap().contains(&earning.to_string()), "{}", r.text);
    assert!(r.body["message"].as_str().unwrap().contains("3001 in Pending"), "{}", r.text);
}

crate::both_backends!(reconcile_names_the_first_discrepancy);

/// Changing a partner's invoicing mode moves its earnings' stages, and the ledger with
/// them; a reversal of paid earnings with nothing new ready invoices nothing (no negative
/// invoice); a client with payments cannot be reset.
async fn mode_change_negative_invoice_and_reset(t: TestApp) {
    let (a_id, a_key, _, _) = setup_two_partners(&t).await;
    let refs = attributed_client(&t, &a_key, "acme", vec![case_body("A-1", "1000", "GBP", "GB")]).await;
    let (payment, payout) = pay(&t, &refs[0], "1000.00", "a1").await;
    assert_eq!(t.admin("POST", &format!("/payouts/{payout}/commission-paid"), None).await.status, StatusCode::OK);
    assert_buckets(&t, &a_key, &[("confirmedPendingInvoice", 1, "37.50")]).await;
    let r = t.admin("PATCH", &format!("/partners/{a_id}"), Some(json!({"invoicingTriggerMode": "ConfirmedPipeline"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_buckets(&t, &a_key, &[("readyToInvoiceDebitura", 1, "37.50")]).await;
    let inv = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": a_id}))).await;
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.text);
    assert_eq!(t.admin("POST", &format!("/partner-invoices/{}/paid", inv.body["id"].as_str().unwrap()), None).await.status, StatusCode::OK);
    let r = t.admin("PATCH", &format!("/partners/{a_id}"), Some(json!({"invoicingTriggerMode": "PayWhenPaid"}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_buckets(&t, &a_key, &[("paid", 1, "37.50")]).await;

    assert_eq!(t.admin("DELETE", &format!("/payments/{payment}"), None).await.status, StatusCode::OK);
    assert_buckets(&t, &a_key, &[("paid", 1, "37.50"), ("readyToInvoiceDebitura", 1, "-37.50")]).await;
    let negative = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": a_id}))).await;
    assert_eq!(negative.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", negative.text);
    assert_eq!(negative.body["businessErrors"][0]["type"], "NothingToInvoice");
    assert!(negative.text.contains("-37.50"), "{}", negative.text);

    let reset = t.partner(&a_key, "DELETE", "/clients/acme", None).await;
    assert_eq!(reset.status, StatusCode::CONFLICT, "{}", reset.text);
    assert!(reset.text.contains("ledger"), "{}", reset.text);
    assert_reconciled(&t).await;
}

/// Two operators racing on the same transition: exactly one wins, the other is refused,
/// and the money is booked once (real concurrency on PostgreSQL's connection pool).
async fn racing_operators_book_once(t: TestApp) {
    let (_, _, b_id, b_key) = setup_two_partners(&t).await;
    let refs = attributed_client(&t, &b_key, "beta", vec![case_body("B-1", "1000", "GBP", "GB")]).await;
    let (_, payout) = pay(&t, &refs[0], "1000.00", "b1").await;
    let path = format!("/payouts/{payout}/commission-paid");
    let (x, y) = tokio::join!(t.admin("POST", &path, None), t.admin("POST", &path, None));
    let mut statuses = [x.status, y.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT], "{} / {}", x.text, y.text);
    let body = json!({"partnerId": b_id});
    let (x, y) = tokio::join!(t.admin("POST", "/partner-invoices", Some(body.clone())), t.admin("POST", "/partner-invoices", Some(body)));
    let created: Vec<_> = [&x, &y].into_iter().filter(|r| r.status == StatusCode::CREATED).collect();
    assert_eq!(created.len(), 1, "{} / {}", x.text, y.text);
    assert_eq!(created[0].body["amount"], dec("37.50"));
    let refused = if x.status == StatusCode::CREATED { &y } else { &x };
    assert!(
        [StatusCode::CONFLICT, StatusCode::UNPROCESSABLE_ENTITY].contains(&refused.status),
        "the loser is refused, not half-applied: {}",
        refused.text
    );
    assert_buckets(&t, &b_key, &[("awaitingDebituraPayment", 1, "37.50")]).await;
}

crate::both_backends!(mode_change_negative_invoice_and_reset, racing_operators_book_once);
