#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Golden pairs for every Adobe example: the exact request it becomes, and the exact
//! `VendorOrder` its recorded answer becomes (`UPDATE_GOLDEN=1` rewrites both; review the
//! diff). The checks themselves are the connector testkit's, shared by every vendor.

mod common;

connector::vendor_golden_tests!();
