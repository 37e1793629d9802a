//! Status sync in the ledger: which accepted orders are followed, when each is read
//! next, and the write of what a read found.
//!
//! The gateway hands the ids a read needs ([`SyncStart::handle`], opaque here) with the
//! accepted outcome (`Finish::sync`), so they are stored in the same statement. Replicas
//! claim due orders for a lease ([`crate::Ledger::claim_sync`]; PostgreSQL: `FOR UPDATE
//! SKIP LOCKED`, so two replicas never read one order at once), and record each read
//! with [`crate::Ledger::record_status`]: a change of status, vendor status or tracking
//! updates the order and writes its `order.status_changed` event (and outbox row) in one
//! transaction; the next read is scheduled by the caller (the cadence is config).

use serde_json::Value;
use time::OffsetDateTime;

/// Start following an order: its read handle, the first read and the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncStart {
    /// What a read needs (vendor ids, never personal data); stored in `orders.lookup`.
    pub handle: Value,
    pub first_at: OffsetDateTime,
    /// No read is scheduled after this.
    pub until: OffsetDateTime,
}

/// A followed order whose read is due, claimed by this replica for a lease.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncDue {
    pub id: String,
    pub client: String,
    pub connection: String,
    pub vendor: String,
    pub handle: Value,
    pub status: Option<String>,
    pub vendor_status: Option<String>,
    pub tracking: Option<Value>,
    /// Reads done so far (the schedule's index of the next interval).
    pub step: i64,
    /// The horizon (UTC RFC 3339).
    pub until: String,
}

/// What a read found.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    /// Canonical (`processing`, `shipped`, `fulfilled`...).
    pub status: String,
    pub vendor_status: String,
    /// A JSON list; `None` when the vendor reported none.
    pub tracking: Option<Value>,
}

/// What to schedule after a read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextSync {
    /// Read again at `at`; `step` reads done.
    At { at: OffsetDateTime, step: i64 },
    /// Final status or horizon: not followed any more.
    Stop,
    /// Leave the schedule as it is (an on-demand refresh).
    Keep,
}

/// A `record_status` as the writer runs it (owned, serialised before queueing).
/// Claims followed orders whose read is due; `$skip` is PostgreSQL's row locking,
/// `$indexed` SQLite's index choice. Without it SQLite's planner (no statistics) took
/// `orders_by_state_id` for `state = 'accepted'`, i.e. read and sorted every accepted order
/// of the ledger at each poll, on the writer thread: a stall that grew with the ledger (a
/// 17 ms pause every second at 50,000 orders, the load run's p99 at 1,000 orders/s).
/// `orders_sync_due` holds only the followed orders, already in claim order.
macro_rules! claim_sync_sql {
    ($indexed:literal, $skip:literal) => {
        concat!(
            "UPDATE orders SET sync_lease_until = $1 WHERE id IN (",
            "SELECT o.id FROM orders o ",
            $indexed,
            "WHERE o.sync_next_at IS NOT NULL AND o.sync_next_at <= $2 ",
            "AND o.state = 'accepted' AND o.lookup IS NOT NULL ",
            "AND (o.sync_lease_until IS NULL OR o.sync_lease_until <= $2) ",
            "ORDER BY o.sync_next_at, o.id LIMIT $3 ",
            $skip,
            ") RETURNING id, client, connection, vendor, lookup, status, vendor_status, tracking, sync_step, sync_until"
        )
    };
}

pub(crate) const STATUS_CHANGE: &str = concat!(
    "UPDATE orders SET status = $1, vendor_status = $2, tracking = $3, updated_at = $4 ",
    "WHERE id = $5 AND state = 'accepted' AND NOT (COALESCE(status, '') = $1 ",
    "AND COALESCE(vendor_status, '') = $2 AND COALESCE(tracking, '') = COALESCE($3, ''))",
    touched_cols!()
);

pub(crate) const SCHEDULE: &str = "UPDATE orders SET sync_next_at = $1, sync_step = COALESCE($2, sync_step), sync_lease_until = NULL WHERE id = $3";

impl NextSync {
    /// `sync_next_at` and `sync_step` as the schedule write sets them; `None`: no write.
    pub(crate) fn columns(&self) -> Option<(Option<String>, Option<i64>)> {
        match *self {
            NextSync::Keep => None,
            NextSync::Stop => Some((None, None)),
            NextSync::At { at, step } => Some((Some(crate::rfc3339(at)), Some(step))),
        }
    }
}

pub(crate) struct StatusWrite {
    pub id: String,
    pub update: Option<(String, String, Option<String>)>,
    pub next: NextSync,
    pub hooks: std::sync::Arc<std::collections::HashSet<String>>,
}

/// Claim and record, per backend (`Conn`, `Row`, `now` as in `ledger_store!`).
macro_rules! sync_store {
    ($store:ident) => {
        impl $store {
            pub(crate) async fn claim_sync(
                &self,
                now: time::OffsetDateTime,
                lease: std::time::Duration,
                limit: u32,
            ) -> Result<Vec<crate::sync::SyncDue>, LedgerError> {
                let d = (
                    crate::rfc3339(now),
                    crate::rfc3339(now + lease),
                    i64::from(limit),
                );
                self.writer
                    .submit(d, |c, d| Box::pin(write_claim_sync(c, &d.0, &d.1, d.2)))
                    .await
            }

            pub(crate) async fn record_status(
                &self,
                id: &str,
                update: Option<crate::sync::StatusUpdate>,
                next: crate::sync::NextSync,
            ) -> Result<bool, LedgerError> {
                let update = update
                    .map(|u| {
                        let tracking =
                            u.tracking
                                .as_ref()
                                .map(serde_json::to_string)
                                .transpose()
                                .map_err(|e| LedgerError::Invalid(format!("tracking: {e}")))?;
                        Ok::<_, LedgerError>((u.status, u.vendor_status, tracking))
                    })
                    .transpose()?;
                let w = crate::sync::StatusWrite {
                    id: id.to_owned(),
                    update,
                    next,
                    hooks: self.hooks.snapshot(),
                };
                self.writer
                    .submit_atomic(w, |c, w| Box::pin(write_status(c, w)))
                    .await
            }
        }
    };
}

/// The status sync's writes over a sqlx connection (PostgreSQL; `$skip_locked` as in
/// `lifecycle_writes!`). SQLite has its own (`crate::sqlite_writes`).
macro_rules! sync_writes {
    ($skip_locked:literal) => {
        fn to_sync_due(r: &Row) -> Result<crate::sync::SyncDue, LedgerError> {
            crate::store::sync_due_from(r)
        }

        async fn write_claim_sync(
            c: &mut Conn,
            now: &str,
            until: &str,
            limit: i64,
        ) -> Result<Vec<crate::sync::SyncDue>, LedgerError> {
            let rows = sqlx::query(claim_sync_sql!("", $skip_locked))
                .bind(until)
                .bind(now)
                .bind(limit)
                .fetch_all(c)
                .await?;
            rows.iter().map(to_sync_due).collect()
        }

        /// The read's change (if anything the caller sees changed) with its event, then
        /// the schedule, in the batch's transaction. Returns whether the order changed.
        async fn write_status(
            c: &mut Conn,
            w: &crate::sync::StatusWrite,
        ) -> Result<bool, LedgerError> {
            use crate::lifecycle::{EventKind, EventSource, NewEvent};
            let mut changed = false;
            if let Some((status, vendor_status, tracking)) = &w.update {
                let row: Option<crate::lifecycle::Touched> =
                    sqlx::query_as(crate::sync::STATUS_CHANGE)
                        .bind(status)
                        .bind(vendor_status)
                        .bind(tracking)
                        .bind(now())
                        .bind(&w.id)
                        .fetch_optional(&mut *c)
                        .await?;
                if let Some(row) = row {
                    let mut e = NewEvent::new(&row, EventKind::StatusChanged, EventSource::Sync);
                    e.status = Some(status.clone());
                    e.tracking = tracking.as_deref();
                    write_event(c, &e, &w.hooks).await?;
                    changed = true;
                }
            }
            let Some((next, step)) = w.next.columns() else {
                return Ok(changed);
            };
            sqlx::query(crate::sync::SCHEDULE)
                .bind(next)
                .bind(step)
                .bind(&w.id)
                .execute(&mut *c)
                .await?;
            Ok(changed)
        }
    };
}
