//! The canonical order v1 as Rust types. `schemas/canonical-order.v1.schema.json` is the
//! contract; these types mirror it field for field so a schema-valid document always
//! deserializes, and serializing it back gives the same JSON (the round-trip test proves
//! it for every example). Optional fields are `Option` rather than defaulted so that a
//! round trip never adds a field the caller did not send.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Options a caller passes to one vendor, keyed by vendor kind (`juniper`, `adobe-vipmp`...).
/// Their shape is owned by the vendor crate's own schema.
pub type VendorOptions = BTreeMap<String, Map<String, Value>>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CanonicalOrder {
    pub order_ref: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub order_type: Option<OrderType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrence: Option<Recurrence>,
    pub customer: Customer,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ship_to: Option<ShipTo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_to: Option<BillTo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping: Option<Shipping>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<Payment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<BTreeMap<String, String>>,
    pub lines: Vec<Line>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_options: Option<VendorOptions>,
}

impl CanonicalOrder {
    pub fn order_type(&self) -> OrderType {
        self.order_type.unwrap_or(OrderType::New)
    }
    pub fn intent(&self) -> Intent {
        self.intent.unwrap_or(Intent::Place)
    }
    pub fn recurrence(&self) -> Recurrence {
        self.recurrence.unwrap_or(Recurrence::OneTime)
    }
    /// The order-level options for one vendor kind, if the caller sent any.
    pub fn vendor_options_for(&self, vendor: &str) -> Option<&Map<String, Value>> {
        self.vendor_options.as_ref().and_then(|o| o.get(vendor))
    }
    pub fn metadata(&self) -> impl Iterator<Item = (&String, &String)> {
        self.metadata.iter().flatten()
    }
    pub fn notes(&self) -> &[String] {
        self.notes.as_deref().unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderType {
    New,
    Renewal,
    Return,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Place,
    Quote,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    OneTime,
    Subscription,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Customer {
    /// The caller's own id for this customer.
    #[serde(rename = "ref")]
    pub customer_ref: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// `YYYY-MM-DD`; personal data, only sent to vendors that document it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Account ids vendors issued for this customer, keyed by connection name or vendor kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accounts: Option<BTreeMap<String, String>>,
}

impl Customer {
    /// The vendor account id for a connection: the connection's own key wins over the
    /// vendor kind's, so one caller can hold different accounts on two connections of
    /// the same vendor. Returns the key that matched too, for error pointers.
    pub fn account_for<'a>(
        &'a self,
        connection: &'a str,
        vendor: &'a str,
    ) -> Option<(&'a str, &'a str)> {
        let accounts = self.accounts.as_ref()?;
        [connection, vendor]
            .into_iter()
            .find_map(|k| accounts.get(k).map(|v| (k, v.as_str())))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contact {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Address {
    pub line1: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line3: Option<String>,
    pub city: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationKind {
    Person,
    Site,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShipTo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<DestinationKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    /// An address the vendor already holds (its id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_ref: Option<String>,
    /// A site the vendor already holds (its id), for `kind: site`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_ref: Option<String>,
}

impl ShipTo {
    pub fn kind(&self) -> DestinationKind {
        self.kind.unwrap_or(DestinationKind::Person)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BillTo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_ref: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShippingSpeed {
    Standard,
    Express,
    Overnight,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnLabel {
    /// A printed label travels with the outbound shipment.
    Ship,
    /// The vendor emails the return label to the recipient.
    Email,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Shipping {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub speed: Option<ShippingSpeed>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub cost: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carrier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_label: Option<ReturnLabel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    Unpaid,
    Authorized,
    Paid,
    Declined,
    Refunded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Payment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<PaymentStatus>,
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
    pub refunded: Option<Decimal>,
    /// A payment term the vendor holds for this customer (its id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term_ref: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Item,
    Kit,
    LoanerKit,
    Device,
    PackedKit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Outbound,
    Return,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Discount {
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub discount_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Line {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_ref: Option<String>,
    pub sku: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub quantity: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<LineKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direction: Option<Direction>,
    #[serde(
        default,
        with = "rust_decimal::serde::str_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discounts: Option<Vec<Discount>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_options: Option<VendorOptions>,
}

impl Line {
    pub fn kind(&self) -> LineKind {
        self.kind.unwrap_or(LineKind::Item)
    }
    pub fn direction(&self) -> Direction {
        self.direction.unwrap_or(Direction::Outbound)
    }
    pub fn discounts(&self) -> &[Discount] {
        self.discounts.as_deref().unwrap_or_default()
    }
    pub fn vendor_options_for(&self, vendor: &str) -> Option<&Map<String, Value>> {
        self.vendor_options.as_ref().and_then(|o| o.get(vendor))
    }
}
