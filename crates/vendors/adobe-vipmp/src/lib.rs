//! Adobe VIP Marketplace connector: licence orders for a reseller's customer.
//! `POST /v3/customers/{customerId}/orders` (201), IMS OAuth2 + `X-Api-Key` (outbound
//! stack), idempotent by `X-Correlation-Id` (derived from client + orderRef) with a fresh
//! `X-Request-Id` per attempt. The crate README maps every field and code.

pub mod interpret;
pub mod translate;
pub mod wire;

#[cfg(feature = "sim")]
pub mod sim;

use std::collections::BTreeMap;
use std::sync::Arc;

use connector::{
    AuthKind, ConfigIssue, Connector, PreparedRoute, RouteConfig, TranslateContext, VendorFailure,
    VendorRequest, VendorResponse,
};
use order_model::{CanonicalOrder, FieldError, VendorOrder, escape_pointer};
use serde_json::{Value, json};

use crate::translate::CatalogEntry;

pub const KIND: &str = "adobe-vipmp";

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
        for (what, v) in [
            ("/defaults", config.defaults),
            ("/settings", config.settings),
        ] {
            if let Some(m) = v.as_object() {
                for k in m.keys() {
                    issues.push(ConfigIssue::new(
                        format!("{what}/{}", escape_pointer(k)),
                        "Adobe takes no route defaults or connection settings",
                    ));
                }
            }
        }
        if issues.is_empty() {
            Ok(Arc::new(Prepared {
                catalog,
                connection: config.connection.to_owned(),
            }))
        } else {
            Err(issues)
        }
    }

    fn check_lookup_id(&self, vendor_order_id: &str) -> Result<(), connector::LookupRefusal> {
        let ok = !vendor_order_id.is_empty()
            && vendor_order_id.len() <= 64
            && vendor_order_id.chars().all(|c| c.is_ascii_alphanumeric());
        ok.then_some(()).ok_or(connector::LookupRefusal::InvalidId(
            "1..64 ASCII letters and digits",
        ))
    }
}

pub struct Prepared {
    pub catalog: BTreeMap<String, CatalogEntry>,
    pub connection: String,
}

impl PreparedRoute for Prepared {
    fn translate(
        &self,
        order: &CanonicalOrder,
        ctx: &TranslateContext<'_>,
    ) -> Result<VendorRequest, Vec<FieldError>> {
        translate::translate(&self.catalog, order, ctx)
    }

    fn interpret(
        &self,
        order: &CanonicalOrder,
        response: &VendorResponse,
    ) -> Result<VendorOrder, VendorFailure> {
        interpret::interpret(order, response, 201)
    }

    fn lookup(&self, order: &CanonicalOrder, vendor_order_id: &str) -> Option<VendorRequest> {
        let (_, customer) = order.customer.account_for(&self.connection, KIND)?;
        let safe = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
        (safe(customer) && safe(vendor_order_id)).then(|| {
            VendorRequest::get(format!(
                "{}/{vendor_order_id}",
                translate::create_path(customer)
            ))
        })
    }

    fn interpret_lookup(
        &self,
        order: &CanonicalOrder,
        response: &VendorResponse,
    ) -> Result<VendorOrder, VendorFailure> {
        interpret::interpret(order, response, 200)
    }
}
