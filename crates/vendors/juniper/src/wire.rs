//! Juniper's wire format (create-order page v1.0.1), request and response.

use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder {
    pub customer: Customer,
    pub days_supply: u16,
    pub line_items: Vec<LineItem>,
    pub shipping_method: ShippingMethod,
    pub order_type: OrderType,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub source_id: String,
    pub first_name: String,
    pub last_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub address: Address,
}

/// Which name the postal code travels under: `zip` (page 1.0.1, the contract) or
/// `zipCode` (a later doc version); a connection setting picks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum ZipField {
    #[default]
    #[serde(rename = "zip")]
    Zip,
    #[serde(rename = "zipCode")]
    ZipCode,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub zip_field: ZipField,
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Address", 4 + usize::from(self.line2.is_some()))?;
        st.serialize_field("line1", &self.line1)?;
        if let Some(l2) = &self.line2 {
            st.serialize_field("line2", l2)?;
        }
        st.serialize_field("city", &self.city)?;
        st.serialize_field("state", &self.state)?;
        match self.zip_field {
            ZipField::Zip => st.serialize_field("zip", &self.zip)?,
            ZipField::ZipCode => st.serialize_field("zipCode", &self.zip)?,
        }
        st.end()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub product_id: i64,
    pub quantity: u32,
    pub pack_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub administration: Option<Administration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Administration {
    pub morning: u32,
    pub afternoon: u32,
    pub evening: u32,
    pub sleep: u32,
}

impl Administration {
    pub fn per_day(&self) -> u32 {
        self.morning + self.afternoon + self.evening + self.sleep
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShippingMethod {
    Standard,
    Express,
    Overnight,
}

/// The request spells it `ONE_TIME`; the response spells it `ONE-TIME`. Both parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OrderType {
    #[serde(rename = "ONE_TIME", alias = "ONE-TIME")]
    OneTime,
    #[serde(rename = "SUBSCRIPTION")]
    Subscription,
}

/// Juniper's order statuses. `Other` keeps a value the page does not list, so a new
/// vendor status is reported as `unknown` rather than failing the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Created,
    Processing,
    AwaitingShipment,
    Shipped,
    Fulfilled,
    Cancelled,
    Other(String),
}

impl Status {
    pub fn as_str(&self) -> &str {
        match self {
            Status::Created => "CREATED",
            Status::Processing => "PROCESSING",
            Status::AwaitingShipment => "AWAITING_SHIPMENT",
            Status::Shipped => "SHIPPED",
            Status::Fulfilled => "FULFILLED",
            Status::Cancelled => "CANCELLED",
            Status::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "CREATED" => Status::Created,
            "PROCESSING" => Status::Processing,
            "AWAITING_SHIPMENT" => Status::AwaitingShipment,
            "SHIPPED" => Status::Shipped,
            "FULFILLED" => Status::Fulfilled,
            "CANCELLED" => Status::Cancelled,
            _ => Status::Other(s),
        })
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The 201 answer (and `GET /v1/orders/{id}`). Money is decimal strings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    pub id: String,
    #[serde(default)]
    pub discount: Option<String>,
    #[serde(default)]
    pub days_supply: Option<u16>,
    #[serde(default)]
    pub order_type: Option<OrderType>,
    #[serde(default)]
    pub shipping_method: Option<ShippingMethod>,
    pub status: Status,
    #[serde(default)]
    pub fulfillment_info: Option<FulfillmentInfo>,
    #[serde(default)]
    pub line_items: Vec<ResponseLine>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub subtotal_price: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub total_discount: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub total_fees: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub total_shipping: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub total_volume_discount: Option<Decimal>,
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub total_price: Option<Decimal>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentInfo {
    #[serde(default)]
    pub carrier: Option<String>,
    #[serde(default)]
    pub tracking_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseLine {
    pub product_id: i64,
    pub quantity: u32,
    #[serde(default)]
    pub pack_description: Option<String>,
    /// Per pill.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub price: Option<Decimal>,
    /// Per pill, after the partner discount.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub discounted_price: Option<Decimal>,
    #[serde(default)]
    pub administration: Option<Administration>,
}

/// 400 body.
#[derive(Debug, Deserialize)]
pub struct Detail {
    pub detail: String,
}

/// 422 body (FastAPI style).
#[derive(Debug, Deserialize)]
pub struct ValidationErrors {
    pub detail: Vec<ValidationError>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidationError {
    pub loc: Vec<serde_json::Value>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub msg: Option<String>,
}
