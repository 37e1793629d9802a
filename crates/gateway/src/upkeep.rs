//! Ledger upkeep while serving.
//!
//! A record left `received`/`sending` by a process that died must become `unknown` so
//! that retries are settled rather than hang on `in_progress`. Which records are
//! abandoned depends on who else writes the ledger:
//! - SQLite is one process's file: at start every in-flight record is abandoned.
//! - PostgreSQL is shared by replicas: each replica holds a lease it renews every
//!   `LEASE_RENEW` (see `ledger::lease`); every `LEASE_RENEW` each replica marks `unknown`
//!   the in-flight records of replicas whose lease expired (`LEASE_TTL` after their last
//!   renewal) or was released at a clean stop. A killed replica's orders are settleable
//!   within `LEASE_TTL + LEASE_RENEW` (18 s). A live replica's orders are never touched:
//!   its lease is live. Records without a holder (written before leases) fall back to the
//!   age rule: older than any vendor call can last (the longest overall deadline of the
//!   config's connections plus a margin).
//! - Periodically, on both stores, the same age rule catches a record whose outcome could
//!   not be written (placement runs to completion in its own task, so only a ledger
//!   failure at that moment leaves one behind).
//!
//! The periodic pass also publishes `orders_unknown` (a gauge: how many wait for
//! reconciliation), so the alert does not depend on someone opening the admin page.

use std::sync::Arc;
use std::time::Duration;

use ledger::{Ledger, RecordState};

use crate::state::{AppState, Runtime};

/// How often the periodic pass runs.
pub const PERIOD: Duration = Duration::from_secs(30);
/// Added to the longest vendor deadline before an in-flight record counts as abandoned.
pub const MARGIN: Duration = Duration::from_secs(60);

/// How long a replica's lease lasts after its last renewal.
pub const LEASE_TTL: Duration = Duration::from_secs(15);
/// How often a replica renews its lease and looks for expired ones: five renewals per
/// lease, so a slow ledger or a stalled moment does not cost a live replica its orders.
pub const LEASE_RENEW: Duration = Duration::from_secs(3);

/// The age after which an in-flight record cannot belong to a live call.
pub fn stale_after(runtime: &Runtime) -> Duration {
    let longest = runtime
        .connections
        .values()
        .map(|c| c.settings().timeouts.overall_ms)
        .max()
        .unwrap_or(0);
    Duration::from_millis(longest) + MARGIN
}

/// Why the start-up recovery failed (the gateway does not start).
#[derive(Debug, thiserror::Error)]
pub enum RecoveryError {
    #[error("ledger lease: {0}")]
    Lease(#[source] ledger::LedgerError),
    #[error("ledger recovery: {0}")]
    Recovery(#[source] ledger::LedgerError),
}

/// At start: marks abandoned records `unknown`; returns how many.
pub async fn recover_at_start(ledger: &Ledger, runtime: &Runtime) -> Result<u64, RecoveryError> {
    let n = match ledger {
        Ledger::Sqlite(_) => ledger.recover_on_start().await,
        Ledger::Postgres(_) => {
            // Our lease first: from here on other replicas leave our records alone.
            ledger
                .renew_lease(LEASE_TTL)
                .await
                .map_err(RecoveryError::Lease)?;
            let expired = ledger
                .recover_expired_holders()
                .await
                .map_err(RecoveryError::Recovery)?;
            ledger
                .recover_stale(stale_after(runtime))
                .await
                .map(|n| n + expired)
        }
    }
    .map_err(RecoveryError::Recovery)?;
    if n > 0 {
        tracing::warn!(
            recovered = n,
            "orders left in flight by a process that stopped are now `unknown`"
        );
    }
    Ok(n)
}

/// One periodic pass: stale in-flight records (shared ledgers only) and the gauge.
pub async fn pass(state: &AppState) {
    // Also on SQLite: a record whose outcome could not be written (the ledger failed at
    // that moment) must not answer `in_progress` until the next restart.
    {
        let age = stale_after(&state.runtime.load());
        match state.ledger.recover_stale(age).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                recovered = n,
                "orders in flight longer than any vendor call are now `unknown`"
            ),
            Err(e) => tracing::error!(error = %e, "ledger upkeep: recovery failed"),
        }
    }
    // One state's range of the index: counting every state read the whole ledger each pass.
    match state.ledger.count_in_state(RecordState::Unknown).await {
        Ok(unknown) => {
            metrics::gauge!(crate::metric_names::ORDERS_UNKNOWN).set(unknown as f64);
        }
        Err(e) => tracing::error!(error = %e, "ledger upkeep: count failed"),
    }
}

pub fn spawn(state: Arc<AppState>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PERIOD);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            pass(&state).await;
        }
    })
}

/// On a shared ledger: renews this replica's lease and settles expired replicas' orders,
/// every `LEASE_RENEW`. None on SQLite (one process; recovery at start covers it).
pub fn spawn_lease(state: Arc<AppState>) -> Option<tokio::task::JoinHandle<()>> {
    if !matches!(*state.ledger, Ledger::Postgres(_)) {
        return None;
    }
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval(LEASE_RENEW);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            lease_pass(&state.ledger).await;
        }
    }))
}

async fn lease_pass(ledger: &Ledger) {
    if let Err(e) = ledger.renew_lease(LEASE_TTL).await {
        metrics::counter!(crate::metric_names::LEDGER_LEASE_RENEW_FAILURES_TOTAL).increment(1);
        tracing::error!(error = %e, "ledger lease: renewal failed; other replicas settle this replica's in-flight orders if it stays failed");
    }
    match ledger.recover_expired_holders().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            recovered = n,
            "orders in flight on a replica whose lease expired are now `unknown`"
        ),
        Err(e) => tracing::error!(error = %e, "ledger lease: recovery failed"),
    }
}

/// At a stop: ends the lease, so other replicas settle at once whatever the drain cut.
pub async fn release_lease(ledger: &Ledger) {
    if matches!(ledger, Ledger::Postgres(_))
        && let Err(e) = ledger.release_lease().await
    {
        tracing::error!(error = %e, "ledger lease: release failed; it expires by itself");
    }
}
