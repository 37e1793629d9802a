//! The SQLite store: one file, WAL, busy timeout, `synchronous=FULL` unless the config
//! relaxes it. Writes run in group-commit batches (`crate::batch`) on ONE connection,
//! each batch opened with `BEGIN IMMEDIATE`, so the write lock is taken up front and no
//! transaction ever has to upgrade a read lock (the source of `SQLITE_BUSY` under WAL).
//! With `FULL`, each batch's commit fsyncs the WAL once, for all its writes.
//!
//! The write connection is the writer thread's own (rusqlite, `crate::sqlite_writer`):
//! a batch's statements run on that thread without a hop per statement. Migrations run
//! first, through sqlx (which records them), on a connection closed right after.
//!
//! Reads go through a pool of several connections. SQLite admits one writer at a time
//! anyway; with several writing connections, the losers wait in SQLite's busy handler,
//! which sleeps in steps of 1 to 100 ms, and that was the tail of the load run (p99 tens
//! of ms at 32 connections). WAL lets the readers run beside the writer.

use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use crate::batch::Writer;
use crate::record::{Begin, Finish, NewRecord, Record, RecordState};
use crate::sqlite_writes::*;
use crate::{Durability, LedgerError};
use crate::{Resolution, ResolutionRow, ResolvedAs};

/// What the writes run on (see `crate::sqlite_writes`).
type Conn = rusqlite::Connection;
type Row = sqlx::sqlite::SqliteRow;
type Db = sqlx::Sqlite;

pub struct SqliteLedger {
    writer: Writer<Conn>,
    hooks: crate::lifecycle::Hooks,
    reads: SqlitePool,
    /// This process's name in `orders.holder` and `replica_leases` (see `crate::lease`).
    holder: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// A read transaction is already a snapshot in WAL mode (from its first read on).
async fn snapshot(_tx: &mut sqlx::Transaction<'_, Db>) -> Result<(), LedgerError> {
    Ok(())
}

fn read_ts(r: &Row, col: &str) -> Result<String, LedgerError> {
    use sqlx::Row;
    Ok(r.try_get(col)?)
}

impl SqliteLedger {
    pub async fn open(
        path: &str,
        durability: Durability,
        max_batch: u32,
    ) -> Result<Self, LedgerError> {
        if path.is_empty() {
            return Err(LedgerError::Config("ledger.path is empty".into()));
        }
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                LedgerError::Config(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Durable => SqliteSynchronous::Full,
                Durability::Relaxed => SqliteSynchronous::Normal,
            })
            .busy_timeout(Duration::from_secs(5));
        let migrate = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await?;
        MIGRATOR
            .run(&migrate)
            .await
            .map_err(|e| LedgerError::db(format!("migrating the SQLite ledger: {e}")))?;
        migrate.close().await;
        let writer = crate::sqlite_writer::start(path, durability, max_batch)?;
        let reads = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(SqliteLedger {
            writer,
            holder: crate::lease::new_holder(),
            hooks: Default::default(),
            reads,
        })
    }

    fn reads(&self) -> &SqlitePool {
        &self.reads
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.reads.close().await;
    }
}

lifecycle_store!(SqliteLedger);
sync_store!(SqliteLedger);
ledger_store!(SqliteLedger);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// `PRAGMA synchronous` on the writer's own connection, inside a batch.
    async fn writer_synchronous(l: &SqliteLedger) -> i64 {
        l.writer
            .submit((), |c, _| {
                Box::pin(async move { Ok(c.query_row("PRAGMA synchronous", [], |r| r.get(0))?) })
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn durable_by_default_relaxed_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        for (name, durability, want) in [
            ("d.db", Durability::Durable, 2), // FULL
            ("r.db", Durability::Relaxed, 1), // NORMAL
        ] {
            let path = dir.path().join(name).display().to_string();
            let l = SqliteLedger::open(&path, durability, 64).await.unwrap();
            assert_eq!(writer_synchronous(&l).await, want, "{durability:?}");
            l.close().await;
        }
        assert_eq!(Durability::default(), Durability::Durable);
    }

    /// A durable ledger in a fresh directory (kept alive by the returned guard).
    async fn durable_ledger() -> (tempfile::TempDir, String, SqliteLedger) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.db").display().to_string();
        let l = SqliteLedger::open(&path, Durability::Durable, 64)
            .await
            .unwrap();
        (dir, path, l)
    }

    /// SQLite's plan for `sql` (`$N` placeholders, each bound to a dummy string), its
    /// steps joined by " | ".
    fn query_plan(c: &rusqlite::Connection, sql: &str) -> rusqlite::Result<String> {
        let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {}", sql.replace('$', "?")))?;
        let n = stmt.parameter_count();
        let rows = stmt.query_map(
            rusqlite::params_from_iter(std::iter::repeat_n("x", n)),
            |r| r.get::<_, String>(3),
        )?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?.join(" | "))
    }

    /// Claiming due status reads walks only the followed orders (`orders_sync_due`): a
    /// plan over `state = 'accepted'` read and sorted the whole ledger at every poll, on
    /// the writer thread.
    #[tokio::test]
    async fn claiming_sync_reads_does_not_scan_the_ledger() {
        let (_dir, _, l) = durable_ledger().await;
        let plan = l
            .writer
            .submit((), |c, _| {
                Box::pin(async move { Ok(query_plan(c, CLAIM_SYNC)?) })
            })
            .await
            .unwrap();
        assert!(plan.contains("orders_sync_due"), "{plan}");
        assert!(!plan.contains("orders_by_state_id"), "{plan}");
        // Ties of `sync_next_at` are ordered by id, not the whole set.
        assert!(!plan.contains("TEMP B-TREE FOR ORDER BY"), "{plan}");
        l.close().await;
    }

    /// An order's events are a range of `order_events` itself: the table is keyed by
    /// (order_id, seq) WITHOUT ROWID, and its only other index is the event id's. Each
    /// event insert (two or more per order, on the writer's critical path) writes a page
    /// of every b-tree it touches: a rowid table with two key indexes wrote three.
    #[tokio::test]
    async fn events_are_stored_by_order_and_write_two_btrees() {
        let (_dir, _, l) = durable_ledger().await;
        let (plans, indexes, without_rowid): (Vec<String>, Vec<String>, bool) = l
            .writer
            .submit((), |c, _| {
                Box::pin(async move {
                    let plans = vec![
                        query_plan(c, crate::lifecycle::EVENTS_OF_ORDER)?,
                        query_plan(c, crate::lifecycle::NEXT_SEQ)?,
                    ];
                    let mut stmt =
                        c.prepare("SELECT origin FROM pragma_index_list('order_events')")?;
                    let origins = stmt.query_map([], |r| r.get::<_, String>(0))?;
                    let origins = origins.collect::<Result<Vec<_>, _>>()?;
                    let wr: bool = c.query_row(
                        "SELECT wr FROM pragma_table_list('order_events')",
                        [],
                        |r| r.get(0),
                    )?;
                    Ok((plans, origins, wr))
                })
            })
            .await
            .unwrap();
        for plan in &plans {
            assert!(plan.contains("USING PRIMARY KEY (order_id=?)"), "{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
        assert!(without_rowid);
        let mut indexes = indexes;
        indexes.sort();
        // The key (order_id, seq) and the event id's uniqueness.
        assert_eq!(indexes, ["pk", "u"]);
        l.close().await;
    }

    /// Finding an order by ref reads the key's unique index for orders keyed by their ref
    /// (most: no `Idempotency-Key`) and `orders_by_ref` for the rest, which is partial: a
    /// new order keyed by its ref writes one random-keyed index page, not two.
    #[tokio::test]
    async fn orders_keyed_by_their_ref_are_not_in_orders_by_ref() {
        let (_dir, _, l) = durable_ledger().await;
        let (plan, partial): (String, bool) = l
            .writer
            .submit((), |c, _| {
                Box::pin(async move {
                    let plan = query_plan(c, crate::store::BY_REF)?;
                    let partial: bool = c.query_row(
                        "SELECT partial FROM pragma_index_list('orders') WHERE name = 'orders_by_ref'",
                        [],
                        |r| r.get(0),
                    )?;
                    Ok((plan, partial))
                })
            })
            .await
            .unwrap();
        assert!(partial);
        assert!(
            plan.contains("sqlite_autoindex_orders_2 (client=? AND idem_key=?)"),
            "{plan}"
        );
        assert!(
            plan.contains("orders_by_ref (client=? AND order_ref=?)"),
            "{plan}"
        );
        assert!(!plan.contains("SCAN"), "{plan}");
        l.close().await;
    }

    /// The writer never stalls on a routine checkpoint: its connection folds the WAL in
    /// only past `WRITER_AUTOCHECKPOINT` pages, and the checkpoint thread copies a few
    /// committed writes into the database file without any help from the writer.
    #[tokio::test]
    async fn the_wal_is_checkpointed_off_the_writer_thread() {
        let (_dir, path, l) = durable_ledger().await;
        let autocheckpoint: u32 = l
            .writer
            .submit((), |c, _| {
                Box::pin(
                    async move { Ok(c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?) },
                )
            })
            .await
            .unwrap();
        assert_eq!(
            autocheckpoint,
            crate::sqlite_checkpoint::WRITER_AUTOCHECKPOINT
        );
        let size = || std::fs::metadata(&path).unwrap().len();
        let before = size();
        // A few hundred pages: well under the writer's own threshold.
        for i in 0..40 {
            l.writer
                .submit(i, |c, i| {
                    Box::pin(async move {
                        let holder = format!("{i:04}-{}", "h".repeat(3000));
                        c.execute(
                            "INSERT INTO replica_leases (holder, expires_at) VALUES (?1, ?2)",
                            (holder, "2026-12-03T00:00:00Z"),
                        )?;
                        Ok(())
                    })
                })
                .await
                .unwrap();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while size() <= before {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the database file never grew: nothing checkpointed the WAL"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        l.close().await;
    }
}
