//! Idempotency keys, notifications, the audit trail, settings and FX rates.

use refshare_store::{AuditRecord, IdempotencyRecord, NotificationRecord, Store};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

const MINUTE: i64 = 60 * SECOND;

conformance!(idempotency_keys_are_unique_per_scope);
async fn idempotency_keys_are_unique_per_scope(store: Store) -> TestResult {
    let created = IdempotencyRecord {
        request_hash: "sha256:abc".into(),
        status_code: 201,
        body: r#"{"reference":"DEB-10001","ünïcode":"✓"}"#.into(),
    };
    let other = IdempotencyRecord { request_hash: "sha256:def".into(), status_code: 409, body: String::new() };
    let mut tx = store.begin().await?;
    assert_eq!(tx.idempotency("client:1", "key-1").await?, None);
    tx.save_idempotency("client:1", "key-1", &created, t(0)).await?;
    tx.save_idempotency("client:2", "key-1", &other, t(1)).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.idempotency("client:1", "key-1").await?, Some(created));
    assert_eq!(tx.idempotency("client:2", "key-1").await?, Some(other.clone()));
    assert_eq!(tx.idempotency("client:1", "KEY-1").await?, None, "keys compare exactly");
    assert_eq!(tx.idempotency("client:3", "key-1").await?, None);
    drop(tx);

    let mut tx = store.begin().await?;
    assert_conflict(tx.save_idempotency("client:1", "key-1", &other, t(2)).await);
    Ok(())
}

fn notification(kind: &str, to: &str, created_ms: i64) -> NotificationRecord {
    NotificationRecord {
        id: Uuid::new_v4(),
        kind: kind.into(),
        to_addr: to.into(),
        subject: format!("{kind} for {to}"),
        body: "Hej!\nPlease approve: https://app.example/approve?token=abc".into(),
        related_id: Some(Uuid::new_v4().to_string()),
        status: "queued".into(),
        error: None,
        created_at: t(created_ms),
        sent_at: None,
        attempts: 0,
        next_attempt_at: Some(t(created_ms)),
        sealed_body: None,
    }
}

conformance!(notifications_filter_and_status);
async fn notifications_filter_and_status(store: Store) -> TestResult {
    let approval = notification("link_request", "Owner@Acme.example", 0);
    let welcome = NotificationRecord { related_id: None, ..notification("welcome", "owner@acme.example", 1) };
    let elsewhere = notification("welcome", "ops@beta.example", 2);
    let mut tx = store.begin().await?;
    for n in [&welcome, &elsewhere, &approval] {
        tx.insert_notification(n).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let ids = |ns: Vec<NotificationRecord>| ns.into_iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(tx.notifications(None, None, 10).await?, vec![elsewhere.clone(), welcome.clone(), approval.clone()], "newest first");
    assert_eq!(ids(tx.notifications(Some("OWNER@acme.example"), None, 10).await?), vec![welcome.id, approval.id]);
    assert_eq!(ids(tx.notifications(None, Some("welcome"), 10).await?), vec![elsewhere.id, welcome.id]);
    assert_eq!(ids(tx.notifications(Some("owner@acme.example"), Some("welcome"), 10).await?), vec![welcome.id]);
    assert_eq!(ids(tx.notifications(None, None, 1).await?), vec![elsewhere.id]);
    drop(tx);

    // A claim takes what is due, oldest first, and leases it.
    let lease = t(HOUR + 5 * MINUTE);
    let mut tx = store.begin().await?;
    assert!(tx.claim_due_notifications(t(-1), lease, 10).await?.is_empty(), "nothing is due before its time");
    let claimed = tx.claim_due_notifications(t(HOUR), lease, 2).await?;
    assert_eq!(ids(claimed.clone()), vec![approval.id, welcome.id], "oldest due first, up to the limit");
    assert!(claimed.iter().all(|n| n.next_attempt_at == Some(lease)));
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(ids(tx.claim_due_notifications(t(HOUR), lease, 10).await?), vec![elsewhere.id], "leased rows are not claimed again");
    let sent = NotificationRecord { status: "sent".into(), sent_at: Some(t(HOUR)), attempts: 1, next_attempt_at: None, ..approval.clone() };
    let retry =
        NotificationRecord { error: Some("421 try later".into()), attempts: 1, next_attempt_at: Some(t(HOUR + MINUTE)), ..welcome.clone() };
    assert!(tx.settle_notification(&sent, lease).await?);
    assert!(tx.settle_notification(&retry, lease).await?);
    assert!(
        !tx.settle_notification(&NotificationRecord { status: "failed".into(), ..elsewhere.clone() }, t(0)).await?,
        "a lost lease settles nothing"
    );
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert!(tx.claim_due_notifications(t(HOUR + MINUTE - 1), lease, 10).await?.is_empty(), "a retry waits for its time");
    assert_eq!(ids(tx.claim_due_notifications(t(HOUR + MINUTE), t(DAY), 10).await?), vec![welcome.id]);
    assert_eq!(
        ids(tx.claim_due_notifications(lease, t(DAY), 10).await?),
        vec![elsewhere.id],
        "an unsettled claim comes back after its lease"
    );
    drop(tx);

    let mut tx = store.begin().await?;
    let stored = tx.notifications(Some("owner@acme.example"), None, 10).await?;
    assert_eq!(stored, vec![retry, sent]);
    Ok(())
}

conformance!(concurrent_claims_take_each_notification_once, with_url);
/// Two stores (as two server processes) claim from one database at the same time.
async fn concurrent_claims_take_each_notification_once(store: Store, url: String) -> TestResult {
    let other = Store::open(&url).await?;
    let mut all = Vec::new();
    let mut tx = store.begin().await?;
    for i in 0..40 {
        let n = notification("welcome", &format!("u{i}@acme.example"), i);
        tx.insert_notification(&n).await?;
        all.push(n.id);
    }
    tx.commit().await?;
    let claimer = |s: Store| async move {
        let mut got = Vec::new();
        loop {
            let mut tx = s.begin().await?;
            let batch = tx.claim_due_notifications(t(HOUR), t(DAY), 3).await?;
            tx.commit().await?;
            if batch.is_empty() {
                return Ok::<_, refshare_store::StoreError>(got);
            }
            got.extend(batch.into_iter().map(|n| n.id));
            tokio::task::yield_now().await;
        }
    };
    let (a, b) = tokio::join!(tokio::spawn(claimer(store.clone())), tokio::spawn(claimer(other.clone())));
    let (a, b) = (a??, b??);
    other.close().await;
    let mut seen: Vec<Uuid> = a.iter().chain(b.iter()).copied().collect();
    assert_eq!(seen.len(), all.len(), "every row claimed exactly once (a: {}, b: {})", a.len(), b.len());
    seen.sort();
    seen.dedup();
    all.sort();
    assert_eq!(seen, all);
    Ok(())
}

conformance!(audit_trail_filters_by_entity);
async fn audit_trail_filters_by_entity(store: Store) -> TestResult {
    let link_id = Uuid::new_v4().to_string();
    let entry = |at_ms: i64, entity: &str, entity_id: &str, action: &str| AuditRecord {
        id: Uuid::new_v4(),
        at: t(at_ms),
        actor: "operator:alice@platform.example".into(),
        action: action.into(),
        entity: entity.into(),
        entity_id: entity_id.into(),
        detail: json!({
            "from": "active",
            "to": "archived",
            "amountMinor": 12345678901234567890_u64,
            "note": "ærø ✓",
            "nested": [1, null, true],
        }),
    };
    let archived = entry(0, "link", &link_id, "link.archive");
    let paid = entry(1, "case", "DEB-10001", "payment.register");
    let unarchived = entry(2, "link", &link_id, "link.unarchive");
    let other_link = entry(3, "link", "another", "link.delete");
    let mut tx = store.begin().await?;
    for a in [&other_link, &paid, &unarchived, &archived] {
        tx.insert_audit(a).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.audit(None, None).await?, vec![archived.clone(), paid.clone(), unarchived.clone(), other_link.clone()], "in time order");
    assert_eq!(tx.audit(Some("link"), None).await?, vec![archived.clone(), unarchived.clone(), other_link]);
    assert_eq!(tx.audit(Some("link"), Some(&link_id)).await?, vec![archived, unarchived]);
    assert_eq!(tx.audit(None, Some("DEB-10001")).await?, vec![paid]);
    assert_eq!(tx.audit(Some("partner"), None).await?, vec![]);
    Ok(())
}

conformance!(settings_are_replaced_not_duplicated);
async fn settings_are_replaced_not_duplicated(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    assert_eq!(tx.setting("clock_offset_ms").await?, None);
    tx.set_setting("clock_offset_ms", "86400000").await?;
    tx.set_setting("other", "x").await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.setting("clock_offset_ms").await?.as_deref(), Some("86400000"));
    tx.set_setting("clock_offset_ms", "-5").await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.setting("clock_offset_ms").await?.as_deref(), Some("-5"));
    assert_eq!(tx.setting("other").await?.as_deref(), Some("x"));
    assert_eq!(tx.setting("CLOCK_OFFSET_MS").await?, None);
    Ok(())
}

conformance!(fx_rates_from_before_the_day_checks_are_never_a_fallback);
async fn fx_rates_from_before_the_day_checks_are_never_a_fallback(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    // What an older binary accepted: impossible days sort before every real one.
    tx.put_fx_rate("SEK", "-2026-01-01", 9_000_000).await?;
    tx.put_fx_rate("SEK", "0000-01-01", 9_100_000).await?;
    tx.put_fx_rate("SEK", "2026-01-05", 0).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    assert_eq!(tx.fx_rate_on_or_before("SEK", "2026-03-10").await?, None);
    assert_eq!(tx.fx_rates_on_or_before("2026-03-10").await?, vec![]);
    tx.put_fx_rate("SEK", "2026-01-02", 9_500_000).await?;
    assert_eq!(tx.fx_rate_on_or_before("SEK", "2026-03-10").await?, Some(("2026-01-02".to_string(), 9_500_000)));
    assert_eq!(tx.fx_rates_on_or_before("2026-03-10").await?, vec![("SEK".to_string(), 9_500_000)]);
    Ok(())
}

conformance!(fx_rate_is_the_latest_on_or_before_the_date);
async fn fx_rate_is_the_latest_on_or_before_the_date(store: Store) -> TestResult {
    let mut tx = store.begin().await?;
    tx.put_fx_rate("EUR", "2024-01-05", 109_500_000).await?;
    tx.put_fx_rate("EUR", "2024-01-02", 108_000_000).await?;
    tx.put_fx_rate("EUR", "2024-02-01", 1).await?;
    tx.put_fx_rate("EUR", "2024-02-01", 107_654_321).await?; // replaces
    tx.put_fx_rate("KWD", "2024-01-03", 3_250_000_000).await?; // > 2^31
    tx.put_fx_rate("EUR", "2023-12-31", 110_000_000).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let rate = |d: &str, r: i64| Some((d.to_string(), r));
    #[rustfmt::skip]
    let checks = [
        ("EUR", "2023-12-30", None),
        ("EUR", "2023-12-31", rate("2023-12-31", 110_000_000)),
        ("EUR", "2024-01-01", rate("2023-12-31", 110_000_000)),
        ("EUR", "2024-01-04", rate("2024-01-02", 108_000_000)),
        ("EUR", "2024-01-05", rate("2024-01-05", 109_500_000)),
        ("EUR", "2024-01-31", rate("2024-01-05", 109_500_000)),
        ("EUR", "2024-02-01", rate("2024-02-01", 107_654_321)),
        ("EUR", "2099-12-31", rate("2024-02-01", 107_654_321)),
        ("KWD", "2024-01-05", rate("2024-01-03", 3_250_000_000)),
        ("KWD", "2024-01-02", None),
        ("GBP", "2024-01-05", None),
    ];
    for (currency, date, expected) in checks {
        assert_eq!(tx.fx_rate_on_or_before(currency, date).await?, expected, "{currency} on {date}");
    }
    // Every currency's rate at once (the reports' read) is each one's probe, by code.
    for date in ["2023-12-30", "2024-01-02", "2024-01-04", "2024-02-01", "2099-12-31"] {
        let mut expected = Vec::new();
        for currency in ["EUR", "GBP", "KWD", "SEK"] {
            if let Some((_, r)) = tx.fx_rate_on_or_before(currency, date).await? {
                expected.push((currency.to_string(), r));
            }
        }
        assert_eq!(tx.fx_rates_on_or_before(date).await?, expected, "on {date}");
    }
    // The day is written into the statement: anything but `YYYY-MM-DD` is refused.
    for day in ["2024-01-0'", "2024-1-05", "2024-01-05 ", "' OR 1=1 --"] {
        assert!(tx.fx_rates_on_or_before(day).await.is_err(), "{day:?}");
    }
    Ok(())
}

conformance!(a_bulk_load_drops_the_secondary_indexes_and_builds_the_same_again);
async fn a_bulk_load_drops_the_secondary_indexes_and_builds_the_same_again(store: Store) -> TestResult {
    let tables = ["payouts", "earnings", "audit_log"];
    let mut tx = store.begin().await?;
    let dropped = tx.seed_drop_indexes(&tables).await?;
    tx.commit().await?;
    let defs = dropped.definitions().to_vec();
    assert!(defs.len() >= 3, "{defs:?}");
    assert!(defs.iter().any(|d| d.contains("earnings_partner_paid")), "{defs:?}");
    // What a constraint needs stays: no unique index, no primary key.
    assert!(defs.iter().all(|d| !d.to_ascii_uppercase().contains("UNIQUE") && !d.contains("_pkey")), "{defs:?}");
    let mut tx = store.begin().await?;
    assert!(tx.seed_drop_indexes(&tables).await?.is_empty(), "all were dropped");
    tx.seed_build_indexes(dropped).await?;
    tx.commit().await?;
    let mut tx = store.begin().await?;
    let again = tx.seed_drop_indexes(&tables).await?;
    let (mut a, mut b) = (defs, again.definitions().to_vec());
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same indexes, built again");
    tx.seed_build_indexes(again).await?;
    tx.commit().await?;
    Ok(())
}

conformance!(a_transaction_planned_once_plans_generically_and_only_itself);
/// `Store::begin_planned_once` (the payment groups' transactions): on PostgreSQL its
/// statements are planned generically (`SET LOCAL`, so the setting ends with it and
/// transactions begun as usual afterwards plan as ever); on SQLite it is an ordinary
/// write transaction. Either way what it writes is committed.
async fn a_transaction_planned_once_plans_generically_and_only_itself(store: Store) -> TestResult {
    let postgres = store.backend() == refshare_store::Backend::Postgres;
    let mut tx = store.begin_planned_once().await?;
    assert_eq!(tx.plans_generic_only().await?, postgres);
    tx.set_setting("planned", "once").await?;
    tx.commit().await?;
    for _ in 0..3 {
        let mut tx = store.begin().await?;
        assert!(!tx.plans_generic_only().await?, "SET LOCAL ended with its transaction");
        assert_eq!(tx.setting("planned").await?.as_deref(), Some("once"));
    }
    let mut tx = store.read().await?;
    assert!(!tx.plans_generic_only().await?);
    Ok(())
}
