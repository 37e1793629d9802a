//! The route config Impilo understands: the catalog (sku -> one typed Impilo id), the
//! route `defaults` and the connection `settings`, checked once in `prepare`.

use std::collections::BTreeMap;

use connector::{ConfigIssue, RouteConfig};
use order_model::escape_pointer;
use serde_json::Value;

use crate::wire::ShippingOption;

/// What one sku is at Impilo. Ids are positive integers (Impilo's order ids are integers;
/// the page shows `{"id": ...}` everywhere and we assume the same type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogEntry {
    /// `{"itemId": n}`: `orderItems` / `returnItems`.
    Item(u64),
    /// `{"kitId": n}` or `{"kitId": n, "loaner": true}`: `orderKits`.
    Kit { id: u64, loaner: bool },
    /// `{"deviceId": n}`: `returnDevices`.
    Device(u64),
    /// `{"packedKitId": n}`: `returnPackedKits`.
    PackedKit(u64),
}

impl CatalogEntry {
    pub fn describe(self) -> &'static str {
        match self {
            CatalogEntry::Item(_) => "an item",
            CatalogEntry::Kit { loaner: false, .. } => "a kit",
            CatalogEntry::Kit { loaner: true, .. } => "a loaner kit",
            CatalogEntry::Device(_) => "a device",
            CatalogEntry::PackedKit(_) => "a packed kit",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Route {
    pub connection: String,
    pub catalog: BTreeMap<String, CatalogEntry>,
    /// `defaults.shippingOption`: sent when the order has no `shipping.speed`.
    pub default_shipping: Option<ShippingOption>,
}

const ID_KEYS: [&str; 4] = ["itemId", "kitId", "deviceId", "packedKitId"];

pub fn parse(config: RouteConfig<'_>) -> Result<Route, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let mut catalog = BTreeMap::new();
    for (sku, entry) in config.catalog {
        let at = format!("/catalog/{}", escape_pointer(sku));
        if let Some(e) = parse_entry(entry, &at, &mut issues) {
            catalog.insert(sku.clone(), e);
        }
    }
    let default_shipping = parse_defaults(config.defaults, &mut issues);
    match config.settings {
        Value::Null => {}
        Value::Object(m) => {
            for k in m.keys() {
                issues.push(ConfigIssue::new(
                    format!("/settings/{}", escape_pointer(k)),
                    "impilo has no connection settings (the API key is the connection's auth config)",
                ));
            }
        }
        _ => issues.push(ConfigIssue::new("/settings", "must be an object")),
    }
    connector::route_config::finish(
        issues,
        Route {
            connection: config.connection.to_owned(),
            catalog,
            default_shipping,
        },
    )
}

fn parse_entry(entry: &Value, at: &str, issues: &mut Vec<ConfigIssue>) -> Option<CatalogEntry> {
    let Some(obj) = entry.as_object() else {
        issues.push(ConfigIssue::new(
            at,
            "must be an object with one of itemId, kitId, deviceId, packedKitId",
        ));
        return None;
    };
    let mut ok = true;
    for k in obj.keys() {
        if !ID_KEYS.contains(&k.as_str()) && k != "loaner" {
            issues.push(ConfigIssue::new(
                format!("{at}/{}", escape_pointer(k)),
                "unknown field (expected itemId, kitId, deviceId, packedKitId, loaner)",
            ));
            ok = false;
        }
    }
    let present: Vec<&str> = ID_KEYS
        .iter()
        .copied()
        .filter(|k| obj.contains_key(*k))
        .collect();
    if present.len() != 1 {
        issues.push(ConfigIssue::new(
            at,
            "must have exactly one of itemId, kitId, deviceId, packedKitId",
        ));
        return None;
    }
    let key = present[0];
    let id = match obj.get(key).and_then(Value::as_u64) {
        Some(id) if id > 0 => id,
        _ => {
            issues.push(ConfigIssue::new(
                format!("{at}/{key}"),
                "must be a positive integer (an Impilo id)",
            ));
            return None;
        }
    };
    let loaner = match obj.get("loaner") {
        None => false,
        Some(Value::Bool(b)) if key == "kitId" => *b,
        Some(Value::Bool(_)) => {
            issues.push(ConfigIssue::new(
                format!("{at}/loaner"),
                "only a kit (kitId) can be a loaner kit",
            ));
            return None;
        }
        Some(_) => {
            issues.push(ConfigIssue::new(
                format!("{at}/loaner"),
                "must be a boolean",
            ));
            return None;
        }
    };
    if !ok {
        return None;
    }
    Some(match key {
        "itemId" => CatalogEntry::Item(id),
        "kitId" => CatalogEntry::Kit { id, loaner },
        "deviceId" => CatalogEntry::Device(id),
        _ => CatalogEntry::PackedKit(id),
    })
}

fn parse_defaults(defaults: &Value, issues: &mut Vec<ConfigIssue>) -> Option<ShippingOption> {
    let obj = match defaults {
        Value::Null => return None,
        Value::Object(m) => m,
        _ => {
            issues.push(ConfigIssue::new("/defaults", "must be an object"));
            return None;
        }
    };
    let mut shipping = None;
    for (k, v) in obj {
        match k.as_str() {
            "shippingOption" => match v.as_str() {
                Some("standard") => shipping = Some(ShippingOption::Standard),
                Some("overnight") => shipping = Some(ShippingOption::Overnight),
                _ => issues.push(ConfigIssue::new(
                    "/defaults/shippingOption",
                    "must be \"standard\" or \"overnight\"",
                )),
            },
            other => issues.push(ConfigIssue::new(
                format!("/defaults/{}", escape_pointer(other)),
                "unknown default (impilo knows shippingOption)",
            )),
        }
    }
    shipping
}
