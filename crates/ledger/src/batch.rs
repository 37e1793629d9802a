//! Group commit: every write goes to one writer task, which runs whatever is queued (up to
//! `max_batch` writes) in ONE transaction and answers each caller after the commit. A
//! batch closes when it is full or when the queue is empty: there is no linger, so one
//! write alone is committed at once, and under load the writes that queued while a batch
//! was committing form the next one. A commit (and with SQLite `synchronous=FULL`, its
//! fsync) is paid once per batch instead of once per write. A batch of one runs without
//! BEGIN/COMMIT (autocommit), so at low load a write costs what it did before batching.
//!
//! Failures:
//! - a write's own statement fails (e.g. a primary-key clash of one caller's `begin`): the
//!   batch is rolled back and each of its writes runs again alone (autocommit), so
//!   every caller gets its own answer and one caller's error fails no one
//!   else. The rolled-back attempt left nothing behind, so running a write again is safe.
//!   This also clears a PostgreSQL deadlock between two replicas' batches: the victim's
//!   batch releases its locks and its writes retry one by one.
//! - the batch's `BEGIN` or `COMMIT` fails: EVERY caller in it gets the error; none is told
//!   its write was recorded. The connection is dropped (the next batch opens a fresh one),
//!   so a transaction the database may have left half-open never leaks into the next batch.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use sqlx::{Connection, Database, Pool};
use tokio::sync::{mpsc, oneshot};

use crate::LedgerError;

pub(crate) type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A write as the writer runs it: statements on the batch's connection, inside its
/// transaction. It may run twice (see the module doc), so it reads only its own data.
pub(crate) type Op<C, D, T> = for<'a> fn(&'a mut C, &'a D) -> BoxFut<'a, Result<T, LedgerError>>;

/// The default and the bound for `maxBatch`.
pub const DEFAULT_MAX_BATCH: u32 = 64;

/// One caller's write, with its result type erased so one queue carries every kind.
pub(crate) trait Job<C>: Send {
    /// Runs the write; the result is kept until the batch's outcome is known.
    fn run<'a>(&'a mut self, c: &'a mut C) -> BoxFut<'a, Result<(), LedgerError>>;
    /// Answers the caller: the kept result if the batch committed, else `failed`.
    fn answer(self: Box<Self>, failed: Option<LedgerError>);
    /// Runs several statements that must commit together, so even alone it runs in a
    /// transaction (never in autocommit).
    fn atomic(&self) -> bool;
}

struct Typed<C, D, T> {
    data: D,
    op: Op<C, D, T>,
    out: Option<T>,
    reply: oneshot::Sender<Result<T, LedgerError>>,
    atomic: bool,
}

impl<C: Send, D: Send + Sync, T: Send> Job<C> for Typed<C, D, T> {
    fn run<'a>(&'a mut self, c: &'a mut C) -> BoxFut<'a, Result<(), LedgerError>> {
        Box::pin(async move {
            let v = (self.op)(c, &self.data).await?;
            self.out = Some(v);
            Ok(())
        })
    }

    fn answer(self: Box<Self>, failed: Option<LedgerError>) {
        let r = match failed {
            Some(e) => Err(e),
            None => self
                .out
                .ok_or_else(|| LedgerError::db("the ledger write produced no result")),
        };
        // The caller may have gone away (its request was dropped); the write stands.
        let _ = self.reply.send(r);
    }

    fn atomic(&self) -> bool {
        self.atomic
    }
}

pub(crate) enum Msg<C> {
    Job(Box<dyn Job<C>>),
    /// Stop after the writes queued before this one.
    Close,
}

/// How big the batches were: batches by size class (1, 2-3, 4-7, ... doubling).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub batches: u64,
    pub writes: u64,
    /// `(smallest, largest, batches)` per size class, smallest first.
    pub by_size: Vec<(u64, u64, u64)>,
}

const SIZE_CLASSES: usize = 8;

#[derive(Default)]
pub(crate) struct Counters {
    writes: AtomicU64,
    by_class: [AtomicU64; SIZE_CLASSES],
}

impl Counters {
    fn record(&self, n: usize) {
        self.writes.fetch_add(n as u64, Ordering::Relaxed);
        let class = (usize::BITS - 1 - n.max(1).leading_zeros()) as usize;
        self.by_class[class.min(SIZE_CLASSES - 1)].fetch_add(1, Ordering::Relaxed);
        metrics::histogram!(crate::metric_names::LEDGER_BATCH_SIZE).record(n as f64);
    }

    fn snapshot(&self) -> BatchStats {
        let by_size: Vec<(u64, u64, u64)> = self
            .by_class
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let top = if i + 1 == SIZE_CLASSES {
                    u64::MAX
                } else {
                    (1 << (i + 1)) - 1
                };
                (1 << i, top, c.load(Ordering::Relaxed))
            })
            .collect();
        BatchStats {
            batches: by_size.iter().map(|c| c.2).sum(),
            writes: self.writes.load(Ordering::Relaxed),
            by_size,
        }
    }
}

/// The handle the store keeps: submit writes, read stats, close. `C` is the connection
/// the writes run on: a sqlx connection (`start`, PostgreSQL) or a SQLite connection of
/// the writer's own thread (`crate::sqlite_writer`).
pub(crate) struct Writer<C> {
    queue: mpsc::UnboundedSender<Msg<C>>,
    /// Writes submitted and not yet taken into a batch.
    queued: Arc<AtomicUsize>,
    counters: Arc<Counters>,
    /// Answered when the writer has stopped.
    stopped: std::sync::Mutex<Option<oneshot::Receiver<()>>>,
}

/// What a writer loop gets from its handle.
pub(crate) struct Inbox<C> {
    pub rx: mpsc::UnboundedReceiver<Msg<C>>,
    pub queued: Arc<AtomicUsize>,
    pub counters: Arc<Counters>,
    pub stopped: oneshot::Sender<()>,
}

impl<C> Inbox<C> {
    /// The next batch: waits for one write (`None`: closing and nothing is left), then
    /// takes what is already queued, up to `max`, never waiting for more.
    pub(crate) fn take(
        &mut self,
        first: Option<Msg<C>>,
        max: usize,
        closing: &mut bool,
    ) -> Option<Vec<Box<dyn Job<C>>>> {
        let mut batch = match first {
            Some(Msg::Job(j)) => vec![j],
            Some(Msg::Close) | None => return None,
        };
        while batch.len() < max {
            match self.rx.try_recv() {
                Ok(Msg::Job(j)) => batch.push(j),
                Ok(Msg::Close) => {
                    *closing = true;
                    break;
                }
                Err(_) => break,
            }
        }
        self.queued.fetch_sub(batch.len(), Ordering::SeqCst);
        self.counters.record(batch.len());
        Some(batch)
    }
}

impl<C: Send + 'static> Writer<C> {
    /// A handle and the inbox its writer loop reads.
    pub(crate) fn channel() -> (Self, Inbox<C>) {
        let (queue, rx) = mpsc::unbounded_channel();
        let (stopped_tx, stopped_rx) = oneshot::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let counters = Arc::new(Counters::default());
        (
            Writer {
                queue,
                queued: queued.clone(),
                counters: counters.clone(),
                stopped: std::sync::Mutex::new(Some(stopped_rx)),
            },
            Inbox {
                rx,
                queued,
                counters,
                stopped: stopped_tx,
            },
        )
    }

    /// Queues one write and waits for its answer (given after its batch committed).
    /// Alone in its batch it runs in autocommit: only for a write whose effect is one
    /// statement.
    pub(crate) async fn submit<D, T>(&self, data: D, op: Op<C, D, T>) -> Result<T, LedgerError>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
    {
        self.enqueue(data, op, false).await
    }

    /// `submit` for a write of several statements that must commit together (a
    /// transition and its event): it runs in a transaction even when alone.
    pub(crate) async fn submit_atomic<D, T>(
        &self,
        data: D,
        op: Op<C, D, T>,
    ) -> Result<T, LedgerError>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
    {
        self.enqueue(data, op, true).await
    }

    async fn enqueue<D, T>(&self, data: D, op: Op<C, D, T>, atomic: bool) -> Result<T, LedgerError>
    where
        D: Send + Sync + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Typed {
            data,
            op,
            out: None,
            reply,
            atomic,
        });
        self.queued.fetch_add(1, Ordering::SeqCst);
        if self.queue.send(Msg::Job(job)).is_err() {
            self.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(LedgerError::db("the ledger is closed"));
        }
        answer
            .await
            .map_err(|_| LedgerError::db("the ledger closed before this write ran"))?
    }

    pub(crate) fn queued(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    pub(crate) fn stats(&self) -> BatchStats {
        self.counters.snapshot()
    }

    /// Runs what is queued, then stops the writer; later writes fail as closed.
    pub(crate) async fn close(&self) {
        let _ = self.queue.send(Msg::Close);
        let stopped = self.stopped.lock().ok().and_then(|mut t| t.take());
        if let Some(stopped) = stopped {
            let _ = stopped.await;
        }
    }
}

/// Starts a sqlx writer task. `begin_sql` opens a batch's transaction.
pub(crate) fn start<DB: Database>(
    pool: Pool<DB>,
    begin_sql: &'static str,
    max_batch: u32,
) -> Writer<DB::Connection> {
    let (writer, inbox) = Writer::channel();
    let task = WriterTask { pool, begin_sql };
    tokio::spawn(run_loop(task, inbox, max_len(max_batch)));
    writer
}

/// `maxBatch` as a length (at least one).
pub(crate) fn max_len(max_batch: u32) -> usize {
    usize::try_from(max_batch.max(1)).unwrap_or(1)
}

struct WriterTask<DB: Database> {
    pool: Pool<DB>,
    begin_sql: &'static str,
}

/// One batch's writes.
pub(crate) type Jobs<C> = Vec<Box<dyn Job<C>>>;

/// Why a batch did not commit.
pub(crate) enum Failure {
    /// One write's statement failed; the transaction was rolled back (`true`: cleanly).
    Write(LedgerError, bool),
    /// `BEGIN` or `COMMIT` (or getting a connection) failed: the whole batch is lost.
    Batch(LedgerError),
}

/// Runs writes in one transaction on some connection (see `commit`).
pub(crate) trait Attempt<C> {
    /// One transaction over `jobs` (a lone non-atomic write in autocommit). A failure
    /// rolls it back; unless that surely worked, the connection is replaced, so no
    /// half-open transaction reaches the next batch.
    fn attempt<'a>(
        &'a mut self,
        jobs: &'a mut [Box<dyn Job<C>>],
    ) -> BoxFut<'a, Result<(), Failure>>;
}

/// Runs `batch` in one transaction and answers every caller (draining `batch`).
pub(crate) async fn commit<C>(runner: &mut impl Attempt<C>, batch: &mut Jobs<C>) {
    match runner.attempt(batch).await {
        Ok(()) => batch.drain(..).for_each(|j| j.answer(None)),
        Err(Failure::Batch(e)) => {
            tracing::warn!(writes = batch.len(), error = %e, "ledger: a batch failed to commit");
            let message = e.to_string();
            let source = match &e {
                LedgerError::Db { source, .. } => source.clone(),
                LedgerError::Config(_) | LedgerError::Invalid(_) => None,
            };
            batch.drain(..).for_each(|j| {
                j.answer(Some(LedgerError::Db {
                    message: message.clone(),
                    source: source.clone(),
                }));
            });
        }
        Err(Failure::Write(e, _)) if batch.len() == 1 => {
            if let Some(j) = batch.pop() {
                j.answer(Some(e));
            }
        }
        Err(Failure::Write(..)) => {
            for mut job in batch.drain(..) {
                let failed = match runner.attempt(std::slice::from_mut(&mut job)).await {
                    Ok(()) => None,
                    Err(Failure::Write(e, _) | Failure::Batch(e)) => Some(e),
                };
                job.answer(failed);
            }
        }
    }
}

/// Runs a writer loop: batch after batch until closed, then says it stopped.
pub(crate) async fn run_loop<C>(
    mut runner: impl Attempt<C>,
    mut inbox: Inbox<C>,
    max_batch: usize,
) {
    let mut closing = false;
    while !closing {
        let first = inbox.rx.recv().await;
        let Some(mut batch) = inbox.take(first, max_batch, &mut closing) else {
            break;
        };
        commit(&mut runner, &mut batch).await;
    }
    let _ = inbox.stopped.send(());
}

impl<DB: Database> Attempt<DB::Connection> for WriterTask<DB> {
    fn attempt<'a>(
        &'a mut self,
        jobs: &'a mut [Box<dyn Job<DB::Connection>>],
    ) -> BoxFut<'a, Result<(), Failure>> {
        Box::pin(self.attempt_sqlx(jobs))
    }
}

impl<DB: Database> WriterTask<DB> {
    async fn attempt_sqlx(&self, jobs: &mut [Box<dyn Job<DB::Connection>>]) -> Result<(), Failure> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(|e| Failure::Batch(e.into()))?;
        let r = match jobs {
            // A write alone needs no BEGIN/COMMIT round trips: its statements commit as
            // they run, as they did before batching (each is atomic and guarded).
            [job] if !job.atomic() => job
                .run(&mut conn)
                .await
                .map_err(|e| Failure::Write(e, true)),
            _ => self.in_transaction(&mut conn, jobs).await,
        };
        if !matches!(r, Ok(()) | Err(Failure::Write(_, true))) {
            conn.close_on_drop();
        }
        r
    }

    async fn in_transaction(
        &self,
        conn: &mut DB::Connection,
        jobs: &mut [Box<dyn Job<DB::Connection>>],
    ) -> Result<(), Failure> {
        let mut tx = conn
            .begin_with(self.begin_sql)
            .await
            .map_err(|e| Failure::Batch(e.into()))?;
        for job in jobs.iter_mut() {
            if let Err(e) = job.run(&mut tx).await {
                let clean = tx.rollback().await.is_ok();
                return Err(Failure::Write(e, clean));
            }
        }
        tx.commit().await.map_err(|e| Failure::Batch(e.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_classes_double() {
        let c = Counters::default();
        for n in [1, 2, 3, 4, 31, 32, 64, 500] {
            c.record(n);
        }
        let s = c.snapshot();
        assert_eq!((s.batches, s.writes), (8, 637));
        let count = |lo: u64| s.by_size.iter().find(|b| b.0 == lo).map(|b| b.2);
        assert_eq!(count(1), Some(1));
        assert_eq!(count(2), Some(2));
        assert_eq!(count(4), Some(1));
        assert_eq!(count(16), Some(1));
        assert_eq!(count(32), Some(1));
        assert_eq!(count(64), Some(1));
        assert_eq!(count(128), Some(1));
        assert_eq!(s.by_size.last().map(|b| b.1), Some(u64::MAX));
    }
}
