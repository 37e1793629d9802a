//! Contract drift: a vendor answer that differs from what the connector was written
//! against (a field it does not know, a field it expects that is missing, an enum value
//! outside the documented list, an error body of another shape). Interpreting stays
//! pure: a connector returns its findings beside the result ([`Interpreted`]) and keeps
//! answering where the meaning is still clear; counting and logging happen in one
//! place outside the vendor crates (the gateway). Findings carry field paths, never
//! values, so they are safe to log.

use order_model::VendorOrder;
use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

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

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_owned()
    } else {
        format!("{base}.{name}")
    }
}

/// Parses `body` and checks it against `shape`; a body that is not JSON is one
/// `error_shape` finding at `""` when `error` is set, else a `missing_field` at `""`.
///
/// The body is walked as it is parsed (`Walk`), not built into a `Value` first: every
/// answer is checked, and building the tree was 2 % of the gateway's CPU per order in a
/// load profile (issue 21). The findings are `check`'s on the parsed body.
pub fn check_body(body: &[u8], shape: &Shape, error: bool) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Walk {
        shape,
        at: "",
        out: &mut out,
    }
    .deserialize(&mut de)
    .and_then(|()| de.end());
    match parsed {
        Ok(()) if error && !out.is_empty() => vec![Drift::new(DriftKind::ErrorShape, "")],
        Ok(()) => out,
        Err(_) if error => vec![Drift::new(DriftKind::ErrorShape, "")],
        Err(_) => vec![Drift::new(DriftKind::MissingField, "")],
    }
}

/// `walk` over a body being parsed: the same findings, with no tree built.
struct Walk<'w> {
    shape: &'w Shape,
    at: &'w str,
    out: &'w mut Vec<Drift>,
}

impl Walk<'_> {
    /// A value of another JSON type than the shape's (not `null`, not what it expects).
    fn mismatch(self) {
        let kind = match self.shape {
            Shape::Any => return,
            Shape::OneOf(_) => DriftKind::UnexpectedValue,
            Shape::Object(_) | Shape::Open(_) | Shape::Array(_) => DriftKind::MissingField,
        };
        self.out.push(Drift::new(kind, self.at));
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.shape {
            Shape::Any => IgnoredAny::deserialize(d).map(|_| ()),
            _ => d.deserialize_any(self),
        }
    }
}

/// `Visitor` methods for scalars that only report a mismatch.
macro_rules! scalar_mismatch {
    ($($name:ident: $ty:ty),*) => {$(
        fn $name<E: serde::de::Error>(self, _: $ty) -> Result<(), E> {
            self.mismatch();
            Ok(())
        }
    )*};
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (Shape::Object(fields) | Shape::Open(fields)) = self.shape else {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            self.mismatch();
            return Ok(());
        };
        let open = matches!(self.shape, Shape::Open(_));
        let mut seen = vec![false; fields.len()];
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let key = key.as_str();
            match fields.iter().position(|f| f.name == key) {
                Some(i) => {
                    seen[i] = true;
                    let at = join(self.at, key);
                    map.next_value_seed(Walk {
                        shape: &fields[i].shape,
                        at: &at,
                        out: self.out,
                    })?;
                }
                None => {
                    if !open {
                        self.out
                            .push(Drift::new(DriftKind::UnknownField, join(self.at, key)));
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for (f, seen) in fields.iter().zip(seen) {
            if f.required && !seen {
                self.out
                    .push(Drift::new(DriftKind::MissingField, join(self.at, f.name)));
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Shape::Array(item) = self.shape else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            self.mismatch();
            return Ok(());
        };
        let at = format!("{}[]", self.at);
        while seq
            .next_element_seed(Walk {
                shape: item,
                at: &at,
                out: self.out,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        match self.shape {
            Shape::OneOf(values) if values.contains(&v) => {}
            _ => self.mismatch(),
        }
        Ok(())
    }

    // null where an object or list is expected: the vendor left it out.
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        if matches!(self.shape, Shape::OneOf(_)) {
            self.mismatch();
        }
        Ok(())
    }

    // A bool or a number is never what a shape wants (unless it is `Any`).
    scalar_mismatch!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64);
}

/// An object key, borrowed from the body unless it has escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// The tree walk `check_body` replaced, kept as its oracle: compares a parsed `value`
    /// with `shape` (unknown and missing fields, by path).
    fn check(value: &Value, shape: &Shape) -> Vec<Drift> {
        let mut out = Vec::new();
        walk(value, shape, "", &mut out);
        out
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

    /// `check_body` walks the body as it parses; its findings are `check`'s on the tree.
    #[test]
    fn the_streaming_walk_finds_what_the_tree_walk_finds() {
        let bodies = [
            json!({"id": 1, "extra": {"secret": "x"}, "lines": [{"n": 1, "state": "A"}, {"n": 2}]}),
            json!({"identifier": 1, "lines": [{"n": 1}]}),
            json!({"id": 1, "lines": [{"n": 1, "status": "Z"}, {"n": 2, "status": 7}, {"status": null}]}),
            json!({"id": null, "note": [1, {"a": 2}], "lines": null}),
            json!({"id": 1, "lines": {"n": 1}}),
            json!({"id": 1, "lines": [1, "x", true, null, [], {"n": 1, "status": "B"}]}),
            json!({"id": 1, "lines": "x"}),
            json!({"id": 1, "lines": 2.5}),
            json!({"id": 1, "lines": false}),
            json!({"id": 1, "lines": -3}),
            json!([{"id": 1}]),
            json!("text"),
            json!(null),
            json!(12),
            json!({}),
        ];
        for v in bodies {
            let bytes = serde_json::to_vec(&v).unwrap_or_default();
            let mut streamed = check_body(&bytes, &ANSWER, false);
            let mut tree = check(&v, &ANSWER);
            streamed.sort();
            tree.sort();
            assert_eq!(streamed, tree, "{v}");
            let as_error = check_body(&bytes, &ANSWER, true);
            let want = if tree.is_empty() {
                Vec::new()
            } else {
                vec![Drift::new(DriftKind::ErrorShape, "")]
            };
            assert_eq!(as_error, want, "{v}");
        }
        assert_eq!(
            check_body(br#"{"id": 1, "lines": []} trailing"#, &ANSWER, false),
            vec![Drift::new(DriftKind::MissingField, "")]
        );
        assert_eq!(
            check_body(br#"{"id": 1, "lines": [{"n": 1}"#, &ANSWER, false),
            vec![Drift::new(DriftKind::MissingField, "")]
        );
        let escaped = check_body(
            br#"{"id": 1, "lines": [], "\u0065xtra": 1}"#,
            &ANSWER,
            false,
        );
        assert_eq!(escaped, vec![Drift::new(DriftKind::UnknownField, "extra")]);
    }
}
