//! The page's rules with a documented message, each stated once: the translator refuses
//! an order that breaks one before sending (with the message as `vendor_code`), and the
//! interpreter reads the same message in a 400 back to the same code and text.

use order_model::FieldError;

use crate::messages as m;

/// One documented rule: the vendor's message, our code and what we tell the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub message: &'static str,
    pub code: &'static str,
    pub text: &'static str,
}

impl Rule {
    /// The rule broken at `pointer` in the caller's order.
    pub fn at(&self, pointer: impl Into<String>) -> FieldError {
        FieldError::new(pointer, self.code, self.text).with_vendor_code(self.message)
    }
}

const fn rule(message: &'static str, code: &'static str, text: &'static str) -> Rule {
    Rule {
        message,
        code,
        text,
    }
}

pub const NO_CONTENT: Rule = rule(
    m::NO_CONTENT,
    "required",
    "the order has nothing Impilo can ship or take back",
);
pub const SHIPPING_OPTION_REQUIRED: Rule = rule(
    m::SHIPPING_OPTION_REQUIRED,
    "required",
    "a shipping speed is required when returns are included and the return label is not emailed",
);
pub const MAX_ONE_LOANER_KIT: Rule = rule(
    m::MAX_ONE_LOANER_KIT,
    m::MAX_ONE_LOANER_KIT,
    "only one loaner kit is allowed per order",
);
pub const QTY_OVER_ONE_LOANER_KIT: Rule = rule(
    m::QTY_OVER_ONE_LOANER_KIT,
    m::QTY_OVER_ONE_LOANER_KIT,
    "a loaner kit's quantity must be 1",
);
pub const NO_RETURNS_WITH_LOANER_KIT: Rule = rule(
    m::NO_RETURNS_WITH_LOANER_KIT,
    m::NO_RETURNS_WITH_LOANER_KIT,
    "returns cannot be combined with a loaner kit",
);
pub const NO_LOANER_KIT_TO_SITE: Rule = rule(
    m::NO_LOANER_KIT_TO_SITE,
    m::NO_LOANER_KIT_TO_SITE,
    "loaner kits ship to patients only, not to sites",
);
/// Before sending, the translator knows which serial is in both places.
pub const DEVICE_IN_PACKED_KIT: Rule = rule(
    m::DEVICE_IN_PACKED_KIT,
    "device_in_packed_kit",
    "this device is also inside a returned packed kit",
);
/// In Impilo's answer, which device it meant is not said.
pub const DEVICE_IN_PACKED_KIT_ANSWER: Rule = rule(
    m::DEVICE_IN_PACKED_KIT,
    "device_in_packed_kit",
    "a returned device is also inside a returned packed kit",
);
pub const ADDRESS_REQUIRED: Rule = rule(
    m::ADDRESS_REQUIRED,
    "required",
    "a new patient needs an address",
);
pub const SITE_ID_REQUIRED: Rule = rule(
    m::PATIENT_OR_SITE_REQUIRED,
    "required",
    "a site destination needs the Impilo site id",
);
pub const DESTINATION_REQUIRED: Rule = rule(
    m::PATIENT_OR_SITE_REQUIRED,
    "required",
    "Impilo needs a patient (customer.accounts.impilo or a ship-to address) or a site",
);

pub const LINE_ONE: Rule = rule(m::LINE_ONE, "required", "address line one is required");
pub const CITY: Rule = rule(m::CITY, "required", "city is required");
pub const STATE: Rule = rule(m::STATE, "required", "a state/region is required");
pub const COUNTRY: Rule = rule(m::COUNTRY, "required", "country is required");
pub const ZIP_CODE: Rule = rule(m::ZIP_CODE, "required", "a postal (zip) code is required");

// Rules only the interpreter meets: the translator sends no order that breaks them, or
// words its own refusal more precisely (the names say which field was sent).
pub const PATIENT_OR_SITE_REQUIRED: Rule = rule(
    m::PATIENT_OR_SITE_REQUIRED,
    "required",
    "Impilo needs a patient or a site",
);
pub const PATIENT_REQUIRED: Rule = rule(m::PATIENT_REQUIRED, "required", "Impilo needs a patient");
pub const FIRST_NAME: Rule = rule(
    m::FIRST_NAME,
    "required",
    "a new patient needs a first name",
);
pub const LAST_NAME: Rule = rule(m::LAST_NAME, "required", "a new patient needs a last name");
pub const PATIENT_NOT_FOUND: Rule = rule(
    m::PATIENT_DOES_NOT_EXIST,
    "patient_not_found",
    "Impilo has no such patient for this account",
);
pub const SITE_UNABLE_TO_FIND: Rule = rule(
    m::SITE_UNABLE_TO_FIND,
    "site_not_found",
    "Impilo cannot find this site",
);
pub const INVALID_DATA: Rule = rule(
    m::INVALID_DATA,
    "vendor_data_invalid",
    "Impilo found a value in this order it does not accept (it does not say which)",
);
