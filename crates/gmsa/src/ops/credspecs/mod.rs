//! Credential spec operations, a file each: lint and convert (source.rs), add, remove,
//! bind / unbind, get, check-access, and the domain-user secret of non-domain-joined hosts.

mod access;
mod add;
mod bind;
mod get;
mod remove;
mod secret;
mod source;

pub use crate::cluster::object::DEFAULT_CHUNK_SIZE;
pub use access::*;
pub use add::*;
pub use bind::*;
pub use get::*;
pub use remove::*;
pub use secret::*;
pub use source::*;
