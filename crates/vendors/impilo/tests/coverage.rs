#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Issue 19 item 6: every canonical field is mapped, refused with a pointer, or listed
//! as ignored in the README (the table is `vendor_impilo::coverage::FIELDS`).

mod common;

#[test]
fn every_canonical_field_is_mapped_refused_or_documented_as_ignored() {
    common::kit().check_field_coverage(
        &*common::route(),
        vendor_impilo::coverage::FIELDS,
        common::new_patient(),
    );
}
