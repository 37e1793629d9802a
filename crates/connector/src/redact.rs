//! Keeps personal data out of anything a vendor echoes back. Vendors quote the request
//! in their error messages ("invalid email john@..."), and those messages end up in
//! problem bodies and logs, so every vendor message passes through here first.

use order_model::{Address, CanonicalOrder, Contact};

const MAX_MESSAGE: usize = 300;
pub const REDACTED: &str = "[redacted]";

/// Replaces every personal value of `order` found in `message`, and bounds its length.
pub fn redact_message(message: &str, order: &CanonicalOrder) -> String {
    let mut out = message.to_owned();
    let mut values = personal_values(order);
    // Longest first, so "Suite 100, 437 Lytton" is not half-replaced by "437 Lytton".
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    for v in values {
        if v.chars().count() >= 3 {
            out = replace_case_insensitive(&out, v, REDACTED);
        }
    }
    if out.chars().count() > MAX_MESSAGE {
        out = out.chars().take(MAX_MESSAGE).collect::<String>() + "…";
    }
    out
}

fn personal_values(order: &CanonicalOrder) -> Vec<&str> {
    let mut v: Vec<&str> = Vec::new();
    let c = &order.customer;
    v.extend(
        [
            &c.first_name,
            &c.last_name,
            &c.email,
            &c.phone,
            &c.company,
            &c.date_of_birth,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str),
    );
    let contacts = [
        order.ship_to.as_ref().and_then(|s| s.contact.as_ref()),
        order.bill_to.as_ref().and_then(|b| b.contact.as_ref()),
    ];
    for contact in contacts.into_iter().flatten() {
        push_contact(&mut v, contact);
    }
    let addresses = [
        order.ship_to.as_ref().and_then(|s| s.address.as_ref()),
        order.bill_to.as_ref().and_then(|b| b.address.as_ref()),
    ];
    for a in addresses.into_iter().flatten() {
        push_address(&mut v, a);
    }
    v
}

fn push_contact<'a>(v: &mut Vec<&'a str>, c: &'a Contact) {
    v.extend(
        [
            &c.first_name,
            &c.last_name,
            &c.email,
            &c.phone,
            &c.company,
            &c.company_email,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str),
    );
}

fn push_address<'a>(v: &mut Vec<&'a str>, a: &'a Address) {
    v.push(&a.line1);
    v.push(&a.city);
    v.extend(
        [&a.line2, &a.line3, &a.postal_code]
            .into_iter()
            .flatten()
            .map(String::as_str),
    );
}

fn replace_case_insensitive(haystack: &str, needle: &str, with: &str) -> String {
    let lower_h = haystack.to_lowercase();
    let lower_n = needle.to_lowercase();
    // Lowercasing can change byte lengths for some scripts; fall back to exact matching
    // rather than risk slicing at the wrong place.
    if lower_h.len() != haystack.len() || lower_n.len() != needle.len() {
        return haystack.replace(needle, with);
    }
    let mut out = String::with_capacity(haystack.len());
    let mut rest = 0;
    for (i, _) in lower_h.match_indices(&lower_n) {
        // Whole words only: a customer called "Pat" must not turn "Patient" into
        // "[redacted]ient". Values are replaced where they stand as words.
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + needle.len()..].chars().next();
        let bounded = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        if i < rest || !bounded(before) || !bounded(after) {
            continue;
        }
        out.push_str(&haystack[rest..i]);
        out.push_str(with);
        rest = i + needle.len();
    }
    out.push_str(&haystack[rest..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order() -> CanonicalOrder {
        serde_json::from_value(serde_json::json!({
            "orderRef": "r1",
            "customer": {"ref": "c1", "firstName": "John", "lastName": "Doe", "email": "john.doe@example.com"},
            "shipTo": {"address": {"line1": "437 Lytton", "city": "Palo Alto", "postalCode": "94301", "country": "US"}},
            "lines": [{"sku": "A", "quantity": 1}]
        }))
        .unwrap()
    }

    #[test]
    fn removes_every_personal_value_in_any_case() {
        let m = redact_message(
            "bad email JOHN.DOE@example.com for john doe at 437 lytton, Palo Alto 94301",
            &order(),
        );
        for leaked in ["john", "JOHN", "Doe", "437", "Palo", "94301"] {
            assert!(!m.contains(leaked), "{leaked} leaked in {m}");
        }
        assert!(m.starts_with("bad email [redacted] for"));
    }

    #[test]
    fn replaces_whole_words_only() {
        let mut o = order();
        o.customer.first_name = Some("Pat".into());
        assert_eq!(
            redact_message("Patient required; Pat is not known", &o),
            "Patient required; [redacted] is not known"
        );
    }

    #[test]
    fn bounds_length() {
        let long = "x".repeat(1000);
        assert!(redact_message(&long, &order()).chars().count() <= MAX_MESSAGE + 1);
    }
}
