//! What a vendor can honour of the canonical order, declared once per connector
//! ([`crate::Connector::capabilities`]) and enforced in one place ([`refusals`]).
//!
//! The gateway checks an order against its route's vendor before translating it and
//! refuses what the vendor cannot honour with one `unsupported` error per concept,
//! pointing at the caller's field, with the vendor's reason. Translators call
//! [`refuse`] first as well, so a translator called on its own (goldens, a vendor
//! crate's tests) never maps a concept its vendor cannot honour into something else.
//!
//! Value rules (Juniper ships within the US, Axim has one shipping speed) and rules
//! that depend on the vendor's own model (an Impilo device can only be returned) stay
//! in the translators: they are not a concept the vendor lacks.

use order_model::{
    CanonicalOrder, DestinationKind, Direction, FieldError, Intent, OrderType, Recurrence,
};

use crate::Violations;
use crate::text::present_opt;

/// Whether a vendor honours one concept of the canonical order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// Mapped, checked by the translator's own rules, or on the README's ignored list.
    Supported,
    /// Refused at the caller's field; the text says why (and what to send instead).
    Refused(&'static str),
}

/// The concepts of the canonical order a vendor may lack, each with its answer.
/// Every field is required: a new vendor states each one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `type: renewal`.
    pub renewals: Support,
    /// `type: return`: a whole order that returns goods.
    pub return_orders: Support,
    /// `intent: quote`.
    pub quotes: Support,
    /// `intent: quote` on an order of `type: return` (asked only where quotes are
    /// supported).
    pub return_quotes: Support,
    /// `returnOf`: the earlier order being returned.
    pub return_of: Support,
    /// `recurrence: subscription`.
    pub recurring: Support,
    /// `shipping.carrier` chosen by the caller.
    pub carrier_choice: Support,
    /// `shipping.returnLabel`.
    pub return_labels: Support,
    /// `shipTo.kind: site` and `shipTo.siteRef`.
    pub site_delivery: Support,
    /// `shipTo.addressRef`: an address the vendor holds.
    pub address_refs: Support,
    /// `lines[].direction: return`.
    pub return_lines: Support,
    /// `lines[].serialNumber`.
    pub serial_numbers: Support,
    /// `lines[].subscriptionRef`.
    pub subscription_refs: Support,
}

impl Capabilities {
    /// Everything supported: a vendor that refuses a few things spells only those
    /// (`Capabilities { quotes: Support::Refused(".."), ..Capabilities::ALL }`).
    pub const ALL: Capabilities = Capabilities {
        renewals: Support::Supported,
        return_orders: Support::Supported,
        quotes: Support::Supported,
        return_quotes: Support::Supported,
        return_of: Support::Supported,
        recurring: Support::Supported,
        carrier_choice: Support::Supported,
        return_labels: Support::Supported,
        site_delivery: Support::Supported,
        address_refs: Support::Supported,
        return_lines: Support::Supported,
        serial_numbers: Support::Supported,
        subscription_refs: Support::Supported,
    };
}

/// Every concept of `order` the vendor cannot honour, as `unsupported` errors at the
/// caller's fields (order level first, then each line), in the order a caller reads them.
/// Blank optional text counts as absent, as in every translator (see [`crate::text`]).
pub fn refusals(caps: &Capabilities, order: &CanonicalOrder) -> Vec<FieldError> {
    let mut v = Violations::new();
    refuse(caps, order, &mut v);
    v.into_vec()
}

/// [`refusals`] added to a translator's violations.
pub fn refuse(caps: &Capabilities, order: &CanonicalOrder, v: &mut Violations) {
    let mut check = |support: Support, present: bool, pointer: &str| {
        if let (Support::Refused(reason), true) = (support, present) {
            v.unsupported(pointer, reason);
        }
    };
    match order.order_type() {
        OrderType::New => {}
        OrderType::Renewal => check(caps.renewals, true, "/type"),
        OrderType::Return => check(caps.return_orders, true, "/type"),
    }
    if order.intent() == Intent::Quote {
        match caps.quotes {
            Support::Refused(_) => check(caps.quotes, true, "/intent"),
            Support::Supported => check(
                caps.return_quotes,
                order.order_type() == OrderType::Return,
                "/intent",
            ),
        }
    }
    check(
        caps.return_of,
        present_opt(order.return_of.as_ref()).is_some(),
        "/returnOf",
    );
    check(
        caps.recurring,
        order.recurrence() == Recurrence::Subscription,
        "/recurrence",
    );
    let shipping = order.shipping.as_ref();
    check(
        caps.carrier_choice,
        present_opt(shipping.and_then(|s| s.carrier.as_ref())).is_some(),
        "/shipping/carrier",
    );
    check(
        caps.return_labels,
        shipping.is_some_and(|s| s.return_label.is_some()),
        "/shipping/returnLabel",
    );
    let ship_to = order.ship_to.as_ref();
    check(
        caps.site_delivery,
        ship_to.is_some_and(|s| s.kind() == DestinationKind::Site),
        "/shipTo/kind",
    );
    check(
        caps.site_delivery,
        present_opt(ship_to.and_then(|s| s.site_ref.as_ref())).is_some(),
        "/shipTo/siteRef",
    );
    check(
        caps.address_refs,
        present_opt(ship_to.and_then(|s| s.address_ref.as_ref())).is_some(),
        "/shipTo/addressRef",
    );
    for (i, line) in order.lines.iter().enumerate() {
        check(
            caps.return_lines,
            line.direction() == Direction::Return,
            &format!("/lines/{i}/direction"),
        );
        check(
            caps.serial_numbers,
            present_opt(line.serial_number.as_ref()).is_some(),
            &format!("/lines/{i}/serialNumber"),
        );
        check(
            caps.subscription_refs,
            present_opt(line.subscription_ref.as_ref()).is_some(),
            &format!("/lines/{i}/subscriptionRef"),
        );
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    const NONE: Capabilities = Capabilities {
        renewals: Support::Refused("no renewals"),
        return_orders: Support::Refused("no returns"),
        quotes: Support::Refused("no quotes"),
        return_quotes: Support::Refused("no quoted returns"),
        return_of: Support::Refused("no returnOf"),
        recurring: Support::Refused("no recurrence"),
        carrier_choice: Support::Refused("no carrier"),
        return_labels: Support::Refused("no return labels"),
        site_delivery: Support::Refused("no sites"),
        address_refs: Support::Refused("no stored addresses"),
        return_lines: Support::Refused("no return lines"),
        serial_numbers: Support::Refused("no serials"),
        subscription_refs: Support::Refused("no subscription ids"),
    };

    fn order(v: serde_json::Value) -> CanonicalOrder {
        let mut base = json!({
            "orderRef": "r-1",
            "customer": {"ref": "c1"},
            "lines": [{"sku": "S", "quantity": 1}]
        });
        if let (Some(b), Some(p)) = (base.as_object_mut(), v.as_object()) {
            b.extend(p.clone());
        }
        order_model::parse_order(&base).unwrap()
    }

    fn refused(caps: &Capabilities, o: &CanonicalOrder) -> Vec<(String, String, String)> {
        refusals(caps, o)
            .into_iter()
            .map(|e| (e.pointer, e.code, e.message))
            .collect()
    }

    fn unsupported(want: &[(&str, &str)]) -> Vec<(String, String, String)> {
        want.iter()
            .map(|(p, m)| ((*p).to_owned(), "unsupported".to_owned(), (*m).to_owned()))
            .collect()
    }

    fn everything() -> CanonicalOrder {
        order(json!({
            "type": "return",
            "intent": "quote",
            "returnOf": "o-9",
            "recurrence": "subscription",
            "shipping": {"carrier": "UPS", "returnLabel": "email"},
            "shipTo": {"kind": "site", "siteRef": "s-1", "addressRef": "a-1"},
            "lines": [{"sku": "S", "quantity": 1, "direction": "return", "serialNumber": "SN1", "subscriptionRef": "sub-1"}]
        }))
    }

    #[test]
    fn a_vendor_that_honours_everything_refuses_nothing() {
        assert!(refused(&Capabilities::ALL, &everything()).is_empty());
    }

    #[test]
    fn each_refused_concept_is_one_unsupported_error_at_the_callers_field_with_the_reason() {
        assert_eq!(
            refused(&NONE, &everything()),
            unsupported(&[
                ("/type", "no returns"),
                ("/intent", "no quotes"),
                ("/returnOf", "no returnOf"),
                ("/recurrence", "no recurrence"),
                ("/shipping/carrier", "no carrier"),
                ("/shipping/returnLabel", "no return labels"),
                ("/shipTo/kind", "no sites"),
                ("/shipTo/siteRef", "no sites"),
                ("/shipTo/addressRef", "no stored addresses"),
                ("/lines/0/direction", "no return lines"),
                ("/lines/0/serialNumber", "no serials"),
                ("/lines/0/subscriptionRef", "no subscription ids"),
            ])
        );
        let renewal = order(json!({"type": "renewal"}));
        assert_eq!(
            refused(&NONE, &renewal),
            unsupported(&[("/type", "no renewals")])
        );
    }

    #[test]
    fn a_quoted_return_is_asked_only_where_quotes_are_supported() {
        let quotes_but_not_of_returns = Capabilities {
            return_quotes: Support::Refused("cannot preview a return"),
            ..Capabilities::ALL
        };
        assert_eq!(
            refused(&quotes_but_not_of_returns, &everything()),
            unsupported(&[("/intent", "cannot preview a return")])
        );
        let new_quote = order(json!({"intent": "quote"}));
        assert!(refused(&quotes_but_not_of_returns, &new_quote).is_empty());
    }

    #[test]
    fn blank_text_is_absent_and_defaults_are_honoured() {
        let blank = order(json!({
            "returnOf": "  ",
            "shipping": {"carrier": " "},
            "shipTo": {"siteRef": "  ", "addressRef": " "},
            "lines": [{"sku": "S", "quantity": 1, "serialNumber": " ", "subscriptionRef": "\t"}]
        }));
        assert!(refused(&NONE, &blank).is_empty());
    }
}
