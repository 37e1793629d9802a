//! This crate's sandbox route and examples, from the connector's testkit.
#![allow(dead_code, clippy::panic)]

connector::vendor_test_helpers!(__CRATE__::connector());
