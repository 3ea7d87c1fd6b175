//! Disputes (SPEC §7): filed by partners with the attribution check snapshotted, resolved
//! by operators.

use refshare_core::Instant;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{at, currency, get, ms, opt_at, uuid, DisputeRecord, PageReq, Result, StoreError, Tx};

fn dispute_from(r: &AnyRow) -> Result<DisputeRecord> {
    let check: String = get(r, "check_json")?;
    Ok(DisputeRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        case_id: uuid(&get::<String>(r, "case_id")?)?,
        client_id: uuid(&get::<String>(r, "client_id")?)?,
        external_tenant_id: get(r, "external_tenant_id")?,
        company_name: get(r, "company_name")?,
        creation_method: get(r, "creation_method")?,
        expected_outcome: get(r, "expected_outcome")?,
        observation: get(r, "observation")?,
        check: serde_json::from_str(&check).map_err(|e| StoreError::Corrupt(format!("dispute check: {e}")))?,
        deadline: at(get(r, "deadline")?),
        status: get(r, "status")?,
        resolution_reason: get(r, "resolution_reason")?,
        resolved_amount_minor: get(r, "resolved_amount_minor")?,
        created_at: at(get(r, "created_at")?),
        resolved_at: opt_at(get(r, "resolved_at")?),
    })
}

const COLS: &str = "id, partner_id, case_id, client_id, external_tenant_id, company_name, creation_method, expected_outcome, observation, \
                    check_json, deadline, status, resolution_reason, resolved_amount_minor, created_at, resolved_at";

impl Tx {
    pub async fn insert_dispute(&mut self, d: &DisputeRecord) -> Result<()> {
        sqlx::query(&format!(
            "INSERT INTO disputes ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(d.id.to_string())
        .bind(d.partner_id.to_string())
        .bind(d.case_id.to_string())
        .bind(d.client_id.to_string())
        .bind(&d.external_tenant_id)
        .bind(&d.company_name)
        .bind(&d.creation_method)
        .bind(&d.expected_outcome)
        .bind(&d.observation)
        .bind(d.check.to_string())
        .bind(ms(d.deadline))
        .bind(&d.status)
        .bind(d.resolution_reason.clone())
        .bind(d.resolved_amount_minor)
        .bind(ms(d.created_at))
        .bind(d.resolved_at.map(ms))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn dispute(&mut self, id: Uuid) -> Result<Option<DisputeRecord>> {
        let row =
            sqlx::query(&format!("SELECT {COLS} FROM disputes WHERE id = $1")).bind(id.to_string()).fetch_optional(self.conn()).await?;
        row.as_ref().map(dispute_from).transpose()
    }

    /// Disputes, newest first, of one partner or of everyone; optionally one status.
    pub async fn disputes(&mut self, partner_id: Option<Uuid>, status: Option<&str>) -> Result<Vec<DisputeRecord>> {
        let mut conds = Vec::new();
        let mut binds = Vec::new();
        if let Some(p) = partner_id {
            binds.push(p.to_string());
            conds.push(format!("partner_id = ${}", binds.len()));
        }
        if let Some(s) = status {
            binds.push(s.to_string());
            conds.push(format!("status = ${}", binds.len()));
        }
        let filter = if conds.is_empty() { String::new() } else { format!("WHERE {}", conds.join(" AND ")) };
        let sql = format!("SELECT {COLS} FROM disputes {filter} ORDER BY created_at DESC, id DESC");
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(self.conn()).await?;
        rows.iter().map(dispute_from).collect()
    }

    /// One page of a partner's disputes, newest first (index `disputes_partner`), each with
    /// its case's reference and currency (one query).
    pub async fn partner_dispute_page(
        &mut self,
        partner_id: Uuid,
        page: PageReq,
    ) -> Result<Vec<(DisputeRecord, String, refshare_core::money::Currency)>> {
        let cols: Vec<String> = COLS.split(", ").map(|c| format!("d.{c}")).collect();
        let sql = format!(
            "SELECT {}, c.reference AS case_reference, c.currency AS case_currency FROM disputes d JOIN cases c ON c.id = d.case_id \
             WHERE d.partner_id = $1 ORDER BY d.created_at DESC, d.id DESC LIMIT $2 OFFSET $3",
            cols.join(", ")
        );
        let rows =
            sqlx::query(&sql).bind(partner_id.to_string()).bind(i64::from(page.size)).bind(page.offset()).fetch_all(self.conn()).await?;
        rows.iter()
            .map(|r| Ok((dispute_from(r)?, get::<String>(r, "case_reference")?, currency(&get::<String>(r, "case_currency")?)?)))
            .collect()
    }

    /// How many disputes the partner has.
    pub async fn partner_dispute_count(&mut self, partner_id: Uuid) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM disputes WHERE partner_id = $1")
            .bind(partner_id.to_string())
            .fetch_one(self.conn())
            .await?;
        get(&row, "n")
    }

    /// The partner's open dispute on the case, if any (index `disputes_one_open`).
    pub async fn open_dispute_of_case(&mut self, case_id: Uuid, partner_id: Uuid) -> Result<Option<Uuid>> {
        let row = sqlx::query("SELECT id FROM disputes WHERE case_id = $1 AND partner_id = $2 AND status = 'open'")
            .bind(case_id.to_string())
            .bind(partner_id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.map(|r| uuid(&get::<String>(&r, "id")?)).transpose()
    }

    /// The partner's open disputes, oldest first, at most `limit` (`disputes_partner`).
    pub async fn open_disputes_of_partner(&mut self, partner_id: Uuid, limit: u32) -> Result<Vec<DisputeRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLS} FROM disputes WHERE partner_id = $1 AND status = 'open' ORDER BY created_at, id LIMIT {limit}"
        ))
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(dispute_from).collect()
    }

    /// Takes an open dispute for resolution: locks its row (PostgreSQL) and answers
    /// whether it is still open, so two resolutions of one dispute cannot both book.
    pub async fn claim_open_dispute(&mut self, id: Uuid) -> Result<bool> {
        let r = sqlx::query("UPDATE disputes SET status = status WHERE id = $1 AND status = 'open'")
            .bind(id.to_string())
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    pub async fn resolve_dispute(&mut self, id: Uuid, status: &str, reason: &str, amount: Option<i64>, at: Instant) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE disputes SET status = $1, resolution_reason = $2, resolved_amount_minor = $3, resolved_at = $4 WHERE id = $5 AND status = 'open'",
        )
        .bind(status)
        .bind(reason)
        .bind(amount)
        .bind(ms(at))
        .bind(id.to_string())
        .execute(self.conn())
        .await?;
        Ok(r.rows_affected() == 1)
    }
}
