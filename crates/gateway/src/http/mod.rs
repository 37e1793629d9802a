pub mod admin;
pub mod api;
pub mod body;
pub mod listen;
pub mod problem;
pub mod trace;
