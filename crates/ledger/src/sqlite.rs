//! The SQLite store (WAL). Writes are serialized by SQLite; `begin` is one
//! `INSERT ... ON CONFLICT DO NOTHING` so two concurrent creates of one key cannot both win.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::LedgerError;
use crate::record::{Begin, Finish, NewRecord, Record, RecordState};

pub struct SqliteLedger {
    pool: SqlitePool,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    client TEXT NOT NULL,
    order_ref TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    route TEXT NOT NULL,
    connection TEXT NOT NULL,
    vendor TEXT NOT NULL,
    state TEXT NOT NULL,
    vendor_order_id TEXT,
    vendor_status TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    http_status INTEGER,
    response TEXT,
    never_sent INTEGER NOT NULL DEFAULT 0,
    trace_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (client, idem_key)
);
CREATE INDEX IF NOT EXISTS orders_by_ref ON orders (client, order_ref);
CREATE INDEX IF NOT EXISTS orders_by_state ON orders (state);
";

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// The record columns, as a macro so queries stay `&'static str` (sqlx audits dynamic SQL).
macro_rules! select_orders {
    ($rest:literal) => {
        concat!(
            "SELECT id, client, order_ref, idem_key, body_hash, route, connection, vendor, state, vendor_order_id, vendor_status, attempts, http_status, response, never_sent, trace_id, created_at, updated_at FROM orders ",
            $rest
        )
    };
}

impl SqliteLedger {
    pub async fn open(path: &str) -> Result<Self, LedgerError> {
        if let Some(dir) = std::path::Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                LedgerError::Config(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let opts = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(SqliteLedger { pool })
    }

    pub async fn begin(&self, n: NewRecord) -> Result<Begin, LedgerError> {
        let ts = now();
        let inserted = sqlx::query(
            "INSERT INTO orders (id, client, order_ref, idem_key, body_hash, route, connection, vendor, state, attempts, trace_id, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sending', 1, ?, ?, ?) ON CONFLICT (client, idem_key) DO NOTHING",
        )
        .bind(&n.id)
        .bind(&n.client)
        .bind(&n.order_ref)
        .bind(&n.idem_key)
        .bind(&n.body_hash)
        .bind(&n.route)
        .bind(&n.connection)
        .bind(&n.vendor)
        .bind(&n.trace_id)
        .bind(&ts)
        .bind(&ts)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            // The row is exactly what was written: no read-back on the hot path.
            return Ok(Begin::Started(Record {
                id: n.id,
                client: n.client,
                order_ref: n.order_ref,
                idem_key: n.idem_key,
                body_hash: n.body_hash,
                route: n.route,
                connection: n.connection,
                vendor: n.vendor,
                state: RecordState::Sending,
                vendor_order_id: None,
                vendor_status: None,
                attempts: 1,
                http_status: None,
                response: None,
                never_sent: false,
                trace_id: n.trace_id,
                created_at: ts.clone(),
                updated_at: ts,
            }));
        }
        let Some(rec) = self.find_by_key(&n.client, &n.idem_key).await? else {
            return Err(LedgerError::Db("a conflicting record vanished".into()));
        };
        if rec.body_hash != n.body_hash {
            return Ok(Begin::Conflict(rec));
        }
        Ok(match rec.state {
            RecordState::Received | RecordState::Sending => Begin::InProgress(rec),
            RecordState::Unknown => Begin::Unknown(rec),
            RecordState::Failed if rec.never_sent => {
                // Re-arm atomically: only one concurrent retry sees the row change.
                let won = sqlx::query("UPDATE orders SET state = 'sending', never_sent = 0, attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'failed' AND never_sent = 1")
                    .bind(now())
                    .bind(&rec.id)
                    .execute(&self.pool)
                    .await?
                    .rows_affected();
                match (won, self.get(&rec.client, &rec.id).await?) {
                    (1, Some(r)) => Begin::Retry(r),
                    (_, Some(r)) => Begin::InProgress(r),
                    (_, None) => Begin::InProgress(rec),
                }
            }
            RecordState::Accepted | RecordState::Rejected | RecordState::Failed => {
                Begin::Replay(rec)
            }
        })
    }

    pub async fn mark_sending(&self, id: &str) -> Result<bool, LedgerError> {
        let n = sqlx::query("UPDATE orders SET state = 'sending', attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'received'")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    pub async fn finish(&self, id: &str, f: Finish) -> Result<bool, LedgerError> {
        let response =
            serde_json::to_string(&f.response).map_err(|e| LedgerError::Db(e.to_string()))?;
        let n = sqlx::query(
            "UPDATE orders SET state = ?, http_status = ?, response = ?, vendor_order_id = ?, vendor_status = ?, never_sent = ?, updated_at = ?
             WHERE id = ? AND state IN ('received', 'sending', 'unknown')",
        )
        .bind(f.state.as_str())
        .bind(i64::from(f.http_status))
        .bind(response)
        .bind(f.vendor_order_id)
        .bind(f.vendor_status)
        .bind(f.never_sent)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    pub async fn get(&self, client: &str, id: &str) -> Result<Option<Record>, LedgerError> {
        self.one(select_orders!("WHERE client = ? AND id = ?"), client, id)
            .await
    }

    pub async fn find_by_ref(
        &self,
        client: &str,
        order_ref: &str,
    ) -> Result<Option<Record>, LedgerError> {
        self.one(
            select_orders!("WHERE client = ? AND order_ref = ? ORDER BY created_at DESC LIMIT 1"),
            client,
            order_ref,
        )
        .await
    }

    pub async fn find_by_key(
        &self,
        client: &str,
        key: &str,
    ) -> Result<Option<Record>, LedgerError> {
        self.one(
            select_orders!("WHERE client = ? AND idem_key = ?"),
            client,
            key,
        )
        .await
    }

    /// One of a client's records by a second column.
    async fn one(
        &self,
        sql: &'static str,
        client: &str,
        value: &str,
    ) -> Result<Option<Record>, LedgerError> {
        let row = sqlx::query(sql)
            .bind(client)
            .bind(value)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| to_record(&r)).transpose()
    }

    pub async fn recover_on_start(&self) -> Result<u64, LedgerError> {
        // `received` never reached the outbound stack, but a crash between the two
        // updates cannot be told apart from one after sending; unknown is the honest state.
        let n = sqlx::query("UPDATE orders SET state = 'unknown', updated_at = ? WHERE state IN ('received', 'sending')")
            .bind(now())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(n)
    }

    pub async fn list_by_state(
        &self,
        state: RecordState,
        limit: u32,
    ) -> Result<Vec<Record>, LedgerError> {
        let rows = sqlx::query(select_orders!(
            "WHERE state = ? ORDER BY created_at LIMIT ?"
        ))
        .bind(state.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(to_record).collect()
    }
}

fn to_record(r: &sqlx::sqlite::SqliteRow) -> Result<Record, LedgerError> {
    let state: String = r.try_get("state")?;
    let response: Option<String> = r.try_get("response")?;
    let http_status: Option<i64> = r.try_get("http_status")?;
    Ok(Record {
        id: r.try_get("id")?,
        client: r.try_get("client")?,
        order_ref: r.try_get("order_ref")?,
        idem_key: r.try_get("idem_key")?,
        body_hash: r.try_get("body_hash")?,
        route: r.try_get("route")?,
        connection: r.try_get("connection")?,
        vendor: r.try_get("vendor")?,
        state: RecordState::parse(&state)
            .ok_or_else(|| LedgerError::Db(format!("unknown state {state}")))?,
        vendor_order_id: r.try_get("vendor_order_id")?,
        vendor_status: r.try_get("vendor_status")?,
        attempts: r.try_get("attempts")?,
        http_status: http_status.and_then(|s| u16::try_from(s).ok()),
        response: response.and_then(|s| serde_json::from_str(&s).ok()),
        never_sent: r.try_get("never_sent")?,
        trace_id: r.try_get("trace_id")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
