//! Glue between the config and the crates that own parts of it (outbound, ledger).

use std::collections::HashMap;
use std::sync::Arc;

use connector::AuthKind;
use serde_json::Value;

use crate::config::Checked;
use crate::secrets::{self, EnvLookup};
use crate::state::Runtime;

pub fn parse_outbound(v: &Value) -> Result<outbound::ConnectionSettings, String> {
    serde_json::from_value(v.clone()).map_err(|e| e.to_string())
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

/// Builds the live parts of a checked config. Connections whose settings did not change
/// since `previous` are reused, keeping their token cache, rate limiter and breaker.
pub fn build_runtime(
    checked: Checked,
    env: &EnvLookup,
    previous: Option<&Runtime>,
) -> Result<Runtime, String> {
    let clients = key_table(&checked.config.clients, "client", env)?;
    let operators = key_table(&checked.config.operators, "operator", env)?;
    let mut connections = HashMap::new();
    for c in &checked.config.connections {
        let settings = parse_outbound(&c.outbound)?;
        let reused = previous.and_then(|p| {
            let old = p
                .checked
                .config
                .connections
                .iter()
                .find(|o| o.name == c.name)?;
            (old.vendor == c.vendor && old.outbound == c.outbound)
                .then(|| p.connections.get(&c.name).cloned())
                .flatten()
        });
        let client = match reused {
            Some(client) => client,
            None => Arc::new(
                outbound::ConnectionClient::new(&c.name, &c.vendor, &settings, env)
                    .map_err(|e| format!("connection {}: {e}", c.name))?,
            ),
        };
        connections.insert(c.name.clone(), client);
    }
    let webhooks = crate::webhooks::endpoints(&checked.config.clients, env)?;
    Ok(Runtime {
        checked,
        clients,
        operators,
        connections,
        webhooks,
    })
}

/// Hex SHA-256 of a key -> the id holding it, with `${NAME}` hashes resolved.
fn key_table(
    holders: &[crate::config::model::ClientConfig],
    what: &str,
    env: &EnvLookup,
) -> Result<HashMap<String, String>, String> {
    let mut table = HashMap::new();
    for c in holders {
        let hash = match secrets::parse_ref(&c.key_sha256) {
            Some(name) => env(name).ok_or_else(|| {
                format!("{what} {}: environment variable {name} is not set", c.id)
            })?,
            None => c.key_sha256.clone(),
        };
        table.insert(hash.to_ascii_lowercase(), c.id.clone());
    }
    Ok(table)
}
