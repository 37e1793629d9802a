//! __NAME__ connector. Written by `scripts/new-vendor`: every place marked `NEW VENDOR`
//! is yours to fill in from the vendor's documentation (see the crate README).

pub mod coverage;
pub mod translate;

#[cfg(feature = "sim")]
pub mod sim;

use std::sync::Arc;

use connector::{
    AuthKind, Capabilities, ConfigIssue, Connector, Interpreted, LookupRefusal, PreparedRoute,
    RouteConfig, StatusReading, Support, SyncHandle, TranslateContext, VendorFailure,
    VendorRequest, VendorResponse,
};
use order_model::{CanonicalOrder, FieldError, VendorOrder};
use serde_json::{Value, json};

pub const KIND: &str = "__KIND__";

const UNDECLARED: Support = Support::Refused("__NAME__: not declared yet");

// NEW VENDOR: what the vendor can honour of the canonical order; each refusal's text
// tells the caller why (and what to send instead). The gateway refuses these before
// translating, and translate::translate calls the same check first.
pub const CAPABILITIES: Capabilities = Capabilities {
    renewals: UNDECLARED,
    return_orders: UNDECLARED,
    quotes: UNDECLARED,
    return_quotes: UNDECLARED,
    return_of: UNDECLARED,
    recurring: UNDECLARED,
    carrier_choice: UNDECLARED,
    return_labels: UNDECLARED,
    site_delivery: UNDECLARED,
    address_refs: UNDECLARED,
    return_lines: UNDECLARED,
    serial_numbers: UNDECLARED,
    subscription_refs: UNDECLARED,
};

pub fn connector() -> Arc<dyn Connector> {
    Arc::new(Vendor)
}

pub struct Vendor;

impl Connector for Vendor {
    fn kind(&self) -> &'static str {
        KIND
    }

    // NEW VENDOR: how the vendor authenticates.
    fn auth_kind(&self) -> AuthKind {
        AuthKind::StaticHeader
    }

    fn capabilities(&self) -> Capabilities {
        CAPABILITIES
    }

    fn order_options_schema(&self) -> Value {
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": false})
    }

    fn line_options_schema(&self) -> Value {
        json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object", "additionalProperties": false})
    }

    // NEW VENDOR: check and compile the route's catalog, defaults and settings.
    fn prepare(
        &self,
        _config: RouteConfig<'_>,
    ) -> Result<Arc<dyn PreparedRoute>, Vec<ConfigIssue>> {
        Ok(Arc::new(Prepared))
    }

    // NEW VENDOR: the vendor's order lookup, if it documents one.
    fn check_lookup_id(&self, _vendor_order_id: &str) -> Result<(), LookupRefusal> {
        Err(LookupRefusal::NoLookup)
    }

    // NEW VENDOR: the status read (status sync), if the vendor documents one; cite it.
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

pub struct Prepared;

impl PreparedRoute for Prepared {
    fn translate(
        &self,
        order: &CanonicalOrder,
        ctx: &TranslateContext<'_>,
    ) -> Result<VendorRequest, Vec<FieldError>> {
        translate::translate(order, ctx)
    }

    // NEW VENDOR: the vendor's answers -> canonical, with exhaustive status matches.
    fn interpret_checked(&self, _order: &CanonicalOrder, response: &VendorResponse) -> Interpreted {
        Interpreted::new(
            Err(VendorFailure::new(
                connector::FailureClass::BadResponse {
                    outcome: connector::Outcome::Unknown,
                },
                response.status,
            )),
            Vec::new(),
        )
    }

    // NEW VENDOR: the ids a later status read needs, when the vendor has a read.
    fn sync_handle(&self, _order: &CanonicalOrder, _answer: &VendorOrder) -> Option<SyncHandle> {
        None
    }

    fn lookup(&self, _order: &CanonicalOrder, _vendor_order_id: &str) -> Option<VendorRequest> {
        None
    }

    // NEW VENDOR: only vendors that create accounts beside orders (Impilo's patients).
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
        self.interpret_checked(order, response)
    }
}
