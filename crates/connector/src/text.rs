//! The one whitespace rule every vendor translator applies: trim, then validate; a value
//! that is blank after trimming is missing. Translators call [`normalized`] first and
//! check the result, so `" CA "` is `CA`, `" 94301"` is `94301`, and a name of only
//! spaces is reported as missing (422 `required`) instead of reaching the vendor.
//!
//! Keys the gateway itself relies on are left exactly as sent: `orderRef` (idempotency),
//! `lines[].lineRef` (the caller's own line names) and `lines[].sku` (catalog keys), and
//! `vendorOptions` (each vendor's schema owns those).

use order_model::{Address, CanonicalOrder, Contact, Customer, Line, Payment, Shipping};

/// The trimmed text, or `None` when nothing but whitespace is left.
pub fn present(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// [`present`] for an optional field.
pub fn present_opt(s: Option<&String>) -> Option<&str> {
    s.and_then(|s| present(s))
}

fn opt(s: &mut Option<String>) {
    *s = s.as_deref().and_then(present).map(str::to_owned);
}

fn req(s: &mut String) {
    let t = s.trim();
    if t.len() != s.len() {
        *s = t.to_owned();
    }
}

fn contact(c: &mut Contact) {
    for f in [
        &mut c.first_name,
        &mut c.last_name,
        &mut c.email,
        &mut c.phone,
        &mut c.company,
        &mut c.company_email,
    ] {
        opt(f);
    }
}

fn address(a: &mut Address) {
    req(&mut a.line1);
    req(&mut a.city);
    req(&mut a.country);
    for f in [
        &mut a.line2,
        &mut a.line3,
        &mut a.region,
        &mut a.postal_code,
    ] {
        opt(f);
    }
}

fn customer(c: &mut Customer) {
    req(&mut c.customer_ref);
    for f in [
        &mut c.first_name,
        &mut c.last_name,
        &mut c.email,
        &mut c.phone,
        &mut c.company,
        &mut c.date_of_birth,
    ] {
        opt(f);
    }
    if let Some(accounts) = &mut c.accounts {
        accounts.values_mut().for_each(req);
    }
}

fn shipping(s: &mut Shipping) {
    opt(&mut s.carrier);
    opt(&mut s.label);
}

fn payment(p: &mut Payment) {
    opt(&mut p.term_ref);
}

fn line(l: &mut Line) {
    opt(&mut l.description);
    opt(&mut l.subscription_ref);
    opt(&mut l.serial_number);
    for d in l.discounts.iter_mut().flatten() {
        opt(&mut d.discount_ref);
        opt(&mut d.name);
    }
}

/// The order with the whitespace rule applied to every free-text and reference field.
/// Pure; the JSON shape (and so every pointer into the caller's order) is unchanged,
/// except that optional fields blank after trimming are absent.
pub fn normalized(order: &CanonicalOrder) -> CanonicalOrder {
    let mut o = order.clone();
    opt(&mut o.return_of);
    opt(&mut o.currency);
    opt(&mut o.placed_at);
    customer(&mut o.customer);
    if let Some(s) = &mut o.ship_to {
        s.contact.iter_mut().for_each(contact);
        s.address.iter_mut().for_each(address);
        opt(&mut s.address_ref);
        opt(&mut s.site_ref);
    }
    if let Some(b) = &mut o.bill_to {
        b.contact.iter_mut().for_each(contact);
        b.address.iter_mut().for_each(address);
        opt(&mut b.address_ref);
    }
    o.shipping.iter_mut().for_each(shipping);
    o.payment.iter_mut().for_each(payment);
    if let Some(notes) = &mut o.notes {
        notes.retain(|n| present(n).is_some());
        notes.iter_mut().for_each(req);
    }
    if let Some(m) = &mut o.metadata {
        m.retain(|_, v| present(v).is_some());
        m.values_mut().for_each(req);
    }
    o.lines.iter_mut().for_each(line);
    o
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn trims_then_blank_is_missing() {
        let o = order_model::parse_order(&json!({
            "orderRef": "r-1",
            "customer": {"ref": " c1 ", "firstName": "   ", "lastName": " Doe "},
            "shipTo": {"address": {"line1": " 1 Main ", "city": " Palo Alto", "region": " CA ", "postalCode": " 94301", "country": "US"}},
            "notes": [" a ", "  "],
            "metadata": {"k": " v ", "empty": " "},
            "lines": [{"sku": "S", "quantity": 1, "description": " "}]
        }))
        .unwrap();
        let n = normalized(&o);
        assert_eq!(n.customer.customer_ref, "c1");
        assert_eq!(n.customer.first_name, None);
        assert_eq!(n.customer.last_name.as_deref(), Some("Doe"));
        let a = n.ship_to.unwrap().address.unwrap();
        assert_eq!((a.line1.as_str(), a.city.as_str()), ("1 Main", "Palo Alto"));
        assert_eq!(a.region.as_deref(), Some("CA"));
        assert_eq!(a.postal_code.as_deref(), Some("94301"));
        assert_eq!(n.notes.unwrap(), vec!["a".to_owned()]);
        let m = n.metadata.unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(m["k"], "v");
        assert_eq!(n.lines[0].description, None);
    }
}
