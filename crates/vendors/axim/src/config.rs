//! An Axim route's catalog, defaults and connection settings, checked at config load.

use std::collections::BTreeMap;

use connector::route_config::{finish, parse_object};
use connector::{ConfigIssue, RouteConfig};
use order_model::escape_pointer;
use serde::Deserialize;

/// Axim ids are 24-hex Mongo ObjectIds ("joiId").
pub fn is_object_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogEntry {
    pub product_id: String,
    pub variant_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Defaults {
    /// Axim's `orderStatus` when the order's Axim options do not set one (e.g. `pending`).
    #[serde(default)]
    pub order_status: Option<String>,
    /// Axim's `paymentStatus` when the order has no `payment.status`.
    #[serde(default)]
    pub payment_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Settings {
    /// The `metaFields` label that carries the caller's orderRef (the page's sample uses
    /// `orderId`; unconfirmed, so configurable).
    pub order_ref_label: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            order_ref_label: "orderId".to_owned(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Route {
    pub catalog: BTreeMap<String, CatalogEntry>,
    pub defaults: Defaults,
    pub settings: Settings,
}

pub const ORDER_STATUSES: [&str; 3] = ["fulfilled", "pending", "cancelled"];
pub const PAYMENT_STATUSES: [&str; 5] = ["unpaid", "authorized", "paid", "declined", "refunded"];

pub fn parse(config: RouteConfig<'_>) -> Result<Route, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let mut catalog = BTreeMap::new();
    for (sku, entry) in config.catalog {
        let at = format!("/catalog/{}", escape_pointer(sku));
        match serde_json::from_value::<CatalogEntry>(entry.clone()) {
            Ok(e) => {
                let mut ok = true;
                for (field, v) in [("productId", &e.product_id), ("variantId", &e.variant_id)] {
                    if !is_object_id(v) {
                        issues.push(ConfigIssue::new(
                            format!("{at}/{field}"),
                            "must be a 24-hex Axim ObjectId",
                        ));
                        ok = false;
                    }
                }
                if ok {
                    catalog.insert(sku.clone(), e);
                }
            }
            Err(e) => issues.push(ConfigIssue::new(
                at,
                format!("an Axim catalog entry is {{productId, variantId}} (ObjectIds): {e}"),
            )),
        }
    }
    let defaults: Defaults = parse_object(config.defaults, "/defaults", &mut issues);
    let statuses: [(_, &[&str], _); 2] = [
        (
            &defaults.order_status,
            &ORDER_STATUSES,
            "/defaults/orderStatus",
        ),
        (
            &defaults.payment_status,
            &PAYMENT_STATUSES,
            "/defaults/paymentStatus",
        ),
    ];
    for (value, known, pointer) in statuses {
        if value.as_deref().is_some_and(|s| !known.contains(&s)) {
            issues.push(ConfigIssue::new(
                pointer,
                format!("must be one of {known:?}"),
            ));
        }
    }
    let settings: Settings = parse_object(config.settings, "/settings", &mut issues);
    if settings.order_ref_label.is_empty() {
        issues.push(ConfigIssue::new(
            "/settings/orderRefLabel",
            "must not be empty",
        ));
    }
    finish(
        issues,
        Route {
            catalog,
            defaults,
            settings,
        },
    )
}
