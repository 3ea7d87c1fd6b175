//! Passwordless sign-in: the requests counted by the rate limits, the single-use sign-in
//! secrets (stored only as hashes), server-side sessions (keyed by the hash of the
//! cookie's id) with the account chosen in them, and the accounts an e-mail address signs
//! in to: client users, partner users and operators that are not `disabled`.

use refshare_core::people::{OperatorRole, PartnerRole};
use refshare_core::Instant;
use sqlx::any::AnyRow;
use uuid::Uuid;

use crate::{at, get, ms, opt_at, opt_uuid, uuid, Result, StoreError, Tx};

/// A sign-in secret sent by mail: the link's secret and the code, both as SHA-256 hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninTokenRecord {
    pub id: Uuid,
    pub email: String,
    /// The lower-cased address the limits and look-ups use.
    pub email_key: String,
    pub secret_hash: String,
    pub code_hash: String,
    pub created_at: Instant,
    pub expires_at: Instant,
    pub used_at: Option<Instant>,
    /// Wrong codes entered for this address while the secret was live.
    pub failed_codes: i64,
    /// Where the browser goes after signing in with this secret: a path the server chose
    /// (a consent page), never one a browser sent.
    pub return_to: Option<String>,
}

/// A server-side session; the cookie holds the random id, the table only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id_hash: String,
    /// The address the person proved they read.
    pub email: String,
    pub email_key: String,
    /// `link` or `code`.
    pub verified_by: String,
    pub created_at: Instant,
    pub last_seen_at: Instant,
    pub revoked_at: Option<Instant>,
    /// The account the person chose to act as (`client_user`, `partner_user`,
    /// `operator`) and its id; both `None` until one is chosen.
    pub account_kind: Option<String>,
    pub account_id: Option<Uuid>,
}

/// A client user an address signs in as, with the client's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientUserAccount {
    pub user_id: Uuid,
    pub client_id: Uuid,
    pub user_name: String,
    pub company_name: String,
}

/// A partner user an address signs in as, with the partner's name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerUserAccount {
    pub user_id: Uuid,
    pub partner_id: Uuid,
    pub user_name: String,
    pub partner_name: String,
    pub role: PartnerRole,
}

/// The operator an address signs in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAccount {
    pub operator_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: OperatorRole,
}

const TOKEN_COLS: &str = "id, email, email_key, secret_hash, code_hash, created_at, expires_at, used_at, failed_codes, return_to";
const SESSION_COLS: &str = "id_hash, email, email_key, verified_by, created_at, last_seen_at, revoked_at, account_kind, account_id";

fn token_from(r: &AnyRow) -> Result<SigninTokenRecord> {
    Ok(SigninTokenRecord {
        id: uuid(&get::<String>(r, "id")?)?,
        email: get(r, "email")?,
        email_key: get(r, "email_key")?,
        secret_hash: get(r, "secret_hash")?,
        code_hash: get(r, "code_hash")?,
        created_at: at(get(r, "created_at")?),
        expires_at: at(get(r, "expires_at")?),
        used_at: opt_at(get(r, "used_at")?),
        failed_codes: get(r, "failed_codes")?,
        return_to: get(r, "return_to")?,
    })
}

fn session_from(r: &AnyRow) -> Result<SessionRecord> {
    Ok(SessionRecord {
        id_hash: get(r, "id_hash")?,
        email: get(r, "email")?,
        email_key: get(r, "email_key")?,
        verified_by: get(r, "verified_by")?,
        created_at: at(get(r, "created_at")?),
        last_seen_at: at(get(r, "last_seen_at")?),
        revoked_at: opt_at(get(r, "revoked_at")?),
        account_kind: get(r, "account_kind")?,
        account_id: opt_uuid(get(r, "account_id")?)?,
    })
}

impl Tx {
    /// Records one sign-in request (counted by the rate limits).
    pub async fn insert_signin_request(&mut self, email_key: &str, ip: &str, now: Instant) -> Result<()> {
        sqlx::query("INSERT INTO signin_requests (id, email_key, ip, at) VALUES ($1, $2, $3, $4)")
            .bind(Uuid::new_v4().to_string())
            .bind(email_key)
            .bind(ip)
            .bind(ms(now))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Sign-in requests for the address at or after `since`.
    pub async fn signin_requests_for_email(&mut self, email_key: &str, since: Instant) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM signin_requests WHERE email_key = $1 AND at >= $2")
            .bind(email_key)
            .bind(ms(since))
            .fetch_one(self.conn())
            .await?;
        get(&r, "n")
    }

    /// Sign-in requests from the IP address at or after `since`.
    pub async fn signin_requests_from_ip(&mut self, ip: &str, since: Instant) -> Result<i64> {
        let r = sqlx::query("SELECT COUNT(*) AS n FROM signin_requests WHERE ip = $1 AND at >= $2")
            .bind(ip)
            .bind(ms(since))
            .fetch_one(self.conn())
            .await?;
        get(&r, "n")
    }

    pub async fn insert_signin_token(&mut self, t: &SigninTokenRecord) -> Result<()> {
        sqlx::query(&format!("INSERT INTO signin_tokens ({TOKEN_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"))
            .bind(t.id.to_string())
            .bind(&t.email)
            .bind(&t.email_key)
            .bind(&t.secret_hash)
            .bind(&t.code_hash)
            .bind(ms(t.created_at))
            .bind(ms(t.expires_at))
            .bind(t.used_at.map(ms))
            .bind(t.failed_codes)
            .bind(t.return_to.clone())
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn signin_token_by_secret_hash(&mut self, secret_hash: &str) -> Result<Option<SigninTokenRecord>> {
        let row = sqlx::query(&format!("SELECT {TOKEN_COLS} FROM signin_tokens WHERE secret_hash = $1"))
            .bind(secret_hash)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(token_from).transpose()
    }

    /// The address's sign-in secrets that are unused and unexpired at `now`, newest first.
    pub async fn live_signin_tokens(&mut self, email_key: &str, now: Instant) -> Result<Vec<SigninTokenRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLS} FROM signin_tokens WHERE email_key = $1 AND used_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, id"
        ))
        .bind(email_key)
        .bind(ms(now))
        .fetch_all(self.conn())
        .await?;
        rows.iter().map(token_from).collect()
    }

    /// Marks a live secret used; `false` when it was used (or expired) already, so two
    /// requests racing with one secret create one session.
    pub async fn use_signin_token(&mut self, id: Uuid, now: Instant) -> Result<bool> {
        let r = sqlx::query("UPDATE signin_tokens SET used_at = $2 WHERE id = $1 AND used_at IS NULL AND expires_at > $2")
            .bind(id.to_string())
            .bind(ms(now))
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Counts a wrong code against every live secret of the address.
    pub async fn count_failed_signin_code(&mut self, email_key: &str, now: Instant) -> Result<()> {
        sqlx::query(
            "UPDATE signin_tokens SET failed_codes = failed_codes + 1 WHERE email_key = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(email_key)
        .bind(ms(now))
        .execute(self.conn())
        .await?;
        Ok(())
    }

    pub async fn insert_session(&mut self, s: &SessionRecord) -> Result<()> {
        sqlx::query(&format!("INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"))
            .bind(&s.id_hash)
            .bind(&s.email)
            .bind(&s.email_key)
            .bind(&s.verified_by)
            .bind(ms(s.created_at))
            .bind(ms(s.last_seen_at))
            .bind(s.revoked_at.map(ms))
            .bind(&s.account_kind)
            .bind(s.account_id.map(|id| id.to_string()))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    pub async fn session(&mut self, id_hash: &str) -> Result<Option<SessionRecord>> {
        let row = sqlx::query(&format!("SELECT {SESSION_COLS} FROM sessions WHERE id_hash = $1"))
            .bind(id_hash)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref().map(session_from).transpose()
    }

    /// Moves a live session's last use to `now`.
    pub async fn touch_session(&mut self, id_hash: &str, now: Instant) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL")
            .bind(id_hash)
            .bind(ms(now))
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Records the account a live session acts as (`kind` and `id`); `false` when the
    /// session is revoked or unknown.
    pub async fn choose_session_account(&mut self, id_hash: &str, kind: &str, id: Uuid) -> Result<bool> {
        let r = sqlx::query("UPDATE sessions SET account_kind = $2, account_id = $3 WHERE id_hash = $1 AND revoked_at IS NULL")
            .bind(id_hash)
            .bind(kind)
            .bind(id.to_string())
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Revokes a session; `false` when it was revoked already or never existed.
    pub async fn revoke_session(&mut self, id_hash: &str, now: Instant) -> Result<bool> {
        let r = sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id_hash = $1 AND revoked_at IS NULL")
            .bind(id_hash)
            .bind(ms(now))
            .execute(self.conn())
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Deletes what no rule reads any more: requests, secrets (expired) and sessions
    /// (created) before `before`. Returns the rows deleted.
    pub async fn prune_signin(&mut self, before: Instant) -> Result<u64> {
        let mut n = 0;
        for sql in [
            "DELETE FROM signin_requests WHERE at < $1",
            "DELETE FROM signin_tokens WHERE expires_at < $1",
            "DELETE FROM sessions WHERE created_at < $1",
        ] {
            n += sqlx::query(sql).bind(ms(before)).execute(self.conn()).await?.rows_affected();
        }
        Ok(n)
    }

    /// Records a sign-in of this address: its client users, partner users and operators
    /// that are not `disabled` become `active`, with `last_sign_in_at` = `at`. Returns how
    /// many accounts.
    pub async fn record_sign_in(&mut self, email_key: &str, at: Instant) -> Result<u64> {
        let mut n = 0;
        for table in ["client_users", "partner_users", "operators"] {
            let sql = format!("UPDATE {table} SET status = 'active', last_sign_in_at = $2 WHERE email_key = $1 AND status <> 'disabled'");
            n += sqlx::query(&sql).bind(email_key).bind(ms(at)).execute(self.conn()).await?.rows_affected();
        }
        Ok(n)
    }

    /// The client users with this (lower-cased) e-mail address that may sign in (not
    /// `disabled`), with their clients' names.
    pub async fn client_user_accounts(&mut self, email_key: &str) -> Result<Vec<ClientUserAccount>> {
        let rows = sqlx::query(
            "SELECT u.id, u.client_id, u.name, c.company_name FROM client_users u JOIN clients c ON c.id = u.client_id \
             WHERE u.email_key = $1 AND u.status <> 'disabled' ORDER BY c.company_name, u.id",
        )
        .bind(email_key)
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ClientUserAccount {
                    user_id: uuid(&get::<String>(r, "id")?)?,
                    client_id: uuid(&get::<String>(r, "client_id")?)?,
                    user_name: get(r, "name")?,
                    company_name: get(r, "company_name")?,
                })
            })
            .collect()
    }

    /// The partner users with this (lower-cased) e-mail address that may sign in (not
    /// `disabled`), with their partners' names.
    pub async fn partner_user_accounts(&mut self, email_key: &str) -> Result<Vec<PartnerUserAccount>> {
        let rows = sqlx::query(
            "SELECT u.id, u.partner_id, u.name, u.role, p.company_name FROM partner_users u JOIN partners p ON p.id = u.partner_id \
             WHERE u.email_key = $1 AND u.status <> 'disabled' ORDER BY p.company_name, u.id",
        )
        .bind(email_key)
        .fetch_all(self.conn())
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = get(r, "role")?;
                Ok(PartnerUserAccount {
                    user_id: uuid(&get::<String>(r, "id")?)?,
                    partner_id: uuid(&get::<String>(r, "partner_id")?)?,
                    user_name: get(r, "name")?,
                    partner_name: get(r, "company_name")?,
                    role: PartnerRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("partner user role {role}")))?,
                })
            })
            .collect()
    }

    /// The operator with this (lower-cased) e-mail address, if it may sign in (not
    /// `disabled`).
    pub async fn operator_account(&mut self, email_key: &str) -> Result<Option<OperatorAccount>> {
        let row = sqlx::query("SELECT id, email, name, role FROM operators WHERE email_key = $1 AND status <> 'disabled'")
            .bind(email_key)
            .fetch_optional(self.conn())
            .await?;
        row.as_ref()
            .map(|r| {
                let role: String = get(r, "role")?;
                Ok(OperatorAccount {
                    operator_id: uuid(&get::<String>(r, "id")?)?,
                    email: get(r, "email")?,
                    name: get(r, "name")?,
                    role: OperatorRole::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("operator role {role}")))?,
                })
            })
            .transpose()
    }
}
