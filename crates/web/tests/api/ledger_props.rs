//! Property test over the whole service: random sequences of payments, reversals and
//! revenue-stage events across two partners (one per invoicing mode) and two currencies.
//! After every step the ledger reconciles, the sum of all partner balances equals the
//! attributed referral fees minus what reversals took back, and no earning is held in
//! two buckets. Sequences come from proptest's generator (fixed seed per run is proptest's
//! default persistence; failures print the sequence).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::harness::{case_body, TestApp};
use crate::money::attributed_client;

#[derive(Debug, Clone)]
enum Op {
    Pay { case: usize, units: u32 },
    Reverse { payment: usize },
    CommissionPaid { payout: usize },
    NextMonthAndRun,
    CpInvoicePaid { invoice: usize },
    PartnerInvoice { partner: usize },
    PartnerInvoicePaid { invoice: usize },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0usize..4, 1u32..5000).prop_map(|(case, units)| Op::Pay { case, units }),
        2 => (0usize..16).prop_map(|payment| Op::Reverse { payment }),
        4 => (0usize..16).prop_map(|payout| Op::CommissionPaid { payout }),
        1 => Just(Op::NextMonthAndRun),
        2 => (0usize..8).prop_map(|invoice| Op::CpInvoicePaid { invoice }),
        2 => (0usize..2).prop_map(|partner| Op::PartnerInvoice { partner }),
        2 => (0usize..8).prop_map(|invoice| Op::PartnerInvoicePaid { invoice }),
    ]
}

/// What the test expects, tracked from the API's own answers.
#[derive(Default)]
struct Model {
    payments: Vec<(String, String)>,
    cp_invoices: Vec<String>,
    partner_invoices: Vec<String>,
    /// Attributed referral fees minus reversals, per currency, in minor units.
    expected: BTreeMap<String, i64>,
    month: u32,
}

fn minor(v: &Value) -> i64 {
    // Exact decimals with two places (GBP, DKK) to minor units, without floats.
    let s = v.to_string();
    let (int, frac) = s.split_once('.').unwrap_or((&s, "0"));
    let frac = format!("{frac:0<2}");
    let sign = if int.starts_with('-') { -1 } else { 1 };
    sign * (int.trim_start_matches('-').parse::<i64>().unwrap() * 100 + frac[..2].parse::<i64>().unwrap())
}

fn ok_or_refused(status: StatusCode, text: &str, refusals: &[StatusCode]) -> bool {
    assert!(status.is_success() || refusals.contains(&status), "unexpected {status}: {text}");
    status.is_success()
}

async fn step(t: &TestApp, m: &mut Model, ids: &[String; 2], cases: &[(String, &str); 4], op: &Op) {
    match op {
        Op::Pay { case, units } => {
            let (reference, currency) = &cases[*case];
            let r = t.pay(reference, &format!("{units}.00"), &format!("p{}", m.payments.len())).await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
            if r.body["attribution"]["decision"] == "attributed" {
                *m.expected.entry(currency.to_string()).or_default() += minor(&r.body["attribution"]["referralFee"]);
            }
            m.payments.push((r.body["paymentId"].as_str().unwrap().into(), r.body["payout"]["id"].as_str().unwrap().into()));
        }
        Op::Reverse { payment } => {
            let Some((id, _)) = m.payments.get(*payment) else { return };
            let r = t.admin("DELETE", &format!("/payments/{id}"), None).await;
            if ok_or_refused(r.status, &r.text, &[StatusCode::CONFLICT]) {
                for e in r.body["voidedEarnings"].as_array().unwrap().iter().chain(r.body["clawbacks"].as_array().unwrap()) {
                    let amount = minor(&e["amount"]);
                    *m.expected.entry(e["currency"].as_str().unwrap().into()).or_default() -= amount.abs();
                }
            }
        }
        Op::CommissionPaid { payout } => {
            let Some((_, id)) = m.payments.get(*payout) else { return };
            let r = t.admin("POST", &format!("/payouts/{id}/commission-paid"), None).await;
            ok_or_refused(r.status, &r.text, &[StatusCode::CONFLICT]);
        }
        Op::NextMonthAndRun => {
            t.advance_days(31).await;
            let period = format!("2026-{:02}", 3 + m.month);
            m.month += 1;
            let r = t.admin("POST", "/invoicing/collection-partners/run", Some(json!({"period": period}))).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
            m.cp_invoices.extend(r.body["invoices"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()));
        }
        Op::CpInvoicePaid { invoice } => {
            let Some(id) = m.cp_invoices.get(*invoice) else { return };
            let r = t.admin("POST", &format!("/cp-invoices/{id}/paid"), None).await;
            ok_or_refused(r.status, &r.text, &[StatusCode::CONFLICT]);
        }
        Op::PartnerInvoice { partner } => {
            let r = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": ids[*partner]}))).await;
            if ok_or_refused(r.status, &r.text, &[StatusCode::UNPROCESSABLE_ENTITY]) {
                m.partner_invoices.push(r.body["id"].as_str().unwrap().into());
            }
        }
        Op::PartnerInvoicePaid { invoice } => {
            let Some(id) = m.partner_invoices.get(*invoice) else { return };
            let r = t.admin("POST", &format!("/partner-invoices/{id}/paid"), None).await;
            ok_or_refused(r.status, &r.text, &[StatusCode::CONFLICT]);
        }
    }
}

async fn check_invariants(t: &TestApp, m: &Model, ops: &[Op]) {
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::OK, "after {ops:?}: {}", r.text);
    let mut tx = t.app.store.begin().await.unwrap();
    let mut balances: BTreeMap<String, i64> = BTreeMap::new();
    for b in tx.ledger_balances(None).await.unwrap() {
        *balances.entry(b.currency.code().to_string()).or_default() += b.amount_minor;
    }
    balances.retain(|_, v| *v != 0);
    let expected: BTreeMap<String, i64> = m.expected.iter().filter(|(_, v)| **v != 0).map(|(k, v)| (k.clone(), *v)).collect();
    assert_eq!(balances, expected, "partner balances vs fees minus reversals after {ops:?}");
    let mut buckets: BTreeMap<uuid::Uuid, usize> = BTreeMap::new();
    for (earning, _, sum) in tx.ledger_holdings().await.unwrap() {
        if sum != 0 {
            *buckets.entry(earning).or_default() += 1;
        }
    }
    assert!(buckets.values().all(|n| *n == 1), "an earning in two buckets after {ops:?}");
}

async fn run_sequence(t: TestApp, ops: Vec<Op>) {
    t.collection_partners().await;
    let (a_id, a_key) = t.new_partner("Ledgerly").await;
    let b = t
        .admin(
            "POST",
            "/partners",
            Some(json!({"companyName": "Pipeworks", "contactEmail": "ops@pipeworks.test", "invoicingTriggerMode": "ConfirmedPipeline"})),
        )
        .await;
    let (b_id, b_key) = (b.body["id"].as_str().unwrap().to_string(), b.body["apiKey"].as_str().unwrap().to_string());
    let a = attributed_client(&t, &a_key, "acme", vec![case_body("A-GB", "100000", "GBP", "GB"), case_body("A-DK", "100000", "DKK", "DK")])
        .await;
    let b = attributed_client(&t, &b_key, "beta", vec![case_body("B-GB", "100000", "GBP", "GB"), case_body("B-DK", "100000", "DKK", "DK")])
        .await;
    let cases = [(a[0].clone(), "GBP"), (a[1].clone(), "DKK"), (b[0].clone(), "GBP"), (b[1].clone(), "DKK")];
    let ids = [a_id, b_id];
    let mut m = Model::default();
    for (i, op) in ops.iter().enumerate() {
        step(&t, &mut m, &ids, &cases, op).await;
        check_invariants(&t, &m, &ops[..=i]).await;
    }
}

/// Generates `cases` sequences and runs each against a fresh database.
async fn sequences(backend: fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<TestApp>>>>, cases: u32) {
    let mut runner = TestRunner::new(Config { cases, ..Config::default() });
    let strategy = prop::collection::vec(op(), 1..24);
    for _ in 0..cases {
        let ops = strategy.new_tree(&mut runner).expect("a sequence").current();
        let Some(t) = backend().await else { return };
        run_sequence(t, ops).await;
    }
}

#[tokio::test]
async fn random_money_sequences_reconcile_sqlite() {
    sequences(|| Box::pin(TestApp::sqlite()), 24).await;
}

#[tokio::test]
async fn random_money_sequences_reconcile_postgres() {
    sequences(|| Box::pin(TestApp::postgres()), 8).await;
}
