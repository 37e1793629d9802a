//! The checks over the typed config, one function per section. Each reports into the
//! shared [`Ctx`] and keeps going, so one run shows every problem.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::check::Ctx;
use super::model::{
    ClientConfig, ConfigTest, ConnectionConfig, GatewayConfig, RouteConfig, SimulatorConfig,
};
use super::suggest::did_you_mean;
use crate::registry::Registry;
use crate::routing::CompiledRoute;
use crate::secrets;

pub(super) fn version(cx: &mut Ctx<'_>, config: &GatewayConfig) {
    if config.version != 1 {
        cx.error(
            "/version",
            format!(
                "config version {} is not supported (only 1)",
                config.version
            ),
        );
    }
}

pub(super) fn clients(cx: &mut Ctx<'_>, clients: &[(usize, ClientConfig)], sandbox: bool) {
    if clients.is_empty() {
        cx.warn(
            "/clients",
            "no clients are declared: every order request will be refused with 401",
        );
    }
    key_holders(cx, clients, "clients", "client id");
    for (i, c) in clients {
        if let Some(w) = &c.webhook {
            webhook(cx, &format!("/clients/{i}/webhook"), w, sandbox);
        }
    }
}

fn webhook(cx: &mut Ctx<'_>, at: &str, w: &crate::config::model::WebhookConfig, sandbox: bool) {
    let scheme_ok = reqwest::Url::parse(&w.url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if !scheme_ok {
        cx.error(format!("{at}/url"), "must be an http:// or https:// URL");
    }
    let secret_at = format!("{at}/secret");
    let reference = secrets::parse_ref(&w.secret).map(str::to_owned);
    if reference.is_none() && crate::webhook_sign::SigningKey::parse(&w.secret).is_err() {
        cx.error(
            secret_at.clone(),
            "a webhook secret is whsec_ followed by base64 of 24 to 64 bytes",
        );
    }
    cx.check_secrets(vec![(secret_at, reference)], sandbox);
}

/// The webhook retry policy: a first wait longer than the longest, or a window shorter
/// than the first wait (one attempt, then failed), is a mistake.
pub(super) fn webhook_settings(cx: &mut Ctx<'_>, config: &GatewayConfig) {
    let w = config.webhooks;
    if w.first_backoff_ms.get() > w.max_backoff_secs.get().saturating_mul(1000) {
        cx.error(
            "/webhooks/firstBackoffMs",
            "must not exceed maxBackoffSecs (in milliseconds)",
        );
    }
    if w.window_secs.get().saturating_mul(1000) < w.first_backoff_ms.get() {
        cx.error(
            "/webhooks/windowSecs",
            "must be at least firstBackoffMs: a delivery would get one attempt only",
        );
    }
}

/// No warning when empty: a gateway without operators is settled with the CLI only.
pub(super) fn operators(cx: &mut Ctx<'_>, operators: &[(usize, ClientConfig)]) {
    key_holders(cx, operators, "operators", "operator id");
    for (i, o) in operators {
        if o.webhook.is_some() {
            cx.error(
                format!("/operators/{i}/webhook"),
                "operators have no webhook; it belongs to a client",
            );
        }
    }
}

/// A list of `{id, keySha256}`: unique ids, each hash 64 hex digits or a `${ENV}`.
fn key_holders(cx: &mut Ctx<'_>, holders: &[(usize, ClientConfig)], section: &str, what: &str) {
    dupes(
        cx,
        holders
            .iter()
            .map(|(i, c)| (format!("/{section}/{i}/id"), c.id.as_str())),
        what,
    );
    for (i, c) in holders {
        let at = format!("/{section}/{i}/keySha256");
        match secrets::parse_ref(&c.key_sha256) {
            Some(name) => cx.check_env(&at, name),
            None if !is_sha256_hex(&c.key_sha256) => cx.error(
                at,
                "must be the hex SHA-256 of the key (64 hex digits) or a ${ENV} reference",
            ),
            None => {}
        }
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

pub(super) fn ledger(cx: &mut Ctx<'_>, config: &GatewayConfig) {
    if let Some(cfg) = cx.parse::<ledger::LedgerConfig>(&config.ledger, "/ledger") {
        let found = crate::wiring::ledger_secrets(&cfg)
            .into_iter()
            .map(|(p, name)| (format!("/ledger{p}"), name))
            .collect();
        cx.check_secrets(found, config.sandbox);
    }
}

pub(super) fn connections(
    cx: &mut Ctx<'_>,
    registry: &Registry,
    conns: &[(usize, ConnectionConfig)],
    sandbox: bool,
    grace_secs: u64,
) {
    dupes(
        cx,
        conns
            .iter()
            .map(|(i, c)| (format!("/connections/{i}/name"), c.name.as_str())),
        "connection name",
    );
    for (i, c) in conns {
        let at = format!("/connections/{i}");
        let entry = registry.get(&c.vendor);
        if entry.is_none() {
            let hint = did_you_mean(&c.vendor, registry.kinds());
            cx.error(
                format!("{at}/vendor"),
                format!(
                    "unknown vendor `{}`; known: {:?}{hint}",
                    c.vendor,
                    registry.kinds()
                ),
            );
        }
        let at = format!("{at}/outbound");
        let Some(settings) = cx.parse::<outbound::ConnectionSettings>(&c.outbound, &at) else {
            continue;
        };
        for (p, msg) in settings.validate() {
            cx.error(format!("{at}{p}"), msg);
        }
        if settings.timeouts.overall_ms > grace_secs.saturating_mul(1000) {
            cx.warn(
                format!("{at}/timeouts/overallMs"),
                format!(
                    "a vendor call may last {} ms, longer than server.shutdownGraceSecs ({grace_secs} s): a drain would cut it and leave the order unknown",
                    settings.timeouts.overall_ms
                ),
            );
        }
        let found = crate::wiring::outbound_secrets(&settings)
            .into_iter()
            .map(|(p, name)| (format!("{at}{p}"), name))
            .collect();
        cx.check_secrets(found, sandbox);
        if let Some(entry) = entry
            && !crate::wiring::auth_matches(&settings, entry.connector.auth_kind())
        {
            cx.error(
                format!("{at}/auth"),
                format!(
                    "vendor `{}` expects {:?} authentication",
                    c.vendor,
                    entry.connector.auth_kind()
                ),
            );
        }
    }
}

pub(super) fn simulators(cx: &mut Ctx<'_>, registry: &Registry, sims: &[(usize, SimulatorConfig)]) {
    for (i, s) in sims {
        match registry.get(&s.vendor) {
            None => {
                let hint = did_you_mean(&s.vendor, registry.kinds());
                cx.error(
                    format!("/simulators/{i}/vendor"),
                    format!("unknown vendor `{}`{hint}", s.vendor),
                );
            }
            Some(entry) => {
                if let Err(e) = (entry.simulator)(&s.settings, connector::sim::SimControl::new()) {
                    cx.error(format!("/simulators/{i}/settings"), e.to_string());
                }
            }
        }
    }
}

/// Credentials belong in `auth`, as `${ENV}` references: a `user:password@` in any URL
/// of the config would be printed by `translate`, previews and logs. The ledger's URL
/// is itself a secret and is checked as one.
pub(super) fn url_credentials(cx: &mut Ctx<'_>, raw: &Value) {
    fn walk(cx: &mut Ctx<'_>, v: &Value, at: &str) {
        match v {
            Value::String(s) if has_userinfo(s) => cx.error(
                at,
                "must not carry credentials (user:password@); secrets belong in `auth`, as ${ENV} references",
            ),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(cx, item, &format!("{at}/{i}"));
                }
            }
            Value::Object(m) => {
                for (k, item) in m {
                    let child = format!("{at}/{}", order_model::escape_pointer(k));
                    // Both URLs are secrets, checked as such.
                    if child != "/ledger" && child != "/redis" {
                        walk(cx, item, &child);
                    }
                }
            }
            _ => {}
        }
    }
    walk(cx, raw, "");
}

fn has_userinfo(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && authority.contains('@')
}

/// The fallback route's index among the compiled routes.
pub(super) fn fallback(
    cx: &mut Ctx<'_>,
    fallback: &str,
    routes: &[(usize, RouteConfig)],
    compiled: &[(usize, CompiledRoute)],
) -> Option<usize> {
    if fallback == "none" {
        return None;
    }
    let found = compiled.iter().position(|(_, r)| r.name == fallback);
    if found.is_none() {
        let hint = did_you_mean(fallback, routes.iter().map(|(_, r)| r.name.as_str()));
        cx.error(
            "/fallback",
            format!("fallback `{fallback}` is neither `none` nor a route name{hint}"),
        );
    }
    found
}

/// Config tests name existing routes, and an order given as a file (relative to the
/// config file) must be readable JSON: `test-config` would fail on it anyway.
pub(super) fn tests(
    cx: &mut Ctx<'_>,
    tests: &[(usize, ConfigTest)],
    routes: &[(usize, RouteConfig)],
    base_dir: &Path,
) {
    let names = || routes.iter().map(|(_, r)| r.name.as_str());
    for (i, t) in tests {
        if t.expect_route != "none" && !names().any(|n| n == t.expect_route) {
            let hint = did_you_mean(&t.expect_route, names());
            cx.error(
                format!("/tests/{i}/expectRoute"),
                format!("no route named `{}`{hint}", t.expect_route),
            );
        }
        if let Value::String(file) = &t.order
            && let Err(why) = read_order(&base_dir.join(file))
        {
            // A pod's ConfigMap may leave the fixtures out; serving does not need them.
            cx.error_offline(
                format!("/tests/{i}/order"),
                format!("cannot read {file} (relative to the config file): {why}"),
            );
        }
    }
}

fn read_order(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    serde_json::from_str::<Value>(&text)
        .map(|_| ())
        .map_err(|e| format!("not JSON: {e}"))
}

fn dupes<'a>(cx: &mut Ctx<'_>, names: impl Iterator<Item = (String, &'a str)>, what: &str) {
    let mut seen: HashMap<&str, String> = HashMap::new();
    for (at, name) in names {
        if let Some(first) = seen.get(name) {
            cx.error(at, format!("duplicate {what} `{name}` (first at {first})"));
        } else {
            seen.insert(name, at);
        }
    }
}
