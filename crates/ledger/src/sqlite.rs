//! The SQLite store: one file, WAL, `synchronous=NORMAL`, busy timeout. Writes are
//! serialized by SQLite; every write is one autocommit statement, so no transaction ever
//! has to upgrade a read lock (the source of `SQLITE_BUSY` under WAL).

use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use time::OffsetDateTime;

use crate::LedgerError;
use crate::record::{Begin, Finish, NewRecord, Record, RecordState};

pub struct SqliteLedger {
    pool: SqlitePool,
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
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| LedgerError::Db(format!("migrating the SQLite ledger: {e}")))?;
        Ok(SqliteLedger { pool })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

ledger_store!(SqliteLedger, sqlx::sqlite::SqliteRow);
