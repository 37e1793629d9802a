//! Status sync: following accepted orders at the vendor after the create's answer.
//!
//! At create time the route turns the order and the vendor's answer into a read handle
//! (`PreparedRoute::sync_handle`: vendor ids only), stored with the accepted outcome in
//! one ledger write together with the first read's time ([`start`]). This worker (one per
//! replica) claims due orders every [`POLL`] ([`ledger::Ledger::claim_sync`]: replicas on
//! PostgreSQL split them, `FOR UPDATE SKIP LOCKED`), reads each through its connection
//! with the connector alone (`Connector::status_lookup`, `interpret_status`; no route,
//! since routes can be reloaded away, and no order body, which the ledger never holds),
//! and records what it found ([`ledger::Ledger::record_status`]): a change of canonical
//! status, vendor status or tracking becomes an `order.status_changed` event (source
//! `sync`) and webhook outbox row in the same transaction; then the next read is
//! scheduled per the connection's cadence ([`cadence`]).
//!
//! Decisions:
//! - Final statuses end sync: fulfilled, cancelled, failed, rejected (and a quote, which
//!   placed nothing). `shipped` is NOT final: a shipped order still becomes delivered /
//!   fulfilled (Juniper FULFILLED, Impilo DELIVERED), and may gain tracking numbers; the
//!   horizon stops it if the vendor never says so.
//! - A failed read (vendor error, refused by the limiter, unreadable answer, a status the
//!   connector maps to `unknown`) never changes the order: it is retried one step later
//!   on the schedule (the same backoff), and counted.
//! - Reads are background calls: they share the connection's rate budget at a lower
//!   priority ([`outbound::ConnectionClient::admit_background`]) and never wait for it.
//! - A connection removed by a reload: its orders are retried on the schedule (it may
//!   come back) until the horizon.

pub mod cadence;

use std::sync::Arc;
use std::time::Duration;

use connector::{StatusReading, SyncHandle};
use ledger::{NextSync, StatusUpdate, SyncDue, SyncStart};
use order_model::{OrderStatus, VendorOrder};
use time::OffsetDateTime;

use crate::state::AppState;

pub const POLL: Duration = Duration::from_secs(1);
/// How long a claimed order is this replica's (longer than a read can take).
pub const LEASE: Duration = Duration::from_secs(120);
const BATCH: u32 = 32;

/// What a create's accepted answer starts: `None` when the vendor has no read, the
/// status is already final, or the connection's sync is off.
pub fn start(
    state: &AppState,
    connection: &str,
    prepared: &dyn connector::PreparedRoute,
    order: &order_model::CanonicalOrder,
    answer: &VendorOrder,
) -> Option<SyncStart> {
    if connector::sync::is_final(answer.status) {
        return None;
    }
    let runtime = state.runtime.load();
    let cadence = runtime.sync.get(connection)?;
    if !cadence.enabled {
        return None;
    }
    let handle = prepared.sync_handle(order, answer)?;
    let (first_at, until) = cadence.start(OffsetDateTime::now_utc());
    Some(SyncStart {
        handle,
        first_at,
        until,
    })
}

/// Why a read found nothing to record (the `result` label of `order_sync_lookups_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotRead {
    /// The limiter (or breaker, or in-flight cap) refused it: creates come first.
    Refused,
    /// The vendor answered with an error, or the call failed.
    Failed,
    /// The answer was not a status we know (`unknown`), or not about this order.
    Unreadable,
    /// No read possible: the vendor has none, or the connection is gone.
    NotPossible,
}

impl NotRead {
    pub fn as_str(self) -> &'static str {
        match self {
            NotRead::Refused => "refused",
            NotRead::Failed => "failed",
            NotRead::Unreadable => "unreadable",
            NotRead::NotPossible => "not_possible",
        }
    }
}

/// One read of an order's status now, through its connection's background budget.
pub async fn read(
    state: &AppState,
    connection: &str,
    vendor: &str,
    handle: &SyncHandle,
) -> Result<StatusReading, NotRead> {
    let connector = state
        .registry
        .get(vendor)
        .map(|e| e.connector.clone())
        .ok_or(NotRead::NotPossible)?;
    let conn = state
        .runtime
        .load()
        .connections
        .get(connection)
        .cloned()
        .ok_or(NotRead::NotPossible)?;
    let request = connector
        .status_lookup(handle)
        .ok_or(NotRead::NotPossible)?;
    let admission = conn
        .admit_background()
        .await
        .map_err(|_| NotRead::Refused)?;
    let sent = admission
        .send(&request)
        .await
        .map_err(|_| NotRead::Failed)?;
    match connector.interpret_status(handle, &sent.response) {
        Ok(r) if r.status == OrderStatus::Unknown => Err(NotRead::Unreadable),
        Ok(r) => Ok(r),
        Err(f) if matches!(f.class, connector::FailureClass::BadResponse { .. }) => {
            Err(NotRead::Unreadable)
        }
        Err(_) => Err(NotRead::Failed),
    }
}

/// The ledger's form of a reading.
pub fn update_of(r: &StatusReading) -> StatusUpdate {
    StatusUpdate {
        status: r.status.as_str().to_owned(),
        vendor_status: r.vendor_status.clone(),
        tracking: (!r.tracking.is_empty())
            .then(|| serde_json::to_value(&r.tracking).ok())
            .flatten(),
    }
}

/// Counts a read and, when it changed the order, the transition.
pub fn count(connection: &str, result: Result<&StatusReading, NotRead>, changed: bool) {
    let label = match result {
        Ok(_) if changed => "changed",
        Ok(_) => "unchanged",
        Err(e) => e.as_str(),
    };
    metrics::counter!(crate::metric_names::ORDER_SYNC_LOOKUPS_TOTAL, "connection" => connection.to_owned(), "result" => label).increment(1);
    if let (Ok(r), true) = (result, changed) {
        metrics::counter!(crate::metric_names::ORDER_STATUS_TRANSITIONS_TOTAL, "connection" => connection.to_owned(), "source" => "sync", "status" => r.status.as_str()).increment(1);
    }
}

/// The sync loop.
pub fn spawn(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let due = match state
                .ledger
                .claim_sync(OffsetDateTime::now_utc(), LEASE, BATCH)
                .await
            {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "sync: claiming due orders failed");
                    continue;
                }
            };
            for d in due {
                follow(&state, &d).await;
            }
        }
    })
}

/// One due order: read, record, schedule.
async fn follow(state: &AppState, d: &SyncDue) {
    let result = read(state, &d.connection, &d.vendor, &d.handle).await;
    let next = next_read(state, d, result.as_ref().ok());
    let update = result.as_ref().ok().map(update_of);
    match state.ledger.record_status(&d.id, update, next).await {
        Ok(changed) => {
            count(&d.connection, result.as_ref().map_err(|e| *e), changed);
            if changed && let Ok(r) = &result {
                tracing::info!(order_id = %d.id, status = r.status.as_str(), vendor_status = %r.vendor_status, "sync: order status changed");
            }
        }
        Err(e) => {
            tracing::error!(error = %e, order_id = %d.id, "sync: recording a read failed; the lease expiry retries it");
        }
    }
}

/// After a read: stop at a final status or the horizon, else the next step. A failed read
/// moves one step on too (backoff on the same schedule).
fn next_read(state: &AppState, d: &SyncDue, reading: Option<&StatusReading>) -> NextSync {
    if reading.is_some_and(|r| connector::sync::is_final(r.status)) {
        return NextSync::Stop;
    }
    let runtime = state.runtime.load();
    let cadence = runtime.sync.get(&d.connection).cloned().unwrap_or_default();
    if !cadence.enabled {
        return NextSync::Stop;
    }
    let now = OffsetDateTime::now_utc();
    let until = OffsetDateTime::parse(&d.until, &time::format_description::well_known::Rfc3339)
        .unwrap_or(now);
    let step = d.step.saturating_add(1);
    match cadence.next(step, now, until) {
        Some(at) => NextSync::At { at, step },
        None => NextSync::Stop,
    }
}
