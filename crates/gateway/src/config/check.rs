//! Reads a config file and reports EVERY problem in it at once, each with
//! `file:line:column`, then compiles what is valid into the pieces the gateway runs on.
//! `check-config`, `serve` and hot reload all go through here, so a config that passes
//! `check-config` is the config `serve` will run.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::model::{
    ClientConfig, Conditions, ConfigTest, ConnectionConfig, GatewayConfig, RouteConfig,
    ServerConfig, SimulatorConfig,
};
use super::yaml::{self, Pos, Positions};
use crate::registry::Registry;
use crate::routing::{CompiledRoute, glob_match};
use crate::secrets::{self, EnvLookup};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub severity: Severity,
    pub file: PathBuf,
    pub pos: Option<Pos>,
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}", self.file.display())?;
        if let Some(p) = self.pos {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, ": {sev}: {} (at {at})", self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckMode {
    /// `check-config`: unset secrets are warnings (the env of the target is elsewhere).
    Offline,
    /// `serve` and reload: unset secrets are errors.
    Serve,
}

/// A config that passed every check, compiled.
pub struct Checked {
    pub config: GatewayConfig,
    pub path: PathBuf,
    /// SHA-256 over the config file and every catalog file it reads, hex (first 16 chars
    /// are shown as the config version).
    pub hash: String,
    pub routes: Vec<CompiledRoute>,
    pub fallback: Option<usize>,
    /// Catalog files read, so hot reload can watch them too.
    pub files: Vec<PathBuf>,
    pub warnings: Vec<Issue>,
}

impl Checked {
    pub fn version(&self) -> &str {
        &self.hash[..16.min(self.hash.len())]
    }
}

struct Ctx<'a> {
    file: PathBuf,
    positions: Positions,
    issues: Vec<Issue>,
    mode: CheckMode,
    env: &'a EnvLookup,
}

impl Ctx<'_> {
    fn push(&mut self, severity: Severity, pointer: impl Into<String>, message: impl Into<String>) {
        let pointer = pointer.into();
        let pos = self.positions.find(&pointer);
        self.issues.push(Issue {
            severity,
            file: self.file.clone(),
            pos,
            pointer,
            message: message.into(),
        });
    }
    fn error(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Error, pointer, message);
    }
    fn warn(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.push(Severity::Warning, pointer, message);
    }

    /// Deserializes one section; on failure reports where (serde names the field for
    /// unknown and missing fields, which is turned into a pointer).
    fn parse<T: DeserializeOwned>(&mut self, value: &Value, pointer: &str) -> Option<T> {
        match serde_json::from_value::<T>(value.clone()) {
            Ok(v) => Some(v),
            Err(e) => {
                let msg = e.to_string();
                let at = field_in_message(&msg, "unknown field `")
                    .map(|f| format!("{pointer}/{f}"))
                    .unwrap_or_else(|| pointer.to_owned());
                self.error(at, msg);
                None
            }
        }
    }
}

fn field_in_message<'m>(msg: &'m str, prefix: &str) -> Option<&'m str> {
    let rest = msg.strip_prefix(prefix)?;
    rest.split('`').next()
}

const TOP_LEVEL: [&str; 10] = [
    "version",
    "sandbox",
    "server",
    "ledger",
    "clients",
    "simulators",
    "connections",
    "routes",
    "fallback",
    "tests",
];

pub fn load_and_check(
    path: &Path,
    registry: &Registry,
    mode: CheckMode,
    env: &EnvLookup,
) -> Result<Checked, Vec<Issue>> {
    let file = path.to_path_buf();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return Err(vec![Issue {
                severity: Severity::Error,
                file,
                pos: None,
                pointer: String::new(),
                message: format!("cannot read the config file: {e}"),
            }]);
        }
    };
    let (raw, positions) = match yaml::parse(&text) {
        Ok(v) => v,
        Err(e) => {
            return Err(vec![Issue {
                severity: Severity::Error,
                file,
                pos: e.pos,
                pointer: String::new(),
                message: format!("not valid YAML: {}", e.message),
            }]);
        }
    };
    let mut hasher = Sha256::new();
    hasher.update(text.as_bytes());
    let mut cx = Ctx {
        file,
        positions,
        issues: Vec::new(),
        mode,
        env,
    };
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();

    let Some(top) = raw.as_object() else {
        cx.error("", "the config must be a mapping");
        return Err(cx.issues);
    };
    for k in top.keys() {
        if !TOP_LEVEL.contains(&k.as_str()) {
            cx.error(
                format!("/{k}"),
                format!("unknown top-level key `{k}`, expected one of {TOP_LEVEL:?}"),
            );
        }
    }
    let get = |k: &str| top.get(k).cloned().unwrap_or(Value::Null);
    let version: Option<u32> = cx.parse(&get("version"), "/version");
    if let Some(v) = version
        && v != 1
    {
        cx.error(
            "/version",
            format!("config version {v} is not supported (only 1)"),
        );
    }
    let sandbox: bool = if top.contains_key("sandbox") {
        cx.parse(&get("sandbox"), "/sandbox").unwrap_or(false)
    } else {
        false
    };
    let server: ServerConfig = if top.contains_key("server") {
        cx.parse(&get("server"), "/server").unwrap_or_default()
    } else {
        ServerConfig::default()
    };
    let fallback: String = if top.contains_key("fallback") {
        cx.parse(&get("fallback"), "/fallback")
            .unwrap_or_else(|| "none".into())
    } else {
        "none".into()
    };
    let ledger = top
        .get("ledger")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({"kind": "sqlite", "path": "data/ledger.db"}));

    let clients: Vec<(usize, ClientConfig)> = parse_list(&mut cx, top.get("clients"), "/clients");
    let sims: Vec<(usize, SimulatorConfig)> =
        parse_list(&mut cx, top.get("simulators"), "/simulators");
    let conns: Vec<(usize, ConnectionConfig)> =
        parse_list(&mut cx, top.get("connections"), "/connections");
    let routes: Vec<(usize, RouteConfig)> = parse_list(&mut cx, top.get("routes"), "/routes");
    let tests: Vec<(usize, ConfigTest)> = parse_list(&mut cx, top.get("tests"), "/tests");

    // Clients.
    dupes(
        &mut cx,
        clients
            .iter()
            .map(|(i, c)| (format!("/clients/{i}/id"), c.id.as_str())),
        "client id",
    );
    if clients.is_empty() {
        cx.warn(
            "/clients",
            "no clients are declared: every order request will be refused with 401",
        );
    }
    for (i, c) in &clients {
        let at = format!("/clients/{i}/keySha256");
        match secrets::parse_ref(&c.key_sha256) {
            Some(name) => check_env(&mut cx, &at, name),
            None if !is_sha256_hex(&c.key_sha256) => cx.error(
                at,
                "must be the hex SHA-256 of the key (64 hex digits) or a ${ENV} reference",
            ),
            None => {}
        }
    }

    // Ledger.
    match crate::wiring::ledger_secret_envs(&ledger) {
        Err(msg) => cx.error("/ledger", msg),
        Ok(secrets) => check_secrets(&mut cx, "/ledger", secrets, sandbox),
    }

    // Connections.
    dupes(
        &mut cx,
        conns
            .iter()
            .map(|(i, c)| (format!("/connections/{i}/name"), c.name.as_str())),
        "connection name",
    );
    let mut conn_index: HashMap<&str, usize> = HashMap::new();
    for (i, c) in &conns {
        conn_index.entry(c.name.as_str()).or_insert(*i);
        let at = format!("/connections/{i}");
        if registry.get(&c.vendor).is_none() {
            cx.error(
                format!("{at}/vendor"),
                format!(
                    "unknown vendor `{}`; known: {:?}",
                    c.vendor,
                    registry.kinds()
                ),
            );
        }
        match crate::wiring::parse_outbound(&c.outbound) {
            Err(msg) => cx.error(format!("{at}/outbound"), msg),
            Ok(settings) => {
                for (p, msg) in crate::wiring::outbound_issues(&settings) {
                    cx.error(format!("{at}/outbound{p}"), msg);
                }
                check_secrets(
                    &mut cx,
                    &format!("{at}/outbound"),
                    crate::wiring::outbound_secret_envs(&settings),
                    sandbox,
                );
                if let Some(entry) = registry.get(&c.vendor)
                    && !crate::wiring::auth_matches(&settings, entry.connector.auth_kind())
                {
                    cx.error(
                        format!("{at}/outbound/auth"),
                        format!(
                            "vendor `{}` expects {:?} authentication",
                            c.vendor,
                            entry.connector.auth_kind()
                        ),
                    );
                }
            }
        }
    }

    // Simulators.
    for (i, s) in &sims {
        match registry.get(&s.vendor) {
            None => cx.error(
                format!("/simulators/{i}/vendor"),
                format!("unknown vendor `{}`", s.vendor),
            ),
            Some(entry) => {
                if let Err(msg) = (entry.simulator)(&s.settings, connector::sim::SimControl::new())
                {
                    cx.error(format!("/simulators/{i}/settings"), msg);
                }
            }
        }
    }

    // Routes.
    dupes(
        &mut cx,
        routes
            .iter()
            .map(|(i, r)| (format!("/routes/{i}/name"), r.name.as_str())),
        "route name",
    );
    let mut compiled = Vec::new();
    for (i, r) in &routes {
        let at = format!("/routes/{i}");
        check_conditions(&mut cx, &r.when, &format!("{at}/when"));
        let Some(&ci) = conn_index.get(r.connection.as_str()) else {
            cx.error(
                format!("{at}/connection"),
                format!("unknown connection `{}`", r.connection),
            );
            continue;
        };
        let Some(conn) = conns.iter().find(|(j, _)| *j == ci).map(|(_, c)| c) else {
            continue;
        };
        let Some(entry) = registry.get(&conn.vendor) else {
            continue;
        };
        let mut catalog = r.catalog.clone();
        if let Some(f) = &r.catalog_file {
            let p = base_dir.join(f);
            match std::fs::read_to_string(&p) {
                Err(e) => cx.error(
                    format!("{at}/catalogFile"),
                    format!("cannot read {}: {e}", p.display()),
                ),
                Ok(text) => {
                    hasher.update(text.as_bytes());
                    match parse_catalog_file(&text) {
                        Err(msg) => cx.error(
                            format!("{at}/catalogFile"),
                            format!("{}: {msg}", p.display()),
                        ),
                        Ok(entries) => {
                            for (sku, v) in entries {
                                if catalog.insert(sku.clone(), v).is_some() {
                                    cx.error(
                                        format!("{at}/catalogFile"),
                                        format!("sku `{sku}` is both inline and in {f}"),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
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
                    prepared,
                },
            )),
            Err(issues) => {
                for issue in issues {
                    let p = &issue.pointer;
                    let at = if let Some(rest) = p.strip_prefix("/settings") {
                        format!("/connections/{ci}/vendorSettings{rest}")
                    } else if p.starts_with("/catalog")
                        && r.catalog_file.is_some()
                        && !r.catalog.keys().any(|k| {
                            p.starts_with(&format!("/catalog/{}", order_model::escape_pointer(k)))
                        })
                    {
                        format!("{at}/catalogFile")
                    } else {
                        format!("{at}{p}")
                    };
                    let msg = if at.ends_with("/catalogFile") {
                        format!("{} (in the catalog file, at {p})", issue.message)
                    } else {
                        issue.message
                    };
                    cx.error(at, msg);
                }
            }
        }
    }
    shadowed(&mut cx, &routes);
    let fallback_index = if fallback == "none" {
        None
    } else {
        match compiled.iter().position(|(_, r)| r.name == fallback) {
            Some(i) => Some(i),
            None => {
                cx.error(
                    "/fallback",
                    format!("fallback `{fallback}` is neither `none` nor a route name"),
                );
                None
            }
        }
    };
    for (i, t) in &tests {
        if t.expect_route != "none" && !routes.iter().any(|(_, r)| r.name == t.expect_route) {
            cx.error(
                format!("/tests/{i}/expectRoute"),
                format!("no route named `{}`", t.expect_route),
            );
        }
    }

    if cx.issues.iter().any(|i| i.severity == Severity::Error) {
        cx.issues
            .sort_by_key(|i| (i.severity, i.pos.map(|p| (p.line, p.column))));
        return Err(cx.issues);
    }
    let config = GatewayConfig {
        version: version.unwrap_or(1),
        sandbox,
        server,
        ledger,
        clients: clients.into_iter().map(|(_, c)| c).collect(),
        simulators: sims.into_iter().map(|(_, s)| s).collect(),
        connections: conns.into_iter().map(|(_, c)| c).collect(),
        routes: routes.into_iter().map(|(_, r)| r).collect(),
        fallback,
        tests: tests.into_iter().map(|(_, t)| t).collect(),
    };
    let files = config
        .routes
        .iter()
        .filter_map(|r| r.catalog_file.as_ref().map(|f| base_dir.join(f)))
        .collect();
    Ok(Checked {
        config,
        path: path.to_path_buf(),
        hash: hex::encode(hasher.finalize()),
        routes: compiled.into_iter().map(|(_, r)| r).collect(),
        fallback: fallback_index,
        files,
        warnings: cx.issues,
    })
}

fn parse_list<T: DeserializeOwned>(
    cx: &mut Ctx<'_>,
    v: Option<&Value>,
    at: &str,
) -> Vec<(usize, T)> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| cx.parse::<T>(item, &format!("{at}/{i}")).map(|t| (i, t)))
            .collect(),
        Some(_) => {
            cx.error(at, "must be a list");
            Vec::new()
        }
    }
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

fn check_env(cx: &mut Ctx<'_>, at: &str, name: &str) {
    if (cx.env)(name).is_none() {
        let msg = format!("environment variable {name} is referenced but not set");
        match cx.mode {
            CheckMode::Offline => cx.warn(at, msg),
            CheckMode::Serve => cx.error(at, msg),
        }
    }
}

/// `None` entries are literal secrets: fine in a sandbox config, an error elsewhere.
fn check_secrets(cx: &mut Ctx<'_>, at: &str, secrets: Vec<Option<String>>, sandbox: bool) {
    for secret in secrets {
        match secret {
            Some(name) => check_env(cx, at, &name),
            None if !sandbox => cx.error(at, "a literal secret is only allowed in a sandbox config (sandbox: true); use a ${ENV} reference"),
            None => {}
        }
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

const TYPES: [&str; 3] = ["new", "renewal", "return"];
const INTENTS: [&str; 2] = ["place", "quote"];
const KINDS: [&str; 10] = [
    "item",
    "kit",
    "loaner_kit",
    "device",
    "packed_kit",
    "return:item",
    "return:kit",
    "return:loaner_kit",
    "return:device",
    "return:packed_kit",
];

/// A condition's name, its values, and the values it may take.
type Enumerated<'a> = (&'a str, &'a Option<Vec<String>>, &'a [&'a str]);

fn check_conditions(cx: &mut Ctx<'_>, c: &Conditions, at: &str) {
    let lists: [Enumerated<'_>; 3] = [
        ("types", &c.types, &TYPES),
        ("intents", &c.intents, &INTENTS),
        ("lineKinds", &c.line_kinds, &KINDS),
    ];
    for (name, list, allowed) in lists {
        for (i, v) in list.iter().flatten().enumerate() {
            if !allowed.contains(&v.as_str()) {
                cx.error(
                    format!("{at}/{name}/{i}"),
                    format!("`{v}` is not one of {allowed:?}"),
                );
            }
        }
    }
    for (i, v) in c.ship_to_countries.iter().flatten().enumerate() {
        if v.len() != 2 || !v.chars().all(|ch| ch.is_ascii_uppercase()) {
            cx.error(
                format!("{at}/shipToCountries/{i}"),
                format!("`{v}` is not an ISO 3166-1 alpha-2 code"),
            );
        }
    }
    let empties: [(&str, bool); 6] = [
        ("clients", c.clients.as_ref().is_some_and(Vec::is_empty)),
        ("types", c.types.as_ref().is_some_and(Vec::is_empty)),
        ("intents", c.intents.as_ref().is_some_and(Vec::is_empty)),
        ("skus", c.skus.as_ref().is_some_and(Vec::is_empty)),
        (
            "lineKinds",
            c.line_kinds.as_ref().is_some_and(Vec::is_empty),
        ),
        (
            "shipToCountries",
            c.ship_to_countries.as_ref().is_some_and(Vec::is_empty),
        ),
    ];
    for (name, empty) in empties {
        if empty {
            cx.error(
                format!("{at}/{name}"),
                "an empty list matches nothing; remove the condition or list values",
            );
        }
    }
}

/// A later rule can never match when an earlier rule accepts everything it accepts.
fn shadowed(cx: &mut Ctx<'_>, routes: &[(usize, RouteConfig)]) {
    for (j, (jat, later)) in routes.iter().enumerate() {
        if let Some((_, earlier)) = routes[..j]
            .iter()
            .find(|(_, e)| covers(&e.when, &later.when))
        {
            cx.error(
                format!("/routes/{jat}/when"),
                format!(
                    "route `{}` can never match: the earlier route `{}` takes every order it would",
                    later.name, earlier.name
                ),
            );
        }
    }
}

/// Does `a` accept every order that `b` accepts? Conservative: `true` only when provable.
fn covers(a: &Conditions, b: &Conditions) -> bool {
    fn set(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
        match (a, b) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(a), Some(b)) => b.iter().all(|x| a.contains(x)),
        }
    }
    let skus = match (&a.skus, &b.skus) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => b.iter().all(|pb| a.iter().any(|pa| glob_match(pa, pb))),
    };
    let metadata = match (&a.metadata, &b.metadata) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(a), Some(b)) => a.iter().all(|(k, v)| b.get(k) == Some(v)),
    };
    let opts = match (&a.has_vendor_options, &b.has_vendor_options) {
        (None, _) => true,
        (Some(x), Some(y)) => x == y,
        (Some(_), None) => false,
    };
    set(&a.clients, &b.clients)
        && set(&a.types, &b.types)
        && set(&a.intents, &b.intents)
        && set(&a.ship_to_countries, &b.ship_to_countries)
        && set(&a.ship_to_regions, &b.ship_to_regions)
        && set(&a.line_kinds, &b.line_kinds)
        && skus
        && metadata
        && opts
}

fn parse_catalog_file(text: &str) -> Result<BTreeMap<String, Value>, String> {
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(_) => yaml::parse(text).map(|(v, _)| v).map_err(|e| e.message)?,
    };
    serde_json::from_value(value).map_err(|e| format!("a catalog file must map sku -> entry: {e}"))
}
