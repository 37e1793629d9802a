#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! NEW VENDOR: the simulator over real HTTP on loopback: every documented rule, error
//! answer and the golden examples' round trip (see another vendor's tests/sim_http.rs).

mod common;
