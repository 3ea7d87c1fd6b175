//! Passwordless sign-in by e-mail and server-side sessions (issue 8).
//!
//! - **Request** ([`App::request_signin`]): every request is recorded; beyond
//!   `REFSHARE_SIGNIN_PER_IP_PER_MINUTE` from one IP it is refused
//!   ([`SigninError::TooManyRequests`]). Otherwise the caller always gets the same answer:
//!   a mail is queued only when the address belongs to an account ([`accounts_for_email`])
//!   and fewer than [`MAILS_PER_ADDRESS`] requests for it came in the last
//!   [`ADDRESS_WINDOW_MINUTES`] minutes.
//! - **The mail** carries a link with a random secret and a [`CODE_DIGITS`]-digit code, one
//!   sign-in valid [`LINK_TTL_MINUTES`] minutes by the Clock. Only the link secret's SHA-256
//!   and the code's HMAC (keyed with the server secret, bound to the address) are stored.
//!   A code is accepted only with its address, and only while fewer than
//!   [`MAX_FAILED_CODES`] wrong codes were entered for it.
//! - **Signing in** ([`App::signin_with_link`], [`App::signin_with_code`]) uses the secret
//!   once (a conditional UPDATE, so a race signs in once) and creates a session: a random
//!   id for the cookie, its SHA-256 in the table.
//! - **Sessions** ([`App::session`]) end after [`IDLE_TIMEOUT_MINUTES`] without use,
//!   [`ABSOLUTE_LIFETIME_HOURS`] after sign-in, or at logout ([`App::logout`]). A use is
//!   recorded at most once per [`TOUCH_AFTER_SECONDS`]; a page view is otherwise a read.
//! - **CSRF** ([`App::form_token`]): a form token is an HMAC of the server secret over a
//!   binding (the session's id hash, or before sign-in the browser's random pre-session
//!   cookie) and the form's path.
//!
//! - **Scoped sign-in** ([`App::request_signin_scoped`]): a consent page asks for a mail
//!   only for the users of its client, and the secret's row keeps a return-to path the
//!   server chose (the page), where the browser goes after the confirm POST or the code.
//!   A **personal link** ([`App::personal_signin_link`]) is such a secret minted for one
//!   client user and put into the approval request or onboarding invitation mail.
//!
//! A session proves an e-mail address; what it may reach is looked up on each use
//! ([`accounts_for_email`]): the client users, partner users and operators with that
//! address that are not `disabled`. The person chooses one to act as
//! ([`App::choose_account`]; with exactly one it is chosen at sign-in); each use of the
//! session checks the choice again ([`Session::chosen`]), so a disabled or removed account
//! stops being chosen at once.

use chrono::Duration;
use hmac::{Hmac, Mac};
use rand::Rng;
use refshare_core::people::PartnerPermission;
use refshare_store::{ClientUserAccount, OperatorAccount, PartnerUserAccount, SessionRecord, SigninTokenRecord, Tx};
use sha2::Sha256;
use uuid::Uuid;

use crate::auth::hash_secret;
use crate::{notify, App, AppError, PeopleError, SigninError};

pub const DEFAULT_PER_IP_PER_MINUTE: u32 = 60;
/// Validity of a sign-in link and its code.
pub const LINK_TTL_MINUTES: i64 = 15;
/// Sign-in requests per address per window; further ones send nothing.
pub const MAILS_PER_ADDRESS: i64 = 5;
pub const ADDRESS_WINDOW_MINUTES: i64 = 15;
pub const IDLE_TIMEOUT_MINUTES: i64 = 30;
pub const ABSOLUTE_LIFETIME_HOURS: i64 = 12;
/// A session's last use is recorded again only once it is this old: the idle timeout is
/// exact to within this much.
pub const TOUCH_AFTER_SECONDS: i64 = 60;
/// Sign-in rows are deleted this long after they stopped mattering (at each request).
pub const PRUNE_AFTER_HOURS: i64 = 24;
/// Digits of the code in the mail.
pub const CODE_DIGITS: usize = 8;
/// Wrong codes that make an address's live sign-in secrets unusable.
pub const MAX_FAILED_CODES: i64 = 5;
/// The notification kind of a sign-in mail.
pub const MAIL_KIND: &str = "sign_in";
/// How long a demo's printed sign-in link works (`App::demo_signin_link`).
pub const DEMO_LINK_TTL_HOURS: i64 = 12;
/// Longest e-mail address accepted (RFC 5321 path limit).
const MAX_EMAIL_LEN: usize = 254;
/// Validity of the personal sign-in link in an onboarding invitation (an approval
/// request's link lives as long as the request).
pub const INVITATION_LINK_TTL_DAYS: i64 = 14;
/// The stored code hash of a personal link: it has no code, and no code's HMAC is empty.
const NO_CODE: &str = "";

/// A sign-in asked for from a client's consent page: a mail only for that client's users,
/// and back to the page afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigninScope {
    pub client_id: Uuid,
    /// A path on this server (`/link-requests/…`, `/onboarding/…`), built by the server.
    pub return_to: String,
}

/// Somewhere a signed-in person can go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// A user of a client (creditor).
    ClientUser(ClientUserAccount),
    /// A user of a referral partner, with the role there.
    PartnerUser(PartnerUserAccount),
    /// Platform staff, with the operator role.
    Operator(OperatorAccount),
}

/// The kinds of [`Account`], as stored on a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    ClientUser,
    PartnerUser,
    Operator,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::ClientUser => "client_user",
            AccountKind::PartnerUser => "partner_user",
            AccountKind::Operator => "operator",
        }
    }

    pub fn parse(s: &str) -> Option<AccountKind> {
        [AccountKind::ClientUser, AccountKind::PartnerUser, AccountKind::Operator].into_iter().find(|k| k.as_str() == s)
    }
}

impl Account {
    pub fn kind(&self) -> AccountKind {
        match self {
            Account::ClientUser(_) => AccountKind::ClientUser,
            Account::PartnerUser(_) => AccountKind::PartnerUser,
            Account::Operator(_) => AccountKind::Operator,
        }
    }

    /// The id of the user (client or partner) or operator.
    pub fn id(&self) -> Uuid {
        match self {
            Account::ClientUser(u) => u.user_id,
            Account::PartnerUser(u) => u.user_id,
            Account::Operator(o) => o.operator_id,
        }
    }

    fn is(&self, kind: &str, id: Uuid) -> bool {
        self.kind().as_str() == kind && self.id() == id
    }
}

/// The account a session acts as: the one stored on it while it is still among the
/// address's accounts, else the only account if there is exactly one.
fn chosen(record: &SessionRecord, accounts: &[Account]) -> Option<Account> {
    if let (Some(kind), Some(id)) = (record.account_kind.as_deref(), record.account_id) {
        if let Some(a) = accounts.iter().find(|a| a.is(kind, id)) {
            return Some(a.clone());
        }
    }
    match accounts {
        [only] => Some(only.clone()),
        _ => None,
    }
}

impl Account {
    /// This account as a user of `client_id`, if it is one.
    pub fn client_user_of(&self, client_id: Uuid) -> Option<&ClientUserAccount> {
        match self {
            Account::ClientUser(u) if u.client_id == client_id => Some(u),
            _ => None,
        }
    }
}

/// How a session's address was proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Link,
    Code,
}

impl Verification {
    pub fn as_str(self) -> &'static str {
        match self {
            Verification::Link => "link",
            Verification::Code => "code",
        }
    }
}

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub record: SessionRecord,
    /// The account it acts as, checked when the session was read: `None` when none is
    /// chosen or the chosen one is disabled or gone (and not exactly one is left).
    pub chosen: Option<Account>,
}

impl Session {
    pub fn email(&self) -> &str {
        &self.record.email
    }

    /// What the session's CSRF tokens are bound to.
    pub fn csrf_binding(&self) -> &str {
        &self.record.id_hash
    }
}

/// A session just created, with the cookie value that names it (never stored).
#[derive(Debug, Clone)]
pub struct NewSession {
    pub cookie_value: String,
    pub session: Session,
    /// The server-side path the sign-in secret was minted for (a consent page), if any.
    pub return_to: Option<String>,
}

/// The key an address is looked up and counted by.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Every account the address signs in to: its client users, partner users and operator,
/// none `disabled`. The one place that says who may sign in.
pub async fn accounts_for_email(tx: &mut Tx, email_key: &str) -> Result<Vec<Account>, AppError> {
    let mut all: Vec<Account> = tx.client_user_accounts(email_key).await?.into_iter().map(Account::ClientUser).collect();
    all.extend(tx.partner_user_accounts(email_key).await?.into_iter().map(Account::PartnerUser));
    all.extend(tx.operator_account(email_key).await?.map(Account::Operator));
    Ok(all)
}

/// A new random value for a cookie (session id, pre-session binding): 32 bytes, hex.
pub fn random_id() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// The user of `client_id` the address signs in as, if any (not `disabled`).
pub async fn client_user_for_email(tx: &mut Tx, email_key: &str, client_id: Uuid) -> Result<Option<ClientUserAccount>, AppError> {
    Ok(accounts_for_email(tx, email_key).await?.iter().find_map(|a| a.client_user_of(client_id).cloned()))
}

/// A return-to path is a path on this server: one leading `/`, no scheme or host.
fn local_path(p: &str) -> bool {
    p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn valid_email(email: &str) -> bool {
    let e = email.trim();
    let Some((local, domain)) = e.split_once('@') else { return false };
    e.len() <= MAX_EMAIL_LEN && !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !e.chars().any(char::is_whitespace)
}

impl App {
    fn hmac_hex(&self, parts: &[&str]) -> String {
        let mut m = Hmac::<Sha256>::new_from_slice(self.secret()).expect("HMAC takes any key length");
        for p in parts {
            m.update(p.as_bytes());
            m.update(b"\n");
        }
        hex::encode(m.finalize().into_bytes())
    }

    fn code_hash(&self, email_key: &str, code: &str) -> String {
        self.hmac_hex(&["signin-code", email_key, code])
    }

    /// The CSRF token of the form posting to `path`, bound to `binding` (a session's id
    /// hash, or the pre-session cookie).
    pub fn form_token(&self, binding: &str, path: &str) -> String {
        self.hmac_hex(&["csrf", binding, path])[..32].to_string()
    }

    /// Refuses a form whose token is missing or not the one of `binding` and `path`.
    pub fn check_form_token(&self, binding: Option<&str>, path: &str, submitted: &str) -> Result<(), AppError> {
        use sha2::Digest;
        let Some(binding) = binding.filter(|b| !b.is_empty()) else { return Err(SigninError::CsrfRefused.into()) };
        // Compared as digests, so the comparison's time says nothing about the token.
        let (a, b) = (Sha256::digest(self.form_token(binding, path).as_bytes()), Sha256::digest(submitted.as_bytes()));
        if a == b {
            Ok(())
        } else {
            Err(SigninError::CsrfRefused.into())
        }
    }

    /// `POST /login`: see the module header. `Ok` says nothing about the address.
    pub async fn request_signin(&self, email: &str, ip: &str) -> Result<(), AppError> {
        self.request_signin_scoped(email, ip, None).await
    }

    /// A sign-in request; with a scope, the mail goes only to a user of the scope's client
    /// and its secret returns to the scope's page. The same limits and the same neutral
    /// `Ok` as `/login`.
    pub async fn request_signin_scoped(&self, email: &str, ip: &str, scope: Option<&SigninScope>) -> Result<(), AppError> {
        if scope.is_some_and(|s| !local_path(&s.return_to)) {
            return Err(AppError::internal("a sign-in return-to must be a local path"));
        }
        if !valid_email(email) {
            return Err(AppError::bad_field("email", "must be an e-mail address"));
        }
        let key = email_key(email);
        let now = self.now();
        let mut tx = self.store.begin().await?;
        // Older rows serve no rule: requests count for 15 minutes, secrets live 15
        // minutes, sessions 12 hours.
        tx.prune_signin(now - Duration::hours(PRUNE_AFTER_HOURS)).await?;
        let from_ip = tx.signin_requests_from_ip(ip, now - Duration::minutes(1)).await?;
        if from_ip >= i64::from(self.config.signin_per_ip_per_minute) {
            return Err(SigninError::TooManyRequests.into());
        }
        let for_address = tx.signin_requests_for_email(&key, now - Duration::minutes(ADDRESS_WINDOW_MINUTES)).await?;
        tx.insert_signin_request(&key, ip, now).await?;
        let accounts = accounts_for_email(&mut tx, &key).await?;
        let may_sign_in = match scope {
            None => !accounts.is_empty(),
            Some(s) => accounts.iter().any(|a| a.client_user_of(s.client_id).is_some()),
        };
        if for_address < MAILS_PER_ADDRESS && may_sign_in {
            let secret = random_id();
            let code = format!("{:0width$}", rand::thread_rng().gen_range(0..10u64.pow(CODE_DIGITS as u32)), width = CODE_DIGITS);
            tx.insert_signin_token(&SigninTokenRecord {
                id: Uuid::new_v4(),
                email: email.trim().to_string(),
                email_key: key.clone(),
                secret_hash: hash_secret(&secret),
                code_hash: self.code_hash(&key, &code),
                created_at: now,
                expires_at: now + Duration::minutes(LINK_TTL_MINUTES),
                used_at: None,
                failed_codes: 0,
                return_to: scope.map(|s| s.return_to.clone()),
            })
            .await?;
            let body = |link: &str, code: &str| {
                format!(
                    "Hello,\n\nsomeone (hopefully you) asked to sign in to {platform} with this address.\n\n\
                     Sign in: {link}\n\nOr enter this code on the sign-in page: {code}\n\n\
                     The link and the code work once, for {LINK_TTL_MINUTES} minutes. If you did not ask to sign in, ignore this e-mail.\n",
                    platform = self.platform().name,
                )
            };
            let link = format!("{}/login/{secret}", self.config.public_url);
            let masked_link = format!("{}/login/********", self.config.public_url);
            notify::enqueue_secret(
                &mut tx,
                self,
                MAIL_KIND,
                email.trim(),
                &format!("Your sign-in link for {}", self.platform().name),
                body(&link, &code),
                body(&masked_link, "********"),
            )
            .await?;
        }
        tx.commit().await?;
        self.wake_mailer();
        Ok(())
    }

    /// Mints a personal sign-in link for `email` (a client user) that returns to
    /// `return_to` and works once until `expires_at`, through the same confirm button as
    /// a mailed sign-in link; it has no code. Returns the link; only its hash is stored.
    pub(crate) async fn personal_signin_link(
        &self,
        tx: &mut Tx,
        email: &str,
        return_to: &str,
        expires_at: refshare_core::Instant,
    ) -> Result<String, AppError> {
        if !local_path(return_to) {
            return Err(AppError::internal("a sign-in return-to must be a local path"));
        }
        let secret = random_id();
        tx.insert_signin_token(&SigninTokenRecord {
            id: Uuid::new_v4(),
            email: email.trim().to_string(),
            email_key: email_key(email),
            secret_hash: hash_secret(&secret),
            code_hash: NO_CODE.into(),
            created_at: self.now(),
            expires_at,
            used_at: None,
            failed_codes: 0,
            return_to: Some(return_to.to_string()),
        })
        .await?;
        Ok(self.signin_link(&secret))
    }

    /// A sign-in link for `email` that returns to `return_to`, for the demo's printed
    /// links (`serve --demo`): works once within [`DEMO_LINK_TTL_HOURS`], through the
    /// same confirm button as a mailed link. Only in `test`.
    pub async fn demo_signin_link(&self, email: &str, return_to: &str) -> Result<String, AppError> {
        self.require_test_env()?;
        let mut tx = self.store.begin().await?;
        let link = self.personal_signin_link(&mut tx, email, return_to, self.now() + Duration::hours(DEMO_LINK_TTL_HOURS)).await?;
        tx.commit().await?;
        Ok(link)
    }

    /// The URL of a sign-in secret (`/login/{secret}`).
    pub(crate) fn signin_link(&self, secret: &str) -> String {
        format!("{}/login/{secret}", self.config.public_url)
    }

    /// The user of `client_id` the session's address signs in as, if any.
    pub async fn session_client_user(&self, session: &Session, client_id: Uuid) -> Result<Option<ClientUserAccount>, AppError> {
        let mut tx = self.store.read().await?;
        client_user_for_email(&mut tx, &session.record.email_key, client_id).await
    }

    /// Whether the link's secret can still sign in (the confirm page; nothing is used).
    pub async fn check_signin_link(&self, secret: &str) -> Result<(), AppError> {
        let mut tx = self.store.read().await?;
        let t = tx.signin_token_by_secret_hash(&hash_secret(secret)).await?.ok_or(SigninError::LinkInvalid)?;
        if t.used_at.is_some() || t.expires_at <= self.now() || t.failed_codes >= MAX_FAILED_CODES {
            return Err(SigninError::LinkInvalid.into());
        }
        Ok(())
    }

    /// Signs in with the link's secret (the confirm button's POST).
    pub async fn signin_with_link(&self, secret: &str) -> Result<NewSession, AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let t = tx.signin_token_by_secret_hash(&hash_secret(secret)).await?.ok_or(SigninError::LinkInvalid)?;
        if t.failed_codes >= MAX_FAILED_CODES || !tx.use_signin_token(t.id, now).await? {
            return Err(SigninError::LinkInvalid.into());
        }
        let s = self.create_session(&mut tx, &t, Verification::Link).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Signs in with the address and the code of one of its live sign-in mails.
    pub async fn signin_with_code(&self, email: &str, code: &str) -> Result<NewSession, AppError> {
        let now = self.now();
        let key = email_key(email);
        let code = code.trim();
        let mut tx = self.store.begin().await?;
        let live = tx.live_signin_tokens(&key, now).await?;
        let hash = self.code_hash(&key, code);
        let found = live.into_iter().find(|t| t.failed_codes < MAX_FAILED_CODES && t.code_hash != NO_CODE && t.code_hash == hash);
        let Some(t) = found else {
            tx.count_failed_signin_code(&key, now).await?;
            tx.commit().await?;
            return Err(SigninError::CodeInvalid.into());
        };
        if !tx.use_signin_token(t.id, now).await? {
            return Err(SigninError::CodeInvalid.into());
        }
        let s = self.create_session(&mut tx, &t, Verification::Code).await?;
        tx.commit().await?;
        Ok(s)
    }

    async fn create_session(&self, tx: &mut Tx, t: &SigninTokenRecord, how: Verification) -> Result<NewSession, AppError> {
        let now = self.now();
        let cookie_value = random_id();
        let accounts = accounts_for_email(tx, &t.email_key).await?;
        // With exactly one account there is nothing to choose.
        let only = match accounts.as_slice() {
            [only] => Some(only),
            _ => None,
        };
        let record = SessionRecord {
            id_hash: hash_secret(&cookie_value),
            email: t.email.clone(),
            email_key: t.email_key.clone(),
            verified_by: how.as_str().into(),
            created_at: now,
            last_seen_at: now,
            revoked_at: None,
            account_kind: only.map(|a| a.kind().as_str().to_string()),
            account_id: only.map(Account::id),
        };
        let chosen = chosen(&record, &accounts);
        tx.insert_session(&record).await?;
        tx.record_sign_in(&t.email_key, now).await?;
        crate::audit(
            tx,
            now,
            &format!("email:{}", t.email_key),
            "session.created",
            "session",
            &record.id_hash[..16],
            serde_json::json!({"verifiedBy": how.as_str()}),
        )
        .await?;
        Ok(NewSession { cookie_value, session: Session { record, chosen }, return_to: t.return_to.clone() })
    }

    /// The live session the cookie names; `None` when unknown, revoked, idle too long or
    /// too old. Read on a reader; its last use is moved to now (a write) only when it is
    /// [`TOUCH_AFTER_SECONDS`] old or more, so a burst of page views does not queue on
    /// the writer or on the session's row.
    pub async fn session(&self, cookie_value: &str) -> Result<Option<Session>, AppError> {
        let now = self.now();
        let id_hash = hash_secret(cookie_value);
        let mut tx = self.store.read().await?;
        let Some(record) = tx.session(&id_hash).await? else { return Ok(None) };
        if record.revoked_at.is_some()
            || now - record.last_seen_at > Duration::minutes(IDLE_TIMEOUT_MINUTES)
            || now - record.created_at > Duration::hours(ABSOLUTE_LIFETIME_HOURS)
        {
            return Ok(None);
        }
        let accounts = accounts_for_email(&mut tx, &record.email_key).await?;
        drop(tx);
        if now - record.last_seen_at >= Duration::seconds(TOUCH_AFTER_SECONDS) {
            let mut tx = self.store.begin().await?;
            tx.touch_session(&id_hash, now).await?;
            tx.commit().await?;
        }
        let chosen = chosen(&record, &accounts);
        Ok(Some(Session { record, chosen }))
    }

    /// Revokes the session (logout).
    pub async fn logout(&self, session: &Session) -> Result<(), AppError> {
        let now = self.now();
        let mut tx = self.store.begin().await?;
        if tx.revoke_session(&session.record.id_hash, now).await? {
            let r = &session.record;
            crate::audit(
                &mut tx,
                now,
                &format!("email:{}", r.email_key),
                "session.revoked",
                "session",
                &r.id_hash[..16],
                serde_json::json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where the session's person can go.
    pub async fn session_accounts(&self, session: &Session) -> Result<Vec<Account>, AppError> {
        let mut tx = self.store.read().await?;
        accounts_for_email(&mut tx, &session.record.email_key).await
    }

    /// "Continue as …": the session acts as the address's account of `kind` and `id` from
    /// now on. An account the address does not have (or a disabled one) is not found.
    pub async fn choose_account(&self, session: &Session, kind: &str, id: &str) -> Result<Account, AppError> {
        let kind = AccountKind::parse(kind).ok_or(AppError::NotFound("account"))?;
        let id = Uuid::parse_str(id.trim()).map_err(|_| AppError::NotFound("account"))?;
        let now = self.now();
        let mut tx = self.store.begin().await?;
        let accounts = accounts_for_email(&mut tx, &session.record.email_key).await?;
        let account = accounts.into_iter().find(|a| a.is(kind.as_str(), id)).ok_or(AppError::NotFound("account"))?;
        if !tx.choose_session_account(&session.record.id_hash, kind.as_str(), id).await? {
            return Err(AppError::Unauthorized);
        }
        let r = &session.record;
        crate::audit(
            &mut tx,
            now,
            &format!("email:{}", r.email_key),
            "session.account_chosen",
            "session",
            &r.id_hash[..16],
            serde_json::json!({"accountKind": kind.as_str(), "accountId": id}),
        )
        .await?;
        tx.commit().await?;
        Ok(account)
    }

    /// The guard every partner-user action must pass (the Partner Dashboard's team, keys
    /// and webhooks pages, when they come): the session acts as a user of `partner_id`
    /// whose role allows `permission`. Acting as no partner user is `Unauthorized`; as a
    /// user of another partner, `NotFound` (another tenant is invisible); with a role that
    /// does not allow it, [`PeopleError::PartnerRoleForbids`].
    pub fn require_partner_permission(
        &self,
        session: &Session,
        partner_id: Uuid,
        permission: PartnerPermission,
    ) -> Result<PartnerUserAccount, AppError> {
        match &session.chosen {
            Some(Account::PartnerUser(u)) if u.partner_id != partner_id => Err(AppError::NotFound("partner")),
            Some(Account::PartnerUser(u)) if u.role.may(permission) => Ok(u.clone()),
            Some(Account::PartnerUser(u)) => Err(PeopleError::PartnerRoleForbids { role: u.role, action: permission.action() }.into()),
            _ => Err(AppError::Unauthorized),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use refshare_core::people::{OperatorRole, PartnerRole};

    fn record(kind: Option<&str>, id: Option<Uuid>) -> SessionRecord {
        let at = chrono::DateTime::from_timestamp_millis(0).unwrap();
        SessionRecord {
            id_hash: "h".into(),
            email: "ann@x.test".into(),
            email_key: "ann@x.test".into(),
            verified_by: "link".into(),
            created_at: at,
            last_seen_at: at,
            revoked_at: None,
            account_kind: kind.map(str::to_string),
            account_id: id,
        }
    }

    fn partner_user(role: PartnerRole) -> Account {
        Account::PartnerUser(PartnerUserAccount {
            user_id: Uuid::new_v4(),
            partner_id: Uuid::new_v4(),
            user_name: "Ann".into(),
            partner_name: "Ledgerly".into(),
            role,
        })
    }

    fn operator() -> Account {
        Account::Operator(OperatorAccount {
            operator_id: Uuid::new_v4(),
            email: "ann@x.test".into(),
            name: "Ann".into(),
            role: OperatorRole::Viewer,
        })
    }

    #[test]
    fn the_stored_choice_counts_only_while_the_account_is_there() {
        let (p, o) = (partner_user(PartnerRole::Member), operator());
        let both = [p.clone(), o.clone()];
        assert_eq!(chosen(&record(Some("operator"), Some(o.id())), &both), Some(o.clone()));
        assert_eq!(chosen(&record(None, None), &both), None, "two accounts, nothing chosen");
        assert_eq!(chosen(&record(Some("partner_user"), Some(o.id())), &both), None, "kind and id must both match");
        assert_eq!(chosen(&record(Some("operator"), Some(o.id())), std::slice::from_ref(&p)), Some(p.clone()), "the only one left");
        assert_eq!(chosen(&record(Some("operator"), Some(o.id())), &[]), None, "disabled: nothing");
    }

    #[test]
    fn account_kinds_round_trip() {
        for k in [AccountKind::ClientUser, AccountKind::PartnerUser, AccountKind::Operator] {
            assert_eq!(AccountKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(AccountKind::parse("admin"), None);
    }
}
