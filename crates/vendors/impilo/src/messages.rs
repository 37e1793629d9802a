//! Impilo's documented 400/403 messages, verbatim from the page. The simulator answers
//! with them, pre-validation carries them as `vendor_code`, and the interpreter maps them
//! back to canonical codes and pointers.

pub const NO_CONTENT: &str = "Order must contain at least one of: orderItems, orderKits, returnItems, returnDevices, or returnPackedKits";
pub const SHIPPING_OPTION_REQUIRED: &str =
    "shippingOption is required when emailLabel is false and return items are included";
pub const PATIENT_OR_SITE_REQUIRED: &str = "patient or site required";
pub const INSUFFICIENT_INVENTORY: &str = "insufficient_inventory";
pub const ITEMS_NON_ORDERABLE: &str =
    "Order contains Items that are marked as non-orderable. Order cannot be placed.";
pub const ITEM_NOT_ORDERABLE: &str = "item_not_orderable";
pub const MAX_ONE_LOANER_KIT: &str = "max_one_loaner_kit";
pub const QTY_OVER_ONE_LOANER_KIT: &str = "qty_over_one_loaner_kit";
pub const NO_RETURNS_WITH_LOANER_KIT: &str = "no_returns_with_loaner_kit";
pub const NO_LOANER_KIT_TO_SITE: &str = "no_loaner_kit_to_site";
pub const DEVICE_IN_PACKED_KIT: &str =
    "Device cannot be included both as a return device and in a packed kit";
pub const PATIENT_DOES_NOT_EXIST: &str = "patient_does_not_exist";
pub const INVALID_ORDER: &str = "invalid_order";
pub const PATIENT_REQUIRED: &str = "Patient required";
pub const FIRST_NAME: &str = "Must provide a non-blank string for firstName.";
pub const LAST_NAME: &str = "Must provide a non-blank string for lastName.";
pub const ADDRESS_REQUIRED: &str = "Must provide an Address for Patient.";
pub const SITE_UNABLE_TO_FIND: &str = "Unable to find the Site provided.";
pub const LINE_ONE: &str = "Must provide a Line One value in the Address.";
pub const CITY: &str = "Must provide a City value in the Address.";
pub const STATE: &str = "Must provide a State value in the Address.";
pub const COUNTRY: &str = "Must provide a Country value in the Address.";
pub const ZIP_CODE: &str = "Must provide a Zip Code value in the Address.";
pub const INVALID_JSON: &str = "Invalid JSON format";
pub const INVALID_DATA: &str = "Invalid data provided";

pub const ACCESS_DENIED: &str = "Access Denied";
pub const FEATURE_DISABLED: &str = "The requested feature has been disabled.";
pub const RESOURCE_FORBIDDEN: &str = "The requested resource is forbidden.";

/// `Site {id} not found`.
pub fn site_not_found(id: u64) -> String {
    format!("Site {id} not found")
}

/// `Site {id} not active`.
pub fn site_not_active(id: u64) -> String {
    format!("Site {id} not active")
}
