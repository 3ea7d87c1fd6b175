//! Clients (creditors), their users, the existing-client match of SPEC §4.3, and the
//! partner's client list (filters and page in SQL, each page's rows in a fixed number of
//! queries).

use uuid::Uuid;

use std::collections::HashMap;

use crate::cases::{bind_all, Arg};
use crate::in_list::texts;
use crate::search::Search;
use crate::{at, get, ms, opt_at, uuid, ClientRecord, ClientUserRecord, Cols, PageReq, Result, SdcaSignature, StoreError, Tx};

pub(crate) const CLIENT_COLS: &str = "id, company_name, country, registration_number, support_email, details_json, api_key_hash, onboarding_completed_at, sdca_signer_name, sdca_signer_ip, sdca_signer_user_agent, sdca_version, sdca_signer_user_id, sdca_verified_by, created_at";

/// The columns [`user_from`] reads.
pub(crate) const USER_COLS: &str = "id, client_id, name, email, phone, is_onboarding_user, status, last_sign_in_at";

pub(crate) fn client_from<R: Cols + ?Sized>(row: &R) -> Result<ClientRecord> {
    let details: String = row.value("details_json")?;
    let completed = opt_at(row.value("onboarding_completed_at")?);
    let signer: Option<String> = row.value("sdca_signer_name")?;
    let sdca = match (signer, completed) {
        (Some(signer_name), Some(signed_at)) => Some(SdcaSignature {
            signer_name,
            signed_at,
            ip: row.value::<Option<String>>("sdca_signer_ip")?.unwrap_or_default(),
            user_agent: row.value::<Option<String>>("sdca_signer_user_agent")?.unwrap_or_default(),
            version: row.value::<Option<String>>("sdca_version")?.unwrap_or_default(),
            signer_user_id: row.value::<Option<String>>("sdca_signer_user_id")?.as_deref().map(uuid).transpose()?,
            verified_by: row.value("sdca_verified_by")?,
        }),
        _ => None,
    };
    Ok(ClientRecord {
        id: uuid(&row.value::<String>("id")?)?,
        company_name: row.value("company_name")?,
        country: row.value("country")?,
        registration_number: row.value("registration_number")?,
        support_email: row.value("support_email")?,
        details: serde_json::from_str(&details).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        api_key_hash: row.value("api_key_hash")?,
        onboarding_completed_at: completed,
        sdca,
        created_at: at(row.value("created_at")?),
    })
}

pub(crate) fn user_from<R: Cols + ?Sized>(r: &R) -> Result<ClientUserRecord> {
    Ok(ClientUserRecord {
        id: uuid(&r.value::<String>("id")?)?,
        client_id: uuid(&r.value::<String>("client_id")?)?,
        name: r.value("name")?,
        email: r.value("email")?,
        phone: r.value("phone")?,
        is_onboarding_user: r.value::<i64>("is_onboarding_user")? != 0,
        status: crate::people::status(&r.value::<String>("status")?)?,
        last_sign_in_at: opt_at(r.value("last_sign_in_at")?),
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
        let rows = sqlx::query(&format!("SELECT {USER_COLS} FROM client_users WHERE client_id = $1 ORDER BY is_onboarding_user DESC, id"))
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
        self.totals_before_delete("e.case_id IN (SELECT id FROM cases WHERE client_id = $1)", &id).await?;
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

/// Filters of the partner's client list (`GET /clients`): over the partner's active links.
#[derive(Debug, Clone, Default)]
pub struct PartnerClientFilter {
    /// The company name or the external tenant id contains it (case-insensitive, indexed
    /// from three characters, see `search`).
    pub query: Option<String>,
    pub external_tenant_id: Option<String>,
    pub is_attributed: Option<bool>,
    pub onboarding_done: Option<bool>,
    /// Bounds on the link's `linked_at` (inclusive).
    pub linked_from: Option<refshare_core::Instant>,
    pub linked_to: Option<refshare_core::Instant>,
}

/// Orders of the partner's client list. Ties keep the order of `linked_at`, then link id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientOrder {
    LinkedDesc,
    LinkedAsc,
    /// By the company name, lower-cased in Rust (Unicode), as the list always sorted.
    NameAsc,
    NameDesc,
}

/// The partner's totals over all its active links (the client list's summary).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PartnerClientTotals {
    pub clients: i64,
    pub attributed: i64,
    pub onboarding_complete: i64,
}

/// A partner's live earnings on one client's cases in US cents: each earning at its locked
/// rate, else at the current one, rounded on its own (as its reporting row shows it),
/// then summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClientEarningsUsd {
    /// US cents of the earnings that have a figure.
    pub usd_minor: i64,
    /// Earnings left out of `usd_minor` for want of a rate.
    pub usd_missing: i64,
}

pub(crate) const ACTIVE_LINKS: &str = "FROM links l JOIN clients cl ON cl.id = l.client_id WHERE l.partner_id = $1 AND l.status = 'active'";

impl Tx {
    /// The clients with these ids, by id (one query per `IN_CHUNK` ids).
    pub async fn clients_by_ids(&mut self, ids: &[Uuid]) -> Result<HashMap<Uuid, ClientRecord>> {
        let mut out = HashMap::new();
        for r in self.rows_in_one(&format!("SELECT {CLIENT_COLS} FROM clients WHERE id IN ({{in}})"), None, &texts(ids)).await? {
            let c = client_from(&r)?;
            out.insert(c.id, c);
        }
        Ok(out)
    }

    /// The users of these clients, per client in the order of [`Tx::client_users`].
    pub async fn client_users_of(&mut self, client_ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<ClientUserRecord>>> {
        let mut out: HashMap<Uuid, Vec<ClientUserRecord>> = HashMap::new();
        let sql =
            format!("SELECT {USER_COLS} FROM client_users WHERE client_id IN ({{in}}) ORDER BY client_id, is_onboarding_user DESC, id");
        for r in self.rows_in(&sql, None, &texts(client_ids)).await? {
            let u = user_from(&r)?;
            out.entry(u.client_id).or_default().push(u);
        }
        Ok(out)
    }

    /// Counts over all the partner's active links: clients, attributed, onboarded; one row
    /// of `partner_client_totals` (migration 0036).
    pub async fn partner_client_totals(&mut self, partner_id: Uuid) -> Result<PartnerClientTotals> {
        let row = sqlx::query("SELECT clients, attributed, onboarded FROM partner_client_totals WHERE partner_id = $1")
            .bind(partner_id.to_string())
            .fetch_optional(self.conn())
            .await?;
        Ok(match row {
            Some(r) => PartnerClientTotals {
                clients: get(&r, "clients")?,
                attributed: get(&r, "attributed")?,
                onboarding_complete: get(&r, "onboarded")?,
            },
            None => PartnerClientTotals { clients: 0, attributed: 0, onboarding_complete: 0 },
        })
    }

    /// The counts of [`Tx::partner_client_totals`] computed over the partner's active
    /// links: what the totals must equal, for tests and checks.
    pub async fn partner_client_totals_from_links(&mut self, partner_id: Uuid) -> Result<PartnerClientTotals> {
        let row = sqlx::query(&format!(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(l.is_attributed), 0) AS BIGINT) AS attributed, \
             CAST(COALESCE(SUM(CASE WHEN cl.onboarding_completed_at IS NULL THEN 0 ELSE 1 END), 0) AS BIGINT) AS onboarded {ACTIVE_LINKS}"
        ))
        .bind(partner_id.to_string())
        .fetch_one(self.conn())
        .await?;
        Ok(PartnerClientTotals {
            clients: get(&row, "n")?,
            attributed: get(&row, "attributed")?,
            onboarding_complete: get(&row, "onboarded")?,
        })
    }

    /// A page of the partner's active links matching `f`, in `order`: the links' ids and the
    /// number of all that match. Filters, the date orders and the page are SQL; the name
    /// orders sort the matching links' names in Rust (Unicode lower-casing, which SQLite's
    /// `lower()` lacks; one narrow row per client of the partner).
    pub async fn partner_client_page(
        &mut self,
        partner_id: Uuid,
        f: &PartnerClientFilter,
        order: ClientOrder,
        page: PageReq,
    ) -> Result<(Vec<Uuid>, i64)> {
        let (where_, args) = self.partner_client_where(partner_id, f);
        match order {
            ClientOrder::LinkedDesc | ClientOrder::LinkedAsc => {
                let dir = if order == ClientOrder::LinkedAsc { "ASC" } else { "DESC" };
                let count_sql = format!("SELECT COUNT(*) AS n {ACTIVE_LINKS} {where_}");
                let total: i64 = get(&bind_all(sqlx::query(&count_sql), &args).fetch_one(self.conn()).await?, "n")?;
                let list_sql = format!(
                    "SELECT l.id AS id {ACTIVE_LINKS} {where_} ORDER BY l.linked_at {dir}, l.id {dir} LIMIT {} OFFSET {}",
                    page.size,
                    page.offset()
                );
                let rows = bind_all(sqlx::query(&list_sql), &args).fetch_all(self.conn()).await?;
                Ok((rows.iter().map(|r| uuid(&get::<String>(r, "id")?)).collect::<Result<_>>()?, total))
            }
            ClientOrder::NameAsc | ClientOrder::NameDesc => {
                let sql = format!("SELECT l.id AS id, cl.company_name AS name {ACTIVE_LINKS} {where_} ORDER BY l.linked_at, l.id");
                let rows = bind_all(sqlx::query(&sql), &args).fetch_all(self.conn()).await?;
                let mut named = rows
                    .iter()
                    .map(|r| Ok((get::<String>(r, "name")?.to_lowercase(), uuid(&get::<String>(r, "id")?)?)))
                    .collect::<Result<Vec<_>>>()?;
                // Stable: equal names keep `linked_at`, link id order in both directions.
                if order == ClientOrder::NameAsc {
                    named.sort_by(|a, b| a.0.cmp(&b.0));
                } else {
                    named.sort_by(|a, b| b.0.cmp(&a.0));
                }
                let total = named.len() as i64;
                let ids = named.into_iter().skip(page.offset() as usize).take(page.size as usize).map(|(_, id)| id).collect();
                Ok((ids, total))
            }
        }
    }

    /// The database's plan for the date-ordered page of [`Tx::partner_client_page`].
    pub async fn partner_client_page_plan(&mut self, partner_id: Uuid, f: &PartnerClientFilter) -> Result<Vec<String>> {
        let (where_, args) = self.partner_client_where(partner_id, f);
        self.plan(&format!("SELECT l.id AS id {ACTIVE_LINKS} {where_} ORDER BY l.linked_at DESC, l.id DESC LIMIT 20"), &args).await
    }

    /// The extra `AND …` conditions of `f` on links `l` and clients `cl`, with the binds
    /// (`$1` is the partner).
    pub(crate) fn partner_client_where(&self, partner_id: Uuid, f: &PartnerClientFilter) -> (String, Vec<Arg>) {
        let mut args = vec![Arg::Text(partner_id.to_string())];
        let mut clauses = Vec::new();
        if let Some(t) = &f.external_tenant_id {
            args.push(Arg::Text(t.clone()));
            clauses.push(format!("l.external_tenant_id = ${}", args.len()));
        }
        if let Some(a) = f.is_attributed {
            clauses.push(format!("l.is_attributed = {}", a as i64));
        }
        if let Some(d) = f.onboarding_done {
            clauses.push(format!("cl.onboarding_completed_at IS {}NULL", if d { "NOT " } else { "" }));
        }
        if let Some(t) = f.linked_from {
            args.push(Arg::Int(ms(t)));
            clauses.push(format!("l.linked_at >= ${}", args.len()));
        }
        if let Some(t) = f.linked_to {
            args.push(Arg::Int(ms(t)));
            clauses.push(format!("l.linked_at <= ${}", args.len()));
        }
        if let Some(q) = &f.query {
            let (sql, binds) = Search::new(q).links_clause(self.backend, args.len() + 1);
            args.extend(binds.into_iter().map(Arg::Text));
            clauses.push(sql);
        }
        (clauses.iter().map(|c| format!(" AND {c}")).collect(), args)
    }
}
