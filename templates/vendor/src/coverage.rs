//! How __NAME__ treats every canonical field (see `connector::coverage`): the one table
//! the field-coverage test checks against the canonical schema and the README.

use connector::coverage::Coverage;

/// NEW VENDOR: one row per canonical field (`tests/coverage.rs` lists any you miss).
pub const FIELDS: &[(&str, Coverage)] = &[];
