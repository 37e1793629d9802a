//! The SQLite ledger's writer: one OS thread owns the write connection (rusqlite) and
//! runs each batch's statements on itself, batching as `crate::batch` describes.
//!
//! Why not sqlx here (as for reads and for PostgreSQL): sqlx runs a SQLite connection on
//! a worker thread of its own, so every statement is a round trip between threads (two
//! wake-ups). An order's writes are five or six statements (claim, outcome, event
//! number, event, outbox), and under load a batch's statements queue behind each other:
//! the writer spent its time on thread hand-offs, not in SQLite (a load profile showed
//! the kernel's task switching as the largest share). Here a batch costs one hand-off in
//! and one answer out per caller, and its statements run back to back.
//!
//! The thread runs a current-thread tokio runtime only to wait for its queue: the write
//! functions are `async fn` (so the store's methods queue them like the sqlx ones) but
//! never await anything, so a batch runs without yielding.

use std::time::Duration;

use rusqlite::types::ToSql;
use rusqlite::{CachedStatement, Connection};

use crate::batch::{Attempt, BoxFut, Failure, Job, Writer, max_len, run_loop};
use crate::{Durability, LedgerError};

impl From<rusqlite::Error> for LedgerError {
    fn from(e: rusqlite::Error) -> Self {
        LedgerError::db(e.to_string())
    }
}

/// How to (re)open the write connection.
struct Opener {
    path: String,
    durability: Durability,
}

impl Opener {
    fn open(&self) -> Result<Connection, LedgerError> {
        let c = Connection::open(&self.path)?;
        c.busy_timeout(Duration::from_secs(5))?;
        let synchronous = match self.durability {
            Durability::Durable => "FULL",
            Durability::Relaxed => "NORMAL",
        };
        // WAL is a property of the file, set by the migration's connection; these two are
        // per connection (deferred foreign keys are checked at COMMIT).
        // The routine checkpoints run on their own thread (`crate::sqlite_checkpoint`).
        c.execute_batch(&format!(
            "PRAGMA synchronous = {synchronous}; PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = {};",
            crate::sqlite_checkpoint::WRITER_AUTOCHECKPOINT
        ))?;
        c.set_prepared_statement_cache_capacity(64);
        Ok(c)
    }
}

/// The writer thread's side: the connection (none after a failure that may have left a
/// transaction open; the next batch opens a fresh one).
struct ThreadWriter {
    conn: Option<Connection>,
    opener: Opener,
    checkpoints: crate::sqlite_checkpoint::Nudge,
}

/// Opens the write connection (failing here, not on the first write, when the file
/// cannot be written) and starts the writer thread.
pub(crate) fn start(
    path: &str,
    durability: Durability,
    max_batch: u32,
) -> Result<Writer<Connection>, LedgerError> {
    let opener = Opener {
        path: path.to_owned(),
        durability,
    };
    let conn = opener.open()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| LedgerError::db(format!("starting the ledger writer: {e}")))?;
    let (writer, inbox) = Writer::channel();
    let task = ThreadWriter {
        conn: Some(conn),
        opener,
        checkpoints: crate::sqlite_checkpoint::start(path)?,
    };
    std::thread::Builder::new()
        .name("ledger-writer".into())
        .spawn(move || rt.block_on(run_loop(task, inbox, max_len(max_batch))))
        .map_err(|e| LedgerError::db(format!("starting the ledger writer: {e}")))?;
    Ok(writer)
}

impl Attempt<Connection> for ThreadWriter {
    fn attempt<'a>(
        &'a mut self,
        jobs: &'a mut [Box<dyn Job<Connection>>],
    ) -> BoxFut<'a, Result<(), Failure>> {
        Box::pin(async move {
            let mut conn = match self.conn.take() {
                Some(c) => c,
                None => self.opener.open().map_err(Failure::Batch)?,
            };
            let r = match jobs {
                // Alone, a write's statements commit as they run (each is atomic and
                // guarded), as with sqlx.
                [job] if !job.atomic() => job
                    .run(&mut conn)
                    .await
                    .map_err(|e| Failure::Write(e, true)),
                _ => in_transaction(&mut conn, jobs).await,
            };
            if r.is_ok() {
                self.checkpoints.committed();
            }
            if matches!(r, Ok(()) | Err(Failure::Write(_, true))) {
                self.conn = Some(conn);
            }
            r
        })
    }
}

async fn in_transaction(
    conn: &mut Connection,
    jobs: &mut [Box<dyn Job<Connection>>],
) -> Result<(), Failure> {
    // IMMEDIATE takes the write lock up front: a reader's lock never makes it fail midway.
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| Failure::Batch(e.into()))?;
    for job in jobs.iter_mut() {
        if let Err(e) = job.run(conn).await {
            let clean = conn.execute_batch("ROLLBACK").is_ok();
            return Err(Failure::Write(e, clean));
        }
    }
    // A failed COMMIT (a deferred constraint) leaves the transaction open: the caller
    // drops this connection.
    conn.execute_batch("COMMIT")
        .map_err(|e| Failure::Batch(e.into()))
}

/// Binds `$N` parameters by their number: the SQL text is the one PostgreSQL runs, and
/// SQLite numbers named parameters in order of appearance, not by their digits.
fn bind(stmt: &mut CachedStatement<'_>, args: &[&dyn ToSql]) -> Result<(), LedgerError> {
    for i in 1..=stmt.parameter_count() {
        let n = stmt
            .parameter_name(i)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|d| d.parse::<usize>().ok())
            .ok_or_else(|| LedgerError::db(format!("parameter {i} is not $N")))?;
        let arg = args
            .get(n.wrapping_sub(1))
            .ok_or_else(|| LedgerError::db(format!("no argument for ${n}")))?;
        stmt.raw_bind_parameter(i, arg)?;
    }
    Ok(())
}

/// Runs a statement without rows; how many rows it changed.
pub(crate) fn exec(c: &Connection, sql: &str, args: &[&dyn ToSql]) -> Result<u64, LedgerError> {
    let mut stmt = c.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    let n = stmt.raw_execute()?;
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

/// Runs a statement and maps every row it returns (`UPDATE ... RETURNING` included).
pub(crate) fn rows<T>(
    c: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
    mut f: impl FnMut(&rusqlite::Row<'_>) -> Result<T, LedgerError>,
) -> Result<Vec<T>, LedgerError> {
    let mut stmt = c.prepare_cached(sql)?;
    bind(&mut stmt, args)?;
    let mut out = Vec::new();
    let mut rows = stmt.raw_query();
    while let Some(r) = rows.next()? {
        out.push(f(r)?);
    }
    Ok(out)
}

/// The first row a statement returns, if any (the statement still runs to its end).
pub(crate) fn row<T>(
    c: &Connection,
    sql: &str,
    args: &[&dyn ToSql],
    f: impl FnMut(&rusqlite::Row<'_>) -> Result<T, LedgerError>,
) -> Result<Option<T>, LedgerError> {
    Ok(rows(c, sql, args, f)?.into_iter().next())
}
