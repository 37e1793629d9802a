//! order-gateway: one canonical order in, the right vendor's order out.
//!
//! Flow is one way: `http` -> `pipeline` (schema, routing, translation) -> `order_flow`
//! (ledger, outbound) -> vendor. No vendor-specific code lives in this crate: vendors
//! are registered in `registry`.

pub mod accounts;
pub mod cli;
pub mod config;
pub mod console;
pub mod dry_run;
pub mod embedded;
pub mod http;
pub mod metric_names;
pub mod operator;
pub mod order_flow;
pub mod pipeline;
pub mod quotas;
pub mod registry;
pub mod routing;
pub mod secrets;
pub mod server;
pub mod state;
pub mod sync;
pub mod telemetry;
pub mod upkeep;
pub mod vendor_drift;
pub mod watch;
pub mod webhook_sign;
pub mod webhooks;
pub mod wiring;
