//! Glue between the config and the crates that own parts of it (outbound, ledger).

use std::collections::HashMap;
use std::sync::Arc;

use connector::AuthKind;
use serde_json::Value;

use crate::config::Checked;
use crate::secrets::{self, EnvLookup};
use crate::state::Runtime;

pub fn parse_outbound(v: &Value) -> Result<outbound::ConnectionSettings, serde_json::Error> {
    serde_json::from_value(v.clone())
}

/// Why the live parts of a checked config could not be built. The texts are what
/// operators read at start, in a refused reload and in the console.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{what} {id}: environment variable {name} is not set")]
    KeyNotSet {
        what: &'static str,
        id: String,
        name: String,
    },
    #[error("redis: {0}")]
    RedisSettings(#[source] serde_json::Error),
    #[error("redis: {0}")]
    Redis(#[source] outbound::BuildError),
    #[error("{0}")]
    OutboundSettings(#[source] serde_json::Error),
    #[error("connection {name}: {source}")]
    Connection {
        name: String,
        #[source]
        source: outbound::BuildError,
    },
    #[error("{0}")]
    Webhooks(String),
}

/// Every secret field of a connection, as (pointer relative to its `outbound`, env
/// name): `None` for literals.
pub fn outbound_secrets(s: &outbound::ConnectionSettings) -> Vec<(String, Option<String>)> {
    let name = |sv: &outbound::SecretValue| sv.env_name().map(str::to_owned);
    let mut found: Vec<(String, Option<String>)> = s
        .headers
        .iter()
        .map(|(h, sv)| {
            (
                format!("/headers/{}", order_model::escape_pointer(h)),
                name(sv),
            )
        })
        .collect();
    match &s.auth {
        outbound::AuthConfig::OAuth2ClientCredentials {
            client_id,
            client_secret,
            ..
        } => {
            found.push(("/auth/clientId".into(), name(client_id)));
            found.push(("/auth/clientSecret".into(), name(client_secret)));
        }
        outbound::AuthConfig::StaticHeader { token, .. } => {
            found.push(("/auth/token".into(), name(token)));
        }
        outbound::AuthConfig::None => {}
    }
    found
}

pub fn auth_matches(s: &outbound::ConnectionSettings, kind: AuthKind) -> bool {
    matches!(
        (&s.auth, kind),
        (
            outbound::AuthConfig::OAuth2ClientCredentials { .. },
            AuthKind::OAuth2ClientCredentials
        ) | (
            outbound::AuthConfig::StaticHeader { .. },
            AuthKind::StaticHeader
        )
    )
}

/// The ledger's secret fields, as (pointer relative to `ledger`, env name): `None` for
/// literals.
pub fn ledger_secrets(cfg: &ledger::LedgerConfig) -> Vec<(String, Option<String>)> {
    match cfg {
        ledger::LedgerConfig::Sqlite { .. } => Vec::new(),
        ledger::LedgerConfig::Postgres { url, .. } => {
            vec![("/url".into(), secrets::parse_ref(url).map(str::to_owned))]
        }
    }
}

/// For offline runs (previews, `translate`, `test-config`), which send nothing: every
/// connection limited locally and no Redis, whose URL is a secret that need not be set.
pub fn without_fleet_limits(checked: &mut Checked) {
    checked.config.redis = None;
    for c in &mut checked.config.connections {
        if let Some(scope) = c.outbound.pointer_mut("/limits/scope") {
            *scope = Value::from("local");
        }
    }
}

/// Builds the live parts of a checked config. Connections whose settings did not change
/// since `previous` are reused, keeping their token cache, rate limiter and breaker.
pub fn build_runtime(
    checked: Checked,
    env: &EnvLookup,
    previous: Option<&Runtime>,
) -> Result<Runtime, RuntimeError> {
    let clients = key_table(&checked.config.clients, "client", env)?;
    let operators = key_table(&checked.config.operators, "operator", env)?;
    let quotas = client_quotas(&checked, previous);
    let redis_unchanged = previous.is_some_and(|p| p.checked.config.redis == checked.config.redis);
    let fleet = match (&checked.config.redis, previous) {
        (None, _) => None,
        (Some(_), Some(p)) if redis_unchanged => p.fleet.clone(),
        (Some(v), _) => {
            let settings: outbound::RedisSettings =
                serde_json::from_value(v.clone()).map_err(RuntimeError::RedisSettings)?;
            Some(outbound::FleetStore::new(&settings, env).map_err(RuntimeError::Redis)?)
        }
    };
    let mut connections = HashMap::new();
    for c in &checked.config.connections {
        let settings = parse_outbound(&c.outbound).map_err(RuntimeError::OutboundSettings)?;
        let reused = previous.and_then(|p| {
            let old = p
                .checked
                .config
                .connections
                .iter()
                .find(|o| o.name == c.name)?;
            (old.vendor == c.vendor && old.outbound == c.outbound && redis_unchanged)
                .then(|| p.connections.get(&c.name).cloned())
                .flatten()
        });
        let client = match reused {
            Some(client) => client,
            None => Arc::new(
                outbound::ConnectionClient::with_fleet(
                    &c.name,
                    &c.vendor,
                    &settings,
                    env,
                    fleet.as_ref(),
                )
                .map_err(|source| RuntimeError::Connection {
                    name: c.name.clone(),
                    source,
                })?,
            ),
        };
        connections.insert(c.name.clone(), client);
    }
    let webhooks =
        crate::webhooks::endpoints(&checked.config.clients, env).map_err(RuntimeError::Webhooks)?;
    // check-config refused bad cadences; a default here is never reached in practice.
    let sync = checked
        .config
        .connections
        .iter()
        .map(|c| {
            let cadence =
                crate::sync::cadence::Cadence::from_config(c.sync.as_ref()).unwrap_or_default();
            (c.name.clone(), cadence)
        })
        .collect();
    Ok(Runtime {
        sync,
        checked,
        clients,
        operators,
        connections,
        webhooks,
        fleet,
        quotas,
    })
}

/// Hex SHA-256 of a key -> the id holding it, with `${NAME}` hashes resolved.
fn key_table(
    holders: &[crate::config::model::ClientConfig],
    what: &'static str,
    env: &EnvLookup,
) -> Result<HashMap<String, String>, RuntimeError> {
    let mut table = HashMap::new();
    for c in holders {
        let hash = match secrets::parse_ref(&c.key_sha256) {
            Some(name) => env(name).ok_or_else(|| RuntimeError::KeyNotSet {
                what,
                id: c.id.clone(),
                name: name.to_owned(),
            })?,
            None => c.key_sha256.clone(),
        };
        table.insert(hash.to_ascii_lowercase(), c.id.clone());
    }
    Ok(table)
}

/// Each client's quota, kept across a reload while its limits stay the same.
fn client_quotas(
    checked: &Checked,
    previous: Option<&Runtime>,
) -> HashMap<String, Arc<outbound::LocalGcra>> {
    let mut quotas = HashMap::new();
    for c in &checked.config.clients {
        let Some(l) = c.limits else { continue };
        let kept = previous.and_then(|p| {
            let old = p.checked.config.clients.iter().find(|o| o.id == c.id)?;
            (old.limits == c.limits)
                .then(|| p.quotas.get(&c.id).cloned())
                .flatten()
        });
        let quota = kept.unwrap_or_else(|| {
            Arc::new(outbound::LocalGcra::new(outbound::Rate::per_second(
                l.rate_per_sec,
                l.burst,
            )))
        });
        quotas.insert(c.id.clone(), quota);
    }
    quotas
}
