pub mod admin;
pub mod api;
pub mod body;
pub mod problem;
pub mod trace;
