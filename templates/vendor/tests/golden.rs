#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Golden pairs for every __NAME__ example (`UPDATE_GOLDEN=1` rewrites them; review the
//! diff). The checks are the connector testkit's, shared by every vendor.

mod common;

#[test]
fn every_example_translates_to_its_golden_request() {
    common::kit().check_golden_requests(common::route().as_ref());
}

#[test]
fn every_golden_response_interprets_to_its_golden_result() {
    common::kit().check_golden_responses(common::route().as_ref());
}
