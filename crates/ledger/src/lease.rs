//! Replica leases: which process holds an in-flight record, and whether it is alive.
//!
//! Every record a process puts in flight (`received`/`sending`) carries that process's
//! holder name. A process sharing the ledger with others (PostgreSQL) renews a lease row
//! every few seconds; any replica's upkeep marks in-flight records `unknown` once their
//! holder's lease has expired or was released. So a killed replica's orders are
//! settleable (`unknown`, answered 409 `outcome_unknown` with what to do) within about one
//! lease of its death, instead of after the longest vendor deadline plus a margin. The
//! age rule (`Ledger::recover_stale`) stays as the backstop for records with no holder.
//!
//! Lease times come from the writing replica's clock: replicas' clocks must agree to well
//! within a lease (NTP keeps them to milliseconds; a lease is seconds).

/// A name unique to this process: the host (the pod name in Kubernetes, so an operator
/// sees which replica held an order) and a fresh UUID (a restarted pod is a new holder).
pub(crate) fn new_holder() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    let host: String = host
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .take(63)
        .collect();
    let id = uuid::Uuid::new_v4().simple().to_string();
    if host.is_empty() {
        id
    } else {
        format!("{host}/{id}")
    }
}
