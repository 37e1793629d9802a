//! Loading, checking and compiling the gateway config.

pub mod check;
pub mod model;
pub mod yaml;

pub use check::{CheckMode, Checked, Issue, Severity, load_and_check};
