//! Webhook subscriptions, the event outbox, delivery claiming and the attempt log.

use refshare_store::{
    DeliveryFilter, DeliveryStatus, PageReq, Store, WebhookAttemptRecord, WebhookDeliveryRecord, WebhookEventRecord,
    WebhookSubscriptionRecord,
};
use serde_json::json;
use uuid::Uuid;

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

fn delivery(event_id: Uuid, subscription_id: Uuid, due_ms: i64) -> WebhookDeliveryRecord {
    WebhookDeliveryRecord {
        id: Uuid::new_v4(),
        event_id,
        subscription_id,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Some(t(due_ms)),
        last_status_code: None,
        last_error: None,
        delivered_at: None,
        created_at: t(due_ms),
    }
}

conformance!(webhook_subscriptions_round_trip_and_delete);
async fn webhook_subscriptions_round_trip_and_delete(store: Store) -> TestResult {
    let p = partner("Hooked", t(0));
    let other = partner("Other", t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_partner(&other).await?;
    let a = subscription(p.id, 1);
    let b = WebhookSubscriptionRecord { is_test_mode: true, ..subscription(p.id, 2) };
    let c = subscription(other.id, 3);
    for s in [&b, &a, &c] {
        tx.insert_webhook_subscription(s).await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.webhook_subscription(a.id).await?, Some(a.clone()));
    assert_eq!(tx.webhook_subscriptions(Some(p.id)).await?, vec![a.clone(), b.clone()], "oldest first, own partner only");
    assert_eq!(tx.webhook_subscriptions(None).await?.len(), 3);
    let rotated = WebhookSubscriptionRecord {
        secret: "bmV3".into(),
        previous_secret: Some(a.secret.clone()),
        previous_secret_until: Some(t(DAY)),
        is_active: false,
        consecutive_failures: 8,
        disabled_reason: Some("8 consecutive failures".into()),
        events: vec!["case.closed".into()],
        updated_at: t(10),
        ..a.clone()
    };
    tx.update_webhook_subscription(&rotated).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.webhook_subscription(a.id).await?, Some(rotated.clone()));
    let e = WebhookEventRecord {
        id: Uuid::new_v4(),
        partner_id: p.id,
        event_type: "case.created".into(),
        payload: json!({"caseId": "x"}),
        created_at: t(5),
    };
    tx.insert_webhook_event(&e).await?;
    let d = delivery(e.id, a.id, 5);
    tx.insert_webhook_delivery(&d).await?;
    assert_conflict(tx.insert_webhook_delivery(&WebhookDeliveryRecord { id: Uuid::new_v4(), ..d.clone() }).await);
    drop(tx);

    let mut tx = store.begin().await?;
    tx.insert_webhook_event(&e).await?;
    tx.insert_webhook_delivery(&d).await?;
    tx.insert_webhook_attempt(&WebhookAttemptRecord {
        id: Uuid::new_v4(),
        delivery_id: d.id,
        attempt: 1,
        at: t(6),
        status_code: Some(500),
        error: None,
        duration_ms: 12,
    })
    .await?;
    tx.delete_webhook_subscription(a.id).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.webhook_subscription(a.id).await?, None);
    assert_eq!(tx.webhook_delivery(d.id).await?, None, "deliveries go with their subscription");
    assert_eq!(tx.webhook_event(e.id).await?, Some(e), "the event stays");
    Ok(())
}

conformance!(webhook_deliveries_are_claimed_when_due_and_logged);
async fn webhook_deliveries_are_claimed_when_due_and_logged(store: Store) -> TestResult {
    let p = partner("Hooked", t(0));
    let s = subscription(p.id, 0);
    let e = WebhookEventRecord {
        id: Uuid::new_v4(),
        partner_id: p.id,
        event_type: "client.linked".into(),
        payload: json!({}),
        created_at: t(0),
    };
    let e2 = WebhookEventRecord { id: Uuid::new_v4(), ..e.clone() };
    let soon = delivery(e.id, s.id, 100);
    let later = delivery(e2.id, s.id, 10 * SECOND);
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    tx.insert_webhook_subscription(&s).await?;
    tx.insert_webhook_event(&e).await?;
    tx.insert_webhook_event(&e2).await?;
    tx.insert_webhook_delivery(&later).await?;
    tx.insert_webhook_delivery(&soon).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert!(tx.claim_due_webhook_deliveries(t(99), t(60 * SECOND), 10).await?.is_empty(), "nothing is due before its time");
    let claimed = tx.claim_due_webhook_deliveries(t(100), t(60 * SECOND), 10).await?;
    assert_eq!(claimed.iter().map(|d| d.id).collect::<Vec<_>>(), vec![soon.id]);
    assert_eq!(claimed[0].next_attempt_at, Some(t(60 * SECOND)));
    tx.commit().await?;

    let mut tx = store.begin().await?;
    let claimed = tx.claim_due_webhook_deliveries(t(20 * SECOND), t(80 * SECOND), 10).await?;
    assert_eq!(claimed.iter().map(|d| d.id).collect::<Vec<_>>(), vec![later.id], "a leased delivery is not claimed twice");
    let done = WebhookDeliveryRecord {
        status: DeliveryStatus::Delivered,
        attempts: 1,
        next_attempt_at: None,
        last_status_code: Some(204),
        delivered_at: Some(t(20 * SECOND)),
        ..claimed[0].clone()
    };
    tx.update_webhook_delivery(&done).await?;
    for n in [2, 1] {
        tx.insert_webhook_attempt(&WebhookAttemptRecord {
            id: Uuid::new_v4(),
            delivery_id: soon.id,
            attempt: n,
            at: t(n * SECOND),
            status_code: if n == 1 { None } else { Some(503) },
            error: if n == 1 { Some("connection refused".into()) } else { None },
            duration_ms: 7,
        })
        .await?;
    }
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.webhook_delivery(later.id).await?, Some(done));
    let attempts = tx.webhook_attempts(soon.id).await?;
    assert_eq!(attempts.iter().map(|a| a.attempt).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(attempts[0].error.as_deref(), Some("connection refused"));
    let (page, total) =
        tx.webhook_deliveries(&DeliveryFilter { partner_id: Some(p.id), subscription_id: None }, PageReq { page: 1, size: 1 }).await?;
    assert_eq!(total, 2);
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].1, "client.linked");
    let (none, total) = tx
        .webhook_deliveries(&DeliveryFilter { partner_id: Some(Uuid::new_v4()), subscription_id: None }, PageReq { page: 1, size: 10 })
        .await?;
    assert!(none.is_empty() && total == 0);
    assert_eq!(tx.abandon_webhook_deliveries(s.id, "disabled").await?, 1, "only the pending one");
    assert_eq!(tx.webhook_delivery(soon.id).await?.map(|d| d.status), Some(DeliveryStatus::Abandoned));
    assert!(tx.claim_due_webhook_deliveries(t(DAY), t(DAY + 1), 10).await?.is_empty());
    Ok(())
}
