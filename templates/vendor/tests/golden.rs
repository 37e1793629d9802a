#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Golden pairs for every __NAME__ example (`UPDATE_GOLDEN=1` rewrites them; review the
//! diff). The checks are the connector testkit's, shared by every vendor.

mod common;

connector::vendor_golden_tests!();
