//! Credentials: API keys (random, shown once, stored as SHA-256), the operator token,
//! per-client bearer tokens (JWT HS256, 30 minutes, checked against our clock), and the
//! approval tokens of link requests (derived from the request id, so a re-used pending
//! request hands out the same URL without storing the token).
//!
//! The Operator API takes the operator token (full rights) or the session of a signed-in
//! operator ([`OperatorPrincipal`]); a `viewer` may only read ([`App::authorize_operator`]).
//!
//! A bearer token names the link and the partner API key it was minted through, and how
//! many status events the link had then. It is refused once the key is revoked or the
//! link's history moved on (archived, even if unarchived later, or deleted): it dies for
//! good, and only a token minted afterwards works.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use refshare_core::link::{Link, LinkStatus};
use refshare_store::{ClientRecord, OperatorAccount, PartnerRecord};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::signin::Account;
use crate::{actor, App, AppError, InternalError, PeopleError};

/// What a `/metrics` scrape may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsAccess {
    /// Totals over all partners only.
    Totals,
    /// Also per-partner (per-tenant) figures: the configured metrics token was presented.
    PerTenant,
}

/// Lifetime of a partner-minted client token.
pub const TOKEN_TTL_SECONDS: i64 = 1800;

/// SHA-256 of a secret, hex encoded.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// A new random API key with the given prefix (`rsp` partner, `rsc` client).
pub fn new_api_key(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    format!("{prefix}_{}", hex::encode(bytes))
}

/// Compares two hex digests in constant time.
fn digest_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Claims of a client bearer token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenClaims {
    /// The client (creditor) id.
    pub sub: String,
    /// The partner that minted it.
    pub partner: String,
    /// The link it was minted through.
    pub link: String,
    /// How many status events the link had at minting; any later event kills the token.
    pub link_seq: u64,
    /// The id of the partner API key it was minted with; revoking the key kills the token.
    pub api_key: String,
    pub tid: String,
    pub iat: i64,
    pub exp: i64,
}

/// Who is calling the Customer API.
#[derive(Debug, Clone)]
pub enum CustomerPrincipal {
    /// The client's own key.
    ClientKey { client: ClientRecord },
    /// A token minted by a partner for this client.
    PartnerToken { client: ClientRecord, partner_id: Uuid, link_id: Uuid },
}

impl CustomerPrincipal {
    pub fn client(&self) -> &ClientRecord {
        match self {
            CustomerPrincipal::ClientKey { client } | CustomerPrincipal::PartnerToken { client, .. } => client,
        }
    }
}

/// Who is calling the Operator API.
#[derive(Debug, Clone)]
pub enum OperatorPrincipal {
    /// The operator token (`REFSHARE_ADMIN_TOKEN`): every right, audited as `operator`.
    Token,
    /// A signed-in operator: the session acts as this operator.
    Session(OperatorAccount),
}

impl OperatorPrincipal {
    /// The audit log's actor for what this caller changes.
    pub fn actor(&self) -> String {
        match self {
            OperatorPrincipal::Token => actor::OPERATOR.to_string(),
            OperatorPrincipal::Session(o) => actor::operator_session(o.operator_id, &o.email),
        }
    }
}

impl App {
    /// The operator a session acts as (its chosen account, or its only one), or 401: no
    /// live session, another account chosen, or the operator disabled or removed.
    pub async fn authenticate_operator_session(&self, cookie_value: &str) -> Result<OperatorPrincipal, AppError> {
        match self.session(cookie_value).await?.and_then(|s| s.chosen) {
            Some(Account::Operator(o)) => Ok(OperatorPrincipal::Session(o)),
            _ => Err(AppError::Unauthorized),
        }
    }

    /// Whether the caller may do a request that reads only (`changes` false) or may
    /// change something: the token and an `admin` may; a `viewer` only reads.
    pub fn authorize_operator(&self, who: &OperatorPrincipal, changes: bool) -> Result<(), AppError> {
        match who {
            OperatorPrincipal::Session(o) if changes && !o.role.may_change() => {
                Err(PeopleError::OperatorMayNotChange { role: o.role }.into())
            }
            _ => Ok(()),
        }
    }

    /// The partner owning an unrevoked key, or 401.
    pub async fn authenticate_partner(&self, api_key: &str) -> Result<PartnerRecord, AppError> {
        Ok(self.authenticate_partner_key(api_key).await?.0)
    }

    /// The partner owning an unrevoked key and the key's id, or 401.
    /// One statement, outside a transaction (`Store::read_statement`).
    pub async fn authenticate_partner_key(&self, api_key: &str) -> Result<(PartnerRecord, Uuid), AppError> {
        let mut tx = self.store.read_statement().await?;
        tx.partner_key_by_hash(&hash_secret(api_key.trim())).await?.ok_or(AppError::Unauthorized)
    }

    /// Checks the operator token.
    pub fn authenticate_operator(&self, token: &str) -> Result<(), AppError> {
        if digest_eq(&hash_secret(token.trim()), &self.config.admin_token_hash) {
            Ok(())
        } else {
            Err(AppError::Unauthorized)
        }
    }

    /// Who may scrape `/metrics`, and what they see: with a token configured, only its
    /// bearer, who also sees per-partner figures; without one, nobody in `production` (the
    /// endpoint is not there) and anyone in `test`, who sees totals only.
    pub fn authenticate_metrics(&self, bearer: Option<&str>) -> Result<MetricsAccess, AppError> {
        match (&self.config.metrics_token_hash, bearer) {
            (None, _) if self.config.environment == crate::Environment::Production => Err(AppError::NotFound("endpoint")),
            (None, _) => Ok(MetricsAccess::Totals),
            (Some(hash), Some(token)) if digest_eq(&hash_secret(token.trim()), hash) => Ok(MetricsAccess::PerTenant),
            _ => Err(AppError::Unauthorized),
        }
    }

    /// Resolves a client key or a bearer token to the calling client.
    pub async fn authenticate_customer(&self, api_key: Option<&str>, bearer: Option<&str>) -> Result<CustomerPrincipal, AppError> {
        let mut tx = self.store.read().await?;
        if let Some(key) = api_key {
            let client = tx.client_by_key_hash(&hash_secret(key.trim())).await?.ok_or(AppError::Unauthorized)?;
            return Ok(CustomerPrincipal::ClientKey { client });
        }
        let token = bearer.ok_or(AppError::Unauthorized)?;
        let claims = self.verify_token(token)?;
        let link_id = Uuid::parse_str(&claims.link).map_err(|_| AppError::Unauthorized)?;
        let key_id = Uuid::parse_str(&claims.api_key).map_err(|_| AppError::Unauthorized)?;
        let link = tx.link(link_id).await?.ok_or(AppError::Unauthorized)?;
        // A token dies with its link for good: any status change since minting (an archive,
        // even one undone since) leaves the history longer than the token remembers.
        if link.current_status() != LinkStatus::Active
            || link.history.len() as u64 != claims.link_seq
            || link.client_id.to_string() != claims.sub
            || link.partner_id.to_string() != claims.partner
        {
            return Err(AppError::Unauthorized);
        }
        // ... and with the partner key it was minted with.
        if !tx.api_key_is_live(link.partner_id, key_id).await? {
            return Err(AppError::Unauthorized);
        }
        let client = tx.client(link.client_id).await?.ok_or(AppError::Unauthorized)?;
        Ok(CustomerPrincipal::PartnerToken { client, partner_id: link.partner_id, link_id })
    }

    /// A token for the client of an active `link`, minted with the partner key `key_id`.
    pub(crate) fn mint_token(&self, link: &Link, key_id: Uuid, tenant: &str) -> Result<String, AppError> {
        let now = self.now().timestamp();
        let claims = TokenClaims {
            sub: link.client_id.to_string(),
            partner: link.partner_id.to_string(),
            link: link.id.to_string(),
            link_seq: link.history.len() as u64,
            api_key: key_id.to_string(),
            tid: tenant.to_string(),
            iat: now,
            exp: now + TOKEN_TTL_SECONDS,
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(self.secret()))
            .map_err(|e| AppError::Internal(InternalError::caused_by("token encoding", e)))
    }

    fn verify_token(&self, token: &str) -> Result<TokenClaims, AppError> {
        let mut v = Validation::new(Algorithm::HS256);
        // Expiry is checked against our clock below, not the machine's.
        v.validate_exp = false;
        v.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<TokenClaims>(token.trim(), &DecodingKey::from_secret(self.secret()), &v)
            .map_err(|_| AppError::Unauthorized)?;
        if data.claims.exp <= self.now().timestamp() {
            return Err(AppError::Unauthorized);
        }
        Ok(data.claims)
    }

    /// The approval token of a link request.
    pub(crate) fn approval_token(&self, request_id: Uuid) -> String {
        let mut h = Sha256::new();
        h.update(self.secret());
        h.update(b"link-request:");
        h.update(request_id.as_bytes());
        hex::encode(h.finalize())
    }
}
