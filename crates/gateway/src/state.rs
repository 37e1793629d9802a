//! What the HTTP handlers share. The running config lives in an `ArcSwap`: a request
//! loads it once and finishes on it, so a reload never changes a config under an
//! order in flight.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;
use metrics_exporter_prometheus::PrometheusHandle;

use crate::config::Checked;
use crate::pipeline::VendorSchemas;
use crate::registry::Registry;
use crate::secrets::EnvLookup;

/// One compiled config, with its live connections.
pub struct Runtime {
    pub checked: Checked,
    /// Hex SHA-256 of an API key -> client id.
    pub clients: HashMap<String, String>,
    /// Hex SHA-256 of an operator key -> operator id.
    pub operators: HashMap<String, String>,
    pub connections: HashMap<String, Arc<outbound::ConnectionClient>>,
    /// Client id -> where its order events go, and the key they are signed with.
    pub webhooks: HashMap<String, Arc<crate::webhooks::Endpoint>>,
    /// The Redis of fleet-scope limits, when the config has one.
    pub fleet: Option<Arc<outbound::FleetStore>>,
    /// Connection name -> its status sync cadence.
    pub sync: HashMap<String, crate::sync::cadence::Cadence>,
    /// Client id -> its quota (clients with `limits` only).
    pub quotas: HashMap<String, Arc<outbound::LocalGcra>>,
}

pub struct AppState {
    pub runtime: ArcSwap<Runtime>,
    pub registry: Arc<Registry>,
    pub schemas: VendorSchemas,
    pub ledger: Arc<ledger::Ledger>,
    pub ready: AtomicBool,
    pub metrics: PrometheusHandle,
    pub env: Arc<EnvLookup>,
    pub last_reload_error: std::sync::Mutex<Option<String>>,
    /// The simulators this process hosts (see [`crate::server::follow_simulators`]).
    pub sim_addrs: crate::server::SimAddrs,
}

impl AppState {
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::SeqCst);
    }
}
