//! Routes: each one's catalog (inline and from its file) handed to its vendor's connector
//! to prepare, the connector's complaints pointed back into the config.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::check::Ctx;
use super::conditions::check_conditions;
use super::model::{ConnectionConfig, RouteConfig};
use super::suggest::did_you_mean;
use super::yaml;
use crate::registry::Registry;
use crate::routing::CompiledRoute;

/// What the route pass needs besides the diagnostics.
pub(super) struct RouteInputs<'a> {
    pub registry: &'a Registry,
    pub connections: &'a [(usize, ConnectionConfig)],
    /// Catalog files are relative to the config file.
    pub base_dir: &'a Path,
}

/// Every route that compiled, with its index in the file. Catalog files read are added
/// to `hasher`, so a catalog edit changes the config version.
pub(super) fn compile(
    cx: &mut Ctx<'_>,
    inputs: &RouteInputs<'_>,
    routes: &[(usize, RouteConfig)],
    hasher: &mut Sha256,
) -> Vec<(usize, CompiledRoute)> {
    let mut by_name: HashMap<&str, (usize, &ConnectionConfig)> = HashMap::new();
    for (i, c) in inputs.connections {
        by_name.entry(c.name.as_str()).or_insert((*i, c));
    }
    let mut compiled = Vec::new();
    for (i, r) in routes {
        let at = format!("/routes/{i}");
        check_conditions(cx, &r.when, &format!("{at}/when"));
        let Some(&(ci, conn)) = by_name.get(r.connection.as_str()) else {
            let hint = did_you_mean(&r.connection, by_name.keys().copied());
            cx.error(
                format!("{at}/connection"),
                format!("unknown connection `{}`{hint}", r.connection),
            );
            continue;
        };
        let Some(entry) = inputs.registry.get(&conn.vendor) else {
            continue;
        };
        let catalog = catalog(cx, &at, r, inputs.base_dir, hasher);
        let rc = connector::RouteConfig {
            connection: &conn.name,
            settings: &conn.vendor_settings,
            catalog: &catalog,
            defaults: &r.defaults,
        };
        match entry.connector.prepare(rc) {
            Ok(prepared) => compiled.push((
                *i,
                CompiledRoute {
                    name: r.name.clone(),
                    conditions: r.when.clone(),
                    connection: conn.name.clone(),
                    vendor: entry.connector.kind(),
                    capabilities: entry.connector.capabilities(),
                    prepared,
                    remember_created_accounts: r.remember_created_accounts,
                },
            )),
            Err(issues) => {
                for issue in issues {
                    let (at, msg) = locate(&at, ci, r, &issue.pointer, issue.message);
                    cx.error(at, msg);
                }
            }
        }
    }
    compiled
}

/// The inline catalog merged with the route's catalog file; a sku in both is an error.
fn catalog(
    cx: &mut Ctx<'_>,
    at: &str,
    r: &RouteConfig,
    base_dir: &Path,
    hasher: &mut Sha256,
) -> BTreeMap<String, Value> {
    let mut catalog = r.catalog.clone();
    let Some(f) = &r.catalog_file else {
        return catalog;
    };
    let p = base_dir.join(f);
    let at = format!("{at}/catalogFile");
    let text = match std::fs::read_to_string(&p) {
        Ok(text) => text,
        Err(e) => {
            cx.error(at, format!("cannot read {}: {e}", p.display()));
            return catalog;
        }
    };
    hasher.update(text.as_bytes());
    match parse_catalog_file(&text) {
        Err(msg) => cx.error(at, format!("{}: {msg}", p.display())),
        Ok(entries) => {
            for (sku, v) in entries {
                if catalog.insert(sku.clone(), v).is_some() {
                    cx.error(at.clone(), format!("sku `{sku}` is both inline and in {f}"));
                }
            }
        }
    }
    catalog
}

/// A connector issue's pointer is relative to what it was given: its settings belong
/// to the connection, a catalog entry that came from the file to the file.
fn locate(
    route_at: &str,
    connection: usize,
    r: &RouteConfig,
    p: &str,
    message: String,
) -> (String, String) {
    if let Some(rest) = p.strip_prefix("/settings") {
        return (
            format!("/connections/{connection}/vendorSettings{rest}"),
            message,
        );
    }
    let inline = r
        .catalog
        .keys()
        .any(|k| p.starts_with(&format!("/catalog/{}", order_model::escape_pointer(k))));
    if p.starts_with("/catalog") && r.catalog_file.is_some() && !inline {
        return (
            format!("{route_at}/catalogFile"),
            format!("{message} (in the catalog file, at {p})"),
        );
    }
    (format!("{route_at}{p}"), message)
}

fn parse_catalog_file(text: &str) -> Result<BTreeMap<String, Value>, String> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => yaml::parse(text)
            .map(|(v, _)| v)
            .map_err(|e| e.to_string())?,
    };
    serde_json::from_value(value).map_err(|e| format!("a catalog file must map sku -> entry: {e}"))
}
