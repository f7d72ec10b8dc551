//! The operations: one request type, one outcome type and one `async fn` each, a folder per
//! family (credspecs/, directory/, webhook/). The CLI, the C ABI and the PowerShell module only
//! translate into and out of these types. The machinery they share (connecting, the apply
//! engine, waits) is in `cluster`; what they report is in `outcome`.

mod attach;
mod credspecs;
mod directory;
pub mod doctor;
mod webhook;

pub use crate::outcome::{redact, Action, ApplyOutcome, ObjectOutcome};
pub use attach::*;
pub use credspecs::*;
pub use directory::*;
pub use doctor::{doctor, DoctorOutcome, DoctorRequest};
pub use webhook::*;
