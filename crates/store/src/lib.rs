//! refshare-store: persistence behind one interface.
//!
//! [`Store`] opens SQLite or PostgreSQL from the URL, runs that backend's migrations and
//! hands out [`Tx`] transactions. Every read and write is a method on `Tx`, so a use case
//! composes them inside one transaction and commits once. Queries are runtime-checked
//! sqlx over the `Any` driver; the SQL is written in the subset both backends share and
//! sits next to the method that runs it. Instants are stored as UTC milliseconds.

mod cases;
mod clients;
mod disputes;
mod invoices;
pub mod ledger;
mod links;
mod misc;
mod partners;
mod payouts;
pub mod records;
mod webhooks;

use refshare_core::Instant;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row};

pub use cases::CaseFilter;
pub use misc::StatusTable;
pub use records::*;
pub use webhooks::DeliveryFilter;

/// Which database engine a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule of the schema was violated (the constraint or index name).
    #[error("conflict with existing data ({0})")]
    Conflict(String),
    #[error("unsupported database URL `{0}`: use sqlite://… or postgres://…")]
    UnsupportedUrl(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database schema is newer than this binary: {0}")]
    SchemaTooNew(String),
    #[error(transparent)]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let Some(db) = e.as_database_error() {
            if db.is_unique_violation() {
                return StoreError::Conflict(db.constraint().unwrap_or(db.message()).to_string());
            }
        }
        StoreError::Db(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A connection pool to one database.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects to `url` and applies pending migrations.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        // SQLite allows one writer at a time: one connection serialises writers instead of
        // failing them with SQLITE_BUSY.
        let max = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 10,
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                        sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        migrator.run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMissing(v) => {
                StoreError::SchemaTooNew(format!("applied migration {v} is unknown to this binary"))
            }
            other => StoreError::Db(sqlx::Error::Migrate(Box::new(other))),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx { inner: self.pool.begin().await?, backend: self.backend })
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// One database transaction; dropped without [`Tx::commit`] it rolls back.
pub struct Tx {
    inner: sqlx::Transaction<'static, Any>,
    backend: Backend,
}

impl Tx {
    pub async fn commit(self) -> Result<()> {
        self.inner.commit().await?;
        Ok(())
    }

    /// Marks a savepoint: [`Tx::rollback_to_savepoint`] undoes what came after it, and
    /// only that. On PostgreSQL it also clears the abort a failed statement leaves, so
    /// the transaction can go on after one step of it failed.
    pub async fn savepoint(&mut self, name: Savepoint) -> Result<()> {
        self.simple(&format!("SAVEPOINT {}", name.as_str())).await
    }

    /// Undoes everything since [`Tx::savepoint`] and releases the savepoint.
    pub async fn rollback_to_savepoint(&mut self, name: Savepoint) -> Result<()> {
        self.simple(&format!("ROLLBACK TO SAVEPOINT {}", name.as_str())).await?;
        self.release_savepoint(name).await
    }

    /// Keeps what was done since [`Tx::savepoint`] and forgets the savepoint.
    pub async fn release_savepoint(&mut self, name: Savepoint) -> Result<()> {
        self.simple(&format!("RELEASE SAVEPOINT {}", name.as_str())).await
    }

    async fn simple(&mut self, sql: &str) -> Result<()> {
        use sqlx::Executor;
        self.conn().execute(sql).await?;
        Ok(())
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.inner
    }
}

/// The savepoints use cases set inside a transaction (a closed set: names are SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Savepoint {
    /// One stored case replayed when a link request is approved.
    ReplayCase,
}

impl Savepoint {
    fn as_str(self) -> &'static str {
        match self {
            Savepoint::ReplayCase => "replay_case",
        }
    }
}

/// Converts an instant to stored milliseconds.
pub(crate) fn ms(t: Instant) -> i64 {
    t.timestamp_millis()
}

/// Converts stored milliseconds to an instant.
pub(crate) fn at(ms: i64) -> Instant {
    chrono::DateTime::from_timestamp_millis(ms).expect("stored instants are in range")
}

pub(crate) fn opt_at(ms: Option<i64>) -> Option<Instant> {
    ms.map(at)
}

pub(crate) fn currency(s: &str) -> Result<refshare_core::money::Currency> {
    refshare_core::money::Currency::parse(s).map_err(|_| StoreError::Corrupt(format!("currency `{s}`")))
}

pub(crate) fn uuid(s: &str) -> Result<uuid::Uuid> {
    uuid::Uuid::parse_str(s).map_err(|_| StoreError::Corrupt(format!("bad uuid `{s}`")))
}

pub(crate) fn opt_uuid(s: Option<String>) -> Result<Option<uuid::Uuid>> {
    s.as_deref().map(uuid).transpose()
}

pub(crate) fn get<T>(row: &AnyRow, col: &str) -> Result<T>
where
    T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    row.try_get(col).map_err(StoreError::from)
}
