//! One file per command: each owns its arguments, builds its request and prints its outcome.

pub mod attach;
pub mod doctor;
