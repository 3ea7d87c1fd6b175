//! The connection pools: reads run beside an open write and see only what was committed;
//! a read sees one snapshot from its first statement to its end; a write through a read
//! transaction is refused; in-memory SQLite reads through the writer; every PostgreSQL
//! connection runs with the session settings; a connection that died while idle in the
//! pool is replaced; a SQLite write-ahead log is restarted by a checkpoint once no
//! reader reads from it.

use std::time::Duration;

use refshare_store::{Backend, OpenOptions, Store, StoreError, PING_IDLE_AFTER, POSTGRES_SESSION};
use sqlx::{AnyConnection, Connection, Executor};

use crate::fixtures::*;
use crate::harness::{conformance, on_postgres, TestResult};

/// Only a deadlock guard: a read that waits for the writer never finishes on its own.
const GUARD: Duration = Duration::from_secs(5);

conformance!(a_read_does_not_wait_for_an_open_write);
async fn a_read_does_not_wait_for_an_open_write(store: Store) -> TestResult {
    let p = partner("Uncommitted", t(0));
    let mut write = store.begin().await?;
    write.insert_partner(&p).await?;

    // Two reads at once, while the write is open: neither waits, neither sees the row.
    let mut first = tokio::time::timeout(GUARD, store.read()).await.map_err(|_| "read() waited for the open write")??;
    let mut second = tokio::time::timeout(GUARD, store.read()).await.map_err(|_| "a second read() waited")??;
    assert!(first.is_read_only() && second.is_read_only() && !write.is_read_only());
    let seen = tokio::time::timeout(GUARD, first.partner(p.id)).await.map_err(|_| "a read query waited for the open write")??;
    assert_eq!(seen, None, "an uncommitted row is invisible to a read");
    let listed = tokio::time::timeout(GUARD, second.partners()).await.map_err(|_| "a read query waited")??;
    assert!(listed.iter().all(|x| x.id != p.id));
    drop((first, second));

    write.commit().await?;
    let mut after = tokio::time::timeout(GUARD, store.read()).await.map_err(|_| "read() after the commit waited")??;
    assert_eq!(after.partner(p.id).await?, Some(p), "a read started after the commit sees the row");
    Ok(())
}

conformance!(a_read_sees_one_snapshot_throughout);
async fn a_read_sees_one_snapshot_throughout(store: Store) -> TestResult {
    let first = partner("Before", t(0));
    let mut write = store.begin().await?;
    write.insert_partner(&first).await?;
    write.commit().await?;

    // The read takes its snapshot with its first statement; a commit after that stays
    // invisible to every later statement of the same read (a page built from several
    // queries never mixes the two states).
    let mut read = store.read().await?;
    assert_eq!(read.partner(first.id).await?, Some(first.clone()));
    let later = partner("After", t(1));
    let mut write = tokio::time::timeout(GUARD, store.begin()).await.map_err(|_| "begin() waited for the open read")??;
    write.insert_partner(&later).await?;
    tokio::time::timeout(GUARD, write.commit()).await.map_err(|_| "the commit waited for the open read")??;
    assert_eq!(read.partner(later.id).await?, None, "a row committed during the read is invisible to it");
    let listed = read.partners().await?;
    assert!(listed.iter().any(|x| x.id == first.id) && listed.iter().all(|x| x.id != later.id), "the list is of the same snapshot");
    drop(read);

    let mut fresh = store.read().await?;
    assert_eq!(fresh.partner(later.id).await?, Some(later), "a read started after the commit sees the row");
    Ok(())
}

conformance!(a_write_through_a_read_transaction_is_refused);
async fn a_write_through_a_read_transaction_is_refused(store: Store) -> TestResult {
    let p = partner("Read Only", t(0));
    let mut read = store.read().await?;
    let refused = read.insert_partner(&p).await;
    match &refused {
        // SQLite: "attempt to write a readonly database"; PostgreSQL: "cannot execute
        // INSERT in a read-only transaction". Neither is a conflict (that would be a 409).
        Err(StoreError::Db(e)) => {
            let text = e.to_string().to_lowercase();
            assert!(text.contains("readonly") || text.contains("read-only"), "{text}");
        }
        other => panic!("expected a read-only error, got {other:?}"),
    }
    drop(read);
    assert_eq!(store.begin().await?.partner(p.id).await?, None, "nothing was written");
    Ok(())
}

conformance!(the_pool_sizes_are_taken_from_the_options, with_url);
async fn the_pool_sizes_are_taken_from_the_options(store: Store, url: String) -> TestResult {
    store.close().await;
    // One connection for reads (and on PostgreSQL for everything): a second read cannot
    // have one and fails when the (short) acquire timeout ends.
    let options = OpenOptions { pool_size: 1, sqlite_readers: 1, connect_timeout: Duration::from_secs(1), ..OpenOptions::existing() };
    let small = Store::open_with(&url, &options).await?;
    let held = small.read().await?;
    match tokio::time::timeout(GUARD, small.read()).await.map_err(|_| "the acquire timeout did not apply")? {
        Err(StoreError::Db(sqlx::Error::PoolTimedOut)) => {}
        other => panic!("expected a pool timeout, got {:?}", other.map(|_| "a transaction")),
    }
    let write = tokio::time::timeout(GUARD, small.begin()).await.map_err(|_| "the acquire timeout did not apply")?;
    match small.backend() {
        // The writer is its own connection.
        Backend::Sqlite => drop(write?),
        Backend::Postgres => assert!(matches!(write, Err(StoreError::Db(sqlx::Error::PoolTimedOut))), "one pool of one"),
    }
    drop(held);
    // The default sizes allow more than one read at once.
    small.close().await;
    let roomy = Store::open_with(&url, &OpenOptions::existing()).await?;
    let first = roomy.read().await?;
    let second = tokio::time::timeout(GUARD, roomy.read()).await.map_err(|_| "the second read waited")??;
    drop((first, second));
    roomy.close().await;
    Ok(())
}

#[tokio::test]
async fn in_memory_sqlite_reads_through_the_writer() -> TestResult {
    let store = Store::open("sqlite::memory:").await?;
    let p = partner("In Memory", t(0));
    let mut write = store.begin().await?;
    write.insert_partner(&p).await?;
    write.commit().await?;
    // A separate connection would see an empty database without the schema.
    let mut read = tokio::time::timeout(GUARD, store.read()).await.map_err(|_| "read() on memory waited")??;
    assert!(read.is_read_only());
    assert_eq!(read.partner(p.id).await?, Some(p));
    drop(read);
    store.close().await;
    Ok(())
}

conformance!(postgres_connections_run_with_the_session_settings);
/// Every connection of the pool, reads, single-statement reads and writes alike, has the
/// settings of `POSTGRES_SESSION` (no JIT), set when it opened; SQLite has none.
async fn postgres_connections_run_with_the_session_settings(store: Store) -> TestResult {
    // Several at once, so more than one connection of the pool is looked at.
    let (mut read, mut one, mut write) = (store.read().await?, store.read_statement().await?, store.begin().await?);
    for tx in [&mut read, &mut one, &mut write] {
        for (name, value) in POSTGRES_SESSION {
            let expected = (store.backend() == Backend::Postgres).then(|| value.to_string());
            assert_eq!(tx.session_setting(name).await?, expected, "{name}");
        }
    }
    Ok(())
}

/// Ends every other connection to the database `url` names, waiting until each is gone.
async fn kill_other_connections(url: &str) -> TestResult {
    let mut admin = AnyConnection::connect(url).await?;
    admin
        .execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await?;
    admin.close().await?;
    Ok(())
}

#[tokio::test]
async fn a_connection_that_died_while_idle_is_replaced_postgres() {
    on_postgres(a_connection_that_died_while_idle_is_replaced).await;
}

/// The pool does not ping a connection taken again soon after its return: if the server
/// ended it meanwhile, the one statement that finds it dead fails, and the pool opens a new
/// connection for the next. One that sat idle for `PING_IDLE_AFTER` is pinged when taken,
/// and a dead one replaced before any statement runs on it.
async fn a_connection_that_died_while_idle_is_replaced(store: Store, url: String) -> TestResult {
    store.close().await;
    let one = Store::open_with(&url, &OpenOptions { pool_size: 1, ..OpenOptions::existing() }).await?;
    let p = partner("Alive", t(0));
    let mut write = one.begin().await?;
    write.insert_partner(&p).await?;
    write.commit().await?;

    kill_other_connections(&url).await?;
    let first = async { one.read_statement().await?.partner(p.id).await }.await;
    match first {
        Ok(found) => assert_eq!(found.as_ref(), Some(&p)),
        Err(e) => assert!(matches!(e, StoreError::Db(_)), "a dead connection is a database error: {e:?}"),
    }
    let again =
        tokio::time::timeout(GUARD, async { one.read_statement().await?.partner(p.id).await }).await.map_err(|_| "no new connection")?;
    assert_eq!(again?.as_ref(), Some(&p), "the next statement runs on a new connection");

    kill_other_connections(&url).await?;
    tokio::time::sleep(PING_IDLE_AFTER + Duration::from_millis(200)).await;
    let pinged =
        tokio::time::timeout(GUARD, async { one.read_statement().await?.partner(p.id).await }).await.map_err(|_| "no new connection")?;
    assert_eq!(pinged?, Some(p), "an idle connection is pinged first, and replaced");
    one.close().await;
    Ok(())
}

conformance!(a_checkpoint_restarts_the_log_once_no_reader_reads_from_it, with_url);
/// SQLite on a file: a checkpoint copies the log into the database, but restarts it only
/// when no reader still reads from it (it waits a little, then reports that it did not);
/// once the reader is gone it restarts the log and truncates its file, and every row is
/// still there. PostgreSQL has no such log: nothing to do.
async fn a_checkpoint_restarts_the_log_once_no_reader_reads_from_it(store: Store, url: String) -> TestResult {
    if store.backend() == Backend::Postgres {
        assert_eq!(store.checkpoint_wal().await?, None);
        return Ok(());
    }
    let p = partner("Logged", t(0));
    let mut write = store.begin().await?;
    write.insert_partner(&p).await?;
    write.commit().await?;
    let wal = format!("{}-wal", url.trim_start_matches("sqlite://").split('?').next().unwrap_or_default());
    assert!(std::fs::metadata(&wal)?.len() > 0, "the commit is in the log");

    let mut read = store.read().await?;
    assert_eq!(read.partner(p.id).await?, Some(p.clone()));
    let held = store.checkpoint_wal().await?.ok_or("a SQLite file has a log")?;
    assert!(!held.restarted, "a reader still reads from the log: {held:?}");
    assert!(std::fs::metadata(&wal)?.len() > 0, "the log was not truncated under the reader");
    drop(read);

    let done = store.checkpoint_wal().await?.ok_or("a SQLite file has a log")?;
    assert!(done.restarted, "{done:?}");
    assert_eq!(std::fs::metadata(&wal)?.len(), 0, "the log was truncated");
    assert_eq!(store.read().await?.partner(p.id).await?, Some(p), "the row is in the database file");
    Ok(())
}
