//! Juniper Health connector: personalised supplement packs shipped to US consumers.
//! `POST /v1/orders` (201), OAuth2 client credentials (handled by the outbound stack).
//! The crate README maps every field of Juniper's page to the canonical order.

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
    Support, TranslateContext, VendorRequest, VendorResponse,
};
use order_model::{CanonicalOrder, FieldError};
use serde_json::{Value, json};

pub const KIND: &str = "juniper";

const NO_RETURNS: Support = Support::Refused("Juniper takes no returns");
const NO_QUOTES: Support =
    Support::Refused("Juniper has no quotes; it prices orders when they are placed");
const NO_SITES: Support = Support::Refused("Juniper ships to people, not sites");

/// What Juniper can honour of the canonical order (see the README's mapping).
pub const CAPABILITIES: Capabilities = Capabilities {
    renewals: Support::Refused(
        "Juniper has no renewals; a recurring pack is `recurrence: subscription` on a new order",
    ),
    return_orders: NO_RETURNS,
    quotes: NO_QUOTES,
    return_quotes: NO_QUOTES,
    return_of: NO_RETURNS,
    recurring: Support::Supported,
    carrier_choice: Support::Supported,
    return_labels: NO_RETURNS,
    site_delivery: NO_SITES,
    address_refs: Support::Refused("Juniper holds no addresses; send the address itself"),
    return_lines: NO_RETURNS,
    serial_numbers: Support::Refused("Juniper ships no serialised devices"),
    subscription_refs: Support::Refused(
        "Juniper has no subscription ids; use recurrence: subscription",
    ),
};

pub fn connector() -> Arc<dyn Connector> {
    Arc::new(Juniper)
}

pub struct Juniper;

impl Connector for Juniper {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn auth_kind(&self) -> AuthKind {
        AuthKind::OAuth2ClientCredentials
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn order_options_schema(&self) -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "vendorOptions.juniper (order level)",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "daysSupply": {"enum": [30, 60, 90], "description": "Days the order supplies; the route's default when absent."}
            }
        })
    }

    fn line_options_schema(&self) -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "lines[].vendorOptions.juniper",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "administration": {
                    "type": "object",
                    "description": "Dosing schedule: pills per time of day. All four counts when given.",
                    "additionalProperties": false,
                    "required": ["morning", "afternoon", "evening", "sleep"],
                    "properties": {
                        "morning": {"type": "integer", "minimum": 0, "maximum": 20},
                        "afternoon": {"type": "integer", "minimum": 0, "maximum": 20},
                        "evening": {"type": "integer", "minimum": 0, "maximum": 20},
                        "sleep": {"type": "integer", "minimum": 0, "maximum": 20}
                    }
                }
            }
        })
    }

    fn prepare(&self, config: RouteConfig<'_>) -> Result<Arc<dyn PreparedRoute>, Vec<ConfigIssue>> {
        Ok(Arc::new(Prepared {
            route: config::parse(config)?,
        }))
    }

    fn check_lookup_id(&self, vendor_order_id: &str) -> Result<(), connector::LookupRefusal> {
        connector::LookupRefusal::check_alphanumeric(vendor_order_id)
    }
}

pub struct Prepared {
    pub route: config::Route,
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
            interpret::interpret(order, response, 201),
            drift::findings(response, 201),
        )
    }

    /// `GET /v1/orders/{id}`: Juniper's docs say a lookup exists; this path is the likely one (unconfirmed).
    fn lookup(&self, _order: &CanonicalOrder, vendor_order_id: &str) -> Option<VendorRequest> {
        connector::LookupRefusal::check_alphanumeric(vendor_order_id)
            .ok()
            .map(|()| VendorRequest::get(format!("{}/{vendor_order_id}", translate::CREATE_PATH)))
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
        // The vendor echoes who the order is for (`customer.sourceId`, required).
        let echo = connector::lookup::Echo {
            pointer: "/customer/sourceId",
            expected: &order.customer.customer_ref,
            required: true,
        };
        Interpreted::new(
            connector::lookup::same_order(
                interpret::interpret(order, response, 200),
                response,
                &echo,
            ),
            drift::findings(response, 200),
        )
    }
}
