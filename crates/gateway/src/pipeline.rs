//! The pure half of the order path, shared by `POST /v1/orders`, the preview endpoint,
//! the `translate` command and config tests: schema validation, vendor-option checks,
//! routing, the vendor's capabilities and translation. Nothing here does I/O, so a dry
//! run is exactly the real run minus the vendor call.

use std::collections::HashMap;

use connector::{TranslateContext, VendorRequest};
use order_model::{
    CanonicalOrder, FieldError, Problem, ProblemCode, SchemaValidator, escape_pointer, parse_order,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::registry::Registry;
use crate::routing::{ClientRuleExplain, CompiledRoute, Decision, RuleExplain, decide, for_client};

/// Compiled `vendorOptions` schemas, one pair per vendor kind.
pub struct VendorSchemas {
    by_kind: HashMap<&'static str, (SchemaValidator, SchemaValidator)>,
}

/// A vendor's `vendorOptions` schema does not compile (a bug in that connector).
#[derive(Debug, thiserror::Error)]
#[error("{kind} {level} options schema: {source}")]
pub struct OptionsSchemaError {
    pub kind: &'static str,
    /// `order` or `line`.
    pub level: &'static str,
    #[source]
    pub source: order_model::schema::SchemaError,
}

impl VendorSchemas {
    pub fn compile(registry: &Registry) -> Result<Self, OptionsSchemaError> {
        let mut by_kind = HashMap::new();
        for kind in registry.kinds() {
            let Some(entry) = registry.get(kind) else {
                continue;
            };
            let c = &entry.connector;
            let error = |level: &'static str| {
                move |source: order_model::schema::SchemaError| OptionsSchemaError {
                    kind,
                    level,
                    source,
                }
            };
            let order = SchemaValidator::new(&c.order_options_schema()).map_err(error("order"))?;
            let line = SchemaValidator::new(&c.line_options_schema()).map_err(error("line"))?;
            by_kind.insert(kind, (order, line));
        }
        Ok(VendorSchemas { by_kind })
    }

    pub fn knows(&self, kind: &str) -> bool {
        self.by_kind.contains_key(kind)
    }

    fn violations(&self, kind: &str, order: &CanonicalOrder) -> Vec<FieldError> {
        let Some((order_schema, line_schema)) = self.by_kind.get(kind) else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        let k = escape_pointer(kind);
        if let Some(opts) = order.vendor_options_for(kind) {
            errors.extend(
                order_schema
                    .violations(&Value::Object(opts.clone()), &format!("/vendorOptions/{k}")),
            );
        }
        for (i, line) in order.lines.iter().enumerate() {
            if let Some(opts) = line.vendor_options_for(kind) {
                errors.extend(line_schema.violations(
                    &Value::Object(opts.clone()),
                    &format!("/lines/{i}/vendorOptions/{k}"),
                ));
            }
        }
        errors
    }
}

/// What the pure half decided.
pub struct Planned<'r> {
    pub order: CanonicalOrder,
    pub route: &'r CompiledRoute,
    pub request: VendorRequest,
    pub explain: Vec<RuleExplain>,
}

/// A refusal, with the routing explanation when routing got that far.
pub struct Refused {
    pub problem: Problem,
    pub explain: Option<Vec<RuleExplain>>,
}

impl Refused {
    /// The problem with the full routing explanation added under `context.explain`
    /// (every rule, its lists and patterns): for operators (`translate`, `test-config`),
    /// never for an API caller.
    pub fn for_operator(self) -> Problem {
        let Some(explain) = self.explain else {
            return self.problem;
        };
        let mut ctx = self.problem.context.clone().unwrap_or_else(|| json!({}));
        if let Some(m) = ctx.as_object_mut() {
            m.insert("explain".into(), json!(explain));
        }
        self.problem.with_context(ctx)
    }
}

impl From<Problem> for Refused {
    fn from(problem: Problem) -> Self {
        Refused {
            problem,
            explain: None,
        }
    }
}

pub fn invalid(errors: Vec<FieldError>) -> Problem {
    let n = errors.len();
    Problem::new(
        ProblemCode::InvalidOrder,
        format!(
            "{n} problem{} in the order; each error points at the field to fix",
            if n == 1 { "" } else { "s" }
        ),
    )
    .with_errors(errors)
}

pub fn plan<'r>(
    doc: &Value,
    routes: &'r [CompiledRoute],
    fallback: Option<usize>,
    schemas: &VendorSchemas,
    client: &str,
    idempotency_key: &str,
) -> Result<Planned<'r>, Refused> {
    let order = parse_order(doc).map_err(invalid)?;
    let unknown_vendors = unknown_vendor_options(&order, schemas);
    if !unknown_vendors.is_empty() {
        return Err(invalid(unknown_vendors).into());
    }
    let (decision, explain) = decide(routes, fallback, &order, client);
    let route = match decision {
        Decision::Route(i) => match routes.get(i) {
            Some(r) => r,
            None => {
                return Err(Problem::new(ProblemCode::Internal, "route index out of range").into());
            }
        },
        Decision::NoRoute(explain) => {
            let problem = Problem::new(ProblemCode::NoRoute, "no routing rule takes this order; `context.rules` says why each rule did not match")
                .with_context(json!({"rules": closest_first(for_client(&explain))}));
            return Err(Refused {
                problem,
                explain: Some(explain),
            });
        }
        Decision::Split(groups) => {
            let problem = Problem::new(ProblemCode::SplitRequired, "the lines of this order go to different routes; send one order per group in `context.groups`")
                .with_context(json!({"groups": groups.iter().map(|(route, lines)| json!({"route": route, "lines": lines})).collect::<Vec<_>>()}));
            return Err(Refused {
                problem,
                explain: Some(explain),
            });
        }
    };
    let option_errors = schemas.violations(route.vendor, &order);
    if !option_errors.is_empty() {
        return Err(Refused {
            problem: invalid(option_errors),
            explain: Some(explain),
        });
    }
    // What the vendor cannot honour is refused here, the same way for every vendor,
    // before its translator looks at the rest.
    let unsupported = connector::capabilities::refusals(&route.capabilities, &order);
    if !unsupported.is_empty() {
        return Err(Refused {
            problem: invalid(unsupported),
            explain: Some(explain),
        });
    }
    let ctx = TranslateContext {
        client,
        connection: &route.connection,
        idempotency_key,
    };
    match route.prepared.translate(&order, &ctx) {
        Ok(request) => Ok(Planned {
            order,
            route,
            request,
            explain,
        }),
        Err(errors) => Err(Refused {
            problem: invalid(errors),
            explain: Some(explain),
        }),
    }
}

fn closest_first(mut rules: Vec<ClientRuleExplain>) -> Vec<ClientRuleExplain> {
    rules.sort_by_key(|e| std::cmp::Reverse(e.conditions_met));
    rules
}

fn unknown_vendor_options(order: &CanonicalOrder, schemas: &VendorSchemas) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let msg = "not a known vendor kind";
    for k in order.vendor_options.iter().flat_map(|m| m.keys()) {
        if !schemas.knows(k) {
            errors.push(FieldError::new(
                format!("/vendorOptions/{}", escape_pointer(k)),
                "unknown_vendor",
                msg,
            ));
        }
    }
    for (i, line) in order.lines.iter().enumerate() {
        for k in line.vendor_options.iter().flat_map(|m| m.keys()) {
            if !schemas.knows(k) {
                errors.push(FieldError::new(
                    format!("/lines/{i}/vendorOptions/{}", escape_pointer(k)),
                    "unknown_vendor",
                    msg,
                ));
            }
        }
    }
    errors
}

/// The key that identifies one order of one client across retries, in a form every
/// vendor accepts as a header value: a UUID-shaped digest of (client, key).
pub fn idempotency_key(client: &str, key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(client.as_bytes())
        .chain_update([0u8])
        .chain_update(key.as_bytes())
        .finalize();
    let h = hex::encode(&digest[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A hash of the order's meaning, not its formatting: keys sorted, whitespace gone, so
/// a client retrying with the same order re-serialized differently is not a conflict.
pub fn body_hash(doc: &Value) -> String {
    // Written straight into one buffer (no `Vec` per key or scalar, no second lookup
    // of each key): every order is hashed, and the allocations showed in a load profile.
    // Writing JSON into a `Vec` cannot fail.
    fn canon(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(m) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (i, (k, v)) in entries.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let _ = serde_json::to_writer(&mut *out, k);
                    out.push(b':');
                    canon(v, out);
                }
                out.push(b'}');
            }
            Value::Array(a) => {
                out.push(b'[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    canon(v, out);
                }
                out.push(b']');
            }
            other => {
                let _ = serde_json::to_writer(&mut *out, other);
            }
        }
    }
    let mut bytes = Vec::with_capacity(1024);
    canon(doc, &mut bytes);
    hex::encode(Sha256::digest(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored hashes decide replay vs conflict across upgrades: the bytes hashed must
    /// never change (pinned from the implementation of 2026-12-03).
    #[test]
    fn body_hash_is_stable_across_versions() {
        let doc: Value = serde_json::from_str(
            r#"{"z":[1,2.5,-3,true,null,"\u00e9\"q"],"a":{"y":"\n","b":{}},"m":[]}"#,
        )
        .unwrap();
        assert_eq!(
            body_hash(&doc),
            "773826d94c6dc66bbae04b95f7bf7cca4c2c7ef919232c4c2cb107323f977d2e"
        );
    }

    #[test]
    fn body_hash_ignores_key_order_and_spacing() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"c":[1,2],"d":"x"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{ "b": {"d":"x", "c":[1, 2]}, "a": 1 }"#).unwrap();
        let c: Value = serde_json::from_str(r#"{"a":1,"b":{"c":[2,1],"d":"x"}}"#).unwrap();
        assert_eq!(body_hash(&a), body_hash(&b));
        assert_ne!(body_hash(&a), body_hash(&c));
    }

    #[test]
    fn idempotency_key_is_stable_and_client_scoped() {
        assert_eq!(idempotency_key("dev", "r1"), idempotency_key("dev", "r1"));
        assert_ne!(idempotency_key("dev", "r1"), idempotency_key("other", "r1"));
        assert_eq!(idempotency_key("dev", "r1").len(), 36);
    }
}
