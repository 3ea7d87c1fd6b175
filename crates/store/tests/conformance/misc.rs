//! Idempotency keys, notifications, the audit trail, settings and FX rates.

use refshare_store::{AuditRecord, IdempotencyRecord, NotificationRecord, Store};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

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
    assert_eq!(ids(tx.queued_notifications().await?), vec![approval.id, welcome.id, elsewhere.id], "oldest first");

    tx.set_notification_status(approval.id, "sent", None, Some(t(HOUR))).await?;
    tx.set_notification_status(welcome.id, "failed", Some("550 mailbox unavailable"), None).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.queued_notifications().await?, vec![elsewhere]);
    let stored = tx.notifications(Some("owner@acme.example"), None, 10).await?;
    assert_eq!(
        stored,
        vec![
            NotificationRecord { status: "failed".into(), error: Some("550 mailbox unavailable".into()), ..welcome },
            NotificationRecord { status: "sent".into(), sent_at: Some(t(HOUR)), ..approval },
        ]
    );
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
    Ok(())
}
