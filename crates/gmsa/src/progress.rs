//! Progress reporting: the core says what it is doing; each door (CLI, C ABI, PowerShell)
//! decides how to show it.

use crate::outcome::ObjectOutcome;

/// Receives progress from long operations. Every method has a do-nothing default.
pub trait Reporter: Send + Sync {
    /// A step has started ("checking permissions", "applying clusterrole/x").
    fn step(&self, _message: &str) {}
    /// An object was written, deleted or found unchanged.
    fn object(&self, _outcome: &ObjectOutcome) {}
    /// A wait: `done` of `total` units (for example ready replicas).
    fn waiting(&self, _message: &str, _done: u64, _total: u64) {}
}

/// Shows nothing.
pub struct Silent;

impl Reporter for Silent {}
