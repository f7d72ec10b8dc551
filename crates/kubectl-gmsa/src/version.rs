//! The version of this build: the workspace's one `version`, the commit and the target.

pub const SHORT: &str = env!("CARGO_PKG_VERSION");
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("GMSA_COMMIT"),
    ", target ",
    env!("GMSA_TARGET"),
    ")"
);
pub const COMMIT: &str = env!("GMSA_COMMIT");
pub const TARGET: &str = env!("GMSA_TARGET");
