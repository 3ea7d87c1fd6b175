//! Webhook tables: subscriptions, the event outbox, deliveries with their retry state,
//! and the log of HTTP attempts. Nothing about delivery lives in memory: a restarted
//! process picks up exactly where the database says.

use refshare_core::Instant;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{
    at, get, ms, opt_at, uuid, Cols, DeliveryStatus, PageReq, Result, StoreError, Tx, WebhookAttemptRecord, WebhookDeliveryRecord,
    WebhookEventRecord, WebhookSubscriptionRecord,
};

pub(crate) const SUB_COLS: &str =
    "id, partner_id, url, events_json, is_active, is_test_mode, secret, previous_secret, previous_secret_until, \
     consecutive_failures, disabled_reason, created_at, updated_at";
const DELIVERY_COLS: &str =
    "d.id, d.event_id, d.subscription_id, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) fn subscription_from<R: Cols + ?Sized>(r: &R) -> Result<WebhookSubscriptionRecord> {
    let events: String = r.value("events_json")?;
    Ok(WebhookSubscriptionRecord {
        id: uuid(&r.value::<String>("id")?)?,
        partner_id: uuid(&r.value::<String>("partner_id")?)?,
        url: r.value("url")?,
        events: serde_json::from_str(&events).map_err(corrupt)?,
        is_active: r.value::<i64>("is_active")? != 0,
        is_test_mode: r.value::<i64>("is_test_mode")? != 0,
        secret: r.value("secret")?,
        previous_secret: r.value("previous_secret")?,
        previous_secret_until: opt_at(r.value("previous_secret_until")?),
        consecutive_failures: r.value("consecutive_failures")?,
        disabled_reason: r.value("disabled_reason")?,
        created_at: at(r.value("created_at")?),
        updated_at: at(r.value("updated_at")?),
    })
}

fn delivery_from(r: &AnyRow) -> Result<WebhookDeliveryRecord> {
    let status: String = get(r, "status")?;
    Ok(WebhookDeliveryRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        event_id: uuid(&get::<String>(r, "event_id")?)?,
        subscription_id: uuid(&get::<String>(r, "subscription_id")?)?,
        status: DeliveryStatus::parse(&status).ok_or_else(|| corrupt(format!("bad delivery status `{status}`")))?,
        attempts: get(r, "attempts")?,
        next_attempt_at: opt_at(get(r, "next_attempt_at")?),
        last_status_code: get(r, "last_status_code")?,
        last_error: get(r, "last_error")?,
        delivered_at: opt_at(get(r, "delivered_at")?),
        created_at: at(get(r, "created_at")?),
    })
}

fn event_from(r: &AnyRow) -> Result<WebhookEventRecord> {
    let payload: String = get(r, "payload_json")?;
    Ok(WebhookEventRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        event_type: get(r, "event_type")?,
        payload: serde_json::from_str(&payload).map_err(corrupt)?,
        created_at: at(get(r, "created_at")?),
    })
}

/// Which deliveries a log listing shows.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub partner_id: Option<Uuid>,
    pub subscription_id: Option<Uuid>,
}

impl Tx {
    pub async fn insert_webhook_subscription(&mut self, s: &WebhookSubscriptionRecord) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO webhook_subscriptions ({SUB_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(s.id.to_string())
        .bind(s.partner_id.to_string())
        .bind(&s.url)
        .bind(serde_json::to_string(&s.events).map_err(corrupt)?)
        .bind(s.is_active as i64)
        .bind(s.is_test_mode as i64)
        .bind(&s.secret)
        .bind(s.previous_secret.clone())
        .bind(s.previous_secret_until.map(ms))
        .bind(s.consecutive_failures)
        .bind(s.disabled_reason.clone())
        .bind(ms(s.created_at))
        .bind(ms(s.updated_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Writes every mutable field of a subscription.
    pub async fn update_webhook_subscription(&mut self, s: &WebhookSubscriptionRecord) -> Result<()> {
        sqlx::query(
            "UPDATE webhook_subscriptions SET url = $2, events_json = $3, is_active = $4, is_test_mode = $5, secret = $6, \
             previous_secret = $7, previous_secret_until = $8, consecutive_failures = $9, disabled_reason = $10, updated_at = $11 \
             WHERE id = $1",
        )
        .bind(s.id.to_string())
        .bind(&s.url)
        .bind(serde_json::to_string(&s.events).map_err(corrupt)?)
        .bind(s.is_active as i64)
        .bind(s.is_test_mode as i64)
        .bind(&s.secret)
        .bind(s.previous_secret.clone())
        .bind(s.previous_secret_until.map(ms))
        .bind(s.consecutive_failures)
        .bind(s.disabled_reason.clone())
        .bind(ms(s.updated_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Replaces the stored (sealed) signing secret if it is still `old`; `false` if a
    /// concurrent writer changed it first.
    pub async fn replace_webhook_secret(&mut self, id: Uuid, old: &str, new: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE webhook_subscriptions SET secret = $2 WHERE id = $1 AND secret = $3")
            .bind(id.to_string())
            .bind(new)
            .bind(old)
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Replaces the stored (sealed) previous secret if it is still `old`.
    pub async fn replace_webhook_previous_secret(&mut self, id: Uuid, old: &str, new: &str) -> Result<bool> {
        let r = sqlx::query("UPDATE webhook_subscriptions SET previous_secret = $2 WHERE id = $1 AND previous_secret = $3")
            .bind(id.to_string())
            .bind(new)
            .bind(old)
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a delivery outcome on the subscription's failure streak without touching
    /// anything the partner may be editing at the same moment; returns the new streak.
    pub async fn record_webhook_outcome(&mut self, id: Uuid, delivered: bool) -> Result<i64> {
        let sql = if delivered {
            "UPDATE webhook_subscriptions SET consecutive_failures = 0 WHERE id = $1"
        } else {
            "UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1 WHERE id = $1"
        };
        sqlx::query(sql).bind(id.to_string()).execute(self.conn()).await?;
        let row = sqlx::query("SELECT consecutive_failures FROM webhook_subscriptions WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(self.conn())
            .await?;
        get(&row, "consecutive_failures")
    }

    /// Disables an active subscription with a reason; `false` if it was not active.
    pub async fn disable_webhook_subscription(&mut self, id: Uuid, reason: &str, at: refshare_core::Instant) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE webhook_subscriptions SET is_active = 0, disabled_reason = $2, updated_at = $3 WHERE id = $1 AND is_active = 1",
        )
        .bind(id.to_string())
        .bind(reason)
        .bind(ms(at))
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn webhook_subscription(&mut self, id: Uuid) -> Result<Option<WebhookSubscriptionRecord>> {
        let row = sqlx::query(&format!("SELECT {SUB_COLS} FROM webhook_subscriptions WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(subscription_from).transpose()
    }

    /// Subscriptions, oldest first; all partners' when `partner_id` is `None`.
    pub async fn webhook_subscriptions(&mut self, partner_id: Option<Uuid>) -> Result<Vec<WebhookSubscriptionRecord>> {
        let rows = match partner_id {
            Some(p) => {
                sqlx::query(&format!("SELECT {SUB_COLS} FROM webhook_subscriptions WHERE partner_id = $1 ORDER BY created_at, id"))
                    .bind(p.to_string())
                    .fetch_all(self.conn())
                    .await?
            }
            None => {
                sqlx::query(&format!("SELECT {SUB_COLS} FROM webhook_subscriptions ORDER BY created_at, id")).fetch_all(self.conn()).await?
            }
        };
        rows.iter().map(subscription_from).collect()
    }

    /// The subscriptions of any of the partners, oldest first.
    pub async fn webhook_subscriptions_of(&mut self, partner_ids: &[Uuid]) -> Result<Vec<WebhookSubscriptionRecord>> {
        let mut out = Vec::new();
        for chunk in partner_ids.chunks(crate::earning_sets::IDS_PER_STATEMENT) {
            let sql = format!(
                "SELECT {SUB_COLS} FROM webhook_subscriptions WHERE partner_id IN ({}) ORDER BY created_at, id",
                crate::bulk::ph_list(self.backend, 1, chunk.len())
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(id.to_string());
            }
            for r in q.fetch_all(self.conn()).await? {
                out.push(subscription_from(&r)?);
            }
        }
        Ok(out)
    }

    /// Deletes a subscription with its deliveries and their attempts.
    pub async fn delete_webhook_subscription(&mut self, id: Uuid) -> Result<()> {
        let id = id.to_string();
        for sql in [
            "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE subscription_id = $1)",
            "DELETE FROM webhook_deliveries WHERE subscription_id = $1",
            "DELETE FROM webhook_subscriptions WHERE id = $1",
        ] {
            sqlx::query(sql).bind(&id).execute(self.conn()).await?;
        }
        Ok(())
    }

    pub async fn insert_webhook_event(&mut self, e: &WebhookEventRecord) -> Result<()> {
        sqlx::query("INSERT INTO webhook_events (id, partner_id, event_type, payload_json, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.id.to_string())
            .bind(e.partner_id.to_string())
            .bind(&e.event_type)
            .bind(e.payload.to_string())
            .bind(ms(e.created_at))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn webhook_event(&mut self, id: Uuid) -> Result<Option<WebhookEventRecord>> {
        let row = sqlx::query("SELECT id, partner_id, event_type, payload_json, created_at FROM webhook_events WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(event_from).transpose()
    }

    /// The outbox events written at one instant (a run's events share its time), by id.
    pub async fn webhook_events_created_at(&mut self, at: Instant) -> Result<Vec<WebhookEventRecord>> {
        let rows = sqlx::query(
            "SELECT id, partner_id, event_type, payload_json, created_at FROM webhook_events WHERE created_at = $1 ORDER BY id",
        )
        .bind(ms(at))
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(event_from).collect()
    }

    pub async fn insert_webhook_delivery(&mut self, d: &WebhookDeliveryRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (id, event_id, subscription_id, status, attempts, next_attempt_at, last_status_code, \
             last_error, delivered_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(d.id.to_string())
        .bind(d.event_id.to_string())
        .bind(d.subscription_id.to_string())
        .bind(d.status.as_str())
        .bind(d.attempts)
        .bind(d.next_attempt_at.map(ms))
        .bind(d.last_status_code)
        .bind(d.last_error.clone())
        .bind(d.delivered_at.map(ms))
        .bind(ms(d.created_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Writes a delivery's state after an attempt.
    pub async fn update_webhook_delivery(&mut self, d: &WebhookDeliveryRecord) -> Result<()> {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $2, attempts = $3, next_attempt_at = $4, last_status_code = $5, last_error = $6, \
             delivered_at = $7 WHERE id = $1",
        )
        .bind(d.id.to_string())
        .bind(d.status.as_str())
        .bind(d.attempts)
        .bind(d.next_attempt_at.map(ms))
        .bind(d.last_status_code)
        .bind(d.last_error.clone())
        .bind(d.delivered_at.map(ms))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn webhook_delivery(&mut self, id: Uuid) -> Result<Option<WebhookDeliveryRecord>> {
        let row = sqlx::query(&format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries d WHERE d.id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(delivery_from).transpose()
    }

    /// Claims up to `limit` pending deliveries due at `now`, oldest due first, by moving
    /// their `next_attempt_at` to `lease_until`. A claim that is never settled (the
    /// process died mid-request) comes due again when the lease ends: at-least-once.
    pub async fn claim_due_webhook_deliveries(
        &mut self,
        now: Instant,
        lease_until: Instant,
        limit: u32,
    ) -> Result<Vec<WebhookDeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries d WHERE d.status = 'Pending' AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at, d.created_at, d.id LIMIT $2"
        ))
        .bind(ms(now))
        .bind(limit as i64)
        .fetch_all(self.conn())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let mut d = delivery_from(r)?;
            let claimed = sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE id = $1 AND status = 'Pending' AND next_attempt_at <= $2",
            )
            .bind(d.id.to_string())
            .bind(ms(now))
            .bind(ms(lease_until))
            .execute(self.conn())
            .await?
            .rows_affected();
            if claimed == 1 {
                d.next_attempt_at = Some(lease_until);
                out.push(d);
            }
        }
        Ok(out)
    }

    /// Marks every pending delivery of a subscription `Abandoned`; returns how many.
    pub async fn abandon_webhook_deliveries(&mut self, subscription_id: Uuid, reason: &str) -> Result<u64> {
        let n = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'Abandoned', next_attempt_at = NULL, last_error = $2 \
             WHERE subscription_id = $1 AND status = 'Pending'",
        )
        .bind(subscription_id.to_string())
        .bind(reason)
        .execute(self.conn())
        .await?
        .rows_affected();
        Ok(n)
    }

    /// A page of deliveries, newest first, with each one's event type and the total count.
    pub async fn webhook_deliveries(&mut self, f: &DeliveryFilter, page: PageReq) -> Result<(Vec<(WebhookDeliveryRecord, String)>, i64)> {
        let mut cond = String::from("1 = 1");
        let mut binds = Vec::new();
        if let Some(p) = f.partner_id {
            binds.push(p.to_string());
            cond.push_str(&format!(" AND s.partner_id = ${}", binds.len()));
        }
        if let Some(s) = f.subscription_id {
            binds.push(s.to_string());
            cond.push_str(&format!(" AND d.subscription_id = ${}", binds.len()));
        }
        let from =
            "webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id JOIN webhook_events e ON e.id = d.event_id";
        let sql = format!(
            "SELECT {DELIVERY_COLS}, e.event_type FROM {from} WHERE {cond} ORDER BY d.created_at DESC, d.id DESC LIMIT ${} OFFSET ${}",
            binds.len() + 1,
            binds.len() + 2
        );
        let mut q = sqlx::query(&sql);
        let count_sql = format!("SELECT COUNT(*) AS n FROM {from} WHERE {cond}");
        let mut cq = sqlx::query(&count_sql);
        for b in &binds {
            q = q.bind(b.clone());
            cq = cq.bind(b.clone());
        }
        let rows = q.bind(page.size as i64).bind(page.offset()).fetch_all(self.conn()).await?;
        let total: i64 = get(&cq.fetch_one(self.conn()).await?, "n")?;
        let items = rows.iter().map(|r| Ok((delivery_from(r)?, get::<String>(r, "event_type")?))).collect::<Result<Vec<_>>>()?;
        Ok((items, total))
    }

    pub async fn insert_webhook_attempt(&mut self, a: &WebhookAttemptRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_attempts (id, delivery_id, attempt, at, status_code, error, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(a.id.to_string())
        .bind(a.delivery_id.to_string())
        .bind(a.attempt)
        .bind(ms(a.at))
        .bind(a.status_code)
        .bind(a.error.clone())
        .bind(a.duration_ms)
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// A delivery's attempts, first first.
    pub async fn webhook_attempts(&mut self, delivery_id: Uuid) -> Result<Vec<WebhookAttemptRecord>> {
        let rows = sqlx::query(
            "SELECT id, delivery_id, attempt, at, status_code, error, duration_ms FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt, at",
        )
        .bind(delivery_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(WebhookAttemptRecord {
                    id: uuid(&get::<String>(r, "id")?)?,
                    delivery_id: uuid(&get::<String>(r, "delivery_id")?)?,
                    attempt: get(r, "attempt")?,
                    at: at(get(r, "at")?),
                    status_code: get(r, "status_code")?,
                    error: get(r, "error")?,
                    duration_ms: get(r, "duration_ms")?,
                })
            })
            .collect()
    }
}
