//! Clients (creditors), their users, and the existing-client match of SPEC §4.3.

use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::cases::Arg;
use crate::search::Search;
use crate::{at, get, ms, opt_at, uuid, ClientRecord, ClientUserRecord, Result, SdcaSignature, StoreError, Tx};

pub(crate) const CLIENT_COLS: &str = "id, company_name, country, registration_number, support_email, details_json, api_key_hash, onboarding_completed_at, sdca_signer_name, sdca_signer_ip, sdca_signer_user_agent, sdca_version, sdca_signer_user_id, sdca_verified_by, created_at";

pub(crate) fn client_from(row: &AnyRow) -> Result<ClientRecord> {
    let details: String = get(row, "details_json")?;
    let completed = opt_at(get(row, "onboarding_completed_at")?);
    let signer: Option<String> = get(row, "sdca_signer_name")?;
    let sdca = match (signer, completed) {
        (Some(signer_name), Some(signed_at)) => Some(SdcaSignature {
            signer_name,
            signed_at,
            ip: get::<Option<String>>(row, "sdca_signer_ip")?.unwrap_or_default(),
            user_agent: get::<Option<String>>(row, "sdca_signer_user_agent")?.unwrap_or_default(),
            version: get::<Option<String>>(row, "sdca_version")?.unwrap_or_default(),
            signer_user_id: get::<Option<String>>(row, "sdca_signer_user_id")?.as_deref().map(uuid).transpose()?,
            verified_by: get(row, "sdca_verified_by")?,
        }),
        _ => None,
    };
    Ok(ClientRecord {
        id: uuid(&get::<String>(row, "id")?)?,
        company_name: get(row, "company_name")?,
        country: get(row, "country")?,
        registration_number: get(row, "registration_number")?,
        support_email: get(row, "support_email")?,
        details: serde_json::from_str(&details).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        api_key_hash: get(row, "api_key_hash")?,
        onboarding_completed_at: completed,
        sdca,
        created_at: at(get(row, "created_at")?),
    })
}

fn user_from(r: &AnyRow) -> Result<ClientUserRecord> {
    Ok(ClientUserRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        client_id: uuid(&get::<String>(r, "client_id")?)?,
        name: get(r, "name")?,
        email: get(r, "email")?,
        phone: get(r, "phone")?,
        is_onboarding_user: get::<i64>(r, "is_onboarding_user")? != 0,
        status: crate::people::status(&get::<String>(r, "status")?)?,
        last_sign_in_at: opt_at(get(r, "last_sign_in_at")?),
    })
}

impl Tx {
    pub async fn insert_client(&mut self, c: &ClientRecord, users: &[ClientUserRecord]) -> Result<()> {
        sqlx::query(
            "INSERT INTO clients (id, company_name, country, registration_number, support_email, details_json, api_key_hash, onboarding_completed_at, created_at,
             support_email_key, sdca_signer_name, sdca_signer_ip, sdca_signer_user_agent, sdca_version, sdca_signer_user_id, sdca_verified_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(c.id.to_string())
        .bind(&c.company_name)
        .bind(&c.country)
        .bind(c.registration_number.clone())
        .bind(c.support_email.clone())
        .bind(c.details.to_string())
        .bind(c.api_key_hash.clone())
        .bind(c.onboarding_completed_at.map(ms))
        .bind(ms(c.created_at))
        .bind(c.support_email.as_deref().map(str::to_lowercase))
        .bind(c.sdca.as_ref().map(|s| s.signer_name.clone()))
        .bind(c.sdca.as_ref().map(|s| s.ip.clone()))
        .bind(c.sdca.as_ref().map(|s| s.user_agent.clone()))
        .bind(c.sdca.as_ref().map(|s| s.version.clone()))
        .bind(c.sdca.as_ref().and_then(|s| s.signer_user_id).map(|u| u.to_string()))
        .bind(c.sdca.as_ref().and_then(|s| s.verified_by.clone()))
        .execute(self.conn())
        .await?;
        for u in users {
            sqlx::query(
                "INSERT INTO client_users (id, client_id, name, email, phone, is_onboarding_user, email_key, status, last_sign_in_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(u.id.to_string())
            .bind(c.id.to_string())
            .bind(&u.name)
            .bind(&u.email)
            .bind(u.phone.clone())
            .bind(u.is_onboarding_user as i64)
            .bind(u.email.to_lowercase())
            .bind(u.status.as_str())
            .bind(u.last_sign_in_at.map(ms))
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    pub async fn client(&mut self, id: Uuid) -> Result<Option<ClientRecord>> {
        let row = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(client_from).transpose()
    }

    pub async fn client_by_key_hash(&mut self, key_hash: &str) -> Result<Option<ClientRecord>> {
        let row = sqlx::query(&format!("SELECT {CLIENT_COLS} FROM clients WHERE api_key_hash = $1"))
            .bind(key_hash)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(client_from).transpose()
    }

    pub async fn client_users(&mut self, client_id: Uuid) -> Result<Vec<ClientUserRecord>> {
        let rows = sqlx::query(
            "SELECT id, client_id, name, email, phone, is_onboarding_user, status, last_sign_in_at FROM client_users WHERE client_id = $1 ORDER BY is_onboarding_user DESC, id",
        )
        .bind(client_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(user_from).collect()
    }

    /// Clients matching any of the e-mails (lower-cased; support e-mail or a user's) or the
    /// same registration number in the same country (SPEC §4.3).
    pub async fn matching_clients(&mut self, emails: &[String], registration: Option<(&str, &str)>) -> Result<Vec<ClientRecord>> {
        let mut ids: Vec<String> = Vec::new();
        for e in emails {
            let rows = sqlx::query(
                "SELECT id FROM clients WHERE support_email_key = $1
                 UNION SELECT client_id AS id FROM client_users WHERE email_key = $1",
            )
            .bind(e.to_lowercase())
            .fetch_all(self.conn())
            .await?;
            for r in rows {
                ids.push(get(&r, "id")?);
            }
        }
        if let Some((country, number)) = registration {
            let rows = sqlx::query("SELECT id FROM clients WHERE country = $1 AND registration_number = $2")
                .bind(country)
                .bind(number)
                .fetch_all(self.conn())
                .await?;
            for r in rows {
                ids.push(get(&r, "id")?);
            }
        }
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            if let Some(c) = self.client(uuid(&id)?).await? {
                out.push(c);
            }
        }
        out.sort_by_key(|c| (c.created_at, c.id));
        Ok(out)
    }

    /// Records the SDCA signature, completing onboarding.
    pub async fn complete_onboarding(&mut self, client_id: Uuid, sig: &SdcaSignature) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE clients SET onboarding_completed_at = $2, sdca_signer_name = $3, sdca_signer_ip = $4, sdca_signer_user_agent = $5, sdca_version = $6,
             sdca_signer_user_id = $7, sdca_verified_by = $8
             WHERE id = $1 AND onboarding_completed_at IS NULL",
        )
        .bind(client_id.to_string())
        .bind(ms(sig.signed_at))
        .bind(&sig.signer_name)
        .bind(&sig.ip)
        .bind(&sig.user_agent)
        .bind(&sig.version)
        .bind(sig.signer_user_id.map(|u| u.to_string()))
        .bind(sig.verified_by.clone())
        .execute(self.conn())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn set_client_api_key(&mut self, client_id: Uuid, key_hash: &str) -> Result<()> {
        sqlx::query("UPDATE clients SET api_key_hash = $2 WHERE id = $1")
            .bind(client_id.to_string())
            .bind(key_hash)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Removes a client and everything hanging off it (test-environment reset).
    pub async fn delete_client_cascade(&mut self, client_id: Uuid) -> Result<()> {
        let id = client_id.to_string();
        for sql in [
            "DELETE FROM earnings WHERE case_id IN (SELECT id FROM cases WHERE client_id = $1)",
            "DELETE FROM attribution_decisions WHERE payout_id IN (SELECT p.id FROM payouts p JOIN cases c ON c.id = p.case_id WHERE c.client_id = $1)",
            "DELETE FROM payouts WHERE case_id IN (SELECT id FROM cases WHERE client_id = $1)",
            "DELETE FROM payments WHERE case_id IN (SELECT id FROM cases WHERE client_id = $1)",
            "DELETE FROM cases WHERE client_id = $1",
            "DELETE FROM link_events WHERE link_id IN (SELECT id FROM links WHERE client_id = $1)",
            "DELETE FROM links WHERE client_id = $1",
            "DELETE FROM link_requests WHERE client_id = $1",
            "DELETE FROM client_users WHERE client_id = $1",
            "DELETE FROM clients WHERE id = $1",
        ] {
            sqlx::query(sql).bind(&id).execute(self.conn()).await?;
        }
        Ok(())
    }

    /// Clients of the cases with any of the partner's earnings.
    pub async fn clients_of_partner_earnings(&mut self, partner_id: Uuid) -> Result<Vec<ClientRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {CLIENT_COLS} FROM clients WHERE id IN \
             (SELECT c.client_id FROM cases c JOIN earnings e ON e.case_id = c.id WHERE e.partner_id = $1)"
        ))
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(client_from).collect()
    }

    /// Renames a client (the search index follows in the same transaction).
    pub async fn rename_client(&mut self, client_id: Uuid, company_name: &str) -> Result<()> {
        sqlx::query("UPDATE clients SET company_name = $2 WHERE id = $1")
            .bind(client_id.to_string())
            .bind(company_name)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// The clients of the partner's active links whose company name or external tenant id
    /// contains `query` (case-insensitive; indexed from three characters, see `search`).
    pub async fn partner_clients_matching(&mut self, partner_id: Uuid, query: &str) -> Result<Vec<Uuid>> {
        let (sql, args) = self.clients_matching_sql(partner_id, query);
        let mut q = sqlx::query(&sql);
        for a in &args {
            if let Arg::Text(s) = a {
                q = q.bind(s.clone());
            }
        }
        let rows = q.fetch_all(self.conn()).await?;
        rows.iter().map(|r| uuid(&get::<String>(r, "client_id")?)).collect()
    }

    /// The database's plan for [`Tx::partner_clients_matching`] (see `partner_cases_plan`).
    pub async fn partner_clients_matching_plan(&mut self, partner_id: Uuid, query: &str) -> Result<Vec<String>> {
        let (sql, args) = self.clients_matching_sql(partner_id, query);
        self.plan(&sql, &args).await
    }

    fn clients_matching_sql(&self, partner_id: Uuid, query: &str) -> (String, Vec<Arg>) {
        let (clause, binds) = Search::new(query).links_clause(self.backend, 2);
        let sql = format!(
            "SELECT l.client_id AS client_id FROM links l WHERE l.partner_id = $1 AND l.status = 'active' AND {clause} ORDER BY l.client_id"
        );
        let mut args = vec![Arg::Text(partner_id.to_string())];
        args.extend(binds.into_iter().map(Arg::Text));
        (sql, args)
    }
}
