//! Routing conditions: each rule's values are possible, and no rule is hidden behind an
//! earlier one that takes every order it would.

use super::check::Ctx;
use super::model::{Conditions, RouteConfig};
use crate::routing::glob_match;

pub(super) fn check_conditions(cx: &mut Ctx<'_>, c: &Conditions, at: &str) {
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
pub(super) fn shadowed(cx: &mut Ctx<'_>, routes: &[(usize, RouteConfig)]) {
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
    fn set<T: PartialEq>(a: &Option<Vec<T>>, b: &Option<Vec<T>>) -> bool {
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
