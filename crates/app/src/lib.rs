//! refshare-app: the use cases. Each public operation parses its input, asks the core to
//! decide, and persists the result in one store transaction; notifications are written in
//! that same transaction and sent by the mailer off the request path (`notify`).

pub mod agreement;
pub mod attention;
pub mod attribution;
pub mod auth;
pub mod cases;
pub mod check_json;
pub mod clients;
pub mod clock;
pub mod dashboard;
pub mod disputes;
pub mod error;
pub mod fx;
pub mod gauges;
mod idempotency;
pub mod ledger;
pub mod links;
pub mod notify;
pub mod partner_cases;
pub mod partner_staff;
pub mod partners;
pub mod payments;
pub mod payments_batch;
pub mod payments_group;
pub mod people;
pub mod platform;
pub mod reporting;
pub mod revenue;
pub mod reversals;
pub mod seal;
pub mod seed;
pub mod signin;
pub mod statements;
pub mod timeline;
pub mod views;
pub mod webhooks;

use std::sync::Arc;

pub use clock::{Clock, SystemClock, TestClock};
pub use error::{
    AppError, CaseError, ClientError, DisputeError, FieldError, FxError, InternalError, LedgerError, LinkError, PaymentError, PeopleError,
    RevenueError, SigninError,
};
use refshare_store::Store;

/// Where the installation runs (SPEC §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Production,
    Test,
}

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Base of every URL handed out, without a trailing slash.
    pub public_url: String,
    pub environment: Environment,
    /// SHA-256 (hex) of the operator token.
    pub admin_token_hash: String,
    /// `smtp://` (plain), `smtp://…?tls=required` (STARTTLS) or `smtps://` (implicit TLS),
    /// with optional `user:pass@` and `:port`; `None` keeps mail in the outbox only.
    pub smtp_url: Option<String>,
    /// PEM file of a CA trusted for the SMTP server's certificate, besides the public roots.
    pub smtp_ca_file: Option<std::path::PathBuf>,
    /// Prefix of case references (`DEB-`).
    pub case_prefix: String,
    /// Days after a reporting period during which disputes are accepted.
    pub dispute_window_days: i64,
    /// Day of the month on which the previous month's CP invoicing runs (1–28).
    pub cp_invoicing_day: u32,
    /// Payment terms of invoices, in business days (SPEC §6: 10 by default).
    pub payment_terms_business_days: u32,
    /// SHA-256 (hex) of the bearer token `/metrics` requires; `None` serves it openly.
    pub metrics_token_hash: Option<String>,
    /// Let webhooks reach loopback over plain http (`REFSHARE_WEBHOOK_ALLOW_LOOPBACK`);
    /// honoured only in `test`.
    pub webhook_allow_loopback: bool,
    /// The key that seals the server secret and the webhook secrets at rest
    /// (`REFSHARE_SECRET_KEY`, during a rotation with `REFSHARE_SECRET_KEY_OLD`). `None`
    /// only for admin commands that use no secret (`reconcile`): such an App signs with a
    /// throwaway in-memory secret and never reads or writes the sealed ones.
    pub secret_keys: Option<seal::Keyring>,
    /// Sign-in requests accepted per IP address per minute
    /// (`REFSHARE_SIGNIN_PER_IP_PER_MINUTE`, default [`signin::DEFAULT_PER_IP_PER_MINUTE`]).
    pub signin_per_ip_per_minute: u32,
    /// The platform's name, legal entity, support address, terms and privacy links, as the
    /// pages and mails show them (`REFSHARE_PLATFORM_NAME`, …).
    pub platform: platform::Platform,
    /// The agreement clients sign (`REFSHARE_AGREEMENT_FILE`, default the shipped sample)
    /// and earlier versions kept for download (`REFSHARE_AGREEMENT_ARCHIVE_DIR`).
    pub agreements: agreement::Agreements,
    /// Most single payments the payment writer books in one transaction
    /// (`REFSHARE_PAYMENT_GROUP_MAX`, default [`payments_group::MAX_GROUP_PAYMENTS`]); 1
    /// books each in its own transaction (`payments_group`).
    pub payment_group_max: usize,
    /// Payment writers booking groups side by side (`REFSHARE_PAYMENT_WRITERS`); `None`
    /// picks by backend ([`App::payment_writers`]).
    pub payment_writers: Option<usize>,
}

impl AppConfig {
    /// A configuration with every setting at its documented default: no SMTP (outbox
    /// only), case prefix `DEB-`, a 30-day dispute window, CP invoicing on the 8th, 10
    /// business days of payment terms, no metrics token, no loopback webhooks, no secret
    /// key, the default sign-in rate, the platform named `refshare` with nothing else
    /// configured, the sample agreement, groups of up to 64 single payments. Callers set what they need with struct update syntax.
    pub fn new(public_url: impl Into<String>, environment: Environment, admin_token_hash: String) -> AppConfig {
        AppConfig {
            public_url: public_url.into(),
            environment,
            admin_token_hash,
            smtp_url: None,
            smtp_ca_file: None,
            case_prefix: "DEB-".into(),
            dispute_window_days: 30,
            cp_invoicing_day: revenue::DEFAULT_CP_INVOICING_DAY,
            payment_terms_business_days: 10,
            metrics_token_hash: None,
            webhook_allow_loopback: false,
            secret_keys: None,
            signin_per_ip_per_minute: signin::DEFAULT_PER_IP_PER_MINUTE,
            platform: platform::Platform::default(),
            agreements: agreement::Agreements::default(),
            payment_group_max: payments_group::MAX_GROUP_PAYMENTS,
            payment_writers: None,
        }
    }
}

/// The application: store, clock, configuration and mailer.
#[derive(Clone)]
pub struct App {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    /// The base clock, without the test clock's offset.
    wall_clock: Arc<dyn Clock>,
    pub config: Arc<AppConfig>,
    /// Secret for signing tokens and deriving approval tokens; kept sealed in the database.
    secret: Arc<Vec<u8>>,
    /// The test clock, when the environment is `test`.
    pub test_clock: Option<Arc<TestClock>>,
    /// Wakes the mail loop after a commit that queued mail.
    mail_wake: Arc<tokio::sync::Notify>,
    /// Books single payments in groups, one transaction each (`payments_group`).
    payment_writer: Arc<payments_group::PaymentWriter>,
}

/// Actor names recorded in histories and the audit trail.
pub mod actor {
    use std::future::Future;

    /// The operator token, or (inside [`as_operator`]) the signed-in operator.
    pub const OPERATOR: &str = "operator";
    pub const SYSTEM: &str = "system";
    /// An administrator at the command line (`refshare operator add`).
    pub const CLI: &str = "cli";
    pub fn partner(id: uuid::Uuid) -> String {
        format!("partner:{id}")
    }
    pub fn client(id: uuid::Uuid) -> String {
        format!("client:{id}")
    }
    /// An operator signed in with a session: `operator:<id>:<email>`.
    pub fn operator_session(id: uuid::Uuid, email: &str) -> String {
        format!("operator:{id}:{email}")
    }
    /// A signed-in user of a partner acting from the Partner Dashboard:
    /// `partner_user:<id>:<email>`.
    pub fn partner_user(id: uuid::Uuid, email: &str) -> String {
        format!("partner_user:{id}:{email}")
    }

    tokio::task_local! {
        static SESSION_OPERATOR: String;
    }

    /// Runs `f` on behalf of a signed-in person: audit entries it writes as [`OPERATOR`]
    /// name `who` ([`operator_session`], or [`partner_user`] for the Partner Dashboard's
    /// team, key and settings changes, which reuse the operator's use cases) instead. The web layer wraps each Operator API
    /// request made with a session in it; with the operator token nothing changes.
    pub async fn as_operator<F: Future>(who: String, f: F) -> F::Output {
        SESSION_OPERATOR.scope(who, f).await
    }

    /// The actor an audit entry records for `actor`.
    pub(crate) fn resolve(actor: &str) -> String {
        if actor == OPERATOR {
            SESSION_OPERATOR.try_with(Clone::clone).unwrap_or_else(|_| actor.to_string())
        } else {
            actor.to_string()
        }
    }

    /// A signed-in user of a client (consent on the hosted pages).
    pub fn client_user(id: uuid::Uuid) -> String {
        format!("client_user:{id}")
    }
}

impl App {
    /// Builds the application over an opened store. In `test` the clock is a [`TestClock`]
    /// whose offset is kept in the database.
    ///
    /// With a key, it opens the sealed secrets and seals what is not sealed under the
    /// current key yet (plaintext of an older database, or sealed under
    /// `REFSHARE_SECRET_KEY_OLD`), all in one transaction. A key that does not open them is
    /// an error whose message names `REFSHARE_SECRET_KEY`.
    pub async fn new(store: Store, config: AppConfig, base_clock: Arc<dyn Clock>) -> Result<App, AppError> {
        let mut tx = store.begin().await?;
        let secret = match &config.secret_keys {
            Some(keys) => {
                let secret = server_secret(&mut tx, keys).await?;
                webhooks::subscriptions::seal_stored_secrets(&mut tx, keys).await?;
                secret
            }
            None => rand::random::<[u8; 32]>().to_vec(),
        };
        let offset_ms = tx.setting("test_clock_offset_ms").await?.and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        tx.commit().await?;
        let filled = ledger::fill_read_models(&store).await?;
        if filled > 0 {
            tracing::info!(earnings = filled, "filled in the earnings read model");
        }
        let (clock, test_clock): (Arc<dyn Clock>, _) = match config.environment {
            Environment::Test => {
                let tc = Arc::new(TestClock::new(base_clock.clone(), offset_ms));
                (tc.clone(), Some(tc))
            }
            Environment::Production => (base_clock.clone(), None),
        };
        // The estimate totals (migration 0025) at today's rates: built on the first start,
        // re-based when a rate became current while the server was down.
        let mut tx = store.begin().await?;
        let rebased = fx::refresh_estimates(&mut tx, clock.now()).await?;
        tx.commit().await?;
        if rebased > 0 {
            tracing::debug!(currencies = rebased, "estimate totals built at today's rates");
        }
        Ok(App {
            store,
            clock,
            wall_clock: base_clock,
            config: Arc::new(config),
            secret: Arc::new(secret),
            test_clock,
            mail_wake: Arc::new(tokio::sync::Notify::new()),
            payment_writer: Arc::default(),
        })
    }

    /// The installation's time: the test clock in `test`. Every domain rule reads this.
    pub fn now(&self) -> refshare_core::Instant {
        self.clock.now()
    }

    /// The real time, without the test clock's offset: for what other machines check
    /// against their own clocks (webhook signature timestamps).
    pub fn wall_now(&self) -> refshare_core::Instant {
        self.wall_clock.now()
    }

    /// Refuses test-only operations in production (SPEC §10).
    pub fn require_test_env(&self) -> Result<(), AppError> {
        match self.config.environment {
            Environment::Test => Ok(()),
            Environment::Production => Err(AppError::Forbidden("This endpoint is available only in the test environment.".into())),
        }
    }

    pub(crate) fn secret(&self) -> &[u8] {
        &self.secret
    }

    /// The keys that seal secrets at rest.
    pub(crate) fn keyring(&self) -> Result<&seal::Keyring, AppError> {
        self.config.secret_keys.as_ref().ok_or_else(|| AppError::internal("this process has no REFSHARE_SECRET_KEY"))
    }

    /// Where people will sign in (the page arrives with sign-in, issue 8).
    pub fn login_url(&self) -> String {
        format!("{}/login", self.config.public_url)
    }

    pub fn onboarding_url(&self, link_id: uuid::Uuid) -> String {
        format!("{}/onboarding/{link_id}", self.config.public_url)
    }

    pub fn approval_url(&self, token: &str) -> String {
        format!("{}/link-requests/{token}", self.config.public_url)
    }

    /// Advances the test clock and persists the new offset.
    pub async fn advance_test_clock(&self, by_ms: i64) -> Result<refshare_core::Instant, AppError> {
        self.require_test_env()?;
        let tc = self.test_clock.as_ref().ok_or_else(|| AppError::internal("no test clock"))?;
        if by_ms < 0 {
            return Err(AppError::bad_field("days", "the test clock only moves forward"));
        }
        let offset = tc.advance(by_ms);
        let mut tx = self.store.begin().await?;
        tx.set_setting("test_clock_offset_ms", &offset.to_string()).await?;
        audit(
            &mut tx,
            self.now(),
            actor::OPERATOR,
            "test_clock.advanced",
            "test_clock",
            "clock",
            serde_json::json!({"byMs": by_ms, "offsetMs": offset}),
        )
        .await?;
        tx.commit().await?;
        Ok(self.now())
    }
}

/// Where the server secret lives: the `settings` row, also the sealing's associated data.
const SERVER_SECRET: &str = "secret";

/// Reads the server secret, creating it on first start, and leaves it sealed under the
/// current key (a plaintext hex secret of an older database is kept and sealed).
async fn server_secret(tx: &mut refshare_store::Tx, keys: &seal::Keyring) -> Result<Vec<u8>, AppError> {
    let (secret, store) = match tx.setting(SERVER_SECRET).await? {
        Some(s) if seal::is_sealed(&s) => {
            let opened = keys.open(SERVER_SECRET, &s, "server secret").map_err(|e| AppError::internal(e.to_string()))?;
            (opened.plaintext, opened.stale)
        }
        Some(s) => (hex::decode(s.trim()).map_err(|_| AppError::internal("the stored server secret is neither sealed nor hex"))?, true),
        None => (rand::random::<[u8; 32]>().to_vec(), true),
    };
    if store {
        tx.set_setting(SERVER_SECRET, &keys.seal(SERVER_SECRET, &secret)).await?;
    }
    Ok(secret)
}

/// Writes one audit entry inside the caller's transaction.
pub async fn audit(
    tx: &mut refshare_store::Tx,
    at: refshare_core::Instant,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: &str,
    detail: serde_json::Value,
) -> Result<(), AppError> {
    tx.insert_audit(&refshare_store::AuditRecord {
        id: uuid::Uuid::new_v4(),
        at,
        actor: actor::resolve(actor),
        action: action.into(),
        entity: entity.into(),
        entity_id: entity_id.into(),
        detail,
    })
    .await?;
    Ok(())
}
