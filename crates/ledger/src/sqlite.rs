//! The SQLite store: one file, WAL, `synchronous=NORMAL`, busy timeout. Every write is
//! one autocommit statement, so no transaction ever has to upgrade a read lock (the
//! source of `SQLITE_BUSY` under WAL).
//!
//! Writes go through a pool of ONE connection, reads through a pool of several. SQLite
//! admits one writer at a time anyway; with several writing connections, the losers wait
//! in SQLite's busy handler, which sleeps in steps of 1 to 100 ms, and that was the tail
//! of the load run (p99 tens of ms at 32 connections). Queued on one connection, writers
//! wait in order without sleeping. WAL lets the readers run beside the writer.

use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use time::OffsetDateTime;

use crate::LedgerError;
use crate::record::{Begin, Finish, NewRecord, Record, RecordState};
use crate::{Resolution, ResolvedAs};

pub struct SqliteLedger {
    writes: SqlitePool,
    reads: SqlitePool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Timestamps are stored as fixed-width RFC 3339 text, so text order is time order.
fn ts(t: OffsetDateTime) -> String {
    crate::rfc3339(t)
}

fn now() -> String {
    ts(OffsetDateTime::now_utc())
}

fn read_ts(r: &sqlx::sqlite::SqliteRow, col: &str) -> Result<String, LedgerError> {
    use sqlx::Row;
    Ok(r.try_get(col)?)
}

impl SqliteLedger {
    pub async fn open(path: &str) -> Result<Self, LedgerError> {
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
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let writes = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await?;
        MIGRATOR
            .run(&writes)
            .await
            .map_err(|e| LedgerError::Db(format!("migrating the SQLite ledger: {e}")))?;
        let reads = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(SqliteLedger { writes, reads })
    }

    fn writes(&self) -> &SqlitePool {
        &self.writes
    }
    fn reads(&self) -> &SqlitePool {
        &self.reads
    }

    pub async fn close(&self) {
        self.writes.close().await;
        self.reads.close().await;
    }
}

ledger_store!(SqliteLedger, sqlx::sqlite::SqliteRow);
