//! Test support for vendor crates (feature `testkit`, for dev-dependencies only): one
//! vendor's sandbox route, its example orders, and the golden checks every vendor
//! crate runs (example -> exact request; recorded answer -> exact `VendorOrder`).
//! Everything here panics on failure: it is test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use order_model::CanonicalOrder;
use serde_json::{Value, json};

use crate::{
    Connector, PreparedRoute, RouteConfig, TranslateContext, VendorRequest, VendorResponse,
};

pub mod generated;
#[cfg(feature = "sim")]
pub mod sim_http;

/// Set to rewrite the golden files from what the code produces (then review the diff).
pub const UPDATE_GOLDEN: &str = "UPDATE_GOLDEN";

/// One vendor crate under test: its connector, its sandbox connection
/// (`<kind>-sandbox`) and catalog (`config/catalogs/<kind>.json`), its examples
/// (`examples/orders/<kind>/`) and its `tests/` directory.
pub struct VendorKit {
    connector: Arc<dyn Connector>,
    crate_dir: PathBuf,
    connection: String,
}

impl VendorKit {
    /// `crate_dir` is the vendor crate's `env!("CARGO_MANIFEST_DIR")`.
    pub fn new(connector: Arc<dyn Connector>, crate_dir: &str) -> Self {
        let connection = format!("{}-sandbox", connector.kind());
        VendorKit {
            connector,
            crate_dir: PathBuf::from(crate_dir),
            connection,
        }
    }

    pub fn repo(&self) -> PathBuf {
        self.crate_dir.join("../../..")
    }

    pub fn connection(&self) -> &str {
        &self.connection
    }

    /// The sandbox route with these vendor settings and route defaults.
    pub fn route_with(&self, settings: Value, defaults: Value) -> Arc<dyn PreparedRoute> {
        let file = self
            .repo()
            .join(format!("config/catalogs/{}.json", self.connector.kind()));
        let catalog: BTreeMap<String, Value> = read_json(&file);
        self.connector
            .prepare(RouteConfig {
                connection: &self.connection,
                settings: &settings,
                catalog: &catalog,
                defaults: &defaults,
            })
            .unwrap_or_else(|issues| panic!("{}: {issues:#?}", file.display()))
    }

    /// The route of `tests/fixtures/route.json` (`{"settings", "defaults"}`).
    pub fn route(&self) -> Arc<dyn PreparedRoute> {
        let fixture: Value = read_json(&self.crate_dir.join("tests/fixtures/route.json"));
        self.route_with(fixture["settings"].clone(), fixture["defaults"].clone())
    }

    /// Runs `f` with the context the tests translate under (client `dev`, key
    /// `dev-<orderRef>`).
    pub fn with_ctx<T>(
        &self,
        order: &CanonicalOrder,
        f: impl FnOnce(&TranslateContext<'_>) -> T,
    ) -> T {
        let key = format!("dev-{}", order.order_ref);
        f(&TranslateContext {
            client: "dev",
            connection: &self.connection,
            idempotency_key: &key,
        })
    }

    /// The vendor's example orders, parsed, by file stem, sorted.
    pub fn examples(&self) -> Vec<(String, CanonicalOrder)> {
        let dir = self
            .repo()
            .join("examples/orders")
            .join(self.connector.kind());
        let mut v: Vec<(String, CanonicalOrder)> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .map(|p| {
                let doc: Value = read_json(&p);
                let order = order_model::parse_order(&doc)
                    .unwrap_or_else(|e| panic!("{}: {e:#?}", p.display()));
                (p.file_stem().unwrap().to_string_lossy().into_owned(), order)
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The example order `examples/orders/<kind>/<name>.json`: the tests that need one
    /// particular example name it rather than search the list each time.
    pub fn example(&self, name: &str) -> CanonicalOrder {
        let all = self.examples();
        let names: Vec<String> = all.iter().map(|(n, _)| n.clone()).collect();
        all.into_iter()
            .find_map(|(n, o)| (n == name).then_some(o))
            .unwrap_or_else(|| panic!("no example {name:?} among {names:?}"))
    }

    /// `order` translated by `route` under [`VendorKit::with_ctx`]'s context, for tests
    /// whose order must translate (a refusal panics with its field errors).
    pub fn translated(
        &self,
        route: &Arc<dyn PreparedRoute>,
        order: &CanonicalOrder,
    ) -> VendorRequest {
        self.with_ctx(order, |ctx| route.translate(order, ctx))
            .unwrap_or_else(|errors| panic!("{}: refused: {errors:#?}", order.order_ref))
    }

    /// The (pointer, code) of each field error `route` refuses `order` with, for tests
    /// that expect a refusal (a translation panics with its body).
    pub fn refusal_codes(
        &self,
        route: &Arc<dyn PreparedRoute>,
        order: &CanonicalOrder,
    ) -> Vec<(String, String)> {
        match self.with_ctx(order, |ctx| route.translate(order, ctx)) {
            Ok(req) => panic!("{}: translated to {:?}", order.order_ref, req.body_json()),
            Err(errors) => errors.into_iter().map(|e| (e.pointer, e.code)).collect(),
        }
    }

    fn golden(&self) -> PathBuf {
        self.crate_dir.join("tests/golden")
    }

    /// Every example translates to exactly `tests/golden/<example>.request.json`
    /// (`{"method", "path", "headers", "body"}`).
    pub fn check_golden_requests(&self, route: &dyn PreparedRoute) {
        let examples = self.examples();
        assert!(examples.len() >= 3, "too few examples: {}", examples.len());
        for (name, order) in examples {
            let req = self
                .with_ctx(&order, |ctx| route.translate(&order, ctx))
                .unwrap_or_else(|e| panic!("{name}: {e:#?}"));
            let headers: serde_json::Map<String, Value> = req
                .headers
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), json!(v)))
                .collect();
            let got = json!({"method": req.method.as_str(), "path": req.path, "headers": headers, "body": req.body_json()});
            compare_golden(&self.golden().join(format!("{name}.request.json")), &got);
        }
    }

    /// Every example has a recorded vendor answer, `<example>.response.json`
    /// (`{"status", "body"}`: the simulator's answer to the golden request), and
    /// `interpret` makes exactly `<example>.result.json` of it.
    pub fn check_golden_responses(&self, route: &dyn PreparedRoute) {
        let examples = self.examples();
        let dir = self.golden();
        let mut responses: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.strip_suffix(".response.json").map(str::to_owned)
            })
            .collect();
        responses.sort();
        let names: Vec<&str> = examples.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            responses, names,
            "one golden response per example with a golden request"
        );
        for (name, order) in &examples {
            let recorded: Value = read_json(&dir.join(format!("{name}.response.json")));
            let status = u16::try_from(recorded["status"].as_u64().unwrap()).unwrap();
            let resp = VendorResponse::new(status, serde_json::to_vec(&recorded["body"]).unwrap());
            let checked = route.interpret_checked(order, &resp);
            assert!(
                checked.drift.is_empty(),
                "{name}: the simulator's answer drifts from what the crate expects: {:?}",
                checked.drift
            );
            let got =
                serde_json::to_value(checked.result.unwrap_or_else(|f| panic!("{name}: {f:#?}")))
                    .unwrap();
            compare_golden(&dir.join(format!("{name}.result.json")), &got);
        }
    }
}

/// A vendor answer with `status` and the JSON `body`, as the interpret tests feed them
/// to a route.
pub fn json_answer(status: u16, body: Value) -> VendorResponse {
    VendorResponse::new(status, serde_json::to_vec(&body).unwrap())
}

/// Whether `errors` (from [`VendorKit::refusal_codes`]) hold one at `pointer` with `code`.
pub fn has_code(errors: &[(String, String)], pointer: &str, code: &str) -> bool {
    errors.iter().any(|(p, c)| p == pointer && c == code)
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `got` must equal the file; with `UPDATE_GOLDEN` set the file is rewritten first.
pub fn compare_golden(file: &Path, got: &Value) {
    if std::env::var_os(UPDATE_GOLDEN).is_some() {
        std::fs::write(file, serde_json::to_string_pretty(got).unwrap() + "\n").unwrap();
    }
    let want: Value = read_json(file);
    pretty_assertions::assert_eq!(got, &want, "{}", file.display());
}

/// A vendor crate's `tests/golden.rs` (after `mod common;`): every example translates to
/// its golden request, and every recorded answer (`<example>.response.json`, the
/// simulator's answer to that request) interprets to its golden result.
#[macro_export]
macro_rules! vendor_golden_tests {
    () => {
        #[test]
        fn every_example_translates_to_its_golden_request() {
            common::kit().check_golden_requests(common::route().as_ref());
        }

        #[test]
        fn every_golden_response_interprets_to_its_golden_result() {
            common::kit().check_golden_responses(common::route().as_ref());
        }
    };
}

/// A vendor crate's `tests/prop.rs` (after `mod common;` and its order strategy): the
/// property [`generated::translates_or_refuses`] over 256 orders of `$strategy`, whose
/// translated bodies `$accepts` checks, and [`generated::assert_fair_share`] of the same
/// strategy. A macro because it writes the `#[test]` items themselves (the crate needs
/// `proptest`, as every vendor crate has).
#[macro_export]
macro_rules! generated_order_tests {
    ($strategy:expr, $accepts:expr) => {
        ::proptest::proptest! {
            #![proptest_config(::proptest::prelude::ProptestConfig::with_cases(256))]
            #[test]
            fn translates_to_an_accepted_body_or_refuses(doc in $strategy) {
                $crate::testkit::generated::translates_or_refuses(
                    &common::kit(),
                    common::route().as_ref(),
                    &doc,
                    $accepts,
                )?;
            }
        }

        #[test]
        fn a_fair_share_of_generated_orders_translates() {
            $crate::testkit::generated::assert_fair_share(
                &common::kit(),
                common::route().as_ref(),
                $strategy,
            );
        }
    };
}

/// A vendor crate's `tests/common/mod.rs`: `connector::vendor_test_helpers!(vendor_x::connector());`
/// defines `kit()`, `route()`, `route_with(settings, defaults)`, `with_ctx(order, f)`,
/// `examples()`, `example(name)`, `translated(route, order)`, `refusal_codes(order)` and
/// `order(json)` for that vendor (the crate needs `order-model` and
/// `serde_json`, as every vendor crate has).
#[macro_export]
macro_rules! vendor_test_helpers {
    ($connector:expr) => {
        pub fn kit() -> $crate::testkit::VendorKit {
            $crate::testkit::VendorKit::new($connector, env!("CARGO_MANIFEST_DIR"))
        }
        pub fn route() -> ::std::sync::Arc<dyn $crate::PreparedRoute> {
            kit().route()
        }
        pub fn route_with(
            settings: ::serde_json::Value,
            defaults: ::serde_json::Value,
        ) -> ::std::sync::Arc<dyn $crate::PreparedRoute> {
            kit().route_with(settings, defaults)
        }
        pub fn with_ctx<T>(
            order: &::order_model::CanonicalOrder,
            f: impl FnOnce(&$crate::TranslateContext<'_>) -> T,
        ) -> T {
            kit().with_ctx(order, f)
        }
        pub fn examples() -> Vec<(String, ::order_model::CanonicalOrder)> {
            kit().examples()
        }
        pub fn refusal_codes(order: &::order_model::CanonicalOrder) -> Vec<(String, String)> {
            let kit = kit();
            kit.refusal_codes(&kit.route(), order)
        }
        pub fn example(name: &str) -> ::order_model::CanonicalOrder {
            kit().example(name)
        }
        pub fn translated(
            route: &::std::sync::Arc<dyn $crate::PreparedRoute>,
            order: &::order_model::CanonicalOrder,
        ) -> $crate::VendorRequest {
            kit().translated(route, order)
        }
        pub fn order(v: ::serde_json::Value) -> ::order_model::CanonicalOrder {
            match ::order_model::parse_order(&v) {
                Ok(o) => o,
                Err(e) => panic!("not a valid canonical order: {e:#?}"),
            }
        }
    };
}

/// Every leaf property path of a JSON Schema (`customer.firstName`, `lines[].sku`):
/// properties without sub-properties, following `$ref`s into `$defs` and array items.
pub fn schema_leaf_paths(schema: &Value) -> Vec<String> {
    fn walk(node: &Value, path: &str, root: &Value, out: &mut Vec<String>) {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let target = r.strip_prefix('#').and_then(|p| root.pointer(p));
            return walk(target.unwrap_or(&Value::Null), path, root, out);
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (k, v) in props {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, &p, root, out);
            }
            return;
        }
        if let Some(items) = node.get("items")
            && (items.get("properties").is_some() || items.get("$ref").is_some())
        {
            return walk(items, &format!("{path}[]"), root, out);
        }
        out.push(path.to_owned());
    }
    let mut out = Vec::new();
    walk(schema, "", schema, &mut out);
    out.sort();
    out
}

/// `lines[].discounts[].name` -> `/lines/0/discounts/0/name`.
pub fn path_pointer(path: &str) -> String {
    path.split('.')
        .map(|seg| match seg.strip_suffix("[]") {
            Some(name) => format!("/{name}/0"),
            None => format!("/{seg}"),
        })
        .collect()
}

/// Sets `value` at `pointer` in a test's order document, creating objects on the way
/// (an array index must exist, or be the next one: it appends).
pub fn set_at(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    if !parent.is_empty() && doc.pointer(parent).is_none() {
        set_at(doc, parent, json!({}));
    }
    let target = if parent.is_empty() {
        &mut *doc
    } else {
        doc.pointer_mut(parent).unwrap()
    };
    match target {
        Value::Object(m) => {
            m.insert(key.to_owned(), value);
        }
        Value::Array(a) => {
            let i: usize = key.parse().unwrap();
            if i < a.len() {
                a[i] = value;
            } else {
                a.push(value);
            }
        }
        other => panic!("cannot set {pointer} inside {other}"),
    }
}

/// RFC 7396 JSON merge patch.
fn merge_patch(doc: &mut Value, patch: &Value) {
    match (doc, patch) {
        (Value::Object(d), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    d.remove(k);
                } else {
                    merge_patch(d.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (d, p) => *d = p.clone(),
    }
}

impl VendorKit {
    /// The field-coverage rule (see `connector::coverage`): every leaf path of the
    /// canonical schema is classified exactly once in `table`; every `Ignored` path is
    /// listed under the README's ignored heading; every refusal is proven by translating
    /// `base` (an order this vendor accepts) with the field set, which must give a 422
    /// whose pointer is the field (or inside it).
    pub fn check_field_coverage(
        &self,
        route: &dyn PreparedRoute,
        table: &[(&str, crate::coverage::Coverage)],
        base: Value,
    ) {
        use crate::coverage::{Coverage, IGNORED_HEADING};
        let schema: Value = read_json(&self.repo().join("schemas/canonical-order.v1.schema.json"));
        let paths = schema_leaf_paths(&schema);
        let kind = self.connector.kind();
        let mut declared: Vec<&str> = table.iter().map(|(p, _)| *p).collect();
        declared.sort();
        let dups: Vec<&&str> = declared
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| &w[0])
            .collect();
        assert!(dups.is_empty(), "{kind}: classified twice: {dups:?}");
        let missing: Vec<&String> = paths
            .iter()
            .filter(|p| !declared.contains(&p.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "{kind}: canonical fields not classified (mapped, refused or ignored): {missing:?}"
        );
        let stale: Vec<&&str> = declared
            .iter()
            .filter(|p| !paths.iter().any(|q| q == *p))
            .collect();
        assert!(
            stale.is_empty(),
            "{kind}: classified paths the schema does not have: {stale:?}"
        );

        let readme = std::fs::read_to_string(self.crate_dir.join("README.md")).unwrap();
        let ignored_section = readme
            .split_once(IGNORED_HEADING)
            .map(|(_, rest)| rest.split("\n## ").next().unwrap_or_default())
            .unwrap_or_else(|| panic!("{kind}: README has no `{IGNORED_HEADING}` section"));

        let base_order = order_model::parse_order(&base)
            .unwrap_or_else(|e| panic!("{kind}: the coverage base order is not valid: {e:#?}"));
        self.with_ctx(&base_order, |ctx| route.translate(&base_order, ctx))
            .unwrap_or_else(|e| {
                panic!("{kind}: the coverage base order does not translate: {e:#?}")
            });

        for (path, coverage) in table {
            let pointer = path_pointer(path);
            let mut doc = base.clone();
            match coverage {
                Coverage::Mapped => continue,
                Coverage::Ignored => {
                    // The path, or an object above it (`billTo` covers every billTo field).
                    let segs: Vec<&str> = path.split('.').collect();
                    let listed = (1..=segs.len()).any(|n| {
                        let p = segs[..n].join(".");
                        let bare = p.trim_end_matches("[]");
                        ignored_section.contains(&format!("`{p}`"))
                            || ignored_section.contains(&format!("`{bare}`"))
                    });
                    assert!(
                        listed,
                        "{kind}: `{path}` is classified ignored but not listed under `{IGNORED_HEADING}` in the README"
                    );
                    continue;
                }
                Coverage::MappedExcept(v) | Coverage::Refused(v) => {
                    let value: Value = serde_json::from_str(v)
                        .unwrap_or_else(|e| panic!("{kind} {path}: sample {v}: {e}"));
                    set_at(&mut doc, &pointer, value);
                }
                Coverage::RefusedWith(patch) => {
                    let patch: Value = serde_json::from_str(patch)
                        .unwrap_or_else(|e| panic!("{kind} {path}: patch {patch}: {e}"));
                    merge_patch(&mut doc, &patch);
                }
            }
            let order = order_model::parse_order(&doc).unwrap_or_else(|e| {
                panic!("{kind} {path}: the order with the field set is not valid canonical: {e:#?}")
            });
            let errs = match self.with_ctx(&order, |ctx| route.translate(&order, ctx)) {
                Ok(_) => panic!(
                    "{kind}: `{path}` is classified refused, but an order with it set translates"
                ),
                Err(e) => e,
            };
            assert!(
                errs.iter()
                    .any(|e| e.pointer == pointer || e.pointer.starts_with(&format!("{pointer}/"))),
                "{kind}: `{path}` is refused, but not at {pointer}: {errs:#?}"
            );
        }
        self.check_capabilities(route, &base);
    }

    /// Each concept the vendor declares it cannot honour (`Connector::capabilities`) is
    /// refused by its translator called on its own too (translators run the shared check
    /// first): `unsupported` at the caller's field, with the declared reason.
    fn check_capabilities(&self, route: &dyn PreparedRoute, base: &Value) {
        use crate::capabilities::Support;
        let kind = self.connector.kind();
        let caps = self.connector.capabilities();
        // A quoted return is asked only where quotes are supported.
        let quoted_return = match caps.quotes {
            Support::Supported => caps.return_quotes,
            Support::Refused(_) => Support::Supported,
        };
        // (declared support, where the refusal points, merge patch or line value).
        let order_level = [
            (caps.renewals, "/type", json!({"type": "renewal"})),
            (caps.return_orders, "/type", json!({"type": "return"})),
            (caps.quotes, "/intent", json!({"intent": "quote"})),
            (
                quoted_return,
                "/intent",
                json!({"type": "return", "intent": "quote"}),
            ),
            (caps.return_of, "/returnOf", json!({"returnOf": "x-1"})),
            (
                caps.recurring,
                "/recurrence",
                json!({"recurrence": "subscription"}),
            ),
            (
                caps.carrier_choice,
                "/shipping/carrier",
                json!({"shipping": {"carrier": "UPS"}}),
            ),
            (
                caps.return_labels,
                "/shipping/returnLabel",
                json!({"shipping": {"returnLabel": "email"}}),
            ),
            (
                caps.site_delivery,
                "/shipTo/kind",
                json!({"shipTo": {"kind": "site"}}),
            ),
            (
                caps.site_delivery,
                "/shipTo/siteRef",
                json!({"shipTo": {"siteRef": "301"}}),
            ),
            (
                caps.address_refs,
                "/shipTo/addressRef",
                json!({"shipTo": {"address": null, "addressRef": "addr-1"}}),
            ),
        ];
        let line_level = [
            (caps.return_lines, "/lines/0/direction", json!("return")),
            (caps.serial_numbers, "/lines/0/serialNumber", json!("SN-1")),
            (
                caps.subscription_refs,
                "/lines/0/subscriptionRef",
                json!("sub-1"),
            ),
        ];
        let cases = order_level
            .into_iter()
            .map(|(s, at, patch)| (s, at, true, patch))
            .chain(line_level.into_iter().map(|(s, at, v)| (s, at, false, v)));
        for (support, pointer, is_patch, change) in cases {
            let Support::Refused(reason) = support else {
                continue;
            };
            let mut doc = base.clone();
            if is_patch {
                merge_patch(&mut doc, &change);
            } else {
                set_at(&mut doc, pointer, change);
            }
            let order = order_model::parse_order(&doc)
                .unwrap_or_else(|e| panic!("{kind} {pointer}: not valid canonical: {e:#?}"));
            let errs = self
                .with_ctx(&order, |ctx| route.translate(&order, ctx))
                .err()
                .unwrap_or_default();
            assert!(
                errs.iter().any(|e| e.pointer == pointer
                    && e.code == "unsupported"
                    && e.message == reason),
                "{kind}: declares it cannot honour {pointer} ({reason}), but its translator does not refuse it so: {errs:#?}"
            );
        }
    }
}
