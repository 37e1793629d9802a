pub mod admin;
pub mod api;
pub mod body;
pub mod listen;
pub mod preview;
pub mod problem;
pub mod resolve;
pub mod trace;
