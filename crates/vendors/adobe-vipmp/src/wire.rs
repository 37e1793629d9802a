//! Adobe VIP Marketplace wire format (create order, v3).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_reference_id: Option<String>,
    pub order_type: OrderType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference_order_id: Option<String>,
    pub line_items: Vec<LineItem>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flex_discount_codes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    New,
    Renewal,
    Return,
    Preview,
    PreviewRenewal,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    pub ext_line_item_number: u32,
    pub offer_id: String,
    pub quantity: u32,
    /// Line level only: Adobe rejects a currency at both levels (2140).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deployment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_code: Option<String>,
}

/// Adobe's order status codes. `Other` keeps codes the docs do not list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Complete,
    Pending,
    Failed,
    Cancelled,
    DistributorInactive,
    ResellerInactive,
    CustomerInactive,
    CustomerIdInvalid,
    Other(String),
}

impl Status {
    pub fn code(&self) -> &str {
        match self {
            Status::Complete => "1000",
            Status::Pending => "1002",
            Status::Failed => "1004",
            Status::Cancelled => "1008",
            Status::DistributorInactive => "1020",
            Status::ResellerInactive => "1022",
            Status::CustomerInactive => "1024",
            Status::CustomerIdInvalid => "1026",
            Status::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Status {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match String::deserialize(d)?.as_str() {
            "1000" => Status::Complete,
            "1002" => Status::Pending,
            "1004" => Status::Failed,
            "1008" => Status::Cancelled,
            "1020" => Status::DistributorInactive,
            "1022" => Status::ResellerInactive,
            "1024" => Status::CustomerInactive,
            "1026" => Status::CustomerIdInvalid,
            other => Status::Other(other.to_owned()),
        })
    }
}

impl Serialize for Status {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderResponse {
    #[serde(default)]
    pub order_id: Option<String>,
    #[serde(default)]
    pub order_type: Option<OrderType>,
    pub status: Status,
    #[serde(default)]
    pub creation_date: Option<String>,
    #[serde(default)]
    pub line_items: Vec<ResponseLine>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseLine {
    pub ext_line_item_number: u32,
    #[serde(default)]
    pub quantity: Option<u32>,
    #[serde(default)]
    pub status: Option<Status>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub additional_details: Vec<Value>,
}
