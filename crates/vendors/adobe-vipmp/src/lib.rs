//! Adobe VIP Marketplace connector: licence orders for a reseller's customer.
//! `POST /v3/customers/{customerId}/orders` (201), IMS OAuth2 + `X-Api-Key` (outbound
//! stack), idempotent by `X-Correlation-Id` (derived from client + orderRef) with a fresh
//! `X-Request-Id` per attempt. The crate README maps every field and code.

pub mod coverage;
pub mod drift;
pub mod interpret;
pub mod translate;
pub mod wire;

#[cfg(feature = "sim")]
pub mod sim;

use std::collections::BTreeMap;
use std::sync::Arc;

use connector::{
    AuthKind, Capabilities, ConfigIssue, Connector, Interpreted, PreparedRoute, RouteConfig,
    StatusReading, Support, SyncHandle, TranslateContext, VendorFailure, VendorRequest,
    VendorResponse,
};
use order_model::{CanonicalOrder, FieldError, VendorOrder, escape_pointer};
use serde_json::{Value, json};

use crate::translate::CatalogEntry;

pub const KIND: &str = "adobe-vipmp";

/// What Adobe can honour of the canonical order (see the README's mapping). Adobe sells
/// licences: the shipping concepts are on the README's ignored list, and which lines a
/// return or a renewal may hold is the translator's rule.
pub const CAPABILITIES: Capabilities = Capabilities {
    return_quotes: Support::Refused("Adobe cannot preview a return"),
    ..Capabilities::ALL
};

pub fn connector() -> Arc<dyn Connector> {
    Arc::new(AdobeVipMp)
}

pub struct AdobeVipMp;

impl Connector for AdobeVipMp {
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
            "title": "vendorOptions.adobe-vipmp (order level)",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "flexDiscountCodes": {"type": "array", "maxItems": 20, "uniqueItems": true, "items": {"type": "string", "minLength": 1, "maxLength": 40}}
            }
        })
    }

    fn line_options_schema(&self) -> Value {
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "lines[].vendorOptions.adobe-vipmp",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "deploymentId": {"type": "string", "minLength": 1, "maxLength": 40},
                "discountCode": {"type": "string", "minLength": 1, "maxLength": 40, "description": "High Volume Discount code (VIP migrants, levels 17-22)."}
            }
        })
    }

    fn prepare(&self, config: RouteConfig<'_>) -> Result<Arc<dyn PreparedRoute>, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        let mut catalog = BTreeMap::new();
        for (sku, entry) in config.catalog {
            let at = format!("/catalog/{}", escape_pointer(sku));
            match serde_json::from_value::<CatalogEntry>(entry.clone()) {
                Ok(e)
                    if !e.offer_id.is_empty()
                        && e.offer_id.len() <= 40
                        && e.offer_id.chars().all(|c| c.is_ascii_alphanumeric()) =>
                {
                    catalog.insert(sku.clone(), e);
                }
                Ok(_) => issues.push(ConfigIssue::new(
                    format!("{at}/offerId"),
                    "an Adobe offer id is 1-40 letters or digits",
                )),
                Err(e) => issues.push(ConfigIssue::new(
                    at,
                    format!("an Adobe catalog entry is {{offerId}}: {e}"),
                )),
            }
        }
        let default_currency = route_defaults(config, &mut issues);
        let prepared = Prepared {
            catalog,
            connection: config.connection.to_owned(),
            default_currency,
        };
        connector::route_config::finish(issues, Arc::new(prepared))
    }

    fn check_lookup_id(&self, vendor_order_id: &str) -> Result<(), connector::LookupRefusal> {
        connector::LookupRefusal::check_alphanumeric(vendor_order_id)
    }

    /// `GET /v3/customers/{customer-id}/orders/{order-id}` (Get Order; the vendor notes'
    /// "look up an order"): the order is read under its customer.
    fn status_lookup(&self, handle: &SyncHandle) -> Option<VendorRequest> {
        let customer = connector::sync::handle_id(handle, "customerId")?;
        let order = connector::sync::handle_id(handle, "orderId")?;
        Some(VendorRequest::get(format!(
            "{}/{order}",
            translate::create_path(customer)
        )))
    }

    fn interpret_status(
        &self,
        handle: &SyncHandle,
        response: &VendorResponse,
    ) -> Result<StatusReading, VendorFailure> {
        let want = connector::sync::handle_id(handle, "orderId");
        interpret::status_reading(want, response)
    }
}

/// Route `defaults`: `currency` (ISO 4217), sent on lines of orders without one.
/// Connection `settings`: none.
fn route_defaults(config: RouteConfig<'_>, issues: &mut Vec<ConfigIssue>) -> Option<String> {
    let mut currency = None;
    if let Some(m) = config.defaults.as_object() {
        for (k, v) in m {
            match (k.as_str(), v.as_str()) {
                ("currency", Some(c))
                    if c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()) =>
                {
                    currency = Some(c.to_owned());
                }
                ("currency", _) => issues.push(ConfigIssue::new(
                    "/defaults/currency",
                    "the default currency is an ISO 4217 code such as USD",
                )),
                _ => issues.push(ConfigIssue::new(
                    format!("/defaults/{}", escape_pointer(k)),
                    "Adobe's only route default is currency",
                )),
            }
        }
    }
    if let Some(m) = config.settings.as_object() {
        for k in m.keys() {
            issues.push(ConfigIssue::new(
                format!("/settings/{}", escape_pointer(k)),
                "Adobe takes no connection settings",
            ));
        }
    }
    currency
}

pub struct Prepared {
    pub catalog: BTreeMap<String, CatalogEntry>,
    pub connection: String,
    /// Route `defaults.currency`: the line currency of orders that carry none.
    pub default_currency: Option<String>,
}

impl PreparedRoute for Prepared {
    fn translate(
        &self,
        order: &CanonicalOrder,
        ctx: &TranslateContext<'_>,
    ) -> Result<VendorRequest, Vec<FieldError>> {
        translate::translate(self, order, ctx)
    }

    fn interpret_checked(&self, order: &CanonicalOrder, response: &VendorResponse) -> Interpreted {
        Interpreted::new(
            interpret::interpret(order, response, 201),
            drift::findings(response, 201),
        )
    }

    fn lookup(&self, order: &CanonicalOrder, vendor_order_id: &str) -> Option<VendorRequest> {
        let (_, customer) = order.customer.account_for(&self.connection, KIND)?;
        let safe = |s: &str| connector::LookupRefusal::check_alphanumeric(s).is_ok();
        (safe(customer) && safe(vendor_order_id)).then(|| {
            VendorRequest::get(format!(
                "{}/{vendor_order_id}",
                translate::create_path(customer)
            ))
        })
    }

    /// Adobe reads an order under its customer: the customer's id (from the order's
    /// account for this connection) and the order id Adobe gave. A preview placed nothing.
    fn sync_handle(&self, order: &CanonicalOrder, answer: &VendorOrder) -> Option<SyncHandle> {
        if answer.status == order_model::OrderStatus::Quoted {
            return None;
        }
        let (_, customer) = order.customer.account_for(&self.connection, KIND)?;
        let id = answer.vendor_order_id.as_deref()?;
        let safe = |s: &str| connector::LookupRefusal::check_alphanumeric(s).is_ok();
        (safe(customer) && safe(id)).then(|| json!({"customerId": customer, "orderId": id}))
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
        // The lookup is scoped to the caller's customer (its id is in the path); the
        // answer may echo our `externalReferenceId` (the orderRef): optional in Adobe's
        // answer, so only a different value is a mismatch.
        let echo = connector::lookup::Echo {
            pointer: "/externalReferenceId",
            expected: &order.order_ref,
            required: false,
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

    #[test]
    fn get_order_reads_pending_then_complete_under_the_customer() {
        let handle = json!({"customerId": "9876543210", "orderId": "5123"});
        assert_eq!(
            AdobeVipMp.status_lookup(&handle).unwrap().path,
            "/v3/customers/9876543210/orders/5123"
        );
        let read = |status: &str, id: &str| {
            let body = json!({"orderId": id, "status": status, "lineItems": []});
            let resp = VendorResponse::new(200, serde_json::to_vec(&body).unwrap());
            AdobeVipMp.interpret_status(&handle, &resp)
        };
        assert_eq!(read("1002", "5123").unwrap().status, OrderStatus::Pending);
        let done = read("1000", "5123").unwrap();
        assert_eq!(
            (done.status, done.vendor_status.as_str()),
            (OrderStatus::Fulfilled, "1000")
        );
        assert!(read("1000", "9999").is_err(), "another order");
        assert!(
            AdobeVipMp
                .status_lookup(&json!({"orderId": "5123"}))
                .is_none()
        );
    }
}
