//! Runs one test body against a fresh database of each backend.
//!
//! SQLite gets a new file in the temp directory; PostgreSQL gets a new database
//! `refshare_t_<uuid>` created through the admin URL (`REFSHARE_TEST_PG_URL`, default
//! [`DEFAULT_PG_URL`]). Both are removed afterwards, also when the body fails. When
//! PostgreSQL cannot be reached the PostgreSQL half is skipped with a notice, unless
//! `REFSHARE_REQUIRE_POSTGRES=1` (as in CI), where that is a failure.

use std::future::Future;
use std::path::{Path, PathBuf};

use refshare_store::{Backend, Store};
use sqlx::{AnyConnection, Connection, Executor};
use uuid::Uuid;

/// What a test body returns: `?` works on store and serde errors alike.
pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// Generates `<name>_sqlite` and `<name>_postgres` tests from `async fn name(Store)`.
///
/// `with_url` passes the database URL as a second argument (for tests that reopen it).
/// `sqlite: #[…]` / `postgres: #[…]` add an attribute to one half only (e.g. `#[ignore]`
/// for a bug seen on one backend).
macro_rules! conformance {
    ($name:ident, with_url $(, sqlite: #[$sqlite:meta])? $(, postgres: #[$postgres:meta])? $(,)?) => {
        conformance!(@gen $name, |store, url| $name(store, url) $(, sqlite: #[$sqlite])? $(, postgres: #[$postgres])?);
    };
    ($name:ident $(, sqlite: #[$sqlite:meta])? $(, postgres: #[$postgres:meta])? $(,)?) => {
        conformance!(@gen $name, |store, _url| $name(store) $(, sqlite: #[$sqlite])? $(, postgres: #[$postgres])?);
    };
    (@gen $name:ident, |$store:ident, $url:ident| $call:expr $(, sqlite: #[$sqlite:meta])? $(, postgres: #[$postgres:meta])?) => {
        paste::paste! {
            #[tokio::test]
            $(#[$sqlite])?
            async fn [<$name _sqlite>]() {
                $crate::harness::on_sqlite(|$store, $url| $call).await;
            }

            #[tokio::test]
            $(#[$postgres])?
            async fn [<$name _postgres>]() {
                $crate::harness::on_postgres(|$store, $url| $call).await;
            }
        }
    };
}
pub(crate) use conformance;

/// Runs `body` on a store over a new SQLite file, then deletes the file.
pub async fn on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    let path = std::env::temp_dir().join(format!("refshare-conformance-{}.db", Uuid::new_v4().simple()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = Store::open(&url).await.expect("open a SQLite store");
    assert_eq!(store.backend(), Backend::Sqlite);
    let outcome = tokio::spawn(body(store.clone(), url)).await;
    store.close().await;
    remove_sqlite_files(&path);
    finish(outcome);
}

/// Runs `body` on a store over a new PostgreSQL database, then drops the database.
pub async fn on_postgres<F, Fut>(body: F)
where
    F: FnOnce(Store, String) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    sqlx::any::install_default_drivers();
    let Some((admin_url, mut admin)) = pg_admin().await else { return };
    let name = format!("refshare_t_{}", Uuid::new_v4().simple());
    admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create the test database");
    let url = with_database(&admin_url, &name);
    let opened = Store::open(&url).await;
    let outcome = match opened {
        Ok(store) => {
            assert_eq!(store.backend(), Backend::Postgres);
            let outcome = tokio::spawn(body(store.clone(), url)).await;
            store.close().await;
            Some(outcome)
        }
        Err(e) => {
            drop_database(&mut admin, &name).await;
            panic!("open a PostgreSQL store on {name}: {e}");
        }
    };
    drop_database(&mut admin, &name).await;
    admin.close().await.ok();
    if let Some(outcome) = outcome {
        finish(outcome);
    }
}

/// Runs `body` with the URL of a new, empty database of `backend` (no migration applied),
/// then removes it: for tests of one migration over data written before it.
pub async fn on_empty<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = TestResult> + Send + 'static,
{
    sqlx::any::install_default_drivers();
    match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("refshare-conformance-{}.db", Uuid::new_v4().simple()));
            let outcome = tokio::spawn(body(format!("sqlite://{}?mode=rwc", path.display()))).await;
            remove_sqlite_files(&path);
            finish(outcome);
        }
        Backend::Postgres => {
            let Some((admin_url, mut admin)) = pg_admin().await else { return };
            let name = format!("refshare_t_{}", Uuid::new_v4().simple());
            admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create the test database");
            let outcome = tokio::spawn(body(with_database(&admin_url, &name))).await;
            drop_database(&mut admin, &name).await;
            admin.close().await.ok();
            finish(outcome);
        }
    }
}

async fn drop_database(admin: &mut AnyConnection, name: &str) {
    if let Err(e) = admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await {
        eprintln!("could not drop test database {name}: {e}");
    }
}

/// `url` with its database name replaced by `name` (query parameters kept).
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    format!("{server}/{name}{query}")
}

fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = PathBuf::from(path).into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// Re-raises the body's failure after cleanup.
fn finish(outcome: Result<TestResult, tokio::task::JoinError>) {
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("test body failed: {e} ({e:?})"),
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(join) => panic!("test body did not finish: {join}"),
    }
}

#[test]
fn database_name_is_replaced_in_the_admin_url() {
    assert_eq!(with_database("postgres://postgres@127.0.0.1:5432/test", "x"), "postgres://postgres@127.0.0.1:5432/x");
    assert_eq!(with_database("postgres://u:p@h/test?sslmode=disable", "x"), "postgres://u:p@h/x?sslmode=disable");
    assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
}

/// The admin connection to PostgreSQL and its URL; `None` (with a notice) when it is
/// unreachable, unless `REFSHARE_REQUIRE_POSTGRES=1`, which makes that a failure.
async fn pg_admin() -> Option<(String, AnyConnection)> {
    let admin_url = std::env::var("REFSHARE_TEST_PG_URL").unwrap_or_else(|_| DEFAULT_PG_URL.to_string());
    match AnyConnection::connect(&admin_url).await {
        Ok(conn) => Some((admin_url, conn)),
        Err(e) if std::env::var("REFSHARE_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("PostgreSQL is required (REFSHARE_REQUIRE_POSTGRES=1) but unreachable at {admin_url}: {e}")
        }
        Err(e) => {
            eprintln!("skipping PostgreSQL conformance: {e}");
            None
        }
    }
}
