//! Loading, checking and compiling the gateway config. `compiler.rs` composes the passes;
//! `check.rs` holds what they report.

pub mod check;
mod compiler;
mod conditions;
mod limits;
pub mod model;
mod passes;
mod routes;
mod sections;
mod suggest;
mod sync;
pub mod yaml;

pub use check::{CheckMode, Checked, Issue, Severity};
pub use compiler::load_and_check;
