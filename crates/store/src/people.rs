//! People (issue 8): partner users and operators. Client users live with their client
//! (`clients`). Every e-mail is stored as given and compared through `email_key`, its
//! Unicode lower-case form; a second person of the same kind and tenant with the same key
//! is a `Conflict` (unique indexes `partner_users_email`, `operators_email`).

use refshare_core::people::{OperatorRole, PartnerRole, PersonStatus};
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{at, get, ms, opt_at, uuid, OperatorRecord, PageReq, PartnerUserRecord, Result, StoreError, Tx};

const PARTNER_USER_COLS: &str = "id, partner_id, email, name, role, status, last_sign_in_at, created_at";
const OPERATOR_COLS: &str = "id, email, name, role, status, last_sign_in_at, created_at";

pub(crate) fn status(s: &str) -> Result<PersonStatus> {
    PersonStatus::parse(s).ok_or_else(|| StoreError::Corrupt(format!("person status {s}")))
}

fn partner_user_from(r: &AnyRow) -> Result<PartnerUserRecord> {
    let role: String = get(r, "role")?;
    Ok(PartnerUserRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        partner_id: uuid(&get::<String>(r, "partner_id")?)?,
        email: get(r, "email")?,
        name: get(r, "name")?,
        role: PartnerRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("partner user role {role}")))?,
        status: status(&get::<String>(r, "status")?)?,
        last_sign_in_at: opt_at(get(r, "last_sign_in_at")?),
        created_at: at(get(r, "created_at")?),
    })
}

fn operator_from(r: &AnyRow) -> Result<OperatorRecord> {
    let role: String = get(r, "role")?;
    Ok(OperatorRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        email: get(r, "email")?,
        name: get(r, "name")?,
        role: OperatorRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("operator role {role}")))?,
        status: status(&get::<String>(r, "status")?)?,
        last_sign_in_at: opt_at(get(r, "last_sign_in_at")?),
        created_at: at(get(r, "created_at")?),
    })
}

impl Tx {
    /// Adds a partner user; the same e-mail (any case) at the same partner is a `Conflict`.
    pub async fn insert_partner_user(&mut self, u: &PartnerUserRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO partner_users (id, partner_id, email, email_key, name, role, status, last_sign_in_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(u.id.to_string())
        .bind(u.partner_id.to_string())
        .bind(&u.email)
        .bind(u.email.to_lowercase())
        .bind(&u.name)
        .bind(u.role.as_str())
        .bind(u.status.as_str())
        .bind(u.last_sign_in_at.map(ms))
        .bind(ms(u.created_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The partner's user with this id (another partner's user is `None`).
    pub async fn partner_user(&mut self, partner_id: Uuid, id: Uuid) -> Result<Option<PartnerUserRecord>> {
        let row = sqlx::query(&format!("SELECT {PARTNER_USER_COLS} FROM partner_users WHERE id = $1 AND partner_id = $2"))
            .bind(id.to_string())
            .bind(partner_id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(partner_user_from).transpose()
    }

    /// One page of the partner's users, oldest first, and their total.
    pub async fn partner_users_page(&mut self, partner_id: Uuid, page: PageReq) -> Result<(Vec<PartnerUserRecord>, i64)> {
        let total: i64 = get(
            &sqlx::query("SELECT COUNT(*) AS n FROM partner_users WHERE partner_id = $1")
                .bind(partner_id.to_string())
                .fetch_one(self.conn())
                .await?,
            "n",
        )?;
        let rows = sqlx::query(&format!(
            "SELECT {PARTNER_USER_COLS} FROM partner_users WHERE partner_id = $1 ORDER BY created_at, id LIMIT {} OFFSET {}",
            page.size,
            page.offset()
        ))
        .bind(partner_id.to_string())
        .fetch_all(self.conn())
        .await?;
        Ok((rows.iter().map(partner_user_from).collect::<Result<_>>()?, total))
    }

    /// Removes the partner's user; false if the partner has no user with this id.
    pub async fn delete_partner_user(&mut self, partner_id: Uuid, id: Uuid) -> Result<bool> {
        let done = sqlx::query("DELETE FROM partner_users WHERE id = $1 AND partner_id = $2")
            .bind(id.to_string())
            .bind(partner_id.to_string())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Sets a partner user's role and status; false if the partner has no user with this id.
    pub async fn update_partner_user(&mut self, partner_id: Uuid, id: Uuid, role: PartnerRole, status: PersonStatus) -> Result<bool> {
        let done = sqlx::query("UPDATE partner_users SET role = $3, status = $4 WHERE id = $1 AND partner_id = $2")
            .bind(id.to_string())
            .bind(partner_id.to_string())
            .bind(role.as_str())
            .bind(status.as_str())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Adds an operator; an e-mail already used by an operator (any case) is a `Conflict`.
    pub async fn insert_operator(&mut self, o: &OperatorRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO operators (id, email, email_key, name, role, status, last_sign_in_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(o.id.to_string())
        .bind(&o.email)
        .bind(o.email.to_lowercase())
        .bind(&o.name)
        .bind(o.role.as_str())
        .bind(o.status.as_str())
        .bind(o.last_sign_in_at.map(ms))
        .bind(ms(o.created_at))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// The operator with this id.
    pub async fn operator(&mut self, id: Uuid) -> Result<Option<OperatorRecord>> {
        let row = sqlx::query(&format!("SELECT {OPERATOR_COLS} FROM operators WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(operator_from).transpose()
    }

    /// Sets an operator's role and status; false if there is no operator with this id.
    pub async fn update_operator(&mut self, id: Uuid, role: OperatorRole, status: PersonStatus) -> Result<bool> {
        let done = sqlx::query("UPDATE operators SET role = $2, status = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(role.as_str())
            .bind(status.as_str())
            .execute(self.conn())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The operator with this e-mail, compared case-insensitively.
    pub async fn operator_by_email(&mut self, email: &str) -> Result<Option<OperatorRecord>> {
        let row = sqlx::query(&format!("SELECT {OPERATOR_COLS} FROM operators WHERE email_key = $1"))
            .bind(email.to_lowercase())
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(operator_from).transpose()
    }

    /// One page of operators, oldest first, and their total.
    pub async fn operators_page(&mut self, page: PageReq) -> Result<(Vec<OperatorRecord>, i64)> {
        let total: i64 = get(&sqlx::query("SELECT COUNT(*) AS n FROM operators").fetch_one(self.conn()).await?, "n")?;
        let rows = sqlx::query(&format!(
            "SELECT {OPERATOR_COLS} FROM operators ORDER BY created_at, id LIMIT {} OFFSET {}",
            page.size,
            page.offset()
        ))
        .fetch_all(self.conn())
        .await?;
        Ok((rows.iter().map(operator_from).collect::<Result<_>>()?, total))
    }
}
