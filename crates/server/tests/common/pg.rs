//! A throwaway PostgreSQL database for the CLI tests: created on the admin URL
//! (`REFSHARE_TEST_PG_URL`, default `postgres://postgres@127.0.0.1:5432/test`) and dropped
//! by the test when it is done. Unreachable PostgreSQL skips the test with a notice, unless
//! `REFSHARE_REQUIRE_POSTGRES=1` makes that a failure.

use sqlx::{Connection, Executor};
use tokio::runtime::Runtime;

pub struct TempPg {
    admin: String,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl TempPg {
    /// A fresh, empty database named `<prefix>_<random>`; `None` (after a notice) when
    /// PostgreSQL cannot be reached and is not required.
    pub fn create(rt: &Runtime, prefix: &str) -> Option<TempPg> {
        let admin = std::env::var("REFSHARE_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let created = rt.block_on(async {
            sqlx::any::install_default_drivers();
            match sqlx::AnyConnection::connect(&admin).await {
                Ok(mut c) => c.execute(format!("CREATE DATABASE {name}").as_str()).await.map(|_| ()).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        });
        if let Err(e) = created {
            if std::env::var("REFSHARE_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("PostgreSQL is required but unreachable at {admin}: {e}");
            }
            eprintln!("notice: skipping the PostgreSQL half: {e}");
            return None;
        }
        let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        Some(TempPg { admin, name, url })
    }

    /// Drops the database, closing whatever is still connected to it.
    pub async fn drop_database(&self) {
        let mut a = sqlx::AnyConnection::connect(&self.admin).await.unwrap();
        a.execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str()).await.unwrap();
    }
}
