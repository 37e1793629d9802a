//! Dry runs on a compiled config: the preview of one order (`translate`, the console's
//! playground) and a config's own tests (`test-config`, the playground's candidate
//! config). Nothing here sends anything to a vendor.

use std::path::{Path, PathBuf};

use order_model::{Problem, ProblemCode};
use serde_json::Value;

use crate::http::preview::Preview;
use crate::pipeline::{self, VendorSchemas};
use crate::routing::CompiledRoute;
use crate::state::Runtime;

/// Secrets are not needed offline: a preview masks them.
pub fn offline_env(name: &str) -> Option<String> {
    crate::secrets::process_env(name).or_else(|| Some(format!("unset-{name}")))
}

/// The preview document for an order: routed, or forced onto the first route that sends
/// to `connection`. Refusals carry the operator's full explanation.
pub fn preview(
    runtime: &Runtime,
    schemas: &VendorSchemas,
    doc: &Value,
    connection: Option<&str>,
    client: &str,
) -> Result<Preview, Problem> {
    let key = crate::order_flow::key_for(doc, None);
    let idem = pipeline::idempotency_key(client, &key);
    let checked = &runtime.checked;
    let forced;
    let (routes, fallback): (&[CompiledRoute], Option<usize>) = match connection {
        None => (&checked.routes, checked.fallback),
        Some(c) => {
            let r = checked
                .routes
                .iter()
                .find(|r| r.connection == c)
                .ok_or_else(|| {
                    Problem::new(ProblemCode::NoRoute, "no route sends to that connection")
                })?;
            forced = [CompiledRoute {
                conditions: Default::default(),
                ..r.clone()
            }];
            (&forced, None)
        }
    };
    let planned = pipeline::plan(doc, routes, fallback, schemas, client, &idem)
        .map_err(pipeline::Refused::for_operator)?;
    let conn = runtime
        .connections
        .get(&planned.route.connection)
        .ok_or_else(|| Problem::new(ProblemCode::Internal, "connection missing"))?;
    Ok(crate::http::api::preview_document(
        &planned,
        conn.preview(&planned.request),
    ))
}

/// Runs the config's `tests:`; order files resolve against `base` (the config's
/// directory). Each test's name and `Ok` or why it failed.
pub fn run_tests(
    runtime: &Runtime,
    schemas: &VendorSchemas,
    base: &Path,
) -> Vec<(String, Result<(), String>)> {
    runtime
        .checked
        .config
        .tests
        .iter()
        .map(|t| {
            let verdict = match &t.order {
                Value::String(file) => read_order(&base.join(file)).map_err(|e| e.to_string()),
                other => Ok(other.clone()),
            }
            .and_then(|doc| {
                let outcome = preview(runtime, schemas, &doc, None, &t.client);
                judge(t, &outcome)
            });
            (t.name.clone(), verdict)
        })
        .collect()
}

fn judge(
    t: &crate::config::model::ConfigTest,
    outcome: &Result<Preview, Problem>,
) -> Result<(), String> {
    match (outcome, t.expect_route.as_str()) {
        (Err(p), "none") if p.code == "no_route" => Ok(()),
        (Err(p), _) => Err(format!(
            "expected route {}, got {} ({})",
            t.expect_route,
            p.code,
            p.detail.clone().unwrap_or_default()
        )),
        (Ok(v), want) => {
            let route = v.route.as_str();
            let conn = v.connection.as_str();
            if route != want {
                Err(format!("expected route {want}, got {route}"))
            } else if t.expect_connection.as_deref().is_some_and(|c| c != conn) {
                Err(format!(
                    "expected connection {:?}, got {conn}",
                    t.expect_connection
                ))
            } else if t
                .expect_body
                .as_ref()
                .is_some_and(|b| *b != v.request.body_value())
            {
                Err("the vendor body differs from expectBody".to_owned())
            } else {
                Ok(())
            }
        }
    }
}

/// An order file that cannot be used (`translate` exits 65 on it).
#[derive(Debug, thiserror::Error)]
pub enum ReadOrderError {
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not JSON: {source}", path.display())]
    NotJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

pub fn read_order(path: &Path) -> Result<Value, ReadOrderError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadOrderError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ReadOrderError::NotJson {
        path: path.to_path_buf(),
        source,
    })
}
