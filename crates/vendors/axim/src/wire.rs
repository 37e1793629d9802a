//! Axim Commerce's wire format (create-order page), request and response. Money is a
//! JSON number written exactly as the decimal reads (`connector::json::decimal_as_number`).

use connector::json::{decimal_as_number, opt_decimal_as_number};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder {
    pub customer: String,
    pub payment_status: String,
    pub order_status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfilled_items: Option<Vec<FulfilledItems>>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_decimal_as_number"
    )]
    pub tax_amount: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_billing_address: Option<NewAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_term: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_shipping_address: Option<NewAddress>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordered_at: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_decimal_as_number"
    )]
    pub refunded_amount: Option<Decimal>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_decimal_as_number"
    )]
    pub shipping_cost: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    pub line_items: Vec<LineItem>,
    pub meta_fields: Vec<MetaField>,
}

/// The page's "Fulfilled Items" table (one shipment of an already-fulfilled order). Read
/// from `vendorOptions.axim.fulfilledItems` and written back in the table's field order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FulfilledItems {
    pub items: Vec<FulfilledItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fulfilled_at: Option<String>,
}

/// The page's "Fulfilled Item" table. `quantity` is a number >= 0 (the sample's `""` is
/// not accepted: see the README).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FulfilledItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_item_id: Option<String>,
    pub quantity: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta_field: Option<CodeValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<NameValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeValue {
    pub code: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAddress {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_email: Option<String>,
    pub first_name: String,
    /// Axim allows `""` here (and only here).
    pub last_name: String,
    pub address1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    pub city: String,
    pub state: String,
    pub country: String,
    pub zipcode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Currency {
    pub currency: String,
    pub symbol: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub product_id: String,
    pub variant_id: String,
    pub quantity: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discounts: Vec<Discount>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "opt_decimal_as_number"
    )]
    pub discount_amount: Option<Decimal>,
    #[serde(serialize_with = "decimal_as_number")]
    pub price: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fulfilled_quantity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Discount {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(serialize_with = "decimal_as_number")]
    pub discounted_amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetaField {
    pub label: String,
    pub value: String,
}

/// Axim's order statuses. The page elides the list ("fulfilled, pending, ..., cancelled");
/// `Other` keeps any value it does not name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderStatus {
    Fulfilled,
    Pending,
    Cancelled,
    Other(String),
}

impl OrderStatus {
    pub fn as_str(&self) -> &str {
        match self {
            OrderStatus::Fulfilled => "fulfilled",
            OrderStatus::Pending => "pending",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for OrderStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "fulfilled" => OrderStatus::Fulfilled,
            "pending" => OrderStatus::Pending,
            "cancelled" => OrderStatus::Cancelled,
            _ => OrderStatus::Other(s),
        })
    }
}

impl Serialize for OrderStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Every answer's envelope. Error bodies are not documented: parsed defensively.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub success: Option<bool>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub data: Option<OrderData>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderData {
    pub id: String,
    #[serde(default)]
    pub order_status: Option<OrderStatus>,
    #[serde(default)]
    pub created_at: Option<String>,
}
