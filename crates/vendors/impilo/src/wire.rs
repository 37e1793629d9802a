//! Impilo's wire shapes (`POST /api/v3/order`, `GET /api/v3/order/{id}`), as plain serde
//! structs. The request types serialize the exact body the translator sends and are also
//! what the simulator parses (with `deny_unknown_fields`, so a translator drift fails
//! loudly there). Shapes the page leaves unconfirmed are modelled as documented in the
//! crate README.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `{"id": n}`: how Impilo refers to an item, kit, site, packed kit or patient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdRef {
    pub id: u64,
}

/// `shippingOption`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShippingOption {
    Standard,
    Overnight,
}

impl ShippingOption {
    pub fn as_str(self) -> &'static str {
        match self {
            ShippingOption::Standard => "standard",
            ShippingOption::Overnight => "overnight",
        }
    }
}

/// The body of `POST /api/v3/order`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateOrder {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_order_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Patient>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<IdRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_items: Vec<ItemLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_kits: Vec<KitLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_items: Vec<ItemLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_devices: Vec<DeviceLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_packed_kits: Vec<PackedKitLine>,
    /// A list of note objects, one per canonical note (Impilo's API reference types it so;
    /// the create page does not).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_notes: Vec<OrderNote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_option: Option<ShippingOption>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_label: Option<bool>,
}

/// One entry of `orderNotes`: `{"note": "<text>"}`. The key name is our reading of the API
/// reference's note object (see the crate README); the simulator refuses anything else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderNote {
    pub note: String,
}

/// `patient`: `{"id"}` for an existing patient, or the new-patient fields (no `id`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Patient {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<PatientAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_identifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<IdRef>,
}

impl Patient {
    /// Neither an id nor any new-patient field: Impilo's "Patient required".
    pub fn is_empty(&self) -> bool {
        self.id.is_none()
            && self.first_name.is_none()
            && self.last_name.is_none()
            && self.address.is_none()
            && self.email.is_none()
            && self.phone_number.is_none()
            && self.date_of_birth.is_none()
            && self.external_identifier.is_none()
            && self.site.is_none()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatientAddress {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_one: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_two: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line_three: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// An `orderItems` / `returnItems` entry: `{"count": n, "item": {"id"}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemLine {
    pub count: u32,
    pub item: IdRef,
}

/// An `orderKits` entry: `{"count": n, "kit": {"id"}}` (kit shape unconfirmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KitLine {
    pub count: u32,
    pub kit: IdRef,
}

/// A `returnDevices` entry: one physical device, `{"device": {"id"}}` or
/// `{"device": {"serialNumber"}}` (shape unconfirmed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceLine {
    pub device: DeviceRef,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
}

/// A `returnPackedKits` entry: `{"count": n, "packedKit": {"id"}}` (shape unconfirmed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PackedKitLine {
    pub count: u32,
    pub packed_kit: IdRef,
}

/// The order Impilo answers with (201 on create, 200 on `GET /api/v3/order/{id}`), as the
/// simulator writes it. The interpreter reads answers from a `serde_json::Value` instead,
/// defensively, because most of these shapes are unconfirmed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderOut {
    pub id: u64,
    pub external_order_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<Value>,
    pub current_status: String,
    pub order_events: Vec<OrderEvent>,
    pub tracking_numbers: Vec<String>,
    pub devices: Vec<Value>,
    pub packed_kits: Vec<Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_items: Vec<ItemLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_kits: Vec<KitLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_items: Vec<ItemLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_devices: Vec<DeviceLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub return_packed_kits: Vec<PackedKitLine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub order_notes: Vec<OrderNote>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_option: Option<ShippingOption>,
    pub email_label: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderEvent {
    pub status: String,
    pub created_at: String,
}

/// The 400 body the simulator writes (real shape unconfirmed: the interpreter also reads
/// `{"error": "..."}` and plain text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub message: String,
}
