//! Canonical order -> Adobe `POST /v3/customers/{customerId}/orders`. Pure.

use std::collections::HashSet;

use connector::{RetrySafety, TranslateContext, VendorRequest, Violations};
use http::HeaderName;
use order_model::{CanonicalOrder, Direction, FieldError, Intent, OrderType as Canonical};
use serde::Deserialize;
use serde_json::Value;

use crate::KIND;
use crate::wire::{CreateOrder, LineItem, OrderType};

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CatalogEntry {
    pub offer_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct OrderOptions {
    #[serde(default)]
    flex_discount_codes: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LineOptions {
    #[serde(default)]
    deployment_id: Option<String>,
    #[serde(default)]
    discount_code: Option<String>,
}

pub const MAX_LINES: usize = 499;
pub const MAX_EXTERNAL_REF: usize = 35;
pub const MAX_LINE_NUMBER: u32 = 999_999;

fn err(pointer: impl Into<String>, code: &str, msg: &str, vendor: &str) -> FieldError {
    FieldError::new(pointer, code, msg).with_vendor_code(vendor)
}

/// The path of the create call for a customer id that is safe in a URL path.
pub fn create_path(customer_id: &str) -> String {
    format!("/v3/customers/{customer_id}/orders")
}

/// The caller's numeric `lineRef`s (those Adobe accepts as line numbers), by line.
fn numeric_line_ref(line: &order_model::Line) -> Option<Result<u32, ()>> {
    let r = line.line_ref.as_deref()?;
    match r.parse::<u32>() {
        Ok(n) if n <= MAX_LINE_NUMBER => Some(Ok(n)),
        Ok(_) => Some(Err(())),
        Err(_) => None,
    }
}

/// Line numbers for lines whose `lineRef` is not a number: the lowest numbers from 1 up
/// that no numeric `lineRef` of the order takes, in line order. An order without
/// lineRefs is numbered 1..n, and a fallback can never collide with a caller's number.
fn fallback_numbers(order: &CanonicalOrder) -> impl Iterator<Item = u32> {
    let taken: HashSet<u32> = order
        .lines
        .iter()
        .filter_map(numeric_line_ref)
        .filter_map(Result::ok)
        .collect();
    (1..=MAX_LINE_NUMBER).filter(move |n| !taken.contains(n))
}

pub fn translate(
    route: &crate::Prepared,
    order: &CanonicalOrder,
    ctx: &TranslateContext<'_>,
) -> Result<VendorRequest, Vec<FieldError>> {
    let order = &connector::text::normalized(order);
    // The steps run in a fixed order, which is the order of the errors a caller sees.
    let mut e = Violations::new();
    connector::capabilities::refuse(&crate::CAPABILITIES, order, &mut e);
    let currency = currency(route, order, &mut e);
    let customer = customer_id(order, ctx, &mut e);
    let order_type = order_type(order);
    let reference_order_id = reference_order_id(order, order_type, &mut e);
    limits(order, &mut e);
    let opts: OrderOptions = order
        .vendor_options_for(KIND)
        .and_then(|m| serde_json::from_value(Value::Object(m.clone())).ok())
        .unwrap_or_default();
    let line_items = line_items(route, order, order_type, &currency, &mut e);
    if !e.is_empty() {
        return Err(e.into_vec());
    }
    let body = CreateOrder {
        external_reference_id: Some(order.order_ref.clone()),
        order_type,
        reference_order_id,
        line_items,
        flex_discount_codes: opts.flex_discount_codes,
    };
    let mut req = VendorRequest::post_serialized(
        create_path(&customer),
        &body,
        RetrySafety::IdempotentByKey,
    )?
    .with_header(
        HeaderName::from_static("x-correlation-id"),
        ctx.idempotency_key,
    )
    .with_header(http::header::ACCEPT, "application/json");
    req.fresh_id_header = Some(HeaderName::from_static("x-request-id"));
    Ok(req)
}

/// The order's currency, else the route's default. The page wants currencyCode on every
/// line; "Adobe uses the customer's currency" is not on it, so an order without one is
/// refused unless the route supplies a default.
fn currency(route: &crate::Prepared, order: &CanonicalOrder, e: &mut Violations) -> String {
    match (&order.currency, &route.default_currency) {
        (Some(c), _) | (None, Some(c)) => c.clone(),
        (None, None) => {
            e.push(err(
                "/currency",
                "required",
                "Adobe needs the currency on every line: set currency (or a route default)",
                "1122",
            ));
            String::new()
        }
    }
}

fn customer_id(order: &CanonicalOrder, ctx: &TranslateContext<'_>, e: &mut Violations) -> String {
    match order.customer.account_for(ctx.connection, KIND) {
        Some((_, id))
            if !id.is_empty()
                && id.len() <= 40
                && id.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            id.to_owned()
        }
        Some((key, _)) => {
            e.push(err(
                format!("/customer/accounts/{key}"),
                "pattern",
                "an Adobe customer id is 1-40 letters or digits",
                "1026",
            ));
            String::new()
        }
        None => {
            e.push(FieldError::new(
                format!("/customer/accounts/{KIND}"),
                "required",
                "Adobe needs the customer's Adobe customer id",
            ));
            String::new()
        }
    }
}

/// Adobe's order type from the canonical type and intent (a quoted return is refused by
/// [`crate::CAPABILITIES`]).
fn order_type(order: &CanonicalOrder) -> OrderType {
    match (order.order_type(), order.intent()) {
        (Canonical::New, Intent::Place) => OrderType::New,
        (Canonical::Renewal, Intent::Place) => OrderType::Renewal,
        (Canonical::New, Intent::Quote) => OrderType::Preview,
        (Canonical::Renewal, Intent::Quote) => OrderType::PreviewRenewal,
        (Canonical::Return, Intent::Place | Intent::Quote) => OrderType::Return,
    }
}

/// The order a return returns (only returns name one).
fn reference_order_id(
    order: &CanonicalOrder,
    order_type: OrderType,
    e: &mut Violations,
) -> Option<String> {
    match (order_type, &order.return_of) {
        (OrderType::Return, Some(r)) => Some(r.clone()),
        (OrderType::Return, None) => {
            e.push(err(
                "/returnOf",
                "required",
                "a return needs the Adobe order id being returned",
                "1122",
            ));
            None
        }
        (_, Some(_)) => {
            e.push(err(
                "/returnOf",
                "not_allowed",
                "only returns carry the order being returned",
                "1121",
            ));
            None
        }
        (_, None) => None,
    }
}

/// Adobe's limits on the reference and the number of lines.
fn limits(order: &CanonicalOrder, e: &mut Violations) {
    if order.order_ref.chars().count() > MAX_EXTERNAL_REF {
        e.push(err(
            "/orderRef",
            "max_length",
            "Adobe keeps at most 35 characters of the reference; use a shorter orderRef",
            "2126",
        ));
    }
    if order.lines.len() > MAX_LINES {
        e.push(err(
            "/lines",
            "max_items",
            "Adobe takes at most 499 lines per order",
            "2119",
        ));
    }
}

fn line_items(
    route: &crate::Prepared,
    order: &CanonicalOrder,
    order_type: OrderType,
    currency: &str,
    e: &mut Violations,
) -> Vec<LineItem> {
    let catalog = &route.catalog;
    let renewal = matches!(order_type, OrderType::Renewal | OrderType::PreviewRenewal);
    let mut numbers = HashSet::new();
    let mut fallback = fallback_numbers(order);
    let mut line_items = Vec::with_capacity(order.lines.len());
    for (i, line) in order.lines.iter().enumerate() {
        let at = format!("/lines/{i}");
        // The line number: the caller's lineRef when it is a number Adobe accepts, else
        // the next number no caller's lineRef takes (stable for the same order).
        let number = match numeric_line_ref(line) {
            Some(Ok(n)) => n,
            Some(Err(())) => {
                e.push(err(
                    format!("{at}/lineRef"),
                    "maximum",
                    "an Adobe line number is 0 to 999999",
                    "2123",
                ));
                0
            }
            None => fallback.next().unwrap_or(u32::MAX),
        };
        if !numbers.insert(number) {
            e.push(err(
                format!("{at}/lineRef"),
                "duplicate",
                "two lines have the same Adobe line number",
                "2121",
            ));
        }
        if line.direction() == Direction::Return && order_type != OrderType::Return {
            e.push(FieldError::new(
                format!("{at}/direction"),
                "unsupported",
                "at Adobe a return is a whole order: type return with returnOf",
            ));
        }
        if renewal && line.subscription_ref.is_none() {
            e.push(err(
                format!("{at}/subscriptionRef"),
                "required",
                "renewal lines need the subscription id being renewed",
                "1122",
            ));
        }
        if !renewal && line.subscription_ref.is_some() {
            e.push(FieldError::new(
                format!("{at}/subscriptionRef"),
                "not_allowed",
                "only renewal lines carry a subscription id",
            ));
        }
        let lo: LineOptions = line
            .vendor_options_for(KIND)
            .and_then(|m| serde_json::from_value(Value::Object(m.clone())).ok())
            .unwrap_or_default();
        let Some(entry) = catalog.get(&line.sku) else {
            e.push(FieldError::new(
                format!("{at}/sku"),
                "unknown_sku",
                "this sku is not in the route's Adobe catalog",
            ));
            continue;
        };
        line_items.push(LineItem {
            ext_line_item_number: number,
            offer_id: entry.offer_id.clone(),
            quantity: line.quantity,
            currency_code: Some(currency.to_owned()),
            subscription_id: if renewal {
                line.subscription_ref.clone()
            } else {
                None
            },
            deployment_id: lo.deployment_id,
            discount_code: lo.discount_code,
        });
    }
    line_items
}
