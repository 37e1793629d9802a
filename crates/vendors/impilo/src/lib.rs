//! Impilo connector: medical devices and kits to patients and clinical sites, with
//! returns. `POST /api/v3/order` (201), `GET /api/v3/order/{id}`, static key in the
//! `Impilo-API-Key` header (added by the outbound stack). See the crate README for the
//! full mapping and every decision on the page's unconfirmed shapes.

pub mod config;
pub mod coverage;
pub mod drift;
pub mod interpret;
pub mod messages;
pub mod rules;
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

use crate::config::Route;
use crate::interpret::Call;

pub const KIND: &str = "impilo";

const NO_QUOTES: Support = Support::Refused("Impilo cannot quote an order without placing it");

/// What Impilo can honour of the canonical order (see the README's mapping). Returns
/// are lines (`direction: return`); which kinds may be returned is the translator's rule.
pub const CAPABILITIES: Capabilities = Capabilities {
    renewals: Support::Refused("Impilo has no renewal orders"),
    return_orders: Support::Supported,
    quotes: NO_QUOTES,
    return_quotes: NO_QUOTES,
    return_of: Support::Refused(
        "Impilo returns do not reference an original order: send return lines",
    ),
    recurring: Support::Refused("Impilo has no recurring orders"),
    carrier_choice: Support::Refused(
        "Impilo picks the carrier; only the shipping speed can be chosen",
    ),
    return_labels: Support::Supported,
    site_delivery: Support::Supported,
    address_refs: Support::Refused(
        "Impilo has no stored addresses: ship to a patient, a new patient's address or a site",
    ),
    return_lines: Support::Supported,
    // Only a returned device carries one: the translator's rule.
    serial_numbers: Support::Supported,
    subscription_refs: Support::Refused("Impilo has no subscriptions"),
};

/// The header the outbound stack puts the connection's static key in.
pub const API_KEY_HEADER: &str = "Impilo-API-Key";

pub fn connector() -> Arc<dyn Connector> {
    Arc::new(Impilo)
}

pub struct Impilo;

impl Connector for Impilo {
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
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "vendorOptions.impilo (order level)",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "patientSiteRef": {
                    "type": "string",
                    "pattern": "^[1-9][0-9]{0,17}$",
                    "description": "Impilo site id the NEW patient belongs to (sent as patient.site.id). Only with a new patient."
                }
            }
        })
    }

    fn line_options_schema(&self) -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "lines[].vendorOptions.impilo",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "deviceSerials": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 100,
                    "uniqueItems": true,
                    "items": {"type": "string", "minLength": 1, "maxLength": 128},
                    "description": "On a returned packed_kit line: serial numbers of the devices inside it (not sent; checked against device return lines)."
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
        translate::parse_id(vendor_order_id)
            .map(|_| ())
            .ok_or(connector::LookupRefusal::InvalidId("a positive integer"))
    }

    /// Fetch Order, `GET /api/v3/order/{id}` (the page's "listing and fetching orders",
    /// Order Management Guide; the vendor notes' "look up an order").
    fn status_lookup(&self, handle: &SyncHandle) -> Option<VendorRequest> {
        let id = handle.get("id").and_then(Value::as_str)?;
        translate::parse_id(id).map(|id| VendorRequest::get(format!("/api/v3/order/{id}")))
    }

    fn interpret_status(
        &self,
        handle: &SyncHandle,
        response: &VendorResponse,
    ) -> Result<StatusReading, VendorFailure> {
        if !(200..=299).contains(&response.status) {
            return Err(connector::sync::read_failure(response));
        }
        let want = handle.get("id").and_then(Value::as_str);
        interpret::parse_order(&response.body, false)
            .filter(|o| o.vendor_order_id.is_some() && o.vendor_order_id.as_deref() == want)
            .map(|o| StatusReading {
                status: o.status,
                vendor_status: o.vendor_status,
                tracking: o.tracking,
            })
            .ok_or_else(|| connector::sync::unreadable(response.status))
    }
}

pub struct Prepared {
    pub route: Route,
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
            interpret::interpret(&self.route, order, response, Call::Create),
            drift::findings(response),
        )
    }

    /// Impilo fetches an order by its integer id alone.
    fn sync_handle(&self, _order: &CanonicalOrder, answer: &VendorOrder) -> Option<SyncHandle> {
        let id = answer.vendor_order_id.as_deref()?;
        translate::parse_id(id)?;
        Some(json!({"id": id}))
    }

    fn lookup(&self, _order: &CanonicalOrder, vendor_order_id: &str) -> Option<VendorRequest> {
        translate::parse_id(vendor_order_id)
            .map(|id| VendorRequest::get(format!("/api/v3/order/{id}")))
    }

    /// A patient Impilo created inline: the order names it (`customer.accounts`, under
    /// this connection) and drops what only creates one (Impilo refuses an address or a
    /// `patientSiteRef` beside an existing patient; it ships to the address it holds,
    /// which is this order's, since the gateway reuses a patient only for identical
    /// details).
    fn reuse_created_account(
        &self,
        order: &CanonicalOrder,
        account: &order_model::VendorRef,
    ) -> Option<CanonicalOrder> {
        match account.kind {
            order_model::VendorRefKind::Patient => {}
        }
        let mut reused = order.clone();
        reused
            .customer
            .accounts
            .get_or_insert_with(Default::default)
            .insert(self.route.connection.clone(), account.id.clone());
        if let Some(ship_to) = reused.ship_to.as_mut() {
            ship_to.address = None;
        }
        if let Some(options) = reused.vendor_options.as_mut().and_then(|o| o.get_mut(KIND)) {
            options.remove(translate::OPT_PATIENT_SITE);
        }
        Some(reused)
    }

    fn interpret_lookup_checked(
        &self,
        order: &CanonicalOrder,
        response: &VendorResponse,
    ) -> Interpreted {
        // The vendor echoes our `externalOrderIds` (the orderRef), always.
        let echo = connector::lookup::Echo {
            pointer: "/externalOrderIds",
            expected: &order.order_ref,
            required: true,
        };
        Interpreted::new(
            connector::lookup::same_order(
                interpret::interpret(&self.route, order, response, Call::Lookup),
                response,
                &echo,
            ),
            drift::findings(response),
        )
    }
}

#[cfg(test)]
mod sync_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use order_model::OrderStatus;

    #[test]
    fn fetch_order_reads_the_current_status_and_tracking_numbers() {
        let handle = json!({"id": "48213"});
        assert_eq!(
            Impilo.status_lookup(&handle).unwrap().path,
            "/api/v3/order/48213"
        );
        let body = json!({"id": 48213, "currentStatus": "SHIPPED", "trackingNumbers": ["1Z1"]});
        let resp = VendorResponse::new(200, serde_json::to_vec(&body).unwrap());
        let r = Impilo.interpret_status(&handle, &resp).unwrap();
        assert_eq!((r.status, r.tracking.len()), (OrderStatus::Shipped, 1));
        let other = json!({"id": 1, "currentStatus": "DELIVERED"});
        let resp = VendorResponse::new(200, serde_json::to_vec(&other).unwrap());
        assert!(Impilo.interpret_status(&handle, &resp).is_err());
        assert!(Impilo.status_lookup(&json!({"id": "0"})).is_none());
    }
}
