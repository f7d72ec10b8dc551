//! Webhook operations: `install-webhook` (CRD, RBAC, TLS, Deployment, Service, webhook
//! configurations; re-run is upgrade), `status`, `rotate-certs` and `uninstall-webhook`,
//! a file each; the TLS plan they share in `tls_plan.rs`. Manifests are in
//! `cluster::webhook`, certificates in `cluster::tls`, the rollout wait in `cluster::wait`.

mod install;
mod rotate;
mod status;
mod tls_plan;
mod uninstall;

pub use crate::cluster::version::server_version;
pub use crate::cluster::wait::Readiness;
pub use install::*;
pub use rotate::*;
pub use status::*;
pub use tls_plan::{CertificateSummary, RENEW_WITHIN_DAYS};
pub use uninstall::*;
