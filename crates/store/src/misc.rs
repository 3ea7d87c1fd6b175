//! Cross-cutting tables: idempotency keys, the notification log, the audit trail and
//! small settings (the test clock offset).

use refshare_core::Instant;
use sqlx::any::AnyRow;

use crate::{
    at, get, ms, opt_at, uuid, AuditFilter, AuditRecord, Backend, IdempotencyRecord, NotificationRecord, PageReq, Result, StoreError, Tx,
};

fn notification_from(r: &AnyRow) -> Result<NotificationRecord> {
    Ok(NotificationRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        kind: get(r, "kind")?,
        to_addr: get(r, "to_addr")?,
        subject: get(r, "subject")?,
        body: get(r, "body")?,
        related_id: get(r, "related_id")?,
        status: get(r, "status")?,
        error: get(r, "error")?,
        created_at: at(get(r, "created_at")?),
        sent_at: opt_at(get(r, "sent_at")?),
        attempts: get(r, "attempts")?,
        next_attempt_at: opt_at(get(r, "next_attempt_at")?),
        sealed_body: get(r, "sealed_body")?,
    })
}

const NOTIFICATION_COLS: &str =
    "id, kind, to_addr, subject, body, related_id, status, error, created_at, sent_at, attempts, next_attempt_at, sealed_body";

impl Tx {
    /// Takes an idempotency key's lock until the transaction ends, so that requests with
    /// the same key run one after the other and a retry finds what the first one stored.
    /// PostgreSQL: a transaction-scoped advisory lock on 64 bits of the MD5 of scope and
    /// key (a collision only makes two keys wait for each other). SQLite has one writer.
    pub async fn lock_idempotency_key(&mut self, scope: &str, key: &str) -> Result<()> {
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(('x' || substr(md5($1), 1, 16))::bit(64)::bigint)")
                .bind(format!("{scope}\n{key}"))
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    pub async fn idempotency(&mut self, scope: &str, key: &str) -> Result<Option<IdempotencyRecord>> {
        let row = sqlx::query("SELECT request_hash, status_code, body FROM idempotency_keys WHERE scope = $1 AND idem_key = $2")
            .bind(scope)
            .bind(key)
            .fetch_optional(self.conn())
            .await?;
        row.map(|r| {
            Ok(IdempotencyRecord {
                request_hash: get(&r, "request_hash")?,
                status_code: get::<i64>(&r, "status_code")? as u16,
                body: get(&r, "body")?,
            })
        })
        .transpose()
    }

    pub async fn save_idempotency(&mut self, scope: &str, key: &str, rec: &IdempotencyRecord, now: Instant) -> Result<()> {
        sqlx::query(
            "INSERT INTO idempotency_keys (scope, idem_key, request_hash, status_code, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(scope)
        .bind(key)
        .bind(&rec.request_hash)
        .bind(rec.status_code as i64)
        .bind(&rec.body)
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn insert_notification(&mut self, n: &NotificationRecord) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO notifications ({NOTIFICATION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(n.id.to_string())
        .bind(&n.kind)
        .bind(&n.to_addr)
        .bind(&n.subject)
        .bind(&n.body)
        .bind(n.related_id.clone())
        .bind(&n.status)
        .bind(n.error.clone())
        .bind(ms(n.created_at))
        .bind(n.sent_at.map(ms))
        .bind(n.attempts)
        .bind(n.next_attempt_at.map(ms))
        .bind(n.sealed_body.clone())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Claims up to `limit` queued notifications due at `now` (oldest due first) by moving
    /// their `next_attempt_at` to `lease_until`; returns them oldest first. The claim is a
    /// single UPDATE, so several mailers on one database never claim the same row: on
    /// PostgreSQL a concurrent claimer skips rows being claimed (`SKIP LOCKED`), on SQLite
    /// the write lock serialises claimers. A claim never settled (the process died
    /// mid-send) comes due again when the lease ends.
    pub async fn claim_due_notifications(&mut self, now: Instant, lease_until: Instant, limit: u32) -> Result<Vec<NotificationRecord>> {
        let lock = match self.backend {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        // The due rows are picked once (a materialised CTE): as a plain subquery the planner
        // may evaluate it again per row and claim more than `limit`.
        let rows = sqlx::query(&format!(
            "WITH due AS MATERIALIZED (\
               SELECT id FROM notifications WHERE status = 'queued' AND next_attempt_at <= $1 \
               ORDER BY next_attempt_at, created_at, id LIMIT $2 {lock}) \
             UPDATE notifications SET next_attempt_at = $3 \
             WHERE id IN (SELECT id FROM due) AND status = 'queued' AND next_attempt_at <= $1 \
             RETURNING {NOTIFICATION_COLS}"
        ))
        .bind(ms(now))
        .bind(limit as i64)
        .bind(ms(lease_until))
        .fetch_all(self.conn())
        .await?;
        let mut out = rows.iter().map(notification_from).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|n| (n.created_at, n.id));
        Ok(out)
    }

    /// Records the outcome of a claimed notification (status, error, attempts, next due
    /// time, sending time), if the claim made until `claimed_until` still holds; `false`
    /// when another mailer took the row over after the lease ended.
    pub async fn settle_notification(&mut self, n: &NotificationRecord, claimed_until: Instant) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE notifications SET status = $2, error = $3, sent_at = $4, attempts = $5, next_attempt_at = $6, sealed_body = $8 \
             WHERE id = $1 AND status = 'queued' AND next_attempt_at = $7",
        )
        .bind(n.id.to_string())
        .bind(&n.status)
        .bind(n.error.clone())
        .bind(n.sent_at.map(ms))
        .bind(n.attempts)
        .bind(n.next_attempt_at.map(ms))
        .bind(ms(claimed_until))
        .bind(n.sealed_body.clone())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Notifications, newest first, optionally filtered by recipient and kind.
    /// The newest `limit` notifications, newest first, optionally only those to `to`
    /// (ASCII case-insensitive) and of `kind`: one bounded query (migration 0031's
    /// indexes), never the whole log.
    pub async fn notifications(&mut self, to: Option<&str>, kind: Option<&str>, limit: u32) -> Result<Vec<NotificationRecord>> {
        let mut clauses = Vec::new();
        let mut binds = Vec::new();
        if let Some(t) = to {
            binds.push(t.to_string());
            clauses.push(format!("lower(to_addr) = lower(${})", binds.len()));
        }
        if let Some(k) = kind {
            binds.push(k.to_string());
            clauses.push(format!("kind = ${}", binds.len()));
        }
        let filter = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let sql =
            format!("SELECT {NOTIFICATION_COLS} FROM notifications {filter} ORDER BY created_at DESC, id DESC LIMIT {}", i64::from(limit));
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        q.fetch_all(self.conn()).await?.iter().map(notification_from).collect()
    }

    pub async fn insert_audit(&mut self, a: &AuditRecord) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (id, at, actor, action, entity, entity_id, detail_json) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(a.id.to_string())
            .bind(ms(a.at))
            .bind(&a.actor)
            .bind(&a.action)
            .bind(&a.entity)
            .bind(&a.entity_id)
            .bind(a.detail.to_string())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The audit trail, oldest first, filtered in SQL: (one page of entries, total).
    pub async fn audit_page(&mut self, f: &AuditFilter, page: PageReq) -> Result<(Vec<AuditRecord>, i64)> {
        let mut conds = Vec::new();
        let mut binds: Vec<String> = Vec::new();
        for (col, v) in [("entity", &f.entity), ("entity_id", &f.entity_id), ("actor", &f.actor), ("action", &f.action)] {
            if let Some(v) = v {
                binds.push(v.clone());
                conds.push(format!("{col} = ${}", binds.len()));
            }
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let count_sql = format!("SELECT COUNT(*) AS n FROM audit_log {filter}");
        let mut q = sqlx::query(&count_sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let total: i64 = get(&q.fetch_one(self.conn()).await?, "n")?;
        let sql = format!(
            "SELECT id, at, actor, action, entity, entity_id, detail_json FROM audit_log {filter} ORDER BY at, id LIMIT {} OFFSET {}",
            page.size,
            page.offset()
        );
        let mut q = sqlx::query(&sql);
        for b in &binds {
            q = q.bind(b.clone());
        }
        let mut out = Vec::new();
        for r in &q.fetch_all(self.conn()).await? {
            let detail: String = get(r, "detail_json")?;
            out.push(AuditRecord {
                id: uuid(&get::<String>(r, "id")?)?,
                at: at(get(r, "at")?),
                actor: get(r, "actor")?,
                action: get(r, "action")?,
                entity: get(r, "entity")?,
                entity_id: get(r, "entity_id")?,
                detail: serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            });
        }
        Ok((out, total))
    }

    /// Every audit entry of one entity (or all), oldest first.
    pub async fn audit(&mut self, entity: Option<&str>, entity_id: Option<&str>) -> Result<Vec<AuditRecord>> {
        let f = AuditFilter { entity: entity.map(str::to_string), entity_id: entity_id.map(str::to_string), ..AuditFilter::default() };
        Ok(self.audit_page(&f, PageReq { page: 1, size: u32::MAX / 2 }).await?.0)
    }

    pub async fn setting(&mut self, name: &str) -> Result<Option<String>> {
        let row = sqlx::query("SELECT value FROM settings WHERE name = $1").bind(name).fetch_optional(self.conn()).await?;
        row.map(|r| get(&r, "value")).transpose()
    }

    pub async fn set_setting(&mut self, name: &str, value: &str) -> Result<()> {
        sqlx::query("DELETE FROM settings WHERE name = $1").bind(name).execute(self.conn()).await?;
        sqlx::query("INSERT INTO settings (name, value) VALUES ($1, $2)").bind(name).bind(value).execute(self.conn()).await?;
        Ok(())
    }
}

impl Tx {
    /// Stores (or replaces) a rate: US dollars per unit of `currency`, scaled by 10^8.
    pub async fn put_fx_rate(&mut self, currency: &str, date: &str, usd_per_unit_e8: i64) -> Result<()> {
        sqlx::query("DELETE FROM fx_rates WHERE currency = $1 AND rate_date = $2").bind(currency).bind(date).execute(self.conn()).await?;
        sqlx::query("INSERT INTO fx_rates (currency, rate_date, usd_per_unit_e8) VALUES ($1, $2, $3)")
            .bind(currency)
            .bind(date)
            .bind(usd_per_unit_e8)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The latest rate for `currency` dated on or before `date` (`YYYY-MM-DD`). Only rows
    /// that `app::fx` accepts count (a positive rate on a `YYYY-MM-DD` day from 1999-01-01
    /// to 2100-12-31): a row loaded before those checks, dated `-2026-01-01` or
    /// `0000-01-01`, sorts before every real day and would be a silent fallback.
    pub async fn fx_rate_on_or_before(&mut self, currency: &str, date: &str) -> Result<Option<(String, i64)>> {
        let row = sqlx::query(
            "SELECT rate_date, usd_per_unit_e8 FROM fx_rates WHERE currency = $1 AND rate_date <= $2 \
             AND length(rate_date) = 10 AND rate_date >= '1999-01-01' AND rate_date <= '2100-12-31' AND usd_per_unit_e8 > 0 \
             ORDER BY rate_date DESC LIMIT 1",
        )
        .bind(currency)
        .bind(date)
        .fetch_optional(self.conn())
        .await?;
        row.map(|r| Ok((get(&r, "rate_date")?, get(&r, "usd_per_unit_e8")?))).transpose()
    }

    /// Currencies that figures shown now convert at the current rate: those of payouts
    /// without a locked rate (estimates, and the rate locking their commission needs) and
    /// of cases with a collection partner assigned (potential revenue).
    pub async fn currencies_needing_current_rate(&mut self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT currency FROM payouts WHERE fx_usd_per_unit_e8 IS NULL \
             UNION SELECT currency FROM cases WHERE collection_partner_id IS NOT NULL ORDER BY currency",
        )
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(|r| get(r, "currency")).collect()
    }

    /// Rows per `status` of a table that has one (for the metrics endpoint).
    pub async fn status_counts(&mut self, table: StatusTable) -> Result<Vec<(String, i64)>> {
        let name = match table {
            StatusTable::WebhookDeliveries => "webhook_deliveries",
            StatusTable::Notifications => "notifications",
            StatusTable::Disputes => "disputes",
        };
        let rows = sqlx::query(&format!("SELECT status, COUNT(*) AS n FROM {name} GROUP BY status ORDER BY status"))
            .fetch_all(self.conn())
            .await?;
        rows.iter().map(|r| Ok((get(r, "status")?, get(r, "n")?))).collect()
    }
}

/// The tables whose rows are counted by status for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusTable {
    WebhookDeliveries,
    Notifications,
    Disputes,
}
