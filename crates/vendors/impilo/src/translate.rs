//! Canonical order -> `POST /api/v3/order`, with every rule of the Impilo page checked
//! first. Pure: no I/O, no clock, no randomness.

use std::collections::BTreeSet;

use connector::{RetrySafety, TranslateContext, VendorRequest, Violations};
use order_model::{
    Address, CanonicalOrder, DestinationKind, Direction, FieldError, Line, LineKind, OrderType,
    ReturnLabel, ShipTo, ShippingSpeed, escape_pointer,
};
use serde_json::{Map, Value};

use crate::KIND;
use crate::config::{CatalogEntry, Route};
use crate::messages as m;
use crate::rules;
use crate::wire::{
    CreateOrder, DeviceLine, DeviceRef, IdRef, ItemLine, KitLine, OrderNote, PackedKitLine,
    Patient, PatientAddress, ShippingOption,
};

pub const CREATE_PATH: &str = "/api/v3/order";
pub(crate) const OPT_PATIENT_SITE: &str = "patientSiteRef";
const OPT_DEVICE_SERIALS: &str = "deviceSerials";

fn fe(pointer: impl Into<String>, code: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(pointer, code, message)
}

/// A positive integer written as a decimal string (how callers hold Impilo ids).
pub(crate) fn parse_id(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0')
    {
        return None;
    }
    s.parse().ok().filter(|n| *n > 0)
}

fn blank(s: Option<&String>) -> bool {
    connector::text::present_opt(s).is_none()
}

#[derive(Clone, Copy)]
enum Name {
    First,
    Last,
}

/// A new patient's first or last name: the ship-to contact's, else the customer's. When
/// neither is usable the error names the field the caller actually sent (the contact's,
/// else the customer's; the contact's when neither was sent, as that is where it belongs).
fn patient_name(sent: &CanonicalOrder, which: Name, errs: &mut Violations) -> Option<String> {
    let contact = sent.ship_to.as_ref().and_then(|s| s.contact.as_ref());
    let (from_contact, from_customer, field, vendor, what) = match which {
        Name::First => (
            contact.and_then(|c| c.first_name.as_ref()),
            sent.customer.first_name.as_ref(),
            "firstName",
            m::FIRST_NAME,
            "first",
        ),
        Name::Last => (
            contact.and_then(|c| c.last_name.as_ref()),
            sent.customer.last_name.as_ref(),
            "lastName",
            m::LAST_NAME,
            "last",
        ),
    };
    let usable = connector::text::present_opt(from_contact)
        .or_else(|| connector::text::present_opt(from_customer));
    if usable.is_none() {
        let pointer = if from_contact.is_none() && from_customer.is_some() {
            format!("/customer/{field}")
        } else {
            format!("/shipTo/contact/{field}")
        };
        errs.push(
            fe(
                pointer,
                "required",
                format!("a new patient needs a {what} name (shipTo.contact or customer)"),
            )
            .with_vendor_code(vendor),
        );
    }
    usable.map(str::to_owned)
}

/// The order-level `vendorOptions.impilo`, parsed defensively.
struct OrderOptions {
    patient_site: Option<u64>,
}

fn order_options(order: &CanonicalOrder, errs: &mut Violations) -> OrderOptions {
    let mut out = OrderOptions { patient_site: None };
    let Some(opts) = order.vendor_options_for(KIND) else {
        return out;
    };
    let base = format!("/vendorOptions/{KIND}");
    for (k, v) in opts {
        match k.as_str() {
            OPT_PATIENT_SITE => match v.as_str().and_then(parse_id) {
                Some(id) => out.patient_site = Some(id),
                None => errs.push(fe(
                    format!("{base}/{OPT_PATIENT_SITE}"),
                    "invalid_format",
                    "must be an Impilo site id (a positive integer as a string)",
                )),
            },
            other => errs.push(fe(
                format!("{base}/{}", escape_pointer(other)),
                "unknown_field",
                format!("{other} is not an impilo order option"),
            )),
        }
    }
    out
}

/// `lines[i].vendorOptions.impilo.deviceSerials`, parsed defensively.
fn line_device_serials(
    opts: &Map<String, Value>,
    at: &str,
    errs: &mut Violations,
) -> Option<Vec<String>> {
    let mut serials = None;
    for (k, v) in opts {
        match k.as_str() {
            OPT_DEVICE_SERIALS => match v.as_array() {
                Some(list)
                    if list
                        .iter()
                        .all(|s| s.as_str().is_some_and(|s| !s.is_empty())) =>
                {
                    serials = Some(
                        list.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect(),
                    );
                }
                _ => errs.push(fe(
                    format!("{at}/{OPT_DEVICE_SERIALS}"),
                    "invalid_type",
                    "must be a list of non-empty device serial numbers",
                )),
            },
            other => errs.push(fe(
                format!("{at}/{}", escape_pointer(other)),
                "unknown_field",
                format!("{other} is not an impilo line option"),
            )),
        }
    }
    serials
}

pub fn translate(
    route: &Route,
    order: &CanonicalOrder,
    _ctx: &TranslateContext<'_>,
) -> Result<VendorRequest, Vec<FieldError>> {
    let mut errs = Violations::new();
    let sent = order;
    let order = &connector::text::normalized(sent);
    let body = build(route, order, sent, &mut errs);
    let body = errs.finish(body)?;
    VendorRequest::post_serialized(CREATE_PATH, &body, RetrySafety::NotAfterSend)
}

/// What the lines told us that the order-wide rules need.
#[derive(Default)]
struct LineFacts<'a> {
    /// Outbound loaner kit lines.
    loaners: Vec<usize>,
    /// Return lines.
    returns: Vec<usize>,
    /// Returned device lines and their serial numbers.
    device_lines: Vec<(usize, Option<&'a str>)>,
    /// Serials the returned packed kits say they hold.
    declared_in_packed: BTreeSet<String>,
}

/// `order` is the normalized order; `sent` is the order as the caller wrote it (to point
/// at the field the caller actually sent). The steps run in a fixed order, which is the
/// order of the errors a caller sees.
fn build(
    route: &Route,
    order: &CanonicalOrder,
    sent: &CanonicalOrder,
    errs: &mut Violations,
) -> CreateOrder {
    let mut body = CreateOrder {
        external_order_ids: vec![order.order_ref.clone()],
        ..CreateOrder::default()
    };
    connector::capabilities::refuse(&crate::CAPABILITIES, order, errs);
    return_order_lines(order, errs);
    let opts = order_options(order, errs);
    let facts = lines(route, order, &mut body, errs);
    let to_site = destination(route, order, sent, &opts, &mut body, errs);
    shipping(route, order, &facts, &mut body, errs);
    loaner_rules(order, &facts, to_site, errs);
    packed_device_rule(&facts, errs);
    body.order_notes = order
        .notes()
        .iter()
        .map(|n| OrderNote { note: n.clone() })
        .collect();
    let empty = body.order_items.is_empty()
        && body.order_kits.is_empty()
        && body.return_items.is_empty()
        && body.return_devices.is_empty()
        && body.return_packed_kits.is_empty();
    if empty && errs.is_empty() {
        errs.push(rules::NO_CONTENT.at("/lines"));
    }
    body
}

/// An order of type return holds return lines only.
fn return_order_lines(order: &CanonicalOrder, errs: &mut Violations) {
    if order.order_type() != OrderType::Return {
        return;
    }
    for (i, l) in order.lines.iter().enumerate() {
        if l.direction() == Direction::Outbound {
            errs.add(
                format!("/lines/{i}/direction"),
                "not_allowed",
                "an order of type return can only hold return lines",
            );
        }
    }
}

/// Lines: catalog lookup, kind and direction -> the five lists.
fn lines<'a>(
    route: &Route,
    order: &'a CanonicalOrder,
    body: &mut CreateOrder,
    errs: &mut Violations,
) -> LineFacts<'a> {
    let mut facts = LineFacts::default();
    for (i, line) in order.lines.iter().enumerate() {
        let at = format!("/lines/{i}");
        let serials = match line.vendor_options_for(KIND) {
            Some(o) => line_device_serials(o, &format!("{at}/vendorOptions/{KIND}"), errs),
            None => None,
        };
        line_field_rules(line, &at, serials.is_some(), errs);
        if line.direction() == Direction::Return {
            facts.returns.push(i);
        }
        let Some(entry) = route.catalog.get(&line.sku).copied() else {
            errs.add(
                format!("{at}/sku"),
                "unknown_sku",
                "this sku is not in the route's Impilo catalog",
            );
            continue;
        };
        place_line(i, line, entry, serials, body, &mut facts, errs);
    }
    facts
}

/// Line fields that only some kinds of line may carry.
fn line_field_rules(line: &Line, at: &str, has_serials: bool, errs: &mut Violations) {
    let kind = line.kind();
    let dir = line.direction();
    if line.serial_number.is_some() && !(kind == LineKind::Device && dir == Direction::Return) {
        errs.add(
            format!("{at}/serialNumber"),
            "not_allowed",
            "a serial number is only sent for a returned device",
        );
    }
    if has_serials && !(kind == LineKind::PackedKit && dir == Direction::Return) {
        errs.add(
            format!("{at}/vendorOptions/{KIND}/{OPT_DEVICE_SERIALS}"),
            "not_allowed",
            "deviceSerials describes a returned packed kit only",
        );
    }
}

/// One line into the list its kind and direction belong in, when the catalog agrees.
fn place_line<'a>(
    i: usize,
    line: &'a Line,
    entry: CatalogEntry,
    serials: Option<Vec<String>>,
    body: &mut CreateOrder,
    facts: &mut LineFacts<'a>,
    errs: &mut Violations,
) {
    let at = format!("/lines/{i}");
    let count = line.quantity;
    let (kind, dir) = (line.kind(), line.direction());
    match (kind, entry) {
        (LineKind::Item, CatalogEntry::Item(id)) => {
            let item = ItemLine {
                count,
                item: IdRef { id },
            };
            match dir {
                Direction::Outbound => body.order_items.push(item),
                Direction::Return => body.return_items.push(item),
            }
        }
        (LineKind::Kit | LineKind::LoanerKit, CatalogEntry::Kit { id, loaner }) => {
            if (kind == LineKind::LoanerKit) != loaner {
                let msg = if loaner {
                    "the catalog lists this sku as a loaner kit: use kind loaner_kit"
                } else {
                    "the catalog does not list this sku as a loaner kit: use kind kit"
                };
                return errs.add(format!("{at}/kind"), "kind_mismatch", msg);
            }
            match dir {
                Direction::Outbound => {
                    if loaner {
                        facts.loaners.push(i);
                    }
                    body.order_kits.push(KitLine {
                        count,
                        kit: IdRef { id },
                    });
                }
                Direction::Return => errs.unsupported(
                    format!("{at}/direction"),
                    "Impilo takes kits back as packed kits: return it as kind packed_kit",
                ),
            }
        }
        (LineKind::Device, CatalogEntry::Device(id)) => match dir {
            Direction::Outbound => errs.unsupported(
                format!("{at}/direction"),
                "Impilo ships devices inside kits; a device line can only be a return",
            ),
            Direction::Return => {
                if count != 1 {
                    errs.add(
                        format!("{at}/quantity"),
                        "not_allowed",
                        "a returned device is one physical unit: quantity must be 1",
                    );
                }
                let device = match &line.serial_number {
                    Some(sn) => DeviceRef {
                        id: None,
                        serial_number: Some(sn.clone()),
                    },
                    None => DeviceRef {
                        id: Some(id),
                        serial_number: None,
                    },
                };
                facts.device_lines.push((i, line.serial_number.as_deref()));
                body.return_devices.push(DeviceLine { device });
            }
        },
        (LineKind::PackedKit, CatalogEntry::PackedKit(id)) => match dir {
            Direction::Outbound => errs.unsupported(
                format!("{at}/direction"),
                "packed kits can only be returned at Impilo; ship a kit as kind kit",
            ),
            Direction::Return => {
                facts
                    .declared_in_packed
                    .extend(serials.into_iter().flatten());
                body.return_packed_kits.push(PackedKitLine {
                    count,
                    packed_kit: IdRef { id },
                });
            }
        },
        (_, entry) => errs.add(
            format!("{at}/kind"),
            "kind_mismatch",
            format!(
                "the catalog lists this sku as {}, which does not match the line's kind",
                entry.describe()
            ),
        ),
    }
}

/// Shipping option and return label.
fn shipping(
    route: &Route,
    order: &CanonicalOrder,
    facts: &LineFacts<'_>,
    body: &mut CreateOrder,
    errs: &mut Violations,
) {
    let shipping = order.shipping.as_ref();
    match shipping.and_then(|s| s.speed) {
        Some(ShippingSpeed::Standard) => body.shipping_option = Some(ShippingOption::Standard),
        Some(ShippingSpeed::Overnight) => body.shipping_option = Some(ShippingOption::Overnight),
        Some(ShippingSpeed::Express) => {
            errs.unsupported("/shipping/speed", "Impilo ships standard or overnight only");
        }
        None => body.shipping_option = route.default_shipping,
    }
    body.email_label = shipping
        .and_then(|s| s.return_label)
        .map(|l| l == ReturnLabel::Email);
    let express = shipping.and_then(|s| s.speed) == Some(ShippingSpeed::Express);
    if !facts.returns.is_empty()
        && body.email_label != Some(true)
        && body.shipping_option.is_none()
        && !express
    {
        errs.push(rules::SHIPPING_OPTION_REQUIRED.at("/shipping/speed"));
    }
}

/// At most one loaner kit, of quantity 1, to a patient, without returns.
fn loaner_rules(
    order: &CanonicalOrder,
    facts: &LineFacts<'_>,
    to_site: bool,
    errs: &mut Violations,
) {
    for &i in facts.loaners.iter().skip(1) {
        errs.push(rules::MAX_ONE_LOANER_KIT.at(format!("/lines/{i}")));
    }
    for &i in &facts.loaners {
        if order.lines.get(i).is_some_and(|l| l.quantity != 1) {
            errs.push(rules::QTY_OVER_ONE_LOANER_KIT.at(format!("/lines/{i}/quantity")));
        }
    }
    if !facts.loaners.is_empty() {
        for &i in &facts.returns {
            errs.push(rules::NO_RETURNS_WITH_LOANER_KIT.at(format!("/lines/{i}/direction")));
        }
        if to_site {
            errs.push(rules::NO_LOANER_KIT_TO_SITE.at("/shipTo/kind"));
        }
    }
}

/// A device is not returned both alone and inside a returned packed kit.
fn packed_device_rule(facts: &LineFacts<'_>, errs: &mut Violations) {
    for (i, serial) in &facts.device_lines {
        if serial.is_some_and(|s| facts.declared_in_packed.contains(s)) {
            errs.push(rules::DEVICE_IN_PACKED_KIT.at(format!("/lines/{i}/serialNumber")));
        }
    }
}

/// Fills `patient` or `site`; returns whether the order goes to a site.
fn destination(
    route: &Route,
    order: &CanonicalOrder,
    sent: &CanonicalOrder,
    opts: &OrderOptions,
    body: &mut CreateOrder,
    errs: &mut Violations,
) -> bool {
    let ship_to = order.ship_to.as_ref();
    if ship_to.map(|s| s.kind()) == Some(DestinationKind::Site) {
        to_site(ship_to, opts, body, errs);
        return true;
    }
    if ship_to.is_some_and(|s| s.site_ref.is_some()) {
        errs.add(
            "/shipTo/siteRef",
            "not_allowed",
            "siteRef needs shipTo.kind site",
        );
    }
    if let Some((key, account)) = order.customer.account_for(&route.connection, KIND) {
        to_existing_patient(key, account, ship_to, opts, body, errs);
        return false;
    }
    // A new patient, created inline from the ship-to contact and address.
    match ship_to {
        Some(ship_to) => body.patient = Some(new_patient(order, sent, ship_to, opts, errs)),
        None => errs.push(rules::DESTINATION_REQUIRED.at("/shipTo")),
    }
    false
}

fn refuse_patient_site(opts: &OrderOptions, errs: &mut Violations) {
    if opts.patient_site.is_some() {
        errs.add(
            format!("/vendorOptions/{KIND}/{OPT_PATIENT_SITE}"),
            "not_allowed",
            "patientSiteRef only applies to a new patient",
        );
    }
}

fn to_site(
    ship_to: Option<&ShipTo>,
    opts: &OrderOptions,
    body: &mut CreateOrder,
    errs: &mut Violations,
) {
    match ship_to.and_then(|s| s.site_ref.as_deref()) {
        None => errs.push(rules::SITE_ID_REQUIRED.at("/shipTo/siteRef")),
        Some(r) => match parse_id(r) {
            Some(id) => body.site = Some(IdRef { id }),
            None => errs.add(
                "/shipTo/siteRef",
                "invalid_format",
                "must be an Impilo site id (a positive integer)",
            ),
        },
    }
    if ship_to.is_some_and(|s| s.address.is_some()) {
        errs.add(
            "/shipTo/address",
            "not_allowed",
            "a site ships to the address Impilo holds for it",
        );
    }
    refuse_patient_site(opts, errs);
}

fn to_existing_patient(
    key: &str,
    account: &str,
    ship_to: Option<&ShipTo>,
    opts: &OrderOptions,
    body: &mut CreateOrder,
    errs: &mut Violations,
) {
    match parse_id(account) {
        Some(id) => {
            body.patient = Some(Patient {
                id: Some(id),
                ..Patient::default()
            })
        }
        None => errs.add(
            format!("/customer/accounts/{}", escape_pointer(key)),
            "invalid_format",
            "must be an Impilo patient id (a positive integer)",
        ),
    }
    if ship_to.is_some_and(|s| s.address.is_some()) {
        errs.add("/shipTo/address", "not_allowed", "Impilo ships to the address it holds for an existing patient: omit the address or the impilo account");
    }
    refuse_patient_site(opts, errs);
}

fn new_patient(
    order: &CanonicalOrder,
    sent: &CanonicalOrder,
    ship_to: &ShipTo,
    opts: &OrderOptions,
    errs: &mut Violations,
) -> Patient {
    let c = &order.customer;
    let contact = ship_to.contact.as_ref();
    let first = patient_name(sent, Name::First, errs);
    let last = patient_name(sent, Name::Last, errs);
    let address = match &ship_to.address {
        None => {
            errs.push(rules::ADDRESS_REQUIRED.at("/shipTo/address"));
            None
        }
        Some(a) => Some(patient_address(a, errs)),
    };
    Patient {
        id: None,
        first_name: first,
        last_name: last,
        address,
        email: contact
            .and_then(|c| c.email.clone())
            .or_else(|| c.email.clone()),
        phone_number: contact
            .and_then(|c| c.phone.clone())
            .or_else(|| c.phone.clone()),
        date_of_birth: c.date_of_birth.clone(),
        external_identifier: Some(c.customer_ref.clone()),
        site: opts.patient_site.map(|id| IdRef { id }),
    }
}

fn patient_address(a: &Address, errs: &mut Violations) -> PatientAddress {
    let checks = [
        (a.line1.trim().is_empty(), "line1", rules::LINE_ONE),
        (a.city.trim().is_empty(), "city", rules::CITY),
        (blank(a.region.as_ref()), "region", rules::STATE),
        (a.country.trim().is_empty(), "country", rules::COUNTRY),
        (blank(a.postal_code.as_ref()), "postalCode", rules::ZIP_CODE),
    ];
    for (bad, field, rule) in checks {
        if bad {
            errs.push(rule.at(format!("/shipTo/address/{field}")));
        }
    }
    PatientAddress {
        line_one: Some(a.line1.clone()),
        line_two: a.line2.clone(),
        line_three: a.line3.clone(),
        city: Some(a.city.clone()),
        state: a.region.clone(),
        zip_code: a.postal_code.clone(),
        country: Some(a.country.clone()),
    }
}
