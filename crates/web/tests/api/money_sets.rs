//! Set-based money runs (issue 9): a sync over hundreds of earnings writes exactly the
//! rows one sync per earning writes (entries, read models, outbox events, audit rows);
//! the money month over 300 earnings reconciles with the expected number of entries; and
//! a partner invoice racing a reversal books every earning once.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use refshare_app::ledger::{sync_earning, sync_earnings, Cause};
use refshare_store::{AuditFilter, PageReq, Savepoint, WebhookSubscriptionRecord};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::harness::{case_body, TestApp, ADMIN_TOKEN};
use crate::money::attributed_client;

const N: usize = 300;

/// A partner with an attributed client of ten GBP cases, `n` payments sent as one batch,
/// and a webhook subscription to the earning events. Returns (partner id, key, payment ids).
async fn many_payments(t: &TestApp, n: usize, mode: &str) -> (Uuid, String, Vec<String>) {
    t.collection_partners().await;
    let r = t
        .admin(
            "POST",
            "/partners",
            Some(json!({"companyName": "Setwise", "contactEmail": "ops@setwise.test", "invoicingTriggerMode": mode})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let (partner_id, key): (Uuid, String) = (r.body["id"].as_str().unwrap().parse().unwrap(), r.body["apiKey"].as_str().unwrap().into());
    let cases = (0..10).map(|i| case_body(&format!("S-{i}"), "100000", "GBP", "GB")).collect();
    let refs = attributed_client(t, &key, "setwise", cases).await;
    let items: Vec<Value> =
        (0..n).map(|i| json!({"case": refs[i % refs.len()], "amount": 100 + i, "externalId": format!("set-{i}")})).collect();
    let r = t.admin("POST", "/payments/batch", Some(json!({"payments": items}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["created"], n, "{}", r.text);
    let payments = r.body["results"].as_array().unwrap().iter().map(|x| x["paymentId"].as_str().unwrap().to_string()).collect();
    let now = t.app.now();
    let mut tx = t.app.store.begin().await.unwrap();
    tx.insert_webhook_subscription(&WebhookSubscriptionRecord {
        id: Uuid::new_v4(),
        partner_id,
        url: "https://hooks.setwise.test/in".into(),
        events: vec!["earning.created".into(), "earning.stage_changed".into()],
        is_active: true,
        is_test_mode: false,
        secret: "not-used-here".into(),
        previous_secret: None,
        previous_secret_until: None,
        consecutive_failures: 0,
        disabled_reason: None,
        created_at: now,
        updated_at: now,
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (partner_id, key, payments)
}

/// What one sync wrote, without the random row ids.
#[derive(Debug, PartialEq)]
struct Written {
    entries: Vec<(Uuid, String, i64, String, String, Option<String>)>,
    models: Vec<String>,
    events: Vec<(Uuid, String, Value)>,
    audits: Vec<(String, String, Value)>,
}

/// Marks every payout's commission paid without syncing, then syncs the earnings set-based
/// or one by one, reads back what was written and rolls it all back.
async fn sync_and_capture(t: &TestApp, payouts: &[Uuid], earnings: &[Uuid], set_based: bool) -> Written {
    let now = t.app.now();
    let cause = Cause::new("commission.paid", "capture", now);
    let mut tx = t.app.store.begin().await.unwrap();
    for p in payouts {
        assert!(tx.set_commission_paid(*p, now, Some((125_000_000, "2026-01-01".into()))).await.unwrap());
    }
    let changed = if set_based {
        sync_earnings(&mut tx, earnings, &cause).await.unwrap().len()
    } else {
        let mut n = 0;
        for e in earnings {
            n += sync_earning(&mut tx, *e, &cause).await.unwrap().iter().count();
        }
        n
    };
    assert_eq!(changed, earnings.len(), "every earning moved");
    let mut w = Written { entries: Vec::new(), models: Vec::new(), events: Vec::new(), audits: Vec::new() };
    for e in earnings {
        for x in tx.ledger_entries_of_earning(*e).await.unwrap().into_iter().filter(|x| x.created_at == now) {
            w.entries.push((x.earning_id, x.stage.as_str().into(), x.amount_minor, x.currency.code().into(), x.cause, x.cause_id));
        }
        let m = tx.earning_read_model(*e).await.unwrap().unwrap();
        w.models.push(format!("{} {:?} {} {:?}", m.earning_id, m.stage, m.paid_at, m.fx_usd_per_unit_e8));
    }
    w.entries.sort();
    let mut events: Vec<_> =
        tx.webhook_events_created_at(now).await.unwrap().into_iter().map(|e| (e.partner_id, e.event_type, e.payload)).collect();
    events.sort_by_key(|(p, t, v)| (*p, t.clone(), v.to_string()));
    w.events = events;
    let filter = AuditFilter { action: Some("earning.stage_changed".into()), ..Default::default() };
    let (rows, _) = tx.audit_page(&filter, PageReq { page: 1, size: 10_000 }).await.unwrap();
    let mut audits: Vec<_> = rows.into_iter().filter(|a| a.at == now).map(|a| (a.actor, a.entity_id, a.detail)).collect();
    audits.sort_by_key(|(a, id, d)| (a.clone(), id.clone(), d.to_string()));
    w.audits = audits;
    drop(tx);
    w
}

async fn a_set_sync_writes_what_one_by_one_writes(t: TestApp) {
    let (_, _, payments) = many_payments(&t, N, "PayWhenPaid").await;
    let (mut payouts, mut earnings) = (Vec::new(), Vec::new());
    {
        let mut tx = t.app.store.read().await.unwrap();
        for p in &payments {
            let payout = tx.payout_by_payment(p.parse().unwrap()).await.unwrap().unwrap();
            earnings.extend(tx.earnings_of_payout(payout.id).await.unwrap().into_iter().map(|e| e.id));
            payouts.push(payout.id);
        }
    }
    assert_eq!(earnings.len(), N);
    let one_by_one = sync_and_capture(&t, &payouts, &earnings, false).await;
    let set = sync_and_capture(&t, &payouts, &earnings, true).await;
    // Out of Pending, into ConfirmedPendingInvoice: two entries per earning.
    assert_eq!(one_by_one.entries.len(), 2 * N);
    assert_eq!(one_by_one.events.len(), N);
    assert_eq!(one_by_one.audits.len(), N);
    assert!(one_by_one.models.iter().all(|m| m.contains("Some(ConfirmedPendingInvoice)")), "{:?}", &one_by_one.models[..1]);
    assert_eq!(set.entries, one_by_one.entries);
    assert_eq!(set.models, one_by_one.models);
    assert_eq!(set.events, one_by_one.events);
    assert_eq!(set.audits, one_by_one.audits);
    // Both were rolled back: the ledger still agrees with the earnings.
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

async fn a_money_month_over_many_earnings_reconciles(t: TestApp) {
    let (partner_id, _, payments) = many_payments(&t, N, "PayWhenPaid").await;
    let mut payouts = Vec::new();
    {
        let mut tx = t.app.store.read().await.unwrap();
        for p in &payments {
            payouts.push(tx.payout_by_payment(p.parse().unwrap()).await.unwrap().unwrap().id);
        }
    }
    for p in &payouts {
        let r = t.admin("POST", &format!("/payouts/{p}/commission-paid"), None).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    }
    let period = t.app.now().format("%Y-%m").to_string();
    t.advance_days(40).await;
    let run = t.admin("POST", "/invoicing/collection-partners/run", Some(json!({"period": period}))).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.text);
    let invoices = run.body["invoices"].as_array().unwrap().clone();
    assert_eq!(invoices.len(), 1, "one collection partner, one currency: {}", run.text);
    assert_eq!(invoices[0]["payoutIds"].as_array().unwrap().len(), N, "{}", run.text);
    // Running the period again returns the same invoice and books nothing.
    let again = t.admin("POST", "/invoicing/collection-partners/run", Some(json!({"period": period}))).await;
    assert_eq!(again.body["invoices"], run.body["invoices"]);
    let r = t.admin("POST", &format!("/cp-invoices/{}/paid", invoices[0]["id"].as_str().unwrap()), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["payoutIds"].as_array().unwrap().len(), N, "{}", r.text);
    let inv = t.admin("POST", "/partner-invoices", Some(json!({"partnerId": partner_id}))).await;
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.text);
    assert_eq!(inv.body["earningIds"].as_array().unwrap().len(), N);
    let r = t.admin("POST", &format!("/partner-invoices/{}/paid", inv.body["id"].as_str().unwrap()), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_totals_agree(&t).await;
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    // Booked into Pending, then five moves of two entries each.
    assert_eq!(r.body["entries"], N + 5 * 2 * N, "{}", r.text);
    let mut by_action: BTreeMap<String, usize> = BTreeMap::new();
    let mut tx = t.app.store.read().await.unwrap();
    let filter = AuditFilter { action: Some("earning.stage_changed".into()), ..Default::default() };
    for a in tx.audit_page(&filter, PageReq { page: 1, size: 10_000 }).await.unwrap().0 {
        *by_action.entry(a.detail["cause"].as_str().unwrap().to_string()).or_default() += 1;
    }
    for cause in ["commission.paid", "cp_invoice.issued", "cp_invoice.paid", "partner_invoice.created", "partner_invoice.paid"] {
        assert_eq!(by_action.get(cause), Some(&N), "{cause}: {by_action:?}");
    }
}

async fn a_partner_invoice_racing_a_reversal_books_once(t: TestApp) {
    // ConfirmedPipeline: ready to invoice as soon as the commission is paid.
    let (partner_id, _, payments) = many_payments(&t, 60, "ConfirmedPipeline").await;
    {
        let mut payouts = Vec::new();
        let mut tx = t.app.store.read().await.unwrap();
        for p in &payments {
            payouts.push(tx.payout_by_payment(p.parse().unwrap()).await.unwrap().unwrap().id);
        }
        drop(tx);
        for p in &payouts {
            let r = t.admin("POST", &format!("/payouts/{p}/commission-paid"), None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text);
        }
    }
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let victim = &payments[17];
    let reverse_path = format!("/admin-api/v1/payments/{victim}");
    let headers = [("authorization", auth.as_str())];
    let (inv, rev) = tokio::join!(
        t.admin("POST", "/partner-invoices", Some(json!({"partnerId": partner_id}))),
        t.call("DELETE", &reverse_path, &headers, Some(json!({"reason": "recalled"}))),
    );
    assert!([StatusCode::CREATED, StatusCode::CONFLICT].contains(&inv.status), "{}", inv.text);
    assert!([StatusCode::OK, StatusCode::CONFLICT].contains(&rev.status), "{}", rev.text);
    // A refused side is retried once the other committed.
    let inv = if inv.status == StatusCode::CREATED {
        inv
    } else {
        t.admin("POST", "/partner-invoices", Some(json!({"partnerId": partner_id}))).await
    };
    assert_eq!(inv.status, StatusCode::CREATED, "{}", inv.text);
    let rev = if rev.status == StatusCode::OK {
        rev
    } else {
        t.call("DELETE", &format!("/admin-api/v1/payments/{victim}"), &[("authorization", &auth)], Some(json!({"reason": "recalled"})))
            .await
    };
    assert_eq!(rev.status, StatusCode::OK, "{}", rev.text);
    let on_invoice: Vec<&str> = inv.body["earningIds"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let voided: Vec<&str> = rev.body["voidedEarnings"].as_array().unwrap().iter().map(|v| v["earningId"].as_str().unwrap()).collect();
    let clawbacks = rev.body["clawbacks"].as_array().unwrap().len();
    // Either the reversal came first (voided, not invoiced: 59 on the invoice) or the
    // invoice did (all 60 invoiced, the reversal books a clawback) — never both, never neither.
    match (on_invoice.len(), voided.len(), clawbacks) {
        (59, 1, 0) => assert!(!on_invoice.contains(&voided[0])),
        (60, 0, 1) => {}
        other => panic!("invoice {} earnings, {} voided, {} clawbacks: {other:?}", on_invoice.len(), voided.len(), clawbacks),
    }
    let r = t.admin("GET", "/reconcile", None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
}

/// The earnings totals (migration 0022) equal the aggregate recomputed from the rows.
async fn assert_totals_agree(t: &TestApp) -> Vec<(refshare_store::TotalsKey, refshare_store::Totals)> {
    let mut tx = t.app.store.read().await.unwrap();
    let totals = tx.earning_totals().await.unwrap();
    assert_eq!(totals, tx.earning_totals_from_rows().await.unwrap(), "stored totals against the rows");
    totals
}

/// A payment undone by rolling back to its savepoint takes its totals delta with it; one
/// kept after a released savepoint keeps its delta.
async fn a_rolled_back_savepoint_leaves_no_totals_delta(t: TestApp) {
    let (_, _, payments) = many_payments(&t, 4, "PayWhenPaid").await;
    let before = assert_totals_agree(&t).await;
    let mut payouts = Vec::new();
    {
        let mut tx = t.app.store.read().await.unwrap();
        for p in &payments {
            payouts.push(tx.payout_by_payment(p.parse().unwrap()).await.unwrap().unwrap().id);
        }
    }
    let now = t.app.now();
    let cause = Cause::new("commission.paid", "savepoint", now);
    let mut tx = t.app.store.begin().await.unwrap();
    for (i, p) in payouts.iter().enumerate() {
        tx.savepoint(Savepoint::SharedPayment).await.unwrap();
        assert!(tx.set_commission_paid(*p, now, Some((125_000_000, "2026-01-01".into()))).await.unwrap());
        let earnings = tx.earning_ids_of_payouts(&[*p]).await.unwrap();
        assert_eq!(sync_earnings(&mut tx, &earnings, &cause).await.unwrap().len(), 1);
        if i % 2 == 0 {
            tx.rollback_to_savepoint(Savepoint::SharedPayment).await.unwrap();
        } else {
            tx.release_savepoint(Savepoint::SharedPayment).await.unwrap();
        }
    }
    tx.commit().await.unwrap();
    let after = assert_totals_agree(&t).await;
    assert_ne!(before, after, "the kept payments moved their earnings");
    let locked: i64 = after.iter().filter(|(k, _)| k.locked).map(|(_, s)| s.count).sum();
    assert_eq!(locked, 2, "two kept, two rolled back: {after:?}");
}

crate::both_backends!(
    a_rolled_back_savepoint_leaves_no_totals_delta,
    a_set_sync_writes_what_one_by_one_writes,
    a_money_month_over_many_earnings_reconciles,
    a_partner_invoice_racing_a_reversal_books_once
);
