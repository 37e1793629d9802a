//! Canonical order -> `POST /api/v3/order`, with every rule of the Impilo page checked
//! first. Pure: no I/O, no clock, no randomness.

use std::collections::BTreeSet;

use connector::{RetrySafety, TranslateContext, VendorRequest};
use order_model::{
    CanonicalOrder, DestinationKind, Direction, FieldError, Intent, LineKind, OrderType,
    Recurrence, ReturnLabel, ShippingSpeed, escape_pointer,
};
use serde_json::{Map, Value};

use crate::KIND;
use crate::config::{CatalogEntry, Route};
use crate::messages as m;
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
fn patient_name(sent: &CanonicalOrder, which: Name, errs: &mut Vec<FieldError>) -> Option<String> {
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

fn order_options(order: &CanonicalOrder, errs: &mut Vec<FieldError>) -> OrderOptions {
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
    errs: &mut Vec<FieldError>,
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
    let mut errs = Vec::new();
    let sent = order;
    let order = &connector::text::normalized(sent);
    let body = build(route, order, sent, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    let bytes = serde_json::to_vec(&body).map_err(|_| {
        vec![fe(
            "",
            "internal",
            "the Impilo request could not be encoded",
        )]
    })?;
    Ok(VendorRequest::post_json(
        CREATE_PATH,
        bytes,
        RetrySafety::NotAfterSend,
    ))
}

/// `order` is the normalized order; `sent` is the order as the caller wrote it (to point
/// at the field the caller actually sent).
fn build(
    route: &Route,
    order: &CanonicalOrder,
    sent: &CanonicalOrder,
    errs: &mut Vec<FieldError>,
) -> CreateOrder {
    let mut body = CreateOrder {
        external_order_ids: vec![order.order_ref.clone()],
        ..CreateOrder::default()
    };

    // Order-level concepts Impilo cannot honour.
    match order.order_type() {
        OrderType::New => {}
        OrderType::Renewal => errs.push(fe("/type", "unsupported", "Impilo has no renewal orders")),
        OrderType::Return => {
            for (i, l) in order.lines.iter().enumerate() {
                if l.direction() == Direction::Outbound {
                    errs.push(fe(
                        format!("/lines/{i}/direction"),
                        "not_allowed",
                        "an order of type return can only hold return lines",
                    ));
                }
            }
        }
    }
    if order.intent() == Intent::Quote {
        errs.push(fe(
            "/intent",
            "unsupported",
            "Impilo cannot quote an order without placing it",
        ));
    }
    if order.return_of.is_some() {
        errs.push(fe(
            "/returnOf",
            "unsupported",
            "Impilo returns do not reference an original order: send return lines",
        ));
    }
    if order.recurrence() == Recurrence::Subscription {
        errs.push(fe(
            "/recurrence",
            "unsupported",
            "Impilo has no recurring orders",
        ));
    }
    if order.shipping.as_ref().is_some_and(|s| s.carrier.is_some()) {
        errs.push(fe(
            "/shipping/carrier",
            "unsupported",
            "Impilo picks the carrier; only the shipping speed can be chosen",
        ));
    }
    let opts = order_options(order, errs);

    // Lines: catalog lookup, kind and direction -> the five lists.
    let mut loaners: Vec<usize> = Vec::new();
    let mut returns: Vec<usize> = Vec::new();
    let mut device_lines: Vec<(usize, Option<&str>)> = Vec::new();
    let mut declared_in_packed: BTreeSet<String> = BTreeSet::new();
    for (i, line) in order.lines.iter().enumerate() {
        let at = format!("/lines/{i}");
        let serials = match line.vendor_options_for(KIND) {
            Some(o) => line_device_serials(o, &format!("{at}/vendorOptions/{KIND}"), errs),
            None => None,
        };
        if line.subscription_ref.is_some() {
            errs.push(fe(
                format!("{at}/subscriptionRef"),
                "unsupported",
                "Impilo has no subscriptions",
            ));
        }
        let kind = line.kind();
        let dir = line.direction();
        if line.serial_number.is_some() && !(kind == LineKind::Device && dir == Direction::Return) {
            errs.push(fe(
                format!("{at}/serialNumber"),
                "not_allowed",
                "a serial number is only sent for a returned device",
            ));
        }
        if serials.is_some() && !(kind == LineKind::PackedKit && dir == Direction::Return) {
            errs.push(fe(
                format!("{at}/vendorOptions/{KIND}/{OPT_DEVICE_SERIALS}"),
                "not_allowed",
                "deviceSerials describes a returned packed kit only",
            ));
        }
        if dir == Direction::Return {
            returns.push(i);
        }
        let Some(entry) = route.catalog.get(&line.sku).copied() else {
            errs.push(fe(
                format!("{at}/sku"),
                "unknown_sku",
                "this sku is not in the route's Impilo catalog",
            ));
            continue;
        };
        let count = line.quantity;
        match (kind, entry) {
            (LineKind::Item, CatalogEntry::Item(id)) => match dir {
                Direction::Outbound => body.order_items.push(ItemLine {
                    count,
                    item: IdRef { id },
                }),
                Direction::Return => body.return_items.push(ItemLine {
                    count,
                    item: IdRef { id },
                }),
            },
            (LineKind::Kit | LineKind::LoanerKit, CatalogEntry::Kit { id, loaner }) => {
                let wants_loaner = kind == LineKind::LoanerKit;
                if wants_loaner != loaner {
                    let msg = if loaner {
                        "the catalog lists this sku as a loaner kit: use kind loaner_kit"
                    } else {
                        "the catalog does not list this sku as a loaner kit: use kind kit"
                    };
                    errs.push(fe(format!("{at}/kind"), "kind_mismatch", msg));
                    continue;
                }
                match dir {
                    Direction::Outbound => {
                        if loaner {
                            loaners.push(i);
                        }
                        body.order_kits.push(KitLine {
                            count,
                            kit: IdRef { id },
                        });
                    }
                    Direction::Return => errs.push(fe(
                        format!("{at}/direction"),
                        "unsupported",
                        "Impilo takes kits back as packed kits: return it as kind packed_kit",
                    )),
                }
            }
            (LineKind::Device, CatalogEntry::Device(id)) => match dir {
                Direction::Outbound => errs.push(fe(
                    format!("{at}/direction"),
                    "unsupported",
                    "Impilo ships devices inside kits; a device line can only be a return",
                )),
                Direction::Return => {
                    if count != 1 {
                        errs.push(fe(
                            format!("{at}/quantity"),
                            "not_allowed",
                            "a returned device is one physical unit: quantity must be 1",
                        ));
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
                    device_lines.push((i, line.serial_number.as_deref()));
                    body.return_devices.push(DeviceLine { device });
                }
            },
            (LineKind::PackedKit, CatalogEntry::PackedKit(id)) => match dir {
                Direction::Outbound => errs.push(fe(
                    format!("{at}/direction"),
                    "unsupported",
                    "packed kits can only be returned at Impilo; ship a kit as kind kit",
                )),
                Direction::Return => {
                    declared_in_packed.extend(serials.into_iter().flatten());
                    body.return_packed_kits.push(PackedKitLine {
                        count,
                        packed_kit: IdRef { id },
                    });
                }
            },
            (_, entry) => errs.push(fe(
                format!("{at}/kind"),
                "kind_mismatch",
                format!(
                    "the catalog lists this sku as {}, which does not match the line's kind",
                    entry.describe()
                ),
            )),
        }
    }

    // Destination: exactly one of patient or site.
    let to_site = destination(route, order, sent, &opts, &mut body, errs);

    // Shipping option and label.
    let shipping = order.shipping.as_ref();
    match shipping.and_then(|s| s.speed) {
        Some(ShippingSpeed::Standard) => body.shipping_option = Some(ShippingOption::Standard),
        Some(ShippingSpeed::Overnight) => body.shipping_option = Some(ShippingOption::Overnight),
        Some(ShippingSpeed::Express) => {
            errs.push(fe(
                "/shipping/speed",
                "unsupported",
                "Impilo ships standard or overnight only",
            ));
        }
        None => body.shipping_option = route.default_shipping,
    }
    body.email_label = shipping
        .and_then(|s| s.return_label)
        .map(|l| l == ReturnLabel::Email);
    let express = shipping.and_then(|s| s.speed) == Some(ShippingSpeed::Express);
    if !returns.is_empty()
        && body.email_label != Some(true)
        && body.shipping_option.is_none()
        && !express
    {
        errs.push(
            fe("/shipping/speed", "required", "a shipping speed is required when returns are included and the return label is not emailed")
                .with_vendor_code(m::SHIPPING_OPTION_REQUIRED),
        );
    }

    // Loaner kit rules.
    for &i in loaners.iter().skip(1) {
        errs.push(
            fe(
                format!("/lines/{i}"),
                m::MAX_ONE_LOANER_KIT,
                "only one loaner kit is allowed per order",
            )
            .with_vendor_code(m::MAX_ONE_LOANER_KIT),
        );
    }
    for &i in &loaners {
        if order.lines.get(i).is_some_and(|l| l.quantity != 1) {
            errs.push(
                fe(
                    format!("/lines/{i}/quantity"),
                    m::QTY_OVER_ONE_LOANER_KIT,
                    "a loaner kit's quantity must be 1",
                )
                .with_vendor_code(m::QTY_OVER_ONE_LOANER_KIT),
            );
        }
    }
    if !loaners.is_empty() {
        for &i in &returns {
            errs.push(
                fe(
                    format!("/lines/{i}/direction"),
                    m::NO_RETURNS_WITH_LOANER_KIT,
                    "returns cannot be combined with a loaner kit",
                )
                .with_vendor_code(m::NO_RETURNS_WITH_LOANER_KIT),
            );
        }
        if to_site {
            errs.push(
                fe(
                    "/shipTo/kind",
                    m::NO_LOANER_KIT_TO_SITE,
                    "loaner kits ship to patients only, not to sites",
                )
                .with_vendor_code(m::NO_LOANER_KIT_TO_SITE),
            );
        }
    }

    // A device is not returned both alone and inside a returned packed kit.
    for (i, serial) in device_lines {
        if serial.is_some_and(|s| declared_in_packed.contains(s)) {
            errs.push(
                fe(
                    format!("/lines/{i}/serialNumber"),
                    "device_in_packed_kit",
                    "this device is also inside a returned packed kit",
                )
                .with_vendor_code(m::DEVICE_IN_PACKED_KIT),
            );
        }
    }

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
        errs.push(
            fe(
                "/lines",
                "required",
                "the order has nothing Impilo can ship or take back",
            )
            .with_vendor_code(m::NO_CONTENT),
        );
    }
    body
}

/// Fills `patient` or `site`; returns whether the order goes to a site.
fn destination(
    route: &Route,
    order: &CanonicalOrder,
    sent: &CanonicalOrder,
    opts: &OrderOptions,
    body: &mut CreateOrder,
    errs: &mut Vec<FieldError>,
) -> bool {
    let ship_to = order.ship_to.as_ref();
    if ship_to.is_some_and(|s| s.address_ref.is_some()) {
        errs.push(fe(
            "/shipTo/addressRef",
            "unsupported",
            "Impilo has no stored addresses: ship to a patient, a new patient's address or a site",
        ));
    }
    let patient_site_ptr = format!("/vendorOptions/{KIND}/{OPT_PATIENT_SITE}");
    if ship_to.map(|s| s.kind()) == Some(DestinationKind::Site) {
        let s = ship_to;
        match s.and_then(|s| s.site_ref.as_deref()) {
            None => errs.push(
                fe(
                    "/shipTo/siteRef",
                    "required",
                    "a site destination needs the Impilo site id",
                )
                .with_vendor_code(m::PATIENT_OR_SITE_REQUIRED),
            ),
            Some(r) => match parse_id(r) {
                Some(id) => body.site = Some(IdRef { id }),
                None => errs.push(fe(
                    "/shipTo/siteRef",
                    "invalid_format",
                    "must be an Impilo site id (a positive integer)",
                )),
            },
        }
        if s.is_some_and(|s| s.address.is_some()) {
            errs.push(fe(
                "/shipTo/address",
                "not_allowed",
                "a site ships to the address Impilo holds for it",
            ));
        }
        if opts.patient_site.is_some() {
            errs.push(fe(
                patient_site_ptr,
                "not_allowed",
                "patientSiteRef only applies to a new patient",
            ));
        }
        return true;
    }
    if ship_to.is_some_and(|s| s.site_ref.is_some()) {
        errs.push(fe(
            "/shipTo/siteRef",
            "not_allowed",
            "siteRef needs shipTo.kind site",
        ));
    }
    if let Some((key, account)) = order.customer.account_for(&route.connection, KIND) {
        match parse_id(account) {
            Some(id) => {
                body.patient = Some(Patient {
                    id: Some(id),
                    ..Patient::default()
                })
            }
            None => errs.push(fe(
                format!("/customer/accounts/{}", escape_pointer(key)),
                "invalid_format",
                "must be an Impilo patient id (a positive integer)",
            )),
        }
        if ship_to.is_some_and(|s| s.address.is_some()) {
            errs.push(fe("/shipTo/address", "not_allowed", "Impilo ships to the address it holds for an existing patient: omit the address or the impilo account"));
        }
        if opts.patient_site.is_some() {
            errs.push(fe(
                patient_site_ptr,
                "not_allowed",
                "patientSiteRef only applies to a new patient",
            ));
        }
        return false;
    }
    // A new patient, created inline from the ship-to contact and address.
    let Some(ship_to) = ship_to else {
        errs.push(
            fe(
                "/shipTo",
                "required",
                "Impilo needs a patient (customer.accounts.impilo or a ship-to address) or a site",
            )
            .with_vendor_code(m::PATIENT_OR_SITE_REQUIRED),
        );
        return false;
    };
    let c = &order.customer;
    let contact = ship_to.contact.as_ref();
    let first = patient_name(sent, Name::First, errs);
    let last = patient_name(sent, Name::Last, errs);
    let address = match &ship_to.address {
        None => {
            errs.push(
                fe(
                    "/shipTo/address",
                    "required",
                    "a new patient needs an address",
                )
                .with_vendor_code(m::ADDRESS_REQUIRED),
            );
            None
        }
        Some(a) => {
            let checks: [(bool, &str, &str, &str); 5] = [
                (
                    a.line1.trim().is_empty(),
                    "line1",
                    "address line one is required",
                    m::LINE_ONE,
                ),
                (
                    a.city.trim().is_empty(),
                    "city",
                    "city is required",
                    m::CITY,
                ),
                (
                    blank(a.region.as_ref()),
                    "region",
                    "a state/region is required",
                    m::STATE,
                ),
                (
                    a.country.trim().is_empty(),
                    "country",
                    "country is required",
                    m::COUNTRY,
                ),
                (
                    blank(a.postal_code.as_ref()),
                    "postalCode",
                    "a postal (zip) code is required",
                    m::ZIP_CODE,
                ),
            ];
            for (bad, field, msg, vendor) in checks {
                if bad {
                    errs.push(
                        fe(format!("/shipTo/address/{field}"), "required", msg)
                            .with_vendor_code(vendor),
                    );
                }
            }
            Some(PatientAddress {
                line_one: Some(a.line1.clone()),
                line_two: a.line2.clone(),
                line_three: a.line3.clone(),
                city: Some(a.city.clone()),
                state: a.region.clone(),
                zip_code: a.postal_code.clone(),
                country: Some(a.country.clone()),
            })
        }
    };
    body.patient = Some(Patient {
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
    });
    false
}
