//! Canonical order -> Juniper `POST /v1/orders`. Pure: the route and the order in,
//! the exact body (or every rule the order breaks, pointing at the caller's fields) out.

use connector::{RetrySafety, TranslateContext, VendorRequest, Violations as Errors};
use order_model::{CanonicalOrder, FieldError, LineKind, Recurrence, ShippingSpeed};
use serde::Deserialize;

use crate::KIND;
use crate::config::{DAYS_SUPPLY, Route};
use crate::wire::{
    Address, Administration, CreateOrder, Customer, LineItem, OrderType, ShippingMethod,
};

pub const CREATE_PATH: &str = "/v1/orders";

/// `vendorOptions.juniper` at order level.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrderOptions {
    #[serde(default)]
    days_supply: Option<u16>,
}

/// `lines[].vendorOptions.juniper`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LineOptions {
    #[serde(default)]
    administration: Option<Administration>,
}

fn max_len(e: &mut Errors, v: &str, max: usize, at: &str, what: &str) {
    if v.chars().count() > max {
        e.add(
            at,
            "max_length",
            format!("Juniper takes at most {max} characters for {what}"),
        );
    }
}

fn is_zip(s: &str) -> bool {
    let b = s.as_bytes();
    let five = |x: &[u8]| x.len() == 5 && x.iter().all(u8::is_ascii_digit);
    match b.len() {
        5 => five(b),
        10 => five(&b[..5]) && b[5] == b'-' && b[6..].iter().all(u8::is_ascii_digit),
        _ => false,
    }
}

pub fn translate(
    route: &Route,
    order: &CanonicalOrder,
    _ctx: &TranslateContext<'_>,
) -> Result<VendorRequest, Vec<FieldError>> {
    let order = &connector::text::normalized(order);
    let mut e = Errors::new();

    refuse_unsupported(order, &mut e);
    let days_supply = days_supply(route, order, &mut e);
    let customer = customer(order, route, &mut e);
    let line_items = line_items(route, order, &mut e);

    let shipping_method = match order.shipping.as_ref().and_then(|s| s.speed) {
        Some(ShippingSpeed::Standard) => ShippingMethod::Standard,
        Some(ShippingSpeed::Express) => ShippingMethod::Express,
        Some(ShippingSpeed::Overnight) => ShippingMethod::Overnight,
        None => route
            .defaults
            .shipping_method
            .unwrap_or(ShippingMethod::Standard),
    };
    let order_type = match order.recurrence() {
        Recurrence::OneTime => OrderType::OneTime,
        Recurrence::Subscription => OrderType::Subscription,
    };

    let (Some(customer), true) = (customer, e.is_empty()) else {
        return Err(e.into_vec());
    };
    let body = CreateOrder {
        customer,
        days_supply,
        line_items,
        shipping_method,
        order_type,
    };
    VendorRequest::post_serialized(CREATE_PATH, &body, RetrySafety::NotAfterSend)
}

/// What Juniper cannot honour: the concepts it lacks (declared once, in
/// [`crate::CAPABILITIES`]) and currencies other than its one.
fn refuse_unsupported(order: &CanonicalOrder, e: &mut Errors) {
    connector::capabilities::refuse(&crate::CAPABILITIES, order, e);
    if order.currency.as_deref().is_some_and(|c| c != "USD") {
        e.unsupported("/currency", "Juniper prices in USD only");
    }
}

/// The order's `daysSupply` option, else the route's default.
fn days_supply(route: &Route, order: &CanonicalOrder, e: &mut Errors) -> u16 {
    let opts: OrderOptions = match order.vendor_options_for(KIND) {
        None => OrderOptions::default(),
        Some(m) => {
            serde_json::from_value(serde_json::Value::Object(m.clone())).unwrap_or_else(|_| {
                e.add(
                    format!("/vendorOptions/{KIND}"),
                    "invalid",
                    "does not match the Juniper options schema",
                );
                OrderOptions::default()
            })
        }
    };
    match opts.days_supply.or(route.defaults.days_supply) {
        Some(d) if DAYS_SUPPLY.contains(&d) => d,
        Some(_) => {
            e.add(
                format!("/vendorOptions/{KIND}/daysSupply"),
                "not_allowed",
                "must be 30, 60 or 90",
            );
            30
        }
        None => {
            e.add(
                format!("/vendorOptions/{KIND}/daysSupply"),
                "required",
                "Juniper needs the days of supply (30, 60 or 90), and this route has no default",
            );
            30
        }
    }
}

fn line_items(route: &Route, order: &CanonicalOrder, e: &mut Errors) -> Vec<LineItem> {
    let mut line_items = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let at = format!("/lines/{i}");
        match line.kind() {
            LineKind::Item => {}
            LineKind::Kit | LineKind::LoanerKit | LineKind::Device | LineKind::PackedKit => {
                e.unsupported(
                    format!("{at}/kind"),
                    "Juniper ships supplement packs (kind item) only",
                );
            }
        }
        let Some(entry) = route.catalog.get(&line.sku) else {
            e.add(
                format!("{at}/sku"),
                "unknown_sku",
                "this sku is not in the route's Juniper catalog",
            );
            continue;
        };
        let pack = entry
            .pack_description
            .clone()
            .or_else(|| line.description.clone())
            .filter(|d| !d.trim().is_empty());
        let Some(pack_description) = pack else {
            e.add(format!("{at}/description"), "required", "Juniper needs a pack description: give the line a description or the catalog entry a packDescription");
            continue;
        };
        let line_opts: LineOptions = match line.vendor_options_for(KIND) {
            None => LineOptions::default(),
            Some(m) => {
                serde_json::from_value(serde_json::Value::Object(m.clone())).unwrap_or_else(|_| {
                    e.add(
                        format!("{at}/vendorOptions/{KIND}/administration"),
                        "invalid",
                        "administration needs all four counts: morning, afternoon, evening, sleep",
                    );
                    LineOptions::default()
                })
            }
        };
        line_items.push(LineItem {
            product_id: entry.product_id,
            quantity: line.quantity,
            pack_description,
            administration: line_opts.administration,
        });
    }
    line_items
}

fn customer(order: &CanonicalOrder, route: &Route, e: &mut Errors) -> Option<Customer> {
    let c = &order.customer;
    let contact = order.ship_to.as_ref().and_then(|s| s.contact.as_ref());
    // Juniper ships to its customer: the recipient is the customer. A ship-to contact
    // may supply the names, but a different recipient cannot be expressed.
    let differs = |theirs: Option<&String>, ours: Option<&String>| {
        theirs.is_some() && ours.is_some() && theirs != ours
    };
    for (field, theirs, ours) in [
        (
            "firstName",
            contact.and_then(|k| k.first_name.as_ref()),
            c.first_name.as_ref(),
        ),
        (
            "lastName",
            contact.and_then(|k| k.last_name.as_ref()),
            c.last_name.as_ref(),
        ),
    ] {
        if differs(theirs, ours) {
            e.unsupported(format!("/shipTo/contact/{field}"), "Juniper ships to the customer; a recipient other than the customer cannot be expressed");
        }
    }
    let first = c
        .first_name
        .clone()
        .or_else(|| contact.and_then(|k| k.first_name.clone()));
    let last = c
        .last_name
        .clone()
        .or_else(|| contact.and_then(|k| k.last_name.clone()));
    if first.is_none() {
        e.add(
            "/customer/firstName",
            "required",
            "Juniper needs the customer's first name",
        );
    }
    if last.is_none() {
        e.add(
            "/customer/lastName",
            "required",
            "Juniper needs the customer's last name",
        );
    }
    let email = c
        .email
        .clone()
        .or_else(|| contact.and_then(|k| k.email.clone()));
    let phone = c
        .phone
        .clone()
        .or_else(|| contact.and_then(|k| k.phone.clone()));

    let Some(ship_to) = &order.ship_to else {
        e.add("/shipTo", "required", "Juniper needs a US ship-to address");
        return None;
    };
    let Some(a) = &ship_to.address else {
        e.add(
            "/shipTo/address",
            "required",
            "Juniper needs a US ship-to address",
        );
        return None;
    };
    Some(Customer {
        source_id: c.customer_ref.clone(),
        first_name: first.unwrap_or_default(),
        last_name: last.unwrap_or_default(),
        email,
        phone,
        address: us_address(a, route, e),
    })
}

/// The ship-to address as Juniper's US address.
fn us_address(a: &order_model::Address, route: &Route, e: &mut Errors) -> Address {
    if a.country != "US" {
        e.unsupported(
            "/shipTo/address/country",
            "Juniper ships within the US only",
        );
    }
    for (v, field) in [(&a.line1, "line1"), (&a.city, "city")] {
        if v.is_empty() {
            e.add(
                format!("/shipTo/address/{field}"),
                "required",
                format!("Juniper needs the address {field}"),
            );
        }
    }
    max_len(e, &a.line1, 100, "/shipTo/address/line1", "line1");
    if let Some(l2) = &a.line2 {
        max_len(e, l2, 100, "/shipTo/address/line2", "line2");
    }
    if a.line3.is_some() {
        e.unsupported(
            "/shipTo/address/line3",
            "Juniper addresses have two lines; fold line3 into line2",
        );
    }
    max_len(e, &a.city, 50, "/shipTo/address/city", "the city");
    let state = match &a.region {
        Some(r) if r.len() == 2 && r.chars().all(|ch| ch.is_ascii_alphabetic()) => {
            r.to_ascii_uppercase()
        }
        Some(_) => {
            e.add(
                "/shipTo/address/region",
                "pattern",
                "Juniper needs the 2-letter US state code",
            );
            String::new()
        }
        None => {
            e.add(
                "/shipTo/address/region",
                "required",
                "Juniper needs the 2-letter US state code",
            );
            String::new()
        }
    };
    let zip = match &a.postal_code {
        Some(z) if is_zip(z) => z.clone(),
        Some(_) => {
            e.add(
                "/shipTo/address/postalCode",
                "pattern",
                "Juniper needs a US ZIP code: 5 digits or 5+4 (12345-6789)",
            );
            String::new()
        }
        None => {
            e.add(
                "/shipTo/address/postalCode",
                "required",
                "Juniper needs the ZIP code",
            );
            String::new()
        }
    };
    Address {
        line1: a.line1.clone(),
        line2: a.line2.clone(),
        city: a.city.clone(),
        state,
        zip,
        zip_field: route.settings.zip_field,
    }
}

#[cfg(test)]
mod tests {
    use super::is_zip;

    #[test]
    fn zip_codes() {
        for ok in ["94301", "07202", "94301-1234"] {
            assert!(is_zip(ok), "{ok}");
        }
        for bad in [
            "9430",
            "943011",
            "94301-123",
            "94301 1234",
            "ABCDE",
            "94301-12345",
        ] {
            assert!(!is_zip(bad), "{bad}");
        }
    }
}
