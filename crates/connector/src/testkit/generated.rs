//! Checks on generated (property-test) orders: a refusal names fields of the order it
//! refuses, and a generator whose orders are mostly refused (so the "translates to a body
//! the simulator accepts" half is barely exercised) fails a test instead of passing.

use order_model::FieldError;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{TestCaseError, TestRunner};
use proptest::{prop_assert, prop_assume};
use serde_json::Value;

use super::VendorKit;
use crate::PreparedRoute;

/// Every refusal points into `doc`: at a member the order has, or, for a `required`
/// field, at a member (perhaps nested, `/shipping/speed` without `shipping`) missing from
/// an object the order has, never at a line it does not have. The whole order (`""`) is
/// allowed: a vendor rule may concern no one field.
pub fn refusal_points_into(doc: &Value, errors: &[FieldError]) -> Result<(), String> {
    for e in errors {
        if e.pointer.is_empty() || doc.pointer(&e.pointer).is_some() {
            continue;
        }
        if e.code != "required" || !missing_member_of_an_object(doc, &e.pointer) {
            return Err(format!(
                "{} ({}: {}) names no field of the order",
                e.pointer, e.code, e.message
            ));
        }
    }
    Ok(())
}

/// The deepest part of `pointer` that `doc` has is an object, and the rest names object
/// members, not array items.
fn missing_member_of_an_object(doc: &Value, pointer: &str) -> bool {
    let mut at = pointer;
    let mut missing = Vec::new();
    while doc.pointer(at).is_none() {
        let Some((parent, last)) = at.rsplit_once('/') else {
            return false;
        };
        missing.push(last);
        at = parent;
    }
    doc.pointer(at).is_some_and(Value::is_object)
        && missing.iter().all(|seg| seg.parse::<usize>().is_err())
}

/// The property every vendor's `tests/prop.rs` checks of one generated order `doc`
/// (through [`crate::generated_order_tests`]): when schema-valid, it translates on
/// `route` to a body that `accepts` (the vendor simulator's own create check) takes, or it
/// is refused with errors that name fields of `doc`. An invalid `doc` is rejected
/// (`prop_assume!`); [`assert_fair_share`] bounds how many are.
pub fn translates_or_refuses<T, E: std::fmt::Debug>(
    kit: &VendorKit,
    route: &dyn PreparedRoute,
    doc: &Value,
    accepts: impl FnOnce(&Value) -> Result<T, E>,
) -> Result<(), TestCaseError> {
    let parsed = order_model::parse_order(doc);
    prop_assume!(parsed.is_ok(), "not a schema-valid order");
    let order = parsed.unwrap();
    match kit.with_ctx(&order, |ctx| route.translate(&order, ctx)) {
        Ok(req) => {
            let body = req.body_json().unwrap();
            let checked = accepts(&body);
            prop_assert!(
                checked.is_ok(),
                "the simulator rejects {body}: {:?}\norder: {doc}",
                checked.err()
            );
        }
        Err(errors) => {
            prop_assert!(!errors.is_empty());
            let named = refusal_points_into(doc, &errors);
            prop_assert!(named.is_ok(), "{named:?}\norder: {doc}");
        }
    }
    Ok(())
}

/// Of `n` orders drawn from `strategy` with a fixed seed (the same every run): how many
/// are schema-valid, and how many of those translate.
pub fn translated_share<S: Strategy<Value = Value>>(
    kit: &VendorKit,
    route: &dyn PreparedRoute,
    strategy: S,
    n: usize,
) -> (usize, usize) {
    let mut runner = TestRunner::deterministic();
    let (mut valid, mut translated) = (0, 0);
    for _ in 0..n {
        let doc = strategy.new_tree(&mut runner).unwrap().current();
        let Ok(order) = order_model::parse_order(&doc) else {
            continue;
        };
        valid += 1;
        if kit
            .with_ctx(&order, |ctx| route.translate(&order, ctx))
            .is_ok()
        {
            translated += 1;
        }
    }
    (valid, translated)
}

/// Of 256 generated orders (a fixed seed), at least 240 are schema-valid and at least
/// one in five translates, so a property over them checks accepted bodies, not only
/// refusals.
pub fn assert_fair_share<S: Strategy<Value = Value>>(
    kit: &VendorKit,
    route: &dyn PreparedRoute,
    strategy: S,
) {
    let (valid, translated) = translated_share(kit, route, strategy, 256);
    eprintln!("schema-valid {valid} of 256, translated {translated}");
    assert!(
        valid >= 240,
        "only {valid} of 256 generated orders are schema-valid"
    );
    assert!(
        translated >= 51,
        "only {translated} of {valid} schema-valid generated orders translate"
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_refusal_must_name_a_field_of_the_order() {
        let doc = json!({"customer": {"ref": "c"}, "lines": [{"sku": "A"}]});
        let ok = [
            FieldError::new("/lines/0/sku", "unknown_sku", "m"),
            FieldError::new("/customer/firstName", "required", "m"),
            FieldError::new("", "invalid", "m"),
            FieldError::new("/shipTo/address", "required", "m"),
        ];
        assert_eq!(refusal_points_into(&doc, &ok), Ok(()));
        for bad in [
            FieldError::new("/lines/1/sku", "unknown_sku", "m"),
            FieldError::new("/customer/firstName", "pattern", "m"),
            FieldError::new("/lines/1", "required", "m"),
            FieldError::new("/customer/ref/x", "required", "m"),
        ] {
            assert!(
                refusal_points_into(&doc, std::slice::from_ref(&bad)).is_err(),
                "{bad:?}"
            );
        }
    }
}
