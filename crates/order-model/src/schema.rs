//! JSON Schema validation that reports every violation as a [`FieldError`] whose pointer
//! names the exact field (a missing or unknown property is pointed at by its own name,
//! not by its parent object) and whose message never echoes the caller's value, so
//! personal data in an order cannot leak into an error body or a log line.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::problem::FieldError;

pub const CANONICAL_ORDER_SCHEMA: &str =
    include_str!("../../../schemas/canonical-order.v1.schema.json");

/// A compiled schema. Building is the slow part; validators are built once and shared.
pub struct SchemaValidator {
    inner: jsonschema::Validator,
}

#[derive(Debug, thiserror::Error)]
#[error("invalid JSON Schema: {0}")]
pub struct SchemaError(String);

impl SchemaValidator {
    pub fn new(schema: &Value) -> Result<Self, SchemaError> {
        let inner = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .should_validate_formats(true)
            .build(schema)
            .map_err(|e| SchemaError(e.to_string()))?;
        Ok(SchemaValidator { inner })
    }

    pub fn is_valid(&self, instance: &Value) -> bool {
        self.inner.is_valid(instance)
    }

    /// Every violation, with pointers prefixed by `base` (where `instance` sits inside the
    /// caller's document, e.g. `/vendorOptions/juniper`).
    pub fn violations(&self, instance: &Value, base: &str) -> Vec<FieldError> {
        let mut out = Vec::new();
        for error in self.inner.iter_errors(instance) {
            let at = format!("{base}{}", error.instance_path().as_str());
            let message = error.masked().to_string();
            match error.kind() {
                ValidationErrorKind::Required { property } => {
                    let name = property.as_str().unwrap_or_default();
                    out.push(FieldError::new(
                        format!("{at}/{}", escape_pointer(name)),
                        "required",
                        format!("{name} is required"),
                    ));
                }
                ValidationErrorKind::AdditionalProperties { unexpected } => {
                    for name in unexpected {
                        out.push(FieldError::new(
                            format!("{at}/{}", escape_pointer(name)),
                            "unknown_field",
                            format!("{name} is not a field here"),
                        ));
                    }
                }
                other => out.push(FieldError::new(at, keyword_code(other.keyword()), message)),
            }
        }
        out
    }
}

fn keyword_code(keyword: &str) -> String {
    match keyword {
        "minLength" => "min_length".into(),
        "maxLength" => "max_length".into(),
        "minItems" => "min_items".into(),
        "maxItems" => "max_items".into(),
        "minProperties" => "min_properties".into(),
        "maxProperties" => "max_properties".into(),
        "enum" | "const" => "not_allowed".into(),
        "not" => "conflict".into(),
        "propertyNames" => "invalid_key".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// RFC 6901 escaping of one reference token.
pub fn escape_pointer(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The canonical order v1 schema, compiled once.
pub fn canonical_order_validator() -> &'static SchemaValidator {
    static V: OnceLock<SchemaValidator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(CANONICAL_ORDER_SCHEMA)
            .unwrap_or_else(|e| unreachable!("embedded canonical schema is not JSON: {e}"));
        SchemaValidator::new(&schema)
            .unwrap_or_else(|e| unreachable!("embedded canonical schema does not compile: {e}"))
    })
}
