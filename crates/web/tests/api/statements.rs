//! The partner's period statement (SPEC §7): earnings, reversals and the payouts that did
//! not earn with their reason code; the CSV form carries the same rows.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::disputes::{attributed_paid, non_attributed_paid};
use crate::harness::{case_body, dec, TestApp};

/// A minimal CSV reader (quoted fields, doubled quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        let (mut row, mut cell, mut quoted) = (Vec::new(), String::new(), false);
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    cell.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => row.push(std::mem::take(&mut cell)),
                (c, _) => cell.push(c),
            }
        }
        row.push(cell);
        rows.push(row);
    }
    rows
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn statement_for_a_month(t: TestApp) {
    t.collection_partners().await;
    let (_, key) = t.new_partner("Ledgerly").await;
    let (earning_ref, _) = attributed_paid(&t, &key, "acme").await;
    // A second case of the same client, paid and then reversed (voided: not yet invoiced).
    let second = t.admin("GET", "/links", None).await;
    let client_id = second.body["links"][0]["clientId"].as_str().unwrap().to_string();
    let case = t.admin("POST", &format!("/clients/{client_id}/cases"), Some(case_body("acme-2", "500", "GBP", "GB"))).await;
    assert_eq!(case.status, StatusCode::CREATED, "{}", case.text);
    let reversed_ref = case.body["reference"].as_str().unwrap().to_string();
    let paid = t.pay(&reversed_ref, "500.00", "acme-p2").await;
    assert_eq!(paid.body["attribution"]["referralFee"], dec("15.00"), "{}", paid.text);
    let payment_id = paid.body["paymentId"].as_str().unwrap().to_string();
    let auth = format!("Bearer {}", crate::harness::ADMIN_TOKEN);
    let reversed = t
        .call("DELETE", &format!("/admin-api/v1/payments/{payment_id}"), &[("authorization", &auth)], Some(json!({"reason": "chargeback"})))
        .await;
    assert_eq!(reversed.status, StatusCode::OK, "{}", reversed.text);
    // A payout on a linked client that did not earn.
    let (not_earned_ref, _) = non_attributed_paid(&t, &key).await;

    let s = t.partner(&key, "GET", "/statements/2026-03", None).await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.text);
    let b = &s.body;
    assert_eq!(b["period"], "2026-03");
    let earnings = b["earnings"].as_array().unwrap();
    assert_eq!(earnings.len(), 2, "the voided earning stays in the month it was booked: {b}");
    let voided = &earnings[1];
    assert_eq!(voided["caseReference"], reversed_ref.as_str());
    assert_eq!(voided["amount"], dec("15.00"));
    assert_eq!(voided["stage"], Value::Null);
    assert!(voided["reason"].as_str().unwrap().contains("voided") && voided["reason"].as_str().unwrap().contains("chargeback"), "{voided}");
    assert_eq!(earnings[0]["caseReference"], earning_ref.as_str());
    assert_eq!(earnings[0]["kind"], "payout");
    assert_eq!(earnings[0]["stage"], "Pending");
    assert_eq!(earnings[0]["amount"], dec("30.00"));
    assert_eq!(earnings[0]["amountUsd"], dec("37.50"));
    assert_eq!(earnings[0]["reason"], "attributed_client");
    let reversals = b["reversals"].as_array().unwrap();
    assert_eq!(reversals.len(), 1, "{b}");
    assert_eq!(reversals[0]["caseReference"], reversed_ref.as_str());
    assert_eq!(reversals[0]["kind"], "void");
    assert_eq!(reversals[0]["amount"], dec("-15.00"));
    assert_eq!(reversals[0]["reason"], "chargeback");
    let not_earned = b["notEarned"].as_array().unwrap();
    assert_eq!(not_earned.len(), 1, "{b}");
    assert_eq!(not_earned[0]["caseReference"], not_earned_ref.as_str());
    assert_eq!(not_earned[0]["reason"], "non_attributed_other_channel");
    assert_eq!(not_earned[0]["externalTenantId"], "nw-1");
    assert_eq!(not_earned[0]["amount"], Value::Null);
    let totals = b["totals"]["byStage"].as_array().unwrap();
    assert_eq!(totals.len(), 1, "{b}");
    assert_eq!(totals[0]["stage"], "Pending");
    assert_eq!(totals[0]["amount"], dec("30.00"));
    assert_eq!(totals[0]["count"], 1);
    assert_eq!(b["totals"]["totalUsd"], dec("37.50"));

    // CSV: the same rows in section order.
    let req = Request::builder().uri("/referral-api/statements/2026-03?format=csv").header("XApiKey", &key).body(Body::empty()).unwrap();
    let res = t.router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = String::from_utf8(axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap().to_vec()).unwrap();
    let rows = parse_csv(&text);
    assert_eq!(rows[0].join(","), "section,date,case_reference,external_tenant_id,kind,stage,amount,currency,amount_usd,reason");
    let json_rows: Vec<&Value> = earnings.iter().chain(reversals).chain(not_earned).collect();
    assert_eq!(rows.len() - 1, json_rows.len(), "{text}");
    for (csv, j) in rows[1..].iter().zip(json_rows) {
        let expected: Vec<String> =
            ["section", "date", "caseReference", "externalTenantId", "kind", "stage", "amount", "currency", "amountUsd", "reason"]
                .iter()
                .map(|k| cell(&j[*k]))
                .collect();
        assert_eq!(csv, &expected);
    }

    // Another month is empty; a bad period is 400; another partner sees nothing of this.
    let april = t.partner(&key, "GET", "/statements/2026-04", None).await;
    assert_eq!(april.body["earnings"].as_array().unwrap().len() + april.body["notEarned"].as_array().unwrap().len(), 0, "{}", april.text);
    assert_eq!(t.partner(&key, "GET", "/statements/2026-13", None).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(t.partner(&key, "GET", "/statements/2026-03?Format=xml", None).await.status, StatusCode::BAD_REQUEST);
    let (_, other) = t.new_partner("Othercorp").await;
    let theirs = t.partner(&other, "GET", "/statements/2026-03", None).await;
    assert_eq!(theirs.status, StatusCode::OK);
    for section in ["earnings", "reversals", "notEarned"] {
        assert_eq!(theirs.body[section].as_array().unwrap().len(), 0, "{}", theirs.text);
    }
}

crate::both_backends!(statement_for_a_month);
