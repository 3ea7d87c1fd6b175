//! The connection pools: reads run beside an open write and see only what was committed;
//! a read sees one snapshot from its first statement to its end; a write through a read
//! transaction is refused; in-memory SQLite reads through the writer.

use std::time::Duration;

use refshare_store::{Backend, OpenOptions, Store, StoreError};

use crate::fixtures::*;
use crate::harness::{conformance, TestResult};

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
