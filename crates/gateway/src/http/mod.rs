pub mod admin;
pub mod api;
pub mod body;
pub mod listen;
pub mod order_read;
pub mod preview;
pub mod problem;
pub mod trace;
