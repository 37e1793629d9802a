//! A Juniper route's catalog, defaults and connection settings, checked when the
//! config loads.

use std::collections::BTreeMap;

use connector::route_config::{error_pointer, finish, parse_object};
use connector::{ConfigIssue, RouteConfig};
use order_model::escape_pointer;
use serde::Deserialize;

use crate::wire::{ShippingMethod, ZipField};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogEntry {
    /// Juniper's integer product id.
    pub product_id: i64,
    /// Juniper requires a pack description on every line; the catalog's wins over the
    /// caller's line description.
    #[serde(default)]
    pub pack_description: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Defaults {
    /// 30, 60 or 90, when the order does not say.
    #[serde(default)]
    pub days_supply: Option<u16>,
    /// When the order has no `shipping.speed` (else STANDARD).
    #[serde(default)]
    pub shipping_method: Option<ShippingMethod>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    pub zip_field: ZipField,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub catalog: BTreeMap<String, CatalogEntry>,
    pub defaults: Defaults,
    pub settings: Settings,
}

pub const DAYS_SUPPLY: [u16; 3] = [30, 60, 90];

pub fn parse(config: RouteConfig<'_>) -> Result<Route, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let mut catalog = BTreeMap::new();
    for (sku, entry) in config.catalog {
        let at = format!("/catalog/{}", escape_pointer(sku));
        match serde_json::from_value::<CatalogEntry>(entry.clone()) {
            Ok(e) if e.product_id <= 0 => issues.push(ConfigIssue::new(format!("{at}/productId"), "must be a positive integer (Juniper's product id)")),
            Ok(e) if e.pack_description.as_deref().is_some_and(|d| d.trim().is_empty()) => {
                issues.push(ConfigIssue::new(format!("{at}/packDescription"), "must not be blank"))
            }
            Ok(e) => {
                catalog.insert(sku.clone(), e);
            }
            Err(e) => issues.push(ConfigIssue::new(error_pointer(&at, &e), format!("a Juniper catalog entry is {{productId: integer, packDescription?: string}}: {e}"))),
        }
    }
    let defaults: Defaults = parse_object(config.defaults, "/defaults", &mut issues);
    if let Some(d) = defaults.days_supply
        && !DAYS_SUPPLY.contains(&d)
    {
        issues.push(ConfigIssue::new(
            "/defaults/daysSupply",
            "must be 30, 60 or 90",
        ));
    }
    let settings: Settings = parse_object(config.settings, "/settings", &mut issues);
    finish(
        issues,
        Route {
            catalog,
            defaults,
            settings,
        },
    )
}
