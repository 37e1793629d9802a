//! WAL checkpoints off the writer thread.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL past 1,000
//! pages, on the committing connection: here the writer thread, so every write queued
//! behind that batch waited for the checkpoint (copying the WAL's pages into the database
//! file and, with `synchronous=FULL`, an fsync of it). In a load run at a fixed 1,000
//! orders/s that was the tail: p99 an order of magnitude above p50.
//!
//! So the writer's connection checkpoints only as a last resort (`WRITER_AUTOCHECKPOINT`,
//! ten times SQLite's default, for a checkpointer that fell behind), and this thread does
//! the routine work with its own connection: a PASSIVE checkpoint, which never blocks the
//! writer or a reader (it copies what no reader still needs and leaves the rest for the
//! next round). It runs when the writer has committed `NUDGE_EVERY` batches since the last
//! nudge, and at least every `IDLE_ROUND` while the process lives; when the writer stops,
//! it runs once more and exits. Durability is unchanged: a commit is durable in the WAL
//! (fsynced at COMMIT with `FULL`) before any checkpoint copies it.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::time::Duration;

use rusqlite::Connection;

use crate::LedgerError;

/// The writer connection's own automatic checkpoint, in WAL pages: the fallback only.
pub(crate) const WRITER_AUTOCHECKPOINT: u32 = 10_000;
/// Batches committed between two nudges (a batch dirties a handful of pages, so this
/// keeps the WAL near SQLite's default 1,000 pages under load).
const NUDGE_EVERY: u32 = 128;
/// A round even without nudges, so a quiet ledger's WAL is folded in soon.
const IDLE_ROUND: Duration = Duration::from_secs(1);

/// The writer's side: counts batches and nudges the checkpointer.
pub(crate) struct Nudge {
    tx: SyncSender<()>,
    batches: u32,
}

impl Nudge {
    /// One more committed batch.
    pub(crate) fn committed(&mut self) {
        self.batches += 1;
        if self.batches >= NUDGE_EVERY {
            self.batches = 0;
            // Full: a round is already pending, which covers this one too.
            // Disconnected: the checkpointer is gone; the writer's fallback still holds.
            let _ = self.tx.try_send(());
        }
    }
}

/// Starts the checkpoint thread on its own connection to `path`. It ends after the
/// returned `Nudge` is dropped (the writer thread's end).
pub(crate) fn start(path: &str) -> Result<Nudge, LedgerError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let (tx, rx) = sync_channel(1);
    std::thread::Builder::new()
        .name("ledger-checkpoint".into())
        .spawn(move || run(&conn, &rx))
        .map_err(|e| LedgerError::db(format!("starting the ledger checkpointer: {e}")))?;
    Ok(Nudge { tx, batches: 0 })
}

fn run(conn: &Connection, rx: &Receiver<()>) {
    loop {
        let last = matches!(
            rx.recv_timeout(IDLE_ROUND),
            Err(RecvTimeoutError::Disconnected)
        );
        if let Err(e) = checkpoint(conn) {
            // Not fatal: the next round, or the writer's fallback, checkpoints.
            tracing::warn!(error = %e, "ledger WAL checkpoint failed");
        }
        if last {
            return;
        }
    }
}

/// One PASSIVE checkpoint (its row of page counts is not needed).
fn checkpoint(conn: &Connection) -> Result<(), LedgerError> {
    Ok(conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?)
}
