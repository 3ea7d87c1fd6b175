//! refshare-store: persistence behind one interface.
//!
//! [`Store`] opens SQLite or PostgreSQL from the URL, runs that backend's migrations and
//! hands out [`Tx`] transactions: [`Store::begin`] for use cases that write,
//! [`Store::read`] for those that only read. Every read and write is a method on `Tx`, so
//! a use case composes them inside one transaction and commits once. Queries are runtime-checked
//! sqlx over the `Any` driver; the SQL is written in the subset both backends share and
//! sits next to the method that runs it. Instants are stored as UTC milliseconds.
//!
//! [`OpenOptions`] says whether opening may create a missing SQLite file and apply
//! migrations (`serve`, `migrate`) or needs an existing database on this binary's exact
//! schema (admin commands); every open waits at most [`CONNECT_TIMEOUT`] for the server.
//!
//! Connections: SQLite allows one writer at a time, so writes go through a pool of one
//! connection (writers queue instead of failing with `SQLITE_BUSY`), and reads through a
//! separate pool of [`OpenOptions::sqlite_readers`] connections on the same file with
//! `PRAGMA query_only = ON`. In WAL mode a reader sees the last committed state and never
//! waits for the writer. An in-memory SQLite database cannot be shared between
//! connections, so there [`Store::read`] falls back to the writer pool. PostgreSQL has
//! one pool of [`OpenOptions::pool_size`] connections, each set up with
//! [`POSTGRES_SESSION`] (no JIT) when it opens; its reads run `BEGIN ISOLATION LEVEL
//! REPEATABLE READ READ ONLY` (one snapshot per read, as a SQLite reader has). Every pool
//! pings a connection on its way out only after it sat idle ([`PING_IDLE_AFTER`]).

pub mod attention;
mod attribution_facts;
mod bulk;
mod cases;
mod client_page;
pub mod client_totals;
mod clients;
mod deferred;
mod disputes;
pub mod earning_sets;
pub mod estimates;
mod group_reads;
mod in_list;
mod invoices;
pub mod ledger;
mod links;
mod misc;
pub mod month_totals;
pub mod monthly;
mod partners;
mod payouts;
mod people;
pub mod records;
mod report_parts;
pub mod reporting;
pub mod search;
mod seed;
pub use seed::DeferredIndexes;
mod signin;
pub mod statement_totals;
pub mod statements;
pub mod totals;
mod union_read;
mod webhooks;

use std::collections::BTreeSet;
use std::time::Duration;

use refshare_core::Instant;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, ConnectOptions, Connection, Row};

pub use attribution_facts::{AttributionFacts, FactsCase};
pub use cases::{CaseCursor, CaseFilter};
pub use client_page::{ClientListRow, ClientPageOf, ClientPageRows, ShownDetails, UserContact};
pub use clients::{ClientEarningsUsd, ClientOrder, PartnerClientFilter, PartnerClientTotals};
pub use earning_sets::CpInvoicingGroup;
pub use estimates::{EstimateCache, EstimateKey, EstimateRate};
pub use group_reads::PaymentGroupRows;
pub use misc::StatusTable;
pub use month_totals::{MonthEstimateKey, MonthKey};
pub use monthly::{MonthTotal, UtcMonth};
pub use records::*;
pub use report_parts::{CasePart, ClientPart, DecisionPart, PaymentPart, PayoutPart, ReportParts};
pub use reporting::{CurrentRates, PayoutFacts, ReportCursor, ReportFilter, ReportOrder, ReportWindow, SummaryGroup};
pub use search::{
    partner_any_link_cases_from, partner_case_keys_sql, partner_link_match_sql, partner_matches_from, partner_visible_set_sql,
    PARTNER_VISIBLE_FROM, PARTNER_VISIBLE_SQL, PART_WIDTH,
};
pub use signin::{ClientUserAccount, OperatorAccount, PartnerUserAccount, SessionRecord, SigninTokenRecord};
pub use statement_totals::{StatementEstimateKey, StatementKey, StatementSums};
pub use statements::{EarningLine, LatestDecision, LinkTenant, NotEarned, StatementCursor, StatementTotal, StatementWindow};
pub use totals::{Totals, TotalsKey};
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
    /// Opened with [`OpenOptions::existing`]: the schema lacks migrations of this binary.
    #[error("database schema is older than this binary ({0}); run `refshare migrate` first")]
    SchemaBehind(String),
    /// Opened with [`OpenOptions::existing`]: the SQLite file does not exist.
    #[error("the SQLite database file `{0}` does not exist")]
    Missing(String),
    /// No connection within the timeout, or the server refused it (URL without password).
    #[error("cannot connect to {url}: {cause}")]
    Unreachable { url: String, cause: String },
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

/// The connection pools to one database.
#[derive(Clone)]
pub struct Store {
    /// Every connection on PostgreSQL; on SQLite the one writer connection.
    pool: AnyPool,
    /// SQLite on a file: the read-only connections; `None` means reads use `pool`.
    readers: Option<AnyPool>,
    backend: Backend,
}

/// Longest wait for the database server when opening a [`Store`].
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections of the PostgreSQL pool unless configured ([`OpenOptions::pool_size`]): two
/// per core of this machine, at least 4 and at most 32. More connections than cores only
/// queue work in the server's processes: on the 2-core machine at 1M, a pool of 4 against
/// 20 cut the attribution check's p99 from about 18 to 10–12 ms and the case search's from
/// 28 to 22–24 ms, and single payments went from about 640 to 710–800 a second
/// (docs/PERFORMANCE.md, "The PostgreSQL pool size").
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
    cores.saturating_mul(2).clamp(4, 32)
}

/// Read-only connections on a SQLite file unless configured ([`OpenOptions::sqlite_readers`]).
pub const DEFAULT_SQLITE_READERS: u32 = 4;

/// SQLite: bytes of the database file each connection maps into memory
/// (`PRAGMA mmap_size`; the library caps it at its compile-time maximum, 2 GiB by default).
/// Pages of a mapped file are read straight from the OS page cache, without a `read`
/// system call and a copy per page: at 1M cases an index probe of a 4.5 GB file touches
/// pages that a connection's own cache rarely holds.
pub const SQLITE_MMAP_BYTES: u64 = 2 << 30;

/// SQLite: the page cache of each connection in KiB (`PRAGMA cache_size` with a negative
/// value counts KiB; the library's default is 2,000 KiB).
pub const SQLITE_CACHE_KIB: u64 = 32 << 10;

/// SQLite: the per-connection tuning every connection on a file runs after it opens (the
/// writer, the readers, and the bench's raw-SQL connections, so a floor is measured the
/// way the app reads): [`SQLITE_MMAP_BYTES`] and [`SQLITE_CACHE_KIB`]. Neither changes
/// what a statement returns or when a commit is durable.
pub fn sqlite_tuning_sql() -> [String; 2] {
    [format!("PRAGMA mmap_size = {SQLITE_MMAP_BYTES}"), format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}")]
}

/// PostgreSQL: the settings every connection runs with, set once when it opens (the app's
/// pool, and the bench's raw-SQL connections and pgbench, so a floor reads as the app
/// reads). `jit = off`: the server's default compiles the expressions of every statement
/// the planner costs above `jit_above_cost` (100,000) before running it, and many of ours
/// are costed that high (an estimate over a partner's whole history, sub-selects that
/// never run) but run in milliseconds: compiling took longer than running (the month
/// statement's lines at 1M: 2.0–2.6 s of JIT for 0.6 s of execution).
pub const POSTGRES_SESSION: &[(&str, &str)] = &[("jit", "off")];

/// [`POSTGRES_SESSION`] as one `SET` statement per setting.
pub fn postgres_session_sql() -> Vec<String> {
    POSTGRES_SESSION.iter().map(|(name, value)| format!("SET {name} = {value}")).collect()
}

/// A pooled connection idle for at least this long is pinged before it is handed out;
/// one used more recently is not ([`pool_options`]).
pub const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// The acquire policy of every pool. sqlx pings a connection when it is returned to the
/// pool (and drops it if that fails); by default it pings it again when it is taken
/// (`test_before_acquire`), one more round trip on every request path on PostgreSQL,
/// nearly always right after the last one. Here only a connection idle for
/// [`PING_IDLE_AFTER`] or longer is pinged when taken (a dead one is dropped and another
/// taken or opened, as before); one taken sooner goes out as it came back. So a connection
/// that died within that second after its return (the server restarted or killed it)
/// fails the one statement that finds it dead — that request fails, the connection is
/// dropped on its return and the next acquire opens a new one.
fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new().test_before_acquire(false).before_acquire(|conn, meta| {
        Box::pin(async move {
            if meta.idle_for >= PING_IDLE_AFTER {
                conn.ping().await?;
            }
            Ok(true)
        })
    })
}

/// SQLite: how long a connection waits for a lock another holds before its statement
/// fails with `SQLITE_BUSY` (`PRAGMA busy_timeout`).
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn sqlite_busy_timeout_sql(wait: Duration) -> String {
    format!("PRAGMA busy_timeout = {}", wait.as_millis())
}

/// Longest wait of [`Store::checkpoint_wal`] for readers still reading from the log.
pub const WAL_CHECKPOINT_WAIT: Duration = Duration::from_millis(200);

/// What [`Store::checkpoint_wal`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalCheckpoint {
    /// Every frame was copied and the log restarted (truncated to nothing); `false` when a
    /// reader still read from the log after [`WAL_CHECKPOINT_WAIT`] (the copied frames
    /// stay copied; the next checkpoint tries again).
    pub restarted: bool,
    /// Frames the log held (`-1` when it could not be read).
    pub log_frames: i64,
    /// Frames of it now in the database file.
    pub copied_frames: i64,
}

/// The range both pool sizes must lie in.
pub const POOL_SIZE_RANGE: std::ops::RangeInclusive<u32> = 1..=256;

/// How [`Store::open_with`] treats the database it is pointed at.
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Create a missing SQLite file (whatever the URL's `mode` says); when false a missing
    /// file is [`StoreError::Missing`] and nothing is created.
    pub create_if_missing: bool,
    /// Apply pending migrations; when false the schema must be exactly this binary's.
    pub migrate: bool,
    /// Longest wait for the first connection.
    pub connect_timeout: Duration,
    /// PostgreSQL: connections in the pool (within [`POOL_SIZE_RANGE`]).
    pub pool_size: u32,
    /// SQLite on a file: read-only connections beside the one writer (within
    /// [`POOL_SIZE_RANGE`]).
    pub sqlite_readers: u32,
}

impl OpenOptions {
    /// `serve` and `migrate`: create the database if needed and bring its schema up to date.
    pub fn create() -> OpenOptions {
        OpenOptions {
            create_if_missing: true,
            migrate: true,
            connect_timeout: CONNECT_TIMEOUT,
            pool_size: default_pool_size(),
            sqlite_readers: DEFAULT_SQLITE_READERS,
        }
    }

    /// Admin commands: an existing database on this binary's schema, changed by nothing
    /// but the command itself.
    pub fn existing() -> OpenOptions {
        OpenOptions { create_if_missing: false, migrate: false, ..OpenOptions::create() }
    }
}

/// `url` with any password replaced by `***`, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    let Ok(mut u) = url::Url::parse(url) else {
        // Not a URL we can take apart: show only its scheme.
        return url.split_once(':').map_or_else(|| "(unparsable URL)".to_string(), |(scheme, _)| format!("{scheme}:…"));
    };
    if u.password().is_some() {
        let _ = u.set_password(Some("***"));
    }
    if u.query_pairs().any(|(k, _)| k.eq_ignore_ascii_case("password")) {
        let pairs: Vec<(String, String)> = u
            .query_pairs()
            .map(|(k, v)| {
                let v = if k.eq_ignore_ascii_case("password") { "***".to_string() } else { v.into_owned() };
                (k.into_owned(), v)
            })
            .collect();
        u.query_pairs_mut().clear().extend_pairs(pairs);
    }
    u.to_string()
}

/// A SQLite URL whose `mode` creates the file or not, as asked (`ro` and `memory` kept).
fn sqlite_url(url: &str, create: bool) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let pairs: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if pairs.iter().any(|p| *p == "mode=ro" || *p == "mode=memory") || base.ends_with(":memory:") {
        return url.to_string();
    }
    let mut kept: Vec<&str> = pairs.into_iter().filter(|p| !p.starts_with("mode=")).collect();
    kept.push(if create { "mode=rwc" } else { "mode=rw" });
    format!("{base}?{}", kept.join("&"))
}

/// The file a SQLite URL names, unless it is in memory.
fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    if path.is_empty() || path == ":memory:" || url.contains("mode=memory") {
        return None;
    }
    Some(std::path::PathBuf::from(percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned()))
}

impl Store {
    /// Connects to `url`, creating a missing SQLite file, and applies pending migrations
    /// ([`OpenOptions::create`]).
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, &OpenOptions::create()).await
    }

    /// Connects to `url` as `options` say.
    pub async fn open_with(url: &str, options: &OpenOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite => {
                if !options.create_if_missing {
                    if let Some(path) = sqlite_path(url).filter(|p| !p.exists()) {
                        return Err(StoreError::Missing(path.display().to_string()));
                    }
                }
                sqlite_url(url, options.create_if_missing)
            }
            Backend::Postgres => url.to_string(),
        };
        let url = url.as_str();
        // One connection first, to report why the server cannot be reached rather than a
        // pool timeout, and to bound the wait.
        let unreachable = |cause: String| StoreError::Unreachable { url: redact_url(url), cause };
        let connect_options: AnyConnectOptions = url.parse().map_err(|e: sqlx::Error| unreachable(e.to_string()))?;
        match tokio::time::timeout(options.connect_timeout, connect_options.connect()).await {
            Ok(Ok(probe)) => {
                let _ = probe.close().await;
            }
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable(format!("no answer within {} s", options.connect_timeout.as_secs()))),
        }
        // SQLite allows one writer at a time: one connection serialises writers instead of
        // failing them with SQLITE_BUSY.
        let max = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => options.pool_size.clamp(*POOL_SIZE_RANGE.start(), *POOL_SIZE_RANGE.end()),
        };
        let pool = pool_options()
            .max_connections(max)
            .acquire_timeout(options.connect_timeout)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    match backend {
                        Backend::Sqlite => {
                            sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                            sqlx::query("PRAGMA journal_mode = WAL").execute(&mut *conn).await?;
                            sqlx::query(&sqlite_busy_timeout_sql(SQLITE_BUSY_TIMEOUT)).execute(&mut *conn).await?;
                            for pragma in sqlite_tuning_sql() {
                                sqlx::query(&pragma).execute(&mut *conn).await?;
                            }
                        }
                        Backend::Postgres => {
                            for set in postgres_session_sql() {
                                sqlx::query(&set).execute(&mut *conn).await?;
                            }
                            attribution_facts::warm_partner_check_plan(conn).await;
                        }
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let mut store = Store { pool, readers: None, backend };
        if options.migrate {
            store.migrate().await?;
        } else {
            store.check_schema().await?;
        }
        // The readers open after the migrations, on the file the writer has created (and
        // switched to WAL, which is persistent).
        if backend == Backend::Sqlite && sqlite_path(url).is_some() {
            store.readers = Some(open_sqlite_readers(url, options).await?);
        }
        Ok(store)
    }

    fn migrator(&self) -> sqlx::migrate::Migrator {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres"),
        }
    }

    /// Refuses a schema that is not exactly this binary's, without changing anything.
    async fn check_schema(&self) -> Result<()> {
        let table_exists = match self.backend {
            Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
            Backend::Postgres => {
                "SELECT COUNT(*) AS n FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let mut conn = self.pool.acquire().await?;
        let n: i64 = get(&sqlx::query(table_exists).fetch_one(&mut *conn).await?, "n")?;
        if n == 0 {
            return Err(StoreError::SchemaBehind("it has no refshare schema at all".into()));
        }
        let applied: BTreeSet<i64> = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| get::<i64>(r, "version"))
            .collect::<Result<_>>()?;
        let migrator = self.migrator();
        let known: BTreeSet<i64> = migrator.iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).collect();
        if let Some(v) = applied.difference(&known).next() {
            return Err(StoreError::SchemaTooNew(format!("applied migration {v} is unknown to this binary")));
        }
        let pending = known.difference(&applied).count();
        if pending > 0 {
            return Err(StoreError::SchemaBehind(format!("{pending} of its migrations are not applied")));
        }
        Ok(())
    }

    async fn migrate(&self) -> Result<()> {
        self.migrator().run(&self.pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::VersionMissing(v) => {
                StoreError::SchemaTooNew(format!("applied migration {v} is unknown to this binary"))
            }
            other => StoreError::Db(sqlx::Error::Migrate(Box::new(other))),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Starts a transaction that may write.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(Tx {
            inner: Conn::Transaction(self.pool.begin().await?),
            backend: self.backend,
            read_only: false,
            totals: Default::default(),
            deferred: Default::default(),
            upserts: None,
        })
    }

    /// [`Store::begin`] for a transaction whose statements PostgreSQL should plan once per
    /// connection: `SET LOCAL plan_cache_mode = force_generic_plan` goes to the server with
    /// the `BEGIN`, in the same round trip. For the transactions that book payments: their
    /// statements are key lookups and inserts, whose generic plans are their custom ones,
    /// and the group's read ([`Tx::payment_group_rows`]), whose custom plan, made afresh on
    /// every run because its bound id list makes it look cheaper than the generic one, costs
    /// 0.7 ms to make against 0.2 ms to run the generic plan (docs/PERFORMANCE.md). SQLite
    /// keeps no plans: the same as [`Store::begin`].
    pub async fn begin_planned_once(&self) -> Result<Tx> {
        let inner = match self.backend {
            Backend::Postgres => self.pool.begin_with("BEGIN; SET LOCAL plan_cache_mode = force_generic_plan").await?,
            Backend::Sqlite => self.pool.begin().await?,
        };
        Ok(Tx {
            inner: Conn::Transaction(inner),
            backend: self.backend,
            read_only: false,
            totals: Default::default(),
            deferred: Default::default(),
            upserts: None,
        })
    }

    /// Starts a read-only transaction, for use cases that never write. On a SQLite file it
    /// runs on a reader connection, so it neither waits for nor blocks the writer, and sees
    /// what was committed before it started; any write through it fails (an internal
    /// error). On PostgreSQL it is `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` on the
    /// one pool: every statement of the read sees the same snapshot, so a page never mixes
    /// the states before and after a concurrent commit (a read-only transaction is never
    /// refused at this level). On in-memory SQLite
    /// it is an ordinary transaction on the writer connection (nothing else can see that
    /// database), so read-only is not enforced there.
    pub async fn read(&self) -> Result<Tx> {
        let inner = match (&self.readers, self.backend) {
            (Some(readers), _) => readers.begin().await?,
            (None, Backend::Postgres) => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await?,
            (None, Backend::Sqlite) => self.pool.begin().await?,
        };
        Ok(Tx {
            inner: Conn::Transaction(inner),
            backend: self.backend,
            read_only: true,
            totals: Default::default(),
            deferred: Default::default(),
            upserts: None,
        })
    }

    /// Opens every connection of the pools now instead of on first use (each with its
    /// session settings and, on PostgreSQL, the attribution check's plan warmed), as a
    /// server that has run a while has them: takes as many as each pool holds, all at once,
    /// and gives them back. `serve` runs it at start, so its first requests do not pay for
    /// opening them, and `refshare bench`, whose first workload would otherwise pay for it.
    pub async fn open_every_connection(&self) -> Result<()> {
        for pool in std::iter::once(&self.pool).chain(self.readers.as_ref()) {
            let mut held = Vec::new();
            for _ in 0..pool.options().get_max_connections() {
                held.push(pool.acquire().await?);
            }
        }
        Ok(())
    }

    /// A read of ONE statement, outside any transaction: a connection as [`Store::read`]
    /// would take it (a SQLite reader; PostgreSQL's pool), without the `BEGIN` and the
    /// closing `ROLLBACK`, two round trips on PostgreSQL. One statement sees one snapshot
    /// on either backend; a second statement through the same `Tx` may see a later state,
    /// so only a use case that reads once takes it (the partner key lookup, the attribution
    /// check's facts). Writes through it are refused on a SQLite reader only: never write.
    pub async fn read_statement(&self) -> Result<Tx> {
        let inner = match &self.readers {
            Some(readers) => readers.acquire().await?,
            None => self.pool.acquire().await?,
        };
        Ok(Tx {
            inner: Conn::Single(inner),
            backend: self.backend,
            read_only: true,
            totals: Default::default(),
            deferred: Default::default(),
            upserts: None,
        })
    }

    /// Closes the pools, waiting for connections to be returned.
    /// SQLite on a file: copies the write-ahead log back into the database file and starts
    /// it afresh from its beginning (`PRAGMA wal_checkpoint(TRUNCATE)` on the writer
    /// connection), waiting at most [`WAL_CHECKPOINT_WAIT`] for readers still reading from
    /// the log. SQLite's own checkpoints (every 1,000 pages, by the committing writer) copy
    /// what no reader needs, but restart the log only when no reader is using it; with
    /// readers always busy it is never restarted and keeps growing, and every page a
    /// reader looks up in it costs more. `None` on PostgreSQL and in-memory SQLite (no
    /// log to restart). The writer connection waits while it runs, as for any write.
    pub async fn checkpoint_wal(&self) -> Result<Option<WalCheckpoint>> {
        if self.backend != Backend::Sqlite || self.readers.is_none() {
            return Ok(None);
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query(&sqlite_busy_timeout_sql(WAL_CHECKPOINT_WAIT)).execute(&mut *conn).await?;
        let row = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&mut *conn).await;
        // The connection's usual wait for the lock, whatever the checkpoint did.
        sqlx::query(&sqlite_busy_timeout_sql(SQLITE_BUSY_TIMEOUT)).execute(&mut *conn).await?;
        let row = row?;
        let col = |i: usize| -> Result<i64> { Ok(sqlx::Row::try_get::<i64, _>(&row, i)?) };
        Ok(Some(WalCheckpoint { restarted: col(0)? == 0, log_frames: col(1)?, copied_frames: col(2)? }))
    }

    pub async fn close(&self) {
        if let Some(readers) = &self.readers {
            readers.close().await;
        }
        self.pool.close().await;
    }
}

/// The read-only connections on a SQLite file (`url` already names an existing file).
async fn open_sqlite_readers(url: &str, options: &OpenOptions) -> Result<AnyPool> {
    let url = sqlite_url(url, false);
    let readers = options.sqlite_readers.clamp(*POOL_SIZE_RANGE.start(), *POOL_SIZE_RANGE.end());
    let pool = pool_options()
        .max_connections(readers)
        .acquire_timeout(options.connect_timeout)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // Enforced per connection: a write fails with SQLITE_READONLY.
                sqlx::query("PRAGMA query_only = ON").execute(&mut *conn).await?;
                sqlx::query(&sqlite_busy_timeout_sql(SQLITE_BUSY_TIMEOUT)).execute(&mut *conn).await?;
                for pragma in sqlite_tuning_sql() {
                    sqlx::query(&pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect(&url)
        .await?;
    Ok(pool)
}

/// What a [`Tx`] runs on.
enum Conn {
    /// A transaction ([`Store::begin`], [`Store::read`]).
    Transaction(sqlx::Transaction<'static, Any>),
    /// A plain connection for one statement ([`Store::read_statement`]).
    Single(sqlx::pool::PoolConnection<Any>),
}

/// One database transaction; dropped without [`Tx::commit`] it rolls back. (From
/// [`Store::read_statement`]: one connection, no transaction.)
pub struct Tx {
    inner: Conn,
    backend: Backend,
    read_only: bool,
    /// Deltas of the earnings totals not written yet ([`totals`]): flushed by
    /// [`Tx::commit`], snapshotted by [`Tx::savepoint`].
    totals: totals::PendingTotals,
    /// Rows written at [`Tx::commit`] ([`deferred`]), snapshotted by [`Tx::savepoint`].
    deferred: deferred::Deferred,
    /// PostgreSQL, during [`Tx::commit`]: the kept-totals upserts queued to go to the
    /// server as one query ([`Tx::upsert`]).
    upserts: Option<String>,
}

impl Tx {
    /// PostgreSQL: whether this transaction plans its prepared statements generically only
    /// ([`Store::begin_planned_once`]). SQLite keeps no plans: `false`.
    pub async fn plans_generic_only(&mut self) -> Result<bool> {
        if self.backend != Backend::Postgres {
            return Ok(false);
        }
        let row = sqlx::query("SELECT CAST(current_setting('plan_cache_mode') AS TEXT) AS mode").fetch_one(self.conn()).await?;
        Ok(get::<String>(&row, "mode")? == "force_generic_plan")
    }

    /// Whether this transaction came from [`Store::read`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Writes the deferred rows ([`deferred`]), then the pending earnings totals, the
    /// client totals, the month totals, the statement totals and the estimate totals with the month and
    /// statement estimates (keys sorted, the last statements) and commits.
    ///
    /// The kept-totals rows are shared by every writer of a partner and stay locked from
    /// the first upsert until the commit returns, so writers queue on them. On PostgreSQL
    /// the upserts are therefore sent as ONE query just before the `COMMIT`, in the same
    /// order as ever (the rows' lock order; only the estimate rates' shared locks, read to
    /// convert the estimates, are now taken before them): the rows are held for one round
    /// trip and the commit instead of one round trip per table.
    ///
    /// The deferred rows go into that same query, before the upserts (their multi-row
    /// `INSERT`s with their values written in, `Tx::bulk_insert`), so a group of payments
    /// sends all it writes in one round trip. [`Tx::write_pending`] does all of this but the
    /// `COMMIT`.
    pub async fn commit(mut self) -> Result<()> {
        self.write_pending().await?;
        if let Conn::Transaction(t) = self.inner {
            t.commit().await?;
        }
        Ok(())
    }

    /// Writes what the transaction holds back for its commit (the deferred rows, then the
    /// kept totals; see [`Tx::commit`]), leaving [`Tx::commit`] only the `COMMIT`: a caller
    /// that runs it first knows that a failure here committed nothing, where a failed
    /// `COMMIT` may have.
    pub async fn write_pending(&mut self) -> Result<()> {
        if self.backend == Backend::Postgres {
            self.upserts = Some(String::new());
        }
        let written = self.write_pending_queued().await;
        self.upserts = None;
        written
    }

    async fn write_pending_queued(&mut self) -> Result<()> {
        self.flush_deferred().await?;
        self.flush_totals().await?;
        self.flush_client_totals().await?;
        self.flush_month_totals().await?;
        self.flush_statement_totals().await?;
        self.flush_estimates().await?;
        if let Some(queued) = self.upserts.replace(String::new()).filter(|q| !q.is_empty()) {
            self.simple(&queued).await?;
        }
        Ok(())
    }

    /// Marks a savepoint: [`Tx::rollback_to_savepoint`] undoes what came after it, and
    /// only that. On PostgreSQL it also clears the abort a failed statement leaves, so
    /// the transaction can go on after one step of it failed.
    pub async fn savepoint(&mut self, name: Savepoint) -> Result<()> {
        // What was queued before the savepoint is written before it (`deferred`).
        self.flush_deferred_writes().await?;
        self.simple(&format!("SAVEPOINT {}", name.as_str())).await?;
        self.totals.savepoint(name);
        self.deferred.savepoint(name);
        Ok(())
    }

    /// Undoes everything since [`Tx::savepoint`] and releases the savepoint.
    pub async fn rollback_to_savepoint(&mut self, name: Savepoint) -> Result<()> {
        self.simple(&format!("ROLLBACK TO SAVEPOINT {}", name.as_str())).await?;
        self.totals.rollback_to(name);
        self.deferred.rollback_to(name);
        self.simple(&format!("RELEASE SAVEPOINT {}", name.as_str())).await
    }

    /// Keeps what was done since [`Tx::savepoint`] and forgets the savepoint.
    pub async fn release_savepoint(&mut self, name: Savepoint) -> Result<()> {
        self.simple(&format!("RELEASE SAVEPOINT {}", name.as_str())).await?;
        self.totals.release(name);
        self.deferred.release(name);
        Ok(())
    }

    /// Refreshes the query planner's statistics after bulk writes (the seed): PostgreSQL's
    /// `ANALYZE` (without it, plans on a freshly seeded 1M database were up to 50× slower);
    /// SQLite plans without statistics here, so nothing.
    pub async fn analyze(&mut self) -> Result<()> {
        match self.backend {
            Backend::Postgres => self.simple("ANALYZE").await,
            Backend::Sqlite => Ok(()),
        }
    }

    /// After a bulk load: merges the search indexes (migration 0043). SQLite: each FTS5
    /// table into one segment (`optimize`), so a phrase of common trigrams does not seek
    /// through a score of segments' doclists; PostgreSQL: each trigram GIN index's pending
    /// list into the index, and `partner_case_keys` clustered again on its creation index
    /// (migration 0039), so a partner's rows are contiguous after a bulk load.
    pub async fn merge_search_indexes(&mut self) -> Result<()> {
        let statements: &[&str] = match self.backend {
            Backend::Sqlite => &[
                "INSERT INTO partner_cases_fts (partner_cases_fts) VALUES ('optimize')",
                "INSERT INTO partner_links_fts (partner_links_fts) VALUES ('optimize')",
                "INSERT INTO cases_fts (cases_fts) VALUES ('optimize')",
                "INSERT INTO clients_fts (clients_fts) VALUES ('optimize')",
                "INSERT INTO links_fts (links_fts) VALUES ('optimize')",
            ],
            Backend::Postgres => &[
                "SELECT gin_clean_pending_list('cases_search_trgm'::regclass)",
                "SELECT gin_clean_pending_list('clients_name_trgm'::regclass)",
                "SELECT gin_clean_pending_list('links_tenant_trgm'::regclass)",
                "SELECT gin_clean_pending_list('partner_case_keys_trgm'::regclass)",
                "SELECT gin_clean_pending_list('link_search_keys_trgm'::regclass)",
                "SELECT gin_clean_pending_list('partner_cases_trgm_key'::regclass)",
                "CLUSTER partner_case_keys",
            ],
        };
        for sql in statements {
            self.simple(sql).await?;
        }
        Ok(())
    }

    /// PostgreSQL: the value of a run-time setting on this transaction's connection
    /// (`current_setting`), e.g. to check [`POSTGRES_SESSION`]; SQLite has no such
    /// settings: `None`.
    pub async fn session_setting(&mut self, name: &str) -> Result<Option<String>> {
        match self.backend {
            Backend::Postgres => {
                let row = sqlx::query("SELECT current_setting($1) AS v").bind(name).fetch_one(self.conn()).await?;
                Ok(Some(get(&row, "v")?))
            }
            Backend::Sqlite => Ok(None),
        }
    }

    /// Runs one upsert of the kept totals with its values (`$1`, `$2`, … in `sql`). Inside
    /// [`Tx::commit`] on PostgreSQL it is queued instead, its values written in as literals
    /// ([`inline_values`]); a statement whose values cannot be (a text with a backslash or
    /// NUL) first sends the queue, then runs with its values bound, so the order holds.
    pub(crate) async fn upsert(&mut self, sql: &str, values: Vec<SqlValue>) -> Result<()> {
        if let Some(queue) = self.upserts.as_mut() {
            match inline_values(sql, &values) {
                Some(text) => {
                    queue.push_str(&text);
                    queue.push_str(";\n");
                    return Ok(());
                }
                None => {
                    let queued = std::mem::take(queue);
                    if !queued.is_empty() {
                        self.simple(&queued).await?;
                    }
                }
            }
        }
        let mut q = sqlx::query(sql);
        for v in values {
            q = match v {
                SqlValue::Text(t) => q.bind(t),
                SqlValue::Int(i) => q.bind(i),
                SqlValue::Null => q.bind(None::<String>),
            };
        }
        q.execute(self.conn()).await?;
        Ok(())
    }

    async fn simple(&mut self, sql: &str) -> Result<()> {
        use sqlx::Executor;
        self.conn().execute(sql).await?;
        Ok(())
    }

    /// The rows of `sql` (no binds), each read by `row` as a key and its figures, sorted
    /// by key: the kept totals tables and their recomputation from the rows, as
    /// `reconcile` compares them.
    pub(crate) async fn keyed_rows<K: Ord + Copy, V>(&mut self, sql: &str, row: fn(&AnyRow) -> Result<(K, V)>) -> Result<Vec<(K, V)>> {
        let rows = sqlx::query(sql).fetch_all(self.conn()).await?;
        let mut out = rows.iter().map(row).collect::<Result<Vec<_>>>()?;
        out.sort_by_key(|(k, _)| *k);
        Ok(out)
    }

    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        match &mut self.inner {
            Conn::Transaction(t) => &mut **t,
            Conn::Single(c) => &mut **c,
        }
    }
}

/// A value of a kept-totals upsert ([`Tx::upsert`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SqlValue {
    Text(String),
    Int(i64),
    /// `NULL`, bound as a text (only written in as a literal: `Tx::bulk_insert`).
    Null,
}

/// `sql` with each `$n` replaced by the n-th value as a PostgreSQL literal (a text quoted,
/// its quotes doubled; `NULL`); `None` if a text holds a backslash or NUL (whose meaning in a
/// literal depends on the server's settings) or a `$n` has no value.
pub(crate) fn inline_values(sql: &str, values: &[SqlValue]) -> Option<String> {
    let mut out = String::with_capacity(sql.len() + 16 * values.len());
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let digits = sql[i + c.len_utf8()..].bytes().take_while(u8::is_ascii_digit).count();
        if c != '$' || digits == 0 {
            out.push(c);
            continue;
        }
        let n: usize = sql[i + 1..i + 1 + digits].parse().ok()?;
        match values.get(n.checked_sub(1)?)? {
            SqlValue::Int(v) => out.push_str(&v.to_string()),
            SqlValue::Null => out.push_str("NULL"),
            SqlValue::Text(t) if t.contains(['\\', '\0']) => return None,
            SqlValue::Text(t) => {
                out.push('\'');
                out.push_str(&t.replace('\'', "''"));
                out.push('\'');
            }
        }
        for _ in 0..digits {
            chars.next();
        }
    }
    Some(out)
}

/// The savepoints use cases set inside a transaction (a closed set: names are SQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Savepoint {
    /// One stored case replayed when a link request is approved.
    ReplayCase,
    /// The attempt of a request under an `Idempotency-Key`: a refusal undoes it and stores
    /// the refusal in the same transaction.
    IdempotentAttempt,
    /// One payment of a transaction shared by several (a bulk batch's chunk, or a group
    /// of single payments committed together): a payment refused by the rules or by the
    /// database is undone alone, and the rest of the transaction goes on.
    SharedPayment,
}

impl Savepoint {
    fn as_str(self) -> &'static str {
        match self {
            Savepoint::ReplayCase => "replay_case",
            Savepoint::IdempotentAttempt => "idempotent_attempt",
            Savepoint::SharedPayment => "shared_payment",
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

/// A column's value as a decoder reads it through the driver.
pub(crate) trait ColValue: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any> + Sized {}

impl<T: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>> ColValue for T {}

/// A row whose columns a decoder reads by name: an `AnyRow` itself, or one part's row of a
/// `UNION ALL` whose parts share positional columns ([`Slotted`]).
pub(crate) trait Cols {
    fn value<T: ColValue>(&self, col: &str) -> Result<T>;
}

impl Cols for AnyRow {
    fn value<T: ColValue>(&self, col: &str) -> Result<T> {
        get(self, col)
    }
}

/// One part's row of a statement whose parts share positional columns: the part's column
/// `names[i]` is the row's column `at[i]`.
pub(crate) struct Slotted<'a> {
    pub(crate) row: &'a AnyRow,
    pub(crate) names: &'a [String],
    pub(crate) at: &'a [usize],
}

impl Cols for Slotted<'_> {
    fn value<T: ColValue>(&self, col: &str) -> Result<T> {
        let i = self.names.iter().position(|n| n == col).ok_or_else(|| StoreError::Corrupt(format!("no column {col} in this part")))?;
        self.row.try_get(self.at[i]).map_err(StoreError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_in_as_literals() {
        let v = vec![SqlValue::Text("a'b".into()), SqlValue::Int(-7), SqlValue::Int(i64::MAX), SqlValue::Null];
        assert_eq!(
            inline_values("INSERT INTO t (a, b, c) VALUES ($1, $2, $3), ($1, $3, $4)", &v).as_deref(),
            Some("INSERT INTO t (a, b, c) VALUES ('a''b', -7, 9223372036854775807), ('a''b', 9223372036854775807, NULL)")
        );
        let many: Vec<SqlValue> = (1..=12).map(SqlValue::Int).collect();
        assert_eq!(inline_values("$1 $10 $12 $2", &many).as_deref(), Some("1 10 12 2"));
        assert_eq!(inline_values("x = $5", &v), None, "no fifth value");
        assert_eq!(inline_values("x = $1", &[SqlValue::Text("a\\b".into())]), None);
        assert_eq!(inline_values("é $ x", &[]).as_deref(), Some("é $ x"));
    }

    async fn pragma(tx: &mut Tx, name: &str) -> i64 {
        let row = sqlx::query(&format!("PRAGMA {name}")).fetch_one(tx.conn()).await.expect(name);
        row.try_get::<i64, _>(0).expect(name)
    }

    /// The writer and every reader on a SQLite file run [`sqlite_tuning_sql`].
    #[tokio::test]
    async fn sqlite_connections_on_a_file_are_tuned() {
        let path = std::env::temp_dir().join(format!("refshare-tuning-{}.db", uuid::Uuid::new_v4().simple()));
        let url = format!("sqlite://{}", path.display());
        let store = Store::open(&url).await.expect("open");
        let mut write = store.begin().await.expect("begin");
        let mut read = store.read().await.expect("read");
        for tx in [&mut write, &mut read] {
            assert!(pragma(tx, "mmap_size").await > 0, "memory-mapped reads");
            assert_eq!(pragma(tx, "cache_size").await, -(SQLITE_CACHE_KIB as i64), "page cache in KiB");
        }
        drop((write, read));
        store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
    }
}
