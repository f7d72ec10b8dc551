//! GSSAPI bindings that open the platform's GSSAPI library at run time (MIT
//! `libgssapi_krb5.so.2` or Heimdal `libgssapi.so.3` on Linux, the GSS framework on macOS)
//! instead of linking it. It replaces crates.io's `libgssapi-sys` under the same name (see the
//! workspace's `[patch.crates-io]`), so `libgssapi` and `cross-krb5` build unchanged, without
//! libclang or Kerberos headers, and binaries start where no Kerberos library is installed.
//!
//! Every function returns `GSS_S_UNAVAILABLE` when the library cannot be opened; call
//! [`availability`] first to tell users why.
#![allow(clippy::missing_safety_doc)]

mod functions;
mod library;
mod stream;
mod types;

pub use functions::*;
pub use library::{availability, load, load_from, unavailable, Gssapi, LoadError, CANDIDATES};
pub use types::*;

#[cfg(test)]
mod tests;
