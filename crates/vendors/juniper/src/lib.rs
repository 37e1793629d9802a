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
    StatusReading, Support, SyncHandle, TranslateContext, VendorFailure, VendorRequest,
    VendorResponse,
};
use order_model::{CanonicalOrder, FieldError, VendorOrder};
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

    /// The same read as the reconciling lookup (`GET /v1/orders/{id}`; "look up an
    /// order" in the vendor notes, path unconfirmed), by the id alone.
    fn status_lookup(&self, handle: &SyncHandle) -> Option<VendorRequest> {
        connector::sync::handle_id(handle, "id")
            .map(|id| VendorRequest::get(format!("{}/{id}", translate::CREATE_PATH)))
    }

    fn interpret_status(
        &self,
        handle: &SyncHandle,
        response: &VendorResponse,
    ) -> Result<StatusReading, VendorFailure> {
        let id = connector::sync::handle_id(handle, "id")
            .ok_or_else(|| connector::sync::unreadable(response.status))?;
        interpret::status_reading(id, response)
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

    /// Juniper reads an order by its id alone.
    fn sync_handle(&self, _order: &CanonicalOrder, answer: &VendorOrder) -> Option<SyncHandle> {
        let id = answer.vendor_order_id.as_deref()?;
        connector::LookupRefusal::check_alphanumeric(id).ok()?;
        Some(json!({"id": id}))
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

#[cfg(test)]
mod sync_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use order_model::OrderStatus;

    fn answer(status: u16, body: Value) -> VendorResponse {
        VendorResponse::new(status, serde_json::to_vec(&body).unwrap())
    }

    #[test]
    fn a_shipped_order_reads_with_its_tracking_and_another_order_is_unreadable() {
        let handle = json!({"id": "2vSGym0bH8qVEwCIGlyFoRgJq1A"});
        let req = Juniper.status_lookup(&handle).unwrap();
        assert_eq!(req.path, "/v1/orders/2vSGym0bH8qVEwCIGlyFoRgJq1A");
        let shipped = answer(
            200,
            json!({"id": "2vSGym0bH8qVEwCIGlyFoRgJq1A", "status": "SHIPPED",
                   "fulfillmentInfo": {"carrier": "UPS", "trackingNumber": "1Z9"}}),
        );
        let r = Juniper.interpret_status(&handle, &shipped).unwrap();
        assert_eq!(
            (
                r.status,
                r.vendor_status.as_str(),
                r.tracking[0].number.as_str()
            ),
            (OrderStatus::Shipped, "SHIPPED", "1Z9")
        );
        let other = answer(200, json!({"id": "someoneElse", "status": "FULFILLED"}));
        assert!(Juniper.interpret_status(&handle, &other).is_err());
        assert!(
            Juniper
                .interpret_status(&handle, &answer(404, json!({})))
                .is_err()
        );
        assert!(Juniper.status_lookup(&json!({"id": "../x"})).is_none());
    }
}
