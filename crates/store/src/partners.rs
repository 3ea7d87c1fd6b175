//! Partners, their API keys, and collection partners with their coverage.

use refshare_core::money::Bps;
use refshare_core::stage::InvoicingTriggerMode;
use uuid::Uuid;

use crate::{at, get, ms, opt_at, uuid, ApiKeyRecord, CollectionPartnerRecord, Cols, PartnerRecord, Result, StoreError, Tx};

pub(crate) fn partner_from<R: Cols + ?Sized>(row: &R) -> Result<PartnerRecord> {
    let mode: String = row.value("invoicing_trigger_mode")?;
    let branding: String = row.value("branding_json")?;
    Ok(PartnerRecord {
        id: uuid(&row.value::<String>("id")?)?,
        company_name: row.value("company_name")?,
        contact_email: row.value("contact_email")?,
        referral_fee_bps: Bps(row.value::<i64>("referral_fee_bps")? as u32),
        approval_ttl_days: row.value("approval_ttl_days")?,
        invoicing_trigger_mode: InvoicingTriggerMode::parse(&mode).ok_or_else(|| StoreError::Corrupt(format!("trigger mode {mode}")))?,
        branding: serde_json::from_str(&branding).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: at(row.value("created_at")?),
    })
}

pub(crate) const PARTNER_COLS: &str =
    "id, company_name, contact_email, referral_fee_bps, approval_ttl_days, invoicing_trigger_mode, branding_json, created_at";

impl Tx {
    pub async fn insert_partner(&mut self, p: &PartnerRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO partners (id, company_name, contact_email, referral_fee_bps, approval_ttl_days, invoicing_trigger_mode, branding_json, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(p.id.to_string())
        .bind(&p.company_name)
        .bind(&p.contact_email)
        .bind(p.referral_fee_bps.0 as i64)
        .bind(p.approval_ttl_days)
        .bind(p.invoicing_trigger_mode.as_str())
        .bind(p.branding.to_string())
        .bind(ms(p.created_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn update_partner(&mut self, p: &PartnerRecord) -> Result<()> {
        sqlx::query(
            "UPDATE partners SET company_name = $2, contact_email = $3, referral_fee_bps = $4, approval_ttl_days = $5,
             invoicing_trigger_mode = $6, branding_json = $7 WHERE id = $1",
        )
        .bind(p.id.to_string())
        .bind(&p.company_name)
        .bind(&p.contact_email)
        .bind(p.referral_fee_bps.0 as i64)
        .bind(p.approval_ttl_days)
        .bind(p.invoicing_trigger_mode.as_str())
        .bind(p.branding.to_string())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn partner(&mut self, id: Uuid) -> Result<Option<PartnerRecord>> {
        let row = sqlx::query(&format!("SELECT {PARTNER_COLS} FROM partners WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(partner_from).transpose()
    }

    pub async fn partners(&mut self) -> Result<Vec<PartnerRecord>> {
        let rows = sqlx::query(&format!("SELECT {PARTNER_COLS} FROM partners ORDER BY created_at, id")).fetch_all(self.conn()).await?;
        rows.iter().map(partner_from).collect()
    }

    pub async fn insert_api_key(&mut self, k: &ApiKeyRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO partner_api_keys (id, partner_id, key_hash, key_prefix, created_at, revoked_at) VALUES ($1, $2, $3, $4, $5, NULL)",
        )
        .bind(k.id.to_string())
        .bind(k.partner_id.to_string())
        .bind(&k.key_hash)
        .bind(&k.key_prefix)
        .bind(ms(k.created_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The partner owning an unrevoked key with this hash.
    pub async fn partner_by_key_hash(&mut self, key_hash: &str) -> Result<Option<PartnerRecord>> {
        Ok(self.partner_key_by_hash(key_hash).await?.map(|(p, _)| p))
    }

    /// The partner owning an unrevoked key with this hash, and that key's id.
    pub async fn partner_key_by_hash(&mut self, key_hash: &str) -> Result<Option<(PartnerRecord, Uuid)>> {
        // Built once: every partner API request runs it.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            format!(
                "SELECT {}, k.id AS key_id FROM partners p JOIN partner_api_keys k ON k.partner_id = p.id WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
                PARTNER_COLS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ")
            )
        });
        let row = sqlx::query(SQL.as_str()).bind(key_hash).fetch_optional(self.conn()).await?;
        row.as_ref().map(|r| Ok((partner_from(r)?, uuid(&get::<String>(r, "key_id")?)?))).transpose()
    }

    /// Whether the partner has this key and it is not revoked.
    pub async fn api_key_is_live(&mut self, partner_id: Uuid, key_id: Uuid) -> Result<bool> {
        let row = sqlx::query("SELECT id FROM partner_api_keys WHERE id = $1 AND partner_id = $2 AND revoked_at IS NULL")
            .bind(key_id.to_string())
            .bind(partner_id.to_string())
            .fetch_optional(self.conn())
            .await?;
        Ok(row.is_some())
    }

    pub async fn api_keys(&mut self, partner_id: Uuid) -> Result<Vec<ApiKeyRecord>> {
        let rows = sqlx::query(
            "SELECT id, partner_id, key_hash, key_prefix, created_at, revoked_at FROM partner_api_keys WHERE partner_id = $1 ORDER BY created_at, id",
        )
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ApiKeyRecord {
                    id: uuid(&get::<String>(r, "id")?)?,
                    partner_id: uuid(&get::<String>(r, "partner_id")?)?,
                    key_hash: get(r, "key_hash")?,
                    key_prefix: get(r, "key_prefix")?,
                    created_at: at(get(r, "created_at")?),
                    revoked_at: opt_at(get(r, "revoked_at")?),
                })
            })
            .collect()
    }

    /// Revokes a key; returns false if the partner has no such unrevoked key.
    pub async fn revoke_api_key(&mut self, partner_id: Uuid, key_id: Uuid, now: refshare_core::Instant) -> Result<bool> {
        let done = sqlx::query("UPDATE partner_api_keys SET revoked_at = $3 WHERE id = $1 AND partner_id = $2 AND revoked_at IS NULL")
            .bind(key_id.to_string())
            .bind(partner_id.to_string())
            .bind(ms(now))
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn insert_collection_partner(&mut self, cp: &CollectionPartnerRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO collection_partners (id, name, success_fee_bps, platform_share_bps, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(cp.id.to_string())
        .bind(&cp.name)
        .bind(cp.success_fee_bps.0 as i64)
        .bind(cp.platform_share_bps.0 as i64)
        .bind(ms(cp.created_at))
        .execute(self.conn())
        .await?;
        for c in &cp.countries {
            sqlx::query("INSERT INTO collection_partner_countries (collection_partner_id, country) VALUES ($1, $2)")
                .bind(cp.id.to_string())
                .bind(c)
                .execute(self.conn())
                .await?;
        }
        Ok(())
    }

    pub async fn collection_partners(&mut self) -> Result<Vec<CollectionPartnerRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, success_fee_bps, platform_share_bps, created_at FROM collection_partners ORDER BY created_at, id",
        )
        .fetch_all(self.conn())
        .await?;
        let countries = sqlx::query("SELECT collection_partner_id, country FROM collection_partner_countries ORDER BY country")
            .fetch_all(self.conn())
            .await?;
        rows.iter()
            .map(|r| {
                let id: String = get(r, "id")?;
                let mut cs = Vec::new();
                for c in &countries {
                    if get::<String>(c, "collection_partner_id")? == id {
                        cs.push(get(c, "country")?);
                    }
                }
                Ok(CollectionPartnerRecord {
                    id: uuid(&id)?,
                    name: get(r, "name")?,
                    success_fee_bps: Bps(get::<i64>(r, "success_fee_bps")? as u32),
                    platform_share_bps: Bps(get::<i64>(r, "platform_share_bps")? as u32),
                    countries: cs,
                    created_at: at(get(r, "created_at")?),
                })
            })
            .collect()
    }

    /// The first collection partner (oldest) covering `country`.
    pub async fn collection_partner_for(&mut self, country: &str) -> Result<Option<CollectionPartnerRecord>> {
        let all = self.collection_partners().await?;
        Ok(all.into_iter().find(|cp| cp.countries.iter().any(|c| c == country)))
    }
}
