//! Canonical order -> Axim `POST /orders`. Pure.

use connector::{RetrySafety, TranslateContext, VendorRequest, Violations as Errors};
use order_model::{
    Address, CanonicalOrder, Contact, Direction, FieldError, Line, LineKind, PaymentStatus,
    ShippingSpeed, escape_pointer,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::Value;

use crate::KIND;
use crate::config::{ORDER_STATUSES, Route, is_object_id};
use crate::wire::{
    CreateOrder, Currency, Discount, FulfilledItems, LineItem, MetaField, NewAddress,
};

pub const CREATE_PATH: &str = "/orders";

#[derive(Debug, Default)]
struct OrderOptions {
    order_status: Option<String>,
    fulfilled_items: Option<Vec<FulfilledItems>>,
}

/// `vendorOptions.axim` at order level, each key checked on its own so an error points at it
/// (the gateway validates the options schema first; this is the never-panic second line).
fn order_options(order: &CanonicalOrder, e: &mut Errors) -> OrderOptions {
    let mut out = OrderOptions::default();
    let Some(m) = order.vendor_options_for(KIND) else {
        return out;
    };
    for (k, v) in m {
        let at = format!("/vendorOptions/{KIND}/{}", escape_pointer(k));
        match k.as_str() {
            "orderStatus" => match v.as_str() {
                Some(s) => out.order_status = Some(s.to_owned()),
                None => e.add(at, "invalid", "must be a string"),
            },
            "fulfilledItems" => match Vec::<FulfilledItems>::deserialize(v) {
                Ok(f) => out.fulfilled_items = Some(f),
                Err(_) => e.add(
                    at,
                    "invalid",
                    "must match Axim's Fulfilled Items (items[] with quantity >= 0; carrier, trackingNumber, trackingUrl, fulfilledAt)",
                ),
            },
            _ => e.add(at, "not_allowed", "not an Axim order option"),
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LineOptions {
    #[serde(default)]
    fulfilled_quantity: Option<u32>,
}

fn non_negative(v: Option<Decimal>, at: &str, e: &mut Errors) {
    if v.is_some_and(|d| d.is_sign_negative() && !d.is_zero()) {
        e.add(at, "minimum", "Axim takes amounts of zero or more");
    }
}

/// `v` is an Axim object id, or a violation at `at`.
fn object_id(e: &mut Errors, v: &str, at: &str, what: &str) {
    if !is_object_id(v) {
        e.add(
            at,
            "pattern",
            format!("{what} must be an Axim id (24 hex characters)"),
        );
    }
}

/// ISO 4217 -> the symbol Axim shows; unknown codes show the code itself.
pub fn currency_symbol(code: &str) -> String {
    match code {
        "USD" | "CAD" | "AUD" | "NZD" | "SGD" | "HKD" | "MXN" => "$",
        "EUR" => "€",
        "GBP" => "£",
        "JPY" | "CNY" => "¥",
        "INR" => "₹",
        "KRW" => "₩",
        "BRL" => "R$",
        "CHF" => "CHF",
        "ZAR" => "R",
        "SEK" | "NOK" | "DKK" => "kr",
        other => other,
    }
    .to_owned()
}

/// A string's length as Axim counts it: Axim is a Node.js/Joi service, and JavaScript
/// string lengths are UTF-16 code units (an emoji outside the BMP is 2).
pub fn joi_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn payment_status(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Unpaid => "unpaid",
        PaymentStatus::Authorized => "authorized",
        PaymentStatus::Paid => "paid",
        PaymentStatus::Declined => "declined",
        PaymentStatus::Refunded => "refunded",
    }
}

pub fn translate(
    route: &Route,
    order: &CanonicalOrder,
    ctx: &TranslateContext<'_>,
) -> Result<VendorRequest, Vec<FieldError>> {
    let order = &connector::text::normalized(order);
    // The steps run in a fixed order, which is the order of the errors a caller sees.
    let mut e = Errors::new();
    connector::capabilities::refuse(&crate::CAPABILITIES, order, &mut e);
    let customer = customer_account(order, ctx, &mut e);
    let opts = order_options(order, &mut e);
    let order_status = order_status(route, opts.order_status, &mut e);
    let payment_status = payment_status_or_default(route, order, &mut e);
    amounts(order, &mut e);
    shipping_rules(order, &mut e);
    let (shipping_address_id, new_shipping_address, billing_address, new_billing_address) =
        addresses(order, &mut e);
    let line_items = line_items(route, order, &mut e);
    let meta_fields = meta_fields(route, order);
    let payment = order.payment.as_ref();
    let shipping = order.shipping.as_ref();
    let body = e.finish(CreateOrder {
        customer,
        payment_status,
        order_status,
        fulfilled_items: opts.fulfilled_items,
        tax_amount: payment.and_then(|p| p.tax),
        billing_address,
        new_billing_address,
        payment_term: payment.and_then(|p| p.term_ref.clone()),
        shipping_address_id,
        new_shipping_address,
        ordered_at: order.placed_at.clone(),
        refunded_amount: payment.and_then(|p| p.refunded),
        shipping_cost: shipping.and_then(|s| s.cost),
        // The sample's `shippingLabel` is a carrier name ("UPS"): the label, else the carrier.
        shipping_label: shipping.and_then(|s| s.label.clone().or_else(|| s.carrier.clone())),
        currency: order.currency.as_ref().map(|c| Currency {
            currency: c.clone(),
            symbol: currency_symbol(c),
        }),
        line_items,
        meta_fields,
    })?;
    VendorRequest::post_serialized(CREATE_PATH, &body, RetrySafety::NotAfterSend)
}

fn customer_account(order: &CanonicalOrder, ctx: &TranslateContext<'_>, e: &mut Errors) -> String {
    match order.customer.account_for(ctx.connection, KIND) {
        Some((key, id)) => {
            object_id(
                e,
                id,
                &format!("/customer/accounts/{key}"),
                "the customer's Axim account",
            );
            id.to_owned()
        }
        None => {
            e.add(
                format!("/customer/accounts/{KIND}"),
                "required",
                "Axim needs the customer's Axim account id",
            );
            String::new()
        }
    }
}

/// The order's option, else the route's default; one of Axim's statuses.
fn order_status(route: &Route, option: Option<String>, e: &mut Errors) -> String {
    match option.or_else(|| route.defaults.order_status.clone()) {
        Some(s) if ORDER_STATUSES.contains(&s.as_str()) => s,
        Some(_) => {
            e.add(
                format!("/vendorOptions/{KIND}/orderStatus"),
                "not_allowed",
                format!("must be one of {ORDER_STATUSES:?}"),
            );
            String::new()
        }
        None => {
            e.add(
                format!("/vendorOptions/{KIND}/orderStatus"),
                "required",
                "Axim needs an order status and this route has no default",
            );
            String::new()
        }
    }
}

fn payment_status_or_default(route: &Route, order: &CanonicalOrder, e: &mut Errors) -> String {
    match order
        .payment
        .as_ref()
        .and_then(|p| p.status)
        .map(payment_status)
        .map(str::to_owned)
        .or_else(|| route.defaults.payment_status.clone())
    {
        Some(s) => s,
        None => {
            e.add(
                "/payment/status",
                "required",
                "Axim needs the payment status and this route has no default",
            );
            String::new()
        }
    }
}

/// Amounts Axim takes as zero or more, and the payment term id.
fn amounts(order: &CanonicalOrder, e: &mut Errors) {
    let payment = order.payment.as_ref();
    non_negative(payment.and_then(|p| p.tax), "/payment/tax", e);
    non_negative(payment.and_then(|p| p.refunded), "/payment/refunded", e);
    non_negative(shipping_cost(order), "/shipping/cost", e);
    if let Some(term) = payment.and_then(|p| p.term_ref.as_deref()) {
        object_id(e, term, "/payment/termRef", "the payment term");
    }
}

fn shipping_rules(order: &CanonicalOrder, e: &mut Errors) {
    let shipping = order.shipping.as_ref();
    match shipping.and_then(|s| s.speed) {
        None | Some(ShippingSpeed::Standard) => {}
        Some(ShippingSpeed::Express | ShippingSpeed::Overnight) => e.add(
            "/shipping/speed",
            "unsupported",
            "Axim records orders; it has no shipping speed",
        ),
    }
    if shipping.is_some_and(|s| s.label.is_some() && s.carrier.is_some() && s.label != s.carrier) {
        e.add(
            "/shipping/carrier",
            "unsupported",
            "Axim has one shipping field (shippingLabel), which takes the label: send the carrier only when there is no label",
        );
    }
}

/// (shipping address id, new shipping address, billing address id, new billing address).
fn addresses(
    order: &CanonicalOrder,
    e: &mut Errors,
) -> (
    Option<String>,
    Option<NewAddress>,
    Option<String>,
    Option<NewAddress>,
) {
    let (shipping_address_id, new_shipping_address) = destination(
        order.ship_to.as_ref().map(|s| {
            (
                s.address_ref.as_deref(),
                s.contact.as_ref(),
                s.address.as_ref(),
            )
        }),
        order,
        "/shipTo",
        false,
        e,
    );
    let (billing_address, new_billing_address) = destination(
        order.bill_to.as_ref().map(|b| {
            (
                b.address_ref.as_deref(),
                b.contact.as_ref(),
                b.address.as_ref(),
            )
        }),
        order,
        "/billTo",
        true,
        e,
    );
    (
        shipping_address_id,
        new_shipping_address,
        billing_address,
        new_billing_address,
    )
}

fn line_items(route: &Route, order: &CanonicalOrder, e: &mut Errors) -> Vec<LineItem> {
    order
        .lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| line_item(route, i, line, e))
        .collect()
}

fn line_item(route: &Route, i: usize, line: &Line, e: &mut Errors) -> Option<LineItem> {
    let at = format!("/lines/{i}");
    match line.kind() {
        LineKind::Item | LineKind::Kit => {}
        LineKind::LoanerKit | LineKind::Device | LineKind::PackedKit => e.add(
            format!("{at}/kind"),
            "unsupported",
            "Axim lines are products (kind item or kit)",
        ),
    }
    let line_opts: LineOptions = match line.vendor_options_for(KIND) {
        None => LineOptions::default(),
        Some(m) => serde_json::from_value(Value::Object(m.clone())).unwrap_or_else(|_| {
            e.add(
                format!("{at}/vendorOptions/{KIND}"),
                "invalid",
                "Axim line options are {fulfilledQuantity: integer >= 0}",
            );
            LineOptions::default()
        }),
    };
    non_negative(line.unit_price, &format!("{at}/unitPrice"), e);
    for (j, d) in line.discounts().iter().enumerate() {
        non_negative(Some(d.amount), &format!("{at}/discounts/{j}/amount"), e);
    }
    let Some(price) = line.unit_price else {
        e.add(
            format!("{at}/unitPrice"),
            "required",
            "Axim needs the line's price",
        );
        return None;
    };
    let Some(entry) = route.catalog.get(&line.sku) else {
        e.add(
            format!("{at}/sku"),
            "unknown_sku",
            "this sku is not in the route's Axim catalog",
        );
        return None;
    };
    let mut discounts = Vec::new();
    for (j, d) in line.discounts().iter().enumerate() {
        if let Some(r) = &d.discount_ref {
            object_id(e, r, &format!("{at}/discounts/{j}/ref"), "a discount");
        }
        discounts.push(Discount {
            id: d.discount_ref.clone(),
            name: d.name.clone(),
            discounted_amount: d.amount,
        });
    }
    let discount_amount = (!discounts.is_empty()).then(|| {
        discounts
            .iter()
            .map(|d| d.discounted_amount)
            .sum::<Decimal>()
    });
    Some(LineItem {
        product_id: entry.product_id.clone(),
        variant_id: entry.variant_id.clone(),
        quantity: line.quantity,
        discounts,
        discount_amount,
        price,
        fulfilled_quantity: line_opts.fulfilled_quantity,
        returned: (line.direction() == Direction::Return).then_some(true),
    })
}

/// The caller's orderRef under the route's label, then the order's metadata.
fn meta_fields(route: &Route, order: &CanonicalOrder) -> Vec<MetaField> {
    let mut meta_fields = vec![MetaField {
        label: route.settings.order_ref_label.clone(),
        value: order.order_ref.clone(),
    }];
    meta_fields.extend(order.metadata().map(|(k, v)| MetaField {
        label: k.clone(),
        value: v.clone(),
    }));
    meta_fields
}

fn shipping_cost(order: &CanonicalOrder) -> Option<Decimal> {
    order.shipping.as_ref().and_then(|s| s.cost)
}

type Dest<'a> = Option<(Option<&'a str>, Option<&'a Contact>, Option<&'a Address>)>;

/// An existing address id XOR a new address (the page's either/or rule).
fn destination(
    dest: Dest<'_>,
    order: &CanonicalOrder,
    at: &str,
    billing: bool,
    e: &mut Errors,
) -> (Option<String>, Option<NewAddress>) {
    let what = if billing { "billing" } else { "shipping" };
    let Some((address_ref, contact, address)) = dest else {
        e.add(
            at,
            "required",
            format!("Axim needs a {what} address: an addressRef or an address"),
        );
        return (None, None);
    };
    if contact.is_some_and(|k| k.email.is_some()) {
        e.add(
            format!("{at}/contact/email"),
            "unsupported",
            "Axim addresses carry no personal email (only companyEmail): omit it, or send the company's as companyEmail",
        );
    }
    if let Some(r) = address_ref {
        object_id(e, r, &format!("{at}/addressRef"), "the address");
        if contact.is_some() {
            e.add(
                format!("{at}/contact"),
                "not_allowed",
                "Axim uses the contact it holds with an address id: send a contact only with a new address",
            );
        }
        return (Some(r.to_owned()), None);
    }
    let Some(a) = address else {
        e.add(
            format!("{at}/address"),
            "required",
            format!("Axim needs a {what} address: an addressRef or an address"),
        );
        return (None, None);
    };
    match new_address(order, contact, a, at, billing, e) {
        Some(address) => (None, Some(address)),
        None => (None, None),
    }
}

/// A new address with its contact: Axim's length rules for each field.
fn new_address(
    order: &CanonicalOrder,
    contact: Option<&Contact>,
    a: &Address,
    at: &str,
    billing: bool,
    e: &mut Errors,
) -> Option<NewAddress> {
    let c = &order.customer;
    let (first, last) = contact_names(order, contact, at, billing, e);
    let mut field = |v: &str, name: &str| {
        let n = joi_len(v);
        if n == 0 {
            e.add(
                format!("{at}/address/{name}"),
                "min_length",
                "Axim needs at least 1 character",
            );
        } else if n > 100 {
            e.add(
                format!("{at}/address/{name}"),
                "max_length",
                "Axim takes at most 100 characters",
            );
        }
        v.to_owned()
    };
    let line1 = field(&a.line1, "line1");
    let line2 = a.line2.as_deref().map(|l| field(l, "line2"));
    let city = field(&a.city, "city");
    let state = a.region.as_deref().map(|r| field(r, "region"));
    let zip = a.postal_code.as_deref().map(|z| field(z, "postalCode"));
    let country = field(&a.country, "country");
    if a.line3.is_some() {
        e.add(
            format!("{at}/address/line3"),
            "unsupported",
            "Axim addresses have two lines",
        );
    }
    let Some(state) = state else {
        e.add(
            format!("{at}/address/region"),
            "required",
            "Axim needs the state or region",
        );
        return None;
    };
    let Some(zipcode) = zip else {
        e.add(
            format!("{at}/address/postalCode"),
            "required",
            "Axim needs the postal code",
        );
        return None;
    };
    let phone = contact
        .and_then(|k| k.phone.clone())
        .or_else(|| c.phone.clone());
    if phone
        .as_deref()
        .is_some_and(|p| p.is_empty() || joi_len(p) > 100)
    {
        e.add(
            format!("{at}/contact/phone"),
            "length",
            "Axim takes 1 to 100 characters",
        );
    }
    let address = NewAddress {
        // Optional at Axim: an empty value is omitted, never sent as "".
        company_name: contact
            .and_then(|k| k.company.clone())
            .filter(|v| !v.is_empty()),
        company_email: contact
            .and_then(|k| k.company_email.clone())
            .filter(|v| !v.is_empty()),
        first_name: first,
        last_name: last,
        address1: line1,
        address2: line2,
        phone_number: phone,
        city,
        state,
        country,
        zipcode,
    };
    Some(address)
}

/// The contact's names (else the customer's): (first, last), each within Axim's lengths.
fn contact_names(
    order: &CanonicalOrder,
    contact: Option<&Contact>,
    at: &str,
    billing: bool,
    e: &mut Errors,
) -> (String, String) {
    let what = if billing { "billing" } else { "shipping" };
    let c = &order.customer;
    let first = contact
        .and_then(|k| k.first_name.clone())
        .or_else(|| c.first_name.clone());
    let last = contact
        .and_then(|k| k.last_name.clone())
        .or_else(|| c.last_name.clone());
    let (min, max) = if billing { (3, 20) } else { (1, 100) };
    let first = match first {
        Some(f) if (min..=max).contains(&joi_len(&f)) => f,
        Some(_) => {
            e.add(
                format!("{at}/contact/firstName"),
                "length",
                format!("Axim takes {min} to {max} characters for a {what} first name"),
            );
            String::new()
        }
        None => {
            e.add(
                format!("{at}/contact/firstName"),
                "required",
                format!("Axim needs the {what} contact's first name"),
            );
            String::new()
        }
    };
    // A last name may be empty at Axim; when present it follows the same length rule.
    let last = last.unwrap_or_default();
    if !last.is_empty() && !(min..=max).contains(&joi_len(&last)) {
        e.add(
            format!("{at}/contact/lastName"),
            "length",
            format!("Axim takes {min} to {max} characters (or none) for a {what} last name"),
        );
    }
    (first, last)
}
