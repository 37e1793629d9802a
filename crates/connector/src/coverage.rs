//! The rule for every vendor: each canonical field is mapped, refused with a pointer,
//! or on the crate README's documented "ignored" list — never silently dropped. Each
//! vendor crate declares its classification once (a `FIELDS` table of canonical schema
//! paths, `lines[].unitPrice` style), and the shared test
//! (`testkit::VendorKit::check_field_coverage`) walks every property of
//! `schemas/canonical-order.v1.schema.json`, fails on a path a vendor does not
//! classify, and proves each refusal by translating an order with the field set.

/// How one vendor treats one canonical field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coverage {
    /// Sent to the vendor (possibly after checks that refuse bad values).
    Mapped,
    /// Sent for some values; this value (JSON text) is refused with a 422 at the field.
    MappedExcept(&'static str),
    /// Always refused with a 422 at the field; the value (JSON text) proves it.
    Refused(&'static str),
    /// Refused at the field; the JSON merge patch (RFC 7396, applied to the test's base
    /// order) sets the field where a plain value would not be a valid order.
    RefusedWith(&'static str),
    /// Not sent, and listed under the README's "Ignored canonical fields" heading.
    Ignored,
}

/// The README heading under which ignored fields are listed (each as `` `path` ``).
pub const IGNORED_HEADING: &str = "## Ignored canonical fields";
