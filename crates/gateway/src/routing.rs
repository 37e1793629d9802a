//! Which route takes an order: the first rule whose conditions all hold. Order-level
//! conditions look at the order; line-level conditions (`skus`, `lineKinds`) must hold
//! for every line, because one order goes to one vendor. When no rule takes the whole
//! order but its lines would each go somewhere, the caller is told how to split it
//! rather than getting a vague "no route".

use std::collections::BTreeMap;
use std::sync::Arc;

use connector::PreparedRoute;
use order_model::{CanonicalOrder, Line};
use serde::Serialize;

use crate::config::model::{Conditions, LineKindRule, spelling};

#[derive(Clone)]
pub struct CompiledRoute {
    pub name: String,
    pub conditions: Conditions,
    pub connection: String,
    pub vendor: &'static str,
    pub prepared: Arc<dyn PreparedRoute>,
}

/// How one rule fared against one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleExplain {
    pub route: String,
    pub matched: bool,
    /// The first condition that failed (`None` when matched).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// How many conditions held before the first failure: a hint of how close it came.
    pub conditions_met: usize,
}

#[derive(Debug)]
pub enum Decision {
    Route(usize),
    NoRoute(Vec<RuleExplain>),
    /// Line indexes per route name.
    Split(BTreeMap<String, Vec<usize>>),
}

pub fn decide(
    routes: &[CompiledRoute],
    fallback: Option<usize>,
    order: &CanonicalOrder,
    client: &str,
) -> (Decision, Vec<RuleExplain>) {
    // First match wins, so the rules after it are not evaluated (nor explained): on the
    // order path that saves formatting a failure for every later rule.
    let mut explain: Vec<RuleExplain> = Vec::with_capacity(routes.len());
    for (i, r) in routes.iter().enumerate() {
        let (met, failed) = evaluate(&r.conditions, order, client);
        let matched = failed.is_none();
        explain.push(RuleExplain {
            route: r.name.clone(),
            matched,
            failed,
            conditions_met: met,
        });
        if matched {
            return (Decision::Route(i), explain);
        }
    }
    if let Some(split) = split(routes, order, client) {
        return (Decision::Split(split), explain);
    }
    if let Some(i) = fallback {
        return (Decision::Route(i), explain);
    }
    (Decision::NoRoute(explain.clone()), explain)
}

fn split(
    routes: &[CompiledRoute],
    order: &CanonicalOrder,
    client: &str,
) -> Option<BTreeMap<String, Vec<usize>>> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, line) in order.lines.iter().enumerate() {
        let r = routes.iter().find(|r| {
            order_level(&r.conditions, order, client).1.is_none()
                && line_level(&r.conditions, line).is_none()
        })?;
        groups.entry(r.name.clone()).or_default().push(i);
    }
    (groups.len() > 1).then_some(groups)
}

/// (conditions met, first failure).
fn evaluate(c: &Conditions, order: &CanonicalOrder, client: &str) -> (usize, Option<String>) {
    let (met, failed) = order_level(c, order, client);
    if failed.is_some() {
        return (met, failed);
    }
    let mut met = met;
    for (i, line) in order.lines.iter().enumerate() {
        if let Some(f) = line_level(c, line) {
            return (met, Some(format!("lines/{i}: {f}")));
        }
    }
    met += usize::from(c.skus.is_some()) + usize::from(c.line_kinds.is_some());
    (met, None)
}

fn order_level(c: &Conditions, order: &CanonicalOrder, client: &str) -> (usize, Option<String>) {
    let mut met = 0;
    let checks: [(bool, &dyn Fn() -> Option<String>); 7] = [
        (c.clients.is_some(), &|| {
            let list = c.clients.as_deref().unwrap_or_default();
            (!list.iter().any(|x| x == client))
                .then(|| format!("clients: {client} is not in {list:?}"))
        }),
        (c.types.is_some(), &|| {
            let t = order.order_type();
            let list = c.types.as_deref().unwrap_or_default();
            (!list.contains(&t))
                .then(|| format!("types: {} is not in {:?}", spelling(&t), spelled(list)))
        }),
        (c.intents.is_some(), &|| {
            let t = order.intent();
            let list = c.intents.as_deref().unwrap_or_default();
            (!list.contains(&t))
                .then(|| format!("intents: {} is not in {:?}", spelling(&t), spelled(list)))
        }),
        (c.ship_to_countries.is_some(), &|| {
            let country = order
                .ship_to
                .as_ref()
                .and_then(|s| s.address.as_ref())
                .map(|a| a.country.as_str());
            let list = c.ship_to_countries.as_deref().unwrap_or_default();
            match country {
                Some(k) if list.iter().any(|x| x == k) => None,
                Some(k) => Some(format!("shipToCountries: {k} is not in {list:?}")),
                None => Some("shipToCountries: the order has no ship-to address".to_owned()),
            }
        }),
        (c.ship_to_regions.is_some(), &|| {
            let region = order
                .ship_to
                .as_ref()
                .and_then(|s| s.address.as_ref())
                .and_then(|a| a.region.as_deref());
            let list = c.ship_to_regions.as_deref().unwrap_or_default();
            match region {
                Some(k) if list.iter().any(|x| x == k) => None,
                Some(_) => Some(format!(
                    "shipToRegions: the ship-to region is not in {list:?}"
                )),
                None => Some("shipToRegions: the order has no ship-to region".to_owned()),
            }
        }),
        (c.metadata.is_some(), &|| {
            let want = c.metadata.as_ref()?;
            let have = order.metadata.as_ref();
            want.iter()
                .find(|(k, v)| have.and_then(|m| m.get(*k)) != Some(*v))
                .map(|(k, v)| format!("metadata: {k} is not {v:?}"))
        }),
        (c.has_vendor_options.is_some(), &|| {
            let name = c.has_vendor_options.as_deref()?;
            order
                .vendor_options_for(name)
                .is_none()
                .then(|| format!("hasVendorOptions: no vendorOptions.{name}"))
        }),
    ];
    for (present, check) in checks {
        if !present {
            continue;
        }
        if let Some(f) = check() {
            return (met, Some(f));
        }
        met += 1;
    }
    (met, None)
}

fn line_level(c: &Conditions, line: &Line) -> Option<String> {
    if let Some(patterns) = &c.skus
        && !patterns.iter().any(|p| glob_match(p, &line.sku))
    {
        return Some(format!(
            "skus: sku {} matches none of {patterns:?}",
            line.sku
        ));
    }
    if let Some(kinds) = &c.line_kinds
        && !kinds
            .iter()
            .any(|r| r.matches(line.kind(), line.direction()))
    {
        let k = LineKindRule {
            direction: line.direction(),
            kind: line.kind(),
        };
        let kinds: Vec<String> = kinds.iter().map(ToString::to_string).collect();
        return Some(format!("lineKinds: {k} is not in {kinds:?}"));
    }
    None
}

fn spelled<T: Serialize>(list: &[T]) -> Vec<String> {
    list.iter().map(spelling).collect()
}

/// `*` matches any run of characters, `?` one character; everything else is literal.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn globs() {
        assert!(glob_match("JH-*", "JH-100"));
        assert!(glob_match("JH-100", "JH-100"));
        assert!(!glob_match("JH-100", "JH-1000"));
        assert!(glob_match("*-PACK", "JH-1-PACK"));
        assert!(glob_match("A?C", "ABC"));
        assert!(!glob_match("A?C", "AC"));
        assert!(glob_match("*", ""));
    }
}
