//! The contract every vendor connector implements, and nothing about any one vendor.
//!
//! A connector is registered once ([`Connector`]); for each route of the config it
//! prepares a [`PreparedRoute`] from that route's catalog and defaults and its
//! connection's vendor settings. Preparation is where config mistakes are found (a
//! catalog entry of the wrong type is a `check-config` error, not a failed order).
//! A prepared route then translates orders (pure: no I/O, no clock, no randomness) and
//! interprets vendor answers.

pub mod capabilities;
pub mod coverage;
pub mod drift;
pub mod failure;
pub mod json;
pub mod lookup;
pub mod redact;
pub mod request;
pub mod retry_after;
pub mod route_config;
#[cfg(feature = "sim")]
pub mod sim;
pub mod sync;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod text;
pub mod violations;

use std::collections::BTreeMap;
use std::sync::Arc;

use order_model::{CanonicalOrder, FieldError, VendorOrder};
use serde_json::Value;

pub use capabilities::{Capabilities, Support};
pub use drift::{Drift, DriftKind, Interpreted};
pub use failure::{FailureClass, Outcome, VendorFailure};
pub use redact::redact_message;
pub use request::{RetrySafety, VendorRequest, VendorResponse};
pub use retry_after::{MAX_RETRY_AFTER, retry_after, retry_after_delta, whole_secs_up};
pub use sync::{StatusReading, SyncHandle};
pub use violations::Violations;

/// How the vendor expects to be authenticated; `check-config` verifies that the
/// connection's auth config is of this kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    OAuth2ClientCredentials,
    StaticHeader,
}

/// One vendor kind (`juniper`, `axim`...).
pub trait Connector: Send + Sync + 'static {
    /// The vendor kind as written in config and as the key of `vendorOptions`.
    fn kind(&self) -> &'static str;
    fn auth_kind(&self) -> AuthKind;
    /// The concepts of the canonical order this vendor honours, and why it refuses the
    /// others: the gateway refuses those orders before translating
    /// ([`capabilities::refusals`]).
    fn capabilities(&self) -> Capabilities;
    /// JSON Schema (2020-12) of `vendorOptions.<kind>` at order level.
    fn order_options_schema(&self) -> Value;
    /// JSON Schema (2020-12) of `lines[].vendorOptions.<kind>`.
    fn line_options_schema(&self) -> Value;
    /// Checks and compiles one route's vendor config. Issues point into `RouteConfig`
    /// (`/catalog/<sku>/productId`, `/defaults/daysSupply`, `/settings/zipField`).
    fn prepare(&self, config: RouteConfig<'_>) -> Result<Arc<dyn PreparedRoute>, Vec<ConfigIssue>>;
    /// Whether an operator-given vendor order id can be looked up at this vendor: the
    /// vendor documents no lookup, or the id cannot be one of its ids (checked before it
    /// is stored, so a path like `bad-id/../x` never reaches a URL).
    fn check_lookup_id(&self, vendor_order_id: &str) -> Result<(), LookupRefusal>;
    /// The read of an order's current status from its [`SyncHandle`] (no order body, no
    /// route: routes may be reloaded away), or `None` where the vendor documents no read
    /// or the handle is not this vendor's.
    fn status_lookup(&self, handle: &SyncHandle) -> Option<VendorRequest>;
    /// The answer to [`Connector::status_lookup`] -> the order's status now (pure). A
    /// failure never means the order is gone: sync leaves the status as it was.
    fn interpret_status(
        &self,
        handle: &SyncHandle,
        response: &VendorResponse,
    ) -> Result<StatusReading, VendorFailure>;
}

/// Why an operator-given vendor order id cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupRefusal {
    /// The vendor documents no way to read an order back.
    NoLookup,
    /// Not an id of this vendor; the text says what one looks like.
    InvalidId(&'static str),
}

impl LookupRefusal {
    /// The id rule of vendors whose order ids are opaque letters and digits (they go into
    /// a URL path, so nothing else may pass).
    pub fn check_alphanumeric(id: &str) -> Result<(), LookupRefusal> {
        let ok = !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric());
        ok.then_some(())
            .ok_or(LookupRefusal::InvalidId("1..64 ASCII letters and digits"))
    }
}

impl std::fmt::Display for LookupRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LookupRefusal::NoLookup => f.write_str(
                "this vendor documents no order lookup, so a linked id could never be verified",
            ),
            LookupRefusal::InvalidId(what) => write!(f, "not a vendor order id: {what}"),
        }
    }
}

/// The vendor-facing parts of one route, as written in the gateway config.
#[derive(Debug, Clone, Copy)]
pub struct RouteConfig<'a> {
    /// Name of the connection the route sends to.
    pub connection: &'a str,
    /// The connection's `vendorSettings` (an object; `Null` when absent).
    pub settings: &'a Value,
    /// The route catalog: caller sku -> vendor product identifiers (vendor-typed).
    pub catalog: &'a BTreeMap<String, Value>,
    /// The route's `defaults`: vendor fields the route supplies (an object; `Null` when absent).
    pub defaults: &'a Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    /// JSON Pointer relative to the route config: starts with `/catalog`, `/defaults` or `/settings`.
    pub pointer: String,
    pub message: String,
}

impl ConfigIssue {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigIssue {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

/// Per-call facts a translator needs that are not in the order, passed in explicitly so
/// the translator stays pure.
#[derive(Debug, Clone, Copy)]
pub struct TranslateContext<'a> {
    /// The inbound client (from its API key).
    pub client: &'a str,
    /// The connection's name.
    pub connection: &'a str,
    /// A deterministic key derived from (client, orderRef) (or the caller's
    /// `Idempotency-Key`): the same on every retry of one order, at most 64 chars of
    /// `[A-Za-z0-9-]`. Vendors with idempotency keys send it (Adobe `X-Correlation-Id`).
    pub idempotency_key: &'a str,
}

pub trait PreparedRoute: Send + Sync {
    /// Canonical order -> the vendor's create call, or every vendor rule the order breaks,
    /// each pointing into the caller's order.
    fn translate(
        &self,
        order: &CanonicalOrder,
        ctx: &TranslateContext<'_>,
    ) -> Result<VendorRequest, Vec<FieldError>>;

    /// The vendor's answer to the create call -> canonical, with how the answer drifted
    /// from the contract the connector was written against (pure; counted by the caller).
    fn interpret_checked(&self, order: &CanonicalOrder, response: &VendorResponse) -> Interpreted;

    /// [`PreparedRoute::interpret_checked`] without the drift findings.
    fn interpret(
        &self,
        order: &CanonicalOrder,
        response: &VendorResponse,
    ) -> Result<VendorOrder, VendorFailure> {
        self.interpret_checked(order, response).result
    }

    /// A call that reads the order back (reconciliation of unknown outcomes), where the
    /// vendor documents one.
    fn lookup(&self, order: &CanonicalOrder, vendor_order_id: &str) -> Option<VendorRequest>;

    /// `order` as it reads when it reuses `account`, which the vendor created for an
    /// earlier order with the same customer details (the inline new patient of Impilo):
    /// the account named, and the fields that only create one left out. `None` when this
    /// vendor creates no accounts beside orders.
    fn reuse_created_account(
        &self,
        order: &CanonicalOrder,
        account: &order_model::VendorRef,
    ) -> Option<CanonicalOrder>;

    /// What a later status read of this order needs (vendor ids, no personal data), from
    /// the order and the vendor's answer to its create; `None` when this vendor has no
    /// read or the answer placed nothing to follow (a quote). Stored with the accepted
    /// outcome; read back by [`Connector::status_lookup`].
    fn sync_handle(&self, order: &CanonicalOrder, answer: &VendorOrder) -> Option<SyncHandle>;

    /// Interprets the answer to [`PreparedRoute::lookup`], with its drift findings.
    fn interpret_lookup_checked(
        &self,
        order: &CanonicalOrder,
        response: &VendorResponse,
    ) -> Interpreted;

    /// [`PreparedRoute::interpret_lookup_checked`] without the drift findings.
    fn interpret_lookup(
        &self,
        order: &CanonicalOrder,
        response: &VendorResponse,
    ) -> Result<VendorOrder, VendorFailure> {
        self.interpret_lookup_checked(order, response).result
    }
}
