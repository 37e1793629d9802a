//! Every metric name the gateway process exports, in one place: the gateway's own here,
//! the outbound stack's and the ledger's re-exported from their crates. Dashboards,
//! alerts and the console read these spellings; the test `metric_names` refuses a name
//! written at a call site.

pub use ledger::metric_names::*;
pub use outbound::metric_names::*;

/// Counter: orders finished (`connection`, `outcome`).
pub const ORDERS_TOTAL: &str = "orders_total";
/// Counter: unknown orders looked up at the vendor (`connection`, `result`).
pub const ORDERS_RECONCILED_TOTAL: &str = "orders_reconciled_total";
/// Gauge: orders whose outcome is unknown.
pub const ORDERS_UNKNOWN: &str = "orders_unknown";
/// Counter: config reloads (`result`: applied, refused).
pub const CONFIG_RELOAD_TOTAL: &str = "config_reload_total";
/// Counter: accept errors on a listener (`listener`).
pub const HTTP_ACCEPT_ERRORS_TOTAL: &str = "http_accept_errors_total";
/// Gauge: open connections (`listener`).
pub const HTTP_CONNECTIONS_OPEN: &str = "http_connections_open";
/// Counter: vendor answers that drifted from the contract (`connection`, `kind`).
pub const VENDOR_ANSWER_DRIFT_TOTAL: &str = "vendor_answer_drift_total";
/// Counter: orders that reused an account the vendor created earlier (`connection`).
pub const VENDOR_ACCOUNTS_REUSED_TOTAL: &str = "vendor_accounts_reused_total";
/// Counter: failed renewals of this replica's ledger lease.
pub const LEDGER_LEASE_RENEW_FAILURES_TOTAL: &str = "ledger_lease_renew_failures_total";
/// Counter: orders refused by a client's quota (`client`).
pub const CLIENT_QUOTA_REJECTIONS_TOTAL: &str = "client_quota_rejections_total";
/// Counter: webhook delivery attempts (`client`, `result`).
pub const WEBHOOK_DELIVERIES_TOTAL: &str = "webhook_deliveries_total";
/// Histogram: one webhook delivery attempt.
pub const WEBHOOK_DELIVERY_DURATION_SECONDS: &str = "webhook_delivery_duration_seconds";
/// Gauge: a client's undelivered webhook events (pending, held included) (`client`).
pub const WEBHOOK_BACKLOG_EVENTS: &str = "webhook_backlog_events";
/// Gauge: age in seconds of a client's oldest undelivered webhook event (`client`).
pub const WEBHOOK_BACKLOG_AGE_SECONDS: &str = "webhook_backlog_age_seconds";
/// Gauge: 1 while a client's webhook endpoint is disabled by a 410 Gone (`client`).
pub const WEBHOOK_ENDPOINT_DISABLED: &str = "webhook_endpoint_disabled";
/// Counter: webhook endpoints disabled by a 410 Gone (`client`).
pub const WEBHOOK_ENDPOINT_DISABLED_TOTAL: &str = "webhook_endpoint_disabled_total";
/// Counter: status reads of followed orders (`connection`, `result`).
pub const ORDER_SYNC_LOOKUPS_TOTAL: &str = "order_sync_lookups_total";
/// Counter: canonical status transitions (`connection`, `source`, `status`).
pub const ORDER_STATUS_TRANSITIONS_TOTAL: &str = "order_status_transitions_total";
