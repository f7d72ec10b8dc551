//! Kubernetes: the client (client.rs), kube errors into ours (error.rs), object reads and
//! writes (object.rs), the apply engine (apply.rs), waits (wait.rs), permission checks
//! (access.rs), the server's version (version.rs), and the pure manifest builders
//! (crd.rs, objects.rs, webhook.rs, webhook_input.rs, webhook_owner.rs, tls.rs).

pub mod access;
pub mod apply;
pub mod client;
pub mod crd;
pub mod error;
pub mod object;
pub mod objects;
pub mod tls;
pub mod version;
pub mod wait;
pub mod webhook;
pub mod webhook_input;
pub mod webhook_owner;

pub use crate::outcome::DryRun;
pub use client::{connect, speaks_http2, Cluster, Target};
pub use error::classify;
pub use object::{
    all_api, apply, delete, differences, get, is_ours, take_over, ObjectRef, CREDSPEC_ANNOTATION,
    MANAGED_BY_LABEL, MANAGER,
};
