//! Loading, checking and compiling the gateway config.

pub mod check;
pub mod model;
pub mod yaml;

pub use check::{load_and_check, CheckMode, Checked, Issue, Severity};
