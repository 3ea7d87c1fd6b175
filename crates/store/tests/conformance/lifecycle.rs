//! Transactions and the database's own lifecycle: rollback on drop, reopening a migrated
//! database, refusing a schema from a newer binary, admin opens that change nothing.

use refshare_core::case::CaseSource;
use refshare_store::{Backend, IdempotencyRecord, Store, StoreError};
use sqlx::{AnyConnection, Connection, Executor};

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

conformance!(dropped_transaction_leaves_nothing_behind);
async fn dropped_transaction_leaves_nothing_behind(store: Store) -> TestResult {
    let p = partner("Partner", t(0));
    let c = client("Client", t(0));
    let l = link(&p, &c, "tenant", true, t(HOUR));
    let x = case(&c, 10_001, CaseSource::WebApp, t(2 * HOUR));
    let reply = IdempotencyRecord { request_hash: "h".into(), status_code: 201, body: "{}".into() };

    let mut tx = store.begin().await?;
    assert_eq!(tx.next_case_number().await?, 10_001);
    tx.insert_partner(&p).await?;
    tx.insert_client(&c, &[user(&c, "owner@client.example", true)]).await?;
    tx.insert_link(&l, ACTOR, None).await?;
    tx.insert_case(&x).await?;
    tx.set_setting("clock_offset_ms", "1").await?;
    tx.save_idempotency("scope", "key", &reply, t(0)).await?;
    tx.put_fx_rate("EUR", "2024-01-02", 108_000_000).await?;
    assert_eq!(tx.case(x.id).await?, Some(x.clone()), "a transaction sees its own writes");
    assert_eq!(tx.link(l.id).await?, Some(l.clone()));
    drop(tx);

    let mut tx = store.begin().await?;
    assert_eq!(tx.partner(p.id).await?, None);
    assert_eq!(tx.client(c.id).await?, None);
    assert_eq!(tx.matching_clients(&["owner@client.example".into()], None).await?, vec![]);
    assert_eq!(tx.link(l.id).await?, None);
    assert_eq!(tx.case(x.id).await?, None);
    assert_eq!(tx.setting("clock_offset_ms").await?, None);
    assert_eq!(tx.idempotency("scope", "key").await?, None);
    assert_eq!(tx.fx_rate_on_or_before("EUR", "2024-12-31").await?, None);
    assert_eq!(tx.next_case_number().await?, 10_001, "the number was never taken");
    tx.insert_partner(&p).await?;
    tx.commit().await?;

    let mut tx = store.begin().await?;
    assert_eq!(tx.partner(p.id).await?, Some(p), "the store stays usable after a rollback");
    Ok(())
}

conformance!(reopening_a_migrated_database_keeps_its_data, with_url);
async fn reopening_a_migrated_database_keeps_its_data(store: Store, url: String) -> TestResult {
    let p = partner("Partner", t(0));
    let mut tx = store.begin().await?;
    tx.insert_partner(&p).await?;
    assert_eq!(tx.next_case_number().await?, 10_001);
    tx.commit().await?;

    for _ in 0..2 {
        let again = Store::open(&url).await?;
        assert_eq!(again.backend(), store.backend());
        let mut tx = again.begin().await?;
        assert_eq!(tx.partner(p.id).await?, Some(p.clone()));
        tx.commit().await?;
        again.close().await;
    }
    let mut tx = store.begin().await?;
    assert_eq!(tx.next_case_number().await?, 10_002, "migrations (and their seed rows) ran once");
    Ok(())
}

conformance!(a_schema_from_a_newer_binary_is_refused, with_url);
async fn a_schema_from_a_newer_binary_is_refused(store: Store, url: String) -> TestResult {
    let checksum = match store.backend() {
        Backend::Sqlite => "X'00'",
        Backend::Postgres => "'\\x00'::bytea",
    };
    let mut conn = AnyConnection::connect(&url).await?;
    conn.execute(
        format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99990101, 'from the future', TRUE, {checksum}, 0)"
        )
        .as_str(),
    )
    .await?;
    conn.close().await?;
    match Store::open(&url).await {
        Err(StoreError::SchemaTooNew(_)) => Ok(()),
        Err(other) => panic!("expected SchemaTooNew, got {other:?}"),
        Ok(_) => panic!("expected SchemaTooNew, the store opened"),
    }
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    for url in ["mysql://root@localhost/db", "file:/tmp/x.db", ""] {
        match Store::open(url).await {
            Err(StoreError::UnsupportedUrl(u)) => assert_eq!(u, url),
            Err(other) => panic!("{url}: expected UnsupportedUrl, got {other:?}"),
            Ok(_) => panic!("{url}: opened"),
        }
    }
}

conformance!(an_admin_open_needs_the_current_schema_and_changes_nothing, with_url);
async fn an_admin_open_needs_the_current_schema_and_changes_nothing(store: Store, url: String) -> TestResult {
    let existing = refshare_store::OpenOptions::existing();
    let again = Store::open_with(&url, &existing).await?;
    again.close().await;
    // Forget the newest migration, as on a database an older binary left behind.
    let mut conn = AnyConnection::connect(&url).await?;
    conn.execute("DELETE FROM _sqlx_migrations WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)").await?;
    let before: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&mut conn).await?;
    match Store::open_with(&url, &existing).await {
        Err(StoreError::SchemaBehind(m)) => assert!(m.contains("1 of its migrations"), "{m}"),
        Err(other) => panic!("expected SchemaBehind, got {other:?}"),
        Ok(_) => panic!("expected SchemaBehind, the store opened"),
    }
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations").fetch_one(&mut conn).await?;
    assert_eq!(before, after, "nothing was migrated");
    conn.close().await?;
    drop(store);
    Ok(())
}

#[test]
fn urls_are_shown_without_their_password() {
    assert_eq!(refshare_store::redact_url("postgres://app:hunter2@db:5432/refshare"), "postgres://app:***@db:5432/refshare");
    assert_eq!(
        refshare_store::redact_url("postgres://db/refshare?user=app&password=hunter2"),
        "postgres://db/refshare?user=app&password=***"
    );
    assert_eq!(refshare_store::redact_url("sqlite://refshare.db?mode=rwc"), "sqlite://refshare.db?mode=rwc");
}
