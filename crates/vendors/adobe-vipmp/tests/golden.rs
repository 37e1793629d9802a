#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! Golden pairs for every Adobe example: the exact request it becomes, and the exact
//! `VendorOrder` its recorded answer becomes (`UPDATE_GOLDEN=1` rewrites both; review the
//! diff). The checks themselves are the connector testkit's, shared by every vendor.

mod common;

#[test]
fn every_example_translates_to_its_golden_request() {
    common::kit().check_golden_requests(common::route().as_ref());
}

/// `<example>.response.json` is the simulator's answer to that example's golden request
/// (`{"status", "body"}`); `<example>.result.json` what `interpret` makes of it.
#[test]
fn every_golden_response_interprets_to_its_golden_result() {
    common::kit().check_golden_responses(common::route().as_ref());
}
