//! Order lifecycle: each outcome transition of a record becomes an event (the order's
//! history) and, for a client with a webhook, an outbox row holding the payload to send.
//! Both are written by the write that changes the record, inside its batch transaction
//! (`lifecycle_store!`), so a change and its event commit together or not at all.
//!
//! Per-order order: events are numbered 1, 2, ... per order. The number is read and the
//! event inserted after the guarded `UPDATE` of the order's row, which (PostgreSQL) holds
//! that row's lock until commit, so two replicas never number two events of one order
//! alike; `UNIQUE (order_id, seq)` enforces it anyway.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use serde_json::{Value, json};

use crate::record::RecordState;

/// What a webhook receiver is told happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// The vendor took the order (the create's answer).
    Accepted,
    /// A later status of a taken order (status sync).
    StatusChanged,
    /// The outcome is unknown (timeout after sending, crash recovery).
    Unknown,
    /// An unknown order was settled (the caller's retry, or an operator).
    Settled,
    /// Refused or not placed.
    Failed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Accepted => "order.accepted",
            EventKind::StatusChanged => "order.status_changed",
            EventKind::Unknown => "order.unknown",
            EventKind::Settled => "order.settled",
            EventKind::Failed => "order.failed",
        }
    }

    /// The event of a record reaching `state` from in flight.
    pub(crate) fn of_outcome(state: RecordState) -> Self {
        match state {
            RecordState::Accepted => EventKind::Accepted,
            RecordState::Rejected | RecordState::Failed => EventKind::Failed,
            RecordState::Unknown => EventKind::Unknown,
            // Not an outcome; `finish` refuses these before queueing.
            RecordState::Received | RecordState::Sending => EventKind::Unknown,
        }
    }
}

/// Who changed the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventSource {
    /// The process that placed the order, from the vendor's answer (or its absence).
    Create,
    /// The background status sync, from a vendor lookup.
    Sync,
    /// An operator (`resolve-unknown`).
    Operator,
    /// A caller's retry of an unknown order, settled with the vendor.
    Reconcile,
    /// Crash recovery marking an in-flight record unknown.
    Recovery,
}

impl EventSource {
    pub fn as_str(self) -> &'static str {
        match self {
            EventSource::Create => "create",
            EventSource::Sync => "sync",
            EventSource::Operator => "operator",
            EventSource::Reconcile => "reconcile",
            EventSource::Recovery => "recovery",
        }
    }
}

/// One transition of an order, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Unique (`evt_` + UUIDv7); the webhook's `webhook-id`.
    pub event_id: String,
    pub order_id: String,
    /// 1, 2, ... per order.
    pub seq: i64,
    /// `order.accepted`, `order.status_changed`, `order.unknown`, `order.settled`, `order.failed`.
    pub kind: String,
    /// The record's state after the transition.
    pub state: RecordState,
    /// The canonical status (`accepted`, `pending`, `fulfilled`, ...) when known.
    pub status: Option<String>,
    /// `create`, `sync`, `operator`, `reconcile`, `recovery`.
    pub source: String,
    pub vendor_status: Option<String>,
    pub vendor_order_id: Option<String>,
    /// Tracking numbers or shipment refs the vendor reported (JSON), if any.
    pub tracking: Option<Value>,
    /// UTC, RFC 3339, microseconds.
    pub at: String,
}

/// One webhook delivery (an outbox row).
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub event_id: String,
    pub order_id: String,
    pub client: String,
    pub seq: i64,
    /// The JSON body to send, fixed when the event was written.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
    pub created_at: String,
    /// The retry window counts from here (the event's time, or its redelivery's).
    pub window_start: String,
}

/// What became of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempted {
    /// A 2xx: done.
    Delivered,
    /// Try again at this time (backoff); the error says why, without the payload.
    Retry {
        at: time::OffsetDateTime,
        error: String,
    },
    /// The window is over: listed as failed until redelivered.
    Failed { error: String },
    /// The receiver answered 410 Gone: the client's endpoint is disabled (every delivery
    /// of the client is held, this one too, still pending) until an operator redelivers
    /// or the client's webhook URL changes. `url_sha256` names the URL that was gone.
    Gone { error: String, url_sha256: String },
}

/// A client's webhook endpoint that answered 410 Gone, as the ledger holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisabledEndpoint {
    pub client: String,
    /// SHA-256 (hex) of the URL that answered 410.
    pub url_sha256: String,
    pub disabled_at: String,
    pub reason: String,
    /// The client's pending deliveries, held until it is enabled again.
    pub held: i64,
}

/// One client's undelivered events (pending, held included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backlog {
    pub client: String,
    pub pending: i64,
    /// When the oldest of them was written (UTC, RFC 3339).
    pub oldest_created_at: String,
}

/// An attempt as its outbox row records it.
pub(crate) struct AttemptCols<'a> {
    pub status: &'static str,
    pub next: String,
    pub error: Option<&'a str>,
    pub delivered_at: Option<String>,
}

impl Attempted {
    /// The row's new status, next attempt time, last error and delivery time, `at` now.
    pub(crate) fn columns(&self, at: String) -> AttemptCols<'_> {
        let (status, next, error) = match self {
            Attempted::Delivered => ("delivered", at.clone(), None),
            Attempted::Retry { at: next, error } => {
                ("pending", crate::rfc3339(*next), Some(error.as_str()))
            }
            Attempted::Failed { error } => ("failed", at.clone(), Some(error.as_str())),
            // Held, not failed: due as soon as the endpoint is enabled again.
            Attempted::Gone { error, .. } => ("pending", at.clone(), Some(error.as_str())),
        };
        AttemptCols {
            status,
            next,
            error,
            delivered_at: (status == "delivered").then_some(at),
        }
    }
}

/// The clients with a webhook: their events also get an outbox row. Set by the gateway
/// from its config (and on reload); a write takes a snapshot before it is queued.
#[derive(Default)]
pub(crate) struct Hooks(RwLock<Arc<HashSet<String>>>);

impl Hooks {
    pub fn set(&self, clients: HashSet<String>) {
        if let Ok(mut g) = self.0.write() {
            *g = Arc::new(clients);
        }
    }

    pub fn snapshot(&self) -> Arc<HashSet<String>> {
        match self.0.read() {
            Ok(g) => Arc::clone(&g),
            Err(_) => Arc::default(),
        }
    }
}

/// The columns a transition's `UPDATE ... RETURNING` gives back, for its event.
macro_rules! touched_cols {
    () => {
        " RETURNING id, client, order_ref, state, vendor_order_id, vendor_status, response"
    };
}

macro_rules! delivery_cols {
    () => {
        "event_id, order_id, client, seq, payload, status, attempts, next_attempt_at, last_error, created_at, window_start"
    };
}

/// A webhook claim as the writer runs it.
pub(crate) struct Claim {
    pub now: time::OffsetDateTime,
    pub until: String,
    pub limit: i64,
    pub holder: String,
}

/// Claims due deliveries (see `write_claim`); `$skip` is PostgreSQL's row locking.
macro_rules! claim_sql {
    ($skip:literal) => {
        concat!(
            "UPDATE webhook_outbox SET lease_until = $1, lease_holder = $4 WHERE event_id IN (",
            "SELECT o.event_id FROM webhook_outbox o WHERE o.status = 'pending' AND o.next_attempt_at <= $2 ",
            "AND (o.lease_until IS NULL OR o.lease_until <= $2 OR (o.lease_holder IS NOT NULL AND o.lease_holder <> $4 ",
            "AND NOT EXISTS (SELECT 1 FROM replica_leases l WHERE l.holder = o.lease_holder AND l.expires_at > $5))) ",
            "AND NOT EXISTS (SELECT 1 FROM webhook_endpoints e WHERE e.client = o.client) ",
            "AND NOT EXISTS (SELECT 1 FROM webhook_outbox p WHERE p.order_id = o.order_id AND p.status = 'pending' AND p.seq < o.seq) ",
            "ORDER BY o.next_attempt_at, o.event_id LIMIT $3 ",
            $skip,
            ") RETURNING ",
            delivery_cols!()
        )
    };
}

pub(crate) const EVENTS_OF_ORDER: &str = "SELECT event_id, order_id, seq, kind, state, status, source, vendor_status, vendor_order_id, tracking, at FROM order_events WHERE client = $1 AND order_id = $2 ORDER BY seq";

// The lifecycle writes' SQL, run by both engines (sqlx for PostgreSQL, rusqlite for SQLite).
pub(crate) const ATTEMPTED: &str = "UPDATE webhook_outbox SET status = $1, attempts = attempts + 1, next_attempt_at = $2, last_error = $3, delivered_at = $4, lease_until = NULL, lease_holder = NULL WHERE event_id = $5 AND status = 'pending'";

pub(crate) const DISABLE_ENDPOINT: &str = concat!(
    "INSERT INTO webhook_endpoints (client, url_sha256, disabled_at, reason) ",
    "SELECT client, $1, $2, $3 FROM webhook_outbox WHERE event_id = $4 ",
    "ON CONFLICT (client) DO UPDATE SET url_sha256 = excluded.url_sha256, disabled_at = excluded.disabled_at, reason = excluded.reason"
);

pub(crate) const RELEASE_CLAIM: &str = "UPDATE webhook_outbox SET lease_until = NULL, lease_holder = NULL WHERE event_id = $1 AND status = 'pending'";

pub(crate) const RELEASE_HELD: &str = "UPDATE webhook_outbox SET next_attempt_at = $1, window_start = $1 WHERE status = 'pending' AND client = $2";

pub(crate) const ENABLE_ALL: &str = "DELETE FROM webhook_endpoints RETURNING client";

pub(crate) const REDELIVER_ALL: &str = "UPDATE webhook_outbox SET status = 'pending', next_attempt_at = $1, window_start = $1, lease_until = NULL, lease_holder = NULL WHERE status = 'failed'";

pub(crate) const ENABLE_OF_EVENT: &str = "DELETE FROM webhook_endpoints WHERE client = (SELECT client FROM webhook_outbox WHERE event_id = $1) RETURNING client";

pub(crate) const REDELIVER_ONE: &str = "UPDATE webhook_outbox SET status = 'pending', next_attempt_at = $1, window_start = $1, lease_until = NULL, lease_holder = NULL WHERE status = 'failed' AND event_id = $2";

pub(crate) const ENABLE_CHANGED: &str =
    "DELETE FROM webhook_endpoints WHERE client = $1 AND url_sha256 <> $2 RETURNING client";

pub(crate) const NEXT_SEQ: &str =
    "SELECT COALESCE(MAX(seq), 0) + 1 FROM order_events WHERE order_id = $1";

pub(crate) const INSERT_EVENT: &str = "INSERT INTO order_events (event_id, order_id, client, seq, kind, state, status, source, vendor_status, vendor_order_id, tracking, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";

pub(crate) const INSERT_OUTBOX: &str = "INSERT INTO webhook_outbox (event_id, order_id, client, seq, payload, status, attempts, next_attempt_at, created_at, window_start) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)";

/// `id, client, order_ref, state, vendor_order_id, vendor_status, response`.
pub(crate) type Touched = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// An event about to be written, from the row its transition touched.
pub(crate) struct NewEvent<'a> {
    pub row: &'a Touched,
    pub kind: EventKind,
    pub source: EventSource,
    pub status: Option<String>,
    pub tracking: Option<&'a str>,
    /// What an operator found (`not_placed`, `placed`), on an operator's settlement: the
    /// receiver learns the outcome came from a person, not from the vendor.
    pub resolution: Option<&'static str>,
}

impl<'a> NewEvent<'a> {
    /// The canonical status is the answer's `status`, when the answer has one.
    pub fn new(row: &'a Touched, kind: EventKind, source: EventSource) -> Self {
        // Only `status` is read: the rest of the answer is skipped, not built.
        #[derive(serde::Deserialize)]
        struct StatusOnly<'s> {
            #[serde(borrow)]
            status: Option<std::borrow::Cow<'s, str>>,
        }
        let status = row
            .6
            .as_deref()
            .and_then(|t| serde_json::from_str::<StatusOnly<'_>>(t).ok())
            .and_then(|v| v.status.map(std::borrow::Cow::into_owned));
        NewEvent {
            row,
            kind,
            source,
            status,
            tracking: None,
            resolution: None,
        }
    }

    pub fn with_resolution(self, resolution: &'static str) -> Self {
        NewEvent {
            resolution: Some(resolution),
            ..self
        }
    }

    /// The webhook body (Standard Webhooks shape: `type`, `timestamp`, `data`). `result`
    /// is the canonical answer the caller got (ids, statuses, prices; no personal data).
    pub fn payload(&self, event_id: &str, seq: i64, at: &str) -> String {
        let r = self.row;
        let result =
            r.6.as_deref()
                .and_then(|t| serde_json::from_str::<Value>(t).ok());
        let tracking = self
            .tracking
            .and_then(|t| serde_json::from_str::<Value>(t).ok());
        let mut event = json!({
            "type": self.kind.as_str(),
            "timestamp": at,
            "data": {
                "eventId": event_id,
                "orderId": r.0,
                "orderRef": r.2,
                "seq": seq,
                "state": r.3,
                "status": self.status,
                "source": self.source.as_str(),
                "vendorStatus": r.5,
                "vendorOrderId": r.4,
                "tracking": tracking,
                "result": result,
            }
        });
        if let (Some(r), Some(data)) = (self.resolution, event["data"].as_object_mut()) {
            data.insert("resolution".into(), Value::from(r));
        }
        event.to_string()
    }
}

pub(crate) fn new_event_id() -> String {
    format!("evt_{}", uuid::Uuid::now_v7().simple())
}

/// The event writer and the reads, per backend (`Conn`, `Row`, `Db` as in `ledger_store!`).
macro_rules! lifecycle_store {
    ($store:ident) => {
        impl $store {
            /// Claims up to `limit` due deliveries, each for `lease` (another replica
            /// takes a row over only after its lease ran out, so the lease must outlast an
            /// attempt). Only the first pending event of an order is due: per-order order.
            /// PostgreSQL: `FOR UPDATE SKIP LOCKED`, so replicas claiming at once split
            /// the rows instead of waiting on, then re-sending, each other's.
            pub(crate) async fn claim_webhooks(
                &self,
                now: time::OffsetDateTime,
                lease: std::time::Duration,
                limit: u32,
            ) -> Result<Vec<crate::lifecycle::Delivery>, LedgerError> {
                let d = crate::lifecycle::Claim {
                    now,
                    until: crate::rfc3339(now + lease),
                    limit: i64::from(limit),
                    holder: self.holder.clone(),
                };
                self.writer
                    .submit(d, |c, d| Box::pin(write_claim(c, d)))
                    .await
            }

            pub(crate) async fn webhook_attempted(
                &self,
                event_id: &str,
                outcome: crate::lifecycle::Attempted,
            ) -> Result<bool, LedgerError> {
                let d = (event_id.to_owned(), outcome);
                self.writer
                    .submit(d, |c, d| Box::pin(write_attempted(c, &d.0, &d.1)))
                    .await
            }

            /// Gives a claimed, unattempted delivery back (its client's endpoint was
            /// just disabled): no attempt counted, no lease kept.
            pub(crate) async fn release_webhook_claim(
                &self,
                event_id: &str,
            ) -> Result<bool, LedgerError> {
                self.writer
                    .submit(event_id.to_owned(), |c, id| Box::pin(write_release_claim(c, id)))
                    .await
            }

            /// `failed` deliveries back to `pending`, due now, with a fresh window: the
            /// given events, or (none given) every failed one. A disabled endpoint of a
            /// given event's client (of every client, none given) is enabled again and its
            /// held deliveries are due now with a fresh window. Returns how many
            /// deliveries were made due.
            pub(crate) async fn redeliver_webhooks(
                &self,
                event_ids: Vec<String>,
            ) -> Result<u64, LedgerError> {
                self.writer
                    .submit(event_ids, |c, ids| Box::pin(write_redeliver(c, ids)))
                    .await
            }

            pub(crate) async fn failed_webhooks(
                &self,
                limit: u32,
            ) -> Result<Vec<crate::lifecycle::Delivery>, LedgerError> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    delivery_cols!(),
                    " FROM webhook_outbox WHERE status = 'failed' ORDER BY created_at, event_id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(self.reads())
                .await?;
                rows.iter().map(to_delivery).collect()
            }

            /// Enables the disabled endpoints whose client now has another URL (`current`:
            /// client -> SHA-256 of its configured URL); their held deliveries are due now
            /// with a fresh window. Returns the clients enabled.
            pub(crate) async fn reenable_changed_webhooks(
                &self,
                current: Vec<(String, String)>,
            ) -> Result<Vec<String>, LedgerError> {
                self.writer
                    .submit(current, |c, d| Box::pin(write_reenable_changed(c, d)))
                    .await
            }

            pub(crate) async fn disabled_webhook_endpoints(
                &self,
            ) -> Result<Vec<crate::lifecycle::DisabledEndpoint>, LedgerError> {
                let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
                    "SELECT e.client, e.url_sha256, e.disabled_at, e.reason, (SELECT COUNT(*) FROM webhook_outbox o WHERE o.client = e.client AND o.status = 'pending') FROM webhook_endpoints e ORDER BY e.disabled_at, e.client",
                )
                .fetch_all(self.reads())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(client, url_sha256, disabled_at, reason, held)| {
                        crate::lifecycle::DisabledEndpoint {
                            client,
                            url_sha256,
                            disabled_at,
                            reason,
                            held,
                        }
                    })
                    .collect())
            }

            pub(crate) async fn webhook_backlog(
                &self,
            ) -> Result<Vec<crate::lifecycle::Backlog>, LedgerError> {
                let rows: Vec<(String, i64, String)> = sqlx::query_as(
                    "SELECT client, COUNT(*), MIN(created_at) FROM webhook_outbox WHERE status = 'pending' GROUP BY client ORDER BY client",
                )
                .fetch_all(self.reads())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(client, pending, oldest_created_at)| crate::lifecycle::Backlog {
                        client,
                        pending,
                        oldest_created_at,
                    })
                    .collect())
            }

            pub(crate) fn set_webhook_clients(&self, clients: std::collections::HashSet<String>) {
                self.hooks.set(clients);
            }

            pub(crate) async fn events(
                &self,
                client: &str,
                order_id: &str,
            ) -> Result<Vec<crate::lifecycle::Event>, LedgerError> {
                let rows = sqlx::query(crate::lifecycle::EVENTS_OF_ORDER)
                    .bind(client)
                    .bind(order_id)
                    .fetch_all(self.reads())
                    .await?;
                rows.iter().map(to_event).collect()
            }

            /// A client's record and its events as of one moment (one read transaction,
            /// a snapshot on both engines), so the status, the record and the history
            /// agree even while a write lands between the two reads.
            pub(crate) async fn record_with_events(
                &self,
                client: &str,
                id: &str,
            ) -> Result<Option<(Record, Vec<crate::lifecycle::Event>)>, LedgerError> {
                let mut tx = self.reads().begin().await?;
                snapshot(&mut tx).await?;
                let Some(rec) = one(&mut *tx, crate::store::BY_CLIENT_AND_ID, client, id).await? else {
                    return Ok(None);
                };
                let rows = sqlx::query(crate::lifecycle::EVENTS_OF_ORDER)
                    .bind(client)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let events = rows.iter().map(to_event).collect::<Result<_, _>>()?;
                Ok(Some((rec, events)))
            }

            pub(crate) async fn outbox_of_order(
                &self,
                order_id: &str,
            ) -> Result<Vec<crate::lifecycle::Delivery>, LedgerError> {
                let rows = sqlx::query(concat!(
                    "SELECT ",
                    delivery_cols!(),
                    " FROM webhook_outbox WHERE order_id = $1 ORDER BY seq"
                ))
                .bind(order_id)
                .fetch_all(self.reads())
                .await?;
                rows.iter().map(to_delivery).collect()
            }
        }

        fn to_delivery(r: &Row) -> Result<crate::lifecycle::Delivery, LedgerError> {
            crate::store::delivery_from(r)
        }

        fn to_event(r: &Row) -> Result<crate::lifecycle::Event, LedgerError> {
            use sqlx::Row;
            let state: String = r.try_get("state")?;
            let tracking: Option<String> = r.try_get("tracking")?;
            Ok(crate::lifecycle::Event {
                event_id: r.try_get("event_id")?,
                order_id: r.try_get("order_id")?,
                seq: r.try_get("seq")?,
                kind: r.try_get("kind")?,
                state: RecordState::parse(&state)
                    .ok_or_else(|| LedgerError::db(format!("unknown state {state}")))?,
                status: r.try_get("status")?,
                source: r.try_get("source")?,
                vendor_status: r.try_get("vendor_status")?,
                vendor_order_id: r.try_get("vendor_order_id")?,
                tracking: tracking
                    .as_deref()
                    .map(serde_json::from_str)
                    .transpose()
                    .map_err(|e| LedgerError::db(format!("stored tracking: {e}")))?,
                at: r.try_get("at")?,
            })
        }
    };
}

/// The lifecycle writes over a sqlx connection (PostgreSQL; `$skip_locked` is its
/// `FOR UPDATE SKIP LOCKED`). SQLite has its own (`crate::sqlite_writes`).
macro_rules! lifecycle_writes {
    ($skip_locked:literal) => {
        /// Due: pending, its time come, not leased (or leased by a process whose replica
        /// lease is gone: killed or stopped, so the row is taken over at once), its
        /// client's endpoint not disabled, and no earlier pending event of its order.
        async fn write_claim(
            c: &mut Conn,
            d: &crate::lifecycle::Claim,
        ) -> Result<Vec<crate::lifecycle::Delivery>, LedgerError> {
            let rows = sqlx::query(claim_sql!($skip_locked))
                .bind(&d.until)
                .bind(crate::rfc3339(d.now))
                .bind(d.limit)
                .bind(&d.holder)
                .bind(ts(d.now))
                .fetch_all(c)
                .await?;
            rows.iter().map(to_delivery).collect()
        }

        async fn write_attempted(
            c: &mut Conn,
            event_id: &str,
            outcome: &crate::lifecycle::Attempted,
        ) -> Result<bool, LedgerError> {
            use crate::lifecycle::Attempted;
            let at = crate::rfc3339(time::OffsetDateTime::now_utc());
            let a = outcome.columns(at.clone());
            let n = sqlx::query(crate::lifecycle::ATTEMPTED)
                .bind(a.status)
                .bind(&a.next)
                .bind(a.error)
                .bind(&a.delivered_at)
                .bind(event_id)
                .execute(&mut *c)
                .await?
                .rows_affected();
            if let (1, Attempted::Gone { error, url_sha256 }) = (n, outcome) {
                sqlx::query(crate::lifecycle::DISABLE_ENDPOINT)
                    .bind(url_sha256)
                    .bind(&at)
                    .bind(error)
                    .bind(event_id)
                    .execute(&mut *c)
                    .await?;
            }
            Ok(n == 1)
        }

        async fn write_release_claim(c: &mut Conn, event_id: &str) -> Result<bool, LedgerError> {
            let n = sqlx::query(crate::lifecycle::RELEASE_CLAIM)
                .bind(event_id)
                .execute(c)
                .await?
                .rows_affected();
            Ok(n == 1)
        }

        /// Makes a client's held deliveries due now with a fresh window; how many.
        async fn release_held(c: &mut Conn, client: &str, now: &str) -> Result<u64, LedgerError> {
            Ok(sqlx::query(crate::lifecycle::RELEASE_HELD)
                .bind(now)
                .bind(client)
                .execute(c)
                .await?
                .rows_affected())
        }

        async fn write_redeliver(c: &mut Conn, ids: &[String]) -> Result<u64, LedgerError> {
            let now = crate::rfc3339(time::OffsetDateTime::now_utc());
            let mut n = 0;
            if ids.is_empty() {
                let gone: Vec<(String,)> = sqlx::query_as(crate::lifecycle::ENABLE_ALL)
                    .fetch_all(&mut *c)
                    .await?;
                for (client,) in gone {
                    n += release_held(c, &client, &now).await?;
                }
                n += sqlx::query(crate::lifecycle::REDELIVER_ALL)
                    .bind(&now)
                    .execute(c)
                    .await?
                    .rows_affected();
                return Ok(n);
            }
            for id in ids {
                let gone: Option<(String,)> = sqlx::query_as(crate::lifecycle::ENABLE_OF_EVENT)
                    .bind(id)
                    .fetch_optional(&mut *c)
                    .await?;
                if let Some((client,)) = gone {
                    n += release_held(c, &client, &now).await?;
                }
                n += sqlx::query(crate::lifecycle::REDELIVER_ONE)
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *c)
                    .await?
                    .rows_affected();
            }
            Ok(n)
        }

        async fn write_reenable_changed(
            c: &mut Conn,
            current: &[(String, String)],
        ) -> Result<Vec<String>, LedgerError> {
            let now = crate::rfc3339(time::OffsetDateTime::now_utc());
            let mut enabled = Vec::new();
            for (client, url_sha256) in current {
                let gone: Option<(String,)> = sqlx::query_as(crate::lifecycle::ENABLE_CHANGED)
                    .bind(client)
                    .bind(url_sha256)
                    .fetch_optional(&mut *c)
                    .await?;
                if let Some((client,)) = gone {
                    release_held(c, &client, &now).await?;
                    enabled.push(client);
                }
            }
            Ok(enabled)
        }

        /// Writes the event of a transition just applied (and its outbox row when the
        /// client has a webhook), on the transition's own connection.
        async fn write_event(
            c: &mut Conn,
            e: &crate::lifecycle::NewEvent<'_>,
            hooks: &std::collections::HashSet<String>,
        ) -> Result<(), LedgerError> {
            let r = e.row;
            let (seq,): (i64,) = sqlx::query_as(crate::lifecycle::NEXT_SEQ)
                .bind(&r.0)
                .fetch_one(&mut *c)
                .await?;
            let id = crate::lifecycle::new_event_id();
            let at = crate::rfc3339(time::OffsetDateTime::now_utc());
            sqlx::query(crate::lifecycle::INSERT_EVENT)
                .bind(&id)
                .bind(&r.0)
                .bind(&r.1)
                .bind(seq)
                .bind(e.kind.as_str())
                .bind(&r.3)
                .bind(&e.status)
                .bind(e.source.as_str())
                .bind(&r.5)
                .bind(&r.4)
                .bind(e.tracking)
                .bind(&at)
                .execute(&mut *c)
                .await?;
            if hooks.contains(&r.1) {
                sqlx::query(crate::lifecycle::INSERT_OUTBOX)
                    .bind(&id)
                    .bind(&r.0)
                    .bind(&r.1)
                    .bind(seq)
                    .bind(e.payload(&id, seq, &at))
                    .bind(&at)
                    .execute(&mut *c)
                    .await?;
            }
            Ok(())
        }
    };
}
