//! The gateway config file, typed. Parts owned by other crates (a connection's outbound
//! settings, the ledger, a route's vendor catalog and defaults) stay JSON here and are
//! handed to their owners to parse, so each crate validates its own section.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::num::{NonZeroU64, NonZeroUsize};

use order_model::{Direction, Intent, LineKind, OrderType};
use serde::de::{Error as _, IntoDeserializer};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayConfig {
    /// Config format version; only 1 exists.
    pub version: u32,
    /// A sandbox config may hold literal secrets (the simulators' well-known ones).
    #[serde(default)]
    pub sandbox: bool,
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default = "default_ledger")]
    pub ledger: Value,
    /// Where fleet-scope limits live (`outbound::RedisSettings`); absent: no fleet scope.
    #[serde(default)]
    pub redis: Option<Value>,
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// How clients' webhook deliveries are retried (`crates/gateway/src/webhooks.rs`).
    #[serde(default)]
    pub webhooks: WebhookSettings,
    /// Operators who may settle unknown orders from the admin listener (the resolve
    /// endpoint and the console's forms); same shape as `clients`, a separate key space.
    #[serde(default)]
    pub operators: Vec<ClientConfig>,
    #[serde(default)]
    pub simulators: Vec<SimulatorConfig>,
    #[serde(default)]
    pub connections: Vec<ConnectionConfig>,
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// What happens when no route matches: `none` (a 422 `no_route`) or a route name.
    #[serde(default = "default_fallback")]
    pub fallback: String,
    /// Config tests: order fixture -> expected route (run by `test-config`).
    #[serde(default)]
    pub tests: Vec<ConfigTest>,
}

fn default_ledger() -> Value {
    serde_json::json!({"kind": "sqlite", "path": "data/ledger.db"})
}
fn default_fallback() -> String {
    "none".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default = "default_admin_listen")]
    pub admin_listen: SocketAddr,
    #[serde(default = "default_body_limit")]
    pub body_limit_bytes: usize,
    /// How long in-flight requests may take to finish after SIGTERM.
    #[serde(default = "default_grace")]
    pub shutdown_grace_secs: u64,
    /// How long readiness reports false before the listener closes, so load balancers
    /// stop sending first.
    #[serde(default)]
    pub drain_delay_secs: u64,
    /// A connection must finish sending its request headers this long after it opens or
    /// after its previous response; so it is also the idle keep-alive timeout. Read at
    /// start (a reload does not change it). These three are non-zero types so that a 0,
    /// which would close or refuse every connection, is refused when the config loads.
    #[serde(default = "default_header_read_timeout")]
    pub header_read_timeout_secs: NonZeroU64,
    /// A request body must have arrived in full this long after the handler starts
    /// reading it.
    #[serde(default = "default_body_read_timeout")]
    pub body_read_timeout_secs: NonZeroU64,
    /// Open connections on the API listener; more wait in the kernel's backlog. The
    /// admin listener is outside this budget. Read at start.
    #[serde(default = "default_max_connections")]
    pub max_connections: NonZeroUsize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            admin_listen: default_admin_listen(),
            body_limit_bytes: default_body_limit(),
            shutdown_grace_secs: default_grace(),
            drain_delay_secs: 0,
            header_read_timeout_secs: default_header_read_timeout(),
            body_read_timeout_secs: default_body_read_timeout(),
            max_connections: default_max_connections(),
        }
    }
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_admin_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9090))
}
fn default_body_limit() -> usize {
    256 * 1024
}
fn default_grace() -> u64 {
    25
}
fn default_header_read_timeout() -> NonZeroU64 {
    NonZeroU64::new(10).unwrap_or(NonZeroU64::MIN)
}
fn default_body_read_timeout() -> NonZeroU64 {
    NonZeroU64::new(30).unwrap_or(NonZeroU64::MIN)
}
/// Well under the usual 1024 descriptor limit, leaving room for the admin listener,
/// vendor connections, the ledger and the config watcher.
fn default_max_connections() -> NonZeroUsize {
    NonZeroUsize::new(512).unwrap_or(NonZeroUsize::MIN)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientConfig {
    pub id: String,
    /// Hex SHA-256 of the client's API key (the key itself is never stored), or a
    /// `${ENV}` reference to one.
    pub key_sha256: String,
    /// Clients only: where the client's order events are delivered, signed
    /// (`crates/gateway/src/webhooks.rs`).
    #[serde(default)]
    pub webhook: Option<WebhookConfig>,
    /// This client's share of the vendor budgets: its orders past it get 429 `rate_limited`
    /// before any vendor call, so one noisy client cannot starve the others.
    #[serde(default)]
    pub limits: Option<ClientLimits>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookConfig {
    /// An `http(s)://` URL the client serves.
    pub url: String,
    /// The Standard Webhooks secret (`whsec_` + base64), a `${ENV}` reference outside a
    /// sandbox config.
    pub secret: String,
}

/// The retry policy of every client's webhook deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookSettings {
    /// How long after its event (or its redelivery) a delivery is retried before it is
    /// listed as failed.
    #[serde(default = "default_webhook_window")]
    pub window_secs: NonZeroU64,
    /// The wait after the first failed attempt; it doubles per attempt (jittered).
    #[serde(default = "default_webhook_first_backoff")]
    pub first_backoff_ms: NonZeroU64,
    /// The longest wait between two attempts.
    #[serde(default = "default_webhook_max_backoff")]
    pub max_backoff_secs: NonZeroU64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            window_secs: default_webhook_window(),
            first_backoff_ms: default_webhook_first_backoff(),
            max_backoff_secs: default_webhook_max_backoff(),
        }
    }
}

fn default_webhook_window() -> NonZeroU64 {
    NonZeroU64::new(24 * 3600).unwrap_or(NonZeroU64::MIN)
}
fn default_webhook_first_backoff() -> NonZeroU64 {
    NonZeroU64::new(1000).unwrap_or(NonZeroU64::MIN)
}
fn default_webhook_max_backoff() -> NonZeroU64 {
    NonZeroU64::new(3600).unwrap_or(NonZeroU64::MIN)
}

/// A client's quota, per replica: across all its orders, whatever the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientLimits {
    pub rate_per_sec: u32,
    #[serde(default = "default_client_burst")]
    pub burst: u32,
}

fn default_client_burst() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimulatorConfig {
    pub vendor: String,
    pub listen: SocketAddr,
    #[serde(default)]
    pub settings: Value,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectionConfig {
    pub name: String,
    pub vendor: String,
    /// Vendor-specific connection settings, checked by the vendor's connector.
    #[serde(default)]
    pub vendor_settings: Value,
    /// Base URL, auth, limits, timeouts, retries and breaker: the outbound stack's settings.
    pub outbound: Value,
    /// Status sync cadence (`crate::sync`); the defaults when absent.
    #[serde(default)]
    pub sync: Option<SyncConfig>,
}

/// `connections[].sync`: when accepted orders are read back from the vendor.
/// Durations are strings: a whole number and a unit, `s`, `m`, `h` or `d` (`90s`, `5m`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncConfig {
    /// Off: orders of this connection keep their create answer's status.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The intervals between reads; the last one repeats until the horizon.
    #[serde(default)]
    pub schedule: Option<Vec<String>>,
    /// How long after the create an order is followed.
    #[serde(default)]
    pub horizon: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteConfig {
    pub name: String,
    #[serde(default)]
    pub when: Conditions,
    pub connection: String,
    /// sku -> vendor product ids, inline.
    #[serde(default)]
    pub catalog: BTreeMap<String, Value>,
    /// A JSON or YAML file (relative to the config file) holding more catalog entries.
    #[serde(default)]
    pub catalog_file: Option<String>,
    /// Vendor fields the route supplies when the order does not.
    #[serde(default)]
    pub defaults: Value,
    /// Opt-in: remember the accounts the vendor creates for a customer (an Impilo inline
    /// new patient) under the client and `customer.ref`, and reuse them for that
    /// customer's later orders with the same details (`crates/gateway/src/accounts.rs`).
    #[serde(default)]
    pub remember_created_accounts: bool,
}

/// All conditions present must hold (AND). Order-level conditions look at the order;
/// line-level ones (`skus`, `lineKinds`) must hold for EVERY line.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Conditions {
    #[serde(default)]
    pub clients: Option<Vec<String>>,
    #[serde(default)]
    pub types: Option<Vec<OrderType>>,
    #[serde(default)]
    pub intents: Option<Vec<Intent>>,
    #[serde(default)]
    pub ship_to_countries: Option<Vec<String>>,
    #[serde(default)]
    pub ship_to_regions: Option<Vec<String>>,
    /// Sku patterns: exact (`JH-100`), prefix (`JH-*`) or glob (`JH-*-PACK`, `?`).
    #[serde(default)]
    pub skus: Option<Vec<String>>,
    #[serde(default)]
    pub line_kinds: Option<Vec<LineKindRule>>,
    /// Every key must be present in the order's metadata with this value.
    #[serde(default)]
    pub metadata: Option<BTreeMap<String, String>>,
    /// The order carries `vendorOptions.<name>`.
    #[serde(default)]
    pub has_vendor_options: Option<String>,
}

/// A line kind as a rule names it: the order model's spelling (`item`), or
/// `return:<kind>` for return lines only. A plain kind matches return lines too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineKindRule {
    pub direction: Direction,
    pub kind: LineKind,
}

impl LineKindRule {
    pub fn matches(&self, kind: LineKind, direction: Direction) -> bool {
        self.kind == kind && (self.direction == direction || self.direction == Direction::Outbound)
    }
}

impl fmt::Display for LineKindRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.direction == Direction::Return {
            f.write_str("return:")?;
        }
        f.write_str(&spelling(&self.kind))
    }
}

impl<'de> Deserialize<'de> for LineKindRule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let (direction, kind) = match s.strip_prefix("return:") {
            Some(k) => (Direction::Return, k),
            None => (Direction::Outbound, s.as_str()),
        };
        let kind = LineKind::deserialize(kind.into_deserializer()).map_err(
            |e: serde::de::value::Error| {
                D::Error::custom(format!("`{s}`: {e} (or `return:<kind>` for return lines)"))
            },
        )?;
        Ok(LineKindRule { direction, kind })
    }
}

/// A model enum as config and explanations spell it: its serde name, written once in
/// the order model.
pub fn spelling<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => s,
        _ => String::new(),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigTest {
    pub name: String,
    /// The order: inline, or a file path (relative to the config file).
    pub order: Value,
    #[serde(default = "default_test_client")]
    pub client: String,
    /// Expected route name, or `none` for a no-route refusal.
    pub expect_route: String,
    #[serde(default)]
    pub expect_connection: Option<String>,
    /// Optional exact vendor body the order must translate to.
    #[serde(default)]
    pub expect_body: Option<Value>,
}

fn default_test_client() -> String {
    "dev".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_kind_rules_use_the_model_spellings() {
        let rules: Vec<LineKindRule> =
            serde_json::from_value(serde_json::json!(["loaner_kit", "return:packed_kit"])).unwrap();
        assert_eq!(rules[0].to_string(), "loaner_kit");
        assert_eq!(rules[1].to_string(), "return:packed_kit");
        // A plain kind takes return lines of that kind too; `return:` only those.
        assert!(rules[0].matches(LineKind::LoanerKit, Direction::Return));
        assert!(!rules[1].matches(LineKind::PackedKit, Direction::Outbound));
        assert!(rules[1].matches(LineKind::PackedKit, Direction::Return));
        let err = serde_json::from_value::<LineKindRule>(serde_json::json!("return:bogus"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`return:bogus`") && err.contains("`packed_kit`"),
            "{err}"
        );
    }

    #[test]
    fn conditions_refuse_unknown_spellings_with_the_allowed_list() {
        let err = serde_json::from_value::<Conditions>(serde_json::json!({"intents": ["buy"]}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected `place` or `quote`"), "{err}");
    }
}
