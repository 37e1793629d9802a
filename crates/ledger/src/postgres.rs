//! The PostgreSQL store, for several replicas sharing one ledger. Same SQL as SQLite;
//! timestamps are `timestamptz`. `INSERT ... ON CONFLICT DO NOTHING` waits for a
//! concurrent inserter of the same key to commit, so exactly one caller wins a key.
//! Writes run in group-commit batches (`crate::batch`): one transaction per batch on one
//! pooled connection at a time, so a replica pays one commit (one WAL flush) per batch.

use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use time::{OffsetDateTime, UtcOffset};

use crate::LedgerError;
use crate::batch::Writer;
use crate::record::{Begin, Finish, NewRecord, Record, RecordState};
use crate::{Resolution, ResolutionRow, ResolvedAs};

type Conn = sqlx::PgConnection;
type Row = sqlx::postgres::PgRow;
type Db = sqlx::Postgres;

pub struct PgLedger {
    writer: Writer<Conn>,
    hooks: crate::lifecycle::Hooks,
    pool: PgPool,
    /// This process's name in `orders.holder` and `replica_leases` (see `crate::lease`).
    holder: String,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

fn ts(t: OffsetDateTime) -> OffsetDateTime {
    t
}

fn now() -> OffsetDateTime {
    // timestamptz keeps microseconds: round here so the returned record equals the stored one.
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1_000 * 1_000)
        .unwrap_or(t)
}

/// `READ COMMITTED` (the default) lets each statement see newer commits: one snapshot
/// for the whole transaction takes `REPEATABLE READ`.
async fn snapshot(tx: &mut sqlx::Transaction<'_, Db>) -> Result<(), LedgerError> {
    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        .execute(&mut **tx)
        .await?;
    Ok(())
}

fn read_ts(r: &Row, col: &str) -> Result<String, LedgerError> {
    use sqlx::Row;
    let t: OffsetDateTime = r.try_get(col)?;
    Ok(crate::rfc3339(t.to_offset(UtcOffset::UTC)))
}

impl PgLedger {
    /// `url` is a secret (it may hold a password): it never appears in an error or a log.
    pub async fn open(
        url: &SecretString,
        max_connections: u32,
        max_batch: u32,
    ) -> Result<Self, LedgerError> {
        if max_connections == 0 {
            return Err(LedgerError::Config(
                "ledger.maxConnections must be at least 1".into(),
            ));
        }
        let opts = PgConnectOptions::from_str(url.expose_secret()).map_err(|_| {
            LedgerError::Config(
                "ledger.url is not a valid postgres:// URL (value not shown)".into(),
            )
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await
            .map_err(|e| {
                LedgerError::db(format!(
                    "connecting to the PostgreSQL ledger: {}",
                    crate::redact(&e, url.expose_secret())
                ))
            })?;
        // sqlx takes an advisory lock: replicas starting together migrate once.
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| LedgerError::db(format!("migrating the PostgreSQL ledger: {e}")))?;
        Ok(PgLedger {
            writer: crate::batch::start(pool.clone(), "BEGIN", max_batch),
            holder: crate::lease::new_holder(),
            hooks: Default::default(),
            pool,
        })
    }

    /// The writer's batches and the reads share one pool.
    fn reads(&self) -> &PgPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

lifecycle_store!(PgLedger);
lifecycle_writes!("FOR UPDATE OF o SKIP LOCKED");
sync_store!(PgLedger);
sync_writes!("FOR UPDATE OF o SKIP LOCKED");
ledger_store!(PgLedger);
ledger_writes!();
