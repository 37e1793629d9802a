//! Contract drift: a vendor answer that differs from what the connector was written
//! against (a field it does not know, a field it expects that is missing, an enum value
//! outside the documented list, an error body of another shape). Interpreting stays
//! pure: a connector returns its findings beside the result ([`Interpreted`]) and keeps
//! answering where the meaning is still clear; counting and logging happen in one
//! place outside the vendor crates (the gateway). Findings carry field paths, never
//! values, so they are safe to log.

use order_model::VendorOrder;
use serde_json::Value;

use crate::VendorFailure;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DriftKind {
    /// The answer has a field the connector does not know.
    UnknownField,
    /// A field the connector expects is absent (or of another JSON type).
    MissingField,
    /// An enum field holds a value outside the documented list.
    UnexpectedValue,
    /// An error answer whose body is not of the documented/expected shape.
    ErrorShape,
}

impl DriftKind {
    /// The `kind` label of `vendor_answer_drift_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::UnknownField => "unknown_field",
            DriftKind::MissingField => "missing_field",
            DriftKind::UnexpectedValue => "unexpected_value",
            DriftKind::ErrorShape => "error_shape",
        }
    }
}

/// One finding: its kind and the field path in the vendor's answer (`data.id`,
/// `lineItems[].status`; `""` for the whole body).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Drift {
    pub kind: DriftKind,
    pub path: String,
}

impl Drift {
    pub fn new(kind: DriftKind, path: impl Into<String>) -> Self {
        Drift {
            kind,
            path: path.into(),
        }
    }
}

/// What `interpret` made of an answer, and how the answer drifted from the contract.
#[derive(Debug, Clone, PartialEq)]
pub struct Interpreted {
    pub result: Result<VendorOrder, VendorFailure>,
    pub drift: Vec<Drift>,
}

impl Interpreted {
    pub fn new(result: Result<VendorOrder, VendorFailure>, mut drift: Vec<Drift>) -> Self {
        drift.sort();
        drift.dedup();
        Interpreted { result, drift }
    }
}

/// The expected shape of (part of) a vendor answer, written as static data by each
/// vendor crate.
#[derive(Debug)]
pub enum Shape {
    /// Anything (a scalar, or a subtree the connector does not read).
    Any,
    /// An object with these fields; others are unknown.
    Object(&'static [Field]),
    /// An object with these fields and others the vendor does not document (an echo of
    /// the request): only the listed ones are checked.
    Open(&'static [Field]),
    /// A list whose items have this shape.
    Array(&'static Shape),
    /// A string from this documented list (an enum).
    OneOf(&'static [&'static str]),
}

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub required: bool,
    pub shape: Shape,
}

/// A required field of any value.
pub const fn req(name: &'static str) -> Field {
    Field {
        name,
        required: true,
        shape: Shape::Any,
    }
}

/// An optional field of any value.
pub const fn opt(name: &'static str) -> Field {
    Field {
        name,
        required: false,
        shape: Shape::Any,
    }
}

/// Compares `value` with `shape`: unknown and missing fields, by path.
pub fn check(value: &Value, shape: &Shape) -> Vec<Drift> {
    let mut out = Vec::new();
    walk(value, shape, "", &mut out);
    out
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_owned()
    } else {
        format!("{base}.{name}")
    }
}

fn walk(value: &Value, shape: &Shape, at: &str, out: &mut Vec<Drift>) {
    match (shape, value) {
        (Shape::Any, _) => {}
        (Shape::Object(fields) | Shape::Open(fields), Value::Object(map)) => {
            for f in *fields {
                match map.get(f.name) {
                    Some(v) => walk(v, &f.shape, &join(at, f.name), out),
                    None if f.required => {
                        out.push(Drift::new(DriftKind::MissingField, join(at, f.name)))
                    }
                    None => {}
                }
            }
            let open = matches!(shape, Shape::Open(_));
            for k in map.keys().filter(|_| !open) {
                if !fields.iter().any(|f| f.name == k) {
                    out.push(Drift::new(DriftKind::UnknownField, join(at, k)));
                }
            }
        }
        (Shape::OneOf(values), Value::String(v)) => {
            if !values.contains(&v.as_str()) {
                out.push(Drift::new(DriftKind::UnexpectedValue, at.to_owned()));
            }
        }
        (Shape::OneOf(_), _) => out.push(Drift::new(DriftKind::UnexpectedValue, at.to_owned())),
        (Shape::Array(item), Value::Array(items)) => {
            let at = format!("{at}[]");
            for v in items {
                walk(v, item, &at, out);
            }
        }
        // null where an object or list is expected: the vendor left it out.
        (Shape::Object(_) | Shape::Open(_) | Shape::Array(_), Value::Null) => {}
        (Shape::Object(_) | Shape::Open(_) | Shape::Array(_), _) => {
            out.push(Drift::new(DriftKind::MissingField, at.to_owned()))
        }
    }
}

/// Parses `body` and checks it against `shape`; a body that is not JSON is one
/// `error_shape` finding at `""` when `error` is set, else a `missing_field` at `""`.
pub fn check_body(body: &[u8], shape: &Shape, error: bool) -> Vec<Drift> {
    match serde_json::from_slice::<Value>(body) {
        Ok(v) if error => {
            if check(&v, shape).is_empty() {
                Vec::new()
            } else {
                vec![Drift::new(DriftKind::ErrorShape, "")]
            }
        }
        Ok(v) => check(&v, shape),
        Err(_) if error => vec![Drift::new(DriftKind::ErrorShape, "")],
        Err(_) => vec![Drift::new(DriftKind::MissingField, "")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LINE: Shape = Shape::Object(&[
        req("n"),
        Field {
            name: "status",
            required: false,
            shape: Shape::OneOf(&["A", "B"]),
        },
    ]);
    const ANSWER: Shape = Shape::Object(&[
        req("id"),
        opt("note"),
        Field {
            name: "lines",
            required: true,
            shape: Shape::Array(&LINE),
        },
    ]);

    #[test]
    fn finds_added_dropped_and_renamed_fields_by_path() {
        let cases = [
            (
                json!({"id": 1, "extra": {"secret": "x"}, "lines": [{"n": 1, "state": "A"}, {"n": 2}]}),
                [
                    (DriftKind::UnknownField, "extra"),
                    (DriftKind::UnknownField, "lines[].state"),
                ],
            ),
            (
                json!({"identifier": 1, "lines": [{"n": 1}]}),
                [
                    (DriftKind::UnknownField, "identifier"),
                    (DriftKind::MissingField, "id"),
                ],
            ),
        ];
        for (v, want) in cases {
            let mut d = check(&v, &ANSWER);
            d.sort();
            let want: Vec<Drift> = want.into_iter().map(|(k, p)| Drift::new(k, p)).collect();
            assert_eq!(d, want, "{v}");
        }
        assert!(check(&json!({"id": 1, "lines": []}), &ANSWER).is_empty());
        assert_eq!(
            check(
                &json!({"id": 1, "lines": [{"n": 1, "status": "Z"}]}),
                &ANSWER
            ),
            vec![Drift::new(DriftKind::UnexpectedValue, "lines[].status")]
        );
    }

    #[test]
    fn error_bodies_of_another_shape() {
        const ERR: Shape = Shape::Object(&[req("message")]);
        assert!(check_body(br#"{"message":"x"}"#, &ERR, true).is_empty());
        assert_eq!(
            check_body(br#"{"error":{"msg":"x"}}"#, &ERR, true),
            vec![Drift::new(DriftKind::ErrorShape, "")]
        );
        assert_eq!(
            check_body(b"<html>", &ERR, true),
            vec![Drift::new(DriftKind::ErrorShape, "")]
        );
    }
}
