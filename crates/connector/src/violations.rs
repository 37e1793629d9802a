//! One accumulator for the rules an order breaks, shared by every translator: a caller
//! is told every problem of its order at once, not one per attempt.

use order_model::FieldError;

/// Every vendor rule one order breaks, each pointing into the caller's order, in the
/// order the translator found them.
#[derive(Debug, Default)]
pub struct Violations(Vec<FieldError>);

impl Violations {
    pub fn new() -> Self {
        Violations(Vec::new())
    }

    pub fn add(&mut self, pointer: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(pointer, code, message));
    }

    /// A concept of the canonical order that this vendor cannot honour.
    pub fn unsupported(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.add(pointer, "unsupported", message);
    }

    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_vec(self) -> Vec<FieldError> {
        self.0
    }

    /// `value` when the order broke no rule, else every violation.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_returns_every_violation_in_order_or_the_value() {
        let mut v = Violations::new();
        assert_eq!(Violations::new().finish(7), Ok(7));
        v.add("/type", "unsupported", "no renewals");
        v.unsupported("/intent", "no quotes");
        v.push(FieldError::new(
            "/lines/0/sku",
            "unknown_sku",
            "not in catalog",
        ));
        let errs = v.finish(7).unwrap_err();
        let got: Vec<_> = errs
            .iter()
            .map(|e| (e.pointer.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("/type", "unsupported"),
                ("/intent", "unsupported"),
                ("/lines/0/sku", "unknown_sku")
            ]
        );
    }
}
