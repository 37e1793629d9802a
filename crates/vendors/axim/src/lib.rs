//! Axim Commerce connector: B2B orders recorded for company accounts.
//! `POST /orders` -> 200 `{success, message, data}`; static token in the `accessToken`
//! header (handled by the outbound stack). The crate README maps every page field.

pub mod config;
pub mod coverage;
pub mod drift;
pub mod interpret;
pub mod translate;
pub mod wire;

#[cfg(feature = "sim")]
pub mod sim;

use std::sync::Arc;

use connector::{
    AuthKind, Capabilities, ConfigIssue, Connector, Interpreted, PreparedRoute, RouteConfig,
    StatusReading, Support, SyncHandle, TranslateContext, VendorFailure, VendorRequest,
    VendorResponse,
};
use order_model::{CanonicalOrder, FieldError, VendorOrder};
use serde_json::{Value, json};

pub const KIND: &str = "axim";

const NO_QUOTES: Support = Support::Refused("Axim has no quotes");

/// What Axim can honour of the canonical order (see the README's mapping).
pub const CAPABILITIES: Capabilities = Capabilities {
    renewals: Support::Refused("Axim has no renewals"),
    return_orders: Support::Refused(
        "Axim records returns per line: send a new order whose returned lines have direction return",
    ),
    quotes: NO_QUOTES,
    return_quotes: NO_QUOTES,
    return_of: Support::Refused("Axim has no reference to an earlier order"),
    recurring: Support::Refused("Axim records one-off orders; it has no recurring orders"),
    // A carrier beside a different label is refused by the translator (one field).
    carrier_choice: Support::Supported,
    return_labels: Support::Refused("Axim issues no return labels"),
    site_delivery: Support::Refused("Axim has no sites: ship to an address or addressRef"),
    address_refs: Support::Supported,
    return_lines: Support::Supported,
    serial_numbers: Support::Refused("Axim lines carry no serial numbers"),
    subscription_refs: Support::Refused("Axim has no subscriptions"),
};

pub fn connector() -> Arc<dyn Connector> {
    Arc::new(Axim)
}

pub struct Axim;

impl Connector for Axim {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn auth_kind(&self) -> AuthKind {
        AuthKind::StaticHeader
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn order_options_schema(&self) -> Value {
        let text = |max: u32| json!({"type": "string", "minLength": 1, "maxLength": max});
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "vendorOptions.axim (order level)",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "orderStatus": {"enum": ["fulfilled", "pending", "cancelled"], "description": "Axim orderStatus; the route default when absent."},
                "fulfilledItems": {
                    "type": "array",
                    "description": "An already-fulfilled order's shipments (Axim Fulfilled Items).",
                    "items": {
                        "type": "object", "additionalProperties": false, "required": ["items"],
                        "properties": {
                            "items": {"type": "array", "minItems": 1, "items": {
                                "type": "object", "additionalProperties": false, "required": ["quantity"],
                                "properties": {
                                    "lineItemId": text(64),
                                    "quantity": {"type": "integer", "minimum": 0},
                                    "metaField": {"type": "object", "additionalProperties": false, "required": ["code", "value"], "properties": {"code": text(100), "value": text(500)}},
                                    "sku": text(128),
                                    "options": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["name", "value"], "properties": {"name": text(100), "value": text(200)}}}
                                }
                            }},
                            "carrier": text(100),
                            "trackingNumber": text(100),
                            "trackingUrl": {"type": "string", "format": "uri", "maxLength": 500},
                            "fulfilledAt": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z)?$"}
                        }
                    }
                }
            }
        })
    }

    fn line_options_schema(&self) -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "lines[].vendorOptions.axim",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "fulfilledQuantity": {"type": "integer", "minimum": 0, "description": "How many of this line are already fulfilled."}
            }
        })
    }

    fn prepare(&self, config: RouteConfig<'_>) -> Result<Arc<dyn PreparedRoute>, Vec<ConfigIssue>> {
        Ok(Arc::new(Prepared {
            route: config::parse(config)?,
        }))
    }

    fn check_lookup_id(&self, _vendor_order_id: &str) -> Result<(), connector::LookupRefusal> {
        // Axim's pages document create only (crate README).
        Err(connector::LookupRefusal::NoLookup)
    }

    /// Axim's pages document create only: its orders keep the status of the create's
    /// answer (crate README, "Status sync").
    fn status_lookup(&self, _handle: &SyncHandle) -> Option<VendorRequest> {
        None
    }

    fn interpret_status(
        &self,
        _handle: &SyncHandle,
        response: &VendorResponse,
    ) -> Result<StatusReading, VendorFailure> {
        Err(connector::sync::unreadable(response.status))
    }
}

pub struct Prepared {
    pub route: config::Route,
}

impl Prepared {
    fn sent_status<'a>(&'a self, order: &'a CanonicalOrder) -> Option<&'a str> {
        order
            .vendor_options_for(KIND)
            .and_then(|m| m.get("orderStatus"))
            .and_then(Value::as_str)
            .or(self.route.defaults.order_status.as_deref())
    }
}

impl PreparedRoute for Prepared {
    fn translate(
        &self,
        order: &CanonicalOrder,
        ctx: &TranslateContext<'_>,
    ) -> Result<VendorRequest, Vec<FieldError>> {
        translate::translate(&self.route, order, ctx)
    }

    fn interpret_checked(&self, order: &CanonicalOrder, response: &VendorResponse) -> Interpreted {
        Interpreted::new(
            interpret::interpret(order, response, self.sent_status(order)),
            drift::findings(response),
        )
    }

    /// Axim documents no way to read an order back.
    fn lookup(&self, _order: &CanonicalOrder, _vendor_order_id: &str) -> Option<VendorRequest> {
        None
    }

    /// Nothing to read later with: Axim has no documented read.
    fn sync_handle(&self, _order: &CanonicalOrder, _answer: &VendorOrder) -> Option<SyncHandle> {
        None
    }

    fn reuse_created_account(
        &self,
        _order: &CanonicalOrder,
        _account: &order_model::VendorRef,
    ) -> Option<CanonicalOrder> {
        None
    }

    fn interpret_lookup_checked(
        &self,
        order: &CanonicalOrder,
        response: &VendorResponse,
    ) -> Interpreted {
        Interpreted::new(
            interpret::interpret(order, response, None),
            drift::findings(response),
        )
    }
}
