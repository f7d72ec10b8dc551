//! The core of kubectl-gmsa: credential specs, cluster operations and (later) directory
//! operations, as request/outcome pairs that every door (CLI, C ABI, PowerShell) shares.
//! This crate never prints; progress goes through `progress::Reporter`.

pub mod admission;
pub mod cluster;
pub mod credspec;
pub mod directory;
pub mod error;
pub mod names;
pub mod ops;
pub mod outcome;
pub mod progress;

pub use error::{Error, ErrorKind, Result};

/// The version of this build, from the workspace's one `version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
