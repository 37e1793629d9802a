//! The canonical answer to a placed (or quoted) order, the same shape whatever the vendor.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One status vocabulary across vendors. Vendor crates map their own values here with
/// exhaustive matches, so adding a variant forces every mapping to decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// The vendor took the order and has not started on it.
    Accepted,
    /// The vendor took the order; it awaits a vendor-side step (Adobe 1002).
    Pending,
    Processing,
    Shipped,
    Fulfilled,
    Cancelled,
    /// Priced or checked without placing anything (a quote / preview).
    Quoted,
    /// The vendor refused the order.
    Rejected,
    /// The vendor accepted and later failed the order.
    Failed,
    /// The order may or may not exist at the vendor (a timeout after sending).
    Unknown,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Accepted => "accepted",
            OrderStatus::Pending => "pending",
            OrderStatus::Processing => "processing",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Quoted => "quoted",
            OrderStatus::Rejected => "rejected",
            OrderStatus::Failed => "failed",
            OrderStatus::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Totals {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub subtotal: Option<Decimal>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount: Option<Decimal>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub fees: Option<Decimal>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub shipping: Option<Decimal>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub tax: Option<Decimal>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub total: Option<Decimal>,
    /// Vendor-specific amounts under the vendor's own name (e.g. Juniper `totalVolumeDiscount`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub other: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_ref: Option<String>,
    pub sku: String,
    pub quantity: u32,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub unit_price: Option<Decimal>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub discounted_unit_price: Option<Decimal>,
    /// What the price is per, when it is not per ordered unit (Juniper: `pill`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<OrderStatus>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tracking {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    pub number: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// What kind of record a vendor created beside the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VendorRefKind {
    /// A patient (Impilo creates one for an order with an inline new patient). Its id is
    /// what the caller puts in `customer.accounts.<vendor>` so later orders reuse it.
    Patient,
}

/// A record the vendor created while placing the order, that the caller may want to
/// refer to later (`vendorRefs` in the result).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorRef {
    pub kind: VendorRefKind,
    /// The vendor's id for it, as a string.
    pub id: String,
}

/// What a vendor said about an order, in canonical terms. A connector produces it; the
/// gateway adds its own identifiers to make an [`OrderResult`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VendorOrder {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_order_id: Option<String>,
    pub status: OrderStatus,
    pub vendor_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracking: Vec<Tracking>,
    /// RFC 3339 UTC, as the vendor reported it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_created_at: Option<String>,
    /// Records the vendor created beside the order (a new patient).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendor_refs: Vec<VendorRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrderResult {
    /// The gateway's id for this order.
    pub id: String,
    pub order_ref: String,
    pub status: OrderStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_status: Option<String>,
    pub connection: String,
    pub vendor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_order_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Totals>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<LineResult>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracking: Vec<Tracking>,
    /// Records the vendor created beside the order (a new patient), so the caller can
    /// refer to them in later orders.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendor_refs: Vec<VendorRef>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}
