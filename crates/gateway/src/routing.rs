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
    /// The vendor's declared capabilities, checked before `prepared` translates.
    pub capabilities: connector::Capabilities,
    pub prepared: Arc<dyn PreparedRoute>,
    /// See `RouteConfig::remember_created_accounts`.
    pub remember_created_accounts: bool,
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
    /// Where the first failure was, without the rule's values (for the caller's view).
    #[serde(skip)]
    pub failed_at: Option<FailedAt>,
}

/// Which condition failed, and on which line for a line-level one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedAt {
    pub line: Option<usize>,
    pub condition: &'static str,
}

/// One rule as a client may see it: same shape as [`RuleExplain`], but the failure names
/// only the condition its order missed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRuleExplain {
    pub route: String,
    pub matched: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    pub conditions_met: usize,
}

/// What concerns the client of an explanation. A rule it fails on `clients` is another
/// client's business, so it is left out; the others say which condition failed but not
/// the rule's lists and sku patterns (another client's routing table, in effect). The
/// full explanation is for operators: `translate`, `test-config`.
pub fn for_client(explain: &[RuleExplain]) -> Vec<ClientRuleExplain> {
    explain
        .iter()
        .filter(|e| e.failed_at.is_none_or(|f| f.condition != CLIENTS))
        .map(|e| ClientRuleExplain {
            route: e.route.clone(),
            matched: e.matched,
            failed: e.failed_at.map(|f| match f.line {
                Some(i) => format!("lines/{i}: {}: the line does not meet it", f.condition),
                None => format!("{}: the order does not meet it", f.condition),
            }),
            conditions_met: e.conditions_met,
        })
        .collect()
}

const CLIENTS: &str = "clients";

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
            failed: failed.as_ref().map(|f| f.1.clone()),
            conditions_met: met,
            failed_at: failed.map(|f| f.0),
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

/// A failed condition: where, and the operator's description of why.
type Failure = (FailedAt, String);

/// (conditions met, first failure).
fn evaluate(c: &Conditions, order: &CanonicalOrder, client: &str) -> (usize, Option<Failure>) {
    let (met, failed) = order_level(c, order, client);
    if let Some((condition, why)) = failed {
        let at = FailedAt {
            line: None,
            condition,
        };
        return (met, Some((at, why)));
    }
    let mut met = met;
    for (i, line) in order.lines.iter().enumerate() {
        if let Some((condition, why)) = line_level(c, line) {
            let at = FailedAt {
                line: Some(i),
                condition,
            };
            return (met, Some((at, format!("lines/{i}: {why}"))));
        }
    }
    met += usize::from(c.skus.is_some()) + usize::from(c.line_kinds.is_some());
    (met, None)
}

/// One order-level condition: why it fails, or `None`.
type Check<'a> = dyn Fn() -> Option<String> + 'a;

/// (conditions met, first failure as (condition name, why)).
fn order_level(
    c: &Conditions,
    order: &CanonicalOrder,
    client: &str,
) -> (usize, Option<(&'static str, String)>) {
    let mut met = 0;
    let checks: [(bool, &'static str, &Check<'_>); 7] = [
        (c.clients.is_some(), CLIENTS, &|| {
            let list = c.clients.as_deref().unwrap_or_default();
            (!list.iter().any(|x| x == client))
                .then(|| format!("clients: {client} is not in {list:?}"))
        }),
        (c.types.is_some(), "types", &|| {
            let t = order.order_type();
            let list = c.types.as_deref().unwrap_or_default();
            (!list.contains(&t))
                .then(|| format!("types: {} is not in {:?}", spelling(&t), spelled(list)))
        }),
        (c.intents.is_some(), "intents", &|| {
            let t = order.intent();
            let list = c.intents.as_deref().unwrap_or_default();
            (!list.contains(&t))
                .then(|| format!("intents: {} is not in {:?}", spelling(&t), spelled(list)))
        }),
        (c.ship_to_countries.is_some(), "shipToCountries", &|| {
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
        (c.ship_to_regions.is_some(), "shipToRegions", &|| {
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
        (c.metadata.is_some(), "metadata", &|| {
            let want = c.metadata.as_ref()?;
            let have = order.metadata.as_ref();
            want.iter()
                .find(|(k, v)| have.and_then(|m| m.get(*k)) != Some(*v))
                .map(|(k, v)| format!("metadata: {k} is not {v:?}"))
        }),
        (c.has_vendor_options.is_some(), "hasVendorOptions", &|| {
            let name = c.has_vendor_options.as_deref()?;
            order
                .vendor_options_for(name)
                .is_none()
                .then(|| format!("hasVendorOptions: no vendorOptions.{name}"))
        }),
    ];
    for (present, name, check) in checks {
        if !present {
            continue;
        }
        if let Some(f) = check() {
            return (met, Some((name, f)));
        }
        met += 1;
    }
    (met, None)
}

fn line_level(c: &Conditions, line: &Line) -> Option<(&'static str, String)> {
    if let Some(patterns) = &c.skus
        && !patterns.iter().any(|p| glob_match(p, &line.sku))
    {
        let why = format!("skus: sku {} matches none of {patterns:?}", line.sku);
        return Some(("skus", why));
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
        return Some(("lineKinds", format!("lineKinds: {k} is not in {kinds:?}")));
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
