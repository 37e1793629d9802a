//! Pass 1: the YAML tree to the typed model. serde owns the field names, the defaults and
//! the refusal of unknown keys; each list item is deserialized on its own, so one bad
//! item does not hide the problems in the others.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::check::Ctx;
use super::model::{
    ClientConfig, ConfigTest, ConnectionConfig, GatewayConfig, RouteConfig, SimulatorConfig,
};

/// The config as far as it deserialized. Each item keeps its index in the file, so
/// later passes can point at it even when an earlier item was refused.
pub(super) struct Sections {
    /// The top-level settings with serde's defaults; its lists are empty (see below).
    pub config: GatewayConfig,
    pub clients: Vec<(usize, ClientConfig)>,
    pub operators: Vec<(usize, ClientConfig)>,
    pub simulators: Vec<(usize, SimulatorConfig)>,
    pub connections: Vec<(usize, ConnectionConfig)>,
    pub routes: Vec<(usize, RouteConfig)>,
    pub tests: Vec<(usize, ConfigTest)>,
}

const LISTS: [&str; 6] = [
    "clients",
    "operators",
    "simulators",
    "connections",
    "routes",
    "tests",
];

pub(super) fn parse(cx: &mut Ctx<'_>, raw: &Value) -> Option<Sections> {
    let Some(top) = raw.as_object() else {
        cx.error("", "the config must be a mapping");
        return None;
    };
    Some(Sections {
        config: settings(cx, top)?,
        clients: items(cx, top.get("clients"), "/clients"),
        operators: items(cx, top.get("operators"), "/operators"),
        simulators: items(cx, top.get("simulators"), "/simulators"),
        connections: items(cx, top.get("connections"), "/connections"),
        routes: items(cx, top.get("routes"), "/routes"),
        tests: items(cx, top.get("tests"), "/tests"),
    })
}

/// Everything but the lists, as one `GatewayConfig`. serde stops at the first problem,
/// so the key it stopped on is reported, set aside (its default stands in) and the rest
/// parsed again, until none is left.
fn settings(cx: &mut Ctx<'_>, top: &Map<String, Value>) -> Option<GatewayConfig> {
    let mut rest: Map<String, Value> = top
        .iter()
        .filter(|(k, _)| !LISTS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    // Each round sets one key aside, and `version` is stood in for at most once.
    for _ in 0..top.len() + 2 {
        let at = match cx.try_parse::<GatewayConfig>(&Value::Object(rest.clone()), "") {
            Ok(config) => return Some(config),
            Err(at) => at,
        };
        let key = at
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        // `version` is required: a stand-in keeps a bad one from being reported as
        // missing too.
        if key == "version" || (key.is_empty() && !rest.contains_key("version")) {
            rest.insert("version".into(), Value::from(1));
        } else if rest.remove(key).is_none() {
            return None;
        }
    }
    None
}

fn items<T: DeserializeOwned>(cx: &mut Ctx<'_>, v: Option<&Value>, at: &str) -> Vec<(usize, T)> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CheckMode;

    fn messages(raw: Value) -> Vec<String> {
        let mut cx = Ctx {
            file: "gateway.yaml".into(),
            positions: Default::default(),
            issues: Vec::new(),
            mode: CheckMode::Offline,
            env: &|_| None,
        };
        assert!(parse(&mut cx, &raw).is_some());
        cx.issues
            .iter()
            .map(|i| format!("{}: {}", i.pointer, i.message))
            .collect()
    }

    #[test]
    fn every_top_level_problem_once() {
        let got = messages(serde_json::json!({
            "version": "one", "colour": 1, "server": {"bodyLimitBytes": "lots"}
        }));
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("/version: invalid type"), "{got:?}");
        assert!(
            got[1].starts_with("/colour: unknown field `colour`"),
            "{got:?}"
        );
        assert!(
            got[2].starts_with("/server/bodyLimitBytes: invalid type"),
            "{got:?}"
        );
        let got = messages(serde_json::json!({"sandbox": "yes"}));
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got[0].starts_with("/sandbox: invalid type"), "{got:?}");
        assert!(got[1].starts_with(": missing field `version`"), "{got:?}");
    }
}
